//! `fieldsales server` as an operator runs it: it starts on a free port, answers health,
//! and stops cleanly on SIGTERM (a service manager) or SIGINT (Ctrl-C).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{fieldsales, path_str};

pub struct Server {
    child: Child,
    pub address: SocketAddr,
}

impl Server {
    pub fn start(data: &std::path::Path) -> Server {
        let mut child = fieldsales()
            .args([
                "server",
                "--data",
                path_str(data),
                "--listen",
                "127.0.0.1:0",
                "--json",
            ])
            .env("FIELDSALES_LOG__LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let address = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the server announced no address in time"));
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(url) = value["listening"].as_str()
            {
                break url
                    .trim_start_matches("http://")
                    .parse::<SocketAddr>()
                    .expect("an address");
            }
        };
        Server { child, address }
    }

    fn get(&self, path: &str) -> String {
        let mut stream =
            TcpStream::connect_timeout(&self.address, Duration::from_secs(5)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
    }

    /// Sends `signal` and waits for the exit code.
    pub fn stop(mut self, signal: &str) -> i32 {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                assert!(!stderr.contains("panicked"), "{stderr}");
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not stop within 30 s of SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A test that fails before it stops its server still ends it: a server left running would
/// outlive the test run (and keep whatever it inherited, open files and locks included).
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn the_server_starts_on_a_free_port_answers_health_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("fresh").join("data");
    let server = Server::start(&data);
    let response = server.get("/health");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
    assert!(
        data.join("server.sqlite3").is_file(),
        "the data directory and database are created on first start"
    );
    assert_eq!(server.stop("TERM"), 0);
}

#[test]
fn ctrl_c_stops_the_server_cleanly_and_it_starts_again_on_the_same_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    assert!(server.get("/health").starts_with("HTTP/1.1 200"));
    assert_eq!(server.stop("INT"), 0);
    let again = Server::start(dir.path());
    assert!(again.get("/health").starts_with("HTTP/1.1 200"));
    assert_eq!(again.stop("TERM"), 0);
}

#[test]
fn an_address_in_use_is_a_network_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = crate::support::run(
        &[
            "server",
            "--data",
            path_str(dir.path()),
            "--listen",
            &address,
        ],
        "",
    );
    out.expect_code(5);
    assert!(out.stderr.contains("cannot listen on"), "{}", out.stderr);
}

#[test]
fn a_bad_configuration_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "listen = \"nowhere\"\nshutdown_grace = \"soon\"\n").expect("write");
    let out = crate::support::run(&["server", "--config", path_str(&config)], "");
    out.expect_code(3);
    assert!(out.stderr.contains("listen"), "{}", out.stderr);
}
