//! Judging a check-in and a check-out.
//!
//! The phone judges at once, offline, so the rep sees what a manager will see; the server
//! judges again from the same facts when the visit arrives, and its verdict is the one that
//! counts. Nothing here refuses a visit for a *suspicion*: suspicions (a poor fix, a mock
//! location, a rooted phone, a dash across the province) become flags with their numbers, for
//! a manager to weigh. Only hard mode refuses, and only for what a rep can fix on the spot:
//! walking into the fence, waiting for a better fix, turning off a location faker.

use autosurgeon::reconcile::{MapReconciler, NoKey};
use autosurgeon::{Hydrate, HydrateError, ReadDoc, Reconcile, Reconciler, hydrate_prop};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::place::{GeoPoint, InvalidCoordinates};
use crate::string_enum;
use crate::time::Timestamp;

use super::Judge;
use super::clock::ClockOffset;
use super::day::{DayFix, day_flags};
use super::geofence::{self, FenceStatus};
use super::proposal::LocationProposal;
use super::settings::{
    ClockSettings, FenceMode, FieldworkSettings, GeofenceSettings, VisitSettings,
};
use super::timeline::{Timeline, timeline_flags};
use super::travel::{Waypoint, travel_flag};

/// A position as the phone's operating system reported it.
///
/// This one type carries a fix from the app through the FFI, into the visit record and into
/// the server's review: the rules judge exactly what the phone stored. In a document it is a
/// map with the keys `lat`, `lon`, `accuracy_m`, `fix_at`, `is_mock`, `integrity` (see
/// [`DeviceIntegrity`] for how older documents' integrity strings are read) and
/// `since_boot_ms` (absent from older documents).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DevicePosition {
    /// Where.
    pub point: GeoPoint,
    /// Horizontal accuracy, metres: the radius the OS says the true position lies within.
    pub accuracy_m: f64,
    /// When the fix was taken, on the device's clock. Platform code derives it from the fix's
    /// elapsed-realtime stamp, so a cached fix shows its true age even if the wall clock jumps.
    pub fix_time: Timestamp,
    /// The OS marked the fix as mock or simulated (Android `isMock`, iOS
    /// `isSimulatedBySoftware`).
    pub mock: bool,
    /// What the app's integrity check said about the device, when it ran one.
    pub integrity: Option<DeviceIntegrity>,
    /// The phone's monotonic clock at the fix, ms since boot (Android `elapsedRealtimeNanos`,
    /// iOS system uptime), when the app sent it. Winding the wall clock does not move it, so
    /// `fix_time` minus this is the moment of boot by the wall clock, which only moves when
    /// someone sets the clock.
    pub since_boot_ms: Option<i64>,
}

impl DevicePosition {
    /// When the phone booted, by its wall clock at this fix; `None` without `since_boot_ms`.
    pub fn booted_at(&self) -> Option<Timestamp> {
        self.since_boot_ms
            .filter(|ms| *ms >= 0)
            .map(|ms| self.fix_time.plus_millis(ms.saturating_neg()))
    }

    /// Checks values that came from outside (a phone, a document): a point on the earth and
    /// an accuracy that is a finite number of metres ≥ 0.
    pub fn validate(&self) -> Result<(), InvalidPosition> {
        self.point
            .validate()
            .map_err(InvalidPosition::Coordinates)?;
        if self.accuracy_m.is_finite() && self.accuracy_m >= 0.0 {
            Ok(())
        } else {
            Err(InvalidPosition::Accuracy {
                accuracy_m: self.accuracy_m,
            })
        }
    }
}

/// A reported position that cannot be a fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidPosition {
    /// The point is not on the earth.
    #[error(transparent)]
    Coordinates(InvalidCoordinates),
    /// An accuracy that is negative or not a number.
    #[error("invalid position accuracy {accuracy_m} m: expected a finite number of metres ≥ 0")]
    Accuracy {
        /// The value given.
        accuracy_m: f64,
    },
}

