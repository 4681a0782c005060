//! Several server instances over one PostgreSQL database behave as one server: an admin's
//! change to the org or to someone's roles made through one is honoured by pulls through every
//! other, a revoked device is refused by all, the scheduled jobs run once between them, a
//! photo uploaded through one downloads through another, wrong passwords spread over the
//! instances slow the login on all of them, and a device whose instance dies
//! mid-push finishes through another with nothing lost or doubled.
//! (The scenarios of the other modules also run on three instances: `*::on_postgres::*`.)

use std::time::Duration;

use fieldsales_core::Clock;
use fieldsales_core::engine::NewLead;
use fieldsales_core::record::lead::LeadStatus;
use fieldsales_core::record::{Customer, Lead};
use fieldsales_core::store::{Reader, StoreRead};
use fieldsales_core::sync::{self, CancelToken, SyncError, SyncOptions};
use fieldsales_core::testing::customer;
use fieldsales_core::time::ManualClock;
use fieldsales_tests::{PASSWORD, TENANT, World, quick, records, sync, token_of, try_sync};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const DAY: i64 = 24 * 3_600_000;

/// An admin's record write sent to one instance directly.
async fn put_via(world: &World, base: &str, record: Value) {
    let answer = world
        .http
        .post(format!("{base}/v1/admin/records"))
        .bearer_auth(&world.admin_token)
        .json(&record)
        .send()
        .await
        .expect("admin call");
    assert_eq!(answer.status(), 201);
}

/// The East manager has a phone on each of three instances. An admin moves him to the North
/// team through the first instance: the phones syncing through the second and the third drop
/// the East customer and receive the North one. Then an admin makes him a plain rep through
/// the second instance: the phones on the first and the third drop the North customer, which
/// is not his.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_or_role_change_through_one_instance_is_honoured_by_pulls_through_every_other() {
    let mut world = World::start_postgres(3).await;
    let [a, b, c] = <[String; 3]>::try_from(world.instance_bases()).expect("three instances");
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let zhang = world.person("zhang.wei", org.north_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut east = world.device(&li).await;
    let mut north = world.device(&zhang).await;
    let shanghai = east
        .store_mut()
        .create(fieldsales_core::testing::customer(
            li.profile,
            "上海浦东机电有限公司",
        ))
        .expect("created")
        .header
        .id;
    let beijing = north
        .store_mut()
        .create(fieldsales_core::testing::customer(
            zhang.profile,
            "北京海淀软件有限公司",
        ))
        .expect("created")
        .header
        .id;
    sync(&mut east).await;
    sync(&mut north).await;
    let mut phones = Vec::new();
    for base in [&a, &b, &c] {
        let mut phone = world.device_via(&wang, base).await;
        sync(&mut phone).await;
        assert!(phone.store().get::<Customer>(shanghai).is_ok(), "{base}");
        assert!(phone.store().get::<Customer>(beijing).is_err(), "{base}");
        phones.push(phone);
    }
    let profile = |unit: fieldsales_core::RecordId, role: &str| {
        json!({"kind": "user_profile", "id": wang.profile.to_string(),
               "name": "wang.qiang", "employee_no": "wang.qiang",
               "unit_id": unit.to_string(), "roles": [role], "zone": "Asia/Shanghai"})
    };

    put_via(&world, &a, profile(org.north_team, "sales_manager")).await;
    for (phone, base) in phones.iter_mut().zip([&a, &b, &c]).skip(1) {
        sync(phone).await;
        assert!(
            phone.store().get::<Customer>(shanghai).is_err(),
            "the East customer left the phone syncing through {base}"
        );
        assert!(
            phone.store().get::<Customer>(beijing).is_ok(),
            "the North customer reached the phone syncing through {base}"
        );
    }

    put_via(&world, &b, profile(org.north_team, "sales_rep")).await;
    for (phone, base) in phones.iter_mut().zip([&a, &b, &c]) {
        if base == &b {
            continue;
        }
        sync(phone).await;
        assert!(
            phone.store().get::<Customer>(beijing).is_err(),
            "a rep's phone keeps only his own: {base}"
        );
    }
    world.stop().await;
}

