//! The one object an app holds per signed-in user: the engine over their local store.
//!
//! Every operation of core's [`fieldsales_core::engine::Engine`] that a screen needs is a
//! method of [`Engine`], in the module of its area (`customers.rs`, `leads.rs`...). Store work
//! is SQLite and Automerge on the device: quick, but never to be done on a UI thread, so every
//! method is `async` (a `suspend fun` in Kotlin, `async` in Swift) and runs the work on tokio's
//! blocking pool. One mutex serialises the engine: SQLite has one writer anyway, and a read
//! never sees half of another screen's write.
//!
//! After each write the engine drains core's change journal and tells every registered
//! [`ChangeListener`] which records changed, once the lock is released, so a listener may call
//! back into the engine. The journal is on the store's connection, so what a sync applies is
//! announced the same way as what a screen writes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use fieldsales_core::RecordId;
use fieldsales_core::engine::{ChangedRecord as CoreChange, Engine as CoreEngine};
use fieldsales_core::me::Me;
use fieldsales_core::record::private::Hidden;
use fieldsales_core::store::{Store, StoreKey};

use crate::error::{FieldsalesError, OrInvalid};
use crate::task;

/// Who is signed in on this device, as the server said at sign-in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedInUser {
    /// The user's profile record.
    pub user_id: String,
    /// The org unit (team) the user belongs to.
    pub unit_id: String,
    /// Role codes such as `sales_rep` or `sales_manager`.
    pub roles: Vec<String>,
    /// How much of the org the user sees.
    pub scope: crate::codes::DataScope,
    /// The user's IANA time zone: "today" and the report deadline follow it.
    pub zone: String,
    /// The fields the user's roles hide: they never reach this device, and a screen shows
    /// them as hidden rather than empty.
    #[uniffi(default = [])]
    pub hidden_fields: Vec<crate::codes::SensitiveField>,
}

impl From<&Me> for SignedInUser {
    fn from(me: &Me) -> Self {
        SignedInUser {
            user_id: me.user_id.to_string(),
            unit_id: me.unit_id.to_string(),
            roles: me.roles.clone(),
            scope: me.scope.clone().into(),
            zone: me.zone.to_string(),
            hidden_fields: me.hidden.iter().map(Into::into).collect(),
        }
    }
}

impl SignedInUser {
    fn checked(&self) -> Result<Me, FieldsalesError> {
        Ok(Me {
            user_id: record_id("user.user_id", &self.user_id)?,
            unit_id: record_id("user.unit_id", &self.unit_id)?,
            roles: self.roles.clone(),
            scope: self.scope.core("user.scope")?,
            zone: crate::time::zone("user.zone", &self.zone)?,
            hidden: Hidden::of(
                self.hidden_fields
                    .iter()
                    .map(|f| f.core("user.hidden_fields"))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        })
    }
}

/// A record ID given by the app, checked.
pub(crate) fn record_id(field: &str, text: &str) -> Result<RecordId, FieldsalesError> {
    text.parse::<RecordId>().or_invalid(field)
}

/// An optional record ID given by the app, checked.
pub(crate) fn optional_id(
    field: &str,
    text: Option<&str>,
) -> Result<Option<RecordId>, FieldsalesError> {
    text.map(|t| record_id(field, t)).transpose()
}

/// One record a write or a sync changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChangedRecord {
    /// The record.
    pub id: String,
    /// Its kind.
    pub kind: crate::codes::RecordKind,
    /// Whether it left the device (out of the user's scope, or signed out). A deleted record
    /// stays, marked deleted.
    pub removed: bool,
}

/// What one operation or one applied sync page changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChangeEvent {
    /// Every record changed, each once.
    pub records: Vec<ChangedRecord>,
    /// The kinds among them, each once: a list screen refreshes when its kind is here.
    pub kinds: Vec<crate::codes::RecordKind>,
}

impl ChangeEvent {
    fn of(changes: Vec<CoreChange>) -> Self {
        let codes: BTreeSet<&str> = changes.iter().map(|c| c.kind.as_str()).collect();
        let mut kinds: Vec<crate::codes::RecordKind> = Vec::new();
        for kind in codes.into_iter().map(crate::codes::RecordKind::of_code) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        ChangeEvent {
            records: changes
                .into_iter()
                .map(|c| ChangedRecord {
                    id: c.id.to_string(),
                    kind: crate::codes::RecordKind::of_code(&c.kind),
                    removed: c.removed,
                })
                .collect(),
            kinds,
        }
    }
}

