//! A rep's day in the field and its sync, through the uniffi surface the apps call, against a
//! real server on loopback: check-in offline, a photo, a follow-up, a task, the daily report,
//! then the rep's sync and the manager's, whose dashboards show the rep's visit; a sync
//! cancelled against a server that never answers; every sign-in and sync failure an app meets;
//! continuous sync sending a change by itself and riding out an outage.

use fieldsales_core::store::StoreRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldsales_ffi::{
    Engine, FieldsalesError, ReportEdit, SignInRequest, SyncActivity, SyncCancel, SyncOptions,
    SyncProgress, SyncProgressListener, SyncSchedule, SyncStatus, SyncStatusListener, TaskDraft,
    default_sync_options, default_sync_schedule, sign_in,
};
use fieldsales_tests::{PASSWORD, Person, TENANT, World};

mod common;
use common::{Recorder, customer_at_site, fix, quick_sync};

fn login(base: &str, who: &str, password: &str) -> SignInRequest {
    SignInRequest {
        server_url: base.to_string(),
        tenant: TENANT.into(),
        login: who.into(),
        password: password.into(),
        device_name: format!("{who}'s phone"),
    }
}

fn path_of(dir: &tempfile::TempDir, person: &Person) -> std::path::PathBuf {
    dir.path().join(format!("{}.sqlite", person.login))
}

async fn phone(base: &str, person: &Person, dir: &tempfile::TempDir) -> Arc<Engine> {
    sign_in(
        login(base, &person.login, PASSWORD),
        path_of(dir, person).to_string_lossy().into_owned(),
        None,
    )
    .await
    .expect("the sign-in succeeds")
}

#[derive(Default)]
struct Progress(Mutex<Vec<SyncProgress>>);

impl SyncProgressListener for Progress {
    fn on_progress(&self, progress: SyncProgress) {
        self.0.lock().expect("lock").push(progress);
    }
}

