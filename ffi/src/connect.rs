//! Sync as a service: [`Engine::connect`] keeps a signed-in device in sync on its own — after
//! local changes (once they settle), on a timer, at once when the app says the network came
//! back — retrying failures with a growing wait, and tells a [`SyncStatusListener`] where it
//! stands (syncing, waiting, connected or not, last synced, last error, changes waiting to
//! go up). The loop runs on the library's runtime, so it goes on while no app code polls it;
//! it ends when [`SyncConnection::disconnect`] is called or the connection is dropped, and
//! stops by itself when the session can no longer sync (expired, revoked, signed out), which
//! only the user can mend.
//!
//! A local write is told from a sync's own applied pages by the outbox: a change event that
//! leaves changes waiting to go up starts a sync; one that leaves none (a pulled page) does
//! not, so a sync never triggers another.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::engine::{ChangeEvent, ChangeListener, Engine};
use crate::error::FieldsalesError;
use crate::sync::{SyncCancel, SyncOptions, SyncProgress, SyncProgressListener};
use crate::task;

/// How a connection paces itself. Times in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSchedule {
    /// Sync at least this often while connected.
    pub every_ms: i64,
    /// After a local change, wait this long for more before syncing (a form saved field by
    /// field goes up in one sync).
    pub settle_ms: i64,
    /// The first wait after a failed sync; each failure in a row doubles it.
    pub retry_first_ms: i64,
    /// The longest wait after failures.
    pub retry_longest_ms: i64,
}

/// Five minutes between syncs, two seconds for changes to settle, retries from five seconds
/// doubling up to five minutes.
#[uniffi::export]
pub fn default_sync_schedule() -> SyncSchedule {
    SyncSchedule {
        every_ms: 300_000,
        settle_ms: 2_000,
        retry_first_ms: 5_000,
        retry_longest_ms: 300_000,
    }
}

/// A checked schedule.
#[derive(Debug, Clone, Copy)]
struct Pace {
    every: Duration,
    settle: Duration,
    retry_first: Duration,
    retry_longest: Duration,
}

impl SyncSchedule {
    fn checked(&self) -> Result<Pace, FieldsalesError> {
        let ms = |field: &str, v: i64, least: i64| {
            if v < least || v > 86_400_000 {
                Err(FieldsalesError::InvalidInput {
                    field: format!("schedule.{field}"),
                    detail: format!("{v} ms; expected {least} ms to one day"),
                })
            } else {
                Ok(Duration::from_millis(v as u64))
            }
        };
        let pace = Pace {
            every: ms("every_ms", self.every_ms, 1_000)?,
            settle: ms("settle_ms", self.settle_ms, 0)?,
            retry_first: ms("retry_first_ms", self.retry_first_ms, 100)?,
            retry_longest: ms("retry_longest_ms", self.retry_longest_ms, 100)?,
        };
        if pace.retry_longest < pace.retry_first {
            return Err(FieldsalesError::InvalidInput {
                field: "schedule.retry_longest_ms".into(),
                detail: "shorter than retry_first_ms".into(),
            });
        }
        Ok(pace)
    }
}

/// What the connection is doing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncActivity {
    /// A sync is running: its records so far.
    Syncing {
        /// Records sent up so far.
        uploaded: i64,
        /// Records received so far.
        downloaded: i64,
    },
    /// Waiting for the next sync, at the latest at this instant (ms).
    Waiting {
        /// When the next sync starts unless a change or the network starts it sooner.
        next_at: fieldsales_core::Timestamp,
    },
    /// Disconnected, or the session can no longer sync (see `last_error`).
    Stopped,
}

