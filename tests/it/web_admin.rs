//! The admin console: what it reads and writes through the admin API, tried as an admin and
//! as a rep would (the hand-over of a leaving rep's work, the permission matrix, the process
//! configuration), and the page itself in a real (headless) browser: an admin edits the
//! matrix and the process configuration (a bad value refused in the form), hands a leaving
//! rep's customers over and finds it in the audit log; a rep is refused; every screen fits a
//! 390 px phone. Screenshots at 390 px and 1440 px go under the target directory
//! (`web-artifacts/`).

use fieldsales_core::RecordId;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::testing::{contact, customer, lead, opportunity, yuan};
use fieldsales_tests::{Person, TENANT, World, records, sync};
use serde_json::{Value, json};

use super::browser::{Chromedriver, at_both_widths};

/// A GET of the admin API with `token`: status and JSON.
async fn get(world: &World, token: &str, path: &str) -> (u16, Value) {
    let response = world
        .http
        .get(format!("{}{path}", world.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("call");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A call with a JSON body and `token`: status and JSON.
async fn send(
    world: &World,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = world
        .http
        .request(method, format!("{}{path}", world.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("call");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A browser session's token for `person`.
async fn browser_token(world: &World, person: &Person) -> String {
    let (status, body) = send(
        world,
        reqwest::Method::POST,
        "",
        "/v1/auth/browser",
        json!({"tenant": TENANT, "login": person.login, "password": fieldsales_tests::PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Loads the standard process as revision 1.
async fn load_standard_process(world: &World) {
    let toml = SalesProcess::standard().to_toml().expect("toml");
    let (status, body) = world
        .admin(
            "/v1/admin/records",
            json!({"kind": "process_config", "toml": toml, "revision": 1}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// What a rep built before leaving: a customer with a contact and an open deal, and a lead.
struct LeaversWork {
    customer: RecordId,
    contact: RecordId,
    lead: RecordId,
    deal: RecordId,
}

async fn leavers_work(world: &mut World, leaver: &Person, unit: RecordId) -> LeaversWork {
    let mut phone = world.device(leaver).await;
    let me = leaver.profile;
    let mut c = customer(me, "上海宏达贸易有限公司");
    c.header.org_unit_id = Some(unit);
    let c = phone.store_mut().create(c).expect("customer").header.id;
    let mut k = contact(me, c, "钱经理");
    k.header.org_unit_id = Some(unit);
    let k = phone.store_mut().create(k).expect("contact").header.id;
    let mut l = lead(me, "苏州新城电子");
    l.header.org_unit_id = Some(unit);
    let l = phone.store_mut().create(l).expect("lead").header.id;
    let mut o = opportunity(me, c, "宏达 年度采购", yuan(80_000));
    o.header.org_unit_id = Some(unit);
    let o = phone.store_mut().create(o).expect("deal").header.id;
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    LeaversWork {
        customer: c,
        contact: k,
        lead: l,
        deal: o,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_hands_a_leaving_reps_work_to_a_colleague_and_the_audit_log_names_both() {
    let mut world = World::start().await;
    let org = world.org().await;
    let leaver = world
        .named_person("wang.wu", "王五", org.east_team, "sales_rep")
        .await;
    let colleague = world
        .named_person("zhao.liu", "赵六", org.north_team, "sales_rep")
        .await;
    let work = leavers_work(&mut world, &leaver, org.east_team).await;
    let mut leavers_phone = world.device(&leaver).await;
    sync(&mut leavers_phone).await;
    assert!(records(leavers_phone.store()).contains_key(&work.customer));

    // Refused: by a rep, to themselves, to nobody.
    let rep_token = browser_token(&world, &leaver).await;
    let hand =
        |from: RecordId, to: RecordId| json!({"from": from.to_string(), "to": to.to_string()});
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &rep_token,
        "/v1/admin/hand-over",
        hand(leaver.profile, leaver.profile),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("admin_required"))
    );
    let (status, body) = world
        .admin("/v1/admin/hand-over", hand(leaver.profile, leaver.profile))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_record")),
        "{body}"
    );
    let (status, body) = world
        .admin("/v1/admin/hand-over", hand(leaver.profile, RecordId::new()))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_record")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("to:"),
        "{body}"
    );
    let (status, body) = world
        .admin(
            "/v1/admin/hand-over",
            json!({"from": leaver.profile.to_string()}),
        )
        .await;
    assert_eq!(status, 400, "a body without `to`: {body}");
    // Nothing moved by a refusal.
    assert_eq!(
        world.audit_of(work.customer).await.len(),
        1,
        "only its creation"
    );

    let (status, moved) = world
        .admin(
            "/v1/admin/hand-over",
            hand(leaver.profile, colleague.profile),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        moved,
        json!({"customers": 1, "contacts": 1, "leads": 1, "opportunities": 1})
    );

    // The colleague's phone gets all of it, theirs and in their unit.
    let mut theirs = world.device(&colleague).await;
    sync(&mut theirs).await;
    let held = records(theirs.store());
    for id in [work.customer, work.contact, work.lead, work.deal] {
        let record = held
            .get(&id)
            .unwrap_or_else(|| panic!("{id} reached the colleague"));
        let header = record.header();
        assert_eq!(header.owner_id, Some(colleague.profile), "{id}");
        assert_eq!(header.org_unit_id, Some(org.north_team), "{id}");
    }
    match held.get(&work.lead) {
        Some(AnyRecord::Lead(l)) => {
            let last = l.events.last().expect("an event");
            assert_eq!(last.rep_id, Some(colleague.profile));
            assert!(l.is_open());
        }
        other => panic!("a lead: {other:?}"),
    }
    // The leaver's phone no longer holds them.
    sync(&mut leavers_phone).await;
    let left = records(leavers_phone.store());
    for id in [work.customer, work.contact, work.lead, work.deal] {
        assert!(!left.contains_key(&id), "{id} left the leaver's phone");
    }

    // The audit log names the admin and both people, field by field.
    let entries = world.audit_of(work.customer).await;
    let last = entries.last().expect("an entry");
    assert_eq!(last.operation, "record.reassign");
    let detail = last.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("王五") && detail.contains("赵六"),
        "{detail}"
    );
    assert!(last.account_id.is_some(), "the admin's account: {last:?}");
    assert!(
        last.changes.iter().any(|c| c.field == "header.owner_id"
            && c.after.as_deref() == Some(colleague.profile.to_string().as_str())),
        "{:?}",
        last.changes
    );

    // Nothing is left to hand over.
    let (status, again) = world
        .admin(
            "/v1/admin/hand-over",
            hand(leaver.profile, colleague.profile),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        again,
        json!({"customers": 0, "contacts": 0, "leads": 0, "opportunities": 0})
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_a_roles_matrix_and_the_server_enforces_it_at_the_next_push() {
    let mut world = World::start().await;
    let org = world.org().await;
    load_standard_process(&world).await;
    let rep = world.person("li.na", org.east_team, "sales_rep").await;
    let token = world.admin_token.clone();

    let (status, console) = get(&world, &token, "/v1/admin/console").await;
    assert_eq!(status, 200, "{console}");
    assert_eq!(console["process"]["revision"], 1);
    let matrix = console["process"]["matrix"]["sales_rep"].clone();
    assert_eq!(matrix["kinds"]["customer"]["create"], "own", "{matrix}");
    assert!(console["units"].as_array().is_some_and(|u| u.len() == 5));
    let li = console["people"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["id"] == rep.profile.to_string()))
        .expect("the rep is listed");
    assert_eq!(li["account"]["login"], "li.na");
    assert!(
        console["kinds"]
            .as_array()
            .is_some_and(|k| k.contains(&json!("customer")))
    );
    assert!(
        !console["kinds"]
            .as_array()
            .is_some_and(|k| k.contains(&json!("private")))
    );

    // A rep may not read the console or write the matrix.
    let rep_token = browser_token(&world, &rep).await;
    let (status, _) = get(&world, &rep_token, "/v1/admin/console").await;
    assert_eq!(status, 403);
    let put = |revision: i64, permissions: Value| json!({"role": "sales_rep", "revision": revision, "permissions": permissions});
    let (status, body) = send(
        &world,
        reqwest::Method::PUT,
        &rep_token,
        "/v1/admin/matrix",
        put(1, matrix.clone()),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("admin_required"))
    );

    // Refused: a stale revision, an unknown reach, kind or role.
    let mut without_create = matrix.clone();
    without_create["kinds"]["customer"]
        .as_object_mut()
        .expect("grants")
        .remove("create");
    let m = reqwest::Method::PUT;
    let (status, body) = send(
        &world,
        m.clone(),
        &token,
        "/v1/admin/matrix",
        put(0, without_create.clone()),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let mut galaxy = matrix.clone();
    galaxy["kinds"]["customer"]["create"] = json!("galaxy");
    let (status, body) = send(
        &world,
        m.clone(),
        &token,
        "/v1/admin/matrix",
        put(1, galaxy),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_body")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("galaxy"),
        "{body}"
    );
    let mut unicorns = matrix.clone();
    unicorns["kinds"]["unicorn"] = json!({"read": "all"});
    let (status, body) = send(
        &world,
        m.clone(),
        &token,
        "/v1/admin/matrix",
        put(1, unicorns),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_record")),
        "{body}"
    );
    let mut nobody = put(1, matrix.clone());
    nobody["role"] = json!("astronaut");
    let (status, body) = send(&world, m.clone(), &token, "/v1/admin/matrix", nobody).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_record")),
        "{body}"
    );
    let (_, still) = get(&world, &token, "/v1/admin/console").await;
    assert_eq!(still["process"]["revision"], 1, "nothing was written");

    // Reps may no longer create customers: the server refuses the next one a phone pushes.
    let (status, body) = send(
        &world,
        m,
        &token,
        "/v1/admin/matrix",
        put(1, without_create),
    )
    .await;
    assert_eq!(
        (status, body.clone()),
        (200, json!({"revision": 2})),
        "{body}"
    );
    let (_, after) = get(&world, &token, "/v1/admin/console").await;
    assert_eq!(after["process"]["revision"], 2);
    assert!(
        after["process"]["matrix"]["sales_rep"]["kinds"]["customer"]
            .get("create")
            .is_none()
    );
    assert_eq!(
        after["process"]["matrix"]["sales_rep"]["kinds"]["customer"]["read"], "own",
        "the rest of the role's matrix stays"
    );
    let mut phone = world.device(&rep).await;
    sync(&mut phone).await;
    let mut c = customer(rep.profile, "杭州新开客户有限公司");
    c.header.org_unit_id = Some(org.east_team);
    let c = phone
        .store_mut()
        .create(c)
        .expect("stored on the phone")
        .header
        .id;
    let report = sync(&mut phone).await;
    assert!(
        report.rejected.iter().any(|(id, _)| *id == c),
        "the server refused the customer: {:?}",
        report.rejected
    );
    world.stop().await;
}

/// An import through the admin API: status and JSON.
async fn import(world: &World, token: &str, query: &str, body: &[u8]) -> (u16, Value) {
    let response = world
        .http
        .post(format!("{}/v1/admin/import?{query}", world.base))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body.to_vec())
        .send()
        .await
        .expect("import");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_customers_and_contacts_with_a_row_report_and_reps_get_them() {
    let mut world = World::start().await;
    let org = world.org().await;
    let rep = world
        .named_person("wang.wu", "王五", org.east_team, "sales_rep")
        .await;
    let token = world.admin_token.clone();
    // Row 2 is good; row 3 has no name; row 4 repeats row 2; row 5 names nobody as owner.
    let customers = "客户名称,负责人,行业\n\
                     上海宏达贸易有限公司,wang.wu,电子\n\
                     ,wang.wu,电子\n\
                     上海宏达贸易有限公司,wang.wu,电子\n\
                     杭州远景科技有限公司,nobody,软件\n";

    // Refused as a whole, nothing written: by a rep, an unknown format, an unknown default
    // owner.
    let rep_token = browser_token(&world, &rep).await;
    let (status, body) = import(
        &world,
        &rep_token,
        "entity=customers&file=c.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("admin_required"))
    );
    let (status, body) = import(
        &world,
        &token,
        "entity=customers&file=c.pdf",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("file")),
        "{body}"
    );
    let (status, body) = import(
        &world,
        &token,
        "entity=customers&file=c.csv&default_owner=nobody",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("default_owner")),
        "{body}"
    );
    let (status, body) = import(
        &world,
        &token,
        "entity=unicorns&file=c.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = import(
        &world,
        &token,
        "entity=customers&file=c.xlsx",
        b"not a workbook",
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("file")),
        "{body}"
    );

    // A file past the row limit is refused before any row is checked.
    let mut huge = String::from("客户名称,负责人\n");
    for i in 0..5_001 {
        huge.push_str(&format!("客户{i},wang.wu\n"));
    }
    let (status, body) = import(
        &world,
        &token,
        "entity=customers&file=big.csv",
        huge.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("file")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("5001 rows"),
        "{body}"
    );

    // A dry run reports and writes nothing.
    let (status, report) = import(
        &world,
        &token,
        "entity=customers&file=c.csv&dry_run=true",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["imported"].as_u64(), report["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    let mut phone = world.device(&rep).await;
    sync(&mut phone).await;
    let customers_on = |phone: &fieldsales_core::engine::Engine| {
        records(phone.store())
            .into_values()
            .filter_map(|r| match r {
                AnyRecord::Customer(c) => Some(c),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(customers_on(&phone).is_empty(), "a dry run wrote nothing");

    // The import: one row written, three refused with their row numbers and reasons.
    let (status, report) = import(
        &world,
        &token,
        "entity=customers&file=c.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows"], 4);
    assert_eq!(report["imported"], 1);
    let refused: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap_or(0),
                r["reasons"][0]["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            (3, "missing_field".to_owned()),
            (4, "duplicate_in_file".to_owned()),
            (5, "unknown_owner".to_owned())
        ]
    );
    sync(&mut phone).await;
    let held = customers_on(&phone);
    assert_eq!(held.len(), 1, "{held:?}");
    let hongda = &held[0];
    assert_eq!(hongda.legal_name, "上海宏达贸易有限公司");
    assert_eq!(hongda.header.owner_id, Some(rep.profile));
    let entries = world.audit_of(hongda.header.id).await;
    assert_eq!(entries[0].operation, "record.create");
    assert_eq!(entries[0].detail.as_deref(), Some("imported from c.csv"));
    assert!(entries[0].account_id.is_some(), "the admin is named");

    // Again: nothing new, the row reported as present.
    let (_, again) = import(
        &world,
        &token,
        "entity=customers&file=c.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(again["imported"], 0);
    assert_eq!(again["already_present"][0]["row"], 2);

    // Contacts at it, their phones in companions the rep's phone joins.
    let contacts = "客户名称,姓名,电话,负责人\n上海宏达贸易有限公司,钱经理,13800138000,wang.wu\n";
    let (status, report) = import(
        &world,
        &token,
        "entity=contacts&file=k.csv",
        contacts.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, report["imported"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    sync(&mut phone).await;
    let contact = records(phone.store())
        .into_values()
        .find_map(|r| match r {
            AnyRecord::Contact(c) => Some(c),
            _ => None,
        })
        .expect("the contact reached the rep");
    let joined: fieldsales_core::record::Contact = {
        use fieldsales_core::store::StoreRead;
        phone.store().get(contact.header.id).expect("joined")
    };
    assert_eq!(joined.phone.as_deref(), Some("13800138000"));
    assert_eq!(contact.customer_id, hongda.header.id);

    // Products: the catalogue reaches every rep; a code used twice in the file is refused.
    let products = "产品编码,产品名称,标准价格,成本\n\
                    P-100,工业传感器,1280.00,700\n\
                    P-100,工业传感器 二代,1580.00,800\n";
    let (status, report) = import(
        &world,
        &token,
        "entity=products&file=p.csv",
        products.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, report["imported"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    assert_eq!(report["rejected"][0]["row"], 3, "{report}");
    sync(&mut phone).await;
    let sensor = records(phone.store())
        .into_values()
        .find_map(|r| match r {
            AnyRecord::Product(p) => Some(p),
            _ => None,
        })
        .expect("the product reached the rep");
    assert_eq!(sensor.code, "P-100");
    world.stop().await;
}

// ---------------------------------------------------------------------------------------------
// In the browser.

/// The console's state: `ready`, `refused`, `error`, or loading.
const CONSOLE_STATE: &str = "return document.body.dataset.state";

/// Signs in on the console page at `base` and waits until it has drawn (or refused).
async fn sign_in_to_console(browser: &Chromedriver, base: &str, login: &str, password: &str) {
    browser.go(&format!("{base}/admin?lang=en")).await;
    browser.type_into("#tenant", TENANT).await;
    browser.type_into("#login", login).await;
    browser.type_into("#password", password).await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "const s = document.body.dataset.state; \
             return s === 'ready' || s === 'refused' || s === 'error'",
        )
        .await;
}

/// Waits until a form answers in `status` or `error`, and checks that it succeeded.
async fn succeeded(browser: &Chromedriver, status: &str, error: &str) {
    browser
        .wait_for(&format!(
            "return document.getElementById('{status}').textContent \
             || document.getElementById('{error}').textContent"
        ))
        .await;
    assert_eq!(browser.text(&format!("#{error}")).await, "", "{status}");
}

/// Opens a tab of the console.
async fn tab(browser: &Chromedriver, name: &str) {
    browser.click(&format!("#tabs [data-tab='{name}']")).await;
    browser
        .wait_for(&format!(
            "return !document.getElementById('tab-{name}').hidden"
        ))
        .await;
}

/// The current tab at a 390 px phone's width (no horizontal overflow) and at 1440 px, as
/// screenshots.
async fn screens(browser: &Chromedriver, name: &str) {
    at_both_widths(browser, &format!("admin-{name}"), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_browser_an_admin_edits_the_matrix_and_process_hands_work_over_and_finds_it_in_the_audit_log()
 {
    let mut world = World::start().await;
    let org = world.org().await;
    load_standard_process(&world).await;
    let leaver = world
        .named_person("wang.wu", "王五", org.east_team, "sales_rep")
        .await;
    let colleague = world
        .named_person("zhao.liu", "赵六", org.north_team, "sales_rep")
        .await;
    let work = leavers_work(&mut world, &leaver, org.east_team).await;
    let browser = Chromedriver::start_for(CONSOLE_STATE, "#status").await;

    // A rep is refused by the API, and the page says so.
    sign_in_to_console(
        &browser,
        &world.base,
        &leaver.login,
        fieldsales_tests::PASSWORD,
    )
    .await;
    assert_eq!(browser.script(CONSOLE_STATE).await, "refused");
    assert!(!browser.text("#refused").await.is_empty());
    browser.click("#sign-out").await;

    sign_in_to_console(
        &browser,
        &world.base,
        "admin",
        fieldsales_tests::ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(
        browser.script(CONSOLE_STATE).await,
        "ready",
        "{}",
        browser.text("#status").await
    );

    // The org tree and the people, by name.
    tab(&browser, "org").await;
    let tree = browser.text("#tab-org").await;
    assert!(
        tree.contains("华东大区") && tree.contains("上海一组"),
        "{tree}"
    );
    // A unit renamed and given a manager; it cannot move under itself.
    browser
        .script(&format!(
            "const p = document.getElementById('unit-pick'); p.value = '{}'; p.dispatchEvent(new Event('change')); return true",
            org.east_team
        ))
        .await;
    let own = browser
        .script(&format!(
            "return document.querySelector(\"#unit-parent option[value='{}']\").disabled",
            org.east_team
        ))
        .await;
    assert_eq!(own, json!(true), "a unit is no parent of itself");
    browser.type_into("#unit-name", "上海一组（浦东）").await;
    browser
        .script(&format!(
            "document.getElementById('unit-manager').value = '{}'; return true",
            leaver.profile
        ))
        .await;
    browser.click("#add-unit").await;
    succeeded(&browser, "unit-status", "unit-error").await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    let team = console["units"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["id"] == org.east_team.to_string()))
        .cloned()
        .expect("the team");
    assert_eq!(team["name"], "上海一组（浦东）");
    assert_eq!(
        team["parent_id"],
        org.east.to_string(),
        "still in its region"
    );
    assert_eq!(team["manager_id"], leaver.profile.to_string());
    assert_eq!(team["zone"], "Asia/Shanghai", "its zone kept");
    screens(&browser, "org").await;
    tab(&browser, "users").await;
    let people = browser.text("#tab-users").await;
    assert!(
        people.contains("王五") && people.contains("赵六"),
        "{people}"
    );
    screens(&browser, "users").await;

    // The matrix: reps may no longer delete customers.
    tab(&browser, "roles").await;
    browser
        .script("const s = document.getElementById('matrix-role'); s.value = 'sales_rep'; s.dispatchEvent(new Event('change')); return true")
        .await;
    browser
        .wait_for("return document.querySelector(\"#matrix select[data-kind='customer'][data-op='delete']\") !== null")
        .await;
    browser
        .script("const s = document.querySelector(\"#matrix select[data-kind='customer'][data-op='delete']\"); s.value = ''; s.dispatchEvent(new Event('change')); return true")
        .await;
    browser.click("#save-matrix").await;
    browser
        .wait_for("return document.getElementById('matrix-status').textContent")
        .await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    assert_eq!(console["process"]["revision"], 2);
    assert!(
        console["process"]["matrix"]["sales_rep"]["kinds"]["customer"]
            .get("delete")
            .is_none()
    );
    assert_eq!(
        console["process"]["matrix"]["sales_rep"]["kinds"]["customer"]["create"],
        "own"
    );
    // A role's setting: reps no longer see contacts' phone numbers.
    let rep_role = console["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "sales_rep"))
        .and_then(|r| r["id"].as_str())
        .expect("the rep role")
        .to_owned();
    browser
        .script(&format!(
            "const p = document.getElementById('role-pick'); p.value = '{rep_role}'; p.dispatchEvent(new Event('change'));
             document.querySelector(\"#role-hidden input[value='contact.phone']\").checked = true; return true"
        ))
        .await;
    browser.click("#save-role").await;
    succeeded(&browser, "role-status", "role-error").await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    let role = console["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "sales_rep"))
        .cloned()
        .expect("the rep role");
    assert_eq!(role["hidden_fields"], json!(["contact.phone"]), "{role}");
    assert_eq!(role["data_scope"], "own", "the rest of the role stays");
    screens(&browser, "roles").await;

    // The process configuration: a bad value is refused in the form, the text kept.
    tab(&browser, "process").await;
    let text = browser
        .script("return document.getElementById('process-toml').value")
        .await;
    let text = text.as_str().expect("the file").to_owned();
    assert!(text.contains("[[stages]]"), "the whole file: {text}");
    let broken = text.replacen("name = ", "name = 42 #", 1);
    browser
        .script(&format!(
            "document.getElementById('process-toml').value = {}; return true",
            serde_json::to_string(&broken).expect("json")
        ))
        .await;
    browser.click("#save-process").await;
    let error = browser
        .wait_for("return document.getElementById('process-error').textContent")
        .await;
    assert!(!error.as_str().unwrap_or_default().is_empty());
    assert_eq!(
        browser
            .script("return document.getElementById('process-toml').value")
            .await,
        json!(broken),
        "the admin's text stays to be fixed"
    );
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    assert_eq!(console["process"]["revision"], 2, "nothing was loaded");
    // A good change loads as the next revision.
    let renamed = text.replacen("name = \"", "name = \"Q4 ", 1);
    browser
        .script(&format!(
            "document.getElementById('process-toml').value = {}; return true",
            serde_json::to_string(&renamed).expect("json")
        ))
        .await;
    browser.click("#save-process").await;
    browser
        .wait_for("return document.getElementById('process-status').textContent")
        .await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    assert_eq!(console["process"]["revision"], 3);
    assert!(
        console["process"]["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Q4 "),
        "{}",
        console["process"]["name"]
    );
    screens(&browser, "process").await;

    // The leaving rep's work goes to a colleague.
    tab(&browser, "users").await;
    browser
        .script(&format!(
            "const f = document.getElementById('hand-over-from'); f.value = '{}'; f.dispatchEvent(new Event('change'));
             const t = document.getElementById('hand-over-to'); t.value = '{}'; t.dispatchEvent(new Event('change')); return true",
            leaver.profile, colleague.profile
        ))
        .await;
    browser.click("#hand-over-form button[type='submit']").await;
    let result = browser
        .wait_for("return document.getElementById('hand-over-result').textContent")
        .await;
    assert!(
        result.as_str().unwrap_or_default().contains('1'),
        "{result}"
    );
    let entries = world.audit_of(work.customer).await;
    assert_eq!(
        entries.last().map(|e| e.operation.as_str()),
        Some("record.reassign")
    );

    // A new rep, made in the form, can sign in.
    tab(&browser, "users").await;
    browser.type_into("#new-user-name", "孙七").await;
    browser.type_into("#new-user-employee-no", "E-0007").await;
    browser
        .script(&format!(
            "const u = document.getElementById('new-user-unit'); u.value = '{}'; u.dispatchEvent(new Event('change'));
             document.querySelector(\"#new-user-roles input[value='sales_rep']\").checked = true; return true",
            org.east_team
        ))
        .await;
    browser.type_into("#new-user-login", "sun.qi").await;
    browser
        .type_into("#new-user-password", fieldsales_tests::PASSWORD)
        .await;
    browser.click("#create-user").await;
    succeeded(&browser, "new-user-status", "new-user-error").await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    let sun = console["people"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "孙七"))
        .cloned()
        .expect("the new rep is listed");
    assert_eq!(sun["unit_id"], org.east_team.to_string());
    assert_eq!(sun["roles"], json!(["sales_rep"]));
    assert_eq!(sun["account"]["login"], "sun.qi");
    let sun_qi = Person {
        login: "sun.qi".into(),
        profile: sun["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("a record id"),
    };
    browser_token(&world, &sun_qi).await;

    // The leaver is deactivated: account revoked, profile left today.
    browser
        .click(&format!(
            "button[data-action='deactivate'][data-person='{}']",
            leaver.profile
        ))
        .await;
    browser.accept_dialog().await;
    succeeded(&browser, "people-status", "people-error").await;
    let (_, console) = get(&world, &world.admin_token, "/v1/admin/console").await;
    let wang = console["people"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["id"] == leaver.profile.to_string()))
        .cloned()
        .expect("the leaver is still listed");
    assert_eq!(wang["active"], false);
    assert!(wang["left_on"].is_string(), "{wang}");
    assert!(wang["account"]["revoked_at"].is_i64(), "{wang}");
    let (status, _) = send(
        &world,
        reqwest::Method::POST,
        "",
        "/v1/auth/browser",
        json!({"tenant": TENANT, "login": leaver.login, "password": fieldsales_tests::PASSWORD}),
    )
    .await;
    assert_eq!(status, 401, "the leaver can no longer sign in");

    // An import with its row report.
    tab(&browser, "import").await;
    let dir = tempfile::tempdir().expect("dir");
    let csv = dir.path().join("新客户.csv");
    std::fs::write(
        &csv,
        "客户名称,负责人\n苏州工业园区新材料有限公司,E-0007\n,E-0007\n",
    )
    .expect("file");
    browser
        .script("const s = document.getElementById('import-entity'); s.value = 'customers'; return true")
        .await;
    browser.upload("#import-file", &csv).await;
    browser.click("#import-submit").await;
    succeeded(&browser, "import-result", "import-error").await;
    assert_eq!(
        browser
            .script("return document.getElementById('import-result').dataset.imported")
            .await,
        "1",
        "{}",
        browser.text("#import-rows").await
    );
    let refused = browser
        .text("#import-rows tr[data-outcome='rejected']")
        .await;
    assert!(refused.starts_with('3'), "row 3 refused: {refused}");
    screens(&browser, "import").await;

    // And the admin finds it in the audit log, by operation.
    tab(&browser, "audit").await;
    browser
        .script("const s = document.querySelector('#audit-form select'); s.value = 'record.reassign'; s.dispatchEvent(new Event('change')); return true")
        .await;
    browser.click("#audit-form button[type='submit']").await;
    let log = browser
        .wait_for("const t = document.getElementById('audit'); return t && t.textContent.includes('王五') && t.textContent")
        .await;
    let log = log.as_str().unwrap_or_default();
    assert!(log.contains("赵六"), "{log}");
    assert!(
        !log.contains("auth.sign_in"),
        "filtered by operation: {log}"
    );
    screens(&browser, "audit").await;

    browser.quit().await;
    world.stop().await;
}

on_postgres!(
    an_admin_hands_a_leaving_reps_work_to_a_colleague_and_the_audit_log_names_both,
    an_admin_imports_customers_and_contacts_with_a_row_report_and_reps_get_them,
);
