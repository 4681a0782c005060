//! Attachment bytes (visit photos, files), moved apart from the record sync.
//!
//! A record names an attachment by the SHA-256 of its content. A device uploads the bytes in
//! chunks with `Content-Range`, asking first with `HEAD` how much the server holds, so a
//! photo cut off by a tunnel resumes instead of starting over; the server keeps the bytes
//! as an upload under way and only makes them available once they hash to their name.
//! Downloads take `Range` for the same reason. Where the bytes live is the
//! [`crate::attachments::AttachmentStore`]'s business (files in the data directory, or
//! PostgreSQL for several instances): nothing crosses tenants, even identical photos.

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::attachments::Held;
use crate::auth::Session;
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody, ErrorCode};
use crate::state::AppState;

/// The header saying how many bytes of an upload the server holds.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// The header saying whether the server holds the whole, verified content.
pub const UPLOAD_COMPLETE: &str = "upload-complete";

/// The state of an upload after a chunk.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadState {
    /// The attachment's SHA-256.
    pub sha256: String,
    /// Bytes the server holds.
    pub received: u64,
    /// The whole size, when known.
    pub total: Option<u64>,
    /// Whether the content is complete and verified.
    pub complete: bool,
}

fn bad(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> ApiError {
    ApiError::client(status, code, detail)
}

fn check_hash(sha256: &str) -> Result<(), ApiError> {
    let ok = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(bad(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPath,
            "an attachment is named by its SHA-256 in lower-case hex",
        ))
    }
}

/// Bytes of an upload kept in memory before they are handed to the store.
const WRITE_CHUNK: usize = 1024 * 1024;

fn offset_headers(received: u64, complete: bool) -> [(&'static str, HeaderValue); 2] {
    [
        (UPLOAD_OFFSET, HeaderValue::from(received)),
        (
            UPLOAD_COMPLETE,
            HeaderValue::from_static(if complete { "true" } else { "false" }),
        ),
    ]
}

/// How much of an attachment the server holds.
#[utoipa::path(
    head,
    path = "/v1/attachments/{sha256}",
    tag = "attachments",
    params(("sha256" = String, Path, description = "SHA-256 of the content, lower-case hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Held, whole or in part (no body: this is HEAD)", headers(
            ("upload-offset" = u64, description = "Bytes the server holds"),
            ("upload-complete" = bool, description = "Whether the content is complete and verified"),
        )),
        (status = 404, description = "Nothing of it is held"),
    )
)]
pub async fn head_attachment(
    State(state): State<AppState>,
    session: Session,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Response, ApiError> {
    check_hash(&sha256)?;
    match state.attachments.held(session.tenant_id, &sha256).await? {
        Held::Complete(len) => {
            let mut response = (StatusCode::OK, offset_headers(len, true)).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            Ok(response)
        }
        Held::Partial(len) => Ok((StatusCode::OK, offset_headers(len, false)).into_response()),
        Held::Nothing => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}

/// A `Content-Range: bytes start-end/total` (or `bytes */0` for empty content).
fn parse_content_range(headers: &HeaderMap) -> Result<Option<(u64, Option<u64>, u64)>, ApiError> {
    let Some(v) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let invalid = || {
        bad(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRange,
            "Content-Range must read `bytes start-end/total`",
        )
    };
    let s = v.to_str().map_err(|_| invalid())?.trim();
    let rest = s.strip_prefix("bytes ").ok_or_else(invalid)?;
    let (range, total) = rest.split_once('/').ok_or_else(invalid)?;
    let total: u64 = total.trim().parse().map_err(|_| invalid())?;
    if range.trim() == "*" {
        return if total == 0 {
            Ok(Some((0, None, 0)))
        } else {
            Err(invalid())
        };
    }
    let (start, end) = range.split_once('-').ok_or_else(invalid)?;
    let start: u64 = start.trim().parse().map_err(|_| invalid())?;
    let end: u64 = end.trim().parse().map_err(|_| invalid())?;
    if end < start || end >= total {
        return Err(invalid());
    }
    Ok(Some((start, Some(end), total)))
}

/// Uploads an attachment, or the next chunk of one.
///
/// Without `Content-Range` the body is the whole content. With it, `start` must equal the
/// bytes the server holds (see `HEAD`); otherwise the answer is 409 with the server's offset
/// in `upload-offset`. The last chunk is verified against the name: content that does not
/// hash to it is discarded (422).
#[utoipa::path(
    put,
    path = "/v1/attachments/{sha256}",
    tag = "attachments",
    params(
        ("sha256" = String, Path, description = "SHA-256 of the content, lower-case hex"),
        ("content-range" = Option<String>, Header, description = "`bytes start-end/total` of this chunk"),
    ),
    request_body(content = super::Binary, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Chunk stored (or the content was complete already)", body = UploadState),
        (status = 400, description = "Bad name or Content-Range", body = ErrorBody),
        (status = 409, description = "The chunk does not start where the server's copy ends", body = ErrorBody),
        (status = 413, description = "Larger than the configured limit", body = ErrorBody),
        (status = 422, description = "The content does not hash to its name", body = ErrorBody),
    )
)]
pub async fn put_attachment(
    State(state): State<AppState>,
    session: Session,
    ApiPath(sha256): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_hash(&sha256)?;
    let store = &state.attachments;
    let tenant = session.tenant_id;
    let limit = state.config.limits.attachment_bytes as u64;
    let range = parse_content_range(&headers)?;
    if let Some((_, _, total)) = range
        && total > limit
    {
        return Err(too_large(limit));
    }
    // From here to the answer this upload is the attachment's only one (see the store).
    let _upload = store.lock(tenant, &sha256).await?;
    let held = match store.held(tenant, &sha256).await? {
        Held::Complete(len) => {
            // Another phone sent the same content first: read this copy to its end so the
            // connection stays usable, then say it is held.
            drain(body, limit).await;
            return Ok(ApiJson(UploadState {
                sha256,
                received: len,
                total: Some(len),
                complete: true,
            })
            .into_response());
        }
        Held::Partial(len) => len,
        Held::Nothing => 0,
    };
    let (start, total) = match range {
        Some((start, _, total)) => (start, Some(total)),
        // The whole content in one body: any earlier partial copy is replaced.
        None => (0, None),
    };
    if range.is_some() && start != held {
        let mut response = bad(
            StatusCode::CONFLICT,
            ErrorCode::UploadOffsetMismatch,
            format!("the server holds {held} bytes; continue from there"),
        )
        .into_response();
        for (k, v) in offset_headers(held, false) {
            response.headers_mut().insert(k, v);
        }
        return Ok(response);
    }
    if range.is_none() {
        store.discard(tenant, &sha256).await?;
    }
    let chunk_end = range.and_then(|(_, end, _)| end.map(|e| e + 1));
    let mut written = start;
    // Bytes received and not yet stored, which begin at `stored`.
    let mut stored = start;
    let mut pending: Vec<u8> = Vec::new();
    let mut body = body;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            bad(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedBody,
                format!("the upload was cut off: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > limit {
            store.discard(tenant, &sha256).await?;
            return Err(too_large(limit));
        }
        if chunk_end.is_some_and(|end| written > end) {
            // Keep what the range promised and no more.
            if stored > start {
                store.truncate(tenant, &sha256, start).await?;
            }
            return Err(bad(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidRange,
                "the body is longer than its Content-Range",
            ));
        }
        pending.extend_from_slice(&data);
        if pending.len() >= WRITE_CHUNK {
            store.append(tenant, &sha256, stored, &pending).await?;
            stored += pending.len() as u64;
            pending.clear();
        }
    }
    if !pending.is_empty() || stored == 0 {
        store.append(tenant, &sha256, stored, &pending).await?;
    }

    let total = total.unwrap_or(written);
    if written < total {
        return Ok(ApiJson(UploadState {
            sha256,
            received: written,
            total: Some(total),
            complete: false,
        })
        .into_response());
    }
    if !store.complete(tenant, &sha256).await? {
        return Err(bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::AttachmentHashMismatch,
            "the content does not hash to its name; it was discarded",
        ));
    }
    Ok(ApiJson(UploadState {
        sha256,
        received: total,
        total: Some(total),
        complete: true,
    })
    .into_response())
}

