//! Sales targets per rep, team or region and period.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::{LocalDate, Money, RecordId, string_enum};

pub use crate::process::PeriodKind;

string_enum! {
    /// Whom a target is for.
    pub enum TargetSubject {
        /// One rep (`subject_id` is a user).
        Rep = "rep",
        /// A team (`subject_id` is an org unit).
        Team = "team",
        /// A region (`subject_id` is an org unit).
        Region = "region",
    }
}

string_enum! {
    /// What a target counts.
    pub enum TargetMetric {
        /// The amount of confirmed orders.
        WonAmount = "won_amount",
        /// The amount of payments collected.
        CollectedAmount = "collected_amount",
    }
}

/// A target.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Target {
    /// Common fields; a rep's target is owned by the rep, a unit's is attributed to the unit.
    pub header: Header,
    /// Month, quarter or year.
    pub period: PeriodKind,
    /// The first day of the period.
    pub period_start: LocalDate,
    /// Rep, team or region.
    pub subject: TargetSubject,
    /// The rep or unit.
    pub subject_id: RecordId,
    /// What it counts.
    pub metric: TargetMetric,
    /// The amount to reach.
    pub amount: Money,
}

impl Target {
    /// The period as the commission rules see it.
    pub fn as_period(&self) -> crate::process::Period {
        crate::process::Period {
            kind: self.period.clone(),
            start: self.period_start,
        }
    }

    /// The first day after the period.
    pub fn period_end(&self) -> LocalDate {
        self.as_period().end_exclusive()
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        use chrono::Datelike;
        check::non_negative(Kind::Target, "amount", &self.amount)?;
        check::known(Kind::Target, "period", self.period.is_known(), &self.period)?;
        let start = self.period_start.naive();
        let aligned = start.day() == 1
            && match self.period {
                PeriodKind::Quarter => (start.month() - 1).is_multiple_of(3),
                PeriodKind::Year => start.month() == 1,
                _ => true,
            };
        if !aligned {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Target,
                field: "period_start",
                detail: format!("{} does not start a {}", self.period_start, self.period),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: format!("{} {} {}", self.subject, self.period, self.period_start),
            status: Some(self.metric.to_string()),
            local_date: Some(self.period_start),
            ..Index::default()
        }
    }
}
impl_record!(Target, Target);
