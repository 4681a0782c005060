//! The server's own tables as a write sees them: the change sequence (who may see each
//! record, in which order records last changed), the devices' holdings and the records chain
//! of the audit log.
//!
//! The push and the server's own writes ([`super::push`], [`super::admin`]) are written once,
//! over core's store transaction for the records and over a [`Ledger`] for these tables: the
//! SQLite backend keeps them in the tenant's file and writes them at once, the PostgreSQL
//! backend collects them and writes them to PostgreSQL in the same transaction as the
//! documents.

use automerge::ChangeHash;
use fieldsales_core::record::{AnyRecord, Header, Kind};
use fieldsales_core::store::Tx;
use fieldsales_core::{Error, RecordId};

use crate::audit::AuditDraft;
use crate::model::DeviceId;

/// The change sequence and the holdings, inside a write transaction. `tx` is the core store
/// transaction the write runs in (where the SQLite backend keeps these tables too).
pub(crate) trait Ledger {
    /// `record` was stored at `heads`: it moves to the end of the change sequence, with who
    /// may see it now. `left_holder`: a device holds it that may not see it (a device pushed a
    /// record it cannot see), so the move must reach that device's next pull.
    fn stored(
        &mut self,
        tx: &Tx<'_>,
        record: &AnyRecord,
        heads: &[ChangeHash],
        left_holder: bool,
    ) -> Result<(), Error>;

    /// The device holds `id` at `heads` (encoded; it pushed them), or at heads the server does
    /// not track (`None`: it adopted the server's version of a refused record).
    fn held(
        &mut self,
        tx: &Tx<'_>,
        device: DeviceId,
        id: RecordId,
        heads: Option<&[u8]>,
    ) -> Result<(), Error>;

    /// The record's kind (when known) and who may see it, as the sequence last logged it.
    fn logged(
        &mut self,
        tx: &Tx<'_>,
        id: RecordId,
    ) -> Result<Option<(Option<Kind>, Header)>, Error>;

    /// Moves `id`, unchanged, to the end of the sequence as having left someone's view: a
    /// device holds it that may not see it.
    fn relog_moved(&mut self, tx: &Tx<'_>, id: RecordId) -> Result<(), Error>;

    /// Moves every record to the end of the sequence, in its order, so that every device's
    /// next pull judges them all again (the org tree or the roles changed; no record did, so
    /// nothing else would bring them back into a pull).
    fn relog_all(&mut self, tx: &Tx<'_>) -> Result<(), Error>;

    /// Appends entries, in order, to the tenant's records chain of the audit log, committed
    /// with the write (and undone with it). A push appends all of its entries at once: the
    /// chain's head is read and moved once per push, not once per record.
    fn audit(&mut self, tx: &Tx<'_>, entries: Vec<AuditDraft>) -> Result<(), Error>;
}