/// Told what changed after each write and each applied sync page. Called on a library
/// thread; hand the event to the UI thread and return quickly. It may call the engine.
#[uniffi::export(foreign)]
pub trait ChangeListener: Send + Sync {
    /// Records changed.
    fn on_change(&self, event: ChangeEvent);
}

type Listeners = Mutex<BTreeMap<u64, Arc<dyn ChangeListener>>>;

/// A registered [`ChangeListener`]: it is told of changes until this is cancelled or dropped.
#[derive(uniffi::Object)]
pub struct ChangeSubscription {
    id: u64,
    listeners: Weak<Listeners>,
}

#[uniffi::export]
impl ChangeSubscription {
    /// Stops the listener being told; cancelling twice does nothing.
    pub fn cancel(&self) {
        if let Some(listeners) = self.listeners.upgrade() {
            lock(&listeners).remove(&self.id);
        }
    }
}

impl Drop for ChangeSubscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// A lock that a panic elsewhere did not make unusable: every write is one SQLite transaction,
/// so a panic mid-write left the store as it was before it.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One signed-in user's engine over their local store.
#[derive(uniffi::Object)]
pub struct Engine {
    /// `None` once the user signed out: every later call fails with `NotSignedIn`.
    pub(crate) core: Mutex<Option<CoreEngine>>,
    listeners: Arc<Listeners>,
    next_listener: Mutex<u64>,
}

impl Engine {
    pub(crate) fn wrap(core: CoreEngine) -> Result<Arc<Engine>, FieldsalesError> {
        core.track_changes()?;
        Ok(Arc::new(Engine {
            core: Mutex::new(Some(core)),
            listeners: Arc::new(Mutex::new(BTreeMap::new())),
            next_listener: Mutex::new(0),
        }))
    }

    /// Runs `f` over the engine on the blocking pool.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, FieldsalesError>
    where
        T: Send + 'static,
        F: FnOnce(&CoreEngine) -> Result<T, FieldsalesError> + Send + 'static,
    {
        let this = Arc::clone(self);
        blocking(move || match lock(&this.core).as_ref() {
            Some(core) => f(core),
            None => Err(FieldsalesError::NotSignedIn),
        })
        .await
    }

    /// Runs a write over the engine on the blocking pool, then tells the listeners what it
    /// changed (also when it failed after part of its work committed).
    pub(crate) async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, FieldsalesError>
    where
        T: Send + 'static,
        F: FnOnce(&mut CoreEngine) -> Result<T, FieldsalesError> + Send + 'static,
    {
        let this = Arc::clone(self);
        blocking(move || this.write_now(f)).await
    }

    /// [`Engine::write`] on the calling thread (the sync task is already off the UI thread).
    pub(crate) fn write_now<T>(
        &self,
        f: impl FnOnce(&mut CoreEngine) -> Result<T, FieldsalesError>,
    ) -> Result<T, FieldsalesError> {
        let (out, changes) = {
            let mut guard = lock(&self.core);
            let Some(core) = guard.as_mut() else {
                return Err(FieldsalesError::NotSignedIn);
            };
            let out = f(core);
            (out, core.take_changes())
        };
        match changes {
            Ok(changes) => self.announce(changes),
            Err(e) => tracing::warn!(error = %e, "the change journal could not be read"),
        }
        out
    }

    /// Tells every listener about `changes`, if there are any.
    pub(crate) fn announce(&self, changes: Vec<CoreChange>) {
        if changes.is_empty() {
            return;
        }
        let event = ChangeEvent::of(changes);
        let listeners: Vec<Arc<dyn ChangeListener>> =
            lock(&self.listeners).values().cloned().collect();
        for l in listeners {
            let event = event.clone();
            task::deliver("change listener", move || l.on_change(event));
        }
    }
}

/// Runs blocking store work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FieldsalesError> + Send + 'static,
) -> Result<T, FieldsalesError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FieldsalesError::Internal {
            detail: format!("the store work stopped: {e}"),
        })?
}

