//! The server's review of a customer: one company is one customer across the whole tenant,
//! and where a customer is can only be decided by a manager.
//!
//! 查重: a rep whose scope is their own records never holds a colleague's customers, so a
//! duplicate check on the phone alone misses the main case — a colleague already follows the
//! company. The server checks every new customer (and every renamed one) against the whole
//! tenant: the same normalised name (width, case, punctuation, legal suffixes) as another
//! customer, voided ones included, is refused as `customer.duplicate` with the existing
//! customer shown only as far as the configuration allows ([`DuplicateHit::redacted`]) — enough
//! to ask its owner for a share, never enough to read it.
//!
//! A rep's first check-in may *propose* a customer's location; it becomes the registered
//! location once a manager approves it. Without this review a rep's device could write the
//! location directly and every later check-in at that spot would be "inside".

use serde::{Deserialize, Serialize};

use super::permission::{Grants, Vantage};
use super::{Context, Lookup, Outcome, Rejection};
use crate::me::Me;
use crate::process::CustomerRules;
use crate::process::permissions::Operation;
use crate::record::{AnyRecord, Customer, Kind};
use crate::rule::RuleCode;
use crate::scope::OrgTree;
use crate::store::DEFAULT_NEAR_THRESHOLD;
use crate::{RecordId, Result, Timestamp};

/// An existing customer found by the duplicate check, with only what the user may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateHit {
    /// The existing customer.
    pub id: RecordId,
    /// How alike the names are (1.0: the same normalised name).
    pub score: f64,
    /// Whether it was voided (deleted).
    pub voided: bool,
    /// Whether the user may open it; when not, the fields below are limited by the
    /// configuration's `customers.duplicate_hit_fields`.
    pub visible: bool,
    /// Legal name, when shown.
    pub legal_name: Option<String>,
    /// Short name, when shown.
    pub short_name: Option<String>,
    /// The owner (to ask for a share), when shown.
    pub owner_id: Option<RecordId>,
    /// Industry, when shown.
    pub industry: Option<String>,
    /// Tier, when shown.
    pub tier: Option<String>,
    /// Address, when shown.
    pub address: Option<String>,
    /// Creation time, when shown.
    pub created_at: Option<Timestamp>,
}

impl DuplicateHit {
    /// The hit on `customer`: whole when `visible`, else only the configured fields.
    /// The server builds its hits with this too.
    pub fn redacted(customer: &Customer, score: f64, visible: bool, rules: &CustomerRules) -> Self {
        let shows = |f: &str| visible || rules.shows(f);
        DuplicateHit {
            id: customer.header.id,
            score,
            voided: customer.header.is_deleted(),
            visible,
            legal_name: shows("legal_name").then(|| customer.legal_name.clone()),
            short_name: shows("short_name")
                .then(|| customer.short_name.clone())
                .flatten(),
            owner_id: shows("owner").then_some(customer.header.owner_id).flatten(),
            industry: shows("industry")
                .then(|| customer.industry.clone())
                .flatten(),
            tier: shows("tier").then(|| customer.tier.clone()).flatten(),
            address: shows("address").then(|| customer.address.clone()).flatten(),
            created_at: shows("created_at").then_some(customer.header.created_at),
        }
    }
}

/// What the duplicate check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCheck {
    /// A customer with the same normalised name: creation is refused.
    pub exact: Option<DuplicateHit>,
    /// Customers with close names: a warning.
    pub near: Vec<DuplicateHit>,
}

/// The duplicate check of `customer` over what `lookup` holds: each hit whole when the user
/// may read it, else redacted to the configured fields.
pub fn duplicate_check(
    lookup: &dyn Lookup,
    grants: &Grants,
    at: &Vantage<'_>,
    customer: &Customer,
    rules: &CustomerRules,
) -> Result<DuplicateCheck> {
    let report = lookup.duplicates(customer, DEFAULT_NEAR_THRESHOLD)?;
    let exact = match &report.exact {
        Some(n) => hit(lookup, grants, at, rules, n.id, n.score)?,
        None => None,
    };
    let mut near = Vec::new();
    for n in &report.near {
        near.extend(hit(lookup, grants, at, rules, n.id, n.score)?);
    }
    Ok(DuplicateCheck { exact, near })
}

/// The exact hit of [`duplicate_check`] alone — the customer the review refuses a new one
/// for — without looking for near ones, which only inform the person creating it.
pub fn exact_duplicate(
    lookup: &dyn Lookup,
    grants: &Grants,
    at: &Vantage<'_>,
    customer: &Customer,
    rules: &CustomerRules,
) -> Result<Option<DuplicateHit>> {
    match lookup.exact_duplicate(customer)? {
        Some(n) => hit(lookup, grants, at, rules, n.id, n.score),
        None => Ok(None),
    }
}

