//! Targets and commission on the phone: a manager sets a rep's or a unit's target, anyone who
//! may see a target follows its attainment, and a rep reads their commission statement with
//! one explained line per component (a manager reads their reps').
//!
//! Attainment and commission are computed in core from the synced orders and process, so the
//! phone shows offline what the browser dashboards show. Who may set a target is the
//! server's rule too: someone above its subject with the right to set targets, never for
//! themselves (`target.own`).

use std::sync::Arc;

use fieldsales_core::process::{
    CommissionComponent as CoreComponent, CommissionStatement as CoreStatement,
    PeriodKind as CorePeriod,
};
use fieldsales_core::record::target::{TargetMetric as CoreMetric, TargetSubject as CoreSubject};
use fieldsales_core::record::{Header, Kind, Target as CoreTarget};
use fieldsales_core::store::{ListFilter, StoreRead};
use fieldsales_core::{BasisPoints, Error as CoreError};

use crate::engine::{Engine, record_id};
use crate::error::FieldsalesError;
use crate::money::Money;

/// The length of a target's or a commission's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PeriodKind {
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
    /// A period a newer version of the product defines.
    Other,
}

impl From<CorePeriod> for PeriodKind {
    fn from(p: CorePeriod) -> Self {
        match p {
            CorePeriod::Month => PeriodKind::Month,
            CorePeriod::Quarter => PeriodKind::Quarter,
            CorePeriod::Year => PeriodKind::Year,
            CorePeriod::Other(_) => PeriodKind::Other,
        }
    }
}

impl PeriodKind {
    fn core(self) -> Result<CorePeriod, FieldsalesError> {
        match self {
            PeriodKind::Month => Ok(CorePeriod::Month),
            PeriodKind::Quarter => Ok(CorePeriod::Quarter),
            PeriodKind::Year => Ok(CorePeriod::Year),
            PeriodKind::Other => Err(FieldsalesError::InvalidInput {
                field: "period".into(),
                detail: "a target's period is a month, a quarter or a year".into(),
            }),
        }
    }
}

/// Whom a target is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TargetSubject {
    /// One rep: the subject is a user.
    Rep,
    /// A team: the subject is an org unit.
    Team,
    /// A region: the subject is an org unit.
    Region,
    /// A subject a newer version of the product defines.
    Other,
}

/// What a target counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TargetMetric {
    /// The amount of confirmed orders.
    WonAmount,
    /// The amount of payments collected.
    CollectedAmount,
    /// A measure a newer version of the product defines.
    Other,
}

impl From<CoreSubject> for TargetSubject {
    fn from(s: CoreSubject) -> Self {
        match s {
            CoreSubject::Rep => TargetSubject::Rep,
            CoreSubject::Team => TargetSubject::Team,
            CoreSubject::Region => TargetSubject::Region,
            CoreSubject::Other(_) => TargetSubject::Other,
        }
    }
}

impl From<CoreMetric> for TargetMetric {
    fn from(m: CoreMetric) -> Self {
        match m {
            CoreMetric::WonAmount => TargetMetric::WonAmount,
            CoreMetric::CollectedAmount => TargetMetric::CollectedAmount,
            CoreMetric::Other(_) => TargetMetric::Other,
        }
    }
}

/// A target.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Target {
    /// Record ID.
    pub id: String,
    /// Month, quarter or year.
    pub period: PeriodKind,
    /// The first day of the period, `YYYY-MM-DD`.
    pub period_start: fieldsales_core::LocalDate,
    /// Rep, team or region.
    pub subject: TargetSubject,
    /// The rep or unit.
    pub subject_id: String,
    /// What it counts.
    pub metric: TargetMetric,
    /// The amount to reach.
    pub amount: Money,
    /// Who set it.
    pub set_by_id: Option<String>,
}

impl From<CoreTarget> for Target {
    fn from(t: CoreTarget) -> Self {
        Target {
            id: t.header.id.to_string(),
            period: t.period.into(),
            period_start: t.period_start,
            subject: t.subject.into(),
            subject_id: t.subject_id.to_string(),
            metric: t.metric.into(),
            amount: t.amount.into(),
            set_by_id: t.header.created_by.map(|u| u.to_string()),
        }
    }
}

/// A new target.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewTarget {
    /// Month, quarter or year.
    pub period: PeriodKind,
    /// The first day of the period, `YYYY-MM-DD` (the 1st of a month; of January, April,
    /// July or October for a quarter; of January for a year).
    pub period_start: fieldsales_core::LocalDate,
    /// Rep, team or region.
    pub subject: TargetSubject,
    /// The rep or unit.
    pub subject_id: String,
    /// What it counts.
    pub metric: TargetMetric,
    /// The amount to reach (positive).
    pub amount: Money,
}

/// Where a target stands.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Attainment {
    /// The target.
    pub target: Target,
    /// What counted so far in its period.
    pub achieved: Money,
    /// Achieved over target in basis points (12,500 is 125%); `None` for a zero target.
    pub attainment_bp: Option<i64>,
}

/// Which part of the commission a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CommissionComponent {
    /// The base rate on all sales.
    Base,
    /// The bonus on sales to new customers.
    NewCustomerBonus,
    /// The bonus for the attainment tier reached.
    AttainmentBonus,
    /// A component a newer version of the product defines.
    Other,
}

/// One explained line of a commission statement.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CommissionLine {
    /// Which component.
    pub component: CommissionComponent,
    /// The amount the rate applies to.
    pub basis: Money,
    /// The rate in basis points (3% is 300).
    pub rate_bp: i64,
    /// The commission of this component.
    pub amount: Money,
    /// The line in words, for the rep.
    pub explanation: String,
}

