//! The records conformance suite: what every `RecordStore` backend must do, written once
//! against `&dyn RecordStore`, and run on SQLite files and on PostgreSQL (a fresh database of
//! the tests' local cluster per case, read models in a temporary folder).

use std::ops::Deref;

use fieldsales_core::doc::{RecordDoc, encode_heads};
use fieldsales_core::me::Me;
use fieldsales_core::record::{AnyRecord, DataScope, OrgLevel, SensitiveField};
use fieldsales_core::sync::protocol::{Bytes, PushRecord};
use fieldsales_core::testing::{customer, org_unit, role, user};
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::audit::Actor;
use fieldsales_server::model::{AccountId, DeviceId, TenantId};
use fieldsales_server::records::{Page, Pull, Push, RecordStore, Verdict};
use tempfile::TempDir;

/// A store and what keeps it alive.
pub struct Fresh {
    store: Box<dyn RecordStore>,
    _dir: TempDir,
}

impl Deref for Fresh {
    type Target = dyn RecordStore;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

macro_rules! records_conformance {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $factory.await;
                super::cases::$case(&*store).await;
            }
        )*
    };
}

macro_rules! every_case {
    ($factory:expr) => {
        records_conformance!($factory;
            a_pushed_record_is_acknowledged_and_pulled_whole,
            pushing_the_same_changes_again_changes_nothing,
            an_edit_moves_the_record_past_every_cursor,
            a_rep_never_pulls_another_reps_records,
            tenants_never_see_each_others_records,
            the_server_writes_the_org_and_knows_who_a_user_is,
            a_page_ends_at_its_limit_and_the_next_one_continues,
            a_push_leaves_one_chained_audit_entry_and_its_replay_none,
            a_device_of_another_epoch_starts_over_and_its_push_waits,
        );
    };
}

mod sqlite {
    use fieldsales_server::records::SqliteRecords;

    async fn fresh() -> super::Fresh {
        let dir = tempfile::tempdir().expect("temp dir");
        super::Fresh {
            store: Box::new(SqliteRecords::new(dir.path().join("tenants"))),
            _dir: dir,
        }
    }

    every_case!(fresh());
}

mod postgres {
    use fieldsales_server::postgres::PgOptions;
    use fieldsales_server::postgres::testing::LocalCluster;
    use fieldsales_server::records::PostgresRecords;

    async fn fresh() -> super::Fresh {
        let url = LocalCluster::shared().database().await.expect("a database");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = PostgresRecords::open(
            &PgOptions { url, pool_size: 4 },
            dir.path().join("read-models"),
            None,
        )
        .await
        .expect("records open");
        super::Fresh {
            store: Box::new(store),
            _dir: dir,
        }
    }

    every_case!(fresh());
}

mod cases {
    use super::*;

    /// A phone: its device and the actor its changes carry.
    struct Phone {
        device: DeviceId,
        actor: automerge::ActorId,
        user: Me,
    }

    impl Phone {
        fn of(user: Me) -> Phone {
            Phone {
                device: DeviceId::new(),
                actor: automerge::ActorId::random(),
                user,
            }
        }

        /// A push of `docs`' changes since `since` (each document's own).
        fn push(&self, docs: &mut [(&mut RecordDoc, Vec<automerge::ChangeHash>)]) -> Push {
            Push {
                device: self.device,
                account: AccountId::new(),
                actors: vec![self.actor.clone()],
                author: self.user.clone(),
                clock_offset: None,
                records: docs
                    .iter_mut()
                    .map(|(doc, since)| PushRecord {
                        id: doc.record_id().expect("an id"),
                        changes: Bytes(doc.changes_since(since)),
                        heads: Bytes(encode_heads(&doc.heads())),
                    })
                    .collect(),
                now: Timestamp::now(),
            }
        }

        fn pull(&self, cursor: u64) -> Pull {
            Pull {
                device: self.device,
                viewer: self.user.clone(),
                cursor,
                limit: 500,
                max_bytes: 8 << 20,
                max_scan: 10_000,
                epoch: None,
            }
        }

