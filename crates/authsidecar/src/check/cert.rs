//! What the served certificate chain says: the leaf's names
//! (subjectAltName), its validity period, and whether the chain is in
//! order. Parsing and comparing only; reading the file is the caller's job.

use std::fmt;
use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use super::report::Outcome;

/// Fewer days than this before `notAfter` is a warning.
pub(crate) const EXPIRY_WARN_DAYS: i64 = 14;

const SECS_PER_DAY: i64 = 86_400;

/// Why a certificate file could not be read as a chain.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertError {
    /// A `-----BEGIN` block that is not valid PEM.
    #[error("block {index} is not valid PEM: {reason}")]
    Pem {
        /// 1-based position of the block in the file.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A CERTIFICATE block that is not an X.509 certificate.
    #[error("certificate {index} cannot be parsed: {reason}")]
    X509 {
        /// 1-based position of the certificate in the chain.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No CERTIFICATE block at all.
    #[error("no PEM CERTIFICATE block found")]
    Empty,
}

/// A name a certificate is valid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Name {
    /// A `dNSName`, possibly a wildcard such as `*.example.com`.
    Dns(String),
    /// An `iPAddress`.
    Ip(IpAddr),
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Dns(d) => f.write_str(d),
            Name::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The host a client connects to, as it is matched against [`Name`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// A DNS name, lower case, without a trailing dot.
    Dns(String),
    /// An IP address (from `127.0.0.1` or `[::1]`).
    Ip(IpAddr),
}

impl Host {
    /// Reads a URL's host: an IP address (IPv6 in brackets) or a DNS name.
    pub(crate) fn parse(host: &str) -> Host {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Dns(normalize_dns(host)),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(d) => f.write_str(d),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// When a certificate is valid: Unix seconds, and `notAfter` as a date for
/// people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validity {
    /// `notBefore`.
    pub(crate) not_before: i64,
    /// `notAfter`.
    pub(crate) not_after: i64,
    /// `notAfter` as `YYYY-MM-DD` (UTC).
    pub(crate) not_after_date: String,
}

/// What the checks need from one certificate of a chain.
#[derive(Debug, Clone)]
pub(crate) struct CertFacts {
    /// The DER of the subject name, for comparing with the next issuer.
    subject: Vec<u8>,
    /// The DER of the issuer name.
    issuer: Vec<u8>,
    /// The subject for people (`CN=…, O=…`).
    subject_text: String,
    /// The issuer for people.
    issuer_text: String,
    /// The subjectAltName entries clients match hosts against.
    pub(crate) names: Vec<Name>,
    /// The validity period.
    pub(crate) validity: Validity,
}

/// Parses every CERTIFICATE block of a PEM file, in file order (other
/// blocks, such as a key, are skipped).
pub(crate) fn parse_chain(pem: &[u8]) -> Result<Vec<CertFacts>, CertError> {
    let mut chain = Vec::new();
    for (i, block) in Pem::iter_from_buffer(pem).enumerate() {
        let block = block.map_err(|e| CertError::Pem {
            index: i + 1,
            reason: e.to_string(),
        })?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let index = chain.len() + 1;
        let x509_error = |reason: String| CertError::X509 { index, reason };
        let cert = block.parse_x509().map_err(|e| x509_error(e.to_string()))?;
        let names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san.value.general_names.iter().filter_map(name).collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(x509_error(format!("bad subjectAltName: {e}"))),
        };
        let validity = cert.validity();
        chain.push(CertFacts {
            subject: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().as_raw().to_vec(),
            subject_text: cert.subject().to_string(),
            issuer_text: cert.issuer().to_string(),
            names,
            validity: Validity {
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
                not_after_date: validity.not_after.to_datetime().date().to_string(),
            },
        });
    }
    if chain.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(chain)
}

fn name(general: &GeneralName<'_>) -> Option<Name> {
    match general {
        GeneralName::DNSName(d) => Some(Name::Dns((*d).to_owned())),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(*bytes)
                .ok()
                .map(|b| Name::Ip(IpAddr::from(b))),
            16 => <[u8; 16]>::try_from(*bytes)
                .ok()
                .map(|b| Name::Ip(IpAddr::from(b))),
            _ => None,
        },
        _ => None,
    }
}

