//! PostgreSQL-specific behaviour of the server's stores: migrations under several instances
//! starting at once, a database newer than the code, the server configured on PostgreSQL, an
//! audit append written in several statements.

use fieldsales_server::postgres::migrate::PgMigrations;
use fieldsales_server::postgres::testing::LocalCluster;
use fieldsales_server::postgres::{PgOptions, pool};
use fieldsales_server::{PostgresStore, StoreError};

async fn database() -> String {
    LocalCluster::shared().database().await.expect("a database")
}

/// Every step appends a row: a step run twice leaves two.
const COUNTED: PgMigrations = PgMigrations {
    schema: "counted",
    steps: &[
        "CREATE TABLE migration_runs (step int NOT NULL); INSERT INTO migration_runs VALUES (1)",
        "INSERT INTO migration_runs VALUES (2)",
        "INSERT INTO migration_runs VALUES (3)",
    ],
};

/// Eight instances start at the same moment against a new database: each step runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_instances_starting_at_once_migrate_each_step_exactly_once() {
    let url = database().await;
    let pool = pool(&PgOptions {
        url: url.clone(),
        pool_size: 8,
    })
    .unwrap();
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut conn = pool.get().await.unwrap();
                COUNTED.apply(&mut conn).await
            })
        })
        .collect();
    let mut from_zero = 0;
    for start in starts {
        if start.await.unwrap().unwrap() == 0 {
            from_zero += 1;
        }
    }
    assert!(from_zero >= 1, "someone found the database new");
    let conn = pool.get().await.unwrap();
    let runs: Vec<i32> = conn
        .query("SELECT step FROM migration_runs ORDER BY step", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(runs, vec![1, 2, 3], "each step ran once");
    let version: i64 = conn
        .query_one(
            "SELECT version FROM schema_versions WHERE schema = 'counted'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 3);
}

/// A database a newer server migrated further is refused, and left as it is.
#[tokio::test]
async fn a_database_from_a_newer_server_is_refused_untouched() {
    let url = database().await;
    let options = PgOptions { url, pool_size: 2 };
    drop(PostgresStore::open(&options).await.expect("first start"));
    let conn = pool(&options).unwrap().get().await.unwrap();
    conn.execute(
        "UPDATE schema_versions SET version = version + 1 WHERE schema = 'accounts'",
        &[],
    )
    .await
    .unwrap();
    let latest = fieldsales_server::store::POSTGRES_MIGRATIONS.latest();
    let err = PostgresStore::open(&options).await.unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported }
            if found == latest + 1 && supported == latest),
        "{err:?}"
    );
}

/// More entries than one statement of the append carries (a group commit of many pushes),
/// appended in two transactions: every entry is written once, numbered without a gap and
/// chained to the one before, across the batches and across the two appends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_longer_than_one_statement_chains_every_entry_in_order() {
    use fieldsales_core::time::Timestamp;
    use fieldsales_server::audit::chain::Walk;
    use fieldsales_server::audit::{Actor, AuditDraft, Operation, Stream, postgres as audit};
    use fieldsales_server::model::TenantId;

    let pool = pool(&PgOptions {
        url: database().await,
        pool_size: 2,
    })
    .unwrap();
    let mut conn = pool.get().await.unwrap();
    audit::MIGRATIONS.apply(&mut conn).await.unwrap();
    let tenant = TenantId::new();
    let draft = |n: usize| {
        let mut draft = AuditDraft::new(
            Timestamp::from_millis(1_800_000_000_000 + n as i64),
            Actor::SERVER,
            Operation::RecordEdit,
        );
        draft.detail = Some(format!("entry {n}"));
        draft
    };
    for range in [0..2_345, 2_345..2_350] {
        let tx = conn.transaction().await.unwrap();
        audit::append(&tx, tenant, Stream::Records, range.map(draft).collect())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let rows = audit::chain_rows(&conn, tenant, Stream::Records, 0, 10_000)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2_350);
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, n as u64 + 1);
        let entry = row.entry.as_ref().unwrap();
        assert_eq!(entry.detail.as_deref(), Some(format!("entry {n}").as_str()));
    }
    let heads = audit::heads(&conn, Stream::Records).await.unwrap();
    let head = heads.iter().find(|h| h.tenant == tenant).expect("a head");
    assert_eq!(head.seq, 2_350);
    let mut walk = Walk::new(tenant);
    walk.rows(&rows);
    let walk = walk.finish(head);
    assert_eq!(walk.count, 2_350);
    assert!(walk.findings.is_empty(), "{:?}", walk.findings);
}
