//! Random offline histories of up to 40 steps: three reps and a manager work on customers,
//! contacts, visits (check-ins), follow-ups, visit plans, opportunities, leads, orders,
//! approvals, daily reports, tasks and targets — as the app would, through the engine, and as a modified phone would, writing the
//! record straight into its store, so some edits are refused on the phone and some by the
//! server — and sync in random orders, while an admin moves a rep between teams or changes a
//! role, and the server is restarted cleanly or killed, at times in the middle of a sync.
//!
//! The steps:
//! - customers created, edited, reassigned; contacts added; check-ins made and their visits
//!   edited (the note, allowed; the check-in itself, never) — written into the store;
//! - records of every kind above deleted, written into the store (the server judges who may);
//! - follow-ups logged through the engine about a customer, an opportunity or a lead, now or
//!   30 or 100 hours ago (beyond the server's 72-hour window), and edited in the store: the
//!   text (allowed) or the time (never);
//! - today's visits planned through the engine for oneself or a colleague; what the engine
//!   refuses (a rep planning a colleague's day) written into the store anyway or skipped;
//! - targets set through the engine for anyone; what the engine refuses (a rep) written into
//!   the store anyway or skipped; a target's amount changed in the store (a rep lowering
//!   their own);
//! - what only an admin may write, written into a device's store: a product's price, a
//!   role's scope, the user's own roles, an org unit's name, the process configuration;
//! - opportunities opened and moved to any stage as the record says (written into the store,
//!   so the server's stage rules judge the move), and moved through the engine's own
//!   [`Engine::move_opportunity`], the target stage's required fields filled first or not, a
//!   reason given or not (what the engine refuses is skipped);
//! - leads created through the engine, owned or into the team's pool, and claimed from the pool
//!   ([`Engine::claim_lead`]), so two reps may claim one lead offline;
//! - orders drafted at a held customer with a line of the catalogue's one product (made once, by
//!   an HQ admin) at 0–25 % off, and confirmed through the engine, which asks for the approval
//!   the amount or the discount needs; confirmed again later, through the engine or written as
//!   confirmed with no approval;
//! - approvals decided through [`Engine::decide_approval`]; when the engine refuses (a rep,
//!   a requester, a decided request) the decision is written into the store anyway;
//! - daily reports drafted and submitted through the engine;
//! - tasks given through [`Engine::create_task`] and accepted and completed by the assignee;
//!   when the engine refuses (not the assignee, not open) the completion is written anyway;
//! - an admin's changes; clean restarts; kills ([`World::kill_in_process_and_restart`]) 0–12 ms
//!   after a device started a sync, so that many (four in ten, measured) cut it: a request in
//!   flight is never answered and the device retries; syncs of one device and of all.
//!
//! Then everyone syncs twice. Checked in the end: every device holds exactly the server's
//! records its user may see now (their unit and roles as the server resolves them after the
//! admin's changes), field for field, with nothing pending — so everything a device was told
//! was accepted is on the server, of every kind above; each store's projections and search
//! index equal a rebuild from its documents; every edit the server refused is kept on the
//! device that made it; a sync the kill cut either finishes on a retry or ends offline, never
//! with another error; an engine operation fails only by refusing (a rule, a permission, a
//! record it does not find), never with a storage or internal error. proptest shrinks a
//! failing history to a minimal one. `a_kill_cuts_every_connection_of_the_killed_server`
//! checks that the kill is one: what a graceful stop would answer is never answered.
//!
//! Each case is cheap: the org, the people, the product, a customer and an opportunity of
//! each user and their signed-in devices (synced, so each holds the catalogue, the org, the
//! process and what its user may see) are made once, and every case starts from a copy of
//! those files, with a server of its own on them. `PROPERTY_CASES` sets the number of
//! histories (200 here; RELIABILITY.md reports longer runs); with `PROPERTY_TALLY` set, each
//! case prints what reached the server, by kind, and what it refused, by kind and rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use fieldsales_core::doc::RecordDoc;
use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::{Engine, NewLead, NewOpportunity, NewOrder, NewOrderLine};
use fieldsales_core::process::approval::ApprovalStatus as Standing;
use fieldsales_core::process::{
    ApprovalDecision, FieldType, FieldValue, FieldValues, MoveKind, StageChange, StageField,
    Verdict,
};
use fieldsales_core::record::approval::ApprovalStatus;
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::order::OrderStatus;
use fieldsales_core::record::task::{TaskKind, TaskStatus};
use fieldsales_core::record::visit_plan::PlannedVisit;
use fieldsales_core::record::{AnyRecord, SensitiveField};
use fieldsales_core::record::{
    Approval, Customer, DataScope, FollowUp as FollowUpRecord, Header, Kind, Lead, Opportunity,
    Order, OrgUnit, ProcessConfig, Product, RecordRef, Role, Target, Task, UserProfile, Visit,
    VisitPlan,
};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::{ListFilter, Store, StoreRead};
use fieldsales_core::sync::SyncError;
use fieldsales_core::sync::client::META_SESSION;
use fieldsales_core::{BasisPoints, Error, LocalDate, RecordId, testing};
use fieldsales_tests::{Org, Person, TENANT, World, records, sync, try_sync};
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
    /// A device deletes a record of a kind of [`DELETED`] it holds (whether or not it may).
    Delete {
        device: usize,
        kind: usize,
        record: usize,
    },
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
    /// A device moves an opportunity it holds to a stage through the engine, after filling
    /// the stage's required fields (`fill`) and with a reason (`reason`) or not; what the
    /// engine refuses is skipped.
    Advance {
        device: usize,
        record: usize,
        stage: usize,
        fill: bool,
        reason: bool,
    },
    /// A device creates a lead, its own or into its team's pool.
    Lead { device: usize, pooled: bool },
    /// A device claims a pooled lead it holds.
    Claim { device: usize, record: usize },
    /// A device drafts an order at a customer it holds and asks to confirm it: confirmed, or
    /// an approval requested.
    Order {
        device: usize,
        record: usize,
        quantity: u32,
        discount: usize,
    },
    /// A device confirms an order it holds: through the engine, or (`forced`) writing it as
    /// confirmed.
    Confirm {
        device: usize,
        record: usize,
        forced: bool,
    },
    /// A device decides an approval it holds; when the engine refuses, the decision is written
    /// into the store anyway.
    Decide {
        device: usize,
        record: usize,
        approve: bool,
    },
    /// A device drafts today's report, and submits it or not.
    Report { device: usize, submit: bool },
    /// A device gives a task to someone (itself included).
    GiveTask { device: usize, to: usize },
    /// A device accepts and completes a task it holds; when the engine refuses, the
    /// completion is written into the store anyway (`forced`) or skipped.
    CompleteTask {
        device: usize,
        record: usize,
        forced: bool,
    },
    /// A device logs a follow-up through the engine about a customer, an opportunity or a lead
    /// it holds (`about`), `hours_ago` hours ago (the server refuses one older than its
    /// window).
    FollowUp {
        device: usize,
        about: usize,
        record: usize,
        hours_ago: usize,
    },
    /// A device edits a follow-up it holds in its store: its text, or (`time`) when it
    /// happened (never allowed).
    EditFollowUp {
        device: usize,
        record: usize,
        time: bool,
    },
    /// A device plans today's visit to a customer it holds for a user (itself included)
    /// through the engine; when the engine refuses (a rep planning a colleague's day), the
    /// plan is written into the store anyway (`forced`) or skipped.
    Plan {
        device: usize,
        rep: usize,
        record: usize,
        forced: bool,
    },
    /// A device sets a target for a user (itself included) through the engine; when the
    /// engine refuses (a rep), the target is written into the store anyway (`forced`) or
    /// skipped.
    SetTarget {
        device: usize,
        subject: usize,
        amount: i64,
        forced: bool,
    },
    /// A device changes the amount of a target it holds in its store (a rep lowering their
    /// own is refused).
    EditTarget {
        device: usize,
        record: usize,
        amount: i64,
    },
    /// A device writes what only an admin may, straight into its store: a product's price, a
    /// role's scope, its own roles, an org unit's name or the process configuration (`what`).
    Forge { device: usize, what: usize },
    /// An admin moves the third rep to the other team and back, or makes the second rep a
    /// manager and back.
    Admin { change: u8 },
    /// The server stops and starts again.
    Restart,
    /// A device starts a sync and the server is killed `after_ms` later, then started again.
    Kill { device: usize, after_ms: u64 },
    /// A device syncs.
    Sync { device: usize },
    /// Every device syncs, one after another (everyone back in signal).
    SyncAll,
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
    // Half the approvals and tasks are the manager's to decide and give.
    let manager_or_any = || prop_oneof![Just(3usize), 0..4usize];
    prop_oneof![
        3 => (0..3usize).prop_map(|rep| Step::Create { rep }),
        3 => (0..4usize, any::<usize>(), 0..3u8, 0..4u8)
            .prop_map(|(device, record, field, value)| Step::Edit { device, record, field, value }),
        3 => (0..4usize, 0..DELETED.len(), any::<usize>())
            .prop_map(|(device, kind, record)| Step::Delete { device, kind, record }),
        1 => (0..4usize, any::<usize>(), 0..3usize)
            .prop_map(|(device, record, to)| Step::Reassign { device, record, to }),
        1 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::Contact { device, record }),
        2 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::CheckIn { device, record }),
        1 => (0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, record, check_in)| Step::EditVisit { device, record, check_in }),
        2 => (0..4usize, any::<usize>())
            .prop_map(|(device, record)| Step::Opportunity { device, record }),
        2 => (0..4usize, any::<usize>(), 0..STAGES.len())
            .prop_map(|(device, record, stage)| Step::MoveStage { device, record, stage }),
        3 => (0..4usize, any::<usize>(), 0..STAGES.len(), any::<bool>(), any::<bool>())
            .prop_map(|(device, record, stage, fill, reason)| Step::Advance {
                device, record, stage, fill, reason,
            }),
        2 => (0..4usize, any::<bool>()).prop_map(|(device, pooled)| Step::Lead { device, pooled }),
        2 => (0..4usize, any::<usize>()).prop_map(|(device, record)| Step::Claim { device, record }),
        3 => (0..4usize, any::<usize>(), 1..13u32, 0..DISCOUNTS.len())
            .prop_map(|(device, record, quantity, discount)| Step::Order {
                device, record, quantity, discount,
            }),
        2 => (0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, record, forced)| Step::Confirm { device, record, forced }),
        3 => (manager_or_any(), any::<usize>(), any::<bool>())
            .prop_map(|(device, record, approve)| Step::Decide { device, record, approve }),
        1 => (0..4usize, any::<bool>()).prop_map(|(device, submit)| Step::Report { device, submit }),
        2 => (manager_or_any(), 0..4usize).prop_map(|(device, to)| Step::GiveTask { device, to }),
        2 => (0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, record, forced)| Step::CompleteTask { device, record, forced }),
        2 => (0..4usize, 0..3usize, any::<usize>(), prop_oneof![3 => Just(0usize), 1 => Just(30), 1 => Just(100)])
            .prop_map(|(device, about, record, hours_ago)| Step::FollowUp {
                device, about, record, hours_ago,
            }),
        2 => (0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, record, time)| Step::EditFollowUp { device, record, time }),
        2 => (0..4usize, 0..4usize, any::<usize>(), any::<bool>())
            .prop_map(|(device, rep, record, forced)| Step::Plan { device, rep, record, forced }),
        2 => (manager_or_any(), 0..4usize, 1..50i64, any::<bool>())
            .prop_map(|(device, subject, amount, forced)| Step::SetTarget {
                device, subject, amount, forced,
            }),
        1 => (0..4usize, any::<usize>(), 1..50i64)
            .prop_map(|(device, record, amount)| Step::EditTarget { device, record, amount }),
        1 => (0..4usize, 0..5usize).prop_map(|(device, what)| Step::Forge { device, what }),
        1 => (0..2u8).prop_map(|change| Step::Admin { change }),
        1 => Just(Step::Restart),
        2 => (0..4usize, 0..12u64).prop_map(|(device, after_ms)| Step::Kill { device, after_ms }),
        8 => (0..4usize).prop_map(|device| Step::Sync { device }),
        2 => Just(Step::SyncAll),
    ]
}

