//! Signing in, syncing and signing out.
//!
//! A sync holds the engine for its whole run: it applies pages to the store between network
//! round trips, and one writer keeps a screen from reading half a page. Calls made meanwhile
//! wait for it, on the library's threads, never on the caller's. The network part runs on the
//! blocking pool's thread through the runtime, so a cancelled sync is dropped mid-request
//! instead of waiting out a server that does not answer: what was committed stays committed,
//! and the next sync resumes from the last committed page.
//!
//! What a sync applied reaches the change listeners exactly like a screen's write: the change
//! journal watches the store's connection, which the sync writes through.

use std::sync::Arc;
use std::time::Duration;

use fieldsales_core::sync::{self as core_sync, CancelToken, SignIn, SyncOptions as CoreOptions};
use tokio::sync::Notify;

use crate::attachments::{AttachmentUploads, upload_here};
use crate::engine::{Engine, blocking, lock};
use crate::error::FieldsalesError;
use crate::task;

/// What a user signs in with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignInRequest {
    /// The server's base URL, such as `https://sync.example.com`.
    pub server_url: String,
    /// The company's short name on the server.
    pub tenant: String,
    /// The user's login.
    pub login: String,
    /// The password; it is sent once and never stored.
    pub password: String,
    /// A name for this device, shown to admins (`Model of phone`).
    pub device_name: String,
}

/// How a sync retries; [`default_sync_options`] suits a phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncOptions {
    /// Attempts of one request before the sync gives up as offline.
    pub max_attempts: i32,
    /// The first wait between attempts, ms; doubled after each failure, with jitter.
    pub initial_backoff_ms: i64,
    /// The longest wait between attempts, ms.
    pub max_backoff_ms: i64,
    /// How long one request may take, ms.
    pub request_timeout_ms: i64,
    /// Whether the sync also uploads pending photos and files after the records (false on a
    /// metered connection; `upload_attachments` sends them later). Defaults to true.
    #[uniffi(default = true)]
    pub upload_attachments: bool,
}

impl SyncOptions {
    pub(crate) fn checked(&self) -> Result<CoreOptions, FieldsalesError> {
        let invalid = |field: &str, detail: &str| FieldsalesError::InvalidInput {
            field: field.into(),
            detail: detail.into(),
        };
        let max_attempts = u32::try_from(self.max_attempts)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| invalid("options.max_attempts", "must be at least 1"))?;
        let ms = |field: &str, v: i64| {
            u64::try_from(v)
                .map(Duration::from_millis)
                .map_err(|_| invalid(field, "must not be negative"))
        };
        let initial_backoff = ms("options.initial_backoff_ms", self.initial_backoff_ms)?;
        let max_backoff = ms("options.max_backoff_ms", self.max_backoff_ms)?;
        let request_timeout = ms("options.request_timeout_ms", self.request_timeout_ms)?;
        if request_timeout.is_zero() {
            return Err(invalid(
                "options.request_timeout_ms",
                "must be at least 1 ms",
            ));
        }
        if max_backoff < initial_backoff {
            return Err(invalid(
                "options.max_backoff_ms",
                "must not be less than initial_backoff_ms",
            ));
        }
        Ok(CoreOptions {
            max_attempts,
            initial_backoff,
            max_backoff,
            request_timeout,
            ..CoreOptions::default()
        })
    }
}

/// The retry settings a phone uses unless the app has reason to change them.
#[uniffi::export]
pub fn default_sync_options() -> SyncOptions {
    let d = CoreOptions::default();
    SyncOptions {
        max_attempts: crate::signed32(d.max_attempts),
        initial_backoff_ms: crate::signed(d.initial_backoff.as_millis()),
        max_backoff_ms: crate::signed(d.max_backoff.as_millis()),
        request_timeout_ms: crate::signed(d.request_timeout.as_millis()),
        upload_attachments: true,
    }
}

/// How far a running sync got, after each committed page.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// Round trips completed.
    pub rounds: i32,
    /// Pages committed to the store.
    pub pages: i32,
    /// HTTP requests sent, retries included.
    pub requests: i32,
    /// Records pushed.
    pub records_up: i64,
    /// Records received.
    pub records_down: i64,
    /// Records removed because they left the user's view.
    pub records_removed: i64,
    /// Bytes sent, as on the wire.
    pub bytes_up: i64,
    /// Bytes received, as on the wire.
    pub bytes_down: i64,
}

