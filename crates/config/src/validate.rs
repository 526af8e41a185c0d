//! The checks serde cannot express: ranges, URL and path shapes, TLS files,
//! and rules that relate two keys.
//!
//! Each key gets at most one problem (its first failing rule), and a rule
//! relating two keys runs only when both passed their own checks, so a single
//! typo never produces a cascade of messages.

use std::fmt::Display;
use std::fs::File;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::Path;

use tracing_subscriber::EnvFilter;

use crate::problem::{Problem, join};
use crate::schema::{
    AdminConfig, AuditConfig, AuthConfig, Config, CoreConfig, LifecycleConfig, LimitsConfig,
    LogConfig, RolesConfig, ScimConfig, TlsConfig,
};

const CONNECT_TIMEOUT_MS: RangeInclusive<u64> = 1..=60_000;
const REQUEST_TIMEOUT_MS: RangeInclusive<u64> = 1..=300_000;
const MAX_IDLE_PER_HOST: RangeInclusive<usize> = 0..=1_024;
const MAX_BODY_BYTES: RangeInclusive<usize> = 1_024..=67_108_864;
const FILTER_SCAN_CAP: RangeInclusive<usize> = 1..=1_000_000;
const MAX_WRITE_RETRIES: RangeInclusive<u32> = 0..=50;
const CACHE_TTL_SECS: RangeInclusive<u64> = 1..=3_600;
const NEGATIVE_TTL_SECS: RangeInclusive<u64> = 0..=300;
const CACHE_CAPACITY: RangeInclusive<u64> = 1..=10_000_000;
const STALE_IF_ERROR_SECS: RangeInclusive<u64> = 0..=3_600;
const TLS_RELOAD_INTERVAL_SECS: RangeInclusive<u64> = 0..=86_400;
const TLS_HANDSHAKE_TIMEOUT_MS: RangeInclusive<u64> = 100..=120_000;
const HEADER_READ_TIMEOUT_MS: RangeInclusive<u64> = 100..=300_000;
const MAX_HEADER_BYTES: RangeInclusive<usize> = 4_096..=1_048_576;
const IDLE_TIMEOUT_SECS: RangeInclusive<u64> = 1..=3_600;
const MAX_CONNECTIONS: RangeInclusive<usize> = 1..=1_000_000;
const CORE_MAX_CONCURRENCY: RangeInclusive<usize> = 1..=100_000;
const DRAIN_SECS: RangeInclusive<u64> = 0..=600;
const SHUTDOWN_DEADLINE_SECS: RangeInclusive<u64> = 1..=3_600;

/// The example `core.base_url` in messages.
const CORE_URL_EXAMPLE: &str = "http://ignite-core.internal:8080";

const LEVEL_HINT: &str = "use a level such as info, or directives such as info,authsidecar=debug";

impl Config {
    /// Checks every rule and returns every problem found, in schema order.
    /// The TLS files must exist and be readable; their PEM content is checked
    /// when the server loads them.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        check_file(&mut problems, "tls.cert_file", &self.tls.cert_file);
        check_file(&mut problems, "tls.key_file", &self.tls.key_file);
        check_tls(&mut problems, &self.tls);
        check_core(&mut problems, &self.core);
        let scim_ok = check_scim(&mut problems, &self.scim);
        check_auth(&mut problems, &self.auth);
        check_roles(&mut problems, &self.roles);
        check_log(&mut problems, &self.log);
        if let Some(app) = &self.app {
            // Whether a public path lies under the SCIM routes can only be
            // told once the SCIM base path itself is valid.
            let scim_base_path = scim_ok.then_some(self.scim.base_path.as_str());
            app::check_app(&mut problems, app, scim_base_path);
        }
        check_admin(&mut problems, self.listen, &self.admin);
        check_limits(&mut problems, &self.limits);
        check_lifecycle(&mut problems, &self.lifecycle);
        check_audit(&mut problems, &self.audit);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// What the file at `key` holds, for messages.
pub(crate) fn pem_kind(key: &str) -> &'static str {
    if key == "tls.cert_file" {
        "the path of the PEM certificate chain"
    } else {
        "the path of the PEM private key"
    }
}

