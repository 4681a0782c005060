//! The values records embed survive a trip through an Automerge document.

use std::fmt::Debug;

use automerge::AutoCommit;
use autosurgeon::{Hydrate, Reconcile, hydrate, reconcile};

use super::*;
use crate::process::commission::{CommissionRules, DealFacts, commission};
use crate::process::pricing::{LineRequest, PriceRules, ProductFacts, price_line};
use crate::process::{
    ApprovalChain, ApprovalDecision, ApprovalStep, FieldValue, LeadRelease, MoveKind, ReleaseCause,
    SalesProcess, StageChange, StepMode, Verdict,
};

fn round_trip<T: Reconcile + Hydrate + PartialEq + Debug>(value: &T) {
    let mut doc = AutoCommit::new();
    reconcile(&mut doc, value).expect("reconcile");
    let bytes = doc.save();
    let loaded = AutoCommit::load(&bytes).expect("load");
    let back: T = hydrate(&loaded).expect("hydrate");
    assert_eq!(&back, value);
}

/// Automerge documents have a map at the root, so single values travel inside one.
#[derive(Debug, PartialEq, Reconcile, Hydrate)]
struct Holder<T> {
    value: T,
}

#[test]
fn the_process_configuration_is_a_document() {
    round_trip(&SalesProcess::standard());
    round_trip(&SalesProcess::consultative());
}

#[test]
fn stage_history_and_field_values_are_documents() {
    round_trip(&Holder {
        value: vec![StageChange {
            from: Some("opportunity".into()),
            to: "initiation".into(),
            kind: MoveKind::Forward,
            at: at("2026-03-10T10:00:00+08:00"),
            by: user("rep-li"),
            reason: None,
        }],
    });
    round_trip(&Holder {
        value: Fields::bidding_ready()
            .set("note_flag", FieldValue::Flag(true))
            .set("visits", FieldValue::Number(3))
            .values()
            .clone(),
    });
    round_trip(&Holder {
        value: LeadRelease {
            rep: user("rep-li"),
            at: at("2026-03-10T10:00:00+08:00"),
            cause: ReleaseCause::Reclaimed,
        },
    });
}

#[test]
fn approvals_order_lines_and_commissions_are_documents() {
    round_trip(&Holder {
        value: ApprovalChain {
            steps: vec![
                ApprovalStep::single("sales_manager"),
                ApprovalStep::parallel(&["finance", "regional_director"], StepMode::AllOf),
            ],
            because: vec!["contract over 100,000".into()],
        },
    });
    round_trip(&Holder {
        value: vec![ApprovalDecision {
            step: 0,
            by: user("manager-wang"),
            role: "sales_manager".into(),
            verdict: Verdict::Approve,
            at: at("2026-03-10T10:00:00+08:00"),
            comment: Some("同意".into()),
        }],
    });
    let line = price_line(
        &PriceRules::default(),
        &LineRequest {
            product: ProductFacts {
                code: "RT-5000",
                list_price: cny(1_000),
            },
            quantity: 3,
            customer_tier: None,
            on: day("2026-03-10"),
            manual_discount: pct(5),
        },
    )
    .unwrap();
    round_trip(&Holder { value: vec![line] });
    let deal = DealFacts {
        id: user("deal"),
        won_amount: cny(100_000),
        won_on: day("2026-02-01"),
        collections: Vec::new(),
        new_customer: true,
    };
    let statement = commission(
        &CommissionRules::default(),
        user("rep-li"),
        &[deal],
        Some(cny(50_000)),
        day("2026-03-01"),
        Currency::CNY,
    )
    .unwrap();
    assert_eq!(statement.lines.len(), 3);
    round_trip(&statement);
}
