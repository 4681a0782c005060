//! The big lists a phone pages through: customers, opportunities, visits and the user's tasks,
//! newest first, with filters, a page at a time.
//!
//! A page is read from the store's listing (newest record instant first, then ID, so the order
//! is stable) and keeps only what the user may see; `next_offset` is where the next page
//! starts, `None` at the end. The Kotlin and Swift wrappers make a page live: they read it
//! again whenever a change event (a local write or an applied sync page) touches its kind, so
//! a screen shows a list that follows the data without combining events and queries itself.

use std::sync::Arc;

use fieldsales_core::record::{
    Customer as CoreCustomer, Opportunity as CoreOpportunity, Record, Task as CoreTask,
    visit::Visit as CoreVisit,
};
use fieldsales_core::store::{DeletedFilter, ListFilter, StoreRead};

use crate::customers::Customer;
use crate::engine::{Engine, optional_id};
use crate::error::FieldsalesError;
use crate::fieldwork::{Task, Visit};
use crate::sales::Opportunity;

/// The most records one page holds.
pub const MAX_PAGE: i32 = 500;

/// Which slice of a list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PageRequest {
    /// Where to start: 0, then the previous page's `next_offset`.
    #[uniffi(default = 0)]
    pub offset: i64,
    /// How many records at most (1 to 500).
    #[uniffi(default = 50)]
    pub limit: i32,
}

/// Filters of the customer list.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct CustomerFilter {
    /// Only the customers of this owner.
    #[uniffi(default)]
    pub owner_id: Option<String>,
    /// Voided (deleted) customers too.
    #[uniffi(default)]
    pub include_deleted: bool,
}

/// Filters of the opportunity list.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct OpportunityFilter {
    /// Only this owner's.
    #[uniffi(default)]
    pub owner_id: Option<String>,
    /// Only this customer's.
    #[uniffi(default)]
    pub customer_id: Option<String>,
    /// Only deals in this stage (its key).
    #[uniffi(default)]
    pub stage: Option<String>,
}

/// Filters of the visit list.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct VisitFilter {
    /// Only this rep's.
    #[uniffi(default)]
    pub owner_id: Option<String>,
    /// Only at this customer.
    #[uniffi(default)]
    pub customer_id: Option<String>,
    /// Only on or after this local day, `YYYY-MM-DD`.
    #[uniffi(default)]
    pub from_date: Option<fieldsales_core::LocalDate>,
    /// Only on or before this local day, `YYYY-MM-DD`.
    #[uniffi(default)]
    pub to_date: Option<fieldsales_core::LocalDate>,
}

/// Filters of the signed-in user's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct TaskFilter {
    /// Only tasks in this status.
    #[uniffi(default)]
    pub status: Option<crate::codes::TaskStatus>,
}

/// A page of customers.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CustomerPage {
    /// The customers, newest first.
    pub items: Vec<Customer>,
    /// Where the next page starts; `None` when this is the last.
    pub next_offset: Option<i64>,
}

/// A page of opportunities.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OpportunityPage {
    /// The opportunities, newest first.
    pub items: Vec<Opportunity>,
    /// Where the next page starts; `None` when this is the last.
    pub next_offset: Option<i64>,
}

/// A page of visits.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitPage {
    /// The visits, latest check-in first.
    pub items: Vec<Visit>,
    /// Where the next page starts; `None` when this is the last.
    pub next_offset: Option<i64>,
}

/// A page of tasks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TaskPage {
    /// The tasks, latest due first.
    pub items: Vec<Task>,
    /// Where the next page starts; `None` when this is the last.
    pub next_offset: Option<i64>,
}

impl PageRequest {
    /// The offset and limit, checked.
    fn checked(self) -> Result<(usize, usize), FieldsalesError> {
        let offset = usize::try_from(self.offset).map_err(|_| FieldsalesError::InvalidInput {
            field: "page.offset".into(),
            detail: format!("{} is not an offset: 0 or more", self.offset),
        })?;
        let limit = usize::try_from(self.limit)
            .ok()
            .filter(|l| (1..=MAX_PAGE as usize).contains(l))
            .ok_or_else(|| FieldsalesError::InvalidInput {
                field: "page.limit".into(),
                detail: format!("{} records per page; 1 to {MAX_PAGE}", self.limit),
            })?;
        Ok((offset, limit))
    }
}

