//! An admin moves the old CRM's customer list into Fieldsales.

use std::collections::BTreeMap;

use fieldsales_cli::transfer::{Entity, ImportOptions, NoProgress, Reason, import_file};
use fieldsales_core::record::{Customer, Kind};

use crate::support::{Cell, Team, n, path_str, run, t, write_workbook};

const HEADER: &[&str] = &[
    "客户名称",
    "客户简称",
    "行业",
    "纬度",
    "经度",
    "客户级别",
    "负责人",
];

fn good_row(i: usize) -> Vec<Cell> {
    let owner = if i.is_multiple_of(2) {
        "E1001"
    } else {
        "王芳"
    };
    vec![
        t(&format!("华东精工{i:04}机械有限公司")),
        t(&format!("精工{i:04}")),
        t("制造业"),
        n(31.0 + (i % 100) as f64 / 100.0),
        n(121.0 + (i % 50) as f64 / 100.0),
        t("B"),
        t(owner),
    ]
}

/// 1,000 rows, the sheet's rows 2 to 1001; seven of them bad in seven different ways.
fn workbook_with_seven_bad_rows(team: &Team, name: &str) -> std::path::PathBuf {
    let mut rows: Vec<Vec<Cell>> = (0..1000).map(good_row).collect();
    let sheet_row = |r: usize| r - 2; // index into `rows` of a sheet row number
    // Row 15: no legal name.
    rows[sheet_row(15)][0] = Cell::Empty;
    // Row 120: a latitude off the earth.
    rows[sheet_row(120)][3] = n(123.4);
    // Row 230: an owner nobody has heard of.
    rows[sheet_row(230)][6] = t("E9999");
    // Row 345: row 10's company again, its legal form spelled another way.
    rows[sheet_row(345)][0] = t("华东精工0008机械（有限公司）");
    // Row 456: the customer 李强 already has, as 股份有限公司.
    rows[sheet_row(456)][0] = t("上海申达贸易股份有限公司");
    // Row 567: a latitude without its longitude.
    rows[sheet_row(567)][4] = Cell::Empty;
    // Row 789: two reps are called 张伟.
    rows[sheet_row(789)][6] = t("张伟");
    let path = team.path(name);
    write_workbook(&path, HEADER, &rows);
    path
}

#[test]
fn a_thousand_row_workbook_with_seven_bad_rows_imports_993_and_reports_the_seven() {
    let team = Team::new();
    let existing = team.with_customer("E1002", "上海申达贸易有限公司");
    let file = workbook_with_seven_bad_rows(&team, "客户.xlsx");

    let first = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--json",
        ],
        "",
    );
    first.expect_code(3);
    let report = first.json();
    assert_eq!(report["rows"], 1000);
    assert_eq!(report["imported"], 993);
    assert_eq!(report["already_present"].as_array().map(Vec::len), Some(0));
    let refused: BTreeMap<u64, Vec<String>> = report["rejected"]
        .as_array()
        .expect("rejected rows")
        .iter()
        .map(|r| {
            let codes = r["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .map(|reason| reason["code"].as_str().expect("code").to_owned())
                .collect();
            (r["row"].as_u64().expect("row"), codes)
        })
        .collect();
    let expected: BTreeMap<u64, Vec<String>> = [
        (15, "missing_field"),
        (120, "bad_coordinates"),
        (230, "unknown_owner"),
        (345, "duplicate_in_file"),
        (456, "duplicate_customer"),
        (567, "bad_coordinates"),
        (789, "ambiguous_owner"),
    ]
    .into_iter()
    .map(|(row, code)| (row, vec![code.to_owned()]))
    .collect();
    assert_eq!(refused, expected);
    let rejected = report["rejected"].as_array().expect("rejected");
    let reason_of = |row: u64| {
        rejected
            .iter()
            .find(|r| r["row"] == row)
            .map(|r| r["reasons"][0].clone())
            .expect("row reported")
    };
    assert_eq!(reason_of(15)["field"], "legal_name");
    assert_eq!(reason_of(345)["first_row"], 10, "the row it repeats");
    assert_eq!(
        reason_of(456)["existing_id"],
        existing.header.id.to_string()
    );
    assert_eq!(reason_of(789)["matches"], 2);
    assert_eq!(team.count(Kind::Customer), 1 + 993);

    // Fixing nothing and importing again creates nothing new.
    let again = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--json",
        ],
        "",
    );
    again.expect_code(3);
    let report = again.json();
    assert_eq!(report["imported"], 0);
    assert_eq!(
        report["already_present"].as_array().map(Vec::len),
        Some(993)
    );
    assert_eq!(report["rejected"].as_array().map(Vec::len), Some(7));
    assert_eq!(team.count(Kind::Customer), 1 + 993, "no duplicates");
}

