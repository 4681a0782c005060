//! Health, metrics, request ids and the OpenAPI description.

use fieldsales_server::api::{HealthResponse, HealthStatus};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{SignIn, TestServer, python};

#[tokio::test]
async fn health_reports_ok_with_the_server_time_when_storage_answers() {
    let server = TestServer::start().await;
    let answer = server.get("/health", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let health: HealthResponse = answer.json();
    assert_eq!(health.status, HealthStatus::Ok);
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
        ("GET", "/v1/admin/audit"),
        ("GET", "/v1/admin/audit/export"),
        ("GET", "/v1/admin/console"),
        ("GET", "/v1/attachments/{sha256}"),
        ("GET", "/v1/auth/session"),
        ("GET", "/v1/dashboards/attention"),
        ("GET", "/v1/dashboards/export"),
        ("GET", "/v1/dashboards/funnel"),
        ("GET", "/v1/dashboards/org"),
        ("GET", "/v1/dashboards/people/{id}"),
        ("GET", "/v1/dashboards/reports"),
        ("GET", "/v1/dashboards/targets"),
        ("GET", "/v1/dashboards/visits"),
        ("GET", "/v1/dashboards/visits/points"),
        ("HEAD", "/v1/attachments/{sha256}"),
        ("POST", "/v1/admin/accounts"),
        (
            "POST",
            "/v1/admin/accounts/{account_id}/browser-sessions/revoke",
        ),
        ("POST", "/v1/admin/accounts/{account_id}/revoke"),
        ("POST", "/v1/admin/devices/{device_id}/revoke"),
        ("POST", "/v1/admin/hand-over"),
        ("POST", "/v1/admin/import"),
        ("POST", "/v1/admin/jobs/run"),
        ("POST", "/v1/admin/records"),
        ("POST", "/v1/auth/browser"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/logout"),
        ("POST", "/v1/customers/duplicates"),
        ("POST", "/v1/sync"),
        ("PUT", "/v1/admin/accounts/{account_id}/password"),
        ("PUT", "/v1/admin/matrix"),
        ("PUT", "/v1/attachments/{sha256}"),
        ("PUT", "/v1/auth/password"),
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

/// `openapi-spec-validator`, the reference validator, over the served document.
#[tokio::test]
async fn the_description_passes_a_standard_openapi_validator() {
    let server = TestServer::start().await;
    let spec = server.get("/openapi.json", None).await.body;
    assert_eq!(spec["openapi"], "3.1.0");
    let verdict = python(
        "import json, sys\n\
         from openapi_spec_validator import validate\n\
         from openapi_spec_validator.versions import consts, get_spec_version\n\
         spec = json.load(sys.stdin)\n\
         validate(spec)\n\
         print(get_spec_version(spec))",
        &spec.to_string(),
    );
    assert!(verdict.contains("3.1"), "validated as {verdict}");
}

fn schema_of<'a>(spec: &'a Value, name: &str) -> &'a Value {
    spec["components"]["schemas"]
        .get(name)
        .unwrap_or_else(|| panic!("no schema {name}"))
}

fn codes(schema: &Value) -> Vec<&str> {
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("not an enum: {schema}"))
        .iter()
        .map(|v| v.as_str().expect("a code"))
        .collect()
}

#[test]
fn every_successful_answer_has_a_schema_and_closed_sets_are_enums() {
    let spec = serde_json::to_value(fieldsales_server::openapi()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                // HEAD answers never have a body, and 204 says there is none.
                if !status.starts_with('2') || status == "204" || method == "head" {
                    continue;
                }
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} {status} has no content"));
                assert!(!content.is_empty(), "{method} {path} {status}");
                for (media, body) in content {
                    let schema = body["schema"].as_object().unwrap_or_else(|| {
                        panic!("{method} {path} {status} {media} has no schema")
                    });
                    assert!(
                        !schema.is_empty(),
                        "{method} {path} {status} {media}: an empty schema says nothing"
                    );
                }
            }
        }
    }

    // The dashboards answer with the core types, described field by field.
    let funnel = &spec["paths"]["/v1/dashboards/funnel"]["get"];
    assert_eq!(
        funnel["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Funnel"
    );
    let figures = schema_of(&spec, "FunnelFigures");
    assert_eq!(
        figures["properties"]["pipeline"]["$ref"],
        "#/components/schemas/Money"
    );
    assert_eq!(
        schema_of(&spec, "Money")["required"],
        serde_json::json!(["minor", "currency"])
    );
    for dashboard in [
        "Funnel",
        "VisitsDashboard",
        "MapPoints",
        "ReportCompliance",
        "TargetBoard",
        "AttentionList",
    ] {
        assert!(
            schema_of(&spec, dashboard)["properties"]["range"].is_object(),
            "{dashboard}"
        );
    }
    // Required parameters are marked so; closed sets are enums.
    let params = funnel["parameters"].as_array().expect("parameters");
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    assert_eq!(param("from")["required"], true);
    assert_eq!(param("to")["required"], true);
    assert_eq!(param("group_by")["required"], false);
    assert_eq!(
        codes(schema_of(&spec, "GroupBy")),
        ["rep", "team", "region"]
    );
    assert_eq!(codes(schema_of(&spec, "Granularity")), ["day", "week"]);
    assert_eq!(codes(schema_of(&spec, "HealthStatus")), ["ok"]);
    assert_eq!(
        codes(schema_of(&spec, "OrgLevel")),
        ["hq", "region", "district", "team"]
    );
    assert_eq!(
        codes(schema_of(&spec, "DataScope")),
        ["own", "subtree", "region", "all"]
    );
    assert_eq!(
        codes(schema_of(&spec, "AdminRecordKind")),
        ["org_unit", "user_profile", "role", "process_config"]
    );
    assert!(codes(schema_of(&spec, "ErrorCode")).contains(&"login_taken"));
    // Who signed in is described, not an untyped object.
    let me = schema_of(&spec, "Me");
    for field in ["user_id", "unit_id", "roles", "scope", "zone"] {
        assert!(me["properties"][field].is_object(), "Me.{field}: {me}");
    }
}