/// A rep's commission for one period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CommissionStatement {
    /// The rep.
    pub rep_id: String,
    /// The period's length.
    pub period: PeriodKind,
    /// Its first day, `YYYY-MM-DD`.
    pub period_start: fieldsales_core::LocalDate,
    /// What counted in the period.
    pub sales: Money,
    /// Attainment against the rep's target, in basis points, when there is one.
    pub attainment_bp: Option<i64>,
    /// One line per component that applies.
    pub lines: Vec<CommissionLine>,
    /// The sum of the lines.
    pub total: Money,
}

fn bp(b: Option<BasisPoints>) -> Option<i64> {
    b.map(|b| i64::from(b.0))
}

impl From<CoreStatement> for CommissionStatement {
    fn from(s: CoreStatement) -> Self {
        CommissionStatement {
            rep_id: s.rep.to_string(),
            period: s.period.kind.into(),
            period_start: s.period.start,
            sales: s.sales.into(),
            attainment_bp: bp(s.attainment),
            lines: s
                .lines
                .into_iter()
                .map(|l| CommissionLine {
                    component: match l.component {
                        CoreComponent::Base => CommissionComponent::Base,
                        CoreComponent::NewCustomerBonus => CommissionComponent::NewCustomerBonus,
                        CoreComponent::AttainmentBonus => CommissionComponent::AttainmentBonus,
                        CoreComponent::Other(_) => CommissionComponent::Other,
                    },
                    basis: l.basis.into(),
                    rate_bp: i64::from(l.rate.0),
                    amount: l.amount.into(),
                    explanation: l.explanation,
                })
                .collect(),
            total: s.total.into(),
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Sets a target (a manager for a rep of their team, a director for a team of their
    /// region); nobody sets their own (`target.own` on the server, not allowed here).
    pub async fn set_target(self: Arc<Self>, target: NewTarget) -> Result<Target, FieldsalesError> {
        let period = target.period.core()?;
        let period_start = target.period_start;
        let subject_id = record_id("target.subject_id", &target.subject_id)?;
        let amount = target.amount.checked("target.amount")?;
        if amount.minor <= 0 {
            return Err(FieldsalesError::InvalidInput {
                field: "target.amount".into(),
                detail: "a target is a positive amount".into(),
            });
        }
        let metric = match target.metric {
            TargetMetric::WonAmount => CoreMetric::WonAmount,
            TargetMetric::CollectedAmount => CoreMetric::CollectedAmount,
            TargetMetric::Other => {
                return Err(FieldsalesError::InvalidInput {
                    field: "target.metric".into(),
                    detail: "a target counts won or collected amounts".into(),
                });
            }
        };
        let subject = match target.subject {
            TargetSubject::Rep => CoreSubject::Rep,
            TargetSubject::Team => CoreSubject::Team,
            TargetSubject::Region => CoreSubject::Region,
            TargetSubject::Other => {
                return Err(FieldsalesError::InvalidInput {
                    field: "target.subject".into(),
                    detail: "a target is for a rep, a team or a region".into(),
                });
            }
        };
        self.write(move |e| {
            let now = e.now();
            let me = e.me().clone();
            // A rep's target is the rep's, in their unit; a unit's is attributed to the unit.
            let header = match subject {
                CoreSubject::Rep => {
                    let profile = e
                        .user_profile(subject_id)?
                        .ok_or_else(|| CoreError::not_found(Kind::UserProfile, subject_id))?;
                    let mut h = Header::new(subject_id, now);
                    h.org_unit_id = Some(profile.unit_id);
                    h
                }
                _ => {
                    if e.store().kind_of(subject_id)?.as_deref() != Some(Kind::OrgUnit.as_str()) {
                        return Err(CoreError::not_found(Kind::OrgUnit, subject_id).into());
                    }
                    let mut h = Header::unowned(Some(me.user_id), now);
                    h.org_unit_id = Some(subject_id);
                    h
                }
            };
            let mut header = header;
            header.created_by = Some(me.user_id);
            Ok(e.set_target(CoreTarget {
                header,
                period,
                period_start,
                subject,
                subject_id,
                metric,
                amount,
            })?
            .into())
        })
        .await
    }

    /// The targets of a rep or unit that the user may see, newest period first.
    pub async fn targets_of(
        self: Arc<Self>,
        subject_id: String,
    ) -> Result<Vec<Target>, FieldsalesError> {
        let subject = record_id("subject_id", &subject_id)?;
        self.read(move |e| {
            let tree = e.org_tree()?;
            let mut out = Vec::new();
            for row in e.store().list(&ListFilter {
                kind: Some(Kind::Target),
                limit: Some(10_000),
                ..ListFilter::default()
            })? {
                let t: CoreTarget = e.store().get(row.id)?;
                if t.subject_id == subject && tree.can_see(e.me(), &t.header) {
                    out.push(t);
                }
            }
            out.sort_by_key(|t| std::cmp::Reverse(t.period_start));
            Ok(out.into_iter().map(Target::from).collect())
        })
        .await
    }

    /// Where a target stands now: what counted so far in its period and the share reached.
    pub async fn target_attainment(
        self: Arc<Self>,
        target_id: String,
    ) -> Result<Attainment, FieldsalesError> {
        let id = record_id("target_id", &target_id)?;
        self.read(move |e| {
            let a = e.target_attainment(id)?;
            Ok(Attainment {
                target: a.target.into(),
                achieved: a.achieved.into(),
                attainment_bp: bp(a.attainment),
            })
        })
        .await
    }

    /// A rep's commission statement for the configured period containing the local day
    /// `date` (`YYYY-MM-DD`): their own, or, for a manager, a rep's.
    pub async fn commission_statement(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<CommissionStatement, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        let day = date;
        self.read(move |e| Ok(e.commission_statement(rep, day)?.into()))
            .await
    }
}
