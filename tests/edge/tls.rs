//! TLS operations: certificate reload without dropping connections, bad
//! certificates refused, protocol versions, ALPN, the handshake timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authsidecar_server::tls::{CertReloader, ReloadOutcome, TlsError};
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use rustls::ProtocolVersion;
use rustls::pki_types::CertificateDer;
use rustls::version::{TLS12, TLS13};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::client::TlsStream;

use crate::{
    CertFiles, Edge, absolute, connector, h1_connector, h1_over, h2_over, install, new_cert,
    peer_cert, read, scim_get, tls_connect,
};

/// Bound on waiting for anything that should happen promptly.
const PROMPTLY: Duration = Duration::from_secs(10);

/// The edge's certificate reloader.
fn cert_reloader(edge: &Edge) -> Arc<CertReloader> {
    edge.sidecar
        .as_ref()
        .unwrap()
        .cert_reloader()
        .unwrap()
        .clone()
}

/// Writes a new certificate over the live files, as a renewal does.
fn renew(edge: &Edge) -> CertFiles {
    let renewed = new_cert(&edge.dir, "renewed");
    install(&renewed, &edge.live);
    renewed
}

/// Waits (bounded) for the reloader to announce a reload.
async fn reloaded(reloads: &mut watch::Receiver<u64>) {
    tokio::time::timeout(PROMPTLY, reloads.changed())
        .await
        .unwrap()
        .unwrap();
}

