//! The seeded org the dashboard tests stand in: HQ, the East region with teams A1 and A2, the
//! South region with team B1, reps, a team manager, a director and an HQ admin. Records are
//! kept in a list so the same data can fill a server's store (everything) and a phone's store
//! (what the user may see, as sync delivers it).

use std::collections::HashMap;

use fieldsales_core::dashboard::{
    Context, DashboardRequest, DashboardSettings, DateRange, GroupBy, Viewer,
};
use fieldsales_core::fieldwork::{CheckFlag, CheckInVerdict, FenceStatus, FlagKind, Judge};
use fieldsales_core::fieldwork::{ReportState as Compliance, ReportVerdict, SubmissionBasis};
use fieldsales_core::me::Me;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::process::{MoveKind, StageChange};
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::opportunity::{Outcome, OutcomeKind};
use fieldsales_core::record::visit::CheckOut;
use fieldsales_core::record::*;
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::Store;
use fieldsales_core::{LocalDate, Money, RecordId, Timestamp, Zone, testing};

/// An instant written as the field writes it: `"2026-03-10 23:30"` in Shanghai.
pub fn sh(local: &str) -> Timestamp {
    let (d, t) = local.split_once(' ').unwrap();
    Timestamp::parse_rfc3339(&format!("{d}T{t}:00+08:00")).unwrap()
}

/// A day of March 2026.
pub fn march(day: u32) -> LocalDate {
    LocalDate::from_ymd(2026, 3, day).unwrap()
}

/// The working week of 9–15 March 2026.
pub fn week() -> DateRange {
    DateRange::new(march(9), march(15)).unwrap()
}

pub struct World {
    pub records: Vec<AnyRecord>,
    pub unit_of: HashMap<RecordId, RecordId>,
    pub hq: RecordId,
    pub east: RecordId,
    pub team_a1: RecordId,
    pub team_a2: RecordId,
    pub team_b1: RecordId,
    /// Reps of team A1.
    pub alice: RecordId,
    pub bob: RecordId,
    /// Rep of team A2.
    pub carol: RecordId,
    /// Rep of team B1, in the South region.
    pub dan: RecordId,
    /// Manager of team A1.
    pub mia: RecordId,
    /// Director of the East region.
    pub eve: RecordId,
    /// HQ admin.
    pub hank: RecordId,
    pub roles: HashMap<RecordId, (&'static str, DataScope)>,
}

impl World {
    pub fn new() -> World {
        let hq = testing::org_unit("总部", OrgLevel::Hq, None);
        let east = testing::org_unit("华东大区", OrgLevel::Region, Some(hq.header.id));
        let south = testing::org_unit("华南大区", OrgLevel::Region, Some(hq.header.id));
        let a1 = testing::org_unit("上海一组", OrgLevel::Team, Some(east.header.id));
        let a2 = testing::org_unit("杭州组", OrgLevel::Team, Some(east.header.id));
        let b1 = testing::org_unit("深圳组", OrgLevel::Team, Some(south.header.id));
        let mut w = World {
            records: Vec::new(),
            unit_of: HashMap::new(),
            hq: hq.header.id,
            east: east.header.id,
            team_a1: a1.header.id,
            team_a2: a2.header.id,
            team_b1: b1.header.id,
            alice: RecordId::new(),
            bob: RecordId::new(),
            carol: RecordId::new(),
            dan: RecordId::new(),
            mia: RecordId::new(),
            eve: RecordId::new(),
            hank: RecordId::new(),
            roles: HashMap::new(),
        };
        for u in [hq, east, south, a1, a2, b1] {
            w.records.push(u.into());
        }
        let people = [
            (w.alice, "Alice", w.team_a1, "sales_rep", DataScope::Own),
            (w.bob, "Bob", w.team_a1, "sales_rep", DataScope::Own),
            (w.carol, "Carol", w.team_a2, "sales_rep", DataScope::Own),
            (w.dan, "Dan", w.team_b1, "sales_rep", DataScope::Own),
            (w.mia, "Mia", w.team_a1, "sales_manager", DataScope::Subtree),
            (w.eve, "Eve", w.east, "regional_director", DataScope::Region),
            (w.hank, "Hank", w.hq, "admin", DataScope::All),
        ];
        for (id, name, unit, role, scope) in people {
            let mut profile = testing::user(name, unit, role);
            profile.header.id = id;
            // On the books since New Year: every day of March owes a report.
            profile.header.created_at =
                Timestamp::parse_rfc3339("2026-01-01T09:00:00+08:00").unwrap();
            w.unit_of.insert(id, unit);
            w.roles.insert(id, (role, scope));
            w.records.push(profile.into());
        }
        w
    }

