//! The pool against a small real app ([`app`]) on 127.0.0.1: which
//! connection each request goes on, and which ones are kept.

mod app;

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use authsidecar_config::AppConfig;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame};
use tokio::net::{TcpSocket, TcpStream};

use super::{AppBody, ConnectError, Pool, SendError};
use crate::failure::BoxError;
use app::App;

/// Every wait in these tests is bounded by this.
const PATIENCE: Duration = Duration::from_secs(10);

/// The pool the tests use mostly: requests with whole bodies.
type TestPool = Arc<Pool<Full<Bytes>>>;

/// A pool for the app on 127.0.0.1 at `port`; `adjust` edits its `app`
/// section.
fn pool_at<B>(port: u16, adjust: impl FnOnce(&mut AppConfig)) -> Arc<Pool<B>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut config = AppConfig::new(format!("http://127.0.0.1:{port}"));
    adjust(&mut config);
    Arc::new(Pool::new("127.0.0.1".to_owned(), port, &config))
}

/// A pool for `app`; `adjust` edits its `app` section.
fn pool_for(app: &App, adjust: impl FnOnce(&mut AppConfig)) -> TestPool {
    pool_at(app.addr.port(), adjust)
}

/// `GET target`, answered up to the response head.
async fn get(pool: &TestPool, target: &str) -> Response<AppBody<Full<Bytes>>> {
    let req = Request::get(target)
        .header("host", "app.test")
        .body(Full::new(Bytes::new()))
        .unwrap();
    tokio::time::timeout(PATIENCE, pool.send(req))
        .await
        .unwrap()
        .unwrap()
}

/// The `x-conn` of a response.
fn conn(response: &Response<AppBody<Full<Bytes>>>) -> &str {
    response.headers()["x-conn"].to_str().unwrap()
}

/// Reads a body to the end as hyper's server does: frames until
/// `is_end_stream` says there are no more (never polling an empty body), or
/// until `None`.
async fn read<B>(response: Response<AppBody<B>>) -> Bytes
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut body = response.into_body();
    let mut got = Vec::new();
    while !body.is_end_stream() {
        let frame = tokio::time::timeout(PATIENCE, body.frame()).await.unwrap();
        let Some(frame) = frame else { break };
        got.extend_from_slice(&frame.unwrap().into_data().unwrap());
    }
    Bytes::from(got)
}

/// `GET target` read to the end: the connection it came on, and the body.
async fn fetch(pool: &TestPool, target: &str) -> (String, Bytes) {
    let response = get(pool, target).await;
    let conn = conn(&response).to_owned();
    (conn, read(response).await)
}

/// Sequential requests share one connection, whatever their bodies: a
/// length, none (204) or chunks.
#[tokio::test]
async fn responses_read_to_the_end_free_their_connection_for_the_next() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    assert_eq!(fetch(&pool, "/").await, ("1".to_owned(), Bytes::from("ok")));
    assert_eq!(fetch(&pool, "/empty").await, ("1".to_owned(), Bytes::new()));
    assert_eq!(
        fetch(&pool, "/chunked").await,
        ("1".to_owned(), Bytes::from("abc"))
    );
    assert_eq!(fetch(&pool, "/").await, ("1".to_owned(), Bytes::from("ok")));
    assert_eq!(pool.idle_len(), 1);
    assert_eq!(app.seen(), vec!["1 /", "1 /empty", "1 /chunked", "1 /"]);
}

/// A HEAD response carries the length of the body it does not have; hyper
/// knows there is none, and the connection is free for the next request.
#[tokio::test]
async fn a_head_response_frees_its_connection() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    for _ in 0..2 {
        let req = Request::head("/")
            .header("host", "app.test")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = tokio::time::timeout(PATIENCE, pool.send(req))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(response.headers()["content-length"], "2");
        assert_eq!(conn(&response), "1");
        assert_eq!(read(response).await, Bytes::new());
    }
    assert_eq!(fetch(&pool, "/").await, ("1".to_owned(), Bytes::from("ok")));
    assert_eq!(app.seen(), vec!["1 /", "1 /", "1 /"]);
}

/// Two responses held at once take two connections; the one returned last
/// is the first one handed out again.
#[tokio::test]
async fn the_connection_returned_last_is_reused_first() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    let first = get(&pool, "/").await;
    let second = get(&pool, "/").await;
    assert_eq!((conn(&first), conn(&second)), ("1", "2"));
    read(first).await;
    read(second).await;
    assert_eq!(pool.idle_len(), 2);

    let next = get(&pool, "/").await;
    let after = get(&pool, "/").await;
    assert_eq!((conn(&next), conn(&after)), ("2", "1"));
}

