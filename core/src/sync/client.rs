//! The device's sync client: sign-in, `sync now`, sign-out.
//!
//! `sync now` runs push/pull rounds until nothing is left to push and no page is waiting.
//! A network failure (or a server that is briefly unavailable) is retried with exponential
//! backoff and jitter, a bounded number of times; an interrupted sync simply starts again
//! from the last committed page, because the cursor only moves with a committed page and the
//! server treats a replayed push as already done.
//!
//! Errors are what the app acts on: offline (try later), auth expired (sign in again),
//! revoked (the local data is already wiped), protocol (a bug or a proxy mangling bodies).
//! A refused record is not an error: it is in the report and in the store's rejected changes.

use std::path::Path;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::apply::{self, META_LAST_SUCCESS, PageOutcome};
use super::protocol::{
    self, Bytes, CONTENT_TYPE, PushRecord, SYNC_PATH, SyncRequest, SyncResponse,
};
use crate::doc::encode_heads;
use crate::engine::{Engine, META_CLOCK_OFFSET};
use crate::fieldwork::ClockOffset;
use crate::me::Me;
use crate::store::Store;
use crate::store::StoreRead;
use crate::sync::ErrorCode;
use crate::{RecordId, Timestamp};

/// Meta key of the signed-in session (JSON of the private `SavedSession`).
pub const META_SESSION: &str = "sync.session";

/// How a sync behaves; the defaults suit a phone.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Attempts of one request before giving up as offline.
    pub max_attempts: u32,
    /// The first backoff; doubled after each failed attempt, with jitter.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Records asked for per page.
    pub page_limit: u32,
    /// Records pushed per request at most.
    pub push_records: usize,
    /// Change bytes pushed per request at most (a single larger record still goes alone).
    pub push_bytes: usize,
    /// The largest response accepted, compressed and inflated.
    pub max_response_bytes: usize,
    /// Rounds in one sync at most (a guard against a server that never says "done").
    pub max_rounds: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            page_limit: 2_000,
            push_records: 500,
            push_bytes: 4 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_rounds: 10_000,
        }
    }
}

/// Progress of a running sync, reported after every committed page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Round trips completed.
    pub rounds: u32,
    /// Pages committed.
    pub pages: u32,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// Records pushed.
    pub records_up: u64,
    /// Records received.
    pub records_down: u64,
    /// Records deleted because they left the user's view.
    pub records_removed: u64,
    /// Body bytes sent (compressed, as on the wire).
    pub bytes_up: u64,
    /// Body bytes received (compressed, as on the wire).
    pub bytes_down: u64,
}

/// What a finished sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// The totals.
    pub progress: SyncProgress,
    /// Records the server refused in this sync: (record, rule). The user's versions are in
    /// [`Store::rejected_changes`].
    pub rejected: Vec<(RecordId, String)>,
    /// The server's time at the end.
    pub server_time: Timestamp,
    /// The device's clock offset measured by the last round.
    pub clock_offset: Option<ClockOffset>,
    /// The server had been restored from a backup (its epoch changed): the device pulled
    /// everything again and offered what the server lacked.
    pub server_restored: bool,
    /// Records the restored server did not hold that the device queued to offer again.
    pub reoffered: usize,
    /// Records holding changes the server lacks that this device cannot push, as the last
    /// round found them: another device's (or the server's) changes a restored server lost
    /// and their author has not offered again yet, and this device's own changes built on
    /// them. They stay in the outbox; a later sync pushes what is its own once the server has
    /// what it builds on.
    pub held_back: usize,
}

