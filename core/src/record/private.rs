//! Sensitive fields, kept out of their record's document.
//!
//! A pulled record is a whole Automerge document with its history, so a value some roles must
//! not see can never be redacted in place: once written into the document it stays in its
//! history. A sensitive field (a contact's or a person's phone and e-mail, a product's cost)
//! therefore lives in a companion document of its own, one per record and field
//! ([`PrivateField`]), which syncs only to the users whose roles do not hide it. The main
//! document keeps the field's key with no value (`null`).
//!
//! A companion's ID is derived from its record's ID and the field ([`SensitiveField::companion_id`]),
//! so every device and the server name the same document without asking, and the field can be
//! read back from the ID alone ([`SensitiveField::of_companion`]): the server's pull judges a
//! companion from its row in the change sequence, without loading it. A companion carries its
//! record's reach in its header (owner, unit, creator, shared-with, tombstone), which the store
//! and the server keep equal to the record's, so it is seen by exactly who sees the record,
//! minus the roles that hide the field.

use std::collections::BTreeSet;

use autosurgeon::{Hydrate, Reconcile};
use sha2::{Digest, Sha256};

use super::{AnyRecord, Header, Index, InvalidRecord, Kind, RecordRef, check, impl_record};
use crate::{Money, RecordId};

macro_rules! sensitive_fields {
    ($( $(#[$meta:meta])* $variant:ident => $code:literal, $kind:ident, $field:literal, $tag:literal; )+) => {
        /// A field that lives in a companion document and that a role may hide.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum SensitiveField {
            $( $(#[$meta])* $variant, )+
        }

        impl SensitiveField {
            /// Every sensitive field.
            pub const ALL: &'static [SensitiveField] = &[$(SensitiveField::$variant),+];

            /// Its code, as a role's hidden fields name it (`contact.phone`).
            pub const fn code(self) -> &'static str {
                match self { $( SensitiveField::$variant => $code, )+ }
            }

            /// The kind of record the field belongs to.
            pub const fn kind(self) -> Kind {
                match self { $( SensitiveField::$variant => Kind::$kind, )+ }
            }

            /// The field's name in its record (`phone`).
            pub const fn field(self) -> &'static str {
                match self { $( SensitiveField::$variant => $field, )+ }
            }

            /// The byte that marks the field in a companion's ID.
            const fn tag(self) -> u8 {
                match self { $( SensitiveField::$variant => $tag, )+ }
            }

            fn from_tag(tag: u8) -> Option<SensitiveField> {
                match tag { $( $tag => Some(SensitiveField::$variant), )+ _ => None }
            }
        }

        impl std::str::FromStr for SensitiveField {
            type Err = crate::codec::UnknownCode;
            /// Strict parsing for input from outside (an admin's role setting, the FFI).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $code => Ok(SensitiveField::$variant), )+
                    other => Err(crate::codec::UnknownCode {
                        type_name: "hidden field",
                        code: other.chars().take(64).collect(),
                        expected: &[$($code),+],
                    }),
                }
            }
        }
    };
}

sensitive_fields! {
    /// A contact's phone number.
    ContactPhone => "contact.phone", Contact, "phone", 1;
    /// A contact's e-mail address.
    ContactEmail => "contact.email", Contact, "email", 2;
    /// A colleague's phone number.
    UserPhone => "user.phone", UserProfile, "phone", 3;
    /// A colleague's e-mail address.
    UserEmail => "user.email", UserProfile, "email", 4;
    /// What a product costs the company.
    ProductCost => "product.cost", Product, "cost", 5;
}

impl std::fmt::Display for SensitiveField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl SensitiveField {
    /// The sensitive fields of a kind.
    pub fn of_kind(kind: Kind) -> impl Iterator<Item = SensitiveField> {
        Self::ALL.iter().copied().filter(move |f| f.kind() == kind)
    }

    /// The ID of the companion that holds this field of `record`: a version-8 UUID from a
    /// hash of the record's ID and the field, its last byte naming the field.
    pub fn companion_id(self, record: RecordId) -> RecordId {
        let mut hash = Sha256::new();
        hash.update(b"fieldsales.private.v1");
        hash.update(record.as_bytes());
        hash.update(self.code().as_bytes());
        let digest = hash.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[15] = self.tag();
        RecordId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }

