//! The hash chain: each entry's hash is SHA-256 over the hash of the entry before it and the
//! entry's canonical encoding, so changing any field of any entry, removing one, or
//! reordering them changes a hash the next entry (or the chain's head) still holds.
//!
//! The canonical encoding is a fixed sequence of fields, each length-prefixed (or tagged when
//! optional), starting with a version tag and the tenant: the same entry gives the same bytes
//! on every backend and every version of this code that keeps the tag, and an entry copied
//! into another tenant's chain no longer matches. The changes are encoded as their JSON text
//! as stored (serde's output of [`Change`] is deterministic), so a stored value that is not
//! the one hashed is found.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AuditDraft, AuditEntry, ChainHead, ChainRow, Change, Stream};
use crate::model::TenantId;

/// The hash before the first entry of a chain.
pub const GENESIS: [u8; 32] = [0; 32];

/// Tags the encoding; a future encoding takes another tag.
const VERSION: &[u8] = b"fieldsales-audit-1\0";

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_opt_uuid(out: &mut Vec<u8>, id: Option<&Uuid>) {
    match id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
}

/// The changes as stored: JSON text.
pub fn changes_json(changes: &[Change]) -> String {
    // Serialising plain strings and options cannot fail.
    serde_json::to_string(changes).unwrap_or_else(|_| "[]".to_owned())
}

/// The canonical encoding of an entry of `tenant` (everything but its hashes).
pub fn encode(tenant: TenantId, entry: &AuditEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(VERSION);
    out.extend_from_slice(tenant.as_bytes());
    out.extend_from_slice(&entry.stream.code().to_be_bytes());
    out.extend_from_slice(&entry.seq.to_be_bytes());
    out.extend_from_slice(&entry.at.to_be_bytes());
    put_opt_uuid(&mut out, entry.account_id.as_ref());
    put_opt_uuid(&mut out, entry.user_id.as_ref());
    put_opt_uuid(&mut out, entry.device_id.as_ref());
    put_opt_uuid(&mut out, entry.record_id.as_ref());
    put_opt_str(&mut out, entry.kind.as_deref());
    put_str(&mut out, &entry.operation);
    put_opt_str(&mut out, entry.rule.as_deref());
    put_str(&mut out, &changes_json(&entry.changes));
    put_opt_str(&mut out, entry.detail.as_deref());
    out
}

/// The hash of an entry of `tenant` that follows `prev`.
pub fn hash(prev: &[u8; 32], tenant: TenantId, entry: &AuditEntry) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(encode(tenant, entry));
    hasher.finalize().into()
}

/// Numbers and chains a draft after the entry numbered `seq - 1` whose hash is `prev`.
pub fn seal(
    tenant: TenantId,
    stream: Stream,
    seq: u64,
    prev: &[u8; 32],
    draft: AuditDraft,
) -> (AuditEntry, [u8; 32]) {
    let mut entry = AuditEntry {
        stream,
        seq,
        at: draft.at.millis(),
        account_id: draft.actor.account.map(|a| *a.as_uuid()),
        user_id: draft.actor.user.map(|u| *u.as_uuid()),
        device_id: draft.actor.device.map(|d| *d.as_uuid()),
        record_id: draft.record_id,
        kind: draft.kind,
        operation: draft.operation.as_str().to_owned(),
        rule: draft.rule,
        changes: draft.changes,
        detail: draft.detail,
        prev_hash: hex::encode(prev),
        hash: String::new(),
    };
    let hash = hash(prev, tenant, &entry);
    entry.hash = hex::encode(hash);
    (entry, hash)
}

/// What is wrong with one entry of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry is gone (deleted), though later entries or the head count it.
    Missing,
    /// The stored row cannot be read (a column edited into something unreadable).
    Unreadable(String),
    /// Its content does not give its hash: it was edited.
    Altered,
    /// It does not name the hash of the entry before it: an entry before it was replaced or
    /// removed, or it was moved.
    BrokenLink,
    /// The head names a hash other than the last entry's: the last entry was replaced.
    HeadMismatch,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing => f.write_str("missing (deleted)"),
            Problem::Unreadable(why) => write!(f, "unreadable ({why})"),
            Problem::Altered => f.write_str("altered: its content does not give its hash"),
            Problem::BrokenLink => {
                f.write_str("does not follow the entry before it (one was replaced or removed)")
            }
            Problem::HeadMismatch => {
                f.write_str("is not the entry the chain's head names (it was replaced)")
            }
        }
    }
}

