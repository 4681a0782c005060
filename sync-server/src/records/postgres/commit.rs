//! Group commit per instance: many sync calls of a tenant per PostgreSQL transaction.
//!
//! The calls queue up, and one thread per tenant and instance runs the calls queued at that
//! moment (up to [`MAX_GROUP`]):
//!
//! 1. it begins a PostgreSQL transaction and takes the tenant's counter row with
//!    `SELECT … FOR UPDATE` — first, not last: the review must read current facts, so no
//!    other instance may commit a change of this tenant between the moment the read model is
//!    caught up and the commit;
//! 2. it brings the read model up to that counter (usually nothing, or the few documents
//!    another instance committed since this one last looked: pushes catch up before they
//!    queue too), and takes in the calls that queued meanwhile (up to [`MAX_GROUP`]);
//! 3. it runs each call in a savepoint of the read model's transaction (core's review over
//!    core's facts; a failing call undoes only itself), the sequence and holdings collected by
//!    the [`PgLedger`];
//! 4. it writes the documents, the sequence rows and the holdings, then the counter as the
//!    last statement, and commits PostgreSQL;
//! 5. only then it commits the read model and answers the callers.
//!
//! If the process dies between 4 and 5, PostgreSQL has the changes and the read model is
//! behind: it catches up at the next call, as it would from another instance's writes. The
//! heavy work — loading, merging, hydrating and encoding documents — was done before the call
//! queued, on the other cores, outside the lock; what runs under the lock is the review, the
//! read model's writes and a few statements, shared by up to [`MAX_GROUP`] pushes.

use std::sync::{Arc, PoisonError};

use fieldsales_core::Error;
use fieldsales_core::store::Tx;
use tokio::sync::oneshot;

use super::ledger::PgLedger;
use super::model::{self, catch_up_with};
use super::{PostgresRecords, Tenant, backend, uuid};
use crate::model::TenantId;
use crate::store::StoreError;

/// What a queued call hands back once it ran: it answers its caller with the commit's
/// outcome (`Err` carries why the shared commit failed).
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued call: runs inside the shared transactions; `false` when a savepoint could not be
/// closed, which dooms the whole group.
pub(super) type Job = Box<dyn FnOnce(&mut Tx<'_>, &mut PgLedger<'_>) -> (Answer, bool) + Send>;

/// Calls one commit takes at most, oldest first.
pub(super) const MAX_GROUP: usize = 32;

impl PostgresRecords {
    /// Runs `f` in the tenant's next group commit on this instance; answers once PostgreSQL
    /// committed the transaction `f` ran in.
    pub(super) async fn in_group_commit<T, F>(
        &self,
        tenant: TenantId,
        f: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, &mut PgLedger<'_>) -> Result<T, Error> + Send + 'static,
    {
        let (send, receive) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx, ledger| {
            ledger.begin_call();
            let (out, intact) = tx.savepoint(|tx| f(tx, ledger));
            let closed = ledger.end_call(out.is_ok());
            let answer: Answer = Box::new(move |committed| {
                let result = match committed {
                    Ok(()) => out.map_err(backend),
                    Err(why) => Err(backend(std::io::Error::other(why))),
                };
                // The caller may have gone (a dropped request); nothing to tell then.
                let _ = send.send(result);
            });
            (answer, intact && closed)
        });
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found: Arc<Tenant> = this.tenant(tenant)?;
            found
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(job);
            this.run_queued(&found);
            Ok::<(), StoreError>(())
        })
        .await
        .map_err(backend)??;
        receive
            .await
            .map_err(|_| backend(std::io::Error::other("the tenant's writer stopped")))?
    }

    /// Takes the tenant's runner and runs the calls queued now in one group; returns at once
    /// when another thread already ran them. Blocking.
    fn run_queued(&self, tenant: &Tenant) {
        let _runner = tenant.runner.lock().unwrap_or_else(PoisonError::into_inner);
        let jobs: Vec<Job> = {
            let mut queue = tenant.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = queue.len().min(MAX_GROUP);
            queue.drain(..n).collect()
        };
        if jobs.is_empty() {
            return;
        }
        let mut answers = Vec::with_capacity(MAX_GROUP);
        let committed = self.group(tenant, jobs, &mut answers);
        let committed = committed.map_err(|e| e.to_string());
        // The calls that ran, with those that joined while the group waited for its lock.
        let calls = answers.len();
        match &committed {
            Ok(()) => {
                if let Some(metrics) = &self.inner.metrics {
                    metrics.observe_group_commit(calls);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, calls, "a tenant's group commit failed");
            }
        }
        // A call that failed before it ran (the group could not start) still hears why.
        for answer in answers {
            answer(committed.clone());
        }
    }

    /// One group: see the module documentation. `answers` receives each call's answer as it
    /// runs.
    fn group(
        &self,
        tenant: &Tenant,
        mut jobs: Vec<Job>,
        answers: &mut Vec<Answer>,
    ) -> Result<(), StoreError> {
        let handle = &self.inner.handle;
        let tenant_id = uuid(tenant.id.as_bytes());
        let mut conn = handle.block_on(super::client(&self.inner.pool))?;
        if !model::counted(tenant) {
            handle
                .block_on(conn.execute(
                    "INSERT INTO tenant_counter (tenant_id, seq, relogged_at) VALUES ($1, 0, 0)
                     ON CONFLICT (tenant_id) DO NOTHING",
                    &[&tenant_id],
                ))
                .map_err(backend)?;
            model::set_counted(tenant);
        }
        let pg = handle.block_on(conn.transaction()).map_err(backend)?;
        let counter = handle
            .block_on(crate::postgres::query_one(
                &pg,
                "SELECT seq, relogged_at FROM tenant_counter WHERE tenant_id = $1 FOR UPDATE",
                &[&tenant_id],
            ))
            .map_err(backend)?;
        let (seq, relogged_at): (i64, i64) = (counter.get(0), counter.get(1));
        let mut store = tenant.model.lock().unwrap_or_else(PoisonError::into_inner);
        let reached = catch_up_with(&mut store, &pg, handle, tenant_id)?;
        if reached != seq {
            return Err(StoreError::Corrupt {
                detail: format!(
                    "the read model of tenant {} reached {reached}, the counter reads {seq}",
                    tenant.id
                ),
            });
        }
        // Calls that queued while this group waited for the counter row join it: the lock
        // is held for them anyway, and each commit costs its round trips and its disk sync.
        {
            let mut queue = tenant.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let more = queue.len().min(MAX_GROUP.saturating_sub(jobs.len()));
            jobs.extend(queue.drain(..more));
        }
        let mut ledger = PgLedger::new(pg, handle.clone(), tenant_id, seq, relogged_at);
        store
            .transaction(move |tx| {
                let mut intact = true;
                for job in jobs {
                    let (answer, ok) = job(tx, &mut ledger);
                    answers.push(answer);
                    intact &= ok;
                }
                if !intact {
                    return Err(Error::Internal(
                        "a savepoint could not be closed; the group is rolled back".into(),
                    ));
                }
                // The read model is now PostgreSQL's state at the group's last number; it
                // commits after PostgreSQL does, or not at all.
                model::set_cursor(tx, ledger.last())?;
                ledger.commit()
            })
            .map_err(backend)
    }
}
