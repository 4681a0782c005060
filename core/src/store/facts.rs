//! The facts the rules read, over a store: the one implementation of [`Lookup`].
//!
//! The phone's engine asks these before it writes, and the server's review asks them inside
//! the write transaction of a push, over its copy of the tenant — the same queries, the same
//! ties broken the same way, so a rep sees on the spot the verdict the server will write.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use super::read::sql;
use super::{DuplicateReport, NearDuplicate, StoreRead};
use crate::authority::{Known, Lookup};
use crate::dedup::fold_width_and_case;
use crate::place::GeoPoint;
use crate::record::approval::ApprovalStatus;
use crate::record::{AnyRecord, Approval, Customer, Product, Visit};
use crate::{RecordId, Result, Timestamp};

/// The rules' window on a store (a phone's store, a transaction, a reader).
pub struct Facts<'s, S: StoreRead> {
    store: &'s S,
    kept: Kept<'s>,
}

/// What [`Facts`] keeps between questions, for one push's review:
///
/// - people's profiles: the review of a push asks for the owner's profile of every pushed
///   record, and a push cannot change a profile (only an admin writes them), so one read
///   serves the whole push;
/// - the visits read as a check-in's neighbours, with the heads they were read at: the visits
///   of one rep's push are each other's neighbours, so each one would otherwise be loaded
///   and hydrated again for every visit of the push after it. A kept visit is used only while
///   its stored heads are still the ones it was read at, so a visit written meanwhile (by the
///   same push) is read again.
#[derive(Debug, Default)]
pub struct FactCache {
    profiles: RefCell<HashMap<RecordId, Option<AnyRecord>>>,
    visits: RefCell<HashMap<RecordId, (Vec<u8>, Visit)>>,
}

/// Visits a [`FactCache`] keeps at most; past it, it starts again empty (a push holds at
/// most a few thousand records, so this bounds its memory, not its use).
const MAX_KEPT_VISITS: usize = 4_096;

enum Kept<'s> {
    Own(FactCache),
    Shared(&'s FactCache),
}

impl Kept<'_> {
    fn cache(&self) -> &FactCache {
        match self {
            Kept::Own(c) => c,
            Kept::Shared(c) => c,
        }
    }
}

impl<'s, S: StoreRead> Facts<'s, S> {
    /// The facts of `store`.
    pub fn new(store: &'s S) -> Self {
        Facts {
            store,
            kept: Kept::Own(FactCache::default()),
        }
    }

    /// The facts of `store`, keeping what they read in `cache` (which may outlive these
    /// facts: one cache for every record of a push).
    pub fn sharing(store: &'s S, cache: &'s FactCache) -> Self {
        Facts {
            store,
            kept: Kept::Shared(cache),
        }
    }
}