fn check_file(problems: &mut Vec<Problem>, key: &str, path: &Path) {
    if path.as_os_str().is_empty() {
        problems.push(Problem::new(
            key,
            format!("is empty; give {}", pem_kind(key)),
        ));
        return;
    }
    let shown = path.display();
    let message = match path.metadata() {
        Err(e) if e.kind() == ErrorKind::NotFound => format!("{shown} does not exist"),
        Err(e) => format!("{shown} cannot be read: {e}"),
        Ok(meta) if meta.is_dir() => {
            format!("{shown} is a directory; give {}", pem_kind(key))
        }
        // Opening proves the sidecar's user may read it; metadata alone
        // succeeds for a key file owned by root with mode 0600.
        Ok(_) => match File::open(path) {
            Ok(_) => return,
            Err(e) => format!("{shown} cannot be read: {e}"),
        },
    };
    problems.push(Problem::new(key, message));
}

fn check_tls(problems: &mut Vec<Problem>, tls: &TlsConfig) {
    in_range(
        problems,
        "tls.reload_interval_secs",
        tls.reload_interval_secs,
        TLS_RELOAD_INTERVAL_SECS,
    );
    in_range(
        problems,
        "tls.handshake_timeout_ms",
        tls.handshake_timeout_ms,
        TLS_HANDSHAKE_TIMEOUT_MS,
    );
}

fn check_core(problems: &mut Vec<Problem>, core: &CoreConfig) {
    if let Some(message) = base_url_problem(&core.base_url, CORE_URL_EXAMPLE) {
        problems.push(Problem::new("core.base_url", message));
    }
    check_timeouts(
        problems,
        "core",
        (core.connect_timeout_ms, core.request_timeout_ms),
        REQUEST_TIMEOUT_MS,
    );
    in_range(
        problems,
        "core.max_idle_per_host",
        core.max_idle_per_host,
        MAX_IDLE_PER_HOST,
    );
}

/// Why `url` is not a usable base URL, if it is not; `example` is a URL that
/// would be, for the message about a missing host.
fn base_url_problem(url: &str, example: &str) -> Option<String> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Some(format!("'{url}' must start with http:// or https://"));
    };
    if url.chars().any(char::is_whitespace) {
        return Some(format!("'{url}' must not contain whitespace"));
    }
    if url.contains(['?', '#']) {
        return Some(format!(
            "'{url}' must not contain a query ('?') or a fragment ('#'); give only scheme, \
             host, port and path"
        ));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        // The URL is not echoed: the part before '@' is likely a password.
        return Some(
            "must not contain credentials (user:password@); secrets never go in the config file"
                .to_owned(),
        );
    }
    let (host, port) = split_host_port(authority);
    if host.is_empty() {
        return Some(format!("'{url}' has no host; write e.g. {example}"));
    }
    if !valid_host(host) {
        return Some(format!("'{url}' has an invalid host '{host}'"));
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Some(format!(
            "'{url}' has an invalid port '{port}'; use a number from 1 to 65535"
        ));
    }
    None
}

/// A DNS name, an IPv4 address, or a bracketed IPv6 literal.
fn valid_host(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => !ipv6.is_empty() && ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':'),
        None => host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
    }
}

/// Splits `host:port`, keeping an IPv6 literal's brackets with the host.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, after) = authority.split_at(host_end);
    (host, after.strip_prefix(':'))
}

