//! The uniffi surface over `fieldsales-core`: the only crate that knows uniffi.
