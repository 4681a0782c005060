//! How far a device's clock is from the server's, and when the device's own times are believed.
//!
//! A rep who writes the daily report in a basement at 17:55 and reaches signal at 20:00 must
//! not be punished for the basement; a rep who winds the phone's clock back two hours must not
//! get away with it. Every sync response carries the server's time, so the device can measure
//! its offset the way NTP does (half the round trip bounds the error), and the server can
//! measure it from the device time each request carries. A time stamped by the device is
//! trusted only when the offset measured around it is known and small; otherwise the server's
//! own receipt time decides.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

use super::settings::ClockSettings;

/// A measured offset of a device's clock to the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ClockOffset {
    /// Device clock minus server clock, in milliseconds: positive when the device runs ahead.
    pub offset_ms: i64,
    /// How far the true offset may lie from `offset_ms`, in milliseconds (never negative).
    pub uncertainty_ms: i64,
    /// When it was measured, on the server's clock.
    pub measured_at: Timestamp,
}

/// A clock measurement that cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockOffsetError {
    /// The response arrived, by the device's clock, before the request left.
    #[error(
        "the sync response arrived at {received_at} before its request was sent at {sent_at} \
         (device clock changed during the request)"
    )]
    ReceivedBeforeSent {
        /// When the request left, on the device's clock.
        sent_at: Timestamp,
        /// When the response arrived, on the device's clock.
        received_at: Timestamp,
    },
}

impl ClockOffset {
    /// Measures the offset on the device from one sync round trip.
    ///
    /// `sent_at` and `received_at` are the device's clock when the request left and the response
    /// arrived; `server_time` is the time the server wrote into its response. The server's
    /// moment lies somewhere within the round trip, so the offset is taken at its middle and the
    /// uncertainty is half its length.
    pub fn from_round_trip(
        sent_at: Timestamp,
        server_time: Timestamp,
        received_at: Timestamp,
    ) -> Result<Self, ClockOffsetError> {
        let round_trip = received_at.millis_since(sent_at);
        if round_trip < 0 {
            return Err(ClockOffsetError::ReceivedBeforeSent {
                sent_at,
                received_at,
            });
        }
        let midpoint = sent_at.plus_millis(round_trip / 2);
        Ok(ClockOffset {
            offset_ms: midpoint.millis_since(server_time),
            uncertainty_ms: round_trip - round_trip / 2,
            measured_at: server_time,
        })
    }

    /// Measures the offset on the server from the device time a request carries.
    ///
    /// The request's transfer time makes the device look behind by that much; it is seconds at
    /// worst, far below any sensible tolerance, so it is not counted as uncertainty.
    pub fn observed_by_server(device_time: Timestamp, server_time: Timestamp) -> Self {
        ClockOffset {
            offset_ms: device_time.millis_since(server_time),
            uncertainty_ms: 0,
            measured_at: server_time,
        }
    }

    /// The server-clock instant of a time the device stamped.
    pub fn to_server_time(&self, device_time: Timestamp) -> Timestamp {
        device_time.plus_millis(self.offset_ms.saturating_neg())
    }

    /// The largest distance from server time the device's clock may have, in milliseconds.
    pub fn worst_case_ms(&self) -> i64 {
        self.offset_ms
            .saturating_abs()
            .saturating_add(self.uncertainty_ms.max(0))
    }

    /// Whether the device's clock is close enough to the server's for its times to be believed.
    pub fn is_credible(&self, settings: &ClockSettings) -> bool {
        self.worst_case_ms() <= settings.tolerance_ms()
    }
}

/// The offset, if one is known and credible.
pub fn credible_offset(
    offset: Option<&ClockOffset>,
    settings: &ClockSettings,
) -> Option<ClockOffset> {
    offset.filter(|o| o.is_credible(settings)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn a_round_trip_measures_the_offset_at_its_middle() {
        // The device sends at 1000, the server stamps 500, the response lands at 1400:
        // the device is 700 ms ahead, give or take 200 ms.
        let o = ClockOffset::from_round_trip(at(1_000), at(500), at(1_400)).unwrap();
        assert_eq!(o.offset_ms, 700);
        assert_eq!(o.uncertainty_ms, 200);
        assert_eq!(o.measured_at, at(500));
        assert_eq!(o.to_server_time(at(10_700)), at(10_000));
    }

    #[test]
    fn a_response_before_its_request_is_refused() {
        assert_eq!(
            ClockOffset::from_round_trip(at(2_000), at(0), at(1_000)),
            Err(ClockOffsetError::ReceivedBeforeSent {
                sent_at: at(2_000),
                received_at: at(1_000)
            })
        );
    }

    #[test]
    fn credibility_counts_the_uncertainty() {
        let settings = ClockSettings {
            tolerance_seconds: 60,
            ..ClockSettings::default()
        };
        let close = ClockOffset {
            offset_ms: -59_000,
            uncertainty_ms: 1_000,
            measured_at: at(0),
        };
        assert!(close.is_credible(&settings));
        let slow_network = ClockOffset {
            uncertainty_ms: 1_001,
            ..close
        };
        assert!(!slow_network.is_credible(&settings));
        assert_eq!(credible_offset(Some(&close), &settings), Some(close));
        assert_eq!(credible_offset(Some(&slow_network), &settings), None);
        assert_eq!(credible_offset(None, &settings), None);
    }
}