/// A rep's phone is known to all three instances (each has answered it); an admin revokes it
/// through one. Every instance refuses its token from then on, and its next sync through
/// any of them wipes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_through_one_instance_is_refused_by_every_instance() {
    let mut world = World::start_postgres(3).await;
    let bases = world.instance_bases();
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    let token = token_of(&phone);
    let session = |base: String| {
        let (http, token) = (world.http.clone(), token.clone());
        async move {
            http.get(format!("{base}/v1/auth/session"))
                .bearer_auth(token)
                .send()
                .await
                .expect("session")
                .status()
                .as_u16()
        }
    };
    for base in &bases {
        assert_eq!(session(base.clone()).await, 200, "{base} knows the phone");
    }
    let device: Value = world
        .http
        .get(format!("{}/v1/auth/session", bases[0]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let device = device["device_id"].as_str().expect("a device").to_owned();
    let revoked = world
        .http
        .post(format!("{}/v1/admin/devices/{device}/revoke", bases[1]))
        .bearer_auth(&world.admin_token)
        .json(&json!({}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    for base in &bases {
        assert_eq!(session(base.clone()).await, 401, "{base} refuses the phone");
    }
    let outcome = try_sync(&mut phone).await;
    assert!(
        matches!(&outcome, Err(SyncError::Revoked { code }) if code == "device_revoked"),
        "{outcome:?}"
    );
    world.stop().await;
}

/// A guesser spreads wrong passwords over three instances, one after another: after five in
/// all (the login's threshold) every instance answers 429 with `Retry-After`, even to the
/// right password — each instance alone saw two at most, under its own threshold. A
/// colleague still signs in, and once the wait is over the right password works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_spread_over_three_instances_slow_the_login_on_every_one() {
    let world = World::start_postgres(3).await;
    let bases = world.instance_bases();
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world.person("wang.fang", org.east_team, "sales_rep").await;
    let sign_in = |base: &str, login: &str, password: &str| {
        let request = world.http.post(format!("{base}/v1/auth/login")).json(
            &json!({"tenant": TENANT, "login": login, "password": password,
                          "device_name": "phone"}),
        );
        async move { request.send().await.expect("sign-in") }
    };
    for n in 0..5 {
        let base = &bases[n % bases.len()];
        let answer = sign_in(base, &li.login, &format!("guess-{n}")).await;
        assert_eq!(answer.status(), 401, "guess {n} through {base}");
    }
    for base in &bases {
        let answer = sign_in(base, &li.login, PASSWORD).await;
        assert_eq!(answer.status(), 429, "{base} slows the login");
        let retry_after: u64 = answer.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=2).contains(&retry_after), "{retry_after}");
    }
    let colleague = sign_in(&bases[0], &wang.login, PASSWORD).await;
    assert_eq!(colleague.status(), 200, "a colleague signs in as usual");
    // The first wait is one second (doubling with each further failure), on the instances'
    // clock.
    world.clock.advance_millis(1_100);
    let after = sign_in(&bases[2], &li.login, PASSWORD).await;
    assert_eq!(after.status(), 200, "the right password after the wait");
    // The success cleared the shared count: one wrong password is a plain 401 again.
    let again = sign_in(&bases[1], &li.login, "guess-again").await;
    assert_eq!(again.status(), 401);
    world.stop().await;
}

/// Three instances each run the jobs every 100 ms: between them the tenant's jobs run about
/// once per interval, not three times, and the lead due back in the pool is taken back by
/// exactly one change of the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_run_the_scheduled_jobs_once_between_them() {
    let every = Duration::from_millis(100);
    let mut world = World::start_postgres_with_jobs(3, every).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let clock = ManualClock::new(world.clock.now());
    let mut phone = world.device_on_clock(&li, &clock).await;
    let lead = phone
        .create_lead(
            NewLead {
                company_name: "舟山远洋渔业有限公司".into(),
                ..NewLead::default()
            },
            None,
        )
        .expect("lead created");
    let taken = lead.assigned_at.expect("held");
    sync(&mut phone).await;
    let pushed_heads = phone.store().heads(lead.header.id).expect("heads");

    let url = world.postgres_url().expect("on PostgreSQL").to_owned();
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let runs = || async {
        db.query_opt("SELECT runs FROM job_lease WHERE job = 'scheduled'", &[])
            .await
            .expect("lease")
            .map_or(0, |r| r.get::<_, i64>(0))
    };

    let t = taken.plus_millis(14 * DAY);
    world.clock.set(t);
    clock.set(t);
    let before = runs().await;
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ran = runs().await - before;
    let elapsed = started.elapsed().as_millis() as i64;
    // The lease lasts 90 % of the interval: at most one run per 90 ms, whichever instance.
    assert!(
        ran >= 3 && ran <= elapsed / 90 + 2,
        "{ran} runs in {elapsed} ms between three instances ticking every 100 ms"
    );

    sync(&mut phone).await;
    let held: Lead = phone.store().get(lead.header.id).expect("visible");
    assert_eq!(held.status, LeadStatus::Pooled, "taken back into the pool");
    let server = world.server_records();
    let path = server.path().expect("a file").to_path_buf();
    let mut doc = Reader::open(path)
        .expect("reader")
        .load_document(lead.header.id)
        .expect("load")
        .expect("stored");
    assert_eq!(
        doc.count_changes_since(&pushed_heads),
        1,
        "one instance reclaimed the lead, once"
    );
    world.stop().await;
}