        /// A new customer of this phone's user, as a document.
        fn customer(&self, name: &str) -> RecordDoc {
            RecordDoc::create(
                &AnyRecord::Customer(customer(self.user.user_id, name)),
                &self.actor,
                Timestamp::now(),
            )
            .expect("a document")
        }
    }

    /// A tenant's org as the admin writes it: HQ with one team, two reps and an HQ admin who
    /// sees everything; each user as the store resolves them.
    struct Org {
        li: Me,
        wang: Me,
        admin: Me,
        /// The org's own records (units, roles, profiles and their phones' and e-mails'
        /// companions), which every pull may carry too.
        records: Vec<RecordId>,
    }

    async fn org(store: &dyn RecordStore, tenant: TenantId) -> Org {
        let now = Timestamp::now();
        let hq = org_unit("总部", OrgLevel::Hq, None);
        let team = org_unit("杭州一组", OrgLevel::Team, Some(hq.header.id));
        let (hq_id, team_id) = (hq.header.id, team.header.id);
        let li = user("李娜", team_id, "sales_rep");
        let wang = user("王伟", team_id, "sales_rep");
        let admin = user("管理员", hq_id, "admin");
        let mut records = Vec::new();
        let written: Vec<AnyRecord> = vec![
            hq.into(),
            team.into(),
            role("sales_rep", DataScope::Own).into(),
            role("admin", DataScope::All).into(),
            li.clone().into(),
            wang.clone().into(),
            admin.clone().into(),
        ];
        for record in written {
            let kind = record.kind();
            let id = store.put(tenant, record, now, Actor::SERVER).await.unwrap();
            records.push(id);
            records.extend(SensitiveField::of_kind(kind).map(|f| f.companion_id(id)));
        }
        let me = |profile: RecordId| async move {
            store.me(tenant, profile).await.unwrap().expect("a user")
        };
        Org {
            li: me(li.header.id).await,
            wang: me(wang.header.id).await,
            admin: me(admin.header.id).await,
            records,
        }
    }

    /// The records of a page that are not the org's own.
    fn sent(page: &Page, org: &Org) -> Vec<RecordId> {
        ids(page)
            .into_iter()
            .filter(|id| !org.records.contains(id))
            .collect()
    }

