//! Fieldsales core: records, rules, the local store, the sync client and dashboards.
//!
//! This crate knows nothing of uniffi, axum or HTTP server types: the phone (through `ffi`),
//! the server and the command line all run the same record and rule code from here.

pub mod attachments;
pub mod authority;
pub mod codec;
pub mod dashboard;
pub mod dedup;
pub mod doc;
pub mod engine;
pub mod error;
pub mod fieldwork;
pub mod id;
pub mod jobs;
pub mod me;
pub mod money;
#[cfg(feature = "openapi")]
pub mod openapi;
mod pipeline;
pub mod place;
pub mod process;
pub mod record;
pub mod rule;
pub mod scope;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

pub use error::{Error, Result};
pub use id::RecordId;
pub use money::{BasisPoints, Currency, Money};
pub use place::GeoPoint;
pub use time::{Clock, LocalDate, Timestamp, Zone};
