//! Orders, discounts and the approvals they need.

use super::*;
use crate::process::approval::{ApprovalRule, ApprovalRules};
use crate::process::pricing::{
    DiscountVerdict, LineRequest, PriceRules, PricingRefused, ProductFacts, Promotion,
    TierDiscount, VolumeBreak, largest_manual_discount, order_total, price_line,
};
use crate::process::{
    ApprovalChain, ApprovalDecision, ApprovalState, ApprovalStatus, ApprovalStep, ApprovalSubject,
    Decider, DecisionRefused, SalesProcess, StepApproval, StepMode, Verdict, required_approval,
};

/// An order a rep submits, with the approval chain the default process gives it.
struct Order {
    amount: Money,
    discount: BasisPoints,
    requester_roles: Vec<String>,
    process: SalesProcess,
}

fn order(units: i64) -> Order {
    Order {
        amount: cny(units),
        discount: BasisPoints(0),
        requester_roles: roles(&["sales_rep"]),
        process: SalesProcess::standard(),
    }
}

impl Order {
    fn discount(mut self, p: u32) -> Self {
        self.discount = pct(p);
        self
    }

    fn by(mut self, role: &str) -> Self {
        self.requester_roles = roles(&[role]);
        self
    }

    fn chain(&self) -> Option<Vec<Vec<String>>> {
        let subject = ApprovalSubject {
            kind: "order",
            amount: Some(self.amount),
            max_discount: Some(self.discount),
            requester_roles: &self.requester_roles,
            entering_stage: None,
        };
        required_approval(
            &self.process.approvals,
            &self.process.discounts,
            &subject,
            &[],
        )
        .unwrap()
        .map(|c| c.steps.into_iter().map(|s| s.roles).collect())
    }
}

fn steps(s: &[&[&str]]) -> Option<Vec<Vec<String>>> {
    Some(s.iter().map(|roles_of_step| roles(roles_of_step)).collect())
}

#[test]
fn an_order_of_exactly_50000_needs_no_approval() {
    assert_eq!(order(50_000).chain(), None);
}

#[test]
fn an_order_of_50001_needs_the_sales_manager() {
    assert_eq!(order(50_001).chain(), steps(&[&["sales_manager"]]));
    assert_eq!(order(100_000).chain(), steps(&[&["sales_manager"]]));
}

#[test]
fn an_order_of_100001_needs_the_manager_then_the_director() {
    assert_eq!(
        order(100_001).chain(),
        steps(&[&["sales_manager"], &["regional_director"]])
    );
}

#[test]
fn a_rep_gives_10_percent_off_without_approval_and_11_percent_needs_the_manager() {
    assert_eq!(order(20_000).discount(10).chain(), None);
    assert_eq!(
        order(20_000).discount(11).chain(),
        steps(&[&["sales_manager"]])
    );
    let p = SalesProcess::standard();
    assert_eq!(
        p.discounts.check(pct(11), &roles(&["sales_rep"])),
        DiscountVerdict::NeedsApproval {
            limit: pct(10),
            roles_that_may: roles(&["sales_manager"])
        }
    );
}

#[test]
fn a_manager_gives_20_percent_alone_and_more_goes_to_the_director() {
    assert_eq!(order(20_000).discount(20).by("sales_manager").chain(), None);
    assert_eq!(
        order(20_000).discount(21).by("sales_manager").chain(),
        steps(&[&["sales_manager"], &["regional_director"]]),
        "beyond the manager's own limit: another manager, then the director for over 20%"
    );
}

#[test]
fn a_large_order_with_a_large_discount_asks_each_approver_once() {
    assert_eq!(
        order(120_000).discount(25).chain(),
        steps(&[&["sales_manager"], &["regional_director"]])
    );
}

#[test]
fn an_approval_in_another_currency_than_the_threshold_is_an_error_not_a_pass() {
    let o = order(1);
    let roles = roles(&["sales_rep"]);
    let subject = ApprovalSubject {
        kind: "order",
        amount: Some(Money::major(1_000_000, Currency::USD)),
        max_discount: None,
        requester_roles: &roles,
        entering_stage: None,
    };
    assert!(required_approval(&o.process.approvals, &o.process.discounts, &subject, &[]).is_err());
}

#[test]
fn rules_by_record_kind_and_stage_apply_only_there() {
    let mut p = SalesProcess::standard();
    p.approvals = ApprovalRules {
        rules: vec![ApprovalRule {
            name: "bidding needs finance".into(),
            kinds: vec!["opportunity".into()],
            amount_over: None,
            discount_over: None,
            discount_over_role_limit: false,
            stage: Some("bidding".into()),
            steps: vec![ApprovalStep::single("finance")],
        }],
    };
    let r = roles(&["sales_rep"]);
    let subject = |kind, stage| ApprovalSubject {
        kind,
        amount: Some(cny(10)),
        max_discount: None,
        requester_roles: &r,
        entering_stage: stage,
    };
    let chain = |s| required_approval(&p.approvals, &p.discounts, &s, &[]).unwrap();
    assert!(chain(subject("opportunity", Some("bidding"))).is_some());
    assert!(chain(subject("opportunity", Some("initiation"))).is_none());
    assert!(chain(subject("order", Some("bidding"))).is_none());
    let stage_step = [StepApproval {
        step: "立项审批".into(),
        role: "sales_manager".into(),
    }];
    let with_step = required_approval(
        &p.approvals,
        &p.discounts,
        &subject("opportunity", Some("bidding")),
        &stage_step,
    )
    .unwrap()
    .unwrap();
    assert_eq!(with_step.because, ["bidding needs finance", "立项审批"]);
}

