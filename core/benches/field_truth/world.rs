//! The world the labelled days happen in: cities, customers and their registered points,
//! reps and their phones, and how a phone's receiver places a rep.
//!
//! Every number here is an assumption about the field, written down so it can be argued
//! with: receivers outdoors are good to a few metres and say so; indoors Wi-Fi positioning
//! returns the same point for the same rooms, tens of metres off; a cell fix is hundreds of
//! metres off and says so; address geocoding misses a building by tens of metres.

use std::cell::RefCell;

use fieldsales_core::fieldwork::geofence::{destination, distance_m};
use fieldsales_core::fieldwork::{DeviceIntegrity, DevicePosition};
use fieldsales_core::record::Customer;
use fieldsales_core::{GeoPoint, RecordId, Timestamp, testing};

/// A city reps work in: its centre and how far its customers spread.
#[derive(Debug, Clone, Copy)]
pub struct City {
    pub name: &'static str,
    pub centre: GeoPoint,
    pub radius_km: f64,
}

const fn city(name: &'static str, lat: f64, lon: f64, radius_km: f64) -> City {
    City {
        name,
        centre: GeoPoint { lat, lon },
        radius_km,
    }
}

/// Cities with high-speed rail and airports between them.
pub const CITIES: &[City] = &[
    city("上海", 31.2304, 121.4737, 28.0),
    city("北京", 39.9042, 116.4074, 28.0),
    city("杭州", 30.2741, 120.1551, 18.0),
    city("苏州", 31.2990, 120.5853, 16.0),
    city("南京", 32.0603, 118.7969, 18.0),
    city("广州", 23.1291, 113.2644, 24.0),
    city("深圳", 22.5431, 114.0579, 24.0),
    city("成都", 30.5728, 104.0668, 20.0),
    city("武汉", 30.5928, 114.3055, 20.0),
    city("西安", 34.3416, 108.9398, 16.0),
    city("天津", 39.3434, 117.3616, 18.0),
    city("长沙", 28.2282, 112.9388, 14.0),
    city("合肥", 31.8206, 117.2272, 14.0),
    city("宁波", 29.8683, 121.5440, 14.0),
    city("无锡", 31.4912, 120.3119, 12.0),
];

/// The run's random numbers: one seeded generator, shared by reference so draws can nest.
pub struct Dice(RefCell<fastrand::Rng>);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(RefCell::new(fastrand::Rng::with_seed(seed)))
    }
    pub fn f64(&self) -> f64 {
        self.0.borrow_mut().f64()
    }
    pub fn usize(&self, range: impl std::ops::RangeBounds<usize>) -> usize {
        self.0.borrow_mut().usize(range)
    }
    pub fn i64(&self, range: impl std::ops::RangeBounds<i64>) -> i64 {
        self.0.borrow_mut().i64(range)
    }
    pub fn u64(&self, range: impl std::ops::RangeBounds<u64>) -> u64 {
        self.0.borrow_mut().u64(range)
    }
    pub fn shuffle<T>(&self, items: &mut [T]) {
        self.0.borrow_mut().shuffle(items)
    }
}

/// Normal deviate (Box–Muller).
pub fn normal(rng: &Dice, mean: f64, sd: f64) -> f64 {
    let u1 = rng.f64().max(1e-12);
    let u2 = rng.f64();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub fn uniform(rng: &Dice, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.f64()
}

pub fn chance(rng: &Dice, p: f64) -> bool {
    rng.f64() < p
}

pub fn minutes(rng: &Dice, low: f64, high: f64) -> i64 {
    (uniform(rng, low, high) * 60_000.0) as i64
}

/// A point `metres` from `p` in a random direction.
pub fn scatter(rng: &Dice, p: GeoPoint, metres: f64) -> GeoPoint {
    destination(p, rng.f64() * 360.0, metres)
}

/// A point of a two-dimensional normal spread of `sd` metres per axis around `p`.
pub fn gaussian(rng: &Dice, p: GeoPoint, sd: f64) -> GeoPoint {
    let (dx, dy) = (normal(rng, 0.0, sd), normal(rng, 0.0, sd));
    let r = (dx * dx + dy * dy).sqrt();
    destination(p, dy.atan2(dx).to_degrees(), r)
}

/// Where a customer really is, and how the CRM knows it.
#[derive(Debug, Clone)]
pub struct Site {
    pub customer: Customer,
    /// Where reps stand when they visit (the entrance; across the campus for a large site).
    pub spot: GeoPoint,
    /// The city the site is in.
    pub city: usize,
    /// Where indoor Wi-Fi positioning puts anyone inside (the same rooms, the same point).
    pub wifi_point: GeoPoint,
    /// Metres a rep may stand from `spot` on a large campus.
    pub campus_m: f64,
}

impl Site {
    pub fn id(&self) -> RecordId {
        self.customer.header.id
    }

    pub fn registered(&self) -> Option<GeoPoint> {
        self.customer.location
    }
}

/// How the CRM learnt a customer's location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Registered {
    /// Geocoded from the address: misses the building by tens of metres.
    Geocoded,
    /// A rep's earlier check-in fix, approved by a manager (indoors often Wi-Fi's point).
    FromCheckIn,
    /// None yet.
    Unknown,
}

