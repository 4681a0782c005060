//! Random offline histories: three reps and a manager create and edit customers, contacts,
//! visits (check-ins) and opportunities (moving their stages), delete and reassign — as the
//! app would and as a modified phone would, so some edits are refused by the server — and
//! sync in random orders, while an admin moves a rep between teams or changes a role and the
//! server restarts. In the end every device equals the server for what it may see, each
//! store's projections equal its documents, and every refused edit is kept on the device that
//! made it. proptest shrinks a failing history to a minimal one.
//!
//! Each case is cheap: the org, the people and their signed-in devices are made once, and
//! every case starts from a copy of those files, with a server of its own on them.
//! `PROPERTY_CASES` sets the number of histories (200 here; RELIABILITY.md reports longer
//! runs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fieldsales_core::RecordId;
use fieldsales_core::engine::Engine;
use fieldsales_core::process::{MoveKind, StageChange};
use fieldsales_core::record::{Customer, Kind, Opportunity, Visit};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::{ListFilter, Store, StoreRead};
use fieldsales_core::sync::client::META_SESSION;
use fieldsales_core::testing;
use fieldsales_tests::{Org, Person, World, records, sync};
use proptest::prelude::*;
use serde_json::json;
use tempfile::TempDir;

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
    /// A device adds a contact to a customer it holds.
    Contact { device: usize, record: usize },
    /// A device checks in at a customer it holds.
    CheckIn { device: usize, record: usize },
    /// A device edits a visit it holds: its note (allowed) or its check-in (never).
    EditVisit {
        device: usize,
        record: usize,
        check_in: bool,
    },
    /// A device opens an opportunity at a customer it holds.
    Opportunity { device: usize, record: usize },
    /// A device moves an opportunity it holds to a stage, as the record says (the server
    /// checks the move).
    MoveStage {
        device: usize,
        record: usize,
        stage: usize,
    },
    /// An admin moves the third rep to the other team and back, or makes the second rep a
    /// manager and back.
    Admin { change: u8 },
    /// The server stops and starts again.
    Restart,
    /// A device syncs.
    Sync { device: usize },
}

const STAGES: [&str; 7] = [
    "lead",
    "opportunity",
    "initiation",
    "formal_communication",
    "bidding",
    "won",
    "lost",
];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3usize).prop_map(|rep| Step::Create { rep }),
        3 => (0..4usize, any::<usize>(), 0..3u8, 0..4u8)
            .prop_map(|(device, record, field, value)| Step::Edit { device, record, field, value }),
        1 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::Delete { device, record }),
        1 => (0..4usize, any::<usize>(), 0..3usize)
            .prop_map(|(device, record, to)| Step::Reassign { device, record, to }),
        1 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::Contact { device, record }),
        2 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::CheckIn { device, record }),
        1 => (0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, record, check_in)| Step::EditVisit { device, record, check_in }),
        1 => (0..4usize, any::<usize>())
            .prop_map(|(device, record)| Step::Opportunity { device, record }),
        2 => (0..4usize, any::<usize>(), 0..STAGES.len())
            .prop_map(|(device, record, stage)| Step::MoveStage { device, record, stage }),
        1 => (0..2u8).prop_map(|change| Step::Admin { change }),
        1 => Just(Step::Restart),
        4 => (0..4usize).prop_map(|device| Step::Sync { device }),
    ]
}

