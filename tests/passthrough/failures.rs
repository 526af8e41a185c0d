//! What the client gets when the app cannot answer, and what the sidecar
//! refuses to start with.

use std::time::Instant;

use authsidecar_config::{AppConfig, Config};
use authsidecar_e2e::{Harness, VIEWER};

use crate::app::App;
use bytes::Bytes;
use http_body_util::BodyExt;

use crate::client::{ChannelBody, Conn, Proto, bytes, call, read, within};
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

/// An app that answers before it has read the request body (and closes soon
/// after, as a server refusing an upload does): an h2 client still uploading
/// gets that answer, and the app sees each upload once. With curl uploading
/// 50 MB, the sidecar used to lose that answer (the app connection, dropped
/// the moment the answer's body ended, took the client's request stream
/// with it, and the reset discarded the answer still queued); this client
/// does not hit that race, so this test guards the outcome, not the race.
#[tokio::test]
async fn an_early_answer_reaches_an_h2_client_still_uploading() {
    let refusing = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = refusing.local_addr().unwrap().port();
    let app = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut requests = 0;
        while let Ok((mut socket, _)) = refusing.accept().await {
            let mut head = vec![0u8; 16 * 1024];
            let _ = socket.read(&mut head).await;
            requests += 1;
            let answer = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig";
            let _ = socket.write_all(answer).await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            drop(socket);
            if requests == 3 {
                return requests;
            }
        }
        requests
    });
    let h = Harness::start_with(|c| {
        c.app = Some(AppConfig::new(format!("http://127.0.0.1:{port}")));
    })
    .await;
    for _ in 0..3 {
        let mut conn = Conn::open(&h, Proto::H2).await;
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
        // 16 MiB queued up front: the upload runs at full speed.
        let feed = tokio::spawn(async move {
            for _ in 0..256 {
                if tx.send(Bytes::from(vec![b'u'; 64 * 1024])).await.is_err() {
                    return;
                }
            }
        });
        let req = conn
            .request("POST", "/upload")
            .header("authorization", bearer(VIEWER))
            .body(ChannelBody(rx).boxed())
            .unwrap();
        let got = read(conn.send(req).await).await;
        assert_eq!(got.status, 413, "{}", String::from_utf8_lossy(&got.raw));
        assert_eq!(got.raw, b"big");
        feed.abort();
    }
    assert_eq!(
        within(app).await.unwrap(),
        3,
        "each upload reached the app once"
    );
    h.shutdown().await;
}
