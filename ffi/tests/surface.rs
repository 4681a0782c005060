//! The engine's uniffi surface, called from Rust the way the apps call it: every exported
//! function at least once, and every error variant an app can meet from it, as field
//! scenarios of a rep and a manager on their phones (offline, and through a real server on
//! loopback). `every_exported_function_is_called_in_this_file` reads the exports from the
//! library's sources, so a new export without a call here fails the build's tests.
//!
//! Error variants reached by real calls here: `NotFound`, `Duplicate`, `RuleViolated`,
//! `NotAllowed`, `Offline`, `AuthExpired`, `BadCredentials`, `NotSignedIn`, `Cancelled`,
//! `Storage`, `InvalidInput`; `Revoked` in `field_sync.rs` (an admin revokes the device).
//! `ServerRefused` and `Internal` need a misbehaving server or a failing OS; their mapping
//! is covered by the unit tests of `error.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fieldsales_core::record::DataScope;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{RecordId, testing};
use fieldsales_ffi::{
    ConfirmOutcome, ContactDraft, CustomerDraft, CustomerFilter, DeliveryStatus, Engine,
    FieldValue, FieldsalesError, LeadConversion, LocalTimeEvent, LocalTimeListener, Money, NewLead,
    NewOpportunity, NewOrder, NewOrderLine, NewTarget, Operation, OpportunityFilter, OrderStatus,
    OwnershipRule, PageRequest, PeriodKind, PlanOutcome, PlannedVisit, ReportEdit, SignInRequest,
    SignedInUser, StageMove, SyncActivity, SyncCancel, SyncStatus, SyncStatusListener,
    TargetMetric, TargetSubject, TaskDraft, TaskFilter, VisitFilter, apply_rate,
    default_sync_options, default_sync_schedule, encrypt_store, format_money, generate_store_key,
    library_version, local_date_of, local_time_on, new_record_id, next_local_time_events,
    open_engine, parse_record_id, resume_engine, sign_in, start_of_local_day, validate_coordinates,
    validate_zone, watch_local_times,
};
use fieldsales_tests::{PASSWORD, TENANT, World};

mod common;

/// A local day, as the apps' date pickers give it.
fn day(text: &str) -> fieldsales_core::LocalDate {
    text.parse().expect("a calendar day")
}
use common::{Recorder, customer_at_site, fix, quick_sync};

/// A rep or a manager of one team, each with their own store file.
struct Team {
    dir: tempfile::TempDir,
    unit: RecordId,
}

impl Team {
    fn new() -> Team {
        Team {
            dir: tempfile::tempdir().expect("temp dir"),
            unit: RecordId::new(),
        }
    }

    fn user(&self, roles: &[&str], scope: DataScope) -> SignedInUser {
        SignedInUser {
            user_id: RecordId::new().to_string(),
            unit_id: self.unit.to_string(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            scope: scope.into(),
            zone: "Asia/Shanghai".into(),
            hidden_fields: Vec::new(),
        }
    }

    fn path(&self, who: &SignedInUser) -> String {
        self.dir
            .path()
            .join(format!("{}.sqlite", who.user_id))
            .to_string_lossy()
            .into_owned()
    }

    async fn phone(&self, who: &SignedInUser) -> Arc<Engine> {
        open_engine(self.path(who), who.clone(), None)
            .await
            .expect("the store opens")
    }
}

fn yuan(units: i64) -> Money {
    Money {
        minor: units * 100,
        currency: "CNY".into(),
    }
}

#[tokio::test]
async fn a_rep_creates_a_customer_offline_and_the_second_try_names_the_existing_one() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let phone = team.phone(&rep).await;
    assert_eq!(phone.clone().me().await.unwrap(), rep);

    let check = phone
        .clone()
        .check_customer_duplicates(customer_at_site("上海明远贸易有限公司", &["展会"]))
        .await
        .unwrap();
    assert!(check.exact.is_none() && check.near.is_empty());

    let created = phone
        .clone()
        .create_customer(customer_at_site("上海明远贸易有限公司", &["展会"]))
        .await
        .unwrap();
    assert_eq!(
        created.customer.owner_id.as_deref(),
        Some(rep.user_id.as_str())
    );
    assert_eq!(created.customer.tags, vec!["展会".to_string()]);
    assert_eq!(phone.clone().pending_count().await.unwrap(), 1);

    // The same company typed in full-width with spaces is the same company.
    let again = phone
        .clone()
        .create_customer(customer_at_site(" 上海明远贸易有限公司 ", &["展会"]))
        .await
        .unwrap_err();
    match again {
        FieldsalesError::Duplicate { existing_id, score } => {
            assert_eq!(existing_id, created.customer.id);
            assert!(score >= 0.99, "{score}");
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    let check = phone
        .clone()
        .check_customer_duplicates(customer_at_site("上海明远贸易有限公司", &["展会"]))
        .await
        .unwrap();
    assert_eq!(check.exact.map(|h| h.id), Some(created.customer.id.clone()));

    let id = created.customer.id.clone();
    let got = phone.clone().get_customer(id.clone()).await.unwrap();
    assert_eq!(got, created.customer);

    let mut edited = customer_at_site("上海明远贸易有限公司", &["展会"]);
    edited.tier = Some("B".into());
    edited.short_name = Some("明远".into());
    let updated = phone
        .clone()
        .update_customer(id.clone(), edited)
        .await
        .unwrap();
    assert_eq!(updated.tier.as_deref(), Some("B"));
    assert_eq!(
        phone.clone().customers().await.unwrap(),
        vec![updated.clone()]
    );

    let hits = phone
        .clone()
        .search(
            "明远贸易".into(),
            vec![fieldsales_ffi::RecordKind::Customer],
            10,
        )
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id.as_str(), hits[0].kind),
        (id.as_str(), fieldsales_ffi::RecordKind::Customer)
    );

    let colleague = RecordId::new().to_string();
    let shared = phone
        .clone()
        .share_customer(id.clone(), colleague.clone())
        .await
        .unwrap();
    assert_eq!(shared.shared_with, vec![colleague.clone()]);
    let unshared = phone
        .clone()
        .unshare_customer(id.clone(), colleague)
        .await
        .unwrap();
    assert!(unshared.shared_with.is_empty());

    let contact = phone
        .clone()
        .create_contact(
            id.clone(),
            ContactDraft {
                name: "王建国".into(),
                title: Some("采购经理".into()),
                phone: Some("+86 138 0013 8000".into()),
                email: None,
                decision_role: fieldsales_ffi::DecisionRole::DecisionMaker,
            },
        )
        .await
        .unwrap();
    let renamed = phone
        .clone()
        .update_contact(
            contact.id.clone(),
            ContactDraft {
                name: "王建国".into(),
                title: Some("采购总监".into()),
                phone: contact.phone.clone(),
                email: Some("wang@mingyuan.example".into()),
                decision_role: fieldsales_ffi::DecisionRole::DecisionMaker,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.title.as_deref(), Some("采购总监"));
    assert_eq!(phone.clone().contacts_of(id).await.unwrap(), vec![renamed]);
}

#[tokio::test]
async fn a_listener_hears_which_records_a_write_changed_until_it_is_cancelled() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let phone = team.phone(&rep).await;
    let recorder = Arc::new(Recorder::default());
    let subscription = phone.observe_changes(recorder.clone());