/// Why a sync or sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached (after every retry).
    #[error("the server cannot be reached after {attempts} attempts: {detail}")]
    Offline {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// Unknown tenant or login, or wrong password.
    #[error("wrong tenant, login or password")]
    BadCredentials,
    /// The token expired or was replaced: sign in again (local data is kept).
    #[error("the session ended ({code}): sign in again")]
    AuthExpired {
        /// The server's code (`token_expired`, `token_revoked`, ...).
        code: String,
    },
    /// An admin revoked this device or account; the local store has been wiped.
    #[error("this {code} was revoked: local data wiped")]
    Revoked {
        /// `device_revoked` or `account_revoked`.
        code: String,
    },
    /// The server refused the request for another reason.
    #[error("the server refused the request ({status} {code}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's code.
        code: String,
        /// The server's sentence.
        detail: String,
    },
    /// The answer was not what the protocol says.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// This store has no signed-in session.
    #[error("not signed in")]
    NotSignedIn,
    /// The caller cancelled the sync; committed pages stay committed.
    #[error("cancelled")]
    Cancelled,
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// Cancels a running sync between requests.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the sync to stop at the next safe point.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a user signs in with.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The server's base URL (`https://sync.example.com`).
    pub server_url: String,
    /// The tenant's short name.
    pub tenant: String,
    /// The user's login.
    pub login: String,
    /// The password.
    pub password: String,
    /// A name for this device, shown to admins.
    pub device_name: String,
}

/// The session kept in the store. The token sits with the data it unlocks: wiping the store
/// wipes the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedSession {
    server_url: String,
    tenant: String,
    login: String,
    token: String,
    device_id: String,
    expires_at: Timestamp,
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
    expires_at: Timestamp,
    device_id: String,
    actor_id: String,
    me: Option<Me>,
    server_time: Timestamp,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    code: String,
    #[serde(default)]
    detail: String,
}

fn http() -> Result<reqwest::Client, SyncError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // reqwest is built without a crypto provider of its own: rustls on ring, once.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(SyncError::Protocol)
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// Signs in and opens (or creates) the store at `store_path` for this user.
///
/// A store that belonged to another user is wiped first; the same user signing in again on
/// the same store keeps its data and its device.
pub async fn sign_in(request: &SignIn, store_path: &Path) -> Result<Engine, SyncError> {
    sign_in_store(request, Store::open(store_path)?).await
}

/// [`sign_in`] into a store the caller opened (an encrypted one, with its key).
pub async fn sign_in_store(request: &SignIn, store: Store) -> Result<Engine, SyncError> {
    let mut store = store;
    let previous = saved_session(&store)?;
    let same_user = previous.as_ref().is_some_and(|s| {
        s.tenant == request.tenant && s.login.eq_ignore_ascii_case(&request.login)
    });
    let body = serde_json::json!({
        "tenant": request.tenant,
        "login": request.login,
        "password": request.password,
        "device_name": request.device_name,
        "device_id": previous.as_ref().filter(|_| same_user).map(|s| s.device_id.clone()),
    });
    let sent_at = store.clock().now();
    let response = http()?
        .post(url(&request.server_url, "/v1/auth/login"))
        .timeout(Duration::from_secs(60))
        .json(&body)
        .send()
        .await
        .map_err(|e| SyncError::Offline {
            attempts: 1,
            detail: e.to_string(),
        })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| SyncError::Offline {
        attempts: 1,
        detail: e.to_string(),
    })?;
    if !status.is_success() {
        return Err(refusal(status.as_u16(), &bytes));
    }
    let answer: LoginAnswer = serde_json::from_slice(&bytes)
        .map_err(|e| SyncError::Protocol(format!("sign-in answer: {e}")))?;
    let me = answer.me.ok_or_else(|| SyncError::Refused {
        status: status.as_u16(),
        code: ErrorCode::ProfileMissing.as_str(),
        detail: "this account has no user profile: an admin must create one".into(),
    })?;
    if !same_user {
        store.wipe()?;
    }
    let actor = hex_actor(&answer.actor_id)?;
    store.set_actor(actor)?;
    let session = SavedSession {
        server_url: request.server_url.clone(),
        tenant: request.tenant.clone(),
        login: request.login.clone(),
        token: answer.token,
        device_id: answer.device_id,
        expires_at: answer.expires_at,
    };
    save_json(&mut store, META_SESSION, &session)?;
    let received_at = store.clock().now();
    if let Ok(offset) = ClockOffset::from_round_trip(sent_at, answer.server_time, received_at) {
        save_json(&mut store, META_CLOCK_OFFSET, &offset)?;
    }
    Ok(Engine::new(store, me)?)
}

