//! The server's own judgement of check-ins and daily reports.
//!
//! A phone judges a check-in and a report at once so the rep sees the outcome offline, but a
//! phone can be rooted, its clock wound back, its verdict edited. So on every push the server
//! rebuilds the facts from the raw data the record holds (the OS fix, the customer's
//! registered location, the rep's visits around it, the clock offset it measured itself on
//! that push, its own receipt time) and runs the same pure rules; where its verdict differs
//! from what the device wrote, the server's wins and reaches every device as an amendment.
//!
//! The rules are stable across pushes: once the server has judged a record, a later push (a
//! note typed on the visit, a manager's comment on the report) is judged with the facts of the
//! first receipt, so a verdict does not change because a different device happened to push.

use crate::fieldwork::report::ReportDay;
use crate::fieldwork::{
    BootMark, CheckFlag, CheckInError, CheckInFacts, CheckInVerdict, CheckOutFacts, ClockOffset,
    DayFix, DayOff, EarlierVisit, Employment, FalseMark, FieldworkSettings, FlagKind, Judge,
    Receipt, ReportError, ReportFacts, ReportSubmission, ReportVerdict, SubmissionBasis, Timeline,
    Waypoint, WorkCalendar, judge_check_in, judge_check_out, judge_report, report_day_status,
};
use crate::record::daily_report::ReportState as Lifecycle;
use crate::record::{AnyRecord, DailyReport, Header, InvalidRecord, Kind, Visit};
use crate::scope::OrgTree;
use crate::{GeoPoint, Timestamp};

use super::{Context, Lookup, Rejection};
use crate::rule::RuleCode;

/// How far either side of a check-in the judge reads the rep's other visits: a day and a half
/// covers the whole local day in any zone, the repeat cooldown (at most a day) and the journey
/// from the previous visit.
const NEAR_WINDOW_MS: i64 = 36 * 3_600_000;

/// The most visits read on each side of a check-in (a busy rep makes about a dozen a day).
const NEAR_PER_SIDE: usize = 24;

/// Gathers what a visit's check-in is judged on from the record and the records around it.
///
/// `receipt` is the server's, on the first receipt; the phone judges without one.
pub fn check_in_facts(
    lookup: &dyn Lookup,
    visit: &Visit,
    settings: &FieldworkSettings,
    receipt: Option<Receipt>,
) -> crate::Result<CheckInFacts> {
    let customer_location = lookup.customer_location(visit.customer_id)?;
    let Some(rep) = visit.header.owner_id else {
        return Err(InvalidRecord::Missing {
            kind: Kind::Visit,
            field: "header.owner_id",
        }
        .into());
    };
    let at = visit.check_in.at;
    let mut near: Vec<Visit> = lookup
        .visits_near(rep, at, NEAR_WINDOW_MS, visit.header.id, NEAR_PER_SIDE)?
        .into_iter()
        .filter(|v| !v.header.is_deleted() && v.check_in.position.validate().is_ok())
        .collect();
    near.sort_by_key(|v| (v.check_in.at, v.header.id));
    let earlier: Vec<&Visit> = near.iter().filter(|v| v.check_in.at < at).collect();
    let later = near.iter().filter(|v| v.check_in.at > at);

    let departure = earlier
        .iter()
        .rev()
        .find(|v| trusted(v))
        .map(|v| departure_from(v, at));
    let next_arrival = later.clone().find(|v| trusted(v)).map(|v| Waypoint {
        point: v.check_in.position.point,
        accuracy_m: v.check_in.position.accuracy_m,
        at: v.check_in.at,
    });
    let cooldown_ms = i64::from(settings.visit.repeat_cooldown_minutes) * 60_000;
    let window_start = at.plus_millis(-cooldown_ms);
    let last_visit_here = earlier
        .iter()
        .rev()
        .find(|v| v.customer_id == visit.customer_id)
        .filter(|v| v.check_out.as_ref().map_or(v.check_in.at, |c| c.at) >= window_start)
        .map(|v| EarlierVisit {
            checked_in_at: v.check_in.at,
            checked_out_at: v.check_out.as_ref().map(|c| c.at),
        });
    let uploaded_after = receipt.and_then(|r| {
        near.iter()
            .filter(|v| v.received_at.is_some_and(|t| t < r.received_at))
            .map(|v| v.check_in.at)
            .max()
    });
    // A visit whose own times are in doubt (a clock moved for it) says nothing of the phone's
    // clock: the honest visits around it are compared with each other only.
    let boot = |v: &Visit| {
        if !v.verdict.as_ref().is_none_or(CheckInVerdict::time_trusted) {
            return None;
        }
        v.check_in.position.booted_at().map(|booted_at| BootMark {
            at: v.check_in.at,
            booted_at,
        })
    };
    let earlier_boots = earlier.iter().filter_map(|v| boot(v)).collect();
    let later_boots = near
        .iter()
        .filter(|v| v.check_in.at > at)
        .filter_map(boot)
        .collect();
    let zone = &visit.check_in.zone;
    let today = at.local_date(zone);
    let day = near
        .iter()
        .filter(|v| v.check_in.at.local_date(zone) == today)
        .map(|v| DayFix {
            customer_id: v.customer_id,
            point: v.check_in.position.point,
            accuracy_m: v.check_in.position.accuracy_m,
            customer_distance_m: v.verdict.as_ref().and_then(|j| j.distance_m),
        })
        .collect();
    Ok(CheckInFacts {
        customer_id: visit.customer_id,
        customer_location,
        position: visit.check_in.position,
        checked_in_at: at,
        departure,
        next_arrival,
        last_visit_here,
        timeline: Timeline {
            recorded_offset_ms: visit.check_in.clock_offset_ms,
            synced_at: visit.check_in.synced_at,
            recorded_after: visit.check_in.recorded_after,
            receipt,
            uploaded_after,
            booted_at: visit.check_in.position.booted_at(),
            earlier_boots,
            later_boots,
        },
        day,
    })
}