/// A customer at `spot` in `city`, registered as `how`.
pub fn site(
    rng: &Dice,
    owner: RecordId,
    name: &str,
    city: usize,
    spot: GeoPoint,
    how: Registered,
    campus_m: f64,
) -> Site {
    let wifi_point = scatter(rng, spot, uniform(rng, 8.0, 45.0));
    let location = match how {
        Registered::Geocoded => Some(scatter(rng, spot, uniform(rng, 10.0, 120.0))),
        Registered::FromCheckIn => Some(if chance(rng, 0.55) {
            // The proposing rep was indoors: Wi-Fi's point, to a metre or two.
            scatter(rng, wifi_point, uniform(rng, 0.0, 2.0))
        } else {
            gaussian(rng, spot, 5.0)
        }),
        Registered::Unknown => None,
    };
    let mut customer = testing::customer(owner, name);
    customer.location = location;
    Site {
        customer,
        spot,
        city,
        wifi_point,
        campus_m,
    }
}

/// A random spot in `city`, denser towards the centre.
pub fn spot_in(rng: &Dice, city: &City) -> GeoPoint {
    let r = city.radius_km * 1000.0 * rng.f64().powf(0.8);
    scatter(rng, city.centre, r)
}

/// How a phone reports accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Receiver {
    /// Android, one decimal.
    Android,
    /// Android builds that round to whole metres.
    AndroidWholeMetres,
    /// iOS: continuous outdoors, 65 m for Wi-Fi, 1,414 m for cell towers.
    Ios,
}

/// A rep's phone.
#[derive(Debug, Clone, Copy)]
pub struct Phone {
    pub receiver: Receiver,
    /// Seconds the clock runs ahead of true time when nobody touches it (set by hand on a
    /// few phones; within a second on phones that take network time).
    pub clock_error_s: f64,
    pub rooted: bool,
    /// Background sync every so many minutes while online.
    pub background_sync_min: (f64, f64),
}

pub fn phone(rng: &Dice) -> Phone {
    let receiver = match rng.f64() {
        x if x < 0.55 => Receiver::Android,
        x if x < 0.70 => Receiver::AndroidWholeMetres,
        _ => Receiver::Ios,
    };
    let clock_error_s = if chance(rng, 0.005) {
        // Set by hand and never corrected: minutes off, both ways.
        let minutes = uniform(rng, 5.0, 40.0);
        if chance(rng, 0.5) {
            minutes * 60.0
        } else {
            -minutes * 60.0
        }
    } else {
        normal(rng, 0.0, 0.8)
    };
    Phone {
        background_sync_min: if receiver == Receiver::Ios {
            (30.0, 120.0)
        } else {
            (15.0, 30.0)
        },
        receiver,
        clock_error_s,
        rooted: chance(rng, 0.01),
    }
}

impl Phone {
    /// An accuracy as this phone reports it.
    pub fn report(&self, metres: f64) -> f64 {
        match self.receiver {
            Receiver::Android => (metres * 10.0).round() / 10.0,
            Receiver::AndroidWholeMetres => metres.round().max(1.0),
            Receiver::Ios => (metres * 1000.0).round() / 1000.0,
        }
    }

    pub fn integrity(&self) -> Option<DeviceIntegrity> {
        Some(DeviceIntegrity {
            rooted: self.rooted,
            emulator: false,
        })
    }
}

/// Where the rep stands when the receiver takes a fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sky {
    /// Outside the door or in the car park.
    Open,
    /// Inside, placed by Wi-Fi.
    Indoors,
    /// Deep inside or underground: a cell-tower fix.
    Basement,
}

/// A genuine fix of a rep standing at `here`, `wifi` being the building's Wi-Fi point when
/// indoors; `device_time` and `uptime_ms` are the phone's wall clock and time since boot now.
pub fn genuine_fix(
    rng: &Dice,
    phone: &Phone,
    here: GeoPoint,
    wifi: GeoPoint,
    sky: Sky,
    device_time: Timestamp,
    uptime_ms: i64,
) -> DevicePosition {
    let (point, accuracy, age_s) = match sky {
        Sky::Open => {
            let sd = uniform(rng, 2.5, 7.0);
            (
                gaussian(rng, here, sd),
                sd * uniform(rng, 1.1, 1.9),
                uniform(rng, 0.2, 6.0),
            )
        }
        Sky::Indoors => {
            let accuracy = if phone.receiver == Receiver::Ios && chance(rng, 0.5) {
                65.0
            } else {
                uniform(rng, 15.0, 60.0)
            };
            (
                scatter(rng, wifi, uniform(rng, 0.0, 2.5)),
                accuracy,
                uniform(rng, 5.0, 200.0),
            )
        }
        Sky::Basement => {
            let accuracy = if phone.receiver == Receiver::Ios && chance(rng, 0.4) {
                1414.0
            } else {
                uniform(rng, 200.0, 1_000.0)
            };
            // The true position lies within the reported circle two times in three.
            let sd = accuracy / 1.5;
            (gaussian(rng, here, sd), accuracy, uniform(rng, 30.0, 330.0))
        }
    };
    DevicePosition {
        point,
        accuracy_m: phone.report(accuracy),
        fix_time: device_time.plus_millis(-(age_s * 1000.0) as i64),
        mock: false,
        integrity: phone.integrity(),
        since_boot_ms: Some(uptime_ms - (age_s * 1000.0) as i64),
    }
}

/// Straight-line metres between two points.
pub fn metres(a: GeoPoint, b: GeoPoint) -> f64 {
    distance_m(a, b)
}
