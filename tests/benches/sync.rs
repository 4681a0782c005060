//! Whole-system sync benchmarks against a real server on loopback.
//!
//! 0. The seeding: 10 reps each create their share of the records below offline, each record
//!    carrying its owner's unit as a phone's engine writes it, and push it: records/s (the
//!    creation rate: the server reviews and stores every one).
//! 1. Initial sync of a manager's device: 10k customers, 50k visits, 5k daily reports of
//!    their team: wall time, bytes on the wire, requests, against the saved documents' size.
//! 2. Incremental sync of 100 changed records: round trips and wall time.
//! 3. 200 devices each pushing 50 changed records at once: accepted changes/s, p99 latency,
//!    and the processor the whole machine spent per 1,000 accepted changes (Linux).
//! 4. Month-end: 200 reps each confirming 25 new orders offline and pushing at once:
//!    accepted orders/s, p99 latency, processor per 1,000 orders.
//!
//! Parts 0 to 2 run on SQLite and on one PostgreSQL instance; parts 3 and 4 on one SQLite
//! server, one PostgreSQL instance and two PostgreSQL instances (the PostgreSQL instances
//! behind the tests' round-robin balancer, in this process, over a local cluster that writes
//! durably).
//!
//! Run: `cargo bench -p fieldsales-tests --bench sync` (sizes scale with `SYNC_BENCH_SCALE`,
//! a fraction, default 1; `SYNC_BENCH_ONLY=initial`, `=throughput` or `=month-end` runs parts
//! 0–2, part 3 or part 4 alone;
//! `SYNC_BENCH_BACKENDS=sqlite` or `=postgres` runs one storage only; `SYNC_BENCH_STALE=1`
//! leaves the throughput devices behind on their colleagues, as the set-up left them).

use std::time::{Duration, Instant};

use fieldsales_core::engine::{ConfirmOutcome, Engine, NewOrder, NewOrderLine};
use fieldsales_core::record::{AnyRecord, Customer, Kind};
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::{self, SyncRequest, SyncResponse};
use fieldsales_core::sync::{self, CancelToken, SyncOptions, SyncReport};
use fieldsales_core::testing::{customer, daily_report, product, visit, yuan};
use fieldsales_core::{BasisPoints, Timestamp, Zone};
use fieldsales_tests::{Backend, World, post_sync, push_of, quick, token_of};

/// The server binary's allocator (see its `main`): the server runs in this process, so the
/// figures are those of the allocator it ships with, not the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn options() -> SyncOptions {
    SyncOptions {
        // The server takes at most 2,000 records a push (limits.push_records).
        push_records: 2_000,
        page_limit: 5_000,
        ..quick()
    }
}

async fn run(engine: &mut Engine) -> (SyncReport, Duration) {
    let started = Instant::now();
    let report = sync::sync_now(engine, &options(), &|_| {}, &CancelToken::new())
        .await
        .expect("sync");
    (report, started.elapsed())
}

