//! The HTTP/TLS side of authsidecar: the only crate that knows hyper and
//! rustls.
//!
//! One request's path: [`serve`] accepts a TCP connection, completes the
//! TLS handshake (bounded in time), serves HTTP/1.1 or h2 by ALPN, and
//! hands each request to the router, which sends the SCIM base path to
//! [`scim`]: authenticate the bearer token through the verdict cache,
//! require the Admin role, decode, translate, call the core, and answer
//! `application/scim+json`. Every other path goes, when an `app` section is
//! configured, to the Ignite app (`proxy`): token validated (any role),
//! identity in headers, bodies streamed both ways.

pub mod admin;
mod core_gate;
mod failure;
pub mod metrics;
mod proxy;
mod rejections;
mod router;
mod scim;
mod serve;
mod state;
pub mod tls;

use std::sync::Arc;

use authsidecar_config::Config;
use tokio::net::TcpListener;

pub use proxy::AppSetupError;
pub use serve::{RunningSidecar, spawn};
pub use state::{AppState, CoreVerifier};

/// Why the sidecar could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The certificate or key could not be loaded.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The core client could not be built.
    #[error("cannot set up the core client: {0}")]
    Core(#[from] authsidecar_core_client::CoreCallError),
    /// The client for the Ignite app could not be built from `app`.
    #[error("cannot set up the app passthrough: {0}")]
    App(#[from] AppSetupError),
}

/// Loads TLS from the config's files, binds `config.listen` and serves. The
/// certificate is reloaded on SIGHUP and when its files change (see
/// [`RunningSidecar::cert_reloader`]).
pub async fn start(config: &Config) -> Result<RunningSidecar, StartError> {
    let tls = tls::CertReloader::load(&config.tls.cert_file, &config.tls.key_file)?;
    let state = Arc::new(AppState::from_config(config)?);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    spawn(state, tls, listener).map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })
}
