//! The product catalogue: HQ's admin adds it on their own device and syncs, so it reaches
//! every phone the way a real catalogue would.

use std::collections::BTreeMap;
use std::path::Path;

use fieldsales_core::record::{Header, Product};
use fieldsales_core::sync::{self, SignIn};
use fieldsales_core::{Currency, Money};

use super::error::{engine_error, sync_error};
use super::phones::sync_once;
use super::{DemoError, HQ_LOGIN, PASSWORD, TENANT};

/// The catalogue: code, name, list price in yuan.
pub(super) const PRODUCTS: [(&str, &str, i64); 4] = [
    ("P-100", "工业传感器 S1", 1_200),
    ("P-200", "智能网关 G2", 4_800),
    ("P-300", "控制模块 C3", 2_600),
    ("P-400", "年度维保服务", 9_900),
];

/// The HQ admin signs in and adds the product catalogue, which every phone then pulls.
pub(super) async fn add(base: &str, dir: &Path) -> Result<(), DemoError> {
    let mut engine = sync::sign_in(
        &SignIn {
            server_url: base.to_owned(),
            tenant: TENANT.into(),
            login: HQ_LOGIN.into(),
            password: PASSWORD.into(),
            device_name: "总部电脑".into(),
        },
        &dir.join("devices").join(format!("{HQ_LOGIN}.sqlite3")),
    )
    .await
    .map_err(sync_error(HQ_LOGIN))?;
    sync_once(&mut engine, HQ_LOGIN).await?;
    let me = engine.me().user_id;
    for (code, name, price) in PRODUCTS {
        // The catalogue is attributed to nobody, so every member of the tenant pulls it.
        let mut header = Header::new(me, engine.now());
        header.owner_id = None;
        header.org_unit_id = None;
        let product = Product {
            header,
            code: code.into(),
            name: name.into(),
            spec: None,
            unit: Some("台".into()),
            list_price: Money::major(price, Currency::CNY),
            cost: None,
            category: Some("工业自动化".into()),
            product_line: None,
            tier_prices: BTreeMap::new(),
            volume_breaks: Vec::new(),
            promotions: Vec::new(),
            active: true,
        };
        engine
            .create_product(product)
            .map_err(engine_error(HQ_LOGIN, "add a product"))?;
    }
    sync_once(&mut engine, HQ_LOGIN).await
}