/// Signs out: revokes the token on the server when it can be reached, then deletes the
/// store's files (database, WAL and shared memory).
pub async fn sign_out(engine: Engine) -> Result<(), SyncError> {
    let store = engine.into_store();
    if let Some(session) = saved_session(&store)? {
        let revoked = http()?
            .post(url(&session.server_url, "/v1/auth/logout"))
            .bearer_auth(&session.token)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Err(e) = revoked {
            tracing::info!(error = %e, "sign-out: server not reached; the token stays until it expires");
        }
    }
    let path = store.path().map(Path::to_path_buf);
    drop(store);
    if let Some(path) = path {
        delete_store_files(&path)?;
    }
    Ok(())
}

/// The duplicate check of a customer about to be created, asked of the server: it sees the
/// whole company, where the phone's own check sees only what this device holds. Hits outside
/// the user's scope come redacted to the fields the configuration allows. Offline, the app
/// falls back on [`Engine::check_customer_duplicates`]; the server checks again at sync.
pub async fn check_duplicates_online(
    engine: &Engine,
    customer: &crate::record::Customer,
    timeout: Duration,
) -> Result<crate::authority::customer::DuplicateCheck, SyncError> {
    let session = saved_session(engine.store())?.ok_or(SyncError::NotSignedIn)?;
    let body = serde_json::json!({
        "legal_name": customer.legal_name,
        "short_name": customer.short_name,
        "english_name": customer.english_name,
    });
    let response = http()?
        .post(url(&session.server_url, "/v1/customers/duplicates"))
        .bearer_auth(&session.token)
        .timeout(timeout)
        .json(&body)
        .send()
        .await
        .map_err(|e| SyncError::Offline {
            attempts: 1,
            detail: e.to_string(),
        })?;
    let status = response.status().as_u16();
    let bytes = read_limited(response, 4 << 20)
        .await
        .map_err(SyncError::Protocol)?;
    if !(200..300).contains(&status) {
        return Err(refusal(status, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// Deletes a store's database file, its WAL and shared-memory files and its photos.
pub fn delete_store_files(path: &Path) -> Result<(), SyncError> {
    match std::fs::remove_dir_all(crate::attachments::folder_beside(path)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(crate::Error::Io(e).into()),
    }
    Ok(crate::store::remove_store_files(path)?)
}

/// Runs push/pull rounds until nothing is left; reports progress after every page.
pub async fn sync_now(
    engine: &mut Engine,
    options: &SyncOptions,
    progress: &(dyn Fn(&SyncProgress) + Send + Sync),
    cancel: &CancelToken,
) -> Result<SyncReport, SyncError> {
    let session = saved_session(engine.store())?.ok_or(SyncError::NotSignedIn)?;
    let client = http()?;
    let mut totals = SyncProgress::default();
    let mut rejected = Vec::new();
    let mut last_offset = None;
    let mut server_time = None;
    let mut server_restored = false;
    let mut reoffered = 0;
    // Once per sync, a round that held records back and received some goes round again.
    let mut awaited_once = false;
    let mut held_back = 0;
    for _ in 0..options.max_rounds.max(1) {
        if cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        let pending_before = engine.store().pending()?.len();
        let (mut request, waiting) = build_request(engine, options)?;
        held_back = waiting;
        let pushed = request.push.len();
        let (response, bytes_up, bytes_down, offset) = send(
            engine,
            &client,
            &session,
            options,
            &mut request,
            &mut totals,
            cancel,
        )
        .await?;
        totals.bytes_up += bytes_up as u64;
        totals.bytes_down += bytes_down as u64;
        let outcome: PageOutcome = engine.store_mut().transaction(|tx| {
            let outcome = apply::apply_page(tx, &response)?;
            if let Some(offset) = &offset {
                let json = serde_json::to_vec(offset).map_err(|e| crate::Error::InvalidInput {
                    field: "clock offset",
                    detail: e.to_string(),
                })?;
                tx.set_meta(META_CLOCK_OFFSET, &json)?;
            }
            Ok(outcome)
        })?;
        if let Some(me) = &response.me
            && me.user_id == engine.me().user_id
            && me != engine.me()
        {
            engine.set_me(me.clone())?;
        }
        totals.rounds += 1;
        totals.pages += 1;
        totals.records_up += pushed as u64;
        totals.records_down += outcome.received as u64;
        totals.records_removed += outcome.removed as u64;
        rejected.extend(outcome.rejected.iter().cloned());
        last_offset = offset.or(last_offset);
        server_time = Some(response.server_time);
        progress(&totals);
        server_restored |= outcome.server_restored;
        reoffered += outcome.reoffered;
        // Done when no page waits and the outbox is empty; also when a push settled
        // nothing (a server that keeps a record unacknowledged must not spin the loop). The
        // page that ends a recovery from a restored server settled nothing by design: what
        // the server lacks is pushed from the next round. So did a round that held records
        // back (own changes built on changes the server lacked) and received records: what
        // it received may be what they waited for (once per sync: a busy tenant must not keep
        // it going).
        let pending_after = engine.store().pending()?.len();
        let settled = outcome.acked + outcome.rejected.len();
        let received_awaited =
            !awaited_once && outcome.received > 0 && pushed < pending_before && pending_after > 0;
        awaited_once |= received_awaited;
        let pushes_waited = outcome.server_restored || outcome.recovered || received_awaited;
        let more = response.has_more || (pushes_waited && pending_after > 0);
        if !more && (pending_after == 0 || settled == 0 || pending_after >= pending_before) {
            break;
        }
    }
    let server_time = server_time.unwrap_or_else(|| engine.now());
    let json = serde_json::to_vec(&server_time).map_err(|e| crate::Error::InvalidInput {
        field: "server time",
        detail: e.to_string(),
    })?;
    engine.store_mut().set_meta(META_LAST_SUCCESS, &json)?;
    Ok(SyncReport {
        progress: totals,
        rejected,
        server_time,
        clock_offset: last_offset,
        server_restored,
        reoffered,
        held_back,
    })
}

/// Outbox records whose offers are worked out together (see [`build_request`]).
const OFFER_SLICE: usize = 64;

/// The next request, and how many pending records it holds back (their own changes wait
/// for changes the server lacks).
fn build_request(
    engine: &Engine,
    options: &SyncOptions,
) -> Result<(SyncRequest, usize), SyncError> {
    let store = engine.store();
    let mut request = SyncRequest::new(apply::cursor(store)?);
    request.page_limit = options.page_limit;
    request.clock_offset = engine.clock_offset()?;
    request.epoch = apply::epoch(store)?;
    if apply::recovering(store)? {
        // Following a restored server's sequence from its start: what it lacks is known
        // only once every page has told the device what it holds.
        return Ok((request, 0));
    }
    let own = store.own_actors()?;
    let mut bytes = 0usize;
    let mut waiting = 0;
    let pending = store.pending()?;
    // The outbox in slices whose offers are worked out together on the pool, a slice no
    // bigger than what the request still takes: what a full request leaves unused is little
    // work.
    let mut rest = &pending[..];
    'outbox: while !rest.is_empty() {
        let room = options
            .push_records
            .saturating_sub(request.push.len())
            .max(1);
        let (ids, after) = rest.split_at(rest.len().min(room).min(OFFER_SLICE));
        rest = after;
        // Only this device's own changes on what the server holds: after a restore the
        // device may also hold others' changes the server lost, which their authors offer.
        let offers = store.offerable_changes_of(ids, &own)?;
        for (&id, offer) in ids.iter().zip(offers) {
            if request.push.len() >= options.push_records {
                break 'outbox;
            }
            if offer.waiting > 0 {
                waiting += 1;
            }
            if offer.offered == 0 && offer.waiting > 0 {
                continue;
            }
            if !request.push.is_empty() && bytes + offer.bytes.len() > options.push_bytes {
                break 'outbox;
            }
            bytes += offer.bytes.len();
            let heads = if offer.waiting == 0 {
                encode_heads(&store.heads(id)?)
            } else {
                encode_heads(&offer.heads)
            };
            request.push.push(PushRecord {
                id,
                changes: Bytes(offer.bytes),
                heads: Bytes(heads),
            });
        }
    }
    Ok((request, waiting))
}

/// Sends one request with retries, each attempt stamped with the device's send time; returns
/// the decoded answer, the sizes sent and received and the clock offset measured from it.
async fn send(
    engine: &mut Engine,
    client: &reqwest::Client,
    session: &SavedSession,
    options: &SyncOptions,
    request: &mut SyncRequest,
    totals: &mut SyncProgress,
    cancel: &CancelToken,
) -> Result<(SyncResponse, usize, usize, Option<ClockOffset>), SyncError> {
    let mut backoff = options.initial_backoff;
    let mut last_failure = String::new();
    let attempts = options.max_attempts.max(1);
    for attempt in 1..=attempts {
        if cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        let sent_at = engine.now();
        request.sent_at = Some(sent_at);
        let body = protocol::encode(request).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let bytes_up = body.len();
        totals.requests += 1;
        let result = client
            .post(url(&session.server_url, SYNC_PATH))
            .bearer_auth(&session.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .header(reqwest::header::ACCEPT, CONTENT_TYPE)
            .timeout(options.request_timeout)
            .body(body)
            .send()
            .await;
        let mut retry_after = None;
        let retry = match result {
            Ok(response) => {
                let status = response.status();
                retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match read_limited(response, options.max_response_bytes).await {
                    Ok(bytes) if status.is_success() => {
                        let received_at = engine.now();
                        let answer: SyncResponse =
                            protocol::decode(&bytes, options.max_response_bytes)
                                .map_err(|e| SyncError::Protocol(e.to_string()))?;
                        let offset =
                            ClockOffset::from_round_trip(sent_at, answer.server_time, received_at)
                                .ok();
                        return Ok((answer, bytes_up, bytes.len(), offset));
                    }
                    Ok(bytes) if status.is_server_error() || status.as_u16() == 429 => {
                        format!(
                            "server answered {status}: {}",
                            String::from_utf8_lossy(&bytes)
                        )
                    }
                    Ok(bytes) => {
                        let refusal = refusal(status.as_u16(), &bytes);
                        if matches!(refusal, SyncError::Revoked { .. }) {
                            engine.store_mut().wipe()?;
                        }
                        return Err(refusal);
                    }
                    Err(e) => e,
                }
            }
            Err(e) => format!("{e}"),
        };
        last_failure = retry;
        tracing::info!(attempt, failure = %last_failure, "sync request failed");
        if attempt < attempts {
            let jitter = 0.5 + fastrand::f64();
            // A busy server says when to come back; never sooner, never beyond the longest
            // backoff.
            let wait = match retry_after {
                Some(after) => backoff.mul_f64(jitter).max(after.min(options.max_backoff)),
                None => backoff.mul_f64(jitter),
            };
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(options.max_backoff);
        }
    }
    Err(SyncError::Offline {
        attempts,
        detail: last_failure,
    })
}

async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > limit)
    {
        return Err(format!("response larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > limit {
            return Err(format!("response larger than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn refusal(status: u16, body: &[u8]) -> SyncError {
    let Ok(answer) = serde_json::from_slice::<ErrorAnswer>(body) else {
        return SyncError::Refused {
            status,
            code: String::new(),
            detail: String::from_utf8_lossy(body).chars().take(200).collect(),
        };
    };
    match ErrorCode::from_wire(&answer.code) {
        Some(ErrorCode::BadCredentials) => SyncError::BadCredentials,
        Some(ErrorCode::DeviceRevoked | ErrorCode::AccountRevoked) => {
            SyncError::Revoked { code: answer.code }
        }
        Some(
            ErrorCode::TokenExpired
            | ErrorCode::TokenRevoked
            | ErrorCode::TokenInvalid
            | ErrorCode::TokenMissing,
        ) => SyncError::AuthExpired { code: answer.code },
        _ => SyncError::Refused {
            status,
            code: answer.code,
            detail: answer.detail,
        },
    }
}

fn saved_session(store: &Store) -> Result<Option<SavedSession>, SyncError> {
    match store.meta(META_SESSION)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SyncError::Protocol(format!("stored session: {e}"))),
    }
}

fn save_json<T: Serialize>(store: &mut Store, key: &str, value: &T) -> Result<(), SyncError> {
    let json = serde_json::to_vec(value).map_err(|e| crate::Error::InvalidInput {
        field: "meta",
        detail: e.to_string(),
    })?;
    store.set_meta(key, &json)?;
    Ok(())
}

fn hex_actor(text: &str) -> Result<automerge::ActorId, SyncError> {
    let bad = || SyncError::Protocol(format!("actor `{text}` is not 32 hex digits"));
    if text.len() != 32 {
        return Err(bad());
    }
    let bytes = (0..16)
        .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    Ok(automerge::ActorId::from(bytes))
}
