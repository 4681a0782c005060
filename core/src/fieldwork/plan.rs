//! A day's visit plan against the visits actually made.
//!
//! Plans and visits are matched per customer and by count: a customer planned twice and
//! visited once has one planned visit done and one not done; a third visit to a customer
//! planned twice is unplanned. Visits are taken in check-in order, so the earliest visit to a
//! customer is the one that fulfils its plan, and the result does not depend on input order.

use crate::id::RecordId;
use crate::money::BasisPoints;
use crate::string_enum;
use crate::time::Timestamp;

string_enum! {
    /// How one line of plan-versus-actual came out.
    pub enum PlanOutcome {
        /// A planned visit that happened.
        PlannedDone = "planned_done",
        /// A planned visit that did not happen.
        PlannedNotDone = "planned_not_done",
        /// A visit that was not planned.
        Unplanned = "unplanned",
    }
}

/// A visit made on the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActualVisit {
    /// The visit record.
    pub visit_id: RecordId,
    /// The customer visited.
    pub customer_id: RecordId,
    /// When it began.
    pub checked_in_at: Timestamp,
}

/// One line of plan-versus-actual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// The customer.
    pub customer_id: RecordId,
    /// Done, not done, or unplanned.
    pub outcome: PlanOutcome,
    /// The visit, when there was one.
    pub visit_id: Option<RecordId>,
}

/// A day's plan against its visits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanVsActual {
    /// Planned customers in plan order, then unplanned visits in check-in order.
    pub lines: Vec<PlanLine>,
}

impl PlanVsActual {
    /// How many lines came out as `outcome`.
    pub fn count(&self, outcome: &PlanOutcome) -> usize {
        self.lines.iter().filter(|l| &l.outcome == outcome).count()
    }

    /// Planned visits done as a share of planned visits; `None` when nothing was planned.
    pub fn completion(&self) -> Option<BasisPoints> {
        let done = self.count(&PlanOutcome::PlannedDone);
        let planned = done + self.count(&PlanOutcome::PlannedNotDone);
        if planned == 0 {
            return None;
        }
        u32::try_from(done * 10_000 / planned).ok().map(BasisPoints)
    }
}

/// Compares the customers planned for a day (in plan order, repeats allowed) with the visits
/// made that day.
pub fn compare_plan(planned: &[RecordId], visits: &[ActualVisit]) -> PlanVsActual {
    let mut remaining: Vec<&ActualVisit> = visits.iter().collect();
    remaining.sort_by_key(|v| (v.checked_in_at, v.visit_id));

    let mut lines = Vec::with_capacity(planned.len() + visits.len());
    for &customer_id in planned {
        let matched = remaining
            .iter()
            .position(|v| v.customer_id == customer_id)
            .map(|i| remaining.remove(i));
        lines.push(PlanLine {
            customer_id,
            outcome: if matched.is_some() {
                PlanOutcome::PlannedDone
            } else {
                PlanOutcome::PlannedNotDone
            },
            visit_id: matched.map(|v| v.visit_id),
        });
    }
    lines.extend(remaining.into_iter().map(|v| PlanLine {
        customer_id: v.customer_id,
        outcome: PlanOutcome::Unplanned,
        visit_id: Some(v.visit_id),
    }));
    PlanVsActual { lines }
}
