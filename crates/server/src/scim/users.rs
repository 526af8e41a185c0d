//! `/Users`: list, search, create, read, replace, patch, delete.
//!
//! The sidecar keeps the full SCIM representation in the core user's
//! opaque `profile`, and the fields Ignite acts on (userName, externalId,
//! active, e-mails, roles) in the core's own columns. Writes are guarded by
//! the version read: on a conflict the handler re-reads and re-applies, so
//! concurrent PATCHes never lose each other's changes.
//!
//! Every write tells the core the request id, the SCIM operation and the
//! `audit.redact` list ([`WriteContext`]), so the core's audit event names
//! what the client asked for; the core refuses a write it cannot record.

use authsidecar_core_api::{AuditOperation, ErrorCode, User, UserQuery, UserWrite};
use authsidecar_core_client::{CoreCallError, WriteContext};
use authsidecar_scim::ScimError;
use authsidecar_scim::filter::Filter;
use authsidecar_scim::list::{ListQuery, list_response, parse_projection};
use authsidecar_scim::patch::{self, PatchRequest};
use authsidecar_scim::path::AttrPath;
use authsidecar_scim::project::project;
use authsidecar_scim::resource::{self, Meta, Resource};
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::failure::{Body, Failure, empty, scim_json};
use crate::scim::roles;
use crate::state::{AppState, Caller};

/// Page size used when the sidecar reads all users to evaluate a filter.
const SCAN_PAGE: u32 = 1000;

/// Everything a handler needs about the request it serves.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) caller: &'a Caller,
    /// SCIM base URL as the client sees it.
    pub(crate) base: &'a str,
    /// The raw query string.
    pub(crate) query: Option<&'a str>,
    /// The request id the router settled on (`X-Request-Id`).
    pub(crate) request_id: &'a str,
    /// `If-Match` / `If-None-Match` (RFC 7644 §3.14).
    pub(crate) preconditions: Preconditions,
}

/// The conditional-request headers of a request, as versions.
#[derive(Debug, Default)]
pub(crate) struct Preconditions {
    /// `If-Match`: `None` absent, `Some(None)` for `*`, else the versions listed.
    if_match: Option<Option<Vec<u64>>>,
    /// `If-None-Match`, likewise.
    if_none_match: Option<Option<Vec<u64>>>,
}

impl Ctx<'_> {
    /// What a write of `operation` tells the core for its audit event.
    fn write_context(&self, operation: AuditOperation) -> WriteContext {
        WriteContext::new(self.request_id, operation).with_redact(&self.state.audit_redact)
    }
}

impl Preconditions {
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Self {
        let parse = |name: header::HeaderName| {
            headers
                .get(name)
                .map(|v| parse_etags(v.to_str().unwrap_or("")))
        };
        Self {
            if_match: parse(header::IF_MATCH),
            if_none_match: parse(header::IF_NONE_MATCH),
        }
    }

    /// 412 unless `If-Match` is absent, `*`, or lists `version`.
    fn check_if_match(&self, version: u64, id: &str) -> Result<(), Failure> {
        match &self.if_match {
            Some(Some(listed)) if !listed.contains(&version) => Err(ScimError::status(
                412,
                format!(
                    "user {id} has changed (its ETag is now W/\"{version}\"); read it again \
                     and retry with the new ETag"
                ),
            )
            .into()),
            _ => Ok(()),
        }
    }

    /// Whether `If-None-Match` matches `version` (a GET then answers 304).
    fn none_match_hits(&self, version: u64) -> bool {
        match &self.if_none_match {
            Some(None) => true,
            Some(Some(listed)) => listed.contains(&version),
            None => false,
        }
    }
}

/// Parses an entity-tag list. Weak comparison (RFC 9110 §8.8.3.2): `W/"3"`
/// and `"3"` both mean version 3. `*` is `None`. Tags that are not one of
/// our versions are dropped, so they can never match.
fn parse_etags(value: &str) -> Option<Vec<u64>> {
    if value.trim() == "*" {
        return None;
    }
    Some(
        value
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
            })
            .collect(),
    )
}

