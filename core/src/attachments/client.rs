//! Moving attachment bytes to and from the sync server, apart from the record sync.
//!
//! Uploads go in chunks with `Content-Range`, after a `HEAD` asks how much the server already
//! holds, so a photo half sent when the train entered the tunnel continues where it stopped.
//! Downloads resume the same way with `Range`. Both ends verify the content against its
//! SHA-256 before they keep it. The caller passes the server address and the device token
//! explicitly; the session layer decides when to run these (on Wi-Fi, after a record sync).

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use serde::Deserialize;

use super::{Attachments, is_sha256_hex, record_with, sha256_hex};
use crate::record::visit::AttachmentRef;
use crate::rule::RuleCode;
use crate::store::Store;

/// The header in which the server says how many bytes of an upload it holds.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// The header in which the server says whether it holds the whole, verified content.
pub const UPLOAD_COMPLETE: &str = "upload-complete";

/// The default chunk of an upload: small enough to finish between two tunnels.
pub const DEFAULT_CHUNK_BYTES: usize = 1024 * 1024;

/// What can go wrong moving an attachment.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The network or the HTTP exchange failed; retrying later may help.
    #[error("network: {0}")]
    Network(#[from] reqwest::Error),
    /// The server answered with an error.
    #[error("the server answered {status}: {body}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The error body (its `code` is stable).
        body: String,
    },
    /// The server has no such attachment.
    #[error("the server has no attachment {0}")]
    NotOnServer(String),
    /// The downloaded bytes do not hash to the attachment's name; they were discarded.
    #[error("the downloaded content of {0} does not match its hash")]
    HashMismatch(String),
    /// A local file or the store failed.
    #[error(transparent)]
    Local(#[from] crate::Error),
    /// A local file failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// What the server holds of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHolds {
    /// Bytes received so far.
    pub bytes: u64,
    /// Whether they are the whole content, verified.
    pub complete: bool,
}

#[derive(Deserialize)]
struct PutAnswer {
    received: u64,
    complete: bool,
}

