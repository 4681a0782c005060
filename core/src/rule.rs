//! The stable codes of the business rules: one typed list shared by the phone's engine, the
//! server's review, the sync client and the FFI.
//!
//! A refusal travels as its code's text (`stage.required_fields`), so an app branches on it
//! and a log line names it. Codes are never renamed once shipped; a code from a newer server
//! that this build does not know is kept as [`RuleCode::Other`].

use crate::string_enum;

string_enum! {
    /// Why the rules refused an operation or a pushed record.
    pub enum RuleCode {
        // Approvals.
        /// The approval was decided already.
        ApprovalAlreadyDecided = "approval.already_decided",
        /// The approval is no longer pending (a device tried to decide it again).
        ApprovalDecided = "approval.decided",
        /// A decision was recorded in someone else's name.
        ApprovalDecidedForAnother = "approval.decided_for_another",
        /// The same approver decided the same step twice.
        ApprovalDecidedTwice = "approval.decided_twice",
        /// A recorded decision was removed.
        ApprovalDecisionRemoved = "approval.decision_removed",
        /// The user holds none of the step's approving roles.
        ApprovalNotAnApprover = "approval.not_an_approver",
        /// The decision is for a step that is not the current one.
        ApprovalNotCurrentStep = "approval.not_current_step",
        /// A requester may not approve their own request.
        ApprovalOwnRequest = "approval.own_request",
        /// Only the requester withdraws a pending request.
        ApprovalWithdraw = "approval.withdraw",
        /// The request was withdrawn.
        ApprovalWithdrawn = "approval.withdrawn",
        // Photos.
        /// The photo's bytes do not match its hash.
        AttachmentDamaged = "attachment.damaged",
        /// The photo is over the configured size.
        AttachmentTooLarge = "attachment.too_large",
        // Check-ins and their customers' locations.
        /// The server refused a check-in (hard mode).
        CheckInRefused = "check_in.refused",
        /// A customer's location was decided by someone who may not.
        CustomerLocationDecision = "customer.location_decision",
        /// A customer's location changes only through an approved proposal.
        CustomerLocationNeedsApproval = "customer.location_needs_approval",
        /// Hard mode: the fix is outside the customer's geofence.
        GeofenceOutside = "geofence.outside",
        /// Hard mode: the fix is too inaccurate to tell.
        GeofencePoorAccuracy = "geofence.poor_accuracy",
        /// Hard mode: the operating system reported a mock location.
        GeofenceMockLocation = "geofence.mock_location",
        /// A proposal was decided already.
        LocationAlreadyDecided = "location.already_decided",
        /// A proposal waits already.
        LocationAlreadyProposed = "location.already_proposed",
        /// The check-in's fix cannot be trusted to locate a customer.
        LocationFixUntrustworthy = "location.fix_untrustworthy",
        /// There is no proposal to decide.
        LocationNoProposal = "location.no_proposal",
        /// Rejecting a proposal needs a reason.
        LocationReasonRequired = "location.reason_required",
        /// The reason is too long.
        LocationReasonTooLong = "location.reason_too_long",
        /// The visit was checked out already.
        VisitAlreadyCheckedOut = "visit.already_checked_out",
        /// A check-out cannot come before its check-in.
        VisitCheckOutBeforeCheckIn = "visit.check_out_before_check_in",
        /// The customer was deleted.
        VisitCustomerDeleted = "visit.customer_deleted",
        // What no edit may change.
        /// An approval's history was rewritten.
        ImmutableApproval = "immutable.approval",
        /// A recorded check-in was moved or retimed.
        ImmutableCheckIn = "immutable.check_in",
        /// A record's id, creation time or creator was changed.
        ImmutableHeader = "immutable.header",
        /// A submitted report's submission was changed.
        ImmutableReportSubmission = "immutable.report_submission",
        // Leads.
        /// The lead was converted already.
        LeadConverted = "lead.converted",
        /// The rep holds as many leads as allowed.
        LeadLimitReached = "lead.limit_reached",
        /// No rep of the team can take another lead.
        LeadNoAssignee = "lead.no_assignee",
        /// The lead is not in the pool.
        LeadNotInPool = "lead.not_in_pool",
        /// The rep released this lead too recently to claim it back.
        LeadWaitingPeriod = "lead.waiting_period",
        // Deals and the sales process.
        /// Another live opportunity of the customer has this name.
        OpportunityNameTaken = "opportunity.name_taken",
        /// Only a manager over the rep marks a deal's progress false or withdraws the mark.
        OpportunityFalseProgressNotAllowed = "opportunity.false_progress_not_allowed",
        /// A false-progress mark carries the manager who set it.
        OpportunityFalseProgressAuthor = "opportunity.false_progress_author",
        /// Marking a deal's progress false needs a reason (at most 1,000 characters).
        OpportunityFalseProgressReason = "opportunity.false_progress_reason",
        /// A deal marked false is deleted only by a manager over its rep.
        OpportunityFalseProgressDelete = "opportunity.false_progress_delete",
        /// The stage needs an approval before it is entered.
        StageApproval = "stage.approval",
        /// The deal is in this stage already.
        StageAlreadyThere = "stage.already_there",
        /// The deal is won or lost.
        StageClosed = "stage.closed",
        /// Moves the server holds were rewritten.
        StageHistoryRewritten = "stage.history_rewritten",
        /// The move's kind does not fit the stages.
        StageKindMismatch = "stage.kind_mismatch",
        /// A lead stage cannot be entered by a deal.
        StageLeadStage = "stage.lead_stage",
        /// A move was recorded in someone else's name.
        StageMovedForAnother = "stage.moved_for_another",
        /// The process has no stage a deal opens in.
        StageNoOpeningStage = "stage.no_opening_stage",
        /// A won or lost deal must carry its outcome, an open one none.
        StageOutcomeMismatch = "stage.outcome_mismatch",
        /// The move needs a reason.
        StageReasonRequired = "stage.reason_required",
        /// The stage's required fields are not filled.
        StageRequiredFields = "stage.required_fields",
        /// The move skips a stage.
        StageSkip = "stage.skip",
        /// The stage is not in the process.
        StageUnknown = "stage.unknown",
        /// The customer's owner cannot be decided from the facts.
        OwnershipUndecided = "ownership.undecided",
        /// The customer has no owner to decide between.
        OwnershipNoOwner = "ownership.no_owner",
        /// The process configuration cannot be exported.
        ProcessExport = "process.export",
        /// The process configuration was refused.
        ProcessInvalid = "process.invalid",
        // Catalogue and orders.
        /// Another live product has this code.
        ProductCodeTaken = "product.code_taken",
        /// The product is not sold any more.
        ProductInactive = "product.inactive",
        /// No live product has this code.
        ProductUnknown = "product.unknown",
        /// A line could not be priced.
        PricingRefused = "pricing.refused",
        /// The order's amounts do not add up.
        OrderAmount = "order.amount",
        /// The order's approval is not approved.
        OrderApprovalNotApproved = "order.approval_not_approved",
        /// The order's approval was rejected.
        OrderApprovalRejected = "order.approval_rejected",
        /// The order needs an approval before it is confirmed.
        OrderApprovalRequired = "order.approval_required",
        /// The order was cancelled.
        OrderCancelled = "order.cancelled",
        /// A confirmed order's lines cannot change.
        OrderConfirmedImmutable = "order.confirmed_immutable",
        /// The order is not confirmed.
        OrderNotConfirmed = "order.not_confirmed",
        /// A line's price is not what the server's catalogue and price rules give.
        OrderPriceMismatch = "order.price_mismatch",
        // Daily reports.
        /// A report cannot be submitted before its day.
        ReportBeforeItsDay = "report.before_its_day",
        /// A rep cannot mark their own report false.
        ReportFalseMarkAuthor = "report.false_mark_author",
        /// Only a manager over the rep marks a report false.
        ReportFalseMarkNotAllowed = "report.false_mark_not_allowed",
        /// The report breaks its own rules.
        ReportInvalid = "report.invalid",
        /// Only the server writes a missing report.
        ReportMissingIsServerOnly = "report.missing_is_server_only",
        /// The report is not a draft.
        ReportNotDraft = "report.not_draft",
        /// The day is not yet missing.
        ReportNotMissingYet = "report.not_missing_yet",
        /// Nobody owes a report for a day off (weekend, holiday, leave, before starting or
        /// after leaving).
        ReportDayOff = "report.day_off",
        /// The report is not submitted.
        ReportNotSubmitted = "report.not_submitted",
        /// Marking a report false needs a reason.
        ReportReasonRequired = "report.reason_required",
        /// The reason is too long.
        ReportReasonTooLong = "report.reason_too_long",
        // Follow-ups.
        /// A follow-up recorded longer after it happened than the configured window allows.
        FollowUpBackdated = "follow_up.backdated",
        /// A follow-up dated after it was received.
        FollowUpInFuture = "follow_up.in_future",
        /// A follow-up's time or subject was changed.
        ImmutableFollowUp = "immutable.follow_up",
        // Customers.
        /// Another customer of the tenant has the same normalised name; ask its owner to share.
        CustomerDuplicate = "customer.duplicate",
        // Targets and tasks.
        /// Nobody sets their own target.
        TargetOwn = "target.own",
        /// The target's subject is of a kind this version cannot count.
        TargetUnknownSubject = "target.unknown_subject",
        /// The task was deleted.
        TaskDeleted = "task.deleted",
        /// The task is not open.
        TaskNotOpen = "task.not_open",
        /// The task is not waiting for its assignee's answer.
        TaskNotProposed = "task.not_proposed",
        /// A task cannot be postponed into the past.
        TaskPostponeToPast = "task.postpone_to_past",
        /// Rejecting a task needs a reason.
        TaskReasonRequired = "task.reason_required",
        /// Only the one who gave a task changes what it is.
        TaskAssignerOnly = "task.assigner_only",
        /// Only the one a task was given to answers it.
        TaskAssigneeOnly = "task.assignee_only",
        // Permissions.
        /// The user's roles do not grant the operation over this record; `field` names the
        /// permission (`customer.reassign`, `record_payments`).
        PermissionDenied = "permission.denied",
        /// A new record names someone else as its creator.
        PermissionCreator = "permission.creator",
        /// A record nobody owns names no unit: it would be tenant-wide.
        PermissionNoUnit = "permission.no_unit",
        // Sensitive fields.
        /// The user's roles hide this field (`field` names it: `contact.phone`): they may
        /// neither see nor write it.
        FieldHidden = "field.hidden",
        /// A sensitive field's value was written into its record's own document, where every
        /// reader of the record (and of its history) would get it; it belongs in its companion.
        FieldInDocument = "field.in_document",
        /// A sensitive field's companion names a record the server does not hold.
        FieldNoRecord = "field.no_record",
        // Records, scope and sync.
        /// The record breaks its own rules.
        RecordInvalid = "record.invalid",
        /// The server re-created the record with a fresh history (its sensitive fields moved
        /// to their own documents); an edit made on the copy it replaced is set aside.
        RecordReCreated = "record.re_created",
        /// A record cannot change its kind.
        RecordKindChanged = "record.kind_changed",
        /// Only an admin writes this.
        ScopeAdminOnly = "scope.admin_only",
        /// The record is outside the user's data scope.
        ScopeNotVisible = "scope.not_visible",
        /// The record left the user's data scope (the device removes it).
        ScopeRemoved = "scope.removed",
        /// The server could not read what the review needs; try again.
        ServerLookup = "server.lookup",
        /// The review could not run; try again.
        ReviewUnavailable = "review.unavailable",
        /// The pushed changes are by an actor not registered to the device.
        SyncForeignActor = "sync.foreign_actor",
        /// The push could not be read.
        SyncMalformed = "sync.malformed",
        /// The pushed changes cannot be applied.
        SyncUnusableChanges = "sync.unusable_changes",
        /// The pushed changes hold another record.
        SyncWrongRecord = "sync.wrong_record",
    }
}

/// A code compares equal to its text, as it travels and as an app branches on it.
impl PartialEq<str> for RuleCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_read_back() {
        let mut seen = std::collections::BTreeSet::new();
        for code in RuleCode::KNOWN {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(&RuleCode::from_code(code.as_str()), code);
            let (area, name) = code.as_str().split_once('.').expect("area.name");
            assert!(!area.is_empty() && !name.is_empty(), "{code}");
        }
        assert_eq!(
            RuleCode::from_code("future.rule"),
            RuleCode::Other("future.rule".into())
        );
    }
}
