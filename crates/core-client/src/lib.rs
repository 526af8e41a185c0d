//! A typed client for the Ignite core API contract (`docs/core-api.md`).
//!
//! Every call carries the caller's own bearer token: the core checks it
//! itself, so the sidecar's token cache saves round trips but is never the
//! only gate. Only idempotent calls (GET, PUT, DELETE) are retried, once,
//! and only when the request never reached the core (connect errors).
//!
//! Every mutating call carries a [`WriteContext`]: the request id, the
//! operation and the redaction list the core records in its audit event.

use std::time::Duration;

use authsidecar_core_api::{
    self as api, AuditOperation, AuditPage, AuditQuery, CoreError, ErrorCode, Introspection,
    RoleCatalogue, RolesWrite, User, UserPage, UserQuery, UserWrite,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a core call failed, classified once for the edge to map to a response.
#[derive(Debug, thiserror::Error)]
pub enum CoreCallError {
    /// The core answered with a contract error (4xx, or 5xx with a body).
    #[error("core answered {status}: {}", .error.message)]
    Api {
        /// HTTP status the core answered.
        status: u16,
        /// The contract error body.
        error: CoreError,
    },
    /// The core could not be reached (connect refused, DNS, reset before answer).
    #[error("core unreachable: {0}")]
    Unreachable(String),
    /// The core did not answer within the configured timeout.
    #[error("core timed out")]
    Timeout,
    /// The core answered something that is not the contract (bad JSON, odd status).
    #[error("core answered outside the contract: {0}")]
    Protocol(String),
}

impl CoreCallError {
    /// The contract error code, if the core answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CoreCallError::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

/// Timeouts and pool settings for [`CoreClient::new`].
#[derive(Debug, Clone)]
pub struct CoreClientOptions {
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect, send, headers, body).
    pub request_timeout: Duration,
    /// How long an idle pooled connection is kept; keep it below the core's keep-alive.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub max_idle_per_host: usize,
}

impl Default for CoreClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(30),
            max_idle_per_host: 32,
        }
    }
}

/// What a mutating call tells the core for its audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteContext {
    /// The id of the request that caused the write (`X-Request-Id`); `None`
    /// lets the core mint one.
    pub request_id: Option<String>,
    /// The operation to record (`X-Ignite-Operation`), for a SCIM PATCH that
    /// reaches the core as a replace; `None` records the endpoint's own.
    pub operation: Option<AuditOperation>,
    /// Attribute names whose values the event shows as `[redacted]`
    /// (`X-Ignite-Audit-Redact`); empty redacts nothing.
    pub redact: Vec<String>,
}

impl WriteContext {
    /// A context for request `request_id` recording `operation`.
    pub fn new(request_id: &str, operation: AuditOperation) -> Self {
        Self {
            request_id: Some(request_id.to_owned()),
            operation: Some(operation),
            redact: Vec::new(),
        }
    }

    /// The same context, redacting `names`.
    pub fn with_redact(mut self, names: &[String]) -> Self {
        self.redact = names.to_vec();
        self
    }

    /// The request headers that carry this context.
    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(3);
        if let Some(id) = &self.request_id {
            headers.push((api::HEADER_REQUEST_ID, id.clone()));
        }
        if let Some(op) = self.operation {
            headers.push((api::HEADER_OPERATION, op.as_str().to_owned()));
        }
        if !self.redact.is_empty() {
            headers.push((api::HEADER_AUDIT_REDACT, self.redact.join(",")));
        }
        headers
    }
}

/// A pooled HTTP client bound to one core base URL.
#[derive(Debug, Clone)]
pub struct CoreClient {
    http: reqwest::Client,
    base: String,
    /// `base` parsed once: every call clones it and sets its path and query,
    /// so the scheme and host are not parsed again per call (URL parsing,
    /// IDNA included, was a twentieth of the sidecar's CPU on SCIM writes).
    origin: reqwest::Url,
    /// The path of `base` without a trailing `/` (often empty).
    prefix: String,
}

