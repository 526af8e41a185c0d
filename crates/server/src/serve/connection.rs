//! One connection: the TLS handshake (bounded in time), HTTP/1.1 or h2 as
//! ALPN chose, every request handed to the router, and the idle timer.
//!
//! Idle means no request in flight: a request counts from the moment its
//! head is parsed until hyper drops its response body (fully sent, or the
//! client went away). hyper has no idle timeout of its own for h2, and for
//! HTTP/1.1 only the header timer, so each connection runs one timer: when
//! the in-flight count has stayed at zero for `limits.idle_timeout_secs`,
//! the connection is shut down gracefully (h1: closed; h2: GOAWAY, then
//! closed). Open streams of a slow response keep the connection busy, so a
//! long download is never cut by the idle timer.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::failure::{Body, BoxError};
use crate::router;
use crate::state::AppState;

/// hyper refuses a smaller read buffer (it panics below this).
const MIN_READ_BUFFER: usize = 8192;

/// What every connection of one listener shares.
pub(crate) struct Context {
    state: Arc<AppState>,
    acceptor: TlsAcceptor,
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    handshake_timeout: Duration,
    idle_timeout: Duration,
}

impl Context {
    /// The connection settings of `state`'s listener around `tls`.
    pub(crate) fn new(state: Arc<AppState>, tls: Arc<ServerConfig>) -> Self {
        let settings = &state.listener;
        let mut h1 = http1::Builder::new();
        // Without a timer hyper's timeouts never fire.
        h1.timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_header_size(settings.max_header_bytes)
            // The read buffer bounds a head that never ends: once full, 431.
            .max_buf_size(settings.max_header_bytes.max(MIN_READ_BUFFER))
            .keep_alive(true);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX));
        Self {
            acceptor: TlsAcceptor::from(tls),
            h1,
            h2,
            handshake_timeout: settings.handshake_timeout,
            idle_timeout: settings.idle_timeout,
            state,
        }
    }
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// The client sent something rustls refused (old protocol version, no
    /// shared cipher suite, not TLS at all) or went away.
    #[error("tls handshake failed: {0}")]
    Failed(#[source] std::io::Error),
    /// The client did not finish within `tls.handshake_timeout_ms`.
    #[error("tls handshake timed out")]
    TimedOut,
}

/// The TLS handshake, bounded in time; the one place handshakes end, to
/// count them.
pub(crate) async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(HandshakeError::Failed(e)),
        Err(_) => Err(HandshakeError::TimedOut),
    }
}

/// Serves one accepted connection until it ends, the listener shuts down
/// (`closing` changes), or it idles out. `_permit` is the connection's slot
/// of `limits.max_connections`, released when this returns.
pub(crate) async fn serve(
    ctx: Arc<Context>,
    tcp: TcpStream,
    peer: SocketAddr,
    mut closing: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let stream = tokio::select! {
        handshaken = handshake(&ctx.acceptor, tcp, ctx.handshake_timeout) => match handshaken {
            Ok(stream) => stream,
            Err(e) => {
                ctx.state.metrics.tls_handshake(false);
                tracing::debug!(%peer, error = %e, "connection closed before http");
                return;
            }
        },
        _ = closing.changed() => return,
    };
    ctx.state.metrics.tls_handshake(true);
    // ALPN decides: h2 only when the client asked for it (RFC 9113 §3.2);
    // anything else, no ALPN included, is HTTP/1.1.
    let is_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
    let in_flight = InFlight::new();
    let state = ctx.state.clone();
    let requests = in_flight.clone();
    let client = Arc::new(router::ClientAddr::new(peer));
    let service = service_fn(move |req: Request<Incoming>| {
        let guard = requests.begin();
        let state = state.clone();
        let client = client.clone();
        async move {
            let response = router::route(state, req, &client).await?;
            Ok::<_, Infallible>(response.map(|body| TrackedBody {
                body,
                _guard: guard,
            }))
        }
    });
    let io = TokioIo::new(stream);
    let idle = in_flight.idle_for(ctx.idle_timeout);
    let ended = if is_h2 {
        let conn = pin!(ctx.h2.serve_connection(io, service));
        drive(conn, |c| c.graceful_shutdown(), idle, closing).await
    } else {
        let conn = pin!(ctx.h1.serve_connection(io, service));
        drive(conn, |c| c.graceful_shutdown(), idle, closing).await
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Runs `conn` to its end; when `closing` changes or `idle` completes,
/// starts its graceful shutdown (once) and keeps running it until it ends.
async fn drive<C>(
    mut conn: Pin<&mut C>,
    begin_shutdown: impl Fn(Pin<&mut C>),
    idle: impl Future<Output = ()>,
    mut closing: watch::Receiver<bool>,
) -> Result<(), hyper::Error>
where
    C: Future<Output = Result<(), hyper::Error>>,
{
    let mut idle = pin!(idle);
    let mut shutting_down = *closing.borrow();
    if shutting_down {
        begin_shutdown(conn.as_mut());
    }
    loop {
        tokio::select! {
            ended = conn.as_mut() => return ended,
            // An error means the listener is gone: shut down as well.
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                begin_shutdown(conn.as_mut());
            }
            () = idle.as_mut(), if !shutting_down => {
                tracing::debug!("closing idle connection");
                shutting_down = true;
                begin_shutdown(conn.as_mut());
            }
        }
    }
}

/// The number of requests in flight on one connection, and when the last
/// one ended. Plain atomics rather than a channel: starting or ending a
/// request wakes no task and arms no timer; the idle timer looks at them
/// only when it fires.
#[derive(Clone)]
struct InFlight(Arc<InFlightState>);

struct InFlightState {
    count: AtomicUsize,
    /// When the connection began; `last_end_ms` counts from here.
    epoch: Instant,
    /// Milliseconds after `epoch` at which the last request ended.
    last_end_ms: AtomicU64,
}

impl InFlight {
    fn new() -> Self {
        Self(Arc::new(InFlightState {
            count: AtomicUsize::new(0),
            epoch: Instant::now(),
            last_end_ms: AtomicU64::new(0),
        }))
    }

    /// Counts a request until the returned guard is dropped.
    fn begin(&self) -> InFlightGuard {
        self.0.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.0.clone())
    }

    /// Completes once no request has been in flight for `idle`.
    fn idle_for(&self, idle: Duration) -> impl Future<Output = ()> + use<> {
        let state = self.0.clone();
        async move {
            let mut deadline = state.epoch + idle;
            loop {
                tokio::time::sleep_until(deadline).await;
                let now = Instant::now();
                if state.count.load(Ordering::Acquire) > 0 {
                    // Busy: look again one idle period from now.
                    deadline = now + idle;
                    continue;
                }
                let last_end = Duration::from_millis(state.last_end_ms.load(Ordering::Acquire));
                deadline = state.epoch + last_end + idle;
                if now >= deadline {
                    return;
                }
            }
        }
    }
}

/// One request in flight; dropping it ends the request.
struct InFlightGuard(Arc<InFlightState>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let since = self.0.epoch.elapsed().as_millis();
        // Written before the count drops, so a timer that reads a zero count
        // also reads this end.
        self.0
            .last_end_ms
            .fetch_max(u64::try_from(since).unwrap_or(u64::MAX), Ordering::Release);
        self.0.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until hyper
/// is done with it.
struct TrackedBody {
    body: Body,
    _guard: InFlightGuard,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
