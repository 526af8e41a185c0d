//! Every way a request can fail, classified once (client or upstream) and turned into a response in one function.

use authsidecar_core_api::ErrorCode;
use authsidecar_core_client::CoreCallError;
use authsidecar_scim::{MEDIA_TYPE, ScimError};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use crate::core_gate::CoreBusy;

/// Errors a response body may end with (a proxied stream can break).
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body type of every answer: bytes the sidecar made itself, or
/// a stream proxied from the app.
pub(crate) type Body = BoxBody<Bytes, BoxError>;

/// A body of bytes already in memory.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Seconds a client should wait before retrying when the core is unreachable.
const RETRY_AFTER_UNAVAILABLE_SECS: u32 = 5;
/// Seconds a client should wait before retrying when the core has as much
/// work as `limits.core_max_concurrency` allows: a burst passes quickly.
const RETRY_AFTER_BUSY_SECS: u32 = 1;

/// A request that cannot be answered with success.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The client's request is wrong (4xx): the detail says how to fix it.
    Client(ScimError),
    /// The core failed, could not be reached or is at its concurrency cap
    /// (429/502/503/504).
    Upstream {
        /// The SCIM error to answer with.
        error: ScimError,
        /// `Retry-After` seconds, where retrying later helps.
        retry_after: Option<u32>,
    },
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure::Client(e)
    }
}

impl From<CoreBusy> for Failure {
    /// 429 with `Retry-After`: an upstream condition (the core's capacity),
    /// not something the client did wrong.
    fn from(busy: CoreBusy) -> Self {
        tracing::warn!(
            cap = busy.cap,
            "core concurrency cap reached; answering 429"
        );
        Failure::Upstream {
            error: ScimError::status(
                429,
                "the Ignite core API is busy with other requests; retry after the \
                 Retry-After interval",
            ),
            retry_after: Some(RETRY_AFTER_BUSY_SECS),
        }
    }
}

impl Failure {
    /// Maps a failed core call. `what` names the thing asked for, for example
    /// `user 1234`, so a 404 can say what was not found.
    pub(crate) fn from_core(e: CoreCallError, what: &str) -> Self {
        match e {
            CoreCallError::Api { status, error } => match error.code {
                ErrorCode::UserNotFound => Failure::Client(ScimError::not_found(format!(
                    "{what} does not exist in this workspace; if Entra cached this id, \
                     restart provisioning so it matches the user again"
                ))),
                ErrorCode::UserNameTaken => Failure::Client(ScimError::uniqueness(
                    "userName is already used by another user of this workspace \
                     (user names are compared ignoring letter case); match the existing \
                     user instead of creating a new one",
                )),
                ErrorCode::UnknownRole => {
                    let known = error.known_roles.unwrap_or_default().join(", ");
                    Failure::Client(ScimError::invalid_value(format!(
                        "roles: {}; the workspace's roles are: {known}",
                        error.message
                    )))
                }
                ErrorCode::InvalidRequest => Failure::Client(ScimError::invalid_value(format!(
                    "the Ignite core refused the value: {}",
                    error.message
                ))),
                ErrorCode::PayloadTooLarge => Failure::Client(ScimError::status(
                    413,
                    "the request is larger than the Ignite core accepts",
                )),
                ErrorCode::Unauthenticated => Failure::Client(unauthorized(
                    "the Ignite API token is not valid (it may have been revoked)",
                )),
                ErrorCode::Forbidden => Failure::Client(forbidden()),
                ErrorCode::VersionConflict => Failure::Upstream {
                    error: ScimError::status(
                        503,
                        format!("{what} is being changed by other requests right now; retry"),
                    ),
                    retry_after: Some(1),
                },
                ErrorCode::Unavailable => unavailable(),
                ErrorCode::NotFound | ErrorCode::MethodNotAllowed | ErrorCode::Internal => {
                    tracing::warn!(status, code = ?error.code, "core call failed");
                    Failure::Upstream {
                        error: ScimError::status(
                            502,
                            "the Ignite core API answered with an error; retry later",
                        ),
                        retry_after: None,
                    }
                }
            },
            CoreCallError::Unreachable(reason) => {
                tracing::warn!(%reason, "core unreachable");
                unavailable()
            }
            CoreCallError::Timeout => {
                tracing::warn!("core call timed out");
                Failure::Upstream {
                    error: ScimError::status(504, "the Ignite core API did not answer in time"),
                    retry_after: None,
                }
            }
            CoreCallError::Protocol(reason) => {
                tracing::warn!(%reason, "core answered outside the contract");
                Failure::Upstream {
                    error: ScimError::status(502, "the Ignite core API answered unexpectedly"),
                    retry_after: None,
                }
            }
        }
    }

    /// Like [`Failure::from_core`] for an error shared between the waiters of
    /// one cache load (moka hands each of them the same `Arc`).
    pub(crate) fn from_shared_core(e: &CoreCallError, what: &str) -> Self {
        let owned = match e {
            CoreCallError::Api { status, error } => CoreCallError::Api {
                status: *status,
                error: error.clone(),
            },
            CoreCallError::Unreachable(s) => CoreCallError::Unreachable(s.clone()),
            CoreCallError::Timeout => CoreCallError::Timeout,
            CoreCallError::Protocol(s) => CoreCallError::Protocol(s.clone()),
        };
        Self::from_core(owned, what)
    }

    /// The HTTP response for this failure.
    pub(crate) fn into_response(self) -> Response<Body> {
        match self {
            Failure::Client(e) => scim_error(&e, None),
            Failure::Upstream { error, retry_after } => scim_error(&error, retry_after),
        }
    }
}

fn unavailable() -> Failure {
    Failure::Upstream {
        error: ScimError::status(503, "the Ignite core API is unreachable; retry later"),
        retry_after: Some(RETRY_AFTER_UNAVAILABLE_SECS),
    }
}

/// 401 for a missing or invalid token.
pub(crate) fn unauthorized(detail: &str) -> ScimError {
    ScimError::status(401, detail)
}

/// 403 for a valid token without the Admin role.
pub(crate) fn forbidden() -> ScimError {
    ScimError::status(
        403,
        "this Ignite API token does not have the Admin role; paste an Admin token as \
         Entra's Secret Token",
    )
}

/// A SCIM JSON response.
pub(crate) fn scim_json(status: StatusCode, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// A SCIM Error response, with `WWW-Authenticate` on 401 (RFC 6750 §3)
/// and `Retry-After` where given.
pub(crate) fn scim_error(e: &ScimError, retry_after: Option<u32>) -> Response<Body> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = scim_json(status, &e.to_json());
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"authsidecar\""),
        );
    }
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// An empty response (204 for DELETE).
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = status;
    response
}
