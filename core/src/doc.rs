//! One record's Automerge document: creating, loading, hydrating, changing, exchanging changes.
//!
//! The phone's store and the server both go through [`RecordDoc`], so both read and write
//! documents the same way. Changes move between them as raw Automerge change bytes (or a
//! whole saved document), which [`RecordDoc::apply`] accepts alike; applying the same bytes
//! twice is harmless because changes are addressed by their hash.

use automerge::{
    ActorId, AutoCommit, ChangeHash, ReadDoc, ScalarValue, Value, transaction::CommitOptions,
};

use crate::record::{AnyRecord, Kind, Record};
use reader::OnePass;

pub mod flat;
mod reader;
use crate::{RecordId, Timestamp};

/// The longest document accepted from outside, in bytes. A record is a few kilobytes; a
/// report with long text and history tens of kilobytes. Anything near this limit is an error
/// or an attack.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// What a device may offer of a record's changes (see [`RecordDoc::own_changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnChanges {
    /// The changes offered, concatenated, in causal order.
    pub bytes: Vec<u8>,
    /// How many changes are offered.
    pub offered: usize,
    /// How many changes after the given heads wait for their authors.
    pub waiting: usize,
    /// The heads of the document made of the given heads and the offered changes: what the
    /// other side holds once it has merged them.
    pub heads: Vec<ChangeHash>,
}

/// An Automerge document holding one record.
pub struct RecordDoc {
    doc: AutoCommit,
}

/// What can go wrong with a document's bytes or shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    /// The bytes are not an Automerge document or change set.
    #[error("corrupt document: {0}")]
    Corrupt(String),
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The document's root has no `kind`.
    #[error("document has no kind")]
    MissingKind,
    /// The document's kind is not one this version knows.
    #[error("unknown record kind `{0}`")]
    UnknownKind(String),
    /// The document holds another kind than the caller expected.
    #[error("document is a {found}, not a {expected}")]
    WrongKind {
        /// What the caller expected.
        expected: Kind,
        /// What the document holds.
        found: String,
    },
    /// The document's fields do not hydrate into its kind's struct.
    #[error("document does not match its kind: {0}")]
    Shape(String),
    /// The changes depend on changes the document does not have.
    #[error("changes depend on {0} changes this document does not have")]
    MissingDependencies(usize),
}

fn corrupt(e: impl std::fmt::Display) -> DocError {
    DocError::Corrupt(e.to_string())
}

/// Puts `value` (a struct) under `key` of the document's root as a new map, built apart and
/// inserted in one operation.
///
/// Written key by key, each key of a new object costs a splice of the document's operation
/// columns (a server's verdict in a visit: about a dozen keys); built as an empty document's
/// root, it is encoded once and goes into the record's document in one batch. The result
/// reads exactly as a key-by-key write's would; a concurrent edit of the object it replaces
/// no longer shows, as with any replaced value — so it is for objects only the server writes
/// (a visit's verdict), never for what devices edit too (a header, a note: those are written
/// in place).
fn put_new_object(
    doc: &mut AutoCommit,
    key: &str,
    value: &impl autosurgeon::Reconcile,
) -> Result<(), DocError> {
    use automerge::transaction::Transactable;
    // An empty document takes a whole map as its root in one operation.
    let mut apart = AutoCommit::new();
    autosurgeon::reconcile(&mut apart, value).map_err(|e| DocError::Shape(e.to_string()))?;
    let built = apart.hydrate(automerge::ROOT, None).map_err(corrupt)?;
    doc.batch_create_object(automerge::ROOT, key, &built, false)
        .map_err(corrupt)?;
    Ok(())
}

/// The kind code in the root of the document `doc` reads, as written.
fn kind_code_in(doc: &impl autosurgeon::ReadDoc) -> Result<String, DocError> {
    match doc.get(&automerge::ROOT, "kind").map_err(corrupt)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(k) => Ok(k.to_string()),
            _ => Err(DocError::MissingKind),
        },
        _ => Err(DocError::MissingKind),
    }
}

/// The kind of the record `doc` holds, when this version knows it.
fn kind_in(doc: &impl autosurgeon::ReadDoc) -> Result<Kind, DocError> {
    let code = kind_code_in(doc)?;
    code.parse().map_err(|_| DocError::UnknownKind(code))
}

/// A change hash as raw bytes, for storage and the wire.
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