/// A visit whose check-in fix stands for where the rep was (no verdict yet counts: nothing
/// speaks against it).
fn trusted(v: &Visit) -> bool {
    v.verdict
        .as_ref()
        .is_none_or(CheckInVerdict::position_trusted)
}

/// Where and when the rep left `v`, seen from a check-in at `at`: its check-out when it came
/// before, at the check-out's own fix when that one is usable, else the check-in's; otherwise
/// the check-in itself.
fn departure_from(v: &Visit, at: Timestamp) -> Waypoint {
    let check_in = v.check_in.position;
    match v.check_out.as_ref().filter(|out| out.at <= at) {
        Some(out) => {
            let fix = out
                .position
                .filter(|p| !p.mock && p.validate().is_ok())
                .unwrap_or(check_in);
            Waypoint {
                point: fix.point,
                accuracy_m: fix.accuracy_m,
                at: out.at,
            }
        }
        None => Waypoint {
            point: check_in.point,
            accuracy_m: check_in.accuracy_m,
            at: v.check_in.at,
        },
    }
}

/// Everything judged about a visit, check-in and check-out together, as stored in the visit:
/// the check-in verdict with the check-out's and the photos' flags appended. `Err` carries a
/// refusal from hard mode (with the full verdict inside).
pub fn judge_visit(
    facts: &CheckInFacts,
    visit: &Visit,
    settings: &FieldworkSettings,
    reused_photo: bool,
    now: Timestamp,
    judged_by: Judge,
) -> Result<CheckInVerdict, CheckInError> {
    let judgement = judge_check_in(facts, settings, now, judged_by.clone())?;
    let mut verdict = judgement.verdict;
    let after = AfterCheckIn {
        customer_location: facts.customer_location,
        reused_photo,
    };
    add_visit_flags(&mut verdict, visit, &after, settings, now, judged_by);
    Ok(verdict)
}

/// What the flags judged after the check-in are judged on besides the visit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AfterCheckIn {
    /// The customer's registered location, for the check-out fix.
    pub customer_location: Option<GeoPoint>,
    /// Whether another visit holds one of this visit's photos.
    pub reused_photo: bool,
}

