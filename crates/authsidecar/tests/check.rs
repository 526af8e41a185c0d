//! `authsidecar check` against a real `authsidecar dev`: with the admin token
//! and the dev certificate every check passes; a viewer token, a wrong path,
//! an untrusted certificate, a plain-HTTP port and a closed port each fail
//! with their own hint; `--config` checks the core, the certificate and key,
//! and a key from another certificate or a dead core fails. No token is ever
//! printed.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_authsidecar");
const ADMIN: &str = "ci-acme-admin";
const VIEWER: &str = "ci-acme-viewer";

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "authsidecar-check-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `authsidecar dev` with the example seed.
struct Dev {
    child: Child,
    /// `https://127.0.0.1:PORT/api/v1/scim/v2`.
    base: String,
    /// `http://127.0.0.1:PORT` of the local core.
    core: String,
    data: TempDir,
}

impl Dev {
    fn start() -> Dev {
        let data = TempDir::new("dev");
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed.example.yaml");
        let mut child = Command::new(BIN)
            .args(["dev", "--listen", "127.0.0.1:0", "--seed"])
            .arg(seed)
            .arg("--data")
            .arg(&data.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut core) = (String::new(), String::new());
        let mut banner = Vec::new();
        // The banner is printed once both listeners are up; it ends with the tokens line.
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.split("SCIM base URL :").nth(1) {
                base = rest.trim().to_owned();
            }
            if let Some(rest) = line.split("local core    :").nth(1) {
                core = rest.split_whitespace().next().unwrap_or("").to_owned();
            }
            let done = line.contains("tokens ");
            banner.push(line);
            if done {
                break;
            }
        }
        // Keep reading so a later line on stdout never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(base.starts_with("https://127.0.0.1:"), "banner: {banner:?}");
        assert!(core.starts_with("http://127.0.0.1:"), "banner: {banner:?}");
        Dev {
            child,
            base,
            core,
            data,
        }
    }

    fn cert(&self) -> PathBuf {
        self.data.0.join("dev-cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.data.0.join("dev-key.pem")
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `authsidecar check ARGS` printed and how it exited.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The verdict lines: `(verdict, check name)`, in order.
    fn verdicts(&self) -> Vec<(String, String)> {
        self.stdout
            .lines()
            .filter(|l| ["ok  ", "warn", "FAIL"].iter().any(|v| l.starts_with(v)))
            .map(|l| (l[..4].trim().to_owned(), l[6..28].trim().to_owned()))
            .collect()
    }

    /// The detail printed for check `name`.
    fn detail(&self, name: &str) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.len() > 28 && l[6..28].trim() == name)
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", self.stdout));
        line[29..].to_owned()
    }

    fn assert_all_ok(&self, names: &[&str]) {
        let expected: Vec<(String, String)> = names
            .iter()
            .map(|n| ("ok".to_owned(), (*n).to_owned()))
            .collect();
        assert_eq!(self.verdicts(), expected, "{}", self.stdout);
        assert_eq!(self.code, Some(0), "{}\n{}", self.stdout, self.stderr);
        let n = names.len();
        assert!(
            self.stdout
                .ends_with(&format!("{n} checks: {n} ok, 0 warnings, 0 failed\n")),
            "{}",
            self.stdout
        );
    }

    fn assert_failed(&self, name: &str, hint: &str) {
        assert_eq!(self.code, Some(1), "{}\n{}", self.stdout, self.stderr);
        assert!(
            self.verdicts()
                .contains(&("FAIL".to_owned(), name.to_owned())),
            "{}",
            self.stdout
        );
        assert!(self.stdout.contains(hint), "{}", self.stdout);
        assert!(self.stderr.contains("failed"), "{}", self.stderr);
    }
}

fn check<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN).arg("check").args(args).output().unwrap();
    let run = Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    };
    for secret in [ADMIN, VIEWER] {
        assert!(
            !run.stdout.contains(secret),
            "token printed: {}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "token printed: {}",
            run.stderr
        );
    }
    run
}

const URL_CHECKS: [&str; 5] = [
    "url",
    "entra test connection",
    "/ServiceProviderConfig",
    "/ResourceTypes",
    "/Schemas",
];

