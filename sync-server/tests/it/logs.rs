//! Nothing secret reaches the log: not a password, not a token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::support::{ADMIN_PASSWORD, REP_PASSWORD, SignIn, TestServer};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the server's tasks run on this thread, under this subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_days_sign_ins_log_who_and_what_but_never_a_password_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(
            "fieldsales_server=trace,tower_http=trace,axum=trace",
        ))
        .with_writer(move || writer.clone())
        .json()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let rep = server.create_rep(&admin, "zhang.wei").await;
    let phone = server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await;
    server.get("/v1/auth/session", Some(&phone.token)).await;
    server
        .post(
            "/v1/auth/login",
            None,
            Some(
                SignIn::rep(&acme, "zhang.wei")
                    .password("a-wrong-guess-99")
                    .body(),
            ),
        )
        .await;
    server
        .call(
            reqwest::Method::PUT,
            &format!("/v1/admin/accounts/{}/password", rep.id),
            Some(&admin),
            Some(json!({"password": "the-replacement-77"})),
        )
        .await;
    server
        .post("/v1/auth/logout", Some(&phone.token), None)
        .await;
    drop(server);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("signed in"), "the log records sign-ins: {log}");
    assert!(log.contains("wrong password"), "and refusals: {log}");
    assert!(
        log.contains(&phone.device_id.to_string()),
        "with the device: {log}"
    );
    for secret in [
        ADMIN_PASSWORD,
        REP_PASSWORD,
        "a-wrong-guess-99",
        "the-replacement-77",
        admin.as_str(),
        &admin[4..],
        phone.token.as_str(),
        &phone.token[4..],
    ] {
        assert!(!log.contains(secret), "a secret reached the log: {secret}");
    }
}
