//! What a duplicate-check hit may show about a customer the user may not see.
//!
//! A rep who types a company another rep already owns must learn that it exists (so they ask
//! to be shared, instead of re-creating it), but the check must not become a way to read a
//! colleague's customer. The admin chooses the few fields a hit shows; everything else stays
//! on the owner's devices.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::validate::{ConfigProblem, ConfigSection, FieldPath, Known, Problems};

/// The fields a duplicate hit may show, by key.
pub const DUPLICATE_HIT_FIELDS: &[&str] = &[
    "legal_name",
    "short_name",
    "owner",
    "industry",
    "tier",
    "address",
    "created_at",
];

/// Customer rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields, default)]
pub struct CustomerRules {
    /// Fields of a customer outside the user's scope that a duplicate hit shows (keys from
    /// [`DUPLICATE_HIT_FIELDS`]). The default shows the name and the owner: enough to ask the
    /// owner for a share.
    pub duplicate_hit_fields: Vec<String>,
    /// How long after it happened a follow-up may still be recorded, in hours: the first
    /// follow-up decides ownership disputes, so one backdated further is refused. The default
    /// leaves a phone three days offline.
    #[autosurgeon(missing = "default_backdate_hours")]
    pub follow_up_backdate_hours: u32,
}

fn default_backdate_hours() -> u32 {
    72
}

impl Default for CustomerRules {
    fn default() -> Self {
        CustomerRules {
            duplicate_hit_fields: vec!["legal_name".to_string(), "owner".to_string()],
            follow_up_backdate_hours: default_backdate_hours(),
        }
    }
}

impl CustomerRules {
    /// Whether a hit shows `field`.
    pub fn shows(&self, field: &str) -> bool {
        self.duplicate_hit_fields.iter().any(|f| f == field)
    }
}

impl ConfigSection for CustomerRules {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        out.positive(
            self.follow_up_backdate_hours,
            at.key("follow_up_backdate_hours"),
        );
        for (i, f) in self.duplicate_hit_fields.iter().enumerate() {
            if !DUPLICATE_HIT_FIELDS.contains(&f.as_str()) {
                out.push(
                    at.key("duplicate_hit_fields").index(i),
                    ConfigProblem::Invalid {
                        message: format!(
                            "unknown field `{f}`; use one of {}",
                            DUPLICATE_HIT_FIELDS.join(", ")
                        ),
                    },
                );
            }
        }
    }
}
