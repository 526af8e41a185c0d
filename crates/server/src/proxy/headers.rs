//! The header rules of the passthrough, both directions.
//!
//! Towards the app: hop-by-hop headers go (RFC 9110 §7.6.1), `Host` becomes
//! the app's own authority (the client's goes to `X-Forwarded-Host`),
//! `X-Forwarded-For` gets the client's address appended, `X-Forwarded-Proto`
//! is `https`, `Authorization` goes unless configured to pass, and every
//! header the app could read as an identity header is removed before the
//! sidecar sets its own. Towards the client: hop-by-hop headers go.

use authsidecar_core_api::Introspection;
use http::header::{self, InvalidHeaderName, InvalidHeaderValue};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers that describe one connection, not the message (RFC 9110
/// §7.6.1, plus the non-standard `Keep-Alive` and `Proxy-Connection`).
/// `TE` goes too, `te: trailers` included: the app is spoken to over
/// HTTP/1.1, where trailers are not forwarded.
/// Names are constants, not strings: a `&str` name is parsed and checked
/// on every lookup.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
];

/// The forwarding headers the sidecar writes.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Who sent a request, as the sidecar saw it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientView {
    /// The peer address of the TLS connection, as a header value.
    pub(crate) ip: Option<HeaderValue>,
    /// The `Host` header, or the h2 `:authority`.
    pub(crate) host: Option<HeaderValue>,
}

/// The names of the headers that carry the validated identity to the app.
#[derive(Debug, Clone)]
pub(crate) struct IdentityHeaders {
    workspace: HeaderName,
    token_id: HeaderName,
    role: HeaderName,
    /// The three names in [`normalise`]d form.
    normalised: [String; 3],
}

impl IdentityHeaders {
    /// Parses the configured names.
    pub(crate) fn new(
        config: &authsidecar_config::IdentityHeaders,
    ) -> Result<Self, InvalidHeaderName> {
        let workspace = HeaderName::from_bytes(config.workspace.as_bytes())?;
        let token_id = HeaderName::from_bytes(config.token_id.as_bytes())?;
        let role = HeaderName::from_bytes(config.role.as_bytes())?;
        let normalised = [&workspace, &token_id, &role].map(|n| normalise(n.as_str()));
        Ok(Self {
            workspace,
            token_id,
            role,
            normalised,
        })
    }

    /// Whether a backend could read `name` as one of the identity headers:
    /// the same name in any letter case, or with `_` or `.` in place of `-`
    /// (CGI-style stacks map `X-Ignite-Role` and `X_Ignite_Role` to the same
    /// variable).
    fn is_lookalike(&self, name: &HeaderName) -> bool {
        self.normalised
            .iter()
            .any(|n| same_normalised(name.as_str(), n))
    }

    /// Sets the three headers from the validated identity.
    fn set(&self, headers: &mut HeaderMap, who: &Introspection) -> Result<(), InvalidHeaderValue> {
        headers.insert(
            self.workspace.clone(),
            HeaderValue::from_str(&who.workspace)?,
        );
        headers.insert(self.token_id.clone(), HeaderValue::from_str(&who.token_id)?);
        headers.insert(self.role.clone(), HeaderValue::from_str(&who.role)?);
        Ok(())
    }
}

