//! What the client gets when the app cannot answer, and what the sidecar
//! refuses to start with.

use std::time::Instant;

use authsidecar_config::{AppConfig, Config};
use authsidecar_e2e::{Harness, VIEWER};

use crate::app::App;
use crate::client::{Proto, bytes, call};
use crate::{BOTH, bearer, get, sidecar_for};

/// An app that cannot be reached is a 502 with a short body that does not
/// name its address.
#[tokio::test]
async fn unreachable_app_is_502_without_internals() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let h = Harness::start_with(|c| {
        c.app = Some(AppConfig::new(format!("http://127.0.0.1:{port}")));
    })
    .await;
    let auth = bearer(VIEWER);
    for proto in BOTH {
        let got = get(&h, proto, "/app/x", &[("authorization", &auth)]).await;
        got.assert_error(502, "the Ignite app is unreachable; retry later");
        assert_eq!(got.header("retry-after"), "5");
        let raw = String::from_utf8_lossy(&got.raw);
        assert!(
            !raw.contains(&port.to_string()) && !raw.contains("127.0.0.1"),
            "{raw}"
        );
    }
    h.shutdown().await;
}

/// No response headers within `app.request_timeout_ms`: 504, promptly.
#[tokio::test]
async fn slow_app_is_504_after_the_request_timeout() {
    let app = App::start().await;
    let h = sidecar_for(&app, |c| c.request_timeout_ms = 300).await;
    let started = Instant::now();
    let auth = bearer(VIEWER);
    let got = get(&h, Proto::H2, "/slow", &[("authorization", &auth)]).await;
    let took = started.elapsed();
    got.assert_error(504, "the Ignite app did not answer in time");
    assert!(!String::from_utf8_lossy(&got.raw).contains(&app.addr.port().to_string()));
    assert!(took.as_millis() >= 300, "{took:?}");
    assert!(took.as_secs() < 5, "{took:?}");
    assert_eq!(app.seen(), vec!["GET /slow"]);
    h.shutdown().await;
}

/// The sidecar never sends a request twice: an app that drops the
/// connection after reading the request sees each request once, idempotent
/// or not, and the client gets a 502.
#[tokio::test]
async fn failed_exchanges_are_not_retried() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let auth = bearer(VIEWER);
    for method in ["GET", "PUT", "POST"] {
        let got = call(
            &h,
            Proto::H1,
            method,
            "/drop",
            &[("authorization", &auth)],
            bytes("x"),
        )
        .await;
        got.assert_error(
            502,
            "the Ignite app closed the connection without a complete answer",
        );
    }
    assert_eq!(app.seen(), vec!["GET /drop", "PUT /drop", "POST /drop"]);
    h.shutdown().await;
}

/// The app is called over plain HTTP only; an https:// URL stops the start.
#[tokio::test]
async fn an_https_app_is_refused_at_start() {
    let dir = authsidecar_e2e::temp_dir("https-app");
    let mut config = Config::for_dev(
        "127.0.0.1:0".parse().unwrap(),
        dir.join("c.pem"),
        dir.join("k.pem"),
        "http://127.0.0.1:9".to_owned(),
    );
    config.app = Some(AppConfig::new("https://127.0.0.1:3443".to_owned()));
    let err = authsidecar_server::AppState::from_config(&config)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "cannot set up the app passthrough: app.base_url 'https://127.0.0.1:3443' cannot be \
         used: the sidecar calls the app over plain http:// (the app runs beside it); point \
         it at the app's plain-HTTP port"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
