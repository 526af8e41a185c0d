//! The TLS listener: accept, handshake (bounded), serve HTTP/1.1 or h2 per
//! ALPN, close idle connections, and drain on shutdown.
//!
//! Limits (`limits.*`, `tls.handshake_timeout_ms`):
//! - at most `max_connections` connections are served at once. Beyond it the
//!   listener stops accepting, so new connections wait in the kernel's
//!   backlog (their TLS handshake does not start) until one closes; a client
//!   that gives up first sees a connect or handshake timeout. Waiting rather
//!   than refusing keeps short bursts from failing;
//! - the TLS handshake must finish within `handshake_timeout_ms`;
//! - HTTP/1.1 request headers must arrive within `header_read_timeout_ms`
//!   and be at most `max_header_bytes` (else 431, answered by hyper). hyper
//!   also runs that timer while a keep-alive connection waits for its next
//!   request, so an idle HTTP/1.1 connection is closed after the shorter of
//!   the header timeout and the idle timeout;
//! - h2 header lists are capped at `max_header_bytes` as well (h2 answers
//!   431); h2 has no header timer, the idle timer covers it;
//! - a connection with no request in flight for `idle_timeout_secs` is
//!   closed gracefully (see `connection.rs`).
//!
//! With a [`CertReloader`], [`spawn`] also reloads the certificate on SIGHUP
//! and, every `tls.reload_interval_secs` (0: never), when its files changed.

mod connection;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authsidecar_config::Config;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::state::AppState;
use crate::tls::{self, CertReloader, ServerTls};

/// Pause after a failed `accept` (out of file descriptors and the like).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How the listener treats connections; from `tls.*`, `limits.*` and
/// `lifecycle.shutdown_deadline_secs`.
#[derive(Debug, Clone)]
pub(crate) struct ListenerSettings {
    /// A TLS handshake that takes longer is dropped.
    pub(crate) handshake_timeout: Duration,
    /// HTTP/1.1 request headers must arrive within this time.
    pub(crate) header_read_timeout: Duration,
    /// Largest request head (HTTP/1.1) or header list (h2) accepted.
    pub(crate) max_header_bytes: usize,
    /// A connection without a request in flight this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Most connections served at once.
    pub(crate) max_connections: usize,
    /// How often the certificate files are checked for changes; zero: never.
    pub(crate) tls_reload_interval: Duration,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub(crate) shutdown_deadline: Duration,
}

impl ListenerSettings {
    /// The settings of a config; out-of-range values (an unvalidated config)
    /// are clamped to something that works.
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            handshake_timeout: config.tls.handshake_timeout(),
            header_read_timeout: config.limits.header_read_timeout(),
            max_header_bytes: config.limits.max_header_bytes,
            idle_timeout: config.limits.idle_timeout(),
            max_connections: config
                .limits
                .max_connections
                .clamp(1, Semaphore::MAX_PERMITS),
            tls_reload_interval: config.tls.reload_interval(),
            shutdown_deadline: config.lifecycle.shutdown_deadline(),
        }
    }
}

/// A sidecar serving on a socket.
pub struct RunningSidecar {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    reload_task: Option<JoinHandle<()>>,
    reloader: Option<Arc<CertReloader>>,
    state: Arc<AppState>,
}

impl RunningSidecar {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (token cache statistics, for example).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The certificate reloader, when the sidecar serves a reloadable
    /// certificate: [`CertReloader::reload_now`] does what SIGHUP does.
    pub fn cert_reloader(&self) -> Option<&Arc<CertReloader>> {
        self.reloader.as_ref()
    }

    /// Stops accepting, lets in-flight requests finish (bounded by
    /// `lifecycle.shutdown_deadline_secs`, then the rest are closed), and
    /// returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(task) = self.reload_task {
            let _ = task.await;
        }
    }
}

/// Serves `state` on `listener` with `tls` (a fixed [`ServerConfig`] or a
/// [`CertReloader`]) until shut down. With a reloader it also listens for
/// SIGHUP and polls the certificate files (see the module docs).
pub fn spawn(
    state: Arc<AppState>,
    tls: impl Into<ServerTls>,
    listener: TcpListener,
) -> std::io::Result<RunningSidecar> {
    let tls = tls.into();
    let addr = listener.local_addr()?;
    // A loaded certificate is one of the conditions of /readyz.
    state.readiness.set_certificate_loaded(true);
    let (stop, stopped) = watch::channel(false);
    let reloader = tls.reloader().cloned();
    let reload_task = reloader.clone().map(|reloader| {
        tokio::spawn(tls::watch_files(
            reloader,
            state.listener.tls_reload_interval,
            hangup_signal(),
            stopped.clone(),
            state.metrics.cert_reloads(),
        ))
    });
    let task = tokio::spawn(accept_loop(
        state.clone(),
        tls.server_config(),
        listener,
        stopped,
    ));
    Ok(RunningSidecar {
        addr,
        stop,
        task,
        reload_task,
        reloader,
        state,
    })
}

/// SIGHUP, registered now so a signal sent once `spawn` returns is seen.
fn hangup_signal() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; certificates reload by polling");
            None
        }
    }
}

async fn accept_loop(
    state: Arc<AppState>,
    tls: Arc<ServerConfig>,
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
) {
    let settings = state.listener.clone();
    let context = Arc::new(connection::Context::new(state, tls));
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let (close, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        // Finished connections leave their (empty) results here until reaped.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        connections.spawn(connection::serve(
            context.clone(),
            tcp,
            peer,
            closing.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = close.send(true);
    let drained = tokio::time::timeout(settings.shutdown_deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still busy at the shutdown deadline are closed"
        );
        connections.shutdown().await;
    }
}
