//! The passthrough to the Ignite app: every request outside the SCIM base
//! path is forwarded to `app.base_url` (the admin listener is a separate
//! socket and never reaches here).
//!
//! One request, in phases:
//!
//! 1. route (in `router.rs`) on the raw path: [`path::access`] refuses
//!    paths a backend would read differently (dot segments, encoded SCIM
//!    paths) and tells public paths (`app.public_paths`) from protected ones;
//! 2. authenticate, protected paths only: any valid token, any role
//!    ([`authenticate`]);
//! 3. rewrite the headers ([`headers`]): hop-by-hop out, forwarding headers,
//!    identity headers replaced by the validated identity;
//! 4. send over a pooled keep-alive HTTP/1.1 connection ([`pool`]), the
//!    client's body streamed as it arrives; 504 if the app's response headers
//!    do not come within `app.request_timeout_ms`, 502 if it cannot be
//!    reached or drops the exchange;
//! 5. answer with the app's status and headers (hop-by-hop removed) and its
//!    body streamed back as it arrives; the connection goes back to the pool
//!    once that body was read to the end.
//!
//! Decisions:
//!
//! - The errors the sidecar answers itself on these paths (400, 401, 502,
//!   504) have the same JSON body as SCIM errors (`schemas`, `status`,
//!   `detail`, `application/scim+json`): one error shape on the listener,
//!   made in one place (`failure.rs`). Details never name the app's address.
//! - No retries at all, not even of an idempotent request after a connect
//!   error: a refused connection to an app beside the sidecar means it is
//!   down, and a second try at once would fail the same way. No request is
//!   ever sent twice: the one request that goes on another connection is one
//!   hyper hands back unwritten from a pooled connection found closed. Keep
//!   `app.pool_idle_timeout_ms` below the app's own keep-alive timeout: an
//!   app that closes a connection just as a request is written to it makes
//!   that request a 502.
//! - `Host` is the app's own authority (its virtual host, as in
//!   `app.base_url`); the client's host goes in `X-Forwarded-Host`.
//! - Only `http://` apps: the app runs beside the sidecar, on loopback or
//!   inside the pod, and the sidecar carries no trust roots for calling out
//!   over TLS. An `https://` base URL is refused at start-up.
//! - Upgrades (WebSocket) are not supported: `Upgrade` is hop-by-hop and
//!   removed, so the app answers the request as a plain one.

mod headers;
mod path;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use authsidecar_auth::bearer_token;
use authsidecar_config::AppConfig;
use authsidecar_core_api::Introspection;
use authsidecar_scim::ScimError;
use bytes::BytesMut;
use http::header::{InvalidHeaderName, InvalidHeaderValue};
use http::request::Parts;
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Request, Response, Uri, Version, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;

pub(crate) use path::Access;
use pool::{Pool, SendError};

use crate::failure::{Body, BoxError, Failure, unauthorized};
use crate::router::{ClientAddr, X_REQUEST_ID};
use crate::state::{self, AppState};

/// Seconds a client should wait before retrying when the app is unreachable
/// (a restarting app pod).
const RETRY_AFTER_UNREACHABLE_SECS: u32 = 5;

