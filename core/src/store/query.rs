//! Queries over the projections: listing with filters, fuzzy search, duplicate candidates.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::dedup::{fold_width_and_case, name_grams, normalize_company_name, similarity};
use crate::error::Result;
use crate::record::{Customer, Kind};
use crate::{LocalDate, RecordId, Timestamp};

/// Which records a listing returns with respect to tombstones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeletedFilter {
    /// Only live records (the default).
    #[default]
    Exclude,
    /// Live and deleted.
    Include,
    /// Only deleted.
    Only,
}

/// Filters of [`super::StoreRead::list`]. Every set field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only records owned by this user.
    pub owner: Option<RecordId>,
    /// Only records about this customer.
    pub customer: Option<RecordId>,
    /// Only this stage or status code.
    pub status: Option<String>,
    /// Only records whose instant is at or after this.
    pub from: Option<Timestamp>,
    /// Only records whose instant is before this.
    pub until: Option<Timestamp>,
    /// Only records whose local day is on or after this.
    pub from_date: Option<LocalDate>,
    /// Only records whose local day is on or before this.
    pub to_date: Option<LocalDate>,
    /// Tombstones.
    pub deleted: DeletedFilter,
    /// At most this many (default 500).
    pub limit: Option<usize>,
    /// Skip this many.
    pub offset: usize,
}

/// A row of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    /// The record.
    pub id: RecordId,
    /// Its kind code.
    pub kind: String,
    /// Display title.
    pub title: String,
    /// Owner.
    pub owner_id: Option<RecordId>,
    /// Customer concerned.
    pub customer_id: Option<RecordId>,
    /// Stage or status.
    pub status: Option<String>,
    /// The record's instant.
    pub occurred_at: Option<Timestamp>,
    /// The record's local day.
    pub local_date: Option<LocalDate>,
    /// Whether it carries a tombstone.
    pub deleted: bool,
}

/// A search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The record.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// Display title.
    pub title: String,
    /// Owner (a rep searching before a visit learns whether a colleague follows it).
    pub owner_id: Option<RecordId>,
}

/// A customer whose name is close to a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct NearDuplicate {
    /// The existing customer.
    pub id: RecordId,
    /// Its legal name.
    pub legal_name: String,
    /// Its owner.
    pub owner_id: Option<RecordId>,
    /// How alike (0–1).
    pub score: f64,
    /// Whether the existing customer is deleted (voided).
    pub deleted: bool,
}

/// What the duplicate check found for a customer about to be created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DuplicateReport {
    /// A customer with the same normalised name: creating another is refused.
    pub exact: Option<NearDuplicate>,
    /// Customers with close names, best first: a warning.
    pub near: Vec<NearDuplicate>,
}

/// The kinds searched when the caller names none.
pub const DEFAULT_SEARCH_KINDS: &[Kind] =
    &[Kind::Customer, Kind::Contact, Kind::Opportunity, Kind::Lead];

