//! Stale-if-error: a valid verdict outlives its TTL only while the verifier
//! fails, only by `stale_if_error`, and never after the token was refused.

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("core down")]
struct Down;

/// What the scripted verifier answers next.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Valid,
    Invalid,
    Fail,
}

struct Scripted(Arc<Mutex<Answer>>);

impl Verifier for Scripted {
    type Error = Down;

    async fn verify(&self, _token: &str) -> Result<Option<Introspection>, Down> {
        let answer = *self.0.lock().unwrap();
        match answer {
            Answer::Valid => Ok(Some(Introspection {
                workspace: "acme".into(),
                token_id: "tok_1".into(),
                role: "Admin".into(),
            })),
            Answer::Invalid => Ok(None),
            Answer::Fail => Err(Down),
        }
    }
}

fn cache(ttl_ms: u64, stale_ms: u64) -> (TokenCache<Scripted>, Arc<Mutex<Answer>>) {
    let answer = Arc::new(Mutex::new(Answer::Valid));
    let options = CacheOptions {
        ttl: Duration::from_millis(ttl_ms),
        stale_if_error: Duration::from_millis(stale_ms),
        ..CacheOptions::default()
    };
    (TokenCache::new(Scripted(answer.clone()), options), answer)
}

fn set(answer: &Mutex<Answer>, to: Answer) {
    *answer.lock().unwrap() = to;
}

/// Waits out the TTL: moka keeps its own clock, so real time has to pass.
async fn past_ttl() {
    tokio::time::sleep(Duration::from_millis(250)).await;
}

#[tokio::test]
async fn a_valid_verdict_past_its_ttl_is_served_while_the_verifier_fails() {
    let (cache, answer) = cache(100, 5_000);
    assert!(matches!(
        cache.verify("t").await.unwrap(),
        Verdict::Valid(_)
    ));
    past_ttl().await;
    set(&answer, Answer::Fail);
    match cache.verify("t").await.unwrap() {
        Verdict::Valid(i) => assert_eq!(i.workspace, "acme"),
        other => panic!("{other:?}"),
    }
    assert_eq!(cache.stats().stale_served.load(Ordering::Relaxed), 1);
    // A token never seen valid has nothing stale to fall back on.
    assert!(cache.verify("other").await.is_err());
    // Stale verdicts are not cached: once the verifier answers, it decides.
    set(&answer, Answer::Invalid);
    assert_eq!(cache.verify("t").await.unwrap(), Verdict::Invalid);
}

#[tokio::test]
async fn stale_verdicts_end_stale_if_error_after_the_ttl() {
    let (cache, answer) = cache(100, 100);
    cache.verify("t").await.unwrap();
    set(&answer, Answer::Fail);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(cache.verify("t").await.is_err());
    assert_eq!(cache.stats().stale_served.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn off_by_default() {
    let (cache, answer) = cache(100, 0);
    cache.verify("t").await.unwrap();
    past_ttl().await;
    set(&answer, Answer::Fail);
    assert!(cache.verify("t").await.is_err());
}

#[tokio::test]
async fn a_refused_or_invalidated_token_is_not_served_stale() {
    let (cache, answer) = cache(100, 5_000);
    cache.verify("t").await.unwrap();
    past_ttl().await;
    set(&answer, Answer::Invalid);
    assert_eq!(cache.verify("t").await.unwrap(), Verdict::Invalid);
    set(&answer, Answer::Valid);
    // The invalid verdict is cached for the negative TTL; drop it.
    cache.invalidate("t").await;
    assert!(matches!(
        cache.verify("t").await.unwrap(),
        Verdict::Valid(_)
    ));
    cache.invalidate("t").await;
    set(&answer, Answer::Fail);
    assert!(cache.verify("t").await.is_err());
    assert_eq!(cache.stats().stale_served.load(Ordering::Relaxed), 0);
}