/// `GET /Users`.
pub(super) async fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, Failure> {
    let query = ListQuery::parse(ctx.query)?;
    run_query(ctx, &query).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub(super) async fn search(ctx: &Ctx<'_>, body: &Value) -> Result<Response<Body>, Failure> {
    let query = ListQuery::from_search_body(body)?;
    run_query(ctx, &query).await
}

async fn run_query(ctx: &Ctx<'_>, q: &ListQuery) -> Result<Response<Body>, Failure> {
    let offset = q.start_index.saturating_sub(1);
    let (total, users) = match &q.filter {
        None => core_page(ctx, UserQuery::default(), offset, q.count).await?,
        Some(filter) => match filter.index_lookup() {
            Some(lookup) if lookup.id.is_some() => by_id_lookup(ctx, filter, lookup.id).await?,
            Some(lookup) => {
                let query = UserQuery {
                    user_name: lookup.user_name,
                    external_id: lookup.external_id,
                    email: lookup.email,
                    ..UserQuery::default()
                };
                core_page(ctx, query, offset, q.count).await?
            }
            None => scan(ctx, filter, offset, q.count).await?,
        },
    };
    let resources = users
        .iter()
        .map(|u| project(&render(u, ctx.base), &q.attributes, &q.excluded_attributes))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &list_response(resources, total, q.start_index),
    ))
}

/// One page straight from the core's indexes.
async fn core_page(
    ctx: &Ctx<'_>,
    mut query: UserQuery,
    offset: u64,
    count: u64,
) -> Result<(u64, Vec<User>), Failure> {
    query.offset = offset;
    query.limit = u32::try_from(count).unwrap_or(u32::MAX);
    let page = ctx
        .state
        .core
        .list_users(&ctx.caller.token, &query)
        .await
        .map_err(|e| Failure::from_core(e, "the user list"))?;
    Ok((page.total, page.users))
}

/// `id eq "…"` (possibly `and`-ed with other indexed terms): one read.
async fn by_id_lookup(
    ctx: &Ctx<'_>,
    filter: &Filter,
    id: Option<String>,
) -> Result<(u64, Vec<User>), Failure> {
    let id = id.unwrap_or_default();
    match ctx.state.core.get_user(&ctx.caller.token, &id).await {
        Ok(u) if filter.matches(&render(&u, ctx.base)) => Ok((1, vec![u])),
        Ok(_) => Ok((0, vec![])),
        Err(e) if e.code() == Some(ErrorCode::UserNotFound) => Ok((0, vec![])),
        Err(e) => Err(Failure::from_core(e, "the user")),
    }
}

/// A filter the core cannot answer: read the workspace's users (at most
/// `filter_scan_cap`) and evaluate it here. Past the cap the answer is
/// 400 `tooMany`, never a truncated list.
async fn scan(
    ctx: &Ctx<'_>,
    filter: &Filter,
    offset: u64,
    count: u64,
) -> Result<(u64, Vec<User>), Failure> {
    let cap = ctx.state.filter_scan_cap as u64;
    let mut matched = Vec::new();
    let mut read = 0u64;
    loop {
        let (total, users) =
            core_page(ctx, UserQuery::default(), read, u64::from(SCAN_PAGE)).await?;
        if total > cap {
            return Err(ScimError::too_many(format!(
                "this filter cannot use an index and the workspace has more than {cap} users; \
                 filter on userName, externalId, emails.value or id"
            ))
            .into());
        }
        let n = users.len() as u64;
        read += n;
        matched.extend(
            users
                .into_iter()
                .filter(|u| filter.matches(&render(u, ctx.base))),
        );
        if n == 0 || read >= total {
            break;
        }
    }
    let total = matched.len() as u64;
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(count).unwrap_or(usize::MAX);
    Ok((total, matched.into_iter().skip(start).take(take).collect()))
}

/// One user of the caller's workspace; an unknown id is the SCIM 404.
async fn read_user(ctx: &Ctx<'_>, id: &str) -> Result<User, Failure> {
    ctx.state
        .core
        .get_user(&ctx.caller.token, id)
        .await
        .map_err(|e| Failure::from_core(e, &format!("user {id}")))
}