// --- deciding ---

/// An approval a rep asked for, and the people who may decide it.
struct Approval {
    requester: RecordId,
    chain: ApprovalChain,
    decisions: Vec<ApprovalDecision>,
}

fn approval(steps: Vec<ApprovalStep>) -> Approval {
    Approval {
        requester: user("rep-li"),
        chain: ApprovalChain {
            steps,
            because: vec!["test".into()],
        },
        decisions: Vec::new(),
    }
}

impl Approval {
    fn state(&self) -> ApprovalState<'_> {
        ApprovalState {
            requester: self.requester,
            chain: &self.chain,
            decisions: &self.decisions,
        }
    }

    /// `who` holding `role` decides `step`; accepted decisions are appended.
    fn decide(
        &mut self,
        who: &str,
        role: &str,
        step: u32,
        verdict: Verdict,
    ) -> Result<(), DecisionRefused> {
        let r = roles(&[role]);
        let d = self.state().decide(
            &Decider {
                user: user(who),
                roles: &r,
            },
            step,
            verdict,
            Some("ok"),
            at("2026-03-10T10:00:00+08:00"),
        )?;
        self.decisions.push(d);
        Ok(())
    }

    fn status(&self) -> ApprovalStatus {
        self.state().status()
    }
}

#[test]
fn serial_steps_go_manager_first_then_director() {
    let mut a = approval(vec![
        ApprovalStep::single("sales_manager"),
        ApprovalStep::single("regional_director"),
    ]);
    assert_eq!(
        a.decide("director-zhou", "regional_director", 1, Verdict::Approve),
        Err(DecisionRefused::NotCurrentStep {
            current: 0,
            given: 1
        })
    );
    assert_eq!(
        a.decide("director-zhou", "regional_director", 0, Verdict::Approve),
        Err(DecisionRefused::NotAnApprover {
            waiting_for: roles(&["sales_manager"])
        })
    );
    a.decide("manager-wang", "sales_manager", 0, Verdict::Approve)
        .unwrap();
    assert_eq!(
        a.status(),
        ApprovalStatus::Pending {
            step: 1,
            waiting_for: roles(&["regional_director"])
        }
    );
    a.decide("director-zhou", "regional_director", 1, Verdict::Approve)
        .unwrap();
    assert_eq!(a.status(), ApprovalStatus::Approved);
}

#[test]
fn a_parallel_all_of_step_waits_for_every_role() {
    let mut a = approval(vec![ApprovalStep::parallel(
        &["sales_manager", "finance"],
        StepMode::AllOf,
    )]);
    a.decide("finance-chen", "finance", 0, Verdict::Approve)
        .unwrap();
    assert_eq!(
        a.status(),
        ApprovalStatus::Pending {
            step: 0,
            waiting_for: roles(&["sales_manager"])
        }
    );
    a.decide("manager-wang", "sales_manager", 0, Verdict::Approve)
        .unwrap();
    assert_eq!(a.status(), ApprovalStatus::Approved);
}

#[test]
fn a_parallel_any_of_step_is_settled_by_the_first_approval() {
    let mut a = approval(vec![ApprovalStep::parallel(
        &["sales_manager", "finance"],
        StepMode::AnyOf,
    )]);
    a.decide("finance-chen", "finance", 0, Verdict::Approve)
        .unwrap();
    assert_eq!(a.status(), ApprovalStatus::Approved);
}

#[test]
fn one_rejection_rejects_the_request() {
    let mut a = approval(vec![
        ApprovalStep::parallel(&["sales_manager", "finance"], StepMode::AllOf),
        ApprovalStep::single("regional_director"),
    ]);
    a.decide("finance-chen", "finance", 0, Verdict::Approve)
        .unwrap();
    a.decide("manager-wang", "sales_manager", 0, Verdict::Reject)
        .unwrap();
    assert_eq!(
        a.status(),
        ApprovalStatus::Rejected {
            step: 0,
            by: user("manager-wang")
        }
    );
}

#[test]
fn a_requester_can_never_approve_their_own_request() {
    let mut a = approval(vec![ApprovalStep::single("sales_manager")]);
    a.requester = user("manager-wang");
    assert_eq!(
        a.decide("manager-wang", "sales_manager", 0, Verdict::Approve),
        Err(DecisionRefused::OwnRequest)
    );
    assert!(a.decisions.is_empty());
}

#[test]
fn an_approval_is_decided_once_and_a_later_decision_is_refused() {
    let mut a = approval(vec![ApprovalStep::single("sales_manager")]);
    a.decide("manager-wang", "sales_manager", 0, Verdict::Approve)
        .unwrap();
    assert_eq!(
        a.decide("manager-liu", "sales_manager", 0, Verdict::Reject),
        Err(DecisionRefused::AlreadyDecided {
            status: ApprovalStatus::Approved
        })
    );
}

