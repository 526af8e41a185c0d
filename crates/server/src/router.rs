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
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::{Body as _, Incoming};
use tracing::{Instrument, Span};

use crate::failure::{Body, Failure, full, scim_error};
use crate::metrics::Route;
use crate::proxy::{self, Access, AppProxy};
use crate::scim;
use crate::state::AppState;

mod request_id;

pub(crate) use request_id::X_REQUEST_ID;

/// The peer of the connection a request came on, given to the router by
/// the listener (for `X-Forwarded-For`). Made once per connection, so the
/// address is rendered once, not per request.
#[derive(Debug, Clone)]
pub(crate) struct ClientAddr {
    /// The peer's IP address as a header value (an IPv4-mapped IPv6
    /// address as IPv4).
    pub(crate) ip_header: Option<HeaderValue>,
}

impl ClientAddr {
    /// The peer `addr` of a new connection.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let ip = addr.ip().to_canonical().to_string();
        Self {
            ip_header: HeaderValue::from_str(&ip).ok(),
        }
    }
}

/// Answers one request.
pub(crate) async fn route(
    state: Arc<AppState>,
    mut req: Request<Incoming>,
    client: &ClientAddr,
) -> Result<Response<Body>, Infallible> {
    let request_id = request_id::of(req.headers());
    // A clone of the URI shares its bytes: the path is not copied.
    let uri = req.uri().clone();
    let destination = destination(&state, uri.path());
    let span = request_span(&destination, &request_id, req.method());
    let is_head = req.method() == Method::HEAD;
    // Not `move`: `destination` borrows `uri` and `state` of this frame.
    async {
        let started = Instant::now();
        // The app sees the same request id as the client and the logs.
        req.headers_mut()
            .insert(request_id::X_REQUEST_ID, request_id.clone());
        let path = uri.path();
        let metric_route = destination.metric_route();
        let mut response = match destination {
            Destination::Scim(rest) => scim::handle(state.clone(), req, rest).await,
            Destination::App(app, Access::Public) => app.forward(req, client, None).await,
            Destination::App(app, Access::Protected) => {
                match proxy::authenticate(&state, req.headers()).await {
                    Ok(who) => app.forward(req, client, Some(&who)).await,
                    Err(failure) => failure.into_response(),
                }
            }
            Destination::Refused(failure) => failure.into_response(),
            Destination::Nowhere => not_found(path, &state.scim_base_path),
        };
        if is_head && !response.body().is_end_stream() {
            // An answer the sidecar made itself (an error, a SCIM document)
            // has a body; a HEAD response must not. HTTP/1.1 drops it on the
            // wire, but over h2 its DATA frames broke the stream with a
            // PROTOCOL_ERROR. The headers stay as a GET would have them. The
            // app's answers to HEAD arrive without a body already.
            *response.body_mut() = full(Bytes::new());
        }
        response
            .headers_mut()
            .insert(request_id::X_REQUEST_ID, request_id);
        let (status, elapsed) = (response.status().as_u16(), started.elapsed());
        state.metrics.request(metric_route, status, elapsed);
        tracing::debug!(
            status,
            elapsed_us = elapsed.as_micros() as u64,
            "request done"
        );
        Ok(response)
    }
    .instrument(span)
    .await
}

/// The span every line a request logs is in, with its id.
///
/// Info level, so the request id is on every line a request logs at info
/// (JSON logs carry the current span's fields on each line). The fmt layer
/// writes a span's fields out when the span is created, logged or not, which
/// was about a tenth of the user-space cost of a forwarded request: public
/// paths, which log nothing at info but a failed forward (that line names
/// the request id itself), get the span at debug level only. The fields are
/// recorded with `%` so plain lines keep reading `id=… method=GET`.
fn request_span(destination: &Destination<'_>, id: &HeaderValue, method: &Method) -> Span {
    let id = id.to_str().unwrap_or("-");
    let method = method.as_str();
    match destination {
        Destination::App(_, Access::Public) => tracing::debug_span!(
            "request",
            id = %id,
            method = %method,
            token = tracing::field::Empty,
        ),
        _ => tracing::info_span!(
            "request",
            id = %id,
            method = %method,
            token = tracing::field::Empty,
        ),
    }
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

    #[test]
    fn client_addresses_are_rendered_once_and_mapped_ipv4_as_ipv4() {
        let mapped = ClientAddr::new("[::ffff:10.0.0.7]:443".parse().unwrap());
        assert_eq!(mapped.ip_header.unwrap(), "10.0.0.7");
        let v6 = ClientAddr::new("[2001:db8::1]:443".parse().unwrap());
        assert_eq!(v6.ip_header.unwrap(), "2001:db8::1");
    }
}
