//! An admin with a terminal: a tenant and its first admin made on the server host, then
//! accounts and devices through the running server's admin API — creating an account,
//! revoking a rep and a lost phone, which are then refused at their next sync — and checking
//! a process file before loading it.

use fieldsales_server::model::DeviceId;

use crate::admin_api::admin;
use crate::device::{ADMIN_PASSWORD, Phone, acme_server, team};
use crate::support::{fieldsales, path_str, run, run_with};

const REP_PASSWORD: &str = "a long enough password";

/// `fieldsales admin account create --login LOGIN` with the admin's password from the
/// environment and the new one on standard input.
fn create_account(base: &str, login: &str, password: &str) -> crate::support::Run {
    admin(
        base,
        &["account", "create", "--login", login],
        &format!("{password}\n"),
        false,
    )
}

#[test]
fn an_admin_creates_accounts_through_the_api_then_revokes_a_rep() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());

    let created = create_account(&base, "wangfang", REP_PASSWORD);
    created.expect_code(0);
    assert_eq!(created.json()["login"], "wangfang");
    assert_eq!(created.json()["is_admin"], false);

    let listed = admin(&base, &["account", "list"], "", false);
    listed.expect_code(0);
    let logins: Vec<String> = listed
        .json()
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["login"].as_str().expect("login").to_owned())
        .collect();
    assert_eq!(logins, vec!["admin", "wangfang"]);

    let revoked = admin(
        &base,
        &["account", "revoke", "--login", "wangfang"],
        "",
        false,
    );
    revoked.expect_code(0);
    assert!(revoked.json()["revoked_at"].is_i64());
    let listed = admin(&base, &["account", "list"], "", false);
    assert!(listed.json()[1]["revoked_at"].is_i64(), "{}", listed.stdout);
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn a_revoked_reps_phone_is_told_to_wipe_itself_at_its_next_sync() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    team(&base);
    let phone = Phone::new(dir.path(), "wangfang");
    phone.login(&base, "wangfang");
    phone.ok(&["sync"]);

    admin(
        &base,
        &["account", "revoke", "--login", "wangfang"],
        "",
        false,
    )
    .expect_code(0);
    let sync = phone.run(&["sync"]);
    sync.expect_code(4);
    assert_eq!(sync.json()["error"]["code"], "revoked", "{}", sync.stdout);
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn a_lost_phone_is_revoked_by_its_device_id_and_stops_syncing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    team(&base);
    let phone = Phone::new(dir.path(), "wangfang");
    phone.login(&base, "wangfang");

    let devices = admin(&base, &["device", "list", "--login", "wangfang"], "", false);
    devices.expect_code(0);
    let listed = devices.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert!(listed[0]["revoked_at"].is_null());
    let id = listed[0]["id"].as_str().expect("device id").to_owned();

    let revoked = admin(&base, &["device", "revoke", &id], "", false);
    revoked.expect_code(0);
    assert!(revoked.json()["revoked_at"].is_i64());
    phone.run(&["sync"]).expect_code(4);

    let unknown = admin(
        &base,
        &["device", "revoke", &DeviceId::new().to_string()],
        "",
        false,
    );
    unknown.expect_code(3);
    assert_eq!(unknown.json()["error"]["code"], "device_not_found");
    admin(&base, &["device", "revoke", "not-a-uuid"], "", false).expect_code(2);
    let nobody = admin(&base, &["device", "list", "--login", "nobody"], "", false);
    nobody.expect_code(3);
    assert_eq!(nobody.json()["error"]["code"], "account_not_found");
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn refusals_say_why_with_the_servers_code_and_exit_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());

    // The tenant exists already: the bootstrap refuses on the host.
    let again = run_with(
        fieldsales()
            .args([
                "admin", "tenant", "create", "--tenant", "acme", "--name", "Acme", "--login",
                "root", "--data",
            ])
            .arg(dir.path().join("server"))
            .env("FIELDSALES_BOOTSTRAP_PASSWORD", "correct horse battery"),
        "",
    );
    again.expect_code(3);
    assert!(
        again.stderr.contains("tenant `acme` exists already"),
        "{}",
        again.stderr
    );
    // No password anywhere: a usage error, nothing created.
    run_with(
        fieldsales().args([
            "admin",
            "tenant",
            "create",
            "--tenant",
            "globex",
            "--name",
            "Globex",
            "--login",
            "root",
            "--data",
            path_str(&dir.path().join("server")),
        ]),
        "",
    )
    .expect_code(2);

    let weak = create_account(&base, "lq", "123");
    weak.expect_code(3);
    assert_eq!(weak.json()["error"]["code"], "invalid_field");
    assert!(
        weak.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("password") && !m.contains("123")),
        "{}",
        weak.stdout
    );

    let taken = create_account(&base, "admin", REP_PASSWORD);
    taken.expect_code(3);
    assert_eq!(taken.json()["error"]["code"], "login_taken");

    // An unknown tenant and a wrong password look the same from outside: credentials refused.
    let mut elsewhere = fieldsales();
    elsewhere
        .args([
            "admin",
            "account",
            "list",
            "--server",
            &base,
            "--tenant",
            "globex",
            "--admin-login",
            "admin",
            "--json",
        ])
        .env("FIELDSALES_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let nowhere = run_with(&mut elsewhere, "");
    nowhere.expect_code(4);
    assert_eq!(nowhere.json()["error"]["code"], "bad_credentials");

    // The new account's password is missing from standard input.
    admin(
        &base,
        &["account", "create", "--login", "nopass"],
        "",
        false,
    )
    .expect_code(2);
    // Nothing listens there.
    let offline = run(
        &[
            "admin",
            "account",
            "list",
            "--server",
            "http://127.0.0.1:9",
            "--tenant",
            "acme",
            "--admin-login",
            "admin",
            "--json",
        ],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    offline.expect_code(5);
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn a_process_file_is_checked_with_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("standard.toml");
    std::fs::write(
        &good,
        include_str!("../../../core/src/process/testdata/standard.toml"),
    )
    .expect("write");
    let ok = run(&["admin", "config", "check", path_str(&good)], "");
    ok.expect_code(0);
    assert!(ok.stdout.contains("is valid (7 stages"), "{}", ok.stdout);

    let bad = dir.path().join("bad.toml");
    let text = include_str!("../../../core/src/process/testdata/standard.toml").replacen(
        "max_days = 30",
        "max_days = \"a month\"",
        1,
    );
    std::fs::write(&bad, text).expect("write");
    let out = run(&["admin", "config", "check", path_str(&bad), "--json"], "");
    out.expect_code(3);
    let report = out.json();
    assert_eq!(report["ok"], false);
    let first = &report["errors"][0];
    assert_eq!(first["field"], "stages[0].max_days");
    assert!(first["line"].as_u64().is_some_and(|l| l > 1), "{first}");
}