/// Reads hashes written by [`encode_heads`].
pub fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>, DocError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(DocError::Corrupt(format!(
            "heads of {} bytes are not whole hashes",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(32)
        .map(|c| ChangeHash::try_from(c).map_err(corrupt))
        .collect()
}

impl RecordDoc {
    /// A new document for `record`, written by `actor` at `at`.
    pub fn create(record: &AnyRecord, actor: &ActorId, at: Timestamp) -> Result<Self, DocError> {
        let mut doc = RecordDoc {
            doc: AutoCommit::new().with_actor(actor.clone()),
        };
        doc.write(record, at)?;
        Ok(doc)
    }

    /// An empty document, to apply a record's first changes received from elsewhere.
    pub fn empty(actor: &ActorId) -> Self {
        RecordDoc {
            doc: AutoCommit::new().with_actor(actor.clone()),
        }
    }

    /// Loads saved bytes, as written by [`RecordDoc::save`].
    pub fn load(bytes: &[u8], actor: &ActorId) -> Result<Self, DocError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocError::TooLarge(bytes.len()));
        }
        let doc = AutoCommit::load(bytes).map_err(corrupt)?;
        Ok(RecordDoc {
            doc: doc.with_actor(actor.clone()),
        })
    }

    /// Loads bytes received from elsewhere as a whole document: like [`RecordDoc::load`],
    /// and also refuses bytes whose changes depend on changes they do not hold. Bytes that
    /// pass load again by [`RecordDoc::load`] into the same document, so they can be stored
    /// as they came.
    pub fn load_complete(bytes: &[u8], actor: &ActorId) -> Result<Self, DocError> {
        let doc = Self::load(bytes, actor)?;
        let missing = doc.doc.get_missing_deps(&[]);
        if !missing.is_empty() {
            return Err(DocError::MissingDependencies(missing.len()));
        }
        Ok(doc)
    }

    /// The kind code in the document's root, as written.
    pub fn kind_code(&self) -> Result<String, DocError> {
        kind_code_in(&self.doc)
    }

    /// The kind, when this version knows it.
    pub fn kind(&self) -> Result<Kind, DocError> {
        kind_in(&self.doc)
    }

    /// The schema version the document was last written with (0 when absent).
    pub fn schema_version(&self) -> u64 {
        match self.doc.get(automerge::ROOT, "schema_version") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Uint(v) => *v,
                ScalarValue::Int(v) => u64::try_from(*v).unwrap_or(0),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// The record inside and its fields flattened by path (see [`flat`]), read together:
    /// each object of the document is read once for both.
    pub fn hydrate_with_fields(&self) -> Result<(AnyRecord, flat::Fields), DocError> {
        let view = OnePass::new(&self.doc);
        // Through the view: the root is read once, for the kind and the hydration alike
        // (a lone `get` on the document seeks from the start of the root).
        let kind = kind_in(&view)?;
        let record =
            AnyRecord::hydrate_as(kind, &view).map_err(|e| DocError::Shape(e.to_string()))?;
        Ok((record, flat::flatten(&flat::Source::Now(&view))))
    }

    /// The document's fields flattened by path, as it holds them now (none when empty).
    pub fn fields(&self) -> flat::Fields {
        flat::flatten(&flat::Source::Now(&OnePass::new(&self.doc)))
    }

    /// The document's fields flattened by path, as it held them at `heads` (none at no
    /// heads: before the record existed).
    pub fn fields_at(&self, heads: &[ChangeHash]) -> flat::Fields {
        if heads.is_empty() {
            return flat::Fields::new();
        }
        flat::flatten(&flat::Source::At(&self.doc, heads))
    }

    /// The record inside, whatever its kind.
    pub fn hydrate(&self) -> Result<AnyRecord, DocError> {
        let view = OnePass::new(&self.doc);
        let kind = kind_in(&view)?;
        AnyRecord::hydrate_as(kind, &view).map_err(|e| DocError::Shape(e.to_string()))
    }

    /// The record inside, which must be an `R`.
    pub fn hydrate_as<R: Record>(&self) -> Result<R, DocError> {
        let view = OnePass::new(&self.doc);
        let code = kind_code_in(&view)?;
        if code != R::KIND.as_str() {
            return Err(DocError::WrongKind {
                expected: R::KIND,
                found: code,
            });
        }
        autosurgeon::hydrate(&view).map_err(|e| DocError::Shape(e.to_string()))
    }

    /// Writes `record` over the document's current state and commits one change.
    ///
    /// Returns whether anything changed. Keys this version does not know are left alone, and
    /// `schema_version` is never lowered, so a newer version's data survives.
    pub fn write(&mut self, record: &AnyRecord, at: Timestamp) -> Result<bool, DocError> {
        let kind = record.kind();
        let existing = self.schema_version();
        if let Ok(code) = self.kind_code()
            && code != kind.as_str()
        {
            return Err(DocError::WrongKind {
                expected: kind,
                found: code,
            });
        }
        record
            .reconcile_into(&mut self.doc, record.schema_version().max(existing))
            .map_err(|e| DocError::Shape(e.to_string()))?;
        let committed = self
            .doc
            .commit_with(CommitOptions::default().with_time(at.millis() / 1000));
        Ok(committed.is_some())
    }

    /// Writes `amended` over a document that holds exactly `current`, like [`RecordDoc::write`]
    /// with the same result, and commits one change.
    ///
    /// The server's usual amendments — the record's header (the owner's unit it belongs to)
    /// and a visit's judgement (the server's verdict, when it received the visit), every other
    /// field as the device wrote it — write those keys alone instead of comparing every field
    /// of the record with the document, and a changed verdict as one new object inserted at
    /// once (see [`put_new_object`]). Any other amendment is a full [`RecordDoc::write`], as
    /// is one that would raise the document's schema version. The caller must pass the record
    /// the document holds now (hydrated from it), or the shortcut would leave the other fields
    /// as they are in the document.
    pub fn amend(
        &mut self,
        current: &AnyRecord,
        amended: &AnyRecord,
        at: Timestamp,
    ) -> Result<bool, DocError> {
        if current.kind() != amended.kind() || self.schema_version() < amended.schema_version() {
            return self.write(amended, at);
        }
        // The amendment with the header and the judgement put back as they are: the current
        // record itself exactly when nothing else changed.
        let mut rest = amended.clone();
        *rest.header_mut() = current.header().clone();
        let judgement = match (current, &mut rest) {
            (AnyRecord::Visit(now), AnyRecord::Visit(new)) => {
                let verdict = std::mem::replace(&mut new.verdict, now.verdict.clone());
                let received_at = std::mem::replace(&mut new.received_at, now.received_at);
                Some((now, verdict, received_at))
            }
            _ => None,
        };
        if rest != *current {
            return self.write(amended, at);
        }
        let shape = |e: autosurgeon::ReconcileError| DocError::Shape(e.to_string());
        if amended.header() != current.header() {
            autosurgeon::reconcile_prop(&mut self.doc, automerge::ROOT, "header", amended.header())
                .map_err(shape)?;
        }
        if let Some((now, verdict, received_at)) = judgement {
            if verdict != now.verdict {
                match &verdict {
                    Some(verdict) => put_new_object(&mut self.doc, "verdict", verdict)?,
                    None => autosurgeon::reconcile_prop(
                        &mut self.doc,
                        automerge::ROOT,
                        "verdict",
                        &verdict,
                    )
                    .map_err(shape)?,
                }
            }
            if received_at != now.received_at {
                autosurgeon::reconcile_prop(
                    &mut self.doc,
                    automerge::ROOT,
                    "received_at",
                    received_at,
                )
                .map_err(shape)?;
            }
        }
        let committed = self
            .doc
            .commit_with(CommitOptions::default().with_time(at.millis() / 1000));
        Ok(committed.is_some())
    }

    /// Applies changes or a saved document received from elsewhere.
    ///
    /// Fails (and leaves the document as it was) when the bytes are corrupt or depend on
    /// changes this document lacks.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocError::TooLarge(bytes.len()));
        }
        let mut trial = self.doc.fork();
        trial.load_incremental(bytes).map_err(corrupt)?;
        let missing = trial.get_missing_deps(&[]);
        if !missing.is_empty() {
            return Err(DocError::MissingDependencies(missing.len()));
        }
        let actor = self.doc.get_actor().clone();
        self.doc = trial.with_actor(actor);
        Ok(())
    }

    /// Applies changes like [`RecordDoc::apply`], without first copying the document: on an
    /// error the document is left partly changed. For callers that throw it away then (the
    /// server's merge of a push, which refuses the push on any error; a device's merge of a
    /// pulled record, whose transaction fails on any error).
    pub fn apply_or_discard(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocError::TooLarge(bytes.len()));
        }
        self.doc.load_incremental(bytes).map_err(corrupt)?;
        let missing = self.doc.get_missing_deps(&[]);
        if !missing.is_empty() {
            return Err(DocError::MissingDependencies(missing.len()));
        }
        Ok(())
    }

    /// The document's current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Whether `heads` (in any order, duplicates allowed) are exactly the document's heads.
    pub fn same_heads(&mut self, heads: &[ChangeHash]) -> bool {
        let mut theirs = heads.to_vec();
        theirs.sort_unstable();
        theirs.dedup();
        theirs == self.doc.get_heads()
    }

    /// Whether the document contains the change `hash`.
    ///
    /// Asked of the change graph (what `get_missing_deps` walks), not by rebuilding the change
    /// from the operations as `get_change_by_hash` does: a document never keeps changes
    /// queued for missing dependencies (loading and applying refuse them), so a hash the graph
    /// does not miss is a change the document holds (a queued change's hash is missed through
    /// its own missing dependencies).
    pub fn has_change(&mut self, hash: &ChangeHash) -> bool {
        self.doc
            .get_missing_deps(std::slice::from_ref(hash))
            .is_empty()
    }

    /// The hashes of `heads` this document holds.
    fn known(&mut self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        heads
            .iter()
            .copied()
            .filter(|h| self.has_change(h))
            .collect()
    }

    /// The changes made after `heads`, as concatenated raw change bytes. Hashes this
    /// document does not know are ignored.
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        let known = self.known(heads);
        self.doc
            .get_changes(&known)
            .into_iter()
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// The changes made after `heads` that a device may offer as its own: those by one of
    /// `own` whose dependencies are all at or before `heads` or among the changes offered
    /// (in causal order, as concatenated raw change bytes). The others wait: a change by
    /// another actor is its author's to send (the server refuses it from anyone else), and so
    /// is every own change built on one the other side lacks. After a server was restored from
    /// a backup, a device may hold both kinds; otherwise every change after the acknowledged
    /// heads is its own and this is [`RecordDoc::changes_since`].
    pub fn own_changes_since(&mut self, heads: &[ChangeHash], own: &[ActorId]) -> OwnChanges {
        use std::collections::HashSet;
        let known = self.known(heads);
        let changes = self.doc.get_changes(&known);
        let after: HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
        let mut offered: HashSet<ChangeHash> = HashSet::new();
        let mut bytes = Vec::new();
        let mut waiting = 0;
        // Every dependency named by an offered change: what is left are the tips.
        let mut covered: HashSet<ChangeHash> = HashSet::new();
        for change in &changes {
            let ready = own.contains(change.actor_id())
                && change
                    .deps()
                    .iter()
                    .all(|d| !after.contains(d) || offered.contains(d));
            if ready {
                offered.insert(change.hash());
                covered.extend(change.deps().iter().copied());
                bytes.extend_from_slice(change.raw_bytes());
            } else {
                waiting += 1;
            }
        }
        let mut tips: Vec<ChangeHash> = known
            .into_iter()
            .chain(offered.iter().copied())
            .filter(|h| !covered.contains(h))
            .collect();
        tips.sort_unstable();
        tips.dedup();
        OwnChanges {
            bytes,
            offered: offered.len(),
            waiting,
            heads: tips,
        }
    }

    /// How many changes were made after `heads` (hashes the document lacks are ignored).
    pub fn count_changes_since(&mut self, heads: &[ChangeHash]) -> usize {
        // The usual answer (the other side has exactly this document) costs no change
        // rebuilding: nothing comes after a document's own heads.
        if self.same_heads(heads) {
            return 0;
        }
        let known = self.known(heads);
        self.doc.get_changes(&known).len()
    }

    /// The actors of the changes made after `heads`.
    pub fn actors_since(&mut self, heads: &[ChangeHash]) -> Vec<ActorId> {
        let known = self.known(heads);
        let mut actors: Vec<ActorId> = self
            .doc
            .get_changes(&known)
            .iter()
            .map(|c| c.actor_id().clone())
            .collect();
        actors.sort();
        actors.dedup();
        actors
    }

    /// The changes that depend on none: where the document's history starts (one, unless
    /// the same document was begun on two devices at once).
    pub fn roots(&mut self) -> Vec<ChangeHash> {
        self.doc
            .get_changes(&[])
            .iter()
            .filter(|c| c.deps().is_empty())
            .map(|c| c.hash())
            .collect()
    }

    /// The keys among `keys` that the changes since `heads` gave a value at the document's
    /// root (anything but `null` or a deletion), even one taken back by a later change: the
    /// value would stay in the history every reader of the document gets.
    pub fn root_values_since(&mut self, heads: &[ChangeHash], keys: &[&str]) -> Vec<String> {
        use automerge::legacy::{Key, ObjectId, OpType};
        let known = self.known(heads);
        let mut found: Vec<String> = Vec::new();
        for change in self.doc.get_changes(&known) {
            for op in change.decode().operations {
                let (ObjectId::Root, Key::Map(key)) = (&op.obj, &op.key) else {
                    continue;
                };
                let empty = matches!(
                    op.action,
                    OpType::Delete | OpType::Put(automerge::ScalarValue::Null)
                );
                if !empty && keys.contains(&key.as_str()) && !found.iter().any(|k| k == key) {
                    found.push(key.to_string());
                }
            }
        }
        found
    }

    /// The whole document, as stored and sent.
    ///
    /// Column compression is off: a record's document is well under a kilobyte, where
    /// Automerge's deflate saves about a tenth of the bytes at three times the CPU (it sets up
    /// a fresh compressor per column). Stores and sync bodies are compressed as a whole instead.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }

    /// The record ID stored in the header, taken from `hydrated` (this document's record,
    /// when it hydrated) instead of looking it up again: the lookup seeks two fields.
    pub fn record_id_given(&self, hydrated: Option<&AnyRecord>) -> Option<RecordId> {
        match hydrated {
            Some(record) => Some(record.header().id),
            None => self.record_id(),
        }
    }

    /// The record ID stored in the header, if the document has one.
    pub fn record_id(&self) -> Option<RecordId> {
        let header = match self.doc.get(automerge::ROOT, "header") {
            Ok(Some((Value::Object(_), id))) => id,
            _ => return None,
        };
        match self.doc.get(&header, "id") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Str(s) => s.parse().ok(),
                _ => None,
            },
            _ => None,
        }
    }

    /// The underlying Automerge document, for reads the wrapper does not cover.
    pub fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    /// Gives up uncommitted state and returns a copy that writes as `actor`.
    pub fn fork_as(&mut self, actor: &ActorId) -> RecordDoc {
        RecordDoc {
            doc: self.doc.fork().with_actor(actor.clone()),
        }
    }
}