/// One page of the records of `filter`'s kind the user may see, shown by `show`, and where
/// the next page starts.
fn page<R: Record, T>(
    e: &fieldsales_core::engine::Engine,
    filter: ListFilter,
    request: PageRequest,
    show: impl Fn(R) -> T,
) -> Result<(Vec<T>, Option<i64>), FieldsalesError> {
    let (offset, limit) = request.checked()?;
    let tree = e.org_tree()?;
    let rows = e.store().list(&ListFilter {
        kind: Some(R::KIND),
        limit: Some(limit),
        offset,
        ..filter
    })?;
    let next = (rows.len() == limit).then(|| (offset + limit) as i64);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let record: R = e.store().get(row.id)?;
        if tree.can_see(e.me(), record.header()) {
            out.push(show(record));
        }
    }
    Ok((out, next))
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// A page of the customers the user may see, newest first.
    pub async fn customer_page(
        self: Arc<Self>,
        filter: CustomerFilter,
        page: PageRequest,
    ) -> Result<CustomerPage, FieldsalesError> {
        let owner = optional_id("filter.owner_id", filter.owner_id.as_deref())?;
        self.read(move |e| {
            let (items, next_offset) = self::page::<CoreCustomer, _>(
                e,
                ListFilter {
                    owner,
                    deleted: if filter.include_deleted {
                        DeletedFilter::Include
                    } else {
                        DeletedFilter::Exclude
                    },
                    ..ListFilter::default()
                },
                page,
                Customer::from,
            )?;
            Ok(CustomerPage { items, next_offset })
        })
        .await
    }

    /// A page of the opportunities the user may see, newest first.
    pub async fn opportunity_page(
        self: Arc<Self>,
        filter: OpportunityFilter,
        page: PageRequest,
    ) -> Result<OpportunityPage, FieldsalesError> {
        let owner = optional_id("filter.owner_id", filter.owner_id.as_deref())?;
        let customer = optional_id("filter.customer_id", filter.customer_id.as_deref())?;
        self.read(move |e| {
            let (items, next_offset) = self::page::<CoreOpportunity, _>(
                e,
                ListFilter {
                    owner,
                    customer,
                    status: filter.stage,
                    ..ListFilter::default()
                },
                page,
                Opportunity::from,
            )?;
            Ok(OpportunityPage { items, next_offset })
        })
        .await
    }

    /// A page of the visits the user may see, latest check-in first.
    pub async fn visit_page(
        self: Arc<Self>,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<VisitPage, FieldsalesError> {
        let owner = optional_id("filter.owner_id", filter.owner_id.as_deref())?;
        let customer = optional_id("filter.customer_id", filter.customer_id.as_deref())?;
        let (from_date, to_date) = (filter.from_date, filter.to_date);
        self.read(move |e| {
            let (items, next_offset) = self::page::<CoreVisit, _>(
                e,
                ListFilter {
                    owner,
                    customer,
                    from_date,
                    to_date,
                    ..ListFilter::default()
                },
                page,
                Visit::from,
            )?;
            Ok(VisitPage { items, next_offset })
        })
        .await
    }

    /// A page of the signed-in user's own tasks and schedule entries, latest first.
    pub async fn my_task_page(
        self: Arc<Self>,
        filter: TaskFilter,
        page: PageRequest,
    ) -> Result<TaskPage, FieldsalesError> {
        let status = filter.status.map(|s| s.core("filter.status")).transpose()?;
        self.read(move |e| {
            let (items, next_offset) = self::page::<CoreTask, _>(
                e,
                ListFilter {
                    owner: Some(e.me().user_id),
                    status: status.map(|s| s.as_str().to_string()),
                    ..ListFilter::default()
                },
                page,
                Task::from,
            )?;
            Ok(TaskPage { items, next_offset })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_request_is_checked() {
        let ok = PageRequest {
            offset: 50,
            limit: 50,
        };
        assert_eq!(ok.checked().unwrap(), (50, 50));
        for (offset, limit, field) in [
            (-1, 10, "page.offset"),
            (0, 0, "page.limit"),
            (0, 501, "page.limit"),
            (0, -5, "page.limit"),
        ] {
            match (PageRequest { offset, limit }).checked() {
                Err(FieldsalesError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{offset}/{limit}: {other:?}"),
            }
        }
    }
}
