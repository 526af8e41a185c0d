//! How core failures reach the client: down (503 + Retry-After, and
//! recovery without a restart), slow (504 in time), erroring (no internals
//! leaked), and creates never sent twice. Also stale-if-error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use authsidecar_e2e::{Harness, Resp, start_core};
use http::Method;
use serde_json::json;

use crate::Edge;
use crate::fake_core::{FakeCore, admin_introspection};

/// A `GET {SCIM}{path}` as admin through `client`.
async fn get(client: &reqwest::Client, base: &str, path: &str) -> Resp {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(authsidecar_e2e::ADMIN)
        .send()
        .await
        .unwrap();
    Resp::read(response).await
}

#[tokio::test]
async fn core_down_is_503_with_retry_after_and_the_sidecar_recovers_by_itself() {
    let mut edge = Edge::start(|_| {}).await;
    let (client, base) = edge.client();
    assert_eq!(get(&client, &base, "/Users").await.status, 200);

    edge.stop_core().await;
    let down = get(&client, &base, "/Users").await;
    down.assert_error(503, None);
    assert_eq!(down.header("retry-after"), "5");

    // The same core comes back on the same port with the same data.
    let (addr, core) = start_core(&edge.dir, edge.core_addr).await;
    assert_eq!(addr, edge.core_addr);
    edge.core = Some(core);
    let back = get(&client, &base, "/Users").await;
    assert_eq!(back.status, 200, "{}", back.body);
    edge.shutdown().await;
}

#[tokio::test]
async fn a_slow_core_is_504_within_the_request_timeout() {
    let core = FakeCore::start(|_, _| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        admin_introspection()
    })
    .await;
    let url = core.url();
    let h = Harness::start_with(|c| {
        c.core.base_url = url;
        c.core.request_timeout_ms = 400;
    })
    .await;
    let started = Instant::now();
    let r = h.get("/Users").await;
    let elapsed = started.elapsed();
    r.assert_error(504, None);
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(400 + 1500), "{elapsed:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn core_errors_never_leak_internals_to_the_client() {
    const SECRET: &str = "hunter2-db-password";
    const INTERNAL_HOST: &str = "10.20.30.40:5432";
    let core = FakeCore::start(|_, path| async move {
        if path.ends_with("/introspect") {
            return admin_introspection();
        }
        let body = if path.ends_with("/users") {
            // Not the contract's error shape: a stack-trace-like page.
            format!("panic at db.rs:12: connect {INTERNAL_HOST} password={SECRET}")
        } else {
            // The contract's shape, with internals in the message.
            json!({
                "code": "internal",
                "message": format!("query failed on {INTERNAL_HOST} with {SECRET}"),
            })
            .to_string()
        };
        Some((500, body))
    })
    .await;
    let core_addr = core.addr.to_string();
    let url = core.url();
    let h = Harness::start_with(|c| c.core.base_url = url).await;
    for path in ["/Users", "/Users/abc123"] {
        let r = h.get(path).await;
        r.assert_error(502, None);
        let text = String::from_utf8_lossy(&r.raw).to_string() + &format!("{:?}", r.headers);
        for leaked in [SECRET, INTERNAL_HOST, core_addr.as_str(), "db.rs", "panic"] {
            assert!(!text.contains(leaked), "{path}: {leaked} leaked in {text}");
        }
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_create_is_never_sent_to_the_core_twice() {
    let posts = Arc::new(AtomicUsize::new(0));
    let core = {
        let posts = posts.clone();
        FakeCore::start(move |method, path| {
            let posts = posts.clone();
            async move {
                if path.ends_with("/introspect") {
                    return admin_introspection();
                }
                if method == Method::POST {
                    posts.fetch_add(1, Ordering::SeqCst);
                }
                // The connection breaks before any answer: the core may or
                // may not have created the user, so a retry could duplicate it.
                None
            }
        })
        .await
    };
    let url = core.url();
    let h = Harness::start_with(|c| c.core.base_url = url).await;
    let r = h
        .post(
            "/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "once@example.com",
            }),
        )
        .await;
    r.assert_error(503, None);
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn stale_if_error_keeps_known_tokens_working_through_a_core_outage() {
    let mut stale = Edge::start(|c| {
        c.auth.cache_ttl_secs = 1;
        c.auth.stale_if_error_secs = 60;
    })
    .await;
    let mut strict = Edge::start(|c| c.auth.cache_ttl_secs = 1).await;
    for edge in [&stale, &strict] {
        let (client, base) = edge.client();
        assert_eq!(
            get(&client, &base, "/ServiceProviderConfig").await.status,
            200
        );
    }
    stale.stop_core().await;
    strict.stop_core().await;
    // moka keeps its own clock: let the one-second TTL pass for real.
    tokio::time::sleep(Duration::from_millis(1300)).await;

    let (client, base) = stale.client();
    let r = get(&client, &base, "/ServiceProviderConfig").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Only authentication is served stale: calls that need the core still fail.
    get(&client, &base, "/Users").await.assert_error(503, None);

    let (client, base) = strict.client();
    get(&client, &base, "/ServiceProviderConfig")
        .await
        .assert_error(503, None);
    stale.shutdown().await;
    strict.shutdown().await;
}
