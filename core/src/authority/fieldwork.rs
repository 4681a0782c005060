//! The server's own judgement of check-ins and daily reports.
//!
//! A phone judges a check-in and a report at once so the rep sees the outcome offline, but a
//! phone can be rooted, its clock wound back, its verdict edited. So on every push the server
//! rebuilds the facts from the raw data the record holds (the OS fix, the customer's
//! registered location, the rep's previous check-in, the clock offset it measured itself) and
//! runs the same pure rules; where its verdict differs from what the device wrote, the server's
//! wins and reaches every device as an amendment.
//!
//! The rules are stable across pushes: once the server has judged a record, a later push (a
//! note typed on the visit, a manager's comment on the report) is judged with the facts of the
//! first receipt, so a verdict does not change because a different device happened to push.

use crate::RecordId;
use crate::fieldwork::report::ReportDay;
use crate::fieldwork::{
    CheckFlag, CheckInError, CheckInFacts, CheckInVerdict, CheckOutFacts, ClockOffset,
    EarlierVisit, FalseMark, FieldworkSettings, FlagKind, Judge, ReportError, ReportFacts,
    ReportSubmission, ReportVerdict, SubmissionBasis, judge_check_in, judge_check_out,
    judge_report, report_day_status,
};
use crate::record::daily_report::ReportState as Lifecycle;
use crate::record::{AnyRecord, DailyReport, Header, InvalidRecord, Kind, Visit};
use crate::scope::OrgTree;

use super::{Context, Lookup, Rejection};

/// How many earlier visits the repeat-check-in rule walks back through at most.
const MAX_VISITS_WALKED: usize = 200;

/// Gathers what a visit's check-in is judged on from the record and the records around it.
pub fn check_in_facts(
    lookup: &dyn Lookup,
    visit: &Visit,
    settings: &FieldworkSettings,
    device_clock: Option<ClockOffset>,
) -> crate::Result<CheckInFacts> {
    let position = visit.check_in.position;
    let customer_location = match lookup.record(visit.customer_id)? {
        Some(AnyRecord::Customer(c)) if !c.header.is_deleted() => c.location,
        // A customer this storage does not hold (pushed later in the same sync) has no
        // location to compare with yet: "unable to verify", judged again on the next push.
        _ => None,
    };
    let Some(rep) = visit.header.owner_id else {
        return Err(InvalidRecord::Missing {
            kind: Kind::Visit,
            field: "header.owner_id",
        }
        .into());
    };
    let previous = lookup.last_visit_before(rep, visit.check_in.at, visit.header.id)?;
    let previous_check_in = previous
        .as_ref()
        .map(|v| v.check_in.position)
        .filter(|p| p.validate().is_ok());
    let last_visit_here = last_visit_here(lookup, rep, visit, previous, settings)?;
    Ok(CheckInFacts {
        customer_id: visit.customer_id,
        customer_location,
        position,
        checked_in_at: visit.check_in.at,
        previous_check_in,
        last_visit_here,
        device_clock,
    })
}

/// The rep's latest earlier visit at the same customer that the repeat rule could concern:
/// walks back through the rep's visits until one is at this customer or ended before the
/// cooldown began.
fn last_visit_here(
    lookup: &dyn Lookup,
    rep: RecordId,
    visit: &Visit,
    mut candidate: Option<Visit>,
    settings: &FieldworkSettings,
) -> crate::Result<Option<EarlierVisit>> {
    let cooldown_ms = i64::from(settings.visit.repeat_cooldown_minutes) * 60_000;
    let window_start = visit.check_in.at.plus_millis(-cooldown_ms);
    for _ in 0..MAX_VISITS_WALKED {
        let Some(v) = candidate else {
            return Ok(None);
        };
        if !v.header.is_deleted() && v.customer_id == visit.customer_id {
            return Ok(Some(EarlierVisit {
                checked_in_at: v.check_in.at,
                checked_out_at: v.check_out.as_ref().map(|c| c.at),
            }));
        }
        let ended = v.check_out.as_ref().map_or(v.check_in.at, |c| c.at);
        if ended < window_start {
            return Ok(None);
        }
        candidate = lookup.last_visit_before(rep, v.check_in.at, v.header.id)?;
    }
    Ok(None)
}

/// Everything judged about a visit, check-in and check-out together, as stored in the visit:
/// the check-in verdict with the check-out's short-visit flag and the reused-photo flag
/// appended. `Err` carries a refusal from hard mode (with the full verdict inside).
pub fn judge_visit(
    facts: &CheckInFacts,
    visit: &Visit,
    settings: &FieldworkSettings,
    reused_photo: bool,
    now: crate::Timestamp,
    judged_by: Judge,
) -> Result<CheckInVerdict, CheckInError> {
    let judgement = judge_check_in(
        facts,
        &settings.geofence,
        &settings.visit,
        &settings.device_clock,
        now,
        judged_by.clone(),
    )?;
    let mut verdict = judgement.verdict;
    add_visit_flags(&mut verdict, visit, settings, reused_photo, now, judged_by);
    Ok(verdict)
}

