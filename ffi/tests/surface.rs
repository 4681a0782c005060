//! The engine's uniffi surface, called from Rust the way the apps call it: every exported
//! engine function at least once, and every error variant an app can meet from it, as field
//! scenarios of a rep and a manager on their phones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fieldsales_core::record::DataScope;
use fieldsales_core::store::Store;
use fieldsales_core::{RecordId, testing};
use fieldsales_ffi::{
    ChangeEvent, ChangeListener, ContactDraft, CustomerDraft, Engine, FieldValue, FieldsalesError,
    GeoPoint, LeadConversion, Money, NewLead, NewOpportunity, SignedInUser, StageMove, open_engine,
    resume_engine,
};

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
            scope: scope.as_str().to_string(),
            zone: "Asia/Shanghai".into(),
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
        open_engine(self.path(who), who.clone())
            .await
            .expect("the store opens")
    }
}

fn draft(legal_name: &str) -> CustomerDraft {
    CustomerDraft {
        legal_name: legal_name.into(),
        short_name: None,
        english_name: None,
        customer_type: None,
        industry: Some("制造业".into()),
        scale: None,
        address: Some("上海市黄浦区人民大道200号".into()),
        location: Some(GeoPoint {
            lat: 31.2304,
            lon: 121.4737,
        }),
        tier: Some("A".into()),
        source: None,
        tags: vec!["展会".into()],
    }
}

fn yuan(units: i64) -> Money {
    Money {
        minor: units * 100,
        currency: "CNY".into(),
    }
}

/// Keeps every change event it is told of.
#[derive(Default)]
struct Recorder(Mutex<Vec<ChangeEvent>>);

impl ChangeListener for Recorder {
    fn on_change(&self, event: ChangeEvent) {
        self.0.lock().expect("recorder").push(event);
    }
}

