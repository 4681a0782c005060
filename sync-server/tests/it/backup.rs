//! `fieldsales-server backup` and `restore` as an operator runs them, against the data folder
//! of a server that keeps writing: what a backup holds, what restore refuses (a backup that
//! never finished, a damaged file, a data folder in use), owner-only files, new epochs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use fieldsales_core::record::AnyRecord;
use fieldsales_core::testing::org_unit;
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::audit::Actor;
use fieldsales_server::backup::{MANIFEST, Manifest};
use fieldsales_server::model::TenantId;

use crate::support::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsales-server");

/// The program on the data folder `data`, as an operator runs it (the server's address
/// unused, so a restore does not take it for a running server).
fn program(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("FIELDSALES_DATA_DIR", data)
        .env("FIELDSALES_LISTEN", "127.0.0.1:0")
        .env("FIELDSALES_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn backup(data: &Path, to: &Path) -> Output {
    program(data, &["backup", "--to", &to.display().to_string()])
}

fn restore(data: &Path, from: &Path, force: bool) -> Output {
    let from = from.display().to_string();
    let mut args = vec!["restore", "--from", from.as_str()];
    if force {
        args.push("--force");
    }
    program(data, &args)
}

/// A server with a tenant whose admin wrote an HQ and `units` teams under it (the HQ's id
/// returned), and which holds one photo.
async fn server_with_data(units: usize) -> (TestServer, TenantId, String, RecordId) {
    let server = TestServer::start().await;
    server.tenant("acme").await;
    let tenant = tenant_id(&server).await;
    let hq = org_unit("总部", fieldsales_core::record::OrgLevel::Hq, None);
    server
        .state
        .records
        .put(
            tenant,
            AnyRecord::OrgUnit(hq.clone()),
            Timestamp::now(),
            Actor::SERVER,
        )
        .await
        .unwrap();
    for n in 0..units {
        write_unit(&server, tenant, hq.header.id, n).await;
    }
    let photo = b"a photo of the shop front".to_vec();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo));
    let attachments = &server.state.attachments;
    attachments.append(tenant, &sha, 0, &photo).await.unwrap();
    assert!(attachments.complete(tenant, &sha).await.unwrap());
    // An upload under way: left out of the backup.
    let partial = "ab".repeat(32);
    attachments
        .append(tenant, &partial, 0, b"half a pho")
        .await
        .unwrap();
    (server, tenant, sha, hq.header.id)
}

async fn tenant_id(server: &TestServer) -> TenantId {
    use fieldsales_server::Store;
    let slug = fieldsales_server::model::TenantSlug::parse("acme").unwrap();
    server
        .store
        .tenant_by_slug(&slug)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn write_unit(server: &TestServer, tenant: TenantId, hq: RecordId, n: usize) -> RecordId {
    let unit = team(n, Some(hq));
    server
        .state
        .records
        .put(
            tenant,
            AnyRecord::OrgUnit(unit),
            Timestamp::now(),
            Actor::SERVER,
        )
        .await
        .unwrap()
}

fn team(n: usize, hq: Option<RecordId>) -> fieldsales_core::record::OrgUnit {
    org_unit(
        &format!("第{n}组"),
        fieldsales_core::record::OrgLevel::Team,
        hq,
    )
}

fn data_dir(server: &TestServer) -> PathBuf {
    server.state.config.data_dir.clone()
}

/// The records in the tenant file of a data folder.
fn units_in(data: &Path, tenant: TenantId) -> usize {
    use fieldsales_core::store::StoreRead;
    let store =
        fieldsales_core::store::Store::open(data.join("tenants").join(format!("{tenant}.sqlite3")))
            .unwrap();
    store.document_ids().unwrap().len()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file under `root` is the owner's only (0600) and every folder too (0700).
#[cfg(unix)]
fn owner_only(root: &Path) {
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
}

/// A backup taken by a separate process while the server keeps writing holds a consistent
/// copy of every database (at least what was written before it began, at most what was
/// written before it ended), the complete attachments and not the upload under way, every
/// file owner-only; restored into a new data folder, the tenant has a new epoch and the
/// audit chains verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_server_writes_restores_whole_with_a_new_epoch() {
    let (server, tenant, sha, hq) = server_with_data(20).await;
    let data = data_dir(&server);
    let before = units_in(&data, tenant);
    let epoch = server.state.records.epoch(tenant).await.unwrap().unwrap();

    let writing = Arc::new(AtomicBool::new(true));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (writing, written) = (writing.clone(), written.clone());
        let records = server.state.records.clone();
        let hq = Some(hq);
        tokio::spawn(async move {
            let mut n = 1000;
            while writing.load(Ordering::SeqCst) {
                let unit = team(n, hq);
                records
                    .put(
                        tenant,
                        AnyRecord::OrgUnit(unit),
                        Timestamp::now(),
                        Actor::SERVER,
                    )
                    .await
                    .unwrap();
                written.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        })
    };
    while written.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup-1");
    let (out, during) = {
        let (data, target) = (data.clone(), target.clone());
        let at_start = written.load(Ordering::SeqCst);
        let out = tokio::task::spawn_blocking(move || backup(&data, &target))
            .await
            .unwrap();
        (out, (at_start, written.load(Ordering::SeqCst)))
    };
    writing.store(false, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("copied database") && stderr.contains("copied attachment"),
        "progress on stderr: {stderr}"
    );
    assert!(
        during.1 > during.0,
        "the server kept writing while the backup ran: {during:?}"
    );

    let manifest = Manifest::read(&target).unwrap();
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"server.sqlite3"), "{paths:?}");
    assert!(paths.contains(&format!("tenants/{tenant}.sqlite3").as_str()));
    assert!(
        paths.contains(&format!("attachments/{tenant}/{}/{sha}", &sha[..2]).as_str()),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.ends_with(".part")),
        "an upload under way is left out: {paths:?}"
    );
    #[cfg(unix)]
    owner_only(&target);

    let restored_root = tempfile::tempdir().unwrap();
    let restored = restored_root.path().join("data");
    let out = restore(&restored, &target, false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("new epoch"));
    #[cfg(unix)]
    owner_only(&restored);
    let units = units_in(&restored, tenant);
    assert!(
        (before + during.0..=before + during.1).contains(&units),
        "{units} units: {before} before, {during:?} written while the backup ran"
    );
    let renewed = fieldsales_server::records::sqlite_epoch_of(
        &restored.join("tenants").join(format!("{tenant}.sqlite3")),
    )
    .unwrap();
    assert!(
        renewed.is_some_and(|e| e != epoch),
        "{renewed:?} vs {epoch}"
    );
    let photo = restored
        .join("attachments")
        .join(tenant.to_string())
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(
        std::fs::read(photo).unwrap(),
        b"a photo of the shop front".to_vec()
    );
    let verified = program(&restored, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
}

