//! Leads and the public pool: the server takes back a lead idle for the configured days (two
//! weeks by default), a follow-up restarts the clock, claims respect the cap and the waiting
//! period, automatic assignment goes to the rep with the fewest open leads.

use fieldsales_core::engine::{Engine, LeadConversionRequest, NewLead};
use fieldsales_core::jobs::reclaim_leads;
use fieldsales_core::process::{ClaimRefused, LeadRules, SalesProcess};
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::lead::{LeadEventKind, LeadStatus};
use fieldsales_core::record::{Header, Lead, ProcessConfig};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Error, RecordId, testing};

use crate::sales_world::{Server, Who, World, sync};

fn new_lead(company: &str) -> NewLead {
    NewLead {
        company_name: company.into(),
        contact_name: Some("周先生".into()),
        phone: Some("13900000000".into()),
        source: Some("website".into()),
        ..NewLead::default()
    }
}

/// Runs the server's reclaim job over the server's copy and writes what it changed.
fn run_reclaim(world: &World, server: &mut Server) -> Vec<RecordId> {
    let leads: Vec<Lead> = server
        .store
        .list(&fieldsales_core::store::ListFilter {
            kind: Some(fieldsales_core::record::Kind::Lead),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| server.store.get(r.id).unwrap())
        .collect();
    let reclaimed = reclaim_leads(&leads, &LeadRules::default(), world.now(), None);
    for r in &reclaimed {
        let lead = r.lead.clone();
        server
            .store
            .update::<Lead>(lead.header.id, move |l| {
                *l = lead;
                Ok(())
            })
            .unwrap();
    }
    reclaimed.iter().map(|r| r.lead.header.id).collect()
}

fn li_with_lead(world: &World) -> (Engine, Server, RecordId) {
    let mut li = world.phone(Who::RepLi);
    let lead = li.create_lead(new_lead("杭州某物流公司"), None).unwrap();
    let mut server = Server::new(world);
    crate::send(li.store(), &mut server.store, lead.header.id);
    (li, server, lead.header.id)
}

#[test]
fn a_lead_idle_for_13_days_23_hours_stays_with_its_rep() {
    let world = World::new();
    let (_li, mut server, _id) = li_with_lead(&world);
    world.advance_hours(13 * 24 + 23);
    assert!(run_reclaim(&world, &mut server).is_empty());
}

#[test]
fn a_lead_idle_for_14_days_goes_back_to_the_pool_and_the_phone_shows_it() {
    let world = World::new();
    let (mut li, mut server, id) = li_with_lead(&world);
    world.advance_hours(14 * 24);
    assert_eq!(run_reclaim(&world, &mut server), vec![id]);

    crate::send(&server.store, li.store_mut(), id);
    let on_phone: Lead = li.store().get(id).unwrap();
    assert_eq!(on_phone.status, LeadStatus::Pooled);
    assert_eq!(on_phone.header.owner_id, None);
    assert_eq!(
        on_phone.events.last().unwrap().kind,
        LeadEventKind::Reclaimed
    );
    assert_eq!(
        li.open_leads_of(world.id(Who::RepLi), RecordId::new())
            .unwrap(),
        0
    );
}

#[test]
fn a_follow_up_restarts_the_reclaim_clock() {
    let world = World::new();
    let (mut li, mut server, id) = li_with_lead(&world);
    world.advance_hours(10 * 24);
    li.follow_up_lead(id, FollowUpMethod::Call, "电话沟通需求")
        .unwrap();
    crate::send(li.store(), &mut server.store, id);
    world.advance_hours(4 * 24);
    assert!(
        run_reclaim(&world, &mut server).is_empty(),
        "14 days after assignment, 4 after the follow-up"
    );
    world.advance_hours(10 * 24);
    assert_eq!(run_reclaim(&world, &mut server), vec![id]);
}

#[test]
fn a_rep_may_not_claim_back_at_once_a_lead_they_returned() {
    let world = World::new();
    let (mut li, _server, id) = li_with_lead(&world);
    li.return_lead(id).unwrap();
    let refused = li.claim_lead(id).unwrap_err();
    assert!(matches!(
        refused,
        Error::Claim(ClaimRefused::WaitingPeriod { .. })
    ));
    let mut zhao = world.phone(Who::RepZhao);
    sync(&li, &mut zhao, id);
    let claimed = zhao.claim_lead(id).unwrap();
    assert_eq!(claimed.header.owner_id, Some(world.id(Who::RepZhao)));
}

#[test]
fn claiming_stops_at_the_configured_cap_of_open_leads() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let mut process = SalesProcess::standard();
    process.leads.max_open_leads_per_rep = 2;
    let mut header = Header::unowned(None, world.now());
    header.id = ProcessConfig::id_for("tenant");
    li.store_mut()
        .create(ProcessConfig {
            header,
            revision: 1,
            process,
        })
        .unwrap();
    li.create_lead(new_lead("甲公司"), None).unwrap();
    li.create_lead(new_lead("乙公司"), None).unwrap();
    let pooled = li
        .create_lead(new_lead("丙公司"), Some(world.team.header.id))
        .unwrap();
    let refused = li.claim_lead(pooled.header.id).unwrap_err();
    assert!(matches!(
        refused,
        Error::Claim(ClaimRefused::LimitReached { limit: 2, open: 2 })
    ));
}

#[test]
fn automatic_assignment_goes_to_the_rep_with_the_fewest_open_leads() {
    let world = World::new();
    let mut wang = world.phone(Who::ManagerWang);
    let li_lead = testing::lead(world.id(Who::RepLi), "已有线索公司");
    wang.store_mut().create(li_lead).unwrap();
    let pooled = wang
        .create_lead(new_lead("新线索公司"), Some(world.team.header.id))
        .unwrap();
    let assigned = wang
        .auto_assign_lead(pooled.header.id, world.team.header.id)
        .unwrap();
    assert_eq!(assigned.header.owner_id, Some(world.id(Who::RepZhao)));
    assert_eq!(assigned.status, LeadStatus::Assigned);
}

#[test]
fn a_rep_cannot_assign_leads() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let pooled = li
        .create_lead(new_lead("新线索公司"), Some(world.team.header.id))
        .unwrap();
    assert!(matches!(
        li.assign_lead(pooled.header.id, world.id(Who::RepZhao)),
        Err(Error::NotAllowed(_))
    ));
}

#[test]
fn a_converted_lead_becomes_customer_contact_and_opportunity() {
    let world = World::new();
    let (mut li, _server, id) = li_with_lead(&world);
    let done = li
        .convert_lead(
            id,
            LeadConversionRequest {
                legal_name: "杭州某物流有限公司".into(),
                opportunity_name: "仓储管理系统".into(),
                amount: testing::yuan(300_000),
            },
        )
        .unwrap();
    assert_eq!(done.lead.status, LeadStatus::Converted);
    assert_eq!(done.contact.as_ref().unwrap().name, "周先生");
    assert_eq!(done.opportunity.stage, "opportunity");
    assert_eq!(done.opportunity.customer_id, done.customer.header.id);
    let conversion = done.lead.conversion.unwrap();
    assert_eq!(conversion.opportunity_id, Some(done.opportunity.header.id));
    assert!(
        li.claim_lead(id).is_err(),
        "a converted lead is out of the pool's game"
    );
}
