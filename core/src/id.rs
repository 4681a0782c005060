//! Record identifiers: UUID v7, made on the device so everything can be created offline.
//!
//! Version 7 UUIDs start with a millisecond timestamp, so IDs created later sort later and
//! B-tree indexes on them stay append-mostly.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identifier of one record (and of its Automerge document).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(Uuid);

/// A string that is not a record ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed record id `{input}`: expected a UUID such as 0190f5b8-7c1e-7a3b-9d2e-4f6a8b0c1d2e"
)]
pub struct MalformedId {
    /// What was given (cut to 64 characters).
    pub input: String,
}

impl RecordId {
    /// A new, time-ordered ID.
    pub fn new() -> Self {
        RecordId(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        RecordId(uuid)
    }

    /// The UUID inside.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 16 raw bytes, for compact storage.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Reads 16 raw bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, MalformedId> {
        Uuid::from_slice(bytes)
            .map(RecordId)
            .map_err(|_| MalformedId {
                input: format!("{} raw bytes", bytes.len()),
            })
    }

    /// A deterministic ID derived from a name, for records that must be the same on every
    /// device without coordination (for example the one process configuration of a tenant).
    pub fn derived(namespace: &str, name: &str) -> Self {
        let ns = Uuid::new_v5(&Uuid::NAMESPACE_OID, namespace.as_bytes());
        RecordId(Uuid::new_v5(&ns, name.as_bytes()))
    }
}

impl Default for RecordId {
    fn default() -> Self {
        RecordId::new()
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0.hyphenated())
    }
}

impl FromStr for RecordId {
    type Err = MalformedId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(RecordId)
            .map_err(|_| MalformedId {
                input: s.chars().take(64).collect(),
            })
    }
}

impl Reconcile for RecordId {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.0.hyphenated().to_string())
    }
}

impl Hydrate for RecordId {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|e: MalformedId| HydrateError::unexpected("a record id", e.input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_later_sort_later() {
        let a = RecordId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = RecordId::new();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn malformed_ids_are_typed_errors() {
        let err = "not-an-id".parse::<RecordId>().unwrap_err();
        assert_eq!(err.input, "not-an-id");
        assert!(RecordId::from_slice(&[1, 2, 3]).is_err());
    }

    #[test]
    fn derived_ids_are_stable() {
        assert_eq!(
            RecordId::derived("process-config", "acme"),
            RecordId::derived("process-config", "acme")
        );
        assert_ne!(
            RecordId::derived("process-config", "acme"),
            RecordId::derived("process-config", "other")
        );
    }
}
