//! One request, in phases: authenticate, route, authorise, parse, hand the
//! call to the store's writer or reader thread and await it, shape the JSON
//! answer, log one line.

use std::sync::Arc;
use std::time::Instant;

use authsidecar_core_api::{
    CoreError, ErrorCode, HEADER_ROLE, HEADER_TOKEN_ID, HEADER_WORKSPACE, Introspection,
    RolesWrite, UserWrite, user_path,
};
use bytes::Bytes;
use http::header::{
    ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::MAX_BODY_BYTES;
use super::audit::audit_context;
use super::query::{parse_audit_query, parse_user_query};
use crate::{Store, StoreError};

/// The response type of every route.
pub(super) type Reply = Response<Full<Bytes>>;

/// The endpoints of the contract, with the user id already percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Introspect,
    Roles,
    Users,
    User(String),
    UserRoles(String),
    Audit,
}

impl Route {
    /// Parses a path; `None` is a 404 `not_found`.
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/internal/v1/")?;
        let mut segments = rest.split('/');
        let id = |raw: &str| {
            let id = percent_decode_str(raw).decode_utf8().ok()?.into_owned();
            (!id.is_empty()).then_some(id)
        };
        // Three segments at most are meaningful; a fourth makes any path unknown.
        let parts = [segments.next(), segments.next(), segments.next()];
        if segments.next().is_some() {
            return None;
        }
        match parts {
            [Some("introspect"), None, None] => Some(Route::Introspect),
            [Some("roles"), None, None] => Some(Route::Roles),
            [Some("users"), None, None] => Some(Route::Users),
            [Some("users"), Some(raw), None] => id(raw).map(Route::User),
            [Some("users"), Some(raw), Some("roles")] => id(raw).map(Route::UserRoles),
            [Some("audit"), None, None] => Some(Route::Audit),
            _ => None,
        }
    }

    /// The path template, for logs: ids never appear in them.
    fn template(&self) -> &'static str {
        match self {
            Route::Introspect => "/internal/v1/introspect",
            Route::Roles => "/internal/v1/roles",
            Route::Users => "/internal/v1/users",
            Route::User(_) => "/internal/v1/users/{id}",
            Route::UserRoles(_) => "/internal/v1/users/{id}/roles",
            Route::Audit => "/internal/v1/audit",
        }
    }

    /// The methods the route answers, as an `Allow` header value.
    fn allow(&self) -> &'static str {
        match self {
            Route::Introspect | Route::Roles | Route::Audit => "GET",
            Route::Users => "GET, POST",
            Route::User(_) => "GET, PUT, DELETE",
            Route::UserRoles(_) => "PUT",
        }
    }
}

/// What the request log line needs besides method and status.
struct Seen {
    route: &'static str,
    who: Option<Arc<Introspection>>,
    allow: Option<&'static str>,
}

/// Answers one request. Never fails: every error becomes a JSON `CoreError`.
pub(super) async fn handle(store: Store, req: Request<Incoming>) -> Reply {
    let started = Instant::now();
    let method = req.method().clone();
    let mut seen = Seen {
        route: "unmatched",
        who: None,
        allow: None,
    };
    let reply = match respond(&store, req, &mut seen).await {
        Ok(reply) => reply,
        Err(error) => error_reply(&error, seen.allow),
    };
    tracing::debug!(
        %method,
        route = seen.route,
        status = reply.status().as_u16(),
        token_id = seen.who.as_ref().map_or("-", |who| who.token_id.as_str()),
        elapsed_us = started.elapsed().as_micros() as u64,
        "core request"
    );
    reply
}

