//! Every kind survives being written, the app restarting, and being read back.

use fieldsales_core::RecordId;
use fieldsales_core::record::{AnyRecord, Customer, Kind};
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{ListFilter, Store};
use fieldsales_core::testing;

use crate::TempStore;

#[test]
fn every_kind_round_trips_through_a_reopened_file() {
    let rep = RecordId::new();
    let records = testing::one_of_each(rep);
    let kinds: std::collections::BTreeSet<Kind> = records.iter().map(AnyRecord::kind).collect();
    assert_eq!(
        kinds.len(),
        Kind::ALL.len(),
        "the builders cover every kind"
    );

    let mut t = TempStore::new();
    for r in &records {
        t.store.transaction(|tx| tx.create_any(r.clone())).unwrap();
    }
    let t = t.reopen();
    for r in &records {
        let back = t.store.get_any(r.header().id).unwrap();
        assert_eq!(&back, r, "{} differs after reopening", r.kind());
    }
    assert!(t.store.check_consistency().unwrap().is_consistent());
}

#[test]
fn typed_get_and_update_through_a_closure() {
    let rep = RecordId::new();
    let mut t = TempStore::new();
    let c = t
        .store
        .create(testing::customer(rep, "上海某贸易有限公司"))
        .unwrap();
    let updated = t
        .store
        .update::<Customer>(c.header.id, |c| {
            c.tier = Some("B".into());
            c.notes.update("年底有预算");
            Ok(())
        })
        .unwrap();
    assert_eq!(updated.tier.as_deref(), Some("B"));
    let t = t.reopen();
    let back: Customer = t.store.get(c.header.id).unwrap();
    assert_eq!(back, updated);
    assert_eq!(back.notes.as_str(), "年底有预算");
}

#[test]
fn a_deleted_record_keeps_a_tombstone_and_leaves_listings() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "北京某公司")).unwrap();
    store
        .delete(c.header.id, Some(rep), Some("录入错误".into()))
        .unwrap();

    let back: Customer = store.get(c.header.id).unwrap();
    assert_eq!(
        back.header.deleted.unwrap().reason.as_deref(),
        Some("录入错误")
    );
    let live = store
        .list(&ListFilter {
            kind: Some(Kind::Customer),
            ..Default::default()
        })
        .unwrap();
    assert!(live.is_empty());
    let deleted = store
        .list(&ListFilter {
            kind: Some(Kind::Customer),
            deleted: fieldsales_core::store::DeletedFilter::Only,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert!(store.search("北京", &[], 10).unwrap().is_empty());
}

#[test]
fn listing_filters_by_kind_owner_customer_stage_and_dates() {
    let (rep, other) = (RecordId::new(), RecordId::new());
    let mut store = Store::open_in_memory().unwrap();
    let c = store
        .create(testing::customer(rep, "杭州某电子有限公司"))
        .unwrap();
    let c2 = store
        .create(testing::customer(other, "苏州某电子有限公司"))
        .unwrap();
    let opp = store
        .create(testing::opportunity(
            rep,
            c.header.id,
            "杭州 CRM",
            testing::yuan(100_000),
        ))
        .unwrap();
    store
        .create(testing::opportunity(
            other,
            c2.header.id,
            "苏州 CRM",
            testing::yuan(100_000),
        ))
        .unwrap();
    let mut early = testing::visit(rep, c.header.id);
    early.check_in.at = testing::morning().plus_secs(-86_400);
    store.create(early).unwrap();
    let today = store.create(testing::visit(rep, c.header.id)).unwrap();

    let by = |f: ListFilter| {
        store
            .list(&f)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(ListFilter {
            kind: Some(Kind::Opportunity),
            owner: Some(rep),
            ..Default::default()
        }),
        vec![opp.header.id]
    );
    assert_eq!(
        by(ListFilter {
            kind: Some(Kind::Opportunity),
            status: Some("opportunity".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        by(ListFilter {
            kind: Some(Kind::Visit),
            customer: Some(c.header.id),
            from_date: Some(testing::morning().local_date(&fieldsales_core::Zone::SHANGHAI)),
            ..Default::default()
        }),
        vec![today.header.id]
    );
    assert_eq!(
        by(ListFilter {
            kind: Some(Kind::Visit),
            until: Some(testing::morning()),
            ..Default::default()
        })
        .len(),
        1
    );
}
