//! The server's review of what a device pushed: the same rule code the phone ran, run again
//! where the device cannot tamper with it.
//!
//! The sync endpoint merges a pushed record into its copy, hydrates the result and calls
//! [`review`] with the record as it was before the push. The review either accepts it, amends
//! it (the server recomputes what a device only claims, such as a check-in verdict; the server
//! writes the amendment with its own actor and it reaches every device by pull), or rejects
//! it with a machine-readable [`Rejection`] that travels back to the device, which keeps the
//! user's edit as a listed rejected change.
//!
//! Kind-specific reviews live in sibling modules and are dispatched from [`review`]; they
//! receive everything they need through [`Context`] and never touch storage themselves, so
//! the phone can run them too before it writes.

pub mod approval;
pub mod customer;
pub mod fieldwork;
pub mod follow_up;
pub mod lead;
pub mod opportunity;
pub mod order;
pub mod permission;
pub mod target;
pub mod task;
pub mod visit;

use serde::{Deserialize, Serialize};

use crate::fieldwork::ClockOffset;
use crate::me::Me;
use crate::place::GeoPoint;
use crate::process::SalesProcess;
use crate::record::{AnyRecord, Approval, Customer, Header, Product, Visit};
use crate::rule::RuleCode;
use crate::scope::OrgTree;
use crate::store::{DuplicateReport, NearDuplicate};
use crate::{RecordId, Result, Timestamp};

/// Why a pushed record was refused; sent to the device as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{rule}: {detail}")]
pub struct Rejection {
    /// Stable, machine-readable code (`scope.not_visible`, `immutable.check_in`, ...).
    pub rule: RuleCode,
    /// The field concerned, when there is one (`check_in.position`).
    pub field: Option<String>,
    /// What to tell the user.
    pub detail: String,
}

impl Rejection {
    /// A rejection by `rule`.
    pub fn new(rule: RuleCode, detail: impl Into<String>) -> Self {
        Rejection {
            rule,
            field: None,
            detail: detail.into(),
        }
    }

    /// The same rejection, naming the field.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Records the review may read besides the one under review: the facts the rules read.
/// [`crate::store::Facts`] answers them over any store, the phone's and the server's alike;
/// tests may answer them from memory.
pub trait Lookup {
    /// A record by ID, if this storage has it.
    fn record(&self, id: RecordId) -> Result<Option<AnyRecord>>;
    /// The registered location of customer `id`, when this storage holds the customer, it is
    /// not voided and it has one: what a check-in is measured against. A customer this
    /// storage does not hold yet (pushed later in the same sync) has none: "unable to
    /// verify". The default reads the whole record; a store answers from its customer rows.
    fn customer_location(&self, id: RecordId) -> Result<Option<GeoPoint>> {
        Ok(registered_location(self.record(id)?.as_ref()))
    }
    /// The rep's live visits whose check-in lies within `window_ms` of `at` (either side),
    /// other than `except`: at most `per_side` on each side, the nearest in time. The phone and
    /// the server answer with one query ([`crate::store::Facts`]).
    fn visits_near(
        &self,
        rep: RecordId,
        at: Timestamp,
        window_ms: i64,
        except: RecordId,
        per_side: usize,
    ) -> Result<Vec<Visit>>;
    /// A live opportunity of `customer` whose name is `name` (trimmed, case and width folded),
    /// other than `except`. A storage that cannot search by name answers `None`, and names
    /// are then only checked on the devices.
    fn opportunity_named(
        &self,
        _customer: RecordId,
        _name: &str,
        _except: RecordId,
    ) -> Result<Option<RecordId>> {
        Ok(None)
    }
    /// The live visits that hold a photo with this SHA-256, or `None` when this storage
    /// cannot tell (then the device's own reused-photo finding is kept).
    fn visits_with_photo(&self, sha256: &str) -> Result<Option<Vec<RecordId>>> {
        let _ = sha256;
        Ok(None)
    }
    /// The live catalogue product whose code is `code` (trimmed, case folded), or
    /// [`Known::Unknowable`] when this storage has no catalogue to ask (then prices are only
    /// checked on the devices).
    fn product_by_code(&self, code: &str) -> Result<Known<Product>> {
        let _ = code;
        Ok(Known::Unknowable)
    }
    /// The duplicate check's candidates for `customer` (the same normalised name; names that
    /// score at least `near_threshold`), voided customers included, itself excluded.
    fn duplicates(&self, customer: &Customer, near_threshold: f64) -> Result<DuplicateReport>;
    /// The `exact` candidate of [`Lookup::duplicates`] alone (the same normalised legal or
    /// English name), without ranking near ones: what the review refuses a customer for.
    fn exact_duplicate(&self, customer: &Customer) -> Result<Option<NearDuplicate>>;
    /// How many open leads (new, assigned, followed up) `rep` holds, besides `except`.
    fn open_leads_of(&self, rep: RecordId, except: RecordId) -> Result<u32>;
    /// The latest live approval about `subject` under `rule` (`stage:initiation`), if any.
    fn approval_for(&self, subject: RecordId, rule: &str) -> Result<Option<Approval>>;
}

/// A customer's registered location as [`Lookup::customer_location`] answers it from the
/// whole record: none for a voided customer, a customer without one, a record of another kind
/// or no record.
pub fn registered_location(record: Option<&AnyRecord>) -> Option<GeoPoint> {
    match record {
        Some(AnyRecord::Customer(c)) if !c.header.is_deleted() => c.location,
        _ => None,
    }
}

/// An answer from a [`Lookup`] that may not be able to tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Known<T> {
    /// There is one.
    Found(T),
    /// There is none.
    Missing,
    /// This storage cannot tell.
    Unknowable,
}

