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
    pub const CACHE_CAPACITY: u64 = 100_000;
    /// `log.level`.
    pub const LOG_LEVEL: &str = "info";
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
}

impl Config {
    /// A config for `authsidecar dev` and tests: the given listener, TLS files
    /// and core, defaults elsewhere. It checks nothing, not even that the files
    /// exist; call [`Config::validate`] for that.
    pub fn for_dev(
        listen: SocketAddr,
        cert_file: PathBuf,
        key_file: PathBuf,
        core_base_url: String,
    ) -> Config {
        Config {
            listen,
            tls: TlsConfig {
                cert_file,
                key_file,
            },
            core: CoreConfig::new(core_base_url),
            scim: ScimConfig::default(),
            auth: AuthConfig::default(),
            roles: RolesConfig::default(),
            log: LogConfig::default(),
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
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            cache_ttl_secs: defaults::CACHE_TTL_SECS,
            negative_ttl_secs: defaults::NEGATIVE_TTL_SECS,
            cache_capacity: defaults::CACHE_CAPACITY,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_dev_fills_defaults_around_the_given_values() {
        let listen: SocketAddr = "127.0.0.1:9443".parse().expect("address");
        let config = Config::for_dev(
            listen,
            PathBuf::from("/dev/tls.crt"),
            PathBuf::from("/dev/tls.key"),
            "http://127.0.0.1:8080/".to_owned(),
        );

        assert_eq!(config.listen, listen);
        assert_eq!(config.tls.cert_file, PathBuf::from("/dev/tls.crt"));
        assert_eq!(config.tls.key_file, PathBuf::from("/dev/tls.key"));
        assert_eq!(config.core.base_url, "http://127.0.0.1:8080");
        assert_eq!(config.core.connect_timeout(), Duration::from_millis(1_000));
        assert_eq!(config.core.request_timeout(), Duration::from_millis(5_000));
        assert_eq!(
            config.core.pool_idle_timeout(),
            Duration::from_millis(30_000)
        );
        assert_eq!(config.core.max_idle_per_host, 32);
        assert_eq!(config.scim.base_path, "/api/v1/scim/v2");
        assert_eq!(config.scim.max_body_bytes, 1_048_576);
        assert_eq!(config.scim.filter_scan_cap, 10_000);
        assert_eq!(config.scim.max_write_retries, 5);
        assert_eq!(config.auth.cache_ttl(), Duration::from_secs(30));
        assert_eq!(config.auth.negative_ttl(), Duration::from_secs(5));
        assert_eq!(config.auth.cache_capacity, 100_000);
        assert_eq!(config.roles.mapping, BTreeMap::new());
        assert_eq!(config.log.format, LogFormat::Plain);
        assert_eq!(config.log.level, "info");
    }

    #[test]
    fn default_listen_is_all_interfaces_on_8443() {
        assert_eq!(defaults::LISTEN.to_string(), "0.0.0.0:8443");
    }

    #[test]
    fn trailing_slashes_are_stripped_from_the_path_only() {
        let strip = |url: &str| strip_trailing_slashes(url.to_owned());

        assert_eq!(strip("https://core.internal/"), "https://core.internal");
        assert_eq!(
            strip("https://core.internal/api//"),
            "https://core.internal/api"
        );
        assert_eq!(strip("https://core.internal"), "https://core.internal");
        assert_eq!(strip("http://"), "http://");
        assert_eq!(strip("core.internal/"), "core.internal/");
    }
}