impl std::fmt::Debug for RecordDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordDoc")
            .field("kind", &self.kind_code().ok())
            .field("id", &self.record_id())
            .finish()
    }
}

#[cfg(test)]
mod own_changes_tests {
    use super::*;
    use crate::record::Customer;
    use crate::testing::customer;

    /// A device holds changes the other side lacks by itself and by another actor: it offers
    /// its own that build only on what the other side holds, and the heads the other side
    /// will have; its own change built on the other actor's waits.
    #[test]
    fn only_own_changes_on_what_the_other_side_holds_are_offered() {
        let own = ActorId::random();
        let other = ActorId::random();
        let base = customer(RecordId::new(), "上海申通电子有限公司");
        let at = Timestamp::from_millis(1_773_018_000_000);
        let mut doc = RecordDoc::create(&AnyRecord::Customer(base.clone()), &own, at).unwrap();
        let held = doc.heads();

        // Another actor's edit and an own concurrent edit, then an own edit on both.
        let mut theirs = doc.fork_as(&other);
        let mut edited: Customer = base.clone();
        edited.industry = Some("物流".into());
        theirs.write(&AnyRecord::Customer(edited), at).unwrap();
        let mut mine = doc.fork_as(&own);
        let mut edited: Customer = base.clone();
        edited.tier = Some("B".into());
        mine.write(&AnyRecord::Customer(edited), at).unwrap();
        let concurrent = mine.heads();
        mine.apply(&theirs.changes_since(&held)).unwrap();
        let mut last: Customer = mine.hydrate_as().unwrap();
        last.address = Some("上海市浦东新区".into());
        mine.write(&AnyRecord::Customer(last), at).unwrap();

        let offer = mine.own_changes_since(&held, std::slice::from_ref(&own));
        assert_eq!((offer.offered, offer.waiting), (1, 2), "{offer:?}");
        assert_eq!(offer.heads, concurrent);
        let mut other_side = RecordDoc::load(&doc.save(), &other).unwrap();
        other_side.apply(&offer.bytes).unwrap();
        assert!(other_side.same_heads(&offer.heads));

        // With every actor its own, everything goes, as `changes_since` sends it.
        let all = mine.own_changes_since(&held, &[own, other]);
        assert_eq!((all.offered, all.waiting), (3, 0));
        assert_eq!(all.bytes, mine.changes_since(&held));
        assert!(mine.same_heads(&all.heads));
    }
}