impl Reconcile for DevicePosition {
    type Key<'a> = NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        let mut map = reconciler.map()?;
        map.put("lat", self.point.lat)?;
        map.put("lon", self.point.lon)?;
        map.put("accuracy_m", self.accuracy_m)?;
        map.put("fix_at", self.fix_time)?;
        map.put("is_mock", self.mock)?;
        map.put("integrity", self.integrity)?;
        map.put("since_boot_ms", self.since_boot_ms)?;
        Ok(())
    }
}

impl Hydrate for DevicePosition {
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, HydrateError> {
        Ok(DevicePosition {
            point: GeoPoint {
                lat: hydrate_prop(doc, obj, "lat")?,
                lon: hydrate_prop(doc, obj, "lon")?,
            },
            accuracy_m: hydrate_prop(doc, obj, "accuracy_m")?,
            fix_time: hydrate_prop(doc, obj, "fix_at")?,
            mock: hydrate_prop(doc, obj, "is_mock")?,
            integrity: match doc.get(obj, "integrity")? {
                None => None,
                Some(_) => hydrate_prop(doc, obj, "integrity")?,
            },
            since_boot_ms: match doc.get(obj, "since_boot_ms")? {
                None => None,
                Some(_) => hydrate_prop(doc, obj, "since_boot_ms")?,
            },
        })
    }
}

/// The app's own signal about a device that can fake positions easily.
///
/// Stored as a map `{rooted, emulator}`. Visits written before this shape stored the signal as
/// a word list (`"ok"`, `"rooted"`, `"emulator"`, `"rooted emulator"`, or what an app sent,
/// such as `"jailbroken"`); those strings still hydrate, read tolerantly word by word, so a
/// visit a phone or the server stored then judges the same now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Reconcile)]
pub struct DeviceIntegrity {
    /// The device is rooted or jailbroken.
    pub rooted: bool,
    /// The app runs in an emulator.
    pub emulator: bool,
}

impl DeviceIntegrity {
    /// Reads a signal stored as words by older versions.
    pub fn from_words(signal: &str) -> Self {
        let mut integrity = DeviceIntegrity::default();
        for word in signal
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map(str::to_ascii_lowercase)
        {
            match word.as_str() {
                "rooted" | "root" | "jailbroken" | "jailbreak" => integrity.rooted = true,
                "emulator" | "simulator" => integrity.emulator = true,
                _ => {}
            }
        }
        integrity
    }
}

impl Hydrate for DeviceIntegrity {
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, HydrateError> {
        let flag = |key: &str| -> Result<bool, HydrateError> {
            Ok(match doc.get(obj, key)? {
                None => false,
                Some(_) => hydrate_prop(doc, obj, key)?,
            })
        };
        Ok(DeviceIntegrity {
            rooted: flag("rooted")?,
            emulator: flag("emulator")?,
        })
    }

    fn hydrate_string(signal: &str) -> Result<Self, HydrateError> {
        Ok(DeviceIntegrity::from_words(signal))
    }
}

/// The rep's last visit at the same customer, for the repeat check-in rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierVisit {
    /// When it began.
    pub checked_in_at: Timestamp,
    /// When it was closed; `None` while it is still open.
    pub checked_out_at: Option<Timestamp>,
}

/// Everything a check-in is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInFacts {
    /// The customer visited.
    pub customer_id: RecordId,
    /// The customer's registered location, if it has one.
    pub customer_location: Option<GeoPoint>,
    /// The fix taken for this check-in.
    pub position: DevicePosition,
    /// When the rep checked in, on the device's clock.
    pub checked_in_at: Timestamp,
    /// Where the rep was last on a position the judge trusts, and when they left it (the
    /// previous visit's check-out, or its check-in when it has no check-out before this one).
    pub departure: Option<Waypoint>,
    /// The rep's next check-in the judge already holds, when this one arrives after it.
    pub next_arrival: Option<Waypoint>,
    /// The rep's latest earlier visit at this customer.
    pub last_visit_here: Option<EarlierVisit>,
    /// The check-in's times against the device's clock, the server's and the orders of
    /// recording and upload.
    pub timeline: Timeline,
    /// The rep's other check-ins of the same local day the judge holds.
    pub day: Vec<DayFix>,
}

