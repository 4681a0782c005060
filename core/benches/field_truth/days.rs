//! Working days, genuine and spoofed, as the phone lives them: where the rep really is, what
//! the phone's clock reads, what the receiver reports, when the phone syncs. Each visit is
//! labelled genuine or spoofed (with the technique), so the scorer knows the truth the server
//! has to find.

use fieldsales_core::fieldwork::DevicePosition;
use fieldsales_core::record::visit::AttachmentRef;
use fieldsales_core::{GeoPoint, LocalDate, RecordId, Timestamp, Zone};

use crate::world::{
    CITIES, Dice, Phone, Registered, Site, Sky, chance, gaussian, genuine_fix, metres, minutes,
    scatter, site, spot_in, uniform,
};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// What a day is: a genuine case, or a spoofing technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Case {
    // Genuine days.
    CityDay,
    Flight,
    HighSpeedRail,
    Expressway,
    IndoorFixes,
    NoRegisteredLocation,
    TwoCustomersOneBuilding,
    LargeCampus,
    ReturnHoursLater,
    SyncedLateEvening,
    SyncedNextMorning,
    // Spoofing techniques.
    FakeLocationApp,
    FromHomeOrOffice,
    SomewhereElseBetween,
    ClockSetBack,
    ReusedPhoto,
    CheckOutSecondsLater,
    SameCustomerMinutesLater,
}

impl Case {
    pub const GENUINE: &'static [Case] = &[
        Case::CityDay,
        Case::Flight,
        Case::HighSpeedRail,
        Case::Expressway,
        Case::IndoorFixes,
        Case::NoRegisteredLocation,
        Case::TwoCustomersOneBuilding,
        Case::LargeCampus,
        Case::ReturnHoursLater,
        Case::SyncedLateEvening,
        Case::SyncedNextMorning,
    ];
    pub const SPOOFED: &'static [Case] = &[
        Case::FakeLocationApp,
        Case::FromHomeOrOffice,
        Case::SomewhereElseBetween,
        Case::ClockSetBack,
        Case::ReusedPhoto,
        Case::CheckOutSecondsLater,
        Case::SameCustomerMinutesLater,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::CityDay => "ordinary day in town",
            Case::Flight => "flight between cities",
            Case::HighSpeedRail => "high-speed rail between cities",
            Case::Expressway => "expressway to a nearby city",
            Case::IndoorFixes => "poor indoor fixes, minutes old",
            Case::NoRegisteredLocation => "customers without a location",
            Case::TwoCustomersOneBuilding => "two customers in one building",
            Case::LargeCampus => "large campuses",
            Case::ReturnHoursLater => "same customer again hours later",
            Case::SyncedLateEvening => "offline day synced that evening",
            Case::SyncedNextMorning => "offline day synced next morning",
            Case::FakeLocationApp => "fake-location app on the point",
            Case::FromHomeOrOffice => "check-ins from home or office",
            Case::SomewhereElseBetween => "a visit somewhere else between real ones",
            Case::ClockSetBack => "clock set back / recorded late",
            Case::ReusedPhoto => "photo reused",
            Case::CheckOutSecondsLater => "check-out seconds after check-in",
            Case::SameCustomerMinutesLater => "same customer minutes after leaving",
        }
    }
}

/// What the phone does at a moment.
#[derive(Debug, Clone)]
pub enum Act {
    /// Checks in: a new visit (`key` numbers the rep's visits).
    CheckIn {
        key: usize,
        customer: RecordId,
        position: DevicePosition,
        photos: Vec<AttachmentRef>,
    },
    /// Checks out of visit `key`.
    CheckOut {
        key: usize,
        position: Option<DevicePosition>,
    },
    /// Syncs, when it has network.
    Sync,
}

/// One act at a true instant, with what the phone's clock reads then.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Timestamp,
    pub device_at: Timestamp,
    pub act: Act,
}

/// The truth about one visit.
#[derive(Debug, Clone, Copy)]
pub struct Label {
    pub key: usize,
    pub case: Case,
    pub spoofed: bool,
    /// A finer name for the variant of a technique, for the misses table.
    pub variant: &'static str,
}

/// A rep, their phone, their city and customers.
pub struct Rep {
    pub id: RecordId,
    pub phone: Phone,
    pub city: usize,
    pub home: GeoPoint,
    pub office: GeoPoint,
    /// Customers in the home city.
    pub local: Vec<Site>,
    /// Customers in nearby cities (an expressway away).
    pub regional: Vec<Site>,
    /// Customers made for a day elsewhere (flights, trains), kept for the server's lookups.
    pub elsewhere: Vec<Site>,
    /// Photos of the rep's visits so far, for reuse.
    pub photos: Vec<AttachmentRef>,
    /// Visits numbered so far.
    pub next_key: usize,
    /// When the phone last booted (true time): its monotonic clock counts from there.
    pub booted: Timestamp,
}

