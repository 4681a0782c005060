//! A page of a pull, judged row by row the same way whatever stores the change sequence.
//!
//! A backend reads the sequence after the device's cursor (narrowed by its indexes to rows
//! the user might see or the device might hold) and what the device holds of each row; this
//! module decides what each row means for the device — send the record whole, tell the device
//! to delete it, or nothing — by core's one permission check (the viewer's read grant on the
//! record's kind), and where the page stops (records, bytes, rows examined).

use fieldsales_core::RecordId;
use fieldsales_core::Timestamp;
use fieldsales_core::authority::permission::{Grants, Vantage};
use fieldsales_core::process::SalesProcess;
use fieldsales_core::process::permissions::Operation;
use fieldsales_core::record::{DataScope, Header, IdSet, Kind};
use fieldsales_core::scope::{OrgTree, Visibility};
use fieldsales_core::sync::protocol::PulledRecord;

use super::{Page, Pull};

/// A record's row in the change sequence.
#[derive(Debug, Clone)]
pub(crate) struct LogRow {
    pub id: RecordId,
    pub seq: u64,
    /// Its heads, encoded.
    pub heads: Vec<u8>,
    pub owner: Option<RecordId>,
    pub unit: Option<RecordId>,
    pub created_by: Option<RecordId>,
    /// Shared with: concatenated 16-byte ids.
    pub shared: Option<Vec<u8>>,
}

impl LogRow {
    /// What the visibility rule reads of the record.
    pub fn header(&self) -> Header {
        let mut shared_with = IdSet::new();
        for chunk in self.shared.as_deref().unwrap_or_default().chunks_exact(16) {
            if let Ok(uuid) = uuid::Uuid::from_slice(chunk) {
                shared_with.insert(RecordId::from_uuid(uuid));
            }
        }
        Header {
            id: self.id,
            owner_id: self.owner,
            org_unit_id: self.unit,
            shared_with,
            created_at: Timestamp::default(),
            created_by: self.created_by,
            deleted: None,
        }
    }
}

/// Who may see a record, as the sequence keeps it: owner, unit, creator, shared-with (the
/// ids concatenated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reach {
    pub owner: Option<RecordId>,
    pub unit: Option<RecordId>,
    pub created_by: Option<RecordId>,
    pub shared: Vec<u8>,
}

impl Reach {
    /// Who may see `header`'s record.
    pub fn of(header: &Header) -> Reach {
        Reach {
            owner: header.owner_id,
            unit: header.org_unit_id,
            created_by: header.created_by,
            shared: header
                .shared_with
                .iter()
                .flat_map(|id| id.as_uuid().as_bytes().to_vec())
                .collect(),
        }
    }
}

/// What a device holds of a record, or was told to delete.
#[derive(Debug, Clone)]
pub(crate) struct HeldRow {
    pub held: bool,
    pub heads: Option<Vec<u8>>,
    pub heads_cursor: u64,
    pub removed_cursor: u64,
}

/// What a row of the sequence means for the pulling device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowVerdict {
    /// The viewer may read it and the device does not hold these heads: send it whole.
    Send,
    /// The device holds it but may no longer see it: it was added to the page's deletions.
    Removed,
    /// Nothing for this device.
    Skip,
}

/// The page being filled.
pub(crate) struct PageBuilder<'a> {
    pull: &'a Pull,
    grants: Grants,
    at: Vantage<'a>,
    page: Page,
    scanned: usize,
    bytes: usize,
}

impl<'a> PageBuilder<'a> {
    /// A page of `pull` judged against `tree` and the process configuration's permissions.
    pub fn new(pull: &'a Pull, tree: &OrgTree, process: &SalesProcess) -> Self {
        PageBuilder {
            grants: Grants::of(&pull.viewer, process),
            at: Vantage::new(tree, &pull.viewer),
            page: Page {
                cursor: pull.cursor,
                ..Page::default()
            },
            pull,
            scanned: 0,
            bytes: 0,
        }
    }

    /// Which rows after the pull's cursor the scan must read, the last renumbering of the
    /// sequence being at `relogged_at`.
    pub fn scan(&self, relogged_at: i64) -> Scan {
        if (self.pull.cursor as i64) < relogged_at {
            return Scan::Everything;
        }
        let (company, others) = self.grants.read_reach();
        if company.len() == Kind::ALL.len() {
            return Scan::Everything;
        }
        match self.at.units(&others.unwrap_or(DataScope::Own)) {
            Visibility::All => Scan::Everything,
            Visibility::Units(units) => Scan::Narrowed {
                units: units.into_iter().collect(),
                kinds: company,
            },
        }
    }

    /// The cursor so far.
    pub fn cursor(&self) -> u64 {
        self.page.cursor
    }

    /// Whether the page is full (records, bytes or rows examined); then more waits beyond it.
    pub fn full(&mut self) -> bool {
        let full = self.page.records.len() >= self.pull.limit
            || (self.bytes >= self.pull.max_bytes && !self.page.records.is_empty())
            || self.scanned >= self.pull.max_scan;
        if full {
            self.page.has_more = true;
        }
        full
    }

