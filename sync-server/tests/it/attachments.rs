//! Visit photos moving between phones and the server: resumable uploads, verified content,
//! ranged downloads, limits and tenants kept apart.

use fieldsales_core::attachments::client::{self, ServerHolds, TransferError};
use fieldsales_core::attachments::{Attachments, sha256_hex};
use fieldsales_core::store::Store;
use fieldsales_server::ErrorCode;
use fieldsales_server::api::{UPLOAD_COMPLETE, UPLOAD_OFFSET};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};

use crate::support::{SignIn, TestServer};

/// A rep's phone: a store file and its attachment folder.
struct Phone {
    store: Store,
    files: Attachments,
    _dir: tempfile::TempDir,
}

impl Phone {
    fn new(max_bytes: u64) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rep.sqlite")).unwrap();
        let files = Attachments::beside(&store, max_bytes).unwrap();
        Phone {
            store,
            files,
            _dir: dir,
        }
    }
}

/// A photo of `len` bytes that is not all the same byte.
fn photo(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn rep_token(server: &TestServer, tenant: &str) -> String {
    let t = server.tenant(tenant).await;
    let admin = server.admin_token(&t).await;
    server.create_rep(&admin, "zhang.wei").await;
    server
        .sign_in(&SignIn::rep(&t, "zhang.wei").on("phone"))
        .await
        .token
}

async fn put_chunk(
    server: &TestServer,
    token: &str,
    sha: &str,
    range: Option<String>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = server
        .client
        .put(server.url(&format!("/v1/attachments/{sha}")))
        .bearer_auth(token)
        .body(body);
    if let Some(r) = range {
        request = request.header(CONTENT_RANGE, r);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_photo_uploaded_in_chunks_from_one_phone_downloads_whole_on_another() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let mut phone = Phone::new(1 << 20);
    let bytes = photo(100_000);
    let a = phone
        .files
        .put(&mut phone.store, &bytes, "image/jpeg")
        .unwrap();

    let held = client::upload(
        &server.client,
        &server.base,
        &token,
        &phone.files,
        &a,
        30_000,
    )
    .await
    .unwrap();
    assert_eq!(held, 100_000);
    assert_eq!(
        client::server_holds(&server.client, &server.base, &token, &a.sha256)
            .await
            .unwrap(),
        Some(ServerHolds {
            bytes: 100_000,
            complete: true
        })
    );

    let mut other = Phone::new(1 << 20);
    client::download(
        &server.client,
        &server.base,
        &token,
        &other.files,
        &mut other.store,
        &a,
    )
    .await
    .unwrap();
    assert_eq!(other.files.get(&a.sha256).unwrap().unwrap(), bytes);
    assert!(
        other
            .files
            .pending_uploads(&other.store)
            .unwrap()
            .is_empty(),
        "a downloaded photo is on the server already"
    );
}

#[tokio::test]
async fn an_upload_cut_off_resumes_where_the_server_stopped() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let mut phone = Phone::new(1 << 20);
    let bytes = photo(50_000);
    let a = phone
        .files
        .put(&mut phone.store, &bytes, "image/jpeg")
        .unwrap();

    // The first 20 000 bytes arrive; then the train enters a tunnel.
    let first = put_chunk(
        &server,
        &token,
        &a.sha256,
        Some("bytes 0-19999/50000".into()),
        bytes[..20_000].to_vec(),
    )
    .await;
    assert_eq!(first.status(), StatusCode::OK);
    let head = server
        .client
        .head(server.url(&format!("/v1/attachments/{}", a.sha256)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()[UPLOAD_OFFSET], "20000");
    assert_eq!(head.headers()[UPLOAD_COMPLETE], "false");
    // Not downloadable until whole.
    let early = server
        .get(&format!("/v1/attachments/{}", a.sha256), Some(&token))
        .await;
    early.assert_error(StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound);

    // A chunk that skips ahead is refused with the offset to continue from.
    let skipped = put_chunk(
        &server,
        &token,
        &a.sha256,
        Some("bytes 30000-49999/50000".into()),
        bytes[30_000..].to_vec(),
    )
    .await;
    assert_eq!(skipped.status(), StatusCode::CONFLICT);
    assert_eq!(skipped.headers()[UPLOAD_OFFSET], "20000");

    let done = client::upload_pending(
        &server.client,
        &server.base,
        &token,
        &phone.files,
        &mut phone.store,
    )
    .await
    .unwrap();
    assert_eq!(done, 1);
    assert!(
        phone
            .files
            .pending_uploads(&phone.store)
            .unwrap()
            .is_empty()
    );

    let whole = server
        .client
        .get(server.url(&format!("/v1/attachments/{}", a.sha256)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn content_that_does_not_match_its_hash_is_discarded() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let claimed = sha256_hex(b"the real photo");
    let answer = TestServer::answer(
        put_chunk(&server, &token, &claimed, None, b"another photo".to_vec()).await,
    )
    .await;
    answer.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::AttachmentHashMismatch,
    );
    let head = server
        .client
        .head(server.url(&format!("/v1/attachments/{claimed}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_attachment_over_the_configured_limit_is_refused() {
    let server = TestServer::builder()
        .setting("LIMITS__ATTACHMENT_BYTES", "2048")
        .start()
        .await;
    let token = rep_token(&server, "acme").await;
    let bytes = photo(4_096);
    let sha = sha256_hex(&bytes);
    let declared = TestServer::answer(
        put_chunk(
            &server,
            &token,
            &sha,
            Some("bytes 0-1023/4096".into()),
            bytes[..1024].to_vec(),
        )
        .await,
    )
    .await;
    declared.assert_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge);
    let streamed = TestServer::answer(put_chunk(&server, &token, &sha, None, bytes).await).await;
    streamed.assert_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge);
}

#[tokio::test]
async fn a_download_cut_off_resumes_with_a_range() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let bytes = photo(10_000);
    let sha = sha256_hex(&bytes);
    let put = put_chunk(&server, &token, &sha, None, bytes.clone()).await;
    assert_eq!(put.status(), StatusCode::OK);

    let part = server
        .client
        .get(server.url(&format!("/v1/attachments/{sha}")))
        .bearer_auth(&token)
        .header(RANGE, "bytes=4000-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[CONTENT_RANGE], "bytes 4000-9999/10000");
    assert_eq!(part.bytes().await.unwrap().to_vec(), bytes[4000..].to_vec());
    let outside = server
        .client
        .get(server.url(&format!("/v1/attachments/{sha}")))
        .bearer_auth(&token)
        .header(RANGE, "bytes=10000-")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // A phone holding the first 4 000 bytes from an earlier attempt fetches only the rest.
    let mut phone = Phone::new(1 << 20);
    let a = fieldsales_core::record::visit::AttachmentRef {
        sha256: sha.clone(),
        size: 10_000,
        mime: "image/jpeg".into(),
    };
    let partial = {
        let mut p = phone.files.path_of(&sha).unwrap().into_os_string();
        p.push(".part");
        std::path::PathBuf::from(p)
    };
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &bytes[..4000]).unwrap();
    client::download(
        &server.client,
        &server.base,
        &token,
        &phone.files,
        &mut phone.store,
        &a,
    )
    .await
    .unwrap();
    assert_eq!(phone.files.get(&sha).unwrap().unwrap(), bytes);
    assert!(!partial.exists());
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_photos_and_strangers_see_nothing() {
    let server = TestServer::start().await;
    let acme = rep_token(&server, "acme").await;
    let globex = rep_token(&server, "globex").await;
    let bytes = photo(1_000);
    let sha = sha256_hex(&bytes);
    assert_eq!(
        put_chunk(&server, &acme, &sha, None, bytes).await.status(),
        StatusCode::OK
    );
    let other = server
        .get(&format!("/v1/attachments/{sha}"), Some(&globex))
        .await;
    other.assert_error(StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound);
    let anonymous = server.get(&format!("/v1/attachments/{sha}"), None).await;
    anonymous.assert_error(StatusCode::UNAUTHORIZED, ErrorCode::TokenMissing);
    let bad_name = server
        .get("/v1/attachments/..%2F..%2Fserver.sqlite3", Some(&acme))
        .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_phone_that_cannot_reach_the_server_gets_a_network_error() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let mut phone = Phone::new(1 << 20);
    let a = phone
        .files
        .put(&mut phone.store, &photo(10), "image/jpeg")
        .unwrap();
    let err = client::upload(
        &server.client,
        "http://127.0.0.1:9",
        &token,
        &phone.files,
        &a,
        1024,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TransferError::Network(_)), "{err:?}");
}

/// Eight phones of a team send the same visit photo at the same moment (a shared shot of the
/// shop front). Every upload succeeds, and the server keeps one intact file of it, with no
/// upload left half-written beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_phones_uploading_the_same_photo_at_once_all_succeed_and_leave_one_intact_file() {
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let bytes = photo(3_000_000);
    let sha = sha256_hex(&bytes);
    let uploads: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, token, body) = (
                server.client.clone(),
                server.url(&format!("/v1/attachments/{sha}")),
                token.clone(),
                bytes.clone(),
            );
            tokio::spawn(async move {
                let answer = client
                    .put(url)
                    .bearer_auth(token)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = answer.status();
                (status, answer.json::<serde_json::Value>().await.unwrap())
            })
        })
        .collect();
    for upload in uploads {
        let (status, state) = upload.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{state}");
        assert_eq!(state["complete"], true, "{state}");
        assert_eq!(state["received"], 3_000_000, "{state}");
    }

    let mut files = Vec::new();
    let mut folders = vec![server.state.config.data_dir.join("attachments")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                folders.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    assert_eq!(
        files.len(),
        1,
        "one file and nothing half-written: {files:?}"
    );
    assert_eq!(files[0].file_name().unwrap().to_str().unwrap(), sha);
    assert_eq!(std::fs::read(&files[0]).unwrap(), bytes, "intact");
    let downloaded = server
        .client
        .get(server.url(&format!("/v1/attachments/{sha}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), StatusCode::OK);
    assert_eq!(downloaded.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

/// Mutated `Content-Range` headers on uploads, with chunks cut from the content or not: every
/// one is answered without a server error, and the content the server ends up holding whole is
/// the content its name says. Mutated `Range` headers on a download: every answer is 200 (the
/// whole), 206 (exactly the bytes its `Content-Range` names) or a refusal, never a server
/// error. `FUZZ_CASES` runs more cases (see RELIABILITY.md).
#[tokio::test]
async fn mutated_byte_ranges_never_break_the_server_or_the_stored_content() {
    use fieldsales_core::testing::fuzz;
    let server = TestServer::start().await;
    let token = rep_token(&server, "acme").await;
    let len = 3_000usize;
    let content = photo(len);
    let sha = sha256_hex(&content);
    let ranges: Vec<Vec<u8>> = [
        "bytes 0-999/3000",
        "bytes 1000-2999/3000",
        "bytes 2999-2999/3000",
        "bytes */0",
        "bytes 0-0/1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut rng = fastrand::Rng::with_seed(20_261_205);
    let cases = fuzz::cases(400);
    let mut sent = 0;
    for case in 0..cases {
        let header = fuzz::input(&ranges, case);
        let Ok(header) = reqwest::header::HeaderValue::from_bytes(&header) else {
            continue;
        };
        let start = rng.usize(0..len);
        let end = rng.usize(start..=len);
        let mut body = content[start..end].to_vec();
        if rng.u8(..) < 16 && !body.is_empty() {
            body[0] ^= 0xff;
        }
        let answer = server
            .client
            .put(server.url(&format!("/v1/attachments/{sha}")))
            .bearer_auth(&token)
            .header(CONTENT_RANGE, header.clone())
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            !answer.status().is_server_error(),
            "upload case {case}: {header:?} answered {}",
            answer.status()
        );
        sent += 1;
        let held = server
            .client
            .get(server.url(&format!("/v1/attachments/{sha}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if held.status() == StatusCode::OK {
            assert_eq!(held.bytes().await.unwrap().as_ref(), content, "case {case}");
        }
    }
    assert!(sent > cases / 2, "most cases were sendable headers: {sent}");

    // The content whole, for the downloads.
    let whole = put_chunk(&server, &token, &sha, None, content.clone()).await;
    assert!(whole.status().is_success(), "{}", whole.status());
    let ranges: Vec<Vec<u8>> = ["bytes=0-", "bytes=100-199", "bytes=2999-", "bytes=0-99999"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let mut partial = 0;
    for case in 0..cases {
        let header = fuzz::input(&ranges, case);
        let Ok(header) = reqwest::header::HeaderValue::from_bytes(&header) else {
            continue;
        };
        let answer = server
            .client
            .get(server.url(&format!("/v1/attachments/{sha}")))
            .bearer_auth(&token)
            .header(RANGE, header.clone())
            .send()
            .await
            .unwrap();
        let status = answer.status();
        match status {
            StatusCode::OK => {
                assert_eq!(
                    answer.bytes().await.unwrap().as_ref(),
                    content,
                    "case {case}"
                );
            }
            StatusCode::PARTIAL_CONTENT => {
                let named = answer.headers()[CONTENT_RANGE].to_str().unwrap().to_owned();
                let (span, total) = named
                    .strip_prefix("bytes ")
                    .and_then(|r| r.split_once('/'))
                    .unwrap_or_else(|| panic!("case {case}: {named}"));
                assert_eq!(total, len.to_string(), "case {case}");
                let (s, e) = span.split_once('-').unwrap();
                let (s, e): (usize, usize) = (s.parse().unwrap(), e.parse().unwrap());
                assert_eq!(
                    answer.bytes().await.unwrap().as_ref(),
                    &content[s..=e],
                    "case {case}: {header:?} answered {named}"
                );
                partial += 1;
            }
            other => assert!(
                other.is_client_error(),
                "download case {case}: {header:?} answered {other}"
            ),
        }
    }
    assert!(partial > 0, "some mutated ranges were served");
}
