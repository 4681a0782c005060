//! Field truth through the real server: each spoofing technique a rep might try, and each
//! honest day that looks odd. The phone judges at once (or a tampered phone writes "inside,
//! nothing to see"); the server judges again with what only it knows (the phone's clock
//! measured on the push, its own receipt time, the visits it already holds), and its verdict
//! and flags are what the rep's phone and the manager's phone show after syncing.

use fieldsales_core::engine::Engine;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::fieldwork::{CheckInVerdict, DevicePosition, FenceStatus, FlagKind, Judge};
use fieldsales_core::record::Visit;
use fieldsales_core::record::visit::AttachmentRef;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::customer;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, GeoPoint, LocalDate, RecordId, Timestamp, Zone};
use fieldsales_tests::{Org, Person, World, sync, working_day_from};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// People's Square, Shanghai.
const SHANGHAI: GeoPoint = GeoPoint {
    lat: 31.2304,
    lon: 121.4737,
};
/// Tiananmen, Beijing: 1,068 km north.
const BEIJING: GeoPoint = GeoPoint {
    lat: 39.9042,
    lon: 116.4074,
};
/// Hangzhou East station's district: 160 km south-west.
const HANGZHOU: GeoPoint = GeoPoint {
    lat: 30.2908,
    lon: 120.2125,
};

/// `metres` from `from` towards `bearing` (degrees).
fn off(from: GeoPoint, bearing: f64, metres: f64) -> GeoPoint {
    destination(from, bearing, metres)
}

/// A rep's working day with a real server: the rep's phone on its own clock, a manager's
/// phone, and the server's clock moving with the day.
struct FieldDay {
    world: World,
    org: Org,
    rep: Person,
    phone: Engine,
    boss: Engine,
    clock: ManualClock,
    day: LocalDate,
    /// When the rep's phone booted, true time: its time since boot counts from there.
    booted: Timestamp,
    /// How far the rep has wound the phone's clock, ms.
    wound_ms: i64,
    accuracy_jitter: f64,
}

impl FieldDay {
    /// The next working day, 08:00 in Shanghai: the rep's phone syncs (its clock measured).
    async fn start() -> FieldDay {
        let mut world = World::start().await;
        let org = world.org().await;
        let rep = world.person("li.na", org.east_team, "sales_rep").await;
        let manager = world
            .person("wang.qiang", org.east_team, "sales_manager")
            .await;
        let zone = Zone::SHANGHAI;
        let day = working_day_from(Timestamp::now().local_date(&zone).succ());
        let eight = day.start(&zone).plus_millis(8 * HOUR);
        world.clock.set(eight);
        let clock = ManualClock::new(eight);
        let mut phone = world.device_on_clock(&rep, &clock).await;
        let mut boss = world.device_on_clock(&manager, &clock).await;
        sync(&mut phone).await;
        sync(&mut boss).await;
        FieldDay {
            world,
            org,
            rep,
            phone,
            boss,
            clock,
            day,
            booted: eight.plus_millis(-2 * HOUR),
            wound_ms: 0,
            accuracy_jitter: 0.0,
        }
    }

    fn local(&self, hour: i64, minute: i64) -> Timestamp {
        self.day
            .start(&Zone::SHANGHAI)
            .plus_millis(hour * HOUR + minute * MINUTE)
    }

    /// Moves the day to `hour:minute`: the server's clock, and the phone's (wound or not).
    fn at(&mut self, hour: i64, minute: i64) {
        let now = self.local(hour, minute);
        self.world.clock.set(now);
        self.clock.set(now.plus_millis(self.wound_ms));
    }

    /// The rep winds the phone's clock by `ms` (0 puts it right).
    fn wind_phone_clock(&mut self, ms: i64) {
        let now = self.world.clock.now();
        self.wound_ms = ms;
        self.clock.set(now.plus_millis(ms));
    }

    /// A customer of the rep at `location`, on the phone and synced.
    async fn customer(&mut self, name: &str, location: Option<GeoPoint>) -> RecordId {
        let mut c = customer(self.rep.profile, name);
        c.header.org_unit_id = Some(self.org.east_team);
        c.location = location;
        let id = self
            .phone
            .store_mut()
            .create(c)
            .expect("customer")
            .header
            .id;
        sync(&mut self.phone).await;
        id
    }