    /// Judges the next row of the sequence (`kind`: the record's kind, when known) against
    /// what the device holds of it, and moves the cursor past it. A row the device must
    /// delete is added to the page here; one to send is added by [`PageBuilder::send`].
    pub fn judge(
        &mut self,
        row: &LogRow,
        kind: Option<Kind>,
        held: Option<&HeldRow>,
    ) -> RowVerdict {
        self.scanned += 1;
        self.page.cursor = row.seq;
        let readable = kind.is_some_and(|kind| {
            self.grants
                .covers(&self.at, kind, &Operation::Read, &row.header())
        });
        if readable {
            let current = held.is_some_and(|h| {
                h.held
                    && h.heads.as_deref() == Some(row.heads.as_slice())
                    && h.heads_cursor <= self.pull.cursor
            });
            if current {
                RowVerdict::Skip
            } else {
                RowVerdict::Send
            }
        } else if held.is_some_and(|h| h.held || h.removed_cursor > self.pull.cursor) {
            self.page.removed.push(row.id);
            RowVerdict::Removed
        } else {
            RowVerdict::Skip
        }
    }

    /// Adds a record to send, its document `size` bytes long.
    pub fn send(&mut self, record: PulledRecord, size: usize) {
        self.bytes += size;
        self.page.records.push(record);
    }

    /// The page. `end`: the last number of the sequence, when the scan reached the end of it
    /// (rows the scan's filter skipped are behind the cursor too: nothing for this device).
    pub fn finish(mut self, end: Option<u64>) -> Page {
        if let Some(end) = end {
            self.page.cursor = self.page.cursor.max(end);
        }
        self.page
    }

    /// The records being sent, to fill their documents in after the scan.
    pub fn records_mut(&mut self) -> &mut [PulledRecord] {
        &mut self.page.records
    }
}

/// Which rows of the sequence after a cursor a pull reads: a filter each backend turns into
/// ranges of its indexes. Reading a row the user may not see costs only time (every row is
/// judged); missing one the user may see would lose it, so a narrowed scan always covers
/// every row a grant could reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Every row: for a user who reads everything, or from a cursor older than the last
    /// renumbering (whose moves are not recorded per row).
    Everything,
    /// The user's own rows, the unowned, the shared, those that moved after the cursor, those
    /// of each of `units`, and every row of each of `kinds` (read company-wide) — with the
    /// rows logged before the sequence kept kinds.
    Narrowed {
        units: Vec<RecordId>,
        kinds: Vec<Kind>,
    },
}

#[cfg(test)]
mod tests {
    use fieldsales_core::Zone;
    use fieldsales_core::me::Me;
    use fieldsales_core::record::OrgLevel;

    use super::*;
    use crate::model::DeviceId;

    /// A company with two teams; `roles` signed in on the first, at `cursor`.
    fn scan_of(roles: &[&str], scope: DataScope, cursor: u64, relogged_at: i64) -> Scan {
        let (company, team, other) = (RecordId::new(), RecordId::new(), RecordId::new());
        let mut tree = OrgTree::default();
        tree.insert(company, None, OrgLevel::Hq);
        tree.insert(team, Some(company), OrgLevel::Team);
        tree.insert(other, Some(company), OrgLevel::Team);
        let pull = Pull {
            device: DeviceId::new(),
            viewer: Me {
                hidden: Default::default(),
                user_id: RecordId::new(),
                unit_id: team,
                roles: roles.iter().map(|r| r.to_string()).collect(),
                scope,
                zone: Zone::default(),
            },
            cursor,
            limit: 100,
            max_bytes: 1 << 20,
            max_scan: 1000,
            epoch: None,
        };
        let process = SalesProcess::standard();
        PageBuilder::new(&pull, &tree, &process).scan(relogged_at)
    }

    #[test]
    fn a_cursor_older_than_the_last_renumbering_scans_everything() {
        assert_eq!(
            scan_of(&["sales_rep"], DataScope::Own, 41, 42),
            Scan::Everything
        );
        assert_ne!(
            scan_of(&["sales_rep"], DataScope::Own, 42, 42),
            Scan::Everything
        );
    }

    /// Every role reads the catalogue and the org tree company-wide: a rep's pull reads
    /// those kinds' rows wherever they are, but for everything else only the rep's own rows
    /// (not the whole company's, which made each rep's pull read every colleague's change).
    #[test]
    fn a_rep_reads_the_company_wide_kinds_and_otherwise_only_their_own_rows() {
        let Scan::Narrowed { units, kinds } = scan_of(&["sales_rep"], DataScope::Own, 0, 0) else {
            panic!("a rep's pull must not read the whole sequence");
        };
        assert!(units.is_empty(), "{units:?}");
        for kind in [Kind::Product, Kind::OrgUnit, Kind::UserProfile, Kind::Role] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        for kind in [Kind::Customer, Kind::Visit, Kind::Order] {
            assert!(!kinds.contains(&kind), "{kind} read company-wide by a rep");
        }
    }

    #[test]
    fn a_manager_reads_their_team_and_finance_every_order_and_an_admin_everything() {
        let Scan::Narrowed { units, .. } = scan_of(&["sales_manager"], DataScope::Subtree, 0, 0)
        else {
            panic!("a manager's pull must not read the whole sequence");
        };
        assert_eq!(units.len(), 1, "the manager's own team only");
        let Scan::Narrowed { kinds, .. } = scan_of(&["finance"], DataScope::Own, 0, 0) else {
            panic!("finance's pull must not read the whole sequence");
        };
        assert!(kinds.contains(&Kind::Order) && kinds.contains(&Kind::Customer));
        assert!(!kinds.contains(&Kind::Visit));
        assert_eq!(scan_of(&["admin"], DataScope::All, 0, 0), Scan::Everything);
    }
}