/// The records of `kind` a device holds, in a stable order, for steps that name one by index.
fn held(device: &Engine, kind: Kind) -> Vec<RecordId> {
    device
        .store()
        .list(&ListFilter {
            kind: Some(kind),
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

fn pick(device: &Engine, kind: Kind, record: usize) -> Option<RecordId> {
    let ids = held(device, kind);
    (!ids.is_empty()).then(|| ids[record % ids.len()])
}

/// The org, the people and their devices, made once; each case starts from a copy.
struct Template {
    files: TempDir,
    admin_token: String,
    org: Org,
    reps: Vec<Person>,
    manager: Person,
    /// Each device's store, relative to `files`.
    stores: Vec<PathBuf>,
}

static TEMPLATE: OnceLock<Template> = OnceLock::new();

async fn template() -> &'static Template {
    if let Some(t) = TEMPLATE.get() {
        return t;
    }
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
    let mut stores = Vec::new();
    for person in reps.iter().chain([&manager]) {
        let device = world.device(person).await;
        let path = device.store().path().expect("a store file").to_path_buf();
        stores.push(
            path.strip_prefix(world.dir.path())
                .expect("inside the world")
                .to_path_buf(),
        );
    }
    let admin_token = world.admin_token.clone();
    let files = world.into_files().await;
    let _ = TEMPLATE.set(Template {
        files,
        admin_token,
        org,
        reps,
        manager,
        stores,
    });
    TEMPLATE.get().expect("set")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("listed") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copied");
        }
    }
}

/// A device from the template's copy, pointed at this case's server.
fn device(path: &Path, base: &str) -> Engine {
    let mut store = Store::open(path).expect("the copied store opens");
    let session = store.meta(META_SESSION).expect("meta").expect("signed in");
    let mut session: serde_json::Value = serde_json::from_slice(&session).expect("session");
    session["server_url"] = json!(base);
    store
        .set_meta(META_SESSION, &serde_json::to_vec(&session).expect("JSON"))
        .expect("session saved");
    Engine::resume(store)
        .expect("resumes")
        .expect("still signed in")
}

/// Every device holds exactly the server's records its user may see now (as the server
/// resolves them, after any change of unit or role), hydrated identically, with nothing
/// pending.
fn assert_converged(world: &World, devices: &[Engine]) {
    let server_store = world.server_records();
    let server = records(&server_store);
    let units: Vec<_> = server
        .values()
        .filter_map(|r| match r {
            fieldsales_core::record::AnyRecord::OrgUnit(u) => Some(u.clone()),
            _ => None,
        })
        .collect();
    let tree = OrgTree::from_units(&units);
    for device in devices {
        let user = device.me().user_id;
        let me = fieldsales_core::me::resolve(&server_store, user)
            .expect("resolved")
            .expect("an active user");
        let held = records(device.store());
        let visible: Vec<_> = server
            .iter()
            .filter(|(_, r)| tree.can_see(&me, r.header()))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            held.keys().copied().collect::<Vec<_>>(),
            visible,
            "the device of {user} holds exactly what it may see"
        );
        for (id, record) in &held {
            assert_eq!(
                format!("{record:?}"),
                format!("{:?}", server[id]),
                "record {id} on the device of {user}"
            );
        }
        assert!(device.store().pending().expect("outbox").is_empty());
    }
}

