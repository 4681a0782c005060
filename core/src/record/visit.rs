//! Visits (拜访) and their GPS check-in / check-out.
//!
//! A check-in's time and position are facts recorded on the phone at the customer site; they
//! never change after creation (the server refuses such an edit). Everything judged from them
//! (inside the geofence or not, flags) is recomputed by the server. Positions are the rules'
//! own [`DevicePosition`], so what the phone reported is what both judges read.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, impl_record};
use crate::fieldwork::DevicePosition;
use crate::{RecordId, Timestamp, Zone};

/// Checks a position a phone sent, naming the field in the error.
fn check_position(position: &DevicePosition, field: &'static str) -> Result<(), InvalidRecord> {
    position.validate().map_err(|e| InvalidRecord::Invalid {
        kind: Kind::Visit,
        field,
        detail: e.to_string(),
    })
}

/// The check-in: immutable once written.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CheckIn {
    /// When the rep checked in (device time).
    pub at: Timestamp,
    /// Where, as the OS reported it.
    pub position: DevicePosition,
    /// The rep's zone at check-in: the visit counts on this zone's local day.
    pub zone: Zone,
    /// The device's known offset to server time at check-in, in ms, if it had synced.
    pub clock_offset_ms: Option<i64>,
    /// When the sync that measured `clock_offset_ms` happened, on the server's clock: the
    /// device recorded the check-in after it, so the check-in cannot honestly claim an earlier
    /// time.
    #[autosurgeon(missing = "Option::default")]
    pub synced_at: Option<Timestamp>,
    /// The latest check-in time of the rep's visits this device held when it recorded this
    /// one (device clock): a check-in recorded after a later visit was not made when it claims.
    #[autosurgeon(missing = "Option::default")]
    pub recorded_after: Option<Timestamp>,
}

/// The check-out.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CheckOut {
    /// When.
    pub at: Timestamp,
    /// Where, if a fix was available.
    pub position: Option<DevicePosition>,
}

/// A photo or file attached to a record, stored outside the documents by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct AttachmentRef {
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// MIME type.
    pub mime: String,
}

impl AttachmentRef {
    /// Checks the hash and size.
    pub fn check(&self, kind: Kind) -> Result<(), InvalidRecord> {
        let hex_ok = self.sha256.len() == 64
            && self
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !hex_ok || self.size < 0 {
            return Err(InvalidRecord::Invalid {
                kind,
                field: "attachments",
                detail: "an attachment needs a SHA-256 hex hash and a size ≥ 0".into(),
            });
        }
        Ok(())
    }
}

/// A customer visit.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Visit {
    /// Common fields; `owner_id` is the rep.
    pub header: Header,
    /// The customer visited.
    pub customer_id: RecordId,
    /// The plan this visit fulfils, if it was planned.
    pub plan_id: Option<RecordId>,
    /// The check-in.
    pub check_in: CheckIn,
    /// The check-out, once the rep leaves.
    pub check_out: Option<CheckOut>,
    /// Notes taken during the visit, edited collaboratively.
    pub note: Text,
    /// Photos.
    #[autosurgeon(missing = "Vec::new")]
    pub photos: Vec<AttachmentRef>,
    /// The judgement of the check-in: the device's at first, the server's once it reviewed.
    #[autosurgeon(missing = "Option::default")]
    pub verdict: Option<crate::fieldwork::CheckInVerdict>,
    /// When the server first received the visit, on its clock. Written by the server only (a
    /// device's value is replaced); the upload-order and receipt rules read it.
    #[autosurgeon(missing = "Option::default")]
    pub received_at: Option<Timestamp>,
}

impl Visit {
    /// The visit's duration in seconds, once checked out.
    pub fn duration_secs(&self) -> Option<i64> {
        self.check_out
            .as_ref()
            .map(|c| c.at.millis_since(self.check_in.at) / 1000)
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check_position(&self.check_in.position, "check_in.position")?;
        if let Some(out) = &self.check_out {
            if out.at < self.check_in.at {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Visit,
                    field: "check_out.at",
                    detail: "check-out before check-in".into(),
                });
            }
            if let Some(p) = &out.position {
                check_position(p, "check_out.position")?;
            }
        }
        for p in &self.photos {
            p.check(Kind::Visit)?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.note.as_str().chars().take(60).collect(),
            customer_id: Some(self.customer_id),
            status: Some(
                if self.check_out.is_some() {
                    "closed"
                } else {
                    "open"
                }
                .into(),
            ),
            occurred_at: Some(self.check_in.at),
            local_date: Some(self.check_in.at.local_date(&self.check_in.zone)),
            search_text: None,
        }
    }
}
impl_record!(Visit, Visit);
