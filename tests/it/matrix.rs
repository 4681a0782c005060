//! The permission matrix, cell by cell: for every role of the default matrix, every kind of
//! record a device writes and every operation (create, read, edit, delete, reassign, share),
//! a device of that role does the operation on a record in its scope and on one outside it,
//! as a modified phone would (straight into its store, its app's checks skipped), and syncs.
//! The server's verdict must equal what the matrix grants, and so must the phone's own check
//! (`Engine::may`) — the same answer on both sides, for every cell.
//!
//! What the matrix grants is read here from the role's data and the org the test builds,
//! independently of the code under test: `own` reaches the user's own records, `subtree`
//! their team's, `region` their region's, `all` everything.

use std::collections::BTreeMap;

use fieldsales_core::engine::Engine;
use fieldsales_core::process::permissions::{Operation, RolePermissions};
use fieldsales_core::process::{MoveKind, SalesProcess, StageChange};
use fieldsales_core::record::order::OrderStatus;
use fieldsales_core::record::{AnyRecord, DataScope, Kind, Tombstone};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing;
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_tests::{Org, Person, World, sync};

/// The kinds a device writes (the org tree, people, roles and the process come through the
/// admin API only; the catalogue is its own right, tested in `sales_sync.rs`).
const KINDS: &[Kind] = &[
    Kind::Customer,
    Kind::Contact,
    Kind::FollowUp,
    Kind::Lead,
    Kind::Opportunity,
    Kind::Visit,
    Kind::VisitPlan,
    Kind::DailyReport,
    Kind::Task,
    Kind::Approval,
    Kind::Order,
    Kind::Target,
];

const OPS: &[Operation] = &[
    Operation::Create,
    Operation::Read,
    Operation::Edit,
    Operation::Delete,
    Operation::Reassign,
    Operation::Share,
];

/// Cells another rule of the kind decides whatever the matrix says, with where that rule is
/// tested.
fn decided_by_the_kind(kind: Kind, op: &Operation) -> Option<&'static str> {
    match (kind, op) {
        (Kind::Approval, Operation::Reassign) => {
            Some("a request's requester never changes (sales_sync.rs)")
        }
        (Kind::Task, Operation::Edit | Operation::Reassign) => {
            Some("the assigner and the assignee decide (authority.rs)")
        }
        _ => None,
    }
}

/// Inside or outside the actor's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Inside,
    Outside,
}

/// Who is where.
struct Company {
    world: World,
    org: Org,
    admin: Person,
    /// East's reps: the owners of records inside the actors' reach.
    li: Person,
    zhao: Person,
    /// North's reps: the owners of records outside any reach but `all`.
    sun: Person,
    qian: Person,
    /// The actors, by role code.
    actors: Vec<(&'static str, Person, RecordId)>,
}

impl Company {
    async fn new() -> Company {
        let world = World::start().await;
        let org = world.org().await;
        world
            .put(
                serde_json::json!({"kind": "role", "code": "finance", "name": "财务",
                                     "data_scope": "own"}),
            )
            .await;
        let admin = world.person("admin.hq", org.hq, "admin").await;
        let li = world.person("li.na", org.east_team, "sales_rep").await;
        let zhao = world.person("zhao.min", org.east_team, "sales_rep").await;
        let sun = world.person("sun.li", org.north_team, "sales_rep").await;
        let qian = world.person("qian.wu", org.north_team, "sales_rep").await;
        let wang = world
            .person("wang.qiang", org.east_team, "sales_manager")
            .await;
        let chen = world
            .person("chen.jie", org.east, "regional_director")
            .await;
        let fin = world.person("fang.cai", org.hq, "finance").await;
        let actors = vec![
            ("sales_rep", li.clone(), org.east_team),
            ("sales_manager", wang, org.east_team),
            ("regional_director", chen, org.east),
            ("finance", fin, org.hq),
            ("admin", admin.clone(), org.hq),
        ];
        Company {
            world,
            org,
            admin,
            li,
            zhao,
            sun,
            qian,
            actors,
        }
    }