    let lead = phone
        .clone()
        .create_lead(
            NewLead {
                company_name: "杭州云栖科技有限公司".into(),
                contact_name: Some("李娜".into()),
                phone: Some("0571-8888 6666".into()),
                email: None,
                source: Some("官网".into()),
            },
            None,
        )
        .await
        .unwrap();
    let converted = phone
        .clone()
        .convert_lead(
            lead.id.clone(),
            LeadConversion {
                legal_name: String::new(),
                opportunity_name: "云平台采购".into(),
                amount: yuan(120_000),
            },
        )
        .await
        .unwrap();
    let events = recorder.take();
    assert_eq!(events.len(), 2, "one event per write: {events:?}");
    assert_eq!(events[0].kinds, vec![fieldsales_ffi::RecordKind::Lead]);
    assert_eq!(
        events[1].kinds,
        [
            fieldsales_ffi::RecordKind::Contact,
            fieldsales_ffi::RecordKind::Customer,
            fieldsales_ffi::RecordKind::Lead,
            fieldsales_ffi::RecordKind::Opportunity
        ]
    );
    let ids: Vec<&str> = events[1].records.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&converted.customer.id.as_str()));
    assert!(ids.contains(&converted.opportunity.id.as_str()));

    // A refused write changes nothing and says nothing.
    assert!(
        phone
            .clone()
            .create_customer(customer_at_site("杭州云栖科技有限公司", &["展会"]))
            .await
            .is_err()
    );
    assert!(recorder.take().is_empty());

    subscription.cancel();
    phone
        .clone()
        .create_customer(customer_at_site("北京华信咨询有限公司", &["展会"]))
        .await
        .unwrap();
    assert!(recorder.take().is_empty(), "cancelled");
}

#[tokio::test]
async fn a_rep_works_a_lead_from_the_pool_to_a_deal_and_moves_it_by_the_rules() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let phone = team.phone(&rep).await;

    let pooled = phone
        .clone()
        .create_lead(
            NewLead {
                company_name: "苏州工业园区恒通机电".into(),
                contact_name: None,
                phone: None,
                email: None,
                source: Some("展会".into()),
            },
            Some(rep.unit_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(pooled.status, fieldsales_ffi::LeadStatus::Pooled);
    assert_eq!(
        phone.clone().lead_pool().await.unwrap(),
        vec![pooled.clone()]
    );

    let claimed = phone.clone().claim_lead(pooled.id.clone()).await.unwrap();
    assert_eq!(claimed.owner_id.as_deref(), Some(rep.user_id.as_str()));
    let follow_up = phone
        .clone()
        .follow_up_lead(
            pooled.id.clone(),
            fieldsales_ffi::FollowUpMethod::Call,
            "约了周四上门".into(),
        )
        .await
        .unwrap();
    assert_eq!(
        (follow_up.subject_kind, follow_up.method),
        (
            fieldsales_ffi::RecordKind::Lead,
            fieldsales_ffi::FollowUpMethod::Call
        )
    );
    assert_eq!(
        phone.clone().my_leads().await.unwrap()[0].status,
        fieldsales_ffi::LeadStatus::Following
    );

    let returned = phone.clone().return_lead(pooled.id.clone()).await.unwrap();
    assert_eq!(returned.status, fieldsales_ffi::LeadStatus::Pooled);
    // The waiting period after a release keeps the rep from claiming it straight back.
    match phone
        .clone()
        .claim_lead(pooled.id.clone())
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "lead.waiting_period"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }

    let customer = phone
        .clone()
        .create_customer(customer_at_site("苏州恒通机电有限公司", &["展会"]))
        .await
        .unwrap()
        .customer;
    let deal = phone
        .clone()
        .create_opportunity(NewOpportunity {
            customer_id: customer.id.clone(),
            name: "产线改造".into(),
            amount: yuan(800_000),
            expected_close: Some(day("2026-09-30")),
            fields: HashMap::new(),
        })
        .await
        .unwrap();
    assert_eq!(deal.stage, "opportunity");
    assert_eq!(deal.expected_close, Some(day("2026-09-30")));
    // The big lists, a page at a time, with their filters.
    let deals = phone
        .clone()
        .opportunity_page(
            OpportunityFilter {
                stage: Some("opportunity".into()),
                ..OpportunityFilter::default()
            },
            PageRequest {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(deals.items, vec![deal.clone()]);
    assert_eq!(deals.next_offset, None);
    let none = phone
        .clone()
        .opportunity_page(
            OpportunityFilter {
                stage: Some("won".into()),
                ..OpportunityFilter::default()
            },
            PageRequest {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let page = phone
            .clone()
            .customer_page(
                CustomerFilter::default(),
                PageRequest {
                    offset: at,
                    limit: 1,
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|c| c.id));
        offset = page.next_offset;
    }
    // A full page says there may be more: the second read finds the end.
    assert_eq!(seen, vec![customer.id.clone()]);
    let too_big = phone
        .clone()
        .customer_page(
            CustomerFilter::default(),
            PageRequest {
                offset: 0,
                limit: 501,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&too_big, FieldsalesError::InvalidInput { field, .. } if field == "page.limit"),
        "{too_big:?}"
    );

    // Initiation needs its budget, bid date and decision chain first.
    match phone
        .clone()
        .move_opportunity(deal.id.clone(), "initiation".into(), None)
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, detail } => {
            assert_eq!(rule, "stage.required_fields");
            assert!(detail.contains("预算"), "{detail}");
        }
        other => panic!("expected RuleViolated, got {other:?}"),
    }

    let list = |v: &[&str]| FieldValue::Names {
        value: v.iter().map(|s| s.to_string()).collect(),
    };
    let fields = HashMap::from([
        (
            "budget".to_string(),
            FieldValue::Amount {
                value: yuan(1_000_000),
            },
        ),
        (
            "expected_amount".to_string(),
            FieldValue::Amount {
                value: yuan(800_000),
            },
        ),
        (
            "latest_bid_date".to_string(),
            FieldValue::Date {
                value: day("2026-07-01"),
            },
        ),
        ("design_unit".to_string(), list(&["华东设计院"])),
        ("decision_unit".to_string(), list(&["恒通机电"])),
        ("user_unit".to_string(), list(&["二号车间"])),
        (
            "decision_chain_visits".to_string(),
            list(&["厂长", "设备科"]),
        ),
    ]);
    let filled = phone
        .clone()
        .set_opportunity_fields(deal.id.clone(), fields)
        .await
        .unwrap();
    assert_eq!(filled.fields.len(), 7);
    let moved = phone
        .clone()
        .move_opportunity(deal.id.clone(), "initiation".into(), None)
        .await
        .unwrap();
    let StageMove::Moved { opportunity } = moved else {
        panic!("the standard process asks no approval to enter initiation: {moved:?}");
    };
    assert_eq!(opportunity.stage, "initiation");
    assert_eq!(
        phone
            .clone()
            .get_opportunity(deal.id.clone())
            .await
            .unwrap(),
        opportunity
    );
    assert_eq!(
        phone.clone().opportunities_of(customer.id).await.unwrap(),
        vec![opportunity]
    );
}

#[tokio::test]
async fn a_manager_decides_an_approval_and_a_rep_withdraws_their_own() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let manager = team.user(&["sales_manager"], DataScope::Subtree);
    let rep_id: RecordId = rep.user_id.parse().unwrap();
    let order = RecordId::new();
    // What sync would have brought: the rep's request, attributed to the rep's team (as the
    // server attributes it), on both phones.
    let mut request = testing::approval(rep_id, order, testing::yuan(80_000));
    request.header.org_unit_id = Some(team.unit);
    for who in [&rep, &manager] {
        let mut store = Store::open(team.path(who)).unwrap();
        store.create(request.clone()).unwrap();
    }

    let boss = team.phone(&manager).await;
    let waiting = boss.clone().approvals_waiting_for_me().await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].waiting_for, vec!["sales_manager".to_string()]);
    let decided = boss
        .clone()
        .decide_approval(waiting[0].id.clone(), true, Some("同意".into()))
        .await
        .unwrap();
    assert_eq!(decided.status, fieldsales_ffi::ApprovalStatus::Approved);
    assert_eq!(
        decided.decisions[0].verdict,
        fieldsales_ffi::ApprovalVerdict::Approve
    );
    match boss
        .clone()
        .decide_approval(waiting[0].id.clone(), false, None)
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "approval.already_decided"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }

    let phone = team.phone(&rep).await;
    assert!(
        phone
            .clone()
            .approvals_waiting_for_me()
            .await
            .unwrap()
            .is_empty()
    );
    let withdrawn = phone
        .clone()
        .withdraw_approval(request.header.id.to_string())
        .await
        .unwrap();
    assert_eq!(withdrawn.status, fieldsales_ffi::ApprovalStatus::Withdrawn);
}