async fn respond(
    store: &Store,
    req: Request<Incoming>,
    seen: &mut Seen,
) -> Result<Reply, CoreError> {
    let who = authenticate(store, req.headers())?;
    seen.who = Some(Arc::clone(&who));

    let route = Route::parse(req.uri().path())
        .ok_or_else(|| fail(ErrorCode::NotFound, "no such endpoint"))?;
    seen.route = route.template();
    seen.allow = Some(route.allow());

    if route != Route::Introspect && !who.is_admin() {
        return Err(fail(
            ErrorCode::Forbidden,
            "this endpoint needs a token with role Admin",
        ));
    }

    let workspace = || who.workspace.clone();
    let method = req.method().clone();
    match (method, route) {
        (Method::GET, Route::Introspect) => introspection(&who),
        (Method::GET, Route::Roles) => {
            let roles = store.roles_async(workspace()).await.map_err(core)?;
            Ok(json(StatusCode::OK, &roles))
        }
        (Method::GET, Route::Users) => {
            let query = parse_user_query(req.uri().query())
                .map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            let page = store
                .list_users_async(workspace(), query)
                .await
                .map_err(core)?;
            Ok(json(StatusCode::OK, &page))
        }
        (Method::POST, Route::Users) => {
            let ctx = audit_context(&who, req.headers());
            let write: UserWrite = read_json(req).await?;
            let ctx = ctx.map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            let user = store.create_user_async(ctx, write).await.map_err(core)?;
            let mut reply = json(StatusCode::CREATED, &user);
            if let Ok(location) = HeaderValue::from_str(&user_path(&user.id)) {
                reply.headers_mut().insert(LOCATION, location);
            }
            Ok(reply)
        }
        (Method::GET, Route::User(id)) => {
            let user = store.get_user_async(workspace(), id).await.map_err(core)?;
            Ok(json(StatusCode::OK, &user))
        }
        (Method::PUT, Route::User(id)) => {
            let ctx = audit_context(&who, req.headers());
            let write: UserWrite = read_json(req).await?;
            let ctx = ctx.map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            let user = store
                .replace_user_async(ctx, id, write)
                .await
                .map_err(core)?;
            Ok(json(StatusCode::OK, &user))
        }
        (Method::DELETE, Route::User(id)) => {
            let ctx = audit_context(&who, req.headers())
                .map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            store.delete_user_async(ctx, id).await.map_err(core)?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (Method::PUT, Route::UserRoles(id)) => {
            let ctx = audit_context(&who, req.headers());
            let write: RolesWrite = read_json(req).await?;
            let ctx = ctx.map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            let user = store.set_roles_async(ctx, id, write).await.map_err(core)?;
            Ok(json(StatusCode::OK, &user))
        }
        (Method::GET, Route::Audit) => {
            let query = parse_audit_query(req.uri().query())
                .map_err(|m| fail(ErrorCode::InvalidRequest, &m))?;
            let page = store.audit_events_async(&who.workspace, &query).await;
            Ok(json(StatusCode::OK, &page.map_err(core)?))
        }
        (method, _) => Err(fail(
            ErrorCode::MethodNotAllowed,
            &format!("method {method} is not allowed here"),
        )),
    }
}

/// Resolves `Authorization: Bearer <secret>` from memory; anything else is 401.
fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Arc<Introspection>, CoreError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(fail(
            ErrorCode::Unauthenticated,
            "send one Authorization: Bearer header",
        ));
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .filter(|secret| !secret.is_empty());
    secret
        .and_then(|s| store.authenticate_shared(s))
        .ok_or_else(|| fail(ErrorCode::Unauthenticated, "the bearer token is not valid"))
}

/// 200 with the identity as body and as headers, for nginx `auth_request`.
fn introspection(who: &Introspection) -> Result<Reply, CoreError> {
    let mut reply = json(StatusCode::OK, who);
    for (name, value) in [
        (HEADER_WORKSPACE, &who.workspace),
        (HEADER_TOKEN_ID, &who.token_id),
        (HEADER_ROLE, &who.role),
    ] {
        let value = HeaderValue::from_str(value).map_err(|_| {
            StoreError::Corrupt(format!("{name} value is not a valid header")).to_core_error()
        })?;
        reply.headers_mut().insert(name, value);
    }
    Ok(reply)
}

