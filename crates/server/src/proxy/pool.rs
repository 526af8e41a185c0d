//! The connections to the Ignite app: a small pool of HTTP/1.1 keep-alive
//! connections, each driven by the task of the request that uses it.
//!
//! One exchange, in phases:
//!
//! 1. check out the idle connection returned last (LIFO: the warmest
//!    socket; the coldest age out), dropping those idle for longer than
//!    `app.pool_idle_timeout_ms`; connect a new one (TCP, `TCP_NODELAY`,
//!    within `app.connect_timeout_ms`) when none is left;
//! 2. queue the request on it and drive the connection from the request's
//!    own task until the response head arrives;
//! 3. answer the response with an [`AppBody`], which drives the connection
//!    while it yields the app's body and, at the end of the body, puts the
//!    connection back on the idle stack (at most `app.max_idle_per_host`).
//!
//! Decisions:
//!
//! - No task per connection: hyper's `Connection` future is polled by
//!   whoever waits on it (the request, then its response body), so the
//!   response reaches the server without a hand-off between tasks. An idle
//!   connection is polled by nobody; that the app closed it is noticed when
//!   the next request is queued on it. The price: once the response head is
//!   out, the connection moves only as fast as the client reads the
//!   response, so a request body still being sent then waits with it.
//! - A request is never sent twice. The only second attempt is for a
//!   request hyper hands back unwritten because the pooled connection it
//!   was queued on turned out closed (`try_send_request`): the app never saw
//!   it, so it goes on the next idle connection or a new one.
//! - A connection is reused only after its response was read to the end and
//!   hyper reports it ready for the next request. A response dropped
//!   mid-body: the connection is dropped (closed). An app that asked to
//!   close, or a request body still being sent when the response ended: the
//!   connection is not reused, and goes on by itself for a few seconds, so
//!   that the client's upload is not cut off under its response.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use authsidecar_config::AppConfig;
use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::{TrySendError, http1};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::failure::BoxError;

#[cfg(test)]
mod tests;

/// Why no connection to the app could be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The TCP connect failed: refused, no route, or the name did not resolve.
    #[error("connect failed: {0}")]
    Io(#[from] io::Error),
    /// The TCP connect did not complete within `app.connect_timeout_ms`.
    #[error("connect did not complete within {0:?}")]
    Timeout(Duration),
}

/// Why a request got no response head from the app.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// No connection to the app.
    #[error("app unreachable: {0}")]
    Unreachable(#[from] ConnectError),
    /// The app closed or broke the connection before a complete response head.
    #[error("app exchange failed: {0:?}")]
    Exchange(hyper::Error),
}

/// One HTTP/1.1 connection to the app: the handle requests are queued on,
/// and the future that does the connection's reading and writing.
struct Conn<B: Body + 'static> {
    sender: http1::SendRequest<B>,
    /// Boxed once per connection: hyper's connection state is large, and a
    /// connection moves about ten times a request (out of the stack, into the
    /// exchange, into the body, back), each a copy of all of it unboxed.
    driver: Box<http1::Connection<TokioIo<TcpStream>, B>>,
}

/// A connection on the idle stack, and since when.
struct Idle<B: Body + 'static> {
    conn: Conn<B>,
    since: Instant,
}

/// The idle connections to the app and how to make new ones; `B` is the
/// request body type.
pub(crate) struct Pool<B: Body + 'static> {
    /// The app's host (IPv6 without brackets) and port.
    host: String,
    port: u16,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    /// Oldest first; connections are taken from and returned to the back,
    /// so idle times only grow towards the front.
    idle: Mutex<VecDeque<Idle<B>>>,
}

