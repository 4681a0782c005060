//! The server's review of visits: the check-in is a fact recorded at the customer site, so
//! its time, position and what the device knew when it recorded it (its clock, its last sync,
//! its latest visit) can never change once the server holds the visit.

use super::{Context, Rejection};
use crate::record::Visit;
use crate::rule::RuleCode;

/// Reviews a pushed visit. `Ok(Some(visit))` amends it, `Ok(None)` accepts it as pushed.
///
/// The check-in facts are checked first, so a verdict is never recomputed from edited facts;
/// then the server judges the check-in itself and its verdict wins.
pub fn review_visit(
    ctx: &Context<'_>,
    before: Option<&Visit>,
    after: &Visit,
) -> Result<Option<Visit>, Rejection> {
    if let Some(before) = before {
        check_in_unchanged(before, after)?;
    }
    super::fieldwork::review_visit_verdict(ctx, before, after)
}

/// Refuses any change to the check-in facts or the visited customer.
pub fn check_in_unchanged(before: &Visit, after: &Visit) -> Result<(), Rejection> {
    let (b, a) = (&before.check_in, &after.check_in);
    if b.at != a.at {
        return Err(Rejection::new(
            RuleCode::ImmutableCheckIn,
            "the check-in time cannot change after the check-in",
        )
        .at("check_in.at"));
    }
    if b.position != a.position {
        return Err(Rejection::new(
            RuleCode::ImmutableCheckIn,
            "the check-in position cannot change after the check-in",
        )
        .at("check_in.position"));
    }
    if b.zone != a.zone
        || b.clock_offset_ms != a.clock_offset_ms
        || b.synced_at != a.synced_at
        || b.recorded_after != a.recorded_after
    {
        return Err(Rejection::new(
            RuleCode::ImmutableCheckIn,
            "the check-in cannot change after the check-in",
        )
        .at("check_in"));
    }
    if before.customer_id != after.customer_id {
        return Err(Rejection::new(
            RuleCode::ImmutableCheckIn,
            "the customer of a visit cannot change",
        )
        .at("customer_id"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::{Lookup, Outcome, review};
    use crate::me::Me;
    use crate::process::SalesProcess;
    use crate::record::{AnyRecord, DataScope, OrgLevel};
    use crate::scope::OrgTree;
    use crate::testing::{morning, org_unit, position_near_shanghai, user, visit};
    use crate::{RecordId, Timestamp, Zone};

    struct Profiles(Vec<AnyRecord>);

    impl Lookup for Profiles {
        fn record(&self, id: RecordId) -> crate::Result<Option<AnyRecord>> {
            Ok(self.0.iter().find(|r| r.header().id == id).cloned())
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

    struct Scene {
        tree: OrgTree,
        rep: Me,
        profiles: Profiles,
        process: SalesProcess,
    }

    fn scene() -> Scene {
        let team = org_unit("East team", OrgLevel::Team, None);
        let profile = user("Li Na", team.header.id, "sales_rep");
        Scene {
            tree: OrgTree::from_units([&team]),
            rep: Me {
                hidden: Default::default(),
                user_id: profile.header.id,
                unit_id: team.header.id,
                roles: vec!["sales_rep".into()],
                scope: DataScope::Own,
                zone: Zone::SHANGHAI,
            },
            profiles: Profiles(vec![AnyRecord::UserProfile(profile)]),
            process: SalesProcess::standard(),
        }
    }

    fn ctx(s: &Scene) -> Context<'_> {
        Context {
            author: &s.rep,
            tree: &s.tree,
            process: &s.process,
            now: morning(),
            clock_offset: None,
            lookup: &s.profiles,
        }
    }

    #[test]
    fn a_rep_cannot_move_a_check_in_after_the_visit_was_recorded() {
        let s = scene();
        let mut before = visit(s.rep.user_id, RecordId::new());
        before.header.org_unit_id = Some(s.rep.unit_id);
        let mut moved = before.clone();
        moved.check_in.position = position_near_shanghai(800.0, 5.0);
        let refused = review(
            &ctx(&s),
            Some(&AnyRecord::Visit(before.clone())),
            &AnyRecord::Visit(moved),
        )
        .expect_err("refused");
        assert_eq!(refused.rule, "immutable.check_in");
        assert_eq!(refused.field.as_deref(), Some("check_in.position"));

        let mut retimed = before.clone();
        retimed.check_in.at = before.check_in.at.plus_millis(-3_600_000);
        let refused = review_visit(&ctx(&s), Some(&before), &retimed).expect_err("refused");
        assert_eq!(refused.field.as_deref(), Some("check_in.at"));
    }

    #[test]
    fn a_new_visit_and_an_edit_of_its_notes_are_accepted_with_the_server_verdict() {
        let s = scene();
        let mut new = visit(s.rep.user_id, RecordId::new());
        new.header.org_unit_id = Some(s.rep.unit_id);
        let judged = match review(&ctx(&s), None, &AnyRecord::Visit(new.clone())) {
            Ok(Outcome::Amend(record)) => match *record {
                AnyRecord::Visit(v) => v,
                other => panic!("amended into a {}", other.kind()),
            },
            other => panic!("expected the server's verdict, got {other:?}"),
        };
        let verdict = judged
            .verdict
            .clone()
            .expect("the server judged the check-in");
        assert_eq!(verdict.judged_by, crate::fieldwork::Judge::Server);
        assert_eq!(judged.check_in, new.check_in);

        let mut noted = judged.clone();
        noted.check_out = None;
        let again = review_visit(&ctx(&s), Some(&judged), &noted).expect("accepted");
        assert!(again.is_none_or(|v| v.check_in == judged.check_in));
    }

    #[test]
    fn the_server_attributes_a_rep_record_to_the_rep_unit() {
        let s = scene();
        let new = visit(s.rep.user_id, RecordId::new());
        assert_eq!(new.header.org_unit_id, None);
        match review(&ctx(&s), None, &AnyRecord::Visit(new)) {
            Ok(Outcome::Amend(record)) => {
                assert_eq!(record.header().org_unit_id, Some(s.rep.unit_id))
            }
            other => panic!("expected an amendment, got {other:?}"),
        }
    }
}