/// Returns whether `scim.base_path` is valid.
fn check_scim(problems: &mut Vec<Problem>, scim: &ScimConfig) -> bool {
    let base_path_problem = base_path_problem(&scim.base_path);
    let base_path_ok = base_path_problem.is_none();
    if let Some(message) = base_path_problem {
        problems.push(Problem::new("scim.base_path", message));
    }
    in_range(
        problems,
        "scim.max_body_bytes",
        scim.max_body_bytes,
        MAX_BODY_BYTES,
    );
    in_range(
        problems,
        "scim.filter_scan_cap",
        scim.filter_scan_cap,
        FILTER_SCAN_CAP,
    );
    in_range(
        problems,
        "scim.max_write_retries",
        scim.max_write_retries,
        MAX_WRITE_RETRIES,
    );
    base_path_ok
}

/// Why `path` is not a usable SCIM base path, if it is not.
fn base_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("'{path}' must start with '/'"));
    }
    if path.chars().any(char::is_whitespace) {
        return Some(format!("'{path}' must not contain whitespace"));
    }
    if path.contains(['?', '#']) {
        return Some(format!(
            "'{path}' must not contain '?' or '#'; it is a path, not a URL"
        ));
    }
    if path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        return Some(if trimmed.is_empty() {
            format!("'{path}' must not end with '/'; use a prefix such as /scim/v2")
        } else {
            format!("'{path}' must not end with '/'; write '{trimmed}'")
        });
    }
    None
}

fn check_auth(problems: &mut Vec<Problem>, auth: &AuthConfig) {
    let ttl_ok = in_range(
        problems,
        "auth.cache_ttl_secs",
        auth.cache_ttl_secs,
        CACHE_TTL_SECS,
    );
    let negative_ok = in_range(
        problems,
        "auth.negative_ttl_secs",
        auth.negative_ttl_secs,
        NEGATIVE_TTL_SECS,
    );
    if ttl_ok && negative_ok && auth.negative_ttl_secs > auth.cache_ttl_secs {
        problems.push(Problem::new(
            "auth.negative_ttl_secs",
            format!(
                "{} is larger than auth.cache_ttl_secs ({}); an invalid token must not be \
                 cached longer than a valid one",
                auth.negative_ttl_secs, auth.cache_ttl_secs
            ),
        ));
    }
    in_range(
        problems,
        "auth.cache_capacity",
        auth.cache_capacity,
        CACHE_CAPACITY,
    );
    in_range(
        problems,
        "auth.stale_if_error_secs",
        auth.stale_if_error_secs,
        STALE_IF_ERROR_SECS,
    );
}

fn check_roles(problems: &mut Vec<Problem>, roles: &RolesConfig) {
    for (entra, ignite) in &roles.mapping {
        let path = join("roles.mapping", entra);
        if entra.trim().is_empty() {
            problems.push(Problem::new(
                path,
                "the Entra app-role value is empty; write it exactly as in the Entra app \
                 registration",
            ));
        } else if ignite.trim().is_empty() {
            problems.push(Problem::new(
                path,
                "the Ignite role name is empty; give the workspace role this app role grants",
            ));
        }
    }
}

fn check_log(problems: &mut Vec<Problem>, log: &LogConfig) {
    let level = &log.level;
    if level.trim().is_empty() {
        problems.push(Problem::new("log.level", format!("is empty; {LEVEL_HINT}")));
        return;
    }
    // The binary builds its filter with the same parser, so a level that
    // passes here cannot fail at startup.
    if let Err(e) = EnvFilter::try_new(level) {
        problems.push(Problem::new(
            "log.level",
            format!("'{level}' is not a valid filter directive ({e}); {LEVEL_HINT}"),
        ));
    }
}

fn check_admin(problems: &mut Vec<Problem>, listen: SocketAddr, admin: &AdminConfig) {
    let Some(admin_listen) = admin.listen else {
        return;
    };
    if binds_collide(listen, admin_listen) {
        problems.push(Problem::new(
            "admin.listen",
            format!(
                "{admin_listen} collides with listen ({listen}): both bind port {}; give the \
                 admin listener a port of its own, e.g. 127.0.0.1:9901",
                listen.port()
            ),
        ));
    }
}

