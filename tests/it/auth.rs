//! Revocation, bad credentials, expired tokens and bad bodies: clear answers, never a 500.

use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::{self, CONTENT_TYPE, SyncRequest};
use fieldsales_core::sync::{self, SignIn, SyncError};
use fieldsales_core::testing::customer;
use fieldsales_tests::{PASSWORD, TENANT, World, post_sync, sync, token_of, try_sync};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_wiped_at_its_next_sync() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    phone
        .store_mut()
        .create(customer(li.profile, "扬州运河酒业有限公司"))
        .expect("created");
    sync(&mut phone).await;
    assert!(!fieldsales_tests::records(phone.store()).is_empty());

    let session: Value = world
        .http
        .get(format!("{}/v1/auth/session", world.base))
        .bearer_auth(token_of(&phone))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let device = session["device_id"].as_str().expect("device id").to_owned();
    let (status, body) = world
        .admin(&format!("/v1/admin/devices/{device}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    let outcome = try_sync(&mut phone).await;
    assert!(
        matches!(&outcome, Err(SyncError::Revoked { code }) if code == "device_revoked"),
        "{outcome:?}"
    );
    assert!(fieldsales_tests::records(phone.store()).is_empty(), "wiped");
    assert!(phone.store().pending().expect("outbox").is_empty());
    assert!(
        phone
            .store()
            .meta(sync::client::META_SESSION)
            .expect("meta")
            .is_none(),
        "the token went with the data"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_expired_token_get_a_clear_401() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let path = world.store_path("li.na");
    let wrong = sync::sign_in(
        &SignIn {
            server_url: world.base.clone(),
            tenant: TENANT.into(),
            login: li.login.clone(),
            password: format!("{PASSWORD}-typo"),
            device_name: "phone".into(),
        },
        &path,
    )
    .await;
    assert!(
        matches!(wrong, Err(SyncError::BadCredentials)),
        "{:?}",
        wrong.err()
    );

    let mut phone = world.device(&li).await;
    sync(&mut phone).await;
    world.clock.advance_millis(31 * 24 * 3_600_000);
    let outcome = try_sync(&mut phone).await;
    assert!(
        matches!(&outcome, Err(SyncError::AuthExpired { code }) if code == "token_expired"),
        "{outcome:?}"
    );
    assert!(
        !fieldsales_tests::records(phone.store()).is_empty(),
        "an expired session keeps the data"
    );
    let body = protocol::encode(&SyncRequest::new(0)).expect("encodes");
    let (status, answer) = post_sync(
        &world.http,
        &world.base,
        &token_of(&phone),
        CONTENT_TYPE,
        body,
    )
    .await;
    assert_eq!(status, 401);
    let answer: Value = serde_json::from_slice(&answer).expect("an error body");
    assert_eq!(answer["code"], "token_expired");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_foreign_and_inflating_bodies_get_clear_4xx_answers() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let phone = world.device(&li).await;
    let token = token_of(&phone);
    let good = protocol::encode(&SyncRequest::new(0)).expect("encodes");
    let code = |bytes: &[u8]| -> String {
        let v: Value = serde_json::from_slice(bytes).expect("an error body");
        v["code"].as_str().unwrap_or_default().to_owned()
    };

    let mut cases: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
        (
            "garbage",
            b"not gzip at all".to_vec(),
            CONTENT_TYPE,
            400,
            "malformed_body",
        ),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            CONTENT_TYPE,
            400,
            "malformed_body",
        ),
        ("empty", Vec::new(), CONTENT_TYPE, 400, "malformed_body"),
        (
            "json",
            good.clone(),
            "application/json",
            415,
            "unsupported_media_type",
        ),
    ];
    let mut other_version = SyncRequest::new(0);
    other_version.version = 99;
    cases.push((
        "future version",
        protocol::encode(&other_version).expect("encodes"),
        CONTENT_TYPE,
        400,
        "unsupported_version",
    ));
    // Valid gzip of CBOR that is not a sync request.
    let mut not_a_request = Vec::new();
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(&mut not_a_request, flate2::Compression::fast());
        gz.write_all(&[0xa1, 0x61, 0x78, 0x01]).expect("written");
        gz.finish().expect("finished");
    }
    cases.push((
        "foreign CBOR",
        not_a_request,
        CONTENT_TYPE,
        400,
        "malformed_body",
    ));
    // 64 MiB of zeros: a small body that would inflate beyond the limit.
    let mut bomb = Vec::new();
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(&mut bomb, flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).expect("written");
        }
        gz.finish().expect("finished");
    }
    assert!(bomb.len() < 1 << 20);
    cases.push(("inflation bomb", bomb, CONTENT_TYPE, 413, "body_too_large"));

    for (name, body, content_type, status, expected) in cases {
        let (got, answer) = post_sync(&world.http, &world.base, &token, content_type, body).await;
        assert_eq!(got, status, "{name}: {}", String::from_utf8_lossy(&answer));
        assert_eq!(code(&answer), expected, "{name}");
    }
    // The server still serves the device afterwards.
    let mut phone = phone;
    sync(&mut phone).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_deletes_the_store_files() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    sync(&mut phone).await;
    let path = phone.store().path().expect("a file").to_path_buf();
    let token = token_of(&phone);
    sync::sign_out(phone).await.expect("signed out");
    assert!(!path.exists());
    let body = protocol::encode(&SyncRequest::new(0)).expect("encodes");
    let (status, _) = post_sync(&world.http, &world.base, &token, CONTENT_TYPE, body).await;
    assert_eq!(status, 401, "the token was revoked");
    world.stop().await;
}

on_postgres!(a_revoked_device_is_wiped_at_its_next_sync);
