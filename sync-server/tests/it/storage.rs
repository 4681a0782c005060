//! The server's data folder on a full file system: writes are answered 503 `storage_full`,
//! nothing is corrupted, and service resumes once there is space again.
//!
//! The full file system is a small tmpfs mounted by the test, which needs root (as CI runs);
//! run as another user the test says so and checks nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use fieldsales_core::record::DataScope;
use fieldsales_server::ErrorCode;
use fieldsales_server::api::AdminRecord;
use reqwest::StatusCode;

use crate::support::{SignIn, TestServer};

/// A tmpfs of a few megabytes, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            return None;
        }
        Some(SmallDisk { path, _dir: dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Fills the file system holding `dir` until it refuses another byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let block = vec![7u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    for _ in 0..4096 {
        if file.write_all(&[7u8; 512]).is_err() {
            break;
        }
    }
    let _ = file.flush();
    path
}

fn role(code: &str) -> serde_json::Value {
    serde_json::to_value(AdminRecord::Role {
        id: None,
        code: code.into(),
        name: "填满磁盘的角色".repeat(25),
        data_scope: DataScope::Own,
        permissions: Vec::new(),
        hidden_fields: Vec::new(),
    })
    .expect("a request")
}

fn integrity(file: &Path) -> String {
    let db = rusqlite::Connection::open(file).expect("opens");
    db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .expect("checked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_answered_503_storage_full_and_service_resumes_when_space_returns() {
    let Some(disk) = SmallDisk::mount(24) else {
        assert!(
            !running_as_root(),
            "running as root, yet a tmpfs could not be mounted"
        );
        eprintln!("not root: the full-disk test needs to mount a tmpfs and checked nothing");
        return;
    };
    let data = disk.path.join("data");
    let server = TestServer::builder()
        .setting("DATA_DIR", &data.display().to_string())
        .start()
        .await;
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    let written = server
        .post("/v1/admin/records", Some(&admin), Some(role("before")))
        .await;
    assert_eq!(written.status, StatusCode::CREATED, "{written:?}");

    let filler = fill(&disk.path);
    // Writes now fail one way only: 503 storage_full with a time to come back. (A write may
    // still fit in space SQLite had already taken, so several are tried.)
    let mut full = 0;
    let mut accepted = Vec::new();
    for n in 0..40 {
        let answer = server
            .post(
                "/v1/admin/records",
                Some(&admin),
                Some(role(&format!("while_full_{n}"))),
            )
            .await;
        match answer.status {
            StatusCode::CREATED => accepted.push(format!("while_full_{n}")),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer.error().code, ErrorCode::StorageFull, "{answer:?}");
                assert!(answer.headers.contains_key("retry-after"), "{answer:?}");
                full += 1;
            }
            other => panic!("a full disk answered {other}: {answer:?}"),
        }
    }
    assert!(full > 0, "no write noticed the full disk");
    eprintln!(
        "while full: {full} writes answered storage_full, {} fitted",
        accepted.len()
    );
    let sign_in = server
        .post(
            "/v1/auth/login",
            None,
            Some(SignIn::new("acme", "admin", "x").body()),
        )
        .await;
    assert_ne!(
        sign_in.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{sign_in:?}"
    );

    // Space returns: the server writes again without a restart.
    std::fs::remove_file(filler).expect("space freed");
    let after = server
        .post("/v1/admin/records", Some(&admin), Some(role("after")))
        .await;
    assert_eq!(after.status, StatusCode::CREATED, "{after:?}");
    let token = server.admin_token(&acme).await;
    assert!(!token.is_empty());

    // Nothing is damaged: every database file passes SQLite's integrity check.
    let mut files = vec![server.store.path().to_owned()];
    for entry in std::fs::read_dir(data.join("tenants")).expect("tenant files") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "sqlite3") {
            files.push(path);
        }
    }
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        assert_eq!(integrity(&file), "ok", "{}", file.display());
    }
    drop(server);
}