/// The manual discounts an order's line asks for, in percent: none, within a rep's 10 %,
/// beyond it (a manager approves), beyond 20 % (a regional director approves too).
const DISCOUNTS: [u32; 4] = [0, 5, 15, 25];

/// The kinds a step deletes from: every kind a rep or a manager writes.
const DELETED: [Kind; 12] = [
    Kind::Customer,
    Kind::Contact,
    Kind::Visit,
    Kind::FollowUp,
    Kind::Opportunity,
    Kind::Lead,
    Kind::Order,
    Kind::Approval,
    Kind::DailyReport,
    Kind::Task,
    Kind::VisitPlan,
    Kind::Target,
];

/// The one product of the catalogue.
const PRODUCT: &str = "CRM-PRO";

/// What an engine operation gave: its value, or `None` when the engine refused it (a rule,
/// a permission, a record it cannot find). A failure no input explains fails the history.
fn allowed<T>(result: fieldsales_core::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(
            e @ (Error::Storage(_)
            | Error::Io(_)
            | Error::Internal(_)
            | Error::Document { .. }
            | Error::UnknownKind(_)
            | Error::NewerDatabase { .. }
            | Error::WrongKind { .. }),
        ) => panic!("the engine failed rather than refused: {e}"),
        Err(_) => None,
    }
}

