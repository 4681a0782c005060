//! The permission matrix as configuration: per role, the operations on each kind of record
//! with their reach, and rights beyond one kind, with theirs.
//!
//! In the process file each role of `[[roles]]` may carry it:
//!
//! ```toml
//! [[roles]]
//! code = "sales_rep"
//! name = "销售代表"
//!
//! [roles.permissions.kinds]
//! customer = { create = "own", read = "own", edit = "own", share = "own" }
//!
//! [roles.permissions.rights]
//! claim_leads = "own"
//! ```
//!
//! A reach is `own` (records the user owns or was shared, unowned ones they created, the
//! pools of their unit and above), `subtree` (their unit and below: a team), `region` or `all`.
//! A role without a matrix (a file written before matrices existed) takes the defaults of its
//! code ([`default_permissions`]); a role whose code the defaults do not know grants nothing
//! until the admin gives it a matrix. The check itself is [`crate::authority::permission`].

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::validate::{ConfigProblem, FieldPath, Problems};
use crate::record::{DataScope, Kind};
use crate::string_enum;

string_enum! {
    /// What a user does to a record.
    pub enum Operation {
        /// Makes a new record.
        Create = "create",
        /// Sees it (it syncs to their devices).
        Read = "read",
        /// Changes its fields.
        Edit = "edit",
        /// Deletes it (a tombstone) or brings it back.
        Delete = "delete",
        /// Gives it another owner or unit.
        Reassign = "reassign",
        /// Changes who it is shared with.
        Share = "share",
        /// Decides on it (an approval).
        Approve = "approve",
        /// Exports it to a file.
        Export = "export",
    }
}

string_enum! {
    /// A right beyond the operations on one kind of record.
    pub enum Right {
        /// Mark a rep's daily report false (a manager over the rep).
        MarkReportFalse = "mark_report_false",
        /// Mark a deal's progress false (虚假推进), change or withdraw the mark (a manager
        /// over the deal's rep).
        MarkProgressFalse = "mark_progress_false",
        /// Set targets for reps and units below one.
        SetTargets = "set_targets",
        /// Record payments collected on orders.
        RecordPayments = "record_payments",
        /// Record the delivery of orders.
        RecordDelivery = "record_delivery",
        /// Claim leads from the pool.
        ClaimLeads = "claim_leads",
        /// Write the product catalogue.
        ManageCatalogue = "manage_catalogue",
        /// Write the process configuration.
        ManageProcess = "manage_process",
        /// Write the org tree, people's profiles and roles.
        ManageUsers = "manage_users",
    }
}

/// A role's grants on one kind of record: each operation with how far it reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct KindGrants {
    /// Making new records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create: Option<DataScope>,
    /// Seeing them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<DataScope>,
    /// Changing their fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<DataScope>,
    /// Deleting them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<DataScope>,
    /// Giving them another owner or unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassign: Option<DataScope>,
    /// Sharing them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<DataScope>,
    /// Deciding on them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approve: Option<DataScope>,
    /// Exporting them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<DataScope>,
}

impl KindGrants {
    /// How far `op` reaches, if granted.
    pub fn get(&self, op: &Operation) -> Option<&DataScope> {
        match op {
            Operation::Create => self.create.as_ref(),
            Operation::Read => self.read.as_ref(),
            Operation::Edit => self.edit.as_ref(),
            Operation::Delete => self.delete.as_ref(),
            Operation::Reassign => self.reassign.as_ref(),
            Operation::Share => self.share.as_ref(),
            Operation::Approve => self.approve.as_ref(),
            Operation::Export => self.export.as_ref(),
            Operation::Other(_) => None,
        }
    }

    /// The place of `op`'s grant, to set it.
    pub fn slot(&mut self, op: &Operation) -> Option<&mut Option<DataScope>> {
        Some(match op {
            Operation::Create => &mut self.create,
            Operation::Read => &mut self.read,
            Operation::Edit => &mut self.edit,
            Operation::Delete => &mut self.delete,
            Operation::Reassign => &mut self.reassign,
            Operation::Share => &mut self.share,
            Operation::Approve => &mut self.approve,
            Operation::Export => &mut self.export,
            Operation::Other(_) => return None,
        })
    }

    /// Every granted operation with its reach.
    pub fn granted(&self) -> impl Iterator<Item = (Operation, &DataScope)> {
        Operation::KNOWN
            .iter()
            .filter_map(|op| self.get(op).map(|s| (op.clone(), s)))
    }

    /// These operations, each with `scope`.
    fn with(ops: &[Operation], scope: &DataScope) -> KindGrants {
        let mut g = KindGrants::default();
        for op in ops {
            if let Some(slot) = g.slot(op) {
                *slot = Some(scope.clone());
            }
        }
        g
    }
}

/// One role's permissions: per kind code, its grants; per right, its reach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct RolePermissions {
    /// Per record kind (`customer`, `visit`...), the operations granted.
    pub kinds: BTreeMap<String, KindGrants>,
    /// Rights (`mark_report_false`...) with their reach.
    pub rights: BTreeMap<String, DataScope>,
}

impl RolePermissions {
    fn grant(&mut self, kind: Kind, ops: &[Operation], scope: &DataScope) {
        let g = self.kinds.entry(kind.as_str().to_string()).or_default();
        for (op, s) in KindGrants::with(ops, scope).granted() {
            if let Some(slot) = g.slot(&op) {
                *slot = Some(s.clone());
            }
        }
    }

    fn right(&mut self, right: Right, scope: &DataScope) {
        self.rights
            .insert(right.as_str().to_string(), scope.clone());
    }

