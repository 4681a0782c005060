//! Whether a check-in's times agree with each other, with the server's clock and with the
//! order the device recorded and uploaded its visits.
//!
//! A rep who winds the phone's clock back to backdate a visit, or records a visit late and
//! passes it off as an earlier offline one, leaves times that disagree somewhere. An honest
//! phone takes a fix and then checks in on the same clock; it records visits in the order they
//! happen, after the syncs it has already done; its offline queue uploads them in that order;
//! and its clock, measured by the server on every push, says the same as it did when the visit
//! was recorded. Each comparison here is made in both directions, and each flag carries the
//! gap it found.
//!
//! What the device wrote into the visit (its clock offset at recording, the sync that measured
//! it, the latest visit it held) is compared with what the server measured itself on receipt
//! (the push's clock, the receipt time, the visits already received). The phone judges the
//! first half at once; the server adds the second.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

use super::check_in::{CheckFlag, FlagKind};
use super::clock::ClockOffset;
use super::settings::{ClockSettings, VisitSettings};

const MINUTE_MS: f64 = 60_000.0;
const HOUR_MS: f64 = 3_600_000.0;

/// How the server received a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// When, on the server's clock.
    pub received_at: Timestamp,
    /// The device's clock as the server measured it on that push (the request's send time
    /// against the server's receive time); `None` when the push carried no send time or came
    /// from another user's device.
    pub device_clock: Option<ClockOffset>,
}

/// The times a check-in is judged on besides its own.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// The clock offset the device knew when it recorded the visit, from its last sync.
    pub recorded_offset_ms: Option<i64>,
    /// When that sync happened, on the server's clock: the device recorded the visit after it.
    pub synced_at: Option<Timestamp>,
    /// The latest check-in of the rep the device held when it recorded this one.
    pub recorded_after: Option<Timestamp>,
    /// The server's receipt; `None` on the phone.
    pub receipt: Option<Receipt>,
    /// The latest check-in among the rep's visits the server had received before this one.
    pub uploaded_after: Option<Timestamp>,
    /// When the phone booted by its wall clock at this check-in's fix
    /// ([`super::DevicePosition::booted_at`]).
    pub booted_at: Option<Timestamp>,
    /// The boot moments of the rep's visits that claim an earlier time.
    pub earlier_boots: Vec<BootMark>,
    /// The boot moments of the rep's visits that claim a later time.
    pub later_boots: Vec<BootMark>,
}

/// Another check-in of the rep: when it claims to be, and when its phone booted by the same
/// wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootMark {
    /// The check-in's time, on the device's clock.
    pub at: Timestamp,
    /// When its phone booted, by the wall clock at its fix.
    pub booted_at: Timestamp,
}

/// How far two check-ins' boots contradict their order, ms (0: they agree).
///
/// Of two check-ins on one phone, recorded in the order they claim, the later one either ran
/// in the same boot session (the same boot moment, give or take the clock's corrections) or in
/// a session that began after the earlier one (a reboot in between). Anything else means the
/// wall clock was moved between them: a boot moment cannot go back, and a session that began
/// before the earlier check-in would have held it.
fn boot_contradiction(earlier: BootMark, later_booted_at: Timestamp) -> i64 {
    let same_session = later_booted_at
        .millis_since(earlier.booted_at)
        .saturating_abs();
    let began_before = earlier.at.millis_since(later_booted_at).max(0);
    same_session.min(began_before)
}

impl Timeline {
    /// The device's clock offset as the judge knows it best, with its uncertainty, ms:
    /// measured on receipt, else what the device recorded.
    pub fn device_offset_ms(&self) -> Option<(i64, i64)> {
        match self.receipt.and_then(|r| r.device_clock) {
            Some(measured) => Some((measured.offset_ms, measured.uncertainty_ms.max(0))),
            None => self.recorded_offset_ms.map(|offset| (offset, 0)),
        }
    }
}

