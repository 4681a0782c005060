//! Deals through `fieldsales device ... opportunity` against `fieldsales server`: a rep moves
//! a deal with no signal and the manager's phone shows it after both sync; a move the stage
//! rules refuse fails on the phone with exit code 3 and the rule's code.

use fieldsales_cli::demo::Admin;
use fieldsales_core::record::{DataScope, OrgLevel};
use serde_json::{Value, json};

use crate::device::{ADMIN_PASSWORD, Phone, acme_server};

/// A team with a rep (`wangfang`) and their manager (`zhaomin`).
pub fn rep_and_manager(base: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let admin = Admin::sign_in(base, "acme", "admin", ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        for (code, name, scope) in [
            ("sales_rep", "销售代表", DataScope::Own),
            ("sales_manager", "销售经理", DataScope::Subtree),
        ] {
            admin.role(code, name, scope).await.expect("role");
        }
        let hq = admin.unit("总部", OrgLevel::Hq, None).await.expect("hq");
        let team = admin
            .unit("上海一组", OrgLevel::Team, Some(hq))
            .await
            .expect("team");
        admin
            .person("wangfang", "王芳", team, "sales_rep")
            .await
            .expect("王芳");
        admin
            .person("zhaomin", "赵敏", team, "sales_manager")
            .await
            .expect("赵敏");
    });
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// The values the standard process's 立项 (initiation) stage asks for.
const INITIATION: [&str; 7] = [
    "budget=150000",
    "expected_amount=120,000",
    "latest_bid_date=2027-03-01",
    "design_unit=华东设计院",
    "decision_unit=华鑫集团采购部",
    "user_unit=华鑫电子一厂",
    "decision_chain_visits=采购经理,总经理",
];

#[test]
fn a_rep_moves_a_deal_offline_and_the_manager_sees_it_after_sync() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    rep_and_manager(&base);
    let rep = Phone::new(dir.path(), "wangfang");
    let manager = Phone::new(dir.path(), "zhaomin");
    rep.login(&base, "wangfang");
    manager.login(&base, "zhaomin");

    // No signal from here on for the rep: a customer, a deal, a move with its form filled.
    let customer = id(&rep.ok(&["customer", "add", "--name", "上海华鑫电子科技有限公司"]));
    let deal = rep.ok(&[
        "opportunity",
        "create",
        "--customer",
        &customer,
        "--name",
        "产线传感器改造",
        "--amount",
        "¥120,000",
        "--expected-close",
        "2027-04-30",
    ]);
    assert_eq!(deal["stage"], "opportunity", "a deal opens in 商机");
    assert_eq!(
        deal["amount"],
        json!({"minor": 12_000_000, "currency": "CNY"})
    );
    let deal = id(&deal);
    let mut args = vec!["opportunity", "move", &deal, "--to", "initiation"];
    for f in INITIATION {
        args.extend(["--field", f]);
    }
    let moved = rep.ok(&args);
    assert_eq!(moved["stage"], "initiation");
    assert_eq!(moved["history"].as_array().expect("history").len(), 2);
    assert_eq!(
        moved["fields"]["budget"],
        json!({"Money": {"minor": 15_000_000, "currency": "CNY"}})
    );

    // Signal again: the rep's phone pushes, the manager's pulls.
    let synced = rep.ok(&["sync"]);
    assert_eq!(synced["rejected"], json!([]), "the server accepts the move");
    manager.ok(&["sync"]);
    let seen = manager.ok(&["opportunity", "show", &deal]);
    assert_eq!(seen["stage"], "initiation", "{seen}");
    assert_eq!(seen["history"], moved["history"], "the same history");
    let listed = manager.ok(&["opportunity", "list", "--stage", "initiation"]);
    assert_eq!(
        listed["opportunities"].as_array().expect("deals").len(),
        1,
        "{listed}"
    );

    // On to a close: the rep loses it with a reason, and the manager's funnel counts it.
    let lost = rep.ok(&["opportunity", "lose", &deal, "--reason", "客户预算冻结"]);
    assert_eq!(lost["stage"], "lost");
    assert_eq!(lost["outcome"]["kind"], "lost");
    rep.ok(&["sync"]);
    manager.ok(&["sync"]);
    assert_eq!(
        manager.ok(&["opportunity", "show", &deal])["outcome"]["reason"],
        "客户预算冻结"
    );
    let funnel = &manager.ok(&["dashboard"])["funnel"]["total"];
    assert_eq!(funnel["lost"], 1, "{funnel}");
    assert_eq!(
        funnel["pipeline"]["minor"], 0,
        "nothing left open: {funnel}"
    );
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn a_stage_move_the_rules_refuse_exits_with_code_three_and_names_the_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    rep_and_manager(&base);
    let rep = Phone::new(dir.path(), "wangfang");
    rep.login(&base, "wangfang");
    let customer = id(&rep.ok(&["customer", "add", "--name", "杭州恒通精密机械有限公司"]));
    let deal = id(&rep.ok(&[
        "opportunity",
        "create",
        "--customer",
        &customer,
        "--name",
        "控制系统扩容",
        "--amount",
        "86000",
    ]));

    // Straight from 商机 to 投标: no skipping stages.
    let skip = rep.run(&["opportunity", "move", &deal, "--to", "bidding"]);
    skip.expect_code(3);
    let error = &skip.json()["error"];
    assert_eq!(error["code"], "rule_violated");
    assert_eq!(error["rule"], "stage.skip");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("initiation")),
        "the message says which stage comes next: {error}"
    );

    // Into 立项 with its form empty.
    let empty = rep.run(&["opportunity", "move", &deal, "--to", "initiation"]);
    empty.expect_code(3);
    assert_eq!(empty.json()["error"]["rule"], "stage.required_fields");

    // A win from the first stage is a skip too; a deal is lost only with a reason.
    rep.run(&["opportunity", "win", &deal, "--reason", "签约"])
        .expect_code(3);
    let no_reason = rep.run(&["opportunity", "lose", &deal]);
    no_reason.expect_code(3);
    assert_eq!(no_reason.json()["error"]["rule"], "stage.reason_required");

    // Nothing moved: the deal is where it was, and a field the process does not know is a
    // usage error.
    assert_eq!(
        rep.ok(&["opportunity", "show", &deal])["stage"],
        "opportunity"
    );
    rep.run(&[
        "opportunity",
        "move",
        &deal,
        "--to",
        "initiation",
        "--field",
        "colour=blue",
    ])
    .expect_code(2);
    assert_eq!(server.stop("TERM"), 0);
}
