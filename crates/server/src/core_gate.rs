//! The cap on concurrent work against the core (`limits.core_max_concurrency`).
//!
//! Every SCIM request takes one permit before it authenticates (which may
//! ask the core) and keeps it until its answer is ready, so the cap bounds
//! the SCIM requests talking to the core at once, and with them the core
//! calls in flight. There is no queue: a request that finds every permit
//! taken is answered 429 with `Retry-After` at once. Entra's provisioning
//! service honours `Retry-After`, and an immediate answer keeps a slow core
//! from also piling up waiting requests (and their connections) here.

use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError};

/// All permits are taken: the core already has as much work as allowed.
#[derive(Debug, thiserror::Error)]
#[error("{cap} requests to the core are already in flight")]
pub(crate) struct CoreBusy {
    /// The configured cap.
    pub(crate) cap: usize,
}

/// A counting gate in front of the core.
#[derive(Debug)]
pub(crate) struct CoreGate {
    permits: Semaphore,
    cap: usize,
}

impl CoreGate {
    /// A gate letting `cap` requests through at once (at least one).
    pub(crate) fn new(cap: usize) -> Self {
        let cap = cap.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Semaphore::new(cap),
            cap,
        }
    }

    /// A permit, or [`CoreBusy`] when none is free; never waits.
    pub(crate) fn try_enter(&self) -> Result<SemaphorePermit<'_>, CoreBusy> {
        self.permits.try_acquire().map_err(|e| match e {
            // The semaphore is never closed; either way nothing is free.
            TryAcquireError::NoPermits | TryAcquireError::Closed => CoreBusy { cap: self.cap },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_counted_and_returned() {
        let gate = CoreGate::new(2);
        let a = gate.try_enter().unwrap();
        let _b = gate.try_enter().unwrap();
        assert_eq!(gate.try_enter().unwrap_err().cap, 2);
        drop(a);
        assert!(gate.try_enter().is_ok());
        assert_eq!(CoreGate::new(0).cap, 1);
    }
}
