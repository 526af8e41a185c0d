//! The passthrough to the Ignite app, end to end: the real sidecar (TLS,
//! HTTP/1.1 and h2) and the real local core, in front of a small real app
//! (`passthrough/app.rs`) on 127.0.0.1, driven by a raw client
//! (`passthrough/client.rs`) that sends request targets exactly as written.
//! Here: what the app receives and streaming; `passthrough/routing.rs`: which
//! paths reach it and how; `passthrough/failures.rs`: 502, 504, no retries;
//! `passthrough/pooling.rs`: which requests share a connection to the app.
#![allow(clippy::unwrap_used)] // tests: a failed step should fail loudly

#[path = "passthrough/app.rs"]
mod app;
#[path = "passthrough/client.rs"]
mod client;
#[path = "passthrough/failures.rs"]
mod failures;
#[path = "passthrough/pooling.rs"]
mod pooling;
#[path = "passthrough/routing.rs"]
mod routing;

use authsidecar_config::{AppConfig, IdentityHeaders};
use authsidecar_e2e::{ADMIN, Harness, OTHER, VIEWER};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc;

use app::App;
use client::{ChannelBody, Conn, Proto, bytes, call, empty, read, within};

const BOTH: [Proto; 2] = [Proto::H1, Proto::H2];

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A sidecar whose `app` section is `AppConfig::new(app)` (what
/// `authsidecar dev --app URL` sets) with public paths `/healthz` and
/// `/assets/`, then `adjust`ed.
async fn sidecar_for(app: &App, adjust: impl FnOnce(&mut AppConfig)) -> Harness {
    let mut config = AppConfig::new(app.url());
    config.public_paths = vec!["/healthz".to_owned(), "/assets/".to_owned()];
    adjust(&mut config);
    Harness::start_with(move |c| c.app = Some(config)).await
}

/// `GET target` on a new connection, read whole.
async fn get(h: &Harness, proto: Proto, target: &str, headers: &[(&str, &str)]) -> client::Got {
    call(h, proto, "GET", target, headers, empty()).await
}

/// The values of header `name` (lower case) the app received, in order.
fn received(echo: &Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .collect()
}

/// Every header the app received that a lenient backend would read as one
/// of `names` (letter case ignored, `_` and `.` read as `-`).
fn lookalikes(echo: &Value, names: &[&str]) -> Vec<(String, String)> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    let wanted: Vec<String> = names.iter().map(|n| norm(n)).collect();
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .filter(|(n, _)| wanted.contains(&norm(n)))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

const IDENTITY: [&str; 3] = ["x-ignite-workspace", "x-ignite-token-id", "x-ignite-role"];

fn viewer_identity() -> Vec<(String, String)> {
    vec![
        ("x-ignite-workspace".into(), "acme".into()),
        (
            "x-ignite-token-id".into(),
            authsidecar_local_core::token_id("acme", "reports"),
        ),
        ("x-ignite-role".into(), "Viewer".into()),
    ]
}

/// The `--app` config: any valid token (here a Viewer's) reaches the app,
/// which sees the identity, the forwarding headers, its own Host, the same
/// request id as the client, and HTTP/1.1 whatever the client spoke; SCIM
/// stays with the sidecar.
#[tokio::test]
async fn dev_app_config_forwards_with_identity_and_forwarding_headers() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    for proto in BOTH {
        let auth = bearer(VIEWER);
        let got = get(
            &h,
            proto,
            "/app/orders?id=7",
            &[
                ("authorization", &auth),
                ("x-forwarded-for", "203.0.113.9"),
                ("cookie", "a=1"),
                ("cookie", "b=2"),
            ],
        )
        .await;
        assert_eq!(
            got.status,
            200,
            "{proto:?}: {}",
            String::from_utf8_lossy(&got.raw)
        );
        assert_eq!(got.header("content-type"), "application/json");
        assert_eq!(got.header("x-app-normal"), "kept");
        let echo = &got.json;
        assert_eq!(echo["method"], "GET");
        assert_eq!(echo["target"], "/app/orders?id=7");
        assert_eq!(echo["version"], "HTTP/1.1");
        let sidecar = format!("127.0.0.1:{}", h.addr().port());
        assert_eq!(received(echo, "host"), vec![app.addr.to_string()]);
        assert_eq!(received(echo, "x-forwarded-host"), vec![sidecar]);
        assert_eq!(received(echo, "x-forwarded-proto"), vec!["https"]);
        assert_eq!(
            received(echo, "x-forwarded-for"),
            vec!["203.0.113.9, 127.0.0.1"]
        );
        assert_eq!(received(echo, "cookie"), vec!["a=1; b=2"]);
        assert_eq!(received(echo, "authorization"), Vec::<String>::new());
        assert_eq!(lookalikes(echo, &IDENTITY), viewer_identity());
        let request_id = got.header("x-request-id");
        assert_eq!(request_id.len(), 36, "{request_id}");
        assert_eq!(received(echo, "x-request-id"), vec![request_id]);
    }
    let scim = get(
        &h,
        Proto::H1,
        "/api/v1/scim/v2/Users",
        &[("authorization", &bearer(ADMIN))],
    )
    .await;
    assert_eq!(scim.status, 200);
    assert_eq!(scim.header("content-type"), "application/scim+json");
    assert_eq!(app.seen(), vec!["GET /app/orders?id=7"; 2]);
    h.shutdown().await;
}

