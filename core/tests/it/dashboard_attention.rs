//! A team manager's attention list on Monday 16 March at 10:00.

use fieldsales_core::dashboard::attention::attention;
use fieldsales_core::process::ApprovalStep;
use fieldsales_core::record::lead::{LeadEvent, LeadEventKind, LeadStatus};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing;
use fieldsales_core::{RecordId, Timestamp};

use crate::dashboard_world::{Desk, World, cny, sh, week};

struct Seeded {
    w: World,
    stale_deal: RecordId,
    lapsed_lead: RecordId,
    closing_lead: RecordId,
    reclaimed_lead: RecordId,
    bobs_approval: RecordId,
}

fn lead(
    w: &mut World,
    owner: RecordId,
    name: &str,
    assigned: &str,
    follow_up: Option<&str>,
) -> RecordId {
    let mut l = testing::lead(owner, name);
    l.assigned_at = Some(sh(assigned));
    l.last_follow_up_at = follow_up.map(sh);
    w.put(l)
}

/// Alice's deal sits in `opportunity` (14 days) since 20 February; another entered on the
/// 10th. Alice's leads: one untouched since 1 March (due on the 15th), one followed up on
/// 4 March (due on the 18th), one fresh. Dan's lead is long lapsed (South). The pool took a
/// lead back from Bob on the 12th. Bob asks the sales manager to approve an order; Alice asks
/// the director only; Dan asks a sales manager of the South.
fn seeded() -> Seeded {
    let mut w = World::new();
    let (alice, bob, dan) = (w.alice, w.bob, w.dan);
    let stale_deal = w.deal(
        alice,
        "A-stale",
        120_000,
        &[("opportunity", "2026-02-20 09:00")],
        None,
    );
    w.deal(
        alice,
        "A-fresh",
        90_000,
        &[("opportunity", "2026-03-10 09:00")],
        None,
    );
    w.deal(
        dan,
        "D-stale",
        70_000,
        &[("opportunity", "2026-01-05 09:00")],
        None,
    );

    let lapsed_lead = lead(&mut w, alice, "甲公司", "2026-03-01 09:00", None);
    let closing_lead = lead(
        &mut w,
        alice,
        "乙公司",
        "2026-03-03 09:00",
        Some("2026-03-04 09:00"),
    );
    lead(&mut w, alice, "丙公司", "2026-03-10 09:00", None);
    lead(&mut w, dan, "丁公司", "2026-02-01 09:00", None);

    let mut pooled = testing::lead(bob, "戊公司");
    pooled.header.owner_id = None;
    pooled.header.org_unit_id = Some(w.team_a1);
    pooled.status = LeadStatus::Pooled;
    pooled.events.push(LeadEvent {
        kind: LeadEventKind::Reclaimed,
        rep_id: Some(bob),
        by: None,
        at: sh("2026-03-12 02:00"),
    });
    let reclaimed_lead = w.put(pooled);

    let order = RecordId::new();
    let bobs_approval = w.put(testing::approval(bob, order, cny(57_000)));
    let mut for_director = testing::approval(alice, order, cny(150_000));
    for_director.chain.steps = vec![ApprovalStep::single("regional_director")];
    w.put(for_director);
    w.put(testing::approval(dan, order, cny(60_000)));
    Seeded {
        w,
        stale_deal,
        lapsed_lead,
        closing_lead,
        reclaimed_lead,
        bobs_approval,
    }
}

