//! The audit log through a real server on loopback: each account operation and each admin
//! write leaves exactly one entry naming who, from which device, when and what changed; only
//! an admin reads it, nothing edits it; it exports to CSV and Excel; and an entry edited or
//! deleted in the database file makes `fieldsales-server audit verify` fail naming it.

use std::process::Command;

use fieldsales_server::ErrorCode;
use fieldsales_server::api::{AccountView, AuditPage};
use fieldsales_server::audit::AuditEntry;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{REP_PASSWORD, SignIn, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_fieldsales-server");

/// Every entry of the admin's tenant matching `query` (`operation=…&record=…`).
async fn entries(server: &TestServer, admin: &str, query: &str) -> Vec<AuditEntry> {
    let answer = server
        .get(&format!("/v1/admin/audit?{query}"), Some(admin))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let page: AuditPage = answer.json();
    assert!(page.next.is_none(), "one page is enough here");
    page.entries
}

/// The one entry of `operation` about `record`; fails unless there is exactly one.
async fn the_entry(server: &TestServer, admin: &str, operation: &str, record: &str) -> AuditEntry {
    let found = entries(
        server,
        admin,
        &format!("operation={operation}&record={record}"),
    )
    .await;
    assert_eq!(found.len(), 1, "{operation} on {record}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn id(text: &str) -> Option<uuid::Uuid> {
    Some(text.parse().unwrap())
}

#[tokio::test]
async fn each_account_operation_leaves_one_entry_naming_who_from_which_device() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin_login = server
        .sign_in(&SignIn::new(&acme.slug, "admin", crate::support::ADMIN_PASSWORD).on("laptop"))
        .await;
    let admin = admin_login.token.clone();

    // An admin creates a rep's account.
    let rep: AccountView = server.create_rep(&admin, "li.na").await;
    let created = the_entry(&server, &admin, "account.create", &rep.id.to_string()).await;
    assert_eq!(created.account_id, id(&admin_login.account_id.to_string()));
    assert_eq!(created.device_id, id(&admin_login.device_id.to_string()));
    assert_eq!(created.kind.as_deref(), Some("account"));
    assert!(
        created
            .changes
            .iter()
            .any(|c| c.field == "login" && c.after.as_deref() == Some("li.na")),
        "{created:?}"
    );
    assert_eq!(created.at, server.clock_now().millis());

    // The rep signs in on a phone: the entry names the rep and the phone, never a password.
    let phone = server
        .sign_in(&SignIn::rep(&acme, "li.na").on("Li Na's phone"))
        .await;
    let signed_in = the_entry(
        &server,
        &admin,
        "auth.sign_in",
        &phone.device_id.to_string(),
    )
    .await;
    assert_eq!(signed_in.account_id, id(&rep.id.to_string()));
    assert_eq!(signed_in.user_id, id(&rep.profile_id.to_string()));
    assert_eq!(signed_in.device_id, id(&phone.device_id.to_string()));
    assert_eq!(signed_in.detail.as_deref(), Some("Li Na's phone"));

    // The rep changes their own password (the current one is checked).
    let wrong = server
        .call(
            Method::PUT,
            "/v1/auth/password",
            Some(&phone.token),
            Some(json!({"current_password": "not-the-password", "new_password": "new-password-4242"})),
        )
        .await;
    wrong.assert_error(StatusCode::FORBIDDEN, ErrorCode::WrongPassword);
    let changed = server
        .call(
            Method::PUT,
            "/v1/auth/password",
            Some(&phone.token),
            Some(json!({"current_password": REP_PASSWORD, "new_password": "new-password-4242"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    let own = the_entry(&server, &admin, "password.change", &rep.id.to_string()).await;
    assert_eq!(own.device_id, id(&phone.device_id.to_string()));
    assert_eq!(own.changes[0].field, "password");
    assert_eq!(own.changes[0].after.as_deref(), Some("***"));
    assert!(
        !serde_json::to_string(&own)
            .unwrap()
            .contains("new-password")
    );
    let again = server
        .sign_in(
            &SignIn::rep(&acme, "li.na")
                .on("tablet")
                .password("new-password-4242"),
        )
        .await;

    // An admin resets it: every device of the rep is signed out.
    let reset = server
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{}/password", rep.id),
            Some(&admin),
            Some(json!({"password": "reset-password-4242"})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{reset:?}");
    for token in [&phone.token, &again.token] {
        server
            .get("/v1/auth/session", Some(token))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenRevoked);
    }
    let by_admin = the_entry(&server, &admin, "password.reset", &rep.id.to_string()).await;
    assert_eq!(by_admin.account_id, id(&admin_login.account_id.to_string()));
    assert_eq!(
        by_admin.detail.as_deref(),
        Some("2 device session(s) signed out")
    );

    // Signed in again and out: one sign-out entry.
    let fresh = server
        .sign_in(
            &SignIn::rep(&acme, "li.na")
                .again_on(phone.device_id)
                .password("reset-password-4242"),
        )
        .await;
    let out = server
        .post("/v1/auth/logout", Some(&fresh.token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let signed_out = the_entry(
        &server,
        &admin,
        "auth.sign_out",
        &phone.device_id.to_string(),
    )
    .await;
    assert_eq!(signed_out.account_id, id(&rep.id.to_string()));

    // The admin revokes the tablet, then the account.
    let revoked = server
        .post(
            &format!("/v1/admin/devices/{}/revoke", again.device_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let device = the_entry(
        &server,
        &admin,
        "device.revoke",
        &again.device_id.to_string(),
    )
    .await;
    assert_eq!(device.kind.as_deref(), Some("device"));
    assert_eq!(device.changes[0].field, "revoked_at");
    assert_eq!(device.changes[0].before, None);
    let gone = server
        .post(
            &format!("/v1/admin/accounts/{}/revoke", rep.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    let account = the_entry(&server, &admin, "account.revoke", &rep.id.to_string()).await;
    assert_eq!(account.account_id, id(&admin_login.account_id.to_string()));

    // Everything the rep did or had done to them, by person.
    let by_rep = entries(&server, &admin, &format!("user={}", rep.id)).await;
    let ops: Vec<&str> = by_rep.iter().map(|e| e.operation.as_str()).collect();
    assert_eq!(
        ops,
        vec![
            "auth.sign_in",
            "password.change",
            "auth.sign_in",
            "auth.sign_in",
            "auth.sign_out"
        ],
    );
}

#[tokio::test]
async fn a_lockout_is_in_the_log_once_per_lockout_with_the_address() {
    let server = TestServer::builder()
        .setting("AUTH__LOCKOUT_AFTER", "3")
        .start()
        .await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhao.min").await;
    for _ in 0..3 {
        let refused = server
            .post(
                "/v1/auth/login",
                None,
                Some(
                    SignIn::rep(&acme, "zhao.min")
                        .password("guess-guess-guess")
                        .body(),
                ),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: refused before the password is checked, and not logged again.
    let slowed = server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhao.min").body()),
        )
        .await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
    let lockout = the_entry(&server, &admin, "auth.lockout", &rep.id.to_string()).await;
    assert_eq!(lockout.account_id, id(&rep.id.to_string()));
    let detail = lockout.detail.unwrap();
    assert!(detail.contains("login zhao.min"), "{detail}");
    assert!(detail.contains("login locked for 1 s"), "{detail}");
    assert!(detail.contains("127.0.0.1"), "{detail}");
}

#[tokio::test]
async fn an_admin_write_of_a_role_is_logged_with_before_and_after_and_a_rep_reads_nothing() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin_login = server
        .sign_in(&SignIn::new(&acme.slug, "admin", crate::support::ADMIN_PASSWORD).on("laptop"))
        .await;
    let admin = admin_login.token.clone();
    let role =
        json!({"kind": "role", "code": "sales_rep", "name": "销售代表", "data_scope": "own"});
    let written = server
        .post("/v1/admin/records", Some(&admin), Some(role))
        .await;
    assert_eq!(written.status, StatusCode::CREATED, "{written:?}");
    let role_id = written.body["id"].as_str().unwrap().to_owned();
    let renamed = json!({"kind": "role", "id": role_id, "code": "sales_rep", "name": "客户经理", "data_scope": "own"});
    let answer = server
        .post("/v1/admin/records", Some(&admin), Some(renamed))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");

    let writes = entries(
        &server,
        &admin,
        &format!("operation=admin.write&record={role_id}"),
    )
    .await;
    assert_eq!(writes.len(), 2, "{writes:#?}");
    assert_eq!(writes[0].detail.as_deref(), Some("created"));
    let rename = &writes[1];
    assert_eq!(rename.kind.as_deref(), Some("role"));
    assert_eq!(rename.account_id, id(&admin_login.account_id.to_string()));
    assert_eq!(rename.device_id, id(&admin_login.device_id.to_string()));
    assert_eq!(rename.changes.len(), 1, "{rename:#?}");
    assert_eq!(rename.changes[0].field, "name");
    assert_eq!(rename.changes[0].before.as_deref(), Some("销售代表"));
    assert_eq!(rename.changes[0].after.as_deref(), Some("客户经理"));

    // A rep may not read the log, nor anyone without a token; nothing edits it.
    server.create_rep(&admin, "li.na").await;
    let rep = server.sign_in(&SignIn::rep(&acme, "li.na")).await.token;
    for path in ["/v1/admin/audit", "/v1/admin/audit/export?format=csv"] {
        server
            .get(path, Some(&rep))
            .await
            .assert_error(StatusCode::FORBIDDEN, ErrorCode::AdminRequired);
        server
            .get(path, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenMissing);
    }
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let answer = server
            .call(
                method.clone(),
                "/v1/admin/audit",
                Some(&admin),
                Some(json!({})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
}

#[tokio::test]
async fn the_log_pages_in_time_order_and_exports_to_csv_and_excel() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    for n in 0..4 {
        server.create_rep(&admin, &format!("rep{n}")).await;
        server.clock.advance_millis(1_000);
    }
    // account.create ×5 (with the bootstrap's first admin), sign-in ×1: paged by two.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/admin/audit?limit=2&after={a}"),
            None => "/v1/admin/audit?limit=2".to_owned(),
        };
        let page: AuditPage = server.get(&path, Some(&admin)).await.json();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:#?}");
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at));
    server
        .get("/v1/admin/audit?operation=record.rewrite", Some(&admin))
        .await
        .assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidField);

    let csv = server
        .client
        .get(server.url("/v1/admin/audit/export?format=csv&operation=account.create"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "time (UTC)");
    assert_eq!(&header[1], "operation");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5, "{text}");
    assert!(rows.iter().all(|r| &r[1] == "account.create"));
    assert!(
        rows.iter().any(|r| r[8].contains("login: ∅ → rep2")),
        "changes before → after: {text}"
    );

    let xlsx = server
        .client
        .get(server.url("/v1/admin/audit/export?format=xlsx"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("audit").unwrap();
    assert_eq!(sheet.height(), 1 + 6);
    let operations: Vec<String> = sheet.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(
        operations.iter().filter(|o| *o == "account.create").count(),
        5
    );
    assert_eq!(
        operations.iter().filter(|o| *o == "auth.sign_in").count(),
        1
    );
}

fn verify(data_dir: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .env_clear()
        .env("FIELDSALES_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Runs SQL on a database file as someone with the file in hand would: the append-only
/// triggers dropped first.
fn tamper(file: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(file).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS audit_entry_no_update;
         DROP TRIGGER IF EXISTS audit_entry_no_delete;
         {sql}"
    ))
    .unwrap();
}

#[tokio::test]
async fn an_entry_altered_or_deleted_in_the_database_file_is_named_by_audit_verify() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin_login = server
        .sign_in(&SignIn::new(&acme.slug, "admin", crate::support::ADMIN_PASSWORD).on("laptop"))
        .await;
    let admin = admin_login.token.clone();
    for login in ["li.na", "zhao.min", "wang.fang"] {
        server.create_rep(&admin, login).await;
    }
    for code in ["sales_rep", "sales_manager", "director"] {
        let unit = json!({"kind": "role", "code": code, "name": code, "data_scope": "own"});
        let answer = server
            .post("/v1/admin/records", Some(&admin), Some(unit))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    }
    let data_dir = server.state.config.data_dir.clone();
    let accounts = server.state.config.database_path();
    let records = data_dir
        .join("tenants")
        .join(format!("{}.sqlite3", admin_login.tenant_id));

    let (code, text) = verify(&data_dir);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("accounts chain: 5 entries"), "{text}");
    assert!(text.contains("records chain: 3 entries"), "{text}");

    // Someone rewrites who created the second rep's account (entry 4 of the accounts chain).
    tamper(
        &accounts,
        "UPDATE audit_entry SET account_id = NULL WHERE stream = 1 AND seq = 4",
    );
    let (code, text) = verify(&data_dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("accounts chain: entry 4 altered"), "{text}");
    assert!(
        !text.contains("entry 3") && !text.contains("entry 5"),
        "{text}"
    );

    // Someone deletes the records chain's second entry, and its newest.
    tamper(&records, "DELETE FROM audit_entry WHERE seq IN (2, 3)");
    let (code, text) = verify(&data_dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("records chain: entry 2 missing (deleted)"),
        "{text}"
    );
    assert!(
        text.contains("records chain: entry 3 missing (deleted)"),
        "{text}"
    );
    assert!(text.contains("accounts chain: entry 4 altered"), "{text}");

    // The API never had a way to do either.
    for method in [Method::PUT, Method::DELETE] {
        let answer = server
            .call(method, "/v1/admin/audit", Some(&admin), None)
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

#[tokio::test]
async fn the_database_itself_refuses_to_update_or_delete_an_entry() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    server.admin_token(&acme).await;
    let conn = rusqlite::Connection::open(server.state.config.database_path()).unwrap();
    for sql in [
        "UPDATE audit_entry SET operation = 'record.edit'",
        "DELETE FROM audit_entry",
    ] {
        let refused = conn.execute(sql, []).unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
}
