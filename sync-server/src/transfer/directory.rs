//! Looking up what rows refer to: owners (users) and customers, by what a spreadsheet holds.
//!
//! A spreadsheet names an owner by employee number or name and a customer by name; records
//! hold IDs. These lookups are core's typed queries over the store's projections, which the
//! store keeps in step with the documents in every write.

use std::collections::HashMap;

use fieldsales_core::authority::{Known, Lookup};
use fieldsales_core::dedup::normalize_company_name;
use fieldsales_core::store::{Facts, StoreRead};
use fieldsales_core::{RecordId, Result};

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
    pub(crate) fn load(store: &impl StoreRead) -> Result<Directory> {
        let mut directory = Directory::default();
        for person in store.people()? {
            let (id, name, employee_no, active) =
                (person.id, person.name, person.employee_no, person.active);
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
        store: &impl StoreRead,
        value: &str,
    ) -> Result<std::result::Result<CustomerRef, Reason>> {
        let value = value.trim();
        if let Some(hit) = self.cache.get(value) {
            return Ok(hit.clone());
        }
        let by_id = match value.parse::<RecordId>() {
            Ok(id) => store
                .customer_owner(id)?
                .map(|owner_id| CustomerRef { id, owner_id }),
            Err(_) => None,
        };
        let found = match by_id {
            Some(hit) => Ok(hit),
            None => {
                let norm = normalize_company_name(value);
                let hits: Vec<CustomerRef> = store
                    .customers_named(&norm)?
                    .into_iter()
                    .map(|(id, owner_id)| CustomerRef { id, owner_id })
                    .collect();
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
pub(crate) fn customer_names(store: &impl StoreRead) -> Result<HashMap<RecordId, String>> {
    store.customer_legal_names()
}

/// A live contact of `customer` with this name and phone (phones compared by their digits,
/// so `138 0013 8000` is `13800138000`).
pub(crate) fn existing_contact(
    store: &impl StoreRead,
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
    for (id, stored) in store.contacts_named(customer, name)? {
        if digits(stored.as_deref()) == wanted {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// A live product with this code (codes compare trimmed and without regard to case, as the
/// rules compare them).
pub(crate) fn product_by_code(
    store: &impl StoreRead,
    code: &str,
) -> Result<Option<(RecordId, String)>> {
    Ok(match Facts::new(store).product_by_code(code)? {
        Known::Found(product) => Some((product.header.id, product.name)),
        Known::Missing | Known::Unknowable => None,
    })
}