impl Recorder {
    fn take(&self) -> Vec<ChangeEvent> {
        std::mem::take(&mut *self.0.lock().expect("recorder"))
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
        .check_customer_duplicates(draft("上海明远贸易有限公司"))
        .await
        .unwrap();
    assert!(check.exact.is_none() && check.near.is_empty());

    let created = phone
        .clone()
        .create_customer(draft("上海明远贸易有限公司"))
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
        .create_customer(draft(" 上海明远贸易有限公司 "))
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
        .check_customer_duplicates(draft("上海明远贸易有限公司"))
        .await
        .unwrap();
    assert_eq!(check.exact.map(|h| h.id), Some(created.customer.id.clone()));

    let id = created.customer.id.clone();
    let got = phone.clone().get_customer(id.clone()).await.unwrap();
    assert_eq!(got, created.customer);

    let mut edited = draft("上海明远贸易有限公司");
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
        .search("明远贸易".into(), vec!["customer".into()], 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id.as_str(), hits[0].kind.as_str()),
        (id.as_str(), "customer")
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
                decision_role: "decision_maker".into(),
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
                decision_role: "decision_maker".into(),
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
    assert_eq!(events[0].kinds, vec!["lead".to_string()]);
    assert_eq!(
        events[1].kinds,
        ["contact", "customer", "lead", "opportunity"]
    );
    let ids: Vec<&str> = events[1].records.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&converted.customer.id.as_str()));
    assert!(ids.contains(&converted.opportunity.id.as_str()));

    // A refused write changes nothing and says nothing.
    assert!(
        phone
            .clone()
            .create_customer(draft("杭州云栖科技有限公司"))
            .await
            .is_err()
    );
    assert!(recorder.take().is_empty());

    subscription.cancel();
    phone
        .clone()
        .create_customer(draft("北京华信咨询有限公司"))
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
    assert_eq!(pooled.status, "pooled");
    assert_eq!(
        phone.clone().lead_pool().await.unwrap(),
        vec![pooled.clone()]
    );

    let claimed = phone.clone().claim_lead(pooled.id.clone()).await.unwrap();
    assert_eq!(claimed.owner_id.as_deref(), Some(rep.user_id.as_str()));
    let follow_up = phone
        .clone()
        .follow_up_lead(pooled.id.clone(), "call".into(), "约了周四上门".into())
        .await
        .unwrap();
    assert_eq!(
        (follow_up.subject_kind.as_str(), follow_up.method.as_str()),
        ("lead", "call")
    );
    assert_eq!(
        phone.clone().my_leads().await.unwrap()[0].status,
        "following"
    );

    let returned = phone.clone().return_lead(pooled.id.clone()).await.unwrap();
    assert_eq!(returned.status, "pooled");
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
        .create_customer(draft("苏州恒通机电有限公司"))
        .await
        .unwrap()
        .customer;
    let deal = phone
        .clone()
        .create_opportunity(NewOpportunity {
            customer_id: customer.id.clone(),
            name: "产线改造".into(),
            amount: yuan(800_000),
            expected_close: Some("2026-09-30".into()),
            fields: HashMap::new(),
        })
        .await
        .unwrap();
    assert_eq!(deal.stage, "opportunity");
    assert_eq!(deal.expected_close.as_deref(), Some("2026-09-30"));

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
                value: "2026-07-01".into(),
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
    // What sync would have brought: the rep's request on both phones.
    let request = testing::approval(rep_id, order, testing::yuan(80_000));
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
    assert_eq!(decided.status, "approved");
    assert_eq!(decided.decisions[0].verdict, "approve");
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
    assert_eq!(withdrawn.status, "withdrawn");
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
        .create_customer(draft("  "))
        .await
        .unwrap_err();
    assert!(
        matches!(&blank, FieldsalesError::InvalidInput { field, .. } if field == "customer.legal_name"),
        "{blank:?}"
    );
    let customer = phone
        .clone()
        .create_customer(draft("广州天河电子有限公司"))
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
                decision_role: "boss".into(),
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
        .search("天河".into(), vec!["gadget".into()], 5)
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
        open_engine(folder, rep.clone()).await,
        Err(FieldsalesError::Storage { .. })
    ));
    // A user with a scope this version does not know is refused before anything is opened.
    let mut odd = rep.clone();
    odd.scope = "galaxy".into();
    assert!(matches!(
        open_engine(team.path(&odd), odd).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "user.scope"
    ));
}

#[tokio::test]
async fn an_app_restarted_offline_finds_the_user_it_had() {
    let team = Team::new();
    let rep = team.user(&["sales_rep"], DataScope::Own);
    let fresh = team.dir.path().join("nobody.sqlite");
    assert!(
        resume_engine(fresh.to_string_lossy().into_owned())
            .await
            .unwrap()
            .is_none()
    );
    let created = {
        let phone = team.phone(&rep).await;
        phone
            .clone()
            .create_customer(draft("成都锦江酒店管理有限公司"))
            .await
            .unwrap()
            .customer
    };
    let phone = resume_engine(team.path(&rep))
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
        store.create(deal).unwrap();
    }
    let boss = team.phone(&manager).await;
    let funnel = boss
        .clone()
        .funnel_dashboard("2026-01-01".into(), "2026-12-31".into(), "rep".into())
        .await
        .unwrap();
    assert_eq!(funnel.data_as_of_ms, None, "never synced");
    assert_eq!(funnel.total.pipeline, yuan(300_000));
    assert_eq!(funnel.rows.len(), 1);
    assert_eq!(funnel.rows[0].group_name, "张伟");
    assert!(matches!(
        boss.clone()
            .funnel_dashboard("2026-01-01".into(), "2026-12-31".into(), "galaxy".into())
            .await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "group_by"
    ));
    assert!(matches!(
        boss.funnel_dashboard("2026-12-31".into(), "2026-01-01".into(), "team".into())
            .await,
        Err(FieldsalesError::InvalidInput { .. })
    ));
}
