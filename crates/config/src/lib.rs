//! The authsidecar YAML config: schema, defaults, validation with key paths.
//!
//! `authsidecar run --config FILE` goes through [`load`], in phases:
//!
//! 1. read the file (a problem named by the file's path if it cannot be read);
//! 2. parse the YAML into typed sections; unknown keys and wrong types are
//!    rejected with their key path, line and column (serde stops at the first);
//! 3. report every missing required key (`tls`, `core`, their file and URL,
//!    `app.base_url` when there is an `app` section);
//! 4. resolve relative TLS paths against the config file's directory;
//! 5. [`Config::validate`]: ranges, URL and path shapes, TLS files readable,
//!    rules relating two keys; every problem at once.
//!
//! The result is a [`Config`] or a [`ConfigError`] listing each problem as
//! `path: message`; the binary prints it and exits with 64. Units are in the
//! key names (`_ms`, `_secs`, `_bytes`). No key holds a secret: secrets are
//! referenced by file or environment, never written inline.

mod key_path;
mod parse;
mod problem;
mod schema;
mod validate;

use std::io::ErrorKind;
use std::path::Path;

pub use problem::{ConfigError, Problem, ROOT_PATH};
pub use schema::{
    AdminConfig, AppConfig, AuditConfig, AuthConfig, Config, CoreConfig, IdentityHeaders,
    LifecycleConfig, LimitsConfig, LogConfig, LogFormat, RolesConfig, ScimConfig, TlsConfig,
    defaults,
};

/// Reads, parses and validates the config file at `path`. Relative TLS paths
/// in it are resolved against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let yaml = std::fs::read_to_string(path).map_err(|e| {
        let message = match e.kind() {
            ErrorKind::NotFound => "the config file does not exist".to_owned(),
            ErrorKind::InvalidData => "the config file is not UTF-8 text".to_owned(),
            _ => format!("the config file cannot be read: {e}"),
        };
        ConfigError::from(vec![Problem::new(path.display().to_string(), message)])
    })?;
    // `config.yaml` has the empty parent, which joins to paths relative to
    // the working directory, where the file itself was found.
    let base_dir = path.parent().unwrap_or(Path::new(""));
    from_yaml_str(&yaml, base_dir)
}

/// Parses and validates config `yaml`; relative TLS paths are resolved
/// against `base_dir` (the config file's directory).
pub fn from_yaml_str(yaml: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    let parsed = parse::parse(yaml, base_dir).map_err(|p| ConfigError::from(vec![p]))?;
    let mut problems = parsed.missing.clone();
    if let Err(found) = parsed.config.validate() {
        problems.extend(found.into_iter().filter(|p| !parsed.covers(p)));
    }
    if problems.is_empty() {
        Ok(parsed.config)
    } else {
        Err(problems.into())
    }
}

/// A scratch directory for tests that need real files (TLS paths must exist).
#[cfg(test)]
mod test_support {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir {
        path: PathBuf,
    }

    impl TempDir {
        /// Creates `authsidecar-config-<pid>-<n>`; the pid and counter keep
        /// parallel tests and parallel test runs apart.
        pub(crate) fn new() -> TempDir {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("authsidecar-config-{}-{n}", std::process::id()));
            fs::create_dir_all(&path).expect("create temp dir");
            TempDir { path }
        }

        /// The directory.
        pub(crate) fn path(&self) -> &Path {
            &self.path
        }

        /// Writes `contents` to `name` in the directory and returns its path.
        pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
            let path = self.path.join(name);
            fs::write(&path, contents).expect("write temp file");
            path
        }

        /// Writes placeholder `tls.crt` and `tls.key`; validation only checks
        /// that they can be opened.
        pub(crate) fn write_tls_files(&self) -> (PathBuf, PathBuf) {
            (
                self.write("tls.crt", "-----BEGIN CERTIFICATE-----\n"),
                self.write("tls.key", "-----BEGIN PRIVATE KEY-----\n"),
            )
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            // Best effort: a leftover directory in /tmp is harmless.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests;
