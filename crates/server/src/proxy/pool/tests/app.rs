//! The app the pool is tested against: hyper HTTP/1.1 on 127.0.0.1 port 0,
//! numbering its connections (`x-conn: 1`, `2`, …) and recording every
//! request it receives.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::PATIENCE;

/// The test app's response bodies.
pub(super) enum Reply {
    /// Fixed chunks, length unknown up front (sent chunked).
    Chunks(VecDeque<Bytes>),
    /// 16 KiB chunks for ever.
    Endless,
}

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(match self.get_mut() {
            Reply::Chunks(chunks) => chunks.pop_front().map(|c| Ok(Frame::data(c))),
            Reply::Endless => Some(Ok(Frame::data(Bytes::from(vec![b'x'; 16 * 1024])))),
        })
    }
}

/// The app. Routes, any method: `/empty` is a 204, `/chunked` is `a`, `b`,
/// `c` in three chunks, `/endless` never ends, `/close` is `ok` with
/// `Connection: close`, `/early` is `ok` while the request body is still
/// being read, anything else is `ok`.
pub(super) struct App {
    /// Where it listens.
    pub(super) addr: std::net::SocketAddr,
    /// `conn path` of every request received, in order.
    seen: Arc<Mutex<Vec<String>>>,
    /// Connections accepted and still open.
    open: Arc<AtomicUsize>,
    /// Closes every open connection, as an app's keep-alive timeout does.
    close_all: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    /// Starts the app on 127.0.0.1 port 0.
    pub(super) async fn start() -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(AtomicUsize::new(0));
        let close_all = Arc::new(Notify::new());
        let task = tokio::spawn(accept(
            listener,
            Arc::clone(&seen),
            Arc::clone(&open),
            Arc::clone(&close_all),
        ));
        App {
            addr,
            seen,
            open,
            close_all,
            task,
        }
    }

    /// `conn path` of every request received so far.
    pub(super) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Closes every connection and waits until they are closed.
    pub(super) async fn close_connections(&self) {
        self.close_all.notify_waiters();
        tokio::time::timeout(PATIENCE, async {
            while self.open.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        // Lets the runtime's IO driver see the app's FIN, as a busy sidecar
        // does long before its next request.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn accept(
    listener: TcpListener,
    seen: Arc<Mutex<Vec<String>>>,
    open: Arc<AtomicUsize>,
    close_all: Arc<Notify>,
) {
    for id in 1.. {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        open.fetch_add(1, Ordering::SeqCst);
        let (seen, open, close_all) =
            (Arc::clone(&seen), Arc::clone(&open), Arc::clone(&close_all));
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let response = reply(&seen, id, &req);
                if req.uri().path() == "/early" {
                    // Answers at once and keeps reading the request body.
                    tokio::spawn(req.into_body().collect());
                }
                async move { Ok::<_, Infallible>(response) }
            });
            let serve = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service);
            tokio::select! {
                _ = serve => {}
                () = close_all.notified() => {}
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn reply(seen: &Mutex<Vec<String>>, conn: usize, req: &Request<Incoming>) -> Response<Reply> {
    let path = req.uri().path();
    seen.lock().unwrap().push(format!("{conn} {path}"));
    let chunks = |c: &[&'static str]| Reply::Chunks(c.iter().map(|s| Bytes::from(*s)).collect());
    let (status, body) = match path {
        "/empty" => (StatusCode::NO_CONTENT, chunks(&[])),
        "/chunked" => (StatusCode::OK, chunks(&["a", "b", "c"])),
        "/endless" => (StatusCode::OK, Reply::Endless),
        _ => (StatusCode::OK, chunks(&["ok"])),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("x-conn", conn.into());
    if matches!(path, "/" | "/close" | "/early") {
        headers.insert("content-length", "2".parse().unwrap());
    }
    if path == "/close" {
        headers.insert("connection", "close".parse().unwrap());
    }
    response
}
