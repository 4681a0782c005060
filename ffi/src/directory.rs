//! The company directory and what the signed-in user may do: colleagues with their units and
//! roles, the org tree, and the permission check of a record, so an app shows only the
//! buttons that work.
//!
//! The directory is what the device holds of the org records (synced to every user); a
//! colleague's phone and e-mail follow the hidden-field rules like a contact's. The
//! permission check is the one the server runs on every push ([`Engine::allowed_operations`]
//! answers from the synced permission matrix and org tree, offline).

use std::collections::HashMap;
use std::sync::Arc;

use fieldsales_core::RecordId;
use fieldsales_core::me::Me;
use fieldsales_core::process::permissions::Operation as CoreOperation;
use fieldsales_core::record::{
    Kind, OrgLevel, OrgUnit as CoreUnit, SensitiveField, UserProfile as CoreProfile,
};
use fieldsales_core::store::{ListFilter, StoreRead};

use crate::engine::{Engine, record_id};
use crate::error::FieldsalesError;

/// A colleague as the directory lists them.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Colleague {
    /// Their user ID.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Employee number.
    pub employee_no: String,
    /// Job title.
    pub title: Option<String>,
    /// Their unit.
    pub unit_id: String,
    /// Their unit's name, when the unit is on this device.
    pub unit_name: Option<String>,
    /// Role codes.
    pub roles: Vec<String>,
    /// Phone; `None` when unset or hidden from the user (see `hidden_fields`).
    pub phone: Option<String>,
    /// E-mail; `None` when unset or hidden.
    pub email: Option<String>,
    /// Their IANA time zone.
    pub zone: String,
    /// Whether the account is active (a colleague who left is listed as inactive).
    pub active: bool,
    /// Whether they are the signed-in user's manager (of the nearest unit above the user that
    /// has one), as approvals and reminders reckon it.
    pub is_my_manager: bool,
    /// Its fields the user's roles hide: never on this device, to be shown as "hidden" rather
    /// than empty.
    pub hidden_fields: Vec<crate::codes::SensitiveField>,
}

/// How high a unit sits in the org tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UnitLevel {
    /// Headquarters, the root.
    Headquarters,
    /// A region (大区).
    Region,
    /// A district (分区).
    District,
    /// A sales team.
    Team,
    /// A level a newer version of the product defines.
    Other,
}

/// A unit of the org tree.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OrgUnit {
    /// Record ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its level.
    pub level: UnitLevel,
    /// The unit above; `None` for headquarters.
    pub parent_id: Option<String>,
    /// Its manager.
    pub manager_id: Option<String>,
}

/// What a user may do with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Operation {
    /// Make a new record of its kind.
    Create,
    /// See it.
    Read,
    /// Change its fields.
    Edit,
    /// Delete it or bring it back.
    Delete,
    /// Give it another owner or unit.
    Reassign,
    /// Change who it is shared with.
    Share,
    /// Decide on it (an approval).
    Approve,
    /// Export it to a file.
    Export,
}

/// What every entry of the directory is shown against: unit names, and the user's manager.
struct Known {
    unit_names: HashMap<RecordId, String>,
    my_manager: Option<RecordId>,
}

impl Known {
    fn of(e: &fieldsales_core::engine::Engine) -> Result<Known, FieldsalesError> {
        Ok(Known {
            unit_names: all::<CoreUnit>(e)?
                .into_iter()
                .map(|u| (u.header.id, u.name))
                .collect(),
            my_manager: e.manager_of(e.me().user_id)?,
        })
    }

    fn colleague(&self, p: CoreProfile, me: &Me) -> Colleague {
        Colleague {
            id: p.header.id.to_string(),
            unit_name: self.unit_names.get(&p.unit_id).cloned(),
            is_my_manager: self.my_manager == Some(p.header.id),
            name: p.name,
            employee_no: p.employee_no,
            title: p.title,
            unit_id: p.unit_id.to_string(),
            roles: p.roles.iter().cloned().collect(),
            phone: p.phone,
            email: p.email,
            zone: p.zone.to_string(),
            active: p.active,
            hidden_fields: SensitiveField::of_kind(Kind::UserProfile)
                .filter(|f| me.hidden.hides(*f))
                .map(Into::into)
                .collect(),
        }
    }
}