impl From<&core_sync::SyncProgress> for SyncProgress {
    fn from(p: &core_sync::SyncProgress) -> Self {
        SyncProgress {
            rounds: crate::signed32(p.rounds),
            pages: crate::signed32(p.pages),
            requests: crate::signed32(p.requests),
            records_up: crate::signed(p.records_up),
            records_down: crate::signed(p.records_down),
            records_removed: crate::signed(p.records_removed),
            bytes_up: crate::signed(p.bytes_up),
            bytes_down: crate::signed(p.bytes_down),
        }
    }
}

/// A record the server refused in a sync, by the rule that refused it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedRecord {
    /// The record.
    pub record_id: String,
    /// The rule's stable code.
    pub rule: String,
}

/// What a finished sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// The totals.
    pub progress: SyncProgress,
    /// Records the server refused; the user's versions are in `rejected_changes()`.
    pub refused: Vec<RefusedRecord>,
    /// The server's time at the end.
    pub server_time: fieldsales_core::Timestamp,
    /// What the attachment upload after the records did; `None` when it was not asked for
    /// or stopped early (offline, cancelled...): the attachments stay pending for the next
    /// sync or `upload_attachments`, which reports why.
    pub attachments: Option<AttachmentUploads>,
}

/// A change of the user that the server refused, kept so the user can see what was lost
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedChange {
    /// Its number, for `dismiss_rejected_change`.
    pub seq: i64,
    /// The record.
    pub record_id: String,
    /// Its kind.
    pub kind: crate::codes::RecordKind,
    /// The rule's stable code.
    pub rule: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// Why, in words.
    pub detail: String,
    /// When it was refused.
    pub rejected_at: fieldsales_core::Timestamp,
    /// When the user dismissed it.
    pub resolved_at: Option<fieldsales_core::Timestamp>,
}

/// Told how a running sync progresses, on a library thread.
#[uniffi::export(foreign)]
pub trait SyncProgressListener: Send + Sync {
    /// A page was committed.
    fn on_progress(&self, progress: SyncProgress);
}

/// Stops a running sync: pass a fresh one to each `sync` call and call `cancel()` from
/// anywhere. Cancelling the coroutine or Swift task that awaits the sync does the same.
#[derive(Debug, Default, uniffi::Object)]
pub struct SyncCancel {
    pub(crate) token: CancelToken,
    wake: Notify,
}

#[uniffi::export]
impl SyncCancel {
    /// A handle not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stops the sync at once; pages already committed stay. Cancelling twice does nothing.
    pub fn cancel(&self) {
        self.token.cancel();
        self.wake.notify_one();
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// Cancels the sync when the awaiting future is dropped before it finished.
pub(crate) struct CancelOnDrop(pub(crate) Option<Arc<SyncCancel>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.cancel();
        }
    }
}

