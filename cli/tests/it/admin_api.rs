//! An admin shaping a tenant through the server's admin API from the command line: roles,
//! units and people that then sign in on a phone, and a process file that reaches every
//! device at its next sync (or, with a problem in it, reaches nothing).

use fieldsales_cli::admin_api::{AdminApiError, AdminClient};
use fieldsales_core::Timestamp;
use fieldsales_server::ErrorCode;
use fieldsales_server::api::AdminRecord;
use serde_json::Value;

use crate::device::{ADMIN_PASSWORD, Phone, acme_server};
use crate::opportunities::rep_and_manager;
use crate::support::{Run, fieldsales, path_str, run_with};

/// `fieldsales admin ARGS` against `base` as the tenant's first admin; `stdin` as given (the
/// admin's password comes from the environment unless `password_on_stdin`).
pub fn admin(base: &str, args: &[&str], stdin: &str, password_on_stdin: bool) -> Run {
    let mut command = fieldsales();
    command.arg("admin").args(args).args([
        "--server",
        base,
        "--tenant",
        "acme",
        "--admin-login",
        "admin",
        "--json",
    ]);
    if !password_on_stdin {
        command.env("FIELDSALES_ADMIN_PASSWORD", ADMIN_PASSWORD);
    }
    run_with(&mut command, stdin)
}

pub fn written_id(out: &Run) -> String {
    out.expect_code(0);
    out.json()["id"].as_str().expect("a record id").to_owned()
}

#[test]
fn an_admin_adds_a_team_and_a_rep_who_signs_in_on_a_phone_and_syncs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());

    written_id(&admin(
        &base,
        &[
            "role",
            "create",
            "--code",
            "sales_rep",
            "--name",
            "销售代表",
            "--scope",
            "own",
        ],
        "",
        false,
    ));
    let hq = written_id(&admin(
        &base,
        &["unit", "create", "--name", "总部", "--level", "hq"],
        "",
        false,
    ));
    let team = written_id(&admin(
        &base,
        &[
            "unit",
            "create",
            "--name",
            "上海一组",
            "--level",
            "team",
            "--parent",
            &hq,
        ],
        "",
        false,
    ));
    // Both passwords on standard input: the admin's, then the new rep's.
    let created = admin(
        &base,
        &[
            "user",
            "create",
            "--login",
            "wangfang",
            "--name",
            "王芳",
            "--employee-no",
            "E1001",
            "--unit",
            &team,
            "--role",
            "sales_rep",
        ],
        &format!("{ADMIN_PASSWORD}\n{}\n", fieldsales_cli::demo::PASSWORD),
        true,
    );
    created.expect_code(0);
    let profile = created.json()["profile_id"]
        .as_str()
        .expect("profile id")
        .to_owned();
    assert_eq!(created.json()["account"]["login"], "wangfang");

    // 王芳 signs in on her phone as the person the admin described, and works.
    let phone = Phone::new(dir.path(), "wangfang");
    let me = phone.login(&base, "wangfang");
    assert_eq!(me["user_id"], profile.as_str());
    assert_eq!(me["unit_id"], team.as_str());
    assert_eq!(me["roles"], serde_json::json!(["sales_rep"]));
    phone.ok(&["customer", "add", "--name", "上海华鑫电子科技有限公司"]);
    let synced = phone.ok(&["sync"]);
    assert_eq!(synced["records_up"], 1, "{synced}");
    assert_eq!(synced["rejected"], serde_json::json!([]));

    // The same login again: refused by the server, and the message says how to retry
    // without a second profile.
    let again = admin(
        &base,
        &[
            "user",
            "create",
            "--login",
            "wangfang",
            "--name",
            "王芳",
            "--unit",
            &team,
            "--role",
            "sales_rep",
        ],
        "another long password\n",
        false,
    );
    again.expect_code(3);
    assert_eq!(again.json()["error"]["code"], "login_taken");
    assert!(
        again.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--profile-id")),
        "{}",
        again.stdout
    );

    // A person may be recorded as having joined earlier (an org moved in from another
    // system), never later than the server's now.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = AdminClient::sign_in(&base, "acme", "admin", ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        let person = |at: Timestamp| AdminRecord::UserProfile {
            id: None,
            name: "李强".into(),
            employee_no: "E1002".into(),
            unit_id: team.parse().expect("the team's id"),
            roles: vec!["sales_rep".into()],
            zone: "Asia/Shanghai".into(),
            phone: None,
            email: None,
            title: None,
            active: true,
            created_at: Some(at),
            started_on: None,
            left_on: None,
            leave: Vec::new(),
        };
        let day_ms = 24 * 3_600_000;
        client
            .write_record(&person(Timestamp::now().plus_millis(-30 * day_ms)))
            .await
            .expect("a month ago is fine");
        match client
            .write_record(&person(Timestamp::now().plus_millis(day_ms)))
            .await
        {
            Err(AdminApiError::Refused { status, body, .. }) => {
                assert_eq!(status, 400);
                assert_eq!(body.code, ErrorCode::InvalidField);
                assert_eq!(body.field.as_deref(), Some("created_at"));
            }
            other => panic!("a join date tomorrow must be refused, got {other:?}"),
        }
    });

    // A level that does not exist is a usage error; a wrong admin password an
    // authentication one.
    admin(
        &base,
        &["unit", "create", "--name", "x", "--level", "galaxy"],
        "",
        false,
    )
    .expect_code(2);
    let mut wrong = fieldsales();
    wrong
        .args([
            "admin",
            "unit",
            "create",
            "--name",
            "x",
            "--level",
            "team",
            "--server",
            &base,
            "--tenant",
            "acme",
            "--admin-login",
            "admin",
            "--json",
        ])
        .env("FIELDSALES_ADMIN_PASSWORD", "not the password");
    run_with(&mut wrong, "").expect_code(4);
    assert_eq!(server.stop("TERM"), 0);
}

