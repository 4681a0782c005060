//! Files that are not what they claim: a clear message and an exit code, never a panic.

use crate::support::{Team, path_str, run, write_workbook};

fn import(team: &Team, kind: &str, file: &std::path::Path, json: bool) -> crate::support::Run {
    let mut args = vec![
        "import",
        kind,
        path_str(file),
        "--store",
        path_str(&team.store_path),
    ];
    if json {
        args.push("--json");
    }
    run(&args, "")
}

#[test]
fn a_text_file_named_xlsx_is_not_a_workbook() {
    let team = Team::new();
    let file = team.path("customers.xlsx");
    std::fs::write(&file, "legal_name\n华为\n").expect("write");
    let out = import(&team, "customers", &file, false);
    out.expect_code(3);
    assert!(
        out.stderr.contains("is not a readable workbook"),
        "{}",
        out.stderr
    );
    let json = import(&team, "customers", &file, true);
    json.expect_code(3);
    assert_eq!(json.json()["error"]["code"], "not_a_workbook");
    assert_eq!(json.json()["error"]["exit_code"], 3);
}

#[test]
fn a_header_without_the_required_columns_is_refused_before_any_row() {
    let team = Team::new();
    let file = team.path("contacts.csv");
    std::fs::write(&file, "姓名,电话\n陈静,13800138000\n").expect("write");
    let out = import(&team, "contacts", &file, false);
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("the header (row 1) lacks required column(s) customer; it has: 姓名, 电话"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_file_and_an_empty_sheet_are_refused() {
    let team = Team::new();
    let csv = team.path("empty.csv");
    std::fs::write(&csv, "").expect("write");
    let out = import(&team, "products", &csv, true);
    out.expect_code(3);
    assert_eq!(out.json()["error"]["code"], "empty_file");

    let xlsx = team.path("empty.xlsx");
    write_workbook(&xlsx, &[], &[]);
    let out = import(&team, "products", &xlsx, false);
    out.expect_code(3);
    assert!(out.stderr.contains("is empty"), "{}", out.stderr);
}

#[test]
fn a_header_only_file_imports_nothing_and_succeeds() {
    let team = Team::new();
    let file = team.path("products.csv");
    std::fs::write(&file, "code,name,list_price\n").expect("write");
    let out = import(&team, "products", &file, true);
    out.expect_code(0);
    assert_eq!(out.json()["rows"], 0);
}

#[test]
fn unsupported_and_missing_files_and_bad_arguments() {
    let team = Team::new();
    let txt = team.path("customers.txt");
    std::fs::write(&txt, "legal_name\n").expect("write");
    import(&team, "customers", &txt, false).expect_code(2);
    let missing = team.path("nowhere.csv");
    let out = import(&team, "customers", &missing, false);
    out.expect_code(1);
    assert!(out.stderr.contains("nowhere.csv"), "{}", out.stderr);
    run(&["import", "leads", "x.csv", "--store", "s.db"], "").expect_code(2);
    run(&["frobnicate"], "").expect_code(2);
    run(&["import", "customers", "x.csv"], "").expect_code(2);
}

#[test]
fn every_unreadable_value_of_a_row_is_reported_together() {
    let team = Team::new();
    let file = team.path("products.csv");
    std::fs::write(
        &file,
        "产品编码,产品名称,标准价格,币种,启用\n\
         P-1,网关,12.345,CNY,是\n\
         P-2,网关二代,¥1,299.00,CNY,否\n\
         P-3,传感器,99,RMBX,是\n\
         P-4,路由器,abc,,maybe\n\
         P-5,交换机,\"1,299.50\",,启用\n",
    )
    .expect("write");
    let out = import(&team, "products", &file, true);
    out.expect_code(3);
    let report = out.json();
    let rows: Vec<u64> = report["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| r["row"].as_u64().expect("row"))
        .collect();
    // Row 3's price has an unquoted comma: the cells after it shift into the wrong columns.
    assert_eq!(rows, vec![2, 3, 4, 5]);
    let row5 = &report["rejected"][3]["reasons"];
    assert_eq!(
        row5.as_array().map(Vec::len),
        Some(2),
        "every problem of the row"
    );
    assert_eq!(report["imported"], 1);
}