impl CoreClient {
    /// Builds a client for `base_url` (for example `http://127.0.0.1:7070`).
    pub fn new(base_url: &str, options: &CoreClientOptions) -> Result<Self, CoreCallError> {
        let http = reqwest::Client::builder()
            // A sidecar must not be steered through HTTP_PROXY-style variables
            // meant for other programs in the pod.
            .no_proxy()
            // The contract has no redirects, and this client decides itself
            // what may be sent again (`send`): reqwest's own retry of
            // "protocol nacks" and its redirect following are both off. That
            // also spares every call the clone of the request they keep.
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.max_idle_per_host)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| CoreCallError::Protocol(format!("cannot build http client: {e}")))?;
        let base = base_url.trim_end_matches('/').to_owned();
        let origin = reqwest::Url::parse(&base).map_err(|e| {
            CoreCallError::Protocol(format!("core base URL '{base}' is not a URL: {e}"))
        })?;
        let prefix = origin.path().trim_end_matches('/').to_owned();
        Ok(Self {
            http,
            base,
            origin,
            prefix,
        })
    }

    /// The URL of `path_and_query` (a contract path, its segments already
    /// encoded) on the core: the same URL as parsing `base` + `path_and_query`.
    fn url(&self, path_and_query: &str) -> reqwest::Url {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut url = self.origin.clone();
        if self.prefix.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{}{path}", self.prefix));
        }
        url.set_query(query);
        url
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /internal/v1/introspect`. `Ok(None)` when the core says the token
    /// is unknown (401); errors only for failures to get an answer.
    pub async fn introspect(&self, token: &str) -> Result<Option<Introspection>, CoreCallError> {
        match self.get::<Introspection>(api::PATH_INTROSPECT, token).await {
            Ok(i) => Ok(Some(i)),
            Err(CoreCallError::Api { status: 401, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /internal/v1/roles`.
    pub async fn roles(&self, token: &str) -> Result<RoleCatalogue, CoreCallError> {
        self.get(api::PATH_ROLES, token).await
    }

    /// `POST /internal/v1/users`. Never retried: a create is not idempotent.
    pub async fn create_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        user: &UserWrite,
    ) -> Result<User, CoreCallError> {
        self.call(Method::POST, api::PATH_USERS, token, ctx, Some(user))
            .await
    }

    /// `GET /internal/v1/users/{id}`.
    pub async fn get_user(&self, token: &str, id: &str) -> Result<User, CoreCallError> {
        check_id(id)?;
        let path = api::user_path(&encode_segment(id));
        self.get(&path, token).await
    }

    /// `GET /internal/v1/users?…`.
    pub async fn list_users(
        &self,
        token: &str,
        query: &UserQuery,
    ) -> Result<UserPage, CoreCallError> {
        let path = format!("{}?{}", api::PATH_USERS, encode_query(query));
        self.get(&path, token).await
    }

    /// `GET /internal/v1/audit?…`: the token's workspace's trail, newest first.
    pub async fn audit(&self, token: &str, query: &AuditQuery) -> Result<AuditPage, CoreCallError> {
        let path = format!("{}?{}", api::PATH_AUDIT, encode_audit_query(query));
        self.get(&path, token).await
    }

    /// `PUT /internal/v1/users/{id}` guarded by `user.version`.
    pub async fn update_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        id: &str,
        user: &UserWrite,
    ) -> Result<User, CoreCallError> {
        check_id(id)?;
        let path = api::user_path(&encode_segment(id));
        self.call(Method::PUT, &path, token, ctx, Some(user)).await
    }

    /// `PUT /internal/v1/users/{id}/roles` guarded by `roles.version`.
    pub async fn set_roles(
        &self,
        token: &str,
        ctx: &WriteContext,
        id: &str,
        roles: &RolesWrite,
    ) -> Result<User, CoreCallError> {
        check_id(id)?;
        let path = api::user_roles_path(&encode_segment(id));
        self.call(Method::PUT, &path, token, ctx, Some(roles)).await
    }

    /// `DELETE /internal/v1/users/{id}`.
    pub async fn delete_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        id: &str,
    ) -> Result<(), CoreCallError> {
        check_id(id)?;
        let path = api::user_path(&encode_segment(id));
        let url = self.url(&path);
        let response = self
            .send(Method::DELETE, url, token, &ctx.headers(), None)
            .await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(());
        }
        Err(error_from(response).await)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, CoreCallError> {
        self.call::<(), T>(Method::GET, path, token, &WriteContext::default(), None)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &str,
        ctx: &WriteContext,
        body: Option<&B>,
    ) -> Result<T, CoreCallError> {
        let url = self.url(path);
        let body = match body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| CoreCallError::Protocol(format!("cannot encode body: {e}")))?,
            ),
            None => None,
        };
        let response = self.send(method, url, token, &ctx.headers(), body).await?;
        if !response.status().is_success() {
            return Err(error_from(response).await);
        }
        let bytes = response.bytes().await.map_err(transport_error)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CoreCallError::Protocol(format!("cannot decode core answer: {e}")))
    }

    async fn send(
        &self,
        method: Method,
        url: reqwest::Url,
        token: &str,
        headers: &[(&'static str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<reqwest::Response, CoreCallError> {
        let idempotent = method != Method::POST;
        let read_only = method == Method::GET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token)
                .header("accept", "application/json");
            for (name, value) in headers {
                request = request.header(*name, value.as_str());
            }
            if let Some(b) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(b.clone());
            }
            match request.send().await {
                Ok(r) => return Ok(r),
                // A connect error means the request never reached the core, so
                // repeating an idempotent call cannot apply it twice.
                Err(e) if idempotent && attempt < 2 && e.is_connect() => {
                    tracing::debug!(error = %e, "core connect failed, retrying once");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                // A pooled connection the core closed as it went idle breaks
                // the request sent on it before any answer. A read is sent
                // again at once, on a new connection; a write is not, since
                // the core may have applied it.
                Err(e) if read_only && attempt < 2 && e.is_request() && !e.is_timeout() => {
                    tracing::debug!(error = %e, "core connection broke, retrying the read once");
                }
                Err(e) => return Err(transport_error(e)),
            }
        }
    }
}

