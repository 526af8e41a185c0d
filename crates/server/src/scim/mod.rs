//! The SCIM 2.0 endpoint (RFC 7644) under the configured base path.
//!
//! Every request goes through the same phases: authenticate (a token the
//! core knows, with the Admin role), route, decode the body (media type,
//! size cap, JSON), run the handler (which talks to the core), and shape
//! the answer as `application/scim+json`.

mod audit;
mod roles;
mod users;

use std::sync::Arc;

use authsidecar_scim::list::list_response;
use authsidecar_scim::{ScimError, ScimType, schema};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use crate::failure::{Body, Failure, scim_json};
use crate::state::{AppState, authenticate, require_admin};

/// Answers one SCIM request; `rest` is the path below the base path.
pub(crate) async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    rest: &str,
) -> Response<Body> {
    // One permit of `limits.core_max_concurrency` for the whole request:
    // authentication and the handler both call the core (see core_gate.rs).
    let _core_permit = match state.core_gate.try_enter() {
        Ok(permit) => permit,
        Err(busy) => return Failure::from(busy).into_response(),
    };
    match dispatch(&state, req, rest).await {
        Ok(r) => r,
        Err(f) => f.into_response(),
    }
}

async fn dispatch(
    state: &AppState,
    req: Request<Incoming>,
    rest: &str,
) -> Result<Response<Body>, Failure> {
    let caller = authenticate(state, req.headers()).await?;
    require_admin(&caller)?;
    let base = base_url(&req, &state.scim_base_path);
    let query = req.uri().query().map(str::to_owned);
    let method = req.method().clone();
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let preconditions = users::Preconditions::from_headers(req.headers());
    // The router has replaced a missing or unusable X-Request-Id with its own.
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let ctx = users::Ctx {
        state,
        caller: &caller,
        base: &base,
        query: query.as_deref(),
        request_id: &request_id,
        preconditions,
    };
    match (&method, segments.as_slice()) {
        (&Method::GET, ["Users"]) => users::list(&ctx).await,
        // Only Users exist, so a root-level search (RFC 7644 §3.4.3) is a Users search.
        (&Method::POST, ["Users", ".search"] | [".search"]) => {
            let body = read_json(state, req).await?;
            users::search(&ctx, &body).await
        }
        (&Method::POST, ["Users"]) => {
            let body = read_json(state, req).await?;
            users::create(&ctx, &body).await
        }
        (&Method::GET, ["Users", id]) => users::get(&ctx, id).await,
        (&Method::PUT, ["Users", id]) => {
            let body = read_json(state, req).await?;
            users::replace(&ctx, id, &body).await
        }
        (&Method::PATCH, ["Users", id]) => {
            let body = read_json(state, req).await?;
            users::patch(&ctx, id, &body).await
        }
        (&Method::DELETE, ["Users", id]) => users::delete(&ctx, id).await,
        // Not a SCIM resource type: the audit trail, for admins (see audit.rs).
        (&Method::GET, ["AuditEvents"]) => audit::list(&ctx).await,
        (&Method::GET, ["ServiceProviderConfig"]) => Ok(scim_json(
            StatusCode::OK,
            &schema::service_provider_config(&base),
        )),
        (&Method::GET, ["ResourceTypes"]) => {
            Ok(scim_json(StatusCode::OK, &schema::resource_types(&base)))
        }
        (&Method::GET, ["ResourceTypes", "User"]) => Ok(scim_json(
            StatusCode::OK,
            &schema::user_resource_type(&base),
        )),
        (&Method::GET, ["ResourceTypes", other]) => Err(ScimError::not_found(format!(
            "no resource type {other}; this server provisions only User"
        ))
        .into()),
        (&Method::GET, ["Schemas"]) => schemas(&ctx, schema::schemas(&base)).await,
        (&Method::GET, ["Schemas", urn]) => match schema::schema_by_id(&base, urn) {
            Some(s) => schemas(&ctx, s).await,
            None => Err(ScimError::not_found(format!("no schema with id {urn}")).into()),
        },
        // Group provisioning is off for Ignite. Entra's Test Connection may
        // still probe /Groups; an empty list keeps it green.
        (&Method::GET, ["Groups"]) => Ok(scim_json(StatusCode::OK, &list_response(vec![], 0, 1))),
        (_, ["Groups", ..]) => Err(ScimError::status(
            501,
            "group provisioning is not supported by Ignite; turn off 'Provision Microsoft \
             Entra ID Groups' in the enterprise app's mappings",
        )
        .into()),
        (
            _,
            ["Users"]
            | ["Users", _]
            | ["ServiceProviderConfig"]
            | ["ResourceTypes"]
            | ["ResourceTypes", _]
            | ["Schemas"]
            | ["Schemas", _]
            | ["AuditEvents"],
        ) => Err(ScimError::status(
            405,
            format!("{method} is not supported on {}", req_path(rest)),
        )
        .into()),
        _ => Err(ScimError::not_found(format!(
            "no SCIM endpoint at {}; the endpoints are /Users, /ServiceProviderConfig, \
             /ResourceTypes and /Schemas",
            req_path(rest)
        ))
        .into()),
    }
}