/// Everything a check-out is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutFacts {
    /// When the visit began, on the device's clock.
    pub checked_in_at: Timestamp,
    /// When it was closed, on the device's clock.
    pub checked_out_at: Timestamp,
    /// The device's clock offset, once a sync has measured it.
    pub device_clock: Option<ClockOffset>,
    /// The customer's registered location, if it has one.
    pub customer_location: Option<GeoPoint>,
    /// The check-in's fix.
    pub check_in_position: DevicePosition,
    /// The check-out's fix, when the phone had one.
    pub position: Option<DevicePosition>,
}

string_enum! {
    /// Why a check-in or check-out deserves a manager's look. The unit of a flag's numbers
    /// is given by [`FlagKind::unit`].
    pub enum FlagKind {
        /// The fix's accuracy is worse than the limit (metres).
        PoorAccuracy = "poor_accuracy",
        /// The OS said the position is mock or simulated.
        MockLocation = "mock_location",
        /// The device is rooted or jailbroken.
        RootedDevice = "rooted_device",
        /// The app runs in an emulator.
        Emulator = "emulator",
        /// The fix was older than allowed when the rep checked in (seconds).
        StaleFix = "stale_fix",
        /// The fix is stamped later than the check-in it was taken for (seconds).
        FixAfterCheckIn = "fix_after_check_in",
        /// No way of travelling (road, rail, air) covers the journey from where the rep was
        /// last seen on a trusted fix, or to the next check-in (km/h needed against the best
        /// the envelope allows over that time). No observed speed means the rep moved with no
        /// time passing, or with time running backwards.
        ImpossibleTravel = "impossible_travel",
        /// A new check-in at the same customer soon after checking out (minutes). No observed
        /// value means the earlier visit is still open.
        RepeatCheckIn = "repeat_check_in",
        /// The device clock is further from server time than allowed (seconds).
        DeviceClockOff = "device_clock_off",
        /// The device's clock moved between the sync before the check-in and the push that
        /// delivered it (seconds of change).
        ClockChanged = "clock_changed",
        /// The check-in claims a time before the sync the device had already made when it
        /// recorded it (minutes before that sync).
        ClaimedBeforeSync = "claimed_before_sync",
        /// The device recorded this check-in after a visit it holds with a later time
        /// (minutes earlier than that visit).
        RecordedOutOfOrder = "recorded_out_of_order",
        /// The phone's clock, against its own time since boot, was set back after an earlier
        /// visit of the rep or forward before a later one (minutes it moved).
        ClockMovedAgainstUptime = "clock_moved_against_uptime",
        /// The server had already received a visit of the rep with a later time when this one
        /// arrived (minutes earlier than that visit).
        UploadedOutOfOrder = "uploaded_out_of_order",
        /// The check-in, on the server's clock, is later than the server received it (seconds).
        CheckedInAfterReceipt = "checked_in_after_receipt",
        /// The visit reached the server long after its check-in (hours).
        UploadedLate = "uploaded_late",
        /// The fix lies on the customer's registered point, precise or repeated across the
        /// day's customers, as location fakers place it (metres from the point).
        FixOnRegisteredPoint = "fix_on_registered_point",
        /// This many different customers' fixes of the day reported the same precise accuracy
        /// to the centimetre, as a location faker set to one value does (fixes).
        RepeatedAccuracy = "repeated_accuracy",
        /// The day's check-ins at this many different customers were made from one spot, far
        /// from every one of them (customers).
        ClusteredAwayFromCustomers = "clustered_away_from_customers",
        /// The check-out fix lies far outside the fence (metres from the customer, or from the
        /// check-in when the customer has no location).
        CheckOutAway = "check_out_away",
        /// The visit was closed sooner than the minimum duration (minutes).
        ShortVisit = "short_visit",
        /// A photo of this visit is also attached to another visit (a photo taken once and
        /// shown twice proves neither visit).
        ReusedPhoto = "reused_photo",
    }
}

