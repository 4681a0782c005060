//! Places on the earth: a validated WGS-84 point.

use std::fmt;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// A WGS-84 position in degrees.
#[derive(Clone, Copy, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct GeoPoint {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

/// Coordinates that are not on the earth.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "invalid coordinates ({lat}, {lon}): latitude must be within ±90 and longitude within ±180"
)]
pub struct InvalidCoordinates {
    /// The latitude given.
    pub lat: f64,
    /// The longitude given.
    pub lon: f64,
}

impl GeoPoint {
    /// A checked point: finite, latitude within ±90, longitude within ±180.
    pub fn new(lat: f64, lon: f64) -> Result<Self, InvalidCoordinates> {
        let p = GeoPoint { lat, lon };
        p.validate().map(|()| p)
    }

    /// Checks a point that came from elsewhere (a document, a file).
    pub fn validate(&self) -> Result<(), InvalidCoordinates> {
        let ok = self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon);
        if ok {
            Ok(())
        } else {
            Err(InvalidCoordinates {
                lat: self.lat,
                lon: self.lon,
            })
        }
    }
}

impl fmt::Debug for GeoPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:.6}, {:.6})", self.lat, self.lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_off_the_earth_are_refused() {
        assert!(GeoPoint::new(31.23, 121.47).is_ok());
        assert!(GeoPoint::new(91.0, 0.0).is_err());
        assert!(GeoPoint::new(0.0, -181.0).is_err());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_err());
    }
}
