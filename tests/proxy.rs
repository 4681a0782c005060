//! A TCP proxy between devices and the server that keeps every byte the server sent, and can
//! cut a connection once the server has answered but before the device sees the answer, or
//! answer in the server's place that it is too busy (503 with `Retry-After`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:port` of the proxy.
    pub base: String,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    doomed: Arc<AtomicUsize>,
    busy: Arc<AtomicUsize>,
    busy_retry_after: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<Instant>>>,
    relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let doomed = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let busy_retry_after = Arc::new(AtomicUsize::new(1));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let relays = Arc::new(Mutex::new(Vec::new()));
        let (r, d) = (Arc::clone(&received), Arc::clone(&doomed));
        let running = Arc::clone(&relays);
        let (b, after, a) = (
            Arc::clone(&busy),
            Arc::clone(&busy_retry_after),
            Arc::clone(&accepted),
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if let Ok(mut times) = a.lock() {
                    times.push(Instant::now());
                }
                if b.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    tokio::spawn(answer_busy(client, after.load(Ordering::SeqCst)));
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (r, d) = (Arc::clone(&r), Arc::clone(&d));
                let relay = tokio::spawn(relay(client, server, r, d));
                if let Ok(mut running) = running.lock() {
                    running.push(relay.abort_handle());
                }
            }
        });
        Proxy {
            base,
            received,
            doomed,
            busy,
            busy_retry_after,
            accepted,
            relays,
            task,
        }
    }

    /// The next `n` connections are answered by the proxy itself: 503 `overloaded` with
    /// `Retry-After: retry_after` seconds, as a server with every sync turn taken answers.
    pub fn answer_busy_next(&self, n: usize, retry_after: usize) {
        self.busy_retry_after.store(retry_after, Ordering::SeqCst);
        self.busy.store(n, Ordering::SeqCst);
    }

    /// Closes every connection relayed so far (a device's next request opens a new one).
    pub fn close_connections(&self) {
        if let Ok(mut running) = self.relays.lock() {
            for relay in running.drain(..) {
                relay.abort();
            }
        }
    }

    /// When each connection through the proxy was accepted, in order.
    pub fn connection_times(&self) -> Vec<Instant> {
        self.accepted.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// The next `n` answers are cut: their connection closes as the server's first answer
    /// bytes arrive, so the server has done the work and the device never hears of it.
    pub fn cut_next_answers(&self, n: usize) {
        self.doomed.store(n, Ordering::SeqCst);
    }

    /// Every HTTP response body the server sent through this proxy, inflated when gzip.
    pub fn response_bodies(&self) -> Vec<Vec<u8>> {
        let streams = self.received.lock().map(|s| s.clone()).unwrap_or_default();
        streams.iter().flat_map(|s| split_responses(s)).collect()
    }

    /// Total bytes the server sent through the proxy.
    pub fn bytes_from_server(&self) -> usize {
        self.received
            .lock()
            .map(|s| s.iter().map(Vec::len).sum())
            .unwrap_or(0)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    doomed: Arc<AtomicUsize>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let index = match received.lock() {
        Ok(mut all) => {
            all.push(Vec::new());
            all.len() - 1
        }
        Err(_) => return,
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Ok(mut all) = received.lock() {
            all[index].extend_from_slice(&buf[..n]);
        }
        let doom = doomed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if doom {
            // The server answered, so it committed; the device gets a dead connection.
            break;
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
    let _ = client_write.shutdown().await;
}

/// Reads the request's head and answers 503 with `Retry-After`, then closes.
async fn answer_busy(mut client: TcpStream, retry_after: usize) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while find(&head, b"\r\n\r\n").is_none() && head.len() < 64 * 1024 {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = br#"{"code":"overloaded","detail":"busy"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: {retry_after}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.write_all(body).await;
    let _ = client.shutdown().await;
}

/// Splits an HTTP/1.1 byte stream into response bodies (Content-Length framed).
fn split_responses(mut stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(end) = find(stream, b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&stream[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let start = end + 4;
        let stop = (start + length).min(stream.len());
        let body = &stream[start..stop];
        let gzip = head.contains("content-encoding: gzip");
        out.push(if gzip {
            let mut inflated = Vec::new();
            let _ =
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut inflated);
            inflated
        } else {
            body.to_vec()
        });
        stream = &stream[stop..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}