/// The flags of a check-in's times: the fix against the check-in (stale, or stamped after it),
/// the device's clock, the sync it claims to precede, and the orders of recording and upload.
pub fn timeline_flags(
    checked_in_at: Timestamp,
    fix_time: Timestamp,
    timeline: &Timeline,
    visit: &VisitSettings,
    clock: &ClockSettings,
) -> Vec<CheckFlag> {
    let tolerance_ms = clock.tolerance_ms();
    let mut flags = Vec::new();

    let fix_age_ms = checked_in_at.millis_since(fix_time);
    if fix_age_ms > i64::from(visit.max_fix_age_seconds) * 1000 {
        flags.push(CheckFlag::measured(
            FlagKind::StaleFix,
            Some(fix_age_ms as f64 / 1000.0),
            f64::from(visit.max_fix_age_seconds),
        ));
    }
    if -fix_age_ms > i64::from(visit.fix_ahead_seconds) * 1000 {
        flags.push(CheckFlag::measured(
            FlagKind::FixAfterCheckIn,
            Some(-fix_age_ms as f64 / 1000.0),
            f64::from(visit.fix_ahead_seconds),
        ));
    }

    let measured = timeline.receipt.and_then(|r| r.device_clock);
    if let Some((offset_ms, uncertainty_ms)) = timeline.device_offset_ms()
        && offset_ms.saturating_abs().saturating_add(uncertainty_ms) > tolerance_ms
    {
        flags.push(CheckFlag::measured(
            FlagKind::DeviceClockOff,
            Some(offset_ms as f64 / 1000.0),
            f64::from(clock.tolerance_seconds),
        ));
    }
    if let (Some(recorded), Some(measured)) = (timeline.recorded_offset_ms, measured) {
        let changed_ms = recorded.saturating_sub(measured.offset_ms).saturating_abs();
        if changed_ms > tolerance_ms.saturating_add(measured.uncertainty_ms.max(0)) {
            flags.push(CheckFlag::measured(
                FlagKind::ClockChanged,
                Some(changed_ms as f64 / 1000.0),
                f64::from(clock.tolerance_seconds),
            ));
        }
    }

    // Recorded after a sync it claims to precede: the device's time, corrected by the offset
    // that sync measured, lies before the sync itself.
    if let (Some(offset_ms), Some(synced_at)) = (timeline.recorded_offset_ms, timeline.synced_at) {
        let claimed = checked_in_at.plus_millis(offset_ms.saturating_neg());
        flags.extend(order_flag(
            FlagKind::ClaimedBeforeSync,
            claimed,
            synced_at,
            tolerance_ms,
            clock,
        ));
    }
    if let Some(after) = timeline.recorded_after {
        flags.extend(order_flag(
            FlagKind::RecordedOutOfOrder,
            checked_in_at,
            after,
            tolerance_ms,
            clock,
        ));
    }
    // Against the phone's own time since boot: boots that contradict the order the visits
    // claim are a wall clock someone moved in between.
    if let Some(booted) = timeline.booted_at {
        let this = BootMark {
            at: checked_in_at,
            booted_at: booted,
        };
        let moved_ms = timeline
            .earlier_boots
            .iter()
            .map(|earlier| boot_contradiction(*earlier, booted))
            .chain(
                timeline
                    .later_boots
                    .iter()
                    .map(|later| boot_contradiction(this, later.booted_at)),
            )
            .max()
            .unwrap_or(0);
        if moved_ms > tolerance_ms {
            flags.push(CheckFlag::measured(
                FlagKind::ClockMovedAgainstUptime,
                Some(moved_ms as f64 / MINUTE_MS),
                f64::from(clock.tolerance_seconds) / 60.0,
            ));
        }
    }
    if let Some(after) = timeline.uploaded_after {
        flags.extend(order_flag(
            FlagKind::UploadedOutOfOrder,
            checked_in_at,
            after,
            tolerance_ms,
            clock,
        ));
    }

    if let Some(receipt) = timeline.receipt {
        // The check-in on the server's clock, by the offset measured on this very push.
        let on_server = match measured {
            Some(o) => o.to_server_time(checked_in_at),
            None => checked_in_at,
        };
        let ahead_ms = on_server.millis_since(receipt.received_at);
        if ahead_ms > tolerance_ms {
            flags.push(CheckFlag::measured(
                FlagKind::CheckedInAfterReceipt,
                Some(ahead_ms as f64 / 1000.0),
                f64::from(clock.tolerance_seconds),
            ));
        }
        let delay_ms = receipt.received_at.millis_since(on_server);
        if delay_ms > i64::from(clock.max_upload_delay_hours) * 3_600_000 {
            flags.push(CheckFlag::measured(
                FlagKind::UploadedLate,
                Some(delay_ms as f64 / HOUR_MS),
                f64::from(clock.max_upload_delay_hours),
            ));
        }
    }
    flags
}

/// A flag of `kind` when `claimed` lies more than the tolerance before `not_before`; the gap
/// in minutes.
fn order_flag(
    kind: FlagKind,
    claimed: Timestamp,
    not_before: Timestamp,
    tolerance_ms: i64,
    clock: &ClockSettings,
) -> Option<CheckFlag> {
    let early_ms = not_before.millis_since(claimed);
    (early_ms > tolerance_ms).then(|| {
        CheckFlag::measured(
            kind,
            Some(early_ms as f64 / MINUTE_MS),
            f64::from(clock.tolerance_seconds) / 60.0,
        )
    })
}