    /// A genuine fix at `point`, taken three seconds ago: its time and time since boot come
    /// from the fix (the phone's clock and its monotonic clock). Each fix's accuracy differs
    /// a little, as a receiver's estimate does.
    fn fix(&mut self, point: GeoPoint, accuracy_m: f64) -> DevicePosition {
        self.accuracy_jitter += 0.37;
        let true_fix = self.world.clock.now().plus_millis(-3_000);
        DevicePosition {
            point,
            accuracy_m: accuracy_m + self.accuracy_jitter,
            fix_time: true_fix.plus_millis(self.wound_ms),
            mock: false,
            integrity: None,
            since_boot_ms: Some(true_fix.millis_since(self.booted)),
        }
    }

    fn check_in(&mut self, customer: RecordId, position: DevicePosition) -> Visit {
        self.check_in_with(customer, position, Vec::new())
    }

    fn check_in_with(
        &mut self,
        customer: RecordId,
        position: DevicePosition,
        photos: Vec<AttachmentRef>,
    ) -> Visit {
        self.phone
            .check_in(CheckInRequest {
                customer_id: customer,
                position,
                note: "见了采购经理".into(),
                photos,
            })
            .expect("checked in")
            .visit
    }

    fn check_out(&mut self, visit: &Visit, position: DevicePosition) {
        self.phone
            .check_out(visit.header.id, Some(position))
            .expect("checked out");
    }

    /// A tampered phone rewrites its own verdict: inside the fence, nothing to flag.
    fn claim_inside(&mut self, id: RecordId) {
        let at = self.clock.now();
        self.phone
            .store_mut()
            .update::<Visit>(id, |v| {
                v.verdict = Some(CheckInVerdict {
                    fence: FenceStatus::Inside,
                    distance_m: Some(18.0),
                    accuracy_m: 5.0,
                    radius_m: 500.0,
                    flags: Vec::new(),
                    judged_by: Judge::Device,
                    judged_at: at,
                });
                Ok(())
            })
            .expect("rewritten");
    }

    async fn sync(&mut self) {
        let report = sync(&mut self.phone).await;
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }

    /// The server's verdict on visit `id`, checked to be what the rep's phone and the
    /// manager's phone hold after syncing.
    async fn verdict(&mut self, id: RecordId) -> CheckInVerdict {
        let on_server: Visit = self.world.server_records().get(id).expect("on the server");
        let verdict = on_server.verdict.expect("judged");
        assert_eq!(verdict.judged_by, Judge::Server);
        sync(&mut self.phone).await;
        let on_phone: Visit = self.phone.store().get(id).expect("on the rep's phone");
        assert_eq!(on_phone.verdict.as_ref(), Some(&verdict), "the rep's phone");
        sync(&mut self.boss).await;
        let on_manager: Visit = self.boss.store().get(id).expect("on the manager's phone");
        assert_eq!(on_manager.verdict.as_ref(), Some(&verdict), "the manager");
        verdict
    }

    /// A whole honest visit at `site` (standing `metres` from its door) from `from` to `to`.
    fn visit(
        &mut self,
        customer: RecordId,
        site: GeoPoint,
        (from_h, from_m): (i64, i64),
        (to_h, to_m): (i64, i64),
    ) -> Visit {
        self.at(from_h, from_m);
        let fix = self.fix(off(site, 30.0, 25.0), 8.0);
        let v = self.check_in(customer, fix);
        self.at(to_h, to_m);
        let out = self.fix(off(site, 200.0, 40.0), 11.0);
        self.check_out(&v, out);
        v
    }

    async fn stop(self) {
        self.world.stop().await;
    }
}

fn kinds(v: &CheckInVerdict) -> Vec<FlagKind> {
    v.flags.iter().map(|f| f.kind.clone()).collect()
}

/// The server flagged it, naming `kind`, whatever the phone claimed.
fn flagged(v: &CheckInVerdict, kind: FlagKind) {
    assert!(v.suspicious(), "not suspicious: {v:?}");
    assert!(v.has_flag(&kind), "expected {kind} in {:?}", kinds(v));
}

/// Nothing to doubt: no suspicion, whatever cautions.
fn honest(v: &CheckInVerdict) {
    assert!(!v.suspicious(), "flagged an honest visit: {v:?}");
}

