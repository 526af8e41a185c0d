//! The typed config: one struct per YAML section, with the defaults.
//!
//! Units live in the key names (`_ms`, `_secs`, `_bytes`) so the YAML reads
//! unambiguously; the `Duration` getters are for code. The optional sections
//! derive `Deserialize` with `deny_unknown_fields`; deserializing them alone
//! skips [`Config::validate`], so go through [`crate::load`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The default value of every optional key, for code that needs them without a
/// file (tests, `authsidecar dev`).
pub mod defaults {
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

    /// `listen`: all IPv4 interfaces, port 8443.
    pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8443));
    /// `core.connect_timeout_ms`.
    pub const CONNECT_TIMEOUT_MS: u64 = 1_000;
    /// `core.request_timeout_ms`.
    pub const REQUEST_TIMEOUT_MS: u64 = 5_000;
    /// `core.pool_idle_timeout_ms`.
    pub const POOL_IDLE_TIMEOUT_MS: u64 = 30_000;
    /// `core.max_idle_per_host`.
    pub const MAX_IDLE_PER_HOST: usize = 32;
    /// `scim.base_path`: where Entra is told the SCIM endpoint lives.
    pub const SCIM_BASE_PATH: &str = "/api/v1/scim/v2";
    /// `scim.max_body_bytes`: 1 MiB.
    pub const MAX_BODY_BYTES: usize = 1_048_576;
    /// `scim.filter_scan_cap`.
    pub const FILTER_SCAN_CAP: usize = 10_000;
    /// `scim.max_write_retries`.
    pub const MAX_WRITE_RETRIES: u32 = 5;
    /// `auth.cache_ttl_secs`.
    pub const CACHE_TTL_SECS: u64 = 30;
    /// `auth.negative_ttl_secs`.
    pub const NEGATIVE_TTL_SECS: u64 = 5;
    /// `auth.cache_capacity`.
    pub const CACHE_CAPACITY: u64 = 50_000;
    /// `log.level`.
    pub const LOG_LEVEL: &str = "info";
    /// `tls.reload_interval_secs`: how often the cert and key mtimes are polled.
    pub const TLS_RELOAD_INTERVAL_SECS: u64 = 10;
    /// `tls.handshake_timeout_ms`.
    pub const TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
    /// `auth.stale_if_error_secs`: 0, serving stale verdicts is off.
    pub const STALE_IF_ERROR_SECS: u64 = 0;
    /// `app.connect_timeout_ms`.
    pub const APP_CONNECT_TIMEOUT_MS: u64 = 1_000;
    /// `app.request_timeout_ms`.
    pub const APP_REQUEST_TIMEOUT_MS: u64 = 30_000;
    /// `app.pool_idle_timeout_ms`.
    pub const APP_POOL_IDLE_TIMEOUT_MS: u64 = 30_000;
    /// `app.max_idle_per_host`.
    pub const APP_MAX_IDLE_PER_HOST: usize = 64;
    /// `app.identity_headers.workspace`.
    pub const WORKSPACE_HEADER: &str = "X-Ignite-Workspace";
    /// `app.identity_headers.token_id`.
    pub const TOKEN_ID_HEADER: &str = "X-Ignite-Token-Id";
    /// `app.identity_headers.role`.
    pub const ROLE_HEADER: &str = "X-Ignite-Role";
    /// `limits.header_read_timeout_ms`.
    pub const HEADER_READ_TIMEOUT_MS: u64 = 30_000;
    /// `limits.max_header_bytes`: 64 KiB.
    pub const MAX_HEADER_BYTES: usize = 65_536;
    /// `limits.idle_timeout_secs`.
    pub const IDLE_TIMEOUT_SECS: u64 = 120;
    /// `limits.max_connections`.
    pub const MAX_CONNECTIONS: usize = 10_000;
    /// `limits.core_max_concurrency`.
    pub const CORE_MAX_CONCURRENCY: usize = 256;
    /// `lifecycle.drain_secs`.
    pub const DRAIN_SECS: u64 = 5;
    /// `lifecycle.shutdown_deadline_secs`.
    pub const SHUTDOWN_DEADLINE_SECS: u64 = 20;
    /// `audit.redact`: the SCIM User attributes that hold personal data
    /// (RFC 7643 section 4.1).
    pub const AUDIT_REDACT: &[&str] = &[
        "name",
        "displayName",
        "nickName",
        "emails",
        "phoneNumbers",
        "addresses",
        "photos",
        "ims",
    ];
}

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `listen`: the address the HTTPS listener binds.
    pub listen: SocketAddr,
    /// `tls`: the server certificate and key.
    pub tls: TlsConfig,
    /// `core`: how to reach the Ignite core API.
    pub core: CoreConfig,
    /// `scim`: the SCIM endpoint Entra provisions into.
    pub scim: ScimConfig,
    /// `auth`: the bearer-token verdict cache.
    pub auth: AuthConfig,
    /// `roles`: how Entra app roles become Ignite roles.
    pub roles: RolesConfig,
    /// `log`: log output.
    pub log: LogConfig,
    /// `app`: the Ignite app that authenticated non-SCIM requests are passed
    /// to; `None` when the section is absent, and those requests get 404.
    pub app: Option<AppConfig>,
    /// `admin`: the plain-HTTP listener for health and metrics.
    pub admin: AdminConfig,
    /// `limits`: connection and request limits of the listener.
    pub limits: LimitsConfig,
    /// `lifecycle`: how the sidecar shuts down.
    pub lifecycle: LifecycleConfig,
    /// `audit`: what the audit trail leaves out.
    pub audit: AuditConfig,
}

