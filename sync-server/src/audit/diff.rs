//! What a record's change was: which operation (a stage move, a check-in, a decision, …) and
//! the before and after of each scalar field, hidden fields masked.
//!
//! A record is flattened from its own Automerge document (core's `doc::flat`) before and after
//! the change, so every kind — and every field a later version adds — is compared without a list
//! of fields to keep up to date here.

use fieldsales_core::record::{AnyRecord, Kind};

use super::{Change, MASKED, Operation};

/// Field names whose values no audit entry shows: a contact's or a person's telephone and
/// e-mail, a product's cost. Matched against every segment of a field's path, in any kind.
pub const HIDDEN_FIELDS: &[&str] = &["phone", "mobile", "email", "cost"];

/// The longest value an entry keeps (a long note is cut, with `…`).
const MAX_VALUE_CHARS: usize = 200;

/// The most changes an entry lists; more are summed up in one last change.
const MAX_CHANGES: usize = 100;

/// Top-level keys of every document that say nothing about the record (never listed).
const ENVELOPE: &[&str] = &["kind", "schema_version"];

fn cut(mut text: String) -> String {
    if let Some((at, _)) = text.char_indices().nth(MAX_VALUE_CHARS) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// A record's scalar fields by path, as its document holds them (flattened by core, from the
/// document itself: `RecordDoc::fields`, `fields_at`, `hydrate_with_fields`).
pub use fieldsales_core::doc::flat::Fields;

/// Whether the field at `path` is hidden in the log.
pub fn is_hidden(path: &str) -> bool {
    path.split('.')
        .any(|segment| HIDDEN_FIELDS.contains(&segment))
}

/// The changed fields from `before` (empty: created) to `after`, hidden ones masked.
pub fn changes(before: &Fields, after: &Fields) -> Vec<Change> {
    let mut keys: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| !ENVELOPE.contains(&key.as_str()))
        .collect();
    keys.sort();
    keys.dedup();
    // A sensitive field's companion holds nothing but the field: its value is masked whatever
    // the field is called.
    let companion = [before, after]
        .iter()
        .any(|f| f.get("kind").map(String::as_str) == Some(Kind::Private.as_str()));
    let hidden = |key: &str| is_hidden(key) || (companion && key.starts_with("value"));
    let mut out = Vec::new();
    let mut more = 0_usize;
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        if b == a {
            continue;
        }
        if out.len() == MAX_CHANGES {
            more += 1;
            continue;
        }
        let mask = |v: Option<&String>| {
            v.map(|v| {
                if hidden(key) {
                    MASKED.to_owned()
                } else {
                    cut(v.clone())
                }
            })
        };
        out.push(Change {
            field: key.clone(),
            before: mask(b),
            after: mask(a),
        });
    }
    if more > 0 {
        out.push(Change {
            field: "…".into(),
            before: None,
            after: Some(format!("{more} more fields changed")),
        });
    }
    out
}