    /// Adds a record; an owned record is attributed to its owner's unit, as the server does.
    pub fn put<R: Record + Into<AnyRecord>>(&mut self, mut record: R) -> RecordId {
        let h = record.header_mut();
        if let Some(owner) = h.owner_id
            && h.org_unit_id.is_none()
        {
            h.org_unit_id = self.unit_of.get(&owner).copied();
        }
        let id = h.id;
        self.records.push(record.into());
        id
    }

    /// Who `user` is when signed in, in Shanghai.
    pub fn me(&self, user: RecordId) -> Me {
        let (role, scope) = self.roles[&user].clone();
        Me {
            hidden: Default::default(),
            user_id: user,
            unit_id: self.unit_of[&user],
            roles: vec![role.to_string()],
            scope,
            zone: Zone::SHANGHAI,
        }
    }

    /// The server's store: every record of the tenant.
    pub fn server(&self) -> Store {
        let mut store = Store::open_in_memory().unwrap();
        store.create_batch(self.records.clone()).unwrap();
        store
    }

    /// A phone's store after sync: only what `user` may see.
    pub fn phone(&self, user: RecordId) -> Store {
        let mut store = Store::open_in_memory().unwrap();
        store.create_batch(self.visible_to(user)).unwrap();
        store
    }

    /// The records `user` may see, as the server's pull hands them out.
    pub fn visible_to(&self, user: RecordId) -> Vec<AnyRecord> {
        let me = self.me(user);
        let units: Vec<OrgUnit> = self
            .records
            .iter()
            .filter_map(|r| match r {
                AnyRecord::OrgUnit(u) => Some(u.clone()),
                _ => None,
            })
            .collect();
        let tree = OrgTree::from_units(&units);
        self.records
            .iter()
            .filter(|r| tree.can_see(&me, r.header()))
            .cloned()
            .collect()
    }

    /// A customer of `owner`.
    pub fn customer(&mut self, owner: RecordId, name: &str) -> RecordId {
        self.put(testing::customer(owner, name))
    }

    /// A deal of `owner` that went through `history` (stage, entered at), closing with
    /// `outcome` at the last entry's time when given.
    pub fn deal(
        &mut self,
        owner: RecordId,
        name: &str,
        yuan: i64,
        history: &[(&str, &str)],
        outcome: Option<OutcomeKind>,
    ) -> RecordId {
        let customer = self.customer(owner, &format!("{name} 客户"));
        let mut o = testing::opportunity(owner, customer, name, testing::yuan(yuan));
        o.stage_history = history
            .iter()
            .enumerate()
            .map(|(i, (stage, at))| {
                let from = i.checked_sub(1).map(|p| history[p].0.to_string());
                let terminal = outcome.is_some() && i + 1 == history.len();
                StageChange {
                    kind: match (&from, terminal) {
                        (None, _) => MoveKind::Open,
                        (Some(_), true) => MoveKind::Close,
                        (Some(_), false) => MoveKind::Forward,
                    },
                    from,
                    to: stage.to_string(),
                    at: sh(at),
                    by: owner,
                    reason: terminal.then(|| "客户决定".to_string()),
                }
            })
            .collect();
        let (last_stage, last_at) = history.last().unwrap();
        o.stage = last_stage.to_string();
        o.outcome = outcome.map(|kind| Outcome {
            kind,
            reason: "客户决定".into(),
            at: sh(last_at),
        });
        self.put(o)
    }

