//! Group commit: one writer per tenant, many callers per transaction.
//!
//! The sync calls of a tenant (who is asking, pushes, pulls) queue up, and whichever blocking
//! thread takes the tenant's store runs the calls queued at that moment (up to
//! [`MAX_GROUP`]) in one write transaction, each call in its own savepoint (a failing call
//! undoes only itself), commits once and only then answers each caller. Two hundred devices
//! pushing at once thus share a handful of commits instead of waiting for two hundred disk
//! syncs one after another, and a pushing device still hears "accepted" only once its
//! records are on disk. Tenants never wait on each other.
//!
//! The writer only appends to the tenant's write-ahead log: a commit schedules a checkpoint,
//! run [`CHECKPOINT_DELAY`] later from a connection of its own on the blocking pool (one at a
//! time per tenant, covering every commit of that while), instead of the commit that
//! crosses a thousand pages copying them all into the database file and syncing it while
//! every caller of its group waits.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use fieldsales_core::Error;
use fieldsales_core::store::Tx;
use tokio::sync::oneshot;

use super::{SqliteRecords, Tenant, backend};
use crate::model::TenantId;
use crate::store::StoreError;
use crate::telemetry::Metrics;

/// What a queued call hands back once it ran: it answers its caller with the commit's
/// outcome (`Err` carries why the shared commit failed).
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued call: runs inside the shared transaction; `false` when its savepoint could not
/// be closed, which dooms the whole batch.
pub(super) type Job = Box<dyn FnOnce(&mut Tx<'_>) -> (Answer, bool) + Send>;

/// Calls one commit takes at most, oldest first: enough to share a disk sync widely, few
/// enough that the first callers are not held for everyone's work. Calls left queued are run
/// by the threads that queued them (each thread that queues a call drains the queue once).
const MAX_GROUP: usize = 32;

/// How long after the commit that schedules it a checkpoint runs: a busy tenant is
/// checkpointed a few times a second, each time copying what the commits of that while wrote.
const CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

impl Tenant {
    /// Takes the store and runs every queued call in one transaction; returns at once when
    /// another thread already ran them. The size of a committed group goes to `metrics`.
    fn run_queued(&self, metrics: Option<&Metrics>) {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let jobs: Vec<Job> = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = queue.len().min(MAX_GROUP);
            queue.drain(..n).collect()
        };
        if jobs.is_empty() {
            return;
        }
        let mut answers = Vec::with_capacity(jobs.len());
        let committed = store.transaction(|tx| {
            let mut intact = true;
            for job in jobs {
                let (answer, ok) = job(tx);
                answers.push(answer);
                intact &= ok;
            }
            if intact {
                Ok(())
            } else {
                Err(Error::Internal(
                    "a savepoint could not be closed; the batch is rolled back".into(),
                ))
            }
        });
        let committed = committed.map_err(|e| e.to_string());
        match &committed {
            Ok(()) => {
                if let Some(metrics) = metrics {
                    metrics.observe_group_commit(answers.len());
                }
                self.schedule_checkpoint();
            }
            Err(e) => {
                tracing::error!(error = %e, calls = answers.len(), "a tenant's group commit failed");
            }
        }
        for answer in answers {
            answer(committed.clone());
        }
    }

    /// Checkpoints the tenant's log [`CHECKPOINT_DELAY`] from now, unless a checkpoint is
    /// already scheduled or running (it then covers this commit, or the next commit
    /// schedules one that does). A log not checkpointed yet is as durable as the file.
    fn schedule_checkpoint(&self) {
        if self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let flag = Arc::clone(&self.checkpointing);
        let path = self.readers.path().to_path_buf();
        let run = move || {
            if let Err(e) = fieldsales_core::store::checkpoint(&path) {
                tracing::warn!(error = %e, "a tenant's log could not be checkpointed");
            }
            flag.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(CHECKPOINT_DELAY).await;
                    let _ = tokio::task::spawn_blocking(run).await;
                });
            }
            Err(_) => run(),
        }
    }
}

impl SqliteRecords {
    /// Runs `f` in the tenant's next group commit (see the module documentation); answers
    /// once the transaction `f` ran in is committed.
    pub async fn in_group_commit<T, F>(&self, tenant: TenantId, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, Error> + Send + 'static,
    {
        let (send, receive) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx| {
            let (out, intact) = tx.savepoint(f);
            let answer: Answer = Box::new(move |committed| {
                let result = match committed {
                    Ok(()) => out.map_err(backend),
                    Err(why) => Err(backend(std::io::Error::other(why))),
                };
                // The caller may have gone (a dropped request); nothing to tell then.
                let _ = send.send(result);
            });
            (answer, intact)
        });
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found: Arc<Tenant> = this.tenant(tenant)?;
            found
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(job);
            found.run_queued(this.metrics.as_deref());
            Ok::<(), StoreError>(())
        })
        .await
        .map_err(backend)??;
        receive
            .await
            .map_err(|_| backend(std::io::Error::other("the tenant's writer stopped")))?
    }
}
