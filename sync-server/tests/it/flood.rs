//! A flood of connections or syncs is bounded: a client that never finishes its headers is
//! disconnected, connections beyond the limit wait for a free one, syncs beyond the turns are
//! shed with 503 and `Retry-After`, and a push carries a bounded number of records.

use std::time::{Duration, Instant};

use fieldsales_core::RecordId;
use fieldsales_core::sync::protocol::{
    self, Bytes, CONTENT_TYPE, PROTOCOL_VERSION, PushRecord, SyncRequest, SyncResponse,
};
use fieldsales_server::ErrorCode;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{SignIn, TestServer, rep_with_profile};

/// Reads whatever arrives within `wait`: `Some(bytes)` (empty when the server closed the
/// connection) or `None` when nothing came at all.
async fn read_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        Ok(Err(_)) => Some(Vec::new()),
        Err(_) => None,
    }
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: fieldsales\r\n\r\n";

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = TestServer::builder()
        .setting("LIMITS__HEADER_READ_TIMEOUT", "1s")
        .start()
        .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: fieldsales\r\nContent-Type: ")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_within(&mut slow, Duration::from_secs(20)).await;
    let waited = started.elapsed();
    let answer = answer.expect("the server closes a connection whose headers never end");
    assert!(
        answer.is_empty() || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "the half-sent request got no answer but a close: {}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed after the timeout, not at once ({waited:?})"
    );

    // A client that sends its request whole is answered as ever.
    let mut whole = TcpStream::connect(server.addr).await.unwrap();
    whole.write_all(HEALTH).await.unwrap();
    let answer = read_within(&mut whole, Duration::from_secs(20))
        .await
        .expect("an answer");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let server = TestServer::builder()
        .setting("LIMITS__CONNECTIONS", "2")
        .start()
        .await;
    // Two keep-alive connections, each answered once and held open.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        conn.write_all(HEALTH).await.unwrap();
        let answer = read_within(&mut conn, Duration::from_secs(20))
            .await
            .expect("an answer");
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
        held.push(conn);
    }
    // A third connects (the operating system's backlog takes it) but is not served.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    assert_eq!(
        read_within(&mut third, Duration::from_millis(800)).await,
        None,
        "a connection beyond the limit waits"
    );
    // One of the two closes: the waiting one is served.
    drop(held.remove(0));
    let answer = read_within(&mut third, Duration::from_secs(20))
        .await
        .expect("served once a connection closed");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

fn sync_body(push: Vec<PushRecord>) -> Vec<u8> {
    protocol::encode(&SyncRequest {
        version: PROTOCOL_VERSION,
        cursor: 0,
        push,
        page_limit: 100,
        clock_offset: None,
        sent_at: None,
        epoch: None,
    })
    .unwrap()
}

/// A rep with a profile in a new tenant, signed in: the token of their phone.
async fn rep_token(server: &TestServer) -> String {
    let acme = server.tenant("acme").await;
    let admin = server.admin_token(&acme).await;
    rep_with_profile(server, &admin, "zhang.wei").await;
    server.sign_in(&SignIn::rep(&acme, "zhang.wei")).await.token
}

async fn sync(server: &TestServer, token: &str, body: Vec<u8>) -> reqwest::Response {
    server
        .client
        .post(server.url("/v1/sync"))
        .bearer_auth(token)
        .header("content-type", CONTENT_TYPE)
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn syncs_beyond_the_turns_are_shed_with_503_and_retry_after_then_served_again() {
    let server = TestServer::builder()
        .setting("LIMITS__SYNC_CONCURRENT", "1")
        .setting("LIMITS__SYNC_WAIT", "200ms")
        .start()
        .await;
    let token = rep_token(&server).await;

    // A sync whose body trickles in holds the only turn.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: fieldsales\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {CONTENT_TYPE}\r\nContent-Encoding: gzip\r\nContent-Length: 4096\r\n\r\n"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&[0x1f, 0x8b]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.state.sync_turns.available_permits() > 0 {
        assert!(
            Instant::now() < deadline,
            "the slow sync never took its turn"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Others are shed, quickly and clearly, with a time to come back.
    let shed = sync(&server, &token, sync_body(Vec::new())).await;
    let retry_after = shed
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let shed = TestServer::answer(shed).await;
    shed.assert_error(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Overloaded);
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After in whole seconds: {shed:?}"
    );
    let metrics = server.get("/metrics", None).await;
    let metrics = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        metrics.contains("fieldsales_sync_shed_total 1"),
        "the shed sync is counted: {metrics}"
    );

    // The slow one goes away: syncs are served again.
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = sync(&server, &token, sync_body(Vec::new())).await;
        if answer.status() == StatusCode::OK {
            let bytes = answer.bytes().await.unwrap();
            let page: SyncResponse = protocol::decode(&bytes, 64 << 20).unwrap();
            assert!(page.rejected.is_empty());
            break;
        }
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the turn was never given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_push_of_more_records_than_the_limit_is_a_413_naming_the_limit() {
    let server = TestServer::builder()
        .setting("LIMITS__PUSH_RECORDS", "3")
        .start()
        .await;
    let token = rep_token(&server).await;
    let records = |n: usize| {
        (0..n)
            .map(|_| PushRecord {
                id: RecordId::new(),
                changes: Bytes(vec![1, 2, 3]),
                heads: Bytes(Vec::new()),
            })
            .collect::<Vec<_>>()
    };

    let answer = TestServer::answer(sync(&server, &token, sync_body(records(4))).await).await;
    let error = answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge);
    assert!(error.detail.contains("at most 3"), "{error:?}");

    // At the limit the push is taken in, and each unreadable record refused on its own.
    let answer = sync(&server, &token, sync_body(records(3))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let page: SyncResponse = protocol::decode(&answer.bytes().await.unwrap(), 64 << 20).unwrap();
    assert_eq!(page.rejected.len(), 3, "{:?}", page.rejected);
    assert!(page.acks.is_empty());
}

#[tokio::test]
async fn a_sync_that_would_pass_the_inflated_bytes_in_flight_is_shed_and_served_once_there_is_room()
{
    let server = TestServer::builder()
        .setting("LIMITS__SYNC_BODY_BYTES", "1048576")
        .setting("LIMITS__INFLATE_BYTES_IN_FLIGHT", "2097152")
        .start()
        .await;
    let token = rep_token(&server).await;
    // 600 KiB of records' bytes, compressing to almost nothing.
    let body = sync_body(vec![PushRecord {
        id: RecordId::new(),
        changes: Bytes(vec![0; 600 * 1024]),
        heads: Bytes(Vec::new()),
    }]);
    assert!(body.len() < 8 * 1024);

    // Other syncs hold all but 512 KiB of the 2 MiB budget.
    let budget = &server.state.inflate_budget;
    assert_eq!(budget.available_permits(), 2048);
    let others = budget.clone().try_acquire_many_owned(1536).unwrap();
    let shed = sync(&server, &token, body.clone()).await;
    assert!(shed.headers().contains_key("retry-after"));
    TestServer::answer(shed)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Overloaded);
    assert_eq!(
        budget.available_permits(),
        512,
        "the shed sync gave back what it took"
    );

    drop(others);
    let served = sync(&server, &token, body).await;
    assert_eq!(served.status(), StatusCode::OK);
    let page: SyncResponse = protocol::decode(&served.bytes().await.unwrap(), 64 << 20).unwrap();
    assert_eq!(
        page.rejected.len(),
        1,
        "an unreadable record, refused on its own"
    );
    assert_eq!(
        budget.available_permits(),
        2048,
        "all given back after the answer"
    );
}
