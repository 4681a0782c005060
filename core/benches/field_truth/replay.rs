//! The phones and the server, replaying the days: each phone records its visits as the engine
//! does (its clock, its last sync, its latest visit), queues them and pushes them in order on
//! each sync; the server measures the phone's clock on the push and runs the review the sync
//! endpoint runs (`authority::fieldwork::review_visit_verdict`) against what it holds.

use std::collections::{BTreeMap, HashMap};

use autosurgeon::Text;
use fieldsales_core::authority::fieldwork::review_visit_verdict;
use fieldsales_core::authority::{Context, Lookup};
use fieldsales_core::fieldwork::{CheckInVerdict, ClockOffset, FieldworkSettings};
use fieldsales_core::me::Me;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::visit::{CheckIn, CheckOut};
use fieldsales_core::record::{AnyRecord, Customer, DataScope, Header, OrgLevel, Visit};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::{RecordId, Timestamp, Zone, testing};

use crate::days::{Act, Event};

/// The server's copy of the tenant's visits and customers, with the lookups its review uses.
#[derive(Default)]
pub struct Server {
    visits: HashMap<RecordId, Visit>,
    by_rep: HashMap<RecordId, Vec<RecordId>>,
    customers: HashMap<RecordId, Customer>,
    photos: HashMap<String, Vec<RecordId>>,
}

impl Server {
    pub fn add_customer(&mut self, c: Customer) {
        self.customers.insert(c.header.id, c);
    }

    fn store(&mut self, v: Visit) {
        let id = v.header.id;
        if let Some(rep) = v.header.owner_id
            && !self.visits.contains_key(&id)
        {
            self.by_rep.entry(rep).or_default().push(id);
        }
        for p in &v.photos {
            let holders = self.photos.entry(p.sha256.clone()).or_default();
            if !holders.contains(&id) {
                holders.push(id);
            }
        }
        self.visits.insert(id, v);
    }

    /// The server's verdict on a visit.
    pub fn verdict(&self, id: RecordId) -> Option<&CheckInVerdict> {
        self.visits.get(&id).and_then(|v| v.verdict.as_ref())
    }
}

impl Lookup for Server {
    fn record(&self, id: RecordId) -> fieldsales_core::Result<Option<AnyRecord>> {
        Ok(self
            .customers
            .get(&id)
            .cloned()
            .map(AnyRecord::Customer)
            .or_else(|| self.visits.get(&id).cloned().map(AnyRecord::Visit)))
    }

    fn visits_near(
        &self,
        rep: RecordId,
        at: Timestamp,
        window_ms: i64,
        except: RecordId,
        per_side: usize,
    ) -> fieldsales_core::Result<Vec<Visit>> {
        let mut before = Vec::new();
        let mut after = Vec::new();
        for id in self.by_rep.get(&rep).into_iter().flatten() {
            let v = &self.visits[id];
            let t = v.check_in.at;
            if *id == except || v.header.is_deleted() || t.millis_since(at).abs() > window_ms {
                continue;
            }
            if t <= at {
                before.push(v);
            } else {
                after.push(v);
            }
        }
        before.sort_by_key(|v| std::cmp::Reverse((v.check_in.at, v.header.id)));
        after.sort_by_key(|v| (v.check_in.at, v.header.id));
        Ok(before
            .into_iter()
            .take(per_side)
            .chain(after.into_iter().take(per_side))
            .cloned()
            .collect())
    }

    fn visits_with_photo(&self, sha256: &str) -> fieldsales_core::Result<Option<Vec<RecordId>>> {
        Ok(Some(self.photos.get(sha256).cloned().unwrap_or_default()))
    }

    // The replay reviews visits only: its customers are registered once (never pushed, so
    // never checked for duplicates), and its world has no leads or approvals.
    fn duplicates(
        &self,
        _: &Customer,
        _: f64,
    ) -> fieldsales_core::Result<fieldsales_core::store::DuplicateReport> {
        Ok(Default::default())
    }

    fn exact_duplicate(
        &self,
        _: &Customer,
    ) -> fieldsales_core::Result<Option<fieldsales_core::store::NearDuplicate>> {
        Ok(None)
    }

    fn open_leads_of(&self, _: RecordId, _: RecordId) -> fieldsales_core::Result<u32> {
        Ok(0)
    }

    fn approval_for(
        &self,
        _: RecordId,
        _: &str,
    ) -> fieldsales_core::Result<Option<fieldsales_core::record::Approval>> {
        Ok(None)
    }
}