    /// The owner of a record on `side`, and the colleague it may be given to or shared with.
    fn people(&self, side: Side) -> (&Person, &Person, RecordId) {
        match side {
            Side::Inside => (&self.li, &self.zhao, self.org.east_team),
            Side::Outside => (&self.sun, &self.qian, self.org.north_team),
        }
    }
}

/// The units at or below `unit` in the test's org.
fn under(c: &Company, unit: RecordId) -> Vec<RecordId> {
    let o = &c.org;
    if unit == o.hq {
        vec![o.hq, o.east, o.north, o.east_team, o.north_team]
    } else if unit == o.east {
        vec![o.east, o.east_team]
    } else if unit == o.north {
        vec![o.north, o.north_team]
    } else {
        vec![unit]
    }
}

/// The region `unit` lies in, if any.
fn region(c: &Company, unit: RecordId) -> Option<RecordId> {
    let o = &c.org;
    [o.east, o.north]
        .into_iter()
        .find(|r| under(c, *r).contains(&unit))
}

/// Whether `scope`, held by `actor`, reaches a record of `owner` attributed to `unit`.
fn reaches(c: &Company, scope: &DataScope, actor: &Person, owner: &Person, unit: RecordId) -> bool {
    let actor_unit = c
        .actors
        .iter()
        .find(|(_, p, _)| p.profile == actor.profile)
        .map(|(_, _, u)| *u)
        .expect("an actor");
    match scope {
        DataScope::All => true,
        DataScope::Region => under(c, region(c, actor_unit).unwrap_or(actor_unit)).contains(&unit),
        DataScope::Subtree => under(c, actor_unit).contains(&unit),
        DataScope::Own => owner.profile == actor.profile,
        DataScope::Other(_) => false,
    }
}

/// What the default matrix grants `role` for `op` on a record of `kind` on `side`.
fn granted(
    c: &Company,
    matrix: &RolePermissions,
    actor: &Person,
    kind: Kind,
    op: &Operation,
    side: Side,
) -> bool {
    let Some(scope) = matrix.kinds.get(kind.as_str()).and_then(|g| g.get(op)) else {
        return false;
    };
    let (owner, colleague, unit) = c.people(side);
    let record = reaches(c, scope, actor, owner, unit);
    match op {
        // A reassignment must reach the new owner too.
        Operation::Reassign => record && reaches(c, scope, actor, colleague, unit),
        _ => record,
    }
}

/// A valid record of `kind` owned by `owner` (in `unit`), created by `by`, as of now.
fn record(kind: Kind, owner: &Person, unit: RecordId, by: &Person, tag: &str) -> AnyRecord {
    let now = Timestamp::now();
    let o = owner.profile;
    let customer = RecordId::new();
    let mut r: AnyRecord = match kind {
        Kind::Customer => testing::customer(o, &format!("矩阵测试{tag}有限公司")).into(),
        Kind::Contact => testing::contact(o, customer, "张三").into(),
        Kind::FollowUp => {
            let mut f = testing::follow_up(o, customer, "电话沟通");
            f.occurred_at = now;
            f.into()
        }
        Kind::Lead => testing::lead(o, &format!("线索{tag}")).into(),
        Kind::Opportunity => {
            let mut d =
                testing::opportunity(o, customer, &format!("项目{tag}"), testing::yuan(1_000));
            d.stage_history = vec![StageChange {
                from: None,
                to: "opportunity".into(),
                kind: MoveKind::Open,
                at: now,
                by: by.profile,
                reason: None,
            }];
            d.into()
        }
        Kind::Visit => testing::visit(o, customer).into(),
        Kind::VisitPlan => testing::visit_plan(o, &[customer]).into(),
        Kind::DailyReport => testing::daily_report(o).into(),
        Kind::Task => testing::task(o, by.profile, &format!("任务{tag}")).into(),
        Kind::Approval => testing::approval(o, RecordId::new(), testing::yuan(60_000)).into(),
        Kind::Order => {
            let mut order = testing::order(
                o,
                customer,
                &testing::product("CRM-PRO", "销售云", testing::yuan(100)),
                1,
            );
            order.status = OrderStatus::Draft;
            order.confirmed_at = None;
            order.payments.clear();
            order.into()
        }
        Kind::Target => testing::target(o, testing::yuan(100_000)).into(),
        other => panic!("no builder for {other}"),
    };
    let h = r.header_mut();
    h.id = RecordId::new();
    h.created_at = now;
    h.created_by = Some(by.profile);
    h.org_unit_id = Some(unit);
    if kind == Kind::Task {
        h.shared_with = fieldsales_core::record::IdSet::new();
        if owner.profile != by.profile {
            h.shared_with.insert(by.profile);
        }
    }
    r
}

/// `r` with a field changed that no rule of its kind guards.
fn edited(r: &AnyRecord) -> AnyRecord {
    let mut r = r.clone();
    match &mut r {
        AnyRecord::Customer(c) => c.industry = Some("矩阵".into()),
        AnyRecord::Contact(c) => c.title = Some("总经理".into()),
        AnyRecord::FollowUp(f) => f.next_step = Some("再约".into()),
        AnyRecord::Lead(l) => l.source = Some("展会".into()),
        AnyRecord::Opportunity(o) => o.amount = testing::yuan(2_000),
        AnyRecord::Visit(v) => v.plan_id = Some(RecordId::new()),
        AnyRecord::VisitPlan(p) => p.items.clear(),
        AnyRecord::DailyReport(d) => d.visit_ids.push(RecordId::new()),
        AnyRecord::Task(t) => t.title = "改名".into(),
        AnyRecord::Approval(a) => a.title = "改名".into(),
        AnyRecord::Order(o) => o.number = "SO-EDITED".into(),
        AnyRecord::Target(t) => t.amount = testing::yuan(90_000),
        _ => {}
    }
    r
}

/// One cell's case on one side.
struct Case {
    role: &'static str,
    kind: Kind,
    op: Operation,
    side: Side,
    id: RecordId,
    phone_allows: bool,
    expected: bool,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{} × {} × {} ({:?})",
            self.role, self.kind, self.op, self.side
        )
    }
}

