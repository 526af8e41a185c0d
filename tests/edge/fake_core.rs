//! A hand-written stand-in for the core, for failures the real local core
//! does not have: slowness, 500s with secrets in them, dropped connections.
//! Plain HTTP/1.1 on 127.0.0.1 port 0; stops when dropped (its connection
//! tasks end with the test's runtime).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the fake core answers: a status and a JSON (or any) body, or
/// `None` to drop the connection without answering.
pub(crate) type Answer = Option<(u16, String)>;

/// The introspection answer for the acme admin.
pub(crate) fn admin_introspection() -> Answer {
    Some((
        200,
        r#"{"workspace":"acme","token_id":"tok_admin","role":"Admin"}"#.to_owned(),
    ))
}

/// An empty user page.
pub(crate) fn empty_page() -> Answer {
    Some((200, r#"{"total":0,"users":[]}"#.to_owned()))
}

/// A running fake core.
pub(crate) struct FakeCore {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FakeCore {
    /// Serves `handler(method, path)` for every request.
    pub(crate) async fn start<F, Fut>(handler: F) -> FakeCore
    where
        F: Fn(Method, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let handler = handler.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        match handler(req.method().clone(), path).await {
                            Some((status, body)) => Ok(Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap()),
                            // A service error makes hyper close the connection unanswered.
                            None => Err("dropped on purpose"),
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        FakeCore { addr, task }
    }

    /// The base URL to configure as `core.base_url`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeCore {
    fn drop(&mut self) {
        self.task.abort();
    }
}