impl Config {
    /// A config for `authsidecar dev` and tests: the given listener, TLS files
    /// and core, defaults elsewhere (no `app` section, no admin listener). It
    /// checks nothing, not even that the files exist; call [`Config::validate`]
    /// for that.
    pub fn for_dev(
        listen: SocketAddr,
        cert_file: PathBuf,
        key_file: PathBuf,
        core_base_url: String,
    ) -> Config {
        Config {
            listen,
            tls: TlsConfig::new(cert_file, key_file),
            core: CoreConfig::new(core_base_url),
            scim: ScimConfig::default(),
            auth: AuthConfig::default(),
            roles: RolesConfig::default(),
            log: LogConfig::default(),
            app: None,
            admin: AdminConfig::default(),
            limits: LimitsConfig::default(),
            lifecycle: LifecycleConfig::default(),
            audit: AuditConfig::default(),
        }
    }
}

/// `tls`: the PEM files the listener serves. Relative paths in the file are
/// resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// `tls.cert_file`: the certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// `tls.key_file`: the private key of the leaf certificate.
    pub key_file: PathBuf,
    /// `tls.reload_interval_secs`: how often the files' modification times are
    /// polled to reload a renewed certificate; 0 disables polling (SIGHUP
    /// still reloads).
    pub reload_interval_secs: u64,
    /// `tls.handshake_timeout_ms`: a client that has not finished the TLS
    /// handshake by then is disconnected.
    pub handshake_timeout_ms: u64,
}

impl TlsConfig {
    /// The given files with the default reload interval and handshake timeout.
    pub fn new(cert_file: PathBuf, key_file: PathBuf) -> TlsConfig {
        TlsConfig {
            cert_file,
            key_file,
            reload_interval_secs: defaults::TLS_RELOAD_INTERVAL_SECS,
            handshake_timeout_ms: defaults::TLS_HANDSHAKE_TIMEOUT_MS,
        }
    }

    /// `tls.reload_interval_secs` as a `Duration`; zero means no polling.
    pub fn reload_interval(&self) -> Duration {
        Duration::from_secs(self.reload_interval_secs)
    }

    /// `tls.handshake_timeout_ms` as a `Duration`.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }
}

/// `core`: the HTTP client that talks to the Ignite core API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// `core.base_url`: scheme, host, optional port and path prefix, without a
    /// trailing `/`, so request paths can be appended as `/...`.
    pub base_url: String,
    /// `core.connect_timeout_ms`: TCP (and TLS) connect timeout.
    pub connect_timeout_ms: u64,
    /// `core.request_timeout_ms`: whole-request timeout, connect included.
    pub request_timeout_ms: u64,
    /// `core.pool_idle_timeout_ms`: how long an idle pooled connection is kept.
    pub pool_idle_timeout_ms: u64,
    /// `core.max_idle_per_host`: idle pooled connections kept per host.
    pub max_idle_per_host: usize,
}

impl CoreConfig {
    /// A core at `base_url` with the default timeouts and pool. Trailing `/`
    /// are removed from the path (never from `http://` itself).
    pub fn new(base_url: String) -> CoreConfig {
        CoreConfig {
            base_url: strip_trailing_slashes(base_url),
            connect_timeout_ms: defaults::CONNECT_TIMEOUT_MS,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            pool_idle_timeout_ms: defaults::POOL_IDLE_TIMEOUT_MS,
            max_idle_per_host: defaults::MAX_IDLE_PER_HOST,
        }
    }