/// A value that fills `field`.
fn filled(field: &StageField, today: LocalDate) -> FieldValue {
    match &field.kind {
        FieldType::Number => FieldValue::Number(3),
        FieldType::Money => FieldValue::Money(testing::yuan(200_000)),
        FieldType::Date => FieldValue::Date(today),
        FieldType::Attachment => FieldValue::Attachments(vec![format!("{}.pdf", field.key)]),
        FieldType::List => FieldValue::List(vec!["华东建筑设计研究院".into()]),
        FieldType::Flag => FieldValue::Flag(true),
        FieldType::Text | FieldType::Other(_) => FieldValue::Text("已确认".into()),
    }
}

/// Today in the signed-in user's zone, on the device's clock.
fn today(device: &Engine) -> LocalDate {
    device.now().local_date(&device.me().zone)
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
    // Reps do not see contacts' phones (the manager does): no history may hand one to them.
    world.hide_fields("sales_rep", &["contact.phone"]).await;
    let reps: Vec<Person> = vec![
        world.person("li.na", org.east_team, "sales_rep").await,
        world.person("wang.wei", org.east_team, "sales_rep").await,
        world.person("zhao.lei", org.east_team, "sales_rep").await,
    ];
    let manager = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    // The catalogue: one product at ¥10,000, added by an HQ admin on their own device (the
    // server takes products from no one else).
    let admin = world.person("admin.hq", org.hq, "admin").await;
    let mut desk = world.device(&admin).await;
    sync(&mut desk).await;
    desk.create_product(testing::product(
        PRODUCT,
        "销售云专业版",
        testing::yuan(10_000),
    ))
    .expect("the product");
    let report = sync(&mut desk).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    drop(desk);
    // Each user starts with a customer of their own and an opportunity at it, every device
    // synced twice round: it holds the catalogue, the org, the process and what its user may
    // see, so the steps act from the first one.
    let mut devices = Vec::new();
    for person in reps.iter().chain([&manager]) {
        let mut device = world.device(person).await;
        let customer = device
            .store_mut()
            .create(testing::customer(
                person.profile,
                &format!("{}的老客户有限公司", person.login),
            ))
            .expect("a customer");
        device
            .create_opportunity(NewOpportunity {
                customer_id: customer.header.id,
                name: "年度框架采购".into(),
                amount: testing::yuan(300_000),
                expected_close: None,
                fields: FieldValues::new(),
            })
            .expect("an opportunity");
        devices.push(device);
    }
    for _ in 0..2 {
        for device in &mut devices {
            let report = sync(device).await;
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        }
    }
    let stores = devices
        .iter()
        .map(|device| {
            let path = device.store().path().expect("a store file");
            path.strip_prefix(world.dir.path())
                .expect("inside the world")
                .to_path_buf()
        })
        .collect();
    drop(devices);
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
        // A sensitive field's companion is seen with its record, unless the user's roles
        // hide the field.
        let hidden = |r: &AnyRecord| match r {
            AnyRecord::Private(p) => p.sensitive().is_none_or(|f| me.hidden.hides(f)),
            _ => false,
        };
        let visible: Vec<_> = server
            .iter()
            .filter(|(_, r)| tree.can_see(&me, r.header()) && !hidden(r))
            .map(|(id, _)| *id)
            .collect();
        // Nor does any document the device holds carry a hidden field in its history.
        for (id, record) in &held {
            let fields: Vec<&str> = SensitiveField::of_kind(record.kind())
                .filter(|f| me.hidden.hides(*f))
                .map(SensitiveField::field)
                .collect();
            if fields.is_empty() {
                continue;
            }
            let bytes = device.store().document_bytes(*id).expect("read");
            let mut doc = RecordDoc::load(&bytes.expect("held"), &automerge::ActorId::random())
                .expect("a document");
            assert!(
                doc.root_values_since(&[], &fields).is_empty(),
                "record {id} on the device of {user} carries a hidden field in its history"
            );
        }
        assert_eq!(
            held.keys().copied().collect::<Vec<_>>(),
            visible,
            "the device of {user} holds exactly what it may see"
        );
        for (id, record) in &held {
            // What the user may see of the server's record: a field their roles hide now
            // reads as empty (its companion is not theirs), whoever gave it a value.
            let mut seen = server[id].clone();
            for field in SensitiveField::of_kind(seen.kind()).filter(|f| me.hidden.hides(*f)) {
                field.write(&mut seen, Default::default());
            }
            assert_eq!(
                format!("{record:?}"),
                format!("{seen:?}"),
                "record {id} on the device of {user}"
            );
        }
        assert!(device.store().pending().expect("outbox").is_empty());
    }
}

