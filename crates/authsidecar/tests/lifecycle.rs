//! Shutdown of the real binary: SIGTERM turns `/readyz` 503 at once while
//! SCIM keeps answering through `--drain-secs`, the process exits 0, and
//! under load no user answered 201 is lost or created twice.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_authsidecar");
/// The admin token of the seed's workspace `acme`.
const TOKEN: &str = "ci-acme-admin";

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "authsidecar-life-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed.example.yaml")
}

/// A running `authsidecar dev --admin … --drain-secs …`.
struct Dev {
    child: Child,
    /// `https://127.0.0.1:PORT/api/v1/scim/v2`.
    base: String,
    /// `http://127.0.0.1:PORT` of the admin listener.
    admin: String,
}

impl Dev {
    fn start(data: &Path, drain_secs: u64) -> Dev {
        let mut child = Command::new(BIN)
            .args(["dev", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
            .args(["--drain-secs", &drain_secs.to_string(), "--data"])
            .arg(data)
            .arg("--seed")
            .arg(seed_file())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut admin) = (String::new(), String::new());
        // The banner is printed once every listener is up; its last line names the tokens.
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.split("SCIM base URL :").nth(1) {
                base = rest.trim().to_owned();
            }
            if let Some(rest) = line.split("admin         :").nth(1) {
                admin = rest.split_whitespace().next().unwrap().to_owned();
            }
            if line.contains("tokens ") {
                break;
            }
        }
        // Keep reading so a later line on stdout never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(base.starts_with("https://127.0.0.1:"), "no base URL");
        assert!(admin.starts_with("http://127.0.0.1:"), "no admin address");
        Dev { child, base, admin }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([name, &pid]).status().unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit; returns its exit code.
    async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "dev did not exit in {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn readyz(&self) -> (u16, String) {
        let r = plain()
            .get(format!("{}/readyz", self.admin))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Polls `/readyz` (bounded) until the background probe has seen the core.
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.readyz().await.0 != 200 {
            assert!(
                Instant::now() < deadline,
                "never ready: {:?}",
                self.readyz().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn plain() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn client(data: &Path) -> reqwest::Client {
    let pem = std::fs::read(data.join("dev-cert.pem")).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .no_proxy()
        .build()
        .unwrap()
}

async fn lookup(http: &reqwest::Client, base: &str, user_name: &str) -> Value {
    let filter = format!("userName+eq+%22{}%22", user_name.replace('@', "%40"));
    let r = http
        .get(format!("{base}/Users?filter={filter}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn sigterm_turns_readyz_503_at_once_keeps_serving_through_the_drain_and_exits_0() {
    let data = temp_dir("drain");
    let mut dev = Dev::start(&data, 3);
    dev.wait_ready().await;
    let http = client(&data);
    let probe = format!("{}/Users?filter=userName+eq+%22nobody%22", dev.base);

    let sent = Instant::now();
    dev.signal("-TERM");
    loop {
        let (status, body) = dev.readyz().await;
        if status == 503 {
            assert_eq!(body, "not ready: draining: shutdown has begun\n");
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "/readyz still {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Still serving, also on new connections, until the drain ends.
    let fresh = client(&data);
    for http in [&http, &fresh] {
        let r = http.get(&probe).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "the checks outlasted the drain"
    );
    assert_eq!(dev.exit_code(Duration::from_secs(30)).await, Some(0));
    assert!(
        sent.elapsed() >= Duration::from_secs(3),
        "exited before the drain ended"
    );
    drop(dev);
    std::fs::remove_dir_all(&data).unwrap();
}

/// What one create attempt got.
enum Answer {
    Status(u16, Option<String>),
    /// No HTTP answer (connection refused or closed), and when.
    NoAnswer(Instant),
}

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_user_and_creates_none_twice() {
    const CLIENTS: usize = 6;
    let data = temp_dir("load");
    let mut dev = Dev::start(&data, 1);
    dev.wait_ready().await;
    let created = Arc::new(tokio::sync::watch::channel(0usize).0);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, created) = (client(&data), dev.base.clone(), created.clone());
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            // Bounded: the listener closes within seconds of the signal.
            for i in 0..5_000 {
                let name = format!("load-{c}-{i}@example.test");
                let sent = http
                    .post(format!("{base}/Users"))
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/scim+json")
                    .body(json!({"userName": name, "active": true}).to_string())
                    .send()
                    .await;
                let answer = match sent {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        let id = body["id"].as_str().map(str::to_owned);
                        Answer::Status(status, id)
                    }
                    Err(_) => Answer::NoAnswer(Instant::now()),
                };
                let stop = matches!(answer, Answer::NoAnswer(_));
                if matches!(answer, Answer::Status(201, _)) {
                    created.send_modify(|n| *n += 1);
                }
                answers.push((name, answer));
                if stop {
                    break;
                }
            }
            answers
        }));
    }
    // SIGTERM mid-way: once a good number of users exist.
    created.subscribe().wait_for(|n| *n >= 60).await.unwrap();
    let signalled = Instant::now();
    let before_signal = *created.borrow();
    dev.signal("-TERM");
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    assert_eq!(dev.exit_code(Duration::from_secs(30)).await, Some(0));
    drop(dev);

    let mut acknowledged = Vec::new();
    let mut unanswered = 0;
    for (name, answer) in &answers {
        match answer {
            Answer::Status(201, Some(id)) => acknowledged.push((name.clone(), id.clone())),
            Answer::Status(status, _) => panic!("{name}: answered {status}"),
            Answer::NoAnswer(at) => {
                assert!(*at > signalled, "{name}: no answer before the signal");
                unanswered += 1;
            }
        }
    }
    assert!(
        acknowledged.len() > before_signal,
        "no create was answered during the drain"
    );

    // Same data directory: every acknowledged user is there exactly once.
    let dev = Dev::start(&data, 0);
    let http = client(&data);
    for (name, id) in &acknowledged {
        let found = lookup(&http, &dev.base, name).await;
        assert_eq!(found["totalResults"], 1, "{name}: {found}");
        assert_eq!(found["Resources"][0]["id"], id.as_str(), "{name}");
    }
    // Attempts that got no answer may or may not have landed; nothing else did.
    let r = http
        .get(format!("{}/Users?count=0", dev.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let total = r.json::<Value>().await.unwrap()["totalResults"]
        .as_u64()
        .unwrap() as usize;
    assert!(
        (acknowledged.len()..=acknowledged.len() + unanswered).contains(&total),
        "{total} users for {} acknowledged and {unanswered} unanswered creates",
        acknowledged.len()
    );
    drop(dev);
    std::fs::remove_dir_all(&data).unwrap();
}
