//! Visits as a team manager reads them: plan against actual, verdicts, time on site, the map,
//! and the local day a late-evening check-in counts on.

use fieldsales_core::dashboard::visits::{Granularity, VisitFigures, visit_map_points, visits};
use fieldsales_core::dashboard::{DateRange, GroupBy};
use fieldsales_core::fieldwork::{FenceStatus, FlagKind};
use fieldsales_core::me::Me;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{RecordId, Zone};

use crate::dashboard_world::{Desk, World, ask, march, sh, week};

struct Seeded {
    w: World,
    late_evening: RecordId,
    after_midnight: RecordId,
}

/// Alice planned customers 1 and 2 on 10 March; she checked in at 1 (inside, 30 min) and at 3
/// (outside, mock location, 10 min), then at 1 again at 23:30 on the 11th (cannot tell, still
/// open) and at 00:30 on the 12th (no customer location). Bob checked in once, not judged yet,
/// 20 min. Carol (team A2) and Dan (South) checked in once each.
fn seeded() -> Seeded {
    let mut w = World::new();
    let (alice, bob, carol, dan) = (w.alice, w.bob, w.carol, w.dan);
    let c1 = w.customer(alice, "一号客户");
    let c2 = w.customer(alice, "二号客户");
    let c3 = w.customer(alice, "三号客户");
    let c4 = w.customer(bob, "四号客户");
    let c5 = w.customer(carol, "五号客户");
    let c6 = w.customer(dan, "六号客户");
    w.plan(alice, march(10), &[c1, c2]);
    use FenceStatus::*;
    w.check_in(alice, c1, "2026-03-10 10:00", Some(Inside), &[], Some(30));
    w.check_in(
        alice,
        c3,
        "2026-03-10 14:00",
        Some(Outside),
        &[FlagKind::MockLocation],
        Some(10),
    );
    let late_evening = w.check_in(alice, c1, "2026-03-11 23:30", Some(CannotTell), &[], None);
    let after_midnight = w.check_in(
        alice,
        c2,
        "2026-03-12 00:30",
        Some(UnableToVerify),
        &[],
        None,
    );
    w.check_in(bob, c4, "2026-03-10 11:00", None, &[], Some(20));
    w.check_in(carol, c5, "2026-03-10 11:00", Some(Inside), &[], Some(45));
    w.check_in(dan, c6, "2026-03-10 11:00", Some(Inside), &[], Some(60));
    Seeded {
        w,
        late_evening,
        after_midnight,
    }
}

#[test]
fn a_team_manager_sees_plan_against_actual_and_verdicts_per_rep_per_day() {
    let Seeded { w, .. } = seeded();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.mia, sh("2026-03-16 10:00"));
    let d = visits(
        &desk.ctx(&server),
        &ask(week(), GroupBy::Rep),
        Granularity::Day,
    )
    .unwrap();

    let rows: Vec<(&str, String, u64)> = d
        .rows
        .iter()
        .map(|r| {
            (
                r.group.name.as_str(),
                r.period.to_string(),
                r.figures.check_ins,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Alice", "2026-03-10".to_string(), 2),
            ("Alice", "2026-03-11".to_string(), 1),
            ("Alice", "2026-03-12".to_string(), 1),
            ("Bob", "2026-03-10".to_string(), 1),
        ],
        "team A1 only: no Carol, no Dan"
    );
    assert_eq!(
        d.rows[0].figures,
        VisitFigures {
            planned: 2,
            planned_done: 1,
            unplanned: 1,
            check_ins: 2,
            inside: 1,
            outside: 1,
            cannot_tell: 0,
            unable_to_verify: 0,
            unjudged: 0,
            flagged: 1,
            checked_out: 2,
            total_duration_s: 40 * 60,
            average_duration_s: Some(20 * 60),
        }
    );
    assert_eq!(d.rows[1].figures.cannot_tell, 1);
    assert_eq!(d.rows[1].figures.average_duration_s, None, "still on site");
    assert_eq!(d.rows[2].figures.unable_to_verify, 1);
    assert_eq!(d.rows[3].figures.unjudged, 1);

    let t = &d.total;
    assert_eq!((t.planned, t.planned_done, t.unplanned), (2, 1, 4));
    assert_eq!(t.check_ins, 5);
    assert_eq!((t.checked_out, t.total_duration_s), (3, 60 * 60));
    assert_eq!(t.average_duration_s, Some(20 * 60));

    assert_eq!(d.data_as_of, Some(sh("2026-03-16 09:55")));

    let map = visit_map_points(&desk.ctx(&server), week(), 100, None).unwrap();
    assert_eq!(map.points.len(), 5, "one point per check-in counted");
    assert_eq!(map.next, None, "one page holds them all");
    let newest = &map.points[0];
    assert_eq!(newest.at, sh("2026-03-12 00:30"));
    assert_eq!(newest.fence, Some(FenceStatus::UnableToVerify));
    let mocked = map
        .points
        .iter()
        .find(|p| p.at == sh("2026-03-10 14:00"))
        .unwrap();
    assert_eq!(mocked.flags, ["mock_location"]);
    assert_eq!(mocked.rep.name, "Alice");
    assert_eq!(map.data_as_of, Some(sh("2026-03-16 09:55")));
}

