//! Product rows: the columns, reading a row, the unique code, writing a row.

use std::collections::BTreeMap;

use fieldsales_core::dedup::fold_width_and_case;
use fieldsales_core::process::text::parse_money;
use fieldsales_core::record::{Header, Product, Record};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Currency, Money, Result};

use super::Reason;
use super::columns::Field;
use super::directory::product_by_code;
use super::export::Out;
use super::import::{Candidate, Context, RowView, Verdict};

/// Product columns, in export order.
pub(super) const FIELDS: &[Field] = &[
    Field::new(
        "code",
        "产品编码",
        &["产品编号", "编码", "编号", "product_code", "sku"],
        true,
    ),
    Field::new("name", "产品名称", &["名称", "品名", "product_name"], true),
    Field::new(
        "spec",
        "规格",
        &["规格型号", "型号", "specification"],
        false,
    ),
    Field::new("unit", "单位", &["计量单位"], false),
    Field::new(
        "list_price",
        "标准价格",
        &["标准价", "价格", "单价", "售价", "price", "unit_price"],
        true,
    ),
    Field::new("currency", "币种", &["货币"], false),
    Field::new("cost", "成本", &["成本价"], false),
    Field::new("category", "产品分类", &["分类", "类别"], false),
    Field::new("product_line", "产品线", &[], false),
    Field::new("active", "启用", &["是否启用", "状态", "enabled"], false),
];

const ACTIVE_WORDS: &[(&str, bool)] = &[
    ("true", true),
    ("yes", true),
    ("y", true),
    ("1", true),
    ("active", true),
    ("是", true),
    ("启用", true),
    ("上架", true),
    ("在售", true),
    ("false", false),
    ("no", false),
    ("n", false),
    ("0", false),
    ("inactive", false),
    ("否", false),
    ("停用", false),
    ("下架", false),
    ("停售", false),
];

/// Reads a product row.
pub(super) fn parse(view: &mut RowView<'_>, context: &Context) -> Option<Candidate> {
    let code = view.required("code");
    let name = view.required("name");
    let currency = match view.text("currency") {
        None => Some(Currency::default()),
        Some(text) => match text.parse::<Currency>() {
            Ok(c) => Some(c),
            Err(_) => {
                view.refuse(Reason::BadValue {
                    field: "currency",
                    value: text,
                    expected: "a three-letter currency code such as CNY".to_owned(),
                });
                None
            }
        },
    };
    let list_price = view
        .required("list_price")
        .and_then(|text| price(view, "list_price", &text, currency?));
    let cost = match view.text("cost") {
        None => Some(None),
        Some(text) => currency
            .and_then(|c| price(view, "cost", &text, c))
            .map(Some),
    };
    let active = match view.text("active") {
        None => Some(true),
        Some(text) => {
            let folded = fold_width_and_case(&text);
            let found = ACTIVE_WORDS
                .iter()
                .find(|(w, _)| *w == folded)
                .map(|(_, a)| *a);
            if found.is_none() {
                view.refuse(Reason::BadValue {
                    field: "active",
                    value: text,
                    expected: "yes or no (是/否, 启用/停用)".to_owned(),
                });
            }
            found
        }
    };
    let spec = view.text("spec");
    let unit = view.text("unit");
    let category = view.text("category");
    let product_line = view.text("product_line");
    let product = Product {
        header: Header::unowned(None, context.now),
        code: code?,
        name: name?,
        spec,
        unit,
        list_price: list_price?,
        cost: cost?,
        category,
        product_line,
        tier_prices: BTreeMap::new(),
        volume_breaks: Vec::new(),
        promotions: Vec::new(),
        active: active?,
    };
    if let Err(e) = product.validate() {
        view.refuse(Reason::Invalid {
            detail: e.to_string(),
        });
        return None;
    }
    let key = fold_width_and_case(product.code.trim());
    Some(Candidate {
        record: product.into(),
        keys: vec![("code", key)],
    })
}

/// An amount as spreadsheets write it: `1234.5`, `1,234.50`, `¥1,234.50`, `1234.50 CNY`.
fn price(
    view: &mut RowView<'_>,
    field: &'static str,
    text: &str,
    currency: Currency,
) -> Option<Money> {
    let trimmed = text.trim().trim_start_matches(['¥', '￥', '$']).trim();
    let with_code = if trimmed.split_whitespace().count() == 1 {
        format!("{trimmed} {currency}")
    } else {
        trimmed.to_owned()
    };
    match parse_money(&with_code) {
        Ok(m) if m.currency == currency => Some(m),
        Ok(m) => {
            view.refuse(Reason::BadValue {
                field,
                value: text.to_owned(),
                expected: format!(
                    "an amount in {currency} (the row's currency), not {}",
                    m.currency
                ),
            });
            None
        }
        Err(_) => {
            view.refuse(Reason::BadValue {
                field,
                value: text.to_owned(),
                expected: "an amount with at most two decimals, such as 1234.50".to_owned(),
            });
            None
        }
    }
}

/// Product codes are unique: the same code and name is already present, the same code with
/// another name is refused.
pub(super) fn check_store(store: &impl StoreRead, product: &Product) -> Result<Verdict> {
    Ok(match product_by_code(store, product.code.trim())? {
        None => Verdict::New { near: Vec::new() },
        Some((id, name)) if name.trim() == product.name.trim() => Verdict::Present(id),
        Some((existing_id, existing_name)) => Verdict::Refused(Reason::ProductCodeTaken {
            existing_id,
            existing_name,
        }),
    })
}

/// An amount as a spreadsheet number in major units.
fn major(m: Money) -> Out {
    Out::Number(m.minor as f64 / 100.0)
}

/// A product as an export row, in [`FIELDS`] order.
pub(super) fn row(product: &Product) -> Vec<Out> {
    let text = |v: &Option<String>| Out::text(v.clone().unwrap_or_default());
    vec![
        Out::text(product.code.clone()),
        Out::text(product.name.clone()),
        text(&product.spec),
        text(&product.unit),
        major(product.list_price),
        Out::text(product.list_price.currency.to_string()),
        product.cost.map(major).unwrap_or(Out::Empty),
        text(&product.category),
        text(&product.product_line),
        Out::text(if product.active { "yes" } else { "no" }.to_owned()),
    ]
}
