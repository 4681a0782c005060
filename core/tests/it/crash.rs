//! Writes that fail half-way, and a writer killed mid-batch, leave nothing partial behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fieldsales_core::record::{AnyRecord, Kind};
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{ListFilter, Store};
use fieldsales_core::{Error, RecordId, testing};

use crate::TempStore;

const BATCH: usize = 40;
const CHILD_ENV: &str = "FIELDSALES_CRASH_TEST_DB";

fn count(store: &Store, sql: &str) -> i64 {
    store
        .test_connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn totals(store: &Store) -> [i64; 5] {
    [
        count(store, "SELECT COUNT(*) FROM documents"),
        count(store, "SELECT COUNT(*) FROM records"),
        count(store, "SELECT COUNT(*) FROM outbox"),
        count(store, "SELECT COUNT(*) FROM search"),
        count(store, "SELECT COUNT(*) FROM visits"),
    ]
}

/// Makes one step of every write fail, through a trigger added by another connection (the
/// store's code is not touched), and checks that the failed write left no trace.
fn inject_failure_on(table: &str) {
    let rep = RecordId::new();
    let mut t = TempStore::new();
    let c = t
        .store
        .create(testing::customer(rep, "成都某制造有限公司"))
        .unwrap();
    let before = totals(&t.store);

    let saboteur = rusqlite::Connection::open(t.path()).unwrap();
    saboteur
        .execute_batch(&format!(
            "CREATE TRIGGER sabotage BEFORE INSERT ON {table}
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap();

    let visit = testing::visit(rep, c.header.id);
    let err = t.store.create(visit.clone()).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert_eq!(
        totals(&t.store),
        before,
        "failure on {table} left a partial write"
    );
    assert!(matches!(
        t.store.get_any(visit.header.id),
        Err(Error::NotFound { .. })
    ));

    saboteur.execute_batch("DROP TRIGGER sabotage").unwrap();
    drop(saboteur);
    let report = t.store.check_consistency().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    // And the same write succeeds once the fault is gone.
    t.store.create(visit).unwrap();
}

#[test]
fn a_write_failing_at_the_kind_projection_leaves_nothing() {
    inject_failure_on("visits");
}

#[test]
fn a_write_failing_at_the_outbox_leaves_nothing() {
    inject_failure_on("outbox");
}

#[test]
fn an_error_inside_an_update_closure_writes_nothing() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "重庆某公司")).unwrap();
    store
        .mark_acked(c.header.id, &store.heads(c.header.id).unwrap())
        .unwrap();
    let err = store
        .update::<fieldsales_core::record::Customer>(c.header.id, |c| {
            c.tier = Some("Z".into());
            Err(Error::rule(
                fieldsales_core::rule::RuleCode::Other("test.refuse".into()),
                "the rule refused",
            ))
        })
        .unwrap_err();
    assert!(matches!(err, Error::RuleViolated { .. }));
    let back: fieldsales_core::record::Customer = store.get(c.header.id).unwrap();
    assert_eq!(back.tier.as_deref(), Some("A"));
    assert!(store.pending().unwrap().is_empty());
}

/// Run only as the child of `a_writer_killed_mid_batch_leaves_a_consistent_store`: writes
/// batches until killed.
#[test]
#[ignore = "run as a child process by the crash test"]
fn crash_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut store = Store::open(path).unwrap();
    let rep = RecordId::new();
    for batch in 0..5_000 {
        let mut records: Vec<AnyRecord> = Vec::with_capacity(BATCH);
        for i in 0..BATCH / 2 {
            let c = testing::customer(rep, &format!("批次{batch}客户{i}有限公司"));
            records.push(testing::visit(rep, c.header.id).into());
            records.push(c.into());
        }
        store.create_batch(records).unwrap();
        println!("committed {batch}");
    }
}

#[test]
fn a_writer_killed_mid_batch_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut committed = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("committed ") {
            committed += 1;
            if committed == 8 {
                break;
            }
        }
    }
    assert_eq!(committed, 8, "the child wrote before being killed");
    // Kill it while it is inside its next batches (SIGKILL: no cleanup runs).
    std::thread::sleep(std::time::Duration::from_millis(7));
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open(&path).unwrap();
    let report = store.check_consistency().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    let records = count(&store, "SELECT COUNT(*) FROM documents") as usize;
    assert!(records >= 8 * BATCH, "committed batches survive: {records}");
    assert_eq!(
        records % BATCH,
        0,
        "a batch is all there or not at all: {records}"
    );
    let customers = store
        .list(&ListFilter {
            kind: Some(Kind::Customer),
            limit: Some(1_000_000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(customers.len() * 2, records);
}
