//! Sensitive fields in the store: written into companions, never into the record's own
//! document, read back joined, moved and deleted with their record.

use fieldsales_core::RecordId;
use fieldsales_core::record::{Contact, Kind, PrivateField, Product, SensitiveField};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{contact, customer, product, yuan};

use crate::TempStore;

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_contacts_phone_and_email_live_in_companions_and_read_back_joined() {
    let mut t = TempStore::new();
    let rep = RecordId::new();
    let c = t
        .store
        .create(customer(rep, "上海申通物流有限公司"))
        .unwrap();
    let mut k = contact(rep, c.header.id, "陈经理");
    k.phone = Some("+86 21 6666 7777".into());
    let k = t.store.create(k).unwrap();

    let own = t.store.document_bytes(k.header.id).unwrap().unwrap();
    assert!(
        !contains(&own, b"6666 7777"),
        "the phone is not in the contact's document"
    );
    assert!(!contains(&own, b"buyer@example.com"));
    let phone = SensitiveField::ContactPhone.companion_id(k.header.id);
    let held = t.store.document_bytes(phone).unwrap().unwrap();
    assert!(contains(&held, b"6666 7777"));
    assert_eq!(t.store.kind_of(phone).unwrap().as_deref(), Some("private"));
    assert_eq!(
        t.store.get::<Contact>(k.header.id).unwrap(),
        k,
        "read back joined"
    );

    // An edit of the phone writes the companion only; the contact's document is untouched.
    let heads = t.store.heads(k.header.id).unwrap();
    t.store
        .update::<Contact>(k.header.id, |c| {
            c.phone = Some("+86 21 8888 9999".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(t.store.heads(k.header.id).unwrap(), heads);
    let companion = t.store.get::<PrivateField>(phone).unwrap();
    assert_eq!(companion.value.text.as_deref(), Some("+86 21 8888 9999"));
    assert_eq!(companion.of.id, k.header.id);

    // Moved and deleted with the contact.
    let colleague = RecordId::new();
    t.store
        .update::<Contact>(k.header.id, |c| {
            c.header.owner_id = Some(colleague);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        t.store.get::<PrivateField>(phone).unwrap().header.owner_id,
        Some(colleague)
    );
    t.store.delete(k.header.id, Some(rep), None).unwrap();
    assert!(
        t.store
            .get::<PrivateField>(phone)
            .unwrap()
            .header
            .is_deleted()
    );

    // The outbox sends the contact before its companions.
    let pending = t.store.pending().unwrap();
    let at = |id: RecordId| pending.iter().position(|p| *p == id).unwrap();
    assert!(at(k.header.id) < at(phone));
    assert!(t.store.check_consistency().unwrap().is_consistent());
}

#[test]
fn a_store_without_the_companion_reads_the_field_empty_and_an_edit_leaves_it_alone() {
    let mut t = TempStore::new();
    let rep = RecordId::new();
    let c = t
        .store
        .create(customer(rep, "杭州西子电梯有限公司"))
        .unwrap();
    let k = t.store.create(contact(rep, c.header.id, "吴工")).unwrap();
    let phone = SensitiveField::ContactPhone.companion_id(k.header.id);
    // The companion leaves (the user's role hides phones: the pull removed it).
    t.store.transaction(|tx| tx.forget(phone)).unwrap();
    let seen = t.store.get::<Contact>(k.header.id).unwrap();
    assert_eq!(seen.phone, None);
    assert_eq!(seen.email.as_deref(), Some("buyer@example.com"));
    t.store
        .update::<Contact>(k.header.id, |c| {
            c.title = Some("总工程师".into());
            Ok(())
        })
        .unwrap();
    assert!(
        t.store.find_any(phone).unwrap().is_none(),
        "no empty companion is made for a field the store does not hold"
    );
}

#[test]
fn a_products_cost_is_in_a_companion_after_a_bulk_import_too() {
    let mut t = TempStore::new();
    let products: Vec<_> = (0..200)
        .map(|i| product(&format!("SKU-{i:03}"), "网关", yuan(1_000 + i)).into())
        .collect();
    t.store.create_batch(products).unwrap();
    let ids = t
        .store
        .list(&fieldsales_core::store::ListFilter {
            kind: Some(Kind::Product),
            limit: Some(1_000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids.len(), 200);
    for row in ids {
        let p = t.store.get::<Product>(row.id).unwrap();
        assert!(p.cost.is_some(), "joined back");
        let own = t.store.document_bytes(row.id).unwrap().unwrap();
        let doc = automerge::AutoCommit::load(&own).unwrap();
        use automerge::ReadDoc;
        assert!(
            matches!(
                doc.get(automerge::ROOT, "cost").unwrap(),
                Some((automerge::Value::Scalar(v), _)) if v.is_null()
            ),
            "the product's own document holds no cost"
        );
    }
}