/// Every device syncs, one after another; what the server refused is noted in `refused`.
async fn sync_all(devices: &mut [Engine], refused: &mut Vec<(usize, RecordId)>) {
    for (n, device) in devices.iter_mut().enumerate() {
        let report = sync(device).await;
        refused.extend(report.rejected.iter().map(|(id, _)| (n, *id)));
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
            Step::Delete {
                device,
                kind,
                record,
            } => {
                let Some(id) = pick(&devices[device], DELETED[kind], record) else {
                    continue;
                };
                let by = people[device].profile;
                devices[device]
                    .store_mut()
                    .delete(id, Some(by), Some("随机删除".into()))
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
            Step::Advance {
                device,
                record,
                stage,
                fill,
                reason,
            } => {
                let Some(id) = pick(&devices[device], Kind::Opportunity, record) else {
                    continue;
                };
                let to = STAGES[stage];
                let engine = &mut devices[device];
                if fill {
                    let process = engine.process().expect("the process");
                    let day = today(engine);
                    let values: FieldValues = process
                        .stage(to)
                        .map(|s| {
                            s.fields
                                .iter()
                                .map(|f| (f.key.clone(), filled(f, day)))
                                .collect()
                        })
                        .unwrap_or_default();
                    if !values.is_empty() {
                        allowed(engine.set_opportunity_fields(id, values));
                    }
                }
                allowed(engine.move_opportunity(id, to, reason.then_some("客户预算调整")));
            }
            Step::Lead { device, pooled } => {
                let engine = &mut devices[device];
                let pool = pooled.then(|| engine.me().unit_id);
                allowed(engine.create_lead(
                    NewLead {
                        company_name: format!("线索{made}号科技有限公司"),
                        contact_name: Some(format!("联系人{made}")),
                        phone: None,
                        email: None,
                        source: Some("展会".into()),
                    },
                    pool,
                ));
            }
            Step::Claim { device, record } => {
                let engine = &mut devices[device];
                let pooled: Vec<RecordId> = held(engine, Kind::Lead)
                    .into_iter()
                    .filter(|id| {
                        let lead: Lead = engine.store().get(*id).expect("a held lead");
                        lead.header.owner_id.is_none()
                    })
                    .collect();
                if pooled.is_empty() {
                    continue;
                }
                allowed(engine.claim_lead(pooled[record % pooled.len()]));
            }
            Step::Order {
                device,
                record,
                quantity,
                discount,
            } => {
                let Some(customer) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let engine = &mut devices[device];
                let on = today(engine);
                let Some(order) = allowed(engine.create_order(NewOrder {
                    customer_id: customer,
                    opportunity_id: None,
                    number: format!("HT-{made:04}"),
                    lines: vec![NewOrderLine {
                        product_code: PRODUCT.into(),
                        quantity,
                        manual_discount: BasisPoints::percent(DISCOUNTS[discount]),
                    }],
                    on,
                })) else {
                    continue;
                };
                allowed(engine.confirm_order(order.header.id));
            }
            Step::Confirm {
                device,
                record,
                forced,
            } => {
                let Some(id) = pick(&devices[device], Kind::Order, record) else {
                    continue;
                };
                let engine = &mut devices[device];
                if forced {
                    let at = engine.now();
                    engine
                        .store_mut()
                        .update::<Order>(id, |o| {
                            o.status = OrderStatus::Confirmed;
                            o.confirmed_at = Some(at);
                            Ok(())
                        })
                        .expect("confirmed offline");
                } else {
                    allowed(engine.confirm_order(id));
                }
            }
            Step::Decide {
                device,
                record,
                approve,
            } => {
                let Some(id) = pick(&devices[device], Kind::Approval, record) else {
                    continue;
                };
                let verdict = if approve {
                    Verdict::Approve
                } else {
                    Verdict::Reject
                };
                let engine = &mut devices[device];
                if allowed(engine.decide_approval(id, verdict.clone(), Some("随机审批"))).is_none()
                {
                    // Refused on the phone (a rep, the requester, a decided request): a
                    // modified phone writes the decision anyway.
                    let me = engine.me().clone();
                    let at = engine.now();
                    engine
                        .store_mut()
                        .update::<Approval>(id, |a| {
                            let step = match a.standing() {
                                Standing::Pending { step, .. } => {
                                    u32::try_from(step).unwrap_or(u32::MAX)
                                }
                                _ => 0,
                            };
                            a.decisions.push(ApprovalDecision {
                                step,
                                by: me.user_id,
                                role: me.roles.first().cloned().unwrap_or_default(),
                                verdict,
                                at,
                                comment: None,
                            });
                            let standing = a.standing();
                            a.status = ApprovalStatus::of(&standing);
                            if standing.is_decided() {
                                a.decided_at = Some(at);
                            }
                            Ok(())
                        })
                        .expect("decided offline");
                }
            }
            Step::Report { device, submit } => {
                let engine = &mut devices[device];
                let day = today(engine);
                let Some(draft) = allowed(engine.report_draft(day)) else {
                    continue;
                };
                if submit {
                    allowed(engine.submit_report(draft.header.id));
                }
            }
            Step::GiveTask { device, to } => {
                let assignee = people[to].profile;
                let engine = &mut devices[device];
                let due = engine.now().plus_millis(24 * 3_600_000);
                allowed(engine.create_task(NewTask {
                    assignee,
                    kind: TaskKind::Task,
                    title: format!("任务{made}"),
                    description: "回访客户".into(),
                    due_at: Some(due),
                    start_at: None,
                    end_at: None,
                    reminder_at: None,
                    related: None,
                }));
            }
            Step::CompleteTask {
                device,
                record,
                forced,
            } => {
                let Some(id) = pick(&devices[device], Kind::Task, record) else {
                    continue;
                };
                let engine = &mut devices[device];
                let task: Task = engine.store().get(id).expect("a held task");
                if task.status == TaskStatus::Proposed {
                    allowed(engine.accept_task(id));
                }
                if allowed(engine.complete_task(id)).is_none() && forced {
                    // Refused on the phone (not the assignee, not open): a modified phone
                    // writes the completion anyway.
                    let at = engine.now();
                    engine
                        .store_mut()
                        .update::<Task>(id, |t| {
                            t.status = TaskStatus::Completed;
                            t.completed_at = Some(at);
                            Ok(())
                        })
                        .expect("completed offline");
                }
            }
            Step::FollowUp {
                device,
                about,
                record,
                hours_ago,
            } => {
                let kind = [Kind::Customer, Kind::Opportunity, Kind::Lead][about];
                let Some(id) = pick(&devices[device], kind, record) else {
                    continue;
                };
                let engine = &mut devices[device];
                let at = engine.now().plus_millis(-(hours_ago as i64) * 3_600_000);
                allowed(engine.log_follow_up(NewFollowUp {
                    subject: RecordRef { kind, id },
                    method: FollowUpMethod::Call,
                    occurred_at: Some(at),
                    text: format!("跟进{made}"),
                    next_step: Some("发报价".into()),
                    visit_id: None,
                }));
            }
            Step::EditFollowUp {
                device,
                record,
                time,
            } => {
                let Some(id) = pick(&devices[device], Kind::FollowUp, record) else {
                    continue;
                };
                devices[device]
                    .store_mut()
                    .update::<FollowUpRecord>(id, |f| {
                        if time {
                            f.occurred_at = f.occurred_at.plus_millis(-3_600_000);
                        } else {
                            f.text = autosurgeon::Text::with_value(format!("改过的跟进{made}"));
                        }
                        Ok(())
                    })
                    .expect("follow-up edited offline");
            }
            Step::Plan {
                device,
                rep,
                record,
                forced,
            } => {
                let Some(customer) = pick(&devices[device], Kind::Customer, record) else {
                    continue;
                };
                let rep = people[rep].profile;
                let engine = &mut devices[device];
                let day = today(engine);
                let items = vec![PlannedVisit {
                    customer_id: customer,
                    planned_at: None,
                    purpose: Some(format!("拜访{made}")),
                }];
                if allowed(engine.plan_visits(rep, day, items.clone())).is_none() && forced {
                    // Refused on the phone (a colleague's day): a modified phone writes the
                    // plan anyway.
                    let me = engine.me().clone();
                    let mut header = Header::new(me.user_id, engine.now());
                    header.owner_id = Some(rep);
                    header.org_unit_id = Some(me.unit_id);
                    engine
                        .store_mut()
                        .create(VisitPlan {
                            header,
                            date: day,
                            zone: me.zone.clone(),
                            planned_by: me.user_id,
                            items,
                        })
                        .expect("planned offline");
                }
            }
            Step::SetTarget {
                device,
                subject,
                amount,
                forced,
            } => {
                let subject = people[subject];
                let engine = &mut devices[device];
                let me = engine.me().clone();
                let mut target = testing::target(subject.profile, testing::yuan(amount * 10_000));
                target.header.created_by = Some(me.user_id);
                target.header.created_at = engine.now();
                target.header.org_unit_id = Some(me.unit_id);
                if allowed(engine.set_target(target.clone())).is_none() && forced {
                    // Refused on the phone (a rep): a modified phone writes it anyway.
                    engine.store_mut().create(target).expect("set offline");
                }
            }
            Step::EditTarget {
                device,
                record,
                amount,
            } => {
                let Some(id) = pick(&devices[device], Kind::Target, record) else {
                    continue;
                };
                devices[device]
                    .store_mut()
                    .update::<Target>(id, |t| {
                        t.amount = testing::yuan(amount * 10_000);
                        Ok(())
                    })
                    .expect("target changed offline");
            }
            Step::Forge { device, what } => {
                let me = people[device].profile;
                let kind = [
                    Kind::Product,
                    Kind::Role,
                    Kind::UserProfile,
                    Kind::OrgUnit,
                    Kind::ProcessConfig,
                ][what];
                let id = match kind {
                    Kind::UserProfile => me,
                    Kind::ProcessConfig => {
                        // No admin imported a process in these histories: the forged one is a
                        // creation (a modified phone writing the tenant's configuration).
                        let id = ProcessConfig::id_for(TENANT);
                        if pick(&devices[device], kind, 0).is_none() {
                            let mut config = testing::process_config();
                            config.header = Header::unowned(Some(me), devices[device].now());
                            config.header.id = id;
                            devices[device]
                                .store_mut()
                                .create(config)
                                .expect("forged offline");
                            continue;
                        }
                        id
                    }
                    _ => {
                        let Some(id) = pick(&devices[device], kind, 0) else {
                            continue;
                        };
                        id
                    }
                };
                let store = devices[device].store_mut();
                let forged = match kind {
                    Kind::Product => store
                        .update::<Product>(id, |p| {
                            p.list_price = testing::yuan(1);
                            Ok(())
                        })
                        .map(drop),
                    Kind::Role => store
                        .update::<Role>(id, |r| {
                            r.data_scope = DataScope::All;
                            Ok(())
                        })
                        .map(drop),
                    Kind::UserProfile => store
                        .update::<UserProfile>(id, |u| {
                            u.roles.insert("admin".into());
                            Ok(())
                        })
                        .map(drop),
                    Kind::OrgUnit => store
                        .update::<OrgUnit>(id, |u| {
                            u.name = format!("改名{made}");
                            Ok(())
                        })
                        .map(drop),
                    _ => store
                        .update::<ProcessConfig>(id, |c| {
                            c.revision += 1;
                            Ok(())
                        })
                        .map(drop),
                };
                forged.expect("forged offline");
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
            Step::Kill { device, after_ms } => {
                let (synced, ()) = tokio::join!(try_sync(&mut devices[device]), async {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    world.kill_in_process_and_restart().await;
                });
                match synced {
                    Ok(report) => {
                        refused.extend(report.rejected.iter().map(|(id, _)| (device, *id)));
                    }
                    // Cut by the kill, every retry before the server was back: the next sync
                    // pushes again.
                    Err(SyncError::Offline { .. }) => {}
                    Err(e) => panic!("a sync cut by a kill ends offline, not: {e}"),
                }
            }
            Step::SyncAll => sync_all(&mut devices, &mut refused).await,
            Step::Sync { device } => {
                let report = sync(&mut devices[device]).await;
                refused.extend(report.rejected.iter().map(|(id, _)| (device, *id)));
            }
        }
    }
    // Everyone syncs until nothing moves: twice round is enough for every change to reach
    // the server and come back to every device that may see it.
    for _ in 0..2 {
        sync_all(&mut devices, &mut refused).await;
    }
    assert_converged(&world, &devices);
    if std::env::var("PROPERTY_TALLY").is_ok() {
        let server = records(&world.server_records());
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for r in server.values() {
            let deleted = if r.header().is_deleted() {
                " deleted"
            } else {
                ""
            };
            *kinds.entry(format!("{}{deleted}", r.kind())).or_default() += 1;
        }
        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        for d in &devices {
            for r in d.store().rejected_changes().expect("r") {
                *codes.entry(format!("{}:{}", r.kind, r.rule)).or_default() += 1;
            }
        }
        eprintln!("TALLY {kinds:?} {codes:?}");
    }
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
        history in prop::collection::vec(step(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(play(history));
    }
}

/// A history proptest found: a rep promoted to manager adds a contact with a phone (theirs to
/// see then), syncs, and is made a rep again. The phone stays on the server, and the rep's
/// device keeps the contact without it: the companion leaves the device at the next pull.
#[test]
fn a_rep_demoted_keeps_their_contact_but_not_its_hidden_phone() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(play(vec![
        Step::Admin { change: 1 },
        Step::Sync { device: 1 },
        Step::Contact {
            device: 1,
            record: 0,
        },
        Step::Sync { device: 1 },
        Step::Admin { change: 1 },
    ]));
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
        assert_eq!(
            customers,
            t.stores.len(),
            "the template's customers, one a user, and no case's records"
        );
        world.stop().await;
    });
}

