//! The one permission check, for the phone before it writes and for the server's review of
//! every pushed record: may this user make this change, before → after?
//!
//! The grants are data ([`crate::process::permissions`]): per role, per kind of record, the
//! operations with their reach, and rights with theirs; a user holds the widest grant of any
//! of their roles ([`Grants::of`]). [`check_change`] reads which operations a change makes —
//! a new record is a creation; a tombstone added or removed a deletion; another owner or unit
//! a reassignment; another shared-with list a share; any other field an edit — and refuses
//! the first one not granted over the record, naming the permission (`customer.reassign`).
//! Some changes are another operation than an edit by nature: a decision on an approval is
//! an approval, a payment or a delivery recorded on an order, a report marked false and a
//! deal's false-progress mark (set, changed or withdrawn, its penalty included) need their
//! rights, a lead taken from the pool is a claim and one given back a release, and the
//! tenant-wide records (catalogue, process, org tree, people, roles) are written with the
//! right to manage them. The kinds' own reviews check their rules on top (who may decide
//! which step, the claim cap, which fields of a judged visit a rep may touch).
//!
//! A new record is created by the user who pushes it (`created_by`), is owned by them unless
//! their create grant reaches the owner's unit (a manager creating for a rep), never becomes
//! theirs to see by being shared with them alone, and a record nobody owns keeps a unit (a
//! pool): it is never tenant-wide by accident.

use std::collections::{BTreeMap, BTreeSet};

use crate::RecordId;
use crate::me::Me;
use crate::process::SalesProcess;
use crate::process::permissions::{KindGrants, Operation, Right};
use crate::record::private::Hidden;
use crate::record::{AnyRecord, DataScope, Header, Kind, SensitiveField};
use crate::rule::RuleCode;
use crate::scope::{OrgTree, Visibility};

use super::Rejection;

/// How much a scope reaches; a scope this version does not know reaches nothing.
fn breadth(scope: &DataScope) -> u8 {
    match scope {
        DataScope::All => 4,
        DataScope::Region => 3,
        DataScope::Subtree => 2,
        DataScope::Own => 1,
        DataScope::Other(_) => 0,
    }
}

/// The wider of two reaches.
fn wider(a: Option<DataScope>, b: &DataScope) -> Option<DataScope> {
    match a {
        Some(a) if breadth(&a) >= breadth(b) => Some(a),
        _ if breadth(b) > 0 => Some(b.clone()),
        a => a,
    }
}

/// What a user may do: the widest grant of any of their roles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grants {
    kinds: BTreeMap<Kind, KindGrants>,
    rights: BTreeMap<Right, DataScope>,
    /// The sensitive fields the user's roles hide.
    hidden: Hidden,
}

impl Grants {
    /// The grants of `me`'s roles in `process`.
    pub fn of(me: &Me, process: &SalesProcess) -> Grants {
        let mut out = Grants {
            hidden: me.hidden.clone(),
            ..Grants::default()
        };
        for code in &me.roles {
            let Some(role) = process.roles.iter().find(|r| &r.code == code) else {
                continue;
            };
            let permissions = role.permissions();
            for (kind, grants) in &permissions.kinds {
                let Ok(kind) = kind.parse::<Kind>() else {
                    continue;
                };
                let merged = out.kinds.entry(kind).or_default();
                for (op, scope) in grants.granted() {
                    if let Some(slot) = merged.slot(&op) {
                        *slot = wider(slot.take(), scope);
                    }
                }
            }
            for (right, scope) in &permissions.rights {
                let right = Right::from_code(right);
                if let Some(merged) = wider(out.rights.remove(&right), scope) {
                    out.rights.insert(right, merged);
                }
            }
        }
        out
    }

    /// How far `op` on `kind` reaches, if granted.
    pub fn reach(&self, kind: Kind, op: &Operation) -> Option<&DataScope> {
        self.kinds.get(&kind).and_then(|g| g.get(op))
    }

    /// How far a right reaches, if granted.
    pub fn right(&self, right: &Right) -> Option<&DataScope> {
        self.rights.get(right)
    }

