//! The core's error: rich, typed, and free of personal data.
//!
//! Every failure a caller can act on is its own variant carrying what the caller needs (the
//! existing record of a duplicate, the rule that was broken). The FFI and the server map these
//! to their own smaller public errors at one place each.

use crate::RecordId;
use crate::doc::DocError;
use crate::record::{InvalidRecord, Kind, UnknownKind};
use crate::rule::RuleCode;

/// A core result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Anything the core can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No record with this ID (or not one this user may see).
    #[error("{kind} {id} not found")]
    NotFound {
        /// The kind asked for, when known.
        kind: KindName,
        /// The ID asked for.
        id: RecordId,
    },
    /// The record exists but is of another kind than the operation needs.
    #[error("record {id} is a {found}, not a {expected}")]
    WrongKind {
        /// The record.
        id: RecordId,
        /// The kind the operation needs.
        expected: Kind,
        /// The kind it is.
        found: String,
    },
    /// A field value breaks the record's own rules.
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
    /// A customer with the same normalised name exists already.
    #[error("customer already exists as {existing_id} (similarity {score:.2})")]
    DuplicateCustomer {
        /// The existing customer.
        existing_id: RecordId,
        /// How alike the names are (1.0 for the same normalised name).
        score: f64,
    },
    /// A business rule refused the operation.
    #[error("rule {rule} refused: {detail}")]
    RuleViolated {
        /// The rule's stable code (`stage.skip`, `order.price_mismatch`, ...).
        rule: RuleCode,
        /// What to tell the user.
        detail: String,
    },
    /// The user may not do this.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// A process file was refused; the running configuration is unchanged.
    #[error("the process configuration was not imported:\n{0}")]
    ProcessConfig(#[from] crate::process::ConfigErrors),
    /// An opportunity's stage move was refused.
    #[error(transparent)]
    StageMove(#[from] crate::process::StageMoveRefused),
    /// An approval decision was refused.
    #[error(transparent)]
    Decision(#[from] crate::process::DecisionRefused),
    /// A lead claim was refused.
    #[error(transparent)]
    Claim(#[from] crate::process::ClaimRefused),
    /// A line could not be priced.
    #[error(transparent)]
    Pricing(#[from] crate::process::PricingRefused),
    /// A document's bytes or shape are wrong.
    #[error("record {id:?}: {source}")]
    Document {
        /// The record, when known.
        id: Option<RecordId>,
        /// What is wrong.
        source: DocError,
    },
    /// A kind this version does not know.
    #[error(transparent)]
    UnknownKind(#[from] UnknownKind),
    /// The local database was written by a newer version of the app.
    #[error("database schema {found} is newer than this version supports ({supported})")]
    NewerDatabase {
        /// The database's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The store's file cannot be read with the key given: a wrong key, no key for an
    /// encrypted store, a key for a plain one, or a file that is not a store. Nothing was
    /// written: the file is as it was.
    #[error(
        "the store cannot be opened with this key (a wrong key, no key for an encrypted store, a key for a plain one, or not a store file); nothing was changed"
    )]
    WrongKey,
    /// Input from outside could not be read (malformed ID, time, amount).
    #[error("invalid {field}: {detail}")]
    InvalidInput {
        /// Which input.
        field: &'static str,
        /// Why.
        detail: String,
    },
    /// The SQLite database failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Something inside failed that no input explains (a worker thread stopped): not the
    /// caller's fault, and worth reporting.
    #[error("internal: {0}")]
    Internal(String),
}

/// A kind name for messages; `record` when the caller did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindName(pub Option<Kind>);

impl std::fmt::Display for KindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(k) => f.write_str(k.as_str()),
            None => f.write_str("record"),
        }
    }
}

impl Error {
    /// A document error about record `id`.
    pub fn document(id: impl Into<Option<RecordId>>, source: DocError) -> Self {
        match source {
            DocError::WrongKind { expected, found } => match id.into() {
                Some(id) => Error::WrongKind {
                    id,
                    expected,
                    found,
                },
                None => Error::Document {
                    id: None,
                    source: DocError::WrongKind { expected, found },
                },
            },
            source => Error::Document {
                id: id.into(),
                source,
            },
        }
    }

    /// A missing record of a known kind.
    pub fn not_found(kind: impl Into<Option<Kind>>, id: RecordId) -> Self {
        Error::NotFound {
            kind: KindName(kind.into()),
            id,
        }
    }

    /// A refused business rule.
    pub fn rule(rule: RuleCode, detail: impl Into<String>) -> Self {
        Error::RuleViolated {
            rule,
            detail: detail.into(),
        }
    }
}
