//! Which records changed, so a screen showing them refreshes.
//!
//! A phone screen lists customers, today's visits, a dashboard; it must refresh when a write
//! of its own, another screen's, or a sync page changes a record it shows. Rather than trust
//! every operation to announce what it touched (and miss the opportunity a lead conversion
//! created beside the customer), the store's own connection records it: temporary triggers on
//! the documents table (the truth every write goes through) note each record written or
//! forgotten into a temporary table. A sensitive field's companion is not a record of its
//! own to a screen: its change is announced as a change of the record it belongs to (read
//! from the `companions` projection, which a companion's write and removal always touch). They live on this connection only, are never part of the
//! file's schema, and their rows belong to the writing transaction, so a write that rolls back
//! announces nothing. The caller drains the journal after each operation and tells listeners.

use super::Engine;
use crate::{RecordId, Result};

/// One record changed by a write or a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedRecord {
    /// The record.
    pub id: RecordId,
    /// Its kind code (`customer`, `visit`...), also for kinds this version does not know.
    pub kind: String,
    /// Whether the record left this device (forgotten: no longer in the user's scope, or the
    /// store was wiped). A deleted (voided) record is still here, with its tombstone.
    pub removed: bool,
}

const INSTALL: &str = "
CREATE TEMP TABLE IF NOT EXISTS changed_records (
    seq     INTEGER PRIMARY KEY,
    id      BLOB NOT NULL,
    kind    TEXT NOT NULL,
    removed INTEGER NOT NULL
);
CREATE TEMP TRIGGER IF NOT EXISTS changed_records_insert AFTER INSERT ON main.documents
    WHEN new.kind <> 'private'
BEGIN
    INSERT INTO changed_records (id, kind, removed) VALUES (new.id, new.kind, 0);
END;
CREATE TEMP TRIGGER IF NOT EXISTS changed_records_update AFTER UPDATE OF doc, heads, kind
    ON main.documents WHEN new.kind <> 'private'
BEGIN
    INSERT INTO changed_records (id, kind, removed) VALUES (new.id, new.kind, 0);
END;
CREATE TEMP TRIGGER IF NOT EXISTS changed_records_delete AFTER DELETE ON main.documents
    WHEN old.kind <> 'private'
BEGIN
    INSERT INTO changed_records (id, kind, removed) VALUES (old.id, old.kind, 1);
END;
CREATE TEMP TRIGGER IF NOT EXISTS changed_companions_insert AFTER INSERT ON main.companions
BEGIN
    INSERT INTO changed_records (id, kind, removed)
    SELECT new.record_id, new.record_kind, 0
    WHERE EXISTS (SELECT 1 FROM main.documents WHERE id = new.record_id);
END;
CREATE TEMP TRIGGER IF NOT EXISTS changed_companions_delete AFTER DELETE ON main.companions
BEGIN
    INSERT INTO changed_records (id, kind, removed)
    SELECT old.record_id, old.record_kind, 0
    WHERE EXISTS (SELECT 1 FROM main.documents WHERE id = old.record_id);
END;
";

impl Engine {
    /// Starts noting changed records on this engine's connection (idempotent). Changes made
    /// before the first call are not noted.
    pub fn track_changes(&self) -> Result<()> {
        self.store().connection().execute_batch(INSTALL)?;
        Ok(())
    }

    /// The records changed since the last call, each once, in the order first changed;
    /// empty when nothing changed or tracking was never started.
    pub fn take_changes(&self) -> Result<Vec<ChangedRecord>> {
        let conn = self.store().connection();
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM temp.sqlite_master WHERE name = 'changed_records')",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(Vec::new());
        }
        // The last state of each record wins: written then forgotten is a removal.
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, removed FROM changed_records c
             WHERE seq = (SELECT max(seq) FROM changed_records d WHERE d.id = c.id)
             ORDER BY (SELECT min(seq) FROM changed_records e WHERE e.id = c.id)",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, RecordId>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        conn.execute("DELETE FROM changed_records", [])?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, removed)| ChangedRecord { id, kind, removed })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Zone;
    use crate::engine::{LeadConversionRequest, NewLead};
    use crate::me::Me;
    use crate::record::DataScope;
    use crate::store::Store;
    use crate::testing;

    fn rep_engine() -> Engine {
        let store = Store::open_in_memory().unwrap();
        let engine = Engine::new(store, testing::rep()).unwrap();
        engine.track_changes().unwrap();
        engine
    }

    #[test]
    fn a_lead_conversion_announces_every_record_it_wrote_once() {
        let mut engine = rep_engine();
        let lead = engine
            .create_lead(
                NewLead {
                    company_name: "上海明远贸易有限公司".into(),
                    contact_name: Some("王经理".into()),
                    ..NewLead::default()
                },
                None,
            )
            .unwrap();
        let created = engine.take_changes().unwrap();
        assert_eq!(created.len(), 1);
        assert_eq!(
            (created[0].id, created[0].kind.as_str()),
            (lead.header.id, "lead")
        );

        let converted = engine
            .convert_lead(
                lead.header.id,
                LeadConversionRequest {
                    legal_name: String::new(),
                    opportunity_name: "办公设备采购".into(),
                    amount: testing::yuan(80_000),
                },
            )
            .unwrap();
        let changed = engine.take_changes().unwrap();
        let kinds: Vec<&str> = changed.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["customer", "contact", "opportunity", "lead"]);
        assert_eq!(changed[0].id, converted.customer.header.id);
        assert!(changed.iter().all(|c| !c.removed));
        assert!(engine.take_changes().unwrap().is_empty(), "drained");
    }

    #[test]
    fn a_refused_write_announces_nothing_and_a_forgotten_record_is_a_removal() {
        let mut engine = rep_engine();
        let me = engine.me().user_id;
        let customer = engine
            .create_customer(testing::customer(me, "杭州云栖科技有限公司"))
            .unwrap()
            .0;
        engine.take_changes().unwrap();
        assert!(
            engine
                .create_customer(testing::customer(me, "杭州云栖科技有限公司"))
                .is_err()
        );
        assert!(engine.take_changes().unwrap().is_empty());

        engine.store_mut().forget(customer.header.id).unwrap();
        let changed = engine.take_changes().unwrap();
        assert_eq!(changed.len(), 1);
        assert!(changed[0].removed);
    }

    #[test]
    fn without_tracking_nothing_is_noted() {
        let me = Me {
            hidden: Default::default(),
            user_id: RecordId::new(),
            unit_id: RecordId::new(),
            roles: vec!["sales_rep".into()],
            scope: DataScope::Own,
            zone: Zone::SHANGHAI,
        };
        let mut engine = Engine::new(Store::open_in_memory().unwrap(), me.clone()).unwrap();
        engine
            .create_customer(testing::customer(me.user_id, "北京华信"))
            .unwrap();
        assert!(engine.take_changes().unwrap().is_empty());
    }
}
