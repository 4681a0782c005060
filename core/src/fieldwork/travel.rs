//! Whether a rep could have got from one place to another in the time between.
//!
//! A visit "somewhere else" squeezed between real ones gives itself away by the journey it
//! needs: from where the rep was last seen on a position the judge trusts, and from the moment
//! they left it (the previous check-out, not the previous check-in, so a long meeting does not
//! count as travelling time). Real reps fly and take high-speed trains between cities, so the
//! limit is an envelope rather than one speed: a journey is possible when a car covers it at
//! the road's speed, or a train at rail speed once the time to reach and leave the stations is
//! spent, or a plane at air speed once the airports' time is spent. Distances are straight
//! lines beyond the two fixes' accuracy circles and a fixed allowance, so a poor fix or a large
//! campus is given the benefit of the doubt.

use serde::{Deserialize, Serialize};

use crate::place::GeoPoint;
use crate::time::Timestamp;

use super::check_in::{CheckFlag, FlagKind};
use super::geofence;
use super::settings::{TravelSettings, VisitSettings};

const HOUR_MS: f64 = 3_600_000.0;

/// A place a rep was at a known moment, with the accuracy of the fix that placed them there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    /// Where.
    pub point: GeoPoint,
    /// The fix's accuracy, metres.
    pub accuracy_m: f64,
    /// When the rep was there (leaving it, for a departure).
    pub at: Timestamp,
}

/// The journey between two waypoints as the envelope judges it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Journey {
    /// Metres that must have been travelled: the straight line beyond both accuracy circles
    /// and the allowance, never negative.
    pub travelled_m: f64,
    /// Milliseconds between leaving and arriving (negative when the arrival is earlier).
    pub elapsed_ms: i64,
}

impl Journey {
    /// The journey from `from` to `to`.
    pub fn between(from: &Waypoint, to: &Waypoint, travel: &TravelSettings) -> Journey {
        let distance = geofence::distance_m(from.point, to.point);
        Journey {
            travelled_m: (distance
                - from.accuracy_m
                - to.accuracy_m
                - f64::from(travel.allowance_m))
            .max(0.0),
            elapsed_ms: to.at.millis_since(from.at),
        }
    }
}

/// The farthest, in metres, a rep can be `elapsed_ms` after leaving a place: the best of road,
/// rail and air. Rail and air reach nothing until their overhead is spent.
pub fn reach_m(elapsed_ms: i64, road_kmh: u32, travel: &TravelSettings) -> f64 {
    if elapsed_ms <= 0 {
        return 0.0;
    }
    let hours = elapsed_ms as f64 / HOUR_MS;
    let by = |kmh: u32, overhead_minutes: u32| {
        (hours - f64::from(overhead_minutes) / 60.0).max(0.0) * f64::from(kmh) * 1000.0
    };
    by(road_kmh, 0)
        .max(by(travel.rail_kmh, travel.rail_overhead_minutes))
        .max(by(travel.air_kmh, travel.air_overhead_minutes))
}

/// Whether a journey is possible by any way of travelling.
pub fn feasible(journey: &Journey, road_kmh: u32, travel: &TravelSettings) -> bool {
    journey.travelled_m == 0.0
        || journey.travelled_m <= reach_m(journey.elapsed_ms, road_kmh, travel)
}

/// The impossible-travel flag for a journey, if no way of travelling covers it: the speed it
/// needed and the best speed the envelope allows over that time, both km/h. A journey with
/// distance to cover and no time (or time running backwards) has no observed speed.
pub fn travel_flag(
    from: &Waypoint,
    to: &Waypoint,
    visit: &VisitSettings,
    travel: &TravelSettings,
) -> Option<CheckFlag> {
    let journey = Journey::between(from, to, travel);
    if feasible(&journey, visit.max_travel_speed_kmh, travel) {
        return None;
    }
    if journey.elapsed_ms <= 0 {
        return Some(CheckFlag::measured(
            FlagKind::ImpossibleTravel,
            None,
            f64::from(visit.max_travel_speed_kmh),
        ));
    }
    let hours = journey.elapsed_ms as f64 / HOUR_MS;
    let reach = reach_m(journey.elapsed_ms, visit.max_travel_speed_kmh, travel);
    Some(CheckFlag::measured(
        FlagKind::ImpossibleTravel,
        Some(journey.travelled_m / 1000.0 / hours),
        reach / 1000.0 / hours,
    ))
}