#[test]
fn a_check_in_at_half_past_eleven_at_night_in_shanghai_counts_on_that_shanghai_day() {
    let Seeded {
        w,
        late_evening,
        after_midnight,
    } = seeded();
    let server = w.server();
    // A director reading from Berlin, or in UTC, sees the rep's own day.
    for zone in [Zone::SHANGHAI, Zone::UTC, "Europe/Berlin".parse().unwrap()] {
        let mut desk = Desk::new(&w, &server, w.eve, sh("2026-03-16 10:00"));
        desk.viewer.me = Me {
            hidden: Default::default(),
            zone: zone.clone(),
            ..desk.viewer.me.clone()
        };
        let ids_on = |day: u32| -> Vec<RecordId> {
            let range = DateRange::day(march(day));
            let counted = visits(
                &desk.ctx(&server),
                &ask(range, GroupBy::Rep),
                Granularity::Day,
            )
            .unwrap();
            let ids: Vec<RecordId> = visit_map_points(&desk.ctx(&server), range, 100, None)
                .unwrap()
                .points
                .into_iter()
                .map(|p| p.visit_id)
                .collect();
            assert_eq!(
                counted.total.check_ins,
                ids.len() as u64,
                "viewer in {zone}"
            );
            ids
        };
        // 23:30 on the 11th in Shanghai is 15:30 UTC on the 11th; 00:30 on the 12th in
        // Shanghai is 16:30 UTC on the 11th, yet counts on the 12th.
        assert_eq!(ids_on(11), [late_evening], "viewer in {zone}");
        assert_eq!(ids_on(12), [after_midnight], "viewer in {zone}");
    }
}

#[test]
fn weekly_rows_per_team_start_on_monday() {
    let Seeded { w, .. } = seeded();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.eve, sh("2026-03-16 10:00"));
    let range = DateRange::new(march(11), march(17)).unwrap();
    let d = visits(
        &desk.ctx(&server),
        &ask(range, GroupBy::Team),
        Granularity::Week,
    )
    .unwrap();
    let rows: Vec<(&str, String, u64)> = d
        .rows
        .iter()
        .map(|r| {
            (
                r.group.name.as_str(),
                r.period.to_string(),
                r.figures.check_ins,
            )
        })
        .collect();
    // From the 11th on only Alice's two late check-ins remain; the week is named by Monday
    // the 9th although the range starts on the 11th.
    assert_eq!(rows, [("上海一组", "2026-03-09".to_string(), 2)]);
}

