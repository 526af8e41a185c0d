//! Certificate hot reload. The listener's rustls config resolves its
//! certificate through an [`ArcSwap`]: a reload swaps the pointer, so the
//! next handshake gets the new certificate while every connection already
//! open keeps the one it was established with. Nothing is dropped.
//!
//! A reload reads both files, parses them and checks that the key belongs to
//! the certificate before swapping; a bad pair is refused and the previous
//! certificate stays in service. Reloads happen on SIGHUP and, when polling
//! is on, when the files' size or modification time change (which is what a
//! renewed Kubernetes secret or a cert-manager rotation looks like).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use tokio::signal::unix::Signal;
use tokio::sync::watch;

use super::{TlsError, load_certified_key, server_config_with};
use crate::metrics::CertReloads;

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The files were read and their certificate now serves new handshakes.
    Reloaded,
    /// The files have not changed since they were last read; nothing was done.
    Unchanged,
}

/// What made the watcher reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReloadTrigger {
    /// SIGHUP: reload whether or not the files look changed.
    Signal,
    /// The polling interval: reload only if the files changed.
    Poll,
}

impl ReloadTrigger {
    fn as_str(self) -> &'static str {
        match self {
            ReloadTrigger::Signal => "sighup",
            ReloadTrigger::Poll => "poll",
        }
    }
}

/// Size and modification time of one file; `None` when it cannot be read.
type FileStamp = Option<(Option<SystemTime>, u64)>;

/// Serves the certificate of whatever the resolver currently holds.
#[derive(Debug)]
struct Resolver {
    current: ArcSwap<CertifiedKey>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// A certificate and key served from PEM files and swapped for new ones
/// when the files change, without dropping connections.
#[derive(Debug)]
pub struct CertReloader {
    cert_file: PathBuf,
    key_file: PathBuf,
    resolver: Arc<Resolver>,
    config: Arc<ServerConfig>,
    /// The stamps of the files last read, well or badly: a bad file is
    /// reported once per change, not at every poll. The lock also keeps two
    /// reloads (a signal during a poll) from interleaving.
    seen: Mutex<(FileStamp, FileStamp)>,
    /// Counts the reloads that swapped the certificate.
    reloads: watch::Sender<u64>,
}

impl CertReloader {
    /// Loads the certificate chain and key; fails like [`super::server_config`]
    /// when they are unusable.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<CertReloader>, TlsError> {
        // Stamped before reading: a change landing during the read is seen
        // as a change at the next poll and read again.
        let seen = (stamp(cert_file), stamp(key_file));
        let key = load_certified_key(cert_file, key_file)?;
        let resolver = Arc::new(Resolver {
            current: ArcSwap::from_pointee(key),
        });
        let config = server_config_with(resolver.clone())?;
        Ok(Arc::new(CertReloader {
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
            resolver,
            config,
            seen: Mutex::new(seen),
            reloads: watch::channel(0).0,
        }))
    }

    /// The rustls config whose certificate follows the reloads.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }

    /// Reads the files again and serves their certificate to new handshakes.
    /// On an error the certificate served so far stays in service. Blocks on
    /// reading two small files.
    pub fn reload_now(&self) -> Result<ReloadOutcome, TlsError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        *seen = (stamp(&self.cert_file), stamp(&self.key_file));
        self.swap_in()
    }

    /// Like [`CertReloader::reload_now`], but only when a file's size or
    /// modification time differs from when it was last read.
    pub fn reload_if_changed(&self) -> Result<ReloadOutcome, TlsError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = (stamp(&self.cert_file), stamp(&self.key_file));
        if *seen == now {
            return Ok(ReloadOutcome::Unchanged);
        }
        *seen = now;
        self.swap_in()
    }

    /// A receiver of the number of reloads that swapped the certificate, to
    /// await the next one.
    pub fn reloads(&self) -> watch::Receiver<u64> {
        self.reloads.subscribe()
    }

    /// The end-entity certificate new handshakes get.
    pub fn certificate(&self) -> Option<CertificateDer<'static>> {
        self.resolver.current.load().cert.first().cloned()
    }

    fn swap_in(&self) -> Result<ReloadOutcome, TlsError> {
        let key = load_certified_key(&self.cert_file, &self.key_file)?;
        self.resolver.current.store(Arc::new(key));
        self.reloads.send_modify(|n| *n += 1);
        Ok(ReloadOutcome::Reloaded)
    }
}

