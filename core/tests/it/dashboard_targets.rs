//! Quarterly targets and the leaderboard, mid-March.

use fieldsales_core::BasisPoints;
use fieldsales_core::dashboard::GroupBy;
use fieldsales_core::dashboard::targets::targets;
use fieldsales_core::record::opportunity::OutcomeKind;
use fieldsales_core::record::target::{TargetMetric, TargetSubject};
use fieldsales_core::testing;

use crate::dashboard_world::{Desk, World, ask, cny, sh, week};

/// Q1 targets: Alice ¥1M, Bob ¥200k, Dan ¥500k, team A1 ¥2M, the East region ¥5M. Alice won
/// ¥300k in March and ¥100k in December (last year: not this quarter); Dan won ¥500k; Bob
/// nothing. Carol has collected-amount target of ¥100k and collected ¥60k in March.
fn world() -> World {
    let mut w = World::new();
    let (alice, bob, carol, dan, mia, eve) = (w.alice, w.bob, w.carol, w.dan, w.mia, w.eve);
    let (team_a1, east) = (w.team_a1, w.east);
    w.put(testing::target(alice, cny(1_000_000)));
    w.put(testing::target(bob, cny(200_000)));
    w.put(testing::target(dan, cny(500_000)));
    let mut team = testing::target(mia, cny(2_000_000));
    team.subject = TargetSubject::Team;
    team.subject_id = team_a1;
    w.put(team);
    let mut region = testing::target(eve, cny(5_000_000));
    region.subject = TargetSubject::Region;
    region.subject_id = east;
    w.put(region);
    let mut collected = testing::target(carol, cny(100_000));
    collected.metric = TargetMetric::CollectedAmount;
    w.put(collected);

    w.deal(
        alice,
        "A-won",
        300_000,
        &[("bidding", "2026-03-02 09:00"), ("won", "2026-03-12 10:00")],
        Some(OutcomeKind::Won),
    );
    w.deal(
        alice,
        "A-won-last-year",
        100_000,
        &[("bidding", "2025-12-01 09:00"), ("won", "2025-12-20 10:00")],
        Some(OutcomeKind::Won),
    );
    w.deal(
        dan,
        "D-won",
        500_000,
        &[("bidding", "2026-03-02 09:00"), ("won", "2026-03-12 11:00")],
        Some(OutcomeKind::Won),
    );
    let c = w.customer(carol, "五号客户");
    let product = testing::product("CRM-STD", "CRM 标准版", cny(40_000));
    let mut order = testing::order(carol, c, &product, 3);
    order.payments[0].amount = cny(60_000);
    order.payments[0].received_at = sh("2026-03-05 10:00");
    w.put(product);
    w.put(order);
    w
}

#[test]
fn hq_ranks_every_rep_by_attainment() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.hank, sh("2026-03-16 10:00"));
    let board = targets(&desk.ctx(&server), &ask(week(), GroupBy::Rep)).unwrap();
    let rows: Vec<(u32, &str, i64, Option<BasisPoints>)> = board
        .leaderboard
        .iter()
        .map(|r| {
            (
                r.rank,
                r.subject.name.as_str(),
                r.achieved.minor / 100,
                r.attainment,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "Dan", 500_000, Some(BasisPoints(10_000))),
            (2, "Carol", 60_000, Some(BasisPoints(6_000))),
            (3, "Alice", 300_000, Some(BasisPoints(3_000))),
            (4, "Bob", 0, Some(BasisPoints(0))),
        ]
    );
    let carol = &board.leaderboard[1];
    assert_eq!(carol.metric, TargetMetric::CollectedAmount);
    assert_eq!(carol.target, cny(100_000));
    assert_eq!(carol.period_start.to_string(), "2026-01-01");
    assert_eq!(carol.period_end.to_string(), "2026-04-01");
}

#[test]
fn a_team_manager_sees_his_reps_and_his_team_target() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.mia, sh("2026-03-16 10:00"));
    let reps = targets(&desk.ctx(&server), &ask(week(), GroupBy::Rep)).unwrap();
    let names: Vec<&str> = reps
        .leaderboard
        .iter()
        .map(|r| r.subject.name.as_str())
        .collect();
    assert_eq!(names, ["Alice", "Bob"]);
    let teams = targets(&desk.ctx(&server), &ask(week(), GroupBy::Team)).unwrap();
    assert_eq!(teams.leaderboard.len(), 1);
    let a1 = &teams.leaderboard[0];
    assert_eq!(a1.subject.name, "上海一组");
    assert_eq!(a1.achieved, cny(300_000));
    assert_eq!(a1.attainment, Some(BasisPoints(1_500)));
    let regions = targets(&desk.ctx(&server), &ask(week(), GroupBy::Region)).unwrap();
    assert!(
        regions.leaderboard.is_empty(),
        "a team manager does not see the region's target"
    );
}

#[test]
fn a_director_sees_her_regions_target_and_not_the_south() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.eve, sh("2026-03-16 10:00"));
    let regions = targets(&desk.ctx(&server), &ask(week(), GroupBy::Region)).unwrap();
    assert_eq!(regions.leaderboard.len(), 1);
    let east = &regions.leaderboard[0];
    assert_eq!(east.subject.name, "华东大区");
    // Alice's March win; Carol's collection is another metric.
    assert_eq!(east.achieved, cny(300_000));
    assert_eq!(east.attainment, Some(BasisPoints(600)));
    let reps = targets(&desk.ctx(&server), &ask(week(), GroupBy::Rep)).unwrap();
    assert!(reps.leaderboard.iter().all(|r| r.subject.name != "Dan"));
    assert_eq!(reps.leaderboard.len(), 3);
}
