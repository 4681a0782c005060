//! Graceful shutdown: stop accepting, finish what is in flight, give up after the grace.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokio::sync::{Notify, mpsc};

use crate::support::TestServer;

/// A route that reports when a request arrives and answers only when released.
fn slow_route(arrived: mpsc::Sender<()>, release: Arc<Notify>) -> Router {
    Router::new().route(
        "/test/slow",
        get(move || {
            let arrived = arrived.clone();
            let release = Arc::clone(&release);
            async move {
                let _ = arrived.send(()).await;
                release.notified().await;
                "finished"
            }
        }),
    )
}

async fn refuses_connections(addr: std::net::SocketAddr) -> bool {
    // Bounded: 100 tries over about five seconds.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_slow_request_in_flight_completes_after_shutdown_is_signalled() {
    let (arrived_tx, mut arrived) = mpsc::channel(1);
    let release = Arc::new(Notify::new());
    let mut server = TestServer::builder()
        .extra_routes(slow_route(arrived_tx, Arc::clone(&release)))
        .start()
        .await;

    let client = server.client.clone();
    let url = server.url("/test/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    arrived
        .recv()
        .await
        .expect("the slow request reached its handler");

    let serving = server.shut_down();
    assert!(
        refuses_connections(server.addr).await,
        "new connections must be refused once shutdown is signalled"
    );
    assert!(
        !serving.is_finished(),
        "the server waits for the request in flight"
    );

    release.notify_one();
    let response = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the request finishes")
        .expect("task")
        .expect("the in-flight request is answered, not cut");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "finished");
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops once drained")
        .expect("task")
        .expect("clean shutdown");
}

#[tokio::test]
async fn the_server_stops_after_its_grace_period_even_if_a_request_never_finishes() {
    let (arrived_tx, mut arrived) = mpsc::channel(1);
    let never = Arc::new(Notify::new());
    let mut server = TestServer::builder()
        .setting("SHUTDOWN_GRACE", "300ms")
        .extra_routes(slow_route(arrived_tx, never))
        .start()
        .await;
    let client = server.client.clone();
    let url = server.url("/test/slow");
    let _stuck = tokio::spawn(async move { client.get(url).send().await });
    arrived.recv().await.expect("arrived");

    let started = std::time::Instant::now();
    let serving = server.shut_down();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops after its grace period")
        .expect("task")
        .expect("shutdown reports success");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the grace period is honoured before giving up"
    );
    // What is still running then ends with the process, which exits once `run` returns.
}
