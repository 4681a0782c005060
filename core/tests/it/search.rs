//! A rep searching before a visit: any part of a name, Chinese or Latin, any width or case.

use fieldsales_core::RecordId;
use fieldsales_core::record::Kind;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing;

fn store_with_customers() -> (Store, RecordId, RecordId) {
    let (rep, colleague) = (RecordId::new(), RecordId::new());
    let mut store = Store::open_in_memory().unwrap();
    let huawei = store
        .create(testing::customer(rep, "华为技术有限公司"))
        .unwrap();
    let acme = store
        .create(testing::customer(colleague, "Acme Trading Co., Ltd."))
        .unwrap();
    store
        .create(testing::customer(rep, "中兴通讯股份有限公司"))
        .unwrap();
    store
        .create(testing::contact(rep, huawei.header.id, "李娜"))
        .unwrap();
    store
        .create(testing::opportunity(
            rep,
            acme.header.id,
            "Acme 仓储系统",
            testing::yuan(90_000),
        ))
        .unwrap();
    (store, huawei.header.id, acme.header.id)
}

fn ids(store: &Store, q: &str) -> Vec<RecordId> {
    store
        .search(q, &[Kind::Customer], 10)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn chinese_names_are_found_by_any_part() {
    let (store, huawei, _) = store_with_customers();
    assert_eq!(ids(&store, "华为"), vec![huawei], "two characters");
    assert_eq!(ids(&store, "技术"), vec![huawei], "a middle part");
    assert_eq!(
        ids(&store, "为技术有"),
        vec![huawei],
        "longer parts use the trigram index"
    );
    assert!(ids(&store, "阿里").is_empty());
}

#[test]
fn latin_names_are_found_in_any_case_and_width() {
    let (store, _, acme) = store_with_customers();
    assert_eq!(ids(&store, "acme"), vec![acme]);
    assert_eq!(ids(&store, "ACME trading"), vec![acme]);
    assert_eq!(ids(&store, "ＡＣＭＥ"), vec![acme], "full-width input");
    assert_eq!(ids(&store, "co"), vec![acme], "short Latin queries too");
}

#[test]
fn search_spans_customers_contacts_and_opportunities_and_tells_the_owner() {
    let (store, _, acme) = store_with_customers();
    let hits = store.search("李娜", &[], 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, Kind::Contact);

    let hits = store.search("acme", &[], 10).unwrap();
    let kinds: Vec<Kind> = hits.iter().map(|h| h.kind).collect();
    assert!(kinds.contains(&Kind::Customer) && kinds.contains(&Kind::Opportunity));
    let customer = hits.iter().find(|h| h.id == acme).unwrap();
    assert!(
        customer.owner_id.is_some(),
        "a rep learns a colleague follows it"
    );
}

#[test]
fn odd_queries_are_harmless() {
    let (store, _, _) = store_with_customers();
    for q in ["", "   ", "\"", "%", "_", "a\"b OR c", "NEAR(", "*", "\\"] {
        store.search(q, &[], 10).unwrap();
    }
}

/// An edit keeps a record's search entries unless it changes what they index: the search and
/// the duplicate check follow renames and deletions, and the indexes equal a rebuild from the
/// documents after each step.
#[test]
fn edits_renames_and_deletions_keep_search_and_the_duplicate_check_exact() {
    use fieldsales_core::record::Customer;
    let (mut store, huawei, _) = store_with_customers();
    let consistent = |store: &Store| {
        let report = store.check_consistency().unwrap();
        assert!(report.is_consistent(), "{report:?}");
    };
    let near = |store: &Store, name: &str| -> Vec<RecordId> {
        let probe = testing::customer(RecordId::new(), name);
        let report = store.find_duplicates(&probe, 0.3).unwrap();
        report
            .exact
            .into_iter()
            .chain(report.near)
            .map(|n| n.id)
            .collect()
    };
    assert!(near(&store, "华为技术股份公司").contains(&huawei));

    store
        .update::<Customer>(huawei, |c| {
            c.tier = Some("B".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(
        ids(&store, "华为"),
        vec![huawei],
        "an edit elsewhere keeps the entry"
    );
    consistent(&store);

    store
        .update::<Customer>(huawei, |c| {
            c.legal_name = "鸿蒙智能科技有限公司".into();
            Ok(())
        })
        .unwrap();
    assert!(ids(&store, "华为").is_empty(), "the old name is gone");
    assert_eq!(ids(&store, "鸿蒙智能"), vec![huawei]);
    assert!(!near(&store, "华为技术股份公司").contains(&huawei));
    assert!(
        near(&store, "鸿蒙智能电子有限公司").contains(&huawei),
        "a close new name is found by the new name's bigrams"
    );
    consistent(&store);

    store.delete(huawei, None, Some("合并".into())).unwrap();
    assert!(
        ids(&store, "鸿蒙智能").is_empty(),
        "a deleted customer is not found"
    );
    assert!(
        near(&store, "鸿蒙智能科技公司").contains(&huawei),
        "the duplicate check keeps deleted customers"
    );
    consistent(&store);
}