impl FlagKind {
    /// The unit of `observed` and `limit` for this kind, empty when it has no numbers.
    pub fn unit(&self) -> &'static str {
        match self {
            FlagKind::PoorAccuracy | FlagKind::FixOnRegisteredPoint | FlagKind::CheckOutAway => "m",
            FlagKind::ImpossibleTravel => "km/h",
            FlagKind::StaleFix
            | FlagKind::FixAfterCheckIn
            | FlagKind::DeviceClockOff
            | FlagKind::ClockChanged
            | FlagKind::CheckedInAfterReceipt => "s",
            FlagKind::RepeatCheckIn
            | FlagKind::ShortVisit
            | FlagKind::ClaimedBeforeSync
            | FlagKind::RecordedOutOfOrder
            | FlagKind::ClockMovedAgainstUptime
            | FlagKind::UploadedOutOfOrder => "min",
            FlagKind::UploadedLate => "h",
            FlagKind::ClusteredAwayFromCustomers => "customers",
            FlagKind::RepeatedAccuracy => "fixes",
            FlagKind::MockLocation
            | FlagKind::ReusedPhoto
            | FlagKind::RootedDevice
            | FlagKind::Emulator
            | FlagKind::Other(_) => "",
        }
    }

    /// Whether the flag says the visit may not have happened as recorded, rather than noting
    /// a condition a manager should know of.
    ///
    /// A poor fix, a rooted phone, a phone clock that is simply wrong (its times are corrected
    /// by the measured offset) and an upload days later happen to honest reps: they are
    /// cautions. Everything else is a suspicion. A flag kind this version does not know (a
    /// newer app wrote it) counts as a suspicion, so nothing is waved through by an old judge.
    pub fn is_suspicion(&self) -> bool {
        !matches!(
            self,
            FlagKind::PoorAccuracy
                | FlagKind::RootedDevice
                | FlagKind::DeviceClockOff
                | FlagKind::UploadedLate
        )
    }

    /// Whether the flag questions the fix itself, so the position cannot be used as where the
    /// rep really was (for the next visit's journey, or as a customer's location).
    pub fn doubts_position(&self) -> bool {
        matches!(
            self,
            FlagKind::MockLocation
                | FlagKind::Emulator
                | FlagKind::StaleFix
                | FlagKind::FixAfterCheckIn
                | FlagKind::ImpossibleTravel
                | FlagKind::FixOnRegisteredPoint
                | FlagKind::RepeatedAccuracy
                | FlagKind::ClusteredAwayFromCustomers
        )
    }

    /// Whether the flag questions the check-in's time, so its clock readings cannot stand for
    /// the phone's (for the next visit's comparison against the phone's time since boot).
    pub fn doubts_time(&self) -> bool {
        matches!(
            self,
            FlagKind::FixAfterCheckIn
                | FlagKind::ClockChanged
                | FlagKind::ClaimedBeforeSync
                | FlagKind::RecordedOutOfOrder
                | FlagKind::UploadedOutOfOrder
                | FlagKind::ClockMovedAgainstUptime
                | FlagKind::CheckedInAfterReceipt
        )
    }

    /// Whether the flag judges the check-out or the photos, which may change after the
    /// check-in was judged; every other flag belongs to the check-in.
    pub fn judged_after_check_in(&self) -> bool {
        matches!(
            self,
            FlagKind::ShortVisit | FlagKind::CheckOutAway | FlagKind::ReusedPhoto
        )
    }
}

