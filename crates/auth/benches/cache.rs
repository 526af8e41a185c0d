//! Micro-benchmarks of the token path every authenticated request takes: hashing the bearer
//! token, a verdict-cache hit, and a miss (a token never seen, verified by a trivial
//! in-memory verifier and inserted). Run with `cargo bench -p authsidecar-auth`.
//!
//! `TokenCache::verify` is async, so each iteration runs it with `block_on` on a
//! current-thread runtime; `block_on_ready` measures that overhead alone, to subtract.

#![allow(
    clippy::unwrap_used,
    reason = "the fixtures are constants; a failed unwrap is the bench's report"
)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use authsidecar_auth::{CacheOptions, TokenCache, TokenHash, Verdict, Verifier};
use authsidecar_core_api::Introspection;
use divan::{Bencher, black_box};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
}

/// A realistic Ignite API token length.
const TOKEN: &str = "ign_live_7Qm2xV9kLp3RtY8wZc4NbH6dFj1sGa5eUo0iKq";

/// Knows every token that starts with `ign_`; answers from memory.
struct InMemory;

impl Verifier for InMemory {
    type Error = Infallible;

    async fn verify(&self, token: &str) -> Result<Option<Introspection>, Infallible> {
        Ok(token.starts_with("ign_").then(|| Introspection {
            workspace: "acme".into(),
            token_id: "tok_1".into(),
            role: "Admin".into(),
        }))
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[divan::bench]
fn token_hash() -> TokenHash {
    TokenHash::of(black_box(TOKEN))
}

#[divan::bench]
fn block_on_ready(bencher: Bencher) {
    let rt = runtime();
    bencher.bench_local(|| rt.block_on(async { black_box(1u8) }));
}

#[divan::bench]
fn cache_hit(bencher: Bencher) {
    let rt = runtime();
    let cache = TokenCache::new(InMemory, CacheOptions::default());
    assert!(matches!(
        rt.block_on(cache.verify(TOKEN)).unwrap(),
        Verdict::Valid(_)
    ));
    bencher.bench_local(|| rt.block_on(cache.verify(black_box(TOKEN))).unwrap());
}

/// Every iteration presents a token never seen before: hash, miss, one verification,
/// insert. With the default capacity (100 000) long runs also pay for evictions, as a flood
/// of random tokens does.
#[divan::bench(args = ["valid", "invalid"])]
fn cache_miss(bencher: Bencher, kind: &str) {
    let rt = runtime();
    let cache = TokenCache::new(InMemory, CacheOptions::default());
    let prefix = if kind == "valid" {
        "ign_new_"
    } else {
        "bad_new_"
    };
    let next = AtomicU64::new(0);
    bencher
        .with_inputs(|| format!("{prefix}{}", next.fetch_add(1, Ordering::Relaxed)))
        .bench_local_values(|token| rt.block_on(cache.verify(&token)).unwrap());
}