/// The hit on the existing customer `id`, as far as the user at `at` may see it.
fn hit(
    lookup: &dyn Lookup,
    grants: &Grants,
    at: &Vantage<'_>,
    rules: &CustomerRules,
    id: RecordId,
    score: f64,
) -> Result<Option<DuplicateHit>> {
    let Some(AnyRecord::Customer(existing)) = lookup.record(id)? else {
        return Ok(None);
    };
    let visible = grants.covers(at, Kind::Customer, &Operation::Read, &existing.header);
    Ok(Some(DuplicateHit::redacted(
        &existing, score, visible, rules,
    )))
}

/// What a `customer.duplicate` refusal says, as its detail carries it: for people, and the
/// existing customer as far as the user may see it, to ask its owner for a share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateNotice {
    /// What to tell the user.
    pub message: String,
    /// The customer that exists.
    pub existing: DuplicateHit,
}

impl DuplicateNotice {
    /// Reads the notice back from a refusal's detail.
    pub fn from_detail(detail: &str) -> Option<DuplicateNotice> {
        serde_json::from_str(detail).ok()
    }
}

/// Reviews a pushed customer. A new customer may carry the location its creator registered;
/// afterwards only a manager who sees the customer changes the location or decides a
/// proposal, and never on their own proposal.
pub fn review_customer(
    ctx: &Context<'_>,
    grants: &Grants,
    at: &Vantage<'_>,
    before: Option<&Customer>,
    after: &Customer,
) -> std::result::Result<Outcome, Rejection> {
    let renamed = before
        .is_none_or(|b| b.legal_name != after.legal_name || b.english_name != after.english_name);
    if renamed && !after.header.is_deleted() {
        let exact = exact_duplicate(ctx.lookup, grants, at, after, &ctx.process.customers)
            .map_err(|e| Rejection::new(RuleCode::ServerLookup, e.to_string()))?;
        if let Some(existing) = exact {
            let notice = DuplicateNotice {
                message: format!(
                    "this company exists already{}: ask its owner to share it",
                    existing
                        .legal_name
                        .as_deref()
                        .map(|n| format!(" as {n}"))
                        .unwrap_or_default()
                ),
                existing,
            };
            let detail = serde_json::to_string(&notice).unwrap_or(notice.message);
            return Err(Rejection::new(RuleCode::CustomerDuplicate, detail).at("legal_name"));
        }
    }
    let Some(before) = before else {
        return Ok(Outcome::Accept);
    };
    location_unchanged_unless_managed(ctx.tree, ctx.author, before, after)?;
    Ok(Outcome::Accept)
}

/// The location rule on its own, for the phone to run before it writes: a customer's
/// location, and the decision on a proposed one, belong to a manager of the customer (never
/// the rep who proposed it).
pub fn location_unchanged_unless_managed(
    tree: &OrgTree,
    author: &Me,
    before: &Customer,
    after: &Customer,
) -> std::result::Result<(), Rejection> {
    let manager = tree.manages(author, &before.header);
    if before.location != after.location && !manager {
        return Err(Rejection::new(
            RuleCode::CustomerLocationNeedsApproval,
            "a customer's location changes only when a manager approves a proposed location",
        )
        .at("location"));
    }
    if let (Some(held), Some(new)) = (&before.location_proposal, &after.location_proposal)
        && held.status != new.status
        && !fresh_proposal(author, held, new)
        && (!manager || new.proposed_by == author.user_id)
    {
        return Err(Rejection::new(
            RuleCode::CustomerLocationDecision,
            "a proposed location is decided by a manager other than the rep who proposed it",
        )
        .at("location_proposal"));
    }
    Ok(())
}

