//! Mutation fuzzing of the import: CSV files and workbooks, cut from the files the tests
//! import and mutated (`fieldsales_core::testing::fuzz`), imported as customers, contacts and
//! products into a store that knows the team. Every case must end in a report or a typed
//! error, never a panic, and the store must stay consistent (its projections equal its
//! documents). `FUZZ_CASES` runs more cases (see RELIABILITY.md); a failing case is
//! reproduced from its number.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fieldsales_cli::transfer::{Entity, ImportOptions, NoProgress, import_file};
use fieldsales_core::testing::fuzz;

use crate::support::{Team, n, t, write_workbook};

const ENTITIES: [Entity; 3] = [Entity::Customers, Entity::Contacts, Entity::Products];

fn csv_corpus() -> Vec<Vec<u8>> {
    [
        "legal_name,short_name,tags,owner\n杭州西湖茶业有限公司,西湖茶业,\"重点, 茶叶\",E1001\n\
         Acme Trading Co., Ltd.,Acme,,李强\n",
        "客户名称,负责人\n华为终端有限公司,E1001\n",
        "客户名称,姓名,职务,手机,决策角色\n华为技术（有限公司）,陈静,采购经理,13800138000,决策人\n\
         中兴通讯,赵磊,工程师,,影响者\n",
        "code,name,list_price,cost\nCRM-STD,销售云标准版,19999,9999.5\n",
        "产品编码,产品名称,价格\ncrm-std,销售云旗舰版,39999\n\"CRM-\"\"X\"\"\",\"多\n行\",1e3\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn workbook_corpus(team: &Team) -> Vec<Vec<u8>> {
    let customers = team.path("seed-customers.xlsx");
    write_workbook(
        &customers,
        &["客户名称", "负责人", "标签"],
        &[
            vec![t("苏州精工机械有限公司"), t("E1002"), t("重点")],
            vec![t("宁波港联物流有限公司"), n(1003.0), t("")],
        ],
    );
    let products = team.path("seed-products.xlsx");
    write_workbook(
        &products,
        &["code", "name", "list_price"],
        &[vec![t("CRM-PRO"), t("销售云专业版"), n(29_999.5)]],
    );
    [customers, products]
        .iter()
        .map(|p| std::fs::read(p).expect("seed workbook"))
        .collect()
}

/// Runs the mutated cases. The seeds themselves must import (so the cases reach the parser
/// and not only the file check); `survivors` asks that some mutated cases import too, which
/// holds for CSV files but not reliably for workbooks: a workbook's bytes change with the time
/// it was written, and most flips inside a deflated, CRC-checked member are refused.
fn run(team: &Team, corpus: &[Vec<u8>], extension: &str, default_cases: u64, survivors: bool) {
    let mut store = team.store();
    for (i, seed) in corpus.iter().enumerate() {
        let file = team.path(&format!("seed.{extension}"));
        std::fs::write(&file, seed).expect("write");
        let options = ImportOptions {
            dry_run: true,
            ..ImportOptions::default()
        };
        let imported = ENTITIES
            .iter()
            .filter(|&&entity| {
                match import_file(&mut store, entity, &file, &options, &NoProgress) {
                    Ok(_) => true,
                    Err(e) => {
                        assert!(!e.to_string().is_empty(), "seed {i}: an empty error");
                        false
                    }
                }
            })
            .count();
        assert!(imported > 0, "seed {i} imports as none of the kinds");
    }
    let (mut read, mut refused) = (0, 0);
    for case in 0..fuzz::cases(default_cases) {
        let input = fuzz::input(corpus, case);
        let file = team.path(&format!("case.{extension}"));
        std::fs::write(&file, &input).expect("write");
        let entity = ENTITIES[(case % 3) as usize];
        let options = ImportOptions {
            dry_run: case % 4 == 0,
            default_owner: (case % 5 == 0).then(|| "E1001".to_owned()),
            ..ImportOptions::default()
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            import_file(&mut store, entity, &file, &options, &NoProgress)
        }));
        match outcome {
            Ok(Ok(_)) => read += 1,
            Ok(Err(e)) => {
                assert!(!e.to_string().is_empty(), "case {case}: an empty error");
                refused += 1;
            }
            Err(_) => panic!(
                "{extension} case {case} panicked on {} bytes: {input:02x?}",
                input.len()
            ),
        }
    }
    let report = store.check_consistency().expect("checked");
    assert!(report.is_consistent(), "{report:?}");
    assert!(
        refused > 0 && (read > 0 || !survivors),
        "{extension}: {read} read, {refused} refused"
    );
}

#[test]
fn mutated_csv_files_import_or_fail_with_a_typed_error() {
    let team = Team::new();
    run(&team, &csv_corpus(), "csv", 600, true);
}

#[test]
fn mutated_workbooks_import_or_fail_with_a_typed_error() {
    let team = Team::new();
    let corpus = workbook_corpus(&team);
    run(&team, &corpus, "xlsx", 200, false);
}