// Spoofing techniques.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_faker_on_the_registered_point_is_flagged_on_every_device() {
    let mut f = FieldDay::start().await;
    let site = off(SHANGHAI, 60.0, 4_000.0);
    let c = f.customer("上海华通电子有限公司", Some(site)).await;
    // At home 9 km away, the faker puts the fix exactly on the customer's registered point
    // with an accuracy it makes up.
    f.at(10, 0);
    let fake = DevicePosition {
        point: site,
        accuracy_m: 3.0,
        ..f.fix(site, 3.0)
    };
    let v = f.check_in(c, fake);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    flagged(&verdict, FlagKind::FixOnRegisteredPoint);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_from_home_for_a_customer_8_km_away_is_outside() {
    let mut f = FieldDay::start().await;
    let site = off(SHANGHAI, 90.0, 8_000.0);
    let c = f.customer("浦东新区某制造公司", Some(site)).await;
    f.at(9, 30);
    let home = f.fix(SHANGHAI, 18.0);
    let v = f.check_in(c, home);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    assert_eq!(verdict.fence, FenceStatus::Outside);
    assert!(verdict.distance_m.unwrap_or(0.0) > 7_500.0, "{verdict:?}");
    assert!(verdict.suspicious());
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_in_hangzhou_half_an_hour_after_leaving_shanghai_is_impossible_travel() {
    let mut f = FieldDay::start().await;
    let here = f.customer("上海联华超市股份有限公司", Some(SHANGHAI)).await;
    let there = f.customer("杭州娃哈哈集团有限公司", Some(HANGZHOU)).await;
    f.visit(here, SHANGHAI, (9, 0), (10, 0));
    f.sync().await;
    f.at(10, 30);
    let far = f.fix(off(HANGZHOU, 0.0, 20.0), 9.0);
    let v = f.check_in(there, far);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    flagged(&verdict, FlagKind::ImpossibleTravel);
    let travel = verdict.flag(&FlagKind::ImpossibleTravel).expect("travel");
    assert!(travel.observed.unwrap_or(0.0) > 250.0, "{travel:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_clock_wound_back_to_slot_in_an_afternoon_visit_is_caught() {
    let mut f = FieldDay::start().await;
    let a = f.customer("上海家化联合股份有限公司", Some(SHANGHAI)).await;
    let b_site = off(SHANGHAI, 0.0, 3_000.0);
    let b = f.customer("上海梅林正广和有限公司", Some(b_site)).await;
    // The phone syncs through the afternoon; a real visit at 16:10.
    f.at(16, 0);
    f.sync().await;
    f.visit(a, SHANGHAI, (16, 10), (16, 50));
    f.sync().await;
    // At 19:00 the rep goes to customer B and winds the phone back five hours to claim
    // 14:00, offline; then puts the clock right and syncs.
    f.at(19, 0);
    f.wind_phone_clock(-5 * HOUR);
    let fix = f.fix(off(b_site, 0.0, 20.0), 7.0);
    let v = f.check_in(b, fix);
    assert_eq!(v.check_in.at, f.local(14, 0));
    f.at(19, 45);
    let out = f.fix(off(b_site, 90.0, 30.0), 9.0);
    f.check_out(&v, out);
    f.wind_phone_clock(0);
    f.at(19, 50);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    for kind in [
        FlagKind::ClaimedBeforeSync,
        FlagKind::RecordedOutOfOrder,
        FlagKind::UploadedOutOfOrder,
        FlagKind::ClockMovedAgainstUptime,
    ] {
        flagged(&verdict, kind);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_still_wound_at_the_sync_is_measured_by_the_server_on_the_push() {
    let mut f = FieldDay::start().await;
    let c = f.customer("上海梅林正广和有限公司", Some(SHANGHAI)).await;
    // Wound back two hours just before checking in; the phone syncs that way.
    f.at(17, 30);
    f.wind_phone_clock(-2 * HOUR);
    let fix = f.fix(off(SHANGHAI, 0.0, 20.0), 7.0);
    let v = f.check_in(c, fix);
    f.claim_inside(v.header.id);
    f.sync().await;
    f.wind_phone_clock(0);
    let verdict = f.verdict(v.header.id).await;
    flagged(&verdict, FlagKind::ClockChanged);
    let changed = verdict.flag(&FlagKind::ClockChanged).expect("changed");
    assert!(
        (changed.observed.unwrap_or(0.0) - 7_200.0).abs() < 30.0,
        "{changed:?}"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleagues_photo_shown_again_is_flagged() {
    let mut f = FieldDay::start().await;
    let c = f.customer("上海华通电子有限公司", Some(SHANGHAI)).await;
    let photo = AttachmentRef {
        sha256: "5e".repeat(32),
        size: 2_400_000,
        mime: "image/jpeg".into(),
    };
    // A colleague's visit yesterday holds the photo.
    let zhao = f
        .world
        .person("zhao.min", f.org.east_team, "sales_rep")
        .await;
    let mut colleague = f.world.device_on_clock(&zhao, &f.clock).await;
    let mut theirs = fieldsales_core::testing::visit(zhao.profile, c);
    theirs.photos = vec![photo.clone()];
    colleague.store_mut().create(theirs).expect("their visit");
    sync(&mut colleague).await;

    f.at(11, 0);
    let fix = f.fix(off(SHANGHAI, 0.0, 30.0), 8.0);
    let v = f.check_in_with(c, fix, vec![photo]);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    flagged(&verdict, FlagKind::ReusedPhoto);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_out_forty_seconds_after_the_check_in_is_a_short_visit() {
    let mut f = FieldDay::start().await;
    let c = f.customer("上海华通电子有限公司", Some(SHANGHAI)).await;
    f.at(11, 0);
    let fix = f.fix(off(SHANGHAI, 0.0, 30.0), 8.0);
    let v = f.check_in(c, fix);
    f.world.clock.set(f.local(11, 0).plus_millis(40_000));
    f.clock.set(f.local(11, 0).plus_millis(40_000));
    let out = f.fix(off(SHANGHAI, 0.0, 30.0), 8.0);
    f.check_out(&v, out);
    f.claim_inside(v.header.id);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    flagged(&verdict, FlagKind::ShortVisit);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_customer_again_ten_minutes_after_leaving_is_a_repeat() {
    let mut f = FieldDay::start().await;
    let c = f.customer("上海华通电子有限公司", Some(SHANGHAI)).await;
    f.visit(c, SHANGHAI, (9, 0), (9, 40));
    f.sync().await;
    f.at(9, 50);
    let fix = f.fix(off(SHANGHAI, 10.0, 30.0), 8.0);
    let again = f.check_in(c, fix);
    f.claim_inside(again.header.id);
    f.sync().await;
    let verdict = f.verdict(again.header.id).await;
    flagged(&verdict, FlagKind::RepeatCheckIn);
    f.stop().await;
}

// Honest days that look odd.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_morning_in_shanghai_and_an_afternoon_in_beijing_by_plane_is_honest() {
    let mut f = FieldDay::start().await;
    let here = f.customer("上海联华超市股份有限公司", Some(SHANGHAI)).await;
    let there = f.customer("北京京东方科技集团", Some(BEIJING)).await;
    let first = f.visit(here, SHANGHAI, (8, 30), (9, 30));
    f.sync().await;
    let second = f.visit(there, BEIJING, (13, 50), (15, 0));
    f.sync().await;
    for v in [first, second] {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangzhou_to_shanghai_by_high_speed_rail_in_75_minutes_is_honest() {
    let mut f = FieldDay::start().await;
    let there = f.customer("杭州娃哈哈集团有限公司", Some(HANGZHOU)).await;
    let hongqiao = off(SHANGHAI, 250.0, 15_000.0);
    let here = f.customer("上海虹桥商务区某公司", Some(hongqiao)).await;
    let first = f.visit(there, HANGZHOU, (9, 0), (10, 0));
    let second = f.visit(here, hongqiao, (11, 15), (12, 0));
    f.sync().await;
    for v in [first, second] {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_150_km_drive_on_the_expressway_in_two_hours_is_honest() {
    let mut f = FieldDay::start().await;
    let near = f.customer("上海联华超市股份有限公司", Some(SHANGHAI)).await;
    let far_site = off(SHANGHAI, 270.0, 150_000.0);
    let far = f.customer("常州某精密机械有限公司", Some(far_site)).await;
    let first = f.visit(near, SHANGHAI, (9, 0), (9, 45));
    let second = f.visit(far, far_site, (11, 45), (12, 30));
    f.sync().await;
    for v in [first, second] {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poor_indoor_fix_four_minutes_old_is_a_caution_not_a_suspicion() {
    let mut f = FieldDay::start().await;
    let c = f.customer("上海华通电子有限公司", Some(SHANGHAI)).await;
    f.at(10, 0);
    let mut indoor = f.fix(off(SHANGHAI, 120.0, 180.0), 350.0);
    indoor.fix_time = indoor.fix_time.plus_millis(-4 * MINUTE);
    if let Some(ms) = indoor.since_boot_ms.as_mut() {
        *ms -= 4 * MINUTE;
    }
    let v = f.check_in(c, indoor);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    honest(&verdict);
    assert_eq!(kinds(&verdict), vec![FlagKind::PoorAccuracy]);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_customer_with_no_registered_location_is_unable_to_verify_not_flagged() {
    let mut f = FieldDay::start().await;
    let site = off(SHANGHAI, 45.0, 6_000.0);
    let c = f.customer("新开发客户有限公司", None).await;
    let v = f.visit(c, site, (10, 0), (10, 45));
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    assert_eq!(verdict.fence, FenceStatus::UnableToVerify);
    honest(&verdict);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_customers_in_one_building_minutes_apart_are_honest() {
    let mut f = FieldDay::start().await;
    let tower = off(SHANGHAI, 30.0, 2_000.0);
    let upstairs = off(tower, 0.0, 25.0);
    let a = f.customer("环球金融中心A公司", Some(tower)).await;
    let b = f.customer("环球金融中心B公司", Some(upstairs)).await;
    let first = f.visit(a, tower, (10, 0), (10, 40));
    let second = f.visit(b, upstairs, (10, 44), (11, 30));
    f.sync().await;
    for v in [first, second] {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_campus_hundreds_of_metres_across_is_honest() {
    let mut f = FieldDay::start().await;
    let gate = off(SHANGHAI, 180.0, 12_000.0);
    let c = f.customer("张江高科园区某药企", Some(gate)).await;
    f.at(10, 0);
    let building = f.fix(off(gate, 60.0, 440.0), 28.0);
    let v = f.check_in(c, building);
    f.at(11, 0);
    let out = f.fix(off(gate, 60.0, 300.0), 12.0);
    f.check_out(&v, out);
    f.sync().await;
    let verdict = f.verdict(v.header.id).await;
    assert_ne!(verdict.fence, FenceStatus::Outside);
    honest(&verdict);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_back_to_a_customer_hours_later_is_honest() {
    let mut f = FieldDay::start().await;
    let a_site = off(SHANGHAI, 0.0, 1_500.0);
    let a = f.customer("上海华通电子有限公司", Some(a_site)).await;
    let b = f.customer("上海联华超市股份有限公司", Some(SHANGHAI)).await;
    let first = f.visit(a, a_site, (9, 0), (9, 40));
    let middle = f.visit(b, SHANGHAI, (10, 30), (11, 10));
    let again = f.visit(a, a_site, (14, 0), (14, 50));
    f.sync().await;
    for v in [first, middle, again] {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

/// A whole day offline, synced at `sync_at` (hours after the day's midnight).
async fn an_offline_day_synced_at(sync_hour: i64) {
    let mut f = FieldDay::start().await;
    let sites = [
        SHANGHAI,
        off(SHANGHAI, 40.0, 6_000.0),
        off(SHANGHAI, 130.0, 9_000.0),
    ];
    let mut ids = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        ids.push(f.customer(&format!("客户{i}号有限公司"), Some(*site)).await);
    }
    // The customers were synced at 08:00; from here the phone has no network.
    let mut visits = Vec::new();
    for ((id, site), (from, to)) in ids.iter().zip(sites).zip([
        ((9, 10), (10, 5)),
        ((10, 50), (11, 40)),
        ((14, 0), (15, 10)),
    ]) {
        visits.push(f.visit(*id, site, from, to));
    }
    f.at(sync_hour, 15);
    f.sync().await;
    for v in visits {
        honest(&f.verdict(v.header.id).await);
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_day_synced_late_that_evening_is_honest() {
    an_offline_day_synced_at(22).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_day_synced_the_next_morning_is_honest() {
    an_offline_day_synced_at(24 + 8).await;
}

on_postgres!(
    a_location_faker_on_the_registered_point_is_flagged_on_every_device,
    a_check_in_from_home_for_a_customer_8_km_away_is_outside,
    a_visit_in_hangzhou_half_an_hour_after_leaving_shanghai_is_impossible_travel,
    a_phone_clock_wound_back_to_slot_in_an_afternoon_visit_is_caught,
    a_clock_still_wound_at_the_sync_is_measured_by_the_server_on_the_push,
    a_colleagues_photo_shown_again_is_flagged,
);
