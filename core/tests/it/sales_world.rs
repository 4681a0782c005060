//! A small sales organisation for the sales-process scenarios: a region with one team, two
//! reps, their manager, a regional director and an admin, each with their own phone (an
//! engine over its own store) and a server copy that reviews what phones push.

use std::sync::Arc;

use fieldsales_core::authority::{self, Context, Lookup, Outcome, Rejection};
use fieldsales_core::engine::Engine;
use fieldsales_core::me::Me;
use fieldsales_core::record::{AnyRecord, DataScope, OrgLevel, OrgUnit, Record, UserProfile};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{Facts, Store};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{RecordId, Timestamp, Zone, testing};

/// Who is who.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    RepLi,
    RepZhao,
    ManagerWang,
    DirectorChen,
    Admin,
}

pub struct World {
    pub clock: ManualClock,
    pub hq: OrgUnit,
    pub region: OrgUnit,
    pub team: OrgUnit,
    pub profiles: Vec<(Who, UserProfile, DataScope)>,
}

impl World {
    pub fn new() -> World {
        let clock = ManualClock::new(testing::morning());
        let hq = testing::org_unit("总部", OrgLevel::Hq, None);
        let mut region = testing::org_unit("华东大区", OrgLevel::Region, Some(hq.header.id));
        let mut team = testing::org_unit("上海一组", OrgLevel::Team, Some(region.header.id));
        let li = testing::user("李雷", team.header.id, "sales_rep");
        let zhao = testing::user("赵敏", team.header.id, "sales_rep");
        let wang = testing::user("王经理", team.header.id, "sales_manager");
        let chen = testing::user("陈总监", region.header.id, "regional_director");
        let admin = testing::user("管理员", hq.header.id, "admin");
        team.manager_id = Some(wang.header.id);
        region.manager_id = Some(chen.header.id);
        World {
            clock,
            hq,
            region,
            team,
            profiles: vec![
                (Who::RepLi, li, DataScope::Own),
                (Who::RepZhao, zhao, DataScope::Own),
                (Who::ManagerWang, wang, DataScope::Subtree),
                (Who::DirectorChen, chen, DataScope::Region),
                (Who::Admin, admin, DataScope::All),
            ],
        }
    }

    pub fn id(&self, who: Who) -> RecordId {
        self.profile(who).header.id
    }

    pub fn profile(&self, who: Who) -> &UserProfile {
        &self.profiles.iter().find(|(w, _, _)| *w == who).unwrap().1
    }

    pub fn me(&self, who: Who) -> Me {
        let (_, p, scope) = self.profiles.iter().find(|(w, _, _)| *w == who).unwrap();
        Me {
            hidden: Default::default(),
            user_id: p.header.id,
            unit_id: p.unit_id,
            roles: p.roles.iter().cloned().collect(),
            scope: scope.clone(),
            zone: Zone::SHANGHAI,
        }
    }

    pub fn tree(&self) -> OrgTree {
        OrgTree::from_units([&self.hq, &self.region, &self.team])
    }

    /// A store holding the org records, on the world's clock.
    pub fn store(&self) -> Store {
        let mut store = Store::open_in_memory_with_clock(Arc::new(self.clock.clone())).unwrap();
        for u in [&self.hq, &self.region, &self.team] {
            store.create(u.clone()).unwrap();
        }
        for (_, p, _) in &self.profiles {
            store.create(p.clone()).unwrap();
        }
        store
    }

    /// A phone signed in as `who`.
    pub fn phone(&self, who: Who) -> Engine {
        Engine::new(self.store(), self.me(who)).unwrap()
    }

    /// A header for a record owned by `who` and attributed to their unit, as the server
    /// derives it.
    pub fn header(&self, who: Who) -> fieldsales_core::record::Header {
        let mut h = fieldsales_core::record::Header::new(self.id(who), self.now());
        h.org_unit_id = Some(self.profile(who).unit_id);
        h
    }

    pub fn now(&self) -> Timestamp {
        use fieldsales_core::Clock;
        self.clock.now()
    }

    pub fn advance_hours(&self, hours: i64) {
        self.clock.advance_millis(hours * 3_600_000);
    }
}

/// Copies a record's whole document from one phone to another (through the server).
pub fn sync(from: &Engine, to: &mut Engine, id: RecordId) {
    crate::send(from.store(), to.store_mut(), id);
}

/// The server's copy: a store it reviews pushes against.
pub struct Server {
    pub store: Store,
}

impl Server {
    pub fn new(world: &World) -> Server {
        Server {
            store: world.store(),
        }
    }

    /// Reviews `record` as pushed by `who` against the server's copy; stores it when accepted.
    pub fn push<R: Record>(
        &mut self,
        world: &World,
        who: Who,
        record: &R,
    ) -> std::result::Result<Outcome, Rejection> {
        self.push_from(world, who, |_| record.clone().into())
    }

    /// Pushes a phone's document of `id`: merged into the server's copy, reviewed, and kept
    /// only when accepted (a refused push leaves the server's copy as it was).
    pub fn push_doc(
        &mut self,
        world: &World,
        who: Who,
        phone: &Engine,
        id: RecordId,
    ) -> std::result::Result<Outcome, Rejection> {
        let before = Facts::new(&self.store).record(id).unwrap();
        let mut trial = self.store_copy_with(id);
        crate::send(phone.store(), &mut trial, id);
        let after = trial.get_any(id).unwrap();
        let outcome = self.review(world, who, before.as_ref(), &after)?;
        crate::send(phone.store(), &mut self.store, id);
        Ok(outcome)
    }

    fn store_copy_with(&self, id: RecordId) -> Store {
        let mut copy = Store::open_in_memory().unwrap();
        if self.store.kind_of(id).unwrap().is_some() {
            crate::send(&self.store, &mut copy, id);
        }
        copy
    }

    fn push_from(
        &mut self,
        world: &World,
        who: Who,
        make: impl FnOnce(&Store) -> AnyRecord,
    ) -> std::result::Result<Outcome, Rejection> {
        let after = make(&self.store);
        let id = after.header().id;
        let before = Facts::new(&self.store).record(id).unwrap();
        let outcome = self.review(world, who, before.as_ref(), &after)?;
        Ok(outcome)
    }

    pub fn review(
        &self,
        world: &World,
        who: Who,
        before: Option<&AnyRecord>,
        after: &AnyRecord,
    ) -> std::result::Result<Outcome, Rejection> {
        let me = world.me(who);
        let tree = world.tree();
        let process = fieldsales_core::process::SalesProcess::standard();
        let lookup = Facts::new(&self.store);
        let ctx = Context {
            author: &me,
            tree: &tree,
            process: &process,
            now: world.now(),
            clock_offset: None,
            lookup: &lookup,
        };
        authority::review(&ctx, before, after)
    }
}
