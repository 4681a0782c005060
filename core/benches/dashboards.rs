//! Dashboard benchmarks, run with `cargo bench -p fieldsales-core --bench dashboards`.
//!
//! Seeds the store of a regional director whose region has 100 reps in 10 teams: 100,000
//! visits and 20,000 daily reports over the past year, 10,000 deals with their stage
//! histories, visit plans, quarterly targets, leads and approvals. Then times every dashboard
//! for the director over the last 30 days and over the whole year, and prints the median and
//! the 95th percentile of each next to the goal (50 ms median).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use fieldsales_core::dashboard::{
    Context, DashboardRequest, DashboardSettings, DateRange, GroupBy, Viewer, attention, funnel,
    reports, targets, visits,
};
use fieldsales_core::fieldwork::{
    CheckFlag, CheckInVerdict, FenceStatus, FlagKind, Judge, ReportState as Compliance,
    ReportVerdict, SubmissionBasis,
};
use fieldsales_core::me::Me;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::process::{MoveKind, StageChange};
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::opportunity::{Outcome, OutcomeKind};
use fieldsales_core::record::target::TargetSubject;
use fieldsales_core::record::visit::CheckOut;
use fieldsales_core::record::{AnyRecord, DataScope, OrgLevel};
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{LocalDate, RecordId, Timestamp, Zone, testing};

const REPS_PER_TEAM: usize = 10;
const TEAMS: usize = 10;
const VISITS: usize = 100_000;
const DEALS: usize = 10_000;
const REPORTS: usize = 20_000;
const ITERATIONS: usize = 30;
const GOAL_MS: f64 = 50.0;

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const DAY_MS: i64 = 86_400_000;

fn today() -> LocalDate {
    LocalDate::from_ymd(2026, 3, 16).unwrap()
}

fn day_back(days: usize) -> LocalDate {
    let mut d = today();
    for _ in 0..days {
        d = d.pred();
    }
    d
}

struct Org {
    records: Vec<AnyRecord>,
    director: Me,
    reps: Vec<RecordId>,
    teams: Vec<RecordId>,
}

fn org() -> Org {
    let hq = testing::org_unit("总部", OrgLevel::Hq, None);
    let east = testing::org_unit("华东大区", OrgLevel::Region, Some(hq.header.id));
    let mut records: Vec<AnyRecord> = Vec::new();
    let mut reps = Vec::new();
    let mut teams = Vec::new();
    for t in 0..TEAMS {
        let team = testing::org_unit(&format!("第{t}组"), OrgLevel::Team, Some(east.header.id));
        for r in 0..REPS_PER_TEAM {
            let mut u = testing::user(&format!("销售{t}-{r}"), team.header.id, "sales_rep");
            u.header.created_at = Timestamp::parse_rfc3339("2024-01-01T09:00:00+08:00").unwrap();
            reps.push(u.header.id);
            records.push(u.into());
        }
        teams.push(team.header.id);
        records.push(team.into());
    }
    let director = testing::user("区域总监", east.header.id, "regional_director");
    let me = Me {
        hidden: Default::default(),
        user_id: director.header.id,
        unit_id: east.header.id,
        roles: vec!["regional_director".into(), "sales_manager".into()],
        scope: DataScope::Region,
        zone: Zone::SHANGHAI,
    };
    records.push(director.into());
    records.push(hq.into());
    records.push(east.into());
    Org {
        records,
        director: me,
        reps,
        teams,
    }
}

