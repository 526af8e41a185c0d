//! A small real app for the passthrough tests: plain HTTP/1.1 on
//! 127.0.0.1 port 0, stopped when dropped (connections end with the test's
//! runtime).
//!
//! Routes, any method:
//! - `/stream`: [`FIRST`] bytes, then waits for [`App::release`], then
//!   [`REST`] bytes more (byte `i` of the body is [`pattern`]`(i)`);
//! - `/stream-in`: reads the request body, notifying [`App::first_in`] on
//!   its first bytes; answers `{"len": …, "sum": …}` (sum of all bytes);
//! - `/slow`: answers after 10 s;
//! - `/drop`: closes the connection without answering;
//! - anything else: echoes the request as JSON (method, target as received,
//!   version, headers in order, body), with hop-by-hop response headers the
//!   sidecar must remove and `x-app-normal: kept`.
//!
//! Every response names the connection it is sent on: `x-app-conn: 1` on the
//! first connection accepted, `2` on the next, and so on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::client::{ChannelBody, ReqBody};

/// Bytes `/stream` sends before waiting.
pub(crate) const FIRST: usize = 64 * 1024;
/// Bytes `/stream` sends once released.
pub(crate) const REST: usize = 4 * 1024 * 1024;

/// Byte `i` of a streamed body.
pub(crate) fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// The running app.
pub(crate) struct App {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// `METHOD target` of every request received, in order.
    pub(crate) seen: Arc<Mutex<Vec<String>>>,
    /// Lets `/stream` send the rest of its body.
    pub(crate) release: Arc<Notify>,
    /// Notified when `/stream-in` has its first body bytes.
    pub(crate) first_in: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<String>>>,
    release: Arc<Notify>,
    first_in: Arc<Notify>,
}

impl App {
    /// Starts the app on 127.0.0.1 port 0.
    pub(crate) async fn start() -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared {
            seen: Arc::default(),
            release: Arc::default(),
            first_in: Arc::default(),
        };
        let task = tokio::spawn(accept(listener, shared.clone()));
        App {
            addr,
            seen: shared.seen,
            release: shared.release,
            first_in: shared.first_in,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub(crate) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn accept(listener: TcpListener, shared: Shared) {
    for conn in 1u32.. {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let handled = handle(shared.clone(), req);
                async move {
                    let mut response = handled.await?;
                    response.headers_mut().insert("x-app-conn", conn.into());
                    Ok::<_, std::io::Error>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn handle(
    shared: Shared,
    req: Request<Incoming>,
) -> Result<Response<ReqBody>, std::io::Error> {
    let target = req.uri().to_string();
    shared
        .seen
        .lock()
        .unwrap()
        .push(format!("{} {target}", req.method()));
    match req.uri().path() {
        "/stream" => Ok(stream_out(shared.release)),
        "/stream-in" => Ok(stream_in(shared.first_in, req).await),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok(Response::new(full("late")))
        }
        "/drop" => Err(std::io::Error::other("dropping the connection on purpose")),
        _ => Ok(echo(req).await),
    }
}

fn full(bytes: impl Into<Bytes>) -> ReqBody {
    Full::new(bytes.into()).boxed()
}

fn stream_out(release: Arc<Notify>) -> Response<ReqBody> {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let first: Vec<u8> = (0..FIRST).map(pattern).collect();
        if tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        if tokio::time::timeout(Duration::from_secs(20), release.notified())
            .await
            .is_err()
        {
            return;
        }
        for start in (FIRST..FIRST + REST).step_by(FIRST) {
            let chunk: Vec<u8> = (start..start + FIRST).map(pattern).collect();
            if tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
    });
    Response::new(ChannelBody(rx).boxed())
}

async fn stream_in(first_in: Arc<Notify>, req: Request<Incoming>) -> Response<ReqBody> {
    let mut body = req.into_body();
    let (mut len, mut sum) = (0u64, 0u64);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map(|f| f.into_data()) else {
            break;
        };
        let Ok(data) = data else { continue };
        if len == 0 && !data.is_empty() {
            first_in.notify_one();
        }
        len += data.len() as u64;
        sum += data.iter().map(|b| u64::from(*b)).sum::<u64>();
    }
    Response::new(full(json!({ "len": len, "sum": sum }).to_string()))
}

async fn echo(req: Request<Incoming>) -> Response<ReqBody> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<[&str; 2]> = parts
        .headers
        .iter()
        .map(|(n, v)| [n.as_str(), v.to_str().unwrap_or("<binary>")])
        .collect();
    let doc = json!({
        "method": parts.method.as_str(),
        "target": parts.uri.to_string(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    Response::builder()
        .header("content-type", "application/json")
        .header("x-app-normal", "kept")
        .header("connection", "x-app-hop")
        .header("x-app-hop", "secret")
        .header("keep-alive", "timeout=5")
        .header("proxy-authenticate", "Basic realm=\"app\"")
        .header("upgrade", "h2c")
        .body(full(doc.to_string()))
        .unwrap()
}