/// A backup folder without its manifest (the backup never finished) is refused, and the
/// data folder is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_backup_that_never_finished() {
    let (server, _, _, _) = server_with_data(3).await;
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup");
    let out = backup(&data_dir(&server), &target);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::remove_file(target.join(MANIFEST)).unwrap();
    let restored = scratch.path().join("data");
    let out = restore(&restored, &target, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("never finished"),
        "{}",
        text(&out)
    );
    assert!(!restored.exists(), "nothing restored");
}

/// A file of the backup that differs from the manifest — a flipped byte, a cut-short
/// attachment, a missing file — is refused before anything is restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_damaged_backup_and_leaves_the_data_folder_alone() {
    let (server, tenant, sha, _) = server_with_data(3).await;
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup");
    let out = backup(&data_dir(&server), &target);
    assert!(out.status.success(), "{}", text(&out));
    let restored = scratch.path().join("data");

    let tenant_file = target.join("tenants").join(format!("{tenant}.sqlite3"));
    let original = std::fs::read(&tenant_file).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&tenant_file, &flipped).unwrap();
    let out = restore(&restored, &target, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SHA-256") && stderr.contains("damaged"),
        "{stderr}"
    );
    assert!(!restored.exists(), "nothing restored");
    std::fs::write(&tenant_file, &original).unwrap();

    let photo = target
        .join("attachments")
        .join(tenant.to_string())
        .join(&sha[..2])
        .join(&sha);
    let bytes = std::fs::read(&photo).unwrap();
    std::fs::write(&photo, &bytes[..bytes.len() - 1]).unwrap();
    let out = restore(&restored, &target, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bytes"));
    std::fs::remove_file(&photo).unwrap();
    let out = restore(&restored, &target, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!restored.exists(), "nothing restored");

    std::fs::write(&photo, &bytes).unwrap();
    let out = restore(&restored, &target, false);
    assert!(out.status.success(), "mended, it restores: {}", text(&out));
}

