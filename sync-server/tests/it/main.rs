//! Integration tests of the sync server: a real server on 127.0.0.1:0, a real HTTP client.
//!
//! One test binary with modules (linking once is much faster than one binary per file).

// Test code: a failed unwrap is a failed test (the workspace allows unwrap in tests; clippy
// cannot tell that helpers of an integration-test binary are test code).
#![allow(clippy::unwrap_used)]

mod admin;
mod attachments;
mod attachments_conformance;
mod audit;
mod auth;
mod backup;
mod binary;
mod bodies;
mod config;
mod flood;
mod ops;
mod postgres;
mod records_conformance;
mod sequence_race;
mod shutdown;
mod storage;
mod store_conformance;
mod support;
mod tls;