/// The verdict on a validity period at Unix time `now`: expired or not yet
/// valid fails, fewer than [`EXPIRY_WARN_DAYS`] days left warns.
pub(crate) fn expiry(validity: &Validity, now: i64) -> Outcome {
    let date = &validity.not_after_date;
    let renew = "renew the certificate and replace tls.cert_file and tls.key_file; \
                 the sidecar picks up the new files without a restart";
    if now < validity.not_before {
        let days = (validity.not_before - now).div_euclid(SECS_PER_DAY);
        return Outcome::fail(
            format!("not valid yet: starts in {days} days (expires on {date})"),
            "check this machine's clock, or use a certificate that is valid today",
        );
    }
    if now >= validity.not_after {
        let days = (now - validity.not_after).div_euclid(SECS_PER_DAY);
        return Outcome::fail(format!("expired on {date} ({days} days ago)"), renew);
    }
    let days = (validity.not_after - now).div_euclid(SECS_PER_DAY);
    let detail = format!("expires on {date} (in {days} days)");
    if days < EXPIRY_WARN_DAYS {
        Outcome::warn(
            detail,
            format!("{renew} (less than {EXPIRY_WARN_DAYS} days left)"),
        )
    } else {
        Outcome::ok(detail)
    }
}

/// The leaf's names, listed; none at all fails, since clients (Entra
/// included) ignore the subject's CN.
pub(crate) fn names(leaf: &CertFacts) -> Outcome {
    if leaf.names.is_empty() {
        return Outcome::fail(
            format!(
                "no DNS or IP subjectAltName (subject {})",
                leaf.subject_text
            ),
            "reissue the certificate with the sidecar's public host name as a subjectAltName; \
             clients do not match the subject's CN",
        );
    }
    Outcome::ok(format!("valid for {}", list(&leaf.names)))
}

/// Whether the leaf's names cover `host`.
pub(crate) fn covers_host(leaf: &CertFacts, host: &Host) -> Outcome {
    if leaf.names.iter().any(|n| covers(n, host)) {
        return Outcome::ok(format!("{host} is covered by the certificate"));
    }
    Outcome::fail(
        format!(
            "{host} is not among the certificate's names ({})",
            list(&leaf.names)
        ),
        format!(
            "clients reject a certificate that does not name the host they connect to; reissue \
             it with {host} as a subjectAltName, or use a URL with one of its names"
        ),
    )
}

/// Whether a certificate name covers a host, per RFC 6125 §6.4: DNS names
/// compare ignoring case and a trailing dot; a wildcard is only a whole
/// left-most label (`*.example.com`), stands for exactly one label, and
/// needs at least two labels after it; IP addresses match only `iPAddress`
/// entries, exactly.
pub(crate) fn covers(name: &Name, host: &Host) -> bool {
    match (name, host) {
        (Name::Ip(a), Host::Ip(b)) => a == b,
        (Name::Dns(pattern), Host::Dns(host)) => {
            let pattern = normalize_dns(pattern);
            match pattern.strip_prefix("*.") {
                Some(suffix) => {
                    suffix.contains('.')
                        && !suffix.contains('*')
                        && host
                            .split_once('.')
                            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
                }
                None => !pattern.contains('*') && pattern == *host,
            }
        }
        _ => false,
    }
}

/// Whether each certificate was issued by the next one (leaf first), and
/// whether a lone leaf is self-signed.
pub(crate) fn chain_order(chain: &[CertFacts]) -> Outcome {
    let order_hint = "put the leaf first in tls.cert_file, then the intermediate that issued \
                      it, then the one that issued that, and so on; the root may be left out";
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, next) = (&pair[0], &pair[1]);
        if cert.issuer != next.subject {
            return Outcome::warn(
                format!(
                    "certificate {} is issued by {}, but certificate {} is {}",
                    i + 1,
                    cert.issuer_text,
                    i + 2,
                    next.subject_text
                ),
                order_hint,
            );
        }
    }
    match chain {
        [leaf] if leaf.issuer == leaf.subject => {
            Outcome::ok("1 certificate, self-signed (clients must be given it to trust it)")
        }
        [leaf] => Outcome::warn(
            format!("only the leaf certificate, issued by {}", leaf.issuer_text),
            "append the intermediate certificates to tls.cert_file: clients hold only root \
             CAs and cannot build a chain without the intermediates",
        ),
        _ => Outcome::ok(format!(
            "{} certificates, leaf first, each issued by the next",
            chain.len()
        )),
    }
}

fn normalize_dns(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn list(names: &[Name]) -> String {
    names
        .iter()
        .map(Name::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
