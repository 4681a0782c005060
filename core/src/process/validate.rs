//! Checking a process configuration before it is used.
//!
//! A configuration arrives from an admin's TOML file, from the admin API or from a synced
//! document, and a bad one would quietly break every deal on every phone. So every section
//! checks itself and reports *where* the problem is as a field path (`stages[2].next`); the
//! TOML loader turns that path into a line and column of the file the admin is editing.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use crate::money::BasisPoints;

/// One step of a path into the configuration: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table (a struct field or a map key).
    Key(Cow<'static, str>),
    /// A position in an array.
    Index(usize),
}

/// Where in the configuration a value sits, written as `approvals.rules[1].steps[0].roles[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// The root of the configuration.
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// This path followed by a key.
    pub fn key(&self, key: impl Into<Cow<'static, str>>) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.into()));
        p
    }

    /// This path followed by an array index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What is wrong with a configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// The file is not TOML.
    #[error("not valid TOML: {message}")]
    Syntax {
        /// The parser's description.
        message: String,
    },
    /// A value of the wrong type or form, an unknown or a missing field.
    #[error("{message}")]
    Invalid {
        /// What the reader expected.
        message: String,
    },
    /// A rate written below zero.
    #[error("a rate cannot be negative (got {value})")]
    NegativeRate {
        /// The value as written.
        value: String,
    },
    /// An amount written below zero.
    #[error("an amount cannot be negative (got {value})")]
    NegativeAmount {
        /// The value as written.
        value: String,
    },
    /// A count, a number of days or hours written below zero.
    #[error("a number here cannot be negative (got {value})")]
    NegativeNumber {
        /// The value as written.
        value: i64,
    },
    /// A rate above its ceiling (a discount or a probability over 100%).
    #[error("{value} is above the largest allowed, {max}")]
    RateTooHigh {
        /// The rate given.
        value: BasisPoints,
        /// The ceiling.
        max: BasisPoints,
    },
    /// A number that must be at least one was zero.
    #[error("must be at least 1")]
    MustBePositive,
    /// A required text was blank.
    #[error("must not be blank")]
    Blank,
    /// The process has no stage a deal can be in.
    #[error("the stage chain is empty: at least one open stage is needed")]
    EmptyChain,
    /// Two entries share a key that must be unique.
    #[error("`{key}` is defined more than once")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// A stage key that no stage has.
    #[error("unknown stage `{key}`; stages are: {}", known.join(", "))]
    UnknownStage {
        /// The key given.
        key: String,
        /// The stages that exist.
        known: Vec<String>,
    },
    /// A role code that no role has.
    #[error("unknown role `{role}`; roles are: {}", known.join(", "))]
    UnknownRole {
        /// The role given.
        role: String,
        /// The roles that exist.
        known: Vec<String>,
    },
    /// Following `next` from this stage comes back to it.
    #[error("the stage order is cyclic: {}", cycle.join(" → "))]
    CyclicStageOrder {
        /// The stages of the cycle, first repeated at the end.
        cycle: Vec<String>,
    },
    /// Two stages name the same stage as their `next`.
    #[error("stage `{stage}` follows more than one stage: {}", predecessors.join(", "))]
    BranchingChain {
        /// The stage named twice.
        stage: String,
        /// The stages that name it.
        predecessors: Vec<String>,
    },
    /// An open stage that the chain from the first stage never reaches.
    #[error("stage `{key}` is not on the chain that starts at `{start}`")]
    DisconnectedStage {
        /// The stage left out.
        key: String,
        /// Where the chain starts.
        start: String,
    },
    /// A won or a lost stage is missing.
    #[error("the process needs a terminal stage with outcome `{outcome}`")]
    MissingOutcome {
        /// `won` or `lost`.
        outcome: String,
    },
    /// A terminal stage names a next stage, or a stage's next is a terminal stage.
    #[error("`next` must name an open stage and only open stages have one (`{key}`)")]
    MisplacedNext {
        /// The stage involved.
        key: String,
    },
    /// The lead stage must be the first of the chain.
    #[error("the lead stage `{key}` must be the first stage of the chain")]
    LeadStageNotFirst {
        /// The stage marked as the lead stage.
        key: String,
    },
    /// A step's field or a field key repeated or unknown.
    #[error("unknown field `{key}` of stage `{stage}`")]
    UnknownField {
        /// The stage.
        stage: String,
        /// The field key.
        key: String,
    },
    /// An approval rule with no condition would apply to everything.
    #[error(
        "an approval rule needs at least one condition (kinds, amount_over, discount_over, discount_over_role_limit or stage)"
    )]
    RuleWithoutCondition,
    /// An approval rule or step with nothing to do.
    #[error("must list at least one entry")]
    EmptyList,
    /// A period that ends before it starts.
    #[error("ends ({until}) before it starts ({from})")]
    EndsBeforeStart {
        /// First day.
        from: String,
        /// Last day.
        until: String,
    },
}

