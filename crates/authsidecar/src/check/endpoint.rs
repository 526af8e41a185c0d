//! The checks of `--url`: the tenant URL, then what Entra's Test Connection
//! does (`GET /Users?filter=userName eq "<random GUID>"` with the bearer
//! token), then a read-only walk of the discovery documents.
//!
//! Requests go out like Entra's: TLS 1.2 at most, no redirects followed,
//! no proxy, and no `Accept` of our choosing (reqwest always sends
//! `Accept: */*`, which RFC 9110 §12.5.1 treats as no preference, like a
//! missing header).

mod answers;

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, LOCATION};

use self::answers::{Answer, DISCOVERY};
use super::Token;
use super::cert::Host;
use super::net::{self, NoAnswer, TlsProblem, Transport};
use super::report::{Outcome, Report};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The tenant URL without its query: what request paths are appended to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `https://host[:port]/path`, no trailing `/`, query and fragment.
    pub(crate) base: String,
    /// The host, for matching against the certificate.
    pub(crate) host: Host,
    /// The path, for comparing with `scim.base_path`.
    pub(crate) path: String,
}

/// How the server certificate is verified.
pub(crate) enum Trust {
    /// By this machine's trust store.
    System,
    /// By these CA certificates only (`--cacert`).
    Roots(Vec<reqwest::Certificate>),
    /// Not at all (`--insecure`).
    Insecure,
}

/// Reads the tenant URL as pasted into Entra; `None` when it cannot be used.
pub(crate) fn target(raw: &str) -> (Outcome, Option<Target>) {
    let example = "paste the tenant URL as it is in Entra, e.g. \
                   https://authsidecar.example.com/api/v1/scim/v2?aadOptscim062020";
    let url = match reqwest::Url::parse(raw) {
        Ok(u) => u,
        Err(e) => return (Outcome::fail(format!("{raw}: {e}"), example), None),
    };
    if url.scheme() != "https" {
        return (
            Outcome::fail(
                format!("{raw} is not an https:// URL"),
                format!("Entra calls only https:// URLs; {example}"),
            ),
            None,
        );
    }
    let Some(host) = url.host_str() else {
        return (Outcome::fail(format!("{raw} has no host"), example), None);
    };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let path = url.path().trim_end_matches('/').to_owned();
    let target = Target {
        base: format!("https://{authority}{path}"),
        host: Host::parse(host),
        path,
    };
    let flagged = url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("aadOptscim062020"));
    let outcome = if flagged {
        Outcome::ok(format!(
            "{} (query string left out of requests)",
            target.base
        ))
    } else {
        Outcome::warn(
            format!("{} has no ?aadOptscim062020", target.base),
            "add ?aadOptscim062020 to the tenant URL in Entra: with it Entra's sync sends \
             RFC-compliant PATCH requests (the sidecar accepts both kinds)",
        )
    };
    (outcome, Some(target))
}

/// Runs the probe and, when it got a 200, the discovery walk.
pub(crate) async fn check(
    report: &mut Report,
    target: &Target,
    token: Option<&Token>,
    trust: &Trust,
) {
    if let Trust::Insecure = trust {
        report.add(
            "certificate trust",
            Outcome::warn(
                "not verified (--insecure)",
                "Entra verifies the certificate: it must chain to a public CA and name the \
                 host; check without --insecure before going live",
            ),
        );
    }
    let client = match client(trust) {
        Ok(c) => c,
        Err(e) => {
            report.add(
                "entra test connection",
                Outcome::fail(
                    format!("cannot set up an HTTPS client: {}", net::no_answer(&e).text),
                    "this machine's trust store cannot be read; pass --cacert FILE",
                ),
            );
            return;
        }
    };
    // Entra's probe: a userName no one has, so the answer must be empty.
    let probe_url = format!(
        "{}/Users?filter=userName+eq+%22{}%22",
        target.base,
        uuid::Uuid::new_v4()
    );
    let probe = match fetch(&client, &probe_url, token).await {
        Ok(answer) => answer,
        Err(failure) => {
            report.add(
                "entra test connection",
                unreachable(target, trust, &failure),
            );
            return;
        }
    };
    report.add(
        "entra test connection",
        answers::probe(&probe, token.is_some()),
    );
    let Some(token) = token else {
        report.add(
            "token",
            Outcome::warn(
                "not checked",
                "pass --token-file FILE with the secret token Entra uses to run its Test \
                 Connection probe and the discovery checks",
            ),
        );
        return;
    };
    // A refused token or a wrong path would fail every document the same way.
    if probe.status != 200 {
        return;
    }
    for path in DISCOVERY {
        let outcome = match fetch(&client, &format!("{}{path}", target.base), Some(token)).await {
            Ok(answer) => answers::discovery(path, &answer),
            Err(failure) => unreachable(target, trust, &failure),
        };
        report.add(path, outcome);
    }
}

