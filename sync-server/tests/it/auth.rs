//! Sign-in, tokens, expiry and revocation as a device sees them.

use fieldsales_server::api::SessionResponse;
use fieldsales_server::{ErrorCode, Store};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{REP_PASSWORD, SignIn, TestServer};

const DAY_MS: i64 = 86_400_000;

#[tokio::test]
async fn a_rep_signs_in_on_a_new_phone_and_gets_a_token_a_device_and_a_fresh_actor() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;

    let signed_in = server
        .sign_in(&SignIn::rep(&acme, "Zhang.Wei").on("Zhang Wei's phone"))
        .await;
    assert_eq!(signed_in.account_id, rep.id);
    assert_eq!(signed_in.profile_id, rep.profile_id);
    assert!(!signed_in.is_admin);
    assert!(signed_in.token.starts_with("fsd_"));
    assert_eq!(signed_in.actor_id.to_string().len(), 32);
    assert_eq!(signed_in.server_time, server.clock_now());
    assert_eq!(
        signed_in.expires_at.millis(),
        server.clock_now().millis() + 30 * DAY_MS,
        "the default token lifetime is 30 days"
    );

    let me = server.get("/v1/auth/session", Some(&signed_in.token)).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    let me: SessionResponse = me.json();
    assert_eq!(me.device_id, Some(signed_in.device_id));
    assert_eq!(me.account_id, rep.id);

    // The server knows the actor as this device's.
    let owner = server
        .store
        .as_ref()
        .actor(signed_in.tenant_id, signed_in.actor_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.device_id, signed_in.device_id);
    // Only the hash of the token is kept.
    let db = std::fs::read(server.store.path()).unwrap();
    let wal = std::fs::read(server.store.path().with_extension("sqlite3-wal")).unwrap_or_default();
    let needle = signed_in.token.as_bytes();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "token stored in clear"
        );
        let clear = REP_PASSWORD.as_bytes();
        assert!(
            !bytes.windows(clear.len()).any(|w| w == clear),
            "password stored in clear"
        );
    }
}

#[tokio::test]
async fn signing_in_again_on_the_same_phone_keeps_the_device_adds_an_actor_and_retires_the_old_token()
 {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "li.na").await;

    let first = server.sign_in(&SignIn::rep(&acme, "li.na")).await;
    let second = server
        .sign_in(&SignIn::rep(&acme, "li.na").again_on(first.device_id))
        .await;
    assert_eq!(second.device_id, first.device_id);
    assert_ne!(second.actor_id, first.actor_id);
    assert_ne!(second.token, first.token);

    server
        .get("/v1/auth/session", Some(&first.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenRevoked);
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&second.token))
            .await
            .status,
        StatusCode::OK
    );

    let actors = server
        .store
        .device_actors(first.tenant_id, first.device_id)
        .await
        .unwrap();
    assert_eq!(actors.len(), 2, "both actors stay the device's");
}

#[tokio::test]
async fn wrong_password_unknown_login_and_unknown_tenant_all_read_bad_credentials() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;

    for attempt in [
        SignIn::rep(&acme, "zhang.wei").password("wrong-password-1"),
        SignIn::rep(&acme, "nobody"),
        SignIn::new("globex", "zhang.wei", REP_PASSWORD),
    ] {
        let answer = server
            .post("/v1/auth/login", None, Some(attempt.body()))
            .await;
        let body = answer.assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
        assert!(answer.headers.contains_key("www-authenticate"));
        assert!(!body.detail.contains(REP_PASSWORD));
    }
}

#[tokio::test]
async fn a_token_expires_after_its_configured_lifetime() {
    let server = TestServer::builder()
        .setting("AUTH__TOKEN_LIFETIME", "12h")
        .start()
        .await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    let rep = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;

    server.clock.advance_millis(12 * 3_600_000 - 1);
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&rep.token))
            .await
            .status,
        StatusCode::OK
    );
    server.clock.advance_millis(1);
    server
        .get("/v1/auth/session", Some(&rep.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenExpired);

    // Signing in again on the same phone gives a working token.
    let again = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").again_on(rep.device_id))
        .await;
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&again.token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signed_out_token_is_refused_as_revoked() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    let rep = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;

    let out = server.post("/v1/auth/logout", Some(&rep.token), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    server
        .get("/v1/auth/session", Some(&rep.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenRevoked);
}

#[tokio::test]
async fn a_revoked_device_is_told_to_wipe_and_cannot_sign_in_again_as_itself() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    let lost_phone = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").on("lost phone"))
        .await;
    let tablet = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").on("tablet"))
        .await;

    let revoked = server
        .post(
            &format!("/v1/admin/devices/{}/revoke", lost_phone.device_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");

    server
        .get("/v1/auth/session", Some(&lost_phone.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::DeviceRevoked);
    let answer = server
        .post(
            "/v1/auth/login",
            None,
            Some(
                SignIn::rep(&acme, "zhang.wei")
                    .again_on(lost_phone.device_id)
                    .body(),
            ),
        )
        .await;
    answer.assert_error(StatusCode::UNAUTHORIZED, ErrorCode::DeviceRevoked);
    // The rep's other device is untouched, and a fresh sign-in makes a new device.
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&tablet.token))
            .await
            .status,
        StatusCode::OK
    );
    let replacement = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").on("new phone"))
        .await;
    assert_ne!(replacement.device_id, lost_phone.device_id);
}

#[tokio::test]
async fn a_revoked_rep_is_refused_on_every_device_and_at_sign_in() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let leaver = server.create_rep(&admin, "leaver").await;
    let phone = server
        .sign_in(&SignIn::rep(&acme, "leaver").on("phone"))
        .await;
    let tablet = server
        .sign_in(&SignIn::rep(&acme, "leaver").on("tablet"))
        .await;

    let revoked = server
        .post(
            &format!("/v1/admin/accounts/{}/revoke", leaver.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");

    for token in [&phone.token, &tablet.token] {
        server
            .get("/v1/auth/session", Some(token))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::AccountRevoked);
    }
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "leaver").body()),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::AccountRevoked);
    // A wrong password never learns that the account is revoked.
    server
        .post(
            "/v1/auth/login",
            None,
            Some(
                SignIn::rep(&acme, "leaver")
                    .password("guessing-password")
                    .body(),
            ),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
}

