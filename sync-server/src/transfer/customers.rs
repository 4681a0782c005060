//! Customer rows: the columns, reading a row, the duplicate check, writing a row.

use fieldsales_core::dedup::normalize_company_name;
use fieldsales_core::record::{Customer, Header, IdSet, Record};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{GeoPoint, RecordId, Result};

use super::columns::Field;
use super::directory::Directory;
use super::export::Out;
use super::import::{Candidate, Context, Owner, RowView, Verdict, split_list};
use super::{NearDuplicateWarning, Reason};

/// Customer columns, in export order.
pub(super) const FIELDS: &[Field] = &[
    Field::new(
        "legal_name",
        "客户名称",
        &[
            "客户全称",
            "公司名称",
            "公司全称",
            "企业名称",
            "工商注册全称",
            "customer_name",
            "company_name",
            "customer",
            "company",
        ],
        true,
    ),
    Field::new("short_name", "客户简称", &["简称"], false),
    Field::new("english_name", "英文名称", &["英文名"], false),
    Field::new("customer_type", "客户类型", &["type", "类型"], false),
    Field::new("industry", "行业", &["所属行业"], false),
    Field::new("scale", "规模", &["企业规模", "人员规模"], false),
    Field::new("address", "地址", &["详细地址", "公司地址"], false),
    Field::new("latitude", "纬度", &["lat"], false),
    Field::new("longitude", "经度", &["lon", "lng", "long"], false),
    Field::new(
        "tier",
        "客户级别",
        &["level", "级别", "客户等级", "等级"],
        false,
    ),
    Field::new("source", "客户来源", &["来源"], false),
    Field::new("tags", "标签", &["tag"], false),
    Field::new(
        "owner",
        "负责人",
        &["所有人", "客户负责人", "负责人工号", "owner_employee_no"],
        false,
    ),
];

/// Reads a customer row.
pub(super) fn parse(view: &mut RowView<'_>, context: &Context) -> Option<Candidate> {
    let legal_name = view.required("legal_name");
    let owner = match context.owner(view) {
        Owner::Resolved(id) => Some(id),
        Owner::Refused => None,
        Owner::NotGiven => {
            view.refuse(Reason::MissingField { field: "owner" });
            None
        }
    };
    let location = location(view);
    // Every cell is read before giving up on the row, so its report lists every problem.
    let short_name = view.text("short_name");
    let english_name = view.text("english_name");
    let customer_type = view.text("customer_type");
    let industry = view.text("industry");
    let scale = view.text("scale");
    let address = view.text("address");
    let tier = view.text("tier");
    let source = view.text("source");
    let tags = view.text("tags");
    let (legal_name, owner, location) = (legal_name?, owner?, location?);
    let header = Header {
        id: RecordId::new(),
        owner_id: Some(owner),
        org_unit_id: None,
        shared_with: IdSet::new(),
        created_at: context.now,
        created_by: None,
        deleted: None,
    };
    let mut customer = Customer::new(header, legal_name);
    customer.short_name = short_name;
    customer.english_name = english_name;
    customer.customer_type = customer_type;
    customer.industry = industry;
    customer.scale = scale;
    customer.address = address;
    customer.location = location;
    customer.tier = tier;
    customer.source = source;
    if let Some(tags) = tags {
        customer.tags = split_list(&tags).collect();
    }
    if let Err(e) = customer.validate() {
        view.refuse(Reason::Invalid {
            detail: e.to_string(),
        });
        return None;
    }
    let keys = [
        Some(customer.legal_name.as_str()),
        customer.english_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(normalize_company_name)
    .filter(|n| !n.is_empty())
    .map(|n| ("name", n))
    .collect();
    Some(Candidate {
        record: customer.into(),
        keys,
    })
}

/// The location, `Some(None)` when the row gives none; `None` (with a problem) when bad.
fn location(view: &mut RowView<'_>) -> Option<Option<GeoPoint>> {
    let lat = view.text("latitude");
    let lon = view.text("longitude");
    let degrees = |name: &str, text: &str| {
        text.trim_end_matches('°')
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{name} `{text}` is not a number of degrees"))
    };
    let point = match (lat, lon) {
        (None, None) => return Some(None),
        (Some(_), None) => Err("latitude given without longitude".to_owned()),
        (None, Some(_)) => Err("longitude given without latitude".to_owned()),
        (Some(lat), Some(lon)) => degrees("latitude", &lat).and_then(|lat| {
            let lon = degrees("longitude", &lon)?;
            GeoPoint::new(lat, lon).map_err(|e| e.to_string())
        }),
    };
    match point {
        Ok(p) => Some(Some(p)),
        Err(detail) => {
            view.refuse(Reason::BadCoordinates { detail });
            None
        }
    }
}

/// The duplicate check against the store.
///
/// The same legal name with the same owner is the record a previous import created:
/// already present. The same normalised name otherwise (another spelling, another owner, a
/// voided customer) is a duplicate the row may not create: a customer another rep owns is
/// shared with that rep's consent, not created twice.
pub(super) fn check_store(
    store: &impl StoreRead,
    customer: &Customer,
    near_threshold: f64,
) -> Result<Verdict> {
    let report = store.find_duplicates(customer, near_threshold)?;
    if let Some(existing) = report.exact {
        let same = !existing.deleted
            && existing.legal_name.trim() == customer.legal_name.trim()
            && existing.owner_id == customer.header.owner_id;
        return Ok(if same {
            Verdict::Present(existing.id)
        } else {
            Verdict::Refused(Reason::DuplicateCustomer {
                existing_id: existing.id,
                existing_name: existing.legal_name,
                score: existing.score,
                deleted: existing.deleted,
            })
        });
    }
    Ok(Verdict::New {
        near: report
            .near
            .into_iter()
            .map(|n| NearDuplicateWarning {
                row: 0,
                existing_id: n.id,
                existing_name: n.legal_name,
                score: n.score,
            })
            .collect(),
    })
}

/// A customer as an export row, in [`FIELDS`] order.
pub(super) fn row(customer: &Customer, directory: &Directory) -> Vec<Out> {
    let text = |v: &Option<String>| Out::text(v.clone().unwrap_or_default());
    vec![
        Out::text(customer.legal_name.clone()),
        text(&customer.short_name),
        text(&customer.english_name),
        text(&customer.customer_type),
        text(&customer.industry),
        text(&customer.scale),
        text(&customer.address),
        customer
            .location
            .map(|p| Out::Number(p.lat))
            .unwrap_or(Out::Empty),
        customer
            .location
            .map(|p| Out::Number(p.lon))
            .unwrap_or(Out::Empty),
        text(&customer.tier),
        text(&customer.source),
        Out::text(
            customer
                .tags
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Out::text(directory.owner_label(customer.header.owner_id)),
    ]
}
