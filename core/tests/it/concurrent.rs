//! Two phones edit the same customer while apart, then exchange changes.

use fieldsales_core::RecordId;
use fieldsales_core::record::Customer;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing;
use rusqlite::types::Value;

use crate::{send, send_unacked};

fn projection_rows(store: &Store, id: RecordId) -> Vec<Vec<Value>> {
    let conn = store.test_connection();
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

#[test]
fn a_pulled_page_of_new_held_and_locally_edited_records_lands_as_one_by_one() {
    // The server's copy holds 20 customers; the manager's phone already holds 5 of them
    // unchanged and has an unsent edit on 1 more. The page then arrives with the server's
    // newer version of all 20.
    let rep = RecordId::new();
    let mut server = Store::open_in_memory().unwrap();
    let mut phone = Store::open_in_memory().unwrap();
    let ids: Vec<RecordId> = (0..20)
        .map(|i| {
            server
                .create(testing::customer(rep, &format!("杭州第{i}贸易有限公司")))
                .unwrap()
                .header
                .id
        })
        .collect();
    for &id in &ids[..6] {
        send(&server, &mut phone, id);
    }
    phone
        .update::<Customer>(ids[5], |c| {
            c.tier = Some("战略".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(phone.pending().unwrap(), vec![ids[5]]);
    for &id in &ids {
        server
            .update::<Customer>(id, |c| {
                c.industry = Some("纺织".into());
                Ok(())
            })
            .unwrap();
    }
    let page: Vec<(RecordId, Vec<u8>, Vec<automerge::ChangeHash>)> = ids
        .iter()
        .map(|&id| {
            (
                id,
                server.document_bytes(id).unwrap().unwrap(),
                server.heads(id).unwrap(),
            )
        })
        .collect();
    let received: Vec<fieldsales_core::store::Received<'_>> = page
        .iter()
        .map(|(id, bytes, heads)| fieldsales_core::store::Received {
            id: *id,
            bytes,
            heads,
        })
        .collect();
    let applied = phone
        .transaction(|tx| tx.apply_remote_all(&received))
        .unwrap();

    assert_eq!(applied, 20);
    let rows: Vec<_> = ids.iter().map(|&id| projection_rows(&phone, id)).collect();
    for &id in &ids {
        let c: Customer = phone.get(id).unwrap();
        assert_eq!(c.industry.as_deref(), Some("纺织"), "server's edit of {id}");
    }
    let edited: Customer = phone.get(ids[5]).unwrap();
    assert_eq!(
        edited.tier.as_deref(),
        Some("战略"),
        "the unsent edit is kept"
    );
    assert_eq!(
        phone.pending().unwrap(),
        vec![ids[5]],
        "only the unsent edit waits"
    );
    for &id in &ids {
        if id != ids[5] {
            assert_eq!(
                phone.document_bytes(id).unwrap(),
                server.document_bytes(id).unwrap()
            );
        }
    }
    assert!(phone.check_consistency().unwrap().is_consistent());
    phone.rebuild_projections().unwrap();
    let rebuilt: Vec<_> = ids.iter().map(|&id| projection_rows(&phone, id)).collect();
    assert_eq!(
        rows, rebuilt,
        "the projections are what the documents alone give"
    );
    assert_eq!(phone.search("杭州第7", &[], 10).unwrap()[0].id, ids[7]);
}
