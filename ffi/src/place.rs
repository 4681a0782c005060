//! Positions as the phone reports them.

use fieldsales_core::place::GeoPoint as CoreGeoPoint;

use crate::error::{FieldsalesError, OrInvalid};

/// A WGS-84 position in degrees, as GPS reports it.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GeoPoint {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

impl From<CoreGeoPoint> for GeoPoint {
    fn from(p: CoreGeoPoint) -> Self {
        GeoPoint {
            lat: p.lat,
            lon: p.lon,
        }
    }
}

impl GeoPoint {
    /// The core point, checked: the only way a position from the app enters the core.
    pub(crate) fn checked(self, field: &str) -> Result<CoreGeoPoint, FieldsalesError> {
        CoreGeoPoint::new(self.lat, self.lon).or_invalid(field)
    }
}

/// Checks a position before it is used: finite, latitude within ±90, longitude within ±180.
/// Some devices report (0, 0) or NaN when they have no fix; NaN is refused here, (0, 0) is a
/// real place and is left to the check-in rules.
#[uniffi::export]
pub fn validate_coordinates(lat: f64, lon: f64) -> Result<GeoPoint, FieldsalesError> {
    GeoPoint { lat, lon }
        .checked("position")
        .map(GeoPoint::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_at_a_shanghai_customer_is_accepted() {
        let p = validate_coordinates(31.2304, 121.4737).unwrap();
        assert_eq!(
            p,
            GeoPoint {
                lat: 31.2304,
                lon: 121.4737
            }
        );
    }

    #[test]
    fn a_device_without_a_fix_reporting_nan_is_refused() {
        let err = validate_coordinates(f64::NAN, 121.4737).unwrap_err();
        assert!(
            matches!(err, FieldsalesError::InvalidInput { ref field, .. } if field == "position")
        );
    }

    #[test]
    fn swapped_latitude_and_longitude_are_refused() {
        // Longitude 121 given as latitude: off the earth.
        assert!(validate_coordinates(121.4737, 31.2304).is_err());
    }
}