fn photo(rng: &Dice) -> AttachmentRef {
    AttachmentRef {
        sha256: (0..4).map(|_| format!("{:016x}", rng.u64(..))).collect(),
        size: rng.i64(800_000..5_000_000),
        mime: "image/jpeg".into(),
    }
}

/// A rep in `city` with their customers.
pub fn rep(rng: &Dice, city: usize, phone: Phone) -> Rep {
    let id = RecordId::new();
    let c = &CITIES[city];
    let home = spot_in(rng, c);
    let office = spot_in(rng, c);
    let mut local = Vec::new();
    for i in 0..36 {
        let how = registered(rng, 0.10);
        let campus = if chance(rng, 0.08) {
            uniform(rng, 150.0, 450.0)
        } else {
            0.0
        };
        local.push(site(
            rng,
            id,
            &format!("{}客户{i}", c.name),
            city,
            spot_in(rng, c),
            how,
            campus,
        ));
    }
    let mut regional = Vec::new();
    let neighbours: Vec<usize> = (0..CITIES.len())
        .filter(|&n| {
            let d = metres(CITIES[n].centre, c.centre) / 1000.0;
            n != city && (60.0..320.0).contains(&d)
        })
        .collect();
    for (i, &n) in neighbours.iter().enumerate().take(3) {
        for j in 0..3 {
            let how = registered(rng, 0.10);
            let spot = spot_in(rng, &CITIES[n]);
            regional.push(site(
                rng,
                id,
                &format!("{}客户{i}-{j}", CITIES[n].name),
                n,
                spot,
                how,
                0.0,
            ));
        }
    }
    Rep {
        id,
        phone,
        city,
        home,
        office,
        local,
        regional,
        elsewhere: Vec::new(),
        photos: Vec::new(),
        next_key: 0,
        booted: at(
            LocalDate::from_ymd(2026, 3, 1).unwrap_or_else(|| unreachable!()),
            uniform(rng, 0.0, 24.0 * 7.0),
        ),
    }
}

fn registered(rng: &Dice, unknown: f64) -> Registered {
    let x = rng.f64();
    if x < unknown {
        Registered::Unknown
    } else if x < unknown + 0.18 {
        Registered::FromCheckIn
    } else {
        Registered::Geocoded
    }
}

impl Rep {
    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.local
            .iter()
            .chain(&self.regional)
            .chain(&self.elsewhere)
    }
}

/// How a rep gets from one place to the next; each returns door-to-door milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Town,
    Expressway,
    Rail,
    Air,
}

fn journey_ms(rng: &Dice, from: GeoPoint, to: GeoPoint, mode: Mode) -> i64 {
    let km = metres(from, to) / 1000.0;
    let hours = match mode {
        Mode::Town => km * uniform(rng, 1.25, 1.6) / uniform(rng, 18.0, 42.0),
        Mode::Expressway => {
            uniform(rng, 0.25, 0.5) + km * uniform(rng, 1.15, 1.35) / uniform(rng, 85.0, 118.0)
        }
        Mode::Rail => {
            let to_station = if chance(rng, 0.1) {
                0.15
            } else {
                uniform(rng, 0.3, 0.75)
            };
            let from_station = if chance(rng, 0.1) {
                0.13
            } else {
                uniform(rng, 0.25, 0.65)
            };
            to_station
                + uniform(rng, 0.15, 0.4)
                + km * 1.15 / uniform(rng, 200.0, 265.0)
                + from_station
        }
        Mode::Air => {
            uniform(rng, 0.65, 1.3)
                + uniform(rng, 0.75, 1.25)
                + km * 1.1 / uniform(rng, 650.0, 790.0)
                + 0.4
                + uniform(rng, 0.55, 1.15)
        }
    };
    let parking = if mode == Mode::Town {
        minutes(rng, 3.0, 12.0)
    } else {
        0
    };
    (hours * HOUR as f64) as i64 + parking
}

/// Where the rep stands at a site and what the receiver sees there.
#[derive(Debug, Clone, Copy)]
pub struct Skies {
    pub open: f64,
    pub indoors: f64,
}

impl Skies {
    pub const USUAL: Skies = Skies {
        open: 0.45,
        indoors: 0.43,
    };
    pub const INDOORS: Skies = Skies {
        open: 0.05,
        indoors: 0.25,
    };

    fn pick(&self, rng: &Dice) -> Sky {
        let x = rng.f64();
        if x < self.open {
            Sky::Open
        } else if x < self.open + self.indoors {
            Sky::Indoors
        } else {
            Sky::Basement
        }
    }
}

/// How the phone reaches the server on a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Network {
    /// Online: syncs after each action and in the background.
    Online,
    /// No network all day; syncs at the given true instant.
    OfflineUntil(Timestamp),
}

