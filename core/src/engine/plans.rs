//! Visit plans (拜访计划): the customers a rep means to see on a day, written by the rep or
//! their manager, and how the day turned out against them.

use crate::fieldwork::{ActualVisit, PlanVsActual, compare_plan};
use crate::record::visit_plan::PlannedVisit;
use crate::record::{Header, Kind, UserProfile, VisitPlan};
use crate::store::ListFilter;
use crate::store::StoreRead;
use crate::{Error, LocalDate, RecordId, Result};

use super::Engine;

/// The most visits one day's plan holds: more is a typing accident, not a plan.
pub const MAX_PLANNED_VISITS: usize = 100;

impl Engine {
    /// Plans `rep`'s visits for `date` (in the rep's zone), replacing the day's list. A rep
    /// plans their own day; a manager plans the day of a rep in their scope.
    pub fn plan_visits(
        &mut self,
        rep: RecordId,
        date: LocalDate,
        items: Vec<PlannedVisit>,
    ) -> Result<VisitPlan> {
        if items.len() > MAX_PLANNED_VISITS {
            return Err(Error::InvalidInput {
                field: "items",
                detail: format!(
                    "{} visits planned; at most {MAX_PLANNED_VISITS}",
                    items.len()
                ),
            });
        }
        let me = self.me().clone();
        let now = self.now();
        let (unit, zone) = if rep == me.user_id {
            (me.unit_id, me.zone.clone())
        } else {
            let profile: UserProfile = self.store().get(rep)?;
            let tree = crate::scope::OrgTree::load(self.store().connection())?;
            if !me.manages_others() || !tree.visible_units(&me).covers(profile.unit_id) {
                return Err(Error::NotAllowed(
                    "a manager plans visits only for reps in their scope".into(),
                ));
            }
            (profile.unit_id, profile.zone)
        };
        for item in &items {
            let kind = self.store().kind_of(item.customer_id)?;
            if kind.as_deref() != Some(Kind::Customer.as_str()) {
                return Err(Error::not_found(Kind::Customer, item.customer_id));
            }
        }
        match self.plan_for(rep, date)? {
            Some(plan) => self.guarded()?.update::<VisitPlan>(plan.header.id, |p| {
                p.items = items;
                p.planned_by = me.user_id;
                if rep != me.user_id {
                    p.header.shared_with.insert(me.user_id);
                }
                Ok(())
            }),
            None => {
                let mut header = Header::new(me.user_id, now);
                header.owner_id = Some(rep);
                header.org_unit_id = Some(unit);
                if rep != me.user_id {
                    header.shared_with.insert(me.user_id);
                }
                self.guarded()?.create(VisitPlan {
                    header,
                    date,
                    zone,
                    planned_by: me.user_id,
                    items,
                })
            }
        }
    }

    /// `rep`'s plan for `date`, if one was written.
    pub fn plan_for(&self, rep: RecordId, date: LocalDate) -> Result<Option<VisitPlan>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::VisitPlan),
            owner: Some(rep),
            from_date: Some(date),
            to_date: Some(date),
            limit: Some(16),
            ..ListFilter::default()
        })?;
        // Two devices may each have created the day's plan offline: the earliest one counts,
        // so every device picks the same.
        let mut plans = rows
            .iter()
            .map(|r| self.store().get::<VisitPlan>(r.id))
            .collect::<Result<Vec<_>>>()?;
        plans.sort_by_key(|p| (p.header.created_at, p.header.id));
        Ok(plans.into_iter().next())
    }

    /// The day's planned visits against the visits made: done, not done, unplanned.
    pub fn plan_vs_actual(&self, rep: RecordId, date: LocalDate) -> Result<PlanVsActual> {
        let planned: Vec<RecordId> = self
            .plan_for(rep, date)?
            .map(|p| p.items.iter().map(|i| i.customer_id).collect())
            .unwrap_or_default();
        let visits: Vec<ActualVisit> = self
            .visits_on(rep, date)?
            .into_iter()
            .map(|v| ActualVisit {
                visit_id: v.header.id,
                customer_id: v.customer_id,
                checked_in_at: v.check_in.at,
            })
            .collect();
        Ok(compare_plan(&planned, &visits))
    }
}
