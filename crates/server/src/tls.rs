//! TLS: the one place that chooses the crypto provider and builds rustls
//! server configs. TLS 1.2 and 1.3 only (rustls implements nothing older, so
//! a TLS 1.0 or 1.1 ClientHello gets a `protocol_version` alert), ALPN `h2`
//! then `http/1.1`, certificates and keys from PEM files.
//!
//! A listener's certificate is either fixed ([`server_config`]) or
//! reloaded from its files while the sidecar runs ([`CertReloader`]): new
//! handshakes get the new certificate, connections already open keep theirs.

mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::ResolvesServerCert;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub(crate) use reload::watch_files;
pub use reload::{CertReloader, ReloadOutcome};

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no PEM certificate.
    #[error("cannot read certificate chain {path}: {reason}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The key file could not be read or holds no PEM private key.
    #[error("cannot read private key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the pair (for example the key does not match the certificate).
    #[error("certificate and key are not usable together: {0}")]
    Config(String),
    /// Writing a generated certificate failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// The crypto provider every config in this process uses (aws-lc-rs).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Installs [`provider`] as the process default, for dependencies that ask
/// for it. Harmless if one is already installed.
pub fn install_default_provider() {
    // An Err only means another default was installed first (tests do that).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Where a listener gets its certificate.
#[derive(Debug, Clone)]
pub enum ServerTls {
    /// One certificate for the listener's whole life.
    Fixed(Arc<ServerConfig>),
    /// A certificate reloaded from its files on SIGHUP and when they change.
    Reloading(Arc<CertReloader>),
}

impl ServerTls {
    /// The rustls config handshakes use.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        match self {
            ServerTls::Fixed(config) => config.clone(),
            ServerTls::Reloading(reloader) => reloader.server_config(),
        }
    }

    /// The reloader, when the certificate is reloadable.
    pub(crate) fn reloader(&self) -> Option<&Arc<CertReloader>> {
        match self {
            ServerTls::Fixed(_) => None,
            ServerTls::Reloading(reloader) => Some(reloader),
        }
    }
}

impl From<Arc<ServerConfig>> for ServerTls {
    fn from(config: Arc<ServerConfig>) -> Self {
        ServerTls::Fixed(config)
    }
}

impl From<Arc<CertReloader>> for ServerTls {
    fn from(reloader: Arc<CertReloader>) -> Self {
        ServerTls::Reloading(reloader)
    }
}

/// Builds a server config with a fixed certificate from PEM files.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let key = load_certified_key(cert_file, key_file)?;
    server_config_with(Arc::new(SingleCertAndKey::from(key)))
}

/// The listener's config around a certificate resolver: protocol versions,
/// ALPN and provider are the same whatever serves the certificate.
fn server_config_with(
    resolver: Arc<dyn ResolvesServerCert>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads a PEM certificate chain and private key and checks that the key
/// belongs to the chain's first certificate.
fn load_certified_key(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| TlsError::Certificate {
            path: cert_file.to_owned(),
            reason: e.to_string(),
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate {
            path: cert_file.to_owned(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert_file.to_owned(),
            reason: "no PEM CERTIFICATE block found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| TlsError::Key {
        path: key_file.to_owned(),
        reason: e.to_string(),
    })?;
    // Parses the key and compares its public half with the certificate's.
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Config(e.to_string()))
}

/// A self-signed certificate written as PEM files, for `authsidecar dev`.
#[derive(Debug, Clone)]
pub struct GeneratedCert {
    /// The certificate (also the CA a client should trust).
    pub cert_file: PathBuf,
    /// The private key (mode 0600).
    pub key_file: PathBuf,
}

/// Returns `dir/dev-cert.pem` and `dir/dev-key.pem`, generating a P-256
/// self-signed certificate for `localhost`, `127.0.0.1` and `::1` (plus
/// `extra_names`) when they do not exist yet.
pub fn ensure_self_signed(dir: &Path, extra_names: &[String]) -> Result<GeneratedCert, TlsError> {
    let cert_file = dir.join("dev-cert.pem");
    let key_file = dir.join("dev-key.pem");
    if cert_file.exists() && key_file.exists() {
        return Ok(GeneratedCert {
            cert_file,
            key_file,
        });
    }
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(extra_names.iter().cloned());
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Write {
        path: cert_file.clone(),
        reason: e.to_string(),
    })?;
    write_private(&key_file, generated.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_file, generated.cert.pem()).map_err(|e| TlsError::Write {
        path: cert_file.clone(),
        reason: e.to_string(),
    })?;
    Ok(GeneratedCert {
        cert_file,
        key_file,
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let err = |e: std::io::Error| TlsError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("authsidecar-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn generated_certificate_loads_with_alpn_and_is_reused() {
        let dir = temp_dir("gen");
        let g = ensure_self_signed(&dir, &[]).unwrap();
        let config = server_config(&g.cert_file, &g.key_file).unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let before = std::fs::read(&g.cert_file).unwrap();
        ensure_self_signed(&dir, &[]).unwrap();
        assert_eq!(std::fs::read(&g.cert_file).unwrap(), before);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&g.key_file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_files_give_errors_naming_the_file() {
        let dir = temp_dir("bad");
        let cert = dir.join("c.pem");
        let key = dir.join("k.pem");
        std::fs::write(&cert, "not pem").unwrap();
        std::fs::write(&key, "not pem").unwrap();
        let err = server_config(&cert, &key).unwrap_err();
        assert!(matches!(err, TlsError::Certificate { .. }), "{err}");
        assert!(err.to_string().contains("c.pem"));
        let g = ensure_self_signed(&dir, &[]).unwrap();
        let err = server_config(&g.cert_file, &key).unwrap_err();
        assert!(matches!(err, TlsError::Key { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