/// One rep's day being written.
pub struct Day<'a> {
    pub rng: &'a Dice,
    pub rep: &'a mut Rep,
    pub case: Case,
    pub date: LocalDate,
    pub now: Timestamp,
    pub here: GeoPoint,
    pub events: Vec<Event>,
    pub labels: Vec<Label>,
    /// Spans of true time in which the rep had wound the phone's clock by so many
    /// milliseconds (besides its own error); an open span lasts until closed.
    pub wound: Vec<(Timestamp, Option<Timestamp>, i64)>,
    /// Spans of true time with the network switched off (airplane mode).
    pub quiet: Vec<(Timestamp, Option<Timestamp>)>,
    pub network: Network,
    pub skies: Skies,
    /// Last check-out of the day (true), for the evening.
    pub last_out: Option<Timestamp>,
}

pub fn at(date: LocalDate, hour: f64) -> Timestamp {
    date.start(&Zone::SHANGHAI)
        .plus_millis((hour * HOUR as f64) as i64)
}

impl<'a> Day<'a> {
    pub fn new(rng: &'a Dice, rep: &'a mut Rep, case: Case, date: LocalDate) -> Self {
        // Some phones restart overnight (updates, a flat battery).
        if chance(rng, 0.15) {
            rep.booted = at(date, uniform(rng, 5.5, 7.2));
        }
        let start = at(date, uniform(rng, 8.3, 9.1));
        let here = if chance(rng, 0.6) {
            rep.home
        } else {
            rep.office
        };
        Day {
            rng,
            rep,
            case,
            date,
            now: start,
            here,
            events: Vec::new(),
            labels: Vec::new(),
            wound: Vec::new(),
            quiet: Vec::new(),
            network: Network::Online,
            skies: Skies::USUAL,
            last_out: None,
        }
    }

    /// The phone's clock at true instant `t`.
    pub fn device(&self, t: Timestamp) -> Timestamp {
        let wound: i64 = self
            .wound
            .iter()
            .filter(|(from, until, _)| t >= *from && until.is_none_or(|u| t < u))
            .map(|(_, _, ms)| ms)
            .sum();
        t.plus_millis((self.rep.phone.clock_error_s * 1000.0) as i64 + wound)
    }

    /// The phone's time since boot at true instant `t`, ms (winding the clock leaves it be).
    pub fn uptime(&self, t: Timestamp) -> i64 {
        t.millis_since(self.rep.booted)
    }

    /// Whether the phone has network at true instant `t`.
    fn online_at(&self, t: Timestamp) -> bool {
        let quiet = self
            .quiet
            .iter()
            .any(|(from, until)| t >= *from && until.is_none_or(|u| t < u));
        !quiet && self.network == Network::Online
    }

    /// Winds the phone's clock by `ms` from now on (until [`Day::put_clock_right`]).
    pub fn wind_clock(&mut self, ms: i64) {
        self.wound.push((self.now, None, ms));
    }

    pub fn put_clock_right(&mut self) {
        for w in &mut self.wound {
            w.1.get_or_insert(self.now);
        }
    }

    pub fn network_off(&mut self) {
        self.quiet.push((self.now, None));
    }

    pub fn network_on(&mut self) {
        for q in &mut self.quiet {
            q.1.get_or_insert(self.now);
        }
    }

    /// Records an act now; the phone's clock reading is set when the day is finished (the
    /// clock may be wound meanwhile).
    fn push(&mut self, at: Timestamp, act: Act) {
        self.events.push(Event {
            at,
            device_at: at,
            act,
        });
    }

    /// The app syncs after an action, when it has network (a lift or a basement delays it).
    fn sync_soon(&mut self) {
        let delay = if chance(self.rng, 0.12) {
            minutes(self.rng, 8.0, 50.0)
        } else {
            minutes(self.rng, 0.05, 2.0)
        };
        let at = self.now.plus_millis(delay);
        if self.online_at(self.now) && self.online_at(at) {
            self.push(at, Act::Sync);
        }
    }

    pub fn go(&mut self, to: GeoPoint, mode: Mode) {
        let ms = journey_ms(self.rng, self.here, to, mode);
        self.now = self.now.plus_millis(ms);
        self.here = to;
    }

    /// Drives across town to `site`'s door.
    pub fn drive_to(&mut self, site: &Site) {
        self.go(site.spot, Mode::Town);
    }

    fn new_key(&mut self) -> usize {
        let k = self.rep.next_key;
        self.rep.next_key += 1;
        k
    }

    fn new_photo(&mut self) -> AttachmentRef {
        let p = photo(self.rng);
        self.rep.photos.push(p.clone());
        p
    }

    /// Where the rep stands at `site` (across the campus on a large one).
    fn stand(&mut self, site: &Site) -> GeoPoint {
        let spot = if site.campus_m > 0.0 {
            scatter(
                self.rng,
                site.spot,
                uniform(self.rng, 0.3, 1.0) * site.campus_m,
            )
        } else {
            site.spot
        };
        gaussian(self.rng, spot, 6.0)
    }

    /// A genuine check-in at `site` now; returns the visit's key.
    pub fn check_in(&mut self, site: &Site, spoofed: Option<&'static str>) -> usize {
        let stand = self.stand(site);
        self.here = stand;
        let sky = self.skies.pick(self.rng);
        let position = genuine_fix(
            self.rng,
            &self.rep.phone,
            stand,
            site.wifi_point,
            sky,
            self.device(self.now),
            self.uptime(self.now),
        );
        self.record_check_in(site, position, spoofed)
    }

