//! The people's phones: each a store file on the real engine and sync client, signed in once
//! and then opened, worked on and synced like an app that is started and stopped.

use std::path::Path;
use std::sync::Arc;

use fieldsales_core::engine::Engine;
use fieldsales_core::store::Store;
use fieldsales_core::sync::{self, CancelToken, SignIn, SyncError, SyncOptions};
use fieldsales_core::time::ManualClock;

use super::error::{engine_error, sync_error};
use super::org::Person;
use super::{DemoError, PASSWORD, TENANT};

/// Signs `person` in on a new phone at `base` and pulls what they may see, the phone's clock
/// reading `clock` (the server's time then).
pub(super) async fn sign_in(
    base: &str,
    person: &Person,
    clock: ManualClock,
) -> Result<(), DemoError> {
    let signed_in = sync::sign_in(
        &SignIn {
            server_url: base.to_owned(),
            tenant: TENANT.into(),
            login: person.login.clone(),
            password: PASSWORD.into(),
            device_name: format!("{}的手机", person.name),
        },
        &person.store,
    )
    .await
    .map_err(sync_error(&person.login))?;
    drop(signed_in);
    let mut engine = open(&person.store, &person.login, Some(clock))?;
    sync_once(&mut engine, &person.login).await
}

/// Opens a signed-in phone's store; on `clock` when given (the simulated day), else on
/// the system clock.
pub(super) fn open(
    path: &Path,
    login: &str,
    clock: Option<ManualClock>,
) -> Result<Engine, DemoError> {
    let store = match clock {
        Some(c) => Store::open_with_clock(path, Arc::new(c)),
        None => Store::open(path),
    }
    .map_err(engine_error(login, "open the store"))?;
    Engine::resume(store)
        .map_err(engine_error(login, "resume the session"))?
        .ok_or_else(|| DemoError::Sync {
            login: login.to_owned(),
            source: SyncError::NotSignedIn,
        })
}

/// Opens `person`'s phone on the system clock and syncs it.
pub(super) async fn open_and_sync(person: &Person) -> Result<Engine, DemoError> {
    let mut engine = open(&person.store, &person.login, None)?;
    sync_once(&mut engine, &person.login).await?;
    Ok(engine)
}

/// Syncs until nothing is left; a record the server rejects is a failure of the demo (every
/// edit it makes is one the rules allow).
pub(super) async fn sync_once(engine: &mut Engine, login: &str) -> Result<(), DemoError> {
    let report = sync::sync_now(
        engine,
        &SyncOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .await
    .map_err(sync_error(login))?;
    if let Some((record, rule)) = report.rejected.first() {
        return Err(DemoError::Sync {
            login: login.to_owned(),
            source: SyncError::Protocol(format!(
                "the server rejected {} record(s), first {record} by rule {rule}",
                report.rejected.len()
            )),
        });
    }
    Ok(())
}
