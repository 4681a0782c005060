//! A record's scalar fields by path (`name`, `header.owner_id`, `lines.0.amount`), read from
//! its own document: what an audit entry compares before and after a change.
//!
//! Read from the document rather than from a hydrated record, so every kind and every key the
//! document holds is listed — also keys a newer version wrote — without a list of fields to
//! keep up to date. The current state is read through the same one-pass view a hydration
//! uses (`doc::reader`), so hydrating and flattening a document together reads each of
//! its objects once.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::reader::{Entries, OnePass};

/// A record's scalar fields by path, each rendered as text; an absent (null) value and an
/// empty text are left out.
pub type Fields = BTreeMap<String, String>;

/// Where a flattening reads: the current state (through a one-pass view) or the state at
/// some heads.
pub(crate) enum Source<'a> {
    Now(&'a OnePass<'a>),
    At(&'a AutoCommit, &'a [ChangeHash]),
}

fn render(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Null => None,
        ScalarValue::Str(s) => Some(s.to_string()),
        ScalarValue::Int(i) => Some(i.to_string()),
        ScalarValue::Uint(u) => Some(u.to_string()),
        ScalarValue::F64(f) => Some(f.to_string()),
        ScalarValue::Boolean(b) => Some(b.to_string()),
        ScalarValue::Timestamp(t) => Some(t.to_string()),
        ScalarValue::Counter(c) => Some(i64::from(c).to_string()),
        ScalarValue::Bytes(b) => Some(hex::encode(b)),
        other => Some(other.to_string()),
    }
}

impl Source<'_> {
    fn text(&self, obj: &ObjId) -> Option<String> {
        match self {
            Source::Now(view) => autosurgeon::ReadDoc::text(*view, obj).ok(),
            Source::At(doc, heads) => doc.text_at(obj, heads).ok(),
        }
    }
}

/// Flattens the root of the document `from` reads.
pub(crate) fn flatten(from: &Source<'_>) -> Fields {
    let mut out = Fields::new();
    let mut path = String::new();
    walk(from, &automerge::ROOT, &mut path, &mut out);
    out
}

/// Adds the fields of `obj` under `path` (the object's own path, restored on return).
fn walk(from: &Source<'_>, obj: &ObjId, path: &mut String, out: &mut Fields) {
    match from {
        // The view's copy of the object, read in place: the hydration read it already.
        Source::Now(view) => match view.entries(obj).ok().flatten() {
            Some(entries) => match &*entries {
                Entries::Map(entries) => {
                    for (key, value, id) in entries {
                        visit(from, path, key, value, id, out);
                    }
                }
                Entries::List(entries) => {
                    for (i, (value, id)) in entries.iter().enumerate() {
                        visit(from, path, &i.to_string(), value, id, out);
                    }
                }
            },
            // Not a map or a list: text, or nothing readable.
            None => {
                if view.is_text(obj) {
                    text_at(from, obj, path, out);
                }
            }
        },
        Source::At(doc, heads) => match doc.object_type(obj) {
            Ok(ObjType::Text) => text_at(from, obj, path, out),
            Ok(ObjType::List) => {
                for (i, item) in doc.list_range_at(obj, .., heads).enumerate() {
                    let id = item.id();
                    visit(
                        from,
                        path,
                        &i.to_string(),
                        &item.value.into_value(),
                        &id,
                        out,
                    );
                }
            }
            Ok(_) => {
                for item in doc.map_range_at(obj, .., heads) {
                    let id = item.id();
                    visit(from, path, &item.key, &item.value.into_value(), &id, out);
                }
            }
            Err(_) => {}
        },
    }
}

fn text_at(from: &Source<'_>, obj: &ObjId, path: &str, out: &mut Fields) {
    if let Some(text) = from.text(obj).filter(|t| !t.is_empty()) {
        out.insert(path.to_owned(), text);
    }
}

/// Adds one entry of an object whose path is `path`.
fn visit(
    from: &Source<'_>,
    path: &mut String,
    key: &str,
    value: &Value<'_>,
    id: &ObjId,
    out: &mut Fields,
) {
    let len = path.len();
    if len > 0 {
        path.push('.');
    }
    path.push_str(key);
    match value {
        Value::Scalar(s) => {
            if let Some(text) = render(s) {
                out.insert(path.clone(), text);
            }
        }
        Value::Object(_) => walk(from, id, path, out),
    }
    path.truncate(len);
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use crate::Timestamp;
    use crate::doc::RecordDoc;
    use crate::record::AnyRecord;
    use crate::testing;

    #[test]
    fn the_current_state_flattens_as_the_state_at_the_current_heads() {
        let actor = ActorId::from([3_u8; 16]);
        let mut doc = RecordDoc::empty(&actor);
        assert!(doc.fields().is_empty());
        assert!(doc.fields_at(&[]).is_empty());
        let owner = crate::RecordId::new();
        let mut customer = testing::customer(owner, "上海申通电子有限公司");
        customer.notes = autosurgeon::Text::with_value("第一次拜访");
        doc.write(
            &AnyRecord::Customer(customer.clone()),
            Timestamp::from_millis(1),
        )
        .unwrap();
        let first = doc.heads();
        let at_first = doc.fields_at(&first);
        customer.tier = Some("B".into());
        customer.notes = autosurgeon::Text::with_value("第二次拜访，谈价格");
        doc.write(
            &AnyRecord::Customer(customer.clone()),
            Timestamp::from_millis(2),
        )
        .unwrap();
        let heads = doc.heads();

        let (record, together) = doc.hydrate_with_fields().unwrap();
        assert_eq!(record, doc.hydrate().unwrap());
        assert_eq!(together, doc.fields());
        assert_eq!(together, doc.fields_at(&heads));
        // Scalars, nested maps, sets, custom fields and text, by path.
        assert_eq!(together.get("tier").map(String::as_str), Some("B"));
        assert_eq!(at_first.get("tier").map(String::as_str), Some("A"));
        assert_eq!(
            together.get("notes").map(String::as_str),
            Some("第二次拜访，谈价格")
        );
        assert_eq!(
            together.get("custom_fields.erp_code").map(String::as_str),
            Some("C-0001")
        );
        assert!(
            together.keys().any(|k| k.starts_with("location.")),
            "{together:?}"
        );
        assert!(
            together.keys().any(|k| k.starts_with("header.")),
            "{together:?}"
        );
        assert_eq!(together.get("kind").map(String::as_str), Some("customer"));
    }
}
