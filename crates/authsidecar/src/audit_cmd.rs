//! `authsidecar audit`: lists a workspace's provisioning audit trail, read
//! from the sidecar's `{scim_base}/AuditEvents` with an Admin token.
//!
//! Phases: take the tenant URL as pasted into Entra and drop its query
//! (`?aadOptscim062020`), read the token file, build an HTTPS client with
//! the trust asked for, read every page of matching events, print one line
//! per event, newest first. The token is sent only as the bearer header and
//! never printed.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use authsidecar_core_api::AuditEvent;
use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::cli::AuditArgs;
use crate::modes::Failed;

/// Events asked for per request: the sidecar's largest page.
const PAGE: usize = 1000;
/// Most pages read, so a trail that grows while it is read cannot loop forever.
const MAX_PAGES: usize = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One page of `GET /AuditEvents`.
#[derive(Debug)]
struct Page {
    total: u64,
    events: Vec<AuditEvent>,
}

/// Runs the command: prints the events, or fails with what to fix.
pub(crate) async fn run(args: AuditArgs) -> Result<(), Failed> {
    let endpoint = audit_url(&args.url).map_err(Failed::Usage)?;
    let token = read_token(&args.token_file)?;
    if args.insecure {
        eprintln!(
            "authsidecar: warning: --insecure: the server's certificate is not verified, so \
             whoever answers in its place receives the token"
        );
    }
    let client = client(&args)?;

    let mut seen = HashSet::new();
    let mut printed = 0u64;
    for page_number in 0..MAX_PAGES {
        let mut url = endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            let filters = [
                ("user", &args.user),
                ("since", &args.since),
                ("op", &args.op),
            ];
            for (name, value) in filters {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            let start = page_number * PAGE + 1;
            query.append_pair("startIndex", &start.to_string());
            query.append_pair("count", &PAGE.to_string());
        }
        let page = fetch(&client, url, &token, &args.token_file).await?;
        let received = page.events.len();
        for event in page.events {
            // Events recorded while paging shift later pages by one; skip repeats.
            if seen.insert(event.id.clone()) {
                println!("{}", line(&event));
                printed += 1;
            }
        }
        if received == 0 || ((page_number + 1) * PAGE) as u64 >= page.total {
            break;
        }
    }
    if printed == 0 {
        eprintln!("authsidecar: no audit events match");
    }
    Ok(())
}