/// Installs the TLS crypto provider the HTTP client uses (ring); harmless when one is
/// installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn url(base_url: &str, sha256: &str) -> String {
    format!("{}/v1/attachments/{sha256}", base_url.trim_end_matches('/'))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn server_error(response: reqwest::Response) -> TransferError {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    TransferError::Server {
        status,
        body: body.chars().take(500).collect(),
    }
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// How much of `sha256` the server holds; `None` when nothing.
pub async fn server_holds(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    sha256: &str,
) -> Result<Option<ServerHolds>, TransferError> {
    if !is_sha256_hex(sha256) {
        return Err(TransferError::NotOnServer(
            sha256.chars().take(80).collect(),
        ));
    }
    let response = http
        .head(url(base_url, sha256))
        .header(AUTHORIZATION, bearer(token))
        .send()
        .await?;
    match response.status() {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => Ok(Some(ServerHolds {
            bytes: header_u64(&response, UPLOAD_OFFSET).unwrap_or(0),
            complete: response
                .headers()
                .get(UPLOAD_COMPLETE)
                .is_some_and(|v| v.as_bytes() == b"true"),
        })),
        _ => Err(server_error(response).await),
    }
}

/// Uploads one attachment from `files`, resuming where the server stopped, in chunks of
/// `chunk_bytes`. Returns the bytes the server holds (the whole size once done).
pub async fn upload(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    files: &Attachments,
    attachment: &AttachmentRef,
    chunk_bytes: usize,
) -> Result<u64, TransferError> {
    let total = u64::try_from(attachment.size).unwrap_or(0);
    let mut offset = match server_holds(http, base_url, token, &attachment.sha256).await? {
        Some(h) if h.complete => return Ok(h.bytes),
        Some(h) => h.bytes.min(total),
        None => 0,
    };
    let chunk_bytes = chunk_bytes.max(1);
    loop {
        let chunk = files.read_range(&attachment.sha256, offset, chunk_bytes as u64)?;
        let end = offset + chunk.len() as u64;
        let range = if total == 0 {
            "bytes */0".to_string()
        } else {
            format!("bytes {offset}-{}/{total}", end.saturating_sub(1))
        };
        let response = http
            .put(url(base_url, &attachment.sha256))
            .header(AUTHORIZATION, bearer(token))
            .header(CONTENT_TYPE, attachment.mime.as_str())
            .header(CONTENT_RANGE, range)
            .body(chunk)
            .send()
            .await?;
        match response.status() {
            s if s.is_success() => {
                let answer: PutAnswer = response.json().await?;
                if answer.complete {
                    return Ok(answer.received);
                }
                if answer.received <= offset {
                    return Err(TransferError::Server {
                        status: s.as_u16(),
                        body: "the server made no progress on the upload".into(),
                    });
                }
                offset = answer.received;
            }
            StatusCode::CONFLICT => {
                // Another attempt moved the server's offset: continue from there.
                match header_u64(&response, UPLOAD_OFFSET) {
                    Some(o) if o != offset && o <= total => offset = o,
                    _ => return Err(server_error(response).await),
                }
            }
            _ => return Err(server_error(response).await),
        }
    }
}

/// Uploads every attachment of this device whose upload has not finished, recording the
/// progress in the store. Returns how many were completed.
pub async fn upload_pending(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    files: &Attachments,
    store: &mut Store,
) -> Result<usize, TransferError> {
    let mut done = 0;
    for pending in files.pending_uploads(store)? {
        let a = &pending.attachment;
        let held = upload(http, base_url, token, files, a, DEFAULT_CHUNK_BYTES).await?;
        let complete = held == u64::try_from(a.size).unwrap_or(0);
        files.mark_uploaded(store, &a.sha256, held, complete)?;
        done += usize::from(complete);
    }
    Ok(done)
}

/// Downloads one attachment into `files`, resuming a download cut short, and keeps it only
/// once its content matches its hash.
pub async fn download(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    files: &Attachments,
    store: &mut Store,
    attachment: &AttachmentRef,
) -> Result<(), TransferError> {
    let sha256 = &attachment.sha256;
    if files.has(sha256)? {
        return Ok(());
    }
    let part = files.partial_path_of(sha256)?;
    if let Some(dir) = part.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let have = files.partial_content(&part)?;
    let limit = files.max_bytes();
    let mut request = http
        .get(url(base_url, sha256))
        .header(AUTHORIZATION, bearer(token));
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let mut response = request.send().await?;
    let append = match response.status() {
        StatusCode::PARTIAL_CONTENT => true,
        StatusCode::OK => false,
        StatusCode::NOT_FOUND => return Err(TransferError::NotOnServer(sha256.clone())),
        StatusCode::RANGE_NOT_SATISFIABLE => {
            // The partial file is longer than the content: start again.
            std::fs::remove_file(&part)?;
            return Box::pin(download(http, base_url, token, files, store, attachment)).await;
        }
        _ => return Err(server_error(response).await),
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(&part)?;
    if !append || have == 0 {
        files.begin(&mut out)?;
    }
    let mut written = if append { have } else { 0 };
    while let Some(chunk) = response.chunk().await? {
        written += chunk.len() as u64;
        if written > limit {
            drop(out);
            std::fs::remove_file(&part)?;
            return Err(TransferError::Local(crate::Error::rule(
                RuleCode::AttachmentTooLarge,
                format!("the download of {sha256} exceeds the {limit} byte limit"),
            )));
        }
        files.append(&mut out, &chunk)?;
    }
    out.sync_all()?;
    drop(out);
    let bytes = files.read_content(&part)?;
    if sha256_hex(&bytes) != *sha256 {
        std::fs::remove_file(&part)?;
        return Err(TransferError::HashMismatch(sha256.clone()));
    }
    std::fs::rename(&part, files.path_of(sha256)?)?;
    let now = store.clock().now();
    record_with(store, attachment, Some(now))?;
    Ok(())
}