/// Replaces the flags judged after the check-in (check-out and photos,
/// [`FlagKind::judged_after_check_in`]) with the ones the visit earns now; the check-in's own
/// flags stay as they were judged.
pub fn add_visit_flags(
    verdict: &mut CheckInVerdict,
    visit: &Visit,
    after: &AfterCheckIn,
    settings: &FieldworkSettings,
    now: Timestamp,
    judged_by: Judge,
) {
    verdict.flags.retain(|f| !f.kind.judged_after_check_in());
    if let Some(out) = &visit.check_out {
        let facts = CheckOutFacts {
            checked_in_at: visit.check_in.at,
            checked_out_at: out.at,
            // The clock was judged at check-in already; one flag for it is enough.
            device_clock: None,
            customer_location: after.customer_location,
            check_in_position: visit.check_in.position,
            position: out.position,
        };
        if let Ok(v) = judge_check_out(&facts, settings, now, judged_by) {
            for flag in v.flags {
                if !verdict.has_flag(&flag.kind) {
                    verdict.flags.push(flag);
                }
            }
        }
    }
    if after.reused_photo {
        verdict.flags.push(CheckFlag::bare(FlagKind::ReusedPhoto));
    }
}

/// Whether another live visit holds one of this visit's photos; `None` when the lookup
/// cannot tell.
fn photo_reused(lookup: &dyn Lookup, visit: &Visit) -> crate::Result<Option<bool>> {
    let mut reused = false;
    for photo in &visit.photos {
        match lookup.visits_with_photo(&photo.sha256)? {
            None => return Ok(None),
            Some(ids) => reused |= ids.iter().any(|id| *id != visit.header.id),
        }
    }
    Ok(Some(reused))
}

/// The server's verdict for a pushed visit; `Some` with the verdict replaced when it differs
/// from what the visit holds (the server's verdict wins), `None` when it stands as is.
///
/// The visit is judged as on its first receipt; in hard mode a check-in the rules refuse is
/// rejected. [`review_visit_verdict`] is the form the push review uses, which knows the
/// server's copy from before the push.
pub fn rejudge_visit(ctx: &Context<'_>, visit: &Visit) -> Result<Option<Visit>, Rejection> {
    review_visit_verdict(ctx, None, visit)
}

/// The push review of a visit: the verdict is the server's, and so is the receipt time.
///
/// On the first receipt the server judges the check-in with everything it knows then: the
/// device's clock measured on this push, the receipt time, the visits it already holds. A
/// later push (a note, the check-out, a photo) keeps that judgement of the check-in and judges
/// again only what came after it, so a verdict does not drift as other visits arrive or as a
/// different device pushes.
pub fn review_visit_verdict(
    ctx: &Context<'_>,
    before: Option<&Visit>,
    visit: &Visit,
) -> Result<Option<Visit>, Rejection> {
    let settings = &ctx.process.fieldwork;
    let earlier = before
        .and_then(|b| b.verdict.as_ref())
        .filter(|v| v.judged_by == Judge::Server);
    let reused = match photo_reused(ctx.lookup, visit).map_err(lookup_failed)? {
        Some(r) => r,
        // This storage cannot tell: keep what the device found.
        None => visit
            .verdict
            .as_ref()
            .is_some_and(|v| v.has_flag(&FlagKind::ReusedPhoto)),
    };
    let (verdict, received_at) = match earlier {
        Some(held) => {
            let mut verdict = held.clone();
            let after = AfterCheckIn {
                customer_location: ctx
                    .lookup
                    .customer_location(visit.customer_id)
                    .map_err(lookup_failed)?,
                reused_photo: reused,
            };
            add_visit_flags(
                &mut verdict,
                visit,
                &after,
                settings,
                ctx.now,
                Judge::Server,
            );
            (verdict, before.and_then(|b| b.received_at))
        }
        None => {
            let receipt = Receipt {
                received_at: ctx.now,
                // Only the rep's own device vouches for the clock that stamped the check-in.
                device_clock: ctx
                    .clock_offset
                    .filter(|_| visit.header.owner_id == Some(ctx.author.user_id)),
            };
            let facts = check_in_facts(ctx.lookup, visit, settings, Some(receipt))
                .map_err(lookup_failed)?;
            match judge_visit(&facts, visit, settings, reused, ctx.now, Judge::Server) {
                Ok(v) => (v, Some(ctx.now)),
                Err(CheckInError::Refused { reason, .. }) => {
                    return Err(Rejection::new(RuleCode::CheckInRefused, reason.to_string())
                        .at("check_in.position"));
                }
                Err(e) => {
                    return Err(Rejection::new(RuleCode::RecordInvalid, e.to_string())
                        .at("check_in.position"));
                }
            }
        }
    };
    let verdict = match &visit.verdict {
        Some(held) if same_check_in_verdict(held, &verdict) => held.clone(),
        _ => verdict,
    };
    if visit.verdict.as_ref() == Some(&verdict) && visit.received_at == received_at {
        return Ok(None);
    }
    Ok(Some(Visit {
        verdict: Some(verdict),
        received_at,
        ..visit.clone()
    }))
}

