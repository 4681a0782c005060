//! Random offline histories: three reps and a manager create, edit, delete and reassign
//! customers offline — as the app would and as a modified phone would, so some edits are
//! refused by the server — and sync in random orders. In the end every device equals the
//! server for what it may see, each store's projections equal its documents, and every
//! refused edit is kept on the device that made it. proptest shrinks a failing history to a
//! minimal one. `PROPERTY_CASES` sets the number of histories (RELIABILITY.md reports longer
//! runs).

use std::collections::BTreeSet;

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::Customer;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::customer;
use fieldsales_tests::{Person, World, records, sync};
use proptest::prelude::*;

use crate::convergence::assert_converged;

/// One step of a history. Devices 0–2 are the reps', 3 the manager's.
#[derive(Debug, Clone)]
enum Step {
    /// A rep creates a customer of their own.
    Create { rep: usize },
    /// A device edits a field of a customer it holds (whether or not it may).
    Edit {
        device: usize,
        record: usize,
        field: u8,
        value: u8,
    },
    /// A device deletes a customer it holds (whether or not it may).
    Delete { device: usize, record: usize },
    /// A device hands a customer it holds to a rep (the manager may; a rep may not).
    Reassign {
        device: usize,
        record: usize,
        to: usize,
    },
    /// A device syncs.
    Sync { device: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3usize).prop_map(|rep| Step::Create { rep }),
        4 => (0..4usize, any::<usize>(), 0..3u8, 0..4u8)
            .prop_map(|(device, record, field, value)| Step::Edit { device, record, field, value }),
        1 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::Delete { device, record }),
        1 => (0..4usize, any::<usize>(), 0..3usize)
            .prop_map(|(device, record, to)| Step::Reassign { device, record, to }),
        3 => (0..4usize).prop_map(|device| Step::Sync { device }),
    ]
}

/// The customers a device holds, in a stable order, for steps that name one by index.
fn held(device: &Engine) -> Vec<RecordId> {
    device
        .store()
        .list(&fieldsales_core::store::ListFilter {
            kind: Some(fieldsales_core::record::Kind::Customer),
            limit: Some(10_000),
            ..Default::default()
        })
        .expect("listed")
        .into_iter()
        .map(|r| r.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

async fn play(history: Vec<Step>) {
    let mut world = World::start().await;
    let org = world.org().await;
    let reps: Vec<Person> = vec![
        world.person("li.na", org.east_team, "sales_rep").await,
        world.person("wang.wei", org.east_team, "sales_rep").await,
        world.person("zhao.lei", org.east_team, "sales_rep").await,
    ];
    let manager = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let mut devices = Vec::new();
    for rep in &reps {
        devices.push(world.device(rep).await);
    }
    devices.push(world.device(&manager).await);
    let mut refused: Vec<(usize, RecordId)> = Vec::new();
    let mut created = 0;

    for step in history {
        match step {
            Step::Create { rep } => {
                created += 1;
                devices[rep]
                    .store_mut()
                    .create(customer(
                        reps[rep].profile,
                        &format!("随机客户{created}号有限公司"),
                    ))
                    .expect("created offline");
            }
            Step::Edit {
                device,
                record,
                field,
                value,
            } => {
                let ids = held(&devices[device]);
                if ids.is_empty() {
                    continue;
                }
                let id = ids[record % ids.len()];
                let text = ["甲", "乙", "丙", "丁"][value as usize].to_owned();
                devices[device]
                    .store_mut()
                    .update::<Customer>(id, |c| {
                        match field {
                            0 => c.tier = Some(text),
                            1 => c.industry = Some(text),
                            _ => c.short_name = Some(text),
                        }
                        Ok(())
                    })
                    .expect("edited offline");
            }
            Step::Delete { device, record } => {
                let ids = held(&devices[device]);
                if ids.is_empty() {
                    continue;
                }
                let id = ids[record % ids.len()];
                devices[device]
                    .store_mut()
                    .delete(id, None, Some("随机删除".into()))
                    .expect("deleted offline");
            }
            Step::Reassign { device, record, to } => {
                let ids = held(&devices[device]);
                if ids.is_empty() {
                    continue;
                }
                let id = ids[record % ids.len()];
                let owner = reps[to].profile;
                devices[device]
                    .store_mut()
                    .update::<Customer>(id, |c| {
                        c.header.owner_id = Some(owner);
                        Ok(())
                    })
                    .expect("reassigned offline");
            }
            Step::Sync { device } => {
                let report = sync(&mut devices[device]).await;
                refused.extend(report.rejected.iter().map(|(id, _)| (device, *id)));
            }
        }
    }
    // Everyone syncs until nothing moves: twice round is enough for every change to reach
    // the server and come back to every device that may see it.
    for _ in 0..2 {
        for (n, device) in devices.iter_mut().enumerate() {
            let report = sync(device).await;
            refused.extend(report.rejected.iter().map(|(id, _)| (n, *id)));
        }
    }
    let refs: Vec<&Engine> = devices.iter().collect();
    assert_converged(&world, &refs);
    for (n, device) in devices.iter().enumerate() {
        let report = device.store().check_consistency().expect("checked");
        assert!(report.is_consistent(), "device {n}: {report:?}");
    }
    for (n, id) in &refused {
        let kept = devices[*n]
            .store()
            .rejected_changes()
            .expect("rejected changes")
            .iter()
            .any(|r| r.record_id == *id);
        assert!(kept, "device {n} kept its refused edit of {id}");
    }
    let _ = records(devices[3].store());
    world.stop().await;
}

fn cases() -> u32 {
    std::env::var("PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_offline_histories_converge_and_keep_every_refused_edit(
        history in prop::collection::vec(step(), 1..30)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(play(history));
    }
}