/// A photo goes up in two chunks through two different instances and comes down, whole and in
/// a range, through the third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_uploaded_through_one_instance_downloads_through_another() {
    let mut world = World::start_postgres(3).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let phone = world.device(&li).await;
    let token = token_of(&phone);
    let [a, b, c] = <[String; 3]>::try_from(world.instance_bases()).expect("three instances");
    let photo: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = hex::encode(Sha256::digest(&photo));
    let url = |base: &str| format!("{base}/v1/attachments/{sha}");
    let split = 1_234_567;

    let first = world
        .http
        .put(url(&a))
        .bearer_auth(&token)
        .header(
            "content-range",
            format!("bytes 0-{}/{}", split - 1, photo.len()),
        )
        .body(photo[..split].to_vec())
        .send()
        .await
        .expect("first chunk");
    assert_eq!(first.status(), 200);
    let held = world
        .http
        .head(url(&b))
        .bearer_auth(&token)
        .send()
        .await
        .expect("head");
    assert_eq!(held.status(), 200);
    assert_eq!(held.headers()["upload-offset"], split.to_string().as_str());
    let rest = world
        .http
        .put(url(&b))
        .bearer_auth(&token)
        .header(
            "content-range",
            format!("bytes {split}-{}/{}", photo.len() - 1, photo.len()),
        )
        .body(photo[split..].to_vec())
        .send()
        .await
        .expect("second chunk");
    assert_eq!(rest.status(), 200);

    let whole = world
        .http
        .get(url(&c))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(whole.status(), 200);
    assert_eq!(
        whole.bytes().await.expect("bytes").as_ref(),
        photo.as_slice()
    );
    let part = world
        .http
        .get(url(&a))
        .bearer_auth(&token)
        .header("range", "bytes=1234000-1235999")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.bytes().await.expect("bytes").as_ref(),
        &photo[1_234_000..1_236_000]
    );
    world.stop().await;
}

/// Three server processes behind the balancer; while the rep's phone pushes 300 customers
/// twenty at a time, the instance handling one of its pushes is killed in the middle of it.
/// The phone retries through the others and finishes: the manager's device, syncing through
/// them too, holds each customer once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_push_loses_and_doubles_nothing_when_the_phone_retries_through_another()
 {
    let mut world = World::start_processes(env!("CARGO_BIN_EXE_fieldsales-test-server"), 3).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut ids = Vec::new();
    for i in 0..300 {
        ids.push(
            phone
                .store_mut()
                .create(customer(li.profile, &format!("合肥科技园{i}号企业")))
                .expect("created")
                .header
                .id,
        );
    }
    let options = SyncOptions {
        push_records: 20,
        max_attempts: 6,
        ..quick()
    };
    let pids = world.server_pids();
    let balancer = world.balancer().expect("a balancer");
    let killed = std::sync::atomic::AtomicBool::new(false);
    let report = sync::sync_now(
        &mut phone,
        &options,
        &|p| {
            if p.pages == 3 && !killed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // The next sync call, a push of twenty, dies with its instance.
                balancer.kill_during_next("/v1/sync", 1, pids[1], Duration::from_millis(5));
            }
        },
        &CancelToken::new(),
    )
    .await;
    let report = match report {
        Ok(report) => report,
        // The kill cut a request: the phone syncs again, as it would at its next chance.
        Err(SyncError::Offline { .. }) => sync(&mut phone).await,
        Err(e) => panic!("{e:?}"),
    };
    assert!(killed.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(
        world.balancer().expect("a balancer").cut(),
        1,
        "an instance died handling a push"
    );
    assert!(report.rejected.is_empty());
    assert!(phone.store().pending().expect("outbox").is_empty());
    let mut boss = world.device(&m).await;
    sync(&mut boss).await;
    let held = records(boss.store());
    for id in &ids {
        assert!(held.contains_key(id), "{id} survived");
    }
    let customers = held
        .values()
        .filter(|r| r.kind() == fieldsales_core::record::Kind::Customer)
        .count();
    assert_eq!(customers, 300, "none lost, none doubled");
    let server = records(&world.server_records());
    let on_server = server
        .values()
        .filter(|r| r.kind() == fieldsales_core::record::Kind::Customer)
        .count();
    assert_eq!(on_server, 300);
    world.stop().await;
}
