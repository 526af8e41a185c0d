//! Rejected tokens: every one counted, few logged.
//!
//! A client sending unknown tokens gets a 401 each time; logging each would
//! turn a flood of random tokens into a flood of log lines (one benchmark
//! run wrote 93 MB). So every rejection increments
//! `authsidecar_token_rejections_total`, but the `rejected unknown token`
//! warn line is written at most once per [`LOG_INTERVAL`], carrying the
//! number of rejections left unlogged since the previous line
//! (`suppressed`). The first rejection is always logged, inside its
//! request's span, so it carries the request id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authsidecar_auth::TokenHash;
use prometheus_client::metrics::counter::Counter;

/// At most one warn line per interval.
pub(crate) const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Counts rejected tokens and rate-limits their warn line.
#[derive(Debug)]
pub(crate) struct RejectionLog {
    counter: Counter,
    epoch: Instant,
    /// Milliseconds after `epoch` before which no line is written.
    next_line_ms: AtomicU64,
    /// Rejections not logged since the last line.
    suppressed: AtomicU64,
}

impl RejectionLog {
    /// A log counting into `counter`.
    pub(crate) fn new(counter: Counter) -> Self {
        Self {
            counter,
            epoch: Instant::now(),
            next_line_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Records one rejected token (logged by its hash, never the token).
    pub(crate) fn rejected(&self, hash: &TokenHash) {
        self.counter.inc();
        if let Some(suppressed) = self.admit(Instant::now()) {
            tracing::warn!(token = %hash.short(), suppressed, "rejected unknown token");
        }
    }

    /// Whether a rejection at `now` gets a line: `Some(rejections not
    /// logged since the previous line)`, or `None` (then it is one of them).
    fn admit(&self, now: Instant) -> Option<u64> {
        let now_ms = millis(now.saturating_duration_since(self.epoch));
        let next = self.next_line_ms.load(Ordering::Relaxed);
        // Of concurrent rejections due a line, the one that moves the
        // deadline writes it.
        let due = now_ms >= next
            && self
                .next_line_ms
                .compare_exchange(
                    next,
                    now_ms.saturating_add(millis(LOG_INTERVAL)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        if due {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_of_the_rest() {
        let log = RejectionLog::new(Counter::default());
        let at = |ms: u64| log.epoch + Duration::from_millis(ms);
        assert_eq!(log.admit(at(0)), Some(0));
        assert_eq!(log.admit(at(10)), None);
        assert_eq!(log.admit(at(500)), None);
        assert_eq!(log.admit(at(999)), None);
        assert_eq!(log.admit(at(1000)), Some(3));
        assert_eq!(log.admit(at(1500)), None);
        // A quiet spell: the next rejection is logged at once.
        assert_eq!(log.admit(at(60_000)), Some(1));
        assert_eq!(log.admit(at(60_001)), None);
    }

    #[test]
    fn every_rejection_is_counted_logged_or_not() {
        let counter = Counter::default();
        let log = RejectionLog::new(counter.clone());
        let hash = TokenHash::of("not-a-token");
        for _ in 0..5 {
            log.rejected(&hash);
        }
        assert_eq!(counter.get(), 5);
    }
}
