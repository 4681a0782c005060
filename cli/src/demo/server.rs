//! The demo's sync server: a fresh data folder, the server on a free loopback port with the
//! demo tenant bootstrapped as an operator would, and a graceful stop.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, Timestamp};
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_on_host};
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::{AppState, Config, ServeError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{ADMIN_LOGIN, ADMIN_PASSWORD, DemoError, TENANT};

/// The server the demo runs, serving until stopped.
pub struct DemoServer {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub base: String,
    /// The server's clock. It follows the phones: it reads the days before the simulated day
    /// while they sign in and first sync, and today when they sync that day. The server
    /// measures every phone's clock, so a day recorded after syncs it had already made would
    /// look backdated.
    pub clock: ManualClock,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Result<(), ServeError>>,
}

impl DemoServer {
    /// Empties the demo's folders in `data_dir`, bootstraps the demo tenant with its admin
    /// and starts serving on a free loopback port, its clock reading `starts_at`.
    pub async fn start(data_dir: &Path, starts_at: Timestamp) -> Result<DemoServer, DemoError> {
        prepare(data_dir)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(DemoError::Listen)?;
        let addr: SocketAddr = listener.local_addr().map_err(DemoError::Listen)?;
        let config = Config::load(
            None,
            vec![
                (
                    "FIELDSALES_DATA_DIR".to_owned(),
                    data_dir.join("server").display().to_string(),
                ),
                ("FIELDSALES_LISTEN".to_owned(), addr.to_string()),
                ("FIELDSALES_LOG__LEVEL".to_owned(), "warn".to_owned()),
                ("FIELDSALES_SHUTDOWN_GRACE".to_owned(), "2s".to_owned()),
            ],
        )
        .map_err(|e| DemoError::Server(e.to_string()))?;
        let clock = ManualClock::new(starts_at);
        bootstrap(&config, clock.now()).await?;
        let store = fieldsales_server::open_store(&config)
            .await
            .map_err(|e| DemoError::Server(e.to_string()))?;
        let options = fieldsales_server::ServeOptions::from_config(&config);
        let state = AppState::new(config, store, Arc::new(clock.clone()))
            .await
            .map_err(|e| DemoError::Server(e.to_string()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(fieldsales_server::serve(
            fieldsales_server::app(state),
            listener,
            None,
            options,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(DemoServer {
            base: format!("http://{addr}"),
            clock,
            stop,
            serving,
        })
    }

    /// Stops the server gracefully.
    pub async fn stop(self) -> Result<(), DemoError> {
        let _ = self.stop.send(());
        match self.serving.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DemoError::Server(e.to_string())),
            Err(e) => Err(DemoError::Server(e.to_string())),
        }
    }
}

/// Empties (or creates) the server's and the phones' folders.
fn prepare(dir: &Path) -> Result<(), DemoError> {
    let io = |source| DemoError::DataFolder {
        path: dir.to_owned(),
        source,
    };
    for sub in ["server", "devices"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io)?;
        }
        std::fs::create_dir_all(&path).map_err(io)?;
    }
    Ok(())
}

/// The demo tenant and its admin, made by the server's own bootstrap.
async fn bootstrap(config: &Config, now: fieldsales_core::Timestamp) -> Result<(), DemoError> {
    let parse = |e: &dyn std::fmt::Display| DemoError::Server(format!("demo tenant: {e}"));
    bootstrap_on_host(
        config,
        BootstrapTenant {
            slug: TenantSlug::parse(TENANT).map_err(|e| parse(&e))?,
            name: DisplayName::parse("示范销售公司").map_err(|e| parse(&e))?,
            admin_login: Login::parse(ADMIN_LOGIN).map_err(|e| parse(&e))?,
            admin_password: Password::new(ADMIN_PASSWORD),
            admin_profile_id: None,
        },
        now,
    )
    .await
    .map_err(|e| DemoError::Server(e.to_string()))?;
    Ok(())
}