/// Equal but for when it was judged, and both the server's.
fn same_check_in_verdict(held: &CheckInVerdict, new: &CheckInVerdict) -> bool {
    held.judged_by == Judge::Server
        && CheckInVerdict {
            judged_at: new.judged_at,
            ..held.clone()
        } == *new
}

fn same_report_verdict(held: &ReportVerdict, new: &ReportVerdict) -> bool {
    held.judged_by == Judge::Server
        && ReportVerdict {
            judged_at: new.judged_at,
            ..held.clone()
        } == *new
}

fn lookup_failed(e: crate::Error) -> Rejection {
    match e {
        crate::Error::Invalid(invalid) => {
            Rejection::new(RuleCode::RecordInvalid, invalid.to_string())
        }
        other => Rejection::new(
            RuleCode::ReviewUnavailable,
            format!("the record could not be judged now; the push is retried: {other}"),
        ),
    }
}

/// Whether `me` manages the owner of a record: it is someone else's and [`OrgTree::manages`]
/// holds (a manager does not judge their own report).
pub fn manages(tree: &OrgTree, me: &crate::me::Me, header: &Header) -> bool {
    header.owner_id != Some(me.user_id) && tree.manages(me, header)
}

/// Why the rep of `report` owed no report for its day, if so: the tenant's work calendar with
/// the rep's own start and end dates and leave. A rep this storage holds no profile of owes
/// as the calendar's working week and holidays say.
pub fn report_day_off(
    lookup: &dyn Lookup,
    report: &DailyReport,
    calendar: &WorkCalendar,
) -> crate::Result<Option<DayOff>> {
    let profile = match report.header.owner_id {
        Some(owner) => match lookup.record(owner)? {
            Some(AnyRecord::UserProfile(p)) => Some(p),
            _ => None,
        },
        None => None,
    };
    Ok(match profile {
        Some(p) => {
            let joined = p.header.created_at.local_date(&p.zone);
            calendar.day_off(report.date, &p.employment(joined))
        }
        None => calendar.day_off(
            report.date,
            &Employment {
                started_on: report.date,
                left_on: None,
                leave: &[],
            },
        ),
    })
}

/// The manager's finding stored in a report, as the rules take it.
pub fn false_mark(report: &DailyReport) -> Option<FalseMark> {
    report.marked_false.as_ref().map(|c| FalseMark {
        by: c.by,
        at: c.at,
        reason: c.text.clone(),
    })
}

