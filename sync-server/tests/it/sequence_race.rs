//! The pull cursor under concurrent writers on PostgreSQL.
//!
//! A device follows the change sequence with a cursor: "everything up to n, I have". With a
//! plain sequence (`nextval`), a transaction that took a lower number can commit after a
//! reader saw a higher one, and the reader skips that change forever. The first test plays
//! that race out step by step; the second plays the same steps with what the server does (a
//! counter row taken first and written last: numbers commit in order); the third runs the
//! server's real push and pull on three instances with many writers and readers at once and
//! checks that no reader misses a committed record.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fieldsales_core::doc::{RecordDoc, encode_heads};
use fieldsales_core::record::{AnyRecord, DataScope, OrgLevel};
use fieldsales_core::sync::protocol::{Bytes, PushRecord};
use fieldsales_core::testing::{customer, org_unit, role, user};
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::audit::Actor;
use fieldsales_server::model::{AccountId, DeviceId, TenantId};
use fieldsales_server::postgres::PgOptions;
use fieldsales_server::postgres::testing::LocalCluster;
use fieldsales_server::records::{PostgresRecords, Pull, Push, RecordStore, Verdict};
use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

async fn seqs_after(reader: &Client, table: &str, cursor: i64) -> Vec<i64> {
    reader
        .query(
            &format!("SELECT seq FROM {table} WHERE seq > $1 ORDER BY seq"),
            &[&cursor],
        )
        .await
        .expect("read")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Writer A takes number 1 and is slow to commit; writer B takes 2 and commits; the reader
/// reads up to 2; A commits. The reader, following its cursor, never sees 1.
#[tokio::test]
async fn with_a_plain_sequence_a_reader_skips_a_change_that_commits_late() {
    let url = LocalCluster::shared().database().await.expect("database");
    let (a, b, reader) = (
        connect(&url).await,
        connect(&url).await,
        connect(&url).await,
    );
    reader
        .batch_execute("CREATE TABLE plain_log (seq bigserial PRIMARY KEY, what text NOT NULL)")
        .await
        .unwrap();
    a.batch_execute("BEGIN").await.unwrap();
    let first: i64 = a
        .query_one(
            "INSERT INTO plain_log (what) VALUES ('a') RETURNING seq",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    b.batch_execute("BEGIN").await.unwrap();
    let second: i64 = b
        .query_one(
            "INSERT INTO plain_log (what) VALUES ('b') RETURNING seq",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    b.batch_execute("COMMIT").await.unwrap();
    assert!(first < second);

    let mut seen = seqs_after(&reader, "plain_log", 0).await;
    let cursor = *seen.last().expect("b's change");
    a.batch_execute("COMMIT").await.unwrap();
    seen.extend(seqs_after(&reader, "plain_log", cursor).await);

    let committed = seqs_after(&reader, "plain_log", 0).await;
    let skipped: Vec<i64> = committed
        .iter()
        .copied()
        .filter(|s| !seen.contains(s))
        .collect();
    assert_eq!(
        skipped,
        vec![first],
        "the reader passed {first} before it committed"
    );
}

/// The same steps with a counter row taken first (`SELECT … FOR UPDATE`) and written last:
/// B cannot take a number while A holds the row, so numbers become visible in order and the
/// reader sees both.
#[tokio::test]
async fn with_a_counter_row_taken_first_numbers_commit_in_order() {
    let url = LocalCluster::shared().database().await.expect("database");
    let (a, b, reader) = (
        connect(&url).await,
        connect(&url).await,
        connect(&url).await,
    );
    reader
        .batch_execute(
            "CREATE TABLE counted_log (seq bigint PRIMARY KEY, what text NOT NULL);
             CREATE TABLE counter (id int PRIMARY KEY, seq bigint NOT NULL);
             INSERT INTO counter VALUES (1, 0);",
        )
        .await
        .unwrap();
    let write = |client: Arc<Client>, what: &'static str, hold: Duration| async move {
        client.batch_execute("BEGIN").await.unwrap();
        let last: i64 = client
            .query_one("SELECT seq FROM counter WHERE id = 1 FOR UPDATE", &[])
            .await
            .unwrap()
            .get(0);
        client
            .execute(
                "INSERT INTO counted_log (seq, what) VALUES ($1, $2)",
                &[&(last + 1), &what],
            )
            .await
            .unwrap();
        tokio::time::sleep(hold).await;
        client
            .execute("UPDATE counter SET seq = $1 WHERE id = 1", &[&(last + 1)])
            .await
            .unwrap();
        client.batch_execute("COMMIT").await.unwrap();
        last + 1
    };
    let a = Arc::new(a);
    let b = Arc::new(b);
    let slow = tokio::spawn(write(a, "a", Duration::from_millis(400)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quick = tokio::spawn(write(b, "b", Duration::ZERO));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!quick.is_finished(), "B waits for A's counter row");
    let mut seen = seqs_after(&reader, "counted_log", 0).await;
    assert!(seen.is_empty(), "nothing is committed yet");
    let first = slow.await.unwrap();
    let second = quick.await.unwrap();
    assert_eq!((first, second), (1, 2));
    seen.extend(seqs_after(&reader, "counted_log", 0).await);
    assert_eq!(seen, vec![1, 2]);
}

fn push_of(
    device: DeviceId,
    actor: &automerge::ActorId,
    author: &fieldsales_core::me::Me,
    records: Vec<AnyRecord>,
) -> Push {
    let records = records
        .into_iter()
        .map(|record| {
            let id = record.header().id;
            let mut doc = RecordDoc::create(&record, actor, Timestamp::now()).expect("document");
            PushRecord {
                id,
                changes: Bytes(doc.changes_since(&[])),
                heads: Bytes(encode_heads(&doc.heads())),
            }
        })
        .collect();
    Push {
        device,
        account: AccountId::new(),
        actors: vec![actor.clone()],
        author: author.clone(),
        clock_offset: None,
        records,
        now: Timestamp::now(),
    }
}

/// Six writers push through three instances while three readers follow their cursors through
/// them, in small pages, all at once: every record accepted reaches every reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_on_three_instances_and_readers_following_their_cursors_miss_nothing() {
    const WRITERS: usize = 6;
    const PUSHES: usize = 12;
    const PER_PUSH: usize = 3;
    let url = LocalCluster::shared().database().await.expect("database");
    let options = PgOptions { url, pool_size: 8 };
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut instances = Vec::new();
    for dir in &dirs {
        instances.push(
            PostgresRecords::open(&options, dir.path(), None)
                .await
                .expect("instance"),
        );
    }
    let tenant = TenantId::new();
    let now = Timestamp::now();
    let hq = org_unit("总部", OrgLevel::Hq, None);
    let team = org_unit("上海一组", OrgLevel::Team, Some(hq.header.id));
    let rep = user("li.na", team.header.id, "sales_rep");
    let boss = user("chen.jing", team.header.id, "sales_manager");
    for record in [
        AnyRecord::OrgUnit(hq),
        AnyRecord::OrgUnit(team.clone()),
        AnyRecord::Role(role("sales_rep", DataScope::Own)),
        AnyRecord::Role(role("sales_manager", DataScope::Subtree)),
        AnyRecord::UserProfile(rep.clone()),
        AnyRecord::UserProfile(boss.clone()),
    ] {
        instances[0]
            .put(tenant, record, now, Actor::SERVER)
            .await
            .expect("admin write");
    }
    let author = instances[1]
        .me(tenant, rep.header.id)
        .await
        .unwrap()
        .expect("the rep");
    let viewer = instances[2]
        .me(tenant, boss.header.id)
        .await
        .unwrap()
        .expect("the manager");

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let records = instances[r].clone();
            let viewer = viewer.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let device = DeviceId::new();
                let mut cursor = 0;
                let mut seen = BTreeSet::new();
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let page = records
                        .pull(
                            tenant,
                            Pull {
                                device,
                                viewer: viewer.clone(),
                                cursor,
                                limit: 7,
                                max_bytes: 1 << 24,
                                max_scan: 100_000,
                                epoch: None,
                            },
                        )
                        .await
                        .expect("page");
                    assert!(page.cursor >= cursor, "a cursor never goes back");
                    cursor = page.cursor;
                    seen.extend(page.records.iter().map(|r| r.id));
                    if finished && !page.has_more {
                        return seen;
                    }
                    if !page.has_more {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let records = instances[w % 3].clone();
            let author = author.clone();
            let team = team.header.id;
            tokio::spawn(async move {
                let device = DeviceId::new();
                let actor = automerge::ActorId::random();
                let mut accepted = Vec::new();
                for p in 0..PUSHES {
                    let batch: Vec<AnyRecord> = (0..PER_PUSH)
                        .map(|i| {
                            let mut c =
                                customer(author.user_id, &format!("并发写入{w}号{p}批{i}有限公司"));
                            c.header.org_unit_id = Some(team);
                            AnyRecord::Customer(c)
                        })
                        .collect();
                    let ids: Vec<RecordId> = batch.iter().map(|r| r.header().id).collect();
                    let verdicts = records
                        .push(tenant, push_of(device, &actor, &author, batch))
                        .await
                        .expect("push");
                    for (id, verdict) in ids.into_iter().zip(verdicts) {
                        assert!(matches!(verdict, Verdict::Accepted(_)), "{verdict:?}");
                        accepted.push(id);
                    }
                }
                accepted
            })
        })
        .collect();
    let mut accepted = BTreeSet::new();
    for writer in writers {
        accepted.extend(writer.await.expect("writer"));
    }
    assert_eq!(accepted.len(), WRITERS * PUSHES * PER_PUSH);
    done.store(true, Ordering::SeqCst);
    for reader in readers {
        let seen = reader.await.expect("reader");
        let missed: Vec<_> = accepted.difference(&seen).collect();
        assert!(
            missed.is_empty(),
            "a reader skipped {} records: {missed:?}",
            missed.len()
        );
    }
}
