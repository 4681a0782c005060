//! Byte ranges of the attachment API, through the server's own router in this process (the
//! requests a phone sends, without the socket): the input is a list of uploads — a
//! `Content-Range` header and a slice of one photo, sometimes corrupted — and downloads with a
//! `Range` header. No answer is a server error; the content the server holds whole is always
//! the content its name says; a 206 carries exactly the bytes its `Content-Range` names.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fieldsales_core::Timestamp;
use fieldsales_core::time::ManualClock;
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_tenant};
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::{AppState, Config, SqliteOptions, SqliteStore, app};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sha2::Digest;
use tower::ServiceExt;

const LEN: usize = 3_000;

struct Server {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
    content: Vec<u8>,
    sha: String,
}

async fn call(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

async fn post(router: &Router, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let (status, _, bytes) =
        call(router, request.body(Body::from(body.to_string())).unwrap()).await;
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).expect("JSON")
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let env = vec![(
            "FIELDSALES_DATA_DIR".to_owned(),
            dir.path().join("data").display().to_string(),
        )];
        let config = Config::load(None, env).expect("configuration");
        fieldsales_server::create_data_dir(&config.data_dir).expect("data dir");
        let (router, token) = runtime.block_on(async {
            let store = Arc::new(
                SqliteStore::open(config.database_path(), SqliteOptions::default())
                    .await
                    .expect("store"),
            );
            let clock = ManualClock::new(Timestamp::from_millis(1_773_018_000_000));
            let state = AppState::new(config, store.clone(), Arc::new(clock.clone()))
                .await
                .expect("state");
            bootstrap_tenant(
                store.as_ref(),
                &state.passwords,
                state.config.auth.min_password_length,
                BootstrapTenant {
                    slug: TenantSlug::parse("acme").expect("slug"),
                    name: DisplayName::parse("Acme Ltd").expect("name"),
                    admin_login: Login::parse("admin").expect("login"),
                    admin_password: Password::new("admin password 1"),
                    admin_profile_id: None,
                },
                fieldsales_core::Clock::now(&clock),
            )
            .await
            .expect("bootstrap");
            let router = app(state);
            let login = |login: &str, password: &str, device: &str| {
                json!({"tenant": "acme", "login": login, "password": password, "device_name": device})
            };
            let admin = post(&router, "/v1/auth/login", None, login("admin", "admin password 1", "laptop")).await;
            let admin = admin["token"].as_str().expect("a token").to_owned();
            post(
                &router,
                "/v1/admin/accounts",
                Some(&admin),
                json!({"login": "zhang.wei", "password": "rep password 12"}),
            )
            .await;
            let rep = post(&router, "/v1/auth/login", None, login("zhang.wei", "rep password 12", "phone")).await;
            (router, rep["token"].as_str().expect("a token").to_owned())
        });
        let content: Vec<u8> = (0..LEN).map(|i| (i * 7 % 251) as u8).collect();
        let sha = hex(&sha2::Sha256::digest(&content));
        Server {
            _dir: dir,
            runtime,
            router,
            token,
            content,
            sha,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One operation of the input: a kind byte, two 16-bit positions, a header length and the
/// header's bytes. Returns the rest of the input.
fn next(data: &[u8]) -> Option<(u8, usize, usize, &[u8], &[u8])> {
    let (&[kind, a0, a1, b0, b1, n], rest) = data.split_first_chunk::<6>()?;
    let n = usize::from(n).min(rest.len());
    let (header, rest) = rest.split_at(n);
    let a = usize::from(u16::from_le_bytes([a0, a1])) % (LEN + 1);
    let b = usize::from(u16::from_le_bytes([b0, b1])) % (LEN + 1);
    Some((kind, a.min(b), a.max(b), header, rest))
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    let path = format!("/v1/attachments/{}", server.sha);
    let bearer = format!("Bearer {}", server.token);
    server.runtime.block_on(async {
        let mut data = data;
        while let Some((kind, start, end, header_bytes, rest)) = next(data) {
            data = rest;
            let Ok(value) = header::HeaderValue::from_bytes(header_bytes) else {
                continue;
            };
            if kind & 1 == 0 {
                let mut body = server.content[start..end].to_vec();
                if kind & 0x1e == 0x1e && !body.is_empty() {
                    body[0] ^= 0xff;
                }
                let mut request = Request::put(&path).header(header::AUTHORIZATION, &bearer);
                if kind & 0x20 == 0 {
                    request = request.header(header::CONTENT_RANGE, value);
                }
                let (status, _, answer) =
                    call(&server.router, request.body(Body::from(body)).unwrap()).await;
                assert!(
                    !status.is_server_error(),
                    "upload {header_bytes:?}: {status} {}",
                    String::from_utf8_lossy(&answer)
                );
                // Whatever the server holds whole is the content its name says.
                let request = Request::get(&path).header(header::AUTHORIZATION, &bearer);
                let (status, _, held) =
                    call(&server.router, request.body(Body::empty()).unwrap()).await;
                assert!(!status.is_server_error(), "download: {status}");
                if status == StatusCode::OK {
                    assert!(
                        held == server.content,
                        "the held content differs from its name"
                    );
                }
            } else {
                let request = Request::get(&path)
                    .header(header::AUTHORIZATION, &bearer)
                    .header(header::RANGE, value);
                let (status, headers, bytes) =
                    call(&server.router, request.body(Body::empty()).unwrap()).await;
                assert!(
                    !status.is_server_error(),
                    "range {header_bytes:?}: {status}"
                );
                match status {
                    StatusCode::OK => assert!(bytes == server.content),
                    StatusCode::PARTIAL_CONTENT => {
                        let named = headers
                            .get(header::CONTENT_RANGE)
                            .and_then(|v| v.to_str().ok())
                            .expect("a 206 names its range");
                        let (range, total) = named
                            .strip_prefix("bytes ")
                            .and_then(|r| r.split_once('/'))
                            .expect("bytes start-end/total");
                        let (s, e) = range.split_once('-').expect("start-end");
                        let (s, e): (usize, usize) = (s.parse().unwrap(), e.parse().unwrap());
                        assert_eq!(total, LEN.to_string());
                        assert!(
                            bytes == server.content[s..=e],
                            "a 206 carries its named bytes"
                        );
                    }
                    _ => {}
                }
            }
        }
    });
});
