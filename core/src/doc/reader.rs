//! A read-only view of a record document that reads each object in one pass.
//!
//! Hydrating a record through autosurgeon asks the document for one field at a time, and
//! each `get` seeks the field's operations from the start of the object: about 1.4 µs a
//! field, most of a customer's hydration. A whole map (or list) read in order with
//! `map_range` (`list_range`) costs about as much as two or three of those seeks. So the
//! first `get` on an object reads the whole object once and later `get`s on it are answered
//! from that copy. Everything else is passed to the document as is.
//!
//! The copy holds exactly what `get` would return: the winning value of each key (the one a
//! conflict resolves to, chosen the same way on every replica) and the id of the operation
//! that wrote it. The view lives for one hydration, while the document cannot change.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;
use std::rc::Rc;

use automerge::iter::{ListRange, MapRange};
use automerge::{AutoCommit, AutomergeError, ChangeHash, ObjId, ObjType, Parents, Prop, Value};
use autosurgeon::ReadDoc;

/// One object's current entries, read in one pass.
pub(crate) enum Entries {
    /// A map's keys in order (as `map_range` yields them), each with its winning value.
    Map(Vec<(String, Value<'static>, ObjId)>),
    /// A list's elements by index.
    List(Vec<(Value<'static>, ObjId)>),
}

/// `doc`, with each object read once on its first `get`.
pub(crate) struct OnePass<'a> {
    doc: &'a AutoCommit,
    objects: RefCell<HashMap<ObjId, Rc<Entries>>>,
    /// Texts read once, for a hydration followed by a flattening of the same document.
    texts: RefCell<HashMap<ObjId, String>>,
}

impl<'a> OnePass<'a> {
    pub(crate) fn new(doc: &'a AutoCommit) -> Self {
        OnePass {
            doc,
            objects: RefCell::new(HashMap::new()),
            texts: RefCell::new(HashMap::new()),
        }
    }

    /// The entries of `obj`, read now when they were not yet; `None` for text, which is
    /// read with `text` (a `get` on it is rare and asked of the document).
    pub(crate) fn entries(&self, obj: &ObjId) -> Result<Option<Rc<Entries>>, AutomergeError> {
        if let Some(found) = self.objects.borrow().get(obj) {
            return Ok(Some(Rc::clone(found)));
        }
        let entries = match automerge::ReadDoc::object_type(self.doc, obj)? {
            ObjType::Map | ObjType::Table => Entries::Map(
                automerge::ReadDoc::map_range(self.doc, obj, ..)
                    .map(|item| {
                        let id = item.id();
                        (item.key.into_owned(), item.value.into_value(), id)
                    })
                    .collect(),
            ),
            ObjType::List => Entries::List(
                automerge::ReadDoc::list_range(self.doc, obj, ..)
                    .map(|item| {
                        let id = item.id();
                        (item.value.into_value(), id)
                    })
                    .collect(),
            ),
            ObjType::Text => return Ok(None),
        };
        let entries = Rc::new(entries);
        self.objects
            .borrow_mut()
            .insert(obj.clone(), Rc::clone(&entries));
        Ok(Some(entries))
    }
}

impl OnePass<'_> {
    /// Whether `obj` is a text (which [`OnePass::entries`] leaves to `text`).
    pub(crate) fn is_text(&self, obj: &ObjId) -> bool {
        matches!(
            automerge::ReadDoc::object_type(self.doc, obj),
            Ok(ObjType::Text)
        )
    }
}

impl ReadDoc for OnePass<'_> {
    type Parents<'b>
        = Parents<'b>
    where
        Self: 'b;

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        let Some(entries) = self.entries(obj)? else {
            return automerge::ReadDoc::get(self.doc, obj, prop);
        };
        Ok(match (&*entries, &prop) {
            (Entries::Map(entries), Prop::Map(key)) => entries
                .binary_search_by(|(k, _, _)| k.as_str().cmp(key.as_str()))
                .ok()
                .map(|at| (entries[at].1.clone(), entries[at].2.clone())),
            (Entries::List(entries), Prop::Seq(index)) => entries
                .get(*index)
                .map(|(value, id)| (value.clone(), id.clone())),
            // A key on a list or an index on a map: nothing there, as the document says.
            _ => None,
        })
    }

