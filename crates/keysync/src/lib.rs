//! keysync: fetches the participants' JWS public keys from Mojaloop Connection
//! Manager (MCM) and serves them to every verifier.
//!
//! MCM keeps one key per participant and replaces it on rotation. keysync polls
//! `GET /api/dfsps/jwscerts` and repairs or skips damaged entries. It keeps a replaced
//! key valid for an overlap period and a missing participant for a grace period. It
//! saves its keys to a state file, so it serves keys even when MCM is down at start.
//! The keys go out as the key-set document the Envoy filter polls (`GET /v1/keys`), as
//! a directory of `<fspId>.pem` files for sdk-scheme-adapter, and as metrics.
//!
//! The parts: [`config`] reads the settings, [`mcm`] reads MCM's response, [`history`]
//! is the pure key-history state machine, [`store`] writes files, [`client`] talks to
//! MCM, [`server`] serves the outputs, and [`daemon`] ties them together.

pub mod client;
pub mod config;
pub mod daemon;
pub mod history;
pub mod mcm;
pub mod metrics;
pub mod publish;
pub mod server;
pub mod store;

use std::path::Path;
use std::sync::Arc;

use tracing::{error, info};

pub use config::Config;
pub use daemon::{Clock, Keysync, ManualClock, Shared, SystemClock};

/// Runs keysync with the configuration from `config_path` and the environment.
///
/// With `once`, polls MCM a single time, writes the state file and key directory, and
/// returns; no server is started. Otherwise serves until SIGTERM or Ctrl-C.
///
/// # Errors
/// The configuration is invalid, the listen address cannot be bound, or (with
/// `once`) the poll failed. The message names the failure.
pub fn run(config_path: Option<&Path>, once: bool) -> Result<(), String> {
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listen = config.listen;
        let keysync = Keysync::new(config, Arc::new(SystemClock))?;
        if once {
            return keysync
                .poll_once()
                .await
                .map_err(|e| format!("MCM poll failed: {e}"));
        }

        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen} (listen.address): {e}"))?;
        let server = tokio::spawn(server::serve(listener, keysync.shared()));
        info!(version = env!("CARGO_PKG_VERSION"), "keysync started");
        keysync.run_polls(shutdown_signal()).await;
        server.abort();
        info!("keysync stopped");
        Ok(())
    })
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => info!("SIGTERM received; stopping"),
                    _ = tokio::signal::ctrl_c() => info!("interrupt received; stopping"),
                }
            }
            Err(e) => {
                error!("cannot watch for SIGTERM: {e}; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `publish-hub-key` and returns what MCM stored.
///
/// # Errors
/// As [`publish::publish_hub_key`].
pub fn publish(options: &publish::PublishOptions) -> Result<publish::Published, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(publish::publish_hub_key(options))
}