/// The contract body of a store failure.
fn core(error: StoreError) -> CoreError {
    error.to_core_error()
}

/// Reads at most [`MAX_BODY_BYTES`] and parses it as JSON.
async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, CoreError> {
    let too_large = || {
        let message = format!("the body is larger than {MAX_BODY_BYTES} bytes");
        fail(ErrorCode::PayloadTooLarge, &message)
    };
    // A declared length over the limit is refused before reading a byte.
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok());
    if declared
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                too_large()
            } else {
                fail(
                    ErrorCode::InvalidRequest,
                    "the request body could not be read",
                )
            }
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| {
        fail(
            ErrorCode::InvalidRequest,
            &format!("invalid JSON body: {e}"),
        )
    })
}

fn fail(code: ErrorCode, message: &str) -> CoreError {
    CoreError {
        code,
        message: message.to_owned(),
        known_roles: None,
    }
}

fn error_reply(error: &CoreError, allow: Option<&'static str>) -> Reply {
    let status =
        StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = json(status, error);
    let headers = reply.headers_mut();
    match (error.code, allow) {
        (ErrorCode::Unauthenticated, _) => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        (ErrorCode::MethodNotAllowed, Some(allow)) => {
            headers.insert(ALLOW, HeaderValue::from_static(allow));
        }
        _ => {}
    }
    reply
}

fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Reply {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut reply = Response::new(Full::new(Bytes::from(bytes)));
            *reply.status_mut() = status;
            reply
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            reply
        }
        Err(e) => {
            // Unreachable for the contract's types (string keys only), but a
            // bug here must still answer in the contract's shape.
            tracing::error!(error = %e, "cannot serialise a response body");
            let body = r#"{"code":"internal","message":"internal error in the core; see its log"}"#;
            let mut reply = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
            *reply.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            reply
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            reply
        }
    }
}

fn empty(status: StatusCode) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = status;
    reply
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        let user = |id: &str| Some(Route::User(id.to_owned()));
        assert_eq!(
            Route::parse("/internal/v1/introspect"),
            Some(Route::Introspect)
        );
        assert_eq!(Route::parse("/internal/v1/roles"), Some(Route::Roles));
        assert_eq!(Route::parse("/internal/v1/users"), Some(Route::Users));
        assert_eq!(Route::parse("/internal/v1/users/abc"), user("abc"));
        assert_eq!(Route::parse("/internal/v1/users/a%20b"), user("a b"));
        assert_eq!(
            Route::parse("/internal/v1/users/abc/roles"),
            Some(Route::UserRoles("abc".into()))
        );
        assert_eq!(Route::parse("/internal/v1/audit"), Some(Route::Audit));
        for missing in [
            "/",
            "/internal/v1",
            "/internal/v1/",
            "/internal/v1/users/",
            "/internal/v1/users//roles",
            "/internal/v1/users/a/b",
            "/internal/v1/users/a/roles/b",
            "/internal/v2/roles",
            "/internal/v1/users/%FF",
        ] {
            assert_eq!(Route::parse(missing), None, "{missing}");
        }
    }

    #[test]
    fn templates_hide_ids() {
        assert_eq!(
            Route::User("u-1".into()).template(),
            "/internal/v1/users/{id}"
        );
        assert_eq!(Route::UserRoles("u-1".into()).allow(), "PUT");
        assert_eq!(Route::Audit.allow(), "GET");
    }

    #[test]
    fn error_replies_carry_status_type_and_hints() {
        let reply = error_reply(&fail(ErrorCode::MethodNotAllowed, "no"), Some("GET, POST"));
        assert_eq!(reply.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(reply.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(reply.headers()[ALLOW], "GET, POST");
        let reply = error_reply(&fail(ErrorCode::Unauthenticated, "no"), None);
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers()[WWW_AUTHENTICATE], "Bearer");
    }
}