/// One reason for suspicion, with the number measured and the limit it broke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CheckFlag {
    /// Which rule.
    pub kind: FlagKind,
    /// What was measured, in the kind's unit.
    #[autosurgeon(missing = "Option::default")]
    pub observed: Option<f64>,
    /// The configured limit, in the kind's unit.
    #[autosurgeon(missing = "Option::default")]
    pub limit: Option<f64>,
}

impl CheckFlag {
    /// A flag with no numbers.
    pub fn bare(kind: FlagKind) -> Self {
        CheckFlag {
            kind,
            observed: None,
            limit: None,
        }
    }

    /// A flag with the number measured (`None` when there is no number to give) and the
    /// limit it broke.
    pub fn measured(kind: FlagKind, observed: Option<f64>, limit: f64) -> Self {
        CheckFlag {
            kind,
            observed,
            limit: Some(limit),
        }
    }
}

/// The judgement stored with a visit's check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CheckInVerdict {
    /// Against the customer's geofence.
    pub fence: FenceStatus,
    /// Metres from the customer's registered location; `None` when it has none.
    #[autosurgeon(missing = "Option::default")]
    pub distance_m: Option<f64>,
    /// The fix's accuracy, metres.
    pub accuracy_m: f64,
    /// The fence radius applied, metres (settings may change later).
    pub radius_m: f64,
    /// Every reason for suspicion, in a fixed order.
    pub flags: Vec<CheckFlag>,
    /// Who judged.
    pub judged_by: Judge,
    /// When, on the judge's clock.
    pub judged_at: Timestamp,
}

impl CheckInVerdict {
    /// Whether the visit is in doubt: outside the fence, or with a suspicion among its flags
    /// ([`FlagKind::is_suspicion`]). This is what a manager's attention and the field-truth
    /// benchmark count.
    pub fn suspicious(&self) -> bool {
        self.fence == FenceStatus::Outside || self.flags.iter().any(|f| f.kind.is_suspicion())
    }

    /// Whether the check-in's times can stand for the phone's clock.
    pub fn time_trusted(&self) -> bool {
        !self.flags.iter().any(|f| f.kind.doubts_time())
    }

    /// Whether the check-in's fix can stand for where the rep was.
    pub fn position_trusted(&self) -> bool {
        !self.flags.iter().any(|f| f.kind.doubts_position())
    }

    /// Whether a flag of `kind` was raised.
    pub fn has_flag(&self, kind: &FlagKind) -> bool {
        self.flags.iter().any(|f| &f.kind == kind)
    }

    /// The flag of `kind`, if raised.
    pub fn flag(&self, kind: &FlagKind) -> Option<&CheckFlag> {
        self.flags.iter().find(|f| &f.kind == kind)
    }
}

/// A check-in that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInJudgement {
    /// The verdict to store with the visit.
    pub verdict: CheckInVerdict,
    /// When the customer had no location and this fix is trustworthy: a proposal to register
    /// it, for a manager to approve.
    pub proposal: Option<LocationProposal>,
}

/// Why hard mode refuses a check-in.
#[derive(Debug, Clone, PartialEq)]
pub enum RefusalReason {
    /// The whole accuracy circle lies outside the fence.
    OutsideGeofence {
        /// Metres from the customer's location.
        distance_m: f64,
        /// The fix's accuracy, metres.
        accuracy_m: f64,
        /// The fence radius, metres.
        radius_m: f64,
    },
    /// The fix is too poor to judge; waiting for a better one helps.
    AccuracyTooPoor {
        /// The fix's accuracy, metres.
        accuracy_m: f64,
        /// The limit, metres.
        limit_m: f64,
    },
    /// The OS reported a mock location.
    MockLocation,
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefusalReason::OutsideGeofence {
                distance_m,
                accuracy_m,
                radius_m,
            } => write!(
                f,
                "{distance_m:.0} m from the customer (accuracy {accuracy_m:.0} m) is outside \
                 the {radius_m:.0} m geofence"
            ),
            RefusalReason::AccuracyTooPoor {
                accuracy_m,
                limit_m,
            } => write!(
                f,
                "position accuracy {accuracy_m:.0} m is worse than the {limit_m:.0} m limit; \
                 wait for a better fix"
            ),
            RefusalReason::MockLocation => {
                f.write_str("the phone reports a mock location; turn off location faking")
            }
        }
    }
}

