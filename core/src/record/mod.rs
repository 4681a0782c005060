//! Typed records: one Automerge document each.
//!
//! A record is a plain Rust struct that derives autosurgeon's `Reconcile` and `Hydrate`. Its
//! document root holds `kind`, `schema_version` and the struct's fields; the common fields every
//! record has (ID, owner, org unit, collaborators, creation, tombstone) sit in a nested
//! [`Header`]. Short values (names, codes, enums, amounts) are scalars; only long free text
//! (visit notes, report sections, follow-up text) is collaborative `Text`, which keeps
//! documents small.
//!
//! Forward compatibility: a struct's reconcile only writes the keys it knows, so fields a newer
//! app version wrote survive a round trip through this one; enumerations hydrate unknown codes
//! into `Other` (see [`crate::codec`]); and `schema_version` is never lowered on write.

mod envelope;
mod sets;

pub mod approval;
pub mod contact;
pub mod customer;
pub mod daily_report;
pub mod follow_up;
pub mod lead;
pub mod opportunity;
pub mod order;
pub mod org;
pub mod private;
pub mod process_config;
pub mod product;
pub mod target;
pub mod task;
pub mod visit;
pub mod visit_plan;

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

pub use approval::Approval;
pub use contact::Contact;
pub use customer::Customer;
pub use daily_report::DailyReport;
pub use follow_up::FollowUp;
pub use lead::Lead;
pub use opportunity::Opportunity;
pub use order::Order;
pub use org::{DataScope, OrgLevel, OrgUnit, Role, UserProfile};
pub use private::{PrivateField, SensitiveField};
pub use process_config::ProcessConfig;
pub use product::Product;
pub use sets::{IdSet, StringSet};
pub use target::Target;
pub use task::Task;
pub use visit::Visit;
pub use visit_plan::VisitPlan;

use crate::{LocalDate, RecordId, Timestamp};

/// The fields every record carries.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Header {
    /// The record's ID, equal to its document's ID. Never changes.
    pub id: RecordId,
    /// The user who owns the record (a rep, usually); `None` for shared records such as
    /// leads in the public pool or the product catalogue.
    pub owner_id: Option<RecordId>,
    /// The org unit the record is attributed to when it has no owner (the pool a lead sits in,
    /// the team a target is for). For owned records the server derives it from the owner.
    pub org_unit_id: Option<RecordId>,
    /// Collaborators the owner shared the record with.
    #[autosurgeon(missing = "IdSet::new")]
    pub shared_with: IdSet,
    /// When the record was created (device time).
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: Option<RecordId>,
    /// Set when the record is deleted: a tombstone merges safely with concurrent edits.
    pub deleted: Option<Tombstone>,
}

impl Header {
    /// A header for a record created now by `creator`, owned by the creator.
    pub fn new(creator: RecordId, at: Timestamp) -> Self {
        Header {
            id: RecordId::new(),
            owner_id: Some(creator),
            org_unit_id: None,
            shared_with: IdSet::new(),
            created_at: at,
            created_by: Some(creator),
            deleted: None,
        }
    }

    /// A header for a record that belongs to nobody in particular (catalogue, org tree).
    pub fn unowned(creator: Option<RecordId>, at: Timestamp) -> Self {
        Header {
            owner_id: None,
            created_by: creator,
            ..Header::new(creator.unwrap_or_default(), at)
        }
    }

    /// Whether the record carries a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }
}

/// The mark a deleted record keeps.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Tombstone {
    /// When it was deleted.
    pub at: Timestamp,
    /// Who deleted it.
    pub by: Option<RecordId>,
    /// Why, when given.
    pub reason: Option<String>,
}

/// A reference from one record to another of a known kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct RecordRef {
    /// The kind of the referenced record.
    pub kind: Kind,
    /// Its ID.
    pub id: RecordId,
}