/// Listener calls are delivered on library threads; wait a little for them to land.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_works_a_day_offline_and_the_manager_sees_it_after_both_sync() {
    let world = World::start().await;
    let org = world.org().await;
    let rep = world.person("li.na", org.east_team, "sales_rep").await;
    let manager = world
        .person("zhou.min", org.east_team, "sales_manager")
        .await;
    let devices = tempfile::tempdir().expect("temp dir");

    let li = phone(&world.base, &rep, &devices).await;
    let me = li.clone().me().await.expect("me");
    assert_eq!(me.user_id, rep.profile.to_string());

    // At the customer's gate, with no signal: everything below is local.
    let created = li
        .clone()
        .create_customer(customer_at_site("上海华通电子有限公司", &[]))
        .await
        .expect("a new customer");
    let customer_id = created.customer.id.clone();
    let checked = li
        .clone()
        .check_in(
            customer_id.clone(),
            fix(40.0, 8.0, 5_000),
            "初次拜访".into(),
        )
        .await
        .expect("the check-in is recorded offline");
    let verdict = checked.visit.verdict.clone().expect("the phone judged it");
    assert_eq!(
        verdict.fence,
        fieldsales_ffi::FenceStatus::Inside,
        "{verdict:?}"
    );
    assert_eq!(verdict.judged_by, fieldsales_ffi::Judge::Device);
    let visit_id = checked.visit.id.clone();

    let photo = devices.path().join("gate.jpg");
    std::fs::write(&photo, b"\xFF\xD8\xFF\xE0 a photo of the gate").expect("photo written");
    let with_photo = li
        .clone()
        .add_visit_photo(
            visit_id.clone(),
            photo.to_string_lossy().into_owned(),
            "image/jpeg".into(),
        )
        .await
        .expect("the photo is kept");
    assert_eq!(with_photo.photos.len(), 1);
    assert_eq!(with_photo.photos[0].sha256.len(), 64);

    let follow_up = li
        .clone()
        .log_follow_up(
            fieldsales_ffi::RecordKind::Customer,
            customer_id.clone(),
            fieldsales_ffi::FollowUpMethod::Visit,
            "介绍了新产品线".into(),
            Some("下周报价".into()),
            Some(visit_id.clone()),
        )
        .await
        .expect("the follow-up is logged");
    assert_eq!(follow_up.subject_id, customer_id);

    let now = fieldsales_core::Timestamp::now();
    // Due later today in the rep's zone, whatever the hour; reminded before it is due.
    let due = fieldsales_core::testing::later_today(now, &fieldsales_core::Zone::SHANGHAI);
    let task = li
        .clone()
        .create_task(TaskDraft {
            assignee_id: me.user_id.clone(),
            kind: fieldsales_ffi::TaskKind::Task,
            title: "发送报价单".into(),
            description: String::new(),
            due_at: Some(due),
            start_at: None,
            end_at: None,
            reminder_at: Some(now.plus_millis(due.millis_since(now) / 2)),
        })
        .await
        .expect("a task for myself");
    let reminders = li
        .clone()
        .reminders_due(now, now.plus_millis(3_600_000))
        .await
        .expect("reminders");
    assert!(
        reminders.iter().any(|r| r.record_id == task.id),
        "{reminders:?}"
    );
    let today = li.clone().today().await.expect("today");
    assert!(today.tasks_due.iter().any(|t| t.id == task.id), "{today:?}");
    let done = li
        .clone()
        .complete_task(task.id.clone())
        .await
        .expect("done");
    assert_eq!(done.status, fieldsales_ffi::TaskStatus::Completed);

    let visits = li
        .clone()
        .visits_on(me.user_id.clone(), today.date)
        .await
        .expect("my visits today");
    assert_eq!(visits.len(), 1);
    let out = li
        .clone()
        .check_out(visit_id.clone(), Some(fix(10.0, 6.0, 1_000)))
        .await
        .expect("checked out");
    assert!(out.checked_out_at.is_some());

    let draft = li
        .clone()
        .report_draft(today.date)
        .await
        .expect("a draft of today's report");
    assert_eq!(draft.state, fieldsales_ffi::ReportState::Draft);
    assert!(draft.visit_ids.contains(&visit_id), "{draft:?}");
    let edited = li
        .clone()
        .edit_report(
            draft.id.clone(),
            ReportEdit {
                summary: Some("拜访上海华通，介绍新产品线".into()),
                results: None,
                problems: None,
                plan_tomorrow: Some("发送报价".into()),
            },
        )
        .await
        .expect("edited");
    assert_eq!(edited.plan_tomorrow, "发送报价");
    let submitted = li
        .clone()
        .submit_report(draft.id.clone())
        .await
        .expect("submitted offline");
    assert_eq!(submitted.state, fieldsales_ffi::ReportState::Submitted);
    assert!(li.clone().pending_count().await.expect("pending") > 0);

    // Back in signal: the rep's phone syncs.
    let progress = Arc::new(Progress::default());
    let summary = li
        .clone()
        .sync(quick_sync(), Some(progress.clone()), SyncCancel::new())
        .await
        .expect("the rep's sync");
    assert!(summary.progress.records_up >= 4, "{summary:?}");
    assert!(summary.refused.is_empty(), "{summary:?}");
    settle().await;
    assert!(!progress.0.lock().expect("lock").is_empty());
    assert_eq!(li.clone().pending_count().await.expect("pending"), 0);
    assert!(
        li.clone()
            .rejected_changes()
            .await
            .expect("rejected")
            .is_empty()
    );
    assert!(
        !li.clone()
            .dismiss_rejected_change(1)
            .await
            .expect("dismiss")
    );

    // The manager's phone: what sync applies reaches the listener.
    let zhou = phone(&world.base, &manager, &devices).await;
    let heard = Arc::new(Recorder::default());
    let _subscription = zhou.observe_changes(heard.clone());
    let summary = zhou
        .clone()
        .sync(default_sync_options(), None, SyncCancel::new())
        .await
        .expect("the manager's sync");
    assert!(summary.progress.records_down >= 4, "{summary:?}");
    settle().await;
    let kinds = heard.kinds();
    for kind in [
        fieldsales_ffi::RecordKind::Customer,
        fieldsales_ffi::RecordKind::Visit,
        fieldsales_ffi::RecordKind::DailyReport,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} not heard: {kinds:?}");
    }

    let board = zhou
        .clone()
        .visits_dashboard(
            today.date,
            today.date,
            fieldsales_ffi::GroupBy::Rep,
            fieldsales_ffi::Granularity::Day,
        )
        .await
        .expect("the team's visits");
    assert!(board.data_as_of.is_some());
    assert_eq!(board.total.check_ins, 1, "{board:?}");
    let map = zhou
        .clone()
        .visit_map_points(today.date, today.date, 100, None)
        .await
        .expect("the team's map");
    assert!(
        map.points
            .iter()
            .any(|p| p.visit_id == visit_id && p.rep_id == me.user_id),
        "{map:?}"
    );
    let reports = zhou
        .clone()
        .report_dashboard(today.date, today.date, fieldsales_ffi::GroupBy::Rep)
        .await
        .expect("the team's reports");
    assert!(
        reports.total.on_time + reports.total.late >= 1,
        "{reports:?}"
    );

    // Signing out deletes the store; the engine refuses further calls.
    zhou.clone().sign_out().await.expect("signed out");
    assert_eq!(zhou.clone().me().await, Err(FieldsalesError::NotSignedIn));
    assert_eq!(
        zhou.clone().sign_out().await,
        Err(FieldsalesError::NotSignedIn)
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_against_a_server_that_never_answers_stops_when_cancelled() {
    let world = World::start().await;
    let org = world.org().await;
    let rep = world.person("wang.wei", org.east_team, "sales_rep").await;
    let devices = tempfile::tempdir().expect("temp dir");
    let wang = phone(&world.base, &rep, &devices).await;
    let addr = world.addr;
    world.stop().await;
    // The server's port now accepts connections and never answers.
    let silent = std::net::TcpListener::bind(addr).expect("the port is free again");

    let cancel = SyncCancel::new();
    let running = tokio::spawn({
        let wang = wang.clone();
        let cancel = cancel.clone();
        async move {
            wang.sync(
                SyncOptions {
                    request_timeout_ms: 120_000,
                    ..quick_sync()
                },
                None,
                cancel,
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !running.is_finished(),
        "the sync should be waiting on the server"
    );
    cancel.cancel();
    assert!(cancel.is_cancelled());
    let outcome = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the cancelled sync ends")
        .expect("the task ran");
    assert_eq!(outcome, Err(FieldsalesError::Cancelled));

    // A handle cancelled before the sync starts stops it before any request.
    let cancelled = SyncCancel::new();
    cancelled.cancel();
    assert_eq!(
        wang.clone().sync(quick_sync(), None, cancelled).await,
        Err(FieldsalesError::Cancelled)
    );
    // The engine is still usable after a cancelled sync.
    assert!(wang.clone().me().await.is_ok());
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sign_in_and_sync_failure_is_one_an_app_can_act_on() {
    let world = World::start().await;
    let org = world.org().await;
    let rep = world.person("zhao.lei", org.east_team, "sales_rep").await;
    let devices = tempfile::tempdir().expect("temp dir");
    let path = |n: &str| devices.path().join(n).to_string_lossy().into_owned();

    assert_eq!(
        sign_in(
            login(&world.base, &rep.login, "not-the-password"),
            path("a"),
            None
        )
        .await
        .err(),
        Some(FieldsalesError::BadCredentials)
    );
    assert!(matches!(
        sign_in(login("", &rep.login, PASSWORD), path("b"), None).await.err(),
        Some(FieldsalesError::InvalidInput { field, .. }) if field == "request.server_url"
    ));
    // Nothing listens on a port just freed.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    assert_eq!(
        sign_in(login(&closed, &rep.login, PASSWORD), path("c"), None)
            .await
            .err(),
        Some(FieldsalesError::Offline)
    );

    let zhao = phone(&world.base, &rep, &devices).await;
    let bad = SyncOptions {
        max_attempts: 0,
        ..quick_sync()
    };
    assert!(matches!(
        zhao.clone().sync(bad, None, SyncCancel::new()).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "options.max_attempts"
    ));
    assert!(matches!(
        zhao.clone().check_in(
            "not-an-id".into(),
            fix(0.0, 5.0, 0),
            String::new()
        )
        .await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "customer_id"
    ));
    let customer = zhao
        .clone()
        .create_customer(customer_at_site("杭州云图科技有限公司", &[]))
        .await
        .expect("customer");
    let mut nowhere = fix(0.0, 5.0, 0);
    nowhere.accuracy_m = f64::NAN;
    assert!(matches!(
        zhao.clone().check_in(customer.customer.id.clone(), nowhere, String::new()).await,
        Err(FieldsalesError::InvalidInput { field, .. }) if field == "position.accuracy_m"
    ));

    // An admin revokes the phone: the next sync wipes it and says so.
    let token = {
        let store = fieldsales_core::store::Store::open(path_of(&devices, &rep))
            .expect("the store opens beside the engine");
        let session = store
            .meta(fieldsales_core::sync::client::META_SESSION)
            .expect("meta")
            .expect("a saved session");
        let session: serde_json::Value = serde_json::from_slice(&session).expect("json");
        session["token"].as_str().expect("token").to_owned()
    };
    let session: serde_json::Value = world
        .http
        .get(format!("{}/v1/auth/session", world.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let device = session["device_id"].as_str().expect("device id");
    let (status, body) = world
        .admin(
            &format!("/v1/admin/devices/{device}/revoke"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        zhao.clone()
            .sync(quick_sync(), None, SyncCancel::new())
            .await,
        Err(FieldsalesError::Revoked {
            code: "device_revoked".into()
        })
    );
    assert!(
        zhao.clone()
            .customers()
            .await
            .expect("customers")
            .is_empty(),
        "wiped"
    );
    world.stop().await;
}

/// Phones with encrypted stores, against a real server: the rep's photo is sealed on the
/// phone and arrives whole at the server; the manager's encrypted phone downloads it into its
/// own sealed folder; a wrong key is refused and changes nothing; a revoked phone is wiped,
/// photos included; sign-out deletes the store and its photos.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_phones_sync_a_photo_and_sign_out_leaves_nothing() {
    use fieldsales_core::attachments::{Attachments, client};
    use fieldsales_core::record::visit::AttachmentRef;
    use fieldsales_core::store::{Store, StoreKey};
    use fieldsales_ffi::{generate_store_key, resume_engine};

    let world = World::start().await;
    let org = world.org().await;
    let rep = world.person("li.na", org.east_team, "sales_rep").await;
    let manager = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rep_key = generate_store_key().expect("a key");
    assert_eq!(rep_key.len(), 32);
    let rep_path = path_of(&dir, &rep);
    let phone = sign_in(
        login(&world.base, &rep.login, PASSWORD),
        rep_path.to_string_lossy().into_owned(),
        Some(rep_key.clone()),
    )
    .await
    .expect("the sign-in succeeds");
    assert!(phone.clone().is_encrypted().await.unwrap());

    let photo: Vec<u8> = (0..180_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let source = dir.path().join("shelf.jpg");
    std::fs::write(&source, &photo).unwrap();
    phone
        .clone()
        .queue_attachment(source.to_string_lossy().into_owned(), "image/jpeg".into())
        .await
        .unwrap();
    let uploaded = phone
        .clone()
        .upload_attachments(SyncCancel::new())
        .await
        .unwrap();
    assert_eq!(uploaded.uploaded, 1, "{uploaded:?}");
    let state = phone.clone().attachment_states().await.unwrap().remove(0);
    let sealed = std::fs::read(
        fieldsales_core::attachments::folder_beside(&rep_path)
            .join(&state.sha256[..2])
            .join(&state.sha256),
    )
    .unwrap();
    assert!(
        !sealed.windows(64).any(|w| w == &photo[5_000..5_064]),
        "the photo is sealed on the phone"
    );

    // The manager's phone, encrypted with its own key, downloads it.
    let manager_key = StoreKey::generate().unwrap();
    let manager_path = path_of(&dir, &manager);
    let store = Store::open_encrypted(&manager_path, &manager_key).unwrap();
    let mut engine = fieldsales_core::sync::sign_in_store(
        &fieldsales_core::sync::SignIn {
            server_url: world.base.clone(),
            tenant: TENANT.into(),
            login: manager.login.clone(),
            password: PASSWORD.into(),
            device_name: "manager's phone".into(),
        },
        store,
    )
    .await
    .expect("the manager signs in");
    let session: serde_json::Value = serde_json::from_slice(
        &engine
            .store()
            .meta(fieldsales_core::sync::client::META_SESSION)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let files = Attachments::beside(engine.store(), 1 << 20).unwrap();
    assert!(files.is_sealed());
    let attachment = AttachmentRef {
        sha256: state.sha256.clone(),
        size: state.size,
        mime: state.mime.clone(),
    };
    client::download(
        &reqwest::Client::new(),
        &world.base,
        &token,
        &files,
        engine.store_mut(),
        &attachment,
    )
    .await
    .expect("downloaded");
    assert_eq!(files.get(&state.sha256).unwrap(), Some(photo.clone()));
    drop(engine);

    // A wrong key, or none: refused, the file as it was; the right key opens it.
    let before = std::fs::read(&manager_path).unwrap();
    let path = manager_path.to_string_lossy().into_owned();
    assert_eq!(
        resume_engine(path.clone(), Some(generate_store_key().unwrap()))
            .await
            .err(),
        Some(FieldsalesError::WrongKey)
    );
    assert_eq!(
        resume_engine(path.clone(), None).await.err(),
        Some(FieldsalesError::WrongKey)
    );
    assert_eq!(std::fs::read(&manager_path).unwrap(), before);
    let resumed = resume_engine(path, Some(manager_key.as_bytes().to_vec()))
        .await
        .unwrap()
        .expect("still signed in");
    assert_eq!(
        resumed.me().await.unwrap().user_id,
        manager.profile.to_string()
    );

    // The rep signs out: the store and its photos are gone.
    phone.sign_out().await.unwrap();
    assert!(!rep_path.exists());
    assert!(!fieldsales_core::attachments::folder_beside(&rep_path).exists());
    world.stop().await;
}

/// Keeps every sync status it is told of.
#[derive(Default)]
struct Statuses(Mutex<Vec<SyncStatus>>);

impl SyncStatusListener for Statuses {
    fn on_status(&self, status: SyncStatus) {
        self.0.lock().expect("statuses").push(status);
    }
}

impl Statuses {
    /// Waits until the latest status satisfies `want` (at most 20 s); returns it.
    async fn until(&self, what: &str, want: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
        for _ in 0..400 {
            if let Some(last) = self.0.lock().expect("statuses").last()
                && want(last)
            {
                return last.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the status never became {what}: {:?}",
            self.0.lock().expect("statuses").last()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_phone_sends_its_changes_by_itself_and_rides_out_an_outage() {
    let mut world = World::start().await;
    let org = world.org().await;
    let rep = world.person("li.na", org.east_team, "sales_rep").await;
    let devices = tempfile::tempdir().expect("temp dir");
    let li = phone(&world.base, &rep, &devices).await;

    // A schedule out of bounds is refused, naming the field.
    let statuses = Arc::new(Statuses::default());
    let bad = SyncSchedule {
        every_ms: 0,
        ..default_sync_schedule()
    };
    match li.clone().connect(quick_sync(), bad, statuses.clone()) {
        Err(FieldsalesError::InvalidInput { field, .. }) => assert_eq!(field, "schedule.every_ms"),
        other => panic!("refused: {:?}", other.map(|_| ())),
    }

    // The timer is an hour away: whatever syncs below was started by a change or a nudge.
    let schedule = SyncSchedule {
        every_ms: 3_600_000,
        settle_ms: 50,
        retry_first_ms: 100,
        retry_longest_ms: 400,
    };
    let connection = li
        .clone()
        .connect(quick_sync(), schedule, statuses.clone())
        .expect("connected");
    let first = statuses
        .until("synced", |s| {
            s.connected && matches!(s.activity, SyncActivity::Waiting { .. })
        })
        .await;
    let first_at = first.last_synced_at.expect("a first sync");

    // A local write goes up by itself once it settles.
    let created = li
        .clone()
        .create_customer(customer_at_site("宁波港联物流有限公司", &[]))
        .await
        .expect("a customer");
    let id: fieldsales_core::RecordId = created.customer.id.parse().expect("an id");
    statuses
        .until("synced again with nothing left to send", |s| {
            s.pending_changes == 0
                && s.last_synced_at.is_some_and(|t| t > first_at)
                && matches!(s.activity, SyncActivity::Waiting { .. })
        })
        .await;
    assert!(
        world.server_records().find_any(id).expect("read").is_some(),
        "the customer reached the server without a sync call"
    );

    // The server goes away: a nudge fails, the retries back off, the status says so.
    world
        .with_server_stopped(|_| async {
            connection.sync_soon();
            let down = statuses
                .until("failing", |s| {
                    !s.connected && s.failures >= 2 && s.last_error.is_some()
                })
                .await;
            assert!(!down.needs_user, "an outage is not the user's to mend");
        })
        .await;
    // Back: the network returns, the phone syncs at once.
    connection.sync_soon();
    let back = statuses
        .until("connected again", |s| s.connected && s.failures == 0)
        .await;
    assert_eq!(back.last_error, None);

    connection.disconnect();
    statuses
        .until("stopped", |s| s.activity == SyncActivity::Stopped)
        .await;
    for _ in 0..100 {
        if connection.is_stopped() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(connection.is_stopped());
    world.stop().await;
}
