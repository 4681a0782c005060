//! Every write an engine operation makes passes the permission check the server will run.
//!
//! The engine's operations write through [`Engine::guarded`] rather than the raw store: each
//! record created, changed or deleted is checked first with
//! [`crate::authority::permission::check_change`] against the signed-in user's grants (from
//! the synced process configuration) and the org tree, so a rep sees "not allowed", naming
//! the permission, at once and offline, instead of a refusal at the next sync. The raw store
//! (`Engine::store_mut`) stays what sync, tests and a modified phone write through; the
//! server checks those.

use std::ops::Deref;

use super::Engine;
use crate::authority::permission::{Grants, Vantage, check_change};
use crate::me::Me;
use crate::record::{AnyRecord, Record, SensitiveField, Tombstone};
use crate::rule::RuleCode;
use crate::scope::OrgTree;
use crate::store::{Store, StoreRead, Tx};
use crate::{Error, RecordId, Result};

/// What a write is checked against: who, what they may do, and where.
pub(crate) struct Checker {
    me: Me,
    grants: Grants,
    tree: OrgTree,
}

impl Checker {
    fn check(&self, before: Option<&AnyRecord>, after: &AnyRecord) -> Result<()> {
        // A field the user's roles hide is neither seen nor written: the device holds no
        // value of it to start from, and the server would refuse the companion.
        for field in SensitiveField::of_kind(after.kind()) {
            let was = before.map(|b| field.read(b)).unwrap_or_default();
            if self.me.hidden.hides(field) && field.read(after) != was {
                return Err(Error::NotAllowed(format!(
                    "{}: your role does not see {field}",
                    RuleCode::FieldHidden
                )));
            }
        }
        let at = Vantage::new(&self.tree, &self.me);
        check_change(&self.grants, &at, before, after).map_err(|refused| {
            let permission = refused
                .field
                .clone()
                .unwrap_or_else(|| refused.rule.to_string());
            Error::NotAllowed(format!("{permission}: {}", refused.detail))
        })
    }
}

/// The engine's store, with every write checked.
pub(crate) struct Guarded<'e> {
    store: &'e mut Store,
    checker: Checker,
}

/// A write transaction with every write checked; reads go to the transaction as they are.
pub(crate) struct GuardedTx<'t, 'c> {
    tx: &'t mut Tx<'c>,
    checker: &'t Checker,
}

impl<'c> Deref for GuardedTx<'_, 'c> {
    type Target = Tx<'c>;
    fn deref(&self) -> &Tx<'c> {
        self.tx
    }
}

impl Engine {
    /// The store, every write checked against the signed-in user's permissions.
    pub(crate) fn guarded(&mut self) -> Result<Guarded<'_>> {
        let checker = Checker {
            grants: Grants::of(self.me(), &self.process()?),
            tree: self.store().org_tree()?,
            me: self.me().clone(),
        };
        Ok(Guarded {
            store: self.store_mut(),
            checker,
        })
    }
}

impl Guarded<'_> {
    /// Creates a record.
    pub fn create<R: Record>(self, record: R) -> Result<R> {
        self.transaction(|tx| tx.create(record))
    }

    /// Changes a record through a closure.
    pub fn update<R: Record>(
        self,
        id: RecordId,
        f: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<R> {
        self.transaction(|tx| tx.update(id, f))
    }

    /// Deletes a record.
    pub fn delete(self, id: RecordId, by: Option<RecordId>, reason: Option<String>) -> Result<()> {
        self.transaction(|tx| tx.delete(id, by, reason))
    }

    /// Runs `f` in one transaction, its writes checked.
    pub fn transaction<T>(self, f: impl FnOnce(&mut GuardedTx<'_, '_>) -> Result<T>) -> Result<T> {
        let checker = &self.checker;
        self.store
            .transaction(|tx| f(&mut GuardedTx { tx, checker }))
    }
}

impl GuardedTx<'_, '_> {
    /// Creates a record.
    pub fn create<R: Record>(&mut self, record: R) -> Result<R> {
        let after = self.tx.attributed(record.clone().into())?;
        self.checker.check(None, &after)?;
        self.tx.create(record)
    }

    /// Changes a record through a closure.
    pub fn update<R: Record>(
        &mut self,
        id: RecordId,
        f: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<R> {
        let before: R = self.tx.get(id)?;
        let mut after = before.clone();
        f(&mut after)?;
        self.checker
            .check(Some(&before.into()), &after.clone().into())?;
        self.tx.update::<R>(id, |r| {
            *r = after;
            Ok(())
        })
    }

    /// Deletes a record.
    pub fn delete(
        &mut self,
        id: RecordId,
        by: Option<RecordId>,
        reason: Option<String>,
    ) -> Result<()> {
        let before = self.tx.get_any(id)?;
        if before.header().is_deleted() {
            return Ok(());
        }
        let mut after = before.clone();
        after.header_mut().deleted = Some(Tombstone {
            at: self.tx.now(),
            by,
            reason: reason.clone(),
        });
        self.checker.check(Some(&before), &after)?;
        self.tx.delete(id, by, reason)
    }
}

impl Engine {
    /// Whether the signed-in user may make the change `before` → `after` (`before` `None`
    /// for a new record): the permission check the server runs on the push, naming the
    /// permission when it says no.
    pub fn may(
        &self,
        before: Option<&AnyRecord>,
        after: &AnyRecord,
    ) -> std::result::Result<(), crate::authority::Rejection> {
        let process = self.process().map_err(lookup_failed)?;
        let tree = self.store().org_tree().map_err(lookup_failed)?;
        let grants = Grants::of(self.me(), &process);
        check_change(&grants, &Vantage::new(&tree, self.me()), before, after)
    }

    /// The operations the signed-in user may do on a record now (read, edit, delete,
    /// reassign, share, approve, export), for an app to show only the buttons that work.
    pub fn allowed_operations(
        &self,
        id: RecordId,
    ) -> Result<Vec<crate::process::permissions::Operation>> {
        let record = self.store().get_any(id)?;
        let grants = Grants::of(self.me(), &self.process()?);
        let tree = self.store().org_tree()?;
        Ok(grants.allowed(&Vantage::new(&tree, self.me()), &record))
    }
}

fn lookup_failed(e: Error) -> crate::authority::Rejection {
    crate::authority::Rejection::new(crate::rule::RuleCode::ServerLookup, e.to_string())
}