macro_rules! kinds {
    ($( $(#[$meta:meta])* $variant:ident => $code:literal, $ty:ty; )+) => {
        /// The kinds of record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[$meta])* $variant, )+
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            /// The code stored in documents and projections.
            pub const fn as_str(self) -> &'static str {
                match self { $( Kind::$variant => $code, )+ }
            }
        }

        impl FromStr for Kind {
            type Err = UnknownKind;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $code => Ok(Kind::$variant), )+
                    other => Err(UnknownKind(other.chars().take(64).collect())),
                }
            }
        }

        /// A record of any kind, for code that handles records generically (sync, the server's
        /// checks, projections).
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum AnyRecord {
            $( $(#[$meta])* $variant($ty), )+
        }

        impl AnyRecord {
            /// The record's kind.
            pub fn kind(&self) -> Kind {
                match self { $( AnyRecord::$variant(_) => Kind::$variant, )+ }
            }

            /// The common header.
            pub fn header(&self) -> &Header {
                match self { $( AnyRecord::$variant(r) => r.header(), )+ }
            }

            /// The common header, for changes.
            pub fn header_mut(&mut self) -> &mut Header {
                match self { $( AnyRecord::$variant(r) => r.header_mut(), )+ }
            }

            /// Checks the record's own fields.
            pub fn validate(&self) -> Result<(), InvalidRecord> {
                match self { $( AnyRecord::$variant(r) => r.validate(), )+ }
            }

            /// What the store indexes about the record.
            pub fn index(&self) -> Index {
                match self { $( AnyRecord::$variant(r) => r.index(), )+ }
            }

            /// Hydrates a document whose root says it holds a `kind`.
            pub(crate) fn hydrate_as(
                kind: Kind,
                doc: &impl autosurgeon::ReadDoc,
            ) -> Result<Self, autosurgeon::HydrateError> {
                Ok(match kind {
                    $( Kind::$variant => AnyRecord::$variant(autosurgeon::hydrate(doc)?), )+
                })
            }

            /// Writes the record's fields, with `kind` and `schema_version`, into a document.
            pub(crate) fn reconcile_into(
                &self,
                doc: &mut automerge::AutoCommit,
                schema_version: u64,
            ) -> Result<(), autosurgeon::ReconcileError> {
                match self {
                    $( AnyRecord::$variant(r) => autosurgeon::reconcile(
                        doc,
                        envelope::Enveloped { record: r, kind: Kind::$variant, schema_version },
                    ), )+
                }
            }

            /// The schema version this build writes for the record's kind.
            pub fn schema_version(&self) -> u64 {
                match self { $( AnyRecord::$variant(_) => <$ty as Record>::SCHEMA_VERSION, )+ }
            }
        }

        $(
            impl From<$ty> for AnyRecord {
                fn from(r: $ty) -> Self { AnyRecord::$variant(r) }
            }

            impl TryFrom<AnyRecord> for $ty {
                type Error = AnyRecord;
                fn try_from(any: AnyRecord) -> Result<Self, AnyRecord> {
                    match any { AnyRecord::$variant(r) => Ok(r), other => Err(other) }
                }
            }
        )+
    };
}

kinds! {
    /// A node of the org tree: HQ, region, district or team.
    OrgUnit => "org_unit", OrgUnit;
    /// A user's profile: name, employee number, unit, roles.
    UserProfile => "user", UserProfile;
    /// A role and the data scope it grants.
    Role => "role", Role;
    /// A customer company.
    Customer => "customer", Customer;
    /// A person at a customer.
    Contact => "contact", Contact;
    /// A follow-up record (跟进记录).
    FollowUp => "follow_up", FollowUp;
    /// A sales lead.
    Lead => "lead", Lead;
    /// An opportunity (商机) moving through the stages.
    Opportunity => "opportunity", Opportunity;
    /// A customer visit with its GPS check-in.
    Visit => "visit", Visit;
    /// A day's visit plan (拜访计划).
    VisitPlan => "visit_plan", VisitPlan;
    /// A rep's daily report (工作日报).
    DailyReport => "daily_report", DailyReport;
    /// A task or calendar entry.
    Task => "task", Task;
    /// An approval request and its decisions.
    Approval => "approval", Approval;
    /// A product of the catalogue.
    Product => "product", Product;
    /// An order or contract with its payments.
    Order => "order", Order;
    /// A sales target for a period.
    Target => "target", Target;
    /// The tenant's sales-process configuration.
    ProcessConfig => "process_config", ProcessConfig;
    /// A sensitive field of a record, in its own document (see [`private`]).
    Private => "private", PrivateField;
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for Kind {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.as_str())
    }
}

impl Hydrate for Kind {
    fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
        s.parse()
            .map_err(|e: UnknownKind| autosurgeon::HydrateError::unexpected("a record kind", e.0))
    }
}

/// A kind code this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record kind `{0}`")]
pub struct UnknownKind(pub String);

