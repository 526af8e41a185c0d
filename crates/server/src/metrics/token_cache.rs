//! The verdict cache's own counters, read at scrape time: the cache keeps
//! hit and miss counts and its size itself, so copying them into separate
//! metrics on every lookup would only add work to the request path.

use std::sync::atomic::Ordering;

use authsidecar_auth::{TokenCache, Verifier};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Encodes `token_cache_hits`, `token_cache_misses` and `token_cache_entries`.
pub(crate) struct TokenCacheCollector<V: Verifier>(pub(crate) TokenCache<V>);

impl<V: Verifier> std::fmt::Debug for TokenCacheCollector<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCacheCollector")
            .finish_non_exhaustive()
    }
}

impl<V: Verifier> Collector for TokenCacheCollector<V> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let hits = ConstCounter::new(stats.hits.load(Ordering::Relaxed));
        hits.encode(encoder.encode_descriptor(
            "token_cache_hits",
            "Token verdicts answered from the cache.",
            None,
            hits.metric_type(),
        )?)?;
        let misses = ConstCounter::new(stats.misses.load(Ordering::Relaxed));
        misses.encode(encoder.encode_descriptor(
            "token_cache_misses",
            "Token verdicts asked of the core (one per group of concurrent lookups).",
            None,
            misses.metric_type(),
        )?)?;
        // moka's count trails inserts and evictions until its maintenance runs.
        let entries = ConstGauge::new(i64::try_from(self.0.entry_count()).unwrap_or(i64::MAX));
        entries.encode(encoder.encode_descriptor(
            "token_cache_entries",
            "Token verdicts cached (approximate).",
            None,
            entries.metric_type(),
        )?)?;
        Ok(())
    }
}