fn seed(org: &Org) -> (Store, tempfile::TempDir) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut records = org.records.clone();
    let customers: Vec<Vec<RecordId>> = org
        .reps
        .iter()
        .map(|_| (0..20).map(|_| RecordId::new()).collect())
        .collect();
    let fences = [
        FenceStatus::Inside,
        FenceStatus::Inside,
        FenceStatus::Inside,
        FenceStatus::Outside,
        FenceStatus::CannotTell,
        FenceStatus::UnableToVerify,
    ];
    for i in 0..VISITS {
        let r = i % org.reps.len();
        let rep = org.reps[r];
        let customer = customers[r][rng.below(20)];
        let day = day_back(rng.below(365));
        let at = day
            .start(&Zone::SHANGHAI)
            .plus_millis(8 * 3_600_000 + (rng.below(600) as i64) * 60_000);
        let mut v = testing::visit(rep, customer);
        v.check_in.at = at;
        v.check_in.position.fix_time = at;
        if rng.below(10) < 8 {
            v.check_out = Some(CheckOut {
                at: at.plus_secs(600 + rng.below(3600) as i64),
                position: None,
            });
        }
        if rng.below(20) > 0 {
            v.verdict = Some(CheckInVerdict {
                fence: fences[rng.below(fences.len())].clone(),
                distance_m: Some(40.0),
                accuracy_m: 10.0,
                radius_m: 200.0,
                flags: if rng.below(25) == 0 {
                    vec![CheckFlag {
                        kind: FlagKind::MockLocation,
                        observed: None,
                        limit: None,
                    }]
                } else {
                    Vec::new()
                },
                judged_by: Judge::Server,
                judged_at: at,
            });
        }
        records.push(v.into());
    }
    // A plan for every rep on every fourth working day of the last 90 days.
    for (r, rep) in org.reps.iter().enumerate() {
        for d in (0..90).step_by(4) {
            let mut p =
                testing::visit_plan(*rep, &[customers[r][d % 20], customers[r][(d + 7) % 20]]);
            p.date = day_back(d);
            records.push(p.into());
        }
    }
    let stages = [
        "opportunity",
        "initiation",
        "formal_communication",
        "bidding",
    ];
    for i in 0..DEALS {
        let rep = org.reps[i % org.reps.len()];
        let mut o = testing::opportunity(
            rep,
            customers[i % org.reps.len()][rng.below(20)],
            &format!("商机 {i}"),
            testing::yuan(10_000 + rng.below(990_000) as i64),
        );
        let start = day_back(rng.below(365)).start(&Zone::SHANGHAI);
        let reached = rng.below(stages.len()) + 1;
        let mut history = Vec::new();
        let mut at = start;
        let mut from: Option<String> = None;
        for s in stages.iter().take(reached) {
            history.push(StageChange {
                from: from.clone(),
                to: s.to_string(),
                kind: if from.is_none() {
                    MoveKind::Open
                } else {
                    MoveKind::Forward
                },
                at,
                by: rep,
                reason: None,
            });
            from = Some(s.to_string());
            at = at.plus_millis((1 + rng.below(20) as i64) * DAY_MS);
        }
        let close = rng.below(10);
        if close < 3 && at < Timestamp::parse_rfc3339("2026-03-16T09:00:00+08:00").unwrap() {
            let kind = if close == 0 {
                OutcomeKind::Lost
            } else {
                OutcomeKind::Won
            };
            history.push(StageChange {
                from: from.clone(),
                to: kind.as_str().to_string(),
                kind: MoveKind::Close,
                at,
                by: rep,
                reason: Some("结果".into()),
            });
            o.outcome = Some(Outcome {
                kind,
                reason: "结果".into(),
                at,
            });
        }
        o.stage = history.last().unwrap().to.clone();
        o.stage_history = history;
        records.push(o.into());
    }
    let states = [
        (Compliance::OnTime, 0),
        (Compliance::OnTime, 0),
        (Compliance::OnTime, 0),
        (Compliance::Late, 10),
        (Compliance::Missing, 30),
        (Compliance::False, 50),
    ];
    let per_rep = REPORTS / org.reps.len();
    for rep in &org.reps {
        for d in 1..=per_rep {
            let day = day_back(d);
            let mut r = testing::daily_report(*rep);
            r.date = day;
            let at = day.start(&Zone::SHANGHAI).plus_millis(17 * 3_600_000);
            r.state = ReportState::Submitted;
            r.submitted_at = Some(at);
            let (state, penalty) = states[rng.below(states.len())].clone();
            r.verdict = Some(ReportVerdict {
                state,
                basis: SubmissionBasis::DeviceClock,
                effective_submitted_at: Some(at),
                deadline: at,
                penalty: testing::yuan(penalty),
                day_off: None,
                judged_by: Judge::Server,
                judged_at: at,
            });
            records.push(r.into());
        }
    }
    for rep in &org.reps {
        let mut t = testing::target(*rep, testing::yuan(3_000_000));
        t.period_start = LocalDate::from_ymd(2026, 1, 1).unwrap();
        records.push(t.into());
        for i in 0..10 {
            let mut l = testing::lead(*rep, &format!("线索 {i}"));
            l.assigned_at = Some(day_back(rng.below(30)).start(&Zone::SHANGHAI));
            records.push(l.into());
        }
        records.push(testing::approval(*rep, RecordId::new(), testing::yuan(60_000)).into());
    }
    for team in &org.teams {
        let mut t = testing::target(org.director.user_id, testing::yuan(30_000_000));
        t.subject = TargetSubject::Team;
        t.subject_id = *team;
        records.push(t.into());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.sqlite");
    let mut store = Store::open(&path).unwrap();
    let n = records.len();
    let started = Instant::now();
    store.create_batch(records).unwrap();
    println!(
        "seeded {n} records ({VISITS} visits, {DEALS} deals, {REPORTS} reports) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (store, dir)
}

/// CPU time this thread has run, from the scheduler (Linux); wall-clock medians on a shared
/// machine include time spent waiting for a core, so both are printed.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn time(name: &str, mut f: impl FnMut()) {
    // `DASHBOARDS_BENCH_ONLY=visits,funnel` times only the dashboards whose name holds one
    // of those words.
    if std::env::var("DASHBOARDS_BENCH_ONLY")
        .is_ok_and(|only| !only.split(',').any(|word| name.contains(word)))
    {
        return;
    }
    for _ in 0..3 {
        f();
    }
    let mut wall = Vec::with_capacity(ITERATIONS);
    let mut cpu = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let (t, c) = (Instant::now(), thread_cpu());
        f();
        wall.push(t.elapsed());
        cpu.push(thread_cpu().saturating_sub(c));
    }
    wall.sort();
    cpu.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(wall[wall.len() / 2]);
    let p95 = ms(wall[(wall.len() as f64 * 0.95) as usize - 1]);
    let cpu_median = ms(cpu[cpu.len() / 2]);
    println!(
        "  {name:<28} median {median:>8.3} ms   p95 {p95:>8.3} ms   cpu median {cpu_median:>8.3} ms   {}",
        if median <= GOAL_MS { "ok" } else { "OVER GOAL" }
    );
}

