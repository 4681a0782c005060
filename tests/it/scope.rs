//! Who receives what: a reassigned customer moves whole from one rep's device to another's,
//! a manager moved to another team swaps teams at the next sync though no record changed, and
//! a region never receives another region's records, not even in the raw sync bodies.

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::Customer;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{customer, daily_report, visit};
use fieldsales_tests::proxy::{Proxy, contains};
use fieldsales_tests::{Person, World, sync};
use serde_json::json;

/// Reps A and B and their manager in the East team, each with a device; A has created one
/// customer (not yet synced).
struct EastTeam {
    world: World,
    b: Person,
    rep_a: Engine,
    rep_b: Engine,
    manager: Engine,
    customer: RecordId,
}

async fn east_team_with_a_customer_of_a(name: &str) -> EastTeam {
    let mut world = World::start().await;
    let org = world.org().await;
    let a = world.person("rep.a", org.east_team, "sales_rep").await;
    let b = world.person("rep.b", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut rep_a = world.device(&a).await;
    let rep_b = world.device(&b).await;
    let manager = world.device(&m).await;
    let customer = rep_a
        .store_mut()
        .create(customer(a.profile, name))
        .expect("created")
        .header
        .id;
    EastTeam {
        world,
        b,
        rep_a,
        rep_b,
        manager,
        customer,
    }
}

/// The manager syncs, gives customer `id` to `to`, and syncs again.
async fn reassign(manager: &mut Engine, id: RecordId, to: RecordId) {
    sync(manager).await;
    manager
        .store_mut()
        .update::<Customer>(id, |c| {
            c.header.owner_id = Some(to);
            Ok(())
        })
        .expect("reassigned");
    sync(manager).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_reassigned_from_rep_a_to_rep_b_moves_with_its_whole_history() {
    let EastTeam {
        world,
        b,
        mut rep_a,
        mut rep_b,
        mut manager,
        customer: id,
    } = east_team_with_a_customer_of_a("南京金陵制药有限公司").await;
    for tier in ["B", "A", "A+"] {
        rep_a
            .store_mut()
            .update::<Customer>(id, |c| {
                c.tier = Some(tier.into());
                Ok(())
            })
            .expect("edited");
    }
    sync(&mut rep_a).await;
    sync(&mut rep_b).await;
    assert!(rep_b.store().get::<Customer>(id).is_err(), "not B's yet");

    reassign(&mut manager, id, b.profile).await;
    // The audit log holds the reassignment once, from the manager's phone, owner before → after.
    let manager_phone = world.device_id_of(&manager).await;
    let logged = world.audit_of(id).await;
    let moved: Vec<_> = logged
        .iter()
        .filter(|e| e.operation == "record.reassign")
        .collect();
    assert_eq!(moved.len(), 1, "{logged:#?}");
    assert_eq!(
        moved[0].device_id.map(|d| d.to_string()),
        Some(manager_phone)
    );
    let owner = moved[0]
        .changes
        .iter()
        .find(|c| c.field == "header.owner_id")
        .expect("the owner's change");
    assert_eq!(owner.after.as_deref(), Some(b.profile.to_string().as_str()));
    assert_ne!(owner.before, owner.after);

    sync(&mut rep_b).await;
    let received: Customer = rep_b.store().get(id).expect("B holds it");
    assert_eq!(received.header.owner_id, Some(b.profile));
    assert_eq!(received.tier.as_deref(), Some("A+"));
    let server = world.server_records();
    let full_history = |bytes: Vec<u8>| {
        automerge::AutoCommit::load(&bytes)
            .expect("loads")
            .get_changes(&[])
            .len()
    };
    let on_b = full_history(
        rep_b
            .store()
            .document_bytes(id)
            .expect("doc")
            .expect("some"),
    );
    let on_server = full_history(server.document_bytes(id).expect("doc").expect("some"));
    assert_eq!(on_b, on_server, "B received every change since creation");
    assert!(on_b >= 5, "creation, three edits, the reassignment: {on_b}");

    let report = sync(&mut rep_a).await;
    assert!(report.progress.records_removed >= 1);
    assert!(
        rep_a.store().get::<Customer>(id).is_err(),
        "A no longer holds it"
    );
    assert!(rep_a.store().document_bytes(id).expect("query").is_none());
    world.stop().await;
}

/// The pull reads the change sequence along indexes of who may see each record, so a record
/// that left a rep's view must still be found by that rep's next pull when it changed again
/// afterwards (its place in the sequence is then the later edit's, not the reassignment's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_reassigned_and_edited_again_while_its_old_rep_is_offline_still_leaves_their_device()
 {
    let EastTeam {
        world,
        b,
        mut rep_a,
        mut rep_b,
        mut manager,
        customer: id,
    } = east_team_with_a_customer_of_a("杭州西湖茶业有限公司").await;
    sync(&mut rep_a).await;

    reassign(&mut manager, id, b.profile).await;
    sync(&mut rep_b).await;
    for tier in ["B", "C"] {
        rep_b
            .store_mut()
            .update::<Customer>(id, |c| {
                c.tier = Some(tier.into());
                Ok(())
            })
            .expect("edited by B");
        sync(&mut rep_b).await;
    }

    let report = sync(&mut rep_a).await;
    assert_eq!(report.progress.records_removed, 1);
    assert!(rep_a.store().document_bytes(id).expect("query").is_none());
    // The manager still sees it, at B's last edit.
    sync(&mut manager).await;
    let held: Customer = manager.store().get(id).expect("manager holds it");
    assert_eq!(held.tier.as_deref(), Some("C"));
    assert_eq!(held.header.owner_id, Some(b.profile));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_moved_to_another_team_swaps_teams_at_the_next_sync_though_no_record_changed() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let zhang = world.person("zhang.wei", org.north_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut east = world.device(&li).await;
    let mut north = world.device(&zhang).await;
    let mut manager = world.device(&wang).await;
    let owned = |phone: &mut fieldsales_core::engine::Engine, owner, unit, name: &str| {
        let mut c = customer(owner, name);
        c.header.org_unit_id = Some(unit);
        phone.store_mut().create(c).expect("created").header.id
    };
    let shanghai = owned(&mut east, li.profile, org.east_team, "上海浦东机电有限公司");
    let beijing = owned(
        &mut north,
        zhang.profile,
        org.north_team,
        "北京海淀软件有限公司",
    );
    sync(&mut east).await;
    sync(&mut north).await;
    sync(&mut manager).await;
    assert!(manager.store().get::<Customer>(shanghai).is_ok());
    assert!(manager.store().get::<Customer>(beijing).is_err());
    sync(&mut east).await;

    // An admin moves the manager to the North team; no customer changes.
    world
        .put(
            json!({"kind": "user_profile", "id": wang.profile.to_string(),
                    "name": "wang.qiang", "employee_no": "wang.qiang",
                    "unit_id": org.north_team.to_string(), "roles": ["sales_manager"],
                    "zone": "Asia/Shanghai"}),
        )
        .await;
    let report = sync(&mut manager).await;
    assert!(
        report.progress.records_removed >= 1,
        "{:?}",
        report.progress
    );
    assert!(
        manager.store().get::<Customer>(shanghai).is_err(),
        "the East customer left the manager's phone"
    );
    assert!(
        manager
            .store()
            .document_bytes(shanghai)
            .expect("query")
            .is_none()
    );
    let received: Customer = manager
        .store()
        .get(beijing)
        .expect("the North customer arrived");
    assert_eq!(received.header.owner_id, Some(zhang.profile));

    // A rep whose view did not change is sent nothing again.
    let report = sync(&mut east).await;
    assert!(
        report.progress.records_down <= 1,
        "at most the manager's moved profile: {:?}",
        report.progress
    );
    assert!(east.store().get::<Customer>(shanghai).is_ok());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_north_rep_never_receives_an_east_record_in_any_sync_body() {
    let mut world = World::start().await;
    let org = world.org().await;
    let east_rep = world.person("east.rep", org.east_team, "sales_rep").await;
    let east_director = world
        .person("east.director", org.east, "regional_director")
        .await;
    let north_rep = world.person("north.rep", org.north_team, "sales_rep").await;
    let north_manager = world
        .person("north.manager", org.north_team, "sales_manager")
        .await;
    let mut east = world.device(&east_rep).await;
    let mut director = world.device(&east_director).await;
    let proxy = Proxy::start(world.addr).await;
    let mut north = world.device_via(&north_rep, &proxy.base).await;
    let mut north_boss = world.device_via(&north_manager, &proxy.base).await;

    let east_name = "杭州东方明珠贸易有限公司";
    let c = east
        .store_mut()
        .create(customer(east_rep.profile, east_name))
        .expect("created");
    let v = east
        .store_mut()
        .create(visit(east_rep.profile, c.header.id))
        .expect("created");
    let r = east
        .store_mut()
        .create(daily_report(east_rep.profile))
        .expect("created");
    let north_customer = north
        .store_mut()
        .create(customer(north_rep.profile, "北京燕山石化有限公司"))
        .expect("created")
        .header
        .id;
    sync(&mut east).await;
    sync(&mut director).await;
    // The director edits the east customer: it changes again on the server.
    director
        .store_mut()
        .update::<Customer>(c.header.id, |c| {
            c.tier = Some("A".into());
            Ok(())
        })
        .expect("edited");
    sync(&mut director).await;
    for _ in 0..2 {
        sync(&mut north).await;
        sync(&mut north_boss).await;
    }

    let east_ids = [c.header.id, v.header.id, r.header.id];
    for id in east_ids {
        assert!(
            director.store().get_any(id).is_ok(),
            "the east director sees {id}"
        );
        assert!(north.store().get_any(id).is_err());
        assert!(north_boss.store().get_any(id).is_err());
    }
    assert!(
        north_boss.store().get_any(north_customer).is_ok(),
        "sanity: the north pulls"
    );
    let bodies = proxy.response_bodies();
    assert!(bodies.len() >= 4, "{} responses", bodies.len());
    assert!(
        bodies
            .iter()
            .any(|b| contains(b, north_customer.as_uuid().as_bytes())),
        "the raw bodies are readable: the north customer's id is in them"
    );
    for body in &bodies {
        for id in east_ids {
            assert!(!contains(body, id.as_uuid().as_bytes()), "raw id of {id}");
            assert!(
                !contains(body, id.to_string().as_bytes()),
                "text id of {id}"
            );
        }
        assert!(!contains(body, east_name.as_bytes()));
        assert!(
            !contains(body, "见了采购经理".as_bytes()),
            "the east visit's note"
        );
    }
    world.stop().await;
}

on_postgres!(
    a_customer_reassigned_from_rep_a_to_rep_b_moves_with_its_whole_history,
    a_customer_reassigned_and_edited_again_while_its_old_rep_is_offline_still_leaves_their_device,
    a_manager_moved_to_another_team_swaps_teams_at_the_next_sync_though_no_record_changed,
    a_north_rep_never_receives_an_east_record_in_any_sync_body,
);

/// An admin makes a rep a manager and, later, a rep again: at the next sync the phone's own
/// rules act as the server now sees the user (its `Me` comes with every sync answer), not as
/// at sign-in — the promoted phone may reassign a colleague's customer, the demoted one no
/// longer may, and the identity survives the app restarting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_reaches_the_phones_own_rules_at_the_next_sync() {
    use fieldsales_core::process::permissions::Operation;
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world.person("wang.fang", org.east_team, "sales_rep").await;
    let mut li_phone = world.device(&li).await;
    let mut wang_phone = world.device(&wang).await;
    let theirs = li_phone
        .store_mut()
        .create(customer(li.profile, "杭州钱塘精密仪器有限公司"))
        .expect("created")
        .header
        .id;
    sync(&mut li_phone).await;
    sync(&mut wang_phone).await;
    assert!(
        wang_phone.store().get::<Customer>(theirs).is_err(),
        "a rep sees their own"
    );

    let set_role = |role: &str| {
        json!({"kind": "user_profile", "id": wang.profile.to_string(),
               "name": "wang.fang", "employee_no": "wang.fang",
               "unit_id": org.east_team.to_string(), "roles": [role],
               "zone": "Asia/Shanghai"})
    };
    world.put(set_role("sales_manager")).await;
    sync(&mut wang_phone).await;
    assert_eq!(wang_phone.me().roles, vec!["sales_manager".to_owned()]);
    assert_eq!(
        wang_phone.me().scope,
        fieldsales_core::record::DataScope::Subtree
    );
    assert!(
        wang_phone
            .allowed_operations(theirs)
            .expect("the team's customer arrived")
            .contains(&Operation::Reassign),
        "the promoted phone may hand the team's customers over"
    );
    // The app restarts: the identity the last sync brought is the one it resumes with.
    let store = wang_phone.into_store();
    let mut wang_phone = Engine::resume(store).expect("resumes").expect("signed in");
    assert_eq!(wang_phone.me().roles, vec!["sales_manager".to_owned()]);

    world.put(set_role("sales_rep")).await;
    sync(&mut wang_phone).await;
    assert_eq!(wang_phone.me().roles, vec!["sales_rep".to_owned()]);
    assert!(
        wang_phone.store().get::<Customer>(theirs).is_err(),
        "the colleague's customer left the demoted phone"
    );
    world.stop().await;
}