/// The push review of a daily report: `received_at` is the server's, only a manager marks a
/// report false, a submission the server received never changes, and the compliance verdict
/// is the server's. `Some` with the corrections when the report needs any.
pub fn rejudge_report(
    ctx: &Context<'_>,
    before: Option<&DailyReport>,
    after: &DailyReport,
) -> Result<Option<DailyReport>, Rejection> {
    let settings = &ctx.process.fieldwork;
    let before_mark = before.and_then(|b| b.marked_false.as_ref());
    if before_mark != after.marked_false.as_ref() {
        if !manages(ctx.tree, ctx.author, &after.header) {
            return Err(Rejection::new(
                RuleCode::ReportFalseMarkNotAllowed,
                "only a manager of the rep can mark a report false or withdraw the mark",
            )
            .at("marked_false"));
        }
        if let Some(mark) = &after.marked_false {
            if mark.by != ctx.author.user_id {
                return Err(Rejection::new(
                    RuleCode::ReportFalseMarkAuthor,
                    "a false mark carries the manager who set it",
                )
                .at("marked_false.by"));
            }
            if after.state != Lifecycle::Submitted {
                return Err(Rejection::new(
                    RuleCode::ReportNotSubmitted,
                    "only a submitted report can be marked false",
                )
                .at("marked_false"));
            }
        }
    }
    let received_before = before.and_then(|b| b.received_at);
    if let (Some(b), Some(_)) = (before, received_before)
        && (b.submitted_at != after.submitted_at
            || b.submitted_clock_offset_ms != after.submitted_clock_offset_ms
            || after.state != Lifecycle::Submitted)
    {
        return Err(Rejection::new(
            RuleCode::ImmutableReportSubmission,
            "a submitted report the server has received cannot be withdrawn or resubmitted",
        )
        .at("submitted_at"));
    }
    let was_missing = before.is_some_and(|b| b.state == Lifecycle::Missing);
    if after.state == Lifecycle::Missing && !was_missing {
        return Err(Rejection::new(
            RuleCode::ReportMissingIsServerOnly,
            "a report is marked missing by the server once its day has passed",
        )
        .at("state"));
    }

    let mut out = after.clone();
    out.received_at = match (received_before, &after.state) {
        (Some(t), _) => Some(t),
        (None, Lifecycle::Submitted) => Some(ctx.now),
        (None, _) => None,
    };
    let verdict = match &after.state {
        Lifecycle::Submitted => {
            let Some(submitted_at) = after.submitted_at else {
                return Err(Rejection::new(
                    RuleCode::RecordInvalid,
                    "a submitted report needs submitted_at",
                )
                .at("submitted_at"));
            };
            let earlier = before
                .and_then(|b| b.verdict.as_ref())
                .filter(|v| v.judged_by == Judge::Server && received_before.is_some());
            let submission = match earlier.and_then(|v| v.effective_submitted_at.map(|t| (v, t))) {
                // Judged on receipt: the submission time then found is the one that counts.
                Some((v, effective)) => ReportSubmission {
                    submitted_at: effective,
                    received_at: out.received_at,
                    device_clock: (v.basis == SubmissionBasis::DeviceClock).then_some(
                        ClockOffset {
                            offset_ms: 0,
                            uncertainty_ms: 0,
                            measured_at: v.judged_at,
                        },
                    ),
                },
                None => ReportSubmission {
                    submitted_at,
                    received_at: out.received_at,
                    // Only the rep's own device vouches for the time the rep's device stamped.
                    device_clock: ctx
                        .clock_offset
                        .filter(|_| after.header.owner_id == Some(ctx.author.user_id)),
                },
            };
            let facts = ReportFacts {
                date: after.date,
                zone: after.zone.clone(),
                submission,
                false_mark: false_mark(after),
                day_off: report_day_off(ctx.lookup, after, &settings.calendar)
                    .map_err(lookup_failed)?,
            };
            Some(
                judge_report(
                    &facts,
                    &settings.daily_report,
                    &settings.device_clock,
                    ctx.now,
                    Judge::Server,
                )
                .map_err(report_rejection)?,
            )
        }
        Lifecycle::Missing => match report_day_status(
            after.date,
            &after.zone,
            report_day_off(ctx.lookup, after, &settings.calendar).map_err(lookup_failed)?,
            &settings.daily_report,
            ctx.now,
            Judge::Server,
        ) {
            ReportDay::Missing(v) => Some(v),
            ReportDay::DayOff(off) => {
                return Err(Rejection::new(
                    RuleCode::ReportDayOff,
                    format!("nobody owes a report for a day off ({off})"),
                )
                .at("state"));
            }
            ReportDay::Open { .. } | ReportDay::Overdue { .. } => {
                return Err(Rejection::new(
                    RuleCode::ReportNotMissingYet,
                    "the report's day has not passed its missing cut-off",
                )
                .at("state"));
            }
        },
        // A draft is judged once it is submitted.
        _ => None,
    };
    out.verdict = match (verdict, &after.verdict) {
        (Some(new), Some(held)) if same_report_verdict(held, &new) => Some(held.clone()),
        (new, _) => new,
    };
    Ok((out != *after).then_some(out))
}

fn report_rejection(e: ReportError) -> Rejection {
    let field = match e {
        ReportError::SubmittedBeforeReportDay { .. } => "submitted_at",
        ReportError::EmptyFalseReason | ReportError::FalseReasonTooLong { .. } => "marked_false",
    };
    Rejection::new(RuleCode::ReportInvalid, e.to_string()).at(field)
}