/// Opens the store at `path`: encrypted with `key` (32 bytes from [`generate_store_key`], kept
/// in the platform keystore), or plain when `key` is `None`. A wrong key is
/// `FieldsalesError::WrongKey` and leaves the file as it was.
pub(crate) fn open_store(path: &str, key: Option<Vec<u8>>) -> Result<Store, FieldsalesError> {
    match key {
        None => Ok(Store::open(path)?),
        Some(bytes) => Ok(Store::open_encrypted(path, &StoreKey::from_vec(bytes)?)?),
    }
}

/// A new random key for an encrypted store (32 bytes from the operating system's generator):
/// the app keeps it in the platform keystore (Android Keystore, iOS Keychain) and passes it to
/// `sign_in`, `open_engine` and `resume_engine` on every start.
#[uniffi::export]
pub fn generate_store_key() -> Result<Vec<u8>, FieldsalesError> {
    Ok(StoreKey::generate()?.as_bytes().to_vec())
}

/// Encrypts the plain store at `path` (and its photos) in place with `key`: for an app that
/// kept its store plain before it turned encryption on. Run it before opening the store; the
/// store then opens only with `key`. A crash leaves the plain store or the encrypted one,
/// never a mix. A store that is already encrypted is `WrongKey`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn encrypt_store(path: String, key: Vec<u8>) -> Result<(), FieldsalesError> {
    let key = StoreKey::from_vec(key)?;
    blocking(move || Ok(Store::encrypt_plain(&path, &key)?)).await
}

/// Opens (or creates) the local store at `path` for `user`, without the server: for a user
/// whose identity the app already holds, and for tests. Signing in through the server is the
/// usual way to get an engine. With `key`, the store is encrypted (see `generate_store_key`).
#[uniffi::export(async_runtime = "tokio", default(key = None))]
pub async fn open_engine(
    path: String,
    user: SignedInUser,
    key: Option<Vec<u8>>,
) -> Result<Arc<Engine>, FieldsalesError> {
    let me = user.checked()?;
    blocking(move || {
        let store = open_store(&path, key)?;
        Engine::wrap(CoreEngine::new(store, me)?)
    })
    .await
}

/// Reopens the store at `path` (with its `key` when it is encrypted) as the user last signed
/// in on it, or `None` when nobody is (a first start, or after sign-out): the app then shows
/// the sign-in screen.
#[uniffi::export(async_runtime = "tokio", default(key = None))]
pub async fn resume_engine(
    path: String,
    key: Option<Vec<u8>>,
) -> Result<Option<Arc<Engine>>, FieldsalesError> {
    blocking(move || {
        let store = open_store(&path, key)?;
        CoreEngine::resume(store)?.map(Engine::wrap).transpose()
    })
    .await
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Whether the store is encrypted at rest.
    pub async fn is_encrypted(self: Arc<Self>) -> Result<bool, FieldsalesError> {
        self.read(|e| Ok(e.store().is_encrypted())).await
    }

    /// Changes the key of an encrypted store to `new_key` (the old one no longer opens it);
    /// the app saves the new key in its keystore first. A plain store is refused with
    /// `InvalidInput`.
    pub async fn change_store_key(
        self: Arc<Self>,
        new_key: Vec<u8>,
    ) -> Result<(), FieldsalesError> {
        let key = StoreKey::from_vec(new_key)?;
        self.write(move |e| Ok(e.store_mut().rekey(&key)?)).await
    }

    /// The signed-in user.
    pub async fn me(self: Arc<Self>) -> Result<SignedInUser, FieldsalesError> {
        self.read(|e| Ok(SignedInUser::from(e.me()))).await
    }

    /// How many records have changes the server has not acknowledged yet (the "not synced"
    /// badge).
    pub async fn pending_count(self: Arc<Self>) -> Result<i64, FieldsalesError> {
        self.read(|e| Ok(crate::signed(e.store().pending()?.len())))
            .await
    }

    /// Registers a listener told of every change from now on; keep the subscription for as
    /// long as it should be told.
    pub fn observe_changes(&self, listener: Arc<dyn ChangeListener>) -> Arc<ChangeSubscription> {
        let id = {
            let mut next = lock(&self.next_listener);
            *next += 1;
            *next
        };
        lock(&self.listeners).insert(id, listener);
        Arc::new(ChangeSubscription {
            id,
            listeners: Arc::downgrade(&self.listeners),
        })
    }
}