#[tokio::test]
async fn every_error_an_app_meets_from_the_engine_is_one_it_can_act_on() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let phone = team.phone(&rep).await;

    // NotFound: a customer that is not on this phone.
    let missing = RecordId::new().to_string();
    assert_eq!(
        phone
            .clone()
            .get_customer(missing.clone())
            .await
            .unwrap_err(),
        FieldsalesError::NotFound {
            kind: "customer".into(),
            id: missing.clone()
        }
    );

    // InvalidInput: a broken ID, a record field, an unknown code.
    let bad_id = phone
        .clone()
        .get_customer("not-an-id".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_id, FieldsalesError::InvalidInput { field, .. } if field == "customer_id"),
        "{bad_id:?}"
    );
    let blank = phone
        .clone()
        .create_customer(customer_at_site("  ", &["展会"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&blank, FieldsalesError::InvalidInput { field, .. } if field == "customer.legal_name"),
        "{blank:?}"
    );
    let customer = phone
        .clone()
        .create_customer(customer_at_site("广州天河电子有限公司", &["展会"]))
        .await
        .unwrap()
        .customer;
    let bad_role = phone
        .clone()
        .create_contact(
            customer.id.clone(),
            ContactDraft {
                name: "陈".into(),
                title: None,
                phone: None,
                email: None,
                decision_role: fieldsales_ffi::DecisionRole::Other,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_role, FieldsalesError::InvalidInput { field, .. } if field == "contact.decision_role"),
        "{bad_role:?}"
    );
    let bad_kind = phone
        .clone()
        .search("天河".into(), vec![fieldsales_ffi::RecordKind::Other], 5)
        .await;
    assert!(matches!(
        bad_kind,
        Err(FieldsalesError::InvalidInput { .. })
    ));

    // Duplicate and RuleViolated are shown above; NotAllowed: a rep assigning a lead.
    let lead = phone
        .clone()
        .create_lead(
            NewLead {
                company_name: "深圳前海物流".into(),
                contact_name: None,
                phone: None,
                email: None,
                source: None,
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        phone
            .clone()
            .assign_lead(lead.id, RecordId::new().to_string())
            .await,
        Err(FieldsalesError::NotAllowed { .. })
    ));

    // Storage: the store path is a folder.
    let folder = team.dir.path().to_string_lossy().into_owned();
    assert!(matches!(
        open_engine(folder, rep.clone(), None).await,
        Err(FieldsalesError::Storage { .. })
    ));
    // A user with a scope this version does not know is refused before anything is opened.
    let mut odd = rep.clone();
    odd.scope = fieldsales_ffi::DataScope::Other;
    assert!(matches!(
        open_engine(team.path(&odd), odd, None).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "user.scope"
    ));
}

/// An encrypted store through the surface: the key from `generate_store_key`, a bad key
/// refused as input, a wrong one as `WrongKey`, a new key replacing the old one.
#[tokio::test]
async fn an_encrypted_store_opens_with_its_key_and_takes_a_new_one() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let key = generate_store_key().unwrap();
    assert_ne!(key, generate_store_key().unwrap());
    assert!(matches!(
        open_engine(team.path(&rep), rep.clone(), Some(vec![1; 31])).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "key"
    ));
    let created = {
        let phone = open_engine(team.path(&rep), rep.clone(), Some(key.clone()))
            .await
            .unwrap();
        assert!(phone.clone().is_encrypted().await.unwrap());
        let created = phone
            .clone()
            .create_customer(customer_at_site("成都锦江酒店管理有限公司", &["展会"]))
            .await
            .unwrap()
            .customer;
        phone.clone().change_store_key(key.clone()).await.unwrap();
        let new_key = generate_store_key().unwrap();
        phone
            .clone()
            .change_store_key(new_key.clone())
            .await
            .unwrap();
        (created, new_key)
    };
    let (created, new_key) = created;
    assert!(matches!(
        resume_engine(team.path(&rep), Some(key)).await,
        Err(FieldsalesError::WrongKey)
    ));
    let phone = resume_engine(team.path(&rep), Some(new_key))
        .await
        .unwrap()
        .expect("a user");
    assert_eq!(
        phone
            .clone()
            .get_customer(created.id.clone())
            .await
            .unwrap()
            .legal_name,
        created.legal_name
    );
    // A plain store has no key to change; encrypted in place, it opens with its new key only.
    let plain = team.user(&["sales_rep"], DataScope::Own);
    let phone = team.phone(&plain).await;
    assert!(!phone.clone().is_encrypted().await.unwrap());
    let kept = phone
        .clone()
        .create_customer(customer_at_site("重庆山城物流有限公司", &["展会"]))
        .await
        .unwrap()
        .customer;
    assert!(matches!(
        phone.change_store_key(generate_store_key().unwrap()).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "key"
    ));
    let key = generate_store_key().unwrap();
    encrypt_store(team.path(&plain), key.clone()).await.unwrap();
    assert_eq!(
        encrypt_store(team.path(&plain), key.clone()).await,
        Err(FieldsalesError::WrongKey),
        "already encrypted"
    );
    assert!(matches!(
        resume_engine(team.path(&plain), None).await,
        Err(FieldsalesError::WrongKey)
    ));
    let phone = resume_engine(team.path(&plain), Some(key))
        .await
        .unwrap()
        .expect("a user");
    assert!(phone.clone().is_encrypted().await.unwrap());
    assert_eq!(
        phone.get_customer(kept.id).await.unwrap().legal_name,
        kept.legal_name
    );
}

#[tokio::test]
async fn an_app_restarted_offline_finds_the_user_it_had() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let fresh = team.dir.path().join("nobody.sqlite");
    assert!(
        resume_engine(fresh.to_string_lossy().into_owned(), None)
            .await
            .unwrap()
            .is_none()
    );
    let created = {
        let phone = team.phone(&rep).await;
        phone
            .clone()
            .create_customer(customer_at_site("成都锦江酒店管理有限公司", &["展会"]))
            .await
            .unwrap()
            .customer
    };
    let phone = resume_engine(team.path(&rep), None)
        .await
        .unwrap()
        .expect("a user");
    assert_eq!(phone.clone().me().await.unwrap(), rep);
    assert_eq!(
        phone
            .clone()
            .get_customer(created.id.clone())
            .await
            .unwrap(),
        created
    );
}

