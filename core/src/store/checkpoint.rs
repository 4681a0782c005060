//! Checkpoints of a store's write-ahead log from a connection of their own.
//!
//! By default the writer checkpoints the log itself: every thousand pages, the commit that
//! crosses the mark also copies the log into the database file and syncs it, so that one
//! commit takes three or four times as long as the others. A server, whose one writer per
//! tenant is the bound of a burst of pushes, opens its files with
//! [`StoreOptions::checkpoint_beside`](super::StoreOptions::checkpoint_beside) and calls
//! [`checkpoint`] from another thread instead: the writer then only appends to the log.
//! A passive checkpoint never waits for the writer or the readers, and never blocks them;
//! what it cannot copy yet (pages a reader still needs, or frames the writer appended
//! meanwhile) the next one copies. The log starts over only once a checkpoint has copied all
//! of it, which checkpoints beside a writer that never pauses might never do: so the writer
//! still checkpoints itself, as a backstop, once the log passes
//! [`WRITER_BACKSTOP_FRAMES`] (then it copies only what the others left).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::Result;

/// The log's length, in pages, past which a writer that leaves checkpoints to others
/// checkpoints itself (64 MiB of 4 KiB pages; SQLite's own default is 1,000 pages).
pub(crate) const WRITER_BACKSTOP_FRAMES: i64 = 16_384;

/// What a checkpoint did: the log's length and how much of it is now in the database file,
/// in pages (frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Frames in the log.
    pub log_frames: u64,
    /// Frames of the log now copied into the database file (all of them: the writer starts
    /// the log over at its next commit).
    pub copied_frames: u64,
}

/// Copies as much of the write-ahead log of the store at `path` into its database file as
/// can be copied without waiting (`PRAGMA wal_checkpoint(PASSIVE)`), on a connection opened
/// for it. For plain (not encrypted) stores, such as a server's.
pub fn checkpoint(path: &Path) -> Result<Checkpointed> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let (log, copied): (i64, i64) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })?;
    Ok(Checkpointed {
        // -1 when the file is not in WAL mode: nothing to copy.
        log_frames: u64::try_from(log).unwrap_or(0),
        copied_frames: u64::try_from(copied).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::{Store, StoreOptions, StoreRead};
    use crate::testing;
    use crate::time::SystemClock;

    fn log_len(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(std::path::PathBuf::from(wal)).map_or(0, |m| m.len())
    }

    /// Opened to checkpoint beside, the writer leaves its log to grow; a checkpoint from
    /// another connection copies it all while the writer's connection stays open, the
    /// writer then starts the log over, and what was written reads back.
    #[test]
    fn the_writer_leaves_the_log_to_a_checkpoint_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite3");
        let options = StoreOptions {
            durable: true,
            checkpoint_beside: true,
            ..StoreOptions::default()
        };
        let mut store = Store::open_with_options(&path, Arc::new(SystemClock), options).unwrap();
        let owner = crate::RecordId::new();
        let mut ids = Vec::new();
        for i in 0..300 {
            let customer = testing::customer(owner, &format!("检查点测试公司{i}"));
            ids.push(store.create(customer).unwrap().header.id);
        }
        // Well past the thousand pages at which the writer would have checkpointed itself
        // by default, short of the backstop.
        let grown = log_len(&path);
        assert!(grown > 2 * 4_120 * 1_000, "the log holds {grown} bytes");

        let done = checkpoint(&path).unwrap();
        assert!(done.log_frames > 2_000, "{done:?}");
        assert_eq!(done.copied_frames, done.log_frames, "{done:?}");

        // The next commit starts the log over: nothing more to copy but its own frames.
        store
            .update::<crate::record::Customer>(ids[0], |c| {
                c.tier = Some("B".into());
                Ok(())
            })
            .unwrap();
        let after = checkpoint(&path).unwrap();
        assert!(after.log_frames < 100, "{after:?}");
        drop(store);
        let store = Store::open(&path).unwrap();
        for id in &ids {
            store.get::<crate::record::Customer>(*id).unwrap();
        }
    }

    #[test]
    fn a_missing_store_is_an_error_not_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.sqlite3");
        assert!(checkpoint(&path).is_err());
        assert!(!path.exists());
    }
}