#[test]
fn two_managers_deciding_offline_the_first_accepted_wins_after_sync() {
    // Both phones made a valid decision against the pending approval; the server accepted
    // the approval first, and the merged record holds both.
    let pending = approval(vec![ApprovalStep::single("sales_manager")]);
    let mut phone_a = approval(pending.chain.steps.clone());
    let mut phone_b = approval(pending.chain.steps.clone());
    phone_a
        .decide("manager-wang", "sales_manager", 0, Verdict::Approve)
        .unwrap();
    phone_b
        .decide("manager-liu", "sales_manager", 0, Verdict::Reject)
        .unwrap();
    let mut merged = approval(pending.chain.steps.clone());
    merged.decisions = vec![phone_a.decisions[0].clone(), phone_b.decisions[0].clone()];
    let (status, refused) = merged.state().evaluate();
    assert_eq!(status, ApprovalStatus::Approved);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, 1);
    assert!(matches!(
        refused[0].1,
        DecisionRefused::AlreadyDecided { .. }
    ));
}

#[test]
fn an_approver_decides_a_step_once() {
    let mut a = approval(vec![ApprovalStep::parallel(
        &["sales_manager", "finance"],
        StepMode::AllOf,
    )]);
    a.decide("manager-wang", "sales_manager", 0, Verdict::Approve)
        .unwrap();
    let both = roles(&["sales_manager", "finance"]);
    let again = a.state().decide(
        &Decider {
            user: user("manager-wang"),
            roles: &both,
        },
        0,
        Verdict::Approve,
        None,
        at("2026-03-10T11:00:00+08:00"),
    );
    assert_eq!(again, Err(DecisionRefused::AlreadyDecidedByYou));
}

// --- prices ---

fn router() -> ProductFacts<'static> {
    ProductFacts {
        code: "RT-5000",
        list_price: cny(1_000),
    }
}

fn line(qty: u32, tier: Option<&'static str>, on: &str, manual: u32) -> LineRequest<'static> {
    LineRequest {
        product: router(),
        quantity: qty,
        customer_tier: tier,
        on: day(on),
        manual_discount: pct(manual),
    }
}

fn price_rules() -> PriceRules {
    PriceRules {
        tiers: vec![TierDiscount {
            tier: "A".into(),
            discount: pct(10),
        }],
        volume_breaks: vec![
            VolumeBreak {
                min_quantity: 10,
                discount: pct(3),
            },
            VolumeBreak {
                min_quantity: 50,
                discount: pct(5),
            },
        ],
        promotions: vec![Promotion {
            code: "618".into(),
            name: "年中促销".into(),
            discount: pct(5),
            from: day("2026-06-01"),
            until: day("2026-06-18"),
            products: vec!["RT-5000".into()],
        }],
    }
}

#[test]
fn a_tier_a_customer_buying_50_during_the_promotion_gets_every_rule_discount() {
    let l = price_line(&price_rules(), &line(50, Some("A"), "2026-06-18", 0)).unwrap();
    // 1000 × 0.90 × 0.95 × 0.95 = 812.25
    assert_eq!(l.rule_price, Money::new(81_225, Currency::CNY));
    assert_eq!(l.promotion.as_deref(), Some("618"));
    assert_eq!(l.rule_discount, BasisPoints(1_877), "18.775% shown rounded");
    assert_eq!(l.unit_price, l.rule_price);
    assert_eq!(l.amount, Money::new(81_225 * 50, Currency::CNY));
}

#[test]
fn outside_the_promotion_and_below_the_volume_break_the_list_price_holds() {
    let l = price_line(&price_rules(), &line(9, None, "2026-06-19", 0)).unwrap();
    assert_eq!(l.rule_price, cny(1_000));
    assert_eq!(l.promotion, None);
    assert_eq!(l.rule_discount, BasisPoints(0));
}

#[test]
fn a_reps_manual_discount_applies_on_top_of_the_rule_price() {
    let l = price_line(&price_rules(), &line(10, Some("A"), "2026-01-05", 10)).unwrap();
    // 1000 × 0.90 × 0.97 = 873, then 10% off by hand = 785.70
    assert_eq!(l.rule_price, cny(873));
    assert_eq!(l.unit_price, Money::new(78_570, Currency::CNY));
    assert_eq!(largest_manual_discount(std::slice::from_ref(&l)), pct(10));
    assert_eq!(
        order_total(&[l.clone(), l]).unwrap(),
        Some(Money::new(78_570 * 20, Currency::CNY))
    );
}

#[test]
fn impossible_lines_are_refused() {
    assert_eq!(
        price_line(&price_rules(), &line(0, None, "2026-01-05", 0)),
        Err(PricingRefused::ZeroQuantity)
    );
    assert_eq!(
        price_line(&price_rules(), &line(1, None, "2026-01-05", 101)),
        Err(PricingRefused::DiscountOverFull(pct(101)))
    );
}
