//! The closed sets of the older surface, as enums an app switches over (Kotlin `enum class`,
//! Swift `enum`), each mirroring core's own set case for case.
//!
//! Every one has an `Other` case: a record written by a newer version of the product may carry
//! a value this version cannot name, and a screen must still show the record. `Other` is never
//! accepted as input: an app that sends it gets `InvalidInput` naming the field.

use fieldsales_core::attachments::UploadState as CoreUpload;
use fieldsales_core::dashboard::{GroupBy as CoreGroupBy, visits::Granularity as CoreGranularity};
use fieldsales_core::fieldwork::Judge as CoreJudge;
use fieldsales_core::fieldwork::calendar::DayOff as CoreDayOff;
use fieldsales_core::fieldwork::check_in::FlagKind as CoreFlag;
use fieldsales_core::fieldwork::geofence::FenceStatus as CoreFence;
use fieldsales_core::process::Verdict as CoreVerdict;
use fieldsales_core::record::approval::ApprovalStatus as CoreApprovalStatus;
use fieldsales_core::record::contact::DecisionRole as CoreDecisionRole;
use fieldsales_core::record::customer::ProposalStatus as CoreProposal;
use fieldsales_core::record::daily_report::ReportState as CoreReportState;
use fieldsales_core::record::follow_up::FollowUpMethod as CoreMethod;
use fieldsales_core::record::lead::LeadStatus as CoreLeadStatus;
use fieldsales_core::record::opportunity::OutcomeKind as CoreOutcome;
use fieldsales_core::record::task::{TaskKind as CoreTaskKind, TaskStatus as CoreTaskStatus};
use fieldsales_core::record::{
    DataScope as CoreScope, Kind as CoreKind, SensitiveField as CoreSensitive,
};

use crate::error::FieldsalesError;

/// An enum of the API mirroring core's `$core` case for case, plus `Other`.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $name:ident mirrors $core:ident {
            $( $(#[$vmeta:meta])* $variant:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value a newer version of the product wrote, which this version cannot name.
            Other,
        }

        impl From<$core> for $name {
            #[allow(unreachable_patterns)]
            fn from(value: $core) -> Self {
                match value {
                    $( $core::$variant => $name::$variant, )+
                    _ => $name::Other,
                }
            }
        }

        impl $name {
            /// Core's value; `Other` is refused as input, naming `field`.
            #[allow(dead_code)]
            pub(crate) fn core(self, field: &str) -> Result<$core, FieldsalesError> {
                match self {
                    $( $name::$variant => Ok($core::$variant), )+
                    $name::Other => Err(FieldsalesError::InvalidInput {
                        field: field.to_string(),
                        detail: concat!(
                            "`Other` names no ",
                            stringify!($name),
                            "; send one of its cases"
                        )
                        .to_string(),
                    }),
                }
            }
        }
    };
}

closed_set! {
    /// The kinds of record.
    RecordKind mirrors CoreKind {
        /// A unit of the org tree.
        OrgUnit,
        /// A user's profile.
        UserProfile,
        /// A role and its permissions.
        Role,
        /// A customer company.
        Customer,
        /// A person at a customer.
        Contact,
        /// A call, visit, message or meeting logged.
        FollowUp,
        /// A sales lead.
        Lead,
        /// A deal in the sales process.
        Opportunity,
        /// A check-in at a customer.
        Visit,
        /// A day's planned visits.
        VisitPlan,
        /// A daily report.
        DailyReport,
        /// A task or schedule entry.
        Task,
        /// An approval request.
        Approval,
        /// A product of the catalogue.
        Product,
        /// An order or contract.
        Order,
        /// A sales target.
        Target,
        /// The tenant's process configuration.
        ProcessConfig,
        /// A sensitive field's companion (never shown on its own).
        Private,
    }
}

closed_set! {
    /// A field a role may hide: it lives in a companion document that never reaches a device
    /// whose user's roles all hide it, and a screen shows it as "hidden", not as empty.
    SensitiveField mirrors CoreSensitive {
        /// A contact's phone.
        ContactPhone,
        /// A contact's e-mail.
        ContactEmail,
        /// A colleague's phone.
        UserPhone,
        /// A colleague's e-mail.
        UserEmail,
        /// A product's cost.
        ProductCost,
    }
}

closed_set! {
    /// How much of the org a user sees.
    DataScope mirrors CoreScope {
        /// Their own records.
        Own,
        /// Their unit and the units below it.
        Subtree,
        /// Their region.
        Region,
        /// The whole company.
        All,
    }
}

closed_set! {
    /// Where a location proposal stands.
    ProposalStatus mirrors CoreProposal {
        /// Waiting for a manager.
        Pending,
        /// Approved: the customer's location moved.
        Approved,
        /// Rejected.
        Rejected,
    }
}

closed_set! {
    /// A contact's place in the customer's decision.
    DecisionRole mirrors CoreDecisionRole {
        /// Decides.
        DecisionMaker,
        /// Weighs in.
        Influencer,
        /// Uses what is bought.
        User,
        /// Controls access.
        Gatekeeper,
        /// Not known yet.
        Unknown,
    }
}

closed_set! {
    /// How far an attachment's upload got.
    UploadState mirrors CoreUpload {
        /// Nothing sent yet.
        Pending,
        /// Part sent; the next upload continues from there.
        Partial,
        /// The server holds the whole, verified content.
        Uploaded,
    }
}

