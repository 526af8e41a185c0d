//! The edge of the sidecar over real sockets: TLS operations (certificate
//! reload, protocol versions, ALPN), listener limits, the core concurrency
//! cap, and how core failures reach the client.
#![allow(clippy::unwrap_used)] // tests: a failed step should fail loudly

#[path = "edge/failure.rs"]
mod failure;
#[path = "edge/fake_core.rs"]
mod fake_core;
#[path = "edge/limits.rs"]
mod limits;
#[path = "edge/tls.rs"]
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use authsidecar_config::Config;
use authsidecar_e2e::{client_trusting, start_core, temp_dir};
use authsidecar_local_core::ShutdownHandle;
use authsidecar_server::RunningSidecar;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The SCIM base path of the default config.
const SCIM: &str = "/api/v1/scim/v2";

/// A fresh self-signed certificate for 127.0.0.1, as PEM files in `dir`
/// named `<name>-cert.pem` and `<name>-key.pem`.
pub(crate) struct CertFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) der: CertificateDer<'static>,
}

/// Generates a certificate and writes it to `dir`.
pub(crate) fn new_cert(dir: &Path, name: &str) -> CertFiles {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = dir.join(format!("{name}-cert.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    CertFiles {
        cert,
        key,
        der: generated.cert.der().clone(),
    }
}

/// Copies `from`'s files over `to`'s, as a certificate renewal does.
pub(crate) fn install(from: &CertFiles, to: &CertFiles) {
    std::fs::copy(&from.cert, &to.cert).unwrap();
    std::fs::copy(&from.key, &to.key).unwrap();
}

/// The certificate in a PEM file.
pub(crate) fn cert_der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

/// A sidecar started the production way ([`authsidecar_server::start`]:
/// reloadable certificate), with its own core and certificate files.
pub(crate) struct Edge {
    pub(crate) sidecar: Option<RunningSidecar>,
    pub(crate) core: Option<ShutdownHandle>,
    pub(crate) core_addr: SocketAddr,
    /// The served certificate's files (`live-cert.pem`, `live-key.pem`).
    pub(crate) live: CertFiles,
    pub(crate) dir: PathBuf,
}

impl Edge {
    /// Starts a core and a sidecar in front of it; `adjust` edits the config.
    pub(crate) async fn start(adjust: impl FnOnce(&mut Config)) -> Edge {
        authsidecar_server::tls::install_default_provider();
        let dir = temp_dir("edge");
        let (core_addr, core) = start_core(&dir, "127.0.0.1:0".parse().unwrap()).await;
        let live = new_cert(&dir, "live");
        let mut config = Config::for_dev(
            "127.0.0.1:0".parse().unwrap(),
            live.cert.clone(),
            live.key.clone(),
            format!("http://{core_addr}"),
        );
        adjust(&mut config);
        let sidecar = authsidecar_server::start(&config).await.unwrap();
        Edge {
            sidecar: Some(sidecar),
            core: Some(core),
            core_addr,
            live,
            dir,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.sidecar.as_ref().unwrap().local_addr()
    }

    /// A reqwest client trusting the certificate now in the live files, and the SCIM
    /// base URL.
    pub(crate) fn client(&self) -> (reqwest::Client, String) {
        let client = client_trusting(&self.live.cert);
        (client, format!("https://{}{SCIM}", self.addr()))
    }

    pub(crate) async fn stop_core(&mut self) {
        self.core.take().unwrap().shutdown().await.unwrap();
    }

    pub(crate) async fn shutdown(mut self) {
        if let Some(s) = self.sidecar.take() {
            s.shutdown().await;
        }
        if let Some(c) = self.core.take() {
            c.shutdown().await.unwrap();
        }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TLS connector trusting `roots`, speaking `versions`, offering `alpn`.
pub(crate) fn connector(
    roots: &[CertificateDer<'static>],
    versions: &[&'static SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> TlsConnector {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// A connector with the defaults: TLS 1.3 and 1.2, ALPN `http/1.1`.
pub(crate) fn h1_connector(roots: &[CertificateDer<'static>]) -> TlsConnector {
    connector(roots, rustls::DEFAULT_VERSIONS, &[b"http/1.1"])
}

/// A TLS connection to `addr`.
pub(crate) async fn tls_connect(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await
}

/// The certificate the server presented on `stream`.
pub(crate) fn peer_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// One HTTP/1.1 connection: its request sender and the task driving it,
/// which ends when the server closes the connection.
pub(crate) async fn h1_over(
    stream: TlsStream<TcpStream>,
) -> (
    http1::SendRequest<Full<Bytes>>,
    JoinHandle<hyper::Result<()>>,
) {
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    (sender, tokio::spawn(conn))
}

/// One h2 connection, likewise.
pub(crate) async fn h2_over(
    stream: TlsStream<TcpStream>,
) -> (
    http2::SendRequest<Full<Bytes>>,
    JoinHandle<hyper::Result<()>>,
) {
    let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    (sender, tokio::spawn(conn))
}

/// `GET {SCIM}{path}` as the admin, with `extra` headers.
pub(crate) fn scim_get(path: &str, extra: &[(&str, &str)]) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::get(format!("{SCIM}{path}"))
        .header("host", "127.0.0.1")
        .header(
            "authorization",
            format!("Bearer {}", authsidecar_e2e::ADMIN),
        );
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(Bytes::new())).unwrap()
}

/// Status and body of a response.
pub(crate) async fn read(response: http::Response<hyper::body::Incoming>) -> (u16, Bytes) {
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// An h2 request needs the full URI (`:authority`, `:scheme`).
pub(crate) fn absolute(
    mut req: http::Request<Full<Bytes>>,
    addr: SocketAddr,
) -> http::Request<Full<Bytes>> {
    let uri = format!("https://{addr}{}", req.uri().path());
    *req.uri_mut() = uri.parse().unwrap();
    req.headers_mut().remove("host");
    req
}