/// Why the client for the app cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AppSetupError {
    /// `app.base_url` is not an absolute `http://` URL.
    #[error("app.base_url '{url}' cannot be used: {reason}")]
    BaseUrl {
        /// The configured URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An identity header name is not a valid header name.
    #[error("app.identity_headers: {0}")]
    HeaderName(#[from] InvalidHeaderName),
}

/// Why one request could not be passed to the app.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    /// No connection to the app (refused, connect timeout, DNS), or it
    /// closed or broke the connection before a complete response head.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The response headers did not come in time.
    #[error("app sent no response headers within {0:?}")]
    Timeout(Duration),
    /// The validated identity holds a byte a header value cannot carry.
    #[error("identity is not a valid header value: {0}")]
    Identity(#[from] InvalidHeaderValue),
    /// The app URI for this request target could not be built.
    #[error("cannot build the app URI: {0}")]
    Uri(#[from] http::Error),
}

impl From<ForwardError> for Failure {
    fn from(e: ForwardError) -> Self {
        let upstream = |status, detail: &str, retry_after| Failure::Upstream {
            error: ScimError::status(status, detail),
            retry_after,
        };
        match e {
            ForwardError::Send(SendError::Unreachable(_)) => upstream(
                502,
                "the Ignite app is unreachable; retry later",
                Some(RETRY_AFTER_UNREACHABLE_SECS),
            ),
            ForwardError::Timeout(_) => {
                upstream(504, "the Ignite app did not answer in time", None)
            }
            ForwardError::Send(SendError::Exchange(_)) => upstream(
                502,
                "the Ignite app closed the connection without a complete answer",
                None,
            ),
            ForwardError::Identity(_) => upstream(
                502,
                "the identity the Ignite core gave for this token cannot be passed to the app",
                None,
            ),
            ForwardError::Uri(_) => Failure::Client(ScimError::status(
                400,
                "the request target cannot be forwarded to the Ignite app",
            )),
        }
    }
}

/// The pooled connections to the app and the rules of forwarding to it.
pub(crate) struct AppProxy {
    pool: Arc<Pool<Incoming>>,
    /// The path of `app.base_url` without a trailing `/` (often empty).
    prefix: String,
    request_timeout: Duration,
    public_paths: Vec<String>,
    rules: headers::RequestRules,
}

impl AppProxy {
    /// Builds the pool and the rules from the `app` section.
    pub(crate) fn new(config: &AppConfig) -> Result<Self, AppSetupError> {
        let bad = |reason: &str| AppSetupError::BaseUrl {
            url: config.base_url.clone(),
            reason: reason.to_owned(),
        };
        let uri: Uri = config
            .base_url
            .parse()
            .map_err(|_| bad("it is not a URL; write e.g. http://127.0.0.1:3000"))?;
        let parts = uri.into_parts();
        let scheme = parts
            .scheme
            .ok_or_else(|| bad("it has no http:// scheme"))?;
        if scheme != Scheme::HTTP {
            return Err(bad(
                "the sidecar calls the app over plain http:// (the app runs beside it); \
                 point it at the app's plain-HTTP port",
            ));
        }
        let authority = parts.authority.ok_or_else(|| bad("it has no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        // As HTTP clients write it: the port only when not 80.
        let host = match port {
            80 => authority.host().to_owned(),
            _ => format!("{}:{port}", authority.host()),
        };
        let host = HeaderValue::from_str(&host).map_err(|_| bad("its host is not valid"))?;
        let prefix = parts
            .path_and_query
            .map(|p| p.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        // The socket address wants an IPv6 literal without its brackets.
        let connect_host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let pool = Pool::new(connect_host.to_owned(), port, config);
        Ok(Self {
            pool: Arc::new(pool),
            prefix,
            request_timeout: config.request_timeout(),
            public_paths: config.public_paths.clone(),
            rules: headers::RequestRules {
                host,
                identity: headers::IdentityHeaders::new(&config.identity_headers)?,
                forward_authorization: config.forward_authorization,
            },
        })
    }

    /// Whether the raw `path` (not under the SCIM base path) may be
    /// forwarded, and whether it needs a token; a refusal is a 400.
    pub(crate) fn access(&self, path: &str, scim_base: &str) -> Result<Access, Failure> {
        path::access(path, &self.public_paths, scim_base)
            .map_err(|e| Failure::Client(ScimError::status(400, e.to_string())))
    }

    /// Forwards `req` to the app; `who` is the validated identity (`None` on
    /// public paths). Answers the app's response, or the error in its place.
    pub(crate) async fn forward(
        &self,
        req: Request<Incoming>,
        client: &ClientAddr,
        who: Option<&Introspection>,
    ) -> Response<Body> {
        // Public paths run in a debug-level span (router.rs), so at info this
        // line names the request id itself. A shared clone, no copy.
        let request_id = req.headers().get(X_REQUEST_ID).cloned();
        match self.try_forward(req, client, who).await {
            Ok(response) => response,
            Err(e) => {
                let request_id = request_id.as_ref().and_then(|v| v.to_str().ok());
                tracing::warn!(
                    request_id = request_id.unwrap_or("-"),
                    error = %e,
                    "passthrough to the app failed"
                );
                Failure::from(e).into_response()
            }
        }
    }

    async fn try_forward(
        &self,
        req: Request<Incoming>,
        client: &ClientAddr,
        who: Option<&Introspection>,
    ) -> Result<Response<Body>, ForwardError> {
        let (mut parts, body) = req.into_parts();
        let client = client_view(&parts, client);
        self.rules.apply(&mut parts.headers, client, who)?;
        parts.uri = self.app_uri(&parts.uri)?;
        // h2 clients too: the app is spoken to over HTTP/1.1.
        parts.version = Version::HTTP_11;
        parts.extensions = http::Extensions::new();
        let sent = self.pool.send(Request::from_parts(parts, body));
        let response = tokio::time::timeout(self.request_timeout, sent)
            .await
            .map_err(|_| ForwardError::Timeout(self.request_timeout))??;
        let (mut parts, body) = response.into_parts();
        headers::remove_hop_by_hop(&mut parts.headers);
        let body = body.map_err(|e| Box::new(e) as BoxError).boxed();
        Ok(Response::from_parts(parts, body))
    }

    /// The request target for the app, in origin form: the base URL's path
    /// prefix, then the client's path and query exactly as received.
    fn app_uri(&self, client_uri: &Uri) -> Result<Uri, http::Error> {
        let target = match client_uri.path_and_query() {
            // Without a prefix the client's target is reused as parsed: its
            // bytes are shared, not copied or parsed again.
            Some(target) if self.prefix.is_empty() => target.clone(),
            target => {
                let target = target.map_or("/", PathAndQuery::as_str);
                let mut joined = BytesMut::with_capacity(self.prefix.len() + target.len());
                joined.extend_from_slice(self.prefix.as_bytes());
                joined.extend_from_slice(target.as_bytes());
                PathAndQuery::from_maybe_shared(joined.freeze())?
            }
        };
        Ok(Uri::from(target))
    }
}

/// Who sent the request: the connection's peer, and the host the client
/// addressed (`Host`, or the h2 `:authority`).
fn client_view(parts: &Parts, client: &ClientAddr) -> headers::ClientView {
    let host = parts.headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    headers::ClientView {
        ip: client.ip_header.clone(),
        host,
    }
}

/// Authenticates a request for the app: any valid token, any role. The 401
/// details speak to an app client rather than to Entra's provisioning log.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Arc<Introspection>, Failure> {
    match state::verify(state, headers).await {
        Ok((_, identity)) => Ok(identity),
        Err(Failure::Client(e)) if e.status == 401 => {
            Err(Failure::Client(unauthorized(&unauthorized_detail(headers))))
        }
        Err(other) => Err(other),
    }
}

fn unauthorized_detail(headers: &HeaderMap) -> String {
    let header = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    match bearer_token(header) {
        Err(e) => e.to_string(),
        Ok(_) => "the Ignite API token is not valid (unknown, expired or revoked); send \
                  'Authorization: Bearer <Ignite API token>' with a current token"
            .to_owned(),
    }
}
