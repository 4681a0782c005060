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

#[tokio::test]
async fn the_program_serves_until_sigterm_then_exits_cleanly() {
    install_crypto_provider();
    let dir = DataDir::new();
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
        .env("FIELDSALES_BOOTSTRAP_PASSWORD", "an-operator-password")
        .output()
        .unwrap();
    assert!(
        bootstrap.status.success(),
        "{}",
        String::from_utf8_lossy(&bootstrap.stderr)
    );

    let mut server = Running(
        dir.command(&["serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The log says where it listens (port 0 was asked for).
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    let address = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no `serving HTTP` line: {lines:#?}"));
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["message"] == "serving HTTP" {
            break entry["address"].as_str().unwrap().to_owned();
        }
        lines.push(line);
    };

    let client = reqwest::Client::new();
    let signed_in = client
        .post(format!("http://{address}/v1/auth/login"))
        .json(&serde_json::json!({
            "tenant": "acme", "login": "admin", "password": "an-operator-password",
            "device_name": "operator laptop"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::OK);

    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("shutdown complete")),
        "{rest:#?}"
    );
}
