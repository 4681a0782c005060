//! rejection
