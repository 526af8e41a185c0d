//! Bearer tokens: extraction (RFC 6750 §2.1), hashing, and a verdict cache.
//!
//! The cache is keyed by the SHA-256 of the token, never the token itself,
//! so a heap dump or a debug print of the cache holds no secret. Verdicts
//! come from a [`Verifier`] (in production, the core's introspection
//! endpoint). Concurrent requests that present the same new token share one
//! verification (single flight); failures to verify are not cached, so an
//! outage of the core does not poison the cache.
//!
//! Stale-if-error (off by default): when a verification fails, a *valid*
//! verdict whose TTL ran out at most `stale_if_error` ago is served instead
//! of the error. Only valid verdicts are kept for this, an invalid verdict
//! or [`TokenCache::invalidate`] drops the token's stale copy, and stale
//! verdicts are never put back in the cache: every request during the
//! outage tries the verifier first.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authsidecar_core_api::Introspection;
use moka::Expiry;
use moka::future::Cache;
use sha2::{Digest, Sha256};

/// SHA-256 of a bearer token: the cache key and, shortened, the log field.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes a token.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// The first 12 hex digits of the hash: enough to correlate log lines,
    /// useless for recovering the token.
    pub fn short(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(12);
        for b in &self.0[..6] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.short())
    }
}

/// Why a request carries no usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// No `Authorization` header at all.
    #[error("no Authorization header; send 'Authorization: Bearer <Ignite API token>'")]
    Missing,
    /// A header with another scheme, or an empty token.
    #[error("the Authorization header is not 'Bearer <token>'")]
    Malformed,
}

/// Extracts the token from an `Authorization` header value. The scheme name
/// is case-insensitive (RFC 7235 §2.1); surrounding spaces are ignored.
pub fn bearer_token(header: Option<&str>) -> Result<&str, BearerError> {
    let value = header.ok_or(BearerError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(BearerError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

/// The cached answer for one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The core knows the token.
    Valid(Arc<Introspection>),
    /// The core does not know the token.
    Invalid,
}

/// Something that can tell who a token belongs to.
pub trait Verifier: Send + Sync + 'static {
    /// Why a verification could not be done (not "the token is invalid").
    type Error: std::error::Error + Send + Sync + 'static;

    /// `Ok(None)` for an unknown token; `Err` when no answer could be had.
    fn verify(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<Introspection>, Self::Error>> + Send;
}

/// Lifetimes and size of the verdict cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheOptions {
    /// How long a valid verdict is trusted; bounds how long a revoked token keeps working.
    pub ttl: Duration,
    /// How long an invalid verdict is remembered (0 disables negative caching).
    pub negative_ttl: Duration,
    /// Maximum number of cached verdicts; bounds memory under a flood of random tokens.
    pub capacity: u64,
    /// How long past `ttl` a valid verdict may still be served when the
    /// verifier fails (the core is unreachable); zero disables it.
    pub stale_if_error: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(5),
            capacity: 100_000,
            stale_if_error: Duration::ZERO,
        }
    }
}

struct VerdictExpiry {
    ttl: Duration,
    negative_ttl: Duration,
}

impl Expiry<TokenHash, Verdict> for VerdictExpiry {
    fn expire_after_create(
        &self,
        _: &TokenHash,
        verdict: &Verdict,
        _: Instant,
    ) -> Option<Duration> {
        Some(match verdict {
            Verdict::Valid(_) => self.ttl,
            Verdict::Invalid => self.negative_ttl,
        })
    }
}

/// Cache hit and miss counts, for metrics.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: std::sync::atomic::AtomicU64,
    /// Lookups that asked the verifier (one per single-flight group).
    pub misses: std::sync::atomic::AtomicU64,
    /// Failed verifications answered with a stale valid verdict.
    pub stale_served: std::sync::atomic::AtomicU64,
}

/// The verdict cache in front of a [`Verifier`].
pub struct TokenCache<V: Verifier> {
    cache: Cache<TokenHash, Verdict>,
    /// Valid verdicts, kept `ttl + stale_if_error`; `None` when that is off.
    stale: Option<Cache<TokenHash, Arc<Introspection>>>,
    verifier: Arc<V>,
    stats: Arc<CacheStats>,
}

impl<V: Verifier> Clone for TokenCache<V> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            stale: self.stale.clone(),
            verifier: self.verifier.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<V: Verifier> TokenCache<V> {
    /// A cache in front of `verifier`.
    pub fn new(verifier: V, options: CacheOptions) -> Self {
        let cache = Cache::builder()
            .max_capacity(options.capacity)
            .expire_after(VerdictExpiry {
                ttl: options.ttl,
                negative_ttl: options.negative_ttl,
            })
            .build();
        let stale = (!options.stale_if_error.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(options.capacity)
                .time_to_live(options.ttl.saturating_add(options.stale_if_error))
                .build()
        });
        Self {
            cache,
            stale,
            verifier: Arc::new(verifier),
            stats: Arc::new(CacheStats::default()),
        }
    }

    /// The verdict for `token`, from the cache or from one verification
    /// shared by every concurrent caller with the same token; when that
    /// verification fails, a stale valid verdict if stale-if-error allows.
    pub async fn verify(&self, token: &str) -> Result<Verdict, Arc<V::Error>> {
        self.verify_hashed(token, TokenHash::of(token)).await
    }

    /// [`verify`](Self::verify) for a caller that has hashed `token`
    /// already (`key` must be `TokenHash::of(token)`), so it is hashed once.
    pub async fn verify_hashed(
        &self,
        token: &str,
        key: TokenHash,
    ) -> Result<Verdict, Arc<V::Error>> {
        if let Some(v) = self.cache.get(&key).await {
            self.stats
                .hits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(v);
        }
        let verifier = self.verifier.clone();
        let stats = self.stats.clone();
        let stale = self.stale.clone();
        let loaded = self
            .cache
            .try_get_with(key, async move {
                stats
                    .misses
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let answer = verifier.verify(token).await?;
                Ok(match answer {
                    Some(i) => {
                        let i = Arc::new(i);
                        if let Some(stale) = &stale {
                            stale.insert(key, i.clone()).await;
                        }
                        Verdict::Valid(i)
                    }
                    None => {
                        // A revoked token must not come back as a stale verdict.
                        if let Some(stale) = &stale {
                            stale.invalidate(&key).await;
                        }
                        Verdict::Invalid
                    }
                })
            })
            .await;
        let error = match loaded {
            Ok(verdict) => return Ok(verdict),
            Err(e) => e,
        };
        let Some(identity) = self.stale_verdict(&key).await else {
            return Err(error);
        };
        self.stats
            .stale_served
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            token = %key.short(),
            error = %error,
            "token verification failed; serving the last valid verdict (stale-if-error)"
        );
        Ok(Verdict::Valid(identity))
    }

    async fn stale_verdict(&self, key: &TokenHash) -> Option<Arc<Introspection>> {
        self.stale.as_ref()?.get(key).await
    }

    /// Forgets the verdict for `token`, for example after the core refused a
    /// token the cache still thought valid.
    pub async fn invalidate(&self, token: &str) {
        let key = TokenHash::of(token);
        self.cache.invalidate(&key).await;
        if let Some(stale) = &self.stale {
            stale.invalidate(&key).await;
        }
    }

    /// Hit and miss counters.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Number of cached verdicts (approximate until pending tasks run).
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Runs moka's pending maintenance (evictions, counts); for tests and metrics.
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod stale_tests;
#[cfg(test)]
mod tests;
