//! The configurable sales process, and the rules that hold deals, leads, prices, approvals and
//! commissions to it.
//!
//! Every rule here is a pure function of plain facts, the configuration and `now`: the phone
//! runs it for instant feedback with no signal, and the server runs the very same code as the
//! authority when the phone syncs. Nothing here reads the clock, the store or the network, so a
//! rule gives the same answer on both sides and a test can stand at any instant.
//!
//! Configuration types, and the values a record keeps a copy of (stage history, approval steps
//! and decisions, order lines, commission lines), derive `Reconcile`/`Hydrate` and serde so the
//! records can embed them.

pub mod approval;
pub mod commission;
pub mod config;
pub mod customer;
pub mod deal;
pub mod fields;
pub mod file;
pub mod lead;
pub mod ownership;
pub mod permissions;
pub mod pricing;
pub mod stage;
pub mod text;
pub mod validate;

#[cfg(test)]
mod tests;

pub use approval::{
    ApprovalChain, ApprovalDecision, ApprovalRule, ApprovalRules, ApprovalState, ApprovalStatus,
    ApprovalStep, ApprovalSubject, Decider, DecisionRefused, StepMode, Verdict, required_approval,
};
pub use commission::{
    AttainmentBonus, CommissionComponent, CommissionLine, CommissionRules, CommissionStatement,
    DealFacts, Period, PeriodKind, SalesBasis, achieved, attainment, commission,
};
pub use config::{RoleDef, SalesProcess};
pub use customer::CustomerRules;
pub use deal::DealRules;
pub use fields::{FieldGap, FieldType, FieldValue, FieldValues, MissingField, StageField};
pub use file::{ConfigError, ConfigErrors, ExportError};
pub use lead::{
    ClaimRefused, LeadFacts, LeadRelease, LeadRules, ReclaimDue, ReleaseCause, RepLoad,
    check_claim, pick_assignee, reclaim_due,
};
pub use ownership::{
    OwnershipClaim, OwnershipRule, OwnershipUndecided, OwnershipVerdict, resolve_ownership,
};
pub use pricing::{
    DiscountRules, DiscountVerdict, LineRequest, OrderLine, PriceRules, PricingRefused,
    ProductFacts, Promotion, RoleDiscountLimit, TierDiscount, VolumeBreak, price_line,
};
pub use stage::{
    MoveKind, StageChange, StageClock, StageMove, StageMoveRefused, StageMoveRequest, StageOutcome,
    StageOverdue, StageRule, StageStep, StepApproval, check_stage_move, open_opportunity,
    stage_overdue,
};
pub use validate::{ConfigProblem, ConfigSection, FieldPath, Known, Problem, Problems};