/// A check-in that cannot be accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckInError {
    /// Hard mode refused it; the verdict says everything that was found.
    #[error("check-in refused: {reason}")]
    Refused {
        /// The first reason that refused it.
        reason: RefusalReason,
        /// The full judgement, for the rep's screen and the audit log.
        verdict: Box<CheckInVerdict>,
    },
    /// The check-in's own fix is not on the earth.
    #[error("the check-in position is invalid: {0}")]
    InvalidPosition(InvalidCoordinates),
    /// The previous check-in's fix is not on the earth.
    #[error("the previous check-in position is invalid: {0}")]
    InvalidPreviousPosition(InvalidCoordinates),
    /// The customer's registered location is not on the earth.
    #[error("the customer's registered location is invalid: {0}")]
    InvalidCustomerLocation(InvalidCoordinates),
    /// An accuracy that is negative or not a number.
    #[error("invalid position accuracy {accuracy_m} m: expected a finite number of metres ≥ 0")]
    InvalidAccuracy {
        /// The value given.
        accuracy_m: f64,
    },
}

/// A check-out that cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckOutError {
    /// The visit would end before it began.
    #[error("check-out at {checked_out_at} is before the check-in at {checked_in_at}")]
    BeforeCheckIn {
        /// When the visit began.
        checked_in_at: Timestamp,
        /// When it was closed.
        checked_out_at: Timestamp,
    },
}

/// Judges a check-in: the fence, the flags, and in hard mode whether to refuse it.
pub fn judge_check_in(
    facts: &CheckInFacts,
    settings: &FieldworkSettings,
    now: Timestamp,
    judged_by: Judge,
) -> Result<CheckInJudgement, CheckInError> {
    let fence = &settings.geofence;
    validate(facts)?;
    let position = &facts.position;
    let radius_m = f64::from(fence.radius_m);
    let distance_m = facts
        .customer_location
        .map(|c| geofence::distance_m(c, position.point));
    let status = match distance_m {
        Some(d) => geofence::classify(d, position.accuracy_m, fence),
        None => FenceStatus::UnableToVerify,
    };

    let verdict = CheckInVerdict {
        fence: status,
        distance_m,
        accuracy_m: position.accuracy_m,
        radius_m,
        flags: check_in_flags(facts, distance_m, settings),
        judged_by,
        judged_at: now,
    };

    if fence.mode == FenceMode::Hard
        && let Some(reason) = refusal(&verdict, position, fence)
    {
        return Err(CheckInError::Refused {
            reason,
            verdict: Box::new(verdict),
        });
    }

    let proposal = (verdict.fence == FenceStatus::UnableToVerify && trustworthy(&verdict))
        .then(|| LocationProposal::new(facts.customer_id, position, facts.checked_in_at));
    Ok(CheckInJudgement { verdict, proposal })
}