#[test]
fn the_map_is_read_a_page_at_a_time_newest_first_without_gaps_or_repeats() {
    let Seeded { w, .. } = seeded();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.hank, sh("2026-03-16 10:00"));
    let ctx = desk.ctx(&server);
    let counted = visits(&ctx, &ask(week(), GroupBy::Region), Granularity::Day).unwrap();
    assert_eq!(counted.total.check_ins, 7, "HQ sees every check-in");

    let first = visit_map_points(&ctx, week(), 2, None).unwrap();
    assert_eq!(
        first.points.iter().map(|p| p.at).collect::<Vec<_>>(),
        [sh("2026-03-12 00:30"), sh("2026-03-11 23:30")]
    );
    let mut seen: Vec<RecordId> = first.points.iter().map(|p| p.visit_id).collect();
    let mut times: Vec<_> = first.points.iter().map(|p| p.at).collect();
    let mut next = first.next;
    let mut pages = 1;
    while let Some(cursor) = next {
        let page = visit_map_points(&ctx, week(), 2, Some(cursor)).unwrap();
        assert!(page.points.len() <= 2);
        assert!(
            !page.points.is_empty(),
            "a cursor never leads to an empty page"
        );
        seen.extend(page.points.iter().map(|p| p.visit_id));
        times.extend(page.points.iter().map(|p| p.at));
        next = page.next;
        pages += 1;
    }
    assert_eq!(pages, 4, "seven points in pages of two");
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no point twice");
    assert!(times.windows(2).all(|t| t[0] >= t[1]), "newest first");
}

#[test]
fn a_team_managers_map_holds_their_team_only_in_each_verdicts_colour() {
    let Seeded { w, .. } = seeded();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.mia, sh("2026-03-16 10:00"));
    let map = visit_map_points(&desk.ctx(&server), week(), 100, None).unwrap();
    let mut reps: Vec<&str> = map.points.iter().map(|p| p.rep.name.as_str()).collect();
    reps.sort();
    assert_eq!(
        reps,
        ["Alice", "Alice", "Alice", "Alice", "Bob"],
        "no Carol, no Dan"
    );
    let mut verdicts: Vec<Option<FenceStatus>> =
        map.points.iter().map(|p| p.fence.clone()).collect();
    verdicts.sort_by_key(|v| v.as_ref().map(|f| f.as_str().to_string()));
    use FenceStatus::*;
    assert_eq!(
        verdicts,
        [
            None,
            Some(CannotTell),
            Some(Inside),
            Some(Outside),
            Some(UnableToVerify)
        ],
        "Bob's check-in is not judged yet"
    );

    // A rep of the South reads the same days and finds only his own check-in.
    let desk = Desk::new(&w, &server, w.dan, sh("2026-03-16 10:00"));
    let map = visit_map_points(&desk.ctx(&server), week(), 100, None).unwrap();
    assert_eq!(map.points.len(), 1);
    assert_eq!(map.points[0].rep.id, w.dan);
}

#[test]
fn a_page_larger_than_configured_or_empty_is_refused() {
    let Seeded { w, .. } = seeded();
    let server = w.server();
    let mut desk = Desk::new(&w, &server, w.hank, sh("2026-03-16 10:00"));
    desk.settings.map_point_limit = 2;
    for limit in [0, 3] {
        let refused = visit_map_points(&desk.ctx(&server), week(), limit, None);
        assert!(
            matches!(
                refused,
                Err(fieldsales_core::Error::InvalidInput { field: "limit", .. })
            ),
            "{limit} points: {refused:?}"
        );
    }
    assert_eq!(
        visit_map_points(&desk.ctx(&server), week(), 2, None)
            .unwrap()
            .points
            .len(),
        2
    );
}