/// A data folder that holds anything is refused without `--force`; with it, what it held is
/// moved aside beside it, not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_data_folder_that_holds_something_unless_forced() {
    let (server, tenant, _, _) = server_with_data(4).await;
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup");
    let out = backup(&data_dir(&server), &target);
    assert!(out.status.success(), "{}", text(&out));

    let data = scratch.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("notes.txt"), b"the operator's notes").unwrap();
    let out = restore(&data, &target, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(data.join("notes.txt").exists(), "left as it was");

    let out = restore(&data, &target, true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!data.join("notes.txt").exists());
    assert_eq!(
        units_in(&data, tenant),
        units_in(&data_dir(&server), tenant)
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("data.before-restore-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(aside[0].join("notes.txt")).unwrap(),
        b"the operator's notes"
    );
    // An empty data folder needs no force.
    let empty = scratch.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = restore(&empty, &target, false);
    assert!(out.status.success(), "{}", text(&out));
}

/// What the command line refuses, each with its exit code and a sentence that says why: a
/// PostgreSQL configuration (pointing to pg_dump), a backup into a folder that holds
/// something, a data folder with no server data, a backup folder that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_its_exit_code() {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "backup",
            "--to",
            &scratch.path().join("b").display().to_string(),
        ])
        .env_clear()
        .env("FIELDSALES_DATA_DIR", scratch.path().join("data"))
        .env("FIELDSALES_STORAGE__ENGINE", "postgres")
        .env(
            "FIELDSALES_STORAGE__POSTGRES_URL",
            "postgres://fieldsales@localhost/fieldsales",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));

    let out = backup(&scratch.path().join("nothing"), &scratch.path().join("b"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no server data"));

    let (server, _, _, _) = server_with_data(1).await;
    let full = scratch.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    let out = backup(&data_dir(&server), &full);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    let out = restore(
        &scratch.path().join("data"),
        &scratch.path().join("no-such-backup"),
        false,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such backup folder"));

    let not_json = scratch.path().join("not-json");
    std::fs::create_dir_all(&not_json).unwrap();
    std::fs::write(not_json.join(MANIFEST), b"{ not json").unwrap();
    let out = restore(&scratch.path().join("data"), &not_json, false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest"));
}

/// `new-epoch` gives every tenant of a stopped server's data folder a new epoch (a folder
/// restored by other means than `restore`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_epoch_renews_every_tenant() {
    let (server, tenant, _, _) = server_with_data(1).await;
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup");
    assert!(backup(&data_dir(&server), &target).status.success());
    let data = scratch.path().join("data");
    assert!(restore(&data, &target, false).status.success());
    let file = data.join("tenants").join(format!("{tenant}.sqlite3"));
    let before = fieldsales_server::records::sqlite_epoch_of(&file).unwrap();
    let out = program(&data, &["new-epoch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&tenant.to_string()));
    let after = fieldsales_server::records::sqlite_epoch_of(&file).unwrap();
    assert!(after.is_some() && after != before, "{before:?} → {after:?}");
}

/// On PostgreSQL, `new-epoch` (run after the database was restored with PostgreSQL's own
/// tools) gives every tenant a new epoch and the database a new identity: an instance's read
/// model, which followed the database past the backup, is thrown away and built again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_epoch_on_postgres_renews_every_tenant_and_the_identity() {
    use fieldsales_core::store::StoreRead;
    use fieldsales_server::postgres::PgOptions;
    use fieldsales_server::postgres::testing::LocalCluster;
    use fieldsales_server::records::{PostgresRecords, RecordStore};

    let url = LocalCluster::shared().database().await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let options = PgOptions {
        url: url.clone(),
        pool_size: 2,
    };
    let models = scratch.path().join("read-models");
    let records = PostgresRecords::open(&options, &models, None)
        .await
        .unwrap();
    let tenant = TenantId::new();
    let hq = org_unit("总部", fieldsales_core::record::OrgLevel::Hq, None);
    records
        .put(
            tenant,
            AnyRecord::OrgUnit(hq),
            Timestamp::now(),
            Actor::SERVER,
        )
        .await
        .unwrap();
    let before = records.epoch(tenant).await.unwrap().unwrap();
    let model = records.caught_up_copy(tenant).await.unwrap();
    drop(records);

    let out = Command::new(BIN)
        .args(["new-epoch"])
        .env_clear()
        .env("FIELDSALES_DATA_DIR", scratch.path().join("data"))
        .env("FIELDSALES_LISTEN", "127.0.0.1:0")
        .env("FIELDSALES_STORAGE__ENGINE", "postgres")
        .env("FIELDSALES_STORAGE__POSTGRES_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&tenant.to_string()));

    let again = PostgresRecords::open(&options, &models, None)
        .await
        .unwrap();
    let after = again.epoch(tenant).await.unwrap().unwrap();
    assert_ne!(before, after);
    let rebuilt = again.caught_up_copy(tenant).await.unwrap();
    assert_eq!(rebuilt, model, "the same file, built again");
    let store = fieldsales_core::store::Store::open(&rebuilt).unwrap();
    assert_eq!(store.document_ids().unwrap().len(), 1);
}

/// A restore is refused while something listens on the server's address: the server still
/// runs on the data it would replace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_while_the_server_still_listens() {
    let (server, _, _, _) = server_with_data(1).await;
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("backup");
    assert!(backup(&data_dir(&server), &target).status.success());
    let listening = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = Command::new(BIN)
        .args(["restore", "--from", &target.display().to_string()])
        .env_clear()
        .env("FIELDSALES_DATA_DIR", scratch.path().join("data"))
        .env(
            "FIELDSALES_LISTEN",
            listening.local_addr().unwrap().to_string(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop the server"));
    assert!(!scratch.path().join("data").exists());
}
