//! The facts the rules read, over a store: the one implementation of [`Lookup`].
//!
//! The phone's engine asks these before it writes, and the server's review asks them inside
//! the write transaction of a push, over its copy of the tenant — the same queries, the same
//! ties broken the same way, so a rep sees on the spot the verdict the server will write.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use super::read::sql;
use super::{DuplicateReport, StoreRead};
use crate::authority::{Known, Lookup};
use crate::dedup::fold_width_and_case;
use crate::record::approval::ApprovalStatus;
use crate::record::{AnyRecord, Approval, Customer, Product, Visit};
use crate::{RecordId, Result, Timestamp};

/// The rules' window on a store (a phone's store, a transaction, a reader).
pub struct Facts<'s, S: StoreRead> {
    store: &'s S,
    profiles: Profiles<'s>,
}

/// People's profiles read through [`Facts`], kept: the review of a push asks for the owner's
/// profile of every pushed record, and a push cannot change a profile (only an admin writes
/// them), so one read serves the whole push.
#[derive(Debug, Default)]
pub struct ProfileCache(RefCell<HashMap<RecordId, Option<AnyRecord>>>);

enum Profiles<'s> {
    Own(ProfileCache),
    Shared(&'s ProfileCache),
}

impl Profiles<'_> {
    fn cache(&self) -> &ProfileCache {
        match self {
            Profiles::Own(c) => c,
            Profiles::Shared(c) => c,
        }
    }
}

impl<'s, S: StoreRead> Facts<'s, S> {
    /// The facts of `store`.
    pub fn new(store: &'s S) -> Self {
        Facts {
            store,
            profiles: Profiles::Own(ProfileCache::default()),
        }
    }

    /// The facts of `store`, keeping profiles in `cache` (which may outlive these facts: one
    /// cache for every record of a push).
    pub fn sharing(store: &'s S, cache: &'s ProfileCache) -> Self {
        Facts {
            store,
            profiles: Profiles::Shared(cache),
        }
    }
}

impl<S: StoreRead> Lookup for Facts<'_, S> {
    fn record(&self, id: RecordId) -> Result<Option<AnyRecord>> {
        let cache = &self.profiles.cache().0;
        if let Some(found) = cache.borrow().get(&id) {
            return Ok(found.clone());
        }
        let found = self.store.find_any(id)?;
        if let Some(AnyRecord::UserProfile(_)) = &found {
            cache.borrow_mut().insert(id, found.clone());
        }
        Ok(found)
    }

    fn last_visit_before(
        &self,
        user: RecordId,
        before: Timestamp,
        except: RecordId,
    ) -> Result<Option<Visit>> {
        last_visit_before(sql(self.store), user, before, except)?
            .map(|id| self.store.get::<Visit>(id))
            .transpose()
    }

    fn opportunity_named(
        &self,
        customer: RecordId,
        name: &str,
        except: RecordId,
    ) -> Result<Option<RecordId>> {
        let wanted = fold_width_and_case(name.trim());
        let mut stmt = sql(self.store).prepare_cached(
            "SELECT id, name FROM opportunities
             WHERE customer_id = ?1 AND id <> ?2 AND deleted = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map(rusqlite::params![customer, except], |r| {
            Ok((r.get::<_, RecordId>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, other) = row?;
            if fold_width_and_case(other.trim()) == wanted {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    fn visits_with_photo(&self, sha256: &str) -> Result<Option<Vec<RecordId>>> {
        let mut stmt = sql(self.store).prepare_cached(
            "SELECT p.visit_id FROM visit_photos p JOIN visits v ON v.id = p.visit_id
             WHERE p.sha256 = ?1 AND v.deleted = 0 ORDER BY p.visit_id",
        )?;
        let rows = stmt.query_map([sha256], |r| r.get(0))?;
        Ok(Some(rows.collect::<rusqlite::Result<_>>()?))
    }

    fn product_by_code(&self, code: &str) -> Result<Known<Product>> {
        Ok(match product_id_by_code(sql(self.store), code)? {
            Some(id) => Known::Found(self.store.get(id)?),
            None => Known::Missing,
        })
    }

    fn duplicates(&self, customer: &Customer, near_threshold: f64) -> Result<DuplicateReport> {
        self.store.find_duplicates(customer, near_threshold)
    }

    fn open_leads_of(&self, rep: RecordId, except: RecordId) -> Result<u32> {
        let n: i64 = sql(self.store)
            .prepare_cached(
                "SELECT count(*) FROM leads
                 WHERE owner_id = ?1 AND id <> ?2 AND deleted = 0
                   AND status IN ('new', 'assigned', 'following')",
            )?
            .query_row(rusqlite::params![rep, except], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn approval_for(&self, subject: RecordId, rule: &str) -> Result<Option<Approval>> {
        let mut latest: Option<Approval> = None;
        for id in self.store.approvals_of(subject)? {
            let a: Approval = self.store.get(id)?;
            if a.rule == rule
                && a.status != ApprovalStatus::Withdrawn
                && latest.as_ref().is_none_or(|l| {
                    (a.header.created_at, a.header.id) > (l.header.created_at, l.header.id)
                })
            {
                latest = Some(a);
            }
        }
        Ok(latest)
    }
}

/// The latest live visit `user` checked in to before `before`, other than `except`; of two
/// checked in at the same instant, the one with the larger id (the later created: ids are
/// UUID v7), so every store breaks the tie the same way.
fn last_visit_before(
    conn: &Connection,
    user: RecordId,
    before: Timestamp,
    except: RecordId,
) -> Result<Option<RecordId>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM visits INDEXED BY visits_owner_time
             WHERE owner_id = ?1 AND check_in_at < ?2 AND id <> ?3 AND deleted = 0
             ORDER BY check_in_at DESC, id DESC LIMIT 1",
        )?
        .query_row(rusqlite::params![user, before, except], |r| r.get(0))
        .optional()?)
}

/// The id of the live product whose code is `code` (trimmed, ASCII case folded); of two, the
/// smaller id.
pub(crate) fn product_id_by_code(conn: &Connection, code: &str) -> Result<Option<RecordId>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM products WHERE trim(code) = ?1 COLLATE NOCASE AND deleted = 0
             ORDER BY id LIMIT 1",
        )?
        .query_row([code.trim()], |r| r.get(0))
        .optional()?)
}
