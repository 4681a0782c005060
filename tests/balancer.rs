//! A round-robin load balancer in front of several server instances: each HTTP request goes
//! to the next instance in turn, so a device's consecutive syncs land on different instances.
//! Like a real one, it passes a request on to the next instance when one refuses the
//! connection (it is down), and answers 502 when an instance fails mid-request (the request
//! may have done its work: only the device may decide to retry). A test may arm it to kill an
//! instance while that instance handles a request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// A running balancer.
pub struct Balancer {
    /// `http://127.0.0.1:port` of the balancer.
    pub base: String,
    /// Its address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    instances: Vec<SocketAddr>,
    next: AtomicUsize,
    /// Requests each instance answered.
    served: Vec<AtomicUsize>,
    client: reqwest::Client,
    /// The next request to a path starting so goes to this instance, whose process is
    /// killed this long after the request left.
    armed: Mutex<Option<Armed>>,
    /// Requests an armed kill cut while the instance handled them.
    cut: AtomicUsize,
}

struct Armed {
    path: String,
    instance: usize,
    pid: u32,
    after: Duration,
}

/// Headers that belong to one hop.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "host",
    "content-length",
];

impl Balancer {
    /// Balances over `instances`.
    pub async fn start(instances: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            served: instances.iter().map(|_| AtomicUsize::new(0)).collect(),
            instances,
            next: AtomicUsize::new(0),
            armed: Mutex::new(None),
            cut: AtomicUsize::new(0),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .expect("client"),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Balancer {
            base: format!("http://{addr}"),
            addr,
            shared,
            task,
        }
    }

    /// Sends the next request whose path starts with `path` to `instance` and kills the
    /// process `pid` (that instance) `after` the request left, while the instance handles it.
    pub fn kill_during_next(&self, path: &str, instance: usize, pid: u32, after: Duration) {
        *self
            .shared
            .armed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Armed {
            path: path.to_owned(),
            instance,
            pid,
            after,
        });
    }

    /// How many requests an armed kill cut while the instance handled them.
    pub fn cut(&self) -> usize {
        self.shared.cut.load(Ordering::SeqCst)
    }

    /// How many requests each instance answered.
    pub fn served(&self) -> Vec<usize> {
        self.shared
            .served
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, 256 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut first = shared.next.fetch_add(1, Ordering::SeqCst);
    let n = shared.instances.len();
    let kill = {
        let mut armed = shared.armed.lock().unwrap_or_else(PoisonError::into_inner);
        match armed.as_ref() {
            Some(a) if path.starts_with(&a.path) => armed.take(),
            _ => None,
        }
    };
    if let Some(kill) = &kill {
        first = kill.instance;
        let (pid, after) = (kill.pid, kill.after);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            crate::kill_pid(pid);
        });
    }
    for i in 0..n {
        let which = (first + i) % n;
        let mut outgoing = shared.client.request(
            parts.method.clone(),
            format!("http://{}{path}", shared.instances[which]),
        );
        for (name, value) in &parts.headers {
            if !HOP.contains(&name.as_str()) {
                outgoing = outgoing.header(name, value);
            }
        }
        match outgoing.body(body.clone()).send().await {
            Ok(answer) => {
                shared.served[which].fetch_add(1, Ordering::SeqCst);
                let status = answer.status();
                let headers = answer.headers().clone();
                let Ok(bytes) = answer.bytes().await else {
                    return StatusCode::BAD_GATEWAY.into_response();
                };
                let mut response = Response::new(Body::from(bytes));
                *response.status_mut() = status;
                for (name, value) in &headers {
                    if !HOP.contains(&name.as_str()) {
                        response.headers_mut().insert(name.clone(), value.clone());
                    }
                }
                return response;
            }
            // The instance is down: the next one takes the request.
            Err(e) if e.is_connect() && kill.is_none() => continue,
            Err(_) => {
                if kill.is_some() {
                    shared.cut.fetch_add(1, Ordering::SeqCst);
                }
                return StatusCode::BAD_GATEWAY.into_response();
            }
        }
    }
    StatusCode::BAD_GATEWAY.into_response()
}
