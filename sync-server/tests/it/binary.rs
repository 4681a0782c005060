//! The `fieldsales-server` program as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::install_crypto_provider;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsales-server");

struct DataDir(tempfile::TempDir);

impl DataDir {
    fn new() -> Self {
        DataDir(tempfile::tempdir().unwrap())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("FIELDSALES_DATA_DIR", self.0.path().join("data"))
            .env("FIELDSALES_LISTEN", "127.0.0.1:0")
            .env("FIELDSALES_LOG__FORMAT", "json");
        command
    }
}

/// Kills the child if the test fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_bad_configuration_stops_the_program_with_the_key_named() {
    let dir = DataDir::new();
    let out = dir
        .command(&["check-config"])
        .env("FIELDSALES_AUTH__TOKEN_LIFETIME", "forever")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auth.token_lifetime"), "{stderr}");
    assert!(
        stderr.contains("FIELDSALES_AUTH__TOKEN_LIFETIME"),
        "{stderr}"
    );
}

#[test]
fn bootstrap_refuses_a_second_first_admin_for_the_same_tenant() {
    let dir = DataDir::new();
    let run = |stdin: &str| {
        let mut child = dir
            .command(&[
                "bootstrap",
                "--tenant",
                "acme",
                "--name",
                "Acme Ltd",
                "--login",
                "admin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let first = run("an-operator-password\n");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("tenant `acme`"));
    let second = run("an-operator-password\n");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("exists already"));
}

/// A server process, its address and its log lines.
struct ServerProcess {
    child: Running,
    address: String,
    lines: std::sync::mpsc::Receiver<String>,
    /// The log lines before `serving HTTP`.
    early: Vec<String>,
}

impl ServerProcess {
    /// Bootstraps `acme` with an admin, then serves; waits for the `serving HTTP` line.
    fn start(dir: &DataDir, log_level: &str) -> Self {
        Self::bootstrap(dir);
        Self::serve(dir, log_level)
    }

    /// Bootstraps `acme` with an admin.
    fn bootstrap(dir: &DataDir) {
        let bootstrap = dir
            .command(&[
                "bootstrap",
                "--tenant",
                "acme",
                "--name",
                "Acme Ltd",
                "--login",
                "admin",
            ])
            .env("FIELDSALES_BOOTSTRAP_PASSWORD", OPERATOR_PASSWORD)
            .output()
            .unwrap();
        assert!(
            bootstrap.status.success(),
            "{}",
            String::from_utf8_lossy(&bootstrap.stderr)
        );
    }

    /// Serves; waits for the `serving HTTP` line.
    fn serve(dir: &DataDir, log_level: &str) -> Self {
        let mut child = Running(
            dir.command(&["serve"])
                .env("FIELDSALES_LOG__LEVEL", log_level)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let address = loop {
            let line = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no `serving HTTP` line: {seen:#?}"));
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if entry["fields"]["message"] == "serving HTTP" || entry["message"] == "serving HTTP" {
                let fields = if entry["fields"].is_object() {
                    &entry["fields"]
                } else {
                    &entry
                };
                break fields["address"].as_str().unwrap().to_owned();
            }
            seen.push(line);
        };
        ServerProcess {
            child,
            address,
            lines,
            early: seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends SIGTERM, waits for the exit, returns the exit status and the remaining log.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.0.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still running after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread ends at end of file; collect everything it read.
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push(line);
        }
        (status, rest)
    }
}

const OPERATOR_PASSWORD: &str = "an-operator-password";

fn sign_in_body(login: &str, password: &str) -> serde_json::Value {
    serde_json::json!({
        "tenant": "acme", "login": login, "password": password, "device_name": "laptop"
    })
}

#[tokio::test]
async fn the_program_serves_until_sigterm_then_exits_cleanly() {
    install_crypto_provider();
    let dir = DataDir::new();
    let server = ServerProcess::start(&dir, "info");
    let signed_in = reqwest::Client::new()
        .post(server.url("/v1/auth/login"))
        .json(&sign_in_body("admin", OPERATOR_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::OK);

    let (status, log) = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        log.iter().any(|l| l.contains("shutdown complete")),
        "{log:#?}"
    );
}

/// Run in its own process so that every log line of the server, at every level and from
/// every crate, is seen.
#[tokio::test]
async fn a_days_sign_ins_are_logged_at_trace_level_without_a_password_or_token() {
    install_crypto_provider();
    let dir = DataDir::new();
    let server = ServerProcess::start(&dir, "trace");
    let client = reqwest::Client::new();
    let admin: serde_json::Value = client
        .post(server.url("/v1/auth/login"))
        .json(&sign_in_body("admin", OPERATOR_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin_token = admin["token"].as_str().unwrap().to_owned();
    let created = client
        .post(server.url("/v1/admin/accounts"))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({"login": "zhang.wei", "password": "rep-password-4242"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let rep: serde_json::Value = client
        .post(server.url("/v1/auth/login"))
        .json(&sign_in_body("zhang.wei", "rep-password-4242"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rep_token = rep["token"].as_str().unwrap().to_owned();
    let refused = client
        .post(server.url("/v1/auth/login"))
        .json(&sign_in_body("zhang.wei", "a-wrong-guess-99"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let me = client
        .get(server.url("/v1/auth/session"))
        .bearer_auth(&rep_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    client
        .post(server.url("/v1/auth/logout"))
        .bearer_auth(&rep_token)
        .send()
        .await
        .unwrap();

    let (status, lines) = server.terminate();
    assert!(status.success());
    let log = lines.join("\n");
    assert!(log.contains("signed in"), "the log records sign-ins: {log}");
    assert!(log.contains("wrong password"), "and refusals: {log}");
    assert!(
        log.contains(rep["device_id"].as_str().unwrap()),
        "with the device: {log}"
    );
    for secret in [
        OPERATOR_PASSWORD,
        "rep-password-4242",
        "a-wrong-guess-99",
        &admin_token,
        &admin_token[4..],
        &rep_token,
        &rep_token[4..],
    ] {
        assert!(!log.contains(secret), "a secret reached the log: {secret}");
    }
}

fn exit_code_and_stderr(out: &std::process::Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_names_every_command_and_a_mistyped_argument_is_a_usage_error() {
    let dir = DataDir::new();
    let help = dir.command(&["--help"]).output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in [
        "serve",
        "check-config",
        "bootstrap",
        "--config",
        "FIELDSALES_",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    let bootstrap = dir.command(&["bootstrap", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&bootstrap.stdout);
    for option in [
        "--tenant",
        "--name",
        "--login",
        "--profile-id",
        "BOOTSTRAP_PASSWORD",
    ] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }

    let (code, stderr) = exit_code_and_stderr(
        &dir.command(&["serve", "--confg", "x.toml"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--config"), "a suggestion: {stderr}");
    let (code, stderr) = exit_code_and_stderr(
        &dir.command(&["bootstrap", "--tenant", "acme"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--name"), "{stderr}");
    let (code, stderr) = exit_code_and_stderr(
        &dir.command(&[
            "bootstrap",
            "--tenant",
            "acme corp",
            "--name",
            "Acme",
            "--login",
            "admin",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tenant"), "{stderr}");
}

#[test]
fn check_config_prints_the_configuration_in_effect_as_toml_without_secrets() {
    let dir = DataDir::new();
    let out = dir
        .command(&["check-config"])
        .env("FIELDSALES_AUTH__TOKEN_LIFETIME", "14d")
        .env("FIELDSALES_BOOTSTRAP_PASSWORD", "an-operator-password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("an-operator-password"), "{text}");
    let file = dir.0.path().join("effective.toml");
    std::fs::write(&file, text.as_bytes()).unwrap();
    let written = fieldsales_server::Config::load(Some(&file), Vec::new())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let expected = fieldsales_server::Config::load(
        None,
        [
            (
                "FIELDSALES_DATA_DIR",
                dir.0.path().join("data").display().to_string(),
            ),
            ("FIELDSALES_LISTEN", "127.0.0.1:0".to_owned()),
            ("FIELDSALES_LOG__FORMAT", "json".to_owned()),
            ("FIELDSALES_AUTH__TOKEN_LIFETIME", "14d".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .unwrap();
    assert_eq!(written, expected, "{text}");
}

#[test]
fn both_programs_exit_codes_say_what_kind_of_failure() {
    let dir = DataDir::new();
    let code = |command: &mut Command| command.output().unwrap().status.code();
    // A bad configuration is refused (3), whatever the command.
    assert_eq!(
        code(dir.command(&["serve"]).env("FIELDSALES_LISTEN", "nowhere")),
        Some(3)
    );
    // A port that is taken is a network failure (5).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    assert_eq!(
        code(dir.command(&["serve"]).env("FIELDSALES_LISTEN", &address)),
        Some(5)
    );
    // No password for the first admin is a usage error (2); a weak one is refused (3).
    let bootstrap = [
        "bootstrap",
        "--tenant",
        "acme",
        "--name",
        "Acme",
        "--login",
        "admin",
    ];
    assert_eq!(code(dir.command(&bootstrap).stdin(Stdio::null())), Some(2));
    assert_eq!(
        code(
            dir.command(&bootstrap)
                .env("FIELDSALES_BOOTSTRAP_PASSWORD", "short")
        ),
        Some(3)
    );
    // The scheme is in the help.
    let help = dir.command(&["--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Exit codes") && text.contains("5  network"),
        "{text}"
    );
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let dir = DataDir::new();
    let mut child = Running(
        dir.command(&["serve"])
            .env("FIELDSALES_LOG__FORMAT", "text")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
        let serving = line.contains("serving HTTP");
        seen.push(line);
        if serving {
            return;
        }
    }
    panic!("no `serving HTTP` line: {seen:#?}");
}

/// Every file the server writes (its accounts database, a tenant's records, a photo) is the
/// owner's only, and a data directory someone made readable to every user is reported when
/// the server starts.
#[tokio::test]
async fn the_servers_files_are_owner_only_and_a_world_readable_data_directory_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    install_crypto_provider();
    let dir = DataDir::new();
    let data = dir.0.path().join("data");
    ServerProcess::bootstrap(&dir);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "created owner-only");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();

    let server = ServerProcess::serve(&dir, "info");
    assert!(
        server
            .early
            .iter()
            .any(|l| l.contains("readable by every user") && l.contains("WARN")),
        "{:#?}",
        server.early
    );
    let client = reqwest::Client::new();
    let admin: serde_json::Value = client
        .post(server.url("/v1/auth/login"))
        .json(&sign_in_body("admin", OPERATOR_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = admin["token"].as_str().unwrap();
    let photo = b"the shop front, 9:40".to_vec();
    let sha = fieldsales_core::attachments::sha256_hex(&photo);
    let stored = client
        .put(server.url(&format!("/v1/attachments/{sha}")))
        .bearer_auth(token)
        .body(photo)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), reqwest::StatusCode::OK);
    // Who the admin is comes from the tenant's records: their file is opened (created).
    let session = client
        .get(server.url("/v1/auth/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), reqwest::StatusCode::OK);
    let (status, _) = server.terminate();
    assert!(status.success());

    let (mut files, mut folders) = (Vec::new(), vec![data.clone()]);
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let named = |suffix: &str| files.iter().any(|f| f.to_string_lossy().ends_with(suffix));
    assert!(named("server.sqlite3"), "{files:?}");
    assert!(named(&sha), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.parent().unwrap().ends_with("tenants")),
        "{files:?}"
    );
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}