fn client(trust: &Trust) -> Result<reqwest::Client, reqwest::Error> {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // Entra connects with TLS 1.2; a server that only offers 1.3 fails it.
        .tls_version_max(reqwest::tls::Version::TLS_1_2);
    match trust {
        Trust::System => builder,
        Trust::Roots(roots) => builder.tls_certs_only(roots.iter().cloned()),
        Trust::Insecure => builder.tls_danger_accept_invalid_certs(true),
    }
    .build()
}

/// One GET, read whole.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    token: Option<&Token>,
) -> Result<Answer, NoAnswer> {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token.secret());
    }
    let response = request.send().await.map_err(|e| net::no_answer(&e))?;
    let header = |name: HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let media_type = net::essence(header(CONTENT_TYPE).as_deref());
    let request_id = header(HeaderName::from_static("x-request-id"));
    let location = header(LOCATION);
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| net::no_answer(&e))?;
    Ok(Answer {
        status,
        media_type,
        request_id,
        location,
        body: body.to_vec(),
    })
}

/// The verdict when the endpoint gave no HTTP answer.
fn unreachable(target: &Target, trust: &Trust, failure: &NoAnswer) -> Outcome {
    let text = &failure.text;
    let host = &target.host;
    match failure.kind {
        Transport::Tls(TlsProblem::UnknownIssuer) => Outcome::fail(
            format!("the certificate is not trusted: {text}"),
            match trust {
                Trust::Roots(_) => "the certificate does not chain to the --cacert file; pass \
                                    the CA that issued it (for authsidecar dev: DATA/dev-cert.pem)"
                    .to_owned(),
                _ => "for authsidecar dev or a private CA, pass --cacert FILE with the CA \
                      certificate (dev: DATA/dev-cert.pem); in production the certificate chain \
                      must lead to a public CA Entra trusts: put the intermediates after the \
                      leaf in tls.cert_file"
                    .to_owned(),
            },
        ),
        Transport::Tls(TlsProblem::WrongName) => Outcome::fail(
            format!("the certificate does not name {host}: {text}"),
            format!("reissue the certificate with {host} as a subjectAltName"),
        ),
        Transport::Tls(TlsProblem::Dates) => Outcome::fail(
            format!("the certificate has expired or is not valid yet: {text}"),
            "renew the certificate (and check this machine's clock)",
        ),
        Transport::Tls(TlsProblem::Other) => Outcome::fail(
            format!("the TLS handshake failed: {text}"),
            "the URL must serve HTTPS with TLS 1.2 (Entra's version) and a certificate chain \
             the server sends leaf first; is it a plain-HTTP port?",
        ),
        Transport::Refused => Outcome::fail(
            format!("{}: connection refused", target.base),
            "nothing listens there: start the sidecar, or fix the URL's host and port",
        ),
        Transport::Timeout => Outcome::fail(
            format!(
                "{}: no answer within {} s",
                target.base,
                REQUEST_TIMEOUT.as_secs()
            ),
            "check the host name, firewalls and load balancers on the way (Entra calls from the \
             AzureActiveDirectory service tag), and that the sidecar is healthy",
        ),
        Transport::Other => Outcome::fail(
            format!("{}: {text}", target.base),
            "check that the URL's host name resolves and the sidecar is up",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::report::Verdict;

    #[test]
    fn the_query_and_trailing_slashes_are_left_out() {
        let (outcome, t) =
            target("https://Sidecar.Example.com:8443/api/v1/scim/v2/?aadOptscim062020#x");
        let t = t.unwrap();
        assert_eq!(t.base, "https://sidecar.example.com:8443/api/v1/scim/v2");
        assert_eq!(t.path, "/api/v1/scim/v2");
        assert_eq!(t.host, Host::Dns("sidecar.example.com".to_owned()));
        assert_eq!(
            outcome,
            Outcome::ok(
                "https://sidecar.example.com:8443/api/v1/scim/v2 (query string left out of \
                 requests)"
            )
        );
        let (outcome, t) = target("https://[::1]/api/v1/scim/v2");
        let t = t.unwrap();
        assert_eq!(t.base, "https://[::1]/api/v1/scim/v2");
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(outcome.verdict, Verdict::Warn);
        assert_eq!(
            outcome.detail,
            "https://[::1]/api/v1/scim/v2 has no ?aadOptscim062020"
        );
    }

    #[test]
    fn only_https_urls_are_usable() {
        let (outcome, t) = target("http://sidecar.example.com/api/v1/scim/v2");
        assert!(t.is_none());
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(
            outcome
                .hint
                .unwrap()
                .starts_with("Entra calls only https:// URLs")
        );
        assert!(target("not a url").1.is_none());
    }
}