/// A header name as a lenient backend compares it: lower case, `_` and `.`
/// read as `-`.
fn normalise(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `name` [`normalise`]s to `normalised`, without building the
/// normalised string (this runs for every header of every request).
fn same_normalised(name: &str, normalised: &str) -> bool {
    name.len() == normalised.len()
        && name.bytes().zip(normalised.bytes()).all(|(c, n)| {
            let c = match c {
                b'_' | b'.' => b'-',
                c => c.to_ascii_lowercase(),
            };
            c == n
        })
}

/// How the client's headers become the app's.
#[derive(Debug, Clone)]
pub(crate) struct RequestRules {
    /// The `Host` the app receives: its own authority, as in `app.base_url`.
    pub(crate) host: HeaderValue,
    /// Where the identity goes.
    pub(crate) identity: IdentityHeaders,
    /// Whether the client's `Authorization` header passes to the app.
    pub(crate) forward_authorization: bool,
}

impl RequestRules {
    /// Rewrites the client's request headers in place into those the app
    /// receives. `who` is `None` on public paths: identity headers are then
    /// only removed. Fails only when the identity is not a valid header value.
    pub(crate) fn apply(
        &self,
        headers: &mut HeaderMap,
        client: ClientView,
        who: Option<&Introspection>,
    ) -> Result<(), InvalidHeaderValue> {
        // One pass over the names finds everything that goes; a request
        // holding none of it (the usual case) is then left alone instead of
        // being hashed once per name that might have been there.
        let mut doomed = Vec::new();
        let mut connection = false;
        for name in headers.keys() {
            connection |= name == header::CONNECTION;
            let goes = is_hop_by_hop(name)
                // The client connection hyper already answered
                // `100-continue` on; the app connection is not the client's
                // to negotiate.
                || name == header::EXPECT
                || (name == header::AUTHORIZATION && !self.forward_authorization)
                // Only the sidecar sets it, from the client's `Host`.
                || name == X_FORWARDED_HOST
                || self.identity.is_lookalike(name);
            if goes {
                doomed.push(name.clone());
            }
        }
        if connection {
            doomed.extend(connection_named(headers));
        }
        for name in &doomed {
            headers.remove(name);
        }
        // Replaces the client's `Host` (which `client` already holds for
        // `X-Forwarded-Host`) with the app's own authority.
        headers.insert(header::HOST, self.host.clone());
        join_cookies(headers);
        set_forwarding(headers, client);
        match who {
            Some(who) => self.identity.set(headers, who),
            None => Ok(()),
        }
    }
}

/// Removes the hop-by-hop headers and every header `Connection` names.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let mut doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_hop_by_hop(name))
        .cloned()
        .collect();
    if doomed.contains(&header::CONNECTION) {
        doomed.extend(connection_named(headers));
    }
    for name in &doomed {
        headers.remove(name);
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name)
}

/// The header names listed in the `Connection` header(s). `close` and
/// `keep-alive`, by far the most common values (most apps send one on every
/// response), name nothing [`HOP_BY_HOP`] does not already remove, so they
/// are passed over without parsing.
fn connection_named(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.eq_ignore_ascii_case("keep-alive") && !t.eq_ignore_ascii_case("close"))
        .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok())
        .collect()
}

/// h2 clients may split `Cookie` into several fields (RFC 9113 §8.2.3);
/// HTTP/1.1 allows one, so they are joined with `; `.
fn join_cookies(headers: &mut HeaderMap) {
    let values: Vec<&[u8]> = headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if values.len() < 2 {
        return;
    }
    let joined = values.join(&b"; "[..]);
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(header::COOKIE, value);
    }
}

