//! The server killed with SIGKILL at a random point while several phones push at once, then
//! started again, cycle after cycle: after every restart each change the server acknowledged
//! is there, and once the phones sync again everything converges with nothing lost or
//! doubled. On SQLite (one server process) and on PostgreSQL (two server processes behind a
//! balancer, all killed at once).
//!
//! A cycle checks what it can at a cost that does not grow with the cycle number: the changes
//! acknowledged in this cycle, a random sample of earlier ones, and the number of records the
//! manager holds (ids only). Every `CRASH_FULL_EVERY` cycles and at the end, every record the
//! manager holds is read whole and compared with the server's copy. Progress goes to stderr
//! as the loop runs.
//!
//! `CRASH_CYCLES` (25 here) and `CRASH_PG_CYCLES` (10 here) set the number of cycles,
//! `CRASH_SEED` the random points, `CRASH_FULL_EVERY` (25) the full checks,
//! `CRASH_SERVER_BIN` the server program; RELIABILITY.md reports longer runs.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::Kind;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::{self, CancelToken, SyncOptions};
use fieldsales_core::testing::customer;
use fieldsales_tests::{World, quick, records, sync};

pub(crate) fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A line on stderr at once, past the test harness's capture, so a long run shows where it is.
pub(crate) fn progress(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Pushes in small batches with one attempt per request, so a kill lands mid-sync.
async fn push_once(phone: &mut Engine) {
    let options = SyncOptions {
        push_records: 4,
        max_attempts: 1,
        ..quick()
    };
    let _ = sync::sync_now(phone, &options, &|_| {}, &CancelToken::new()).await;
}

fn pending(phone: &Engine) -> BTreeSet<RecordId> {
    phone
        .store()
        .pending()
        .expect("outbox")
        .into_iter()
        .collect()
}

/// Every record the manager holds, read whole, against the server's copy: every customer
/// made so far is there once and equal on both sides.
fn full_check(world: &World, boss: &Engine, all: &[RecordId], label: &str, cycle: u64) {
    let held = records(boss.store());
    for id in all {
        assert!(held.contains_key(id), "{label} cycle {cycle}: {id} missing");
    }
    let customers = held.values().filter(|r| r.kind() == Kind::Customer).count();
    assert_eq!(customers, all.len(), "{label} cycle {cycle}: none doubled");
    let server = records(&world.server_records());
    for (id, record) in &held {
        assert_eq!(
            Some(format!("{record:?}")),
            server.get(id).map(|r| format!("{r:?}")),
            "{label} cycle {cycle}: {id} as the server holds it"
        );
    }
}

async fn crash_loop(mut world: World, label: &str, cycles: u64) {
    let seed = env_or("CRASH_SEED", 20_261_205);
    let full_every = env_or("CRASH_FULL_EVERY", 25).max(1);
    let report_every = (cycles / 10).max(1);
    let mut rng = fastrand::Rng::with_seed(seed);
    let org = world.org().await;
    let reps = [
        world.person("li.na", org.east_team, "sales_rep").await,
        world.person("wang.fang", org.east_team, "sales_rep").await,
        world.person("zhao.lei", org.east_team, "sales_rep").await,
    ];
    let manager = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phones = Vec::new();
    for rep in &reps {
        phones.push(world.device(rep).await);
    }
    let mut boss = world.device(&manager).await;
    sync(&mut boss).await;
    // What the manager holds besides the customers: the org, the people, the roles.
    let baseline = boss.store().document_ids().expect("ids").len();
    let mut all: Vec<RecordId> = Vec::new();
    let (mut killed_mid_sync, mut full_checks) = (0, 0);
    // The kill falls at a random point of a window that follows how long the three pushes
    // take (they slow down as the tenant grows): it shrinks towards one and a half times their
    // time when a kill comes after every push ended, and grows when a kill comes before the
    // first answer, so long runs keep killing mid-sync.
    let mut window_ms = 200u64;
    let started = Instant::now();
    progress(&format!(
        "crash loop ({label}): {cycles} cycles, seed {seed}, a full check every {full_every}"
    ));

    for cycle in 1..=cycles {
        let mut this_cycle: Vec<Vec<RecordId>> = vec![Vec::new(); reps.len()];
        for (n, phone) in phones.iter_mut().enumerate() {
            for i in 0..8 {
                let name = format!("第{cycle}轮{n}号代表的客户{i}有限公司");
                let id = phone
                    .store_mut()
                    .create(customer(reps[n].profile, &name))
                    .expect("created offline")
                    .header
                    .id;
                this_cycle[n].push(id);
            }
        }
        let pids = world.server_pids();
        let delay = Duration::from_millis(rng.u64(0..window_ms));
        let pushing = Instant::now();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            for pid in pids {
                fieldsales_tests::kill_pid(pid);
            }
        });
        let [a, b, c] = &mut phones[..] else {
            unreachable!("three phones")
        };
        tokio::join!(push_once(a), push_once(b), push_once(c));
        let pushed_in = pushing.elapsed().as_millis() as u64;
        killer.await.expect("killer");
        // Every earlier change was acknowledged at the end of the last cycle; of this
        // cycle's, those no longer in an outbox were.
        let mut acked = Vec::new();
        let mut unpushed = false;
        for (phone, ids) in phones.iter().zip(&this_cycle) {
            let outbox = pending(phone);
            unpushed |= !outbox.is_empty();
            acked.extend(ids.iter().copied().filter(|id| !outbox.contains(id)));
        }
        if unpushed && !acked.is_empty() {
            killed_mid_sync += 1;
        }
        if !unpushed {
            // Every push ended before the kill: a full measure of this cycle's pushes, and
            // the window was too long.
            window_ms = ((window_ms + pushed_in * 3 / 2) / 2).clamp(20, 10_000);
        } else if acked.is_empty() {
            // The kill came before the first answer: the pushes have grown slower than the
            // window.
            window_ms = (window_ms * 11 / 10).min(10_000);
        }

        world.restart().await;
        // Everything acknowledged before the kill is there after the restart: this cycle's
        // acknowledged changes, and a sample of the earlier ones.
        sync(&mut boss).await;
        let sample: Vec<RecordId> = (0..8.min(all.len()))
            .map(|_| all[rng.usize(0..all.len())])
            .collect();
        for id in acked.iter().chain(&sample) {
            let record = boss.store().get_any(*id);
            assert!(
                record.is_ok_and(|r| r.kind() == Kind::Customer),
                "{label} cycle {cycle}: acknowledged {id} lost"
            );
        }
        // The phones push what is left; all converge, nothing doubled.
        for phone in &mut phones {
            sync(phone).await;
            assert!(pending(phone).is_empty(), "{label} cycle {cycle}: pushed");
        }
        sync(&mut boss).await;
        all.extend(this_cycle.iter().flatten());
        for id in this_cycle.iter().flatten() {
            assert!(
                boss.store().get_any(*id).is_ok(),
                "{label} cycle {cycle}: {id} missing"
            );
        }
        assert_eq!(
            boss.store().document_ids().expect("ids").len(),
            baseline + all.len(),
            "{label} cycle {cycle}: none lost, none doubled"
        );
        if cycle % full_every == 0 || cycle == cycles {
            full_check(&world, &boss, &all, label, cycle);
            full_checks += 1;
        }
        if cycle % report_every == 0 || cycle == cycles {
            progress(&format!(
                "crash loop ({label}): cycle {cycle} of {cycles}, {cycle} kills, \
                 {killed_mid_sync} between two acknowledged pushes, {full_checks} full checks, \
                 {} customers, kill window {window_ms} ms, {:.0} s",
                all.len(),
                started.elapsed().as_secs_f64()
            ));
        }
    }
    assert!(
        killed_mid_sync > 0,
        "no kill landed mid-sync in {cycles} cycles"
    );
    world.stop().await;
}

/// The server program: the one built with these tests, or `CRASH_SERVER_BIN` (a copy, for a
/// long run that later builds must not replace under it).
fn server_bin() -> String {
    std::env::var("CRASH_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_fieldsales-test-server").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_at_random_points_under_concurrent_pushes_loses_no_acknowledged_change() {
    let world = World::start_process(&server_bin()).await;
    crash_loop(world, "sqlite", env_or("CRASH_CYCLES", 25)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_killed_at_random_points_lose_no_acknowledged_change() {
    let world = World::start_processes(&server_bin(), 2).await;
    crash_loop(world, "postgres", env_or("CRASH_PG_CYCLES", 10)).await;
}
