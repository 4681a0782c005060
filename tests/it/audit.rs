//! The audit log of a rep's working day, through a real server and a real phone: each key
//! operation on a record leaves exactly one entry naming the rep, their account and phone,
//! the record and what changed; a refused push names its rule; a contact's telephone number
//! never reaches the log.

use fieldsales_core::engine::NewOpportunity;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::DevicePosition;
use fieldsales_core::process::{FieldValues, MoveKind, StageChange};
use fieldsales_core::record::{Customer, Opportunity, SensitiveField};
use fieldsales_core::testing::{contact, customer, yuan};
use fieldsales_core::{Clock, RecordId, Timestamp};
use fieldsales_server::audit::AuditEntry;
use fieldsales_tests::{World, sync};
use std::str::FromStr;

/// The entries about `record`, oldest first, as an admin reads them.
async fn about(world: &World, record: RecordId) -> Vec<AuditEntry> {
    world.audit_of(record).await
}

/// The operations of the entries about `record`.
async fn operations(world: &World, record: RecordId) -> Vec<String> {
    about(world, record)
        .await
        .into_iter()
        .map(|e| e.operation)
        .collect()
}

fn last(entries: Vec<AuditEntry>) -> AuditEntry {
    entries.into_iter().last().expect("an entry")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_operation_of_a_reps_day_leaves_one_entry_with_who_and_what_changed() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    sync(&mut phone).await;
    let signed_in = world
        .http
        .get(format!("{}/v1/auth/session", world.base))
        .bearer_auth(fieldsales_tests::token_of(&phone))
        .send()
        .await
        .expect("session")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let device = *RecordId::from_str(signed_in["device_id"].as_str().unwrap())
        .unwrap()
        .as_uuid();
    let account = *RecordId::from_str(signed_in["account_id"].as_str().unwrap())
        .unwrap()
        .as_uuid();

    // A customer is created, then edited.
    let mut c = customer(li.profile, "南通海洋工程装备有限公司");
    c.header.org_unit_id = Some(org.east_team);
    let c = phone.store_mut().create(c).expect("customer");
    let id = c.header.id;
    sync(&mut phone).await;
    phone
        .store_mut()
        .update::<Customer>(id, |c| {
            c.short_name = Some("南通海工".into());
            Ok(())
        })
        .expect("edited");
    sync(&mut phone).await;
    assert_eq!(
        operations(&world, id).await,
        ["record.create", "record.edit"]
    );
    let edit = last(about(&world, id).await);
    assert_eq!(edit.account_id, Some(account));
    assert_eq!(edit.user_id, Some(*li.profile.as_uuid()));
    assert_eq!(edit.device_id, Some(device));
    assert_eq!(edit.kind.as_deref(), Some("customer"));
    assert_eq!(edit.changes.len(), 1, "{edit:#?}");
    assert_eq!(edit.changes[0].field, "short_name");
    assert_eq!(edit.changes[0].before, None);
    assert_eq!(edit.changes[0].after.as_deref(), Some("南通海工"));
    assert_eq!(edit.at, world.clock.now().millis(), "the server's time");

    // A contact with a telephone number: the number is in the phone's companion, whose
    // entry masks it.
    let mut person = contact(li.profile, id, "王经理");
    person.phone = Some("13812345678".into());
    let person = phone.store_mut().create(person).expect("contact");
    sync(&mut phone).await;
    let made = last(about(&world, person.header.id).await);
    assert_eq!(made.operation, "record.create");
    let companion = SensitiveField::ContactPhone.companion_id(person.header.id);
    let phone_made = last(about(&world, companion).await);
    assert_eq!(phone_made.operation, "record.create");
    assert_eq!(phone_made.kind.as_deref(), Some("private"));
    let phone_change = phone_made
        .changes
        .iter()
        .find(|c| c.field == "value.text")
        .expect("listed");
    assert_eq!(phone_change.after.as_deref(), Some("***"));
    for entry in [&made, &phone_made] {
        assert!(
            !serde_json::to_string(entry)
                .unwrap()
                .contains("13812345678")
        );
    }

    // A check-in, with the server's verdict.
    let now = world.clock.now();
    let visit = phone
        .check_in(CheckInRequest {
            customer_id: id,
            position: DevicePosition {
                point: c.location.expect("a place"),
                accuracy_m: 12.0,
                fix_time: now.plus_millis(-3_000),
                mock: false,
                integrity: None,
                since_boot_ms: None,
            },
            note: "见了采购经理".into(),
            photos: Vec::new(),
        })
        .expect("checked in")
        .visit;
    sync(&mut phone).await;
    let checked = about(&world, visit.header.id).await;
    assert_eq!(checked.len(), 1, "{checked:#?}");
    assert_eq!(checked[0].operation, "visit.check_in");
    assert!(
        checked[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("check-in judged")),
        "{checked:#?}"
    );

    // A deal skips a stage: refused, with the rule.
    let deal = phone
        .create_opportunity(NewOpportunity {
            customer_id: id,
            name: "二期厂房智能化改造".into(),
            amount: yuan(380_000),
            expected_close: None,
            fields: FieldValues::new(),
        })
        .expect("opened");
    sync(&mut phone).await;
    phone
        .store_mut()
        .update::<Opportunity>(deal.header.id, |o| {
            o.stage_history.push(StageChange {
                from: Some(o.stage.clone()),
                to: "formal_communication".into(),
                kind: MoveKind::Forward,
                at: Timestamp::now(),
                by: li.profile,
                reason: None,
            });
            o.stage = "formal_communication".into();
            Ok(())
        })
        .expect("written locally");
    let report = sync(&mut phone).await;
    assert_eq!(report.rejected.len(), 1);
    let refused = last(about(&world, deal.header.id).await);
    assert_eq!(refused.operation, "push.rejected");
    assert_eq!(refused.rule.as_deref(), Some("stage.skip"));
    assert_eq!(refused.kind.as_deref(), Some("opportunity"));
    assert_eq!(refused.device_id, Some(device));
    assert_eq!(
        operations(&world, deal.header.id).await,
        ["record.create", "push.rejected"]
    );

    // A tampered phone deletes the customer, which a rep may not: refused, the permission
    // named; a deletion the matrix allows is record.delete (see the server's own tests).
    phone
        .store_mut()
        .delete(id, Some(li.profile), Some("duplicate".into()))
        .expect("deleted locally");
    sync(&mut phone).await;
    assert_eq!(
        operations(&world, id).await,
        ["record.create", "record.edit", "push.rejected"]
    );
    let refused = last(about(&world, id).await);
    assert!(refused.rule.is_some(), "{refused:#?}");
    assert!(
        refused
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("customer.delete")),
        "{refused:#?}"
    );
    world.stop().await;
}

on_postgres!(each_key_operation_of_a_reps_day_leaves_one_entry_with_who_and_what_changed,);
