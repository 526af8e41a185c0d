//! The end-to-end harness: the real local core (SQLite in a temp dir) and
//! the real sidecar, both on 127.0.0.1 port 0, the sidecar over TLS with a
//! freshly generated certificate that the test client trusts. Nothing is
//! mocked; everything stops when the harness is dropped or shut down.
#![allow(clippy::unwrap_used)] // test support: a failed setup should fail the test loudly

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authsidecar_config::Config;
use authsidecar_local_core::{Seed, Store};
use serde_json::Value;

/// The tokens of [`SEED`].
pub const ADMIN: &str = "ci-acme-admin";
/// A valid non-admin token of workspace `acme`.
pub const VIEWER: &str = "ci-acme-viewer";
/// The admin token of another workspace, `globex`.
pub const OTHER: &str = "ci-globex-admin";

/// The fixture the shared cases assume (`../shared/cases/README.md`).
pub const SEED: &str = r#"
workspaces:
  - id: acme
    roles: [Admin, Buyer, Approver, Viewer]
    tokens:
      - { name: entra, secret: "ci-acme-admin", role: Admin }
      - { name: reports, secret: "ci-acme-viewer", role: Viewer }
  - id: globex
    roles: [Admin, Buyer]
    tokens:
      - { name: entra, secret: "ci-globex-admin", role: Admin }
"#;

/// A running core + sidecar pair.
pub struct Harness {
    /// `https://127.0.0.1:PORT/api/v1/scim/v2`.
    pub base: String,
    /// A client that trusts the sidecar's certificate.
    pub client: reqwest::Client,
    /// The core's address (plain HTTP).
    pub core_addr: SocketAddr,
    /// The sidecar.
    pub sidecar: Option<authsidecar_server::RunningSidecar>,
    core: Option<authsidecar_local_core::ShutdownHandle>,
    /// The data directory (removed on drop).
    pub dir: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new unique temp directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "authsidecar-e2e-{tag}-{}-{n}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Harness {
    /// Starts a core seeded with [`SEED`] and a sidecar in front of it.
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    /// Like [`Harness::start`], letting the test adjust the sidecar's config.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Harness {
        authsidecar_server::tls::install_default_provider();
        let dir = temp_dir("h");
        let store = Store::open(&dir).unwrap();
        store
            .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
            .unwrap();
        let (core_addr, core) =
            authsidecar_local_core::spawn(store, "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
        let cert = authsidecar_server::tls::ensure_self_signed(&dir, &[]).unwrap();
        let mut config = Config::for_dev(
            "127.0.0.1:0".parse().unwrap(),
            cert.cert_file.clone(),
            cert.key_file.clone(),
            format!("http://{core_addr}"),
        );
        adjust(&mut config);
        let tls = authsidecar_server::tls::server_config(&cert.cert_file, &cert.key_file).unwrap();
        let state = authsidecar_server::AppState::from_config(&config).unwrap();
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let sidecar = authsidecar_server::spawn(Arc::new(state), tls, listener).unwrap();
        let addr = sidecar.local_addr();
        let pem = std::fs::read(&cert.cert_file).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .no_proxy()
            .build()
            .unwrap();
        Harness {
            base: format!("https://127.0.0.1:{}{}", addr.port(), config.scim.base_path),
            client,
            core_addr,
            sidecar: Some(sidecar),
            core: Some(core),
            dir,
        }
    }

    /// A request with the admin token.
    pub fn req(&self, method: &str, path: &str) -> Req<'_> {
        Req {
            h: self,
            method: reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            path: path.to_owned(),
            token: Some(ADMIN.to_owned()),
            headers: Vec::new(),
            body: None,
        }
    }

    /// `GET path` as admin.
    pub async fn get(&self, path: &str) -> Resp {
        self.req("GET", path).send().await
    }

    /// `POST path` with a JSON body as admin.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.req("POST", path).json(body).send().await
    }

    /// `PATCH path` with a JSON body as admin.
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.req("PATCH", path).json(body).send().await
    }

    /// `DELETE path` as admin.
    pub async fn delete(&self, path: &str) -> Resp {
        self.req("DELETE", path).send().await
    }

    /// Creates a user as admin and returns its id (asserts 201).
    pub async fn create(&self, body: Value) -> String {
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, 201, "create failed: {}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Stops the sidecar and the core.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.sidecar.take() {
            s.shutdown().await;
        }
        if let Some(c) = self.core.take() {
            c.shutdown().await.unwrap();
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A request being built.
pub struct Req<'a> {
    h: &'a Harness,
    method: reqwest::Method,
    path: String,
    token: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req<'_> {
    /// Uses another bearer token (`None`: no Authorization header).
    pub fn token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body with Entra's content type (unless a header sets one).
    pub fn json(self, body: Value) -> Self {
        self.raw(serde_json::to_vec(&body).unwrap())
    }

    /// A raw body.
    pub fn raw(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends it.
    pub async fn send(self) -> Resp {
        let url = format!("{}{}", self.h.base, self.path);
        let mut r = self.h.client.request(self.method, url);
        if let Some(t) = &self.token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        let has_ct = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        for (n, v) in &self.headers {
            r = r.header(n.as_str(), v.as_str());
        }
        if let Some(b) = self.body {
            if !has_ct {
                r = r.header("content-type", "application/scim+json; charset=utf-8");
            }
            r = r.body(b);
        }
        let response = r.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.unwrap().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            raw,
        }
    }
}

/// A response, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The raw body.
    pub raw: Vec<u8>,
}

impl Resp {
    /// A header as a string ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a SCIM error body with this status and scimType (`None`: any).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert!(
            self.header("content-type")
                .starts_with("application/scim+json"),
            "content-type {}",
            self.header("content-type")
        );
        assert_eq!(
            self.body["schemas"],
            serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], Value::String(status.to_string()));
        assert!(
            self.body["detail"]
                .as_str()
                .is_some_and(|d| !d.trim().is_empty()),
            "detail missing: {}",
            self.body
        );
        if let Some(t) = scim_type {
            assert_eq!(self.body["scimType"], t, "body: {}", self.body);
        }
    }

    /// Asserts the SCIM media type.
    pub fn assert_scim(&self) {
        assert!(
            self.header("content-type")
                .starts_with("application/scim+json"),
            "content-type {:?}",
            self.header("content-type")
        );
    }
}

/// 12 random-ish lower-case hex characters, like the cases' `{{RAND}}`.
pub fn rand_hex() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:012x}",
        (t as u64 ^ (n << 40) ^ u64::from(std::process::id())) & 0xffff_ffff_ffff
    )
}

/// Whether `array` holds an element that has every key/value of `partial`.
pub fn contains(array: &Value, partial: &Value) -> bool {
    array
        .as_array()
        .is_some_and(|a| a.iter().any(|e| matches_partial(e, partial)))
}

fn matches_partial(value: &Value, partial: &Value) -> bool {
    match (value, partial) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| matches_partial(vv, pv))),
        _ => value == partial,
    }
}