    /// `core.connect_timeout_ms` as a `Duration`.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// `core.request_timeout_ms` as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `core.pool_idle_timeout_ms` as a `Duration`.
    pub fn pool_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.pool_idle_timeout_ms)
    }
}

/// Removes trailing `/` after the `scheme://` part; a URL without a scheme is
/// left alone so its validation message shows what the operator wrote.
fn strip_trailing_slashes(mut url: String) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url;
    };
    let kept = scheme_end + url[scheme_end..].trim_end_matches('/').len();
    url.truncate(kept);
    url
}

/// `scim`: the SCIM 2.0 endpoint (RFC 7644).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    /// `scim.base_path`: the path prefix of every SCIM route (`/Users`, ...).
    pub base_path: String,
    /// `scim.max_body_bytes`: larger request bodies get 413.
    pub max_body_bytes: usize,
    /// `scim.filter_scan_cap`: how many users the sidecar evaluates itself for
    /// a filter the core cannot index, before answering with an error.
    pub filter_scan_cap: usize,
    /// `scim.max_write_retries`: re-read and re-apply attempts when the core
    /// reports a version conflict on a write.
    pub max_write_retries: u32,
}

impl Default for ScimConfig {
    fn default() -> Self {
        Self {
            base_path: defaults::SCIM_BASE_PATH.to_owned(),
            max_body_bytes: defaults::MAX_BODY_BYTES,
            filter_scan_cap: defaults::FILTER_SCAN_CAP,
            max_write_retries: defaults::MAX_WRITE_RETRIES,
        }
    }
}

/// `auth`: the cache of token verdicts from the core.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `auth.cache_ttl_secs`: how long a valid token is trusted without
    /// asking the core again.
    pub cache_ttl_secs: u64,
    /// `auth.negative_ttl_secs`: how long an invalid token is rejected without
    /// asking the core again; 0 disables negative caching.
    pub negative_ttl_secs: u64,
    /// `auth.cache_capacity`: maximum cached verdicts.
    pub cache_capacity: u64,
    /// `auth.stale_if_error_secs`: how long past its TTL a cached valid
    /// verdict is still served while the core cannot be reached; 0 disables.
    pub stale_if_error_secs: u64,
}

impl AuthConfig {
    /// `auth.cache_ttl_secs` as a `Duration`.
    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    /// `auth.negative_ttl_secs` as a `Duration`.
    pub fn negative_ttl(&self) -> Duration {
        Duration::from_secs(self.negative_ttl_secs)
    }

    /// `auth.stale_if_error_secs` as a `Duration`; zero means off.
    pub fn stale_if_error(&self) -> Duration {
        Duration::from_secs(self.stale_if_error_secs)
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            cache_ttl_secs: defaults::CACHE_TTL_SECS,
            negative_ttl_secs: defaults::NEGATIVE_TTL_SECS,
            cache_capacity: defaults::CACHE_CAPACITY,
            stale_if_error_secs: defaults::STALE_IF_ERROR_SECS,
        }
    }
}

/// `roles`: Entra app-role values to Ignite role names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolesConfig {
    /// `roles.mapping`: Entra app-role value to Ignite role name. Values not
    /// listed are matched to the workspace's roles case-insensitively.
    pub mapping: BTreeMap<String, String>,
}

/// `log`: how log lines are written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `log.format`: `plain` or `json`.
    pub format: LogFormat,
    /// `log.level`: a `tracing` `EnvFilter` directive; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::default(),
            level: defaults::LOG_LEVEL.to_owned(),
        }
    }
}

/// `log.format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    #[default]
    Plain,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// `app`: the HTTP client that passes authenticated non-SCIM requests to the
/// Ignite app, with the caller's identity in headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// `app.base_url`: scheme, host, optional port and path prefix, without a
    /// trailing `/`; the same rules as `core.base_url`.
    pub base_url: String,
    /// `app.connect_timeout_ms`: TCP (and TLS) connect timeout.
    pub connect_timeout_ms: u64,
    /// `app.request_timeout_ms`: how long the app has to send its response
    /// headers, connect included; after it the client gets 504.
    pub request_timeout_ms: u64,
    /// `app.pool_idle_timeout_ms`: how long an idle pooled connection is kept.
    pub pool_idle_timeout_ms: u64,
    /// `app.max_idle_per_host`: idle pooled connections kept per host.
    pub max_idle_per_host: usize,
    /// `app.public_paths`: path prefixes passed to the app without a token.
    pub public_paths: Vec<String>,
    /// `app.forward_authorization`: whether the client's `Authorization`
    /// header is passed to the app; by default the app never sees the token.
    pub forward_authorization: bool,
    /// `app.identity_headers`: the headers that carry the validated identity.
    pub identity_headers: IdentityHeaders,
}