/// A new TLS connection (HTTP/1.1) trusting `roots`, on which the edge
/// presented `expected`.
async fn connect_expecting(
    edge: &Edge,
    roots: &[CertificateDer<'static>],
    expected: &CertificateDer<'static>,
) -> TlsStream<TcpStream> {
    let stream = tls_connect(edge.addr(), &h1_connector(roots))
        .await
        .unwrap();
    assert_eq!(&peer_cert(&stream), expected);
    stream
}

/// A new connection trusting both the original and the `renewed`
/// certificate is presented the renewed one.
async fn assert_new_connections_get(edge: &Edge, renewed: &CertFiles) {
    let roots = [edge.live.der.clone(), renewed.der.clone()];
    connect_expecting(edge, &roots, &renewed.der).await;
}

/// `GET {SCIM}/Users` on this HTTP/1.1 connection answers 200.
async fn assert_users_ok(sender: &mut http1::SendRequest<Full<Bytes>>) {
    let (status, _) = read(sender.send_request(scim_get("/Users", &[])).await.unwrap()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_renewed_certificate_serves_new_connections_while_old_ones_keep_going() {
    let edge = Edge::start(|c| c.tls.reload_interval_secs = 0).await;
    let old = edge.live.der.clone();
    let renewed = new_cert(&edge.dir, "renewed");
    let roots = [old.clone(), renewed.der.clone()];

    // A keep-alive connection established with the old certificate.
    let stream = connect_expecting(&edge, &roots, &old).await;
    let (mut pinned, _conn) = h1_over(stream).await;
    assert_users_ok(&mut pinned).await;

    install(&renewed, &edge.live);
    let reloader = edge.sidecar.as_ref().unwrap().cert_reloader().unwrap();
    assert_eq!(reloader.reload_now().unwrap(), ReloadOutcome::Reloaded);
    assert_eq!(reloader.certificate().unwrap(), renewed.der);

    // The next connection gets the renewed certificate and is served.
    let fresh = connect_expecting(&edge, &roots, &renewed.der).await;
    let (mut sender, _conn2) = h1_over(fresh).await;
    assert_users_ok(&mut sender).await;

    // The old connection was not dropped: same connection, next request.
    assert_users_ok(&mut pinned).await;
    edge.shutdown().await;
}

#[tokio::test]
async fn a_bad_new_certificate_or_key_keeps_the_old_one() {
    let edge = Edge::start(|c| c.tls.reload_interval_secs = 0).await;
    let old = edge.live.der.clone();
    let reloader = cert_reloader(&edge);

    // Not PEM at all.
    std::fs::write(&edge.live.cert, "garbage").unwrap();
    let err = reloader.reload_now().unwrap_err();
    assert!(matches!(err, TlsError::Certificate { .. }), "{err}");

    // A valid certificate with someone else's key.
    let other = new_cert(&edge.dir, "other");
    std::fs::copy(&other.cert, &edge.live.cert).unwrap();
    let err = reloader.reload_now().unwrap_err();
    assert!(matches!(err, TlsError::Config(_)), "{err}");

    // A key file without a key.
    std::fs::write(&edge.live.key, "-----BEGIN NOTHING-----\n").unwrap();
    let err = reloader.reload_now().unwrap_err();
    assert!(matches!(err, TlsError::Key { .. }), "{err}");

    assert_eq!(reloader.certificate().unwrap(), old);
    let stream = connect_expecting(&edge, &[old.clone(), other.der], &old).await;
    let (mut sender, _conn) = h1_over(stream).await;
    assert_users_ok(&mut sender).await;
    edge.shutdown().await;
}

#[tokio::test]
async fn changed_files_are_picked_up_by_polling() {
    let edge = Edge::start(|c| c.tls.reload_interval_secs = 1).await;
    let reloader = cert_reloader(&edge);
    let mut reloads = reloader.reloads();
    // Unchanged files are not reloaded.
    assert_eq!(
        reloader.reload_if_changed().unwrap(),
        ReloadOutcome::Unchanged
    );

    let renewed = renew(&edge);
    reloaded(&mut reloads).await;
    assert_eq!(reloader.certificate().unwrap(), renewed.der);
    assert_new_connections_get(&edge, &renewed).await;
    edge.shutdown().await;
}

#[tokio::test]
async fn sighup_reloads_the_certificate() {
    // Polling off: only the signal can cause the reload.
    let edge = Edge::start(|c| c.tls.reload_interval_secs = 0).await;
    let reloader = cert_reloader(&edge);
    let mut reloads = reloader.reloads();
    let renewed = renew(&edge);

    // The sidecar's SIGHUP handler is installed by the time `start`
    // returns, so the signal cannot stop this test process.
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    reloaded(&mut reloads).await;

    assert_new_connections_get(&edge, &renewed).await;
    edge.shutdown().await;
}

#[tokio::test]
async fn tls_1_3_and_1_2_both_negotiate_and_serve() {
    let edge = Edge::start(|_| {}).await;
    let roots = [edge.live.der.clone()];
    for (version, expected) in [
        (&TLS13, ProtocolVersion::TLSv1_3),
        (&TLS12, ProtocolVersion::TLSv1_2),
    ] {
        let c = connector(&roots, &[version], &[b"http/1.1"]);
        let stream = tls_connect(edge.addr(), &c).await.unwrap();
        assert_eq!(stream.get_ref().1.protocol_version(), Some(expected));
        let (mut sender, _conn) = h1_over(stream).await;
        let (status, _) = read(sender.send_request(scim_get("/Users", &[])).await.unwrap()).await;
        assert_eq!(status, 200, "{expected:?}");
    }
    edge.shutdown().await;
}

#[tokio::test]
async fn alpn_chooses_h2_or_http_1_1() {
    let edge = Edge::start(|_| {}).await;
    let roots = [edge.live.der.clone()];
    let versions = rustls::DEFAULT_VERSIONS;

    let stream = tls_connect(
        edge.addr(),
        &connector(&roots, versions, &[b"h2", b"http/1.1"]),
    )
    .await
    .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
    let (mut sender, _conn) = h2_over(stream).await;
    let response = sender
        .send_request(absolute(scim_get("/Users", &[]), edge.addr()))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(read(response).await.0, 200);

    // Offering only http/1.1, or no ALPN at all, is HTTP/1.1.
    for alpn in [&[b"http/1.1".as_slice()][..], &[]] {
        let stream = tls_connect(edge.addr(), &connector(&roots, versions, alpn))
            .await
            .unwrap();
        let expected = alpn.first().copied();
        assert_eq!(stream.get_ref().1.alpn_protocol(), expected);
        let (mut sender, _conn) = h1_over(stream).await;
        let response = sender.send_request(scim_get("/Users", &[])).await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_11);
        assert_eq!(read(response).await.0, 200);
    }
    edge.shutdown().await;
}

/// A TLS 1.0 or 1.1 ClientHello (RFC 2246 §7.4.1.2) offering two RSA
/// suites. Old clients send no extensions; `with_sig_algs` adds a
/// signature_algorithms extension so the hello gets as far as rustls's
/// version check.
fn legacy_client_hello(minor: u8, with_sig_algs: bool) -> Vec<u8> {
    let mut body = vec![3, minor];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x04, 0x00, 0x2f, 0x00, 0x35]); // cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // compression: null
    if with_sig_algs {
        // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
        let ext = [
            0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
        ];
        body.extend_from_slice(&[0x00, ext.len() as u8]);
        body.extend_from_slice(&ext);
    }
    let mut handshake = vec![0x01, 0x00, 0x00, body.len() as u8];
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, handshake.len() as u8];
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls_1_0_and_1_1_clients_get_a_fatal_alert_and_no_server_hello() {
    const HANDSHAKE_FAILURE: u8 = 40;
    const PROTOCOL_VERSION: u8 = 70;
    let edge = Edge::start(|_| {}).await;
    for minor in [1u8, 2] {
        for (with_sig_algs, alert) in [(false, HANDSHAKE_FAILURE), (true, PROTOCOL_VERSION)] {
            let mut tcp = TcpStream::connect(edge.addr()).await.unwrap();
            tcp.write_all(&legacy_client_hello(minor, with_sig_algs))
                .await
                .unwrap();
            let mut answer = Vec::new();
            tokio::time::timeout(PROMPTLY, tcp.read_to_end(&mut answer))
                .await
                .unwrap()
                .unwrap();
            // One alert record (type 21), level fatal (2); then the close.
            let case = format!("TLS 1.{} sig_algs {with_sig_algs}: {answer:?}", minor - 1);
            assert_eq!(answer.len(), 7, "{case}");
            assert_eq!(answer[0], 0x15, "{case}");
            assert_eq!(&answer[3..], &[0x00, 0x02, 0x02, alert], "{case}");
        }
    }
    edge.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_disconnected() {
    let edge = Edge::start(|c| c.tls.handshake_timeout_ms = 300).await;
    let mut tcp = TcpStream::connect(edge.addr()).await.unwrap();
    let started = Instant::now();
    // A record header promising more than is ever sent.
    tcp.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00])
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PROMPTLY, tcp.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(answer.is_empty(), "{answer:?}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    edge.shutdown().await;
}
