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
}

impl ServerProcess {
    /// Bootstraps `acme` with an admin, then serves; waits for the `serving HTTP` line.
    fn start(dir: &DataDir, log_level: &str) -> Self {
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