/// Judges a check-out: the visit's duration and whether it was too short, and the check-out
/// fix (mock, or far outside the fence: a faked check-in is often closed from wherever the
/// rep really is).
pub fn judge_check_out(
    facts: &CheckOutFacts,
    settings: &FieldworkSettings,
    now: Timestamp,
    judged_by: Judge,
) -> Result<CheckOutVerdict, CheckOutError> {
    let (visit, clock) = (&settings.visit, &settings.device_clock);
    let duration_ms = facts.checked_out_at.millis_since(facts.checked_in_at);
    if duration_ms < 0 {
        return Err(CheckOutError::BeforeCheckIn {
            checked_in_at: facts.checked_in_at,
            checked_out_at: facts.checked_out_at,
        });
    }
    let mut flags = Vec::new();
    let min_ms = i64::from(visit.min_duration_minutes) * 60_000;
    if duration_ms < min_ms {
        flags.push(CheckFlag::measured(
            FlagKind::ShortVisit,
            Some(duration_ms as f64 / 60_000.0),
            f64::from(visit.min_duration_minutes),
        ));
    }
    if let Some(out) = facts.position.filter(|p| p.validate().is_ok()) {
        if out.mock {
            flags.push(CheckFlag::bare(FlagKind::MockLocation));
        }
        flags.extend(check_out_away(facts, &out, settings));
    }
    flags.extend(clock_flag(facts.device_clock.as_ref(), clock));
    Ok(CheckOutVerdict {
        duration_seconds: duration_ms / 1000,
        flags,
        judged_by,
        judged_at: now,
    })
}

/// The judgement stored with a visit's check-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CheckOutVerdict {
    /// How long the visit lasted, whole seconds.
    pub duration_seconds: i64,
    /// Reasons for suspicion.
    pub flags: Vec<CheckFlag>,
    /// Who judged.
    pub judged_by: Judge,
    /// When, on the judge's clock.
    pub judged_at: Timestamp,
}

impl CheckOutVerdict {
    /// Whether a flag of `kind` was raised.
    pub fn has_flag(&self, kind: &FlagKind) -> bool {
        self.flags.iter().any(|f| &f.kind == kind)
    }
}

fn validate(facts: &CheckInFacts) -> Result<(), CheckInError> {
    facts
        .position
        .point
        .validate()
        .map_err(CheckInError::InvalidPosition)?;
    valid_accuracy(facts.position.accuracy_m)?;
    for waypoint in facts.departure.iter().chain(&facts.next_arrival) {
        waypoint
            .point
            .validate()
            .map_err(CheckInError::InvalidPreviousPosition)?;
        valid_accuracy(waypoint.accuracy_m)?;
    }
    if let Some(c) = &facts.customer_location {
        c.validate()
            .map_err(CheckInError::InvalidCustomerLocation)?;
    }
    Ok(())
}

fn valid_accuracy(accuracy_m: f64) -> Result<(), CheckInError> {
    if accuracy_m.is_finite() && accuracy_m >= 0.0 {
        Ok(())
    } else {
        Err(CheckInError::InvalidAccuracy { accuracy_m })
    }
}

fn check_in_flags(
    facts: &CheckInFacts,
    distance_m: Option<f64>,
    settings: &FieldworkSettings,
) -> Vec<CheckFlag> {
    let (fence, visit) = (&settings.geofence, &settings.visit);
    let position = &facts.position;
    let mut flags = Vec::new();

    let max_accuracy = f64::from(fence.max_accuracy_m);
    if position.accuracy_m > max_accuracy {
        flags.push(CheckFlag::measured(
            FlagKind::PoorAccuracy,
            Some(position.accuracy_m),
            max_accuracy,
        ));
    }
    if position.mock {
        flags.push(CheckFlag::bare(FlagKind::MockLocation));
    }
    let integrity = position.integrity.unwrap_or_default();
    if integrity.rooted {
        flags.push(CheckFlag::bare(FlagKind::RootedDevice));
    }
    if integrity.emulator {
        flags.push(CheckFlag::bare(FlagKind::Emulator));
    }

    let timeline = timeline_flags(
        facts.checked_in_at,
        position.fix_time,
        &facts.timeline,
        visit,
        &settings.device_clock,
    );
    let (fix_times, clock_and_order): (Vec<CheckFlag>, Vec<CheckFlag>) = timeline
        .into_iter()
        .partition(|f| matches!(f.kind, FlagKind::StaleFix | FlagKind::FixAfterCheckIn));
    flags.extend(fix_times);

    let here = Waypoint {
        point: position.point,
        accuracy_m: position.accuracy_m,
        at: facts.checked_in_at,
    };
    let travel = facts
        .departure
        .and_then(|from| travel_flag(&from, &here, visit, &settings.travel))
        .or_else(|| {
            facts
                .next_arrival
                .and_then(|to| travel_flag(&here, &to, visit, &settings.travel))
        });
    flags.extend(travel);
    if let Some(earlier) = &facts.last_visit_here {
        flags.extend(repeat_flag(earlier, facts.checked_in_at, visit));
    }
    let fix = DayFix {
        customer_id: facts.customer_id,
        point: position.point,
        accuracy_m: position.accuracy_m,
        customer_distance_m: distance_m,
    };
    flags.extend(day_flags(&fix, &facts.day, &settings.day));
    flags.extend(clock_and_order);
    flags
}

