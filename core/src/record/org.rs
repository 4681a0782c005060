//! The organisation: org units (HQ → region → district → team), users and roles.
//!
//! Roles are data: an admin can add one. What a role may see is its [`DataScope`]; what it may
//! do is a set of permission codes the rule modules check.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, StringSet, check, impl_record};
use crate::fieldwork::{DaySpan, Employment};
use crate::{LocalDate, RecordId, Zone, string_enum};

string_enum! {
    /// The level of an org unit in the tree.
    pub enum OrgLevel {
        /// Headquarters: the root.
        Hq = "hq",
        /// A region (大区).
        Region = "region",
        /// A district (分区).
        District = "district",
        /// A sales team.
        Team = "team",
    }
}

string_enum! {
    /// How much of the org a role sees.
    pub enum DataScope {
        /// Only records the user owns or that were shared with them.
        Own = "own",
        /// The subtree of the user's own unit (a team manager's team).
        Subtree = "subtree",
        /// The whole region the user's unit is in (a regional director).
        Region = "region",
        /// Everything in the tenant (HQ admins).
        All = "all",
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OrgLevel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::known_codes(
            "The level of an org unit in the tree.",
            OrgLevel::KNOWN.iter().map(OrgLevel::as_str),
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OrgLevel {}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DataScope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::known_codes(
            "How much of the org a role sees.",
            DataScope::KNOWN.iter().map(DataScope::as_str),
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DataScope {}

/// A node of the org tree.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OrgUnit {
    /// Common fields.
    pub header: Header,
    /// Display name ("华东大区", "Shanghai Team 1").
    pub name: String,
    /// Level in the tree.
    pub level: OrgLevel,
    /// The parent unit; `None` only for HQ.
    pub parent_id: Option<RecordId>,
    /// The unit's manager, if any.
    pub manager_id: Option<RecordId>,
    /// The unit's time zone, used when a member has none.
    pub zone: Option<Zone>,
}

impl OrgUnit {
    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::OrgUnit, "name", &self.name)?;
        check::known(Kind::OrgUnit, "level", self.level.is_known(), &self.level)?;
        if self.parent_id.is_none() && self.level != OrgLevel::Hq {
            return Err(InvalidRecord::Missing {
                kind: Kind::OrgUnit,
                field: "parent_id",
            });
        }
        if self.parent_id == Some(self.header.id) {
            return Err(InvalidRecord::Invalid {
                kind: Kind::OrgUnit,
                field: "parent_id",
                detail: "a unit cannot be its own parent".into(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            status: Some(self.level.to_string()),
            ..Index::default()
        }
    }
}
impl_record!(OrgUnit, OrgUnit);

/// A user's profile. Login credentials live on the server only; this is what devices sync.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct UserProfile {
    /// Common fields; `header.id` is the user's ID.
    pub header: Header,
    /// Full name.
    pub name: String,
    /// Employee number.
    pub employee_no: String,
    /// The unit the user belongs to.
    pub unit_id: RecordId,
    /// Role codes (`sales_rep`, `sales_manager`, ...).
    pub roles: StringSet,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// The user's own time zone: their report deadline and "today" follow it.
    pub zone: Zone,
    /// Whether the account is active; a deactivated user keeps their history.
    pub active: bool,
    /// Their first working day: reports are owed from it. `None`: the day the profile was
    /// created.
    #[autosurgeon(missing = "Option::default")]
    pub started_on: Option<LocalDate>,
    /// Their last working day, once they leave: nothing is owed after it.
    #[autosurgeon(missing = "Option::default")]
    pub left_on: Option<LocalDate>,
    /// Approved leave: no report is owed, nobody is fined, on these days.
    #[autosurgeon(missing = "Vec::new")]
    pub leave: Vec<DaySpan>,
}

impl UserProfile {
    /// Their own working days, `joined` being the day the profile was created in their zone
    /// (the first day when no start date is set).
    pub fn employment(&self, joined: LocalDate) -> Employment<'_> {
        Employment {
            started_on: self.started_on.unwrap_or(joined),
            left_on: self.left_on,
            leave: &self.leave,
        }
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::UserProfile, "name", &self.name)?;
        check::required(Kind::UserProfile, "employee_no", &self.employee_no)?;
        if let (Some(start), Some(left)) = (self.started_on, self.left_on)
            && left < start
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::UserProfile,
                field: "left_on",
                detail: format!("{left} is before the first working day {start}"),
            });
        }
        if let Some(phone) = &self.phone {
            check::short(Kind::UserProfile, "phone", phone)?;
        }
        if let Some(email) = &self.email
            && !email.is_empty()
            && !email.contains('@')
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::UserProfile,
                field: "email",
                detail: "not an e-mail address".into(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            status: Some(if self.active { "active" } else { "inactive" }.into()),
            ..Index::default()
        }
    }
}
impl_record!(UserProfile, UserProfile);

/// A role: a code, the data it sees and what it may do.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Role {
    /// Common fields.
    pub header: Header,
    /// Stable code referenced by users and rules (`sales_rep`).
    pub code: String,
    /// Display name (销售代表).
    pub name: String,
    /// What data the role sees.
    pub data_scope: DataScope,
    /// Permission codes (`approve`, `manage_config`, `mark_report_false`, ...).
    pub permissions: StringSet,
    /// Fields hidden from this role (`contact.phone`; one of
    /// [`super::SensitiveField::ALL`]): their companions never reach the devices of a user
    /// all of whose roles hide them ([`crate::me::Me::hidden`]).
    pub hidden_fields: StringSet,
}

impl Role {
    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Role, "code", &self.code)?;
        if !self
            .code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Role,
                field: "code",
                detail: "use lower-case letters, digits and underscores".into(),
            });
        }
        check::required(Kind::Role, "name", &self.name)?;
        for field in self.hidden_fields.iter() {
            if let Err(unknown) = field.parse::<super::SensitiveField>() {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Role,
                    field: "hidden_fields",
                    detail: unknown.to_string(),
                });
            }
        }
        check::known(
            Kind::Role,
            "data_scope",
            self.data_scope.is_known(),
            &self.data_scope,
        )
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            status: Some(self.code.clone()),
            ..Index::default()
        }
    }
}
impl_record!(Role, Role);