#[test]
fn the_entra_probe_passes_with_the_admin_token_and_names_each_refusal() {
    let dev = Dev::start();
    let files = TempDir::new("tokens");
    let admin = files.write("admin", &format!("{ADMIN}\n"));
    let viewer = files.write("viewer", VIEWER);
    let url = format!("{}?aadOptscim062020", dev.base);

    let run = check([
        OsStr::new("--url"),
        url.as_ref(),
        "--token-file".as_ref(),
        admin.as_os_str(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_all_ok(&URL_CHECKS);
    assert_eq!(
        run.detail("url"),
        format!("{} (query string left out of requests)", dev.base)
    );
    assert_eq!(
        run.detail("entra test connection"),
        "answered 200 with an empty ListResponse (totalResults 0), as Entra's Test Connection \
         expects"
    );
    assert_eq!(run.detail("/ResourceTypes"), "lists User at /Users");

    let run = check([
        OsStr::new("--url"),
        url.as_ref(),
        "--token-file".as_ref(),
        viewer.as_os_str(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_failed(
        "entra test connection",
        "hint: the token lacks the Admin role",
    );
    assert!(
        run.detail("entra test connection")
            .starts_with("answered 403")
    );
    // A refused token stops the run before the discovery documents.
    assert!(!run.stdout.contains("/Schemas"), "{}", run.stdout);

    let wrong_path = url.replace("/api/v1/scim/v2", "/scim/v2");
    let run = check([
        OsStr::new("--url"),
        wrong_path.as_ref(),
        "--token-file".as_ref(),
        admin.as_os_str(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_failed(
        "entra test connection",
        "hint: the URL's path is wrong; it must end in /api/v1/scim/v2",
    );
    assert!(
        run.detail("entra test connection")
            .starts_with("answered 404")
    );

    let run = check([
        OsStr::new("--url"),
        url.as_ref(),
        "--token-file".as_ref(),
        admin.as_os_str(),
    ]);
    run.assert_failed(
        "entra test connection",
        "hint: for authsidecar dev or a private CA, pass --cacert FILE",
    );
    assert!(
        run.detail("entra test connection")
            .starts_with("the certificate is not trusted"),
        "{}",
        run.stdout
    );

    // --insecure gets through, and says that it did.
    let run = check([
        OsStr::new("--url"),
        url.as_ref(),
        "--token-file".as_ref(),
        admin.as_os_str(),
        "--insecure".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.verdicts()
            .contains(&("warn".to_owned(), "certificate trust".to_owned())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("6 checks: 5 ok, 1 warnings, 0 failed\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_a_token_the_url_is_probed_for_its_401_and_transport_failures_get_hints() {
    let dev = Dev::start();
    let url = format!("{}?aadOptscim062020", dev.base);
    let run = check([
        OsStr::new("--url"),
        url.as_ref(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        run.verdicts(),
        [
            ("ok", "url"),
            ("ok", "entra test connection"),
            ("warn", "token")
        ]
        .map(|(v, n)| (v.to_owned(), n.to_owned()))
    );
    assert_eq!(
        run.detail("entra test connection"),
        "answered 401 without a token, as it should: the SCIM endpoint is reachable"
    );

    // The local core speaks plain HTTP: no TLS handshake there.
    let plain = format!("{}/api/v1/scim/v2", dev.core.replace("http://", "https://"));
    let run = check([
        OsStr::new("--url"),
        plain.as_ref(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_failed("entra test connection", "is it a plain-HTTP port?");
    assert!(
        run.detail("entra test connection")
            .starts_with("the TLS handshake failed: "),
        "{}",
        run.stdout
    );

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = format!("https://{closed}/api/v1/scim/v2");
    let run = check([
        OsStr::new("--url"),
        nowhere.as_ref(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_failed("entra test connection", "hint: nothing listens there");
    assert_eq!(
        run.detail("entra test connection"),
        format!("{nowhere}: connection refused")
    );
}

fn write_config(dir: &TempDir, name: &str, dev: &Dev, core: &str, key: &Path) -> PathBuf {
    dir.write(
        name,
        &format!(
            "tls:\n  cert_file: {}\n  key_file: {}\ncore:\n  base_url: \"{core}\"\n",
            dev.cert().display(),
            key.display()
        ),
    )
}

#[test]
fn the_config_checks_pass_for_dev_and_fail_for_a_foreign_key_or_a_dead_core() {
    let dev = Dev::start();
    let files = TempDir::new("config");
    let good = write_config(&files, "good.yaml", &dev, &dev.core, &dev.key());

    let run = check([OsStr::new("--config"), good.as_os_str()]);
    run.assert_all_ok(&[
        "config",
        "core",
        "certificate and key",
        "certificate expiry",
        "certificate names",
        "certificate chain",
    ]);
    // rcgen's self-signed certificates are valid until 4096-01-01.
    let expiry = run.detail("certificate expiry");
    assert!(expiry.starts_with("expires on 4096-01-01 (in "), "{expiry}");
    assert_eq!(
        run.detail("certificate names"),
        "valid for localhost, 127.0.0.1, ::1"
    );
    assert_eq!(
        run.detail("core"),
        format!(
            "{}/internal/v1/introspect answered 401 unauthenticated without a token: the \
             Ignite core is reachable",
            dev.core
        )
    );

    // Both together: the certificate must also name the URL's host.
    let admin = files.write("admin", ADMIN);
    let url = format!("{}?aadOptscim062020", dev.base);
    let run = check([
        OsStr::new("--config"),
        good.as_os_str(),
        "--url".as_ref(),
        url.as_ref(),
        "--token-file".as_ref(),
        admin.as_os_str(),
        "--cacert".as_ref(),
        dev.cert().as_os_str(),
    ]);
    run.assert_all_ok(&[
        "url",
        "config",
        "core",
        "certificate and key",
        "certificate expiry",
        "certificate names",
        "certificate covers url",
        "certificate chain",
        "entra test connection",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
    ]);
    assert_eq!(
        run.detail("certificate covers url"),
        "127.0.0.1 is covered by the certificate"
    );

    // A key of another certificate.
    let other_key = files.write(
        "other-key.pem",
        &rcgen::KeyPair::generate().unwrap().serialize_pem(),
    );
    let foreign = write_config(&files, "foreign.yaml", &dev, &dev.core, &other_key);
    let run = check([OsStr::new("--config"), foreign.as_os_str()]);
    run.assert_failed(
        "certificate and key",
        "a key from another certificate does not match",
    );
    assert_eq!(
        run.verdicts().iter().filter(|(v, _)| v == "FAIL").count(),
        1,
        "{}",
        run.stdout
    );

    // A core address where nothing listens.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dead = write_config(
        &files,
        "dead.yaml",
        &dev,
        &format!("http://{closed}"),
        &dev.key(),
    );
    let run = check([OsStr::new("--config"), dead.as_os_str()]);
    run.assert_failed("core", "hint: nothing listens there: start the core");
    assert_eq!(
        run.detail("core"),
        format!("http://{closed}/internal/v1/introspect: connection refused")
    );
}

#[test]
fn a_broken_config_lists_its_problems_and_stops_there() {
    let files = TempDir::new("broken");
    let config = files.write(
        "bad.yaml",
        "tls:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n\
         core:\n  base_url: ftp://core\n",
    );
    let run = check([OsStr::new("--config"), config.as_os_str()]);
    run.assert_failed("config", "hint: fix each key listed above");
    assert_eq!(run.verdicts().len(), 1, "{}", run.stdout);
    for key in ["tls.cert_file", "tls.key_file", "core.base_url"] {
        assert!(run.stdout.contains(key), "{key}: {}", run.stdout);
    }
}

#[test]
fn check_without_config_or_url_is_a_usage_error() {
    let run = check(Vec::<&str>::new());
    assert_eq!(run.code, Some(64));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("check needs --config FILE"),
        "{}",
        run.stderr
    );
    let run = check(["--config", "x.yaml", "--token-file", "t"]);
    assert_eq!(run.code, Some(64));
    assert!(
        run.stderr
            .contains("--token-file and --insecure apply to --url")
    );
    let run = check([
        "--url",
        "https://h/api/v1/scim/v2",
        "--insecure",
        "--cacert",
        "c",
    ]);
    assert_eq!(run.code, Some(64));
    assert!(run.stderr.contains("exclude each other"), "{}", run.stderr);
}