/// A company name of its own for each `n`: the server refuses a new customer whose name is
/// close to one the company has (its duplicate check), and names that differ in a number only
/// are close. Four characters picked by a hash of `n` rarely share a pair with another name's.
fn company_name(n: usize) -> String {
    const POOL: [char; 64] = [
        '安', '北', '昌', '东', '恩', '丰', '广', '海', '华', '汇', '佳', '嘉', '金', '锦', '康',
        '力', '隆', '茂', '美', '明', '南', '宁', '鹏', '平', '奇', '庆', '瑞', '润', '盛', '顺',
        '泰', '天', '通', '旺', '伟', '文', '祥', '新', '信', '兴', '鑫', '雅', '阳', '益', '银',
        '永', '元', '远', '跃', '云', '泽', '正', '志', '中', '众', '卓', '宏', '辉', '凯', '朗',
        '立', '龙', '鸿', '聚',
    ];
    let mut h = (n as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    let name: String = (0..5)
        .map(|k| POOL[((h >> (k * 6)) & 63) as usize])
        .collect();
    format!("{name}贸易有限公司")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The machine's processor time so far (Linux's `/proc/stat`, every core): how much of the
/// burst's processor the set-up used, server, database and devices together. `None` where
/// the file cannot be read.
struct Processor {
    busy: u64,
    total: u64,
}

impl Processor {
    fn read() -> Option<Processor> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|t| t.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal (guest time is within user).
        let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
        let total: u64 = ticks.iter().take(8).sum();
        Some(Processor {
            busy: total - idle,
            total,
        })
    }

    /// "; processor …" for the figure line: busy share of all cores over `wall`, and the
    /// processor time per 1,000 accepted `what` (changes, orders).
    fn since(&self, before: &Processor, wall: Duration, accepted: u64, what: &str) -> String {
        let total = self.total.saturating_sub(before.total);
        if total == 0 || accepted == 0 {
            return String::new();
        }
        let share = self.busy.saturating_sub(before.busy) as f64 / total as f64;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let seconds = share * cores * wall.as_secs_f64();
        format!(
            "; processor {:.0} % of {cores} cores busy, {:.0} ms per 1,000 {what}",
            share * 100.0,
            seconds * 1_000_000.0 / accepted as f64
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let scale: f64 = std::env::var("SYNC_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let n = |x: f64| ((x * scale) as usize).max(1);
    let (customers, visits, reports, reps) = (n(10_000.0), n(50_000.0), n(5_000.0), 10);
    fieldsales_tests::durable_postgres();
    let only = std::env::var("SYNC_BENCH_BACKENDS").ok();
    let sqlite = only.as_deref() != Some("postgres");
    let postgres = only.as_deref() != Some("sqlite");
    let only_part = std::env::var("SYNC_BENCH_ONLY").ok();
    const PARTS: [&str; 3] = ["initial", "throughput", "month-end"];
    if let Some(unknown) = only_part.as_deref().filter(|p| !PARTS.contains(p)) {
        eprintln!("SYNC_BENCH_ONLY={unknown}: not a part; the parts are {PARTS:?}");
        std::process::exit(2);
    }
    let part = |name: &str| only_part.as_deref().is_none_or(|o| o == name);
    if part("initial") {
        if sqlite {
            initial_and_incremental(Backend::Sqlite, customers, visits, reports, reps).await;
        }
        if postgres {
            let one = Backend::Postgres { instances: 1 };
            initial_and_incremental(one, customers, visits, reports, reps).await;
        }
    }
    let mut backends = Vec::new();
    if sqlite {
        backends.push(Backend::Sqlite);
    }
    if postgres {
        backends.push(Backend::Postgres { instances: 1 });
        backends.push(Backend::Postgres { instances: 2 });
    }
    if part("throughput") {
        for &backend in &backends {
            throughput(backend, n(200.0)).await;
        }
    }
    if part("month-end") {
        for &backend in &backends {
            month_end(backend, n(200.0)).await;
        }
    }
}

fn name(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => "SQLite, one server".into(),
        Backend::Postgres { instances: 1 } => "PostgreSQL, one instance".into(),
        Backend::Postgres { instances } => format!("PostgreSQL, {instances} instances"),
    }
}

async fn initial_and_incremental(
    backend: Backend,
    customers: usize,
    visits: usize,
    reports: usize,
    reps: usize,
) {
    println!("-- {}", name(backend));
    let mut world = World::start_on(backend).await;
    let org = world.org().await;
    let boss = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut team = Vec::new();
    for r in 0..reps {
        let person = world
            .person(&format!("rep{r}"), org.east_team, "sales_rep")
            .await;
        let device = world.device(&person).await;
        team.push((person, device));
    }

    // Seeding: each rep creates their share offline and pushes it. Each record carries its
    // owner's unit, as a phone's engine writes it (the server would otherwise amend every
    // record with the unit, work no phone's push asks of it).
    let seed = Instant::now();
    let unit = Some(org.east_team);
    for (r, (person, device)) in team.iter_mut().enumerate() {
        let mut batch: Vec<AnyRecord> = Vec::new();
        let mut own_customers = Vec::new();
        for i in 0..customers / reps {
            let mut c = customer(person.profile, &company_name(r * 1_000_000 + i));
            c.header.org_unit_id = unit;
            own_customers.push(c.header.id);
            batch.push(c.into());
        }
        for i in 0..visits / reps {
            let mut v = visit(person.profile, own_customers[i % own_customers.len()]);
            v.header.org_unit_id = unit;
            batch.push(v.into());
        }
        for _ in 0..reports / reps {
            let mut d = daily_report(person.profile);
            d.header.org_unit_id = unit;
            batch.push(d.into());
        }
        device.store_mut().create_batch(batch).expect("seeded");
        let (pushed, _) = run(device).await;
        assert!(pushed.rejected.is_empty(), "{:?}", &pushed.rejected[..1]);
    }
    let seeded = seed.elapsed();
    let total = (customers / reps + visits / reps + reports / reps) * reps;
    println!(
        "seeding: {total} records pushed by {reps} reps in {:.1} s ({:.0} records/s)",
        seeded.as_secs_f64(),
        total as f64 / seeded.as_secs_f64()
    );

    // 1. Initial sync of the manager's device.
    let server = world.server_records();
    let doc_bytes = server
        .documents_size(&[Kind::Customer, Kind::Visit, Kind::DailyReport])
        .expect("sum") as i64;
    let mut initial = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let mut manager = world.device(&boss).await;
        let (report, took) = run(&mut manager).await;
        initial.push(took);
        last = Some((report, manager));
    }
    let (report, mut manager) = last.expect("ran");
    let wire = report.progress.bytes_up + report.progress.bytes_down;
    println!(
        "initial sync, manager: {customers} customers + {visits} visits + {reports} reports: \
         median {:.2} s (runs {:?}); {} requests, {} pages; {} bytes on the wire \
         ({:.2}x the {} bytes of saved documents)",
        median(initial.clone()).as_secs_f64(),
        initial
            .iter()
            .map(|d| format!("{:.2}s", d.as_secs_f64()))
            .collect::<Vec<_>>(),
        report.progress.requests,
        report.progress.pages,
        wire,
        wire as f64 / doc_bytes as f64,
        doc_bytes
    );

    // 2. Incremental: a rep changes 100 records; their push, then the manager's pull.
    let mut pushes = Vec::new();
    let mut pulls = Vec::new();
    let mut rounds = Vec::new();
    let (person, rep) = &mut team[0];
    let ids: Vec<_> = fieldsales_tests::records(rep.store())
        .into_iter()
        .filter(|(_, r)| matches!(r, AnyRecord::Customer(c) if c.header.owner_id == Some(person.profile)))
        .map(|(id, _)| id)
        .take(100)
        .collect();
    for round in 0..7 {
        for id in &ids {
            rep.store_mut()
                .update::<Customer>(*id, |c| {
                    c.tier = Some(format!("T{round}"));
                    Ok(())
                })
                .expect("edited");
        }
        let (push, took) = run(rep).await;
        assert_eq!(push.progress.records_up, ids.len() as u64);
        pushes.push((took, push.progress.rounds));
        let (pull, took) = run(&mut manager).await;
        assert_eq!(pull.progress.records_down, ids.len() as u64);
        pulls.push(took);
        rounds.push(pull.progress.rounds);
    }
    println!(
        "incremental, {} changed records: push median {:.1} ms in {:?} round trips; \
         manager pull median {:.1} ms in {:?} round trips",
        ids.len(),
        ms(median(pushes.iter().map(|p| p.0).collect())),
        pushes.iter().map(|p| p.1).collect::<Vec<_>>(),
        ms(median(pulls)),
        rounds
    );
    world.stop().await;
}

/// 3. 200 devices pushing 50 changed records each, at once. The devices' requests are built
///    beforehand, so the figure is the server's alone. Every device has synced once after
///    the last colleague joined, as phones in use have: the pull part of each answer holds
///    what changed since (the colleagues' edits its user may see), not the whole company
///    directory of the set-up. `SYNC_BENCH_STALE=1` skips that sync, for comparison.
async fn throughput(backend: Backend, devices: usize) {
    let mut world = World::start_on(backend).await;
    let org = world.org().await;
    let mut fleet = Vec::new();
    for d in 0..devices {
        let person = world
            .person(&format!("field{d}"), org.north_team, "sales_rep")
            .await;
        let mut device = world.device(&person).await;
        let mut ids = Vec::new();
        for i in 0..50 {
            let mut c = customer(person.profile, &company_name(500_000_000 + d * 1_000 + i));
            c.header.org_unit_id = Some(org.north_team);
            ids.push(device.store_mut().create(c).expect("created").header.id);
        }
        let (created, _) = run(&mut device).await;
        assert!(created.rejected.is_empty(), "{:?}", created.rejected);
        fleet.push((device, ids));
    }
    let stale = std::env::var("SYNC_BENCH_STALE").is_ok_and(|v| v == "1");
    let mut bodies = Vec::new();
    for (mut device, ids) in fleet {
        if !stale {
            run(&mut device).await;
        }
        for id in &ids {
            device
                .store_mut()
                .update::<Customer>(*id, |c| {
                    c.tier = Some("B".into());
                    Ok(())
                })
                .expect("edited");
        }
        let mut request = SyncRequest::new(sync::cursor(device.store()).expect("cursor"));
        for id in &ids {
            request.push.push(push_of(&device, *id));
        }
        bodies.push(body_of(&device, &request));
    }
    let burst = burst(&world, bodies).await;
    println!(
        "throughput, {}: {devices} devices x 50 changed records at once: {}",
        name(backend),
        burst.line("changes")
    );
    world.stop().await;
}

/// A device's sync request as a burst sends it: the device's token and the encoded body.
fn body_of(device: &Engine, request: &SyncRequest) -> (String, Vec<u8>) {
    (
        token_of(device),
        protocol::encode(request).expect("encodes"),
    )
}

/// What a burst of syncs sent at once came to.
struct Burst {
    accepted: u64,
    wall: Duration,
    latencies: Vec<Duration>,
    /// The machine's processor before and after, where it could be read.
    processor: Option<(Processor, Processor)>,
}

impl Burst {
    /// "N accepted in … s = …/s; request latency p50 …, p99 …; processor …", per `what`.
    fn line(&self, what: &str) -> String {
        let p99 = self.latencies[(self.latencies.len() * 99).div_ceil(100).saturating_sub(1)];
        format!(
            "{} accepted in {:.2} s = {:.0} {what}/s; request latency p50 {:.0} ms, p99 {:.0} ms{}",
            self.accepted,
            self.wall.as_secs_f64(),
            self.accepted as f64 / self.wall.as_secs_f64(),
            ms(self.latencies[self.latencies.len() / 2]),
            ms(p99),
            self.processor
                .as_ref()
                .map(|(before, after)| after.since(before, self.wall, self.accepted, what))
                .unwrap_or_default()
        )
    }
}

/// Sends every prepared sync body at once, each with its device's token, and waits for all
/// the answers. A server at its limit of syncs at once answers 503; a phone tries again
/// shortly, and the wait counts in its latency.
async fn burst(world: &World, bodies: Vec<(String, Vec<u8>)>) -> Burst {
    let cpu_before = Processor::read();
    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|(token, body)| {
            let http = world.http.clone();
            let base = world.base.clone();
            tokio::spawn(async move {
                let sent = Instant::now();
                let (status, answer) = loop {
                    let (status, answer) =
                        post_sync(&http, &base, &token, protocol::CONTENT_TYPE, body.clone()).await;
                    if status != 503 {
                        break (status, answer);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let took = sent.elapsed();
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
                let answer: SyncResponse = protocol::decode(&answer, 1 << 26).expect("decodes");
                assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
                (answer.acks.len() as u64, took)
            })
        })
        .collect();
    let mut accepted = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (n, took) = t.await.expect("device task");
        accepted += n;
        latencies.push(took);
    }
    let wall = started.elapsed();
    let processor = cpu_before.zip(Processor::read());
    latencies.sort();
    Burst {
        accepted,
        wall,
        latencies,
        processor,
    }
}

/// Orders each rep confirms in the month-end part.
const MONTH_END_ORDERS: usize = 25;

/// 4. Month-end: every rep books orders at once. Each rep's phone holds one of their
///    customers and the catalogue, and confirms [`MONTH_END_ORDERS`] orders offline (one to
///    three of the product at 5 % off: within a rep's own discount and under any amount that
///    needs an approval); then every phone pushes at once. The server prices every line again
///    from its catalogue and asks the approval rules of each order, and every order is new
///    (the creation path: documents made, projections and audit entries written).
async fn month_end(backend: Backend, reps: usize) {
    let mut world = World::start_on(backend).await;
    let org = world.org().await;
    let admin = world.person("admin.hq", org.hq, "admin").await;
    let mut desk = world.device(&admin).await;
    run(&mut desk).await;
    desk.create_product(product("CRM-PRO", "销售云专业版", yuan(10_000)))
        .expect("product");
    let (added, _) = run(&mut desk).await;
    assert!(added.rejected.is_empty(), "{:?}", added.rejected);
    let mut fleet = Vec::new();
    for r in 0..reps {
        let person = world
            .person(&format!("month{r}"), org.north_team, "sales_rep")
            .await;
        let mut device = world.device(&person).await;
        let mut c = customer(person.profile, &company_name(700_000_000 + r));
        c.header.org_unit_id = Some(org.north_team);
        let c = device.store_mut().create(c).expect("created");
        fleet.push((device, c.header.id));
    }
    // Every phone holds the catalogue and its colleagues, and its customer is on the server.
    for (device, _) in &mut fleet {
        let (synced, _) = run(device).await;
        assert!(synced.rejected.is_empty(), "{:?}", synced.rejected);
    }
    let today = Timestamp::now().local_date(&Zone::SHANGHAI);
    let mut bodies = Vec::new();
    for (r, (mut device, customer)) in fleet.into_iter().enumerate() {
        let mut request = SyncRequest::new(sync::cursor(device.store()).expect("cursor"));
        for i in 0..MONTH_END_ORDERS {
            let order = device
                .create_order(NewOrder {
                    customer_id: customer,
                    opportunity_id: None,
                    number: format!("HT-{r:04}-{i:02}"),
                    lines: vec![NewOrderLine {
                        product_code: "CRM-PRO".into(),
                        quantity: 1 + (i % 3) as u32,
                        manual_discount: BasisPoints::percent(5),
                    }],
                    on: today,
                })
                .expect("order");
            match device.confirm_order(order.header.id).expect("confirmed") {
                ConfirmOutcome::Confirmed(_) => {}
                other => panic!("no approval should be needed: {other:?}"),
            }
            request.push.push(push_of(&device, order.header.id));
        }
        bodies.push(body_of(&device, &request));
    }
    let burst = burst(&world, bodies).await;
    println!(
        "month-end, {}: {reps} reps x {MONTH_END_ORDERS} orders confirmed at once: {}",
        name(backend),
        burst.line("orders")
    );
    world.stop().await;
}
