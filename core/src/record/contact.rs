//! Contacts: people at a customer and their place in the decision chain.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::{RecordId, string_enum};

string_enum! {
    /// A contact's role in the customer's buying decision.
    pub enum DecisionRole {
        /// Signs off the purchase.
        DecisionMaker = "decision_maker",
        /// Shapes the decision (technical lead, consultant).
        Influencer = "influencer",
        /// Will use what is bought.
        User = "user",
        /// Controls access (purchasing, assistant).
        Gatekeeper = "gatekeeper",
        /// Anything else.
        Unknown = "unknown",
    }
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Contact {
    /// Common fields.
    pub header: Header,
    /// The customer the contact works for.
    pub customer_id: RecordId,
    /// Full name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone number (a field some roles may not see).
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Role in the decision chain.
    pub decision_role: DecisionRole,
}

impl Contact {
    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Contact, "name", &self.name)?;
        if let Some(t) = &self.title {
            check::short(Kind::Contact, "title", t)?;
        }
        if let Some(p) = &self.phone {
            check::short(Kind::Contact, "phone", p)?;
            if !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()#".contains(c))
            {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Contact,
                    field: "phone",
                    detail: "use digits, spaces and + - ( ) #".into(),
                });
            }
        }
        if let Some(e) = &self.email
            && !e.is_empty()
            && !e.contains('@')
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Contact,
                field: "email",
                detail: "not an e-mail address".into(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        let mut text = self.name.clone();
        if let Some(t) = &self.title {
            text.push(' ');
            text.push_str(t);
        }
        Index {
            title: self.name.clone(),
            customer_id: Some(self.customer_id),
            status: Some(self.decision_role.to_string()),
            search_text: Some(text),
            ..Index::default()
        }
    }
}
impl_record!(Contact, Contact);
