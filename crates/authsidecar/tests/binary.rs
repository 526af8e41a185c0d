//! The real `authsidecar` binary: `dev` prints what a new user needs, keeps
//! every user across a restart with the same `--data`, and stops cleanly on
//! a signal; a bad config exits 64 listing its problems.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_authsidecar");

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "authsidecar-bin-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed.example.yaml")
}

/// A running `authsidecar dev` and what its banner said.
struct Dev {
    child: Child,
    banner: Vec<String>,
    base: String,
}

impl Dev {
    fn start(data: &Path, seed: Option<&Path>) -> Dev {
        let mut cmd = Command::new(BIN);
        cmd.args(["dev", "--listen", "127.0.0.1:0", "--data"])
            .arg(data);
        if let Some(s) = seed {
            cmd.arg("--seed").arg(s);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let mut base = String::new();
        // The banner is printed once the listeners are up; read until its last line.
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.split("SCIM base URL :").nth(1) {
                base = rest.trim().to_owned();
            }
            let done = line.contains("try ") || line.contains("tokens ");
            banner.push(line);
            if done {
                break;
            }
        }
        // Keep reading so a later line on stdout never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(base.starts_with("https://127.0.0.1:"), "banner: {banner:?}");
        Dev {
            child,
            banner,
            base,
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "dev exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "dev did not stop after SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(data: &Path) -> reqwest::Client {
    let pem = std::fs::read(data.join("dev-cert.pem")).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn dev_without_seed_mints_a_token_and_keeps_users_across_restarts() {
    let data = temp_dir("noseed");
    let dev = Dev::start(&data, None);
    let token_line = dev
        .banner
        .iter()
        .find(|l| l.contains("admin token"))
        .unwrap_or_else(|| panic!("no token in banner: {:?}", dev.banner));
    let token = token_line.split(':').nth(1).unwrap().trim().to_owned();
    assert!(token.starts_with("ign_"), "{token}");
    assert_eq!(
        std::fs::read_to_string(data.join("dev-admin-token"))
            .unwrap()
            .trim(),
        token
    );
    assert!(
        dev.banner.iter().any(|l| l.contains("dev-cert.pem")),
        "{:?}",
        dev.banner
    );

    let http = client(&data);
    let created = http
        .post(format!("{}/Users", dev.base))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"userName": "persist@example.test", "active": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    dev.stop();

    // Same --data: the same token works and the user is still there.
    let dev = Dev::start(&data, None);
    let token_again = dev
        .banner
        .iter()
        .find(|l| l.contains("admin token"))
        .map(|l| l.split(':').nth(1).unwrap().trim().to_owned())
        .unwrap();
    assert_eq!(token_again, token);
    let http = client(&data);
    let got = http
        .get(format!("{}/Users/{id}", dev.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let body: serde_json::Value = got.json().await.unwrap();
    assert_eq!(body["userName"], "persist@example.test");
    dev.stop();
    std::fs::remove_dir_all(&data).unwrap();
}

#[tokio::test]
async fn dev_with_seed_uses_the_seed_tokens() {
    let data = temp_dir("seed");
    let dev = Dev::start(&data, Some(&seed_file()));
    assert!(!dev.banner.iter().any(|l| l.contains("admin token")));
    let http = client(&data);
    let probe = |token: &'static str| {
        http.get(format!(
            "{}/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
            dev.base
        ))
        .bearer_auth(token)
        .send()
    };
    assert_eq!(probe("ci-acme-admin").await.unwrap().status(), 200);
    assert_eq!(probe("ci-acme-viewer").await.unwrap().status(), 403);
    assert_eq!(probe("not-a-token").await.unwrap().status(), 401);
    dev.stop();
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn bad_config_exits_64_and_lists_every_problem() {
    let dir = temp_dir("cfg");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "tls:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n\
         core:\n  base_url: ftp://core\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tls.cert_file"), "{stderr}");
    assert!(stderr.contains("tls.key_file"), "{stderr}");
    assert!(stderr.contains("core.base_url"), "{stderr}");

    std::fs::write(&file, "listen: 127.0.0.1:1\nunknown_key: 1\n").unwrap();
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown_key"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
