//! The admin listener (`admin.listen`): plain HTTP/1.1 for the kubelet and
//! Prometheus, apart from the HTTPS listener so probes need no certificate
//! and no token.
//!
//! - `GET /healthz`: 200 `ok` while the process runs.
//! - `GET /readyz`: 200 `ready`, or 503 `not ready: <reason>` while the
//!   certificate is not loaded, shutdown has begun, or the core did not
//!   answer its last call (see [`Readiness`]). A background probe calls the
//!   core every [`PROBE_INTERVAL`] when no request did, so the answer is at
//!   most a few seconds old and `/readyz` itself never waits on the core.
//! - `GET /metrics`: every metric in the Prometheus text format.
//!
//! Bind it to loopback or a pod-internal address: `/metrics` is not
//! authenticated.

mod readiness;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use readiness::{NotReady, Readiness};

use crate::StartError;
use crate::failure::{Body, full};
use crate::state::AppState;

/// How often the core is probed when no request called it.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(3);
/// Request headers must arrive within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a scrape in progress may take to finish at shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

/// A running admin listener and its core probe.
pub struct AdminServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: [JoinHandle<()>; 2],
}

impl AdminServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the probe and the listener (a scrape in progress gets a moment
    /// to finish).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Binds `addr` and serves the admin endpoints of `state` on it.
pub async fn start(state: Arc<AppState>, addr: SocketAddr) -> Result<AdminServer, StartError> {
    let bind_error = |source| StartError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    spawn(state, listener).map_err(bind_error)
}

/// Serves the admin endpoints of `state` on `listener` and starts probing
/// the core, until shut down.
pub fn spawn(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<AdminServer> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let probe = tokio::spawn(probe_core(state.clone(), stopped.clone()));
    let serve = tokio::spawn(accept_loop(state, listener, stopped));
    Ok(AdminServer {
        addr,
        stop,
        tasks: [serve, probe],
    })
}

async fn probe_core(state: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(PROBE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        // Requests calling the core already keep readiness current.
        if state.readiness.core_observed_within(PROBE_INTERVAL) {
            continue;
        }
        tokio::select! {
            () = state.core.probe() => {}
            _ = stopped.changed() => return,
        }
    }
}

async fn accept_loop(
    state: Arc<AppState>,
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let state = state.clone();
        let service = service_fn(move |req| answer(state.clone(), req));
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(tcp), service);
        let watched = graceful.watcher().watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(%peer, error = %e, "admin connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown()).await;
}

async fn answer(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    Ok(match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" => match state.readiness.check() {
            Ok(()) => text(StatusCode::OK, "ready\n"),
            Err(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        },
        "/metrics" => {
            let mut r = text(StatusCode::OK, state.metrics.encode());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            );
            r
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; the admin endpoints are /healthz, /readyz and /metrics\n",
        ),
    })
}

fn text(status: StatusCode, body: impl Into<bytes::Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
