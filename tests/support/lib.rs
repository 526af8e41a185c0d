//! The end-to-end harness: the real local core (SQLite in a temp dir) and
//! the real sidecar, both on 127.0.0.1 port 0, the sidecar over TLS with a
//! freshly generated certificate that the test client trusts. Nothing is
//! mocked; everything stops when the harness is dropped or shut down.
#![allow(clippy::unwrap_used)] // test support: a failed setup should fail the test loudly

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authsidecar_config::Config;
use authsidecar_local_core::{Seed, ShutdownHandle, Store};
use serde_json::{Value, json};

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

/// The Content-Type Entra sends on every body. [`Req`] sets it on any body
/// unless a header sets another, so the tests send what Entra sends.
pub const ENTRA_CT: &str = "application/scim+json; charset=utf-8";
/// The core User schema (RFC 7643 §4.1).
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The ListResponse message (RFC 7644 §3.4.2).
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The Error message (RFC 7644 §3.12).
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The PatchOp message (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A running core + sidecar pair.
pub struct Harness {
    /// `https://127.0.0.1:PORT/api/v1/scim/v2`.
    pub base: String,
    /// A client that trusts the sidecar's certificate.
    pub client: reqwest::Client,
    /// The core's address (plain HTTP).
    pub core_addr: SocketAddr,
    /// The sidecar's certificate (PEM), the only one `client` trusts.
    pub cert_file: PathBuf,
    /// The sidecar.
    pub sidecar: Option<authsidecar_server::RunningSidecar>,
    core: Option<ShutdownHandle>,
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

/// Starts a local core on `addr` (port 0: any free port) with its store in
/// `dir`, seeded with [`SEED`]. Starting it again on the same `dir` and
/// address brings the same core back.
pub async fn start_core(dir: &Path, addr: SocketAddr) -> (SocketAddr, ShutdownHandle) {
    let store = Store::open(dir).unwrap();
    store
        .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
        .unwrap();
    authsidecar_local_core::spawn(store, addr).await.unwrap()
}

/// An HTTPS client that trusts only the certificate in `cert_file` (PEM)
/// and ignores proxy settings, so traffic stays on 127.0.0.1.
pub fn client_trusting(cert_file: &Path) -> reqwest::Client {
    let pem = std::fs::read(cert_file).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .no_proxy()
        .build()
        .unwrap()
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
        let (core_addr, core) = start_core(&dir, "127.0.0.1:0".parse().unwrap()).await;
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
        Harness {
            base: format!("https://127.0.0.1:{}{}", addr.port(), config.scim.base_path),
            client: client_trusting(&cert.cert_file),
            core_addr,
            cert_file: cert.cert_file,
            sidecar: Some(sidecar),
            core: Some(core),
            dir,
        }
    }

    /// The sidecar's listening address.
    pub fn addr(&self) -> SocketAddr {
        self.sidecar.as_ref().unwrap().local_addr()
    }

    /// A request for `method {base}{path}` with the admin token. It holds a
    /// clone of `client` and the URL, not the harness, so it is
    /// `Send + 'static` and can be sent from a spawned task.
    pub fn req(&self, method: &str, path: &str) -> Req {
        Req {
            client: self.client.clone(),
            url: format!("{}{path}", self.base),
            method: reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            token: Some(ADMIN.to_owned()),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A request for `method https://{addr}{path}` with the admin token: a
    /// path outside the SCIM base path (the passthrough).
    pub fn req_outside(&self, method: &str, path: &str) -> Req {
        let mut req = self.req(method, "");
        req.url = format!("https://{}{path}", self.addr());
        req
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

    /// `method path` as admin with a body sent byte for byte (Entra's
    /// Content-Type), for bodies that are not (valid) JSON or are built to a size.
    pub async fn send_raw(&self, method: &str, path: &str, body: Vec<u8>) -> Resp {
        self.req(method, path).raw(body).send().await
    }

    /// `PATCH /Users/{id}` as admin with a PatchOp of these operations
    /// (RFC 7644 §3.5.2).
    pub async fn patch_user(&self, id: &str, operations: Value) -> Resp {
        let body = json!({ "schemas": [PATCH_OP], "Operations": operations });
        self.patch(&format!("/Users/{id}"), body).await
    }

    /// `GET /Users/{id}` as admin, asserting 200 with the SCIM media type.
    pub async fn read_user(&self, id: &str) -> Resp {
        let r = self.get(&format!("/Users/{id}")).await;
        r.assert_scim_status(200);
        r
    }

    /// Creates a user as admin and returns its id (asserts 201).
    pub async fn create(&self, body: Value) -> String {
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, 201, "create failed: {}", r.body);
        r.id()
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

/// A request being built; see [`Harness::req`].
pub struct Req {
    client: reqwest::Client,
    url: String,
    method: reqwest::Method,
    token: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req {
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
        let mut r = self.client.request(self.method, self.url);
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
                r = r.header("content-type", ENTRA_CT);
            }
            r = r.body(b);
        }
        Resp::read(r.send().await.unwrap()).await
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
    /// Reads a reqwest response whole.
    pub async fn read(response: reqwest::Response) -> Resp {
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

    /// A header as a string ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body's `id` (panics when it has none).
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }

    /// Asserts the SCIM media type (RFC 7644 §3.1) the way the shared
    /// cases' runner does: `Content-Type` matches `^application/scim\+json`,
    /// letter case ignored.
    pub fn assert_scim(&self) {
        let ct = self.header("content-type").to_ascii_lowercase();
        assert!(
            ct.starts_with("application/scim+json"),
            "content-type {ct:?} (status {}, body {})",
            self.status,
            self.body
        );
    }

    /// Asserts this status and the SCIM media type.
    pub fn assert_scim_status(&self, status: u16) {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.assert_scim();
    }

    /// Asserts a SCIM error (RFC 7644 §3.12) with this status and scimType
    /// (`None`: any): the SCIM media type, the Error schema, `status` as a
    /// string and a `detail` that is not blank.
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        self.assert_scim_status(status);
        assert_eq!(self.body["schemas"], json!([ERROR]), "body: {}", self.body);
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

    /// Asserts that `key` holds an integer (the cases' `"op": "type",
    /// "value": "integer"` check).
    pub fn assert_integer(&self, key: &str) {
        let v = &self.body[key];
        assert!(
            v.is_u64() || v.is_i64(),
            "{key} not an integer: {}",
            self.body
        );
    }

    /// Asserts a ListResponse (RFC 7644 §3.4.2): 200, the SCIM media type,
    /// the ListResponse schema and an integer `totalResults`.
    pub fn assert_list_shape(&self) {
        self.assert_scim_status(200);
        assert_eq!(self.body["schemas"], json!([LIST]), "body: {}", self.body);
        self.assert_integer("totalResults");
    }

    /// [`Resp::assert_list_shape`] with `totalResults` equal to `total`.
    pub fn assert_list(&self, total: u64) {
        self.assert_list_shape();
        assert_eq!(self.body["totalResults"], total, "body: {}", self.body);
    }

    /// [`Resp::assert_list`] with exactly one resource, whose id is `id`.
    pub fn assert_one(&self, id: &str) {
        self.assert_list(1);
        let len = self.body["Resources"].as_array().map(Vec::len);
        assert_eq!(len, Some(1), "body: {}", self.body);
        assert_eq!(self.body["Resources"][0]["id"], id, "body: {}", self.body);
    }

    /// Asserts `Resources` is absent or empty (both are allowed for an empty
    /// page, RFC 7644 §3.4.2).
    pub fn assert_no_resources(&self) {
        assert!(
            self.body.get("Resources").is_none()
                || self.body["Resources"].as_array().map(Vec::len) == Some(0),
            "Resources: {}",
            self.body
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

/// `{"schemas": [User], "userName": user_name, "active": true}`, the plain
/// user most setup steps create.
pub fn user(user_name: &str) -> Value {
    json!({ "schemas": [USER], "userName": user_name, "active": true })
}

/// `/Users?filter=<attribute> eq "<value>"` as most cases write it: blanks
/// as `%20`, quotes as `%22`, `@` as `%40`.
pub fn filter_path(attribute: &str, value: &str) -> String {
    let value = value.replace('@', "%40");
    format!("/Users?filter={attribute}%20eq%20%22{value}%22")
}

/// [`filter_path`] with blanks as `+`, as Entra and the other cases write it.
pub fn filter_path_plus(attribute: &str, value: &str) -> String {
    let value = value.replace('@', "%40");
    format!("/Users?filter={attribute}+eq+%22{value}%22")
}

/// The value at an RFC 6901 JSON pointer; `Null` when absent (use
/// [`absent`] to tell the two apart).
pub fn at<'a>(body: &'a Value, pointer: &str) -> &'a Value {
    body.pointer(pointer).unwrap_or(&Value::Null)
}

/// Whether nothing is at this RFC 6901 JSON pointer.
pub fn absent(body: &Value, pointer: &str) -> bool {
    body.pointer(pointer).is_none()
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
