//! Who is who, as the sales operations need it: the org tree, a team's reps, a rep's manager,
//! a user's roles. Read from the synced org records, so a device answers offline exactly as
//! the server does from its copy.

use super::Engine;
use crate::money::InvalidMoney;
use crate::record::{DataScope, Header, Kind, Record, UserProfile};
use crate::scope::OrgTree;
use crate::store::StoreRead;
use crate::store::{ListFilter, Store};
use crate::{Error, RecordId, Result};

/// Live records of one kind about one customer.
pub(crate) fn of_customer<R: Record>(store: &Store, customer: RecordId) -> Result<Vec<R>> {
    store
        .list(&ListFilter {
            kind: Some(R::KIND),
            customer: Some(customer),
            limit: Some(10_000),
            ..ListFilter::default()
        })?
        .into_iter()
        .map(|row| store.get::<R>(row.id))
        .collect()
}

/// An amount that does not add up, as an input error.
pub(crate) fn money_error(field: &'static str) -> impl Fn(InvalidMoney) -> Error {
    move |e| Error::InvalidInput {
        field,
        detail: e.to_string(),
    }
}

impl Engine {
    /// The org tree as synced to this device.
    pub fn org_tree(&self) -> Result<OrgTree> {
        self.store().org_tree()
    }

    /// A user's profile, if synced.
    pub fn user_profile(&self, user: RecordId) -> Result<Option<UserProfile>> {
        match self.store().kind_of(user)? {
            Some(k) if k == Kind::UserProfile.as_str() => Ok(Some(self.store().get(user)?)),
            _ => Ok(None),
        }
    }

    /// The manager of `user`, from the org tree.
    pub fn manager_of(&self, user: RecordId) -> Result<Option<RecordId>> {
        let unit = match self.user_profile(user)? {
            Some(p) => p.unit_id,
            None if user == self.me().user_id => self.me().unit_id,
            None => return Ok(None),
        };
        Ok(self.org_tree()?.manager_of(user, unit))
    }

    /// Whether the signed-in user may see a record with this header.
    pub fn can_see(&self, header: &Header) -> Result<bool> {
        Ok(self.org_tree()?.can_see(self.me(), header))
    }

    /// Whether the signed-in user manages others (any scope wider than their own records):
    /// managers assign leads, settle ownership conflicts and set targets.
    pub fn manages(&self) -> bool {
        self.me().manages_others()
    }

    /// A header for a new record owned by the signed-in user and attributed to their unit (as
    /// the server derives it from the owner).
    pub(crate) fn owned_header(&self, at: crate::Timestamp) -> Header {
        let mut h = Header::new(self.me().user_id, at);
        h.org_unit_id = Some(self.me().unit_id);
        h
    }

    /// Refuses unless the signed-in user manages others.
    pub(crate) fn require_manager(&self, what: &str) -> Result<()> {
        if self.manages() {
            Ok(())
        } else {
            Err(Error::NotAllowed(format!("only a manager may {what}")))
        }
    }

    /// Refuses unless the signed-in user sees the whole tenant (admins).
    pub(crate) fn require_admin(&self, what: &str) -> Result<()> {
        if matches!(self.me().scope, DataScope::All) {
            Ok(())
        } else {
            Err(Error::NotAllowed(format!("only an admin may {what}")))
        }
    }

    /// Refuses unless the signed-in user may see the record.
    pub(crate) fn require_visible(&self, header: &Header) -> Result<()> {
        if self.can_see(header)? {
            Ok(())
        } else {
            Err(Error::not_found(None, header.id))
        }
    }
}