    fn accepted(verdicts: &[Verdict]) {
        assert!(
            verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))),
            "{verdicts:?}"
        );
    }

    fn ids(page: &Page) -> Vec<RecordId> {
        page.records.iter().map(|r| r.id).collect()
    }

    pub async fn a_pushed_record_is_acknowledged_and_pulled_whole(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let phone = Phone::of(org.li.clone());
        let mut doc = phone.customer("杭州西湖茶业有限公司");
        let id = doc.record_id().unwrap();
        let verdicts = store
            .push(tenant, phone.push(&mut [(&mut doc, vec![])]))
            .await
            .unwrap();
        assert_eq!(verdicts.len(), 1);
        accepted(&verdicts);

        let office = Phone::of(org.admin.clone());
        let page = store.pull(tenant, office.pull(0)).await.unwrap();
        assert_eq!(sent(&page, &org), vec![id]);
        assert!(page.cursor > 0);
        assert!(!page.has_more);
        let record = page.records.iter().find(|r| r.id == id).unwrap();
        let mut received = RecordDoc::load(&record.doc.0, &office.actor).expect("whole");
        assert_eq!(received.record_id(), Some(id));
        assert_eq!(record.heads.0, encode_heads(&received.heads()));
        for change in doc.heads() {
            assert!(received.has_change(&change), "every pushed change is in it");
        }
        let Ok(AnyRecord::Customer(held)) = received.hydrate() else {
            panic!("a customer")
        };
        assert_eq!(held.legal_name, "杭州西湖茶业有限公司");
        let after = store.pull(tenant, office.pull(page.cursor)).await.unwrap();
        assert!(after.records.is_empty() && after.removed.is_empty());
        assert_eq!(after.cursor, page.cursor);
    }

    pub async fn a_push_leaves_one_chained_audit_entry_and_its_replay_none(
        store: &dyn RecordStore,
    ) {
        use fieldsales_server::audit::{AuditQuery, verify};
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let all = AuditQuery {
            limit: 1_000,
            ..AuditQuery::default()
        };
        let before = store.audit_entries(tenant, &all).await.unwrap().len();
        let phone = Phone::of(org.li.clone());
        let mut doc = phone.customer("苏州工业园区精密机械有限公司");
        let id = doc.record_id().unwrap();
        let push = phone.push(&mut [(&mut doc, vec![])]);
        let account = push.account;
        accepted(&store.push(tenant, push.clone()).await.unwrap());
        // The same changes again store nothing, and log nothing.
        accepted(&store.push(tenant, push).await.unwrap());
        let about = AuditQuery {
            record: Some(*id.as_uuid()),
            ..all.clone()
        };
        let entries = store.audit_entries(tenant, &about).await.unwrap();
        assert_eq!(entries.len(), 1, "{entries:#?}");
        let created = &entries[0];
        assert_eq!(created.operation, "record.create");
        assert_eq!(created.kind.as_deref(), Some("customer"));
        assert_eq!(created.account_id, Some(*account.as_uuid()));
        assert_eq!(created.user_id, Some(*org.li.user_id.as_uuid()));
        assert_eq!(created.device_id, Some(*phone.device.as_uuid()));
        assert!(
            created.changes.iter().any(|c| c.field == "legal_name"
                && c.after.as_deref() == Some("苏州工业园区精密机械有限公司")),
            "{created:#?}"
        );
        assert_eq!(
            store.audit_entries(tenant, &all).await.unwrap().len(),
            before + 1
        );
        let heads = store.audit_heads().await.unwrap();
        let head = heads.iter().find(|h| h.tenant == tenant).expect("a chain");
        let report = verify::chain(store, head).await.unwrap();
        assert!(report.holds(), "{report}");
        assert_eq!(report.entries as usize, before + 1);
    }

    /// A device whose cursor belongs to another epoch than the sequence's (the server was
    /// restored from a backup since): its push is ignored, and its pull starts from the
    /// beginning with every record it may see sent whole, even those the server's holdings
    /// say it has; the answer names the sequence's epoch, under which the device then carries
    /// on as usual.
    pub async fn a_device_of_another_epoch_starts_over_and_its_push_waits(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let phone = Phone::of(org.li.clone());
        let mut pushed = phone.customer("宁波港口物流有限公司");
        let pushed_id = pushed.record_id().unwrap();
        accepted(
            &store
                .push(tenant, phone.push(&mut [(&mut pushed, vec![])]))
                .await
                .unwrap(),
        );
        let first = store.pull(tenant, phone.pull(0)).await.unwrap();
        let epoch = first.epoch.expect("the sequence has an epoch");
        assert!(!first.restarted);
        let caught_up = store
            .pull(
                tenant,
                Pull {
                    epoch: Some(epoch),
                    ..phone.pull(first.cursor)
                },
            )
            .await
            .unwrap();
        assert!(caught_up.records.is_empty() && !caught_up.restarted);
        assert_eq!(store.epoch(tenant).await.unwrap(), Some(epoch));

        let mut waiting = phone.customer("温州鞋业有限公司");
        let waiting_id = waiting.record_id().unwrap();
        let other = epoch ^ 0x5a5a;
        let (verdicts, page) = store
            .push_and_pull(
                tenant,
                Some(phone.push(&mut [(&mut waiting, vec![])])),
                Pull {
                    epoch: Some(other),
                    ..phone.pull(caught_up.cursor)
                },
            )
            .await
            .unwrap();
        assert!(verdicts.is_empty(), "the push waits: {verdicts:?}");
        assert!(page.restarted);
        assert_eq!(page.epoch, Some(epoch));
        assert_eq!(
            sent(&page, &org),
            vec![pushed_id],
            "its own record, which it holds, is sent whole again"
        );
        assert!(
            !ids(&page).contains(&waiting_id),
            "the ignored push stored nothing"
        );
        // Under the sequence's epoch it carries on: nothing new.
        let after = store
            .pull(
                tenant,
                Pull {
                    epoch: Some(epoch),
                    ..phone.pull(page.cursor)
                },
            )
            .await
            .unwrap();
        assert!(after.records.is_empty() && !after.restarted);
        // A device that names no epoch (older than epochs) keeps its cursor.
        let legacy = store.pull(tenant, phone.pull(page.cursor)).await.unwrap();
        assert!(legacy.records.is_empty() && !legacy.restarted);
    }

    pub async fn pushing_the_same_changes_again_changes_nothing(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let phone = Phone::of(org.li.clone());
        let mut doc = phone.customer("宁波港口物流有限公司");
        store
            .push(tenant, phone.push(&mut [(&mut doc, vec![])]))
            .await
            .unwrap();
        let office = Phone::of(org.admin.clone());
        let first = store.pull(tenant, office.pull(0)).await.unwrap();

        let again = store
            .push(tenant, phone.push(&mut [(&mut doc, vec![])]))
            .await
            .unwrap();
        accepted(&again);
        let after = store.pull(tenant, office.pull(first.cursor)).await.unwrap();
        assert!(after.records.is_empty(), "{:?}", ids(&after));
        let fresh = Phone::of(org.admin.clone());
        let whole = store.pull(tenant, fresh.pull(0)).await.unwrap();
        assert_eq!(sent(&whole, &org).len(), 1, "still one record");
    }

    pub async fn an_edit_moves_the_record_past_every_cursor(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let phone = Phone::of(org.li.clone());
        let mut doc = phone.customer("温州鞋业有限公司");
        let id = doc.record_id().unwrap();
        let mut other = phone.customer("台州汽配有限公司");
        store
            .push(
                tenant,
                phone.push(&mut [(&mut doc, vec![]), (&mut other, vec![])]),
            )
            .await
            .unwrap();
        let office = Phone::of(org.admin.clone());
        let first = store.pull(tenant, office.pull(0)).await.unwrap();
        assert_eq!(sent(&first, &org).len(), 2);

        let base = doc.heads();
        let mut edited = customer(phone.user.user_id, "温州鞋业有限公司");
        edited.header.id = id;
        edited.tier = Some("A".into());
        doc.write(&AnyRecord::Customer(edited), Timestamp::now())
            .unwrap();
        accepted(
            &store
                .push(tenant, phone.push(&mut [(&mut doc, base)]))
                .await
                .unwrap(),
        );
        let second = store.pull(tenant, office.pull(first.cursor)).await.unwrap();
        assert_eq!(ids(&second), vec![id], "only the edited record");
        assert!(second.cursor > first.cursor);
    }

    pub async fn a_rep_never_pulls_another_reps_records(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let (li, wang) = (Phone::of(org.li.clone()), Phone::of(org.wang.clone()));
        let mut lis = li.customer("嘉兴纺织有限公司");
        let mut wangs = wang.customer("湖州竹业有限公司");
        store
            .push(tenant, li.push(&mut [(&mut lis, vec![])]))
            .await
            .unwrap();
        store
            .push(tenant, wang.push(&mut [(&mut wangs, vec![])]))
            .await
            .unwrap();
        // Each rep's second phone, which holds nothing yet.
        let page = store
            .pull(tenant, Phone::of(org.wang.clone()).pull(0))
            .await
            .unwrap();
        assert_eq!(sent(&page, &org), vec![wangs.record_id().unwrap()]);
        let page = store
            .pull(tenant, Phone::of(org.li.clone()).pull(0))
            .await
            .unwrap();
        assert_eq!(sent(&page, &org), vec![lis.record_id().unwrap()]);
    }

    pub async fn tenants_never_see_each_others_records(store: &dyn RecordStore) {
        let (acme, globex) = (TenantId::new(), TenantId::new());
        let acme_org = org(store, acme).await;
        let globex_org = org(store, globex).await;
        let phone = Phone::of(acme_org.li.clone());
        let mut doc = phone.customer("绍兴黄酒有限公司");
        store
            .push(acme, phone.push(&mut [(&mut doc, vec![])]))
            .await
            .unwrap();
        let theirs = store
            .pull(globex, Phone::of(globex_org.admin.clone()).pull(0))
            .await
            .unwrap();
        assert!(sent(&theirs, &globex_org).is_empty());
        assert!(
            ids(&theirs)
                .iter()
                .all(|id| globex_org.records.contains(id))
        );
        let ours = store
            .pull(acme, Phone::of(acme_org.admin.clone()).pull(0))
            .await
            .unwrap();
        assert_eq!(sent(&ours, &acme_org), vec![doc.record_id().unwrap()]);
        let tenants = store.tenants().await.unwrap();
        assert!(tenants.contains(&acme) && tenants.contains(&globex));
    }

    pub async fn the_server_writes_the_org_and_knows_who_a_user_is(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        assert_eq!(org.li.scope, DataScope::Own);
        assert_eq!(org.admin.scope, DataScope::All);
        assert_eq!(org.li.unit_id, org.wang.unit_id);
        assert_ne!(org.li.unit_id, org.admin.unit_id);
        assert!(store.me(tenant, RecordId::new()).await.unwrap().is_none());
        assert!(
            store
                .me(TenantId::new(), org.li.user_id)
                .await
                .unwrap()
                .is_none(),
            "not in another tenant"
        );
        // A rep moved to the admin's unit is resolved there from then on.
        let mut moved = user("李娜", org.admin.unit_id, "sales_rep");
        moved.header.id = org.li.user_id;
        store
            .put(tenant, moved.into(), Timestamp::now(), Actor::SERVER)
            .await
            .unwrap();
        let li = store.me(tenant, org.li.user_id).await.unwrap().unwrap();
        assert_eq!(li.unit_id, org.admin.unit_id);
        // The admin's phone receives the whole org.
        let page = store
            .pull(tenant, Phone::of(org.admin.clone()).pull(0))
            .await
            .unwrap();
        for id in &org.records {
            assert!(ids(&page).contains(id), "{id} missing");
        }
    }

    pub async fn a_page_ends_at_its_limit_and_the_next_one_continues(store: &dyn RecordStore) {
        let tenant = TenantId::new();
        let org = org(store, tenant).await;
        let phone = Phone::of(org.li.clone());
        let mut docs: Vec<RecordDoc> = (0..7)
            .map(|i| phone.customer(&format!("义乌小商品{i}号商行")))
            .collect();
        let mut pushed: Vec<_> = docs.iter_mut().map(|d| (d, vec![])).collect();
        accepted(&store.push(tenant, phone.push(&mut pushed)).await.unwrap());
        let office = Phone::of(org.admin.clone());
        let (mut cursor, mut seen, mut pages) = (0, Vec::new(), 0);
        loop {
            let page = store
                .pull(
                    tenant,
                    Pull {
                        limit: 3,
                        ..office.pull(cursor)
                    },
                )
                .await
                .unwrap();
            assert!(page.records.len() <= 3);
            pages += 1;
            seen.extend(sent(&page, &org));
            cursor = page.cursor;
            if !page.has_more {
                break;
            }
        }
        assert!(pages >= 5, "14 records in pages of 3: {pages} pages");
        seen.sort();
        let mut all: Vec<RecordId> = docs.iter_mut().map(|d| d.record_id().unwrap()).collect();
        all.sort();
        assert_eq!(seen, all, "each record once");
    }
}