/// Reads a body to its end (at most `limit` bytes), keeping nothing.
async fn drain(mut body: Body, limit: u64) {
    let mut read = 0u64;
    while let Some(Ok(frame)) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        if let Ok(data) = frame.into_data() {
            read += data.len() as u64;
            if read > limit {
                return;
            }
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    bad(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BodyTooLarge,
        format!("an attachment may be at most {limit} bytes"),
    )
}

/// A `Range: bytes=start-` or `bytes=start-end` against content of `len` bytes.
fn parse_range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(v) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let unsatisfiable = || {
        bad(
            StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorCode::InvalidRange,
            format!(
                "the content has {len} bytes; Range must read `bytes=start-` or `bytes=start-end` within it"
            ),
        )
    };
    let s = v.to_str().map_err(|_| unsatisfiable())?.trim();
    let spec = s.strip_prefix("bytes=").ok_or_else(unsatisfiable)?;
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let start: u64 = start.trim().parse().map_err(|_| unsatisfiable())?;
    let end: u64 = match end.trim() {
        "" => len.saturating_sub(1),
        e => e
            .parse::<u64>()
            .map_err(|_| unsatisfiable())?
            .min(len.saturating_sub(1)),
    };
    if start >= len || end < start {
        return Err(unsatisfiable());
    }
    Ok(Some((start, end)))
}

/// Downloads an attachment the server holds whole, or a range of it.
#[utoipa::path(
    get,
    path = "/v1/attachments/{sha256}",
    tag = "attachments",
    params(
        ("sha256" = String, Path, description = "SHA-256 of the content, lower-case hex"),
        ("range" = Option<String>, Header, description = "`bytes=start-` to resume"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The content", content_type = "application/octet-stream", body = super::Binary),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = super::Binary),
        (status = 404, description = "Not held whole", body = ErrorBody),
        (status = 416, description = "The range lies outside the content", body = ErrorBody),
    )
)]
pub async fn get_attachment(
    State(state): State<AppState>,
    session: Session,
    ApiPath(sha256): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_hash(&sha256)?;
    let Held::Complete(len) = state.attachments.held(session.tenant_id, &sha256).await? else {
        return Err(bad(
            StatusCode::NOT_FOUND,
            ErrorCode::AttachmentNotFound,
            "the server does not hold this attachment whole",
        ));
    };
    let range = parse_range(&headers, len)?;
    let (start, end) = range.unwrap_or((0, len.saturating_sub(1)));
    let want = if len == 0 { 0 } else { end - start + 1 };
    let bytes = state
        .attachments
        .read(session.tenant_id, &sha256, start, want)
        .await?;
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}