    /// What a pull must look into: the kinds read company-wide (every record of them), and
    /// the widest reach of reading any other kind (which units' records). Every role reads
    /// the catalogue and the org tree company-wide; its own records reach much less, and a
    /// pull that took the widest reach of all kinds would read the whole company's records.
    pub fn read_reach(&self) -> (Vec<Kind>, Option<DataScope>) {
        let mut company = Vec::new();
        let mut others = None;
        for (kind, grants) in &self.kinds {
            match &grants.read {
                Some(DataScope::All) => company.push(*kind),
                Some(scope) => others = wider(others, scope),
                None => {}
            }
        }
        (company, others)
    }

    /// Whether `op` on a record of `kind` with this header is within the user's grants.
    ///
    /// A sensitive field's companion ([`Kind::Private`], its header carrying its record's
    /// reach) is read by who reads the record, unless the user's roles hide the field, and
    /// written by who edits the record (or, for the tenant-wide records, holds the right to
    /// manage them) and may see the field.
    pub fn covers(&self, at: &Vantage<'_>, kind: Kind, op: &Operation, h: &Header) -> bool {
        if kind == Kind::Private {
            let Some(field) = SensitiveField::of_companion(h.id) else {
                return false;
            };
            if self.hidden.hides(field) {
                return false;
            }
            let parent = field.kind();
            return match (op, tenant_wide(parent)) {
                (Operation::Read, _) => self.covers(at, parent, &Operation::Read, h),
                (_, Some(right)) => self.holds(at, &right, h),
                (_, None) => self.covers(at, parent, &Operation::Edit, h),
            };
        }
        self.reach(kind, op)
            .is_some_and(|scope| at.within(scope, h, !matches!(op, Operation::Create)))
    }

    /// Whether the user's roles hide a sensitive field.
    pub fn hides(&self, field: SensitiveField) -> bool {
        self.hidden.hides(field)
    }

    /// Whether a right is held over the record with this header.
    pub fn holds(&self, at: &Vantage<'_>, right: &Right, h: &Header) -> bool {
        self.right(right)
            .is_some_and(|scope| at.within(scope, h, true))
    }

    /// The operations the user may do on this record now (which buttons to show).
    pub fn allowed(&self, at: &Vantage<'_>, record: &AnyRecord) -> Vec<Operation> {
        Operation::KNOWN
            .iter()
            .filter(|op| !matches!(op, Operation::Create))
            .filter(|op| self.covers(at, record.kind(), op, record.header()))
            .cloned()
            .collect()
    }
}

/// Where a user stands in the org tree, computed once to judge many records (a pull page, a
/// push): their team's subtree, their region's, the pools they see.
#[derive(Debug, Clone)]
pub struct Vantage<'a> {
    me: &'a Me,
    subtree: Visibility,
    region: Visibility,
    pools: BTreeSet<RecordId>,
}

impl<'a> Vantage<'a> {
    /// `me`'s vantage in `tree`.
    pub fn new(tree: &OrgTree, me: &'a Me) -> Self {
        Vantage {
            me,
            subtree: tree.units_within(me, &DataScope::Subtree),
            region: tree.units_within(me, &DataScope::Region),
            pools: tree.ancestors(me.unit_id).into_iter().collect(),
        }
    }

    /// The user.
    pub fn me(&self) -> &Me {
        self.me
    }

    /// The units `scope` reaches.
    pub fn units(&self, scope: &DataScope) -> Visibility {
        match scope {
            DataScope::All => Visibility::All,
            DataScope::Region => self.region.clone(),
            DataScope::Subtree => self.subtree.clone(),
            _ => Visibility::Units(BTreeSet::new()),
        }
    }