#[cfg(test)]
mod amend_tests {
    use super::*;
    use crate::fieldwork::{CheckFlag, CheckInVerdict, FenceStatus, FlagKind, Judge};
    use crate::record::Visit;
    use crate::testing::visit;

    fn server_verdict(at: Timestamp) -> CheckInVerdict {
        CheckInVerdict {
            fence: FenceStatus::Inside,
            distance_m: Some(12.0),
            accuracy_m: 8.0,
            radius_m: 200.0,
            flags: vec![CheckFlag {
                kind: FlagKind::PoorAccuracy,
                observed: Some(180.0),
                limit: Some(100.0),
            }],
            judged_by: Judge::Server,
            judged_at: at,
        }
    }

    /// The document as a rep's phone pushed it, and the visit it holds.
    fn pushed() -> (RecordDoc, Visit, Timestamp) {
        pushed_with(None)
    }

    /// The same, the phone's verdict in it.
    fn pushed_with(verdict: Option<CheckInVerdict>) -> (RecordDoc, Visit, Timestamp) {
        let at = Timestamp::from_millis(1_773_018_000_000);
        let pushed = Visit {
            verdict,
            ..visit(RecordId::new(), RecordId::new())
        };
        let doc =
            RecordDoc::create(&AnyRecord::Visit(pushed.clone()), &ActorId::random(), at).unwrap();
        (doc, pushed, at)
    }

