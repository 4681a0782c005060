//! Rules about deals beyond their stages: the fine for progress a manager finds false.
//!
//! A deal moved through its stages on paper and not with the customer (虚假推进: "no faking
//! progress", say the usage rules) inflates the funnel and the forecast a manager plans with.
//! A manager over the rep marks it, saying why, the way a daily report is found false; the
//! penalty is configuration (`[deals] false_progress_penalty`, default 100), fixed on the mark
//! when the server receives it, so a later change of the setting does not rewrite past fines.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::validate::{ConfigProblem, ConfigSection, FieldPath, Known, Problems};
use crate::money::{Currency, Money};

/// The largest penalty accepted, in whole currency units (as for report penalties).
const MAX_PENALTY: u32 = 100_000;

fn default_false_progress_penalty() -> u32 {
    100
}

/// Deal rules (`[deals]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields, default)]
pub struct DealRules {
    /// The penalty for progress a manager finds false, in whole units of `currency`.
    #[autosurgeon(missing = "default_false_progress_penalty")]
    pub false_progress_penalty: u32,
    /// The currency of the penalty.
    #[autosurgeon(missing = "Currency::default")]
    pub currency: Currency,
}

impl Default for DealRules {
    fn default() -> Self {
        DealRules {
            false_progress_penalty: default_false_progress_penalty(),
            currency: Currency::default(),
        }
    }
}

impl DealRules {
    /// The false-progress penalty as money.
    pub fn false_progress_fine(&self) -> Money {
        Money::major(i64::from(self.false_progress_penalty), self.currency)
    }
}

impl ConfigSection for DealRules {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        if self.false_progress_penalty > MAX_PENALTY {
            out.push(
                at.key("false_progress_penalty"),
                ConfigProblem::Invalid {
                    message: format!(
                        "{} is out of range; expected 0 to {MAX_PENALTY} whole units",
                        self.false_progress_penalty
                    ),
                },
            );
        }
    }
}
