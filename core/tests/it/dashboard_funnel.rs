//! The funnel a director and a team manager read for the week of 9–15 March.

use fieldsales_core::BasisPoints;
use fieldsales_core::dashboard::GroupBy;
use fieldsales_core::dashboard::funnel::{FunnelFigures, funnel};
use fieldsales_core::record::opportunity::OutcomeKind;

use crate::dashboard_world::{Desk, World, ask, cny, sh, week};

/// Team A1: Alice holds a deal in `opportunity` (¥100k) and one in `initiation` (¥200k), and
/// won ¥300k on 12 March after moving through every stage that week; Bob lost ¥50k on 13
/// March and holds ¥400k in bidding. Team A2: Carol holds ¥80k in `opportunity`. South: Dan
/// holds ¥1M and won ¥500k.
fn world() -> World {
    let mut w = World::new();
    let (alice, bob, carol, dan) = (w.alice, w.bob, w.carol, w.dan);
    w.deal(
        alice,
        "A-open",
        100_000,
        &[("opportunity", "2026-03-10 09:00")],
        None,
    );
    w.deal(
        alice,
        "A-init",
        200_000,
        &[
            ("opportunity", "2026-03-02 09:00"),
            ("initiation", "2026-03-11 09:00"),
        ],
        None,
    );
    w.deal(
        alice,
        "A-won",
        300_000,
        &[
            ("opportunity", "2026-03-09 09:00"),
            ("initiation", "2026-03-10 09:00"),
            ("formal_communication", "2026-03-11 09:00"),
            ("bidding", "2026-03-11 15:00"),
            ("won", "2026-03-12 10:00"),
        ],
        Some(OutcomeKind::Won),
    );
    w.deal(
        bob,
        "B-lost",
        50_000,
        &[
            ("opportunity", "2026-03-10 09:00"),
            ("lost", "2026-03-13 10:00"),
        ],
        Some(OutcomeKind::Lost),
    );
    w.deal(
        bob,
        "B-bid",
        400_000,
        &[("bidding", "2026-03-09 09:00")],
        None,
    );
    w.deal(
        carol,
        "C-open",
        80_000,
        &[("opportunity", "2026-03-10 09:00")],
        None,
    );
    w.deal(
        dan,
        "D-open",
        1_000_000,
        &[("opportunity", "2026-03-10 09:00")],
        None,
    );
    w.deal(
        dan,
        "D-won",
        500_000,
        &[("bidding", "2026-03-02 09:00"), ("won", "2026-03-12 11:00")],
        Some(OutcomeKind::Won),
    );
    w
}

fn stage<'a>(
    f: &'a FunnelFigures,
    key: &str,
) -> &'a fieldsales_core::dashboard::funnel::StageFigures {
    f.stages.iter().find(|s| s.stage == key).unwrap()
}

#[test]
fn a_director_sees_the_funnel_of_each_team_of_her_region_and_not_the_south() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.eve, sh("2026-03-16 10:00"));
    let f = funnel(&desk.ctx(&server), &ask(week(), GroupBy::Team)).unwrap();

    let keys: Vec<&str> = f.stages.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "lead",
            "opportunity",
            "initiation",
            "formal_communication",
            "bidding"
        ],
        "open stages in chain order"
    );
    let names: Vec<&str> = f.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(names, ["上海一组", "杭州组"], "no row for the South's team");

    let a1 = &f.groups[0].figures;
    assert_eq!(stage(a1, "opportunity").open, 1);
    assert_eq!(stage(a1, "opportunity").open_amount, cny(100_000));
    assert_eq!(stage(a1, "initiation").open_amount, cny(200_000));
    assert_eq!(stage(a1, "bidding").open_amount, cny(400_000));
    assert_eq!(a1.pipeline, cny(700_000));
    // 100k × 10% + 200k × 25% + 400k × 70%
    assert_eq!(stage(a1, "bidding").weighted_amount, cny(280_000));
    assert_eq!(a1.weighted_forecast, cny(10_000 + 50_000 + 280_000));
    assert_eq!((a1.won, a1.lost), (1, 1));
    assert_eq!(a1.won_amount, cny(300_000));
    assert_eq!(a1.win_rate, Some(BasisPoints(5_000)));

    // Entered this week: opportunity by A-open, A-won, B-lost (A-won moved on); initiation by
    // A-init and A-won (A-won moved on); bidding by B-bid and A-won (A-won won).
    let opp = stage(a1, "opportunity");
    assert_eq!((opp.entered, opp.advanced), (3, 1));
    assert_eq!(opp.conversion, Some(BasisPoints(3_333)));
    let init = stage(a1, "initiation");
    assert_eq!((init.entered, init.advanced), (2, 1));
    let formal = stage(a1, "formal_communication");
    assert_eq!((formal.entered, formal.advanced), (1, 1));
    assert_eq!(formal.conversion, Some(BasisPoints(10_000)));
    let bid = stage(a1, "bidding");
    assert_eq!((bid.entered, bid.advanced), (2, 1));
    assert_eq!(stage(a1, "lead").conversion, None, "nobody entered");

    let a2 = &f.groups[1].figures;
    assert_eq!(a2.pipeline, cny(80_000));
    assert_eq!(a2.weighted_forecast, cny(8_000));
    assert_eq!(a2.win_rate, None, "nothing closed in A2");

    assert_eq!(f.total.pipeline, cny(780_000), "Dan's million is not in it");
    assert_eq!(f.total.weighted_forecast, cny(348_000));
    assert_eq!(f.total.won_amount, cny(300_000));
    assert_eq!(f.data_as_of, Some(sh("2026-03-16 09:55")));
}

#[test]
fn deals_closed_outside_the_range_do_not_count_towards_the_win_rate() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.hank, sh("2026-03-16 10:00"));
    let range = fieldsales_core::dashboard::DateRange::new(
        crate::dashboard_world::march(13),
        crate::dashboard_world::march(15),
    )
    .unwrap();
    let f = funnel(&desk.ctx(&server), &ask(range, GroupBy::Region)).unwrap();
    // Only Bob's loss on the 13th closed in 13–15 March.
    assert_eq!((f.total.won, f.total.lost), (0, 1));
    assert_eq!(f.total.win_rate, Some(BasisPoints(0)));
    // The open pipeline is a snapshot, whatever the range: HQ sees both regions.
    assert_eq!(
        f.total.pipeline,
        cny(100_000 + 200_000 + 400_000 + 80_000 + 1_000_000)
    );
    let regions: Vec<&str> = f.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(regions, ["华东大区", "华南大区"]);
}

#[test]
fn a_rep_sees_only_his_own_deals() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.bob, sh("2026-03-16 10:00"));
    let f = funnel(&desk.ctx(&server), &ask(week(), GroupBy::Rep)).unwrap();
    let names: Vec<&str> = f.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(names, ["Bob"]);
    assert_eq!(f.total.pipeline, cny(400_000));
    assert_eq!((f.total.won, f.total.lost), (0, 1));
}