/// A typed record: one Automerge document.
pub trait Record:
    Reconcile
    + Hydrate
    + Clone
    + fmt::Debug
    + PartialEq
    + Into<AnyRecord>
    + TryFrom<AnyRecord, Error = AnyRecord>
    + Send
    + 'static
{
    /// The kind stored in the document.
    const KIND: Kind;
    /// The schema version this build writes. Raise it when a field's meaning changes;
    /// adding an optional field does not need it.
    const SCHEMA_VERSION: u64 = 1;

    /// The common header.
    fn header(&self) -> &Header;
    /// The common header, for changes.
    fn header_mut(&mut self) -> &mut Header;
    /// Checks the record's own fields (required values, ranges, non-negative amounts).
    /// Business rules that need other records or the configuration live in the rule modules.
    fn validate(&self) -> Result<(), InvalidRecord>;
    /// What the store indexes about the record for listing and search.
    fn index(&self) -> Index;
    /// The ID.
    fn id(&self) -> RecordId {
        self.header().id
    }
}

/// The common index row of a record: what generic listing filters on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    /// A short display title ("华为技术有限公司", "Visit at 华为").
    pub title: String,
    /// The customer the record concerns, if any.
    pub customer_id: Option<RecordId>,
    /// A stage or status code to filter on.
    pub status: Option<String>,
    /// The instant the record is about (check-in time, due time, follow-up time).
    pub occurred_at: Option<Timestamp>,
    /// The local day the record is about (report date, visit day in the rep's zone).
    pub local_date: Option<LocalDate>,
    /// Text for fuzzy search; `None` for kinds that are not searched.
    pub search_text: Option<String>,
}

/// A field value that breaks the record's own rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRecord {
    /// A required value is empty.
    #[error("{kind}.{field} is required")]
    Missing {
        /// The record kind.
        kind: Kind,
        /// The field.
        field: &'static str,
    },
    /// An amount or quantity is below zero.
    #[error("{kind}.{field} must not be negative")]
    Negative {
        /// The record kind.
        kind: Kind,
        /// The field.
        field: &'static str,
    },
    /// A value is out of its allowed range or malformed.
    #[error("{kind}.{field} is invalid: {detail}")]
    Invalid {
        /// The record kind.
        kind: Kind,
        /// The field.
        field: &'static str,
        /// Why.
        detail: String,
    },
    /// A value is longer than allowed.
    #[error("{kind}.{field} is longer than {max} characters")]
    TooLong {
        /// The record kind.
        kind: Kind,
        /// The field.
        field: &'static str,
        /// The maximum.
        max: usize,
    },
}

/// Small helpers the kinds' `validate` share.
pub(crate) mod check {
    use super::{InvalidRecord, Kind};
    use crate::Money;

    /// The longest short value accepted (names, codes).
    pub const SHORT_MAX: usize = 200;

    pub fn required(kind: Kind, field: &'static str, value: &str) -> Result<(), InvalidRecord> {
        if value.trim().is_empty() {
            return Err(InvalidRecord::Missing { kind, field });
        }
        short(kind, field, value)
    }

    pub fn short(kind: Kind, field: &'static str, value: &str) -> Result<(), InvalidRecord> {
        if value.chars().count() > SHORT_MAX {
            return Err(InvalidRecord::TooLong {
                kind,
                field,
                max: SHORT_MAX,
            });
        }
        Ok(())
    }

    pub fn non_negative(kind: Kind, field: &'static str, m: &Money) -> Result<(), InvalidRecord> {
        if m.is_negative() {
            return Err(InvalidRecord::Negative { kind, field });
        }
        Ok(())
    }

    pub fn known<T: std::fmt::Display>(
        kind: Kind,
        field: &'static str,
        known: bool,
        value: &T,
    ) -> Result<(), InvalidRecord> {
        if known {
            Ok(())
        } else {
            Err(InvalidRecord::Invalid {
                kind,
                field,
                detail: format!("unknown value `{value}`"),
            })
        }
    }
}

/// Implements [`Record`] for a struct with a `header` field.
macro_rules! impl_record {
    ($ty:ty, $kind:ident) => {
        impl $crate::record::Record for $ty {
            const KIND: $crate::record::Kind = $crate::record::Kind::$kind;
            fn header(&self) -> &$crate::record::Header {
                &self.header
            }
            fn header_mut(&mut self) -> &mut $crate::record::Header {
                &mut self.header
            }
            fn validate(&self) -> Result<(), $crate::record::InvalidRecord> {
                self.check()
            }
            fn index(&self) -> $crate::record::Index {
                self.index_row()
            }
        }
    };
}
pub(crate) use impl_record;
