//! Whether this sidecar should get traffic: its certificate is loaded, it
//! is not draining, and the core answered recently.
//!
//! The core's state is the outcome of the most recent core call, whoever
//! made it: a request's call or the admin listener's background probe,
//! which calls only when no other call was seen for
//! [`PROBE_INTERVAL`](super::PROBE_INTERVAL). An observation older than
//! [`CORE_CHECK_MAX_AGE`] no longer counts (the probe has stopped, so the
//! answer is unknown). Everything is atomics: every core call writes here.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How old the last word on the core may be for `/readyz` to trust it.
pub(crate) const CORE_CHECK_MAX_AGE: Duration = Duration::from_secs(10);

const CORE_UNKNOWN: u8 = 0;
const CORE_REACHABLE: u8 = 1;
const CORE_UNREACHABLE: u8 = 2;

/// Why the sidecar is not ready; the text is `/readyz`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// Shutdown has begun: load balancers should stop sending requests.
    #[error("draining: shutdown has begun")]
    Draining,
    /// The HTTPS listener has no certificate yet.
    #[error("no tls certificate loaded yet")]
    NoCertificate,
    /// No core call has been made yet.
    #[error("the core has not been checked yet")]
    CoreUnchecked,
    /// The last core call got no answer (refused, timed out).
    #[error("the core is unreachable")]
    CoreUnreachable,
    /// The last core call is older than [`CORE_CHECK_MAX_AGE`].
    #[error("the core has not been checked for {0} s")]
    CoreStale(u64),
}

/// The readiness of one sidecar, shared by the listener, the core client
/// and the admin listener.
#[derive(Debug)]
pub struct Readiness {
    started: Instant,
    draining: AtomicBool,
    certificate: AtomicBool,
    core: AtomicU8,
    /// Milliseconds after `started` of the last core observation.
    core_at_ms: AtomicU64,
}

impl Default for Readiness {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            draining: AtomicBool::new(false),
            certificate: AtomicBool::new(false),
            core: AtomicU8::new(CORE_UNKNOWN),
            core_at_ms: AtomicU64::new(0),
        }
    }
}

impl Readiness {
    /// Marks the start of shutdown: from now on the sidecar is not ready,
    /// for good.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Records whether the HTTPS listener has a usable certificate.
    pub fn set_certificate_loaded(&self, loaded: bool) {
        self.certificate.store(loaded, Ordering::SeqCst);
    }

    /// Records the outcome of a core call: `true` when the core answered.
    pub(crate) fn observe_core(&self, reachable: bool) {
        let state = if reachable {
            CORE_REACHABLE
        } else {
            CORE_UNREACHABLE
        };
        self.core_at_ms.store(self.now_ms(), Ordering::SeqCst);
        self.core.store(state, Ordering::SeqCst);
    }

    /// Whether some core call ended within the last `age`.
    pub(crate) fn core_observed_within(&self, age: Duration) -> bool {
        self.core.load(Ordering::SeqCst) != CORE_UNKNOWN && self.core_age() <= age
    }

    /// `Ok` when the sidecar should get traffic, else the first reason it
    /// should not.
    pub fn check(&self) -> Result<(), NotReady> {
        if self.is_draining() {
            return Err(NotReady::Draining);
        }
        if !self.certificate.load(Ordering::SeqCst) {
            return Err(NotReady::NoCertificate);
        }
        match self.core.load(Ordering::SeqCst) {
            CORE_UNKNOWN => Err(NotReady::CoreUnchecked),
            _ if self.core_age() > CORE_CHECK_MAX_AGE => {
                Err(NotReady::CoreStale(self.core_age().as_secs()))
            }
            CORE_REACHABLE => Ok(()),
            _ => Err(NotReady::CoreUnreachable),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn core_age(&self) -> Duration {
        let at = self.core_at_ms.load(Ordering::SeqCst);
        Duration::from_millis(self.now_ms().saturating_sub(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_needs_a_certificate_a_reachable_core_and_no_drain() {
        let r = Readiness::default();
        assert_eq!(r.check(), Err(NotReady::NoCertificate));
        r.set_certificate_loaded(true);
        assert_eq!(r.check(), Err(NotReady::CoreUnchecked));
        assert!(!r.core_observed_within(Duration::from_secs(60)));
        r.observe_core(false);
        assert_eq!(r.check(), Err(NotReady::CoreUnreachable));
        r.observe_core(true);
        assert_eq!(r.check(), Ok(()));
        assert!(r.core_observed_within(Duration::from_secs(1)));
        r.start_draining();
        assert_eq!(r.check(), Err(NotReady::Draining));
        r.observe_core(true);
        assert_eq!(r.check(), Err(NotReady::Draining));
        assert_eq!(
            NotReady::CoreStale(12).to_string(),
            "the core has not been checked for 12 s"
        );
    }
}
