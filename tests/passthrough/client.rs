//! A raw HTTPS client for the passthrough tests: HTTP/1.1 or h2 (chosen by
//! ALPN, and checked), request targets sent exactly as written (reqwest
//! would resolve `..` and re-encode), request bodies streamed from a channel.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use authsidecar_e2e::Harness;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;

/// The body type of the test client's requests and of the app's responses.
pub(crate) type ReqBody = BoxBody<Bytes, Infallible>;

/// Every wait in these tests is bounded by this.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test after [`PATIENCE`].
pub(crate) async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f).await.expect("timed out")
}

/// A body fed through a channel, one data frame per message; it ends when
/// the sender is dropped.
pub(crate) struct ChannelBody(pub mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// An empty request body.
pub(crate) fn empty() -> ReqBody {
    Empty::new().boxed()
}

/// A request body of these bytes.
pub(crate) fn bytes(b: impl Into<Bytes>) -> ReqBody {
    Full::new(b.into()).boxed()
}

/// The HTTP version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    /// HTTP/1.1 (ALPN `http/1.1`).
    H1,
    /// HTTP/2 (ALPN `h2`).
    H2,
}

enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

/// One TLS connection to the sidecar.
pub(crate) struct Conn {
    sender: Sender,
    /// `127.0.0.1:PORT` of the sidecar.
    pub(crate) authority: String,
}

impl Conn {
    /// Connects to `h`'s sidecar, trusting its certificate, and asserts the
    /// negotiated ALPN protocol.
    pub(crate) async fn open(h: &Harness, proto: Proto) -> Conn {
        let addr = h.addr();
        let pem = std::fs::read(&h.cert_file).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(&pem).unwrap())
            .unwrap();
        let mut config =
            rustls::ClientConfig::builder_with_provider(authsidecar_server::tls::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        let alpn: &[u8] = match proto {
            Proto::H1 => b"http/1.1",
            Proto::H2 => b"h2",
        };
        config.alpn_protocols = vec![alpn.to_vec()];
        let tcp = within(TcpStream::connect(addr)).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let tls = within(TlsConnector::from(Arc::new(config)).connect(name, tcp))
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
        let io = TokioIo::new(tls);
        let sender = match proto {
            Proto::H1 => {
                let (sender, conn) = within(http1::handshake(io)).await.unwrap();
                tokio::spawn(conn);
                Sender::H1(sender)
            }
            Proto::H2 => {
                let (sender, conn) = within(http2::handshake(TokioExecutor::new(), io))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                Sender::H2(sender)
            }
        };
        Conn {
            sender,
            authority: format!("127.0.0.1:{}", addr.port()),
        }
    }

    /// A request for `target` (path and query, sent as written).
    pub(crate) fn request(&self, method: &str, target: &str) -> http::request::Builder {
        let builder = Request::builder().method(method);
        match self.sender {
            Sender::H1(_) => builder.uri(target).header("host", &self.authority),
            Sender::H2(_) => builder
                .uri(format!("https://{}{target}", self.authority))
                .version(Version::HTTP_2),
        }
    }

    /// Sends a request; the response body is left to stream.
    pub(crate) async fn send(&mut self, req: Request<ReqBody>) -> Response<Incoming> {
        let sent = match &mut self.sender {
            Sender::H1(s) => {
                within(s.ready()).await.unwrap();
                within(s.send_request(req)).await
            }
            Sender::H2(s) => {
                within(s.ready()).await.unwrap();
                within(s.send_request(req)).await
            }
        };
        sent.unwrap()
    }
}

/// A whole response.
#[derive(Debug)]
pub(crate) struct Got {
    /// Status code.
    pub(crate) status: u16,
    /// Headers.
    pub(crate) headers: HeaderMap,
    /// The body.
    pub(crate) raw: Vec<u8>,
    /// The body as JSON (`Null` when not JSON).
    pub(crate) json: Value,
}

impl Got {
    /// A header as a string ("" when absent).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the sidecar's own error body: status, the SCIM error shape,
    /// and this `detail`.
    pub(crate) fn assert_error(&self, status: u16, detail: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.raw)
        );
        assert_eq!(self.header("content-type"), "application/scim+json");
        assert_eq!(
            self.json["schemas"],
            serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.json["status"], status.to_string());
        assert_eq!(self.json["detail"], detail, "{}", self.json);
    }
}

/// Reads a response whole.
pub(crate) async fn read(response: Response<Incoming>) -> Got {
    let (parts, body) = response.into_parts();
    let raw = within(body.collect()).await.unwrap().to_bytes().to_vec();
    Got {
        status: parts.status.as_u16(),
        headers: parts.headers,
        json: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

/// Opens a connection, sends `method target` with `headers` and `body`,
/// and reads the response whole.
pub(crate) async fn call(
    h: &Harness,
    proto: Proto,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: ReqBody,
) -> Got {
    let mut conn = Conn::open(h, proto).await;
    let mut req = conn.request(method, target);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let response = conn.send(req.body(body).unwrap()).await;
    read(response).await
}
