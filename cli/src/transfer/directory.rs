//! Looking up what rows refer to: owners (users) and customers, by what a spreadsheet holds.
//!
//! A spreadsheet names an owner by employee number or name and a customer by name; records
//! hold IDs. These lookups read the store's projections (the `users`, `customers`,
//! `customer_names`, `contacts` and `products` tables), which the store keeps in step with
//! the documents in every write.

use std::collections::HashMap;

use fieldsales_core::dedup::normalize_company_name;
use fieldsales_core::store::Store;
use fieldsales_core::{RecordId, Result};
use rusqlite::OptionalExtension;

use super::Reason;

#[derive(Debug, Clone)]
struct User {
    id: RecordId,
    employee_no: String,
    active: bool,
}

/// The store's users, indexed the ways a spreadsheet names them.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    users: Vec<User>,
    by_id: HashMap<RecordId, usize>,
    by_employee_no: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Directory {
    /// Reads every live user of the store.
    pub(crate) fn load(store: &Store) -> Result<Directory> {
        let mut stmt = store.connection().prepare(
            "SELECT id, name, employee_no, active FROM users WHERE deleted = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, RecordId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        let mut directory = Directory::default();
        for row in rows {
            let (id, name, employee_no, active) = row?;
            let index = directory.users.len();
            directory.by_id.insert(id, index);
            directory
                .by_employee_no
                .insert(employee_no.trim().to_lowercase(), index);
            directory
                .by_name
                .entry(name.trim().to_owned())
                .or_default()
                .push(index);
            directory.users.push(User {
                id,
                employee_no,
                active,
            });
        }
        Ok(directory)
    }

    /// The user a cell names: a user id, an employee number, or a name that fits one user.
    pub(crate) fn owner(&self, value: &str) -> std::result::Result<RecordId, Reason> {
        let value = value.trim();
        let found = value
            .parse::<RecordId>()
            .ok()
            .and_then(|id| self.by_id.get(&id))
            .or_else(|| self.by_employee_no.get(&value.to_lowercase()))
            .copied();
        let index = match found {
            Some(i) => i,
            None => match self.by_name.get(value).map(Vec::as_slice) {
                Some([one]) => *one,
                Some(many) if many.len() > 1 => {
                    return Err(Reason::AmbiguousOwner {
                        value: value.to_owned(),
                        matches: many.len(),
                    });
                }
                _ => {
                    return Err(Reason::UnknownOwner {
                        value: value.to_owned(),
                    });
                }
            },
        };
        let user = &self.users[index];
        if user.active {
            Ok(user.id)
        } else {
            Err(Reason::InactiveOwner {
                value: value.to_owned(),
            })
        }
    }

    /// How an export names a user: the employee number, or the id of a user not in the store.
    pub(crate) fn owner_label(&self, id: Option<RecordId>) -> String {
        match id {
            None => String::new(),
            Some(id) => match self.by_id.get(&id) {
                Some(&i) => self.users[i].employee_no.clone(),
                None => id.to_string(),
            },
        }
    }
}

/// A customer a contact row names, and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CustomerRef {
    pub(crate) id: RecordId,
    pub(crate) owner_id: Option<RecordId>,
}

/// Finds customers by id or by any of their names (normalised as the duplicate check does).
#[derive(Debug, Default)]
pub(crate) struct Customers {
    cache: HashMap<String, std::result::Result<CustomerRef, Reason>>,
}

impl Customers {
    pub(crate) fn find(
        &mut self,
        store: &Store,
        value: &str,
    ) -> Result<std::result::Result<CustomerRef, Reason>> {
        let value = value.trim();
        if let Some(hit) = self.cache.get(value) {
            return Ok(hit.clone());
        }
        let conn = store.connection();
        let by_id = match value.parse::<RecordId>() {
            Ok(id) => conn
                .prepare_cached("SELECT owner_id FROM customers WHERE id = ?1 AND deleted = 0")?
                .query_row([id], |r| r.get::<_, Option<RecordId>>(0))
                .optional()?
                .map(|owner_id| CustomerRef { id, owner_id }),
            Err(_) => None,
        };
        let found = match by_id {
            Some(hit) => Ok(hit),
            None => {
                let norm = normalize_company_name(value);
                let mut stmt = conn.prepare_cached(
                    "SELECT DISTINCT c.id, c.owner_id FROM customer_names n
                     JOIN customers c ON c.id = n.customer_id
                     WHERE n.norm = ?1 AND c.deleted = 0 ORDER BY c.id",
                )?;
                let hits: Vec<CustomerRef> = stmt
                    .query_map([norm], |r| {
                        Ok(CustomerRef {
                            id: r.get(0)?,
                            owner_id: r.get(1)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                match hits.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(Reason::UnknownCustomer {
                        value: value.to_owned(),
                    }),
                    many => Err(Reason::AmbiguousCustomer {
                        value: value.to_owned(),
                        matches: many.len(),
                    }),
                }
            }
        };
        self.cache.insert(value.to_owned(), found.clone());
        Ok(found)
    }
}

/// Legal names of customers by id, for exporting contacts.
pub(crate) fn customer_names(store: &Store) -> Result<HashMap<RecordId, String>> {
    let mut stmt = store
        .connection()
        .prepare("SELECT id, legal_name FROM customers")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A live contact of `customer` with this name and phone (phones compared by their digits,
/// so `138 0013 8000` is `13800138000`).
pub(crate) fn existing_contact(
    store: &Store,
    customer: RecordId,
    name: &str,
    phone: Option<&str>,
) -> Result<Option<RecordId>> {
    let digits = |p: Option<&str>| -> String {
        p.unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    };
    let wanted = digits(phone);
    let mut stmt = store.connection().prepare_cached(
        "SELECT id, phone FROM contacts
         WHERE customer_id = ?1 AND name = ?2 AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map(rusqlite::params![customer, name], |r| {
        Ok((r.get::<_, RecordId>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (id, stored) = row?;
        if digits(stored.as_deref()) == wanted {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// A live product with this code (codes compare without regard to case).
pub(crate) fn product_by_code(store: &Store, code: &str) -> Result<Option<(RecordId, String)>> {
    Ok(store
        .connection()
        .prepare_cached(
            "SELECT id, name FROM products WHERE code = ?1 COLLATE NOCASE AND deleted = 0
             ORDER BY id LIMIT 1",
        )?
        .query_row([code], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