fn all<R: fieldsales_core::record::Record>(
    e: &fieldsales_core::engine::Engine,
) -> Result<Vec<R>, FieldsalesError> {
    e.store()
        .list(&ListFilter {
            kind: Some(R::KIND),
            limit: Some(100_000),
            ..ListFilter::default()
        })?
        .into_iter()
        .map(|row| Ok(e.store().get::<R>(row.id)?))
        .collect()
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// The company directory: every colleague on this device, active first, by name.
    pub async fn directory(self: Arc<Self>) -> Result<Vec<Colleague>, FieldsalesError> {
        self.read(|e| {
            let known = Known::of(e)?;
            let mut people: Vec<Colleague> = all::<CoreProfile>(e)?
                .into_iter()
                .map(|p| known.colleague(p, e.me()))
                .collect();
            people.sort_by(|a, b| (!a.active, &a.name).cmp(&(!b.active, &b.name)));
            Ok(people)
        })
        .await
    }

    /// The org tree's units, headquarters first, then by name within each level.
    pub async fn org_units(self: Arc<Self>) -> Result<Vec<OrgUnit>, FieldsalesError> {
        self.read(|e| {
            let mut units: Vec<OrgUnit> = all::<CoreUnit>(e)?
                .into_iter()
                .filter(|u| !u.header.is_deleted())
                .map(|u| OrgUnit {
                    id: u.header.id.to_string(),
                    name: u.name,
                    level: match u.level {
                        OrgLevel::Hq => UnitLevel::Headquarters,
                        OrgLevel::Region => UnitLevel::Region,
                        OrgLevel::District => UnitLevel::District,
                        OrgLevel::Team => UnitLevel::Team,
                        OrgLevel::Other(_) => UnitLevel::Other,
                    },
                    parent_id: u.parent_id.map(|p| p.to_string()),
                    manager_id: u.manager_id.map(|m| m.to_string()),
                })
                .collect();
            let rank = |l: UnitLevel| match l {
                UnitLevel::Headquarters => 0,
                UnitLevel::Region => 1,
                UnitLevel::District => 2,
                UnitLevel::Team => 3,
                UnitLevel::Other => 4,
            };
            units.sort_by(|a, b| (rank(a.level), &a.name).cmp(&(rank(b.level), &b.name)));
            Ok(units)
        })
        .await
    }

    /// What the signed-in user may do with a record now, from the synced permission matrix
    /// and org tree: the check the server runs on their next push. An app shows the buttons
    /// of these operations only.
    pub async fn allowed_operations(
        self: Arc<Self>,
        record_id: String,
    ) -> Result<Vec<Operation>, FieldsalesError> {
        let id = crate::engine::record_id("record_id", &record_id)?;
        self.read(move |e| {
            Ok(e.allowed_operations(id)?
                .into_iter()
                .filter_map(|op| match op {
                    CoreOperation::Create => Some(Operation::Create),
                    CoreOperation::Read => Some(Operation::Read),
                    CoreOperation::Edit => Some(Operation::Edit),
                    CoreOperation::Delete => Some(Operation::Delete),
                    CoreOperation::Reassign => Some(Operation::Reassign),
                    CoreOperation::Share => Some(Operation::Share),
                    CoreOperation::Approve => Some(Operation::Approve),
                    CoreOperation::Export => Some(Operation::Export),
                    CoreOperation::Other(_) => None,
                })
                .collect())
        })
        .await
    }

    /// A colleague on this device.
    pub async fn colleague(self: Arc<Self>, user_id: String) -> Result<Colleague, FieldsalesError> {
        let id = record_id("user_id", &user_id)?;
        self.read(move |e| {
            let profile = e
                .user_profile(id)?
                .ok_or_else(|| fieldsales_core::Error::not_found(Kind::UserProfile, id))?;
            Ok(Known::of(e)?.colleague(profile, e.me()))
        })
        .await
    }
}