/// At most `app.max_idle_per_host` connections stay idle; the oldest makes
/// room for the one returned last.
#[tokio::test]
async fn idle_connections_are_capped_by_max_idle_per_host() {
    let app = App::start().await;
    let pool = pool_for(&app, |c| c.max_idle_per_host = 1);
    let first = get(&pool, "/").await;
    let second = get(&pool, "/").await;
    read(first).await;
    read(second).await;
    assert_eq!(pool.idle_len(), 1);
    assert_eq!(fetch(&pool, "/").await.0, "2");

    let none = pool_for(&app, |c| c.max_idle_per_host = 0);
    assert_eq!(fetch(&none, "/").await.0, "3");
    assert_eq!(none.idle_len(), 0);
    assert_eq!(fetch(&none, "/").await.0, "4");
}

/// A connection idle for longer than `app.pool_idle_timeout_ms` is closed
/// rather than used.
#[tokio::test]
async fn connections_idle_past_the_timeout_are_not_used() {
    let app = App::start().await;
    let pool = pool_for(&app, |c| c.pool_idle_timeout_ms = 20);
    assert_eq!(fetch(&pool, "/").await.0, "1");
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(fetch(&pool, "/").await.0, "2");
    assert_eq!(pool.idle_len(), 1);
    assert_eq!(app.seen(), vec!["1 /", "2 /"]);
}

/// An idle connection the app has closed is skipped: the request goes on a
/// new connection and the app receives it once.
#[tokio::test]
async fn an_idle_connection_the_app_closed_is_skipped() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    let first = get(&pool, "/").await;
    let second = get(&pool, "/").await;
    read(first).await;
    read(second).await;
    app.close_connections().await;
    assert_eq!(pool.idle_len(), 2);

    assert_eq!(fetch(&pool, "/").await, ("3".to_owned(), Bytes::from("ok")));
    assert_eq!(pool.idle_len(), 1);
    assert_eq!(app.seen(), vec!["1 /", "2 /", "3 /"]);
}

/// A connection the app closes after its response (`Connection: close`) is
/// not kept.
#[tokio::test]
async fn a_connection_the_app_closes_after_its_response_is_not_kept() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    assert_eq!(
        fetch(&pool, "/close").await,
        ("1".to_owned(), Bytes::from("ok"))
    );
    assert_eq!(pool.idle_len(), 0);
    assert_eq!(fetch(&pool, "/").await.0, "2");
}

/// A request body that never ends.
struct Unfinished;

impl Body for Unfinished {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Pending
    }
}

/// A response that ends while its request body is still being sent leaves
/// the connection busy: it is closed, not kept.
#[tokio::test]
async fn a_connection_still_sending_its_request_body_is_not_kept() {
    let app = App::start().await;
    let pool = pool_at(app.addr.port(), |_| {});
    let req = Request::post("/early")
        .header("host", "app.test")
        .body(Unfinished)
        .unwrap();
    let response = tokio::time::timeout(PATIENCE, pool.send(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.headers()["x-conn"], "1");
    assert_eq!(read(response).await, Bytes::from("ok"));
    assert_eq!(pool.idle_len(), 0);
}

/// A response dropped before its end takes its connection with it.
#[tokio::test]
async fn a_connection_whose_response_was_dropped_mid_body_is_not_reused() {
    let app = App::start().await;
    let pool = pool_for(&app, |_| {});
    let endless = get(&pool, "/endless").await;
    assert_eq!(conn(&endless), "1");
    let mut body = endless.into_body();
    let frame = tokio::time::timeout(PATIENCE, body.frame()).await.unwrap();
    assert!(frame.unwrap().unwrap().is_data());
    drop(body);
    assert_eq!(pool.idle_len(), 0);
    assert_eq!(fetch(&pool, "/").await.0, "2");
    assert_eq!(app.seen(), vec!["1 /endless", "2 /"]);
}

/// A refused connect is `Unreachable`.
#[tokio::test]
async fn a_refused_connect_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let pool: TestPool = pool_at(port, |_| {});
    let req = Request::get("/").body(Full::new(Bytes::new())).unwrap();
    let err = pool.send(req).await.err().unwrap();
    let SendError::Unreachable(ConnectError::Io(e)) = err else {
        panic!("{err:?}");
    };
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
}

/// A connect that does not complete within `app.connect_timeout_ms` (the
/// app's accept queue is full, so its SYNs are dropped) is `Unreachable`.
#[tokio::test]
async fn a_connect_past_the_timeout_is_unreachable() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted) until a connect hangs.
    let mut queued = Vec::new();
    for _ in 0..8 {
        let connect = TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(200), connect).await {
            Ok(tcp) => queued.push(tcp.unwrap()),
            Err(_) => break,
        }
    }
    let pool: TestPool = pool_at(addr.port(), |c| c.connect_timeout_ms = 100);
    let req = Request::get("/").body(Full::new(Bytes::new())).unwrap();
    let err = pool.send(req).await.err().unwrap();
    let SendError::Unreachable(ConnectError::Timeout(after)) = err else {
        panic!("{err:?}");
    };
    assert_eq!(after, Duration::from_millis(100));
}
