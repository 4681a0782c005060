//! A small sales organisation for field-work scenarios: a team with a rep and their manager,
//! each on their own phone (store) with a clock the test moves, and a server copy the
//! authority reviews against.

use std::sync::Arc;

use fieldsales_core::authority::{self, Context, Outcome, Rejection};
use fieldsales_core::engine::visits::{CheckInRequest, CheckedIn};
use fieldsales_core::engine::{Engine, META_CLOCK_OFFSET};
use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::fieldwork::{ClockOffset, DevicePosition, FieldworkSettings};
use fieldsales_core::me::Me;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::{AnyRecord, Customer, DataScope, OrgLevel, Record, Visit};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::Facts;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{GeoPoint, RecordId, Timestamp, Zone};

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

pub fn zone(s: &str) -> Zone {
    s.parse().unwrap()
}

/// The team, its people, their phones and the server's copy.
pub struct Field {
    pub clock: ManualClock,
    pub rep: Engine,
    pub manager: Engine,
    /// The server's copy of every record, for the authority's lookups.
    pub server: Store,
    pub tree: OrgTree,
    pub settings: FieldworkSettings,
    pub team: RecordId,
}

impl Field {
    /// A rep and a manager in Shanghai, the standard field-work settings, at `now`.
    pub fn at(now: &str) -> Self {
        Self::build(now, Zone::SHANGHAI, FieldworkSettings::default())
    }

    /// The same with the rep (and manager) in `tz`.
    pub fn in_zone(now: &str, tz: &str) -> Self {
        Self::build(now, zone(tz), FieldworkSettings::default())
    }

    pub fn with_settings(now: &str, settings: FieldworkSettings) -> Self {
        Self::build(now, Zone::SHANGHAI, settings)
    }

