//! Distance on the earth, and whether a fix is inside a customer's fence.
//!
//! Distances are geodesic on the WGS-84 ellipsoid (Karney's algorithm, through `geo`), not
//! haversine on a sphere: the spherical error reaches about 0.5 %, which is 2.5 m at a 500 m
//! fence — enough to turn a 499 m check-in into a 501 m one. A check-in is judged a few times
//! a day per rep, so the microseconds the exact method costs do not matter.
//!
//! A phone's accuracy is the radius of a circle the true position lies in; the fence is only
//! judged when that whole circle is inside it or outside it. Anything else is "cannot tell",
//! which is honest, and lets a rep on the edge of a factory site be treated fairly.
//!
//! A fix at least as accurate as the configured decisive accuracy (a few metres: open sky,
//! dual-frequency GNSS) is judged by its measured distance alone. Otherwise a rep 499 m from
//! the customer with a 5 m fix, and one 501 m away, would both be "cannot tell", and a fence
//! edge that good a fix cannot decide would be no edge at all.

use geo::{Destination, Distance, Geodesic, Point};

use crate::place::GeoPoint;
use crate::string_enum;

use super::settings::GeofenceSettings;

string_enum! {
    /// Where a check-in stands against the customer's geofence.
    pub enum FenceStatus {
        /// The whole accuracy circle is inside the fence.
        Inside = "inside",
        /// The whole accuracy circle is outside the fence.
        Outside = "outside",
        /// The accuracy circle straddles the fence.
        CannotTell = "cannot_tell",
        /// The customer has no registered location to compare with.
        UnableToVerify = "unable_to_verify",
    }
}

/// The geodesic distance between two points, in metres.
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    Geodesic.distance(to_point(a), to_point(b))
}

/// The point `distance_m` metres from `from` along `bearing_deg` (0 = north, 90 = east).
///
/// Used by simulators and tests to stand a rep at an exact distance from a customer.
pub fn destination(from: GeoPoint, bearing_deg: f64, distance_m: f64) -> GeoPoint {
    let p = Geodesic.destination(to_point(from), bearing_deg, distance_m);
    GeoPoint {
        lat: p.y(),
        lon: p.x(),
    }
}

/// Judges a fix `distance_m` from the fence centre with an accuracy circle of `accuracy_m`.
///
/// A fix whose accuracy is `decisive_accuracy_m` or better is judged by its distance alone
/// (inside when at most the radius); a poorer one by its whole accuracy circle. A phone's
/// accuracy is the radius the true position lies within two times in three, and a fix poorer
/// than `max_accuracy_m` (Wi-Fi or a cell tower, indoors) misses by far more than that now and
/// then: such a fix counts as outside only when the fence lies beyond `poor_fix_circles` of its
/// accuracy radii, so an honest rep in a basement is not placed outside by a bad fix.
pub fn classify(distance_m: f64, accuracy_m: f64, fence: &GeofenceSettings) -> FenceStatus {
    let radius_m = f64::from(fence.radius_m);
    if accuracy_m <= f64::from(fence.decisive_accuracy_m) {
        return if distance_m <= radius_m {
            FenceStatus::Inside
        } else {
            FenceStatus::Outside
        };
    }
    let circles = if accuracy_m > f64::from(fence.max_accuracy_m) {
        f64::from(fence.poor_fix_circles)
    } else {
        1.0
    };
    if distance_m + accuracy_m <= radius_m {
        FenceStatus::Inside
    } else if distance_m - accuracy_m * circles > radius_m {
        FenceStatus::Outside
    } else {
        FenceStatus::CannotTell
    }
}

fn to_point(p: GeoPoint) -> Point<f64> {
    Point::new(p.lon, p.lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_to_beijing_is_about_1067_km() {
        // People's Square to Tiananmen Square, a well-known 1,067 km.
        let shanghai = GeoPoint::new(31.2304, 121.4737).unwrap();
        let beijing = GeoPoint::new(39.9042, 116.4074).unwrap();
        let d = distance_m(shanghai, beijing);
        assert!((1_060_000.0..1_075_000.0).contains(&d), "{d}");
    }

    #[test]
    fn destination_stands_at_the_distance_asked() {
        let origin = GeoPoint::new(22.5431, 114.0579).unwrap();
        for bearing in [0.0, 45.0, 90.0, 200.0, 315.0] {
            let p = destination(origin, bearing, 499.0);
            assert!((distance_m(origin, p) - 499.0).abs() < 1e-6);
        }
    }

    #[test]
    fn a_site_on_the_date_line_stays_on_the_earth() {
        // Taveuni, Fiji, straddles 180°: walking east crosses from +180 to −180.
        let site = GeoPoint::new(-16.8, 179.9995).unwrap();
        let east = destination(site, 90.0, 2_000.0);
        assert!(east.validate().is_ok(), "{east:?}");
        assert!(east.lon < -179.9, "{east:?}");
        assert!((distance_m(site, east) - 2_000.0).abs() < 1e-6);
    }

    fn fence(decisive_accuracy_m: u32) -> GeofenceSettings {
        GeofenceSettings {
            decisive_accuracy_m,
            ..GeofenceSettings::default()
        }
    }

    #[test]
    fn the_accuracy_circle_decides_the_edges_of_a_poor_fix() {
        // With no decisive accuracy (0 m), every fix is judged by its whole circle.
        let f = fence(0);
        assert_eq!(classify(495.0, 5.0, &f), FenceStatus::Inside);
        assert_eq!(classify(495.1, 5.0, &f), FenceStatus::CannotTell);
        assert_eq!(classify(505.0, 5.0, &f), FenceStatus::CannotTell);
        assert_eq!(classify(505.1, 5.0, &f), FenceStatus::Outside);
        assert_eq!(classify(0.0, 0.0, &f), FenceStatus::Inside);
        // A 20 m fix is poorer than a 10 m decisive accuracy: still judged by its circle.
        assert_eq!(classify(490.0, 20.0, &fence(10)), FenceStatus::CannotTell);
    }

    #[test]
    fn a_decisive_fix_is_judged_by_its_distance() {
        let f = fence(10);
        assert_eq!(classify(499.0, 5.0, &f), FenceStatus::Inside);
        assert_eq!(classify(500.0, 10.0, &f), FenceStatus::Inside);
        assert_eq!(classify(501.0, 5.0, &f), FenceStatus::Outside);
        assert_eq!(classify(500.01, 10.0, &f), FenceStatus::Outside);
    }

    #[test]
    fn a_cell_tower_fix_counts_as_outside_only_well_beyond_its_circles() {
        // 1,414 m (iOS on cell towers) at 2 km: the circle misses the 500 m fence, but a fix
        // that poor misses by that much one time in ten; only beyond two radii is it outside.
        let f = fence(10);
        assert_eq!(classify(2_000.0, 1_414.0, &f), FenceStatus::CannotTell);
        assert_eq!(classify(3_400.0, 1_414.0, &f), FenceStatus::Outside);
        // A 60 m fix is within the accuracy limit: one circle decides, as before.
        assert_eq!(classify(561.0, 60.0, &f), FenceStatus::Outside);
    }
}