    /// Whether a record with this header lies within `scope`. `shared`: whether a record
    /// shared with the user, or an unowned one they created, counts as theirs (never for a
    /// creation: a record is not made visible to its creator by sharing alone). The pools of
    /// the user's unit and the units above it lie within every reach.
    pub fn within(&self, scope: &DataScope, h: &Header, shared: bool) -> bool {
        let me = self.me;
        if breadth(scope) == 0 {
            return false;
        }
        if h.owner_id == Some(me.user_id)
            || (shared && h.shared_with.contains(&me.user_id))
            || (shared && h.owner_id.is_none() && h.created_by == Some(me.user_id))
        {
            return true;
        }
        let unit = match (h.owner_id, h.org_unit_id) {
            // Tenant-wide records (the catalogue, the org tree) lie within every reach.
            (None, None) => return true,
            (_, Some(unit)) => unit,
            (Some(_), None) => return matches!(scope, DataScope::All),
        };
        if h.owner_id.is_none() && self.pools.contains(&unit) {
            return true;
        }
        match scope {
            DataScope::All => true,
            DataScope::Region => self.region.covers(unit),
            DataScope::Subtree => self.subtree.covers(unit),
            _ => false,
        }
    }
}

/// Kinds that belong to the whole tenant (no owner, no unit), written only with the right to
/// manage them: the catalogue, the org tree, people, roles and the process.
pub fn tenant_wide(kind: Kind) -> Option<Right> {
    match kind {
        Kind::Product => Some(Right::ManageCatalogue),
        Kind::ProcessConfig => Some(Right::ManageProcess),
        Kind::OrgUnit | Kind::UserProfile | Kind::Role => Some(Right::ManageUsers),
        _ => None,
    }
}

/// What a change to a record's fields (its header aside) is, besides an edit.
#[derive(Debug, Default)]
struct Content {
    edit: bool,
    approve: bool,
    payments: bool,
    delivery: bool,
    false_mark: bool,
    false_progress: bool,
}

/// Reads what changed in a record's fields, `before` → `after`, headers aside.
fn content(before: &AnyRecord, after: &AnyRecord) -> Content {
    let mut c = Content::default();
    match (before, after) {
        (AnyRecord::Approval(b), AnyRecord::Approval(a)) => {
            // A decision moves the status with it; the status alone moving is the requester
            // withdrawing, an edit.
            let mut rest = a.clone();
            rest.header = b.header.clone();
            c.approve = a.decisions != b.decisions;
            if c.approve {
                rest.decisions = b.decisions.clone();
                rest.status = b.status.clone();
                rest.decided_at = b.decided_at;
            }
            c.edit = &rest != b;
        }
        (AnyRecord::Order(b), AnyRecord::Order(a)) => {
            let mut rest = a.clone();
            rest.header = b.header.clone();
            rest.payments = b.payments.clone();
            rest.delivery = b.delivery.clone();
            c.payments = a.payments != b.payments;
            c.delivery = a.delivery != b.delivery;
            c.edit = &rest != b;
        }
        (AnyRecord::DailyReport(b), AnyRecord::DailyReport(a)) => {
            let mut rest = a.clone();
            rest.header = b.header.clone();
            rest.marked_false = b.marked_false.clone();
            c.false_mark = a.marked_false != b.marked_false;
            c.edit = &rest != b;
        }
        (AnyRecord::Opportunity(b), AnyRecord::Opportunity(a)) => {
            let mut rest = a.clone();
            rest.header = b.header.clone();
            rest.marked_false = b.marked_false.clone();
            c.false_progress = a.marked_false != b.marked_false;
            c.edit = &rest != b;
        }
        _ => {
            let mut rest = after.clone();
            *rest.header_mut() = before.header().clone();
            c.edit = &rest != before;
        }
    }
    c
}

fn denied(permission: String, detail: String) -> Rejection {
    Rejection::new(RuleCode::PermissionDenied, detail).at(permission)
}