    /// The field a companion's ID names; `None` for an ID no companion carries.
    pub fn of_companion(id: RecordId) -> Option<SensitiveField> {
        let uuid = id.as_uuid();
        if uuid.get_version_num() != 8 {
            return None;
        }
        Self::from_tag(uuid.as_bytes()[15])
    }

    /// The field's value in `record` (which must be of the field's kind).
    pub fn read(self, record: &AnyRecord) -> Value {
        match (self, record) {
            (SensitiveField::ContactPhone, AnyRecord::Contact(c)) => Value::text(&c.phone),
            (SensitiveField::ContactEmail, AnyRecord::Contact(c)) => Value::text(&c.email),
            (SensitiveField::UserPhone, AnyRecord::UserProfile(u)) => Value::text(&u.phone),
            (SensitiveField::UserEmail, AnyRecord::UserProfile(u)) => Value::text(&u.email),
            (SensitiveField::ProductCost, AnyRecord::Product(p)) => Value {
                text: None,
                amount: p.cost,
            },
            _ => Value::default(),
        }
    }

    /// Sets the field's value in `record` (nothing for a record of another kind).
    pub fn write(self, record: &mut AnyRecord, value: Value) {
        match (self, record) {
            (SensitiveField::ContactPhone, AnyRecord::Contact(c)) => c.phone = value.text,
            (SensitiveField::ContactEmail, AnyRecord::Contact(c)) => c.email = value.text,
            (SensitiveField::UserPhone, AnyRecord::UserProfile(u)) => u.phone = value.text,
            (SensitiveField::UserEmail, AnyRecord::UserProfile(u)) => u.email = value.text,
            (SensitiveField::ProductCost, AnyRecord::Product(p)) => p.cost = value.amount,
            _ => {}
        }
    }
}

/// The fields a user's roles hide: those every one of their roles hides (a user holds the
/// widest grant of any of their roles, seeing included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden(BTreeSet<SensitiveField>);

impl Hidden {
    /// Nothing hidden.
    pub fn none() -> Hidden {
        Hidden::default()
    }

    /// These fields hidden.
    pub fn of(fields: impl IntoIterator<Item = SensitiveField>) -> Hidden {
        Hidden(fields.into_iter().collect())
    }

    /// What a user with roles hiding these sets sees hidden: the fields all of them hide.
    /// Codes this version does not know are ignored.
    pub fn common<'a>(roles: impl IntoIterator<Item = &'a str>) -> Hidden {
        let mut out: Option<BTreeSet<SensitiveField>> = None;
        for codes in roles {
            let set: BTreeSet<SensitiveField> = codes
                .split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect();
            out = Some(match out {
                None => set,
                Some(acc) => acc.intersection(&set).copied().collect(),
            });
        }
        Hidden(out.unwrap_or_default())
    }

    /// Whether the field is hidden.
    pub fn hides(&self, field: SensitiveField) -> bool {
        self.0.contains(&field)
    }

    /// The hidden fields.
    pub fn iter(&self) -> impl Iterator<Item = SensitiveField> + '_ {
        self.0.iter().copied()
    }

    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for Hidden {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|f| f.code()))
    }
}

impl<'de> serde::Deserialize<'de> for Hidden {
    /// Codes this version does not know (a newer server's) are left out.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let codes = Vec::<String>::deserialize(d)?;
        Ok(Hidden(
            codes.iter().filter_map(|c| c.parse().ok()).collect(),
        ))
    }
}

/// A sensitive field's value: text (phone, e-mail) or an amount (cost).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Value {
    /// A text value.
    pub text: Option<String>,
    /// An amount.
    pub amount: Option<Money>,
}

impl Value {
    fn text(text: &Option<String>) -> Value {
        Value {
            text: text.clone(),
            amount: None,
        }
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_none() && self.amount.is_none()
    }
}

/// A companion document: one sensitive field of one record.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct PrivateField {
    /// Common fields; the reach (owner, unit, creator, shared-with, tombstone) is the
    /// record's.
    pub header: Header,
    /// The record the field belongs to.
    pub of: RecordRef,
    /// The field's code (`contact.phone`).
    pub field: String,
    /// Its value.
    pub value: Value,
}

impl PrivateField {
    /// The companion holding `field` of the record with this header.
    pub fn new(field: SensitiveField, record: &Header, value: Value) -> PrivateField {
        let mut header = record.clone();
        header.id = field.companion_id(record.id);
        PrivateField {
            header,
            of: RecordRef {
                kind: field.kind(),
                id: record.id,
            },
            field: field.code().to_string(),
            value,
        }
    }

