//! The server backed up while twenty devices sync, changed further (some changes pushed,
//! some left on the devices), stopped, restored from the backup and started again: the
//! restored server is older than every device's cursor, each device notices (the epoch
//! changed), pulls everything again and offers what the server lacks, and every device
//! converges with the server with no change lost — neither those left unpushed, nor those
//! the server acknowledged after the backup and lost with the restore, nor a photo uploaded
//! after it.
//!
//! The server runs as its own process (`fieldsales-test-server`); the backup and the restore
//! are the real command line (`fieldsales-test-cli`, the `fieldsales-server` program's own
//! code), run as an operator would beside it.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fieldsales_core::RecordId;
use fieldsales_core::attachments::session;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::{AnyRecord, Customer};
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::CancelToken;
use fieldsales_core::testing::customer;
use fieldsales_tests::{Person, World, records, sync, token_of, try_sync};

const SERVER: &str = env!("CARGO_BIN_EXE_fieldsales-test-server");
const CLI: &str = env!("CARGO_BIN_EXE_fieldsales-test-cli");

/// `fieldsales-server` on the world's data folder, as the operator runs it beside the server.
fn operator(world: &World, args: &[&str]) -> Output {
    world.operator(CLI, args)
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One device and whose it is.
struct Phone {
    person: Person,
    engine: Engine,
    /// Whether its user is a rep (reps write customers while the backup runs).
    rep: bool,
}

/// A customer a person owns, created on their device.
fn create(phone: &mut Phone, name: &str) -> RecordId {
    phone
        .engine
        .store_mut()
        .create(customer(phone.person.profile, name))
        .expect("created")
        .header
        .id
}

fn set_address(phone: &mut Phone, id: RecordId, address: &str) {
    phone
        .engine
        .store_mut()
        .update::<Customer>(id, |c| {
            c.address = Some(address.to_owned());
            Ok(())
        })
        .expect("edited");
}

/// The customers `phone`'s user owns, as their device holds them.
fn own_customers(phone: &Phone) -> BTreeMap<RecordId, Customer> {
    records(phone.engine.store())
        .into_iter()
        .filter_map(|(id, r)| match r {
            AnyRecord::Customer(c) if c.header.owner_id == Some(phone.person.profile) => {
                Some((id, c))
            }
            _ => None,
        })
        .collect()
}

/// Whether the server holds the attachment, asked with `phone`'s token.
async fn server_holds(world: &World, phone: &Phone, sha256: &str) -> bool {
    let status = world
        .http
        .get(format!("{}/v1/attachments/{sha256}", world.base))
        .bearer_auth(token_of(&phone.engine))
        .send()
        .await
        .expect("asked")
        .status();
    assert!(status == 200 || status == 404, "{status}");
    status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_sync_through_a_backup_and_a_restore_and_lose_nothing() {
    let started = Instant::now();
    let mut world = World::start_process(SERVER).await;
    let org = world.org().await;

    // Eight reps in each team, a manager of each team, a director of each region.
    let mut people = Vec::new();
    for (team, name) in [(org.east_team, "east"), (org.north_team, "north")] {
        for n in 0..8 {
            let login = format!("{name}.rep{n}");
            people.push((world.person(&login, team, "sales_rep").await, true));
        }
        let login = format!("{name}.manager");
        people.push((world.person(&login, team, "sales_manager").await, false));
    }
    for (region, name) in [(org.east, "east"), (org.north, "north")] {
        let login = format!("{name}.director");
        people.push((
            world.person(&login, region, "regional_director").await,
            false,
        ));
    }
    let mut phones = Vec::new();
    for (person, rep) in people {
        let engine = world.device(&person).await;
        phones.push(Phone {
            person,
            engine,
            rep,
        });
    }
    assert_eq!(phones.len(), 20);
    for (n, phone) in phones.iter_mut().enumerate() {
        if phone.rep {
            for i in 0..3 {
                create(phone, &format!("第{n}号代表的老客户{i}有限公司"));
            }
        }
        sync(&mut phone.engine).await;
    }

    // All twenty sync at once, the reps writing between syncs, while the backup runs.
    let backup_dir = world.dir.path().join("backup-1");
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    let syncing = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (n, mut phone) in phones.drain(..).enumerate() {
        let (stop, rounds, syncing) = (stop.clone(), rounds.clone(), syncing.clone());
        tasks.push(tokio::spawn(async move {
            let mut round = 0;
            let mut after_stop = 0;
            let mut spans = Vec::new();
            loop {
                let began = Instant::now();
                if phone.rep {
                    let id = create(&mut phone, &format!("第{n}号代表的客户{round}有限公司"));
                    set_address(&mut phone, id, &format!("上海市第{n}路{round}号"));
                }
                try_sync(&mut phone.engine)
                    .await
                    .expect("syncs while the backup runs");
                spans.push((began, Instant::now()));
                round += 1;
                rounds.fetch_add(1, Ordering::SeqCst);
                if round == 1 {
                    syncing.fetch_add(1, Ordering::SeqCst);
                }
                if stop.load(Ordering::SeqCst) {
                    after_stop += 1;
                    if after_stop >= 2 {
                        break;
                    }
                }
            }
            (phone, spans)
        }));
    }
    // Every device has synced at least once in this loop before the backup starts, and
    // syncs at least twice more after it ended.
    while syncing.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let backup_began = Instant::now();
    let out = {
        let world_dir = world.dir.path().join("data");
        let (addr, target) = (world.addr, backup_dir.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(CLI)
                .args(["backup", "--to", &target.display().to_string()])
                .env_clear()
                .env("FIELDSALES_DATA_DIR", world_dir)
                .env("FIELDSALES_LISTEN", addr.to_string())
                .env("FIELDSALES_LOG__LEVEL", "warn")
                .output()
                .expect("the command line runs")
        })
        .await
        .expect("the backup ran")
    };
    let backup_ended = Instant::now();
    stop.store(true, Ordering::SeqCst);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("copied database"),
        "progress on stderr: {}",
        text(&out)
    );
    // Every device was syncing while the backup ran: each went round without a pause, one
    // round before it began and two after it ended.
    let mut overlapping = 0;
    for task in tasks {
        let (phone, spans) = task.await.expect("a device's syncs");
        assert!(
            spans.len() >= 3,
            "{} synced through the backup",
            phone.person.login
        );
        overlapping += spans
            .iter()
            .filter(|(began, ended)| *began < backup_ended && *ended > backup_began)
            .count();
        phones.push(phone);
    }
    assert!(
        overlapping >= 20,
        "{overlapping} syncs overlapped the backup"
    );
    eprintln!(
        "backup: {:.2} s, {overlapping} syncs under way while it ran, {} in all, {:.1} s so far",
        (backup_ended - backup_began).as_secs_f64(),
        rounds.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );

    // After the backup: every rep pushes an edit and a new customer (acknowledged, then lost
    // by the restore) and leaves unpushed another edit of that customer (built on the lost
    // one), an edit of another and another customer; each manager
    // pushes a customer of their own and each director leaves one unpushed; one rep uploads
    // a photo.
    let mut pushed_after = Vec::new();
    let mut unpushed = Vec::new();
    for (n, phone) in phones.iter_mut().enumerate() {
        let olds: Vec<RecordId> = own_customers(phone).into_keys().collect();
        if phone.rep {
            set_address(phone, olds[0], &format!("备份后已推送的地址{n}"));
            pushed_after.push(create(phone, &format!("第{n}号代表备份后的新客户有限公司")));
            sync(&mut phone.engine).await;
            set_address(phone, olds[1], &format!("未推送的地址{n}"));
            // Built on the pushed edit, which the restored server will lack.
            phone
                .engine
                .store_mut()
                .update::<Customer>(olds[0], |c| {
                    c.tier = Some(format!("T{n}"));
                    Ok(())
                })
                .expect("edited");
            unpushed.push(create(phone, &format!("第{n}号代表未推送的客户有限公司")));
        } else if phone.person.login.ends_with("manager") {
            pushed_after.push(create(phone, &format!("第{n}号经理备份后的客户有限公司")));
            sync(&mut phone.engine).await;
        } else {
            unpushed.push(create(phone, &format!("第{n}号总监未推送的客户有限公司")));
        }
    }
    let photo = b"the shop front after the backup".to_vec();
    let sha256 = {
        let phone = &mut phones[0];
        let files = session::files_of(&phone.engine).expect("attachments");
        let stored = files
            .put(phone.engine.store_mut(), &photo, "image/jpeg")
            .expect("stored");
        let report = session::upload_pending(&mut phone.engine, &CancelToken::new())
            .await
            .expect("uploaded");
        assert_eq!(report.uploaded, 1);
        stored.sha256
    };
    assert!(server_holds(&world, &phones[0], &sha256).await);
    // What each device holds of its own customers is what the server must end with.
    let expected: Vec<BTreeMap<RecordId, Customer>> = phones.iter().map(own_customers).collect();
    for phone in &phones {
        assert!(
            phone
                .engine
                .store()
                .rejected_changes()
                .expect("read")
                .is_empty()
        );
    }

    // Stop the server, restore the backup, start it again.
    world.kill();
    let out = operator(
        &world,
        &["restore", "--from", &backup_dir.display().to_string()],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "the data folder holds the server's data: {}",
        text(&out)
    );
    let out = operator(
        &world,
        &[
            "restore",
            "--from",
            &backup_dir.display().to_string(),
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("new epoch"));
    world.restart().await;
    let restored = records(&world.server_records());
    for id in &pushed_after {
        assert!(
            !restored.contains_key(id),
            "the restored server is older: it lacks {id}, pushed after the backup"
        );
    }
    assert!(!server_holds(&world, &phones[0], &sha256).await);

    // Every device syncs: each notices the restore, pulls everything and offers what the
    // server lacks; once more, so that each hears of the others' offers.
    let recovering = Instant::now();
    for phone in &mut phones {
        let report = sync(&mut phone.engine).await;
        assert!(
            report.server_restored,
            "{} noticed the restore",
            phone.person.login
        );
    }
    for phone in &mut phones {
        let report = sync(&mut phone.engine).await;
        assert!(!report.server_restored);
        assert_eq!(report.held_back, 0, "{}: {report:?}", phone.person.login);
    }
    let report = session::upload_pending(&mut phones[0].engine, &CancelToken::new())
        .await
        .expect("uploaded again");
    assert_eq!(report.still_pending, 0);
    assert!(
        server_holds(&world, &phones[0], &sha256).await,
        "the photo the restore lost was uploaded again"
    );
    eprintln!(
        "recovery: 20 devices, two syncs each, {:.1} s",
        recovering.elapsed().as_secs_f64()
    );

    // Nothing lost: every device's own customers are on the server as the device had them
    // (changes left unpushed, and those acknowledged after the backup and lost by the
    // restore), and every device holds exactly what the server says it may see.
    let server = records(&world.server_records());
    for id in pushed_after.iter().chain(&unpushed) {
        assert!(server.contains_key(id), "{id} reached the restored server");
    }
    for (phone, own) in phones.iter().zip(&expected) {
        for (id, mine) in own {
            let Some(AnyRecord::Customer(held)) = server.get(id) else {
                panic!("{}'s customer {id} is lost", phone.person.login);
            };
            assert_eq!(
                (&held.legal_name, &held.address, &held.tier),
                (&mine.legal_name, &mine.address, &mine.tier),
                "{}'s customer {id}",
                phone.person.login
            );
        }
        assert!(
            phone
                .engine
                .store()
                .rejected_changes()
                .expect("read")
                .is_empty(),
            "nothing of {} was refused",
            phone.person.login
        );
    }
    let engines: Vec<&Engine> = phones.iter().map(|p| &p.engine).collect();
    crate::convergence::assert_converged(&world, &engines);
    let verified = operator(&world, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    eprintln!(
        "backup and restore with twenty devices: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A manager's phone holds a rep's change the restored server lost, and an edit of its own
/// built on it. It meets the restored server before the rep does: it offers neither (the
/// rep's change is the rep's to offer, and its own edit cannot go without it), so nothing is
/// refused; once the rep has offered its change again, the manager's edit follows, and both
/// devices converge with the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_built_on_another_devices_lost_change_waits_for_it() {
    let mut world = World::start_process(SERVER).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let chen = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let mut rep = world.device(&li).await;
    let mut manager = world.device(&chen).await;
    let id = rep
        .store_mut()
        .create(customer(li.profile, "上海华通电子有限公司"))
        .expect("created")
        .header
        .id;
    sync(&mut rep).await;
    sync(&mut manager).await;
    let backup_dir = world.dir.path().join("backup");
    let out = operator(
        &world,
        &["backup", "--to", &backup_dir.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out));

    // After the backup: the rep's edit reaches the server and the manager; the manager's own
    // edit on top of it stays on the phone.
    rep.store_mut()
        .update::<Customer>(id, |c| {
            c.address = Some("上海市浦东新区张江路 88 号".into());
            Ok(())
        })
        .expect("edited");
    sync(&mut rep).await;
    sync(&mut manager).await;
    manager
        .store_mut()
        .update::<Customer>(id, |c| {
            c.tier = Some("A+".into());
            Ok(())
        })
        .expect("the manager edits the team's customer");

    world.kill();
    let out = operator(
        &world,
        &[
            "restore",
            "--from",
            &backup_dir.display().to_string(),
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    world.restart().await;

    let report = sync(&mut manager).await;
    assert!(report.server_restored);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(
        report.held_back, 1,
        "the customer waits for the rep's offer"
    );
    assert!(manager.store().rejected_changes().expect("read").is_empty());
    assert_eq!(manager.store().pending().expect("outbox"), vec![id]);
    let held: Customer = manager.store().get(id).expect("kept");
    assert_eq!(
        (held.address.as_deref(), held.tier.as_deref()),
        (Some("上海市浦东新区张江路 88 号"), Some("A+")),
        "the manager's phone keeps both changes"
    );
    let AnyRecord::Customer(on_server) = &records(&world.server_records())[&id] else {
        panic!("a customer");
    };
    assert_eq!(on_server.address.as_deref(), Some("上海市黄浦区人民大道"));

    let report = sync(&mut rep).await;
    assert!(report.server_restored && report.rejected.is_empty());
    let report = sync(&mut manager).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.held_back, 0, "{report:?}");
    sync(&mut rep).await;
    let AnyRecord::Customer(on_server) = &records(&world.server_records())[&id] else {
        panic!("a customer");
    };
    assert_eq!(
        (on_server.address.as_deref(), on_server.tier.as_deref()),
        (Some("上海市浦东新区张江路 88 号"), Some("A+")),
        "the rep's change came back, and the manager's followed it"
    );
    crate::convergence::assert_converged(&world, &[&rep, &manager]);
}

/// PostgreSQL's own binaries (`FIELDSALES_PG_BIN`, else the newest installed).
fn pg_bin(program: &str) -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("FIELDSALES_PG_BIN") {
        return std::path::PathBuf::from(dir).join(program);
    }
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL installed")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version")
        .1
        .join(program)
}

/// The operator's path on PostgreSQL: `pg_dump` while two server instances serve, more
/// changes, every instance stopped, `pg_restore` over the database, `fieldsales-server
/// new-epoch`, instances started again. Each device notices, and nothing is lost; the
/// instances' read models (which had followed the database past the dump) are rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_pg_restore_and_new_epoch_lose_nothing() {
    let started = Instant::now();
    let mut world = World::start_processes(SERVER, 2).await;
    let url = world.postgres_url().expect("on PostgreSQL").to_owned();
    let org = world.org().await;
    let mut phones = Vec::new();
    for (login, unit, role) in [
        ("li.na", org.east_team, "sales_rep"),
        ("wang.wei", org.east_team, "sales_rep"),
        ("chen.jing", org.east_team, "sales_manager"),
    ] {
        let person = world.person(login, unit, role).await;
        let engine = world.device(&person).await;
        phones.push(Phone {
            person,
            engine,
            rep: role == "sales_rep",
        });
    }
    for (n, phone) in phones.iter_mut().enumerate() {
        if phone.rep {
            create(phone, &format!("第{n}号代表的老客户有限公司"));
        }
        sync(&mut phone.engine).await;
    }
    let dump = world.dir.path().join("fieldsales.dump");
    let out = Command::new(pg_bin("pg_dump"))
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg("--dbname")
        .arg(&url)
        .output()
        .expect("pg_dump runs");
    assert!(out.status.success(), "{}", text(&out));

    let mut pushed_after = Vec::new();
    for (n, phone) in phones.iter_mut().enumerate() {
        if phone.rep {
            pushed_after.push(create(phone, &format!("第{n}号代表备份后的客户有限公司")));
            sync(&mut phone.engine).await;
            create(phone, &format!("第{n}号代表未推送的客户有限公司"));
        } else {
            sync(&mut phone.engine).await;
        }
    }
    let expected: Vec<BTreeMap<RecordId, Customer>> = phones.iter().map(own_customers).collect();

    world.kill();
    let out = Command::new(pg_bin("pg_restore"))
        .args(["--clean", "--if-exists", "--single-transaction", "--dbname"])
        .arg(&url)
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "{}", text(&out));
    let out = world.operator(CLI, &["new-epoch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 tenant(s) renewed"));
    world.restart().await;
    let restored = records(&world.server_records());
    for id in &pushed_after {
        assert!(!restored.contains_key(id), "the database is the dump's");
    }

    for phone in &mut phones {
        let report = sync(&mut phone.engine).await;
        assert!(report.server_restored, "{}", phone.person.login);
    }
    for phone in &mut phones {
        sync(&mut phone.engine).await;
    }
    let server = records(&world.server_records());
    for (phone, own) in phones.iter().zip(&expected) {
        for id in own.keys() {
            assert!(
                server.contains_key(id),
                "{}'s customer {id} is on the server",
                phone.person.login
            );
        }
        assert!(
            phone
                .engine
                .store()
                .rejected_changes()
                .expect("read")
                .is_empty()
        );
    }
    let engines: Vec<&Engine> = phones.iter().map(|p| &p.engine).collect();
    crate::convergence::assert_converged(&world, &engines);
    eprintln!(
        "pg_dump, pg_restore and new-epoch with two instances: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