    fn get_heads(&self) -> Vec<ChangeHash> {
        ReadDoc::get_heads(self.doc)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        ReadDoc::object_type(self.doc, obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        ReadDoc::map_range(self.doc, obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> ListRange<'_> {
        ReadDoc::list_range(self.doc, obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        ReadDoc::length(self.doc, obj)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        let obj = obj.as_ref();
        if let Some(found) = self.texts.borrow().get(obj) {
            return Ok(found.clone());
        }
        let text = ReadDoc::text(self.doc, obj)?;
        self.texts.borrow_mut().insert(obj.clone(), text.clone());
        Ok(text)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Parents<'_>, AutomergeError> {
        ReadDoc::parents(self.doc, obj)
    }

    fn is_empty(&self) -> bool {
        ReadDoc::is_empty(self.doc)
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT, ScalarValue};

    use super::*;

    /// Every key and index of every object, as the document answers and as the view does.
    fn assert_same_answers(doc: &AutoCommit) {
        let view = OnePass::new(doc);
        let mut objects = vec![ROOT];
        while let Some(obj) = objects.pop() {
            let props: Vec<Prop> = match automerge::ReadDoc::object_type(doc, &obj).unwrap() {
                ObjType::Map | ObjType::Table => automerge::ReadDoc::keys(doc, &obj)
                    .chain(["absent".to_owned()])
                    .map(Prop::Map)
                    .collect(),
                ObjType::List | ObjType::Text => (0..=automerge::ReadDoc::length(doc, &obj))
                    .map(Prop::Seq)
                    .collect(),
            };
            for prop in props {
                let expected = automerge::ReadDoc::get(doc, &obj, prop.clone()).unwrap();
                // Twice: the first read fills the copy, the second is answered from it.
                for _ in 0..2 {
                    let got = view.get(&obj, prop.clone()).unwrap();
                    assert_eq!(got, expected, "{obj:?} {prop:?}");
                }
                if let Some((Value::Object(_), child)) = expected {
                    objects.push(child);
                }
            }
        }
    }

    #[test]
    fn answers_as_the_document_does_with_conflicts_nested_maps_lists_and_text() {
        let mut a = AutoCommit::new().with_actor(ActorId::from(b"aaaa".as_slice()));
        a.put(ROOT, "name", "甲").unwrap();
        a.put(ROOT, "count", 1_i64).unwrap();
        let header = a.put_object(ROOT, "header", ObjType::Map).unwrap();
        a.put(&header, "owner", "rep-a").unwrap();
        let tags = a.put_object(ROOT, "tags", ObjType::List).unwrap();
        a.insert(&tags, 0, "x").unwrap();
        a.insert(&tags, 1, "y").unwrap();
        let note = a.put_object(ROOT, "note", ObjType::Text).unwrap();
        a.splice_text(&note, 0, 0, "你好").unwrap();
        let mut b = a.fork().with_actor(ActorId::from(b"bbbb".as_slice()));
        // Concurrent writes of the same keys: the document picks one winner everywhere.
        a.put(ROOT, "name", "乙").unwrap();
        b.put(ROOT, "name", "丙").unwrap();
        a.put(&header, "owner", "rep-b").unwrap();
        b.put(&header, "owner", "rep-c").unwrap();
        b.put(ROOT, "deleted_later", true).unwrap();
        b.delete(ROOT, "count").unwrap();
        a.put(&tags, 1, "z").unwrap();
        b.put(&tags, 1, "w").unwrap();
        b.insert(&tags, 0, ScalarValue::Null).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        assert_same_answers(&a);
        assert_same_answers(&b);
    }
}
