//! Field scenarios for the field-work rules, with builders so each test states only what
//! matters to it.

mod settings;

use super::*;