/// Ids are opaque, but they travel as a URL path segment: anything outside
/// `[A-Za-z0-9_-]{1,128}` cannot be an id the core minted, and characters
/// such as `.` could be resolved as dot-segments by the URL parser. Such an
/// id is answered as "not found" without asking the core.
fn check_id(id: &str) -> Result<(), CoreCallError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        return Ok(());
    }
    Err(CoreCallError::Api {
        status: 404,
        error: CoreError {
            code: ErrorCode::UserNotFound,
            message: "no user has this id".to_owned(),
            known_roles: None,
        },
    })
}

fn transport_error(e: reqwest::Error) -> CoreCallError {
    if e.is_timeout() {
        CoreCallError::Timeout
    } else if e.is_connect() || e.is_request() {
        CoreCallError::Unreachable(e.to_string())
    } else {
        CoreCallError::Protocol(e.to_string())
    }
}

async fn error_from(response: reqwest::Response) -> CoreCallError {
    let status = response.status().as_u16();
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return transport_error(e),
    };
    match serde_json::from_slice::<CoreError>(&bytes) {
        Ok(error) => CoreCallError::Api { status, error },
        Err(_) => CoreCallError::Protocol(format!("status {status} without a contract error body")),
    }
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn encode_query(q: &UserQuery) -> String {
    let mut parts = Vec::with_capacity(5);
    let fields = [
        ("user_name", &q.user_name),
        ("external_id", &q.external_id),
        ("email", &q.email),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            parts.push(format!("{key}={}", encode_segment(v)));
        }
    }
    parts.push(format!("offset={}", q.offset));
    parts.push(format!("limit={}", q.limit));
    parts.join("&")
}