    /// Records a check-in with the fix given.
    pub fn record_check_in(
        &mut self,
        site: &Site,
        position: DevicePosition,
        spoofed: Option<&'static str>,
    ) -> usize {
        let key = self.new_key();
        let photos = if chance(self.rng, 0.6) {
            vec![self.new_photo()]
        } else {
            Vec::new()
        };
        self.push(
            self.now,
            Act::CheckIn {
                key,
                customer: site.id(),
                position,
                photos,
            },
        );
        self.labels.push(Label {
            key,
            case: self.case,
            spoofed: spoofed.is_some(),
            variant: spoofed.unwrap_or(""),
        });
        self.sync_soon();
        key
    }

    /// Stays `(low, high)` minutes, then checks out: at the door mostly, a few minutes down
    /// the road sometimes.
    pub fn stay_and_leave(&mut self, key: usize, site: &Site, low: f64, high: f64) {
        self.now = self.now.plus_millis(minutes(self.rng, low, high));
        let late = chance(self.rng, 0.15);
        if late {
            self.now = self.now.plus_millis(minutes(self.rng, 2.0, 9.0));
            self.here = scatter(self.rng, site.spot, uniform(self.rng, 200.0, 1_800.0));
        }
        let position = (!chance(self.rng, 0.05)).then(|| {
            genuine_fix(
                self.rng,
                &self.rep.phone,
                self.here,
                site.wifi_point,
                if late {
                    Sky::Open
                } else {
                    self.skies.pick(self.rng)
                },
                self.device(self.now),
                self.uptime(self.now),
            )
        });
        self.check_out(key, position);
    }

    pub fn check_out(&mut self, key: usize, position: Option<DevicePosition>) {
        self.push(self.now, Act::CheckOut { key, position });
        self.last_out = Some(self.now);
        self.sync_soon();
    }

    /// A whole genuine visit: drive, check in, stay, leave.
    pub fn visit(&mut self, site: &Site) -> usize {
        self.drive_to(site);
        let key = self.check_in(site, None);
        self.stay_and_leave(key, site, 20.0, 95.0);
        key
    }

    /// A lunch break when the day reaches it.
    pub fn maybe_lunch(&mut self) {
        let noon = at(self.date, 11.8);
        if self.now > noon && self.now < at(self.date, 13.0) && chance(self.rng, 0.7) {
            self.now = self.now.plus_millis(minutes(self.rng, 30.0, 70.0));
        }
    }

    /// Picks `n` different local customers.
    pub fn pick_local(&mut self, n: usize) -> Vec<Site> {
        let mut all: Vec<Site> = self.rep.local.clone();
        self.rng.shuffle(&mut all);
        all.truncate(n);
        all
    }

    /// The evening and the syncs of the day: background syncs while online, a morning sync
    /// at home, and for an offline day the one sync when the network comes back. Every act
    /// gets the phone's clock reading of its moment.
    pub fn finish(mut self) -> (Vec<Event>, Vec<Label>) {
        self.network_on();
        self.put_clock_right();
        let morning = at(self.date, uniform(self.rng, 7.3, 8.2));
        let mut syncs = vec![morning];
        match self.network {
            Network::Online => {
                let (low, high) = self.rep.phone.background_sync_min;
                let mut t = morning;
                let end = at(self.date, 22.5);
                while t < end {
                    t = t.plus_millis(minutes(self.rng, low, high));
                    if self.online_at(t) {
                        syncs.push(t);
                    }
                }
            }
            Network::OfflineUntil(t) => {
                // The network comes back after the day's last act at the earliest.
                let last = self.events.iter().map(|e| e.at).max().unwrap_or(t);
                syncs.push(t.max(last.plus_millis(minutes(self.rng, 5.0, 40.0))));
            }
        }
        for t in syncs {
            self.push(t, Act::Sync);
        }
        let mut events = std::mem::take(&mut self.events);
        for e in &mut events {
            e.device_at = self.device(e.at);
        }
        (events, self.labels)
    }
}

/// A genuine working day in town, `visits` customers.
fn town_day(day: &mut Day<'_>, visits: usize) {
    for site in day.pick_local(visits) {
        day.visit(&site);
        day.maybe_lunch();
    }
}