impl AppConfig {
    /// An app at `base_url` with the default timeouts, pool and headers, no
    /// public paths. Trailing `/` are removed from the path.
    pub fn new(base_url: String) -> AppConfig {
        AppConfig {
            base_url: strip_trailing_slashes(base_url),
            connect_timeout_ms: defaults::APP_CONNECT_TIMEOUT_MS,
            request_timeout_ms: defaults::APP_REQUEST_TIMEOUT_MS,
            pool_idle_timeout_ms: defaults::APP_POOL_IDLE_TIMEOUT_MS,
            max_idle_per_host: defaults::APP_MAX_IDLE_PER_HOST,
            public_paths: Vec::new(),
            forward_authorization: false,
            identity_headers: IdentityHeaders::default(),
        }
    }

    /// `app.connect_timeout_ms` as a `Duration`.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// `app.request_timeout_ms` as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `app.pool_idle_timeout_ms` as a `Duration`.
    pub fn pool_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.pool_idle_timeout_ms)
    }
}

/// `app.identity_headers`: the names of the request headers that tell the app
/// who the validated caller is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityHeaders {
    /// `app.identity_headers.workspace`: the caller's workspace.
    pub workspace: String,
    /// `app.identity_headers.token_id`: the id of the caller's token.
    pub token_id: String,
    /// `app.identity_headers.role`: the caller's Ignite role.
    pub role: String,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        Self {
            workspace: defaults::WORKSPACE_HEADER.to_owned(),
            token_id: defaults::TOKEN_ID_HEADER.to_owned(),
            role: defaults::ROLE_HEADER.to_owned(),
        }
    }
}

/// `admin`: the listener for `/healthz`, `/readyz` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// `admin.listen`: the address of the plain-HTTP admin listener; `None`
    /// runs none.
    pub listen: Option<SocketAddr>,
}

/// `limits`: what one client may hold of the HTTPS listener and the core.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// `limits.header_read_timeout_ms`: how long a client has to send the
    /// request headers.
    pub header_read_timeout_ms: u64,
    /// `limits.max_header_bytes`: larger request headers are refused.
    pub max_header_bytes: usize,
    /// `limits.idle_timeout_secs`: a keep-alive connection idle this long is
    /// closed.
    pub idle_timeout_secs: u64,
    /// `limits.max_connections`: open connections; further ones wait to be
    /// accepted.
    pub max_connections: usize,
    /// `limits.core_max_concurrency`: calls to the core in flight at once;
    /// requests beyond it get 429 with `Retry-After`.
    pub core_max_concurrency: usize,
}

impl LimitsConfig {
    /// `limits.header_read_timeout_ms` as a `Duration`.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// `limits.idle_timeout_secs` as a `Duration`.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: defaults::HEADER_READ_TIMEOUT_MS,
            max_header_bytes: defaults::MAX_HEADER_BYTES,
            idle_timeout_secs: defaults::IDLE_TIMEOUT_SECS,
            max_connections: defaults::MAX_CONNECTIONS,
            core_max_concurrency: defaults::CORE_MAX_CONCURRENCY,
        }
    }
}

/// `lifecycle`: the graceful shutdown after SIGTERM.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// `lifecycle.drain_secs`: how long the sidecar keeps serving, with
    /// readiness false, so load balancers stop sending it traffic.
    pub drain_secs: u64,
    /// `lifecycle.shutdown_deadline_secs`: after the drain, how long requests
    /// in flight get to finish once the listener stops accepting.
    pub shutdown_deadline_secs: u64,
}

impl LifecycleConfig {
    /// `lifecycle.drain_secs` as a `Duration`.
    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.drain_secs)
    }

    /// `lifecycle.shutdown_deadline_secs` as a `Duration`.
    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_secs(self.shutdown_deadline_secs)
    }
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            drain_secs: defaults::DRAIN_SECS,
            shutdown_deadline_secs: defaults::SHUTDOWN_DEADLINE_SECS,
        }
    }
}

/// `audit`: the trail of SCIM changes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// `audit.redact`: SCIM attribute names whose values are written as
    /// `[redacted]`, matched case-insensitively as SCIM names are; empty
    /// disables redaction.
    pub redact: Vec<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            redact: defaults::AUDIT_REDACT
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
