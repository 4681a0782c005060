//! The few identities the server keeps outside records: tenants, accounts, devices, actors.
//!
//! A person's profile, org unit and roles are Automerge records like any other; the server
//! keeps only what it needs to authenticate a device before any record is touched: a login,
//! a password hash, the profile record the login belongs to, and an admin flag that lets the
//! first admin exist before any role record does. Every value arriving from outside is parsed
//! into one of these types once, at the edge, so deeper code never re-validates.

use std::fmt;
use std::str::FromStr;

use fieldsales_core::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a value from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidValue {
    /// A sentence saying what was expected; never echoes a secret.
    pub reason: String,
}

impl InvalidValue {
    fn new(reason: impl Into<String>) -> Self {
        InvalidValue {
            reason: reason.into(),
        }
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered identifier (UUID v7).
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
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
            pub fn from_slice(bytes: &[u8]) -> Result<Self, InvalidValue> {
                Uuid::from_slice(bytes)
                    .map($name)
                    .map_err(|_| InvalidValue::new(format!("{} raw bytes are not an id", bytes.len())))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map($name)
                    .map_err(|_| InvalidValue::new("expected a UUID"))
            }
        }
    };
}

uuid_id!(
    /// One organisation using the server; nothing crosses from one tenant to another.
    TenantId
);
uuid_id!(
    /// One person's sign-in within a tenant.
    AccountId
);
uuid_id!(
    /// One installation of the app signed in as one account (a phone, a tablet, a browser).
    DeviceId
);

/// An Automerge actor registered to one device: 16 random bytes, written as 32 hex digits.
///
/// Each sign-in gets a fresh actor, so the server can tell which device made every change
/// and refuse changes from actors that are not the pushing device's own. A device keeps all
/// the actors it was ever given: changes made offline before a new sign-in still belong to it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, example = "5f0c3d1e9a8b4c7d2e1f0a9b8c7d6e5f")]
pub struct ActorId([u8; 16]);

impl ActorId {
    /// A fresh actor from the operating system's random source.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(ActorId(bytes))
    }

    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        ActorId(bytes)
    }

    /// The 16 bytes, as Automerge's `ActorId::from(&[u8])` takes them.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Reads 16 raw bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, InvalidValue> {
        <[u8; 16]>::try_from(bytes)
            .map(ActorId)
            .map_err(|_| InvalidValue::new(format!("an actor is 16 bytes, not {}", bytes.len())))
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorId({self})")
    }
}

impl FromStr for ActorId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut bytes)
            .map_err(|_| InvalidValue::new("an actor is 32 hexadecimal digits"))?;
        Ok(ActorId(bytes))
    }
}

impl Serialize for ActorId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ActorId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The short name a tenant signs in with: lowercase letters, digits and dashes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "acme")]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Longest slug accepted.
    pub const MAX_LEN: usize = 63;

    /// Parses and normalises (trims, lowercases) a slug.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_lowercase();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if s.is_empty() || s.len() > Self::MAX_LEN || !ok_chars || s.starts_with('-') {
            return Err(InvalidValue::new(format!(
                "a tenant is 1 to {} letters, digits or dashes, not starting with a dash",
                Self::MAX_LEN
            )));
        }
        Ok(TenantSlug(s))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a person types to sign in (an e-mail, an employee number...), compared without case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "zhang.wei")]
pub struct Login(String);

impl Login {
    /// Longest login accepted, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Parses and normalises (trims, lowercases) a login.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > Self::MAX_CHARS || has_control(&s) {
            return Err(InvalidValue::new(format!(
                "a login is 1 to {} printable characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Login(s))
    }

    /// The normalised login.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A human name for a device or a tenant, shown to admins.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "Zhang Wei's phone")]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses (trims) a name.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim();
        if s.is_empty() || s.chars().count() > Self::MAX_CHARS || has_control(s) {
            return Err(InvalidValue::new(format!(
                "a name is 1 to {} printable characters",
                Self::MAX_CHARS
            )));
        }
        Ok(DisplayName(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password in clear, only ever held in memory between the request and the hasher.
///
/// It has no `Serialize` and its `Debug` hides it, so it cannot reach a log or a response.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Longest password accepted, in bytes: hashing cost must not be chosen by a caller.
    pub const MAX_BYTES: usize = 1024;

    /// Wraps a password.
    pub fn new(clear: impl Into<String>) -> Self {
        Password(clear.into())
    }

    /// The clear text, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks the length policy for a new password.
    pub fn check_new(&self, min_chars: usize) -> Result<(), InvalidValue> {
        let chars = self.0.chars().count();
        if chars < min_chars || self.0.len() > Self::MAX_BYTES {
            return Err(InvalidValue::new(format!(
                "a password is at least {min_chars} characters and at most {} bytes",
                Self::MAX_BYTES
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its identifier.
    pub id: TenantId,
    /// The name it signs in with.
    pub slug: TenantSlug,
    /// Its display name.
    pub name: DisplayName,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An account as stored, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its identifier.
    pub id: AccountId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// What the person signs in with.
    pub login: Login,
    /// The person's profile record (name, org unit, roles live there).
    pub profile_id: RecordId,
    /// May use the admin API.
    pub is_admin: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When an admin revoked it; a revoked account's devices are wiped at their next contact.
    pub revoked_at: Option<Timestamp>,
}

/// A device as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its identifier.
    pub id: DeviceId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// The account signed in on it.
    pub account_id: AccountId,
    /// The name the app gave it.
    pub name: DisplayName,
    /// First sign-in.
    pub registered_at: Timestamp,
    /// Latest sign-in.
    pub last_login_at: Timestamp,
    /// When an admin revoked it (a lost phone); its data is wiped at its next contact.
    pub revoked_at: Option<Timestamp>,
}
