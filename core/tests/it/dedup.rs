//! The duplicate check (查重) when a rep creates a customer.

use fieldsales_core::record::Customer;
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{DEFAULT_NEAR_THRESHOLD, Store};
use fieldsales_core::{Error, RecordId, testing};

fn store_with_huawei() -> (Store, RecordId, RecordId) {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let mut huawei = testing::customer(rep, "华为技术有限公司");
    huawei.english_name = Some("HUAWEI".into());
    let (huawei, warnings) = store
        .create_customer(huawei, DEFAULT_NEAR_THRESHOLD)
        .unwrap();
    assert!(warnings.is_empty());
    (store, huawei.header.id, rep)
}

fn attempt(
    store: &mut Store,
    rep: RecordId,
    name: &str,
) -> Result<(Customer, Vec<fieldsales_core::store::NearDuplicate>), Error> {
    store.create_customer(testing::customer(rep, name), DEFAULT_NEAR_THRESHOLD)
}

#[test]
fn variants_of_an_existing_name_are_refused_naming_the_existing_record() {
    let (mut store, huawei, rep) = store_with_huawei();
    for variant in [
        "华为技术有限公司",
        "华为技术（有限公司）",
        "华为技术(有限公司)",
        "华为技术股份有限公司",
        " 华为 技术 有限公司",
        "ＨＵＡＷＥＩ",
        "Huawei Co., Ltd.",
    ] {
        match attempt(&mut store, rep, variant) {
            Err(Error::DuplicateCustomer { existing_id, score }) => {
                assert_eq!(existing_id, huawei, "{variant}");
                assert_eq!(score, 1.0);
            }
            other => panic!("{variant}: expected a duplicate, got {other:?}"),
        }
    }
}

#[test]
fn a_near_name_is_a_warning_not_a_refusal() {
    let (mut store, huawei, rep) = store_with_huawei();
    let (created, warnings) = attempt(&mut store, rep, "华为终端有限公司").unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].id, huawei);
    assert!(warnings[0].score >= DEFAULT_NEAR_THRESHOLD && warnings[0].score < 1.0);
    assert_eq!(warnings[0].legal_name, "华为技术有限公司");
    assert!(store.get::<Customer>(created.header.id).is_ok());
}

#[test]
fn an_unrelated_name_passes_silently() {
    let (mut store, _, rep) = store_with_huawei();
    let (_, warnings) = attempt(&mut store, rep, "中兴通讯股份有限公司").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_deleted_customer_still_blocks_its_name() {
    let (mut store, huawei, rep) = store_with_huawei();
    store
        .delete(huawei, Some(rep), Some("作废".into()))
        .unwrap();
    match attempt(&mut store, rep, "华为技术有限公司") {
        Err(Error::DuplicateCustomer { existing_id, .. }) => assert_eq!(existing_id, huawei),
        other => panic!("expected a duplicate of the voided record, got {other:?}"),
    }
}

/// A company where every customer shares a city and a trade (北京, 科技): the duplicate check
/// leaves those grams out of its candidate query (so it does not rank every customer for each
/// new one) and still finds the near duplicate by the grams that tell names apart.
#[test]
fn grams_the_whole_company_shares_do_not_hide_a_near_duplicate() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let chars: Vec<char> = "东南西北春夏秋冬金木水火土山川日月星辰江河湖海云雷风雨"
        .chars()
        .collect();
    store
        .transaction(|tx| {
            for (i, a) in chars.iter().enumerate() {
                for b in &chars {
                    for c in &chars[..(i % 3) + 1] {
                        tx.create(testing::customer(
                            rep,
                            &format!("北京{a}{b}{c}科技有限公司"),
                        ))?;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let target = store
        .create(testing::customer(rep, "北京华兴明达科技发展有限公司"))
        .unwrap();
    let probe = testing::customer(rep, "北京华兴明达科技有限公司");
    let report = store
        .find_duplicates(&probe, DEFAULT_NEAR_THRESHOLD)
        .unwrap();
    assert!(report.exact.is_none());
    assert_eq!(
        report.near.first().map(|n| n.id),
        Some(target.header.id),
        "{:?}",
        report.near
    );
    // A name whose grams the fillers share keeps its rarest ones and finds its namesake.
    let probe = testing::customer(rep, "北京东南东科技服务有限公司");
    let report = store
        .find_duplicates(&probe, DEFAULT_NEAR_THRESHOLD)
        .unwrap();
    assert!(
        report
            .near
            .iter()
            .any(|n| n.legal_name == "北京东南东科技有限公司"),
        "{:?}",
        report.near
    );
}

/// The exact half asked alone — what the server's review refuses a new customer for — answers
/// what the whole check's `exact` does: name variants, an English name, a voided namesake, a
/// near name, an unrelated one, and the customer itself (never its own duplicate).
#[test]
fn the_exact_check_alone_agrees_with_the_whole_check() {
    let (mut store, huawei, rep) = store_with_huawei();
    let voided = store
        .create(testing::customer(rep, "中兴通讯股份有限公司"))
        .unwrap()
        .header
        .id;
    store
        .delete(voided, Some(rep), Some("作废".into()))
        .unwrap();
    let mut english = testing::customer(rep, "深圳鹏程电子有限公司");
    english.english_name = Some("Huawei Co., Ltd.".into());
    let itself = store.get::<Customer>(huawei).unwrap();
    let probes = [
        (testing::customer(rep, "华为技术股份有限公司"), Some(huawei)),
        (english, Some(huawei)),
        (testing::customer(rep, "中兴通讯有限公司"), Some(voided)),
        (testing::customer(rep, "华为终端有限公司"), None),
        (testing::customer(rep, "杭州新远贸易有限公司"), None),
        (itself, None),
    ];
    for (probe, expected) in probes {
        let whole = store
            .find_duplicates(&probe, DEFAULT_NEAR_THRESHOLD)
            .unwrap()
            .exact;
        let alone = store.find_exact_duplicate(&probe).unwrap();
        assert_eq!(alone, whole, "{}", probe.legal_name);
        assert_eq!(alone.map(|n| n.id), expected, "{}", probe.legal_name);
    }
}
