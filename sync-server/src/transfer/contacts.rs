//! Contact rows: the columns, reading a row, finding it in the store, writing a row.

use std::collections::HashMap;

use fieldsales_core::dedup::fold_width_and_case;
use fieldsales_core::record::contact::DecisionRole;
use fieldsales_core::record::{Contact, Header, IdSet, Record};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{RecordId, Result};

use super::Reason;
use super::columns::Field;
use super::directory::{Directory, existing_contact};
use super::export::Out;
use super::import::{Candidate, Context, Owner, RowView, Verdict};

/// Contact columns, in export order.
pub(super) const FIELDS: &[Field] = &[
    Field::new(
        "customer",
        "客户名称",
        &[
            "所属客户",
            "客户",
            "customer_name",
            "customer_id",
            "公司名称",
        ],
        true,
    ),
    Field::new(
        "name",
        "姓名",
        &["联系人", "联系人姓名", "contact_name", "full_name"],
        true,
    ),
    Field::new("title", "职务", &["职位", "job_title"], false),
    Field::new(
        "phone",
        "电话",
        &["手机", "手机号", "手机号码", "联系电话", "mobile"],
        false,
    ),
    Field::new(
        "email",
        "邮箱",
        &["电子邮件", "电子邮箱", "e-mail", "mail"],
        false,
    ),
    Field::new("decision_role", "决策角色", &["角色", "role"], false),
    Field::new("owner", "负责人", &["所有人", "负责人工号"], false),
];

/// Decision roles by the words a spreadsheet uses for them.
const DECISION_ROLES: &[(&str, DecisionRole)] = &[
    ("decision_maker", DecisionRole::DecisionMaker),
    ("decision maker", DecisionRole::DecisionMaker),
    ("决策人", DecisionRole::DecisionMaker),
    ("决策者", DecisionRole::DecisionMaker),
    ("influencer", DecisionRole::Influencer),
    ("影响者", DecisionRole::Influencer),
    ("影响人", DecisionRole::Influencer),
    ("user", DecisionRole::User),
    ("使用者", DecisionRole::User),
    ("使用人", DecisionRole::User),
    ("gatekeeper", DecisionRole::Gatekeeper),
    ("把关人", DecisionRole::Gatekeeper),
    ("守门人", DecisionRole::Gatekeeper),
    ("unknown", DecisionRole::Unknown),
    ("未知", DecisionRole::Unknown),
];

fn decision_role(text: &str) -> Option<DecisionRole> {
    let folded = fold_width_and_case(text.trim());
    DECISION_ROLES
        .iter()
        .find(|(word, _)| *word == folded)
        .map(|(_, role)| role.clone())
}

/// Reads a contact row; the customer is looked up in the store.
pub(super) fn parse(
    view: &mut RowView<'_>,
    store: &impl StoreRead,
    context: &mut Context,
) -> Result<Option<Candidate>> {
    let customer = match view.required("customer") {
        Some(value) => match context.customers.find(store, &value)? {
            Ok(found) => Some(found),
            Err(reason) => {
                view.refuse(reason);
                None
            }
        },
        None => None,
    };
    let name = view.required("name");
    let title = view.text("title");
    let phone = view.text("phone");
    let email = view.text("email");
    let role = match view.text("decision_role") {
        None => Some(DecisionRole::Unknown),
        Some(text) => {
            let role = decision_role(&text);
            if role.is_none() {
                view.refuse(Reason::BadValue {
                    field: "decision_role",
                    value: text,
                    expected: "one of decision_maker, influencer, user, gatekeeper, unknown \
                               (决策人, 影响者, 使用者, 把关人, 未知)"
                        .to_owned(),
                });
            }
            role
        }
    };
    let owner = context.owner(view);
    let (Some(customer), Some(name), Some(decision_role)) = (customer, name, role) else {
        return Ok(None);
    };
    // A contact belongs with its customer: without an owner of its own it is the customer's.
    let owner_id = match owner {
        Owner::Resolved(id) => Some(id),
        Owner::NotGiven => customer.owner_id,
        Owner::Refused => return Ok(None),
    };
    let header = Header {
        id: RecordId::new(),
        owner_id,
        org_unit_id: None,
        shared_with: IdSet::new(),
        created_at: context.now,
        created_by: None,
        deleted: None,
    };
    let contact = Contact {
        header,
        customer_id: customer.id,
        name,
        title,
        phone,
        email,
        decision_role,
    };
    if let Err(e) = contact.validate() {
        view.refuse(Reason::Invalid {
            detail: e.to_string(),
        });
        return Ok(None);
    }
    let key = format!(
        "{}|{}|{}",
        customer.id,
        fold_width_and_case(&contact.name),
        contact
            .phone
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    );
    Ok(Some(Candidate {
        record: contact.into(),
        keys: vec![("customer, name and phone", key)],
    }))
}

/// A contact with the same name and phone at the same customer is already present.
pub(super) fn check_store(store: &impl StoreRead, contact: &Contact) -> Result<Verdict> {
    Ok(
        match existing_contact(
            store,
            contact.customer_id,
            &contact.name,
            contact.phone.as_deref(),
        )? {
            Some(id) => Verdict::Present(id),
            None => Verdict::New { near: Vec::new() },
        },
    )
}

/// A contact as an export row, in [`FIELDS`] order.
pub(super) fn row(
    contact: &Contact,
    customers: &HashMap<RecordId, String>,
    directory: &Directory,
) -> Vec<Out> {
    let text = |v: &Option<String>| Out::text(v.clone().unwrap_or_default());
    vec![
        Out::text(
            customers
                .get(&contact.customer_id)
                .cloned()
                .unwrap_or_else(|| contact.customer_id.to_string()),
        ),
        Out::text(contact.name.clone()),
        text(&contact.title),
        text(&contact.phone),
        text(&contact.email),
        Out::text(contact.decision_role.to_string()),
        Out::text(directory.owner_label(contact.header.owner_id)),
    ]
}
