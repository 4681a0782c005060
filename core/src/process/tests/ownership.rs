//! Two reps follow the same company under different names.

use super::*;
use crate::process::ownership::{
    OwnershipClaim, OwnershipRule, OwnershipUndecided, normalise_name, resolve_ownership,
};

const REGISTERED: &str = "上海联华医疗器械有限公司";

fn claim(
    rep: &str,
    name: &str,
    follow_up: Option<&str>,
    opportunity: Option<&str>,
) -> OwnershipClaim {
    OwnershipClaim {
        rep: user(rep),
        customer: RecordId::derived("process-test-customer", &format!("{rep}/{name}")),
        recorded_name: name.to_string(),
        first_follow_up_at: follow_up.map(at),
        first_opportunity_at: opportunity.map(at),
    }
}

#[test]
fn the_rep_whose_record_carries_the_registered_full_name_wins() {
    let claims = [
        claim(
            "rep-li",
            "联华医疗",
            Some("2026-01-05T09:00:00+08:00"),
            None,
        ),
        claim(
            "rep-zhao",
            "上海联华医疗器械有限公司",
            Some("2026-02-01T09:00:00+08:00"),
            None,
        ),
    ];
    let v = resolve_ownership(Some(REGISTERED), &claims).unwrap();
    assert_eq!(v.owner, user("rep-zhao"));
    assert_eq!(v.customer, claims[1].customer);
    assert_eq!(v.rule, OwnershipRule::RegisteredFullName);
}

#[test]
fn the_registered_name_matches_across_full_width_letters_and_spaces() {
    assert_eq!(
        normalise_name("ＡＢＣ 科技（上海）有限公司"),
        normalise_name("abc科技（上海）有限公司")
    );
    let claims = [
        claim("rep-li", "ＡＢＣ 科技有限公司", None, None),
        claim(
            "rep-zhao",
            "ABC科技",
            Some("2026-01-01T09:00:00+08:00"),
            None,
        ),
    ];
    let v = resolve_ownership(Some("ABC科技有限公司"), &claims).unwrap();
    assert_eq!(
        (v.owner, v.rule),
        (user("rep-li"), OwnershipRule::RegisteredFullName)
    );
}

#[test]
fn without_the_registered_name_the_first_follow_up_wins() {
    let claims = [
        claim(
            "rep-li",
            "联华医疗",
            Some("2026-01-05T09:00:00+08:00"),
            Some("2026-01-06T09:00:00+08:00"),
        ),
        claim(
            "rep-zhao",
            "联华医疗器械",
            Some("2026-01-04T17:00:00+08:00"),
            Some("2026-02-01T09:00:00+08:00"),
        ),
        claim(
            "rep-sun",
            "上海联华",
            None,
            Some("2026-01-01T09:00:00+08:00"),
        ),
    ];
    let v = resolve_ownership(Some(REGISTERED), &claims).unwrap();
    assert_eq!(
        (v.owner, v.rule),
        (user("rep-zhao"), OwnershipRule::FirstFollowUp)
    );
}

#[test]
fn with_no_follow_ups_the_first_opportunity_wins() {
    let claims = [
        claim(
            "rep-li",
            "联华医疗",
            None,
            Some("2026-01-06T09:00:00+08:00"),
        ),
        claim(
            "rep-zhao",
            "联华医疗器械",
            None,
            Some("2026-01-03T09:00:00+08:00"),
        ),
    ];
    let v = resolve_ownership(None, &claims).unwrap();
    assert_eq!(
        (v.owner, v.rule),
        (user("rep-zhao"), OwnershipRule::FirstOpportunity)
    );
}

#[test]
fn two_records_with_the_registered_name_are_separated_by_the_first_follow_up() {
    let claims = [
        claim(
            "rep-li",
            REGISTERED,
            Some("2026-01-09T09:00:00+08:00"),
            None,
        ),
        claim(
            "rep-zhao",
            REGISTERED,
            Some("2026-01-08T09:00:00+08:00"),
            None,
        ),
        claim("rep-sun", "联华", Some("2026-01-01T09:00:00+08:00"), None),
    ];
    let v = resolve_ownership(Some(REGISTERED), &claims).unwrap();
    assert_eq!(
        (v.owner, v.rule),
        (user("rep-zhao"), OwnershipRule::FirstFollowUp)
    );
}

#[test]
fn when_no_rule_separates_the_reps_a_manager_must_decide() {
    let same = Some("2026-01-08T09:00:00+08:00");
    let claims = [
        claim("rep-li", "联华", same, None),
        claim("rep-zhao", "联华医疗", same, None),
    ];
    let mut expected = vec![user("rep-li"), user("rep-zhao")];
    expected.sort();
    assert_eq!(
        resolve_ownership(Some(REGISTERED), &claims),
        Err(OwnershipUndecided::Tied { tied: expected })
    );
    assert_eq!(
        resolve_ownership(Some(REGISTERED), &claims[..1]),
        Err(OwnershipUndecided::NoConflict)
    );
}
