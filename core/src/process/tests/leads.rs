//! Leads go back to the pool when nobody follows them up, and reps claim them from it.

use super::*;
use crate::process::lead::{
    ClaimRefused, LeadFacts, LeadRelease, LeadRules, ReleaseCause, RepLoad, check_claim,
    pick_assignee, reclaim_due,
};

/// A lead held by a rep since `assigned`, last followed up at `follow_up`.
fn held_lead(assigned: &str, follow_up: Option<&str>) -> LeadFacts {
    LeadFacts {
        owner: Some(user("rep-li")),
        assigned_at: Some(at(assigned)),
        last_follow_up_at: follow_up.map(at),
        converted: false,
    }
}

fn pool_lead() -> LeadFacts {
    LeadFacts {
        owner: None,
        assigned_at: None,
        last_follow_up_at: None,
        converted: false,
    }
}

#[test]
fn a_lead_followed_up_13_days_23_hours_ago_stays_and_at_14_days_is_reclaimed() {
    let rules = LeadRules::default();
    let follow_up = "2026-03-01T10:00:00+08:00";
    let lead = held_lead("2026-02-20T09:00:00+08:00", Some(follow_up));
    let t = at(follow_up);
    assert_eq!(
        reclaim_due(&lead, &rules, t.plus_millis(13 * DAY + 23 * HOUR)),
        None
    );
    let due = reclaim_due(&lead, &rules, t.plus_millis(14 * DAY)).unwrap();
    assert_eq!(due.owner, user("rep-li"));
    assert_eq!(due.idle_since, t);
    assert_eq!(due.due_at, t.plus_millis(14 * DAY));
}

#[test]
fn a_new_follow_up_restarts_the_two_weeks() {
    let rules = LeadRules::default();
    let assigned = "2026-03-01T10:00:00+08:00";
    let now = at(assigned).plus_millis(14 * DAY);
    assert!(reclaim_due(&held_lead(assigned, None), &rules, now).is_some());
    let followed = held_lead(assigned, Some("2026-03-10T16:30:00+08:00"));
    assert_eq!(reclaim_due(&followed, &rules, now), None);
}

#[test]
fn a_lead_never_followed_up_counts_from_its_assignment() {
    let rules = LeadRules::default();
    let assigned = "2026-03-01T10:00:00+08:00";
    let lead = held_lead(assigned, None);
    assert_eq!(
        reclaim_due(&lead, &rules, at(assigned).plus_millis(14 * DAY))
            .unwrap()
            .idle_since,
        at(assigned)
    );
}

#[test]
fn a_lead_reassigned_after_its_last_follow_up_counts_from_the_reassignment() {
    let rules = LeadRules::default();
    let lead = held_lead(
        "2026-03-10T09:00:00+08:00",
        Some("2026-03-01T09:00:00+08:00"),
    );
    let now = at("2026-03-20T09:00:00+08:00");
    assert_eq!(reclaim_due(&lead, &rules, now), None);
}

#[test]
fn a_shorter_reclaim_period_set_by_the_admin_applies() {
    let rules = LeadRules {
        reclaim_after_days: 7,
        ..LeadRules::default()
    };
    let follow_up = "2026-03-01T10:00:00+08:00";
    let lead = held_lead(follow_up, Some(follow_up));
    assert!(reclaim_due(&lead, &rules, at(follow_up).plus_millis(7 * DAY)).is_some());
}

#[test]
fn converted_leads_and_leads_in_the_pool_are_not_reclaimed() {
    let rules = LeadRules::default();
    let mut converted = held_lead("2026-01-01T09:00:00+08:00", None);
    converted.converted = true;
    let now = at("2026-03-01T09:00:00+08:00");
    assert_eq!(reclaim_due(&converted, &rules, now), None);
    assert_eq!(reclaim_due(&pool_lead(), &rules, now), None);
}

#[test]
fn a_rep_claims_a_pool_lead_within_the_limit() {
    let rules = LeadRules::default();
    let now = at("2026-03-01T09:00:00+08:00");
    assert_eq!(
        check_claim(&pool_lead(), &[], user("rep-zhao"), 49, &rules, now),
        Ok(())
    );
    assert_eq!(
        check_claim(&pool_lead(), &[], user("rep-zhao"), 50, &rules, now),
        Err(ClaimRefused::LimitReached {
            limit: 50,
            open: 50
        })
    );
}

#[test]
fn a_lead_held_by_a_colleague_cannot_be_claimed() {
    let rules = LeadRules::default();
    let lead = held_lead("2026-03-01T09:00:00+08:00", None);
    assert_eq!(
        check_claim(
            &lead,
            &[],
            user("rep-zhao"),
            0,
            &rules,
            at("2026-03-02T09:00:00Z")
        ),
        Err(ClaimRefused::NotInPool {
            owner: user("rep-li")
        })
    );
}

#[test]
fn a_rep_who_lost_a_lead_to_the_pool_waits_a_week_to_claim_it_again() {
    let rules = LeadRules::default();
    let reclaimed = at("2026-03-15T00:00:00+08:00");
    let history = [LeadRelease {
        rep: user("rep-li"),
        at: reclaimed,
        cause: ReleaseCause::Reclaimed,
    }];
    let six_days = reclaimed.plus_millis(6 * DAY);
    assert_eq!(
        check_claim(&pool_lead(), &history, user("rep-li"), 3, &rules, six_days),
        Err(ClaimRefused::WaitingPeriod {
            until: reclaimed.plus_millis(7 * DAY)
        })
    );
    assert_eq!(
        check_claim(
            &pool_lead(),
            &history,
            user("rep-zhao"),
            3,
            &rules,
            six_days
        ),
        Ok(()),
        "a colleague may claim it at once"
    );
    assert_eq!(
        check_claim(
            &pool_lead(),
            &history,
            user("rep-li"),
            3,
            &rules,
            reclaimed.plus_millis(7 * DAY)
        ),
        Ok(())
    );
}

#[test]
fn automatic_assignment_gives_the_lead_to_the_least_loaded_rep() {
    let rules = LeadRules::default();
    let team = [
        RepLoad {
            rep: user("rep-li"),
            open_leads: 12,
        },
        RepLoad {
            rep: user("rep-zhao"),
            open_leads: 4,
        },
        RepLoad {
            rep: user("rep-sun"),
            open_leads: 9,
        },
    ];
    assert_eq!(pick_assignee(&team, &rules), Some(user("rep-zhao")));
}

#[test]
fn equal_loads_are_broken_by_id_whatever_the_order_of_the_team_list() {
    let rules = LeadRules::default();
    let a = RepLoad {
        rep: user("rep-li"),
        open_leads: 4,
    };
    let b = RepLoad {
        rep: user("rep-zhao"),
        open_leads: 4,
    };
    let expected = user("rep-li").min(user("rep-zhao"));
    assert_eq!(pick_assignee(&[a, b], &rules), Some(expected));
    assert_eq!(pick_assignee(&[b, a], &rules), Some(expected));
}

#[test]
fn reps_at_the_limit_get_no_more_leads() {
    let rules = LeadRules {
        max_open_leads_per_rep: 5,
        ..LeadRules::default()
    };
    let full = [RepLoad {
        rep: user("rep-li"),
        open_leads: 5,
    }];
    assert_eq!(pick_assignee(&full, &rules), None);
    assert_eq!(pick_assignee(&[], &rules), None);
}
