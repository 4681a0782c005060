//! An admin on the server host: a tenant with its first admin, accounts, revoking a rep and
//! a lost phone, and checking a process file before loading it.

use fieldsales_core::Timestamp;
use fieldsales_server::model::{ActorId, DeviceId, DisplayName, TenantSlug};
use fieldsales_server::store::{NewSession, SessionDevice, Store, TokenHash};
use fieldsales_server::{SqliteOptions, SqliteStore};

use crate::support::{Run, fieldsales, path_str, run, run_with};

struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new() -> Host {
        Host {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn data(&self) -> &str {
        path_str(self.dir.path())
    }

    fn admin(&self, args: &[&str], stdin: &str) -> Run {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data", self.data(), "--json"]);
        run(&all, stdin)
    }

    fn with_tenant(&self) -> &Host {
        let out = run_with(
            fieldsales()
                .args([
                    "admin",
                    "tenant",
                    "create",
                    "--slug",
                    "acme",
                    "--name",
                    "Acme 华东",
                    "--admin-login",
                    "admin",
                    "--data",
                    self.data(),
                ])
                .env("FIELDSALES_BOOTSTRAP_PASSWORD", "correct horse battery"),
            "",
        );
        out.expect_code(0);
        assert!(out.stdout.contains("tenant `acme`"), "{}", out.stdout);
        self
    }

    /// A phone the rep signed in on, written as the sign-in endpoint writes it.
    fn sign_in(&self, login: &str) -> DeviceId {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let store = SqliteStore::open(
                self.dir.path().join("server.sqlite3"),
                SqliteOptions::default(),
            )
            .await
            .expect("store");
            let tenant = store
                .tenant_by_slug(&TenantSlug::parse("acme").expect("slug"))
                .await
                .expect("tenant")
                .expect("exists");
            let account = store
                .credentials(
                    tenant.id,
                    &fieldsales_server::model::Login::parse(login).expect("login"),
                )
                .await
                .expect("lookup")
                .expect("account")
                .account;
            let device = DeviceId::new();
            let now = Timestamp::now();
            store
                .start_session(NewSession {
                    tenant_id: tenant.id,
                    account_id: account.id,
                    device: SessionDevice::New(device),
                    device_name: DisplayName::parse("王芳的手机").expect("name"),
                    token_hash: TokenHash([7; 32]),
                    actor: ActorId::random().expect("actor"),
                    issued_at: now,
                    expires_at: Timestamp::from_millis(now.millis() + 3_600_000),
                })
                .await
                .expect("session");
            device
        })
    }
}

#[test]
fn an_admin_creates_a_tenant_and_accounts_then_revokes_a_rep() {
    let host = Host::new();
    host.with_tenant();
    let created = host.admin(
        &[
            "account", "create", "--tenant", "acme", "--login", "wangfang",
        ],
        "a long enough password\n",
    );
    created.expect_code(0);
    assert_eq!(created.json()["login"], "wangfang");
    assert_eq!(created.json()["is_admin"], false);

    let listed = host.admin(&["account", "list", "--tenant", "acme"], "");
    listed.expect_code(0);
    let logins: Vec<String> = listed
        .json()
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["login"].as_str().expect("login").to_owned())
        .collect();
    assert_eq!(logins, vec!["admin", "wangfang"]);

    let revoked = host.admin(
        &[
            "account", "revoke", "--tenant", "acme", "--login", "wangfang",
        ],
        "",
    );
    revoked.expect_code(0);
    assert!(revoked.json()["revoked_at"].is_i64());
}

#[test]
fn a_lost_phone_is_revoked_by_its_device_id() {
    let host = Host::new();
    host.with_tenant();
    host.admin(
        &[
            "account", "create", "--tenant", "acme", "--login", "wangfang",
        ],
        "a long enough password\n",
    )
    .expect_code(0);
    let phone = host.sign_in("wangfang");

    let devices = host.admin(
        &["device", "list", "--tenant", "acme", "--login", "wangfang"],
        "",
    );
    devices.expect_code(0);
    assert_eq!(devices.json()[0]["id"], phone.to_string());
    assert!(devices.json()[0]["revoked_at"].is_null());

    let revoked = host.admin(
        &["device", "revoke", "--tenant", "acme", &phone.to_string()],
        "",
    );
    revoked.expect_code(0);
    assert!(revoked.json()["revoked_at"].is_i64());

    let unknown = host.admin(
        &[
            "device",
            "revoke",
            "--tenant",
            "acme",
            &DeviceId::new().to_string(),
        ],
        "",
    );
    unknown.expect_code(3);
    assert_eq!(unknown.json()["error"]["code"], "device_not_found");
    host.admin(&["device", "revoke", "--tenant", "acme", "not-a-uuid"], "")
        .expect_code(2);
}

#[test]
fn refusals_exit_with_code_three_and_say_why() {
    let host = Host::new();
    host.with_tenant();
    let again = run_with(
        fieldsales()
            .args([
                "admin",
                "tenant",
                "create",
                "--slug",
                "acme",
                "--name",
                "Acme",
                "--admin-login",
                "root",
                "--data",
                host.data(),
            ])
            .env("FIELDSALES_BOOTSTRAP_PASSWORD", "correct horse battery"),
        "",
    );
    again.expect_code(3);
    assert!(
        again.stderr.contains("tenant `acme` exists already"),
        "{}",
        again.stderr
    );

    let weak = host.admin(
        &["account", "create", "--tenant", "acme", "--login", "lq"],
        "123\n",
    );
    weak.expect_code(3);
    assert_eq!(weak.json()["error"]["code"], "weak_password");

    let taken = host.admin(
        &["account", "create", "--tenant", "acme", "--login", "admin"],
        "a long enough password\n",
    );
    taken.expect_code(3);
    assert_eq!(taken.json()["error"]["code"], "login_taken");

    let nowhere = host.admin(&["account", "list", "--tenant", "globex"], "");
    nowhere.expect_code(3);
    assert_eq!(nowhere.json()["error"]["code"], "tenant_not_found");

    host.admin(
        &["account", "create", "--tenant", "acme", "--login", "nopass"],
        "",
    )
    .expect_code(2);
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
