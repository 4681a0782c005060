//! The attachments conformance suite: what every `AttachmentStore` must do, written once and
//! run on files in a folder and on PostgreSQL (a fresh database of the tests' local cluster).

use std::ops::Deref;
use std::sync::Arc;

use fieldsales_core::attachments::sha256_hex;
use fieldsales_server::attachments::{AttachmentStore, Held};
use fieldsales_server::model::TenantId;
use tempfile::TempDir;

/// A store and what keeps it alive.
pub struct Fresh {
    store: Arc<dyn AttachmentStore>,
    _dir: Option<TempDir>,
}

impl Deref for Fresh {
    type Target = Arc<dyn AttachmentStore>;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

macro_rules! every_case {
    ($factory:expr) => {
        every_case!($factory;
            a_photo_sent_in_chunks_is_held_in_part_then_whole_and_read_in_ranges,
            content_that_does_not_hash_to_its_name_is_dropped,
            an_upload_cut_back_or_discarded_keeps_a_complete_photo_of_another_tenant,
            eight_uploads_of_the_same_photo_at_once_take_turns_and_all_find_it_whole,
        );
    };
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $factory.await;
                super::cases::$case(&store).await;
            }
        )*
    };
}

mod files {
    use fieldsales_server::attachments::FileAttachments;

    async fn fresh() -> super::Fresh {
        let dir = tempfile::tempdir().expect("temp dir");
        super::Fresh {
            store: std::sync::Arc::new(FileAttachments::new(dir.path().join("attachments"))),
            _dir: Some(dir),
        }
    }

    every_case!(fresh());
}

mod postgres {
    use fieldsales_server::attachments::PostgresAttachments;
    use fieldsales_server::postgres::testing::LocalCluster;
    use fieldsales_server::postgres::{PgOptions, pool};

    async fn fresh() -> super::Fresh {
        let url = LocalCluster::shared().database().await.expect("a database");
        let pool = pool(&PgOptions { url, pool_size: 8 }).expect("a pool");
        super::Fresh {
            store: std::sync::Arc::new(PostgresAttachments::open(pool).await.expect("opens")),
            _dir: None,
        }
    }

    every_case!(fresh());
}

mod cases {
    use super::*;

    /// A photo of `len` bytes that is not all the same byte.
    fn photo(len: usize, seed: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 31 + seed) % 251) as u8).collect()
    }

    /// Stores `bytes` whole the way an upload does, under the attachment's lock; whether it
    /// found the content complete already.
    async fn upload(store: &dyn AttachmentStore, tenant: TenantId, bytes: &[u8]) -> bool {
        let sha = sha256_hex(bytes);
        let _lock = store.lock(tenant, &sha).await.unwrap();
        if let Held::Complete(len) = store.held(tenant, &sha).await.unwrap() {
            assert_eq!(len, bytes.len() as u64);
            return true;
        }
        store.discard(tenant, &sha).await.unwrap();
        let mut at = 0;
        for chunk in bytes.chunks(64 * 1024) {
            store.append(tenant, &sha, at, chunk).await.unwrap();
            at += chunk.len() as u64;
            tokio::task::yield_now().await;
        }
        assert!(store.complete(tenant, &sha).await.unwrap(), "verified");
        false
    }

    pub async fn a_photo_sent_in_chunks_is_held_in_part_then_whole_and_read_in_ranges(
        store: &Arc<dyn AttachmentStore>,
    ) {
        let tenant = TenantId::new();
        let bytes = photo(300_000, 1);
        let sha = sha256_hex(&bytes);
        assert_eq!(store.held(tenant, &sha).await.unwrap(), Held::Nothing);
        store
            .append(tenant, &sha, 0, &bytes[..100_000])
            .await
            .unwrap();
        assert_eq!(
            store.held(tenant, &sha).await.unwrap(),
            Held::Partial(100_000)
        );
        store
            .append(tenant, &sha, 100_000, &bytes[100_000..])
            .await
            .unwrap();
        assert_eq!(
            store.held(tenant, &sha).await.unwrap(),
            Held::Partial(300_000)
        );
        assert!(store.complete(tenant, &sha).await.unwrap());
        assert_eq!(
            store.held(tenant, &sha).await.unwrap(),
            Held::Complete(300_000)
        );
        assert_eq!(store.read(tenant, &sha, 0, 300_000).await.unwrap(), bytes);
        assert_eq!(
            store.read(tenant, &sha, 99_990, 20).await.unwrap(),
            &bytes[99_990..100_010],
            "a range across the two chunks"
        );
    }

    pub async fn content_that_does_not_hash_to_its_name_is_dropped(
        store: &Arc<dyn AttachmentStore>,
    ) {
        let tenant = TenantId::new();
        let sha = sha256_hex(&photo(1_000, 2));
        store
            .append(tenant, &sha, 0, &photo(1_000, 3))
            .await
            .unwrap();
        assert!(!store.complete(tenant, &sha).await.unwrap());
        assert_eq!(store.held(tenant, &sha).await.unwrap(), Held::Nothing);
    }

    pub async fn an_upload_cut_back_or_discarded_keeps_a_complete_photo_of_another_tenant(
        store: &Arc<dyn AttachmentStore>,
    ) {
        let (acme, globex) = (TenantId::new(), TenantId::new());
        let bytes = photo(50_000, 4);
        let sha = sha256_hex(&bytes);
        assert!(!upload(&**store, globex, &bytes).await);
        store.append(acme, &sha, 0, &bytes[..30_000]).await.unwrap();
        store.truncate(acme, &sha, 10_000).await.unwrap();
        assert_eq!(store.held(acme, &sha).await.unwrap(), Held::Partial(10_000));
        store
            .append(acme, &sha, 10_000, &bytes[10_000..20_000])
            .await
            .unwrap();
        assert_eq!(store.held(acme, &sha).await.unwrap(), Held::Partial(20_000));
        store.discard(acme, &sha).await.unwrap();
        assert_eq!(store.held(acme, &sha).await.unwrap(), Held::Nothing);
        assert_eq!(
            store.held(globex, &sha).await.unwrap(),
            Held::Complete(50_000)
        );
        store.discard(globex, &sha).await.unwrap();
        assert_eq!(
            store.held(globex, &sha).await.unwrap(),
            Held::Complete(50_000),
            "a complete photo is not an upload under way"
        );
        assert_eq!(store.read(globex, &sha, 0, 50_000).await.unwrap(), bytes);
    }

    pub async fn eight_uploads_of_the_same_photo_at_once_take_turns_and_all_find_it_whole(
        store: &Arc<dyn AttachmentStore>,
    ) {
        let tenant = TenantId::new();
        let bytes = Arc::new(photo(1_000_000, 5));
        let uploads: Vec<_> = (0..8)
            .map(|_| {
                let (store, bytes) = (Arc::clone(store), Arc::clone(&bytes));
                tokio::spawn(async move { upload(&*store, tenant, &bytes).await })
            })
            .collect();
        let mut found_whole = 0;
        for upload in uploads {
            found_whole += usize::from(upload.await.unwrap());
        }
        assert_eq!(found_whole, 7, "one upload wrote it, seven found it whole");
        let sha = sha256_hex(&bytes);
        assert_eq!(
            store.held(tenant, &sha).await.unwrap(),
            Held::Complete(1_000_000)
        );
        assert_eq!(
            store.read(tenant, &sha, 0, 1_000_000).await.unwrap(),
            *bytes
        );
    }
}