/// What the review knows about the push.
pub struct Context<'a> {
    /// The user whose device pushed.
    pub author: &'a Me,
    /// The tenant's org tree.
    pub tree: &'a OrgTree,
    /// The tenant's process configuration.
    pub process: &'a SalesProcess,
    /// Now, on the reviewer's clock (the server's).
    pub now: Timestamp,
    /// The pushing device's clock offset as the reviewer measured it on this push (the
    /// request's send time against its receive time), when the request carried a send time.
    pub clock_offset: Option<ClockOffset>,
    /// Other records.
    pub lookup: &'a dyn Lookup,
}

/// What the review decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The record stands as pushed.
    Accept,
    /// The record stands with the reviewer's corrections (its own verdicts, derived fields).
    Amend(Box<AnyRecord>),
}

/// Reviews a pushed record: `before` is the reviewer's copy before the push (`None` for a new
/// record), `after` the merged result.
///
/// Common checks first (kind and header immutable, the record readable before the change,
/// the permission check of every operation the change makes — [`permission::check_change`],
/// creation and header changes included — and the record's own validation), with an owned
/// record attributed to its owner's org unit: devices may leave `org_unit_id` empty or stale,
/// the server derives it. Then the kind's own review.
pub fn review(
    ctx: &Context<'_>,
    before: Option<&AnyRecord>,
    after: &AnyRecord,
) -> std::result::Result<Outcome, Rejection> {
    if let Some(before) = before {
        if before.kind() != after.kind() {
            return Err(Rejection::new(
                RuleCode::RecordKindChanged,
                format!("a {} cannot become a {}", before.kind(), after.kind()),
            ));
        }
        header_unchanged(before.header(), after.header())?;
        if let (AnyRecord::Lead(b), AnyRecord::Lead(a)) = (before, after) {
            lead::taken_first(b, a, ctx.author.user_id)?;
        }
    }
    let grants = permission::Grants::of(ctx.author, ctx.process);
    let vantage = permission::Vantage::new(ctx.tree, ctx.author);
    if let Some(before) = before
        && !grants.covers(
            &vantage,
            before.kind(),
            &crate::process::permissions::Operation::Read,
            before.header(),
        )
    {
        return Err(Rejection::new(
            RuleCode::ScopeNotVisible,
            "the record is outside your data scope",
        ));
    }
    let mut amended = match after {
        AnyRecord::Private(companion) => Some(with_record_reach(ctx, companion)?),
        _ => attributed_to_owner_unit(ctx, after),
    };
    let current = amended.as_ref().unwrap_or(after);
    permission::check_change(&grants, &vantage, before, current)?;
    if let Err(invalid) = current.validate() {
        return Err(Rejection::new(RuleCode::RecordInvalid, invalid.to_string()));
    }
    // The record before, as the kind under review.
    macro_rules! was {
        ($variant:ident) => {
            before.and_then(|b| match b {
                AnyRecord::$variant(o) => Some(o),
                _ => None,
            })
        };
    }
    let kind_review = match current {
        AnyRecord::Customer(a) => {
            customer::review_customer(ctx, &grants, &vantage, was!(Customer), a)?
        }
        AnyRecord::Opportunity(a) => opportunity::review_opportunity(ctx, was!(Opportunity), a)?,
        AnyRecord::Approval(a) => approval::review_approval(ctx, was!(Approval), a)?,
        AnyRecord::Order(a) => order::review_order(ctx, was!(Order), a)?,
        AnyRecord::Lead(a) => lead::review_lead(ctx, was!(Lead), a)?,
        AnyRecord::Target(a) => target::review_target(ctx, &grants, &vantage, was!(Target), a)?,
        AnyRecord::Task(a) => task::review_task(ctx, was!(Task), a)?,
        AnyRecord::FollowUp(a) => follow_up::review_follow_up(ctx, was!(FollowUp), a)?,
        AnyRecord::Visit(v) => amend(visit::review_visit(ctx, was!(Visit), v)?),
        AnyRecord::DailyReport(r) => amend(fieldwork::rejudge_report(ctx, was!(DailyReport), r)?),
        _ => Outcome::Accept,
    };
    if let Outcome::Amend(record) = kind_review {
        amended = Some(*record);
    }
    Ok(match amended {
        Some(record) if &record != after => Outcome::Amend(Box::new(record)),
        _ => Outcome::Accept,
    })
}