/// `GET /Users/{id}`.
pub(super) async fn get(ctx: &Ctx<'_>, id: &str) -> Result<Response<Body>, Failure> {
    let user = read_user(ctx, id).await?;
    if ctx.preconditions.none_match_hits(user.version) {
        let mut response = empty(StatusCode::NOT_MODIFIED);
        if let Ok(v) = HeaderValue::from_str(&etag(user.version)) {
            response.headers_mut().insert(header::ETAG, v);
        }
        return Ok(response);
    }
    respond_user(ctx, StatusCode::OK, &user)
}

/// `POST /Users` (RFC 7644 §3.3).
pub(super) async fn create(ctx: &Ctx<'_>, body: &Value) -> Result<Response<Body>, Failure> {
    let resource = resource::normalize_user(body)?;
    let write = to_write(ctx, &resource, None).await?;
    let user = ctx
        .state
        .core
        .create_user(
            &ctx.caller.token,
            &ctx.write_context(AuditOperation::Create),
            &write,
        )
        .await
        .map_err(|e| Failure::from_core(e, "the new user"))?;
    tracing::info!(user = %user.id, workspace = %ctx.caller.workspace(), "user created");
    let mut response = respond_user(ctx, StatusCode::CREATED, &user)?;
    if let Ok(v) = HeaderValue::from_str(&location(ctx.base, &user.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PUT /Users/{id}` (RFC 7644 §3.5.1): replaces the resource.
pub(super) async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
) -> Result<Response<Body>, Failure> {
    let resource = resource::normalize_user(body)?;
    write_with_retries(ctx, id, AuditOperation::Replace, |_| Ok(resource.clone())).await
}

/// `PATCH /Users/{id}` (RFC 7644 §3.5.2): all operations or none.
pub(super) async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    body: &Value,
) -> Result<Response<Body>, Failure> {
    let request = PatchRequest::parse(body)?;
    write_with_retries(ctx, id, AuditOperation::Patch, |current| {
        patch::apply(current, &request)
    })
    .await
}

/// `DELETE /Users/{id}` (RFC 7644 §3.6).
pub(super) async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<Response<Body>, Failure> {
    if ctx.preconditions.if_match.is_some() {
        // The core's delete is not version-guarded, so a change landing
        // between this read and the delete is not detected; the window is
        // one loopback round trip.
        let current = read_user(ctx, id).await?;
        ctx.preconditions.check_if_match(current.version, id)?;
    }
    ctx.state
        .core
        .delete_user(
            &ctx.caller.token,
            &ctx.write_context(AuditOperation::Delete),
            id,
        )
        .await
        .map_err(|e| Failure::from_core(e, &format!("user {id}")))?;
    tracing::info!(user = %id, workspace = %ctx.caller.workspace(), "user deleted");
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Reads the user, computes the new resource from it, and writes it with
/// the version read. A version conflict means someone else wrote in
/// between: read again and recompute, a bounded number of times.
async fn write_with_retries(
    ctx: &Ctx<'_>,
    id: &str,
    operation: AuditOperation,
    compute: impl Fn(&Resource) -> Result<Resource, ScimError>,
) -> Result<Response<Body>, Failure> {
    let what = format!("user {id}");
    let audit = ctx.write_context(operation);
    let action = operation.as_str();
    let mut attempt = 0;
    loop {
        let current = read_user(ctx, id).await?;
        ctx.preconditions.check_if_match(current.version, id)?;
        let next = compute(&resource_of(&current))?;
        let write = to_write(ctx, &next, Some(current.version)).await?;
        match ctx
            .state
            .core
            .update_user(&ctx.caller.token, &audit, id, &write)
            .await
        {
            Ok(user) => {
                let workspace = ctx.caller.workspace();
                tracing::info!(user = %id, workspace, action, "user updated");
                return respond_user(ctx, StatusCode::OK, &user);
            }
            // With If-Match the client pinned the version: a conflict is its 412.
            Err(e) if is_conflict(&e) && ctx.preconditions.if_match.is_some() => {
                return Err(ScimError::status(
                    412,
                    format!("user {id} changed while this request was applied; read it again"),
                )
                .into());
            }
            Err(e) if is_conflict(&e) && attempt < ctx.state.max_write_retries => {
                attempt += 1;
                tracing::debug!(user = %id, attempt, "version conflict, re-reading");
            }
            Err(e) => return Err(Failure::from_core(e, &what)),
        }
    }
}

fn is_conflict(e: &CoreCallError) -> bool {
    e.code() == Some(ErrorCode::VersionConflict)
}

/// The core write for a canonical resource, with roles mapped to Ignite's.
async fn to_write(
    ctx: &Ctx<'_>,
    resource: &Resource,
    version: Option<u64>,
) -> Result<UserWrite, Failure> {
    let fields = resource::core_fields(resource);
    let roles = if fields.role_values.is_empty() {
        Vec::new()
    } else {
        let catalogue = roles::catalogue(ctx).await?;
        roles::map_roles(&fields.role_values, &catalogue, &ctx.state.role_mapping)?
    };
    Ok(UserWrite {
        user_name: fields.user_name,
        external_id: fields.external_id,
        active: fields.active,
        emails: fields.emails,
        roles,
        profile: resource.clone(),
        version,
    })
}

/// The canonical resource of a core user. The core's own columns win over
/// the stored profile for the fields Ignite itself may change.
fn resource_of(user: &User) -> Resource {
    let mut r = user.profile.clone();
    r.insert("userName".into(), Value::String(user.user_name.clone()));
    match &user.external_id {
        Some(e) => r.insert("externalId".into(), Value::String(e.clone())),
        None => r.remove("externalId"),
    };
    // `active` may be absent (never sent, or removed by a PATCH); the core
    // then holds true. A user the core holds inactive is always shown so.
    if r.contains_key("active") || !user.active || user.profile.is_empty() {
        r.insert("active".into(), Value::Bool(user.active));
    }
    if user.profile.is_empty() && !user.emails.is_empty() {
        let emails = user.emails.iter().map(|e| json!({ "value": e })).collect();
        r.insert("emails".into(), Value::Array(emails));
    }
    if user.profile.is_empty() && !user.roles.is_empty() {
        let roles = user.roles.iter().map(|v| json!({ "value": v })).collect();
        r.insert("roles".into(), Value::Array(roles));
    }
    r
}

fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

fn location(base: &str, id: &str) -> String {
    format!("{base}/Users/{id}")
}

fn render(user: &User, base: &str) -> Value {
    let meta = Meta {
        created: user.created.clone(),
        last_modified: user.last_modified.clone(),
        location: location(base, &user.id),
        version: user.version,
    };
    resource::render_user(&resource_of(user), &user.id, &meta)
}

/// A single-resource answer with `ETag` and the query's projection.
fn respond_user(ctx: &Ctx<'_>, status: StatusCode, user: &User) -> Result<Response<Body>, Failure> {
    let (attributes, excluded): (Vec<AttrPath>, Vec<AttrPath>) = parse_projection(ctx.query)?;
    let body = project(&render(user, ctx.base), &attributes, &excluded);
    let mut response = scim_json(status, &body);
    if let Ok(v) = HeaderValue::from_str(&etag(user.version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists_parse_weakly() {
        assert_eq!(parse_etags("W/\"3\""), Some(vec![3]));
        assert_eq!(parse_etags("\"3\", W/\"7\""), Some(vec![3, 7]));
        assert_eq!(parse_etags("*"), None);
        assert_eq!(parse_etags("\"abc\""), Some(vec![]));
        assert_eq!(parse_etags("3"), Some(vec![]));
    }

    #[test]
    fn if_match_mismatch_is_412() {
        let p = Preconditions {
            if_match: Some(Some(vec![2])),
            if_none_match: None,
        };
        assert!(p.check_if_match(2, "u").is_ok());
        match p.check_if_match(3, "u") {
            Err(Failure::Client(e)) => assert_eq!(e.status, 412),
            other => panic!("{other:?}"),
        }
        let star = Preconditions {
            if_match: Some(None),
            if_none_match: Some(None),
        };
        assert!(star.check_if_match(9, "u").is_ok());
        assert!(star.none_match_hits(9));
    }
}
