//! The sidecar's connections to the app: one keep-alive connection serves
//! request after request once each response was read to the end, whatever
//! the client spoke; a response the client abandons takes its connection
//! with it.

use authsidecar_e2e::VIEWER;
use http_body_util::BodyExt;

use crate::app::App;
use crate::client::{Conn, Proto, empty, within};
use crate::{BOTH, bearer, get, sidecar_for};

/// Sequential requests from HTTP/1.1 and h2 clients, each on a connection
/// of its own, reach the app on one connection.
#[tokio::test]
async fn sequential_requests_share_one_app_connection() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let auth = bearer(VIEWER);
    let mut conns = Vec::new();
    for proto in [Proto::H1, Proto::H2, Proto::H1, Proto::H2] {
        let got = get(&h, proto, "/app/x", &[("authorization", &auth)]).await;
        assert_eq!(got.status, 200, "{proto:?}");
        conns.push(got.header("x-app-conn").to_owned());
    }
    assert_eq!(conns, vec!["1"; 4]);
    assert_eq!(app.seen(), vec!["GET /app/x"; 4]);
    h.shutdown().await;
}

/// A streamed response the client stops reading after its first bytes is
/// not finished on its app connection: the next request goes on a new one.
#[tokio::test]
async fn an_abandoned_response_takes_its_app_connection_with_it() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let auth = bearer(VIEWER);
    let mut conns = Vec::new();
    for proto in BOTH {
        let mut conn = Conn::open(&h, proto).await;
        let req = conn
            .request("GET", "/stream")
            .header("authorization", &auth)
            .body(empty())
            .unwrap();
        let response = conn.send(req).await;
        let streamed_on = response.headers()["x-app-conn"]
            .to_str()
            .unwrap()
            .to_owned();
        let mut body = response.into_body();
        let first = within(body.frame()).await.unwrap().unwrap();
        assert!(!first.into_data().unwrap().is_empty(), "{proto:?}");
        drop((body, conn));

        let next = get(&h, proto, "/app/x", &[("authorization", &auth)]).await;
        assert_eq!(next.status, 200, "{proto:?}");
        conns.push((streamed_on, next.header("x-app-conn").to_owned()));
    }
    let expected = [("1", "2"), ("2", "3")].map(|(s, n)| (s.to_owned(), n.to_owned()));
    assert_eq!(conns, expected);
    h.shutdown().await;
}
