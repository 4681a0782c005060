//! Malformed, truncated, oversized and misdirected requests get clear 4xx answers.

use fieldsales_server::ErrorCode;
use reqwest::StatusCode;

use crate::support::{SignIn, TestServer};

async fn raw_login(
    server: &TestServer,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> crate::support::Answer {
    let mut request = server.client.post(server.url("/v1/auth/login")).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    TestServer::answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_body_cut_short_by_a_dropped_connection_is_a_400_malformed_body() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let full = serde_json::to_vec(&SignIn::rep(&acme, "zhang.wei").body()).unwrap();
    let truncated = full[..full.len() / 2].to_vec();
    let answer = raw_login(&server, Some("application/json"), truncated).await;
    answer.assert_error(StatusCode::BAD_REQUEST, ErrorCode::MalformedBody);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_malformed_body() {
    let server = TestServer::start().await;
    for body in [
        &b"tenant=acme&login=x"[..],
        b"",
        b"{\"tenant\": }",
        b"\xff\xfe",
    ] {
        let answer = raw_login(&server, Some("application/json"), body.to_vec()).await;
        answer.assert_error(StatusCode::BAD_REQUEST, ErrorCode::MalformedBody);
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_400_invalid_body_naming_the_problem() {
    let server = TestServer::start().await;
    let missing = raw_login(
        &server,
        Some("application/json"),
        br#"{"tenant": "acme", "login": "zhang.wei", "device_name": "phone"}"#.to_vec(),
    )
    .await;
    let body = missing.assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidBody);
    assert!(body.detail.contains("password"), "{body:?}");

    let wrong_type = raw_login(
        &server,
        Some("application/json"),
        br#"{"tenant": 42, "login": "x", "password": "p", "device_name": "phone"}"#.to_vec(),
    )
    .await;
    wrong_type.assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidBody);
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_a_415() {
    let server = TestServer::start().await;
    let answer = raw_login(&server, Some("text/plain"), b"{}".to_vec()).await;
    answer.assert_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
    );
    let answer = raw_login(&server, None, b"{}".to_vec()).await;
    answer.assert_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
    );
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_a_413() {
    let server = TestServer::builder()
        .setting("LIMITS__JSON_BODY_BYTES", "2048")
        .start()
        .await;
    let padding = "x".repeat(4096);
    let body = format!(
        r#"{{"tenant": "acme", "login": "a", "password": "p", "device_name": "{padding}"}}"#
    );
    let answer = raw_login(&server, Some("application/json"), body.into_bytes()).await;
    answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge);
}

#[tokio::test]
async fn an_id_in_the_path_that_is_not_a_uuid_is_a_400_invalid_path() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    server
        .get("/v1/admin/accounts/not-a-uuid", Some(&admin))
        .await
        .assert_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidPath);
}

#[tokio::test]
async fn unknown_endpoints_and_wrong_methods_answer_in_the_error_shape() {
    let server = TestServer::start().await;
    server
        .get("/v1/nowhere", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, ErrorCode::NotFound);
    server
        .get("/v1/auth/login", None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed);
}
