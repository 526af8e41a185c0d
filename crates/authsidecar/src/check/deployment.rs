//! The checks of `--config`: the file loads and validates, the core is
//! reachable and is the Ignite core, the certificate and key belong
//! together, and the leaf certificate's names, dates and chain order.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use authsidecar_config::{Config, CoreConfig};
use authsidecar_core_api::{CoreError, ErrorCode, PATH_INTROSPECT};
use reqwest::StatusCode;

use super::cert::{self, Host};
use super::net::{self, Transport};
use super::report::{Outcome, Report};

/// Runs the `--config` checks; `url` is the tenant URL's host and path
/// when `--url` was given too.
pub(crate) async fn check(report: &mut Report, path: &Path, url: Option<(&Host, &str)>) {
    let config = match authsidecar_config::load(path) {
        Ok(c) => c,
        Err(e) => {
            // Without a config there is no core URL or certificate to check.
            report.add(
                "config",
                Outcome::fail(
                    format!("{} has {} problems:\n{e}", path.display(), e.problems.len()),
                    "fix each key listed above; a key path names where it is in the file",
                ),
            );
            return;
        }
    };
    report.add(
        "config",
        Outcome::ok(format!("{} loads and validates", path.display())),
    );
    report.add("core", core_reachable(&config.core).await);
    tls(report, &config, url);
}

/// `GET {core}/internal/v1/introspect` without a token: the Ignite core
/// answers 401 with its JSON error body; anything else is not the core.
async fn core_reachable(core: &CoreConfig) -> Outcome {
    let url = format!("{}{PATH_INTROSPECT}", core.base_url);
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(core.connect_timeout())
        .timeout(core.request_timeout())
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            return Outcome::fail(
                format!("cannot set up an HTTP client: {}", net::no_answer(&e).text),
                "this is a bug or a broken system TLS setup; report it with the message above",
            );
        }
    };
    let response = match client.get(&url).send().await {
        Ok(r) => r,
        Err(e) => return core_unreachable(core, &url, &e),
    };
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    core_answer(&url, status, &body)
}

fn core_unreachable(core: &CoreConfig, url: &str, e: &reqwest::Error) -> Outcome {
    let failure = net::no_answer(e);
    let (detail, hint) = match failure.kind {
        Transport::Refused => (
            format!("{url}: connection refused"),
            "nothing listens there: start the core, or fix the host and port in core.base_url"
                .to_owned(),
        ),
        Transport::Timeout => (
            format!("{url}: no answer within {} ms", core.request_timeout_ms),
            "check core.base_url, that the core runs, and that no firewall or network policy \
             drops traffic from the sidecar to it"
                .to_owned(),
        ),
        Transport::Tls(_) => (
            format!("{url}: TLS failed: {}", failure.text),
            "the core's certificate is not trusted by this machine; use http:// for a core on \
             a trusted network, or install its CA in the system trust store"
                .to_owned(),
        ),
        Transport::Other => (
            format!("{url}: {}", failure.text),
            "check the host name in core.base_url resolves from here and the core is up".to_owned(),
        ),
    };
    Outcome::fail(detail, hint)
}

/// The verdict on the core's answer to an introspection without a token.
fn core_answer(url: &str, status: StatusCode, body: &[u8]) -> Outcome {
    let not_core = "core.base_url must point at the Ignite core API itself (scheme, host, port \
                    and path prefix), not at a proxy, login page or another service";
    match status {
        StatusCode::UNAUTHORIZED => match serde_json::from_slice::<CoreError>(body) {
            Ok(e) if e.code == ErrorCode::Unauthenticated => Outcome::ok(format!(
                "{url} answered 401 unauthenticated without a token: the Ignite core is reachable"
            )),
            _ => Outcome::fail(
                format!("{url} answered 401, but not with the core's JSON error body"),
                not_core,
            ),
        },
        StatusCode::NOT_FOUND => Outcome::fail(
            format!("{url} answered 404: there is no introspection endpoint there"),
            format!(
                "the host, port or path prefix of core.base_url is wrong: {PATH_INTROSPECT} must \
                 exist right below it"
            ),
        ),
        s if s.is_server_error() => Outcome::fail(
            format!("{url} answered {s}"),
            "the core (or a proxy in front of it) is failing; see its logs",
        ),
        s => Outcome::fail(
            format!("{url} answered {s} where the Ignite core answers 401 without a token"),
            not_core,
        ),
    }
}

/// The certificate checks: key and chain load together, then the leaf's
/// dates and names, then the chain order.
fn tls(report: &mut Report, config: &Config, url: Option<(&Host, &str)>) {
    let (cert_file, key_file) = (&config.tls.cert_file, &config.tls.key_file);
    match authsidecar_server::tls::server_config(cert_file, key_file) {
        Ok(_) => report.add(
            "certificate and key",
            Outcome::ok(format!(
                "{} and {} load and belong together",
                cert_file.display(),
                key_file.display()
            )),
        ),
        Err(e) => report.add(
            "certificate and key",
            Outcome::fail(
                e.to_string(),
                "tls.cert_file must hold the PEM chain, leaf first, and tls.key_file the PEM \
                 private key of that leaf; a key from another certificate does not match",
            ),
        ),
    }
    let chain = std::fs::read(cert_file)
        .map_err(|e| e.to_string())
        .and_then(|pem| cert::parse_chain(&pem).map_err(|e| e.to_string()));
    let chain = match chain {
        Ok(c) => c,
        Err(e) => {
            report.add(
                "certificate",
                Outcome::fail(
                    format!("{}: {e}", cert_file.display()),
                    "tls.cert_file must hold PEM CERTIFICATE blocks, leaf first",
                ),
            );
            return;
        }
    };
    let Some(leaf) = chain.first() else { return };
    report.add(
        "certificate expiry",
        cert::expiry(&leaf.validity, unix_now()),
    );
    report.add("certificate names", cert::names(leaf));
    if let Some((host, path)) = url {
        report.add("certificate covers url", cert::covers_host(leaf, host));
        if path != config.scim.base_path {
            report.add(
                "url path",
                Outcome::warn(
                    format!(
                        "the URL's path is {path}, the config serves SCIM at {}",
                        config.scim.base_path
                    ),
                    "unless a proxy rewrites the path, the tenant URL must end in scim.base_path",
                ),
            );
        }
    }
    report.add("certificate chain", cert::chain_order(&chain));
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::report::Verdict;

    const URL: &str = "http://127.0.0.1:7070/internal/v1/introspect";

    #[test]
    fn only_a_401_with_the_core_error_body_is_the_core() {
        let body = br#"{"code":"unauthenticated","message":"no token"}"#;
        assert_eq!(
            core_answer(URL, StatusCode::UNAUTHORIZED, body).verdict,
            Verdict::Ok
        );
        let html = core_answer(URL, StatusCode::UNAUTHORIZED, b"<html>login</html>");
        assert_eq!(html.verdict, Verdict::Fail);
        assert_eq!(
            html.detail,
            format!("{URL} answered 401, but not with the core's JSON error body")
        );
        let open = core_answer(URL, StatusCode::OK, b"{}");
        assert_eq!(open.verdict, Verdict::Fail);
        assert!(open.hint.unwrap().contains("core.base_url"));
        let missing = core_answer(URL, StatusCode::NOT_FOUND, b"");
        assert!(missing.hint.unwrap().contains("path prefix"));
    }
}