/// Writes the day of `case` for `rep` on `date`; returns its events and labels. `colleagues`
/// holds photos other reps took, with the day after they took them.
pub fn write_day(
    rng: &Dice,
    rep: &mut Rep,
    case: Case,
    date: LocalDate,
    colleagues: &[(LocalDate, AttachmentRef)],
) -> (Vec<Event>, Vec<Label>) {
    let mut day = Day::new(rng, rep, case, date);
    match case {
        Case::CityDay => {
            let n = day.rng.usize(3..=7);
            town_day(&mut day, n);
        }
        Case::IndoorFixes => {
            day.skies = Skies::INDOORS;
            let n = day.rng.usize(3..=6);
            town_day(&mut day, n);
        }
        Case::NoRegisteredLocation => {
            let n = day.rng.usize(3..=6);
            let city = day.rep.city;
            let mut sites = Vec::new();
            for i in 0..n {
                let spot = spot_in(day.rng, &CITIES[city]);
                let how = if chance(day.rng, 0.7) {
                    Registered::Unknown
                } else {
                    Registered::Geocoded
                };
                let s = site(
                    day.rng,
                    day.rep.id,
                    &format!("新客户{i}"),
                    city,
                    spot,
                    how,
                    0.0,
                );
                day.rep.elsewhere.push(s.clone());
                sites.push(s);
            }
            for s in sites {
                day.visit(&s);
                day.maybe_lunch();
            }
        }
        Case::TwoCustomersOneBuilding => {
            let (before, after) = (day.rng.usize(0..=3), day.rng.usize(0..=2));
            let mut sites = day.pick_local(1 + before + after);
            let first = sites.remove(0);
            let city = day.rep.city;
            let spot = scatter(day.rng, first.spot, uniform(day.rng, 5.0, 40.0));
            let how = registered(day.rng, 0.1);
            let neighbour = site(day.rng, day.rep.id, "同楼客户", city, spot, how, 0.0);
            day.rep.elsewhere.push(neighbour.clone());
            for s in &sites[..before] {
                day.visit(s);
                day.maybe_lunch();
            }
            day.visit(&first);
            // Up the stairs to the other office: minutes.
            day.now = day.now.plus_millis(minutes(day.rng, 1.0, 8.0));
            let key = day.check_in(&neighbour, None);
            day.stay_and_leave(key, &neighbour, 15.0, 60.0);
            for s in &sites[before..] {
                day.visit(s);
            }
        }
        Case::LargeCampus => {
            let city = day.rep.city;
            let n = day.rng.usize(3..=6);
            for i in 0..n {
                let spot = spot_in(day.rng, &CITIES[city]);
                let how = registered(day.rng, 0.05);
                let s = site(
                    day.rng,
                    day.rep.id,
                    &format!("园区客户{i}"),
                    city,
                    spot,
                    how,
                    uniform(day.rng, 250.0, 480.0),
                );
                day.rep.elsewhere.push(s.clone());
                day.visit(&s);
                day.maybe_lunch();
            }
        }
        Case::ReturnHoursLater => {
            let sites = day.pick_local(3);
            day.visit(&sites[0]);
            day.visit(&sites[1]);
            day.maybe_lunch();
            // Back to the first customer two to five hours after leaving it.
            let back = day.now.plus_millis(minutes(day.rng, 120.0, 300.0));
            day.visit(&sites[2]);
            day.drive_to(&sites[0]);
            day.now = day.now.max(back);
            let key = day.check_in(&sites[0], None);
            day.stay_and_leave(key, &sites[0], 20.0, 60.0);
        }
        Case::SyncedLateEvening | Case::SyncedNextMorning => {
            let until = if case == Case::SyncedLateEvening {
                at(date, uniform(day.rng, 19.0, 23.5))
            } else {
                at(date.succ(), uniform(day.rng, 7.5, 9.5))
            };
            day.network = Network::OfflineUntil(until);
            let n = day.rng.usize(3..=6);
            town_day(&mut day, n);
        }
        Case::Expressway => {
            let town = day.pick_local(1).remove(0);
            day.visit(&town);
            let regional = day.rep.regional.clone();
            if let Some(far) =
                (!regional.is_empty()).then(|| regional[day.rng.usize(..regional.len())].clone())
            {
                day.go(far.spot, Mode::Expressway);
                let key = day.check_in(&far, None);
                day.stay_and_leave(key, &far, 30.0, 90.0);
                // Another customer of that city if there is one, then home.
                if let Some(next) = regional
                    .iter()
                    .find(|s| s.city == far.city && s.id() != far.id())
                {
                    day.visit(next);
                }
            }
        }
        Case::Flight | Case::HighSpeedRail => {
            let (mode, min_km, max_km) = if case == Case::Flight {
                (Mode::Air, 600.0, 2_200.0)
            } else {
                (Mode::Rail, 100.0, 1_250.0)
            };
            let home = day.rep.city;
            let choices: Vec<usize> = (0..CITIES.len())
                .filter(|&c| {
                    let km = metres(CITIES[c].centre, CITIES[home].centre) / 1000.0;
                    (min_km..max_km).contains(&km)
                })
                .collect();
            // A morning visit at home (some reps leave straight for the station or airport).
            if chance(day.rng, 0.7) {
                let s = day.pick_local(1).remove(0);
                day.visit(&s);
            }
            if let Some(&dest) = choices.get(day.rng.usize(..choices.len().max(1))) {
                let n = day.rng.usize(1..=3);
                let mut first = true;
                for i in 0..n {
                    let spot = spot_in(day.rng, &CITIES[dest]);
                    let how = registered(day.rng, 0.1);
                    let s = site(
                        day.rng,
                        day.rep.id,
                        &format!("{}客户{i}", CITIES[dest].name),
                        dest,
                        spot,
                        how,
                        0.0,
                    );
                    day.rep.elsewhere.push(s.clone());
                    if first {
                        day.go(s.spot, mode);
                        let key = day.check_in(&s, None);
                        day.stay_and_leave(key, &s, 30.0, 90.0);
                        first = false;
                    } else {
                        day.visit(&s);
                    }
                }
            } else {
                town_day(&mut day, 3);
            }
        }
        Case::FakeLocationApp => fake_app_day(&mut day),
        Case::FromHomeOrOffice => home_office_day(&mut day),
        Case::SomewhereElseBetween => somewhere_else_day(&mut day),
        Case::ClockSetBack => clock_set_back_day(&mut day),
        Case::ReusedPhoto => {
            let sites = day.pick_local(day.rng.usize(3..=5));
            let reused_at = day.rng.usize(..sites.len());
            let theirs: Vec<&AttachmentRef> = colleagues
                .iter()
                .filter(|(after, _)| *after <= date)
                .map(|(_, p)| p)
                .collect();
            for (i, s) in sites.iter().enumerate() {
                let old = if i != reused_at {
                    None
                } else if !theirs.is_empty() && (day.rep.photos.is_empty() || chance(day.rng, 0.4))
                {
                    Some((
                        theirs[day.rng.usize(..theirs.len())].clone(),
                        "a colleague's photo",
                    ))
                } else if !day.rep.photos.is_empty() {
                    let own = day.rep.photos[day.rng.usize(..day.rep.photos.len())].clone();
                    Some((own, "a photo of an earlier visit"))
                } else {
                    None
                };
                match old {
                    Some((photo, variant)) => {
                        // The rep drove past and never went in; an old photo instead of a new
                        // one.
                        day.drive_to(s);
                        let stand = scatter(day.rng, s.spot, uniform(day.rng, 20.0, 200.0));
                        day.here = stand;
                        let position = genuine_fix(
                            day.rng,
                            &day.rep.phone,
                            stand,
                            s.wifi_point,
                            Sky::Open,
                            day.device(day.now),
                            day.uptime(day.now),
                        );
                        let key = day.new_key();
                        day.push(
                            day.now,
                            Act::CheckIn {
                                key,
                                customer: s.id(),
                                position,
                                photos: vec![photo],
                            },
                        );
                        day.labels.push(Label {
                            key,
                            case: day.case,
                            spoofed: true,
                            variant,
                        });
                        day.sync_soon();
                        day.stay_and_leave(key, s, 6.0, 15.0);
                    }
                    None => {
                        day.visit(s);
                    }
                }
                day.maybe_lunch();
            }
        }
        Case::CheckOutSecondsLater => {
            let sites = day.pick_local(day.rng.usize(3..=5));
            let quick = day.rng.usize(..sites.len());
            for (i, s) in sites.iter().enumerate() {
                if i == quick {
                    day.drive_to(s);
                    let key = day.check_in(s, Some("check-out within two minutes"));
                    day.now = day.now.plus_millis(day.rng.i64(10_000..120_000));
                    let position = genuine_fix(
                        day.rng,
                        &day.rep.phone,
                        day.here,
                        s.wifi_point,
                        Sky::Open,
                        day.device(day.now),
                        day.uptime(day.now),
                    );
                    day.check_out(key, Some(position));
                } else {
                    day.visit(s);
                }
            }
        }
        Case::SameCustomerMinutesLater => {
            let sites = day.pick_local(day.rng.usize(3..=5));
            let again = day.rng.usize(..sites.len());
            for (i, s) in sites.iter().enumerate() {
                day.visit(s);
                if i == again {
                    day.now = day.now.plus_millis(minutes(day.rng, 2.0, 45.0));
                    let key = day.check_in(s, Some("checked in again to count twice"));
                    day.stay_and_leave(key, s, 8.0, 30.0);
                }
            }
        }
    }
    day.finish()
}

