//! How small value types are written into Automerge documents.
//!
//! Records are read by app versions older and newer than the one that wrote them. Enumerations
//! are therefore stored as plain strings, and a value this version does not know hydrates into an
//! `Other(String)` variant that is written back unchanged, instead of failing the whole record.

/// Declares a string-coded enumeration that survives values written by newer versions.
///
/// ```
/// fieldsales_core::string_enum! {
///     /// How a follow-up happened.
///     pub enum Channel {
///         Call = "call",
///         Meeting = "meeting",
///     }
/// }
/// use std::str::FromStr;
/// assert_eq!(Channel::from_str("call").unwrap(), Channel::Call);
/// assert_eq!(Channel::from_code("video"), Channel::Other("video".into()));
/// assert!(Channel::from_str("video").is_err(), "strict parsing refuses unknown codes");
/// ```
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value written by a newer version; kept as written.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The stored code of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $code, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Reads a stored code; an unknown code becomes `Other`.
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }

            /// Whether this version knows the value.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codec::UnknownCode;
            /// Strict parsing for input from outside (config files, CLI, FFI): unknown codes fail.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match Self::from_code(s) {
                    $name::Other(code) => Err($crate::codec::UnknownCode {
                        type_name: stringify!($name),
                        code,
                        expected: &[$($code),+],
                    }),
                    known => Ok(known),
                }
            }
        }

        impl ::autosurgeon::Reconcile for $name {
            type Key<'a> = ::autosurgeon::reconcile::NoKey;
            fn reconcile<R: ::autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.as_str())
            }
        }

        impl ::autosurgeon::Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, ::autosurgeon::HydrateError> {
                Ok(Self::from_code(s))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                <Self as ::std::str::FromStr>::from_str(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// A code that is not one of the values an enumeration knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {type_name} `{code}`; expected one of: {}", expected.join(", "))]
pub struct UnknownCode {
    /// The enumeration's name.
    pub type_name: &'static str,
    /// The code that was given.
    pub code: String,
    /// The codes this version accepts.
    pub expected: &'static [&'static str],
}
