//! Local-store benchmarks, run with `cargo bench -p fieldsales-core --bench store`.
//!
//! Prints medians and p99 next to the goals. The baseline for a single write is plain SQLite
//! inserting the same visit projection row alone, in the same kind of transaction, on the
//! same kind of file, so the ratio shows what the document, the common index, the search
//! index and the outbox cost on top. Opening a large store is measured in a fresh child
//! process so its resident memory is not inflated by the benchmark that filled the store.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use fieldsales_core::record::{AnyRecord, Customer};
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{RecordId, testing};

const OPEN_CHILD_ENV: &str = "FIELDSALES_BENCH_OPEN";
/// The key (hex) the open child opens an encrypted store with.
const OPEN_KEY_ENV: &str = "FIELDSALES_BENCH_OPEN_KEY";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Resident and peak resident memory of this process in MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const PREFIXES: &[&str] = &[
    "北京", "上海", "深圳", "杭州", "成都", "武汉", "南京", "西安", "苏州", "广州",
];
const CORES: &[&str] = &[
    "华", "兴", "盛", "达", "泰", "宏", "信", "联", "科", "创", "通", "远", "恒", "瑞", "嘉", "明",
    "新", "中", "天", "海", "金", "安", "立", "德", "鑫", "博", "智", "云", "光", "源",
];
const TRADES: &[&str] = &[
    "科技", "贸易", "电子", "机械", "物流", "医疗", "软件", "建设", "能源", "食品",
];
const LATIN: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Tyrell",
    "Cyberdyne",
];

/// A realistic, unique company name for customer `i`.
fn company(i: usize) -> String {
    if i % 10 == 7 {
        format!(
            "{} {} Trading Co., Ltd. {i}",
            LATIN[i % LATIN.len()],
            LATIN[(i / 10) % LATIN.len()]
        )
    } else {
        let a = CORES[i % CORES.len()];
        let b = CORES[(i / CORES.len()) % CORES.len()];
        let c = CORES[(i / (CORES.len() * CORES.len())) % CORES.len()];
        // a, b, c and the city together are unique for the first 270,000 numbers.
        format!(
            "{}{a}{b}{c}{}有限公司",
            PREFIXES[(i / 27_000) % PREFIXES.len()],
            TRADES[i % TRADES.len()],
        )
    }
}

/// The server's amendment of a pushed visit, as its review does it for every new visit: the
/// saved document loaded, the server's verdict and time of receipt written, the document
/// saved. Written as the whole record (`RecordDoc::write`, comparing every field with the
/// document) and as the judgement alone (`RecordDoc::amend`), interleaved visit by visit so
/// the machine's load falls on both alike.
fn bench_server_verdict() {
    use fieldsales_core::Timestamp;
    use fieldsales_core::doc::RecordDoc;
    use fieldsales_core::fieldwork::{CheckFlag, CheckInVerdict, FenceStatus, FlagKind, Judge};
    use fieldsales_core::record::Visit;

    const VISITS: usize = 2_000;
    let at = Timestamp::from_millis(1_773_018_000_000);
    let phone = automerge::ActorId::random();
    let server = automerge::ActorId::random();
    let pushed: Vec<(Vec<u8>, Visit)> = (0..VISITS)
        .map(|_| {
            let visit = testing::visit(RecordId::new(), RecordId::new());
            let mut doc = RecordDoc::create(&visit.clone().into(), &phone, at).unwrap();
            (doc.save(), visit)
        })
        .collect();
    let judged = |visit: &Visit| Visit {
        verdict: Some(CheckInVerdict {
            fence: FenceStatus::Inside,
            distance_m: Some(40.0),
            accuracy_m: 120.0,
            radius_m: 200.0,
            flags: vec![CheckFlag {
                kind: FlagKind::PoorAccuracy,
                observed: Some(120.0),
                limit: Some(100.0),
            }],
            judged_by: Judge::Server,
            judged_at: at,
        }),
        received_at: Some(at),
        ..visit.clone()
    };
    let mut whole = Vec::with_capacity(VISITS);
    let mut judgement = Vec::with_capacity(VISITS);
    for (i, (saved, visit)) in pushed.iter().enumerate() {
        let current = AnyRecord::from(visit.clone());
        let amended = AnyRecord::from(judged(visit));
        for alone in [i % 2 == 0, i % 2 == 1] {
            let started = Instant::now();
            let mut doc = RecordDoc::load(saved, &server).unwrap();
            if alone {
                doc.amend(&current, &amended, at).unwrap();
            } else {
                doc.write(&amended, at).unwrap();
            }
            std::hint::black_box(doc.save());
            let took = started.elapsed();
            if alone {
                judgement.push(took);
            } else {
                whole.push(took);
            }
        }
    }
    whole.sort();
    judgement.sort();
    let (w, j) = (percentile(&whole, 0.5), percentile(&judgement, 0.5));
    println!(
        "server verdict on a pushed visit ({VISITS} visits; load, write, save): whole record \
         median {} p99 {}; judgement alone median {} p99 {} ({:.2}x faster)",
        ms(w),
        ms(percentile(&whole, 0.99)),
        ms(j),
        ms(percentile(&judgement, 0.99)),
        w.as_secs_f64() / j.as_secs_f64()
    );
}

