//! What the FFI scenario tests share: the customer's site, a fix the OS gives near it, a
//! customer draft at it, sync options that give up quickly, and a listener that keeps every
//! change event it hears.

#![allow(dead_code)] // each test file uses its own part of this

use std::sync::Mutex;

use fieldsales_ffi::{
    ChangeEvent, ChangeListener, CustomerDraft, DeviceIntegritySignal, DevicePosition, GeoPoint,
    SyncOptions,
};

/// Where the rep's customer is: People's Square, Shanghai.
pub const SITE: (f64, f64) = (31.2304, 121.4737);

/// A fix the OS gave `metres_north` of the site, `age_ms` old, on a device that is neither
/// rooted nor an emulator.
pub fn fix(metres_north: f64, accuracy_m: f64, age_ms: i64) -> DevicePosition {
    DevicePosition {
        lat: SITE.0 + metres_north / 111_320.0,
        lon: SITE.1,
        accuracy_m,
        fix_time: fieldsales_core::Timestamp::now().plus_millis(-age_ms),
        is_mock: false,
        integrity: Some(DeviceIntegritySignal {
            rooted: false,
            emulator: false,
        }),
        // Booted an hour before the fix.
        since_boot_ms: Some(3_600_000 - age_ms),
    }
}

/// A manufacturing customer of tier A located at the site.
pub fn customer_at_site(legal_name: &str, tags: &[&str]) -> CustomerDraft {
    CustomerDraft {
        legal_name: legal_name.into(),
        short_name: None,
        english_name: None,
        customer_type: None,
        industry: Some("制造业".into()),
        scale: None,
        address: Some("上海市黄浦区人民大道200号".into()),
        location: Some(GeoPoint {
            lat: SITE.0,
            lon: SITE.1,
        }),
        tier: Some("A".into()),
        source: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        custom_fields: Default::default(),
    }
}

/// Two attempts with short backoffs: a test that meets a dead server learns it quickly.
pub fn quick_sync() -> SyncOptions {
    SyncOptions {
        max_attempts: 2,
        initial_backoff_ms: 20,
        max_backoff_ms: 100,
        request_timeout_ms: 30_000,
        upload_attachments: true,
    }
}

/// Keeps every change event it is told of.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<ChangeEvent>>);

impl ChangeListener for Recorder {
    fn on_change(&self, event: ChangeEvent) {
        self.0.lock().expect("recorder").push(event);
    }
}

impl Recorder {
    /// The events heard since the last take.
    pub fn take(&self) -> Vec<ChangeEvent> {
        std::mem::take(&mut *self.0.lock().expect("recorder"))
    }

    /// The kinds of every event heard, in order, without taking them.
    pub fn kinds(&self) -> Vec<fieldsales_ffi::RecordKind> {
        let events = self.0.lock().expect("recorder");
        events.iter().flat_map(|e| e.kinds.clone()).collect()
    }
}