/// Where continuous sync stands.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    /// What the connection is doing.
    pub activity: SyncActivity,
    /// Whether the last sync reached the server and finished.
    pub connected: bool,
    /// When a sync last finished (ms).
    pub last_synced_at: Option<fieldsales_core::Timestamp>,
    /// Why the last sync failed, when it did (cleared by the next that succeeds).
    pub last_error: Option<String>,
    /// The last failure is one only the user can mend (the session expired or was revoked,
    /// the store's key is wrong): the connection stopped; sign in again.
    pub needs_user: bool,
    /// Local changes waiting to go up.
    pub pending_changes: i64,
    /// Failed syncs in a row.
    pub failures: i32,
}

/// Told every change of a connection's [`SyncStatus`]. Called on a library thread; hand it
/// to the UI thread and return quickly.
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    /// The status changed.
    fn on_status(&self, status: SyncStatus);
}

/// What the loop and the app's handle share.
struct Shared {
    status: Mutex<SyncStatus>,
    listener: Arc<dyn SyncStatusListener>,
    /// Sync now (the network came back, pull-to-refresh).
    now: Notify,
    /// A local change happened.
    changed: Notify,
    /// Stop.
    stop: Notify,
    /// The running sync, to cancel it on disconnect.
    running: Mutex<Option<Arc<SyncCancel>>>,
}

impl Shared {
    fn update(&self, change: impl FnOnce(&mut SyncStatus)) {
        let status = {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut status);
            status.clone()
        };
        let listener = Arc::clone(&self.listener);
        task::deliver("sync status listener", move || listener.on_status(status));
    }
}

/// A running continuous sync. Keep it for as long as the device should stay in sync.
#[derive(uniffi::Object)]
pub struct SyncConnection {
    shared: Arc<Shared>,
    /// The loop, to tell whether it ended. Not aborted on drop: told to stop, it ends by
    /// itself and reports `Stopped` last.
    task: tokio::task::AbortHandle,
    _changes: Arc<crate::engine::ChangeSubscription>,
}

#[uniffi::export]
impl SyncConnection {
    /// Syncs at once, skipping any wait (the network came back, the user pulled to refresh);
    /// the retry wait starts over.
    pub fn sync_soon(&self) {
        self.shared.now.notify_one();
    }