fn bench_single_visit(dir: &std::path::Path) {
    const N: usize = 2_000;
    let mut store = Store::open(dir.join("single.sqlite")).unwrap();
    let rep = RecordId::new();
    let customer = store
        .create(testing::customer(rep, "华为技术有限公司"))
        .unwrap();
    let mut times = Vec::with_capacity(N);
    for _ in 0..N {
        let visit = testing::visit(rep, customer.header.id);
        let t = Instant::now();
        store.create(visit).unwrap();
        times.push(t.elapsed());
    }
    times.sort();

    // Baseline: the same projection row, alone, in its own transaction.
    let mut conn = rusqlite::Connection::open(dir.join("baseline.sqlite")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE visits (id BLOB PRIMARY KEY, owner_id BLOB, customer_id BLOB NOT NULL,
            plan_id BLOB, check_in_at INTEGER NOT NULL, local_date TEXT NOT NULL, zone TEXT NOT NULL,
            lat REAL NOT NULL, lon REAL NOT NULL, accuracy_m REAL NOT NULL, is_mock INTEGER NOT NULL,
            check_out_at INTEGER, duration_s INTEGER, photo_count INTEGER NOT NULL,
            deleted INTEGER NOT NULL) WITHOUT ROWID;
         CREATE INDEX visits_owner_date ON visits(owner_id, local_date);
         CREATE INDEX visits_customer_time ON visits(customer_id, check_in_at);
         CREATE INDEX visits_date ON visits(local_date);",
    )
    .unwrap();
    let mut base = Vec::with_capacity(N);
    for _ in 0..N {
        let v = testing::visit(rep, customer.header.id);
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        tx.prepare_cached(
            "INSERT INTO visits VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8, ?9, 0, NULL, NULL, 0, 0)",
        )
        .unwrap()
        .execute(rusqlite::params![
            v.header.id.as_bytes().to_vec(),
            rep.as_bytes().to_vec(),
            customer.header.id.as_bytes().to_vec(),
            v.check_in.at.millis(),
            "2026-03-10",
            "Asia/Shanghai",
            v.check_in.position.point.lat,
            v.check_in.position.point.lon,
            v.check_in.position.accuracy_m
        ])
        .unwrap();
        tx.commit().unwrap();
        base.push(t.elapsed());
    }
    base.sort();
    let (m, b) = (percentile(&times, 0.5), percentile(&base, 0.5));
    println!("create one visit (document + projection + search + outbox), {N} runs");
    println!(
        "  store   median {}  p99 {}    goal: median ≤ 1 ms",
        ms(m),
        ms(percentile(&times, 0.99))
    );
    println!(
        "  plain   median {}  p99 {}    (the visit row alone)",
        ms(b),
        ms(percentile(&base, 0.99))
    );
    println!(
        "  ratio   {:.1}× the plain-SQLite median    goal: ≤ 10×",
        m.as_secs_f64() / b.as_secs_f64()
    );
}