    /// Problems of the matrix at `at`: kinds, rights and scopes this version does not know.
    pub fn validate(&self, at: &FieldPath, out: &mut Problems) {
        let kinds_at = at.key("kinds");
        for (kind, grants) in &self.kinds {
            let here = kinds_at.key(kind.clone());
            if kind.parse::<Kind>().is_err() {
                out.push(
                    here.clone(),
                    ConfigProblem::Invalid {
                        message: format!(
                            "unknown kind of record `{kind}`; kinds are: {}",
                            Kind::ALL
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                );
            }
            for (op, scope) in grants.granted() {
                known_scope(scope, here.key(op.as_str().to_string()), out);
            }
        }
        let rights_at = at.key("rights");
        for (right, scope) in &self.rights {
            let here = rights_at.key(right.clone());
            if !Right::from_code(right).is_known() {
                out.push(
                    here.clone(),
                    ConfigProblem::Invalid {
                        message: format!(
                            "unknown right `{right}`; rights are: {}",
                            Right::KNOWN
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                );
            }
            known_scope(scope, here, out);
        }
    }
}

fn known_scope(scope: &DataScope, at: FieldPath, out: &mut Problems) {
    if !scope.is_known() {
        out.push(
            at,
            ConfigProblem::Invalid {
                message: format!("unknown reach `{scope}`; reaches are: own, subtree, region, all"),
            },
        );
    }
}

/// The defaults of REQUIREMENTS.md by role code: a rep works on their own records; a sales
/// manager over their team (subtree), a regional director over their region, with the rights
/// of a manager; finance sees every order and its payments and nothing of field work; an
/// admin may do everything. Every role reads the tenant-wide records (catalogue, org tree,
/// people, roles, process). A code these defaults do not know grants nothing.
pub fn default_permissions(code: &str) -> RolePermissions {
    use Operation as O;
    let mut p = RolePermissions::default();
    let all = DataScope::All;
    for kind in [
        Kind::OrgUnit,
        Kind::UserProfile,
        Kind::Role,
        Kind::Product,
        Kind::ProcessConfig,
    ] {
        p.grant(kind, &[O::Read], &all);
    }
    // What a rep does with their own records, at `scope`.
    let field_work = |p: &mut RolePermissions, scope: &DataScope| {
        let write = [O::Create, O::Read, O::Edit];
        p.grant(
            Kind::Customer,
            &[O::Create, O::Read, O::Edit, O::Share],
            scope,
        );
        p.grant(
            Kind::Contact,
            &[O::Create, O::Read, O::Edit, O::Delete],
            scope,
        );
        p.grant(Kind::FollowUp, &write, scope);
        p.grant(Kind::Lead, &write, scope);
        p.grant(Kind::Opportunity, &write, scope);
        p.grant(Kind::Visit, &write, scope);
        p.grant(
            Kind::VisitPlan,
            &[O::Create, O::Read, O::Edit, O::Delete],
            scope,
        );
        p.grant(Kind::DailyReport, &write, scope);
        p.grant(Kind::Task, &[O::Read, O::Edit, O::Delete], scope);
        p.grant(Kind::Approval, &write, scope);
        p.grant(Kind::Order, &write, scope);
        p.grant(Kind::Target, &[O::Read], scope);
    };
    // A manager's work over `scope`: everything a rep does there, plus reassigning, sharing,
    // deleting, deciding and exporting, setting targets and marking reports and deals' progress
    // false.
    let management = |p: &mut RolePermissions, scope: &DataScope| {
        field_work(p, scope);
        for kind in [
            Kind::Customer,
            Kind::Contact,
            Kind::FollowUp,
            Kind::Lead,
            Kind::Opportunity,
            Kind::VisitPlan,
            Kind::Task,
            Kind::Order,
        ] {
            p.grant(kind, &[O::Reassign, O::Share, O::Export], scope);
        }
        for kind in [Kind::Customer, Kind::Lead, Kind::Opportunity, Kind::Order] {
            p.grant(kind, &[O::Delete], scope);
        }
        for kind in [Kind::Visit, Kind::DailyReport] {
            p.grant(kind, &[O::Export], scope);
        }
        p.grant(Kind::Task, &[O::Create], scope);
        p.grant(Kind::Approval, &[O::Approve, O::Export], scope);
        p.grant(
            Kind::Target,
            &[O::Create, O::Read, O::Edit, O::Delete, O::Export],
            scope,
        );
        p.right(Right::MarkReportFalse, scope);
        p.right(Right::MarkProgressFalse, scope);
        p.right(Right::SetTargets, scope);
        p.right(Right::RecordDelivery, scope);
        p.right(Right::ClaimLeads, &DataScope::Own);
    };
    match code {
        "sales_rep" => {
            field_work(&mut p, &DataScope::Own);
            // A rep gives tasks to the colleagues of their team.
            p.grant(Kind::Task, &[O::Create], &DataScope::Subtree);
            p.right(Right::ClaimLeads, &DataScope::Own);
        }
        "sales_manager" => management(&mut p, &DataScope::Subtree),
        "regional_director" => management(&mut p, &DataScope::Region),
        "finance" => {
            p.grant(Kind::Order, &[O::Read, O::Export], &all);
            p.grant(Kind::Customer, &[O::Read], &all);
            p.right(Right::RecordPayments, &all);
            p.right(Right::RecordDelivery, &all);
        }
        "admin" => {
            for kind in Kind::ALL {
                p.grant(*kind, Operation::KNOWN, &all);
            }
            for right in Right::KNOWN {
                p.right(right.clone(), &all);
            }
        }
        _ => {}
    }
    p
}
