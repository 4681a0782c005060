//! The one sync endpoint: push and pull in a single round trip.
//!
//! The body is CBOR compressed with gzip (see `fieldsales_core::sync::protocol`), read up to
//! the configured limit and inflated up to the same limit, so neither a huge body nor a small
//! one that inflates hugely can exhaust memory. At most `limits.sync_concurrent` syncs are
//! worked on at once: the others wait for a turn before their body is read, and one that
//! gets no turn within `limits.sync_wait` is answered 503 `overloaded` with `Retry-After`, so
//! a flood of syncs neither holds unbounded memory nor queues without end. A push carries at
//! most `limits.push_records` records. The push is applied before the page is read,
//! in the same transaction, so the page already holds the server's amendments to what was
//! pushed; the answer leaves once both are committed.
//!
//! Every answer names the epoch of the tenant's change sequence; a request whose cursor
//! belongs to another epoch (the server was restored from a backup since the device last
//! synced) has its push ignored and is answered from the start of the sequence (see
//! [`crate::backup`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldsales_core::fieldwork::ClockOffset;
use fieldsales_core::sync::protocol::{
    self, CONTENT_TYPE, PROTOCOL_VERSION, SyncRequest, SyncResponse, WireError,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Session;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::records::{Pull, Push, Verdict};
use crate::state::AppState;

/// Inflates and decodes a body, holding budget permits (KiB) for every chunk it inflates;
/// the permits go back when the request is done.
fn decode_within(
    body: &[u8],
    limit: usize,
    budget: &Arc<Semaphore>,
) -> Result<(SyncRequest, Option<OwnedSemaphorePermit>), WireError> {
    let mut held: Option<OwnedSemaphorePermit> = None;
    let request = protocol::decode_metered(body, limit, &mut |bytes| {
        let permits = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        match budget.clone().try_acquire_many_owned(permits) {
            Ok(permit) => {
                match held.as_mut() {
                    Some(h) => h.merge(permit),
                    None => held = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    })?;
    Ok((request, held))
}

fn bad_body(detail: impl Into<String>) -> ApiError {
    ApiError::client(StatusCode::BAD_REQUEST, ErrorCode::MalformedBody, detail)
}

/// Pushes the device's unacknowledged changes and pulls the next page of records.
#[utoipa::path(
    post,
    path = "/v1/sync",
    tag = "sync",
    security(("bearer" = [])),
    request_body(
        content = super::Binary,
        content_type = "application/vnd.fieldsales.sync+cbor",
        description = "A gzip-compressed CBOR `SyncRequest` (`Content-Encoding: gzip`)"
    ),
    responses(
        (status = 200, description = "A gzip-compressed CBOR `SyncResponse`", body = super::Binary, content_type = "application/vnd.fieldsales.sync+cbor"),
        (status = 400, description = "`malformed_body` or `unsupported_version`", body = ErrorBody),
        (status = 401, description = "No live token; `device_revoked` / `account_revoked` mean: wipe local data", body = ErrorBody),
        (status = 403, description = "`profile_missing`, or `device_required`: a browser session cannot sync", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 503, description = "`overloaded`: too many syncs at once; retry after `Retry-After` seconds", body = ErrorBody),
    )
)]
pub async fn sync(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let device = session.device()?;
    let limit = state.config.limits.sync_body_bytes;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if !content_type.starts_with(CONTENT_TYPE) || !gzip {
        return Err(ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            format!("send `Content-Type: {CONTENT_TYPE}` with `Content-Encoding: gzip`"),
        ));
    }
    let wait = state.config.limits.sync_wait;
    let _turn = match tokio::time::timeout(wait, state.sync_turns.clone().acquire_owned()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(_)) | Err(_) => {
            state.metrics.observe_shed();
            tracing::warn!(
                limit = state.config.limits.sync_concurrent,
                "sync shed: every turn taken"
            );
            return Err(ApiError::overloaded(
                "the server is working on as many syncs as it can: try again shortly",
                wait.as_secs().max(1),
            ));
        }
    };
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("a sync body may be at most {limit} bytes"),
        )
    })?;
    let budget = state.inflate_budget.clone();
    // On rayon's fixed pool, not tokio's blocking pool: a flood would spread the inflated
    // bytes over ever new threads, each keeping freed memory of its own.
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(decode_within(&bytes, limit, &budget));
    });
    let decoded = rx
        .await
        .map_err(|_| ApiError::internal(std::io::Error::other("the sync decoder stopped")))?;
    let (request, _inflated) = match decoded {
        Ok(pair) => pair,
        Err(WireError::TooLarge { limit }) => {
            return Err(ApiError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                format!("the body inflates beyond {limit} bytes"),
            ));
        }
        Err(WireError::OverBudget) => {
            state.metrics.observe_shed();
            tracing::warn!(
                budget = state.config.limits.inflate_bytes_in_flight,
                "sync shed: inflated bytes in flight at the limit"
            );
            return Err(ApiError::overloaded(
                "the server holds as many sync bytes as it may: try again shortly",
                1,
            ));
        }
        Err(other) => return Err(bad_body(other.to_string())),
    };
    if request.version != PROTOCOL_VERSION {
        return Err(ApiError::client(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedVersion,
            format!(
                "this server speaks sync protocol version {PROTOCOL_VERSION}, not {}",
                request.version
            ),
        ));
    }
    let most = state.config.limits.push_records;
    if request.push.len() > most {
        return Err(ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!(
                "a push may carry at most {most} records, not {}: send them in several syncs",
                request.push.len()
            ),
        ));
    }
    let author = super::signed_in_user(&state, &session).await?;

    let push = if request.push.is_empty() {
        None
    } else {
        let actors = state
            .store
            .device_actors(session.tenant_id, device)
            .await?
            .into_iter()
            .map(|a| automerge::ActorId::from(a.actor.as_bytes().as_slice()))
            .collect();
        let now = state.clock.now();
        Some(Push {
            device,
            account: session.account_id,
            actors,
            author: author.clone(),
            // Measured here, on this push: the device's own measurement is only advice.
            clock_offset: request
                .sent_at
                .map(|sent_at| ClockOffset::observed_by_server(sent_at, now)),
            records: request.push,
            now,
        })
    };
    let pushed = push.as_ref().map_or(0, |p| p.records.len());
    let me = author.clone();
    let pull = Pull {
        device,
        viewer: author,
        cursor: request.cursor,
        limit: (request.page_limit as usize).clamp(1, state.config.limits.sync_page_records),
        max_bytes: state.config.limits.sync_page_bytes,
        max_scan: state.config.limits.sync_page_scan,
        epoch: request.epoch,
    };
    let (verdicts, page) = state
        .records
        .push_and_pull(session.tenant_id, push, pull)
        .await?;
    if page.restarted {
        tracing::info!(
            %device,
            device_epoch = request.epoch.unwrap_or_default(),
            epoch = page.epoch.unwrap_or_default(),
            ignored_push = pushed,
            "a device of another epoch (the server was restored): it starts over"
        );
    }
    // An ignored push stored nothing.
    let pushed = if page.restarted { 0 } else { pushed };
    let mut acks = Vec::new();
    let mut rejected: Vec<protocol::RejectedRecord> = Vec::new();
    for verdict in verdicts {
        match verdict {
            Verdict::Accepted(ack) => acks.push(ack),
            Verdict::Rejected(r) => rejected.push(r),
        }
    }
    if !rejected.is_empty() {
        // One line per push, however many records a modified phone sends to be refused.
        let mut rules: Vec<(&str, usize)> = Vec::new();
        for r in &rejected {
            match rules.iter_mut().find(|(rule, _)| *rule == r.rule.as_str()) {
                Some((_, n)) => *n += 1,
                None => rules.push((r.rule.as_str(), 1)),
            }
        }
        let rules = rules
            .iter()
            .take(8)
            .map(|(rule, n)| format!("{rule}×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        tracing::info!(
            %device,
            refused = rejected.len(),
            first = %rejected[0].id,
            %rules,
            "pushed records refused"
        );
    }
    state.metrics.observe_sync(
        pushed,
        acks.len(),
        rejected.iter().map(|r| r.rule.as_str()),
        page.records.len(),
    );
    if pushed > 0 {
        tracing::debug!(
            pushed,
            accepted = acks.len(),
            refused = rejected.len(),
            "push"
        );
    }
    let response = SyncResponse {
        server_time: state.clock.now(),
        acks,
        rejected,
        records: page.records,
        removed: page.removed,
        cursor: page.cursor,
        has_more: page.has_more,
        me: Some(me),
        epoch: page.epoch,
    };
    let body = protocol::encode(&response).map_err(ApiError::internal)?;
    let mut answer = (StatusCode::OK, body).into_response();
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Ok(answer)
}