/// `X-Forwarded-For` (client address appended to the chain received),
/// `X-Forwarded-Proto: https`, and `X-Forwarded-Host` (the client's host,
/// replacing any value the client sent).
fn set_forwarding(headers: &mut HeaderMap, client: ClientView) {
    if headers.contains_key(&X_FORWARDED_FOR) {
        let mut chain: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if let Some(ip) = client.ip.as_ref().and_then(|ip| ip.to_str().ok()) {
            chain.push(ip);
        }
        let joined = (!chain.is_empty())
            .then(|| HeaderValue::from_str(&chain.join(", ")).ok())
            .flatten();
        headers.remove(&X_FORWARDED_FOR);
        if let Some(value) = joined {
            headers.insert(X_FORWARDED_FOR, value);
        }
    } else if let Some(ip) = client.ip {
        // The common case: no chain received, the pre-rendered address alone.
        headers.insert(X_FORWARDED_FOR, ip);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
    // Any `X-Forwarded-Host` the client sent is gone already (`apply`).
    if let Some(host) = client.host {
        headers.insert(X_FORWARDED_HOST, host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(forward_authorization: bool) -> RequestRules {
        RequestRules {
            host: HeaderValue::from_static("app.internal:3000"),
            identity: IdentityHeaders::new(&authsidecar_config::IdentityHeaders::default())
                .unwrap(),
            forward_authorization,
        }
    }

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (n, v) in pairs {
            m.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    fn who() -> Introspection {
        Introspection {
            workspace: "acme".into(),
            token_id: "tok_1".into(),
            role: "Viewer".into(),
        }
    }

    #[test]
    fn connection_named_and_fixed_hop_by_hop_headers_go() {
        let mut h = map(&[
            ("connection", "x-one, X-Two"),
            ("connection", "keep-alive"),
            ("x-one", "1"),
            ("x-two", "2"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("proxy-authenticate", "Basic"),
            ("x-kept", "yes"),
        ]);
        remove_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h["x-kept"], "yes");
    }

    #[test]
    fn connection_close_and_keep_alive_name_no_header_of_their_own() {
        let mut h = map(&[
            ("connection", "Keep-Alive, CLOSE, x-gone"),
            ("keep-alive", "timeout=5"),
            ("x-gone", "1"),
            ("close", "a header oddly named close is kept"),
            ("x-kept", "yes"),
        ]);
        assert_eq!(connection_named(&h), [HeaderName::from_static("x-gone")]);
        remove_hop_by_hop(&mut h);
        let mut names: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["close", "x-kept"]);
    }

    #[test]
    fn identity_lookalikes_are_replaced_by_the_sidecars_values() {
        let mut h = map(&[
            ("x_ignite_workspace", "other"),
            ("x.ignite.role", "Admin"),
            ("X-IGNITE-TOKEN-ID", "tok_evil"),
            ("x-ignite_token.id", "tok_evil"),
            ("x-ignite-workspaces", "kept"),
        ]);
        rules(false)
            .apply(&mut h, ClientView::default(), Some(&who()))
            .unwrap();
        assert_eq!(h.get_all("x-ignite-workspace").iter().count(), 1);
        assert_eq!(h["x-ignite-workspace"], "acme");
        assert_eq!(h["x-ignite-token-id"], "tok_1");
        assert_eq!(h["x-ignite-role"], "Viewer");
        assert!(h.get("x_ignite_workspace").is_none());
        assert!(h.get("x.ignite.role").is_none());
        assert!(h.get("x-ignite_token.id").is_none());
        assert_eq!(h["x-ignite-workspaces"], "kept");
    }

    #[test]
    fn public_requests_lose_identity_headers_and_get_none() {
        let mut h = map(&[("x-ignite-role", "Admin"), ("X_Ignite_Workspace", "acme")]);
        rules(false)
            .apply(&mut h, ClientView::default(), None)
            .unwrap();
        assert!(h.keys().all(|k| !k.as_str().contains("ignite")), "{h:?}");
    }

    #[test]
    fn forwarding_headers_and_authorization() {
        let client = ClientView {
            ip: Some(HeaderValue::from_static("10.0.0.7")),
            host: Some(HeaderValue::from_static("ignite.example:8443")),
        };
        let mut h = map(&[
            ("authorization", "Bearer t"),
            ("host", "ignite.example:8443"),
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
            ("expect", "100-continue"),
        ]);
        rules(false).apply(&mut h, client.clone(), None).unwrap();
        assert_eq!(h["x-forwarded-for"], "203.0.113.9, 198.51.100.1, 10.0.0.7");
        assert_eq!(h["x-forwarded-host"], "ignite.example:8443");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert!(h.get("authorization").is_none());
        assert_eq!(h.get_all("host").iter().count(), 1);
        assert_eq!(h["host"], "app.internal:3000");
        assert!(h.get("expect").is_none());

        let mut h = map(&[("authorization", "Bearer t")]);
        rules(true).apply(&mut h, client, None).unwrap();
        assert_eq!(h["authorization"], "Bearer t");
    }

    #[test]
    fn split_cookies_are_joined() {
        let mut h = map(&[("cookie", "a=1"), ("cookie", "b=2")]);
        rules(false)
            .apply(&mut h, ClientView::default(), None)
            .unwrap();
        assert_eq!(h.get_all("cookie").iter().count(), 1);
        assert_eq!(h["cookie"], "a=1; b=2");
    }

    #[test]
    fn an_identity_that_is_no_header_value_is_an_error() {
        let mut who = who();
        who.workspace = "a\nb".into();
        let mut h = HeaderMap::new();
        assert!(
            rules(false)
                .apply(&mut h, ClientView::default(), Some(&who))
                .is_err()
        );
    }
}
