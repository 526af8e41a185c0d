//! `GET {scim_base}/AuditEvents`: the caller's workspace's provisioning
//! audit trail, read from the core. Not a SCIM resource type (it is not in
//! `/ResourceTypes`); it answers plain `application/json`.
//!
//! Phases: the caller is already authenticated as Admin (every SCIM path
//! needs that), parse the query (`user`, `since`, `op`, `startIndex`,
//! `count`), ask the core for one page, answer
//! `{"total", "start_index", "events"}` with the core's events unchanged.

use authsidecar_core_api::AuditQuery;
use authsidecar_scim::ScimError;
use authsidecar_scim::list::{DEFAULT_COUNT, MAX_COUNT};
use http::{HeaderValue, Response, StatusCode, header};
use percent_encoding::percent_decode_str;
use serde_json::json;

use crate::failure::{Body, Failure, full};
use crate::scim::users::Ctx;

/// The query parameters, in the order error messages list them.
const PARAMS: [&str; 5] = ["user", "since", "op", "startIndex", "count"];

/// `GET /AuditEvents`.
pub(super) async fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, Failure> {
    let (query, start_index) = parse_query(ctx.query)?;
    let page = ctx
        .state
        .core
        .audit(&ctx.caller.token, &query)
        .await
        .map_err(|e| Failure::from_core(e, "the audit trail"))?;
    let body = json!({
        "total": page.total,
        "start_index": start_index,
        "events": page.events,
    });
    let mut response = Response::new(full(serde_json::to_vec(&body).unwrap_or_default()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The core query and the 1-based `startIndex` it stands for. `startIndex`
/// below 1 is read as 1 and `count` is clamped to 0..=1000, as for
/// `/Users` (RFC 7644 section 3.4.2.4); `since` and `op` are checked by the
/// core, which names what is wrong.
fn parse_query(raw: Option<&str>) -> Result<(AuditQuery, u64), ScimError> {
    let mut query = AuditQuery {
        limit: u32::try_from(DEFAULT_COUNT).unwrap_or(u32::MAX),
        ..AuditQuery::default()
    };
    let mut start_index = 1u64;
    let mut seen: Vec<&str> = Vec::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        let Some(param) = PARAMS.into_iter().find(|p| p.eq_ignore_ascii_case(&name)) else {
            return Err(ScimError::invalid_value(format!(
                "/AuditEvents has no query parameter '{name}'; the parameters are {}",
                PARAMS.join(", ")
            )));
        };
        if seen.contains(&param) {
            return Err(ScimError::invalid_value(format!(
                "query parameter '{param}' is given more than once; give it once"
            )));
        }
        seen.push(param);
        match param {
            "user" => query.user_id = Some(value),
            "since" => query.since = Some(value),
            "op" => query.op = Some(value),
            "startIndex" => {
                start_index = u64::try_from(integer(param, &value)?.max(1)).unwrap_or(u64::MAX);
            }
            _ => {
                let count = integer(param, &value)?.clamp(0, i128::from(MAX_COUNT));
                query.limit = u32::try_from(count).unwrap_or(u32::MAX);
            }
        }
    }
    query.offset = start_index - 1;
    Ok((query, start_index))
}

fn integer(param: &str, value: &str) -> Result<i128, ScimError> {
    value.trim().parse().map_err(|_| {
        ScimError::invalid_value(format!(
            "query parameter '{param}' must be a whole number, not '{value}'"
        ))
    })
}

/// Form decoding: `+` is a space, then percent-decoding to UTF-8.
fn decode(text: &str) -> Result<String, ScimError> {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ScimError::invalid_value("the query string is not UTF-8 after decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (AuditQuery, u64) {
        match parse_query(Some(raw)) {
            Ok(q) => q,
            Err(e) => panic!("{raw}: {}", e.detail),
        }
    }

    #[test]
    fn parameters_map_to_the_core_query() {
        let (q, start) = parsed("user=u-1&since=2026-12-04T15%3A13%3A11%2B01%3A00&op=disable");
        assert_eq!(q.user_id.as_deref(), Some("u-1"));
        assert_eq!(q.since.as_deref(), Some("2026-12-04T15:13:11+01:00"));
        assert_eq!(q.op.as_deref(), Some("disable"));
        assert_eq!((q.offset, q.limit, start), (0, 100, 1));
        let (q, start) = parsed("startIndex=11&count=5");
        assert_eq!((q.offset, q.limit, start), (10, 5, 11));
        let (q, start) = parsed("startindex=-4&COUNT=99999");
        assert_eq!((q.offset, q.limit, start), (0, 1000, 1));
    }

    #[test]
    fn unknown_repeated_and_malformed_parameters_are_400() {
        let detail = |raw: &str| parse_query(Some(raw)).map(|_| ()).unwrap_err().detail;
        assert_eq!(
            detail("userName=x"),
            "/AuditEvents has no query parameter 'userName'; the parameters are user, since, \
             op, startIndex, count"
        );
        assert_eq!(
            detail("op=a&op=b"),
            "query parameter 'op' is given more than once; give it once"
        );
        assert_eq!(
            detail("count=ten"),
            "query parameter 'count' must be a whole number, not 'ten'"
        );
    }
}
