//! What went wrong on the way to a server (refused, timed out, a TLS
//! failure and which one), read from a reqwest error's source chain, so a
//! check can say how to fix it.

use std::error::Error as StdError;
use std::io;

use rustls::CertificateError;

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The TLS handshake failed.
    Tls(TlsProblem),
    /// Nothing listens at the address.
    Refused,
    /// No answer in time (connect or whole request).
    Timeout,
    /// Anything else: DNS, reset, a broken HTTP answer.
    Other,
}

/// Which TLS failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsProblem {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate does not name the host.
    WrongName,
    /// The certificate has expired or is not valid yet.
    Dates,
    /// Any other handshake failure (protocol versions, ciphers, alerts).
    Other,
}

/// A request that got no HTTP answer: the kind, and its chain of causes as
/// text (requests carry no secret in the URL, and headers are not shown).
#[derive(Debug, Clone)]
pub(crate) struct NoAnswer {
    /// What kind of failure.
    pub(crate) kind: Transport,
    /// `cause: cause: …`, outermost first.
    pub(crate) text: String,
}

/// Reads a reqwest error's source chain.
pub(crate) fn no_answer(error: &reqwest::Error) -> NoAnswer {
    let mut kind = if error.is_timeout() {
        Transport::Timeout
    } else {
        Transport::Other
    };
    let mut texts: Vec<String> = Vec::new();
    // reqwest's own message only repeats the URL; the causes say what happened.
    let mut next: Option<&(dyn StdError + 'static)> = match error.source() {
        Some(cause) => Some(cause),
        None => Some(error),
    };
    while let Some(e) = next {
        let text = e.to_string();
        if !texts.iter().any(|t| t.ends_with(&text)) {
            texts.push(text);
        }
        if let Some(found) = classify(e) {
            // The TLS cause is the most specific; keep it once found.
            if !matches!(kind, Transport::Tls(_)) {
                kind = found;
            }
        }
        next = e.source();
    }
    NoAnswer {
        kind,
        text: texts.join(": "),
    }
}

fn classify(e: &(dyn StdError + 'static)) -> Option<Transport> {
    let mut current = e;
    // `io::Error::source` skips the error an io::Error wraps (and the TLS
    // stack wraps io::Errors in io::Errors), so look inside each one here.
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(Transport::Tls(tls_problem(tls)));
        }
        let io = current.downcast_ref::<io::Error>()?;
        match io.get_ref() {
            Some(inner) if inner.is::<io::Error>() || inner.is::<rustls::Error>() => {
                current = inner;
            }
            _ => {
                return match io.kind() {
                    io::ErrorKind::ConnectionRefused => Some(Transport::Refused),
                    io::ErrorKind::TimedOut => Some(Transport::Timeout),
                    _ => None,
                };
            }
        }
    }
}

fn tls_problem(e: &rustls::Error) -> TlsProblem {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return TlsProblem::Other;
    };
    match cert {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            TlsProblem::UnknownIssuer
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            TlsProblem::WrongName
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => TlsProblem::Dates,
        _ => TlsProblem::Other,
    }
}

/// The media type of a `content-type` value without its parameters, lower
/// case (`application/scim+json; charset=utf-8` → `application/scim+json`).
pub(crate) fn essence(content_type: Option<&str>) -> String {
    content_type
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_causes_are_found_inside_io_errors() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let inner = io::Error::new(io::ErrorKind::InvalidData, unknown);
        // As reqwest's connector reports it: an io::Error inside an io::Error.
        let wrapped = io::Error::other(inner);
        assert_eq!(
            classify(&wrapped),
            Some(Transport::Tls(TlsProblem::UnknownIssuer))
        );
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(classify(&name), Some(Transport::Tls(TlsProblem::WrongName)));
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&refused), Some(Transport::Refused));
        assert_eq!(classify(&io::Error::other("reset")), None);
    }

    #[test]
    fn essence_drops_parameters_and_case() {
        assert_eq!(
            essence(Some("Application/SCIM+json; charset=utf-8")),
            "application/scim+json"
        );
        assert_eq!(essence(None), "");
    }
}