fn encode_audit_query(q: &AuditQuery) -> String {
    let mut parts = Vec::with_capacity(5);
    let fields = [("user_id", &q.user_id), ("since", &q.since), ("op", &q.op)];
    for (key, value) in fields {
        if let Some(v) = value {
            parts.push(format!("{key}={}", encode_segment(v)));
        }
    }
    parts.push(format!("offset={}", q.offset));
    parts.push(format!("limit={}", q.limit));
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        let q = UserQuery {
            user_name: Some("a+b c@x".into()),
            external_id: None,
            email: Some("é@x".into()),
            offset: 3,
            limit: 7,
        };
        assert_eq!(
            encode_query(&q),
            "user_name=a%2Bb%20c%40x&email=%C3%A9%40x&offset=3&limit=7"
        );
    }

    #[test]
    fn write_context_headers_and_audit_query() {
        let ctx = WriteContext::new("req-1", AuditOperation::Patch)
            .with_redact(&["name".to_owned(), "emails".to_owned()]);
        assert_eq!(
            ctx.headers(),
            [
                ("x-request-id", "req-1".to_owned()),
                ("x-ignite-operation", "patch".to_owned()),
                ("x-ignite-audit-redact", "name,emails".to_owned()),
            ]
        );
        assert_eq!(WriteContext::default().headers(), []);
        let q = AuditQuery {
            user_id: Some("u 1".into()),
            since: Some("2026-12-04T15:13:11+01:00".into()),
            op: Some("disable".into()),
            offset: 2,
            limit: 3,
        };
        assert_eq!(
            encode_audit_query(&q),
            "user_id=u%201&since=2026-12-04T15%3A13%3A11%2B01%3A00&op=disable&offset=2&limit=3"
        );
    }

    #[test]
    fn ids_that_could_change_the_path_are_not_found() {
        for id in ["..", ".", "a/b", "a?b", "", "a b", "%2e%2e"] {
            let err = check_id(id).unwrap_err();
            assert_eq!(err.code(), Some(ErrorCode::UserNotFound), "{id}");
        }
        assert!(check_id("0f9e8d7c-6b5a-4d3c-2b1a-9d8c7b6a5f4e").is_ok());
    }

    #[test]
    fn call_urls_equal_parsing_base_and_path_together() {
        let opts = CoreClientOptions::default();
        for base in [
            "http://127.0.0.1:7070",
            "http://core.internal/",
            "http://h:1/ignite/",
        ] {
            let client = CoreClient::new(base, &opts).unwrap();
            for path in [
                api::PATH_ROLES.to_owned(),
                format!(
                    "{}?user_name=a%2Bb%20c%40x&offset=0&limit=7",
                    api::PATH_USERS
                ),
                api::user_path(&encode_segment("0f9e8d7c-6b5a")),
            ] {
                let whole = format!("{}{path}", base.trim_end_matches('/'));
                assert_eq!(client.url(&path).as_str(), whole, "{base} + {path}");
            }
        }
    }

    #[test]
    fn a_base_that_is_no_url_is_refused_at_once() {
        let err = CoreClient::new("not a url", &CoreClientOptions::default()).unwrap_err();
        assert!(
            matches!(&err, CoreCallError::Protocol(m) if m.contains("'not a url' is not a URL")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_redirect_from_the_core_is_an_error_and_not_followed() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = requests.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    // One request head per read is enough for this client.
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        seen.fetch_add(1, Ordering::SeqCst);
                        let answer = "HTTP/1.1 307 Temporary Redirect\r\n\
                                      location: /internal/v1/roles\r\n\
                                      content-length: 0\r\n\r\n";
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let client =
            CoreClient::new(&format!("http://{addr}"), &CoreClientOptions::default()).unwrap();
        let err = client.roles("t").await.unwrap_err();
        assert!(
            matches!(&err, CoreCallError::Protocol(m) if m.contains("status 307")),
            "{err:?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        server.abort();
    }

    /// A core that answers the first request of each connection with the
    /// role catalogue and closes the connection on reading the second, as a
    /// server does when a pooled connection races its idle timeout. Returns
    /// its address and the request lines it read, in order.
    async fn closes_after_one_answer() -> (
        std::net::SocketAddr,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    for answered in 0.. {
                        let n = match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let head = String::from_utf8_lossy(&buf[..n]);
                        let line = head.lines().next().unwrap_or("").to_owned();
                        log.lock().unwrap().push(line);
                        if answered > 0 {
                            return; // closes without an answer
                        }
                        let body = r#"{"roles":["Admin"]}"#;
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn a_read_on_a_connection_the_core_closed_is_sent_again_once() {
        let (addr, seen) = closes_after_one_answer().await;
        let client =
            CoreClient::new(&format!("http://{addr}"), &CoreClientOptions::default()).unwrap();
        assert_eq!(client.roles("t").await.unwrap().roles, ["Admin"]);
        // The pooled connection breaks; the read goes again on a new one.
        assert_eq!(client.roles("t").await.unwrap().roles, ["Admin"]);
        let lines = seen.lock().unwrap().clone();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("GET /internal/v1/roles"))
        );
    }

    #[tokio::test]
    async fn a_write_on_a_connection_the_core_closed_is_not_sent_again() {
        let (addr, seen) = closes_after_one_answer().await;
        let client =
            CoreClient::new(&format!("http://{addr}"), &CoreClientOptions::default()).unwrap();
        assert_eq!(client.roles("t").await.unwrap().roles, ["Admin"]);
        let write: UserWrite = serde_json::from_value(serde_json::json!({
            "user_name": "u@example.test", "active": true, "profile": {}
        }))
        .unwrap();
        let err = client
            .create_user("t", &WriteContext::default(), &write)
            .await
            .unwrap_err();
        assert!(matches!(err, CoreCallError::Unreachable(_)), "{err:?}");
        let lines = seen.lock().unwrap().clone();
        let posts = lines.iter().filter(|l| l.starts_with("POST ")).count();
        assert_eq!(posts, 1, "{lines:?}");
    }

    #[tokio::test]
    async fn unreachable_core_is_classified() {
        // Bind and drop a listener to get a loopback port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client =
            CoreClient::new(&format!("http://{addr}"), &CoreClientOptions::default()).unwrap();
        let err = client.roles("t").await.unwrap_err();
        assert!(matches!(err, CoreCallError::Unreachable(_)), "{err:?}");
    }
}