async fn play(history: Vec<Step>) {
    let t = template().await;
    let files = tempfile::tempdir().expect("temp dir");
    copy_tree(t.files.path(), files.path());
    let mut world = World::resume(files, t.admin_token.clone()).await;
    let mut devices: Vec<Engine> = t
        .stores
        .iter()
        .map(|p| device(&world.dir.path().join(p), &world.base))
        .collect();
    let people: Vec<&Person> = t.reps.iter().chain([&t.manager]).collect();
    let mut refused: Vec<(usize, RecordId)> = Vec::new();
    let mut made = 0;
    // The admin's changes in force: the third rep in the North team, the second a manager.
    let (mut moved, mut promoted) = (false, false);

    for step in history {
        made += 1;
        match step {
            Step::Create { rep } => {
                devices[rep]
                    .store_mut()
                    .create(testing::customer(
                        t.reps[rep].profile,
                        &format!("随机客户{made}号有限公司"),
                    ))
                    .expect("created offline");
            }
            Step::Edit {
                device,
                record,
                field,
                value,
            } => {
                let Some(id) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
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
                let Some(id) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                devices[device]
                    .store_mut()
                    .delete(id, None, Some("随机删除".into()))
                    .expect("deleted offline");
            }
            Step::Reassign { device, record, to } => {
                let Some(id) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let owner = t.reps[to].profile;
                devices[device]
                    .store_mut()
                    .update::<Customer>(id, |c| {
                        c.header.owner_id = Some(owner);
                        Ok(())
                    })
                    .expect("reassigned offline");
            }
            Step::Contact { device, record } => {
                let Some(customer) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let owner = people[device].profile;
                devices[device]
                    .store_mut()
                    .create(testing::contact(owner, customer, &format!("联系人{made}")))
                    .expect("contact created offline");
            }
            Step::CheckIn { device, record } => {
                let Some(customer) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let owner = people[device].profile;
                devices[device]
                    .store_mut()
                    .create(testing::visit(owner, customer))
                    .expect("checked in offline");
            }
            Step::EditVisit {
                device,
                record,
                check_in,
            } => {
                let Some(id) = pick(&devices[device], Kind::Visit, record) else {
                    continue;
                };
                devices[device]
                    .store_mut()
                    .update::<Visit>(id, |v| {
                        if check_in {
                            v.check_in.position.point.lat += 0.01;
                        } else {
                            v.note = autosurgeon::Text::with_value(format!("备注{made}"));
                        }
                        Ok(())
                    })
                    .expect("visit edited offline");
            }
            Step::Opportunity { device, record } => {
                let Some(customer) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let owner = people[device].profile;
                devices[device]
                    .store_mut()
                    .create(testing::opportunity(
                        owner,
                        customer,
                        &format!("商机{made}"),
                        testing::yuan(100_000),
                    ))
                    .expect("opportunity opened offline");
            }
            Step::MoveStage {
                device,
                record,
                stage,
            } => {
                let Some(id) = pick(&devices[device], Kind::Opportunity, record) else {
                    continue;
                };
                let by = people[device].profile;
                let at = devices[device].now();
                devices[device]
                    .store_mut()
                    .update::<Opportunity>(id, |o| {
                        let to = STAGES[stage].to_owned();
                        let from = STAGES.iter().position(|s| *s == o.stage);
                        let kind = match from {
                            _ if stage >= 5 => MoveKind::Close,
                            Some(f) if f > stage => MoveKind::Back,
                            _ => MoveKind::Forward,
                        };
                        o.stage_history.push(StageChange {
                            from: Some(o.stage.clone()),
                            to: to.clone(),
                            kind,
                            at,
                            by,
                            reason: None,
                        });
                        o.stage = to;
                        Ok(())
                    })
                    .expect("stage moved offline");
            }
            Step::Admin { change } => {
                let (person, unit, role) = if change == 0 {
                    moved = !moved;
                    let team = if moved {
                        t.org.north_team
                    } else {
                        t.org.east_team
                    };
                    (&t.reps[2], team, "sales_rep")
                } else {
                    promoted = !promoted;
                    let role = if promoted {
                        "sales_manager"
                    } else {
                        "sales_rep"
                    };
                    (&t.reps[1], t.org.east_team, role)
                };
                world
                    .put(
                        json!({"kind": "user_profile", "id": person.profile.to_string(),
                                 "name": person.login, "employee_no": person.login,
                                 "unit_id": unit.to_string(), "roles": [role],
                                 "zone": "Asia/Shanghai"}),
                    )
                    .await;
            }
            Step::Restart => world.restart_in_process().await,
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
    assert_converged(&world, &devices);
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
    drop(devices);
    world.stop().await;
}

fn cases() -> u32 {
    std::env::var("PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
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

/// The histories above start from a copy of one set of files: a copy must behave as the
/// original did, and each case must see only its own records.
#[test]
fn each_history_starts_from_the_same_clean_copy() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for _ in 0..2 {
            play(vec![Step::Create { rep: 0 }, Step::Sync { device: 0 }]).await;
        }
        let t = template().await;
        let files = tempfile::tempdir().expect("temp dir");
        copy_tree(t.files.path(), files.path());
        let world = World::resume(files, t.admin_token.clone()).await;
        let customers = records(&world.server_records())
            .values()
            .filter(|r| r.kind() == Kind::Customer)
            .count();
        assert_eq!(customers, 0, "no case's records are left in the template");
        world.stop().await;
    });
}