    /// The server's amendments written key by key give the same record, the same flattened
    /// fields and one change, as the full write does: a visit's verdict over none (a visit
    /// created by other means than the phone's check-in) with the owner's unit put in its
    /// header, the server's verdict over the phone's own, and a customer's unit.
    #[test]
    fn the_servers_amendments_write_like_a_full_write() {
        let at = Timestamp::from_millis(1_773_018_000_000);
        let judged = |visit: &Visit| Visit {
            verdict: Some(server_verdict(at)),
            received_at: Some(at),
            ..visit.clone()
        };
        let (doc, current, _) = pushed();
        let mut amended = judged(&current);
        amended.header.org_unit_id = Some(RecordId::new());
        amends_like_a_full_write(doc, current.into(), amended.into(), at);

        let phone = CheckInVerdict {
            fence: FenceStatus::Outside,
            distance_m: Some(900.0),
            flags: Vec::new(),
            judged_by: Judge::Device,
            ..server_verdict(at)
        };
        let (doc, current, _) = pushed_with(Some(phone));
        let amended = judged(&current);
        amends_like_a_full_write(doc, current.into(), amended.into(), at);

        let customer = crate::testing::customer(RecordId::new(), "上海申通电子有限公司");
        let doc = RecordDoc::create(&customer.clone().into(), &ActorId::random(), at).unwrap();
        let mut amended = customer.clone();
        amended.header.org_unit_id = Some(RecordId::new());
        amends_like_a_full_write(doc, customer.into(), amended.into(), at);
    }

