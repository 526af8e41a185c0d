use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("core down")]
struct Down;

/// A verifier that knows one token, counts its calls, and can be made to fail.
struct Counting {
    calls: Arc<AtomicUsize>,
    fail: Arc<std::sync::atomic::AtomicBool>,
    delay: Duration,
}

impl Verifier for Counting {
    type Error = Down;

    async fn verify(&self, token: &str) -> Result<Option<Introspection>, Down> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fail.load(Ordering::SeqCst) {
            return Err(Down);
        }
        Ok((token == "good").then(|| Introspection {
            workspace: "acme".into(),
            token_id: "tok_1".into(),
            role: "Admin".into(),
        }))
    }
}

fn cache(
    delay_ms: u64,
    options: CacheOptions,
) -> (
    TokenCache<Counting>,
    Arc<AtomicUsize>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let v = Counting {
        calls: calls.clone(),
        fail: fail.clone(),
        delay: Duration::from_millis(delay_ms),
    };
    (TokenCache::new(v, options), calls, fail)
}

#[test]
fn bearer_extraction() {
    assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("  BEARER   abc  ")), Ok("abc"));
    assert_eq!(bearer_token(None), Err(BearerError::Missing));
    assert_eq!(bearer_token(Some("Basic abc")), Err(BearerError::Malformed));
    assert_eq!(bearer_token(Some("Bearer")), Err(BearerError::Malformed));
    assert_eq!(bearer_token(Some("Bearer ")), Err(BearerError::Malformed));
    assert_eq!(
        bearer_token(Some("Bearer a b")),
        Err(BearerError::Malformed)
    );
}

#[test]
fn hash_short_form_is_twelve_hex_digits_and_not_the_token() {
    let h = TokenHash::of("secret-token");
    assert_eq!(h.short().len(), 12);
    assert!(h.short().chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!format!("{h:?}").contains("secret"));
    assert_ne!(TokenHash::of("a"), TokenHash::of("b"));
    // SHA-256("abc") begins ba7816bf8f01 (FIPS 180-2 test vector).
    assert_eq!(TokenHash::of("abc").short(), "ba7816bf8f01");
}

#[tokio::test]
async fn concurrent_callers_with_a_new_token_share_one_verification() {
    let (cache, calls, _) = cache(50, CacheOptions::default());
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let c = cache.clone();
        tasks.push(tokio::spawn(async move { c.verify("good").await }));
    }
    for t in tasks {
        let v = t.await.unwrap().unwrap();
        assert!(matches!(v, Verdict::Valid(ref i) if i.workspace == "acme"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A later call is a hit.
    cache.verify("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.stats().misses.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn invalid_verdicts_expire_after_the_negative_ttl() {
    let options = CacheOptions {
        ttl: Duration::from_secs(60),
        negative_ttl: Duration::from_millis(150),
        capacity: 100,
        stale_if_error: Duration::ZERO,
    };
    let (cache, calls, _) = cache(0, options);
    assert_eq!(cache.verify("bad").await.unwrap(), Verdict::Invalid);
    assert_eq!(cache.verify("bad").await.unwrap(), Verdict::Invalid);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // moka keeps its own clock, so real time has to pass.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.verify("bad").await.unwrap(), Verdict::Invalid);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The positive verdict is still cached well past the negative TTL.
    cache.verify("good").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    cache.verify("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn verifier_failures_are_not_cached() {
    let (cache, calls, fail) = cache(0, CacheOptions::default());
    fail.store(true, Ordering::SeqCst);
    assert!(cache.verify("good").await.is_err());
    fail.store(false, Ordering::SeqCst);
    assert!(matches!(
        cache.verify("good").await.unwrap(),
        Verdict::Valid(_)
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn invalidate_forces_a_new_verification() {
    let (cache, calls, _) = cache(0, CacheOptions::default());
    cache.verify("good").await.unwrap();
    cache.invalidate("good").await;
    cache.verify("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn capacity_bounds_the_number_of_entries() {
    let options = CacheOptions {
        capacity: 50,
        ..CacheOptions::default()
    };
    let (cache, _, _) = cache(0, options);
    for i in 0..500 {
        cache.verify(&format!("random-{i}")).await.unwrap();
    }
    cache.run_pending_tasks().await;
    assert!(cache.entry_count() <= 50, "{}", cache.entry_count());
}