/// Accept as is, or amend with the reviewer's version.
fn amend<R: Into<AnyRecord>>(amended: Option<R>) -> Outcome {
    match amended {
        Some(record) => Outcome::Amend(Box::new(record.into())),
        None => Outcome::Accept,
    }
}

/// The record attributed to its owner's unit, when the owner's profile is known and the
/// record says otherwise.
fn attributed_to_owner_unit(ctx: &Context<'_>, record: &AnyRecord) -> Option<AnyRecord> {
    let owner = record.header().owner_id?;
    let unit = match ctx.lookup.record(owner) {
        Ok(Some(AnyRecord::UserProfile(profile))) => profile.unit_id,
        _ => return None,
    };
    if record.header().org_unit_id == Some(unit) {
        return None;
    }
    let mut amended = record.clone();
    amended.header_mut().org_unit_id = Some(unit);
    Some(amended)
}

/// A sensitive field's companion with its record's reach (owner, unit, creator, sharing,
/// tombstone): it is seen by exactly who sees the record, whatever the device wrote.
fn with_record_reach(
    ctx: &Context<'_>,
    companion: &crate::record::PrivateField,
) -> std::result::Result<AnyRecord, Rejection> {
    let found = ctx
        .lookup
        .record(companion.of.id)
        .map_err(|e| Rejection::new(RuleCode::ServerLookup, e.to_string()))?;
    let record = found.ok_or_else(|| {
        Rejection::new(
            RuleCode::FieldNoRecord,
            format!(
                "no {} {} to hold this field of",
                companion.of.kind, companion.of.id
            ),
        )
        .at("of")
    })?;
    if record.kind() != companion.of.kind {
        return Err(Rejection::new(
            RuleCode::RecordInvalid,
            format!(
                "{} is a {}, not a {}",
                companion.of.id,
                record.kind(),
                companion.of.kind
            ),
        )
        .at("of"));
    }
    let mut amended = companion.clone();
    amended.header = crate::record::private::with_reach(&companion.header, record.header());
    Ok(amended.into())
}

fn header_unchanged(before: &Header, after: &Header) -> std::result::Result<(), Rejection> {
    if before.id != after.id {
        return Err(
            Rejection::new(RuleCode::ImmutableHeader, "the record's id cannot change").at("id"),
        );
    }
    if before.created_at != after.created_at {
        return Err(
            Rejection::new(RuleCode::ImmutableHeader, "the creation time cannot change")
                .at("created_at"),
        );
    }
    if before.created_by != after.created_by {
        return Err(
            Rejection::new(RuleCode::ImmutableHeader, "the creator cannot change").at("created_by"),
        );
    }
    Ok(())
}