/// A rep's phone: its visits, its outbox, what it knows of its clock.
struct Phone {
    me: Me,
    visits: HashMap<usize, Visit>,
    /// Visits waiting for the server, by the device time they were first queued.
    outbox: BTreeMap<(Timestamp, RecordId), usize>,
    queued: HashMap<usize, (Timestamp, RecordId)>,
    /// The offset its last sync measured, and that sync's server time.
    clock: Option<ClockOffset>,
}

impl Phone {
    fn queue(&mut self, key: usize, device_at: Timestamp) {
        if !self.queued.contains_key(&key) {
            let id = self.visits[&key].header.id;
            self.outbox.insert((device_at, id), key);
            self.queued.insert(key, (device_at, id));
        }
    }
}

/// The replay of every rep's days against one server.
pub struct Replay {
    pub server: Server,
    phones: HashMap<RecordId, Phone>,
    tree: OrgTree,
    process: SalesProcess,
    /// Visit ids by rep and key, for the labels.
    pub ids: HashMap<(RecordId, usize), RecordId>,
}

impl Replay {
    pub fn new(settings: &FieldworkSettings) -> Self {
        let team = testing::org_unit("外勤一组", OrgLevel::Team, None);
        let mut process = SalesProcess::standard();
        process.fieldwork = settings.clone();
        Replay {
            server: Server::default(),
            phones: HashMap::new(),
            tree: OrgTree::from_units([&team]),
            process,
            ids: HashMap::new(),
        }
    }

    pub fn add_rep(&mut self, rep: RecordId) {
        self.phones.insert(
            rep,
            Phone {
                me: Me {
                    hidden: Default::default(),
                    user_id: rep,
                    unit_id: RecordId::new(),
                    roles: vec!["sales_rep".into()],
                    scope: DataScope::Own,
                    zone: Zone::SHANGHAI,
                },
                visits: HashMap::new(),
                outbox: BTreeMap::new(),
                queued: HashMap::new(),
                clock: None,
            },
        );
    }

    /// Plays one event of `rep`'s phone.
    pub fn play(&mut self, rep: RecordId, event: &Event) {
        let Some(phone) = self.phones.get_mut(&rep) else {
            return;
        };
        match &event.act {
            Act::CheckIn {
                key,
                customer,
                position,
                photos,
            } => {
                let recorded_after = phone.visits.values().map(|v| v.check_in.at).max();
                let visit = Visit {
                    header: Header::new(rep, event.device_at),
                    customer_id: *customer,
                    plan_id: None,
                    check_in: CheckIn {
                        at: event.device_at,
                        position: *position,
                        zone: Zone::SHANGHAI,
                        clock_offset_ms: phone.clock.map(|c| c.offset_ms),
                        synced_at: phone.clock.map(|c| c.measured_at),
                        recorded_after,
                    },
                    check_out: None,
                    note: Text::default(),
                    photos: photos.clone(),
                    verdict: None,
                    received_at: None,
                };
                self.ids.insert((rep, *key), visit.header.id);
                phone.visits.insert(*key, visit);
                phone.queue(*key, event.device_at);
            }
            Act::CheckOut { key, position } => {
                if let Some(v) = phone.visits.get_mut(key) {
                    v.check_out = Some(CheckOut {
                        at: event.device_at.max(v.check_in.at),
                        position: *position,
                    });
                    phone.queue(*key, event.device_at);
                }
            }
            Act::Sync => self.sync(rep, event),
        }
    }

    /// One sync: the outbox pushed in order, each visit reviewed by the server with the clock
    /// it measured on this push; the server's verdicts pulled back; the clock measured.
    fn sync(&mut self, rep: RecordId, event: &Event) {
        let received_at = event.at;
        let Some(phone) = self.phones.get_mut(&rep) else {
            return;
        };
        let measured = ClockOffset::observed_by_server(event.device_at, received_at);
        let outbox = std::mem::take(&mut phone.outbox);
        phone.queued.clear();
        for ((_, id), key) in outbox {
            let pushed = phone.visits[&key].clone();
            let before = self.server.visits.get(&id).cloned();
            let ctx = Context {
                author: &phone.me,
                tree: &self.tree,
                process: &self.process,
                now: received_at,
                clock_offset: Some(measured),
                lookup: &self.server,
            };
            let kept = match review_visit_verdict(&ctx, before.as_ref(), &pushed) {
                Ok(Some(amended)) => amended,
                Ok(None) => pushed,
                Err(rejection) => {
                    eprintln!("a pushed visit was refused: {rejection}");
                    continue;
                }
            };
            if let Some(v) = phone.visits.get_mut(&key) {
                v.verdict = kept.verdict.clone();
                v.received_at = kept.received_at;
            }
            self.server.store(kept);
        }
        phone.clock = Some(ClockOffset {
            measured_at: received_at,
            ..measured
        });
    }
}