/// A `/Schemas` answer with the caller's workspace roles advertised as the
/// values `roles.value` accepts.
async fn schemas(ctx: &users::Ctx<'_>, mut doc: Value) -> Result<Response<Body>, Failure> {
    let catalogue = roles::catalogue(ctx).await?;
    schema::advertise_role_values(&mut doc, &catalogue);
    Ok(scim_json(StatusCode::OK, &doc))
}

fn req_path(rest: &str) -> String {
    if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    }
}

/// The SCIM base URL as the client sees it, for `Location` and `meta.location`.
fn base_url(req: &Request<Incoming>, base_path: &str) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .filter(|h| {
            // Only a plain host[:port] is echoed into resource URLs.
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("https://{host}{base_path}")
}

/// Reads a JSON request body: the media type must be JSON, the size is
/// capped, and the JSON must be an object.
async fn read_json(state: &AppState, req: Request<Incoming>) -> Result<Value, Failure> {
    check_media_type(req.headers().get(header::CONTENT_TYPE))?;
    let too_large = || {
        ScimError::status(
            413,
            format!(
                "the request body is larger than {} bytes; send smaller requests",
                state.max_body_bytes
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refuse a body declared too large before reading any of it.
    if declared.is_some_and(|len| len > state.max_body_bytes as u64) {
        return Err(too_large().into());
    }
    let body = Limited::new(req.into_body(), state.max_body_bytes);
    let bytes: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large().into()),
        Err(e) => {
            return Err(
                ScimError::invalid_syntax(format!("cannot read the request body: {e}")).into(),
            );
        }
    };
    Ok(authsidecar_scim::resource::parse_json_body(&bytes)?)
}

/// Accepts `application/scim+json` and `application/json` (with any
/// parameters, such as Entra's `charset=utf-8`) and a missing header.
fn check_media_type(value: Option<&http::HeaderValue>) -> Result<(), ScimError> {
    let Some(value) = value else { return Ok(()) };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/scim+json" || essence == "application/json" {
        return Ok(());
    }
    Err(ScimError {
        status: 415,
        scim_type: Some(ScimType::InvalidSyntax),
        detail: format!(
            "Content-Type '{essence}' is not supported; send application/scim+json or \
             application/json"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let ok = |s: &'static str| check_media_type(Some(&http::HeaderValue::from_static(s)));
        assert!(ok("application/scim+json; charset=utf-8").is_ok());
        assert!(ok("Application/JSON").is_ok());
        assert!(check_media_type(None).is_ok());
        assert_eq!(ok("text/plain").unwrap_err().status, 415);
    }
}
