//! Two phones edit the same customer while apart, then exchange changes.

use fieldsales_core::RecordId;
use fieldsales_core::record::Customer;
use fieldsales_core::store::Store;
use fieldsales_core::testing;
use rusqlite::types::Value;

use crate::{send, send_unacked};

fn projection_rows(store: &Store, id: RecordId) -> Vec<Vec<Value>> {
    let conn = store.connection();
    let mut out = Vec::new();
    for sql in [
        "SELECT * FROM customers WHERE id = ?1",
        "SELECT id, kind, owner_id, customer_id, status, title, search_text, deleted FROM records WHERE id = ?1",
        "SELECT norm, source FROM customer_names WHERE customer_id = ?1 ORDER BY source",
        "SELECT r.id FROM customer_grams g JOIN records r ON r.rid = g.rowid WHERE r.id = ?1",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([id], |r| {
                (0..n)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn concurrent_edits_to_one_customer_converge_on_both_phones() {
    let (rep_a, rep_b) = (RecordId::new(), RecordId::new());
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let c = a
        .create(testing::customer(rep_a, "华为技术有限公司"))
        .unwrap();
    let id = c.header.id;
    send(&a, &mut b, id);

    // Apart: different fields, the same field, and the collaborative notes.
    a.update::<Customer>(id, |c| {
        c.industry = Some("通信设备".into());
        c.short_name = Some("华为".into());
        c.notes.update("A: 关注交付");
        Ok(())
    })
    .unwrap();
    b.update::<Customer>(id, |c| {
        c.tier = Some("S".into());
        c.short_name = Some("HW".into());
        c.header.shared_with.insert(rep_b);
        c.notes.update("B: 预算充足");
        Ok(())
    })
    .unwrap();

    // Each pushes only what the other has not acknowledged.
    send_unacked(&a, &mut b, id);
    send_unacked(&b, &mut a, id);

    let on_a: Customer = a.get(id).unwrap();
    let on_b: Customer = b.get(id).unwrap();
    assert_eq!(on_a, on_b, "both phones hydrate to the same value");
    assert_eq!(on_a.industry.as_deref(), Some("通信设备"), "A's field kept");
    assert_eq!(on_a.tier.as_deref(), Some("S"), "B's field kept");
    assert!(
        matches!(on_a.short_name.as_deref(), Some("华为") | Some("HW")),
        "the same field resolves to one of the two values"
    );
    assert!(on_a.header.shared_with.contains(&rep_b));
    let notes = on_a.notes.as_str();
    assert!(
        notes.contains("关注交付") && notes.contains("预算充足"),
        "both texts merge: {notes}"
    );

    assert_eq!(projection_rows(&a, id), projection_rows(&b, id));
    for query in ["华为", "技术有限", "hw"] {
        assert_eq!(
            a.search(query, &[], 10).unwrap(),
            b.search(query, &[], 10).unwrap(),
            "search `{query}` differs"
        );
    }
    assert!(a.check_consistency().unwrap().is_consistent());
    assert!(b.check_consistency().unwrap().is_consistent());
}

#[test]
fn applying_the_same_changes_twice_changes_nothing() {
    let rep = RecordId::new();
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let c = a
        .create(testing::customer(rep, "深圳某科技有限公司"))
        .unwrap();
    send(&a, &mut b, c.header.id);
    let heads = b.heads(c.header.id).unwrap();
    let doc = b.document_bytes(c.header.id).unwrap();
    send(&a, &mut b, c.header.id);
    assert_eq!(b.heads(c.header.id).unwrap(), heads);
    assert_eq!(b.document_bytes(c.header.id).unwrap(), doc);
}

#[test]
fn acknowledged_records_leave_the_outbox_and_new_edits_return_to_it() {
    let rep = RecordId::new();
    let mut a = Store::open_in_memory().unwrap();
    let c = a
        .create(testing::customer(rep, "广州某物流有限公司"))
        .unwrap();
    let id = c.header.id;
    assert_eq!(a.pending().unwrap(), vec![id]);
    let all = a.unacked_changes(id).unwrap();
    assert!(!all.is_empty());

    a.mark_acked(id, &a.heads(id).unwrap()).unwrap();
    assert!(a.pending().unwrap().is_empty());
    assert!(a.unacked_changes(id).unwrap().is_empty());

    a.update::<Customer>(id, |c| {
        c.tier = Some("C".into());
        Ok(())
    })
    .unwrap();
    assert_eq!(a.pending().unwrap(), vec![id]);
    let delta = a.unacked_changes(id).unwrap();
    assert!(
        !delta.is_empty() && delta.len() < all.len(),
        "only the new change is exported"
    );
}