/// One problem found in a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the problem is.
    pub path: FieldPath,
    /// What it is.
    pub problem: ConfigProblem,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// What a section may look up about the rest of the configuration while it checks itself.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Every stage key.
    pub stages: Vec<String>,
    /// Every role code.
    pub roles: Vec<String>,
}

impl Known {
    /// Reports `stage` unless it exists.
    pub fn check_stage(&self, stage: &str, at: FieldPath, out: &mut Problems) {
        if !self.stages.iter().any(|s| s == stage) {
            out.push(
                at,
                ConfigProblem::UnknownStage {
                    key: stage.to_string(),
                    known: self.stages.clone(),
                },
            );
        }
    }

    /// Reports `role` unless it exists.
    pub fn check_role(&self, role: &str, at: FieldPath, out: &mut Problems) {
        if !self.roles.iter().any(|r| r == role) {
            out.push(
                at,
                ConfigProblem::UnknownRole {
                    role: role.to_string(),
                    known: self.roles.clone(),
                },
            );
        }
    }
}

/// The problems found so far.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records a problem at `path`.
    pub fn push(&mut self, path: FieldPath, problem: ConfigProblem) {
        self.0.push(Problem { path, problem });
    }

    /// Reports a blank text.
    pub fn non_blank(&mut self, value: &str, at: FieldPath) {
        if value.trim().is_empty() {
            self.push(at, ConfigProblem::Blank);
        }
    }

    /// Reports a rate above `max`.
    pub fn at_most(&mut self, value: BasisPoints, max: BasisPoints, at: FieldPath) {
        if value > max {
            self.push(at, ConfigProblem::RateTooHigh { value, max });
        }
    }

    /// Reports zero.
    pub fn positive(&mut self, value: u32, at: FieldPath) {
        if value == 0 {
            self.push(at, ConfigProblem::MustBePositive);
        }
    }

    /// Reports the keys that occur more than once, each at its second occurrence.
    pub fn unique_keys<'a>(&mut self, keys: impl IntoIterator<Item = (FieldPath, &'a str)>) {
        let mut seen = BTreeSet::new();
        for (path, key) in keys {
            if !seen.insert(key) {
                self.push(
                    path,
                    ConfigProblem::DuplicateKey {
                        key: key.to_string(),
                    },
                );
            }
        }
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A section of the process configuration (`[leads]`, `[commission]`, and sections that other
/// modules add such as `[geofence]`) that checks itself.
///
/// A section reports paths relative to `at`, the path of the section itself, so the loader can
/// point at the right line whatever the section is called.
pub trait ConfigSection {
    /// Records every problem of this section in `out`.
    fn validate(&self, at: &FieldPath, known: &Known, out: &mut Problems);
}

/// 100%: the ceiling of discounts and probabilities.
pub const FULL: BasisPoints = BasisPoints(10_000);
