//! Follow-up records (跟进记录): every contact with a customer, lead or opportunity.
//!
//! A follow-up is the evidence the other rules count: it restarts a lead's reclaim timer and
//! it is what the customer-ownership rule weighs. So logging one about a lead writes the
//! lead's `last_follow_up_at` in the same transaction; a crash cannot leave one without the
//! other.

use autosurgeon::Text;

use crate::record::follow_up::FollowUpMethod;
use crate::record::{FollowUp, Header, Kind, Lead, Opportunity, RecordRef};
use crate::store::ListFilter;
use crate::store::StoreRead;
use crate::{Error, RecordId, Result, Timestamp};

use super::Engine;

/// The longest follow-up text kept, in characters.
pub const MAX_FOLLOW_UP_CHARS: usize = 10_000;

/// How far in the future a follow-up may be dated: a phone clock a little ahead, not a
/// follow-up invented for next week.
const MAX_FUTURE_MS: i64 = 10 * 60_000;

/// A follow-up to log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFollowUp {
    /// A customer, a lead or an opportunity.
    pub subject: RecordRef,
    /// Visit, call, message or meeting.
    pub method: FollowUpMethod,
    /// When it happened; `None` for now.
    pub occurred_at: Option<Timestamp>,
    /// What happened.
    pub text: String,
    /// The agreed next step.
    pub next_step: Option<String>,
    /// The visit it was logged in, if any.
    pub visit_id: Option<RecordId>,
}

impl Engine {
    /// Logs a follow-up; about a lead, it also restarts the lead's reclaim timer.
    pub fn log_follow_up(&mut self, new: NewFollowUp) -> Result<FollowUp> {
        let now = self.now();
        let occurred_at = new.occurred_at.unwrap_or(now);
        if occurred_at.millis_since(now) > MAX_FUTURE_MS {
            return Err(Error::InvalidInput {
                field: "occurred_at",
                detail: format!("{occurred_at} is in the future"),
            });
        }
        let chars = new.text.chars().count();
        if chars > MAX_FOLLOW_UP_CHARS {
            return Err(Error::InvalidInput {
                field: "text",
                detail: format!("{chars} characters; at most {MAX_FOLLOW_UP_CHARS} are kept"),
            });
        }
        let customer_id = match new.subject.kind {
            Kind::Customer => {
                self.store()
                    .get::<crate::record::Customer>(new.subject.id)?;
                Some(new.subject.id)
            }
            Kind::Opportunity => Some(self.store().get::<Opportunity>(new.subject.id)?.customer_id),
            Kind::Lead => self
                .store()
                .get::<Lead>(new.subject.id)?
                .conversion
                .map(|c| c.customer_id),
            other => {
                return Err(Error::InvalidInput {
                    field: "subject",
                    detail: format!(
                        "a follow-up is about a customer, lead or opportunity, not a {other}"
                    ),
                });
            }
        };
        let me = self.me().clone();
        let mut header = Header::new(me.user_id, now);
        header.org_unit_id = Some(me.unit_id);
        let follow_up = FollowUp {
            header,
            subject: new.subject.clone(),
            customer_id,
            method: new.method,
            occurred_at,
            text: Text::with_value(new.text.trim()),
            next_step: new.next_step.filter(|s| !s.trim().is_empty()),
            visit_id: new.visit_id,
        };
        self.guarded()?.transaction(|tx| {
            let created = tx.create(follow_up)?;
            if new.subject.kind == Kind::Lead {
                tx.update::<Lead>(new.subject.id, |lead| {
                    if lead.last_follow_up_at.is_none_or(|t| t < occurred_at) {
                        lead.last_follow_up_at = Some(occurred_at);
                    }
                    Ok(())
                })?;
            }
            Ok(created)
        })
    }

    /// The follow-ups about one customer, directly or about one of its opportunities (and
    /// about the lead it came from, when logged after the conversion), newest first.
    pub fn follow_ups_of_customer(&self, customer: RecordId) -> Result<Vec<FollowUp>> {
        self.follow_ups_where(ListFilter {
            customer: Some(customer),
            ..ListFilter::default()
        })
    }

    /// The follow-ups a rep logged between two instants, oldest first.
    pub fn follow_ups_between(
        &self,
        rep: RecordId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<FollowUp>> {
        let mut out = self.follow_ups_where(ListFilter {
            owner: Some(rep),
            from: Some(from),
            until: Some(until),
            ..ListFilter::default()
        })?;
        out.reverse();
        Ok(out)
    }

    fn follow_ups_where(&self, filter: ListFilter) -> Result<Vec<FollowUp>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::FollowUp),
            limit: filter.limit.or(Some(10_000)),
            ..filter
        })?;
        let mut out = rows
            .iter()
            .map(|r| self.store().get::<FollowUp>(r.id))
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|f| std::cmp::Reverse((f.occurred_at, f.header.id)));
        Ok(out)
    }
}