#[test]
fn a_team_manager_sees_what_needs_attention_in_his_team() {
    let s = seeded();
    let server = s.w.server();
    let now = sh("2026-03-16 10:00");
    let desk = Desk::new(&s.w, &server, s.w.mia, now);
    let list = attention(&desk.ctx(&server), week()).unwrap();

    assert_eq!(
        list.overdue_opportunities_total, 1,
        "Dan's deal is not his team's"
    );
    let deal = &list.overdue_opportunities[0];
    assert_eq!(deal.opportunity_id, s.stale_deal);
    assert_eq!(deal.owner.name, "Alice");
    assert_eq!(deal.due_at, sh("2026-03-06 09:00"));
    assert_eq!(deal.overdue_ms, (10 * 24 + 1) * 3_600_000);
    assert_eq!(deal.amount, cny(120_000));

    let leads: Vec<(RecordId, Timestamp, bool)> = list
        .leads_due_for_reclaim
        .iter()
        .map(|l| (l.lead_id, l.due_at, l.due_now))
        .collect();
    assert_eq!(
        leads,
        [
            (s.lapsed_lead, sh("2026-03-15 09:00"), true),
            (s.closing_lead, sh("2026-03-18 09:00"), false),
        ]
    );
    assert_eq!(list.leads_due_for_reclaim_total, 2);

    assert_eq!(list.reclaimed_leads.len(), 1);
    assert_eq!(list.reclaimed_leads[0].lead_id, s.reclaimed_lead);
    assert_eq!(list.reclaimed_leads[0].from.name, "Bob");
    assert_eq!(list.reclaimed_leads[0].status, "pooled");

    let approvals: Vec<RecordId> = list
        .approvals_waiting
        .iter()
        .map(|a| a.approval_id)
        .collect();
    assert_eq!(
        approvals,
        [s.bobs_approval],
        "not the director's, not the South's"
    );
    assert_eq!(list.approvals_waiting[0].amount, Some(cny(57_000)));
    assert!(list.rejected_changes.is_empty());
}

#[test]
fn the_warning_window_and_the_lists_limit_follow_the_settings() {
    let s = seeded();
    let server = s.w.server();
    let mut desk = Desk::new(&s.w, &server, s.w.mia, sh("2026-03-16 10:00"));
    desk.settings.reclaim_warning_days = 0;
    let list = attention(&desk.ctx(&server), week()).unwrap();
    assert_eq!(
        list.leads_due_for_reclaim_total, 1,
        "only the lead already due"
    );

    desk.settings.reclaim_warning_days = 10;
    desk.settings.attention_limit = 1;
    let list = attention(&desk.ctx(&server), week()).unwrap();
    assert_eq!(list.leads_due_for_reclaim_total, 3);
    assert_eq!(
        list.leads_due_for_reclaim.len(),
        1,
        "cut at the limit, oldest first"
    );
    assert_eq!(list.leads_due_for_reclaim[0].lead_id, s.lapsed_lead);
}

#[test]
fn a_lead_reclaimed_before_the_range_is_not_listed() {
    let s = seeded();
    let server = s.w.server();
    let desk = Desk::new(&s.w, &server, s.w.mia, sh("2026-03-16 10:00"));
    let range = fieldsales_core::dashboard::DateRange::new(
        crate::dashboard_world::march(13),
        crate::dashboard_world::march(15),
    )
    .unwrap();
    let list = attention(&desk.ctx(&server), range).unwrap();
    assert_eq!(list.reclaimed_leads_total, 0);
}

#[test]
fn the_viewers_refused_edits_wait_for_him_until_resolved() {
    let s = seeded();
    let server = s.w.server();
    let record = RecordId::new();
    server
        .test_connection()
        .execute(
            "INSERT INTO rejected_changes (record_id, kind, reason_code, detail, rejected_at,
                 changes, resolved_at)
             VALUES (?1, 'opportunity', 'stage.skip', 'no skipping stages', ?2, x'00', NULL),
                    (?1, 'opportunity', 'stage.skip', 'resolved already', ?2, x'00', ?2)",
            rusqlite::params![record, sh("2026-03-15 12:00")],
        )
        .unwrap();
    let desk = Desk::new(&s.w, &server, s.w.mia, sh("2026-03-16 10:00"));
    let list = attention(&desk.ctx(&server), week()).unwrap();
    assert_eq!(list.rejected_changes.len(), 1);
    assert_eq!(list.rejected_changes[0].record_id, record);
    assert_eq!(list.rejected_changes[0].reason_code, "stage.skip");
}
