//! Listener limits (header timeout and size, idle connections, connection
//! cap) and the cap on concurrent work against the core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authsidecar_e2e::Harness;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::fake_core::{FakeCore, admin_introspection, empty_page};
use crate::{absolute, connector, h1_connector, h1_over, h2_over, read, scim_get, tls_connect};

const PROMPTLY: Duration = Duration::from_secs(10);

/// The harness's certificate, for raw TLS clients.
fn harness_root(h: &Harness) -> rustls::pki_types::CertificateDer<'static> {
    crate::cert_der(&h.cert_file)
}

/// Waits (bounded) for the server to close the connection `conn` drives,
/// which must stay open for the 1 s idle timeout (less a margin) first.
async fn assert_closed_when_idle(conn: JoinHandle<hyper::Result<()>>) {
    let idle_since = Instant::now();
    tokio::time::timeout(PROMPTLY, conn)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let idle = idle_since.elapsed();
    assert!(idle >= Duration::from_millis(900), "{idle:?}");
}

#[tokio::test]
async fn a_client_sending_half_a_header_is_cut_off_after_the_header_timeout() {
    let h = Harness::start_with(|c| c.limits.header_read_timeout_ms = 300).await;
    let mut stream = tls_connect(h.addr(), &h1_connector(&[harness_root(&h)]))
        .await
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /api/v1/scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PROMPTLY, stream.read_to_end(&mut answer))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    // hyper closes without an answer; the close may or may not be clean TLS.
    assert!(read.is_ok() || answer.is_empty(), "{read:?}");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn oversize_headers_get_431_on_http_1_1_and_h2() {
    let h = Harness::start_with(|c| c.limits.max_header_bytes = 4096).await;
    let small = "a".repeat(1000);
    let big = "a".repeat(6000);
    let r = h.req("GET", "/Users").header("x-pad", &small).send().await;
    assert_eq!(r.status, 200);
    let r = h.req("GET", "/Users").header("x-pad", &big).send().await;
    assert_eq!(r.status, 431);

    let addr = h.addr();
    let c = connector(&[harness_root(&h)], rustls::DEFAULT_VERSIONS, &[b"h2"]);
    let (mut sender, _conn) = h2_over(tls_connect(addr, &c).await.unwrap()).await;
    let ok = absolute(scim_get("/Users", &[("x-pad", &small)]), addr);
    assert_eq!(read(sender.send_request(ok).await.unwrap()).await.0, 200);
    let too_big = absolute(scim_get("/Users", &[("x-pad", &big)]), addr);
    assert_eq!(
        read(sender.send_request(too_big).await.unwrap()).await.0,
        431
    );
    h.shutdown().await;
}

#[tokio::test]
async fn idle_connections_are_closed_on_http_1_1_and_h2() {
    // The header timer would close an idle HTTP/1.1 connection too; make it
    // long so only the idle timer can.
    let h = Harness::start_with(|c| {
        c.limits.idle_timeout_secs = 1;
        c.limits.header_read_timeout_ms = 60_000;
    })
    .await;
    let addr = h.addr();
    let root = harness_root(&h);

    let (mut sender, conn) = h1_over(
        tls_connect(addr, &h1_connector(std::slice::from_ref(&root)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        read(sender.send_request(scim_get("/Users", &[])).await.unwrap())
            .await
            .0,
        200
    );
    assert_closed_when_idle(conn).await;

    let c = connector(&[root], rustls::DEFAULT_VERSIONS, &[b"h2"]);
    let (mut sender, conn) = h2_over(tls_connect(addr, &c).await.unwrap()).await;
    let req = absolute(scim_get("/Users", &[]), addr);
    assert_eq!(read(sender.send_request(req).await.unwrap()).await.0, 200);
    assert_closed_when_idle(conn).await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_busy_connection_is_not_idle() {
    let core = FakeCore::start(|_, path| async move {
        if path.ends_with("/introspect") {
            return admin_introspection();
        }
        tokio::time::sleep(Duration::from_millis(1800)).await;
        empty_page()
    })
    .await;
    let url = core.url();
    let h = Harness::start_with(|c| {
        c.core.base_url = url;
        c.limits.idle_timeout_secs = 1;
    })
    .await;
    let stream = tls_connect(h.addr(), &h1_connector(&[harness_root(&h)]))
        .await
        .unwrap();
    let (mut sender, _conn) = h1_over(stream).await;
    // Longer than the idle timeout, waiting on the core.
    let (status, body) = read(sender.send_request(scim_get("/Users", &[])).await.unwrap()).await;
    assert_eq!(status, 200, "{body:?}");
    // Still open: the idle time starts when the answer is sent.
    let next = sender
        .send_request(scim_get("/ServiceProviderConfig", &[]))
        .await;
    assert_eq!(read(next.unwrap()).await.0, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let h = Harness::start_with(|c| c.limits.max_connections = 1).await;
    let addr = h.addr();
    let c = h1_connector(&[harness_root(&h)]);
    let first = tls_connect(addr, &c).await.unwrap();

    // The second connection's TCP connect completes (the kernel's backlog),
    // but the sidecar does not accept it, so its handshake waits.
    let mut second = Box::pin(tls_connect(addr, &c));
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut second).await;
    assert!(
        waited.is_err(),
        "a second connection was served past the cap"
    );

    drop(first);
    let second = tokio::time::timeout(PROMPTLY, second)
        .await
        .unwrap()
        .unwrap();
    let (mut sender, _conn) = h1_over(second).await;
    assert_eq!(
        read(sender.send_request(scim_get("/Users", &[])).await.unwrap())
            .await
            .0,
        200
    );
    h.shutdown().await;
}

#[tokio::test]
async fn requests_beyond_the_core_concurrency_cap_get_429_with_retry_after() {
    // The core holds user-list calls until the test lets them through.
    let arrived = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let core = {
        let (arrived, release) = (arrived.clone(), release.clone());
        FakeCore::start(move |_, path| {
            let (arrived, release) = (arrived.clone(), release.clone());
            async move {
                if path.ends_with("/introspect") {
                    return admin_introspection();
                }
                arrived.notify_one();
                let _ = release.acquire().await.unwrap();
                empty_page()
            }
        })
        .await
    };
    let url = core.url();
    let h = Arc::new(
        Harness::start_with(|c| {
            c.core.base_url = url;
            c.limits.core_max_concurrency = 1;
        })
        .await,
    );

    let first = tokio::spawn({
        let h = h.clone();
        async move { h.get("/Users").await }
    });
    tokio::time::timeout(PROMPTLY, arrived.notified())
        .await
        .unwrap();

    let busy = h.get("/Users").await;
    busy.assert_error(429, None);
    assert_eq!(busy.header("retry-after"), "1");

    release.add_permits(10);
    let first = first.await.unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    // The permit came back.
    assert_eq!(h.get("/Users").await.status, 200);
    Arc::try_unwrap(h).ok().unwrap().shutdown().await;
}