/// Whether binding both addresses would fail with "address in use": the same
/// port on the same address, or on any address when one is a wildcard. Port 0
/// asks the OS for a free port, so it never collides.
fn binds_collide(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn check_limits(problems: &mut Vec<Problem>, limits: &LimitsConfig) {
    in_range(
        problems,
        "limits.header_read_timeout_ms",
        limits.header_read_timeout_ms,
        HEADER_READ_TIMEOUT_MS,
    );
    in_range(
        problems,
        "limits.max_header_bytes",
        limits.max_header_bytes,
        MAX_HEADER_BYTES,
    );
    in_range(
        problems,
        "limits.idle_timeout_secs",
        limits.idle_timeout_secs,
        IDLE_TIMEOUT_SECS,
    );
    in_range(
        problems,
        "limits.max_connections",
        limits.max_connections,
        MAX_CONNECTIONS,
    );
    in_range(
        problems,
        "limits.core_max_concurrency",
        limits.core_max_concurrency,
        CORE_MAX_CONCURRENCY,
    );
}

fn check_lifecycle(problems: &mut Vec<Problem>, lifecycle: &LifecycleConfig) {
    in_range(
        problems,
        "lifecycle.drain_secs",
        lifecycle.drain_secs,
        DRAIN_SECS,
    );
    in_range(
        problems,
        "lifecycle.shutdown_deadline_secs",
        lifecycle.shutdown_deadline_secs,
        SHUTDOWN_DEADLINE_SECS,
    );
}

fn check_audit(problems: &mut Vec<Problem>, audit: &AuditConfig) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, name) in audit.redact.iter().enumerate() {
        let path = item("audit.redact", i);
        if name.trim().is_empty() {
            problems.push(Problem::new(
                path,
                "is empty; give a SCIM attribute name such as emails, or remove the entry",
            ));
            continue;
        }
        // SCIM attribute names are case-insensitive (RFC 7643 section 2.1).
        if let Some(first) = seen.iter().find(|seen| seen.eq_ignore_ascii_case(name)) {
            problems.push(Problem::new(
                path,
                format!(
                    "'{name}' is listed already as '{first}' (names are case-insensitive); \
                     remove one"
                ),
            ));
            continue;
        }
        seen.push(name);
    }
}

/// The key path of item `index` of the list at `key`.
fn item(key: &str, index: usize) -> String {
    format!("{key}[{index}]")
}

/// Reports `value` at `key` when it is outside `range`; returns whether it
/// is inside.
/// `SECTION.connect_timeout_ms` (always 1 to 60000), `SECTION.request_timeout_ms`
/// in `request_range`, and the request timeout not below the connect timeout
/// (it includes connecting). Shared by `core` and `app`.
fn check_timeouts(
    problems: &mut Vec<Problem>,
    section: &str,
    (connect_ms, request_ms): (u64, u64),
    request_range: RangeInclusive<u64>,
) {
    let connect_key = format!("{section}.connect_timeout_ms");
    let request_key = format!("{section}.request_timeout_ms");
    let connect_ok = in_range(problems, &connect_key, connect_ms, CONNECT_TIMEOUT_MS);
    let request_ok = in_range(problems, &request_key, request_ms, request_range);
    if connect_ok && request_ok && request_ms < connect_ms {
        problems.push(Problem::new(
            request_key,
            format!(
                "{request_ms} is smaller than {connect_key} ({connect_ms}); the request timeout \
                 includes connecting, so raise it or lower the connect timeout"
            ),
        ));
    }
}

fn in_range<T: PartialOrd + Display>(
    problems: &mut Vec<Problem>,
    key: &str,
    value: T,
    range: RangeInclusive<T>,
) -> bool {
    if range.contains(&value) {
        return true;
    }
    problems.push(Problem::new(
        key,
        format!(
            "{value} is out of range; use a value from {} to {}",
            range.start(),
            range.end()
        ),
    ));
    false
}

mod app;
#[cfg(test)]
mod tests;
