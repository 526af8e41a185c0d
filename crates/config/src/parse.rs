//! YAML text to a [`Config`]: the only place that calls serde-saphyr.
//!
//! Phases: deserialize into raw structs that keep required keys optional,
//! report every missing required key at once, resolve relative TLS paths
//! against the config file's directory. Syntax errors, unknown keys and wrong
//! types stop serde at the first one; they become a single [`Problem`] whose
//! path comes from the error's line and column.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{Error, MessageFormatter, SnippetMode, UserMessageFormatter};

use crate::key_path::key_path_at;
use crate::problem::{Problem, ROOT_PATH};
use crate::schema::{
    AdminConfig, AppConfig, AuditConfig, AuthConfig, Config, CoreConfig, IdentityHeaders,
    LifecycleConfig, LimitsConfig, LogConfig, RolesConfig, ScimConfig, TlsConfig, defaults,
};
use crate::validate::pem_kind;

/// The result of parsing: a config, with empty placeholders where required
/// keys were missing, and the problems for those keys.
pub(crate) struct Parsed {
    pub(crate) config: Config,
    pub(crate) missing: Vec<Problem>,
}

impl Parsed {
    /// Whether `problem` is about a key already reported as missing; its
    /// placeholder would otherwise fail validation a second time.
    pub(crate) fn covers(&self, problem: &Problem) -> bool {
        self.missing.iter().any(|missing| {
            problem.path == missing.path
                || problem
                    .path
                    .strip_prefix(missing.path.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// A key left out or set to null is `None`. For a section (`scim:` with every
/// key commented out) that means the section's defaults; for `app` it means no
/// app, as if the section were absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<SocketAddr>,
    tls: Option<RawTls>,
    core: Option<RawCore>,
    scim: Option<ScimConfig>,
    auth: Option<AuthConfig>,
    roles: Option<RolesConfig>,
    log: Option<LogConfig>,
    app: Option<RawApp>,
    admin: Option<AdminConfig>,
    limits: Option<LimitsConfig>,
    lifecycle: Option<LifecycleConfig>,
    audit: Option<AuditConfig>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTls {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    reload_interval_secs: u64,
    handshake_timeout_ms: u64,
}

impl Default for RawTls {
    fn default() -> Self {
        Self {
            cert_file: None,
            key_file: None,
            reload_interval_secs: defaults::TLS_RELOAD_INTERVAL_SECS,
            handshake_timeout_ms: defaults::TLS_HANDSHAKE_TIMEOUT_MS,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCore {
    base_url: Option<String>,
    connect_timeout_ms: u64,
    request_timeout_ms: u64,
    pool_idle_timeout_ms: u64,
    max_idle_per_host: usize,
}

impl Default for RawCore {
    fn default() -> Self {
        Self {
            base_url: None,
            connect_timeout_ms: defaults::CONNECT_TIMEOUT_MS,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            pool_idle_timeout_ms: defaults::POOL_IDLE_TIMEOUT_MS,
            max_idle_per_host: defaults::MAX_IDLE_PER_HOST,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawApp {
    base_url: Option<String>,
    connect_timeout_ms: u64,
    request_timeout_ms: u64,
    pool_idle_timeout_ms: u64,
    max_idle_per_host: usize,
    public_paths: Vec<String>,
    forward_authorization: bool,
    identity_headers: Option<IdentityHeaders>,
}

impl Default for RawApp {
    fn default() -> Self {
        Self {
            base_url: None,
            connect_timeout_ms: defaults::APP_CONNECT_TIMEOUT_MS,
            request_timeout_ms: defaults::APP_REQUEST_TIMEOUT_MS,
            pool_idle_timeout_ms: defaults::APP_POOL_IDLE_TIMEOUT_MS,
            max_idle_per_host: defaults::APP_MAX_IDLE_PER_HOST,
            public_paths: Vec::new(),
            forward_authorization: false,
            identity_headers: None,
        }
    }
}

/// Parses `yaml`; relative TLS paths are resolved against `base_dir`.
pub(crate) fn parse(yaml: &str, base_dir: &Path) -> Result<Parsed, Problem> {
    let options = serde_saphyr::options! { with_snippet: false };
    let raw: RawConfig =
        serde_saphyr::from_str_with_options(yaml, options).map_err(|e| parse_problem(yaml, &e))?;
    let mut missing = Vec::new();

    let tls = match raw.tls {
        Some(tls) => TlsConfig {
            cert_file: tls_path(tls.cert_file, "tls.cert_file", base_dir, &mut missing),
            key_file: tls_path(tls.key_file, "tls.key_file", base_dir, &mut missing),
            reload_interval_secs: tls.reload_interval_secs,
            handshake_timeout_ms: tls.handshake_timeout_ms,
        },
        None => {
            missing.push(Problem::new(
                "tls",
                "is required; add a tls section with cert_file and key_file",
            ));
            TlsConfig::new(PathBuf::new(), PathBuf::new())
        }
    };

    let raw_core = raw.core.unwrap_or_else(|| {
        missing.push(Problem::new(
            "core",
            "is required; add a core section with base_url",
        ));
        RawCore::default()
    });
    let base_url = raw_core.base_url.unwrap_or_else(|| {
        // A missing section is reported once, as `core`, not again as its key.
        if !missing.iter().any(|p| p.path == "core") {
            missing.push(Problem::new(
                "core.base_url",
                "is required; give the core API's URL, e.g. http://ignite-core.internal:8080",
            ));
        }
        String::new()
    });
    let core = CoreConfig {
        connect_timeout_ms: raw_core.connect_timeout_ms,
        request_timeout_ms: raw_core.request_timeout_ms,
        pool_idle_timeout_ms: raw_core.pool_idle_timeout_ms,
        max_idle_per_host: raw_core.max_idle_per_host,
        ..CoreConfig::new(base_url)
    };

    let app = raw.app.map(|raw_app| app(raw_app, &mut missing));

    let config = Config {
        listen: raw.listen.unwrap_or(defaults::LISTEN),
        tls,
        core,
        scim: raw.scim.unwrap_or_default(),
        auth: raw.auth.unwrap_or_default(),
        roles: raw.roles.unwrap_or_default(),
        log: raw.log.unwrap_or_default(),
        app,
        admin: raw.admin.unwrap_or_default(),
        limits: raw.limits.unwrap_or_default(),
        lifecycle: raw.lifecycle.unwrap_or_default(),
        audit: raw.audit.unwrap_or_default(),
    };
    Ok(Parsed { config, missing })
}

/// The `app` section; a section without `base_url` is reported as missing it.
fn app(raw: RawApp, missing: &mut Vec<Problem>) -> AppConfig {
    let base_url = raw.base_url.unwrap_or_else(|| {
        missing.push(Problem::new(
            "app.base_url",
            "is required in the app section; give the app's URL, e.g. http://127.0.0.1:3000, \
             or remove the section to answer non-SCIM paths with 404",
        ));
        String::new()
    });
    AppConfig {
        connect_timeout_ms: raw.connect_timeout_ms,
        request_timeout_ms: raw.request_timeout_ms,
        pool_idle_timeout_ms: raw.pool_idle_timeout_ms,
        max_idle_per_host: raw.max_idle_per_host,
        public_paths: raw.public_paths,
        forward_authorization: raw.forward_authorization,
        identity_headers: raw.identity_headers.unwrap_or_default(),
        ..AppConfig::new(base_url)
    }
}

/// A TLS path, resolved against the config file's directory so the sidecar
/// finds its files whatever directory it was started from.
fn tls_path(
    path: Option<PathBuf>,
    key: &str,
    base_dir: &Path,
    missing: &mut Vec<Problem>,
) -> PathBuf {
    let Some(path) = path else {
        missing.push(Problem::new(
            key,
            format!("is required; give {}", pem_kind(key)),
        ));
        return PathBuf::new();
    };
    // An empty path stays empty so validation names it, rather than turning
    // into the directory itself.
    if path.as_os_str().is_empty() || path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}

/// Turns a serde-saphyr error into a problem at the key path of its location.
fn parse_problem(yaml: &str, error: &Error) -> Problem {
    // A second document is reported at its first key, which belongs to no
    // key path of the config.
    let in_document = !matches!(error.without_snippet(), Error::MultipleDocuments { .. });
    let path = error
        .location()
        .filter(|_| in_document)
        .map(|at| key_path_at(yaml, at.line(), at.column()))
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| ROOT_PATH.to_owned());
    // The renderer appends " at line L, column C" and strips control
    // characters, which may come from the file's own text.
    let message = error.render_with_options(serde_saphyr::render_options! {
        formatter: &Wording,
        snippets: SnippetMode::Off,
    });
    Problem::new(path, message)
}

/// serde-saphyr's user-facing messages, reworded where a config operator
/// needs to know what to write instead.
struct Wording;

impl MessageFormatter for Wording {
    fn format_message<'a>(&self, error: &'a Error) -> Cow<'a, str> {
        match error {
            Error::SerdeUnknownField {
                field, expected, ..
            } => Cow::Owned(format!(
                "unknown key '{field}' (the keys allowed here are {})",
                expected.join(", ")
            )),
            Error::SerdeUnknownVariant {
                variant, expected, ..
            } => Cow::Owned(format!(
                "unknown value '{variant}' (use one of {})",
                expected.join(", ")
            )),
            Error::InvalidScalar { ty, .. } if ty.starts_with('u') => {
                Cow::Borrowed("expected a whole number that is not negative")
            }
            _ => UserMessageFormatter.format_message(error),
        }
    }
}

#[cfg(test)]
mod tests;