    /// The sensitive field it holds, when its ID, field and record agree.
    pub fn sensitive(&self) -> Option<SensitiveField> {
        let field: SensitiveField = self.field.parse().ok()?;
        (field.kind() == self.of.kind
            && field.companion_id(self.of.id) == self.header.id
            && SensitiveField::of_companion(self.header.id) == Some(field))
        .then_some(field)
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        if self.sensitive().is_none() {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Private,
                field: "field",
                detail: format!(
                    "`{}` of a {} is not the field this companion's ID names",
                    self.field.chars().take(64).collect::<String>(),
                    self.of.kind
                ),
            });
        }
        if let Some(text) = &self.value.text {
            check::short(Kind::Private, "value", text)?;
        }
        if let Some(amount) = &self.value.amount {
            check::non_negative(Kind::Private, "value", amount)?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index::default()
    }
}
impl_record!(PrivateField, Private);

/// `record` with its sensitive fields cleared (what its own document holds), and a companion
/// for each sensitive field it sets.
pub fn split(mut record: AnyRecord) -> (AnyRecord, Vec<PrivateField>) {
    let mut companions = Vec::new();
    for field in SensitiveField::of_kind(record.kind()) {
        let value = field.read(&record);
        if !value.is_empty() {
            field.write(&mut record, Value::default());
            companions.push(PrivateField::new(field, record.header(), value));
        }
    }
    (record, companions)
}

/// `record` with its sensitive fields cleared: what its own document holds.
pub fn strip(record: &AnyRecord) -> AnyRecord {
    let mut out = record.clone();
    for field in SensitiveField::of_kind(record.kind()) {
        field.write(&mut out, Value::default());
    }
    out
}

/// The sensitive fields `record` itself holds a value for: none, in a record's own document
/// (the server refuses a document that holds one).
pub fn held_in(record: &AnyRecord) -> Vec<SensitiveField> {
    SensitiveField::of_kind(record.kind())
        .filter(|f| !f.read(record).is_empty())
        .collect()
}

/// Whether a companion's header carries its record's reach.
pub fn same_reach(companion: &Header, record: &Header) -> bool {
    companion.owner_id == record.owner_id
        && companion.org_unit_id == record.org_unit_id
        && companion.created_by == record.created_by
        && companion.shared_with == record.shared_with
        && companion.deleted.is_some() == record.deleted.is_some()
}

/// `companion`'s header given its record's reach (ID and creation time kept).
pub fn with_reach(companion: &Header, record: &Header) -> Header {
    Header {
        id: companion.id,
        created_at: companion.created_at,
        owner_id: record.owner_id,
        org_unit_id: record.org_unit_id,
        created_by: record.created_by,
        shared_with: record.shared_with.clone(),
        deleted: record.deleted.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_companion_id_names_its_field_and_differs_per_record_and_field() {
        let a = RecordId::new();
        let b = RecordId::new();
        for f in SensitiveField::ALL {
            let id = f.companion_id(a);
            assert_eq!(SensitiveField::of_companion(id), Some(*f));
            assert_eq!(id, f.companion_id(a), "derived the same every time");
            assert_ne!(id, f.companion_id(b));
        }
        assert_ne!(
            SensitiveField::ContactPhone.companion_id(a),
            SensitiveField::ContactEmail.companion_id(a)
        );
        assert_eq!(SensitiveField::of_companion(a), None, "a record's own ID");
    }

    #[test]
    fn a_user_sees_hidden_only_what_every_role_hides() {
        let h = Hidden::common(["contact.phone contact.email", "contact.phone"]);
        assert!(h.hides(SensitiveField::ContactPhone));
        assert!(!h.hides(SensitiveField::ContactEmail));
        assert!(Hidden::common(Vec::<&str>::new()).is_empty());
        assert!(Hidden::common(["contact.phone", ""]).is_empty());
    }

    #[test]
    fn a_companion_must_hold_the_field_its_id_names() {
        let contact = Header::new(RecordId::new(), crate::Timestamp::default());
        let mut p = PrivateField::new(
            SensitiveField::ContactPhone,
            &contact,
            Value {
                text: Some("138".into()),
                amount: None,
            },
        );
        assert!(p.check().is_ok());
        p.field = "contact.email".into();
        assert!(p.check().is_err());
        p.field = "contact.phone".into();
        p.of.id = RecordId::new();
        assert!(p.check().is_err());
    }
}
