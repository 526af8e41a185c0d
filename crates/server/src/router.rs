//! Routing: every request gets a request id and a span, then goes, by its
//! raw path, to one of:
//!
//! 1. the SCIM endpoint, for everything under the SCIM base path;
//! 2. the Ignite app without a token, for `app.public_paths`;
//! 3. the Ignite app after the token is validated (any role), for every
//!    other path; a missing or unknown token is a 401 with
//!    `WWW-Authenticate: Bearer` and a SCIM-shaped JSON error body;
//! 4. a 404, for paths outside SCIM when no `app` section is configured.
//!
//! The path is never decoded or normalised here, and the app receives it
//! byte-for-byte; paths a backend would read differently are refused (see
//! `proxy/path.rs`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use authsidecar_scim::ScimError;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tracing::Instrument;

use crate::failure::{Body, Failure, scim_error};
use crate::metrics::Route;
use crate::proxy::{self, Access, AppProxy};
use crate::scim;
use crate::state::AppState;

/// The peer address of the connection a request came on, put in the
/// request's extensions by the listener (for `X-Forwarded-For`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) SocketAddr);

/// Records the connection's peer address on `req`.
pub(crate) fn with_client_addr<B>(mut req: Request<B>, peer: SocketAddr) -> Request<B> {
    req.extensions_mut().insert(ClientAddr(peer));
    req
}

/// Answers one request.
pub(crate) async fn route(
    state: Arc<AppState>,
    mut req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let request_id = request_id(&req);
    // Info level, so the request id is on every line a request logs at info
    // (JSON logs carry the current span's fields on each line).
    let span = tracing::info_span!(
        "request",
        id = %request_id.to_str().unwrap_or("-"),
        method = %req.method(),
        token = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        // The app sees the same request id as the client and the logs.
        req.headers_mut().insert("x-request-id", request_id.clone());
        let path = req.uri().path().to_owned();
        let destination = destination(&state, &path);
        let metric_route = destination.metric_route();
        let mut response = match destination {
            Destination::Scim(rest) => scim::handle(state.clone(), req, rest).await,
            Destination::App(app, Access::Public) => app.forward(req, None).await,
            Destination::App(app, Access::Protected) => {
                match proxy::authenticate(&state, req.headers()).await {
                    Ok(who) => app.forward(req, Some(&who)).await,
                    Err(failure) => failure.into_response(),
                }
            }
            Destination::Refused(failure) => failure.into_response(),
            Destination::Nowhere => not_found(&path, &state.scim_base_path),
        };
        response.headers_mut().insert("x-request-id", request_id);
        let (status, elapsed) = (response.status().as_u16(), started.elapsed());
        state.metrics.request(metric_route, status, elapsed);
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

/// Where a request goes, decided on its raw path alone.
enum Destination<'a> {
    /// The SCIM endpoint, with the path below the base path.
    Scim(&'a str),
    /// The app.
    App(&'a AppProxy, Access),
    /// A path the app must not receive (400).
    Refused(Failure),
    /// No app configured: 404.
    Nowhere,
}

impl Destination<'_> {
    /// The `route` label of the request metrics.
    fn metric_route(&self) -> Route {
        match self {
            Destination::Scim(rest) => Route::scim(rest),
            Destination::App(_, Access::Public) => Route::Public,
            Destination::App(_, Access::Protected) | Destination::Refused(_) => Route::Proxy,
            Destination::Nowhere => Route::NotFound,
        }
    }
}

fn destination<'a>(state: &'a AppState, path: &'a str) -> Destination<'a> {
    if let Some(rest) = scim_subpath(path, &state.scim_base_path) {
        return Destination::Scim(rest);
    }
    let Some(app) = &state.app else {
        return Destination::Nowhere;
    };
    match app.access(path, &state.scim_base_path) {
        Ok(access) => Destination::App(app, access),
        Err(failure) => Destination::Refused(failure),
    }
}

fn not_found(path: &str, scim_base_path: &str) -> Response<Body> {
    scim_error(
        &ScimError::not_found(format!(
            "nothing is served at {path}; the SCIM endpoint is {scim_base_path}"
        )),
        None,
    )
}

/// The client's `X-Request-Id` when it is short and printable, else a new one.
fn request_id(req: &Request<Incoming>) -> HeaderValue {
    req.headers()
        .get("x-request-id")
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
        })
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