#[test]
fn the_text_report_names_each_bad_row_and_why() {
    let team = Team::new();
    team.with_customer("E1002", "上海申达贸易有限公司");
    let file = workbook_with_seven_bad_rows(&team, "customers.xlsx");
    let out = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
        ],
        "",
    );
    out.expect_code(3);
    for line in [
        "1000 rows read; imported 993 customers; 0 already present; 7 refused",
        "row 15: legal_name is required",
        "row 120: bad coordinates",
        "row 230: unknown owner `E9999`",
        "row 345: duplicate of row 10 (same name)",
        "row 456: duplicate of existing customer `上海申达贸易有限公司`",
        "row 567: bad coordinates: latitude given without longitude",
        "row 789: owner `张伟` fits 2 users; give the employee number",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing `{line}` in:\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_dry_run_checks_every_row_and_writes_nothing() {
    let team = Team::new();
    team.with_customer("E1002", "上海申达贸易有限公司");
    let file = workbook_with_seven_bad_rows(&team, "客户.xlsx");
    let out = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--dry-run",
            "--json",
        ],
        "",
    );
    out.expect_code(3);
    let report = out.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["imported"], 993, "what would be imported");
    assert_eq!(report["rejected"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        team.count(Kind::Customer),
        1,
        "only the customer that was there"
    );
}

#[test]
fn a_clean_file_exits_zero_and_rows_without_an_owner_take_the_given_one() {
    let team = Team::new();
    let file = team.path("clean.csv");
    std::fs::write(
        &file,
        "legal_name,short_name,tags\n\
         杭州西湖茶业有限公司,西湖茶业,\"重点, 茶叶\"\n\
         Acme Trading Co., Ltd.,Acme,\n",
    )
    .expect("write");
    let out = run(
        &[
            "import",
            "customers",
            path_str(&file),
            "--store",
            path_str(&team.store_path),
            "--owner",
            "李强",
        ],
        "",
    );
    out.expect_code(0);
    let owner = team.rep("E1002").id;
    let customers: Vec<Customer> = team
        .all(Kind::Customer)
        .into_iter()
        .map(|r| Customer::try_from(r).expect("customer"))
        .collect();
    assert_eq!(customers.len(), 2);
    assert!(customers.iter().all(|c| c.header.owner_id == Some(owner)));
    let tea = customers
        .iter()
        .find(|c| c.legal_name == "杭州西湖茶业有限公司")
        .expect("imported");
    assert_eq!(tea.short_name.as_deref(), Some("西湖茶业"));
    let tags: Vec<&String> = tea.tags.iter().collect();
    assert_eq!(tags, vec!["茶叶", "重点"]);
}

#[test]
fn a_row_without_any_owner_is_refused_rather_than_left_unowned() {
    let team = Team::new();
    let file = team.path("no-owner.csv");
    std::fs::write(&file, "legal_name\n宁波港联物流有限公司\n").expect("write");
    let mut store = team.store();
    let report = import_file(
        &mut store,
        Entity::Customers,
        &file,
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect("import");
    assert_eq!(report.imported, 0);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].row, 2);
    assert_eq!(
        report.rejected[0].reasons,
        vec![Reason::MissingField { field: "owner" }]
    );
}

#[test]
fn a_close_name_is_imported_with_a_warning() {
    let team = Team::new();
    let existing = team.with_customer("E1002", "华为技术有限公司");
    let file = team.path("near.csv");
    std::fs::write(&file, "客户名称,负责人\n华为终端有限公司,E1001\n").expect("write");
    let mut store = team.store();
    let report = import_file(
        &mut store,
        Entity::Customers,
        &file,
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect("import");
    assert_eq!(report.imported, 1);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].row, 2);
    assert_eq!(report.warnings[0].existing_id, existing.header.id);
}

#[test]
fn a_customer_another_rep_owns_is_not_created_again_for_this_rep() {
    let team = Team::new();
    let existing = team.with_customer("E1002", "苏州工业园区创新科技有限公司");
    let file = team.path("mine.csv");
    std::fs::write(
        &file,
        "legal_name,owner\n苏州工业园区创新科技有限公司,E1001\n",
    )
    .expect("write");
    let mut store = team.store();
    let report = import_file(
        &mut store,
        Entity::Customers,
        &file,
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect("import");
    assert_eq!(report.imported, 0);
    assert!(report.already_present.is_empty());
    match &report.rejected[0].reasons[0] {
        Reason::DuplicateCustomer {
            existing_id, score, ..
        } => {
            assert_eq!(*existing_id, existing.header.id);
            assert_eq!(*score, 1.0);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
}
