//! Field scenarios for the process rules, with builders for the facts they need.

mod approvals;
mod commissions;
mod config_file;
mod leads;
mod ownership;
mod records;
mod stages;

use crate::id::RecordId;
use crate::money::{BasisPoints, Currency, Money};
use crate::time::{LocalDate, Timestamp};

use super::fields::{FieldValue, FieldValues};

/// An instant written as RFC 3339.
pub(super) fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("test instant")
}

/// A day written as `YYYY-MM-DD`.
pub(super) fn day(s: &str) -> LocalDate {
    s.parse().expect("test day")
}

/// A user, the same for the same name.
pub(super) fn user(name: &str) -> RecordId {
    RecordId::derived("process-test-user", name)
}

/// Yuan, in whole units.
pub(super) fn cny(units: i64) -> Money {
    Money::major(units, Currency::CNY)
}

/// Whole percent.
pub(super) fn pct(p: u32) -> BasisPoints {
    BasisPoints::percent(p)
}

/// Role codes.
pub(super) fn roles(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_string()).collect()
}

pub(super) const HOUR: i64 = 60 * 60 * 1000;
pub(super) const DAY: i64 = 24 * HOUR;

/// The stage-field values of a deal, filled step by step.
#[derive(Default, Clone)]
pub(super) struct Fields(FieldValues);

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    pub fn set(mut self, key: &str, value: FieldValue) -> Self {
        self.0.insert(key.to_string(), value);
        self
    }

    pub fn text(self, key: &str, v: &str) -> Self {
        self.set(key, FieldValue::Text(v.to_string()))
    }

    pub fn money(self, key: &str, units: i64) -> Self {
        self.set(key, FieldValue::Money(cny(units)))
    }

    pub fn date(self, key: &str, d: &str) -> Self {
        self.set(key, FieldValue::Date(day(d)))
    }

    pub fn list(self, key: &str, items: &[&str]) -> Self {
        self.set(key, FieldValue::List(roles(items)))
    }

    pub fn files(self, key: &str, items: &[&str]) -> Self {
        self.set(key, FieldValue::Attachments(roles(items)))
    }

    /// Everything the standard chain asks for up to and including initiation.
    pub fn initiation_ready() -> Self {
        Fields::new()
            .money("budget", 2_000_000)
            .money("expected_amount", 800_000)
            .date("latest_bid_date", "2026-06-30")
            .list("design_unit", &["华东设计院"])
            .list("decision_unit", &["市建设局"])
            .list("user_unit", &["市第一医院"])
            .list("decision_chain_visits", &["院长办公室", "采购部"])
    }

    /// ... and formal communication.
    pub fn formal_ready() -> Self {
        Fields::initiation_ready()
            .date("expected_bid_date", "2026-06-15")
            .money("expected_winning_amount", 750_000)
    }

    /// ... and bidding.
    pub fn bidding_ready() -> Self {
        Fields::formal_ready()
            .files("tender_documents", &["doc-tender-001"])
            .files("bid_documents", &["doc-bid-001"])
            .date("tender_issue_date", "2026-06-01")
            .date("bid_response_date", "2026-06-15")
    }

    pub fn values(&self) -> &FieldValues {
        &self.0
    }
}