#[tokio::test]
async fn a_manager_reads_the_team_funnel_from_what_is_on_the_phone() {
    let team = Team::new();
    let manager = team.user(&["sales_manager"], DataScope::Subtree);
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let rep_id: RecordId = rep.user_id.parse().unwrap();
    let unit: RecordId = rep.unit_id.parse().unwrap();
    // What sync would have brought: the team, the rep's profile, a customer and a deal.
    let deal_id;
    {
        let mut store = Store::open(team.path(&manager)).unwrap();
        use fieldsales_core::record::OrgLevel;
        let hq = store
            .create(testing::org_unit("总部", OrgLevel::Hq, None))
            .unwrap();
        let mut team_unit = testing::org_unit("华东一组", OrgLevel::Team, Some(hq.header.id));
        team_unit.header.id = unit;
        store.create(team_unit).unwrap();
        let mut profile = testing::user("张伟", unit, "sales_rep");
        profile.header.id = rep_id;
        store.create(profile).unwrap();
        let mut customer = testing::customer(rep_id, "南京紫金电子有限公司");
        customer.header.org_unit_id = Some(unit);
        let customer = store.create(customer).unwrap();
        let mut deal = testing::opportunity(
            rep_id,
            customer.header.id,
            "门禁系统",
            testing::yuan(300_000),
        );
        deal.header.org_unit_id = Some(unit);
        store.create(deal.clone()).unwrap();
        deal_id = deal.header.id.to_string();
        let mut target = testing::target(rep_id, testing::yuan(500_000));
        target.header.org_unit_id = Some(unit);
        store.create(target).unwrap();
    }
    let boss = team.phone(&manager).await;
    let funnel = boss
        .clone()
        .funnel_dashboard(
            day("2026-01-01"),
            day("2026-12-31"),
            fieldsales_ffi::GroupBy::Rep,
        )
        .await
        .unwrap();
    assert_eq!(funnel.data_as_of, None, "never synced");
    assert_eq!(funnel.total.pipeline, yuan(300_000));
    assert_eq!(funnel.rows.len(), 1);
    assert_eq!(funnel.rows[0].group_name, "张伟");
    assert!(matches!(
        boss.clone()
            .funnel_dashboard(
                day("2026-12-31"),
                day("2026-01-01"),
                fieldsales_ffi::GroupBy::Team
            )
            .await,
        Err(FieldsalesError::InvalidInput { .. })
    ));

    // The quarter's target of the rep, set by the manager before: nothing won yet.
    let board = boss
        .clone()
        .target_dashboard(
            day("2026-01-01"),
            day("2026-03-31"),
            fieldsales_ffi::GroupBy::Rep,
        )
        .await
        .unwrap();
    assert_eq!(board.leaderboard.len(), 1, "{board:?}");
    let row = &board.leaderboard[0];
    assert_eq!(
        (row.rank, row.subject_name.as_str(), row.period),
        (1, "张伟", fieldsales_ffi::PeriodKind::Quarter)
    );
    assert_eq!(row.target, yuan(500_000));
    assert_eq!(row.achieved, yuan(0));
    assert_eq!(row.attainment_bp, Some(0));

    let attention = boss
        .clone()
        .attention_dashboard(day("2026-01-01"), day("2026-12-31"))
        .await
        .unwrap();
    assert_eq!(attention.data_as_of, None);
    assert!(attention.approvals_waiting.is_empty(), "{attention:?}");
    assert_eq!(
        attention.overdue_opportunities_total,
        attention.overdue_opportunities.len() as i64
    );
    // Days are typed: a thirteenth month cannot be sent. The wrong order still can.
    assert!(matches!(
        boss.clone()
            .attention_dashboard(day("2026-12-31"), day("2026-01-01"))
            .await,
        Err(FieldsalesError::InvalidInput { .. })
    ));

    // The manager finds the deal's progress false: the standard penalty, on both boards.
    assert!(matches!(
        boss.clone()
            .mark_progress_false(deal_id.clone(), "  ".into())
            .await,
        Err(FieldsalesError::RuleViolated { .. })
    ));
    let marked = boss
        .clone()
        .mark_progress_false(deal_id.clone(), "报价单是补填的".into())
        .await
        .unwrap();
    let mark = marked.marked_false.expect("marked");
    assert_eq!(mark.by_id, manager.user_id);
    assert_eq!(mark.penalty, yuan(100));
    let today = boss.clone().today().await.unwrap().date;
    let funnel = boss
        .clone()
        .funnel_dashboard(today, today, fieldsales_ffi::GroupBy::Rep)
        .await
        .unwrap();
    assert_eq!(
        (
            funnel.total.false_progress,
            funnel.total.false_progress_penalties
        ),
        (1, yuan(100))
    );
    let attention = boss
        .clone()
        .attention_dashboard(today, today)
        .await
        .unwrap();
    assert_eq!(attention.false_progress_total, 1);
    assert_eq!(attention.false_progress[0].opportunity_id, deal_id);
    assert_eq!(attention.false_progress[0].owner_name, "张伟");
    assert_eq!(attention.false_progress[0].penalty_minor, 10_000);
    let withdrawn = boss
        .clone()
        .withdraw_false_progress(deal_id.clone())
        .await
        .unwrap();
    assert_eq!(withdrawn.marked_false, None);
}