#[tokio::test]
async fn a_phone_cannot_take_over_a_colleagues_device() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    server.create_rep(&admin, "li.na").await;
    let zhang = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;

    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "li.na").again_on(zhang.device_id).body()),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, ErrorCode::DeviceNotYours);
    assert_eq!(
        server
            .get("/v1/auth/session", Some(&zhang.token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_device_id_this_server_does_not_know_starts_a_new_device() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    let unknown = uuid::Uuid::now_v7();
    let answer = server
        .sign_in(&SignIn::rep(&acme, "zhang.wei").again_on(unknown))
        .await;
    assert_ne!(answer.device_id.to_string(), unknown.to_string());
}

#[tokio::test]
async fn requests_without_a_usable_token_get_precise_401_codes() {
    let server = TestServer::start().await;
    let cases: [(Option<&str>, ErrorCode); 4] = [
        (None, ErrorCode::TokenMissing),
        (Some("Basic dXNlcjpwYXNz"), ErrorCode::TokenMalformed),
        (Some("Bearer not-a-token"), ErrorCode::TokenInvalid),
        (
            Some("Bearer fsd_00000000000000000000000000000000000000000000000000000000000000ff"),
            ErrorCode::TokenInvalid,
        ),
    ];
    for (header, code) in cases {
        let mut request = server.client.get(server.url("/v1/auth/session"));
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        let answer = TestServer::answer(request.send().await.unwrap()).await;
        answer.assert_error(StatusCode::UNAUTHORIZED, code);
    }
}

#[tokio::test]
async fn sign_in_fields_are_checked_with_the_field_named() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"tenant": "Acme Ltd!", "login": "a", "password": "p", "device_name": "phone"}),
            "tenant",
        ),
        (
            json!({"tenant": "acme", "login": "  ", "password": "p", "device_name": "phone"}),
            "login",
        ),
        (
            json!({"tenant": "acme", "login": "a", "password": "p", "device_name": ""}),
            "device_name",
        ),
        (
            json!({"tenant": "acme", "login": "a", "password": "p", "device_name": "phone", "device_id": "42"}),
            "device_id",
        ),
    ];
    for (body, field) in cases {
        let answer = server.post("/v1/auth/login", None, Some(body)).await;
        let error = answer.assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidField);
        assert_eq!(error.field.as_deref(), Some(field));
    }
}

#[tokio::test]
async fn wrong_passwords_in_a_row_slow_that_login_with_429_and_retry_after_while_colleagues_sign_in()
 {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;
    server.create_rep(&admin, "li.na").await;

    // Four wrong passwords are still plain 401s: a rep mistyping is not an attack.
    for n in 1..=4 {
        server
            .post(
                "/v1/auth/login",
                None,
                Some(
                    SignIn::rep(&acme, "zhang.wei")
                        .password(&format!("guess-{n}"))
                        .body(),
                ),
            )
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
    }
    // The fifth starts the wait: even the right password is now told to come back later,
    // so a guesser cannot learn which guess was right.
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhang.wei").password("guess-5").body()),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
    let slowed = server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhang.wei").body()),
        )
        .await;
    slowed.assert_error(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts);
    let retry_after: u64 = slowed.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1, "{slowed:?}");

    // A colleague on the same network signs in as usual.
    server.sign_in(&SignIn::rep(&acme, "li.na")).await;

    // Once the wait is over the right password works and the count starts again.
    server
        .clock
        .advance_millis(i64::try_from(retry_after).expect("small") * 1_000);
    server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhang.wei").password("typo").body()),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
}

#[tokio::test]
async fn one_address_guessing_across_many_logins_is_slowed_as_a_whole() {
    let server = TestServer::builder()
        .setting("AUTH__ADDRESS_LOCKOUT_AFTER", "6")
        .start()
        .await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server.create_rep(&admin, "zhang.wei").await;

    // Spraying one password over many logins never trips a single login's count...
    for n in 0..6 {
        server
            .post(
                "/v1/auth/login",
                None,
                Some(SignIn::rep(&acme, &format!("someone.{n}")).body()),
            )
            .await
            .assert_error(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials);
    }
    // ...but the address is now slowed, for every login it tries.
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "zhang.wei").body()),
        )
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts);
}
