//! Serving the router over a bound listener, in plain HTTP or TLS, with graceful shutdown.
//!
//! The listener is bound by the caller, so tests bind `127.0.0.1:0` and read the port back.
//! On shutdown the server stops accepting at once, lets in-flight requests finish (idle
//! keep-alive connections are closed), and after the grace period returns regardless; the
//! process then exits, which ends whatever was still running.
//!
//! TLS is rustls on the `ring` provider. Handshakes run in their own tasks, so a slow or
//! silent client cannot hold up accepting others.
//!
//! A flood of connections is bounded: at most `limits.connections` are open at once (then the
//! server stops accepting until one closes), a client must send each request's headers within
//! `limits.header_read_timeout` (an idle keep-alive connection is closed after as long), and
//! an HTTP/2 connection carries a bounded number of requests at once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::{Config, TlsFiles};

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A certificate or key file could not be read or parsed.
    #[error("TLS file {path}: {reason}")]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificate and key together.
    #[error("TLS configuration refused: {0}")]
    Tls(#[from] rustls::Error),
    /// The listener failed.
    #[error("listener failed: {0}")]
    Io(#[from] io::Error),
}

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests one HTTP/2 connection may have in flight at once.
const MAX_STREAMS_PER_CONNECTION: u32 = 64;

/// Loads the certificate chain and key into a rustls acceptor.
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let file_error = |path: &Path, reason: String| ServeError::TlsFile {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error(&files.cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error(&files.cert, "no certificate found".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error(&files.key, format!("no private key read: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener that hands out connections whose TLS handshake has completed.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    /// Wraps a bound listener; at most `max_handshakes` handshakes run at once (further
    /// connections wait in the listen backlog).
    pub fn new(
        listener: TcpListener,
        acceptor: TlsAcceptor,
        max_handshakes: usize,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let handshakes = Arc::new(Semaphore::new(max_handshakes.max(1)));
        let acceptor_task = tokio::spawn(async move {
            loop {
                let Ok(permit) = handshakes.clone().acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = match listener.accept().await {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                    drop(permit);
                });
            }
        });
        Ok(TlsListener {
            ready,
            local,
            acceptor_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Closes the TCP listener: no connection is accepted after shutdown starts.
        self.acceptor_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The acceptor task ended (it never does while the listener lives).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// The address a connection came from, for the handlers that slow down repeated failures
/// per address (`Extension<ConnectInfo<PeerAddr>>`; absent when a router is called without
/// a connection, as in-process tests do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// How connections are served: the grace period on shutdown and the limits that keep a flood
/// of connections from exhausting the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long in-flight requests may run after shutdown starts.
    pub grace: Duration,
    /// Connections held open at once; beyond it the server stops accepting until one closes
    /// (the operating system queues the rest in the listen backlog).
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection stays open waiting for the next request.
    pub header_read_timeout: Duration,
}

impl ServeOptions {
    /// The options a configuration asks for.
    pub fn from_config(config: &Config) -> Self {
        ServeOptions {
            grace: config.shutdown_grace,
            max_connections: config.limits.connections,
            header_read_timeout: config.limits.header_read_timeout,
        }
    }
}

/// Serves `router` on `listener` (TLS when `tls` is given) until `shutdown` completes, then
/// waits for in-flight requests for at most `options.grace`. Connections still open when the
/// grace period ends are not aborted here: they end when the process exits.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let local = listener.local_addr()?;
    let drained = match tls {
        None => {
            tracing::info!(address = %local, "serving HTTP");
            run(router, listener, options, shutdown).await
        }
        Some(acceptor) => {
            tracing::info!(address = %local, "serving HTTPS");
            let listener = TlsListener::new(listener, acceptor, options.max_connections)?;
            run(router, listener, options, shutdown).await
        }
    };
    if drained {
        tracing::info!("shutdown complete");
    } else {
        tracing::warn!(grace = ?options.grace, "shutdown grace period over: requests still running end with the process");
    }
    Ok(())
}

/// The accept loop: one task per connection, each holding a permit of the connection limit,
/// served by hyper with a timer so that the header read timeout applies. Returns whether
/// every connection finished within the grace period.
async fn run<L>(
    router: Router,
    mut listener: L,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> bool
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(options.header_read_timeout)
        .keep_alive_timeout(options.header_read_timeout)
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full_since: Option<std::time::Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if full_since.is_none() {
                    tracing::warn!(
                        limit = options.max_connections,
                        "connection limit reached: new connections wait in the backlog"
                    );
                    full_since = Some(std::time::Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        if let Some(since) = full_since.take() {
            tracing::info!(waited = ?since.elapsed(), "connection limit: accepting again");
        }
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(PeerAddr(peer)));
                request
            },
        );
        let connection = builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutdown: no new connections; finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => true,
        () = tokio::time::sleep(options.grace) => false,
    }
}

/// Completes on Ctrl-C or SIGTERM (what service managers and containers send).
///
/// The signals are taken over when this is called, not when the future is first polled: a
/// signal arriving between "serving" and the first poll stops the server gracefully instead
/// of killing it. Call it inside the runtime, before announcing that the server is up.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let taken = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        match taken {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            (interrupt, terminate) => {
                if let Err(e) = interrupt.and(terminate) {
                    tracing::error!(error = %e, "cannot listen for Ctrl-C or SIGTERM");
                }
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}
