//! Creating a customer behind the duplicate check (查重).

use super::{NearDuplicate, Store};
use crate::error::{Error, Result};
use crate::record::Customer;
use crate::store::StoreRead;

/// The default score from which a close name is reported as a near duplicate.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.7;

impl Store {
    /// Creates `customer` unless a customer with the same normalised name exists (deleted ones
    /// included); returns the customers with close names as warnings.
    ///
    /// The store is used through `&mut`, so no other write on this device can come between the
    /// check and the creation. Customers outside this device's scope are checked again by the
    /// server when the record is pushed.
    pub fn create_customer(
        &mut self,
        customer: Customer,
        near_threshold: f64,
    ) -> Result<(Customer, Vec<NearDuplicate>)> {
        let report = self.find_duplicates(&customer, near_threshold)?;
        if let Some(existing) = report.exact {
            return Err(Error::DuplicateCustomer {
                existing_id: existing.id,
                score: existing.score,
            });
        }
        let created = self.create(customer)?;
        Ok((created, report.near))
    }
}
