//! Long-running work handed to the app, and the runtime it runs on.
//!
//! Async exports (`suspend` in Kotlin, `async` in Swift) are polled by the app's own executor;
//! uniffi's tokio integration gives them a tokio context while they run, which is all a
//! single request needs. Work that outlives the call that started it (watching the local
//! clock today; syncing and change feeds later) must be spawned somewhere that keeps running
//! when no app code polls it: that is the library's own multi-thread [`runtime`].
//!
//! Such work is always handed out as a [`TaskHandle`]. Dropping the handle (in Kotlin,
//! `close()` or the garbage collector; in Swift, releasing the last reference) aborts the work,
//! so a screen that goes away can never leave a task running in the background by mistake.

use std::future::Future;
use std::sync::{Arc, LazyLock};

use tokio::runtime::Runtime;
use tokio::task::AbortHandle;

use crate::error::FieldsalesError;

/// Worker threads of the library runtime. Phone work is I/O and SQLite, not computation, and
/// every thread costs memory on a phone: two keep one free while the other waits.
const WORKER_THREADS: usize = 2;

static RUNTIME: LazyLock<std::io::Result<Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("fieldsales-worker")
        .enable_all()
        .build()
});

/// The runtime that long-running work is spawned on, started on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, FieldsalesError> {
    RUNTIME.as_ref().map_err(|e| FieldsalesError::Internal {
        detail: format!("the background runtime could not start: {e}"),
    })
}

/// Work running in the background on behalf of the app.
///
/// Keep the handle for as long as the work should go on: the work stops when the handle is
/// cancelled or dropped.
#[derive(Debug, uniffi::Object)]
pub struct TaskHandle {
    abort: AbortHandle,
}

impl TaskHandle {
    /// Spawns `work` on the library runtime.
    pub(crate) fn spawn<F>(work: F) -> Result<Arc<TaskHandle>, FieldsalesError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let join = runtime()?.spawn(work);
        Ok(Arc::new(TaskHandle {
            abort: join.abort_handle(),
        }))
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the work. It will not call back again once it has seen the cancellation, which is
    /// at its next pause; cancelling twice, or after the work ended, does nothing.
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// Whether the work has ended: finished, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }
}

/// Calls one of the app's listeners. A listener that throws (a bug in the app) loses that one
/// event; it must not end the work that feeds it, so the failure is logged and swallowed.
pub(crate) fn deliver(what: &str, call: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).is_err() {
        tracing::warn!(listener = what, "a listener failed; its event was dropped");
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::oneshot;

    /// Work that never ends on its own and reports, through `dropped`, when it is torn down.
    fn endless_work() -> (
        impl Future<Output = ()> + Send + 'static,
        oneshot::Receiver<()>,
    ) {
        struct TellOnDrop(Option<oneshot::Sender<()>>);
        impl Drop for TellOnDrop {
            fn drop(&mut self) {
                if let Some(tx) = self.0.take() {
                    let _ = tx.send(());
                }
            }
        }
        let (tx, rx) = oneshot::channel();
        let guard = TellOnDrop(Some(tx));
        let work = async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        };
        (work, rx)
    }

    fn torn_down_within_a_second(rx: oneshot::Receiver<()>) -> bool {
        let waited = runtime()
            .unwrap()
            .block_on(async { tokio::time::timeout(Duration::from_secs(1), rx).await });
        matches!(waited, Ok(Ok(())))
    }

    #[test]
    fn cancelling_a_task_stops_its_work() {
        let (work, dropped) = endless_work();
        let handle = TaskHandle::spawn(work).unwrap();
        assert!(!handle.is_finished());
        handle.cancel();
        assert!(torn_down_within_a_second(dropped));
        // The work's state is dropped a moment before the runtime marks the task finished.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while !handle.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(handle.is_finished());
        handle.cancel(); // a second cancel is harmless
    }

    #[test]
    fn a_screen_that_drops_its_handle_stops_the_work() {
        let (work, dropped) = endless_work();
        let handle = TaskHandle::spawn(work).unwrap();
        drop(handle);
        assert!(torn_down_within_a_second(dropped));
    }

    #[test]
    fn work_that_ends_on_its_own_reports_finished() {
        let handle = TaskHandle::spawn(async {}).unwrap();
        for _ in 0..100 {
            if handle.is_finished() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("a task with nothing to do did not finish within a second");
    }
}