closed_set! {
    /// Where a check-in stands against its customer's geofence.
    FenceStatus mirrors CoreFence {
        /// Inside the fence.
        Inside,
        /// Outside it.
        Outside,
        /// The fix is too coarse to tell.
        CannotTell,
        /// The customer has no location to measure against.
        UnableToVerify,
    }
}

closed_set! {
    /// Who judged a check-in.
    Judge mirrors CoreJudge {
        /// This phone, offline: provisional.
        Device,
        /// The server: the judgement that counts.
        Server,
    }
}

closed_set! {
    /// Why a check-in was flagged for a manager's look.
    CheckInFlag mirrors CoreFlag {
        /// The fix was too coarse.
        PoorAccuracy,
        /// The OS said the position was mocked.
        MockLocation,
        /// The phone is rooted or jailbroken.
        RootedDevice,
        /// An emulator.
        Emulator,
        /// The fix was old at check-in.
        StaleFix,
        /// The fix was taken after the check-in it claims.
        FixAfterCheckIn,
    }
}

closed_set! {
    /// Where a daily report stands.
    ReportState mirrors CoreReportState {
        /// Being written.
        Draft,
        /// Submitted.
        Submitted,
        /// Never submitted: recorded by the server after the deadline.
        Missing,
    }
}

closed_set! {
    /// Why no report is owed on a day.
    DayOff mirrors CoreDayOff {
        /// A rest day of the work week.
        RestDay,
        /// A public holiday.
        PublicHoliday,
        /// Approved leave.
        Leave,
        /// Before the user's first working day.
        NotStarted,
        /// After the user's last working day.
        Left,
    }
}

closed_set! {
    /// A task or a calendar entry.
    TaskKind mirrors CoreTaskKind {
        /// A task with a due time.
        Task,
        /// A calendar entry with a start and an end.
        Schedule,
    }
}

closed_set! {
    /// Where a task stands.
    TaskStatus mirrors CoreTaskStatus {
        /// Given by someone else, waiting for the assignee to accept.
        Proposed,
        /// Accepted or one's own: to be done.
        Open,
        /// Refused by the assignee, with a reason.
        Rejected,
        /// Done.
        Completed,
        /// Called off.
        Cancelled,
    }
}

closed_set! {
    /// Where a lead stands.
    LeadStatus mirrors CoreLeadStatus {
        /// Just created.
        New,
        /// Given to a rep.
        Assigned,
        /// Being followed up.
        Following,
        /// Became a customer and a deal.
        Converted,
        /// In a team's pool, for a rep to claim.
        Pooled,
        /// Closed without conversion.
        Closed,
    }
}

closed_set! {
    /// How a follow-up happened.
    FollowUpMethod mirrors CoreMethod {
        /// In person.
        Visit,
        /// A phone call.
        Call,
        /// A message.
        Message,
        /// A meeting.
        Meeting,
    }
}

closed_set! {
    /// How a closed deal ended.
    DealOutcome mirrors CoreOutcome {
        /// Won.
        Won,
        /// Lost.
        Lost,
    }
}

closed_set! {
    /// Where an approval request stands.
    ApprovalStatus mirrors CoreApprovalStatus {
        /// Waiting for a decision.
        Pending,
        /// Approved by every step.
        Approved,
        /// Rejected at a step.
        Rejected,
        /// Withdrawn by the requester.
        Withdrawn,
    }
}

closed_set! {
    /// An approver's decision.
    ApprovalVerdict mirrors CoreVerdict {
        /// Approve.
        Approve,
        /// Reject.
        Reject,
    }
}

impl RecordKind {
    /// The kind of a stored code; a code this version does not know is `Other`.
    pub(crate) fn of_code(code: &str) -> RecordKind {
        code.parse::<CoreKind>()
            .map(RecordKind::from)
            .unwrap_or(RecordKind::Other)
    }
}

/// How a dashboard groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum GroupBy {
    /// One row per rep.
    Rep,
    /// One row per team.
    Team,
    /// One row per region.
    Region,
}

impl From<GroupBy> for CoreGroupBy {
    fn from(g: GroupBy) -> Self {
        match g {
            GroupBy::Rep => CoreGroupBy::Rep,
            GroupBy::Team => CoreGroupBy::Team,
            GroupBy::Region => CoreGroupBy::Region,
        }
    }
}

/// The period of a dashboard's rows over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Granularity {
    /// One row per day.
    Day,
    /// One row per week.
    Week,
}

impl From<Granularity> for CoreGranularity {
    fn from(g: Granularity) -> Self {
        match g {
            Granularity::Day => CoreGranularity::Day,
            Granularity::Week => CoreGranularity::Week,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_crosses_both_ways_and_other_is_refused_as_input() {
        for kind in CoreKind::ALL {
            let mirrored = RecordKind::from(*kind);
            assert_ne!(mirrored, RecordKind::Other, "{kind:?}");
            assert_eq!(mirrored.core("kind").unwrap(), *kind);
        }
        assert_eq!(
            TaskStatus::from(CoreTaskStatus::Other("paused".into())),
            TaskStatus::Other
        );
        match TaskStatus::Other.core("filter.status") {
            Err(FieldsalesError::InvalidInput { field, .. }) => assert_eq!(field, "filter.status"),
            other => panic!("{other:?}"),
        }
    }
}