#[test]
fn a_check_in_judged_after_the_first_look_then_deleted_moves_between_the_counts() {
    let Seeded { w, .. } = seeded();
    let mut server = w.server();
    let bobs = |store: &fieldsales_core::store::Store| {
        let desk = Desk::new(&w, store, w.mia, sh("2026-03-16 10:00"));
        let d = visits(
            &desk.ctx(store),
            &ask(DateRange::day(march(10)), GroupBy::Rep),
            Granularity::Day,
        )
        .unwrap();
        d.rows
            .into_iter()
            .find(|r| r.group.id == w.bob)
            .map(|r| r.figures)
    };
    let before = bobs(&server).expect("Bob checked in on the 10th");
    assert_eq!(
        (before.check_ins, before.unjudged, before.outside),
        (1, 1, 0)
    );
    assert_eq!((before.checked_out, before.total_duration_s), (1, 20 * 60));

    // The server judges Bob's check-in outside the fence, with a mock location, and he
    // checks out later than the phone first said.
    let visit: RecordId = server
        .test_connection()
        .query_row("SELECT id FROM visits WHERE owner_id = ?1", [w.bob], |r| {
            r.get(0)
        })
        .unwrap();
    server
        .update::<fieldsales_core::record::Visit>(visit, |v| {
            v.verdict = Some(fieldsales_core::fieldwork::CheckInVerdict {
                fence: FenceStatus::Outside,
                distance_m: Some(900.0),
                accuracy_m: 8.0,
                radius_m: 200.0,
                flags: vec![fieldsales_core::fieldwork::CheckFlag {
                    kind: FlagKind::MockLocation,
                    observed: None,
                    limit: None,
                }],
                judged_by: fieldsales_core::fieldwork::Judge::Server,
                judged_at: sh("2026-03-10 12:00"),
            });
            if let Some(out) = v.check_out.as_mut() {
                out.at = out.at.plus_secs(10 * 60);
            }
            Ok(())
        })
        .unwrap();
    let judged = bobs(&server).expect("still one check-in");
    assert_eq!(judged.check_ins, 1);
    assert_eq!((judged.unjudged, judged.outside, judged.flagged), (0, 1, 1));
    assert_eq!(judged.total_duration_s, 30 * 60);

    server.delete(visit, Some(w.bob), None).unwrap();
    assert_eq!(bobs(&server), None, "a deleted check-in counts nowhere");
    let desk = Desk::new(&w, &server, w.mia, sh("2026-03-16 10:00"));
    let map = visit_map_points(&desk.ctx(&server), DateRange::day(march(10)), 100, None).unwrap();
    assert!(map.points.iter().all(|p| p.visit_id != visit));
}

#[test]
fn a_store_from_before_the_day_sums_counts_its_existing_check_ins_after_the_upgrade() {
    let Seeded { w, .. } = seeded();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let expected = {
        let mut store = fieldsales_core::store::Store::open(&path).unwrap();
        store.create_batch(w.records.clone()).unwrap();
        let desk = Desk::new(&w, &store, w.hank, sh("2026-03-16 10:00"));
        let d = visits(
            &desk.ctx(&store),
            &ask(week(), GroupBy::Rep),
            Granularity::Day,
        )
        .unwrap();
        // Back to the schema before this migration, check-ins and all.
        store
            .test_connection()
            .execute_batch(
                "DROP TRIGGER visit_days_insert; DROP TRIGGER visit_days_delete;
                 DROP TRIGGER visit_days_update; DROP TABLE visit_days;
                 DROP INDEX visits_map; DROP INDEX stage_history_entered;
                 DROP INDEX visits_owner_time;
                 ALTER TABLE users DROP COLUMN started_on;
                 ALTER TABLE users DROP COLUMN left_on;
                 ALTER TABLE users DROP COLUMN leave;
                 DROP INDEX opportunities_false_progress;
                 ALTER TABLE opportunities DROP COLUMN false_progress_at;
                 ALTER TABLE opportunities DROP COLUMN false_progress_penalty_minor;
                 DROP TABLE customer_gram_counts;
                 ALTER TABLE roles DROP COLUMN hidden_fields;
                 DROP TABLE companions;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        d
    };
    assert_eq!(expected.total.check_ins, 7);
    let store = fieldsales_core::store::Store::open(&path).unwrap();
    let desk = Desk::new(&w, &store, w.hank, sh("2026-03-16 10:00"));
    let upgraded = visits(
        &desk.ctx(&store),
        &ask(week(), GroupBy::Rep),
        Granularity::Day,
    )
    .unwrap();
    assert_eq!(
        upgraded, expected,
        "the upgrade sums the check-ins already there"
    );
}
