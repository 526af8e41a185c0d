//! `authsidecar audit` against the real `authsidecar dev`: it takes the
//! tenant URL as pasted into Entra, lists what the sidecar recorded, and
//! exits non-zero with a clear message when the token is refused or the
//! server cannot be reached.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_authsidecar");
const ADMIN: &str = "ci-acme-admin";

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "authsidecar-audit-cli-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `authsidecar dev --seed config/seed.example.yaml`.
struct Dev {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Dev {
    fn start(tag: &str) -> Dev {
        let data = temp_dir(tag);
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed.example.yaml");
        let mut child = Command::new(BIN)
            .args(["dev", "--listen", "127.0.0.1:0", "--seed"])
            .arg(seed)
            .arg("--data")
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut base = String::new();
        // The banner comes once the listeners are up; its last line names the tokens.
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.split("SCIM base URL :").nth(1) {
                base = rest.trim().to_owned();
            }
            if line.contains("tokens ") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        assert!(
            base.starts_with("https://127.0.0.1:"),
            "no base URL in the banner"
        );
        Dev { child, base, data }
    }

    fn cert(&self) -> PathBuf {
        self.data.join("dev-cert.pem")
    }

    /// A file holding `token`, padded with whitespace the command must trim.
    fn token_file(&self, name: &str, token: &str) -> PathBuf {
        let file = self.data.join(name);
        std::fs::write(&file, format!("  {token}\n\n")).unwrap();
        file
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Runs `authsidecar audit ARGS` to completion.
async fn audit(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .arg("audit")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a hung command fails the test instead of stalling it.
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "authsidecar audit did not finish"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn args(url: &str, token_file: &Path, extra: &[&str]) -> Vec<String> {
    let mut out = vec![
        "--url".to_owned(),
        url.to_owned(),
        "--token-file".to_owned(),
        token_file.display().to_string(),
    ];
    out.extend(extra.iter().map(|s| (*s).to_owned()));
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn audit_lists_what_the_sidecar_recorded() {
    let dev = Dev::start("list");
    let pem = std::fs::read(dev.cert()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .no_proxy()
        .build()
        .unwrap();
    let created = http
        .post(format!("{}/Users", dev.base))
        .bearer_auth(ADMIN)
        .header("content-type", "application/scim+json")
        .header("x-request-id", "cli-create-1")
        .body(json!({"userName": "cli.audit@example.test", "active": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let tenant_url = format!("{}?aadOptscim062020", dev.base);
    let admin = dev.token_file("admin-token", ADMIN);
    let cacert = dev.cert().display().to_string();
    let out = audit(args(&tenant_url, &admin, &["--cacert", &cacert])).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let token_id = authsidecar_local_core::token_id("acme", "entra");
    for part in [
        "  create  ".to_owned(),
        format!("user={id}"),
        "request=cli-create-1".to_owned(),
        format!("token={token_id}"),
        "user_name: (none) → \"cli.audit@example.test\"".to_owned(),
        "active: (none) → true".to_owned(),
    ] {
        assert!(lines[0].contains(&part), "{part} not in {}", lines[0]);
    }
    assert!(!stdout.contains(ADMIN) && !stderr.contains(ADMIN));

    // Filters reach the sidecar: no disable happened, and this user has one event.
    let out = audit(args(
        &tenant_url,
        &admin,
        &["--cacert", &cacert, "--op", "disable"],
    ))
    .await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "authsidecar: no audit events match\n");
    let by_user = [
        "--cacert",
        &cacert,
        "--user",
        &id,
        "--since",
        "2000-01-01T00:00:00+01:00",
    ];
    let out = audit(args(&tenant_url, &admin, &by_user)).await;
    assert_eq!(
        text(&out.stdout).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    // --insecure works without the certificate, and says what it risks.
    let out = audit(args(&tenant_url, &admin, &["--insecure"])).await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), stdout);
    assert!(text(&out.stderr).starts_with("authsidecar: warning: --insecure"));
}

#[tokio::test]
async fn refused_tokens_and_unreachable_servers_exit_non_zero() {
    let dev = Dev::start("refused");
    let tenant_url = format!("{}?aadOptscim062020", dev.base);
    let cacert = dev.cert().display().to_string();

    let bad = dev.token_file("bad-token", "not-a-valid-token");
    let out = audit(args(&tenant_url, &bad, &["--cacert", &cacert])).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("authsidecar: the sidecar refused the token in "),
        "{stderr}"
    );
    assert!(stderr.contains("(401 Unauthorized)"), "{stderr}");
    assert!(!stderr.contains("not-a-valid-token"), "{stderr}");

    let viewer = dev.token_file("viewer-token", "ci-acme-viewer");
    let out = audit(args(&tenant_url, &viewer, &["--cacert", &cacert])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("(403 Forbidden)"),
        "{}",
        text(&out.stderr)
    );

    // Without --cacert the self-signed certificate is not trusted.
    let admin = dev.token_file("admin-token", ADMIN);
    let out = audit(args(&tenant_url, &admin, &[])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach "),
        "{}",
        text(&out.stderr)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = format!("https://127.0.0.1:{port}/api/v1/scim/v2");
    let out = audit(args(&nowhere, &admin, &["--cacert", &cacert])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!("authsidecar: cannot reach {nowhere}/AuditEvents")),
        "{}",
        text(&out.stderr)
    );

    let out = audit(args("http://127.0.0.1:1/scim", &admin, &[])).await;
    assert_eq!(out.status.code(), Some(64));
}