/// The OpenMetrics families a standard parser (prometheus-client's) reads from `text`, by
/// name: their type and samples (sample name, labels, value).
fn parsed_metrics(text: &str) -> std::collections::BTreeMap<String, Value> {
    let json = python(
        "import json, sys\n\
         from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
         print(json.dumps({f.name: {'type': f.type, 'unit': f.unit, 'samples': \
             [[s.name, s.labels, s.value] for s in f.samples]} \
             for f in text_string_to_metric_families(sys.stdin.read())}))",
        text,
    );
    serde_json::from_str(&json).expect("the parser's families as JSON")
}

/// The value of the sample `name` with `labels` among `families`.
fn sample(
    families: &std::collections::BTreeMap<String, Value>,
    family: &str,
    name: &str,
    labels: Value,
) -> f64 {
    families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family} in {families:#?}"))["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s[0] == name && s[1] == labels)
        .unwrap_or_else(|| panic!("no sample {name} {labels} in {family}: {families:#?}"))[2]
        .as_f64()
        .unwrap()
}

async fn sync_phone(
    phone: &mut fieldsales_core::engine::Engine,
) -> fieldsales_core::sync::SyncReport {
    use fieldsales_core::sync::{CancelToken, SyncOptions, sync_now};
    sync_now(phone, &SyncOptions::default(), &|_| {}, &CancelToken::new())
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_are_openmetrics_with_the_build_sync_jobs_and_database_a_standard_parser_reads() {
    use fieldsales_core::record::{Customer, Header, Product};
    use fieldsales_core::sync;
    use fieldsales_core::{Currency, Money};

    let server = TestServer::start().await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    crate::support::rep_with_profile(&server, &admin, "zhang.wei").await;

    // 张伟's phone signs in and syncs; then adds a customer, and, as an old or tampered app
    // might, a catalogue product that only an admin may write.
    let dir = tempfile::tempdir().unwrap();
    let mut phone = sync::sign_in(
        &fieldsales_core::sync::SignIn {
            server_url: server.base.clone(),
            tenant: acme.slug.clone(),
            login: "zhang.wei".into(),
            password: crate::support::REP_PASSWORD.into(),
            device_name: "phone".into(),
        },
        &dir.path().join("phone.sqlite3"),
    )
    .await
    .unwrap();
    let first = sync_phone(&mut phone).await;
    let me = phone.me().user_id;
    let now = phone.now();
    phone
        .create_customer(Customer::new(
            Header::new(me, now),
            "上海华鑫电子科技有限公司",
        ))
        .unwrap();
    phone
        .store_mut()
        .create(Product {
            header: Header::new(me, now),
            code: "P-900".into(),
            name: "私自加的产品".into(),
            spec: None,
            unit: None,
            list_price: Money::major(100, Currency::CNY),
            cost: None,
            category: None,
            product_line: None,
            tier_prices: Default::default(),
            volume_breaks: Vec::new(),
            promotions: Vec::new(),
            active: true,
        })
        .unwrap();
    let second = sync_phone(&mut phone).await;
    assert_eq!(second.rejected.len(), 1, "{:?}", second.rejected);
    let rule = second.rejected[0].1.clone();
    // The jobs run once, on demand.
    let run = server.post("/v1/admin/jobs/run", Some(&admin), None).await;
    assert_eq!(run.status, StatusCode::OK, "{run:?}");

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let families = parsed_metrics(&text);

    assert_eq!(families["fieldsales_build"]["type"], "info");
    assert_eq!(
        sample(
            &families,
            "fieldsales_build",
            "fieldsales_build_info",
            serde_json::json!({"version": env!("CARGO_PKG_VERSION")})
        ),
        1.0
    );
    let counter = |family: &str, labels: Value| {
        assert_eq!(families[family]["type"], "counter", "{family}");
        sample(&families, family, &format!("{family}_total"), labels)
    };
    let none = serde_json::json!({});
    assert_eq!(counter("fieldsales_sync_records_pushed", none.clone()), 2.0);
    assert_eq!(
        counter("fieldsales_sync_records_accepted", none.clone()),
        1.0
    );
    assert_eq!(
        counter(
            "fieldsales_sync_records_rejected",
            serde_json::json!({ "rule": rule })
        ),
        1.0
    );
    let pulled = first.progress.records_down + second.progress.records_down;
    assert!(pulled > 0, "the phone pulled its profile, unit and role");
    assert_eq!(
        counter("fieldsales_sync_records_pulled", none.clone()),
        pulled as f64,
        "the server counts the records the phone received"
    );
    assert_eq!(
        counter("fieldsales_job_runs", serde_json::json!({"result": "ok"})),
        1.0
    );
    assert_eq!(families["fieldsales_database_size_bytes"]["unit"], "bytes");
    for database in ["accounts", "records"] {
        assert!(
            sample(
                &families,
                "fieldsales_database_size_bytes",
                "fieldsales_database_size_bytes",
                serde_json::json!({ "database": database })
            ) > 0.0,
            "{database}"
        );
    }
    assert_eq!(
        families["fieldsales_sync_group_commit_calls"]["type"],
        "histogram"
    );
    assert!(
        sample(
            &families,
            "fieldsales_sync_group_commit_calls",
            "fieldsales_sync_group_commit_calls_count",
            serde_json::json!({})
        ) > 0.0,
        "the phone's sync calls were committed in groups"
    );
}
