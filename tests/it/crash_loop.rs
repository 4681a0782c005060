//! The server killed with SIGKILL at a random point while several phones push at once, then
//! started again, cycle after cycle: after every restart each change the server acknowledged
//! is there, and once the phones sync again everything converges with nothing lost or
//! doubled. `CRASH_CYCLES` sets the number of cycles (25 here; RELIABILITY.md reports longer
//! runs), `CRASH_SEED` the random points.

use std::collections::BTreeSet;
use std::time::Duration;

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::Kind;
use fieldsales_core::sync::{self, CancelToken, SyncOptions};
use fieldsales_core::testing::customer;
use fieldsales_tests::{World, quick, records, sync};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

fn acknowledged(phone: &Engine, created: &[RecordId]) -> Vec<RecordId> {
    let pending: BTreeSet<RecordId> = phone
        .store()
        .pending()
        .expect("outbox")
        .into_iter()
        .collect();
    created
        .iter()
        .copied()
        .filter(|id| !pending.contains(id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_at_random_points_under_concurrent_pushes_loses_no_acknowledged_change() {
    let cycles = env_or("CRASH_CYCLES", 25);
    let mut rng = fastrand::Rng::with_seed(env_or("CRASH_SEED", 20_261_205));
    let mut world = World::start_process(env!("CARGO_BIN_EXE_fieldsales-test-server")).await;
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
    let mut created: Vec<Vec<RecordId>> = vec![Vec::new(); reps.len()];
    let mut killed_mid_sync = 0;
    let mut acked_before = 0;

    for cycle in 0..cycles {
        for (n, phone) in phones.iter_mut().enumerate() {
            for i in 0..8 {
                let name = format!("第{cycle}轮{n}号代表的客户{i}有限公司");
                let id = phone
                    .store_mut()
                    .create(customer(reps[n].profile, &name))
                    .expect("created offline")
                    .header
                    .id;
                created[n].push(id);
            }
        }
        let pid = world.server_pid();
        let delay = Duration::from_millis(rng.u64(0..200));
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            fieldsales_tests::kill_pid(pid);
        });
        let [a, b, c] = &mut phones[..] else {
            unreachable!("three phones")
        };
        tokio::join!(push_once(a), push_once(b), push_once(c));
        killer.await.expect("killer");
        let acked: Vec<RecordId> = phones
            .iter()
            .zip(&created)
            .flat_map(|(p, ids)| acknowledged(p, ids))
            .collect();
        // Mid-sync: some of this cycle's changes were acknowledged and some were not.
        let unpushed = phones
            .iter()
            .any(|p| !p.store().pending().expect("outbox").is_empty());
        if unpushed && acked.len() > acked_before {
            killed_mid_sync += 1;
        }

        world.restart().await;
        // Everything acknowledged before the kill is there after the restart.
        sync(&mut boss).await;
        let held = records(boss.store());
        for id in &acked {
            assert!(
                held.contains_key(id),
                "cycle {cycle}: acknowledged {id} lost"
            );
        }
        // The phones push what is left; all converge, nothing doubled.
        for phone in &mut phones {
            sync(phone).await;
            assert!(phone.store().pending().expect("outbox").is_empty());
        }
        sync(&mut boss).await;
        let held = records(boss.store());
        let all: Vec<&RecordId> = created.iter().flatten().collect();
        for id in &all {
            assert!(held.contains_key(id), "cycle {cycle}: {id} missing");
        }
        let customers = held.values().filter(|r| r.kind() == Kind::Customer).count();
        assert_eq!(customers, all.len(), "cycle {cycle}: none doubled");
        acked_before = all.len();
    }
    eprintln!("{cycles} cycles, {killed_mid_sync} killed between two acknowledged pushes");
    assert!(
        killed_mid_sync > 0,
        "no kill landed mid-sync in {cycles} cycles"
    );
    world.stop().await;
}