fn main() {
    let org = org();
    let (store, _dir) = seed(&org);
    // A copy of the seeded store to look into (query plans), when asked for.
    if let Ok(path) = std::env::var("DASHBOARDS_BENCH_KEEP") {
        store
            .test_connection()
            .execute("VACUUM INTO ?1", [&path])
            .unwrap();
        println!(
            "kept a copy in {path}; the director is {}",
            org.director.user_id
        );
    }
    let viewer = Viewer::of(&store, org.director.clone()).unwrap();
    let process = SalesProcess::standard();
    let settings = DashboardSettings::default();
    let now = Timestamp::parse_rfc3339("2026-03-16T10:00:00+08:00").unwrap();
    let ctx = Context::new(&store, &viewer, &process, &settings, now, Some(now));
    for (label, days) in [("last 30 days", 29), ("last 365 days", 364)] {
        let range = DateRange::new(day_back(days), today()).unwrap();
        println!(
            "director of 100 reps, {label} ({} to {}):",
            range.from, range.to
        );
        for by in [GroupBy::Rep, GroupBy::Team] {
            let req = DashboardRequest {
                range,
                group_by: by,
            };
            let by = format!("{by:?}").to_lowercase();
            time(&format!("funnel by {by}"), || {
                funnel::funnel(&ctx, &req).unwrap();
            });
            time(&format!("visits per day by {by}"), || {
                visits::visits(&ctx, &req, visits::Granularity::Day).unwrap();
            });
            time(&format!("visits per week by {by}"), || {
                visits::visits(&ctx, &req, visits::Granularity::Week).unwrap();
            });
            time(&format!("daily reports by {by}"), || {
                reports::reports(&ctx, &req).unwrap();
            });
            time(&format!("targets by {by}"), || {
                targets::targets(&ctx, &req).unwrap();
            });
        }
        time("map points, page of 500", || {
            visits::visit_map_points(&ctx, range, 500, None).unwrap();
        });
        time("map points, page of 5,000", || {
            visits::visit_map_points(&ctx, range, 5_000, None).unwrap();
        });
        time("attention list", || {
            attention::attention(&ctx, range).unwrap();
        });
    }
}