/// A multi-MiB response reaches the client while the app is still sending:
/// the first 64 KiB arrive before the app is even allowed to send the rest.
#[tokio::test]
async fn responses_stream_before_the_app_finishes() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    for proto in BOTH {
        let mut conn = Conn::open(&h, proto).await;
        let req = conn
            .request("GET", "/stream")
            .header("authorization", bearer(VIEWER))
            .body(empty())
            .unwrap();
        let response = conn.send(req).await;
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut got = Vec::new();
        while got.len() < app::FIRST {
            let frame = within(body.frame()).await.unwrap().unwrap();
            got.extend_from_slice(&frame.into_data().unwrap());
        }
        assert_eq!(got.len(), app::FIRST, "{proto:?}");
        app.release.notify_one();
        got.extend_from_slice(&within(body.collect()).await.unwrap().to_bytes());
        assert_eq!(got.len(), app::FIRST + app::REST, "{proto:?}");
        assert!(
            got.iter().enumerate().all(|(i, b)| *b == app::pattern(i)),
            "{proto:?}: body bytes differ from what the app sent"
        );
    }
    h.shutdown().await;
}

/// An 8 MiB request body is forwarded as it arrives: the app has the first
/// chunk before the client has sent the second, and receives every byte.
#[tokio::test]
async fn request_bodies_stream_to_the_app() {
    const CHUNK: usize = 1024 * 1024;
    const CHUNKS: usize = 8;
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    for proto in BOTH {
        let mut conn = Conn::open(&h, proto).await;
        let (tx, rx) = mpsc::channel::<Bytes>(1);
        let req = conn
            .request("POST", "/stream-in")
            .header("authorization", bearer(VIEWER))
            .body(ChannelBody(rx).boxed())
            .unwrap();
        let chunk = |n: usize| Bytes::from(vec![(n % 200) as u8 + 1; CHUNK]);
        let feed = async {
            tx.send(chunk(0)).await.unwrap();
            within(app.first_in.notified()).await;
            for n in 1..CHUNKS {
                tx.send(chunk(n)).await.unwrap();
            }
            drop(tx);
        };
        let (response, ()) = tokio::join!(conn.send(req), feed);
        let got = read(response).await;
        let sum: u64 = (0..CHUNKS)
            .map(|n| ((n % 200) as u64 + 1) * CHUNK as u64)
            .sum();
        assert_eq!(got.status, 200, "{proto:?}");
        assert_eq!(got.json["len"], (CHUNK * CHUNKS) as u64, "{proto:?}");
        assert_eq!(got.json["sum"], sum, "{proto:?}");
    }
    h.shutdown().await;
}

