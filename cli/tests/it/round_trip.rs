//! Exports read back by the import: a manager's spreadsheet edits can come home.

use fieldsales_cli::transfer::{
    Entity, HeaderLanguage, ImportOptions, NoProgress, export_file, import_file,
};
use fieldsales_core::record::contact::DecisionRole;
use fieldsales_core::record::{AnyRecord, Contact, Customer, Kind, Product};
use fieldsales_core::{Currency, GeoPoint, Money, testing};

use crate::support::{Team, path_str, run};

/// A team with three customers (one without a location), contacts and products.
fn team_with_accounts() -> Team {
    let team = Team::new();
    let wang = team.rep("E1001").id;
    let li = team.rep("E1002").id;
    let mut store = team.store();
    let mut huawei = testing::customer(wang, "华为技术有限公司");
    huawei.short_name = Some("华为".into());
    huawei.english_name = Some("Huawei Technologies Co., Ltd.".into());
    huawei.location = Some(GeoPoint::new(22.6531, 114.0593).expect("point"));
    let huawei = store.create(huawei).expect("customer");
    let mut zte = testing::customer(li, "中兴通讯股份有限公司");
    zte.location = None;
    zte.tags = ["央企", "通信"].into_iter().map(String::from).collect();
    let zte = store.create(zte).expect("customer");
    store
        .create(testing::customer(li, "Acme Trading Co., Ltd."))
        .expect("customer");
    store
        .create(testing::contact(wang, huawei.header.id, "陈静"))
        .expect("contact");
    let mut buyer = testing::contact(li, zte.header.id, "赵磊");
    buyer.phone = None;
    buyer.email = None;
    buyer.title = None;
    buyer.decision_role = DecisionRole::Gatekeeper;
    store.create(buyer).expect("contact");
    store
        .create(testing::product(
            "CRM-STD",
            "销售云标准版",
            Money::new(1_999_900, Currency::CNY),
        ))
        .expect("product");
    let mut hw = testing::product("GW-100", "边缘网关", Money::new(123_456, Currency::CNY));
    hw.cost = None;
    hw.active = false;
    store.create(hw).expect("product");
    team
}

fn sorted<T>(records: Vec<AnyRecord>, key: impl Fn(&T) -> String) -> Vec<T>
where
    T: TryFrom<AnyRecord, Error = AnyRecord>,
{
    let mut typed: Vec<T> = records
        .into_iter()
        .map(|r| T::try_from(r).expect("kind"))
        .collect();
    typed.sort_by_key(|r| key(r));
    typed
}

type CustomerView = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<(i64, i64)>,
    Option<String>,
    Vec<String>,
    String,
);

/// What an export carries of a customer: not its id or creation, and its owner by employee
/// number, since another store knows the same reps under other record ids.
fn customer_view(c: &Customer, team: &Team) -> CustomerView {
    (
        c.legal_name.clone(),
        c.short_name.clone(),
        c.english_name.clone(),
        c.industry.clone(),
        c.location
            .map(|p| ((p.lat * 1e6).round() as i64, (p.lon * 1e6).round() as i64)),
        c.tier.clone(),
        c.tags.iter().cloned().collect(),
        team.employee_no(c.header.owner_id),
    )
}

fn round_trip(file_name: &str, headers: HeaderLanguage) {
    let source = team_with_accounts();
    // Another store of the same tenant: the same reps, none of the customers.
    let target = Team::new();
    for (entity, kind) in [
        (Entity::Customers, Kind::Customer),
        (Entity::Contacts, Kind::Contact),
        (Entity::Products, Kind::Product),
    ] {
        let file = source.path(&format!("{entity}-{file_name}"));
        let exported =
            export_file(&source.store(), entity, &file, headers, &NoProgress).expect("export");
        assert_eq!(exported.rows, source.count(kind));
        let mut store = target.store();
        let report = import_file(
            &mut store,
            entity,
            &file,
            &ImportOptions::default(),
            &NoProgress,
        )
        .expect("import");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(report.imported, exported.rows);
        assert!(report.ignored_columns.is_empty());

        // And into the store it came from: everything is there already.
        let mut store = source.store();
        let again = import_file(
            &mut store,
            entity,
            &file,
            &ImportOptions::default(),
            &NoProgress,
        )
        .expect("re-import");
        assert_eq!(again.imported, 0);
        assert_eq!(again.already_present.len(), exported.rows);
    }
    let a = sorted::<Customer>(source.all(Kind::Customer), |c| c.legal_name.clone());
    let b = sorted::<Customer>(target.all(Kind::Customer), |c| c.legal_name.clone());
    assert_eq!(
        a.iter()
            .map(|c| customer_view(c, &source))
            .collect::<Vec<_>>(),
        b.iter()
            .map(|c| customer_view(c, &target))
            .collect::<Vec<_>>()
    );
    let contact_view = |c: &Contact, customers: &[Customer], team: &Team| {
        let customer = customers
            .iter()
            .find(|x| x.header.id == c.customer_id)
            .map(|x| x.legal_name.clone());
        (
            customer,
            c.name.clone(),
            c.title.clone(),
            c.phone.clone(),
            c.email.clone(),
            c.decision_role.clone(),
            team.employee_no(c.header.owner_id),
        )
    };
    let ca = sorted::<Contact>(source.all(Kind::Contact), |c| c.name.clone());
    let cb = sorted::<Contact>(target.all(Kind::Contact), |c| c.name.clone());
    assert_eq!(ca.len(), 2);
    assert_eq!(
        ca.iter()
            .map(|c| contact_view(c, &a, &source))
            .collect::<Vec<_>>(),
        cb.iter()
            .map(|c| contact_view(c, &b, &target))
            .collect::<Vec<_>>()
    );
    let product_view = |p: &Product| {
        (
            p.code.clone(),
            p.name.clone(),
            p.spec.clone(),
            p.unit.clone(),
            p.list_price,
            p.cost,
            p.category.clone(),
            p.product_line.clone(),
            p.active,
        )
    };
    let pa = sorted::<Product>(source.all(Kind::Product), |p| p.code.clone());
    let pb = sorted::<Product>(target.all(Kind::Product), |p| p.code.clone());
    assert_eq!(pa.len(), 2);
    assert_eq!(
        pa.iter().map(product_view).collect::<Vec<_>>(),
        pb.iter().map(product_view).collect::<Vec<_>>()
    );
}

#[test]
fn customers_contacts_and_products_survive_a_csv_round_trip() {
    round_trip("export.csv", HeaderLanguage::English);
}

#[test]
fn they_survive_a_workbook_round_trip_with_chinese_headers() {
    round_trip("导出.xlsx", HeaderLanguage::Chinese);
}

#[test]
fn the_export_command_writes_a_file_the_import_command_reads() {
    let team = team_with_accounts();
    let file = team.path("客户.csv");
    let out = run(
        &[
            "export",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--headers",
            "zh",
            "--json",
        ],
        "",
    );
    out.expect_code(0);
    assert_eq!(out.json()["rows"], 3);
    let text = std::fs::read_to_string(&file).expect("csv");
    assert!(text.starts_with("\u{feff}客户名称,客户简称"), "{text}");
    assert!(
        text.contains("华为技术有限公司,华为,\"Huawei Technologies Co., Ltd.\""),
        "{text}"
    );
    let dry = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--dry-run",
        ],
        "",
    );
    dry.expect_code(0);
    assert!(
        dry.stdout
            .contains("would import 0 customers; 3 already present; 0 refused"),
        "{}",
        dry.stdout
    );
}