/// Appends the flags of the check-out and of the photos to a check-in verdict.
pub fn add_visit_flags(
    verdict: &mut CheckInVerdict,
    visit: &Visit,
    settings: &FieldworkSettings,
    reused_photo: bool,
    now: crate::Timestamp,
    judged_by: Judge,
) {
    if let Some(out) = &visit.check_out {
        let facts = CheckOutFacts {
            checked_in_at: visit.check_in.at,
            checked_out_at: out.at,
            // The clock was judged at check-in already; one flag for it is enough.
            device_clock: None,
        };
        if let Ok(v) = judge_check_out(
            &facts,
            &settings.visit,
            &settings.device_clock,
            now,
            judged_by,
        ) {
            verdict.flags.extend(v.flags);
        }
    }
    if reused_photo {
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

/// The push review of a visit: the check-in is immutable, and the verdict is the server's.
pub fn review_visit_verdict(
    ctx: &Context<'_>,
    before: Option<&Visit>,
    visit: &Visit,
) -> Result<Option<Visit>, Rejection> {
    let settings = &ctx.process.fieldwork;
    let earlier = before
        .and_then(|b| b.verdict.as_ref())
        .filter(|v| v.judged_by == Judge::Server);
    let device_clock = match earlier {
        // Judged before: the clock as the first receipt found it.
        Some(v) => v.flag(&FlagKind::DeviceClockOff).map(|f| ClockOffset {
            offset_ms: f.observed.map_or(0, |s| (s * 1000.0).round() as i64),
            uncertainty_ms: 0,
            measured_at: v.judged_at,
        }),
        None => {
            let recorded = visit.check_in.clock_offset_ms.map(|ms| ClockOffset {
                offset_ms: ms,
                uncertainty_ms: 0,
                measured_at: visit.check_in.at,
            });
            if visit.header.owner_id == Some(ctx.author.user_id) {
                ctx.clock_offset.or(recorded)
            } else {
                recorded
            }
        }
    };
    let facts = check_in_facts(ctx.lookup, visit, settings, device_clock).map_err(lookup_failed)?;
    let reused = match photo_reused(ctx.lookup, visit).map_err(lookup_failed)? {
        Some(r) => r,
        // This storage cannot tell: keep what the device found.
        None => visit
            .verdict
            .as_ref()
            .is_some_and(|v| v.has_flag(&FlagKind::ReusedPhoto)),
    };
    let verdict = match judge_visit(&facts, visit, settings, reused, ctx.now, Judge::Server) {
        Ok(v) => v,
        Err(CheckInError::Refused { reason, verdict }) => {
            if earlier.is_none() {
                return Err(
                    Rejection::new("check_in.refused", reason.to_string()).at("check_in.position")
                );
            }
            // Accepted on its first receipt (soft mode then): a later edit is not refused.
            let mut verdict = *verdict;
            add_visit_flags(
                &mut verdict,
                visit,
                settings,
                reused,
                ctx.now,
                Judge::Server,
            );
            verdict
        }
        Err(e) => {
            return Err(Rejection::new("record.invalid", e.to_string()).at("check_in.position"));
        }
    };
    if visit
        .verdict
        .as_ref()
        .is_some_and(|held| same_check_in_verdict(held, &verdict))
    {
        return Ok(None);
    }
    Ok(Some(Visit {
        verdict: Some(verdict),
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
        crate::Error::Invalid(invalid) => Rejection::new("record.invalid", invalid.to_string()),
        other => Rejection::new(
            "review.unavailable",
            format!("the record could not be judged now; the push is retried: {other}"),
        ),
    }
}

/// Whether `me` manages the owner of a record: it is someone else's and [`OrgTree::manages`]
/// holds (a manager does not judge their own report).
pub fn manages(tree: &OrgTree, me: &crate::engine::Me, header: &Header) -> bool {
    header.owner_id != Some(me.user_id) && tree.manages(me, header)
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
                "report.false_mark_not_allowed",
                "only a manager of the rep can mark a report false or withdraw the mark",
            )
            .at("marked_false"));
        }
        if let Some(mark) = &after.marked_false {
            if mark.by != ctx.author.user_id {
                return Err(Rejection::new(
                    "report.false_mark_author",
                    "a false mark carries the manager who set it",
                )
                .at("marked_false.by"));
            }
            if after.state != Lifecycle::Submitted {
                return Err(Rejection::new(
                    "report.not_submitted",
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
            "immutable.report_submission",
            "a submitted report the server has received cannot be withdrawn or resubmitted",
        )
        .at("submitted_at"));
    }
    let was_missing = before.is_some_and(|b| b.state == Lifecycle::Missing);
    if after.state == Lifecycle::Missing && !was_missing {
        return Err(Rejection::new(
            "report.missing_is_server_only",
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
                    "record.invalid",
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
            &settings.daily_report,
            ctx.now,
            Judge::Server,
        ) {
            ReportDay::Missing(v) => Some(v),
            ReportDay::Open { .. } | ReportDay::Overdue { .. } => {
                return Err(Rejection::new(
                    "report.not_missing_yet",
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
    Rejection::new("report.invalid", e.to_string()).at(field)
}