/// A fix as the OS gives it, `metres_north` of People's Square, taken just now.
async fn signed_in(world: &World, login: &str, dir: &tempfile::TempDir) -> Arc<Engine> {
    sign_in(
        SignInRequest {
            server_url: world.base.clone(),
            tenant: TENANT.into(),
            login: login.into(),
            password: PASSWORD.into(),
            device_name: format!("{login}'s phone"),
        },
        dir.path()
            .join(format!("{login}.sqlite"))
            .to_string_lossy()
            .into_owned(),
        None,
    )
    .await
    .expect("the sign-in succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_works_the_day_and_the_manager_answers_through_the_server() {
    let world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let zhou = world
        .person("zhou.min", org.east_team, "sales_manager")
        .await;
    let devices = tempfile::tempdir().expect("temp dir");

    // A wrong password is refused as such.
    let refused = sign_in(
        SignInRequest {
            server_url: world.base.clone(),
            tenant: TENANT.into(),
            login: li.login.clone(),
            password: "not-the-password".into(),
            device_name: "phone".into(),
        },
        devices
            .path()
            .join("wrong.sqlite")
            .to_string_lossy()
            .into_owned(),
        None,
    )
    .await;
    assert_eq!(refused.err(), Some(FieldsalesError::BadCredentials));

    let rep = signed_in(&world, &li.login, &devices).await;
    let boss = signed_in(&world, &zhou.login, &devices).await;
    let me = rep.clone().me().await.unwrap();
    let today = rep.clone().today().await.unwrap();

    // A customer with no location yet: the first check-in proposes one.
    let customer = rep
        .clone()
        .create_customer(CustomerDraft {
            location: None,
            ..customer_at_site("上海华通电子有限公司", &["展会"])
        })
        .await
        .unwrap()
        .customer;
    let checked = rep
        .clone()
        .check_in(customer.id.clone(), fix(0.0, 8.0, 2_000), "初次拜访".into())
        .await
        .unwrap();
    assert!(checked.proposed_location);
    assert_eq!(
        checked.visit.verdict.as_ref().unwrap().fence,
        fieldsales_ffi::FenceStatus::UnableToVerify
    );
    let visit_id = checked.visit.id.clone();
    // One proposal waits at a time.
    match rep
        .clone()
        .propose_location(visit_id.clone())
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "location.already_proposed"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }

    // A photo of the shop front and a scanned contract, queued offline.
    let photo = devices.path().join("front.jpg");
    std::fs::write(&photo, b"\xFF\xD8\xFF\xE0 the shop front").unwrap();
    let with_photo = rep
        .clone()
        .add_visit_photo(
            visit_id.clone(),
            photo.to_string_lossy().into_owned(),
            "image/jpeg".into(),
        )
        .await
        .unwrap();
    let photo_sha = with_photo.photos[0].sha256.clone();
    let contract = devices.path().join("contract.pdf");
    std::fs::write(&contract, b"%PDF-1.7 signed contract").unwrap();
    let queued = rep
        .clone()
        .queue_attachment(
            contract.to_string_lossy().into_owned(),
            "application/pdf".into(),
        )
        .await
        .unwrap();
    assert_eq!(
        (queued.upload, queued.uploaded_bytes),
        (fieldsales_ffi::UploadState::Pending, 0)
    );
    assert_eq!(rep.clone().attachment_states().await.unwrap().len(), 2);
    let bad_type = rep
        .clone()
        .queue_attachment(contract.to_string_lossy().into_owned(), "pdf".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_type, FieldsalesError::InvalidInput { field, .. } if field == "mime"),
        "{bad_type:?}"
    );

    let follow_up = rep
        .clone()
        .log_follow_up(
            fieldsales_ffi::RecordKind::Customer,
            customer.id.clone(),
            fieldsales_ffi::FollowUpMethod::Visit,
            "介绍了新产品线".into(),
            Some("下周报价".into()),
            Some(visit_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(follow_up.customer_id.as_deref(), Some(customer.id.as_str()));
    assert_eq!(
        rep.clone()
            .visits_on(me.user_id.clone(), today.date)
            .await
            .unwrap()
            .len(),
        1
    );
    let out = rep
        .clone()
        .check_out(visit_id.clone(), Some(fix(5.0, 6.0, 2_000)))
        .await
        .unwrap();
    assert!(out.checked_out_at.is_some());

    let report = rep.clone().report_draft(today.date).await.unwrap();
    assert!(report.visit_ids.contains(&visit_id));
    rep.clone()
        .edit_report(
            report.id.clone(),
            ReportEdit {
                summary: Some("拜访上海华通".into()),
                results: None,
                problems: None,
                plan_tomorrow: Some("发送报价".into()),
            },
        )
        .await
        .unwrap();
    // Before submitting, the reminder says what is owed (nothing on a weekend); after, nothing.
    let due = rep.clone().report_due(today.date).await.unwrap();
    assert!(
        matches!(
            due.status,
            fieldsales_ffi::ReportDueStatus::Open
                | fieldsales_ffi::ReportDueStatus::Overdue
                | fieldsales_ffi::ReportDueStatus::DayOff
        ),
        "{due:?}"
    );
    assert_eq!(
        due.day_off.is_some(),
        due.status == fieldsales_ffi::ReportDueStatus::DayOff,
        "{due:?}"
    );
    let submitted = rep.clone().submit_report(report.id.clone()).await.unwrap();
    assert_eq!(submitted.state, fieldsales_ffi::ReportState::Submitted);
    let due = rep.clone().report_due(today.date).await.unwrap();
    assert_eq!(due.status, fieldsales_ffi::ReportDueStatus::Submitted);

    // Back in signal: records first, then the two files.
    let summary = rep
        .clone()
        .sync(quick_sync(), None, SyncCancel::new())
        .await
        .unwrap();
    assert!(summary.refused.is_empty(), "{summary:?}");
    let uploads = summary
        .attachments
        .expect("the files went after the records");
    assert_eq!(
        (uploads.uploaded, uploads.still_pending),
        (2, 0),
        "{uploads:?}"
    );
    let state = rep
        .clone()
        .attachment_state(photo_sha.clone())
        .await
        .unwrap()
        .expect("the photo is on the phone");
    assert_eq!(state.upload, fieldsales_ffi::UploadState::Uploaded);
    assert!(state.uploaded_at.is_some());
    let nothing_left = rep
        .clone()
        .upload_attachments(SyncCancel::new())
        .await
        .unwrap();
    assert_eq!((nothing_left.uploaded, nothing_left.still_pending), (0, 0));
    assert!(matches!(
        rep.clone().attachment_state("IMG_0001".into()).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "sha256"
    ));

    // The manager's phone: the proposal, the report, and a task for the rep.
    boss.clone()
        .sync(quick_sync(), None, SyncCancel::new())
        .await
        .unwrap();
    let visits = boss
        .clone()
        .visits_dashboard(
            today.date,
            today.date,
            fieldsales_ffi::GroupBy::Rep,
            fieldsales_ffi::Granularity::Day,
        )
        .await
        .unwrap();
    assert!(visits.data_as_of.is_some());
    assert_eq!(visits.total.check_ins, 1, "{visits:?}");
    let map = boss
        .clone()
        .visit_map_points(today.date, today.date, 50, None)
        .await
        .unwrap();
    assert_eq!(map.points.len(), 1, "{map:?}");
    assert_eq!(map.points[0].visit_id, visit_id);
    assert!(map.next.is_none(), "one check-in fits one page");
    assert!(matches!(
        boss.clone()
            .visit_map_points(today.date, today.date, 0, None)
            .await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "limit"
    ));
    let reports = boss
        .clone()
        .report_dashboard(today.date, today.date, fieldsales_ffi::GroupBy::Rep)
        .await
        .unwrap();
    assert_eq!(reports.total.on_time + reports.total.late, 1, "{reports:?}");
    let proposals = boss.clone().pending_location_proposals().await.unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    let proposal = proposals[0].location_proposal.clone().unwrap();
    assert_eq!(
        (proposal.status, proposal.visit_id.as_deref()),
        (
            fieldsales_ffi::ProposalStatus::Pending,
            Some(visit_id.as_str())
        )
    );
    // The rep cannot approve their own proposal.
    assert!(matches!(
        rep.clone().approve_location(customer.id.clone()).await,
        Err(FieldsalesError::NotAllowed { .. })
    ));
    let placed = boss
        .clone()
        .approve_location(customer.id.clone())
        .await
        .unwrap();
    assert_eq!(placed.location, Some(proposal.point));
    match boss
        .clone()
        .reject_location(customer.id.clone(), "站在地铁站".into())
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "location.already_decided"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }

    let their_report = boss
        .clone()
        .report_of(me.user_id.clone(), today.date)
        .await
        .unwrap()
        .expect("the rep's report reached the manager");
    let read = boss
        .clone()
        .mark_report_read(their_report.id.clone())
        .await
        .unwrap();
    assert_eq!(read.id, their_report.id);
    let commented = boss
        .clone()
        .comment_report(their_report.id.clone(), "报价要抄送我".into())
        .await
        .unwrap();
    assert_eq!(commented.comments.len(), 1);
    assert_eq!(commented.comments[0].text, "报价要抄送我");
    assert!(matches!(
        boss.clone().comment_report(their_report.id.clone(), "  ".into()).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "comment"
    ));
    // A rep does not comment on reports.
    assert!(matches!(
        rep.clone()
            .comment_report(report.id.clone(), "好".into())
            .await,
        Err(FieldsalesError::NotAllowed { .. })
    ));

    let now = fieldsales_core::Timestamp::now().millis();
    let given = |title: &str| TaskDraft {
        assignee_id: me.user_id.clone(),
        kind: fieldsales_ffi::TaskKind::Task,
        title: title.into(),
        description: String::new(),
        due_at: Some(fieldsales_core::Timestamp::from_millis(now + 86_400_000)),
        start_at: None,
        end_at: None,
        reminder_at: Some(fieldsales_core::Timestamp::from_millis(now + 82_800_000)),
    };
    let quote = boss.clone().create_task(given("发送报价单")).await.unwrap();
    let survey = boss.clone().create_task(given("做竞品调研")).await.unwrap();
    let stale = boss.clone().create_task(given("旧任务")).await.unwrap();
    assert_eq!(quote.status, fieldsales_ffi::TaskStatus::Proposed);
    assert_eq!(quote.assigner_id, zhou.profile.to_string());
    boss.clone().delete_task(stale.id.clone()).await.unwrap();
    boss.clone()
        .sync(quick_sync(), None, SyncCancel::new())
        .await
        .unwrap();

    // The rep's phone hears the decision, the comment and the tasks.
    rep.clone()
        .sync(quick_sync(), None, SyncCancel::new())
        .await
        .unwrap();
    let mine = rep.clone().get_customer(customer.id.clone()).await.unwrap();
    assert_eq!(mine.location, Some(proposal.point));
    let back = rep
        .clone()
        .report_of(me.user_id.clone(), today.date)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.comments[0].by_id, zhou.profile.to_string());
    let accepted = rep.clone().accept_task(quote.id.clone()).await.unwrap();
    assert_eq!(accepted.status, fieldsales_ffi::TaskStatus::Open);
    let open = rep
        .clone()
        .my_task_page(
            TaskFilter {
                status: Some(fieldsales_ffi::TaskStatus::Open),
            },
            PageRequest {
                offset: 0,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        open.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        vec![&quote.id]
    );
    let visits = rep
        .clone()
        .visit_page(
            VisitFilter {
                owner_id: Some(me.user_id.clone()),
                customer_id: Some(customer.id.clone()),
                from_date: Some(today.date),
                to_date: Some(today.date),
            },
            PageRequest {
                offset: 0,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!(visits.items.len(), 1);
    let later = now + 2 * 86_400_000;
    let postponed = rep
        .clone()
        .postpone_task(
            quote.id.clone(),
            fieldsales_core::Timestamp::from_millis(later),
        )
        .await
        .unwrap();
    assert_eq!(
        postponed.due_at,
        Some(fieldsales_core::Timestamp::from_millis(later))
    );
    assert_eq!(
        postponed.reminder_at,
        Some(fieldsales_core::Timestamp::from_millis(
            now + 82_800_000 + 86_400_000
        )),
        "the reminder moves with the task"
    );
    match rep
        .clone()
        .postpone_task(
            quote.id.clone(),
            fieldsales_core::Timestamp::from_millis(now - 1_000),
        )
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "task.postpone_to_past"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }
    match rep
        .clone()
        .reject_task(survey.id.clone(), " ".into())
        .await
        .unwrap_err()
    {
        FieldsalesError::RuleViolated { rule, .. } => assert_eq!(rule, "task.reason_required"),
        other => panic!("expected RuleViolated, got {other:?}"),
    }
    let rejected = rep
        .clone()
        .reject_task(survey.id.clone(), "本周在外地".into())
        .await
        .unwrap();
    assert_eq!(
        (rejected.status, rejected.reject_reason.as_deref()),
        (fieldsales_ffi::TaskStatus::Rejected, Some("本周在外地"))
    );
    // The assignee rejects; only who gave a task deletes it.
    assert!(matches!(
        rep.clone().delete_task(survey.id.clone()).await,
        Err(FieldsalesError::NotAllowed { .. })
    ));
    assert!(matches!(
        rep.clone().get_customer(RecordId::new().to_string()).await,
        Err(FieldsalesError::NotFound { .. })
    ));
    assert!(
        rep.clone()
            .reminders_due(
                fieldsales_core::Timestamp::from_millis(now),
                fieldsales_core::Timestamp::from_millis(later + 86_400_000)
            )
            .await
            .unwrap()
            .iter()
            .any(|r| r.record_id == quote.id && r.kind == fieldsales_ffi::ReminderKind::Task)
    );
    let done = rep.clone().complete_task(quote.id.clone()).await.unwrap();
    assert_eq!(done.status, fieldsales_ffi::TaskStatus::Completed);
    assert!(rep.clone().rejected_changes().await.unwrap().is_empty());
    assert!(!rep.clone().dismiss_rejected_change(1).await.unwrap());

    // The server forgets the rep's session: the next sync says to sign in again.
    let token = {
        let store = Store::open(devices.path().join(format!("{}.sqlite", li.login))).unwrap();
        let session = store
            .meta(fieldsales_core::sync::client::META_SESSION)
            .unwrap()
            .unwrap();
        let session: serde_json::Value = serde_json::from_slice(&session).unwrap();
        session["token"].as_str().unwrap().to_owned()
    };
    let logout = world
        .http
        .post(format!("{}/v1/auth/logout", world.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success(), "{}", logout.status());
    assert_eq!(
        rep.clone()
            .sync(quick_sync(), None, SyncCancel::new())
            .await
            .unwrap_err(),
        FieldsalesError::AuthExpired
    );

    // Signed out, the engine refuses every call.
    boss.clone().sign_out().await.unwrap();
    assert_eq!(
        boss.clone().today().await.unwrap_err(),
        FieldsalesError::NotSignedIn
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_server_gone_a_sync_is_offline_and_a_waiting_upload_holds_no_screen_back() {
    let world = World::start().await;
    let org = world.org().await;
    let wang = world.person("wang.wei", org.east_team, "sales_rep").await;
    let devices = tempfile::tempdir().expect("temp dir");
    let phone = signed_in(&world, &wang.login, &devices).await;
    let addr = world.addr;
    world.stop().await;

    let photo = devices.path().join("shelf.jpg");
    std::fs::write(&photo, b"\xFF\xD8 shelf").unwrap();
    phone
        .clone()
        .queue_attachment(photo.to_string_lossy().into_owned(), "image/jpeg".into())
        .await
        .unwrap();
    assert_eq!(
        phone
            .clone()
            .sync(quick_sync(), None, SyncCancel::new())
            .await
            .unwrap_err(),
        FieldsalesError::Offline
    );
    // Continuous sync with the server gone: it says offline, retries, and stops on request.
    let heard = Arc::new(Heard::default());
    let connection = phone
        .clone()
        .connect(quick_sync(), default_sync_schedule(), heard.clone())
        .expect("connects");
    connection.sync_soon();
    let mut failed = None;
    for _ in 0..200 {
        failed = heard
            .0
            .lock()
            .expect("heard")
            .iter()
            .find(|s| s.failures > 0)
            .cloned();
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let failed = failed.expect("the failure is reported");
    assert!(!failed.connected && !failed.needs_user, "{failed:?}");
    assert!(failed.last_error.is_some());
    connection.disconnect();
    for _ in 0..200 {
        if connection.is_stopped() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(connection.is_stopped());
    assert_eq!(connection.status().activity, SyncActivity::Stopped);
    assert_eq!(
        phone
            .clone()
            .upload_attachments(SyncCancel::new())
            .await
            .unwrap_err(),
        FieldsalesError::Offline
    );

    // The server's port now accepts connections and never answers: the upload waits on it,
    // and the rep's screens keep working meanwhile (the engine is not held while bytes travel).
    let silent = std::net::TcpListener::bind(addr).expect("the port is free again");
    let cancel = SyncCancel::new();
    let running = tokio::spawn({
        let phone = phone.clone();
        let cancel = cancel.clone();
        async move { phone.upload_attachments(cancel).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!running.is_finished(), "the upload waits on the server");
    let me = tokio::time::timeout(std::time::Duration::from_secs(2), phone.clone().me())
        .await
        .expect("the engine answers during an upload");
    assert_eq!(me.unwrap().user_id, wang.profile.to_string());
    cancel.cancel();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("the cancelled upload ends")
        .expect("the task ran");
    assert_eq!(outcome.unwrap_err(), FieldsalesError::Cancelled);
    drop(silent);

    let cancel = SyncCancel::new();
    cancel.cancel();
    assert!(cancel.is_cancelled());
    assert_eq!(
        phone.clone().upload_attachments(cancel).await.unwrap_err(),
        FieldsalesError::Cancelled
    );
    let states = phone.attachment_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(
        states[0].upload,
        fieldsales_ffi::UploadState::Pending,
        "it waits for the next upload"
    );
}

/// Keeps the sync statuses it is told of.
#[derive(Default)]
struct Heard(Mutex<Vec<SyncStatus>>);

impl SyncStatusListener for Heard {
    fn on_status(&self, status: SyncStatus) {
        self.0.lock().expect("heard").push(status);
    }
}

/// Keeps the local-time events it is told of.
#[derive(Default)]
struct Clockwatch(Mutex<Vec<LocalTimeEvent>>);

impl LocalTimeListener for Clockwatch {
    fn on_local_time(&self, event: LocalTimeEvent) {
        self.0.lock().expect("clockwatch").push(event);
    }
}

/// The quarter's first day of a `YYYY-MM-DD` day.
fn quarter_start(date: fieldsales_core::LocalDate) -> fieldsales_core::LocalDate {
    let text = date.to_string();
    let month: u32 = text[5..7].parse().expect("a month");
    day(&format!("{}-{:02}-01", &text[..4], (month - 1) / 3 * 3 + 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_sells_from_the_catalogue_and_the_team_around_them_does_its_part() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world.person("wang.wei", org.east_team, "sales_rep").await;
    let zhou = world
        .person("zhou.min", org.east_team, "sales_manager")
        .await;
    world
        .put(
            serde_json::json!({"kind": "role", "code": "finance", "name": "财务",
            "data_scope": "all"}),
        )
        .await;
    let qian = world.person("qian.li", org.hq, "finance").await;
    world
        .put(
            serde_json::json!({"kind": "org_unit", "id": org.east_team.to_string(),
            "name": "上海一组", "level": "team", "parent_id": org.east.to_string(),
            "manager_id": zhou.profile.to_string(), "zone": "Asia/Shanghai"}),
        )
        .await;
    // The catalogue: one product at ¥10,000 (¥9,500 for tier A), added by an HQ admin.
    let admin = world.person("admin.hq", org.hq, "admin").await;
    let mut desk = world.device(&admin).await;
    fieldsales_tests::sync(&mut desk).await;
    desk.create_product(testing::product(
        "P-100",
        "销售云专业版",
        testing::yuan(10_000),
    ))
    .expect("the product");
    fieldsales_tests::sync(&mut desk).await;
    drop(desk);

    let devices = tempfile::tempdir().expect("temp dir");
    let rep = signed_in(&world, &li.login, &devices).await;
    let other = signed_in(&world, &wang.login, &devices).await;
    let boss = signed_in(&world, &zhou.login, &devices).await;
    let cash = signed_in(&world, &qian.login, &devices).await;
    // Twice round: what one phone pushes reaches the phones that synced before it.
    let sync_all = || async {
        for phone in [&rep, &other, &boss, &cash, &rep, &other, &boss, &cash] {
            phone
                .clone()
                .sync(quick_sync(), None, SyncCancel::new())
                .await
                .unwrap();
        }
    };
    sync_all().await;
    let today = rep.clone().today().await.unwrap().date;
    let li_id = li.profile.to_string();

    // The company directory and the org tree, from the phone.
    let people = rep.clone().directory().await.unwrap();
    let manager = people
        .iter()
        .find(|p| p.id == zhou.profile.to_string())
        .expect("the manager is listed");
    assert!(manager.is_my_manager && manager.active);
    assert_eq!(manager.roles, vec!["sales_manager".to_string()]);
    assert!(
        !people
            .iter()
            .any(|p| p.id == wang.profile.to_string() && p.is_my_manager)
    );
    let units = rep.clone().org_units().await.unwrap();
    assert_eq!(units[0].level, fieldsales_ffi::UnitLevel::Headquarters);
    assert!(units.iter().any(|u| u.id == org.east_team.to_string()));
    let me_listed = rep.clone().colleague(li_id.clone()).await.unwrap();
    assert_eq!(me_listed.unit_id, org.east_team.to_string());

    // A customer with the tenant's own fields, and a quote from the catalogue.
    let customer = rep
        .clone()
        .create_customer(CustomerDraft {
            custom_fields: HashMap::from([("erp_code".to_string(), "C-0001".to_string())]),
            ..customer_at_site("上海华通电子有限公司", &[])
        })
        .await
        .unwrap()
        .customer;
    assert_eq!(customer.custom_fields["erp_code"], "C-0001");
    let too_many = rep
        .clone()
        .create_customer(CustomerDraft {
            custom_fields: (0..101).map(|n| (format!("f{n}"), "x".into())).collect(),
            ..customer_at_site("上海华通二号有限公司", &[])
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&too_many, FieldsalesError::InvalidInput { field, .. } if field == "customer.custom_fields"),
        "{too_many:?}"
    );
    let products = rep.clone().products(false).await.unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(
        (products[0].code.as_str(), products[0].cost_hidden),
        ("P-100", false)
    );
    let quote = rep
        .clone()
        .price_quote("P-100".into(), customer.id.clone(), 6, 500, today)
        .await
        .unwrap();
    assert_eq!(quote.product_id, products[0].id);
    assert_eq!(quote.line.rule_price, yuan(9_500), "the tier-A price");
    assert_eq!(quote.line.amount, yuan(6 * 9_025), "then 5% off by hand");
    for (quantity, off, field) in [(0, 0, "quantity"), (1, 10_001, "manual_discount_bp")] {
        let bad = rep
            .clone()
            .price_quote("P-100".into(), customer.id.clone(), quantity, off, today)
            .await
            .unwrap_err();
        assert!(
            matches!(&bad, FieldsalesError::InvalidInput { field: f, .. } if f == field),
            "{bad:?}"
        );
    }
    let unknown = rep
        .clone()
        .price_quote("P-999".into(), customer.id.clone(), 1, 0, today)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, FieldsalesError::RuleViolated { rule, .. } if rule == "product.unknown"),
        "{unknown:?}"
    );

    // The order: ¥54,150 needs the manager's approval before it is confirmed.
    let order = rep
        .clone()
        .create_order(NewOrder {
            customer_id: customer.id.clone(),
            opportunity_id: None,
            number: "HT-2026-001".into(),
            lines: vec![NewOrderLine {
                product_code: "P-100".into(),
                quantity: 6,
                manual_discount_bp: 500,
            }],
            priced_on: today,
        })
        .await
        .unwrap();
    assert_eq!(
        (order.status, order.total.clone()),
        (OrderStatus::Draft, yuan(54_150))
    );
    let approval = match rep.clone().confirm_order(order.id.clone()).await.unwrap() {
        ConfirmOutcome::AwaitingApproval { approval } => approval,
        other => panic!("expected an approval first, got {other:?}"),
    };
    assert_eq!(approval.subject_id, order.id);
    sync_all().await;
    boss.clone()
        .decide_approval(approval.id.clone(), true, Some("同意".into()))
        .await
        .unwrap();
    sync_all().await;
    let confirmed = match rep.clone().confirm_order(order.id.clone()).await.unwrap() {
        ConfirmOutcome::Confirmed { order } => order,
        other => panic!("expected the order confirmed, got {other:?}"),
    };
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert!(confirmed.confirmed_at.is_some());
    // Payments are finance's, delivery a manager's: not the rep's.
    let now = confirmed.confirmed_at.unwrap();
    let refused = rep
        .clone()
        .record_payment(order.id.clone(), yuan(20_000), now, Some("银行转账".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, FieldsalesError::NotAllowed { .. }),
        "{refused:?}"
    );
    sync_all().await;
    let paid = cash
        .clone()
        .record_payment(order.id.clone(), yuan(20_000), now, Some("银行转账".into()))
        .await
        .unwrap();
    assert_eq!((paid.paid.clone(), paid.payments.len()), (yuan(20_000), 1));
    let delivered = boss
        .clone()
        .set_delivery(order.id.clone(), DeliveryStatus::Partial)
        .await
        .unwrap();
    assert_eq!(delivered.delivery, DeliveryStatus::Partial);
    sync_all().await;
    let seen = rep.clone().get_order(order.id.clone()).await.unwrap();
    assert_eq!(
        (seen.paid.clone(), seen.delivery),
        (yuan(20_000), DeliveryStatus::Partial)
    );
    assert_eq!(
        rep.clone()
            .orders_of(customer.id.clone())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(rep.clone().my_orders().await.unwrap()[0].id, order.id);
    assert!(other.clone().my_orders().await.unwrap().is_empty());

    // The manager sets the rep's quarter target; the rep cannot set their own.
    let target = NewTarget {
        period: PeriodKind::Quarter,
        period_start: quarter_start(today),
        subject: TargetSubject::Rep,
        subject_id: li_id.clone(),
        metric: TargetMetric::WonAmount,
        amount: yuan(100_000),
    };
    let own = rep.clone().set_target(target.clone()).await.unwrap_err();
    assert!(matches!(own, FieldsalesError::NotAllowed { .. }), "{own:?}");
    let set = boss.clone().set_target(target).await.unwrap();
    assert_eq!(
        set.set_by_id.as_deref(),
        Some(zhou.profile.to_string().as_str())
    );
    assert_eq!(
        boss.clone().targets_of(li_id.clone()).await.unwrap()[0].id,
        set.id
    );
    let standing = boss
        .clone()
        .target_attainment(set.id.clone())
        .await
        .unwrap();
    assert_eq!(standing.achieved, yuan(54_150));
    assert_eq!(standing.attainment_bp, Some(5_415));
    sync_all().await;
    let statement = rep
        .clone()
        .commission_statement(li_id.clone(), today)
        .await
        .unwrap();
    assert_eq!(statement.sales, yuan(54_150));
    assert!(!statement.lines.is_empty());
    assert!(statement.lines.iter().all(|l| !l.explanation.is_empty()));
    let colleague = other
        .clone()
        .commission_statement(li_id.clone(), today)
        .await
        .unwrap_err();
    assert!(
        matches!(colleague, FieldsalesError::NotAllowed { .. }),
        "{colleague:?}"
    );

    // The manager plans the rep's day and opens it; the rep cannot open the manager's.
    let plan = boss
        .clone()
        .plan_visits(
            li_id.clone(),
            today,
            vec![PlannedVisit {
                customer_id: customer.id.clone(),
                planned_at: None,
                purpose: Some("回款跟进".into()),
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        (plan.rep_id.as_str(), plan.visits.len()),
        (li_id.as_str(), 1)
    );
    assert_eq!(
        boss.clone().plan_for(li_id.clone(), today).await.unwrap(),
        Some(plan.clone())
    );
    let day = boss.clone().agenda_of(li_id.clone(), today).await.unwrap();
    assert_eq!(day.planned_visits.len(), 1);
    let closed = rep
        .clone()
        .agenda_of(zhou.profile.to_string(), today)
        .await
        .unwrap_err();
    assert!(
        matches!(closed, FieldsalesError::NotAllowed { .. }),
        "{closed:?}"
    );
    let against = boss
        .clone()
        .plan_vs_actual(li_id.clone(), today)
        .await
        .unwrap();
    assert_eq!(against.lines[0].outcome, PlanOutcome::PlannedNotDone);
    assert_eq!(against.completion_bp, Some(0));

    // What each may do with the customer, as the server will judge it.
    let rep_may = rep
        .clone()
        .allowed_operations(customer.id.clone())
        .await
        .unwrap();
    assert!(rep_may.contains(&Operation::Edit) && !rep_may.contains(&Operation::Delete));
    let boss_may = boss
        .clone()
        .allowed_operations(customer.id.clone())
        .await
        .unwrap();
    assert!(boss_may.contains(&Operation::Delete));

    // A report found false.
    let report = rep.clone().report_draft(today).await.unwrap();
    rep.clone().submit_report(report.id.clone()).await.unwrap();
    sync_all().await;
    let found = boss
        .clone()
        .mark_report_false(report.id.clone(), "拜访记录与定位不符".into())
        .await
        .unwrap();
    assert_eq!(
        found.marked_false.map(|m| m.text),
        Some("拜访记录与定位不符".to_string())
    );

    // Two reps follow one company under two records: the manager settles who owns it.
    let theirs = other
        .clone()
        .create_customer(customer_at_site("华通电子(上海)", &[]))
        .await
        .unwrap()
        .customer;
    sync_all().await;
    let verdict = boss
        .clone()
        .resolve_customer_ownership(
            Some("上海华通电子有限公司".into()),
            vec![customer.id.clone(), theirs.id.clone()],
        )
        .await
        .unwrap();
    assert_eq!(verdict.owner_id, li_id);
    assert_eq!(verdict.rule, OwnershipRule::RegisteredFullName);
    let by_rep = rep
        .clone()
        .resolve_customer_ownership(None, vec![customer.id.clone(), theirs.id.clone()])
        .await
        .unwrap_err();
    assert!(
        matches!(by_rep, FieldsalesError::NotAllowed { .. }),
        "{by_rep:?}"
    );

    // A rep deletes a contact; deleting the customer is the manager's, and its contacts go
    // with it on every phone.
    let first = rep
        .clone()
        .create_contact(
            customer.id.clone(),
            ContactDraft {
                name: "周杰".into(),
                title: None,
                phone: None,
                email: None,
                decision_role: fieldsales_ffi::DecisionRole::User,
            },
        )
        .await
        .unwrap();
    let second = rep
        .clone()
        .create_contact(
            customer.id.clone(),
            ContactDraft {
                name: "陈静".into(),
                title: None,
                phone: None,
                email: None,
                decision_role: fieldsales_ffi::DecisionRole::Influencer,
            },
        )
        .await
        .unwrap();
    rep.clone()
        .delete_contact(first.id.clone(), Some("已离职".into()))
        .await
        .unwrap();
    let not_theirs = rep
        .clone()
        .delete_customer(customer.id.clone(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(not_theirs, FieldsalesError::NotAllowed { .. }),
        "{not_theirs:?}"
    );
    sync_all().await;
    boss.clone()
        .delete_customer(customer.id.clone(), Some("重复录入".into()))
        .await
        .unwrap();
    sync_all().await;
    let voided = rep.clone().get_customer(customer.id.clone()).await.unwrap();
    assert!(voided.deleted);
    assert_eq!(
        voided.ownership.map(|o| o.rule),
        Some(OwnershipRule::RegisteredFullName)
    );
    assert!(
        rep.clone()
            .contacts_of(customer.id.clone())
            .await
            .unwrap()
            .iter()
            .all(|c| c.id != first.id && c.id != second.id),
        "no contact of a voided customer is listed"
    );
    world.stop().await;
}

#[tokio::test]
async fn the_helpers_a_screen_formats_and_checks_with_answer_without_a_store() {
    assert!(!library_version().is_empty());
    let id = new_record_id();
    assert_eq!(parse_record_id(id.to_uppercase()).unwrap(), id);
    assert!(matches!(
        parse_record_id("42".into()),
        Err(FieldsalesError::InvalidInput { .. })
    ));
    assert_eq!(
        validate_zone("Asia/Shanghai".into()).unwrap(),
        "Asia/Shanghai"
    );
    let deadline =
        local_time_on(day("2026-03-10"), "18:00".into(), "Asia/Shanghai".into()).unwrap();
    let midnight = start_of_local_day(day("2026-03-10"), "Asia/Shanghai".into()).unwrap();
    assert_eq!(deadline.millis_since(midnight), 18 * 3_600_000);
    assert_eq!(
        local_date_of(midnight.plus_millis(-1), "Asia/Shanghai".into()).unwrap(),
        day("2026-03-09")
    );
    assert_eq!(format_money(yuan(1_234)).unwrap(), "1234.00 CNY");
    assert_eq!(apply_rate(yuan(1_000), 1_000).unwrap(), yuan(100));
    assert!(matches!(
        validate_coordinates(91.0, 0.0),
        Err(FieldsalesError::InvalidInput { .. })
    ));
    let options = default_sync_options();
    assert!(options.max_attempts >= 1 && options.upload_attachments);

    // The report screen waits for 18:00 with a clock that is 300 ms short of it.
    let now = fieldsales_core::Timestamp::now().millis();
    let tomorrow = local_date_of(
        fieldsales_core::Timestamp::from_millis(now + 86_400_000),
        "Asia/Shanghai".into(),
    )
    .unwrap();
    let due = local_time_on(tomorrow, "18:00".into(), "Asia/Shanghai".into()).unwrap();
    let offset = due.millis() - now - 300;
    let events = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        next_local_time_events("Asia/Shanghai".into(), vec!["18:00".into()], offset),
    )
    .await
    .expect("18:00 comes")
    .unwrap();
    assert!(
        events.iter().any(|e| matches!(e,
            LocalTimeEvent::TimeReached { date, time_of_day, .. }
                if *date == tomorrow && time_of_day == "18:00")),
        "{events:?}"
    );
    let heard = Arc::new(Clockwatch::default());
    let now = fieldsales_core::Timestamp::now().millis();
    let watch = watch_local_times(
        "Asia/Shanghai".into(),
        vec!["18:00".into()],
        due.millis() - now - 300,
        heard.clone(),
    )
    .unwrap();
    for _ in 0..100 {
        if !heard.0.lock().expect("clockwatch").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!heard.0.lock().expect("clockwatch").is_empty());
    watch.cancel();
    for _ in 0..100 {
        if watch.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(watch.is_finished());
}

/// Every function and method the library exports, read from its sources.
fn exported_names() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("ffi sources")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim();
            i += 1;
            // A foreign trait is implemented by the app, not called by it.
            if !line.starts_with("#[uniffi::export") || line.contains("foreign") {
                continue;
            }
            let mut j = i;
            while lines[j].trim().starts_with("#[") || lines[j].trim().starts_with("///") {
                j += 1;
            }
            if lines[j].starts_with("impl") {
                // Every `pub fn` of the block, up to its closing brace.
                let mut k = j + 1;
                while k < lines.len() && lines[k] != "}" {
                    if let Some(name) = fn_name(lines[k].strip_prefix("    ").unwrap_or("")) {
                        names.push(name);
                    }
                    k += 1;
                }
            } else if let Some(name) = fn_name(lines[j]) {
                names.push(name);
            } else {
                panic!(
                    "{}: an export this check cannot read: {}",
                    file.display(),
                    lines[j]
                );
            }
        }
    }
    names
}

/// The name of `pub fn name(` or `pub async fn name(` at the start of `line`.
fn fn_name(line: &str) -> Option<String> {
    let rest = line
        .strip_prefix("pub async fn ")
        .or_else(|| line.strip_prefix("pub fn "))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn every_exported_function_is_called_in_this_file() {
    let names = exported_names();
    assert!(names.len() > 80, "the sources were not read: {names:?}");
    for expected in ["open_engine", "sync", "queue_attachment", "cancel", "new"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not found");
    }
    let this = include_str!("surface.rs");
    // Calls only: comments do not count.
    let code: String = this
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let called = |name: &str| {
        code.match_indices(name).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + name.len()..].trim_start().chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
        })
    };
    let missing: Vec<&String> = names.iter().filter(|n| !called(n)).collect();
    assert!(
        missing.is_empty(),
        "exported but never called in ffi/tests/surface.rs: {missing:?}"
    );
}
