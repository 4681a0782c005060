//! What a rep's whole day shows that one check-in cannot.
//!
//! Three patterns give a faked day away. A location faker places each fix exactly on the
//! customer's registered point (the geocoded point the CRM itself shows), usually with a small
//! accuracy it makes up; a real fix lands within a metre of that point about once in
//! thousands. A faker that moves the fix off the point still reports the accuracy it was set
//! to, the same to the centimetre at customer after customer, where a real receiver's estimate
//! changes with every sky and building. And a rep checking in from home or the office leaves
//! several customers' check-ins at one spot, far from every one of them, where a real day
//! moves from site to site. Two customers in one building minutes apart are ordinary, and
//! they are registered there: the spot is suspect only when none of its customers is
//! registered near it and at least one is registered far away.
//!
//! The day is judged as far as the judge holds it: each check-in against the day's check-ins
//! recorded before it. The earlier fixes' distances to their own customers are read from their
//! verdicts, so no customer is looked up twice.

use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::place::GeoPoint;

use super::check_in::{CheckFlag, FlagKind};
use super::geofence;
use super::settings::DaySettings;

/// One check-in fix of the day, as the day rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayFix {
    /// The customer claimed.
    pub customer_id: RecordId,
    /// Where the fix placed the rep.
    pub point: GeoPoint,
    /// The fix's accuracy, metres.
    pub accuracy_m: f64,
    /// Metres from the customer's registered point; `None` when it has none.
    pub customer_distance_m: Option<f64>,
}

/// The day flags of `fix`, given the other check-ins of the same rep and local day.
pub fn day_flags(fix: &DayFix, others: &[DayFix], day: &DaySettings) -> Vec<CheckFlag> {
    let mut flags = Vec::new();
    flags.extend(on_point_flag(fix, others, day));
    flags.extend(repeated_accuracy_flag(fix, others, day));
    flags.extend(cluster_flag(fix, others, day));
    flags
}

fn on_point(fix: &DayFix, day: &DaySettings) -> bool {
    day.on_point_m > 0
        && fix
            .customer_distance_m
            .is_some_and(|d| d <= f64::from(day.on_point_m))
}

/// On the registered point, and either precise (a faker's made-up accuracy) or not the only
/// fix of the day on its customer's point.
fn on_point_flag(fix: &DayFix, others: &[DayFix], day: &DaySettings) -> Option<CheckFlag> {
    if !on_point(fix, day) {
        return None;
    }
    let precise = fix.accuracy_m <= f64::from(day.on_point_accuracy_m);
    let repeated = others
        .iter()
        .any(|o| o.customer_id != fix.customer_id && on_point(o, day));
    (precise || repeated).then(|| {
        CheckFlag::measured(
            FlagKind::FixOnRegisteredPoint,
            fix.customer_distance_m,
            f64::from(day.on_point_m),
        )
    })
}

/// The same precise accuracy, to the centimetre, at enough different customers' check-ins.
fn repeated_accuracy_flag(fix: &DayFix, others: &[DayFix], day: &DaySettings) -> Option<CheckFlag> {
    if day.repeated_accuracy_fixes == 0 || fix.accuracy_m > f64::from(day.repeated_accuracy_max_m) {
        return None;
    }
    let mut customers: Vec<RecordId> = std::iter::once(fix)
        .chain(others)
        .filter(|o| (o.accuracy_m - fix.accuracy_m).abs() < 0.005)
        .map(|o| o.customer_id)
        .collect();
    customers.sort();
    customers.dedup();
    (customers.len() >= day.repeated_accuracy_fixes as usize).then(|| {
        CheckFlag::measured(
            FlagKind::RepeatedAccuracy,
            Some(customers.len() as f64),
            f64::from(day.repeated_accuracy_fixes),
        )
    })
}

/// Enough different customers checked in from this spot, none of them registered near it and
/// at least one registered far from it.
fn cluster_flag(fix: &DayFix, others: &[DayFix], day: &DaySettings) -> Option<CheckFlag> {
    if day.cluster_min_customers == 0 {
        return None;
    }
    let radius = f64::from(day.cluster_radius_m);
    let far = f64::from(day.cluster_far_m);
    let spot: Vec<&DayFix> = std::iter::once(fix)
        .chain(
            others
                .iter()
                .filter(|o| geofence::distance_m(o.point, fix.point) <= radius),
        )
        .collect();
    let mut customers: Vec<RecordId> = spot.iter().map(|f| f.customer_id).collect();
    customers.sort();
    customers.dedup();
    let enough = customers.len() >= day.cluster_min_customers as usize;
    let none_near = spot
        .iter()
        .all(|f| f.customer_distance_m.is_none_or(|d| d > far));
    let one_far = spot.iter().any(|f| f.customer_distance_m.is_some());
    (enough && none_near && one_far).then(|| {
        CheckFlag::measured(
            FlagKind::ClusteredAwayFromCustomers,
            Some(customers.len() as f64),
            f64::from(day.cluster_min_customers),
        )
    })
}
