//! The document root's envelope keys (`kind`, `schema_version`) written in the same pass as
//! the record's fields.
//!
//! autosurgeon builds a brand-new document in one bulk operation, which is several times
//! faster than writing keys one by one; writing `kind` separately first would make the
//! document non-empty and force the slow path. This adapter adds the envelope keys to the
//! root map as the record's own `Reconcile` opens it, so creating and updating both take a
//! single reconcile pass.

use autosurgeon::reconcile::{MapReconciler, NoKey};
use autosurgeon::{Reconcile, Reconciler};

use super::Kind;

/// A record with its envelope, ready to reconcile into a document root.
pub(crate) struct Enveloped<'a, T> {
    pub record: &'a T,
    pub kind: Kind,
    pub schema_version: u64,
}

impl<T: Reconcile> Reconcile for Enveloped<'_, T> {
    type Key<'k> = NoKey;

    fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
        self.record.reconcile(EnvelopeReconciler {
            inner: reconciler,
            kind: self.kind,
            schema_version: self.schema_version,
        })
    }
}

struct EnvelopeReconciler<R> {
    inner: R,
    kind: Kind,
    schema_version: u64,
}

impl<R: Reconciler> Reconciler for EnvelopeReconciler<R> {
    type Error = R::Error;
    type Map<'a>
        = R::Map<'a>
    where
        Self: 'a;
    type Seq<'a>
        = R::Seq<'a>
    where
        Self: 'a;
    type Text<'a>
        = R::Text<'a>
    where
        Self: 'a;
    type Counter<'a>
        = R::Counter<'a>
    where
        Self: 'a;

    fn none(&mut self) -> Result<(), Self::Error> {
        self.inner.none()
    }
    fn bytes<B: AsRef<[u8]>>(&mut self, value: B) -> Result<(), Self::Error> {
        self.inner.bytes(value)
    }
    fn timestamp(&mut self, value: i64) -> Result<(), Self::Error> {
        self.inner.timestamp(value)
    }
    fn boolean(&mut self, value: bool) -> Result<(), Self::Error> {
        self.inner.boolean(value)
    }
    fn str<S: AsRef<str>>(&mut self, value: S) -> Result<(), Self::Error> {
        self.inner.str(value)
    }
    fn u64(&mut self, value: u64) -> Result<(), Self::Error> {
        self.inner.u64(value)
    }
    fn i64(&mut self, value: i64) -> Result<(), Self::Error> {
        self.inner.i64(value)
    }
    fn f64(&mut self, value: f64) -> Result<(), Self::Error> {
        self.inner.f64(value)
    }
    fn map(&mut self) -> Result<Self::Map<'_>, Self::Error> {
        let mut map = self.inner.map()?;
        map.put("kind", self.kind.as_str())?;
        map.put("schema_version", self.schema_version)?;
        Ok(map)
    }
    fn seq(&mut self) -> Result<Self::Seq<'_>, Self::Error> {
        self.inner.seq()
    }
    fn text(&mut self) -> Result<Self::Text<'_>, Self::Error> {
        self.inner.text()
    }
    fn counter(&mut self) -> Result<Self::Counter<'_>, Self::Error> {
        self.inner.counter()
    }
    fn heads(&self) -> &[automerge::ChangeHash] {
        self.inner.heads()
    }
}