impl<S: StoreRead> Lookup for Facts<'_, S> {
    fn record(&self, id: RecordId) -> Result<Option<AnyRecord>> {
        let cache = &self.kept.cache().profiles;
        if let Some(found) = cache.borrow().get(&id) {
            return Ok(found.clone());
        }
        let found = self.store.find_any(id)?;
        if let Some(AnyRecord::UserProfile(_)) = &found {
            cache.borrow_mut().insert(id, found.clone());
        }
        Ok(found)
    }

    fn customer_location(&self, id: RecordId) -> Result<Option<GeoPoint>> {
        let row: Option<(Option<f64>, Option<f64>)> = sql(self.store)
            .prepare_cached("SELECT lat, lon FROM customers WHERE id = ?1 AND deleted = 0")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match row {
            Some((Some(lat), Some(lon))) => Some(GeoPoint { lat, lon }),
            _ => None,
        })
    }

    fn visits_near(
        &self,
        rep: RecordId,
        at: Timestamp,
        window_ms: i64,
        except: RecordId,
        per_side: usize,
    ) -> Result<Vec<Visit>> {
        let kept = &self.kept.cache().visits;
        visits_near(sql(self.store), rep, at, window_ms, except, per_side)?
            .into_iter()
            .map(|(id, heads)| {
                if let Some((read_at, visit)) = kept.borrow().get(&id)
                    && *read_at == heads
                {
                    return Ok(visit.clone());
                }
                let visit = self.store.get::<Visit>(id)?;
                let mut kept = kept.borrow_mut();
                if kept.len() >= MAX_KEPT_VISITS {
                    kept.clear();
                }
                kept.insert(id, (heads, visit.clone()));
                Ok(visit)
            })
            .collect()
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

    fn exact_duplicate(&self, customer: &Customer) -> Result<Option<NearDuplicate>> {
        self.store.find_exact_duplicate(customer)
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

/// `rep`'s visits checked in up to an instant, latest first (see [`visits_near`]).
const NEAR_BEFORE: &str = "SELECT v.id, d.heads FROM visits v INDEXED BY visits_owner_time
       JOIN documents d ON d.id = v.id
     WHERE v.owner_id = ?1 AND v.check_in_at >= ?2 AND v.check_in_at <= ?3
       AND v.id <> ?4 AND v.deleted = 0
     ORDER BY v.check_in_at DESC, v.id DESC LIMIT ?5";

/// `rep`'s visits checked in after an instant, earliest first (see [`visits_near`]).
const NEAR_AFTER: &str = "SELECT v.id, d.heads FROM visits v INDEXED BY visits_owner_time
       JOIN documents d ON d.id = v.id
     WHERE v.owner_id = ?1 AND v.check_in_at > ?2 AND v.check_in_at <= ?3
       AND v.id <> ?4 AND v.deleted = 0
     ORDER BY v.check_in_at, v.id LIMIT ?5";

/// The ids of `rep`'s live visits whose check-in lies within `window_ms` of `at`, other than
/// `except`, each with its document's stored heads: at most `per_side` on each side, the
/// nearest in time; of two checked in at the same instant, the one with the larger id counts
/// as the later (ids are UUID v7), so every store breaks ties the same way.
fn visits_near(
    conn: &Connection,
    rep: RecordId,
    at: Timestamp,
    window_ms: i64,
    except: RecordId,
    per_side: usize,
) -> Result<Vec<(RecordId, Vec<u8>)>> {
    let limit = i64::try_from(per_side).unwrap_or(i64::MAX);
    let mut ids = Vec::new();
    for (sql, low, high) in [
        (NEAR_BEFORE, at.plus_millis(-window_ms), at),
        (NEAR_AFTER, at, at.plus_millis(window_ms)),
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params![rep, low, high, except, limit], |r| {
            Ok((r.get::<_, RecordId>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for id in rows {
            ids.push(id?);
        }
    }
    Ok(ids)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::testing;

    /// A rep with one customer and one visit there, in `store`.
    fn rep_with_a_visit(store: &mut Store) -> (RecordId, Visit) {
        let rep = RecordId::new();
        let customer = store
            .create(testing::customer(rep, "苏州工业园区精密机械"))
            .unwrap();
        let visit = store
            .create(testing::visit(rep, customer.header.id))
            .unwrap();
        (rep, visit)
    }

    /// The neighbour queries run once per reviewed visit: each is compiled once per
    /// connection, not again on every use because its `LIMIT` is a bound parameter (SQLite
    /// marks such a statement to be compiled anew whenever the parameter is bound again, and
    /// the statement cache clears the bindings of every statement handed back).
    #[test]
    fn the_neighbour_queries_are_compiled_once_however_often_they_run() {
        use rusqlite::StatementStatus::RePrepare;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let mut store = Store::open(&path).unwrap();
        let (rep, visit) = rep_with_a_visit(&mut store);
        let reader = crate::store::Reader::open(&path).unwrap();
        for conn in [sql(&store), sql(&reader)] {
            for per_side in [24, 3, 24, 7] {
                let found = visits_near(
                    conn,
                    rep,
                    visit.check_in.at,
                    3_600_000,
                    RecordId::new(),
                    per_side,
                )
                .unwrap();
                assert_eq!(found.len(), 1);
            }
            for query in [NEAR_BEFORE, NEAR_AFTER] {
                let stmt = conn.prepare_cached(query).unwrap();
                assert_eq!(stmt.get_status(RePrepare), 0, "{query}");
            }
        }
    }

    /// A customer's location read from its row is the one its document holds, as the
    /// rules would read it from the whole record: with and without a location, voided,
    /// moved by an edit, a record of another kind, a customer the store does not hold.
    #[test]
    fn a_customers_location_from_its_row_is_the_one_its_document_holds() {
        let mut store = Store::open_in_memory().unwrap();
        let (rep, visit) = rep_with_a_visit(&mut store);
        let located = visit.customer_id;
        let mut bare = testing::customer(rep, "无锡新区无定位商贸");
        bare.location = None;
        let bare = store.create(bare).unwrap().header.id;
        let voided = store
            .create(testing::customer(rep, "常州作废贸易有限公司"))
            .unwrap()
            .header
            .id;
        store.delete(voided, Some(rep), None).unwrap();
        let there = GeoPoint {
            lat: 31.298_886_1,
            lon: 120.585_315_7,
        };
        store
            .update::<Customer>(located, |c| {
                c.location = Some(there);
                Ok(())
            })
            .unwrap();
        let facts = Facts::new(&store);
        for (id, expected) in [
            (located, Some(there)),
            (bare, None),
            (voided, None),
            (visit.header.id, None),
            (RecordId::new(), None),
        ] {
            let whole = crate::authority::registered_location(facts.record(id).unwrap().as_ref());
            let from_row = facts.customer_location(id).unwrap();
            assert_eq!(from_row, whole, "{id}");
            assert_eq!(from_row, expected, "{id}");
        }
    }

    /// A visit kept as a check-in's neighbour is used again only while its document has not
    /// moved: one written meanwhile (in the server's review, by the same push) is read again.
    #[test]
    fn a_kept_neighbour_is_read_again_once_its_document_moved() {
        let mut store = Store::open_in_memory().unwrap();
        let (rep, earlier) = rep_with_a_visit(&mut store);
        let mut later = testing::visit(rep, earlier.customer_id);
        later.check_in.at = earlier.check_in.at.plus_millis(3_600_000);
        let later = store.create(later).unwrap();
        let cache = FactCache::default();
        let near = |store: &Store| {
            Facts::sharing(store, &cache)
                .visits_near(rep, later.check_in.at, 36 * 3_600_000, later.header.id, 24)
                .unwrap()
        };

        let first = near(&store);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].header.id, earlier.header.id);
        assert_eq!(first[0].plan_id, None);
        assert_eq!(near(&store)[0], first[0], "asked again, the same visit");

        let plan = RecordId::new();
        store
            .update::<Visit>(earlier.header.id, |v| {
                v.plan_id = Some(plan);
                Ok(())
            })
            .unwrap();
        let again = near(&store);
        assert_eq!(again.len(), 1);
        assert_eq!(
            again[0].plan_id,
            Some(plan),
            "the visit as it is now, not as kept"
        );
        assert_eq!(cache.visits.borrow().len(), 1);
    }
}
