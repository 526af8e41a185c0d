//! The checks of the `app` section: the passthrough to the Ignite app.

use std::ops::RangeInclusive;

use super::{base_url_problem, check_timeouts, in_range, item};
use crate::problem::Problem;
use crate::schema::{AppConfig, IdentityHeaders, defaults};

const REQUEST_TIMEOUT_MS: RangeInclusive<u64> = 1..=600_000;
const MAX_IDLE_PER_HOST: RangeInclusive<usize> = 0..=4_096;

/// The example `app.base_url` in messages: the app beside the sidecar.
const APP_URL_EXAMPLE: &str = "http://127.0.0.1:3000";

/// Headers an identity header must not be named after, lowercase: hop-by-hop
/// headers (RFC 9110 section 7.6.1), the ones that frame or route the request,
/// the credentials, and the forwarding headers the proxy writes itself.
/// Reusing one would corrupt the request or let the identity be confused
/// with what the client sent.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "expect",
    "forwarded",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// Checks `app`; `scim_base_path` is `None` when `scim.base_path` is itself
/// invalid, which skips the rule relating public paths to it.
pub(super) fn check_app(
    problems: &mut Vec<Problem>,
    app: &AppConfig,
    scim_base_path: Option<&str>,
) {
    if let Some(message) = base_url_problem(&app.base_url, APP_URL_EXAMPLE) {
        problems.push(Problem::new("app.base_url", message));
    } else if !app.base_url.starts_with("http://") {
        // The app runs beside the sidecar (same pod or host); the proxy speaks
        // plain HTTP to it, so `https://` would only fail later at start-up.
        problems.push(Problem::new(
            "app.base_url",
            format!(
                "'{}' must start with http://: the sidecar calls the app beside it over \
                 plain HTTP (e.g. {APP_URL_EXAMPLE})",
                app.base_url
            ),
        ));
    }
    check_timeouts(
        problems,
        "app",
        (app.connect_timeout_ms, app.request_timeout_ms),
        REQUEST_TIMEOUT_MS,
    );
    in_range(
        problems,
        "app.max_idle_per_host",
        app.max_idle_per_host,
        MAX_IDLE_PER_HOST,
    );
    for (i, path) in app.public_paths.iter().enumerate() {
        if let Some(message) = public_path_problem(path, scim_base_path) {
            problems.push(Problem::new(item("app.public_paths", i), message));
        }
    }
    check_identity_headers(problems, &app.identity_headers);
}

/// Why `path` is not a usable public path prefix, if it is not.
fn public_path_problem(path: &str, scim_base_path: Option<&str>) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("'{path}' must start with '/'"));
    }
    if path.chars().any(char::is_whitespace) {
        return Some(format!("'{path}' must not contain whitespace"));
    }
    if path.contains(['?', '#']) {
        return Some(format!(
            "'{path}' must not contain '?' or '#'; it is a path prefix, not a URL"
        ));
    }
    let base = scim_base_path?;
    let under_scim = path
        .strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if under_scim {
        return Some(format!(
            "'{path}' is under scim.base_path ({base}); SCIM requests always need a token, so \
             remove it"
        ));
    }
    None
}

fn check_identity_headers(problems: &mut Vec<Problem>, headers: &IdentityHeaders) {
    let named = [
        (
            "app.identity_headers.workspace",
            &headers.workspace,
            defaults::WORKSPACE_HEADER,
        ),
        (
            "app.identity_headers.token_id",
            &headers.token_id,
            defaults::TOKEN_ID_HEADER,
        ),
        (
            "app.identity_headers.role",
            &headers.role,
            defaults::ROLE_HEADER,
        ),
    ];
    let mut valid: Vec<(&str, &str)> = Vec::new();
    for (key, name, example) in named {
        if let Some(message) = header_name_problem(name, example) {
            problems.push(Problem::new(key, message));
            continue;
        }
        // Header names are case-insensitive (RFC 9110 section 5.1), so two
        // spellings of one name would overwrite each other.
        if let Some((other, _)) = valid.iter().find(|(_, v)| v.eq_ignore_ascii_case(name)) {
            problems.push(Problem::new(
                key,
                format!(
                    "'{name}' is the same header as {other} (header names are \
                     case-insensitive); give each identity header its own name"
                ),
            ));
            continue;
        }
        valid.push((key, name));
    }
}

/// Why `name` cannot carry an identity to the app, if it cannot; `example`
/// is the key's default, suggested instead.
fn header_name_problem(name: &str, example: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("is empty; give a header name such as {example}"));
    }
    if !name.chars().all(is_token_char) {
        return Some(format!(
            "'{name}' is not a valid HTTP header name (RFC 9110 section 5.6.2); use letters, \
             digits and '-', e.g. {example}"
        ));
    }
    let lowercase = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lowercase.as_str()) {
        return Some(format!(
            "'{name}' is reserved: the sidecar or HTTP itself gives it a meaning; use a name \
             of your own, e.g. {example}"
        ));
    }
    None
}

/// A `tchar` of RFC 9110 section 5.6.2.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

#[cfg(test)]
mod tests;
