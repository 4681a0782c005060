//! Configuration layering (defaults → file → environment) and refusals that name the key.

use std::path::PathBuf;
use std::time::Duration;

use fieldsales_server::config::{Config, ConfigError, LogFormat};
use reqwest::StatusCode;

use crate::support::TestServer;

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

struct ConfigFile {
    dir: tempfile::TempDir,
}

impl ConfigFile {
    fn with(toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.toml"), toml).unwrap();
        ConfigFile { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("server.toml")
    }
}

fn invalid(err: ConfigError) -> Vec<fieldsales_server::config::Invalid> {
    match err {
        ConfigError::Invalid(items) => items,
        other => panic!("expected invalid values, got {other}"),
    }
}

#[test]
fn with_nothing_set_the_defaults_apply() {
    let config = Config::load(None, env(&[("PATH", "/usr/bin"), ("HOME", "/root")])).unwrap();
    assert_eq!(config, Config::defaults());
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.auth.token_lifetime, Duration::from_secs(30 * 86_400));
    assert_eq!(config.limits.json_body_bytes, 64 * 1024);
    assert_eq!(config.tls, None);
    assert_eq!(config.database_path(), PathBuf::from("data/server.sqlite3"));
}

#[test]
fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let file = ConfigFile::with(
        r#"
        data_dir = "/srv/fieldsales"
        listen = "0.0.0.0:8443"
        [auth]
        token_lifetime = "7d"
        min_password_length = 12
        [log]
        format = "json"
        "#,
    );
    let config = Config::load(
        Some(&file.path()),
        env(&[
            ("FIELDSALES_AUTH__TOKEN_LIFETIME", "14d"),
            ("FIELDSALES_LIMITS__JSON_BODY_BYTES", "131072"),
            (
                "FIELDSALES_CONFIG",
                "ignored: names the file, is not a setting",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/srv/fieldsales"));
    assert_eq!(config.listen.to_string(), "0.0.0.0:8443");
    assert_eq!(config.auth.token_lifetime, Duration::from_secs(14 * 86_400));
    assert_eq!(config.auth.min_password_length, 12);
    assert_eq!(config.limits.json_body_bytes, 131_072);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(
        config.log.level, "info",
        "untouched keys keep their defaults"
    );
}

#[test]
fn every_bad_value_is_listed_with_its_key_origin_and_reason() {
    let file = ConfigFile::with(
        r#"
        [auth]
        token_lifetime = "soon"
        "#,
    );
    let errors = invalid(
        Config::load(
            Some(&file.path()),
            env(&[
                ("FIELDSALES_LISTEN", "port 80 please"),
                ("FIELDSALES_STORAGE__SQLITE_READERS", "0"),
                ("FIELDSALES_LOG__LEVEL", "info,=][="),
            ]),
        )
        .unwrap_err(),
    );
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "listen",
            "auth.token_lifetime",
            "storage.sqlite_readers",
            "log.level"
        ]
    );

    let listen = &errors[0];
    assert!(listen.origin.contains("FIELDSALES_LISTEN"), "{listen}");
    assert!(listen.reason.contains("port 80 please"), "{listen}");
    let lifetime = &errors[1];
    assert!(lifetime.origin.contains("server.toml"), "{lifetime}");
    assert!(lifetime.reason.contains("not a duration"), "{lifetime}");
    assert!(
        errors[2].reason.contains("outside 1 to 64"),
        "{}",
        errors[2]
    );
}

#[test]
fn an_unknown_key_in_the_file_is_refused_by_name() {
    let file = ConfigFile::with("[auth]\ntoken_lifetme = \"7d\"\n");
    let err = Config::load(Some(&file.path()), Vec::new()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConfigError::Parse(_)));
    assert!(text.contains("token_lifetme"), "{text}");
}

#[test]
fn an_unknown_variable_with_the_prefix_is_refused_by_name() {
    let err = Config::load(None, env(&[("FIELDSALES_LISTEN_ADDR", "0.0.0.0:1")])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("listen_addr"), "{text}");
}

#[test]
fn a_value_of_the_wrong_type_names_its_key() {
    let err =
        Config::load(None, env(&[("FIELDSALES_LIMITS__JSON_BODY_BYTES", "lots")])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("FIELDSALES_LIMITS__JSON_BODY_BYTES"),
        "{text}"
    );
    assert!(text.contains("\"lots\""), "{text}");
}

#[test]
fn tls_needs_both_a_certificate_and_a_key_that_exist() {
    let errors = invalid(
        Config::load(
            None,
            env(&[("FIELDSALES_TLS__CERT", "/nonexistent/cert.pem")]),
        )
        .unwrap_err(),
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].key, "tls.key");

    let errors = invalid(
        Config::load(
            None,
            env(&[
                ("FIELDSALES_TLS__CERT", "/nonexistent/cert.pem"),
                ("FIELDSALES_TLS__KEY", "/nonexistent/key.pem"),
            ]),
        )
        .unwrap_err(),
    );
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["tls.cert", "tls.key"]);
    assert!(errors[0].reason.contains("/nonexistent/cert.pem"));
}

#[test]
fn a_named_config_file_that_is_missing_is_an_error_not_an_empty_file() {
    let err = Config::load(
        Some(std::path::Path::new("/nonexistent/fieldsales.toml")),
        Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/fieldsales.toml"));
}

#[test]
fn the_example_file_shipped_with_the_server_states_the_defaults() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fieldsales-server.example.toml");
    let config = Config::load(Some(&example), Vec::new()).unwrap();
    assert_eq!(config, Config::defaults());
}

