//! Observability through the real sidecar and core: the admin listener's
//! `/healthz`, `/readyz` and `/metrics`, request ids, and what the JSON
//! logs hold (the request id on every line of a request, never a token).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authsidecar_auth::TokenHash;
use authsidecar_config::{AppConfig, Config};
use authsidecar_e2e::{ADMIN, Harness, rand_hex, temp_dir};
use authsidecar_server::admin::{self, AdminServer};
use authsidecar_server::{AppState, tls};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The harness's sidecar with an admin listener on 127.0.0.1:0.
async fn with_admin(h: &Harness) -> (AdminServer, String) {
    let state = h.sidecar.as_ref().unwrap().state().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = admin::spawn(state, listener).unwrap();
    let url = format!("http://{}", admin.local_addr());
    (admin, url)
}

/// `(status, content type, body)` of a plain-HTTP GET.
async fn get(url: &str) -> (u16, String, String) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

/// Polls `url` until it answers `status` with `body` (the background probe
/// reports the core asynchronously); returns how long that took.
async fn wait_for(url: &str, status: u16, body: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (s, _, b) = get(url).await;
        if s == status && b == body {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{url} still answers {s} {b:?}, expected {status} {body:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `done` (bounded) until it holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the sample `series` (name with its labels) on a page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// `https://127.0.0.1:PORT` of the harness's sidecar.
fn origin(h: &Harness) -> String {
    format!("https://{}", h.addr())
}

#[tokio::test]
async fn healthz_is_200_and_readyz_turns_503_when_draining_while_scim_still_works() {
    let h = Harness::start().await;
    let (admin, url) = with_admin(&h).await;
    let (status, ct, body) = get(&format!("{url}/healthz")).await;
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (200, "text/plain; charset=utf-8", "ok\n")
    );
    wait_for(&format!("{url}/readyz"), 200, "ready\n").await;

    h.sidecar
        .as_ref()
        .unwrap()
        .state()
        .readiness()
        .start_draining();
    let (status, _, body) = get(&format!("{url}/readyz")).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready: draining: shutdown has begun\n")
    );
    assert_eq!(get(&format!("{url}/healthz")).await.0, 200);
    let r = h.get("/Users?filter=userName+eq+%22nobody%22").await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (status, _, body) = get(&format!("{url}/nothing")).await;
    assert_eq!(status, 404);
    assert!(body.contains("/healthz, /readyz and /metrics"), "{body}");
    let post = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = post.post(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    admin.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn readyz_is_503_and_core_errors_are_counted_while_the_core_is_unreachable() {
    // A port that was free a moment ago: connections to it are refused.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let h = Harness::start_with(|c| c.core.base_url = format!("http://{dead_addr}")).await;
    let (admin, url) = with_admin(&h).await;
    wait_for(
        &format!("{url}/readyz"),
        503,
        "not ready: the core is unreachable\n",
    )
    .await;

    let r = h.get("/Users").await;
    r.assert_error(503, None);
    let (_, _, page) = get(&format!("{url}/metrics")).await;
    let errors =
        "authsidecar_core_call_errors_total{operation=\"introspect\",outcome=\"unreachable\"}";
    assert_eq!(sample(&page, errors), Some(1.0), "{page}");
    let probes = "authsidecar_core_call_errors_total{operation=\"probe\",outcome=\"unreachable\"}";
    assert!(sample(&page, probes).unwrap() >= 1.0, "{page}");
    assert_eq!(
        sample(
            &page,
            "authsidecar_requests_total{route=\"scim_users\",status=\"503\"}"
        ),
        Some(1.0)
    );
    admin.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_core_calls_tls_and_the_token_cache() {
    let h = Harness::start().await;
    let (admin, url) = with_admin(&h).await;
    let lookup = "/Users?filter=userName+eq+%22nobody%22";
    assert_eq!(h.get(lookup).await.status, 200);
    assert_eq!(h.get(lookup).await.status, 200);
    assert_eq!(h.get("/ServiceProviderConfig").await.status, 200);
    h.create(json!({"userName": format!("metrics-{}@example.test", rand_hex())}))
        .await;
    assert_eq!(h.req("GET", "/Users").token(None).send().await.status, 401);
    let wrong = h
        .req("GET", "/Users")
        .token(Some("wrong-token"))
        .send()
        .await;
    assert_eq!(wrong.status, 401);
    let raw_path = h.client.get(format!("{}/secret-scan-path", origin(&h)));
    assert_eq!(raw_path.send().await.unwrap().status(), 404);
    // A client that is not speaking TLS: one failed handshake.
    let mut tcp = tokio::net::TcpStream::connect(h.addr()).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    drop(tcp);
    h.sidecar
        .as_ref()
        .unwrap()
        .state()
        .token_cache()
        .run_pending_tasks()
        .await;

    let failed = "authsidecar_tls_handshakes_total{outcome=\"failed\"}";
    let started = Instant::now();
    let page = loop {
        let (status, ct, page) = get(&format!("{url}/metrics")).await;
        assert_eq!(status, 200);
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
        // The failed handshake is counted once the sidecar has read the bytes.
        if sample(&page, failed).is_some() || started.elapsed() > Duration::from_secs(10) {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let requests = |route: &str, status: u16| {
        format!("authsidecar_requests_total{{route=\"{route}\",status=\"{status}\"}}")
    };
    let latency =
        |route: &str| format!("authsidecar_request_duration_seconds_count{{route=\"{route}\"}}");
    let core_ok = |op: &str| {
        format!("authsidecar_core_call_duration_seconds_count{{operation=\"{op}\",outcome=\"ok\"}}")
    };
    let expect = [
        (requests("scim_users", 200), 2.0),
        (requests("scim_users", 201), 1.0),
        (requests("scim_users", 401), 2.0),
        (requests("scim_discovery", 200), 1.0),
        (requests("not_found", 404), 1.0),
        (latency("scim_users"), 5.0),
        (latency("not_found"), 1.0),
        // ADMIN: one verification, then three answers from the cache;
        // the wrong token: one verification; no token: no lookup.
        ("authsidecar_token_cache_misses_total".to_owned(), 2.0),
        ("authsidecar_token_cache_hits_total".to_owned(), 3.0),
        ("authsidecar_token_cache_entries".to_owned(), 2.0),
        // The wrong token; a missing one is no rejection of a token.
        ("authsidecar_token_rejections_total".to_owned(), 1.0),
        (core_ok("introspect"), 2.0),
        (core_ok("list_users"), 2.0),
        (core_ok("create_user"), 1.0),
        (failed.to_owned(), 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&page, &series), Some(value), "{series} in:\n{page}");
    }
    assert!(sample(&page, "authsidecar_tls_handshakes_total{outcome=\"ok\"}").unwrap() >= 1.0);
    assert!(
        !page.contains("secret-scan-path"),
        "raw paths must not become labels"
    );
    assert!(
        !page.contains("authsidecar_core_call_errors_total{"),
        "{page}"
    );
    admin.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let h = Harness::start().await;
    let r = h
        .req("GET", "/ServiceProviderConfig")
        .header("X-Request-Id", "rid-42")
        .send()
        .await;
    assert_eq!(r.header("x-request-id"), "rid-42");
    let r = h
        .req("GET", "/Users")
        .token(None)
        .header("X-Request-Id", "rid-43")
        .send()
        .await;
    assert_eq!((r.status, r.header("x-request-id")), (401, "rid-43"));

    let is_uuid = |s: &str| {
        s.len() == 36
            && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
    };
    let generated = h.get("/ServiceProviderConfig").await;
    assert!(
        is_uuid(generated.header("x-request-id")),
        "{:?}",
        generated.headers
    );
    let too_long = "x".repeat(129);
    let r = h
        .req("GET", "/ServiceProviderConfig")
        .header("X-Request-Id", &too_long)
        .send()
        .await;
    assert!(is_uuid(r.header("x-request-id")), "{:?}", r.headers);
    let r = h
        .req("GET", "/ServiceProviderConfig")
        .header("X-Request-Id", "a b")
        .send()
        .await;
    assert!(is_uuid(r.header("x-request-id")), "{:?}", r.headers);
    assert_ne!(generated.header("x-request-id"), r.header("x-request-id"));
    let r = h
        .client
        .get(format!("{}/elsewhere", origin(&h)))
        .header("x-request-id", "rid-44");
    let r = r.send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["x-request-id"].to_str().unwrap()
        ),
        (404, "rid-44")
    );
    h.shutdown().await;
}

/// Collects log output in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Every line as JSON.
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The JSON format `authsidecar run` uses with `log.format: json`, into `capture`.
fn json_logs(capture: &Capture, level: &str) -> tracing::dispatcher::DefaultGuard {
    let capture = capture.clone();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_env_filter(level)
        .with_writer(move || capture.clone())
        .finish()
        .set_default()
}

/// The request id of the span a line was logged in, if any.
fn request_id(line: &Value) -> Option<&str> {
    (line["span"]["name"] == "request").then(|| line["span"]["id"].as_str())?
}

// The current-thread runtime polls the sidecar and the core on this thread,
// so the thread's default subscriber sees every line they log.
#[tokio::test]
async fn json_logs_put_the_request_id_on_every_request_line_at_info() {
    let capture = Capture::default();
    let _logs = json_logs(&capture, "info");
    let h = Harness::start().await;
    let name = format!("logs-{}@example.test", rand_hex());
    let r = h
        .req("POST", "/Users")
        .header("X-Request-Id", "rid-create")
        .json(json!({"userName": name}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = h
        .req("GET", "/Users")
        .token(Some("never-valid"))
        .header("X-Request-Id", "rid-deny")
        .send()
        .await;
    assert_eq!(r.status, 401);
    // A flood of unknown tokens: every one refused, one warn line a second.
    for _ in 0..4 {
        let r = h
            .req("GET", "/Users")
            .token(Some("never-valid"))
            .send()
            .await;
        assert_eq!(r.status, 401);
    }
    h.shutdown().await;

    let lines = capture.lines();
    let created = lines
        .iter()
        .find(|l| l["message"] == "user created")
        .unwrap();
    assert_eq!(request_id(created), Some("rid-create"), "{created}");
    assert_eq!(created["span"]["method"], "POST");
    assert_eq!(created["span"]["token"], TokenHash::of(ADMIN).short());
    let denied: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "rejected unknown token")
        .collect();
    assert_eq!(denied.len(), 1, "{}", capture.text());
    assert_eq!(request_id(denied[0]), Some("rid-deny"), "{}", denied[0]);
    assert_eq!(denied[0]["level"], "WARN");
    assert_eq!(denied[0]["suppressed"], 0);
    assert_eq!(denied[0]["token"], TokenHash::of("never-valid").short());
    // No PII at info: the user's name is not in the logs.
    assert!(!capture.text().contains(&name), "{}", capture.text());
}

// Public paths run in a debug-level span (cheaper per request); the one line
// they log at info, a failed forward, names the request id itself.
#[tokio::test]
async fn a_failed_forward_on_a_public_path_names_its_request_id_at_info() {
    let capture = Capture::default();
    let _logs = json_logs(&capture, "info");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let h = Harness::start_with(|c| {
        let mut app = AppConfig::new(format!("http://127.0.0.1:{port}"));
        app.public_paths = vec!["/public/".to_owned()];
        c.app = Some(app);
    })
    .await;
    let r = h
        .req_outside("GET", "/public/logo.png")
        .token(None)
        .header("X-Request-Id", "rid-public")
        .send()
        .await;
    assert_eq!(r.status, 502, "{}", r.body);
    h.shutdown().await;

    let lines = capture.lines();
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "passthrough to the app failed")
        .collect();
    assert_eq!(failed.len(), 1, "{}", capture.text());
    assert_eq!(failed[0]["request_id"], "rid-public", "{}", failed[0]);
    assert_eq!(failed[0]["level"], "WARN");
}

#[tokio::test]
async fn json_logs_never_hold_a_token_or_its_prefix_even_at_debug() {
    let capture = Capture::default();
    let _logs = json_logs(&capture, "debug");
    let h = Harness::start().await;
    let r = h
        .req("POST", "/Users")
        .header("X-Request-Id", "rid-a")
        .json(json!({"userName": format!("t-{}@example.test", rand_hex())}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    let r = h
        .req("GET", &format!("/Users/{id}"))
        .header("X-Request-Id", "rid-b")
        .send()
        .await;
    assert_eq!(r.status, 200);
    let wrong = "wrong-secret-token-value";
    let r = h
        .req("GET", "/Users")
        .token(Some(wrong))
        .header("X-Request-Id", "rid-c")
        .send()
        .await;
    assert_eq!(r.status, 401);
    h.shutdown().await;

    let text = capture.text();
    for secret in [ADMIN, wrong] {
        assert!(!text.contains(secret), "token {secret} logged:\n{text}");
        assert!(
            !text.contains(&secret[..8]),
            "prefix of {secret} logged:\n{text}"
        );
        assert!(
            text.contains(&TokenHash::of(secret).short()),
            "no hash of {secret}:\n{text}"
        );
    }
    let lines = capture.lines();
    // Every line the request path logs carries its request id.
    let request_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            let target = l["target"].as_str().unwrap_or("");
            [
                "authsidecar_server::router",
                "authsidecar_server::scim",
                "authsidecar_server::state",
                "authsidecar_server::rejections",
            ]
            .iter()
            .any(|t| target.starts_with(t))
        })
        .collect();
    assert!(request_lines.len() >= 4, "{text}");
    for line in request_lines {
        let rid = request_id(line);
        assert!(
            matches!(rid, Some("rid-a" | "rid-b" | "rid-c")),
            "no request id: {line}"
        );
    }
    for rid in ["rid-a", "rid-b", "rid-c"] {
        let done = lines
            .iter()
            .find(|l| l["message"] == "request done" && request_id(l) == Some(rid));
        assert!(done.is_some(), "no 'request done' line for {rid}:\n{text}");
    }
}

#[tokio::test]
async fn certificate_reloads_are_counted_by_outcome() {
    let h = Harness::start().await;
    let dir = temp_dir("reload-metrics");
    let cert = tls::ensure_self_signed(&dir, &[]).unwrap();
    let mut config = Config::for_dev(
        "127.0.0.1:0".parse().unwrap(),
        cert.cert_file.clone(),
        cert.key_file.clone(),
        format!("http://{}", h.core_addr),
    );
    config.tls.reload_interval_secs = 1;
    let state = Arc::new(AppState::from_config(&config).unwrap());
    let reloader = tls::CertReloader::load(&cert.cert_file, &cert.key_file).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sidecar = authsidecar_server::spawn(state.clone(), reloader, listener).unwrap();
    let count = |outcome: &str| {
        let series = format!("authsidecar_cert_reloads_total{{outcome=\"{outcome}\"}}");
        sample(&state.metrics().encode(), &series).unwrap_or(0.0)
    };
    // A key that does not parse is refused (and counted) at the next poll.
    std::fs::write(&cert.key_file, "not a key").unwrap();
    eventually("a failed reload", || count("failed") >= 1.0).await;
    assert_eq!(count("ok"), 0.0);
    // A fresh, matching pair is taken.
    let fresh_dir = temp_dir("reload-fresh");
    let fresh = tls::ensure_self_signed(&fresh_dir, &[]).unwrap();
    std::fs::copy(&fresh.key_file, &cert.key_file).unwrap();
    std::fs::copy(&fresh.cert_file, &cert.cert_file).unwrap();
    eventually("a good reload", || count("ok") >= 1.0).await;
    sidecar.shutdown().await;
    h.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&fresh_dir).unwrap();
}