/// A new pending proposal by its author replacing a decided one: the customer moved again.
/// It decides nothing, so anyone who may edit the customer may make it.
fn fresh_proposal(
    author: &Me,
    held: &crate::record::customer::LocationProposal,
    new: &crate::record::customer::LocationProposal,
) -> bool {
    use crate::record::customer::ProposalStatus;
    held.status != ProposalStatus::Pending
        && new.status == ProposalStatus::Pending
        && new.proposed_by == author.user_id
        && new.proposed_at != held.proposed_at
        && new.decided_by.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::Lookup;
    use crate::process::SalesProcess;
    use crate::record::{AnyRecord, DataScope, OrgLevel, Visit};
    use crate::scope::OrgTree;
    use crate::testing::{customer, morning, org_unit};
    use crate::{GeoPoint, RecordId, Timestamp, Zone};

    struct Nothing;

    impl Lookup for Nothing {
        fn record(&self, _: RecordId) -> crate::Result<Option<AnyRecord>> {
            Ok(None)
        }
        fn visits_near(
            &self,
            _: RecordId,
            _: Timestamp,
            _: i64,
            _: RecordId,
            _: usize,
        ) -> crate::Result<Vec<Visit>> {
            Ok(Vec::new())
        }
        fn duplicates(
            &self,
            _: &crate::record::Customer,
            _: f64,
        ) -> crate::Result<crate::store::DuplicateReport> {
            Ok(Default::default())
        }
        fn exact_duplicate(
            &self,
            _: &crate::record::Customer,
        ) -> crate::Result<Option<crate::store::NearDuplicate>> {
            Ok(None)
        }
        fn open_leads_of(&self, _: RecordId, _: RecordId) -> crate::Result<u32> {
            Ok(0)
        }
        fn approval_for(
            &self,
            _: RecordId,
            _: &str,
        ) -> crate::Result<Option<crate::record::Approval>> {
            Ok(None)
        }
    }

    fn person(unit: RecordId, scope: DataScope) -> Me {
        Me {
            hidden: Default::default(),
            user_id: RecordId::new(),
            unit_id: unit,
            roles: vec![],
            scope,
            zone: Zone::SHANGHAI,
        }
    }

    fn review_by(
        author: &Me,
        tree: &OrgTree,
        before: &Customer,
        after: &Customer,
    ) -> std::result::Result<Outcome, Rejection> {
        let process = SalesProcess::standard();
        let ctx = Context {
            author,
            tree,
            process: &process,
            now: morning(),
            clock_offset: None,
            lookup: &Nothing,
        };
        let grants = Grants::of(author, &process);
        let at = Vantage::new(tree, author);
        review_customer(&ctx, &grants, &at, Some(before), after)
    }

    #[test]
    fn a_rep_cannot_move_their_customer_but_their_manager_can() {
        let team = org_unit("华东一组", OrgLevel::Team, None);
        let tree = OrgTree::from_units([&team]);
        let rep = person(team.header.id, DataScope::Own);
        let manager = person(team.header.id, DataScope::Subtree);
        let mut held = customer(rep.user_id, "上海远景贸易有限公司");
        held.header.org_unit_id = Some(team.header.id);
        let mut moved = held.clone();
        moved.location = Some(GeoPoint::new(31.1, 121.3).expect("a point"));

        let refused = review_by(&rep, &tree, &held, &moved).expect_err("refused");
        assert_eq!(refused.rule, "customer.location_needs_approval");
        assert_eq!(refused.field.as_deref(), Some("location"));
        assert_eq!(
            review_by(&manager, &tree, &held, &moved),
            Ok(Outcome::Accept)
        );

        let mut renamed = held.clone();
        renamed.short_name = Some("远景".into());
        assert_eq!(review_by(&rep, &tree, &held, &renamed), Ok(Outcome::Accept));
    }

    #[test]
    fn a_rep_may_propose_anew_after_a_decision_but_not_decide_their_own_proposal() {
        use crate::record::customer::{LocationProposal, ProposalStatus};
        let team = org_unit("华东一组", OrgLevel::Team, None);
        let tree = OrgTree::from_units([&team]);
        let rep = person(team.header.id, DataScope::Own);
        let manager = person(team.header.id, DataScope::Subtree);
        let mut held = customer(rep.user_id, "上海远景贸易有限公司");
        held.header.org_unit_id = Some(team.header.id);
        let proposal = |status: ProposalStatus, at: Timestamp| LocationProposal {
            point: GeoPoint::new(31.2, 121.4).expect("a point"),
            accuracy_m: 8.0,
            visit_id: None,
            proposed_by: rep.user_id,
            proposed_at: at,
            status,
            decided_by: None,
            decided_at: None,
        };
        let first = morning();
        held.location_proposal = Some(LocationProposal {
            decided_by: Some(manager.user_id),
            decided_at: Some(first.plus_millis(3_600_000)),
            ..proposal(ProposalStatus::Rejected, first)
        });

        // The customer moved: the rep proposes again, a day later.
        let mut again = held.clone();
        again.location_proposal = Some(proposal(
            ProposalStatus::Pending,
            first.plus_millis(86_400_000),
        ));
        assert_eq!(review_by(&rep, &tree, &held, &again), Ok(Outcome::Accept));

        // A rep's device cannot turn its own pending proposal into an approval.
        let mut approved_by_self = again.clone();
        approved_by_self.location_proposal = Some(LocationProposal {
            decided_by: Some(rep.user_id),
            ..proposal(ProposalStatus::Approved, first.plus_millis(86_400_000))
        });
        let refused = review_by(&rep, &tree, &again, &approved_by_self).expect_err("refused");
        assert_eq!(refused.rule, "customer.location_decision");
    }
}