fn stamp(path: &Path) -> FileStamp {
    // `metadata` follows symlinks, so the `..data` swap of a mounted
    // Kubernetes secret shows up as a change of the target.
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
}

/// Reloads `reloader` on every SIGHUP (when `hangups` is given) and, unless
/// `interval` is zero, when the files changed, checked every `interval`;
/// until `stop` changes or its sender is dropped. Reloads that read the
/// files are counted in `counts`.
pub(crate) async fn watch_files(
    reloader: Arc<CertReloader>,
    interval: Duration,
    mut hangups: Option<Signal>,
    mut stop: watch::Receiver<bool>,
    counts: CertReloads,
) {
    let mut poll = (!interval.is_zero()).then(|| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        let trigger = tokio::select! {
            _ = stop.changed() => return,
            () = next_hangup(&mut hangups) => ReloadTrigger::Signal,
            () = next_tick(&mut poll) => ReloadTrigger::Poll,
        };
        let r = reloader.clone();
        // File reads block; keep them off the runtime's worker threads.
        let result = tokio::task::spawn_blocking(move || match trigger {
            ReloadTrigger::Signal => r.reload_now(),
            ReloadTrigger::Poll => r.reload_if_changed(),
        })
        .await;
        match result {
            Ok(result) => {
                if !matches!(result, Ok(ReloadOutcome::Unchanged)) {
                    counts.count(result.is_ok());
                }
                report(&reloader, trigger, &result);
            }
            Err(e) => tracing::warn!(error = %e, "tls certificate reload task failed"),
        }
    }
}

/// Logs one reload's result; the place to count reloads.
pub(crate) fn report(
    reloader: &CertReloader,
    trigger: ReloadTrigger,
    result: &Result<ReloadOutcome, TlsError>,
) {
    let trigger = trigger.as_str();
    match result {
        Ok(ReloadOutcome::Reloaded) => tracing::info!(
            trigger,
            cert_file = %reloader.cert_file.display(),
            "tls certificate reloaded; new connections get it"
        ),
        Ok(ReloadOutcome::Unchanged) => {}
        Err(e) => tracing::warn!(
            trigger,
            error = %e,
            "new tls certificate or key refused; still serving the previous one"
        ),
    }
}

async fn next_hangup(hangups: &mut Option<Signal>) {
    match hangups {
        Some(signal) => {
            if signal.recv().await.is_none() {
                // The signal driver is gone: no more hangups will come.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

async fn next_tick(poll: &mut Option<tokio::time::Interval>) {
    match poll {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("authsidecar-reload-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_pair(cert: &Path, key: &Path) -> CertificateDer<'static> {
        let g = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(cert, g.cert.pem()).unwrap();
        std::fs::write(key, g.signing_key.serialize_pem()).unwrap();
        g.cert.der().clone()
    }

    #[test]
    fn polling_reloads_changes_once_and_reports_a_bad_file_once() {
        let dir = dir("poll");
        let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
        let first = write_pair(&cert, &key);
        let reloader = CertReloader::load(&cert, &key).unwrap();
        let reloads = reloader.reloads();
        assert_eq!(
            reloader.reload_if_changed().unwrap(),
            ReloadOutcome::Unchanged
        );

        std::fs::write(&cert, "not a certificate").unwrap();
        assert!(matches!(
            reloader.reload_if_changed(),
            Err(TlsError::Certificate { .. })
        ));
        // The same bad file is not read (nor reported) again at every poll.
        assert_eq!(
            reloader.reload_if_changed().unwrap(),
            ReloadOutcome::Unchanged
        );
        assert_eq!(reloader.certificate().unwrap(), first);
        assert_eq!(*reloads.borrow(), 0);

        let second = write_pair(&cert, &key);
        assert_eq!(
            reloader.reload_if_changed().unwrap(),
            ReloadOutcome::Reloaded
        );
        assert_eq!(reloader.certificate().unwrap(), second);
        assert_eq!(*reloads.borrow(), 1);
        // A forced reload reads unchanged files too.
        assert_eq!(reloader.reload_now().unwrap(), ReloadOutcome::Reloaded);
        assert_eq!(*reloads.borrow(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