    /// Stops: a running sync is cancelled (pages already committed stay) and no other
    /// starts. The status ends `Stopped`.
    pub fn disconnect(&self) {
        self.shared.stop.notify_one();
        if let Some(cancel) = self
            .shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            cancel.cancel();
        }
    }

    /// The status now.
    pub fn status(&self) -> SyncStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the loop has ended (disconnected, or the session can no longer sync).
    pub fn is_stopped(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SyncConnection {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// Wakes the loop on local changes.
struct OnChange(Arc<Shared>);

impl ChangeListener for OnChange {
    fn on_change(&self, _event: ChangeEvent) {
        self.0.changed.notify_one();
    }
}

/// Reports a running sync's progress as the status.
struct OnProgress(Arc<Shared>);

impl SyncProgressListener for OnProgress {
    fn on_progress(&self, progress: SyncProgress) {
        self.0.update(|s| {
            s.activity = SyncActivity::Syncing {
                uploaded: progress.records_up,
                downloaded: progress.records_down,
            }
        });
    }
}

fn now() -> fieldsales_core::Timestamp {
    fieldsales_core::Timestamp::now()
}

/// Whether a failure is one only the user can mend: retrying would not help.
fn is_final(e: &FieldsalesError) -> bool {
    matches!(
        e,
        FieldsalesError::AuthExpired
            | FieldsalesError::Revoked { .. }
            | FieldsalesError::BadCredentials
            | FieldsalesError::NotSignedIn
            | FieldsalesError::WrongKey
    )
}

#[uniffi::export]
impl Engine {
    /// Starts continuous sync: a sync now, then after local changes, every
    /// `schedule.every_ms`, and whenever [`SyncConnection::sync_soon`] is called; failures are
    /// retried after a growing wait. `listener` hears every status change. Keep the returned
    /// connection; disconnecting or dropping it stops the sync.
    pub fn connect(
        self: Arc<Self>,
        options: SyncOptions,
        schedule: SyncSchedule,
        listener: Arc<dyn SyncStatusListener>,
    ) -> Result<Arc<SyncConnection>, FieldsalesError> {
        let pace = schedule.checked()?;
        options.checked()?;
        let shared = Arc::new(Shared {
            status: Mutex::new(SyncStatus {
                activity: SyncActivity::Waiting { next_at: now() },
                connected: false,
                last_synced_at: None,
                last_error: None,
                needs_user: false,
                pending_changes: 0,
                failures: 0,
            }),
            listener,
            now: Notify::new(),
            changed: Notify::new(),
            stop: Notify::new(),
            running: Mutex::new(None),
        });
        let changes = self.observe_changes(Arc::new(OnChange(Arc::clone(&shared))));
        let task = task::runtime()?
            .spawn(run(self, options, pace, Arc::clone(&shared)))
            .abort_handle();
        Ok(Arc::new(SyncConnection {
            shared,
            task,
            _changes: changes,
        }))
    }
}

/// The loop: sync, then wait for the timer, a settled local change or a nudge.
async fn run(engine: Arc<Engine>, options: SyncOptions, pace: Pace, shared: Arc<Shared>) {
    let mut failures: u32 = 0;
    loop {
        let cancel = SyncCancel::new();
        *shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&cancel));
        shared.update(|s| {
            s.activity = SyncActivity::Syncing {
                uploaded: 0,
                downloaded: 0,
            }
        });
        let listener: Arc<dyn SyncProgressListener> = Arc::new(OnProgress(Arc::clone(&shared)));
        let outcome = tokio::select! {
            outcome = Arc::clone(&engine).sync(options.clone(), Some(listener), Arc::clone(&cancel)) => Some(outcome),
            () = shared.stop.notified() => None,
        };
        *shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        let pending = Arc::clone(&engine).pending_count().await.unwrap_or(0) as i64;
        let Some(outcome) = outcome else {
            cancel.cancel();
            break;
        };
        let stop = match outcome {
            Ok(_) => {
                failures = 0;
                shared.update(|s| {
                    s.connected = true;
                    s.last_synced_at = Some(now());
                    s.last_error = None;
                    s.failures = 0;
                    s.pending_changes = pending;
                });
                false
            }
            Err(FieldsalesError::Cancelled) => true,
            Err(e) => {
                failures = failures.saturating_add(1);
                let last = is_final(&e);
                shared.update(|s| {
                    s.connected = false;
                    s.last_error = Some(e.to_string());
                    s.needs_user = last;
                    s.failures = failures as i32;
                    s.pending_changes = pending;
                });
                last
            }
        };
        if stop {
            break;
        }
        let wait = if failures == 0 {
            pace.every
        } else {
            let doubled = pace
                .retry_first
                .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
            doubled.min(pace.retry_longest)
        };
        let until = Instant::now() + wait;
        shared.update(|s| {
            s.activity = SyncActivity::Waiting {
                next_at: now().plus_millis(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
            }
        });
        if !wait_for_turn(&engine, &shared, until, pace.settle, &mut failures).await {
            break;
        }
    }
    shared.update(|s| s.activity = SyncActivity::Stopped);
}

/// Waits until `until`, a nudge, or a local change that leaves changes to send (after it
/// settles); false when told to stop.
async fn wait_for_turn(
    engine: &Arc<Engine>,
    shared: &Shared,
    until: Instant,
    settle: Duration,
    failures: &mut u32,
) -> bool {
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(until) => return true,
            () = shared.now.notified() => {
                // The network is back: the retry wait starts over.
                *failures = 0;
                return true;
            }
            () = shared.stop.notified() => return false,
            () = shared.changed.notified() => {
                tokio::select! {
                    () = tokio::time::sleep(settle) => {}
                    () = shared.stop.notified() => return false,
                }
                let pending = Arc::clone(engine).pending_count().await.unwrap_or(0);
                if pending > 0 {
                    return true;
                }
            }
        }
    }
}
