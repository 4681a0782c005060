//! Sync between a device's store and the server: the wire format, the device's side of a
//! round trip, and the HTTP client that runs rounds until nothing is left.
//!
//! A round pushes the records with unacknowledged changes and pulls one page of what
//! changed on the server since the device's cursor; the device commits the page (acks,
//! refusals, records, removals, the new cursor) in one SQLite transaction, so an interrupted
//! sync resumes from the last committed page and never half-applies one.

pub mod apply;
pub mod client;
mod error_code;
pub mod protocol;

pub use apply::{META_CURSOR, META_LAST_SUCCESS, PageOutcome, apply_page, cursor};
pub use client::{
    CancelToken, SignIn, SyncError, SyncOptions, SyncProgress, SyncReport, check_duplicates_online,
    sign_in, sign_in_store, sign_out, sync_now,
};
pub use error_code::ErrorCode;