/// Seeds, on the admin's device, the record each case works on.
async fn seed(
    c: &mut Company,
    roles: &[&'static str],
) -> BTreeMap<(String, Kind, String, Side), AnyRecord> {
    let mut admin = c.world.device(&c.admin.clone()).await;
    sync(&mut admin).await;
    let mut seeded = BTreeMap::new();
    for role in roles {
        for kind in KINDS {
            for op in OPS.iter().filter(|op| !matches!(op, Operation::Create)) {
                for side in [Side::Inside, Side::Outside] {
                    let (owner, _, unit) = c.people(side);
                    let tag = format!("{role}{kind}{op}{side:?}");
                    let r = record(*kind, owner, unit, &c.admin, &tag);
                    admin
                        .store_mut()
                        .transaction(|tx| tx.create_any(r.clone()))
                        .expect("seeded");
                    seeded.insert((role.to_string(), *kind, op.to_string(), side), r);
                }
            }
        }
    }
    let report = sync(&mut admin).await;
    assert!(
        report.rejected.is_empty(),
        "seeding refused: {:?}",
        report.rejected
    );
    seeded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_of_the_default_matrix_is_enforced_alike_by_the_server_and_the_phone() {
    let mut c = Company::new().await;
    let process = SalesProcess::standard();
    let roles: Vec<&'static str> = c.actors.iter().map(|(r, _, _)| *r).collect();
    let seeded = seed(&mut c, &roles).await;
    let server = c.world.server_records();
    let mut cases = Vec::new();
    let actors = c.actors.clone();
    for (role, actor, _) in &actors {
        let matrix = process
            .roles
            .iter()
            .find(|r| r.code == *role)
            .expect("a default role")
            .permissions()
            .into_owned();
        let mut phone: Engine = c.world.device(actor).await;
        sync(&mut phone).await;
        let mut mine = Vec::new();
        for kind in KINDS {
            for op in OPS {
                if decided_by_the_kind(*kind, op).is_some() {
                    continue;
                }
                for side in [Side::Inside, Side::Outside] {
                    let expected = granted(&c, &matrix, actor, *kind, op, side);
                    let (owner, colleague, unit) = c.people(side);
                    if *op == Operation::Create {
                        let after = record(
                            *kind,
                            owner,
                            unit,
                            actor,
                            &format!("{role}{kind}new{side:?}"),
                        );
                        let phone_allows = phone.may(None, &after).is_ok();
                        phone
                            .store_mut()
                            .transaction(|tx| tx.create_any(after.clone()))
                            .expect("written locally");
                        mine.push(Case {
                            role,
                            kind: *kind,
                            op: op.clone(),
                            side,
                            id: after.header().id,
                            phone_allows,
                            expected,
                        });
                        continue;
                    }
                    let held = &seeded[&(role.to_string(), *kind, op.to_string(), side)];
                    let id = held.header().id;
                    if *op == Operation::Read {
                        let phone_allows = phone.store().kind_of(id).unwrap().is_some();
                        mine.push(Case {
                            role,
                            kind: *kind,
                            op: op.clone(),
                            side,
                            id,
                            phone_allows,
                            expected,
                        });
                        continue;
                    }
                    // The phone holds it, or a modified phone got its document somehow.
                    if phone.store().kind_of(id).unwrap().is_none() {
                        let doc = server.document_bytes(id).unwrap().expect("on the server");
                        let heads = server.heads(id).unwrap();
                        phone
                            .store_mut()
                            .apply_remote(id, &doc, &heads)
                            .expect("obtained");
                    }
                    let before = phone.store().get_any(id).unwrap();
                    let mut after = before.clone();
                    match op {
                        Operation::Edit => after = edited(&before),
                        Operation::Delete => {
                            after.header_mut().deleted = Some(Tombstone {
                                at: Timestamp::now(),
                                by: Some(actor.profile),
                                reason: None,
                            })
                        }
                        Operation::Reassign => {
                            after.header_mut().owner_id = Some(colleague.profile);
                        }
                        Operation::Share => {
                            after.header_mut().shared_with.insert(colleague.profile);
                        }
                        _ => unreachable!(),
                    }
                    let phone_allows = phone.may(Some(&before), &after).is_ok();
                    overwrite(phone.store_mut(), after);
                    mine.push(Case {
                        role,
                        kind: *kind,
                        op: op.clone(),
                        side,
                        id,
                        phone_allows,
                        expected,
                    });
                }
            }
        }
        let report = sync(&mut phone).await;
        cases.extend(mine.into_iter().map(|case| {
            let refused: Vec<&String> = report
                .rejected
                .iter()
                .filter(|(r, _)| *r == case.id)
                .map(|(_, rule)| rule)
                .collect();
            let server_allows = if case.op == Operation::Read {
                case.phone_allows
            } else {
                refused.is_empty()
            };
            (
                case,
                server_allows,
                refused.into_iter().cloned().collect::<Vec<_>>(),
            )
        }));
    }
    let mut wrong = Vec::new();
    for (case, server_allows, refused) in &cases {
        if *server_allows != case.expected {
            wrong.push(format!(
                "{}: the matrix {} it, the server {} it {refused:?}",
                case.name(),
                if case.expected { "grants" } else { "refuses" },
                if *server_allows { "allowed" } else { "refused" }
            ));
        }
        if case.op != Operation::Read && case.phone_allows != case.expected {
            wrong.push(format!(
                "{}: the matrix {} it, the phone {} it",
                case.name(),
                if case.expected { "grants" } else { "refuses" },
                if case.phone_allows {
                    "allowed"
                } else {
                    "refused"
                }
            ));
        }
    }
    let granted_cells = cases.iter().filter(|(c, _, _)| c.expected).count();
    eprintln!(
        "{} cases: {granted_cells} granted, {} refused",
        cases.len(),
        cases.len() - granted_cells
    );
    assert!(cases.len() >= 500, "{} cases", cases.len());
    assert!(cases.iter().any(|(c, _, _)| c.expected) && cases.iter().any(|(c, _, _)| !c.expected));
    assert!(
        wrong.is_empty(),
        "{} of {} cells disagree:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    c.world.stop().await;
}

/// Writes `after` over the held record, as a modified phone writes whatever it likes.
fn overwrite(store: &mut fieldsales_core::store::Store, after: AnyRecord) {
    let id = after.header().id;
    macro_rules! put {
        ($($variant:ident => $ty:ty),+) => {
            match after {
                $(AnyRecord::$variant(r) => {
                    store.update::<$ty>(id, |held| {
                        *held = r;
                        Ok(())
                    })
                    .map(|_| ())
                })+
                other => panic!("no writer for {}", other.kind()),
            }
        };
    }
    use fieldsales_core::record::*;
    put!(
        Customer => Customer, Contact => Contact, FollowUp => FollowUp, Lead => Lead,
        Opportunity => Opportunity, Visit => Visit, VisitPlan => VisitPlan,
        DailyReport => DailyReport, Task => Task, Approval => Approval, Order => Order,
        Target => Target
    )
    .expect("written locally");
}

on_postgres!(every_cell_of_the_default_matrix_is_enforced_alike_by_the_server_and_the_phone,);