/// Signs in through the server and opens (or creates) the store at `store_path` for this
/// user, encrypted with `key` when one is given (see `generate_store_key`). A store that
/// belonged to another user is wiped first.
#[uniffi::export(async_runtime = "tokio", default(key = None))]
pub async fn sign_in(
    request: SignInRequest,
    store_path: String,
    key: Option<Vec<u8>>,
) -> Result<Arc<Engine>, FieldsalesError> {
    if request.server_url.trim().is_empty() {
        return Err(FieldsalesError::InvalidInput {
            field: "request.server_url".into(),
            detail: "expected the server's URL such as https://sync.example.com".into(),
        });
    }
    let sign_in = SignIn {
        server_url: request.server_url,
        tenant: request.tenant,
        login: request.login,
        password: request.password,
        device_name: request.device_name,
    };
    let store = blocking(move || crate::engine::open_store(&store_path, key)).await?;
    let core = core_sync::sign_in_store(&sign_in, store).await?;
    blocking(move || Engine::wrap(core)).await
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Pushes this device's changes and pulls what the server has for the user, until both
    /// sides agree. Progress goes to `listener`; `cancel` stops it.
    pub async fn sync(
        self: Arc<Self>,
        options: SyncOptions,
        listener: Option<Arc<dyn SyncProgressListener>>,
        cancel: Arc<SyncCancel>,
    ) -> Result<SyncSummary, FieldsalesError> {
        let upload = options.upload_attachments;
        let options = options.checked()?;
        let runtime = tokio::runtime::Handle::current();
        let mut on_drop = CancelOnDrop(Some(Arc::clone(&cancel)));
        let this = Arc::clone(&self);
        let out =
            blocking(move || this.sync_here(&runtime, &options, upload, listener, &cancel)).await;
        on_drop.0 = None;
        out
    }

    /// Signs out: the server forgets this device's session when it can be reached, and the
    /// local store's files are deleted. Every later call on this engine fails with
    /// `NotSignedIn`.
    pub async fn sign_out(self: Arc<Self>) -> Result<(), FieldsalesError> {
        let core = lock(&self.core)
            .take()
            .ok_or(FieldsalesError::NotSignedIn)?;
        core_sync::sign_out(core).await?;
        Ok(())
    }

    /// The user's changes the server refused and the user has not dismissed yet.
    pub async fn rejected_changes(self: Arc<Self>) -> Result<Vec<RejectedChange>, FieldsalesError> {
        self.read(|e| {
            Ok(e.store()
                .rejected_changes()?
                .into_iter()
                .map(|r| RejectedChange {
                    seq: r.seq,
                    record_id: r.record_id.to_string(),
                    kind: crate::codes::RecordKind::of_code(&r.kind),
                    rule: r.rule,
                    field: r.field,
                    detail: r.detail,
                    rejected_at: r.rejected_at,
                    resolved_at: r.resolved_at,
                })
                .collect())
        })
        .await
    }

    /// Marks a refused change as seen; false when there is no such change.
    pub async fn dismiss_rejected_change(
        self: Arc<Self>,
        seq: i64,
    ) -> Result<bool, FieldsalesError> {
        self.write(move |e| Ok(e.store_mut().dismiss_rejected_change(seq)?))
            .await
    }
}

impl Engine {
    /// Runs the sync on this (blocking-pool) thread, then announces what it applied, also
    /// when it failed or was cancelled after some pages were committed.
    fn sync_here(
        &self,
        runtime: &tokio::runtime::Handle,
        options: &CoreOptions,
        upload: bool,
        listener: Option<Arc<dyn SyncProgressListener>>,
        cancel: &SyncCancel,
    ) -> Result<SyncSummary, FieldsalesError> {
        let report = {
            let mut guard = lock(&self.core);
            let core = guard.as_mut().ok_or(FieldsalesError::NotSignedIn)?;
            let progress = move |p: &core_sync::SyncProgress| {
                if let Some(l) = &listener {
                    let l = Arc::clone(l);
                    let p = SyncProgress::from(p);
                    task::deliver("sync progress listener", move || l.on_progress(p));
                }
            };
            let token = cancel.token.clone();
            let report = runtime.block_on(async {
                let run = core_sync::sync_now(core, options, &progress, &token);
                tokio::select! {
                    r = run => r,
                    () = cancelled(cancel) => Err(core_sync::SyncError::Cancelled),
                }
            });
            let changes = core.take_changes();
            drop(guard);
            match changes {
                Ok(changes) => self.announce(changes),
                Err(e) => tracing::warn!(error = %e, "the change journal could not be read"),
            }
            report?
        };
        // The files go after the records, without holding the engine while they travel.
        let attachments = if upload {
            match upload_here(self, runtime, cancel) {
                Ok(done) => Some(AttachmentUploads::from(done)),
                Err(e) => {
                    tracing::info!(error = %e, "attachments stay pending until the next upload");
                    None
                }
            }
        } else {
            None
        };
        Ok(SyncSummary {
            progress: SyncProgress::from(&report.progress),
            refused: report
                .rejected
                .into_iter()
                .map(|(id, rule)| RefusedRecord {
                    record_id: id.to_string(),
                    rule,
                })
                .collect(),
            server_time: report.server_time,
            attachments,
        })
    }
}

/// Resolves once `cancel` was cancelled (also if that happened before it was awaited).
pub(crate) async fn cancelled(cancel: &SyncCancel) {
    while !cancel.is_cancelled() {
        cancel.wake.notified().await;
    }
}