#[test]
fn the_effective_configuration_written_as_toml_loads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "cert").unwrap();
    std::fs::write(&key, "key").unwrap();
    let file = ConfigFile::with(
        r#"
        listen = "0.0.0.0:8443"
        shutdown_grace = "90s"
        [auth]
        token_lifetime = "14d"
        [jobs]
        interval = "5m"
        "#,
    );
    let cert_var = cert.display().to_string();
    let key_var = key.display().to_string();
    let config = Config::load(
        Some(&file.path()),
        env(&[
            ("FIELDSALES_LIMITS__SYNC_PAGE_RECORDS", "200"),
            ("FIELDSALES_LOG__LEVEL", "info,fieldsales_server=debug"),
            ("FIELDSALES_METRICS__ENABLED", "false"),
            ("FIELDSALES_TLS__CERT", &cert_var),
            ("FIELDSALES_TLS__KEY", &key_var),
        ]),
    )
    .unwrap();

    let text = config.to_toml().unwrap();
    let written = ConfigFile::with(&text);
    let again =
        Config::load(Some(&written.path()), Vec::new()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(again, config, "{text}");
    // Every section is written out, with the values from every layer.
    for line in [
        "listen = \"0.0.0.0:8443\"",
        "[auth]",
        "token_lifetime = \"14days\"",
        "sync_page_records = 200",
        "[metrics]",
        "enabled = false",
        "[tls]",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

#[test]
fn the_flood_limits_default_sensibly_and_refuse_values_that_would_disable_them() {
    let config = Config::load(None, Vec::new()).unwrap();
    assert_eq!(config.limits.connections, 4096);
    assert_eq!(config.limits.header_read_timeout, Duration::from_secs(10));
    assert_eq!(config.limits.sync_concurrent, 16);
    assert_eq!(config.limits.sync_wait, Duration::from_secs(5));
    assert_eq!(config.limits.push_records, 2000);
    assert_eq!(config.limits.inflate_bytes_in_flight, 256 * 1024 * 1024);

    let errors = invalid(
        Config::load(
            None,
            env(&[
                ("FIELDSALES_LIMITS__CONNECTIONS", "0"),
                ("FIELDSALES_LIMITS__HEADER_READ_TIMEOUT", "0s"),
                ("FIELDSALES_LIMITS__SYNC_CONCURRENT", "0"),
                ("FIELDSALES_LIMITS__SYNC_WAIT", "1h"),
                ("FIELDSALES_LIMITS__PUSH_RECORDS", "-5"),
                ("FIELDSALES_LIMITS__INFLATE_BYTES_IN_FLIGHT", "1048576"),
            ]),
        )
        .unwrap_err(),
    );
    let mut keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "limits.connections",
            "limits.header_read_timeout",
            "limits.inflate_bytes_in_flight",
            "limits.push_records",
            "limits.sync_concurrent",
            "limits.sync_wait",
        ],
        "{errors:?}"
    );
}

#[test]
fn mutated_configuration_files_load_or_are_refused_with_a_reason_never_a_panic() {
    use fieldsales_core::testing::fuzz;
    let corpus = vec![
        include_bytes!("../../fieldsales-server.example.toml").to_vec(),
        b"[limits]\nsync_body_bytes = 65536\n[auth]\ntoken_lifetime = \"12h\"\n".to_vec(),
    ];
    let file = ConfigFile::with("");
    let mut loaded = 0;
    for case in 0..fuzz::cases(600) {
        let input = fuzz::input(&corpus, case);
        std::fs::write(file.path(), &input).unwrap();
        let result = std::panic::catch_unwind(|| Config::load(Some(&file.path()), Vec::new()));
        match result {
            Ok(Ok(_)) => loaded += 1,
            Ok(Err(e)) => assert!(!e.to_string().is_empty(), "case {case}"),
            Err(_) => panic!(
                "case {case} panicked on {:?}",
                String::from_utf8_lossy(&input)
            ),
        }
    }
    assert!(
        loaded > 0,
        "some mutations still load (the corpus is a real file)"
    );
}

#[tokio::test]
async fn a_configured_tile_server_is_the_one_outside_origin_the_dashboard_may_load_images_from() {
    let server = TestServer::builder()
        .setting(
            "WEB__TILE_URL",
            "https://tiles.example.com/osm/{z}/{x}/{y}.png?key=a&b=c",
        )
        .start()
        .await;
    let page = server.get("/dashboard", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().expect("the page as text");
    assert!(
        html.contains(r#"<meta name="fieldsales-tiles" content="https://tiles.example.com/osm/{z}/{x}/{y}.png?key=a&amp;b=c">"#),
        "the template reaches the page, escaped"
    );
    for path in [
        "/dashboard",
        "/dashboard/dashboard.js",
        "/dashboard/dashboard.css",
    ] {
        let answer = server.get(path, None).await;
        let csp = answer.headers["content-security-policy"]
            .to_str()
            .expect("ASCII");
        assert!(
            csp.contains("img-src 'self' data: https://tiles.example.com;"),
            "{path}: {csp}"
        );
        assert!(csp.contains("script-src 'self';") && csp.contains("connect-src 'self';"));
    }

    // Without one, nothing outside the server is named.
    let plain = TestServer::start().await;
    let answer = plain.get("/dashboard", None).await;
    let csp = answer.headers["content-security-policy"]
        .to_str()
        .expect("ASCII");
    assert!(!csp.contains("http"), "{csp}");
    assert!(
        answer
            .body
            .as_str()
            .expect("text")
            .contains(r#"<meta name="fieldsales-tiles" content="">"#)
    );
}