/// Headers a backend could read as identity headers (any case, `_` or `.`
/// for `-`) never reach the app: it sees exactly the sidecar's values on
/// protected paths, and none at all on public ones.
#[tokio::test]
async fn spoofed_identity_headers_never_reach_the_app() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let spoofs = [
        ("X_Ignite_Workspace", "other"),
        ("x.ignite.role", "Admin"),
        ("X-IGNITE-TOKEN-ID", "tok_forged"),
        ("x-ignite-workspace", "globex"),
        ("x_ignite.token-id", "tok_forged"),
    ];
    for proto in BOTH {
        let auth = bearer(VIEWER);
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(spoofs);
        let got = call(&h, proto, "GET", "/app/me", &headers, empty()).await;
        assert_eq!(got.status, 200, "{proto:?}");
        assert_eq!(
            lookalikes(&got.json, &IDENTITY),
            viewer_identity(),
            "{proto:?}"
        );

        let public = call(&h, proto, "GET", "/healthz", &spoofs, empty()).await;
        assert_eq!(public.status, 200, "{proto:?}");
        assert_eq!(lookalikes(&public.json, &IDENTITY), vec![], "{proto:?}");
    }
    h.shutdown().await;
}

/// Configured identity header names are the ones set and protected; the
/// default names are then ordinary headers.
#[tokio::test]
async fn custom_identity_header_names_are_set_and_protected() {
    let app = App::start().await;
    let h = sidecar_for(&app, |c| {
        c.identity_headers = IdentityHeaders {
            workspace: "X-Tenant".into(),
            token_id: "X-Key-Id".into(),
            role: "X-Access-Level".into(),
        };
    })
    .await;
    let auth = bearer(OTHER);
    let got = get(
        &h,
        Proto::H1,
        "/app/me",
        &[
            ("authorization", &auth),
            ("x_tenant", "acme"),
            ("X.Access.Level", "Owner"),
            ("x-ignite-workspace", "just-a-header"),
        ],
    )
    .await;
    assert_eq!(got.status, 200);
    let custom = ["x-tenant", "x-key-id", "x-access-level"];
    assert_eq!(
        lookalikes(&got.json, &custom),
        vec![
            ("x-tenant".to_owned(), "globex".to_owned()),
            (
                "x-key-id".to_owned(),
                authsidecar_local_core::token_id("globex", "entra")
            ),
            ("x-access-level".to_owned(), "Admin".to_owned()),
        ]
    );
    assert_eq!(
        received(&got.json, "x-ignite-workspace"),
        vec!["just-a-header"]
    );
    h.shutdown().await;
}

/// The client's Authorization header reaches the app only with
/// `app.forward_authorization: true`.
#[tokio::test]
async fn authorization_reaches_the_app_only_when_configured() {
    let app = App::start().await;
    let auth = bearer(VIEWER);
    for (forward, expected) in [(false, vec![]), (true, vec![auth.clone()])] {
        let h = sidecar_for(&app, |c| c.forward_authorization = forward).await;
        for target in ["/app/x", "/healthz"] {
            let got = get(&h, Proto::H1, target, &[("authorization", &auth)]).await;
            assert_eq!(got.status, 200);
            assert_eq!(received(&got.json, "authorization"), expected, "{target}");
        }
        h.shutdown().await;
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1), and those `Connection` names, are
/// removed in both directions; end-to-end headers and the body pass.
#[tokio::test]
async fn hop_by_hop_headers_are_removed_both_ways() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let auth = bearer(VIEWER);
    let got = call(
        &h,
        Proto::H1,
        "PUT",
        "/app/doc",
        &[
            ("authorization", &auth),
            ("connection", "x-custom-hop, keep-alive"),
            ("x-custom-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("proxy-authorization", "Basic Zm9vOmJhcg=="),
            ("x-normal", "kept"),
        ],
        bytes("hello"),
    )
    .await;
    assert_eq!(got.status, 200);
    let echo = &got.json;
    for gone in [
        "connection",
        "x-custom-hop",
        "keep-alive",
        "proxy-connection",
        "te",
        "proxy-authorization",
        "transfer-encoding",
        "upgrade",
    ] {
        assert_eq!(received(echo, gone), Vec::<String>::new(), "{gone}");
    }
    assert_eq!(received(echo, "x-normal"), vec!["kept"]);
    assert_eq!(received(echo, "content-length"), vec!["5"]);
    assert_eq!(echo["body"], "hello");
    for gone in [
        "connection",
        "x-app-hop",
        "keep-alive",
        "proxy-authenticate",
        "upgrade",
    ] {
        assert_eq!(got.header(gone), "", "response header {gone}");
    }
    assert_eq!(got.header("x-app-normal"), "kept");
    h.shutdown().await;
}
