//! Bad input gets a typed error, never a panic, and loses nothing.

use automerge::transaction::Transactable;
use fieldsales_core::doc::DocError;
use fieldsales_core::id::MalformedId;
use fieldsales_core::record::{Customer, InvalidRecord, Kind, Visit};
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{Applied, Store};
use fieldsales_core::{Error, RecordId, testing};

#[test]
fn corrupt_document_bytes_from_elsewhere_are_refused() {
    let mut store = Store::open_in_memory().unwrap();
    let id = RecordId::new();
    for garbage in [
        &b"not automerge"[..],
        &[0x85, 0x6f, 0x4a, 0x83, 0, 1, 2],
        &[],
    ] {
        match store.apply_remote(id, garbage, &[]) {
            Err(Error::Document { .. }) => {}
            other => panic!("{garbage:?}: {other:?}"),
        }
    }
    assert!(store.kind_of(id).unwrap().is_none(), "nothing was stored");
}

#[test]
fn a_corrupted_file_row_is_an_error_on_read_not_a_panic() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "西安某公司")).unwrap();
    store
        .test_connection()
        .execute(
            "UPDATE documents SET doc = x'00ff00ff' WHERE id = ?1",
            [c.header.id],
        )
        .unwrap();
    assert!(matches!(
        store.get::<Customer>(c.header.id),
        Err(Error::Document {
            source: DocError::Corrupt(_),
            ..
        })
    ));
    let report = store.check_consistency().unwrap();
    assert!(!report.is_consistent(), "the check notices");
}

#[test]
fn a_document_of_an_unknown_kind_is_kept_but_not_projected() {
    let mut store = Store::open_in_memory().unwrap();
    let id = RecordId::new();
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "kind", "spaceship").unwrap();
    doc.put(automerge::ROOT, "schema_version", 9_u64).unwrap();
    let bytes = doc.save();
    let applied = store.apply_remote(id, &bytes, &doc.get_heads()).unwrap();
    assert_eq!(applied, Applied::UnknownKind("spaceship".into()));
    assert_eq!(store.kind_of(id).unwrap().as_deref(), Some("spaceship"));
    assert!(matches!(
        store.get_any(id),
        Err(Error::Document {
            source: DocError::UnknownKind(_),
            ..
        })
    ));
    assert!("spaceship".parse::<Kind>().is_err());
    assert!(store.check_consistency().unwrap().is_consistent());
}

#[test]
fn malformed_ids_are_typed_errors() {
    let err: MalformedId = "1234-not-a-uuid".parse::<RecordId>().unwrap_err();
    assert_eq!(err.input, "1234-not-a-uuid");
    assert!(RecordId::from_slice(&[0; 15]).is_err());
}

#[test]
fn negative_amounts_and_empty_names_are_refused() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "天津某公司")).unwrap();
    let opp = testing::opportunity(rep, c.header.id, "天津项目", testing::yuan(-1));
    assert!(matches!(
        store.create(opp),
        Err(Error::Invalid(InvalidRecord::Negative {
            kind: Kind::Opportunity,
            field: "amount"
        }))
    ));
    assert!(matches!(
        store.create(testing::customer(rep, "   ")),
        Err(Error::Invalid(InvalidRecord::Missing {
            kind: Kind::Customer,
            field: "legal_name"
        }))
    ));
    let mut far = testing::visit(rep, c.header.id);
    far.check_in.position.point.lat = 95.0;
    assert!(matches!(store.create(far), Err(Error::Invalid(_))));
    assert_eq!(
        store.pending().unwrap(),
        vec![c.header.id],
        "only the valid record was stored"
    );
}

#[test]
fn a_record_of_the_wrong_kind_passed_to_an_update_is_refused() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "南京某公司")).unwrap();
    match store.update::<Visit>(c.header.id, |_| Ok(())) {
        Err(Error::WrongKind {
            id,
            expected,
            found,
        }) => {
            assert_eq!(id, c.header.id);
            assert_eq!(expected, Kind::Visit);
            assert_eq!(found, "customer");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.update::<Customer>(RecordId::new(), |_| Ok(())),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn an_update_may_not_change_the_record_id() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "合肥某公司")).unwrap();
    let err = store
        .update::<Customer>(c.header.id, |c| {
            c.header.id = RecordId::new();
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput {
            field: "header.id",
            ..
        }
    ));
}

#[test]
fn changes_claiming_another_record_are_refused() {
    let rep = RecordId::new();
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let c = a.create(testing::customer(rep, "武汉某公司")).unwrap();
    let bytes = a.unacked_changes(c.header.id).unwrap();
    let other = RecordId::new();
    assert!(matches!(
        b.apply_remote(other, &bytes, &[]),
        Err(Error::InvalidInput { .. })
    ));
    assert!(b.kind_of(other).unwrap().is_none());
}

#[test]
fn a_database_from_a_newer_app_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.sqlite");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    assert!(matches!(
        Store::open(&path),
        Err(Error::NewerDatabase { found: 999, .. })
    ));
}

#[test]
fn creating_a_record_whose_id_exists_is_refused() {
    let rep = RecordId::new();
    let mut store = Store::open_in_memory().unwrap();
    let c = store.create(testing::customer(rep, "太原某公司")).unwrap();
    let mut again = testing::customer(rep, "太原另一家公司");
    again.header.id = c.header.id;
    assert!(matches!(
        store.create(again),
        Err(Error::InvalidInput { field: "id", .. })
    ));
    let back: Customer = store.get(c.header.id).unwrap();
    assert_eq!(back.legal_name, "太原某公司");
}