/// How a location faker sets its fixes: where on the point, what accuracy, whether the OS
/// or the app's integrity check notice.
struct Faker {
    exact: bool,
    accuracy: FakeAccuracy,
    mock_seen: bool,
    rooted_seen: bool,
}

enum FakeAccuracy {
    /// The app's default, tiny and fixed.
    Tiny(f64),
    /// A plausible value the rep typed once.
    Fixed(f64),
    /// Random plausible values, the app's "anti-detection" mode.
    Random,
}

fn faker(rng: &Dice) -> Faker {
    let accuracy = match rng.f64() {
        x if x < 0.45 => FakeAccuracy::Tiny([0.0, 1.0, 2.0, 3.0][rng.usize(..4)]),
        x if x < 0.80 => FakeAccuracy::Fixed([5.0, 8.0, 10.0, 12.0, 15.0, 20.0][rng.usize(..6)]),
        _ => FakeAccuracy::Random,
    };
    Faker {
        exact: chance(rng, 0.7),
        accuracy,
        mock_seen: chance(rng, 0.35),
        rooted_seen: chance(rng, 0.5),
    }
}

impl Faker {
    /// The fix the app hands the phone for `site`, stamped by the phone's clocks (a mock fix
    /// must carry the current time since boot, or Android drops it).
    fn fix(
        &self,
        rng: &Dice,
        phone: &Phone,
        site: &Site,
        device_now: Timestamp,
        uptime_ms: i64,
    ) -> DevicePosition {
        let point = match site.registered() {
            Some(p) if self.exact => scatter(rng, p, uniform(rng, 0.0, 0.3)),
            Some(p) => scatter(rng, p, uniform(rng, 1.5, 15.0)),
            // No registered point: the rep picks the address on the app's map.
            None => scatter(rng, site.spot, uniform(rng, 20.0, 150.0)),
        };
        let accuracy = match self.accuracy {
            FakeAccuracy::Tiny(a) | FakeAccuracy::Fixed(a) => a,
            FakeAccuracy::Random => phone.report(uniform(rng, 4.0, 30.0)),
        };
        let age_ms = rng.i64(0..800);
        DevicePosition {
            point,
            accuracy_m: accuracy,
            fix_time: device_now.plus_millis(-age_ms),
            since_boot_ms: Some(uptime_ms - age_ms),
            mock: self.mock_seen,
            integrity: Some(fieldsales_core::fieldwork::DeviceIntegrity {
                rooted: self.rooted_seen || phone.rooted,
                emulator: false,
            }),
        }
    }
}