/// Writes `bytes` on `stream` and reads one answer: `None` when the connection is closed.
async fn answer_on(stream: &mut tokio::net::TcpStream, bytes: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(bytes).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.trim().parse::<usize>().expect("a length"));
            if got.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return None,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("neither an answer nor the end of the connection"),
        }
    }
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n";

/// The histories' kill is a kill: a request in flight is never answered (a graceful stop
/// would finish it), a connection the killed server kept alive is cut, and the server
/// started again answers.
#[test]
fn a_kill_cuts_every_connection_of_the_killed_server() {
    use tokio::io::AsyncWriteExt;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let t = template().await;
        let files = tempfile::tempdir().expect("temp dir");
        copy_tree(t.files.path(), files.path());
        let mut world = World::resume(files, t.admin_token.clone()).await;
        let addr = world.addr;
        let connect = || tokio::net::TcpStream::connect(addr);
        let mut idle = connect().await.expect("connected");
        let answer = answer_on(&mut idle, HEALTH).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // A sign-in whose body is half sent when the server dies.
        let body = br#"{"tenant": "acme", "login": "nobody", "password": "not-a-password-1", "device_name": "x"}"#;
        let (first, rest) = body.split_at(body.len() / 2);
        let mut in_flight = connect().await.expect("connected");
        let head = format!(
            "POST /v1/auth/login HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        in_flight
            .write_all(&[head.as_bytes(), first].concat())
            .await
            .expect("half a request sent");
        tokio::time::sleep(Duration::from_millis(200)).await;

        world.kill_in_process_and_restart().await;
        assert_eq!(
            answer_on(&mut in_flight, rest).await,
            None,
            "the request in flight is never answered"
        );
        assert_eq!(
            answer_on(&mut idle, HEALTH).await,
            None,
            "the killed server's idle connection is cut"
        );
        let mut again = connect().await.expect("connected again");
        let answer = answer_on(&mut again, HEALTH).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        world.stop().await;
    });
}