/// The standard process with one more required field on 商机: a customer need, stated
/// before a deal may be opened.
fn process_with_a_need() -> String {
    include_str!("../../../core/src/process/testdata/standard.toml").replacen(
        "win_probability = \"10%\"\n",
        "win_probability = \"10%\"\n\n[[stages.fields]]\nkey = \"need\"\nlabel = \"客户需求\"\ntype = \"text\"\n",
        1,
    )
}

fn opening_stage_needs(phone: &Phone) -> Vec<String> {
    let stages = phone.ok(&["opportunity", "stages"]);
    stages["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["key"] == "opportunity")
        .expect("the 商机 stage")["required_fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f: &Value| f["key"].as_str().expect("key").to_owned())
        .collect()
}

#[test]
fn a_process_file_with_a_problem_changes_nothing_and_a_good_one_reaches_the_phone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    rep_and_manager(&base);
    let phone = Phone::new(dir.path(), "wangfang");
    phone.login(&base, "wangfang");
    assert!(
        opening_stage_needs(&phone).is_empty(),
        "the standard process"
    );
    let customer = phone.ok(&["customer", "add", "--name", "杭州恒通精密机械有限公司"])["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // A file whose 商机 stage has a limit that is not a number: listed, and nothing sent.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        process_with_a_need().replacen("max_days = 14", "max_days = \"two weeks\"", 1),
    )
    .expect("write");
    let refused = admin(&base, &["config", "load", path_str(&bad)], "", false);
    refused.expect_code(3);
    let report = refused.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["errors"][0]["field"], "stages[1].max_days");
    phone.ok(&["sync"]);
    assert!(
        opening_stage_needs(&phone).is_empty(),
        "the refused file reached no device"
    );

    // The good file: loaded, pulled at the next sync, and the phone asks for the need.
    let good = dir.path().join("with-need.toml");
    std::fs::write(&good, process_with_a_need()).expect("write");
    let loaded = admin(
        &base,
        &["config", "load", path_str(&good), "--revision", "2"],
        "",
        false,
    );
    loaded.expect_code(0);
    assert_eq!(loaded.json()["revision"], 2);
    phone.ok(&["sync"]);
    assert_eq!(opening_stage_needs(&phone), ["need"]);
    let without = phone.run(&[
        "opportunity",
        "create",
        "--customer",
        &customer,
        "--name",
        "控制系统扩容",
        "--amount",
        "86000",
    ]);
    without.expect_code(3);
    assert_eq!(without.json()["error"]["rule"], "stage.required_fields");
    let with = phone.ok(&[
        "opportunity",
        "create",
        "--customer",
        &customer,
        "--name",
        "控制系统扩容",
        "--amount",
        "86000",
        "--field",
        "need=二期产线的控制柜扩容",
    ]);
    assert_eq!(with["stage"], "opportunity");
    assert_eq!(phone.ok(&["sync"])["rejected"], serde_json::json!([]));
    assert_eq!(server.stop("TERM"), 0);
}