/// A problem at entry `seq` of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The entry's number.
    pub seq: u64,
    /// What is wrong.
    pub problem: Problem,
}

/// Walks one chain's rows in order of number, checking each against the one before and the
/// last against the head. Feed it pages with [`Walk::rows`], then [`Walk::finish`].
#[derive(Debug)]
pub struct Walk {
    tenant: TenantId,
    expected_seq: u64,
    prev: [u8; 32],
    /// Entries read.
    pub count: u64,
    /// What was found wrong, in order.
    pub findings: Vec<Finding>,
}

fn decode_hash(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

impl Walk {
    /// A walk of a chain of `tenant` from its first entry.
    pub fn new(tenant: TenantId) -> Walk {
        Walk {
            tenant,
            expected_seq: 1,
            prev: GENESIS,
            count: 0,
            findings: Vec::new(),
        }
    }

    /// The next rows, in order of number.
    pub fn rows(&mut self, rows: &[ChainRow]) {
        for row in rows {
            while self.expected_seq < row.seq {
                self.findings.push(Finding {
                    seq: self.expected_seq,
                    problem: Problem::Missing,
                });
                self.expected_seq += 1;
            }
            self.expected_seq = row.seq + 1;
            self.count += 1;
            let entry = match &row.entry {
                Ok(entry) => entry,
                Err(why) => {
                    self.findings.push(Finding {
                        seq: row.seq,
                        problem: Problem::Unreadable(why.clone()),
                    });
                    // Nothing to link the next entry to: take its word for it.
                    self.prev = [0xff; 32];
                    continue;
                }
            };
            let (Some(stored_prev), Some(stored_hash)) =
                (decode_hash(&entry.prev_hash), decode_hash(&entry.hash))
            else {
                self.findings.push(Finding {
                    seq: row.seq,
                    problem: Problem::Unreadable("a hash is not 32 bytes".into()),
                });
                self.prev = [0xff; 32];
                continue;
            };
            let after_damage = self.prev == [0xff; 32];
            if !after_damage && stored_prev != self.prev {
                // Reported once: a missing entry before it explains it already.
                let explained = self
                    .findings
                    .last()
                    .is_some_and(|f| f.seq + 1 == row.seq && f.problem == Problem::Missing);
                if !explained {
                    self.findings.push(Finding {
                        seq: row.seq,
                        problem: Problem::BrokenLink,
                    });
                }
            }
            if hash(&stored_prev, self.tenant, entry) != stored_hash {
                self.findings.push(Finding {
                    seq: row.seq,
                    problem: Problem::Altered,
                });
            }
            self.prev = stored_hash;
        }
    }

    /// Checks the last entry read against the chain's head.
    pub fn finish(mut self, head: &ChainHead) -> Walk {
        while self.expected_seq <= head.seq {
            self.findings.push(Finding {
                seq: self.expected_seq,
                problem: Problem::Missing,
            });
            self.expected_seq += 1;
        }
        if self.expected_seq == head.seq + 1
            && self.prev != head.hash
            && self.prev != [0xff; 32]
            && !self.findings.iter().any(|f| f.seq == head.seq)
        {
            self.findings.push(Finding {
                seq: head.seq,
                problem: Problem::HeadMismatch,
            });
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use fieldsales_core::Timestamp;

    use super::*;
    use crate::audit::{Actor, Operation};
    use crate::model::AccountId;

    fn tenant() -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(7))
    }

    /// A chain of `n` entries, each an edit of a customer's name.
    fn chain(n: u64) -> (Vec<ChainRow>, ChainHead) {
        let mut prev = GENESIS;
        let mut rows = Vec::new();
        for seq in 1..=n {
            let draft = AuditDraft::new(
                Timestamp::from_millis(1_000 * seq as i64),
                Actor {
                    account: Some(AccountId::from_uuid(Uuid::from_u128(1))),
                    ..Actor::SERVER
                },
                Operation::RecordEdit,
            )
            .about(Uuid::from_u128(99), "customer")
            .changes(vec![Change {
                field: "name".into(),
                before: Some(format!("name {}", seq - 1)),
                after: Some(format!("name {seq}")),
            }]);
            let (entry, hash) = seal(tenant(), Stream::Records, seq, &prev, draft);
            prev = hash;
            rows.push(ChainRow {
                seq,
                entry: Ok(entry),
            });
        }
        let head = ChainHead {
            tenant: tenant(),
            stream: Stream::Records,
            seq: n,
            hash: prev,
        };
        (rows, head)
    }

    fn walk(rows: &[ChainRow], head: &ChainHead) -> Vec<(u64, Problem)> {
        let mut walk = Walk::new(tenant());
        walk.rows(rows);
        walk.finish(head)
            .findings
            .into_iter()
            .map(|f| (f.seq, f.problem))
            .collect()
    }

    fn entry_mut(rows: &mut [ChainRow], seq: u64) -> &mut AuditEntry {
        match &mut rows[seq as usize - 1].entry {
            Ok(entry) => entry,
            Err(_) => unreachable!("the test chain is readable"),
        }
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (rows, head) = chain(5);
        assert_eq!(walk(&rows, &head), vec![]);
        let (none, empty) = chain(0);
        assert_eq!(walk(&none, &empty), vec![]);
    }

    #[test]
    fn an_edited_field_names_its_entry() {
        let (mut rows, head) = chain(5);
        entry_mut(&mut rows, 3).changes[0].after = Some("someone else".into());
        assert_eq!(walk(&rows, &head), vec![(3, Problem::Altered)]);
        let (mut rows, head) = chain(5);
        entry_mut(&mut rows, 2).at += 1;
        assert_eq!(walk(&rows, &head), vec![(2, Problem::Altered)]);
    }

    #[test]
    fn an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link() {
        let (mut rows, head) = chain(4);
        let e = entry_mut(&mut rows, 2);
        e.detail = Some("nothing happened".into());
        let prev = decode_hash(&e.prev_hash).unwrap_or(GENESIS);
        e.hash = hex::encode(hash(&prev, tenant(), e));
        assert_eq!(walk(&rows, &head), vec![(3, Problem::BrokenLink)]);
    }

    #[test]
    fn a_deleted_entry_is_named_in_the_middle_and_at_the_end() {
        let (mut rows, head) = chain(5);
        rows.remove(2);
        assert_eq!(walk(&rows, &head), vec![(3, Problem::Missing)]);
        let (mut rows, head) = chain(5);
        rows.pop();
        assert_eq!(walk(&rows, &head), vec![(5, Problem::Missing)]);
    }

    #[test]
    fn the_last_entry_replaced_disagrees_with_the_head() {
        let (mut rows, head) = chain(3);
        let e = entry_mut(&mut rows, 3);
        e.operation = "record.create".into();
        let prev = decode_hash(&e.prev_hash).unwrap_or(GENESIS);
        e.hash = hex::encode(hash(&prev, tenant(), e));
        assert_eq!(walk(&rows, &head), vec![(3, Problem::HeadMismatch)]);
    }

    #[test]
    fn an_entry_copied_into_another_tenant_does_not_verify_there() {
        let (rows, head) = chain(2);
        let mut walk = Walk::new(TenantId::from_uuid(Uuid::from_u128(8)));
        walk.rows(&rows);
        let findings = walk.finish(&head).findings;
        assert!(findings.iter().any(|f| f.problem == Problem::Altered));
    }

    #[test]
    fn an_unreadable_row_is_named_and_the_walk_goes_on() {
        let (mut rows, head) = chain(4);
        rows[1].entry = Err("changes are not JSON".into());
        entry_mut(&mut rows, 4).kind = Some("contact".into());
        assert_eq!(
            walk(&rows, &head),
            vec![
                (2, Problem::Unreadable("changes are not JSON".into())),
                (4, Problem::Altered)
            ]
        );
    }

    #[test]
    fn the_encoding_separates_fields_so_text_cannot_slide_between_them() {
        let (rows, _) = chain(1);
        let Ok(mut a) = rows[0].entry.clone() else {
            unreachable!()
        };
        a.kind = Some("ab".into());
        a.detail = Some("c".into());
        let mut b = a.clone();
        b.kind = Some("a".into());
        b.detail = Some("bc".into());
        assert_ne!(encode(tenant(), &a), encode(tenant(), &b));
    }
}