/// `{tenant URL without query or fragment}/AuditEvents`; https only, since
/// the request carries the token.
fn audit_url(tenant_url: &str) -> Result<Url, String> {
    let mut url = Url::parse(tenant_url.trim())
        .map_err(|e| format!("--url '{tenant_url}' is not a URL: {e}"))?;
    if url.scheme() != "https" {
        return Err(format!(
            "--url must start with https:// (the token must not travel in clear), not \
             '{}://'",
            url.scheme()
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = format!("{}/AuditEvents", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

fn read_token(path: &Path) -> Result<String, Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failed::Usage(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Failed::Usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

fn client(args: &AuditArgs) -> Result<reqwest::Client, Failed> {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // A redirect could carry the token to another host.
        .redirect(reqwest::redirect::Policy::none());
    let builder = match (&args.cacert, args.insecure) {
        (Some(file), _) => builder.tls_certs_only(read_cacert(file)?),
        (None, true) => builder.tls_danger_accept_invalid_certs(true),
        (None, false) => builder,
    };
    builder
        .build()
        .map_err(|e| Failed::Runtime(format!("cannot set up the HTTPS client: {e}")))
}

fn read_cacert(path: &Path) -> Result<Vec<reqwest::Certificate>, Failed> {
    let pem = std::fs::read(path)
        .map_err(|e| Failed::Usage(format!("cannot read the CA file {}: {e}", path.display())))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(Failed::Usage(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        ))),
    }
}

/// One page, or a message saying what went wrong and what to do.
async fn fetch(
    client: &reqwest::Client,
    url: Url,
    token: &str,
    token_file: &Path,
) -> Result<Page, Failed> {
    let shown = url
        .as_str()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| Failed::Runtime(format!("cannot reach {shown}: {}", chain(&e))))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| Failed::Runtime(format!("{shown} broke off its answer: {}", chain(&e))))?;
    if status.is_success() {
        return page(&body).ok_or_else(|| {
            Failed::Runtime(format!(
                "{shown} answered something that is not an audit page"
            ))
        });
    }
    let detail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let file = token_file.display();
    Err(Failed::Runtime(match status {
        StatusCode::UNAUTHORIZED => {
            format!("the sidecar refused the token in {file} (401 Unauthorized): {detail}")
        }
        StatusCode::FORBIDDEN => format!(
            "the token in {file} may not read the audit trail (403 Forbidden); use a token \
             with the Admin role: {detail}"
        ),
        StatusCode::NOT_FOUND => format!(
            "{shown} does not exist (404); pass the SCIM base URL, the tenant URL pasted into \
             Entra: {detail}"
        ),
        other => format!("{shown} answered {other}: {detail}"),
    }))
}

fn page(body: &[u8]) -> Option<Page> {
    let mut body: Value = serde_json::from_slice(body).ok()?;
    Some(Page {
        total: body["total"].as_u64()?,
        events: serde_json::from_value(body["events"].take()).ok()?,
    })
}

/// An error and its causes, `: `-separated (reqwest puts the reason in them).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// `TIME  OPERATION[KINDS]  user=ID  request=ID  token=ID  CHANGES`.
fn line(event: &AuditEvent) -> String {
    let mut operation = event.operation.as_str().to_owned();
    if !event.kinds.is_empty() {
        let kinds: Vec<&str> = event.kinds.iter().map(|k| k.as_str()).collect();
        let _ = write!(operation, "[{}]", kinds.join(","));
    }
    let changes = if event.changes.is_empty() {
        "(no attribute changed)".to_owned()
    } else {
        let shown: Vec<String> = event
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} → {}",
                    c.attribute,
                    value(&c.before),
                    value(&c.after)
                )
            })
            .collect();
        shown.join("; ")
    };
    format!(
        "{}  {operation}  user={}  request={}  token={}  {changes}",
        event.time, event.user_id, event.request_id, event.token_id
    )
}

/// Compact JSON; `(none)` for an absent value.
fn value(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use authsidecar_core_api::{AuditChange, AuditKind, AuditOperation};
    use serde_json::json;

    use super::*;

    #[test]
    fn the_query_and_trailing_slash_of_the_tenant_url_are_dropped() {
        let url = audit_url("https://127.0.0.1:8443/api/v1/scim/v2/?aadOptscim062020");
        assert_eq!(
            url.map(String::from),
            Ok("https://127.0.0.1:8443/api/v1/scim/v2/AuditEvents".to_owned())
        );
        assert_eq!(
            audit_url("http://127.0.0.1/scim"),
            Err(
                "--url must start with https:// (the token must not travel in clear), not \
                 'http://'"
                    .to_owned()
            )
        );
        assert!(audit_url("not a url").is_err());
    }

    #[test]
    fn an_event_is_one_readable_line() {
        let event = AuditEvent {
            id: "e-1".into(),
            time: "2026-12-04T15:13:11.123Z".into(),
            workspace: "acme".into(),
            token_id: "tok_1".into(),
            request_id: "req-1".into(),
            operation: AuditOperation::Patch,
            kinds: vec![AuditKind::Disable, AuditKind::RoleChange],
            user_id: "u-1".into(),
            changes: vec![
                AuditChange {
                    attribute: "active".into(),
                    before: json!(true),
                    after: json!(false),
                },
                AuditChange {
                    attribute: "profile.title".into(),
                    before: Value::Null,
                    after: json!("Eng"),
                },
            ],
        };
        assert_eq!(
            line(&event),
            "2026-12-04T15:13:11.123Z  patch[disable,role_change]  user=u-1  request=req-1  \
             token=tok_1  active: true → false; profile.title: (none) → \"Eng\""
        );
    }
}