/// A rep at home or the office all day, placing two to four check-ins with a location faker,
/// spaced as if driving, maybe around one to three real visits.
fn fake_app_day(day: &mut Day<'_>) {
    let f = faker(day.rng);
    let fakes = day.rng.usize(1..=4);
    let reals = day.rng.usize(0..=3);
    let mut plan: Vec<bool> = (0..fakes)
        .map(|_| true)
        .chain((0..reals).map(|_| false))
        .collect();
    day.rng.shuffle(&mut plan);
    let base = if chance(day.rng, 0.6) {
        day.rep.home
    } else {
        day.rep.office
    };
    let sites = day.pick_local(plan.len());
    for (fake, s) in plan.into_iter().zip(sites) {
        if fake {
            // Sitting at base; the faked visit is spaced as the drive would take.
            if day.here != base {
                day.go(base, Mode::Town);
            }
            day.now = day
                .now
                .plus_millis(journey_ms(day.rng, base, s.spot, Mode::Town));
            let position = f.fix(
                day.rng,
                &day.rep.phone,
                &s,
                day.device(day.now),
                day.uptime(day.now),
            );
            let variant = match (f.exact, s.registered().is_some()) {
                (_, false) => "faker, customer with no location",
                (true, _) => "faker exactly on the point",
                (false, _) => "faker a few metres off the point",
            };
            let key = day.record_check_in(&s, position, Some(variant));
            day.now = day.now.plus_millis(minutes(day.rng, 25.0, 70.0));
            let out = if chance(day.rng, 0.6) {
                Some(f.fix(
                    day.rng,
                    &day.rep.phone,
                    &s,
                    day.device(day.now),
                    day.uptime(day.now),
                ))
            } else {
                // The faker switched off: the check-out comes from where the rep really is.
                Some(genuine_fix(
                    day.rng,
                    &day.rep.phone,
                    base,
                    base,
                    Sky::Indoors,
                    day.device(day.now),
                    day.uptime(day.now),
                ))
            };
            day.check_out(key, out);
        } else {
            day.visit(&s);
        }
        day.maybe_lunch();
    }
}

/// A rep who checks in for one to four customers from home or the office (a real fix, there),
/// maybe around real visits.
fn home_office_day(day: &mut Day<'_>) {
    let fakes = day.rng.usize(1..=4);
    let reals = day.rng.usize(0..=3);
    let mut plan: Vec<bool> = (0..fakes)
        .map(|_| true)
        .chain((0..reals).map(|_| false))
        .collect();
    day.rng.shuffle(&mut plan);
    let base = if chance(day.rng, 0.6) {
        day.rep.home
    } else {
        day.rep.office
    };
    let base_wifi = scatter(day.rng, base, 20.0);
    let sites = day.pick_local(plan.len());
    for (fake, s) in plan.into_iter().zip(sites) {
        if fake {
            if day.here != base {
                day.go(base, Mode::Town);
            }
            day.now = day.now.plus_millis(minutes(day.rng, 20.0, 60.0));
            let sky = if chance(day.rng, 0.7) {
                Sky::Indoors
            } else {
                Sky::Open
            };
            let position = genuine_fix(
                day.rng,
                &day.rep.phone,
                base,
                base_wifi,
                sky,
                day.device(day.now),
                day.uptime(day.now),
            );
            let variant = if s.registered().is_some() {
                "from home or office"
            } else {
                "from home or office, customer with no location"
            };
            let key = day.record_check_in(&s, position, Some(variant));
            day.now = day.now.plus_millis(minutes(day.rng, 25.0, 70.0));
            let out = genuine_fix(
                day.rng,
                &day.rep.phone,
                base,
                base_wifi,
                sky,
                day.device(day.now),
                day.uptime(day.now),
            );
            day.check_out(key, Some(out));
        } else {
            day.visit(&s);
        }
        day.maybe_lunch();
    }
}

