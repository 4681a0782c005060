//! A phone's process killed (SIGKILL) while its sync is in flight — during its push, and
//! during its pull — again and again, against a real server on loopback and a real store
//! file: after each kill the store passes `integrity_check` and equals a rebuild of its
//! projections, no local change is lost, and once the phone syncs again everything converges
//! with each change on the server once. `DEVICE_SYNC_CRASH_CYCLES` sets the number of kills
//! (8 here, half during a push, half during a pull).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::{Customer, Kind};
use fieldsales_core::store::{Store, StoreRead};
use fieldsales_core::testing::customer;
use fieldsales_tests::{World, records, sync};

use crate::convergence::assert_converged;
use crate::crash_loop::{env_or, progress};

/// What the phone's own process printed before it died.
#[derive(Debug, Default)]
struct Seen {
    pages: u32,
    up: u64,
    down: u64,
    done: bool,
}

/// Runs the phone's sync in its own process and kills it once `kill_when` holds for a line it
/// printed, after `delay` (so the kill lands in the next request or page); returns what it
/// printed.
fn sync_and_kill(path: &Path, delay: Duration, kill_when: impl Fn(&Seen) -> bool) -> Seen {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldsales-test-phone"))
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the phone's process starts");
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = Seen::default();
    let mut killed = false;
    // After the kill, what the phone printed before it died is still read, so a sync that
    // finished before the kill is not counted as killed mid-sync.
    for line in out.lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["page", pages, "up", up, "down", down] => {
                seen.pages = pages.parse().expect("pages");
                seen.up = up.parse().expect("up");
                seen.down = down.parse().expect("down");
            }
            ["done"] => seen.done = true,
            _ => {}
        }
        if !killed && (seen.done || kill_when(&seen)) {
            std::thread::sleep(delay);
            let _ = child.kill();
            killed = true;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

fn open(path: &Path) -> Engine {
    Engine::resume(Store::open(path).expect("the store opens after the kill"))
        .expect("resumes")
        .expect("still signed in")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_killed_mid_sync_loses_no_local_change_and_converges_after_restart() {
    let cycles = env_or("DEVICE_SYNC_CRASH_CYCLES", 8);
    let mut rng = fastrand::Rng::with_seed(env_or("CRASH_SEED", 20_261_205));
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let chen = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let phone = world.device(&li).await;
    let path = phone.store().path().expect("a store file").to_path_buf();
    drop(phone);
    // The rep's other phone, whose records the first one pulls.
    let mut tablet = world.device(&li).await;
    let mut boss = world.device(&chen).await;
    // Every local change the phone made: its customers, and the tier each was last given.
    let mut expected: BTreeMap<RecordId, String> = BTreeMap::new();
    let mut made_elsewhere = 0;
    let (mut mid_push, mut mid_pull) = (0, 0);

    for cycle in 0..cycles {
        let during_push = cycle % 2 == 0;
        {
            let mut phone = open(&path);
            let count = if during_push { 40 } else { 3 };
            for i in 0..count {
                let name = format!("第{cycle}轮手机客户{i}有限公司");
                let id = phone
                    .store_mut()
                    .create(customer(li.profile, &name))
                    .expect("created offline")
                    .header
                    .id;
                expected.insert(id, "A".into());
            }
            // Edits of customers synced before.
            let earlier: Vec<RecordId> = expected.keys().copied().collect();
            for _ in 0..5 {
                let id = earlier[rng.usize(0..earlier.len())];
                let tier = format!("T{cycle}");
                phone
                    .store_mut()
                    .update::<Customer>(id, |c| {
                        c.tier = Some(tier.clone());
                        Ok(())
                    })
                    .expect("edited offline");
                expected.insert(id, tier);
            }
        }
        if !during_push {
            // Pages for the phone to pull.
            for i in 0..60 {
                tablet
                    .store_mut()
                    .create(customer(li.profile, &format!("第{cycle}轮平板客户{i}")))
                    .expect("created on the tablet");
                made_elsewhere += 1;
            }
            sync(&mut tablet).await;
        }
        let delay = Duration::from_millis(rng.u64(0..30));
        let path_for_child = path.clone();
        let after_pages = rng.u32(1..4);
        let seen = tokio::task::spawn_blocking(move || {
            sync_and_kill(&path_for_child, delay, |seen| {
                if during_push {
                    seen.pages >= after_pages && seen.up > 0
                } else {
                    seen.down >= 5 * u64::from(after_pages)
                }
            })
        })
        .await
        .expect("the phone ran");
        if !seen.done {
            if during_push {
                mid_push += 1;
            } else {
                mid_pull += 1;
            }
        }

        // The store after the kill: sound, and every local change still there.
        let mut phone = open(&path);
        let report = phone.store().check_consistency().expect("checked");
        assert!(report.is_consistent(), "cycle {cycle}: {report:?}");
        for (id, tier) in &expected {
            let held: Customer = phone
                .store()
                .get(*id)
                .unwrap_or_else(|e| panic!("cycle {cycle}: local change {id} lost: {e}"));
            assert_eq!(held.tier.as_deref(), Some(tier.as_str()), "cycle {cycle}");
        }
        // Started again, the phone syncs to the end: everything converges, once.
        sync(&mut phone).await;
        assert!(phone.store().pending().expect("outbox").is_empty());
        sync(&mut tablet).await;
        sync(&mut boss).await;
        assert_converged(&world, &[&phone, &tablet, &boss]);
        let server = records(&world.server_records());
        for (id, tier) in &expected {
            match server.get(id) {
                Some(fieldsales_core::record::AnyRecord::Customer(c)) => {
                    assert_eq!(c.tier.as_deref(), Some(tier.as_str()), "cycle {cycle}");
                }
                other => panic!("cycle {cycle}: {id} on the server: {other:?}"),
            }
        }
        let customers = server
            .values()
            .filter(|r| r.kind() == Kind::Customer)
            .count();
        assert_eq!(customers, expected.len() + made_elsewhere, "none doubled");
    }
    progress(&format!(
        "device killed mid-sync: {cycles} kills, {mid_push} during a push, {mid_pull} during a pull"
    ));
    assert!(mid_push > 0, "no kill landed during a push");
    assert!(mid_pull > 0, "no kill landed during a pull");
    world.stop().await;
}