impl<B> Pool<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// A pool for the app at `host:port`, with the timeouts and the idle
    /// limit of the `app` section.
    pub(crate) fn new(host: String, port: u16, config: &AppConfig) -> Self {
        Self {
            host,
            port,
            connect_timeout: config.connect_timeout(),
            idle_timeout: config.pool_idle_timeout(),
            max_idle: config.max_idle_per_host,
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Sends `req` (an origin-form target, `Host` set) and answers the
    /// response head; its body drives the connection and returns it to the
    /// pool once read to the end.
    pub(crate) async fn send(
        self: &Arc<Self>,
        mut req: Request<B>,
    ) -> Result<Response<AppBody<B>>, SendError> {
        loop {
            let (conn, pooled) = match self.checkout() {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            match conn.exchange(req).await {
                Ok((head, conn)) => return Ok(self.respond(head, conn)),
                Err(mut e) => match e.take_message() {
                    // Never written, so the app has not seen it. Each such
                    // attempt uses up an idle connection, so this ends.
                    Some(unsent) if pooled => req = unsent,
                    _ => return Err(SendError::Exchange(e.into_error())),
                },
            }
        }
    }

    /// The idle connection returned last that may still be used.
    fn checkout(&self) -> Option<Conn<B>> {
        loop {
            let idle = self.lock().pop_back()?;
            if idle.since.elapsed() > self.idle_timeout {
                // The newest idle connection is stale, so all are; they are
                // closed outside the lock.
                let stale = std::mem::take(&mut *self.lock());
                drop((idle, stale));
                return None;
            }
            if idle.conn.sender.is_ready() {
                return Some(idle.conn);
            }
        }
    }

    /// Puts a connection whose response was read to the end on the idle
    /// stack; the oldest idle one makes room if the stack is full or stale.
    fn check_in(&self, conn: Conn<B>) {
        if self.max_idle == 0 {
            return;
        }
        let evicted = {
            let mut idle = self.lock();
            let now = Instant::now();
            let full = idle.len() >= self.max_idle;
            let evicted = match idle.front() {
                Some(oldest) if full || now.duration_since(oldest.since) > self.idle_timeout => {
                    idle.pop_front()
                }
                _ => None,
            };
            idle.push_back(Idle { conn, since: now });
            evicted
        };
        // Closing the socket happens here, outside the lock.
        drop(evicted);
    }

    /// A new connection to the app.
    async fn connect(&self) -> Result<Conn<B>, SendError> {
        let connecting = TcpStream::connect((self.host.as_str(), self.port));
        let tcp = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| ConnectError::Timeout(self.connect_timeout))?
            .map_err(ConnectError::Io)?;
        tcp.set_nodelay(true).map_err(ConnectError::Io)?;
        let (sender, driver) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(SendError::Exchange)?;
        Ok(Conn {
            sender,
            driver: Box::new(driver),
        })
    }

    /// The response with its body wrapped; an empty body ends right away,
    /// so the connection goes back now (the server may never poll it).
    fn respond(
        self: &Arc<Self>,
        head: Response<Incoming>,
        conn: Option<Conn<B>>,
    ) -> Response<AppBody<B>> {
        let (parts, body) = head.into_parts();
        let mut body = AppBody {
            body,
            conn,
            pool: Arc::clone(self),
        };
        if body.body.is_end_stream() {
            body.finish();
        }
        Response::from_parts(parts, body)
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Idle<B>>> {
        // A panic elsewhere cannot leave the stack half-changed: every
        // change is one push or pop.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many connections are idle.
    #[cfg(test)]
    fn idle_len(&self) -> usize {
        self.lock().len()
    }
}

impl<B> Conn<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Queues `req` and drives the connection until the response head
    /// arrives. Answers the connection too, unless it ended meanwhile; an
    /// error holds the request if it was never written.
    async fn exchange(
        self,
        req: Request<B>,
    ) -> Result<(Response<Incoming>, Option<Self>), TrySendError<Request<B>>> {
        let Conn { mut sender, driver } = self;
        let mut driver = Some(driver);
        let mut answer = pin!(sender.try_send_request(req));
        let head = poll_fn(|cx| {
            if let Some(conn) = driver.as_mut()
                && Pin::new(conn).poll(cx).is_ready()
            {
                // Dropping the finished connection answers every request
                // still queued on it, so `answer` is ready below.
                driver = None;
            }
            answer.as_mut().poll(cx)
        })
        .await?;
        Ok((head, driver.map(|driver| Conn { sender, driver })))
    }
}

/// How long a connection whose response ended before its request body may
/// go on by itself.
const LINGER: Duration = Duration::from_secs(5);

/// Drives a connection whose response is complete but which is not ready
/// for another request (the app asked to close, or it answered before the
/// request body was sent) on its own task until it ends, for at most
/// [`LINGER`]. Dropping it at once would also drop the client's request
/// body, and an h2 client's stream with it: the reset discarded the response
/// still queued for it (an early 413 reached the client as a bare
/// `RST_STREAM`).
fn linger<B>(driver: Box<http1::Connection<TokioIo<TcpStream>, B>>)
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::spawn(async move {
        // Its end, error or timeout, needs no answer: the response is out.
        let _ = tokio::time::timeout(LINGER, driver).await;
    });
}

/// The app's response body. Polling it also drives the connection it
/// arrives on; at its end the connection goes back to the pool, and
/// dropping it before then closes the connection.
pub(crate) struct AppBody<B: Body + 'static> {
    body: Incoming,
    /// The connection, until the body or the connection ends.
    conn: Option<Conn<B>>,
    pool: Arc<Pool<B>>,
}

impl<B> AppBody<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// The body was read to the end: the connection may serve the next
    /// request. Not ready means the app asked to close, or the request body
    /// is still being written (nothing polls an idle connection to finish it).
    fn finish(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if conn.sender.is_ready() {
            self.pool.check_in(conn);
        } else {
            linger(conn.driver);
        }
    }

    /// The next frame, driving the connection when none is buffered.
    fn poll_app(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let body = Pin::new(&mut self.body);
        let Some(conn) = self.conn.as_mut() else {
            return body.poll_frame(cx);
        };
        if let Poll::Ready(frame) = body.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if Pin::new(&mut conn.driver).poll(cx).is_ready() {
            // What the connection delivered before ending is in the body.
            self.conn = None;
        }
        Pin::new(&mut self.body).poll_frame(cx)
    }
}

impl<B> Body for AppBody<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(this.poll_app(cx));
        match &frame {
            Some(Ok(_)) if !this.body.is_end_stream() => {}
            // The server stops polling once `is_end_stream` says so: the
            // last frame, not only `None`, ends the response.
            Some(Ok(_)) | None => this.finish(),
            Some(Err(_)) => this.conn = None,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
