//! The uniffi surface over `fieldsales-core`: the only crate that knows uniffi.
//!
//! The Android and iOS apps are thin shells; every rule, every zone computation and every
//! check of input lives in Rust once, so the two platforms cannot drift apart. This crate
//! therefore holds no logic of its own: it mirrors core types as uniffi records, checks what
//! the apps send, converts every core error into the one [`FieldsalesError`] the apps act on,
//! and hands long-running work out as a [`TaskHandle`].
//!
//! Generated bindings are committed under `android/` and `ios/`; `scripts/generate-bindings.sh`
//! regenerates them and `tests/bindings.rs` fails when they drift.

#![warn(missing_docs)]

mod attachments;
mod codes;
mod connect;
mod customers;
mod dashboards;
mod directory;
mod engine;
mod error;
mod fieldwork;
mod id;
mod local_clock;
mod money;
mod orders;
mod pages;
mod place;
mod sales;
mod sync;
mod targets;
mod task;
mod time;

pub use attachments::{AttachmentState, AttachmentUploads, RefusedAttachment};
pub use codes::{
    ApprovalStatus, ApprovalVerdict, CheckInFlag, DataScope, DayOff, DealOutcome, DecisionRole,
    FenceStatus, FollowUpMethod, Granularity, GroupBy, Judge, LeadStatus, ProposalStatus,
    RecordKind, ReportState, TaskKind, TaskStatus, UploadState,
};
pub use connect::{
    SyncActivity, SyncConnection, SyncSchedule, SyncStatus, SyncStatusListener,
    default_sync_schedule,
};
pub use customers::{
    Contact, ContactDraft, CreatedCustomer, Customer, CustomerDraft, DuplicateCheck, DuplicateHit,
    LocationProposal, OwnershipRule, OwnershipVerdict, SearchHit,
};
pub use dashboards::{
    AttentionDashboard, CheckInPoint, FunnelDashboard, FunnelFigures, FunnelRow, LeadAtRisk,
    OverdueDeal, ReclaimedLead, RefusedChange, ReportDashboard, ReportFigures, ReportRow,
    StageFigures, StageName, TargetDashboard, TargetRow, VisitFigures, VisitRow, VisitsDashboard,
    WaitingApproval,
};
pub use directory::{Colleague, Operation, OrgUnit, UnitLevel};
pub use engine::{
    ChangeEvent, ChangeListener, ChangeSubscription, ChangedRecord, Engine, SignedInUser,
    encrypt_store, generate_store_key, open_engine, resume_engine,
};
pub use error::FieldsalesError;
pub use fieldwork::{
    Agenda, Attachment, CheckedIn, DailyReport, DeviceIntegritySignal, DevicePosition, PlanLine,
    PlanOutcome, PlanVsActual, PlannedVisit, Reminder, ReminderKind, ReportComment,
    ReportDueStatus, ReportEdit, Task, TaskDraft, VerdictFlag, Visit, VisitPlan, VisitVerdict,
};
pub use id::{new_record_id, parse_record_id};
pub use local_clock::{
    LocalTimeEvent, LocalTimeListener, next_local_time_events, watch_local_times,
};
pub use money::{Money, apply_rate, format_money};
pub use orders::{
    ConfirmOutcome, DeliveryStatus, NewOrder, NewOrderLine, Order, OrderLine, OrderStatus, Payment,
    PriceQuote, Product,
};
pub use pages::{
    CustomerFilter, CustomerPage, OpportunityFilter, OpportunityPage, PageRequest, TaskFilter,
    TaskPage, VisitFilter, VisitPage,
};
pub use place::{GeoPoint, validate_coordinates};
pub use sales::{
    Approval, ApprovalDecision, ConvertedLead, FieldValue, FollowUp, Lead, LeadConversion, NewLead,
    NewOpportunity, Opportunity, StageMove,
};
pub use sync::{
    RefusedRecord, RejectedChange, SignInRequest, SyncCancel, SyncOptions, SyncProgress,
    SyncProgressListener, SyncSummary, default_sync_options, sign_in,
};
pub use targets::{
    Attainment, CommissionComponent, CommissionLine, CommissionStatement, NewTarget, PeriodKind,
    Target, TargetMetric, TargetSubject,
};
pub use task::TaskHandle;
pub use time::{local_date_of, local_time_on, start_of_local_day, validate_zone};

uniffi::setup_scaffolding!("fieldsales");

/// The version of this library, for bug reports and the about screen.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// A count or a rate the library keeps unsigned, as the signed integer the Kotlin and Swift
/// APIs use (Kotlin's unsigned types are not for public APIs); saturating, though no count or
/// rate here comes near the limit.
pub(crate) fn signed<T: TryInto<i64>>(value: T) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// As [`signed`], for the small numbers (basis points, ranks, steps, HTTP statuses).
pub(crate) fn signed32<T: TryInto<i32>>(value: T) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}