    /// A check-in by `owner` at `customer` at a Shanghai time, judged `fence` (none: not
    /// judged yet), with `flags`, checked out after `minutes` if given.
    pub fn check_in(
        &mut self,
        owner: RecordId,
        customer: RecordId,
        at: &str,
        fence: Option<FenceStatus>,
        flags: &[FlagKind],
        minutes: Option<i64>,
    ) -> RecordId {
        let mut v = testing::visit(owner, customer);
        v.check_in.at = sh(at);
        v.check_in.position.fix_time = sh(at);
        v.check_out = minutes.map(|m| CheckOut {
            at: sh(at).plus_secs(m * 60),
            position: None,
        });
        v.verdict = fence.map(|fence| CheckInVerdict {
            fence,
            distance_m: Some(20.0),
            accuracy_m: 8.0,
            radius_m: 200.0,
            flags: flags
                .iter()
                .map(|k| CheckFlag {
                    kind: k.clone(),
                    observed: None,
                    limit: None,
                })
                .collect(),
            judged_by: Judge::Server,
            judged_at: sh(at).plus_secs(60),
        });
        self.put(v)
    }

    /// A plan of `owner` to visit `customers` on `day`.
    pub fn plan(&mut self, owner: RecordId, day: LocalDate, customers: &[RecordId]) -> RecordId {
        let mut p = testing::visit_plan(owner, customers);
        p.date = day;
        self.put(p)
    }

    /// A daily report of `owner` for `day`: submitted at 17:00 and judged `verdict` with
    /// `penalty_yuan`, or submitted and unjudged when `verdict` is `None`.
    pub fn report(
        &mut self,
        owner: RecordId,
        day: LocalDate,
        verdict: Option<(Compliance, i64)>,
    ) -> RecordId {
        let mut r = testing::daily_report(owner);
        r.date = day;
        let submitted = day.at(
            chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            &Zone::SHANGHAI,
        );
        r.state = ReportState::Submitted;
        r.submitted_at = Some(submitted);
        r.verdict = verdict.map(|(state, penalty)| ReportVerdict {
            state,
            basis: SubmissionBasis::DeviceClock,
            effective_submitted_at: Some(submitted),
            deadline: submitted.plus_secs(3600),
            penalty: testing::yuan(penalty),
            day_off: None,
            judged_by: Judge::Server,
            judged_at: submitted.plus_secs(60),
        });
        self.put(r)
    }
}

/// Everything a dashboard needs for `user` over `store`, at `now`.
pub struct Desk {
    pub viewer: Viewer,
    pub process: SalesProcess,
    pub settings: DashboardSettings,
    pub now: Timestamp,
    pub as_of: Option<Timestamp>,
}

impl Desk {
    pub fn new(world: &World, store: &Store, user: RecordId, now: Timestamp) -> Desk {
        Desk {
            viewer: Viewer::of(store, world.me(user)).unwrap(),
            process: SalesProcess::standard(),
            settings: DashboardSettings::default(),
            now,
            as_of: Some(now.plus_secs(-300)),
        }
    }

    pub fn ctx<'a>(&'a self, store: &'a Store) -> Context<'a> {
        Context::new(
            store,
            &self.viewer,
            &self.process,
            &self.settings,
            self.now,
            self.as_of,
        )
    }
}

/// A request for `range` grouped `by`.
pub fn ask(range: DateRange, by: GroupBy) -> DashboardRequest {
    DashboardRequest {
        range,
        group_by: by,
    }
}

/// Money in yuan.
pub fn cny(yuan: i64) -> Money {
    testing::yuan(yuan)
}