/// The check-out fix far outside the fence: further from the customer (or, with no customer
/// location, from the check-in) than the radius, the leeway and both accuracy circles allow.
fn check_out_away(
    facts: &CheckOutFacts,
    out: &DevicePosition,
    settings: &FieldworkSettings,
) -> Option<CheckFlag> {
    let (reference, reference_accuracy) = match facts.customer_location {
        Some(c) => (c, 0.0),
        None => (
            facts.check_in_position.point,
            facts.check_in_position.accuracy_m,
        ),
    };
    let distance = geofence::distance_m(reference, out.point);
    let limit =
        f64::from(settings.geofence.radius_m) + f64::from(settings.visit.check_out_leeway_m);
    (distance - out.accuracy_m - reference_accuracy > limit)
        .then(|| CheckFlag::measured(FlagKind::CheckOutAway, Some(distance), limit))
}

fn repeat_flag(
    earlier: &EarlierVisit,
    checked_in_at: Timestamp,
    visit: &VisitSettings,
) -> Option<CheckFlag> {
    if visit.repeat_cooldown_minutes == 0 {
        return None;
    }
    let limit = f64::from(visit.repeat_cooldown_minutes);
    let Some(out) = earlier.checked_out_at else {
        return Some(CheckFlag::measured(FlagKind::RepeatCheckIn, None, limit));
    };
    let gap_ms = checked_in_at.millis_since(out).max(0);
    (gap_ms < i64::from(visit.repeat_cooldown_minutes) * 60_000).then(|| {
        CheckFlag::measured(
            FlagKind::RepeatCheckIn,
            Some(gap_ms as f64 / 60_000.0),
            limit,
        )
    })
}

fn clock_flag(offset: Option<&ClockOffset>, clock: &ClockSettings) -> Option<CheckFlag> {
    let offset = offset?;
    (!offset.is_credible(clock)).then(|| {
        CheckFlag::measured(
            FlagKind::DeviceClockOff,
            Some(offset.offset_ms as f64 / 1000.0),
            f64::from(clock.tolerance_seconds),
        )
    })
}

fn refusal(
    verdict: &CheckInVerdict,
    position: &DevicePosition,
    fence: &GeofenceSettings,
) -> Option<RefusalReason> {
    if position.mock {
        return Some(RefusalReason::MockLocation);
    }
    if verdict.has_flag(&FlagKind::PoorAccuracy) {
        return Some(RefusalReason::AccuracyTooPoor {
            accuracy_m: position.accuracy_m,
            limit_m: f64::from(fence.max_accuracy_m),
        });
    }
    match (&verdict.fence, verdict.distance_m) {
        (FenceStatus::Outside, Some(distance_m)) => Some(RefusalReason::OutsideGeofence {
            distance_m,
            accuracy_m: position.accuracy_m,
            radius_m: verdict.radius_m,
        }),
        _ => None,
    }
}

/// A fix good enough to become a customer's location: precise, real, from an honest device.
pub fn trustworthy(verdict: &CheckInVerdict) -> bool {
    verdict.position_trusted()
        && !verdict
            .flags
            .iter()
            .any(|f| matches!(f.kind, FlagKind::PoorAccuracy | FlagKind::RootedDevice))
}
