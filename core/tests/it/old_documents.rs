//! Documents an older version stored still read, and judge the same.
//!
//! The fixtures under `tests/data/` were saved by the version whose visits held the check-in
//! position as a `ReportedPosition` with the device-integrity signal as a string (`"rooted
//! emulator"`, `"ok"`, or none). Phones and the server hold such documents; they must hydrate
//! into today's `DevicePosition`, and an edit by this version must leave them readable.

use automerge::ActorId;
use fieldsales_core::doc::RecordDoc;
use fieldsales_core::fieldwork::DeviceIntegrity;
use fieldsales_core::record::{AnyRecord, Visit};
use fieldsales_core::store::{Store, StoreRead};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/visit-v1-integrity-{name}.automerge",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn old_visit(name: &str) -> Visit {
    RecordDoc::load(&fixture(name), &ActorId::random())
        .unwrap()
        .hydrate_as::<Visit>()
        .unwrap()
}

#[test]
fn a_visit_stored_with_an_integrity_string_reads_it_as_the_typed_signal() {
    let flagged = old_visit("rooted-emulator");
    assert_eq!(
        flagged.check_in.position.integrity,
        Some(DeviceIntegrity {
            rooted: true,
            emulator: true
        })
    );
    assert_eq!(flagged.check_in.position.accuracy_m, 8.0);
    assert!(!flagged.check_in.position.mock);
    let out = flagged
        .check_out
        .expect("checked out")
        .position
        .expect("a fix");
    assert_eq!(out.integrity, None);
    assert_eq!(out.accuracy_m, 12.0);

    assert_eq!(
        old_visit("ok").check_in.position.integrity,
        Some(DeviceIntegrity::default())
    );
    assert_eq!(old_visit("none").check_in.position.integrity, None);
}

#[test]
fn an_old_visit_pulled_by_a_phone_is_stored_edited_and_read_back_in_the_new_shape() {
    let mut phone = Store::open_in_memory().unwrap();
    let bytes = fixture("rooted-emulator");
    let mut doc = RecordDoc::load(&bytes, &ActorId::random()).unwrap();
    let id = doc.record_id().expect("an id");
    let heads = doc.heads();
    phone.apply_remote(id, &bytes, &heads).unwrap();
    let before: Visit = phone.get(id).unwrap();

    // The rep adds a note: this version writes the visit back, position included.
    let edited = phone
        .update::<Visit>(id, |v| {
            v.note.update("补充：客户要求下周报价");
            Ok(())
        })
        .unwrap();
    assert_eq!(edited.check_in, before.check_in);
    let reread = match RecordDoc::load(
        &phone.document_bytes(id).unwrap().unwrap(),
        &ActorId::random(),
    )
    .unwrap()
    .hydrate()
    .unwrap()
    {
        AnyRecord::Visit(v) => v,
        other => panic!("a visit, not a {}", other.kind()),
    };
    assert_eq!(reread.check_in, before.check_in);
    assert_eq!(reread.check_out, before.check_out);
}