/// Which key operation a device's change of a record is. A change that does several things
/// is one entry named by the weightiest: a deletion, then the kind's own events (a check-in,
/// a stage move, a decision, a judgment), then a reassignment, then an edit.
pub fn operation(before: Option<&AnyRecord>, after: &AnyRecord) -> Operation {
    let Some(before) = before else {
        return match after {
            AnyRecord::Visit(_) => Operation::CheckIn,
            AnyRecord::Approval(_) => Operation::ApprovalRequest,
            AnyRecord::DailyReport(r) if r.submitted_at.is_some() => Operation::ReportSubmit,
            _ => Operation::RecordCreate,
        };
    };
    let (bh, ah) = (before.header(), after.header());
    if bh.deleted.is_none() && ah.deleted.is_some() {
        return Operation::RecordDelete;
    }
    let own = match (before, after) {
        (AnyRecord::Visit(b), AnyRecord::Visit(a)) => {
            if b.check_in != a.check_in {
                Some(Operation::CheckIn)
            } else if b.check_out != a.check_out {
                Some(Operation::CheckOut)
            } else {
                None
            }
        }
        (AnyRecord::Opportunity(b), AnyRecord::Opportunity(a)) => {
            if b.stage != a.stage {
                Some(Operation::StageChange)
            } else if b.marked_false != a.marked_false {
                Some(Operation::Judgment)
            } else {
                None
            }
        }
        (AnyRecord::Approval(b), AnyRecord::Approval(a)) => (b.status != a.status
            || b.decisions != a.decisions)
            .then_some(Operation::ApprovalDecision),
        (AnyRecord::DailyReport(b), AnyRecord::DailyReport(a)) => {
            if b.marked_false != a.marked_false || b.verdict != a.verdict {
                Some(Operation::Judgment)
            } else if b.submitted_at.is_none() && a.submitted_at.is_some() {
                Some(Operation::ReportSubmit)
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(op) = own {
        return op;
    }
    if bh.owner_id != ah.owner_id || bh.org_unit_id != ah.org_unit_id {
        return Operation::RecordReassign;
    }
    Operation::RecordEdit
}

#[cfg(test)]
mod tests {
    use fieldsales_core::doc::RecordDoc;
    use fieldsales_core::record::contact::DecisionRole;
    use fieldsales_core::record::{Contact, Header, Tombstone};
    use fieldsales_core::{RecordId, Timestamp};

    use super::*;

    fn contact(phone: &str, name: &str) -> AnyRecord {
        let rep = RecordId::from_uuid(uuid::Uuid::from_u128(4));
        let mut header = Header::new(rep, Timestamp::from_millis(0));
        header.id = RecordId::from_uuid(uuid::Uuid::from_u128(5));
        AnyRecord::Contact(Contact {
            header,
            customer_id: RecordId::from_uuid(uuid::Uuid::from_u128(6)),
            name: name.into(),
            title: None,
            phone: Some(phone.into()),
            email: Some("li@example.com".into()),
            decision_role: DecisionRole::Unknown,
        })
    }

    /// The changes of writing `before` (if any) and then `after` into one document.
    fn changes_of(before: Option<&AnyRecord>, after: &AnyRecord) -> Vec<Change> {
        let actor = automerge::ActorId::from([1_u8; 16]);
        let mut doc = RecordDoc::empty(&actor);
        if let Some(before) = before {
            doc.write(before, Timestamp::from_millis(1)).unwrap();
        }
        let before_heads = doc.heads();
        doc.write(after, Timestamp::from_millis(2)).unwrap();
        let after_heads = doc.heads();
        changes(&doc.fields_at(&before_heads), &doc.fields_at(&after_heads))
    }

    #[test]
    fn the_current_state_reads_as_the_state_at_the_current_heads() {
        let actor = automerge::ActorId::from([1_u8; 16]);
        let mut doc = RecordDoc::empty(&actor);
        assert!(doc.fields().is_empty());
        doc.write(&contact("13800000000", "李娜"), Timestamp::from_millis(1))
            .unwrap();
        let first = doc.heads();
        doc.write(&contact("13900000000", "李娜娜"), Timestamp::from_millis(2))
            .unwrap();
        let now = doc.fields();
        let heads = doc.heads();
        assert_eq!(now, doc.fields_at(&heads));
        assert_eq!(now.get("name").map(String::as_str), Some("李娜娜"));
        assert!(now.keys().any(|k| k.starts_with("header.")), "{now:?}");
        assert_ne!(now, doc.fields_at(&first));
    }

    #[test]
    fn a_changed_name_is_listed_with_before_and_after() {
        let changes = changes_of(
            Some(&contact("13800000000", "李娜")),
            &contact("13800000000", "李娜娜"),
        );
        assert_eq!(
            changes,
            vec![Change {
                field: "name".into(),
                before: Some("李娜".into()),
                after: Some("李娜娜".into()),
            }]
        );
    }

    #[test]
    fn a_telephone_number_and_an_email_never_reach_the_log() {
        let created = changes_of(None, &contact("13800000000", "李娜"));
        assert!(created.iter().any(|c| c.field == "name"), "{created:?}");
        let phone = created.iter().find(|c| c.field == "phone");
        assert_eq!(phone.and_then(|c| c.after.as_deref()), Some(MASKED));
        let email = created.iter().find(|c| c.field == "email");
        assert_eq!(email.and_then(|c| c.after.as_deref()), Some(MASKED));
        let text = serde_json::to_string(&created).unwrap_or_default();
        assert!(
            !text.contains("13800000000") && !text.contains("example.com"),
            "{text}"
        );
        let edited = changes_of(
            Some(&contact("13800000000", "李娜")),
            &contact("13900000000", "李娜"),
        );
        assert_eq!(
            edited,
            vec![Change {
                field: "phone".into(),
                before: Some(MASKED.into()),
                after: Some(MASKED.into()),
            }]
        );
    }

    #[test]
    fn a_tombstone_is_a_deletion_and_a_new_owner_a_reassignment() {
        let before = contact("1", "a");
        let mut deleted = before.clone();
        deleted.header_mut().deleted = Some(Tombstone {
            at: Timestamp::from_millis(5),
            by: None,
            reason: None,
        });
        assert_eq!(operation(Some(&before), &deleted), Operation::RecordDelete);
        let mut moved = before.clone();
        moved.header_mut().owner_id = Some(RecordId::from_uuid(uuid::Uuid::from_u128(9)));
        assert_eq!(operation(Some(&before), &moved), Operation::RecordReassign);
        assert_eq!(operation(None, &before), Operation::RecordCreate);
        assert_eq!(
            operation(Some(&before), &contact("1", "b")),
            Operation::RecordEdit
        );
    }
}