/// Real visits, and between two of them a claimed visit at a customer the rep could not have
/// reached in the time (a faker placing it a few metres off the point, with a plausible
/// accuracy, on a phone that hides the mock flag).
fn somewhere_else_day(day: &mut Day<'_>) {
    let reals = day.pick_local(day.rng.usize(2..=4));
    let insert_after = day.rng.usize(..reals.len() - 1);
    for (i, s) in reals.iter().enumerate() {
        day.visit(s);
        if i == insert_after {
            let left = day.now;
            let gap = minutes(day.rng, 12.0, 55.0);
            let hours = gap as f64 / HOUR as f64;
            // Out of reach by road (and too soon for a train): well beyond 120 km/h.
            let needed_km = 125.0 * hours * uniform(day.rng, 1.25, 3.0) + 3.0;
            let candidates: Vec<Site> = day
                .rep
                .sites()
                .filter(|c| metres(c.spot, day.here) / 1000.0 > needed_km)
                .cloned()
                .collect();
            let target = if candidates.is_empty() {
                let city = (day.rep.city + 1) % CITIES.len();
                let spot = spot_in(day.rng, &CITIES[city]);
                let s = site(
                    day.rng,
                    day.rep.id,
                    "外地客户",
                    city,
                    spot,
                    Registered::Geocoded,
                    0.0,
                );
                day.rep.elsewhere.push(s.clone());
                s
            } else {
                candidates[day.rng.usize(..candidates.len())].clone()
            };
            let real_here = day.here;
            day.now = left.plus_millis(gap);
            let point = match target.registered() {
                Some(p) => scatter(day.rng, p, uniform(day.rng, 6.0, 40.0)),
                None => scatter(day.rng, target.spot, uniform(day.rng, 20.0, 120.0)),
            };
            let position = DevicePosition {
                point,
                accuracy_m: day.rep.phone.report(uniform(day.rng, 6.0, 30.0)),
                fix_time: day.device(day.now),
                mock: false,
                integrity: day.rep.phone.integrity(),
                since_boot_ms: Some(day.uptime(day.now)),
            };
            let key = day.record_check_in(
                &target,
                position,
                Some("claimed far from the last real visit"),
            );
            day.now = day.now.plus_millis(minutes(day.rng, 20.0, 45.0));
            let out_point = scatter(day.rng, point, uniform(day.rng, 3.0, 30.0));
            let out = DevicePosition {
                point: out_point,
                fix_time: day.device(day.now),
                since_boot_ms: Some(day.uptime(day.now)),
                ..position
            };
            day.check_out(key, Some(out));
            day.here = real_here;
        }
        day.maybe_lunch();
    }
}

/// A visit recorded with the phone's clock wound back: after hours the rep goes to a customer
/// (a real fix there) and claims an afternoon slot.
fn clock_set_back_day(day: &mut Day<'_>) {
    let variant = match day.rng.f64() {
        x if x < 0.4 => "wound back offline, put right before syncing",
        x if x < 0.7 => "wound back and still wrong at the sync",
        _ => "recorded late on an offline day",
    };
    if variant.starts_with("recorded late") {
        day.network = Network::OfflineUntil(at(day.date, uniform(day.rng, 20.5, 23.0)));
    }
    let sites = day.pick_local(day.rng.usize(3..=5));
    let (reals, late) = sites.split_at(sites.len() - 1);
    let first_in = day.now;
    for s in reals {
        day.visit(s);
        day.maybe_lunch();
    }
    let last_out = day.now;
    // After hours, at the customer for real.
    day.now = day
        .now
        .max(at(day.date, 17.5))
        .plus_millis(minutes(day.rng, 15.0, 90.0));
    let s = late[0].clone();
    day.drive_to(&s);
    // The slot claimed: in the working day, up to an hour after the last real visit ended.
    let span = last_out.millis_since(first_in) + HOUR;
    let claimed = first_in.plus_millis(day.rng.i64(HOUR..span.max(HOUR + 1)));
    if variant.starts_with("wound back offline") {
        day.network_off();
    }
    day.wind_clock(claimed.millis_since(day.now));
    let key = day.check_in(&s, Some(variant));
    day.stay_and_leave(key, &s, 25.0, 60.0);
    day.now = day.now.plus_millis(minutes(day.rng, 2.0, 20.0));
    if !variant.starts_with("wound back and still") {
        day.put_clock_right();
    } else {
        // Put right the next morning, after the evening's syncs.
        day.now = at(day.date.succ(), 7.0);
        day.put_clock_right();
    }
    day.network_on();
}
