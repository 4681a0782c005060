//! Targets, attainment and commissions, computed from the orders on the device.
//!
//! Won business is a confirmed order, counted on the day it was confirmed; collected business
//! is a payment, counted on the day it came in (both in the rep's own time zone). The commission
//! statement is the rules' [`CommissionStatement`]: one line per component with its own
//! explanation, so a rep can check every yuan.

use super::Engine;
use super::people::money_error;
use crate::process::{
    CommissionStatement, DealFacts, SalesBasis, achieved, attainment, commission,
};
use crate::record::order::OrderStatus;
use crate::record::target::{TargetMetric, TargetSubject};
use crate::record::{Order, Target};
use crate::rule::RuleCode;
use crate::store::StoreRead;
use crate::{BasisPoints, Error, LocalDate, Money, RecordId, Result, Zone};

/// Where a target stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Attainment {
    /// The target.
    pub target: Target,
    /// What counted so far in its period.
    pub achieved: Money,
    /// Achieved over target (12,500 is 125%); `None` for a zero target.
    pub attainment: Option<BasisPoints>,
}

impl Engine {
    /// Sets a target for a rep, team or region (managers).
    pub fn set_target(&mut self, target: Target) -> Result<Target> {
        self.require_manager("set targets")?;
        self.guarded()?.create(target)
    }

    /// The deals of the reps `reps` as the commission rules see them: their confirmed orders.
    fn deals_of(&self, reps: &dyn Fn(RecordId) -> bool) -> Result<Vec<DealFacts>> {
        let zones: std::collections::HashMap<RecordId, Zone> = self
            .store()
            .people()?
            .into_iter()
            .map(|p| (p.id, p.zone))
            .collect();
        let zone_of = |rep: RecordId| -> Zone {
            zones
                .get(&rep)
                .cloned()
                .unwrap_or_else(|| self.me().zone.clone())
        };
        let confirmed = self.store().orders_in(OrderStatus::Confirmed.as_str())?;
        Ok(confirmed
            .into_iter()
            .map(|id| self.store().get::<Order>(id))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|o| o.status == OrderStatus::Confirmed)
            .filter_map(|o| {
                let rep = o.header.owner_id?;
                if !reps(rep) {
                    return None;
                }
                let zone = zone_of(rep);
                Some(DealFacts {
                    id: o.header.id,
                    won_amount: o.total,
                    won_on: o.confirmed_at?.local_date(&zone),
                    collections: o
                        .payments
                        .iter()
                        .map(|p| (p.received_at.local_date(&zone), p.amount))
                        .collect(),
                    new_customer: o.new_customer,
                })
            })
            .collect())
    }

    /// Where a target stands now.
    pub fn target_attainment(&self, target_id: RecordId) -> Result<Attainment> {
        let target: Target = self.store().get(target_id)?;
        self.require_visible(&target.header)?;
        let tree = self.org_tree()?;
        let units: std::collections::HashMap<RecordId, RecordId> = self
            .store()
            .people()?
            .into_iter()
            .map(|p| (p.id, p.unit_id))
            .collect();
        let subject = target.subject_id;
        let in_unit = |rep: RecordId| {
            units
                .get(&rep)
                .is_some_and(|unit| tree.is_within(*unit, subject))
        };
        let deals = match target.subject {
            TargetSubject::Rep => self.deals_of(&|rep| rep == subject)?,
            TargetSubject::Team | TargetSubject::Region => self.deals_of(&in_unit)?,
            TargetSubject::Other(ref s) => {
                return Err(Error::rule(
                    RuleCode::TargetUnknownSubject,
                    format!("this version cannot count a target for `{s}`"),
                ));
            }
        };
        let basis = match target.metric {
            TargetMetric::CollectedAmount => SalesBasis::Collected,
            _ => SalesBasis::Won,
        };
        let got = achieved(&deals, &target.as_period(), &basis, target.amount.currency)
            .map_err(money_error("achieved"))?;
        Ok(Attainment {
            attainment: attainment(got, target.amount),
            achieved: got,
            target,
        })
    }

    /// A rep's commission statement for the configured period containing `day`, with one
    /// explained line per component. The attainment bonus uses the rep's target for exactly
    /// that period and the configured basis, when one is set.
    pub fn commission_statement(
        &self,
        rep: RecordId,
        day: LocalDate,
    ) -> Result<CommissionStatement> {
        if rep != self.me().user_id && !self.manages() {
            return Err(Error::NotAllowed(
                "a rep sees only their own commission".into(),
            ));
        }
        let rules = self.process()?.commission;
        let period = crate::process::Period::containing(rules.period.clone(), day);
        let metric = match rules.basis {
            SalesBasis::Collected => TargetMetric::CollectedAmount,
            _ => TargetMetric::WonAmount,
        };
        let target = self
            .store()
            .targets_of(rep)?
            .into_iter()
            .map(|id| self.store().get::<Target>(id))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|t| t.subject == TargetSubject::Rep && t.subject_id == rep)
            .filter(|t| t.as_period() == period && t.metric == metric)
            .max_by_key(|t| t.header.created_at);
        let currency = target
            .as_ref()
            .map(|t| t.amount.currency)
            .unwrap_or(crate::Currency::CNY);
        let deals = self.deals_of(&|r| r == rep)?;
        commission(&rules, rep, &deals, target.map(|t| t.amount), day, currency)
            .map_err(money_error("commission"))
    }
}
