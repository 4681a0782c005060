//! Data a newer app version wrote survives a round trip through this one.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, Value};
use fieldsales_core::record::Contact;
use fieldsales_core::record::contact::DecisionRole;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{RecordId, testing};

use crate::send;

#[test]
fn unknown_fields_and_codes_survive_an_edit_by_this_version() {
    let rep = RecordId::new();
    let mut older = Store::open_in_memory().unwrap();
    let c = older.create(testing::customer(rep, "宁波某公司")).unwrap();
    let contact = older
        .create(testing::contact(rep, c.header.id, "周杰"))
        .unwrap();
    let id = contact.header.id;

    // A newer app adds a field, a nested object, a new decision-role code, and a schema bump.
    let bytes = older.document_bytes(id).unwrap().unwrap();
    let mut newer = AutoCommit::load(&bytes)
        .unwrap()
        .with_actor(ActorId::random());
    newer
        .put(automerge::ROOT, "wechat_id", "zhoujie_88")
        .unwrap();
    let social = newer
        .put_object(automerge::ROOT, "social", ObjType::Map)
        .unwrap();
    newer.put(&social, "linkedin", "zhou-jie").unwrap();
    newer
        .put(automerge::ROOT, "decision_role", "champion")
        .unwrap();
    newer.put(automerge::ROOT, "schema_version", 2_u64).unwrap();
    newer.commit();
    let newer_heads = newer.get_heads();
    older.apply_remote(id, &newer.save(), &newer_heads).unwrap();

    // This version reads it, tolerates the new code, and edits another field.
    let read: Contact = older.get(id).unwrap();
    assert_eq!(read.decision_role, DecisionRole::Other("champion".into()));
    older
        .update::<Contact>(id, |c| {
            c.title = Some("总监".into());
            Ok(())
        })
        .unwrap();

    let saved = older.document_bytes(id).unwrap().unwrap();
    let doc = AutoCommit::load(&saved).unwrap();
    let get = |key: &str| match doc.get(automerge::ROOT, key).unwrap() {
        Some((Value::Scalar(s), _)) => Some(s.into_owned()),
        _ => None,
    };
    assert_eq!(
        get("wechat_id"),
        Some(ScalarValue::Str("zhoujie_88".into()))
    );
    assert_eq!(
        get("decision_role"),
        Some(ScalarValue::Str("champion".into()))
    );
    assert_eq!(
        get("schema_version"),
        Some(ScalarValue::Uint(2)),
        "never lowered"
    );
    assert!(doc.get(automerge::ROOT, "social").unwrap().is_some());
    assert_eq!(get("title"), Some(ScalarValue::Str("总监".into())));

    // And a second device that only ever saw this version's edit still gets everything.
    let mut other = Store::open_in_memory().unwrap();
    send(&older, &mut other, id);
    let on_other = other.document_bytes(id).unwrap().unwrap();
    let doc = AutoCommit::load(&on_other).unwrap();
    assert!(doc.get(automerge::ROOT, "wechat_id").unwrap().is_some());
}