/// Checks that `me` may make the change `before` → `after` (`before` is `None` for a new
/// record) under `grants`. See the module documentation.
pub fn check_change(
    grants: &Grants,
    at: &Vantage<'_>,
    before: Option<&AnyRecord>,
    after: &AnyRecord,
) -> Result<(), Rejection> {
    let kind = after.kind();
    let me = at.me();
    let need = |op: Operation, header: &Header| -> Result<(), Rejection> {
        if grants.covers(at, kind, &op, header) {
            Ok(())
        } else {
            Err(denied(
                format!("{kind}.{op}"),
                format!("your role may not {op} this {kind}"),
            ))
        }
    };
    let need_right = |right: Right, header: &Header| -> Result<(), Rejection> {
        if grants.holds(at, &right, header) {
            Ok(())
        } else {
            Err(denied(
                right.as_str().to_string(),
                format!("your role does not hold the right to {right} here"),
            ))
        }
    };
    let h = after.header();
    if kind == Kind::Private {
        // A sensitive field's companion, its header its record's reach: written by who edits
        // the record (or manages the tenant-wide ones) and may see the field.
        let Some(field) = SensitiveField::of_companion(h.id) else {
            return Err(Rejection::new(
                RuleCode::RecordInvalid,
                "this ID names no sensitive field",
            ));
        };
        if grants.hides(field) {
            return Err(Rejection::new(
                RuleCode::FieldHidden,
                format!("your role does not see {field}"),
            )
            .at(field.code()));
        }
        let changed = before.is_none_or(|b| b != after);
        if changed && !grants.covers(at, kind, &Operation::Edit, h) {
            return Err(denied(
                format!("{}.{}", field.kind(), Operation::Edit),
                format!("your role may not change this {}", field.kind()),
            ));
        }
        return Ok(());
    }
    if let Some(right) = tenant_wide(kind) {
        let changed = before.is_none_or(|b| b != after);
        return if changed {
            need_right(right, h)
        } else {
            Ok(())
        };
    }
    let Some(before) = before else {
        if h.created_by != Some(me.user_id) {
            return Err(Rejection::new(
                RuleCode::PermissionCreator,
                "a new record is created by the user who pushes it",
            )
            .at("header.created_by"));
        }
        if h.owner_id.is_none() && h.org_unit_id.is_none() {
            return Err(Rejection::new(
                RuleCode::PermissionNoUnit,
                "a record nobody owns belongs to a unit (a pool); it is never tenant-wide",
            )
            .at("header.org_unit_id"));
        }
        need(Operation::Create, h)?;
        // Sharing a new record with its creator alone is no share: it is how whoever gives
        // a task to a colleague keeps seeing it (their right to create it decides).
        if h.shared_with.iter().any(|u| *u != me.user_id) {
            need(Operation::Share, h)?;
        }
        // A record born marked false carries a finding, which needs its right as much as a
        // mark set later.
        match after {
            AnyRecord::DailyReport(r) if r.marked_false.is_some() => {
                need_right(Right::MarkReportFalse, h)?;
            }
            AnyRecord::Opportunity(o) if o.marked_false.is_some() => {
                need_right(Right::MarkProgressFalse, h)?;
            }
            _ => {}
        }
        return Ok(());
    };
    let b = before.header();
    if b.deleted.is_some() != h.deleted.is_some() {
        need(Operation::Delete, b)?;
    }
    let moved = b.owner_id != h.owner_id || b.org_unit_id != h.org_unit_id;
    let claim = kind == Kind::Lead && b.owner_id.is_none() && h.owner_id == Some(me.user_id);
    let release = kind == Kind::Lead && b.owner_id == Some(me.user_id) && h.owner_id.is_none();
    if claim {
        need_right(Right::ClaimLeads, b)?;
    } else if release {
        need(Operation::Edit, b)?;
    } else if moved {
        need(Operation::Reassign, b)?;
        need(Operation::Reassign, h)?;
    }
    if b.shared_with != h.shared_with {
        need(Operation::Share, b)?;
    }
    let c = content(before, after);
    if c.edit {
        need(Operation::Edit, b)?;
    }
    if c.approve {
        need(Operation::Approve, b)?;
    }
    if c.payments {
        need_right(Right::RecordPayments, b)?;
    }
    if c.delivery {
        need_right(Right::RecordDelivery, b)?;
    }
    if c.false_mark {
        need_right(Right::MarkReportFalse, b)?;
    }
    if c.false_progress {
        need_right(Right::MarkProgressFalse, b)?;
    }
    Ok(())
}