/// Lists records by the common index.
pub(crate) fn list(conn: &Connection, filter: &ListFilter) -> Result<Vec<RecordSummary>> {
    let mut sql = String::from(
        "SELECT id, kind, title, owner_id, customer_id, status, occurred_at, local_date, deleted
         FROM records WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    let mut add = |clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(k) = filter.kind {
        add("kind =", Value::Text(k.as_str().into()));
    }
    if let Some(o) = filter.owner {
        add("owner_id =", Value::Blob(o.as_bytes().to_vec()));
    }
    if let Some(c) = filter.customer {
        add("customer_id =", Value::Blob(c.as_bytes().to_vec()));
    }
    if let Some(s) = &filter.status {
        add("status =", Value::Text(s.clone()));
    }
    if let Some(t) = filter.from {
        add("occurred_at >=", Value::Integer(t.millis()));
    }
    if let Some(t) = filter.until {
        add("occurred_at <", Value::Integer(t.millis()));
    }
    if let Some(d) = filter.from_date {
        add("local_date >=", Value::Text(d.to_string()));
    }
    if let Some(d) = filter.to_date {
        add("local_date <=", Value::Text(d.to_string()));
    }
    match filter.deleted {
        DeletedFilter::Exclude => sql.push_str(" AND deleted = 0"),
        DeletedFilter::Only => sql.push_str(" AND deleted = 1"),
        DeletedFilter::Include => {}
    }
    // Newest first: by the record's instant, then (records without one, such as customers,
    // and ties) by ID, time-ordered at creation.
    sql.push_str(" ORDER BY occurred_at IS NULL, occurred_at DESC, id DESC");
    // SQLite's integers are signed 64-bit: a larger limit ("all of them") is no limit.
    let most = i64::MAX as usize;
    sql.push_str(&format!(
        " LIMIT {} OFFSET {}",
        filter.limit.unwrap_or(500).min(most),
        filter.offset.min(most)
    ));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(RecordSummary {
            id: r.get(0)?,
            kind: r.get(1)?,
            title: r.get(2)?,
            owner_id: r.get(3)?,
            customer_id: r.get(4)?,
            status: r.get(5)?,
            occurred_at: r.get(6)?,
            local_date: r.get(7)?,
            deleted: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Fuzzy search by any substring of a name, Chinese or Latin, width- and case-insensitive.
///
/// Queries of three characters or more use the trigram index; shorter ones (华为) scan the
/// folded names. Deleted records are not found. `kinds` empty means customers, contacts,
/// opportunities and leads.
pub(crate) fn search(
    conn: &Connection,
    query: &str,
    kinds: &[Kind],
    limit: usize,
) -> Result<Vec<SearchHit>> {
    let q = fold_width_and_case(query.trim());
    if q.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let kinds = if kinds.is_empty() {
        DEFAULT_SEARCH_KINDS
    } else {
        kinds
    };
    let kind_list = kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let limit = limit.min(1000) as i64;
    let rows: Vec<(RecordId, String, String, Option<RecordId>)> = if q.chars().count() >= 3 {
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let sql = format!(
            "SELECT r.id, r.kind, r.title, r.owner_id FROM search s
             JOIN records r ON r.rid = s.rowid
             WHERE search MATCH ?1 AND r.kind IN ({kind_list}) AND r.deleted = 0
             ORDER BY s.rank LIMIT ?2"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params![phrase, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    } else {
        let pattern = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let sql = format!(
            "SELECT id, kind, title, owner_id FROM records
             WHERE search_text LIKE ?1 ESCAPE '\\' AND kind IN ({kind_list}) AND deleted = 0
             ORDER BY instr(search_text, ?2) > 1, length(search_text), id LIMIT ?3"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params![pattern, q, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, title, owner_id)| {
            Some(SearchHit {
                id,
                kind: kind.parse().ok()?,
                title,
                owner_id,
            })
        })
        .collect())
}

/// A name bigram more customers than this carry (a city, a trade: 北京, 科技) is left out of
/// the duplicate check's candidate query, which would otherwise rank a large share of the
/// company's customers for every new one; names that share only such grams are not near
/// duplicates in any useful sense.
const COMMON_GRAM: i64 = 1_000;

/// The rarest grams kept whatever their counts, so that short and ordinary names still find
/// their candidates.
const MIN_GRAMS: usize = 4;

/// The grams of `grams` that tell customers apart: those at most [`COMMON_GRAM`] customers
/// carry, or the [`MIN_GRAMS`] rarest when fewer are.
fn telling_grams(conn: &Connection, grams: Vec<String>) -> Result<Vec<String>> {
    if grams.len() <= MIN_GRAMS {
        return Ok(grams);
    }
    let mut count = conn.prepare_cached("SELECT doc FROM customer_gram_counts WHERE term = ?1")?;
    let mut counted: Vec<(i64, String)> = Vec::with_capacity(grams.len());
    for gram in grams {
        let docs: Option<i64> = count
            .query_row([gram.to_lowercase()], |r| r.get(0))
            .optional()?;
        counted.push((docs.unwrap_or(0), gram));
    }
    counted.sort();
    let rare = counted
        .iter()
        .take_while(|(docs, _)| *docs <= COMMON_GRAM)
        .count();
    Ok(counted
        .into_iter()
        .take(rare.max(MIN_GRAMS))
        .map(|(_, gram)| gram)
        .collect())
}

/// The duplicate check for a customer about to be created (deleted customers included).
///
/// `exact` is a customer whose legal or English name normalises to the same key as the new
/// one's legal or English name; `near` lists customers whose names score at least
/// `near_threshold` on [`similarity`]. The customer itself (same ID) is never reported.
pub(crate) fn find_duplicates(
    conn: &Connection,
    customer: &Customer,
    near_threshold: f64,
) -> Result<DuplicateReport> {
    let own_id = customer.header.id;
    let all: Vec<String> = customer
        .names()
        .map(normalize_company_name)
        .filter(|n| !n.is_empty())
        .collect();
    let mut report = DuplicateReport {
        exact: exact_duplicate(conn, customer)?,
        near: Vec::new(),
    };

    // Candidates share at least one name bigram; score them on their names.
    let mut grams: Vec<String> = all.iter().flat_map(|n| name_grams(n)).collect();
    grams.sort();
    grams.dedup();
    let grams = telling_grams(conn, grams)?;
    if grams.is_empty() {
        return Ok(report);
    }
    let query = grams
        .iter()
        .map(|g| format!("\"{}\"", g.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" OR ");
    let candidates: Vec<RecordId> = {
        let mut stmt = conn.prepare_cached(
            "SELECT r.id FROM customer_grams g JOIN records r ON r.rid = g.rowid
             WHERE customer_grams MATCH ?1 ORDER BY g.rank LIMIT 200",
        )?;
        let rows = stmt.query_map([query], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut names_stmt =
        conn.prepare_cached("SELECT norm FROM customer_names WHERE customer_id = ?1")?;
    let mut scored: BTreeMap<RecordId, f64> = BTreeMap::new();
    for id in candidates {
        if id == own_id || report.exact.as_ref().is_some_and(|e| e.id == id) {
            continue;
        }
        let norms: Vec<String> = names_stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let best = all
            .iter()
            .flat_map(|a| norms.iter().map(move |b| similarity(a, b)))
            .fold(0.0_f64, f64::max);
        if best >= near_threshold {
            scored.insert(id, best);
        }
    }
    let mut near: Vec<NearDuplicate> = Vec::new();
    for (id, score) in scored {
        if let Some(n) = near_duplicate(conn, id, score)? {
            near.push(n);
        }
    }
    near.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    near.truncate(20);
    report.near = near;
    Ok(report)
}

/// The exact half of [`find_duplicates`] alone: a customer (voided included, itself
/// excluded) whose legal or English name normalises to the same key as `customer`'s legal or
/// English name — one indexed look-up per name, without ranking near candidates. What
/// refuses a new customer; the near ones only inform the person creating it.
pub(crate) fn exact_duplicate(
    conn: &Connection,
    customer: &Customer,
) -> Result<Option<NearDuplicate>> {
    let mut exact = conn.prepare_cached(
        "SELECT n.customer_id FROM customer_names n
         WHERE n.norm = ?1 AND n.source IN ('legal', 'english') AND n.customer_id != ?2
         ORDER BY n.customer_id LIMIT 1",
    )?;
    let strong = [
        Some(customer.legal_name.as_str()),
        customer.english_name.as_deref(),
    ];
    for norm in strong
        .into_iter()
        .flatten()
        .map(normalize_company_name)
        .filter(|n| !n.is_empty())
    {
        if let Some(id) = exact
            .query_row(rusqlite::params![norm, customer.header.id], |r| {
                r.get::<_, RecordId>(0)
            })
            .optional()?
        {
            return near_duplicate(conn, id, 1.0);
        }
    }
    Ok(None)
}

fn near_duplicate(conn: &Connection, id: RecordId, score: f64) -> Result<Option<NearDuplicate>> {
    Ok(conn
        .prepare_cached("SELECT legal_name, owner_id, deleted FROM customers WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(NearDuplicate {
                id,
                legal_name: r.get(0)?,
                owner_id: r.get(1)?,
                score,
                deleted: r.get(2)?,
            })
        })
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::testing;

    #[test]
    fn grams_most_customers_share_are_left_out_unless_too_few_remain() {
        let mut store = Store::open_in_memory().unwrap();
        let rep = RecordId::new();
        let chars: Vec<char> = "东南西北春夏秋冬金木水火土山川日月星辰江河湖海云雷风雨"
            .chars()
            .collect();
        store
            .transaction(|tx| {
                for a in &chars {
                    for b in &chars[..20] {
                        for c in &chars[..2] {
                            tx.create(testing::customer(
                                rep,
                                &format!("北京{a}{b}{c}科技有限公司"),
                            ))?;
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
        let grams = |name: &str| name_grams(&normalize_company_name(name));
        let kept = telling_grams(store.connection(), grams("北京华兴明达科技有限公司")).unwrap();
        assert_eq!(kept.len(), 5, "{kept:?}");
        assert!(!kept.iter().any(|g| g == "北京" || g == "科技"), "{kept:?}");
        // Four grams or fewer are all kept; of a name made of common grams, the rarest four.
        let short = grams("北京科技");
        assert_eq!(
            telling_grams(store.connection(), short.clone()).unwrap(),
            short
        );
        let common = telling_grams(store.connection(), grams("北京东南东科技")).unwrap();
        assert_eq!(common.len(), MIN_GRAMS, "{common:?}");
        assert!(
            !common.iter().any(|g| g == "北京" || g == "科技"),
            "{common:?}"
        );
    }
}