fn fill(path: &std::path::Path, n: usize, batch: usize) -> Duration {
    let mut store = Store::open(path).unwrap();
    let reps: Vec<RecordId> = (0..12).map(|_| RecordId::new()).collect();
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let records: Vec<AnyRecord> = (i..end)
            .map(|k| {
                let mut c: Customer = testing::customer(reps[k % reps.len()], &company(k));
                c.short_name = None;
                c.into()
            })
            .collect();
        store.create_batch(records).unwrap();
        i = end;
    }
    start.elapsed()
}

fn bench_bulk_and_search(dir: &std::path::Path) -> std::path::PathBuf {
    const N: usize = 100_000;
    const BATCH: usize = 1_000;
    const RUNS: usize = 3;
    let mut rates = Vec::new();
    let mut path = dir.join("bulk-0.sqlite");
    for run in 0..RUNS {
        path = dir.join(format!("bulk-{run}.sqlite"));
        let took = fill(&path, N, BATCH);
        rates.push(N as f64 / took.as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!("bulk import of {N} customers in batches of {BATCH}, {RUNS} fresh stores");
    println!(
        "  median {:.0} records/s (runs: {})    goal: ≥ 20,000 records/s",
        rates[RUNS / 2],
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let store = Store::open(&path).unwrap();
    let queries = [
        "华为",
        "科技",
        "盛达",
        "贸易有限",
        "acme",
        "globex trading",
        "北京华兴",
        "源智云",
        "tyrell",
        "医疗",
    ];
    let mut times = Vec::new();
    for round in 0..30 {
        for q in queries {
            let t = Instant::now();
            let hits = store.search(q, &[], 20).unwrap();
            times.push(t.elapsed());
            if round == 0 && hits.is_empty() && q != "华为" {
                println!("  (no hit for {q})");
            }
        }
    }
    times.sort();
    println!(
        "fuzzy search over {N} customers ({} queries, 2–14 characters)",
        times.len()
    );
    println!(
        "  median {}  p99 {}    goal: median ≤ 20 ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
    let mut dups = Vec::new();
    for k in (0..N).step_by(N / 50) {
        let c = testing::customer(RecordId::new(), &format!("{}分公司", company(k)));
        let t = Instant::now();
        let report = store.find_duplicates(&c, 0.7).unwrap();
        dups.push(t.elapsed());
        assert!(report.exact.is_some() || !report.near.is_empty());
    }
    dups.sort();
    println!(
        "duplicate check against {N} customers: median {}  p99 {}",
        ms(percentile(&dups, 0.5)),
        ms(percentile(&dups, 0.99))
    );
    path
}

fn bench_open(path: &std::path::Path) {
    let (median, peak) = open_runs(path, None);
    println!("open a store holding 100,000 records (fresh process, 5 runs)");
    println!(
        "  median {}    peak resident memory {:.1} MiB    goals: ≤ 100 ms, ≤ 60 MB",
        ms(median),
        peak
    );
}

/// Five opens in fresh processes: the median time and the highest peak memory.
fn open_runs(path: &std::path::Path, key_hex: Option<&str>) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut peak = 0.0_f64;
    for _ in 0..5 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child.env(OPEN_CHILD_ENV, path);
        if let Some(key) = key_hex {
            child.env(OPEN_KEY_ENV, key);
        }
        let out = child.output().unwrap();
        if !out.status.success() {
            panic!(
                "the open child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let micros: f64 = parts
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        let hwm: f64 = parts
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        times.push(Duration::from_secs_f64(micros / 1e6));
        peak = peak.max(hwm);
    }
    times.sort();
    (percentile(&times, 0.5), peak)
}

/// The child of `bench_open`: open, run the first query a screen would, report.
fn open_child(path: &str) {
    let t = Instant::now();
    let store = match std::env::var(OPEN_KEY_ENV) {
        #[cfg(feature = "encryption")]
        Ok(key) => Store::open_encrypted(
            path,
            &fieldsales_core::store::StoreKey::from_vec(hex::decode(key).unwrap()).unwrap(),
        )
        .unwrap(),
        _ => Store::open(path).unwrap(),
    };
    let hits = store.search("科技", &[], 20).unwrap();
    let took = t.elapsed();
    assert!(!hits.is_empty());
    let (_, hwm) = memory_mib();
    println!("{} {hwm}", took.as_secs_f64() * 1e6);
}

fn main() {
    if let Ok(path) = std::env::var(OPEN_CHILD_ENV) {
        open_child(&path);
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` asks the harness for its tests: there are none.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    println!(
        "fieldsales-core store benchmarks ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    // STORE_BENCH_ONLY=encryption (with `--features encryption`) compares a plain and an
    // encrypted store: a single visit's write, opening 100,000 records, a photo stored and read.
    if std::env::var("STORE_BENCH_ONLY").is_ok_and(|v| v == "encryption") {
        #[cfg(feature = "encryption")]
        encryption::bench(dir.path());
        #[cfg(not(feature = "encryption"))]
        println!("STORE_BENCH_ONLY=encryption needs `--features encryption`");
        return;
    }
    // STORE_BENCH_ONLY=verdict runs only the server's amendment of a pushed visit.
    if std::env::var("STORE_BENCH_ONLY").is_ok_and(|v| v == "verdict") {
        bench_server_verdict();
        return;
    }
    // STORE_BENCH_ONLY=bulk runs only the bulk write, search and duplicate check.
    let only_bulk = std::env::var("STORE_BENCH_ONLY").is_ok_and(|v| v == "bulk");
    if !only_bulk {
        bench_single_visit(dir.path());
        bench_server_verdict();
    }
    let bulk = bench_bulk_and_search(dir.path());
    if !only_bulk {
        bench_open(&bulk);
    }
}

/// What encryption at rest costs: the same work on a plain and an encrypted store, interleaved
/// so that the machine's load falls on both alike.
#[cfg(feature = "encryption")]
mod encryption {
    use std::time::{Duration, Instant};

    use fieldsales_core::attachments::Attachments;
    use fieldsales_core::store::{Store, StoreKey};
    use fieldsales_core::{RecordId, testing};

    use super::{ms, open_runs, percentile};

    pub(super) fn bench(dir: &std::path::Path) {
        let key = StoreKey::generate().unwrap();
        single_visit(dir, &key);
        photos(dir, &key);
        let plain = super::bench_bulk_and_search(dir);
        // The same 100,000 records in an encrypted copy, made as SQLCipher documents it.
        let encrypted = dir.join("bulk-encrypted.sqlite");
        let conn = rusqlite::Connection::open(&plain).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        // sqlcipher_export copies the schema and the rows, not the schema version.
        conn.execute_batch(&format!(
            "ATTACH DATABASE '{}' AS enc KEY \"x'{}'\"; SELECT sqlcipher_export('enc'); \
             PRAGMA enc.user_version = {version}; DETACH DATABASE enc;",
            encrypted.display(),
            hex::encode_upper(key.as_bytes())
        ))
        .unwrap();
        drop(conn);
        let key_hex = hex::encode(key.as_bytes());
        let (mut plain_t, mut enc_t) = (Vec::new(), Vec::new());
        let mut peaks = (0.0_f64, 0.0_f64);
        for _ in 0..3 {
            let (t, p) = open_runs(&plain, None);
            plain_t.push(t);
            peaks.0 = peaks.0.max(p);
            let (t, p) = open_runs(&encrypted, Some(&key_hex));
            enc_t.push(t);
            peaks.1 = peaks.1.max(p);
        }
        plain_t.sort();
        enc_t.sort();
        let (p, e) = (plain_t[1], enc_t[1]);
        println!("open 100,000 records and search once (fresh process; median of 3 medians of 5)");
        println!(
            "  plain {} ({:.1} MiB peak)    encrypted {} ({:.1} MiB peak)    ratio {:.2}×",
            ms(p),
            peaks.0,
            ms(e),
            peaks.1,
            e.as_secs_f64() / p.as_secs_f64()
        );
    }

    fn single_visit(dir: &std::path::Path, key: &StoreKey) {
        const ROUNDS: usize = 20;
        const EACH: usize = 100;
        let mut plain = Store::open(dir.join("single-plain.sqlite")).unwrap();
        let mut encrypted = Store::open_encrypted(dir.join("single-enc.sqlite"), key).unwrap();
        let rep = RecordId::new();
        let mut stores = [&mut plain, &mut encrypted];
        let customers: Vec<RecordId> = stores
            .iter_mut()
            .map(|s| {
                s.create(testing::customer(rep, "华为技术有限公司"))
                    .unwrap()
                    .header
                    .id
            })
            .collect();
        let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for (n, store) in stores.iter_mut().enumerate() {
                for _ in 0..EACH {
                    let visit = testing::visit(rep, customers[n]);
                    let t = Instant::now();
                    store.create(visit).unwrap();
                    times[n].push(t.elapsed());
                }
            }
        }
        for t in &mut times {
            t.sort();
        }
        let (p, e) = (percentile(&times[0], 0.5), percentile(&times[1], 0.5));
        println!(
            "single visit write, {} each, interleaved: plain median {} p99 {}    encrypted median {} p99 {}    ratio {:.2}×",
            ROUNDS * EACH,
            ms(p),
            ms(percentile(&times[0], 0.99)),
            ms(e),
            ms(percentile(&times[1], 0.99)),
            e.as_secs_f64() / p.as_secs_f64()
        );
    }

    fn photos(dir: &std::path::Path, key: &StoreKey) {
        const N: usize = 20;
        let mut plain = Store::open(dir.join("photos-plain.sqlite")).unwrap();
        let mut encrypted = Store::open_encrypted(dir.join("photos-enc.sqlite"), key).unwrap();
        let plain_files = Attachments::beside(&plain, 64 << 20).unwrap();
        let sealed_files = Attachments::beside(&encrypted, 64 << 20).unwrap();
        let mut put: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        let mut get: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for i in 0..N {
            // A 3 MB photo, different every time (the same content is stored once).
            let photo: Vec<u8> = (0..3_000_000u32)
                .map(|b| (b.wrapping_mul(2_654_435_761).wrapping_add(i as u32) >> 13) as u8)
                .collect();
            for (n, (store, files)) in [(&mut plain, &plain_files), (&mut encrypted, &sealed_files)]
                .into_iter()
                .enumerate()
            {
                let t = Instant::now();
                let a = files.put(store, &photo, "image/jpeg").unwrap();
                put[n].push(t.elapsed());
                let t = Instant::now();
                assert_eq!(
                    files.get(&a.sha256).unwrap().map(|b| b.len()),
                    Some(photo.len())
                );
                get[n].push(t.elapsed());
            }
        }
        for t in put.iter_mut().chain(get.iter_mut()) {
            t.sort();
        }
        println!(
            "a 3 MB photo, {N} each: store plain {} sealed {}    read back plain {} sealed {}",
            ms(percentile(&put[0], 0.5)),
            ms(percentile(&put[1], 0.5)),
            ms(percentile(&get[0], 0.5)),
            ms(percentile(&get[1], 0.5)),
        );
    }
}
