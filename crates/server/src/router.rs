//! Routing: every request gets a request id and a span, then goes to the
//! SCIM endpoint (under the configured base path) or is answered 404.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use authsidecar_scim::ScimError;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tracing::Instrument;

use crate::failure::{Body, scim_error};
use crate::scim;
use crate::state::AppState;

/// Answers one request.
pub(crate) async fn route(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let request_id = request_id(&req);
    let span = tracing::debug_span!(
        "request",
        id = %request_id.to_str().unwrap_or("-"),
        method = %req.method(),
        token = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let path = req.uri().path().to_owned();
        let mut response = match scim_subpath(&path, &state.scim_base_path) {
            Some(rest) => scim::handle(state.clone(), req, rest).await,
            None => scim_error(
                &ScimError::not_found(format!(
                    "nothing is served at {path}; the SCIM endpoint is {}",
                    state.scim_base_path
                )),
                None,
            ),
        };
        response.headers_mut().insert("x-request-id", request_id);
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "request done"
        );
        Ok(response)
    }
    .instrument(span)
    .await
}

/// The client's `X-Request-Id` when it is short and printable, else a new one.
fn request_id(req: &Request<Incoming>) -> HeaderValue {
    req.headers()
        .get("x-request-id")
        .filter(|v| v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("-"))
        })
}

/// The part of `path` below the SCIM base path, if it is under it.
fn scim_subpath<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subpaths() {
        let b = "/api/v1/scim/v2";
        assert_eq!(scim_subpath("/api/v1/scim/v2/Users", b), Some("/Users"));
        assert_eq!(scim_subpath("/api/v1/scim/v2", b), Some(""));
        assert_eq!(scim_subpath("/api/v1/scim/v2x/Users", b), None);
        assert_eq!(scim_subpath("/other", b), None);
    }
}
