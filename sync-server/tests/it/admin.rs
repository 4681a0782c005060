//! The admin API: only admins, only their own tenant.

use fieldsales_server::ErrorCode;
use fieldsales_server::api::{AccountView, DeviceView};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{REP_PASSWORD, SignIn, TestServer};

#[tokio::test]
async fn a_rep_is_refused_every_admin_endpoint() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;
    let rep_token = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await.token;
    let device = uuid::Uuid::now_v7();

    let calls = [
        (
            Method::POST,
            "/v1/admin/accounts".to_owned(),
            Some(json!({"login": "x", "password": REP_PASSWORD})),
        ),
        (Method::GET, "/v1/admin/accounts".to_owned(), None),
        (
            Method::GET,
            "/v1/admin/accounts?login=zhang.wei".to_owned(),
            None,
        ),
        (Method::GET, format!("/v1/admin/accounts/{}", rep.id), None),
        (
            Method::PUT,
            format!("/v1/admin/accounts/{}/password", rep.id),
            Some(json!({"password": REP_PASSWORD})),
        ),
        (
            Method::POST,
            format!("/v1/admin/accounts/{}/revoke", rep.id),
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/accounts/{}/devices", rep.id),
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/devices/{device}/revoke"),
            None,
        ),
    ];
    for (method, path, body) in calls {
        server
            .call(method.clone(), &path, Some(&rep_token), body.clone())
            .await
            .assert_error(StatusCode::FORBIDDEN, ErrorCode::AdminRequired);
        server
            .call(method, &path, None, body)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenMissing);
    }
    // Nothing was revoked by the refused calls.
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&rep_token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_admin_creates_lists_and_reads_accounts_linked_to_profiles() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let profile = crate::support::profile();

    let created = server
        .post(
            "/v1/admin/accounts",
            Some(&admin),
            Some(json!({
                "login": "Wang.Fang",
                "password": REP_PASSWORD,
                "profile_id": profile.to_string(),
                "is_admin": true,
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let created: AccountView = created.json();
    assert_eq!(created.login, "wang.fang");
    assert_eq!(created.profile_id, profile);
    assert!(created.is_admin);
    assert_eq!(created.created_at, server.clock_now());

    let listed: Vec<AccountView> = server.get("/v1/admin/accounts", Some(&admin)).await.json();
    let logins: Vec<&str> = listed.iter().map(|a| a.login.as_str()).collect();
    assert_eq!(logins, ["admin", "wang.fang"]);

    let one: AccountView = server
        .get(&format!("/v1/admin/accounts/{}", created.id), Some(&admin))
        .await
        .json();
    assert_eq!(one.id, created.id);
    // The new admin can sign in and administer.
    let second_admin = server.sign_in(&SignIn::rep(&acme, "wang.fang")).await;
    assert!(second_admin.is_admin);
    assert_eq!(
        server
            .get("/v1/admin/accounts", Some(&second_admin.token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn duplicate_logins_profiles_and_weak_passwords_are_refused_precisely() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let first = server.create_rep(&admin, "zhang.wei").await;

    let create = |body| server.post("/v1/admin/accounts", Some(&admin), Some(body));
    create(json!({"login": "ZHANG.WEI", "password": REP_PASSWORD}))
        .await
        .assert_error(StatusCode::CONFLICT, ErrorCode::LoginTaken);
    create(json!({"login": "other", "password": REP_PASSWORD, "profile_id": first.profile_id.to_string()}))
        .await
        .assert_error(StatusCode::CONFLICT, ErrorCode::ProfileTaken);
    let weak = create(json!({"login": "other", "password": "short"})).await;
    let body = weak.assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidField);
    assert_eq!(body.field.as_deref(), Some("password"));
    assert!(
        !body.detail.contains("short"),
        "the password is never echoed"
    );
    let bad_profile =
        create(json!({"login": "other", "password": REP_PASSWORD, "profile_id": "nope"})).await;
    assert_eq!(
        bad_profile
            .assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidField)
            .field
            .as_deref(),
        Some("profile_id")
    );
}

#[tokio::test]
async fn an_admin_resets_a_password_the_old_one_stops_working_and_devices_are_signed_out() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;
    let before = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;

    let answer = server
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{}/password", rep.id),
            Some(&admin),
            Some(json!({"password": "a-brand-new-password"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhang.wei").body()),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
    server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").password("a-brand-new-password"))
        .await;
    // Devices signed in before the reset are signed out: they sign in again, keeping their
    // data (not revoked).
    server
        .get("/v1/auth/session", Some(&before.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenRevoked);
}

#[tokio::test]
async fn an_admin_lists_a_reps_devices_with_their_actors() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;
    let phone = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").on("phone"))
        .await;
    server.clock.advance_millis(60_000);
    let again = server
        .sign_in(
            &SignIn::rep(&acme, "zhang.wei")
                .on("phone")
                .again_on(phone.device_id),
        )
        .await;
    server.clock.advance_millis(60_000);
    let tablet = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").on("tablet"))
        .await;

    let devices: Vec<DeviceView> = server
        .get(
            &format!("/v1/admin/accounts/{}/devices", rep.id),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].id, phone.device_id);
    assert_eq!(devices[0].actors, vec![phone.actor_id, again.actor_id]);
    assert_eq!(devices[1].id, tablet.device_id);
    assert_eq!(devices[1].name, "tablet");
    assert!(devices.iter().all(|d| d.revoked_at.is_none()));
}

#[tokio::test]
async fn an_admin_cannot_reach_another_tenants_accounts_or_devices() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let globex = server.tenant("globex").await;
    let acme_admin = server.admin_token(&acme).await;
    let globex_admin = server.admin_token(&globex).await;
    let acme_rep = server.create_rep(&acme_admin, "zhang.wei").await;
    let acme_phone = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;

    server
        .get(
            &format!("/v1/admin/accounts/{}", acme_rep.id),
            Some(&globex_admin),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, ErrorCode::AccountNotFound);
    server
        .get(
            &format!("/v1/admin/accounts/{}/devices", acme_rep.id),
            Some(&globex_admin),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, ErrorCode::AccountNotFound);
    server
        .post(
            &format!("/v1/admin/accounts/{}/revoke", acme_rep.id),
            Some(&globex_admin),
            None,
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, ErrorCode::AccountNotFound);
    server
        .post(
            &format!("/v1/admin/devices/{}/revoke", acme_phone.device_id),
            Some(&globex_admin),
            None,
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, ErrorCode::DeviceNotFound);
    let listed: Vec<AccountView> = server
        .get("/v1/admin/accounts", Some(&globex_admin))
        .await
        .json();
    assert_eq!(listed.len(), 1, "only globex's own admin");
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&acme_phone.token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_admin_cannot_revoke_their_own_account() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server
        .post(
            &format!("/v1/admin/accounts/{}/revoke", acme.admin_account),
            Some(&admin),
            None,
        )
        .await
        .assert_error(StatusCode::CONFLICT, ErrorCode::CannotRevokeSelf);
}

#[tokio::test]
async fn an_admin_tool_finds_the_account_a_person_names_by_login() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;
    server.create_rep(&admin, "li.na").await;

    let found: Vec<AccountView> = server
        .get("/v1/admin/accounts?login=Zhang.Wei", Some(&admin))
        .await
        .json();
    assert_eq!(found.len(), 1, "logins compare without case");
    assert_eq!(found[0].id, rep.id);
    let none: Vec<AccountView> = server
        .get("/v1/admin/accounts?login=wang.fang", Some(&admin))
        .await
        .json();
    assert!(none.is_empty(), "{none:?}");
    let bad = server
        .get("/v1/admin/accounts?login=%20", Some(&admin))
        .await
        .assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidField);
    assert_eq!(bad.field.as_deref(), Some("login"));

    // Another tenant's admin does not find acme's rep.
    let globex = server.tenant("globex").await;
    let globex_admin = server.admin_token(&globex).await;
    let elsewhere: Vec<AccountView> = server
        .get("/v1/admin/accounts?login=zhang.wei", Some(&globex_admin))
        .await
        .json();
    assert!(elsewhere.is_empty());
}

#[tokio::test]
async fn a_role_may_hide_only_the_fields_that_live_in_documents_of_their_own() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server
        .sign_in(&SignIn::new(&acme.slug, "admin", crate::support::ADMIN_PASSWORD).on("laptop"))
        .await
        .token;
    let unknown = json!({"kind": "role", "code": "sales_rep", "name": "销售代表",
                         "data_scope": "own", "hidden_fields": ["contact.phone", "customer.tier"]});
    let refused = server
        .post("/v1/admin/records", Some(&admin), Some(unknown))
        .await
        .assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidRecord);
    assert!(refused.detail.contains("customer.tier"), "{refused:?}");
    assert!(
        refused.detail.contains("contact.phone, contact.email"),
        "names the fields that can be hidden: {refused:?}"
    );
    let known = json!({"kind": "role", "code": "sales_rep", "name": "销售代表",
                       "data_scope": "own", "hidden_fields": ["contact.phone", "product.cost"]});
    let written = server
        .post("/v1/admin/records", Some(&admin), Some(known))
        .await;
    assert_eq!(written.status, StatusCode::CREATED, "{written:?}");
}
