//! The server's review of a customer: where a customer is can only be decided by a manager.
//!
//! A rep's first check-in may *propose* a customer's location; it becomes the registered
//! location once a manager approves it. Without this review a rep's device could write the
//! location directly and every later check-in at that spot would be "inside".

use super::{Context, Outcome, Rejection};
use crate::me::Me;
use crate::record::Customer;
use crate::rule::RuleCode;
use crate::scope::OrgTree;

/// Reviews a pushed customer. A new customer may carry the location its creator registered;
/// afterwards only a manager who sees the customer changes the location or decides a
/// proposal, and never on their own proposal.
pub fn review_customer(
    ctx: &Context<'_>,
    before: Option<&Customer>,
    after: &Customer,
) -> Result<Outcome, Rejection> {
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
) -> Result<(), Rejection> {
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
    }

    fn person(unit: RecordId, scope: DataScope) -> Me {
        Me {
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
    ) -> Result<Outcome, Rejection> {
        let process = SalesProcess::standard();
        let ctx = Context {
            author,
            tree,
            process: &process,
            now: morning(),
            clock_offset: None,
            lookup: &Nothing,
        };
        review_customer(&ctx, Some(before), after)
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