    fn amends_like_a_full_write(
        mut doc: RecordDoc,
        current: AnyRecord,
        amended: AnyRecord,
        at: Timestamp,
    ) {
        let base = doc.heads();
        let server = ActorId::random();
        let mut targeted = doc.fork_as(&server);
        let mut full = doc.fork_as(&server);
        assert!(targeted.amend(&current, &amended, at).unwrap());
        assert!(full.write(&amended, at).unwrap());
        assert_eq!(targeted.hydrate().unwrap(), amended);
        assert_eq!(targeted.fields(), full.fields());
        assert_eq!(targeted.count_changes_since(&base), 1);
    }

    /// An amendment that changes more than the judgement is written in full: nothing the
    /// server changed is left out of the document.
    #[test]
    fn an_amendment_of_other_fields_is_written_in_full() {
        let (mut doc, current, at) = pushed();
        let mut amended = Visit {
            verdict: Some(server_verdict(at)),
            received_at: Some(at),
            ..current.clone()
        };
        amended.plan_id = Some(RecordId::new());
        amended.check_in.clock_offset_ms = Some(-40);
        let mut written = doc.fork_as(&ActorId::random());
        written
            .amend(&current.into(), &amended.clone().into(), at)
            .unwrap();
        assert_eq!(written.hydrate_as::<Visit>().unwrap(), amended);
    }
}