    fn build(now: &str, zone: Zone, settings: FieldworkSettings) -> Self {
        let clock = ManualClock::new(t(now));
        let hq = testing::org_unit("总部", OrgLevel::Hq, None);
        let region = testing::org_unit("华东大区", OrgLevel::Region, Some(hq.header.id));
        let team = testing::org_unit("浦东一组", OrgLevel::Team, Some(region.header.id));
        let mut rep_profile = testing::user("张伟", team.header.id, "sales_rep");
        rep_profile.zone = zone.clone();
        let mut manager_profile = testing::user("王芳经理", team.header.id, "sales_manager");
        manager_profile.zone = zone.clone();
        let mut config = testing::process_config();
        config.process.fieldwork = settings.clone();
        let shared: Vec<AnyRecord> = vec![
            hq.clone().into(),
            region.clone().into(),
            team.clone().into(),
            rep_profile.clone().into(),
            manager_profile.clone().into(),
            config.into(),
        ];
        let phone = |me: Me| {
            let mut store = Store::open_in_memory_with_clock(Arc::new(clock.clone())).unwrap();
            for r in &shared {
                store.transaction(|tx| tx.create_any(r.clone())).unwrap();
            }
            Engine::new(store, me).unwrap()
        };
        let rep = phone(Me {
            hidden: Default::default(),
            user_id: rep_profile.header.id,
            unit_id: team.header.id,
            roles: vec!["sales_rep".into()],
            scope: DataScope::Own,
            zone: zone.clone(),
        });
        let manager = phone(Me {
            hidden: Default::default(),
            user_id: manager_profile.header.id,
            unit_id: team.header.id,
            roles: vec!["sales_manager".into()],
            scope: DataScope::Subtree,
            zone,
        });
        let mut server = Store::open_in_memory_with_clock(Arc::new(clock.clone())).unwrap();
        for r in &shared {
            server.transaction(|tx| tx.create_any(r.clone())).unwrap();
        }
        Field {
            clock,
            rep,
            manager,
            server,
            tree: OrgTree::from_units([&hq, &region, &team]),
            settings,
            team: team.header.id,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.rep.now()
    }

    /// Moves every clock (the phones' and the server's) to `at`.
    pub fn set_time(&self, at: &str) {
        self.clock.set(t(at));
    }

    /// A customer of the rep at `location`, on every phone and the server.
    pub fn customer(&mut self, name: &str, location: Option<GeoPoint>) -> RecordId {
        let mut c = testing::customer(self.rep.me().user_id, name);
        c.header.org_unit_id = Some(self.team);
        c.location = location;
        let id = c.header.id;
        self.rep.store_mut().create(c).unwrap();
        crate::send(self.rep.store(), self.manager.store_mut(), id);
        crate::send(self.rep.store(), &mut self.server, id);
        id
    }

    /// The rep's phone learnt at its last sync that its clock is `offset_s` seconds ahead.
    pub fn rep_clock_measured(&mut self, offset_s: i64) {
        let now = self.now();
        let offset = ClockOffset::observed_by_server(now.plus_secs(offset_s), now);
        self.rep
            .store_mut()
            .set_meta(META_CLOCK_OFFSET, &serde_json::to_vec(&offset).unwrap())
            .unwrap();
    }

    /// The rep checks in at `customer` standing `metres` east of `site`, with a fresh fix of
    /// `accuracy_m`.
    pub fn check_in(
        &mut self,
        customer: RecordId,
        site: GeoPoint,
        metres: f64,
        accuracy_m: f64,
    ) -> fieldsales_core::Result<CheckedIn> {
        let position = self.fix(site, metres, accuracy_m);
        self.rep.check_in(CheckInRequest {
            customer_id: customer,
            position,
            note: "见了采购经理".into(),
            photos: Vec::new(),
        })
    }

    /// A fresh, honest fix `metres` east of `site`.
    pub fn fix(&self, site: GeoPoint, metres: f64, accuracy_m: f64) -> DevicePosition {
        DevicePosition {
            point: destination(site, 90.0, metres),
            accuracy_m,
            fix_time: self.now(),
            mock: false,
            integrity: None,
            since_boot_ms: None,
        }
    }

    /// Copies a record's whole document from the rep's phone to the server's copy.
    pub fn upload(&mut self, id: RecordId) {
        crate::send(self.rep.store(), &mut self.server, id);
    }

    /// The server's review of a push by `author` (the rep unless said otherwise), with the
    /// pushing device's clock offset as the server measured it.
    pub fn review_as(
        &self,
        author: &Me,
        clock_offset: Option<ClockOffset>,
        before: Option<AnyRecord>,
        after: impl Into<AnyRecord>,
    ) -> Result<Outcome, Rejection> {
        let mut process = SalesProcess::standard();
        process.fieldwork = self.settings.clone();
        let lookup = Facts::new(&self.server);
        let ctx = Context {
            author,
            tree: &self.tree,
            process: &process,
            now: self.now(),
            clock_offset,
            lookup: &lookup,
        };
        authority::review(&ctx, before.as_ref(), &after.into())
    }

    /// The rep's phone pushes its visit `id` now, its clock measured `offset_s` seconds
    /// ahead on the push: the server reviews it against its copy and keeps what it decided.
    /// Returns the server's copy.
    pub fn push_visit(&mut self, id: RecordId, offset_s: i64) -> Visit {
        let rep = self.rep.me().clone();
        let pushed: Visit = self.rep.store().get(id).unwrap();
        let before: Option<Visit> = match self.server.get::<Visit>(id) {
            Ok(v) => Some(v),
            Err(fieldsales_core::Error::NotFound { .. }) => None,
            Err(e) => panic!("{e}"),
        };
        let outcome = self
            .review_as(
                &rep,
                Some(measured(self.now(), offset_s)),
                before.clone().map(Into::into),
                pushed.clone(),
            )
            .unwrap_or_else(|r| panic!("refused: {r}"));
        let kept = Self::kept(outcome, pushed);
        // The server merges the phone's document, then writes what it decided.
        crate::send(self.rep.store(), &mut self.server, id);
        let decided = kept.clone();
        self.server
            .update::<Visit>(id, move |v| {
                v.verdict = decided.verdict;
                v.received_at = decided.received_at;
                v.header.org_unit_id = decided.header.org_unit_id;
                Ok(())
            })
            .unwrap();
        kept
    }

    /// The record the server keeps after its review: amended, or as pushed.
    pub fn kept<R: Record>(outcome: Outcome, pushed: R) -> R {
        match outcome {
            Outcome::Accept => pushed,
            Outcome::Amend(any) => R::try_from(*any).unwrap(),
        }
    }

    pub fn customer_record(&self, id: RecordId) -> Customer {
        self.rep.store().get(id).unwrap()
    }
}

/// A clock offset the server measured just now: the device is `offset_s` seconds ahead.
pub fn measured(now: Timestamp, offset_s: i64) -> ClockOffset {
    ClockOffset::observed_by_server(now.plus_secs(offset_s), now)
}
