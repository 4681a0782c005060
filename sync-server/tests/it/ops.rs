//! Health, metrics, request ids and the OpenAPI description.

use fieldsales_server::api::HealthResponse;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{SignIn, TestServer};

#[tokio::test]
async fn health_reports_ok_with_the_server_time_when_storage_answers() {
    let server = TestServer::start().await;
    let answer = server.get("/health", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let health: HealthResponse = answer.json();
    assert_eq!(health.status, "ok");
    assert_eq!(health.server_time, server.clock_now());
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_callers() {
    let server = TestServer::start().await;
    let answer = server.get("/health", None).await;
    let id = answer
        .headers
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let response = server
        .client
        .get(server.url("/health"))
        .header("x-request-id", "from-the-phone-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "from-the-phone-123");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    for _ in 0..3 {
        server.get("/health", None).await;
    }
    server
        .get(
            &format!("/v1/admin/accounts/{}", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await;
    server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::rep(&acme, "nobody").body()),
        )
        .await;

    let text = server.get("/metrics", None).await;
    assert_eq!(text.status, StatusCode::OK);
    let text = text.body.as_str().expect("text").to_owned();
    assert!(
        text.contains(
            r#"fieldsales_http_requests_total{method="GET",route="/health",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/admin/accounts/{account_id}",status="404"} 1"#),
        "ids must not appear in series: {text}"
    );
    assert!(
        text.contains(r#"route="/v1/auth/login",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("fieldsales_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let server = TestServer::builder()
        .setting("METRICS__ENABLED", "false")
        .start()
        .await;
    assert_eq!(
        server.get("/metrics", None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Substitutes a placeholder id into a templated path.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_described_operation_is_routed_and_every_routed_operation_is_described() {
    let server = TestServer::start().await;
    let spec: Value = server.get("/openapi.json", None).await.body;
    assert_eq!(
        spec["openapi"].as_str().map(|v| &v[..2]),
        Some("3."),
        "{spec}"
    );
    let paths = spec["paths"].as_object().expect("paths");

    // Everything the server serves, as (method, path template).
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch", "head"].contains(&method.as_str()) {
                continue;
            }
            described.push((method.to_uppercase(), path.clone()));
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                !responses.is_empty(),
                "{method} {path} describes no response"
            );
            for (status, response) in responses {
                if let Some(schema_ref) = response.pointer("/content/application~1json/schema/$ref")
                {
                    let name = schema_ref.as_str().unwrap().rsplit('/').next().unwrap();
                    assert!(
                        spec["components"]["schemas"].get(name).is_some(),
                        "{method} {path} {status} refers to undescribed schema {name}"
                    );
                }
            }
            // Routed: the server answers it with something other than "no such route".
            let answer = server
                .call(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete(path),
                    None,
                    None,
                )
                .await;
            let not_routed = answer.status == StatusCode::METHOD_NOT_ALLOWED
                || (answer.status == StatusCode::NOT_FOUND && answer.body["code"] == "not_found");
            assert!(
                !not_routed,
                "{method} {path} is described but not routed: {answer:?}"
            );
        }
    }
    described.sort();
    let expected = [
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/v1/admin/accounts"),
        ("GET", "/v1/admin/accounts/{account_id}"),
        ("GET", "/v1/admin/accounts/{account_id}/devices"),
        ("GET", "/v1/attachments/{sha256}"),
        ("GET", "/v1/auth/session"),
        ("GET", "/v1/dashboards/attention"),
        ("GET", "/v1/dashboards/funnel"),
        ("GET", "/v1/dashboards/reports"),
        ("GET", "/v1/dashboards/targets"),
        ("GET", "/v1/dashboards/visits"),
        ("GET", "/v1/dashboards/visits/points"),
        ("HEAD", "/v1/attachments/{sha256}"),
        ("POST", "/v1/admin/accounts"),
        ("POST", "/v1/admin/accounts/{account_id}/revoke"),
        ("POST", "/v1/admin/devices/{device_id}/revoke"),
        ("POST", "/v1/admin/jobs/run"),
        ("POST", "/v1/admin/records"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/logout"),
        ("POST", "/v1/sync"),
        ("PUT", "/v1/admin/accounts/{account_id}/password"),
        ("PUT", "/v1/attachments/{sha256}"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(described, expected, "the description and the routes differ");
    let bearer = &spec["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["scheme"], "bearer", "{spec}");
    assert!(
        spec["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("token_expired"))
    );
}

#[tokio::test]
async fn the_served_description_is_the_one_the_library_builds() {
    let server = TestServer::start().await;
    let served: Value = server.get("/openapi.json", None).await.body;
    let built = serde_json::to_value(fieldsales_server::openapi()).unwrap();
    assert_eq!(served, built);
}
