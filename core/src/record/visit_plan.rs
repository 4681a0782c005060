//! Visit plans (拜访计划): the customers a rep means to visit on a day.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, impl_record};
use crate::{LocalDate, RecordId, Timestamp, Zone};

/// One planned visit.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct PlannedVisit {
    /// The customer.
    pub customer_id: RecordId,
    /// The planned time, if set.
    pub planned_at: Option<Timestamp>,
    /// What the visit is for.
    pub purpose: Option<String>,
}

/// A rep's plan for one local day. The rep or their manager writes it; `owner_id` is the rep.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct VisitPlan {
    /// Common fields.
    pub header: Header,
    /// The local day.
    pub date: LocalDate,
    /// The rep's zone.
    pub zone: Zone,
    /// Who planned it (the rep or their manager).
    pub planned_by: RecordId,
    /// The planned visits.
    pub items: Vec<PlannedVisit>,
}

impl VisitPlan {
    fn check(&self) -> Result<(), InvalidRecord> {
        let mut seen = std::collections::BTreeSet::new();
        for item in &self.items {
            if !seen.insert(item.customer_id) {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::VisitPlan,
                    field: "items",
                    detail: format!("customer {} is planned twice", item.customer_id),
                });
            }
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: format!("{} ({} visits)", self.date, self.items.len()),
            local_date: Some(self.date),
            occurred_at: Some(self.date.start(&self.zone)),
            ..Index::default()
        }
    }
}
impl_record!(VisitPlan, VisitPlan);
