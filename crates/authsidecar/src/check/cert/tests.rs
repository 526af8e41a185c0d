use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};

use super::*;
use crate::check::report::Verdict;

fn dns(name: &str) -> Name {
    Name::Dns(name.to_owned())
}

fn covered(name: &Name, host: &str) -> bool {
    covers(name, &Host::parse(host))
}

#[test]
fn dns_names_match_ignoring_case_and_a_trailing_dot() {
    assert!(covered(
        &dns("authsidecar.example.com"),
        "authsidecar.example.com"
    ));
    assert!(covered(
        &dns("AuthSidecar.Example.com"),
        "authsidecar.EXAMPLE.com."
    ));
    assert!(covered(
        &dns("authsidecar.example.com."),
        "authsidecar.example.com"
    ));
    assert!(!covered(
        &dns("authsidecar.example.com"),
        "other.example.com"
    ));
    assert!(!covered(&dns("example.com"), "authsidecar.example.com"));
}

#[test]
fn a_wildcard_stands_for_exactly_one_left_most_label() {
    let wildcard = dns("*.example.com");
    assert!(covered(&wildcard, "authsidecar.example.com"));
    assert!(covered(&wildcard, "SCIM.Example.Com"));
    assert!(!covered(&wildcard, "example.com"));
    assert!(!covered(&wildcard, "a.b.example.com"));
    assert!(!covered(&wildcard, "authsidecar.example.org"));
    // Partial-label and too-broad wildcards are refused, as browsers do.
    assert!(!covered(&dns("scim*.example.com"), "scim1.example.com"));
    assert!(!covered(&dns("*.com"), "example.com"));
    assert!(!covered(&dns("*"), "localhost"));
    assert!(!covered(&dns("a.*.example.com"), "a.b.example.com"));
}

#[test]
fn ip_addresses_match_only_ip_entries() {
    let v4 = Name::Ip("127.0.0.1".parse().unwrap());
    let v6 = Name::Ip("::1".parse().unwrap());
    assert!(covered(&v4, "127.0.0.1"));
    assert!(covered(&v6, "[::1]"));
    assert!(!covered(&v4, "127.0.0.2"));
    assert!(!covered(&dns("127.0.0.1"), "127.0.0.1"));
    assert!(!covered(&dns("*.0.0.1"), "127.0.0.1"));
    assert!(!covered(&v4, "localhost"));
}

const DAY: i64 = 86_400;

fn validity(not_before: i64, not_after: i64) -> Validity {
    Validity {
        not_before,
        not_after,
        not_after_date: "2030-01-01".to_owned(),
    }
}

#[test]
fn expiry_is_ok_from_fourteen_days_and_warns_below() {
    let now = 1_000 * DAY;
    let ok = expiry(&validity(0, now + 90 * DAY + 5), now);
    assert_eq!(ok, Outcome::ok("expires on 2030-01-01 (in 90 days)"));
    assert_eq!(
        expiry(&validity(0, now + 14 * DAY), now).verdict,
        Verdict::Ok
    );

    let soon = expiry(&validity(0, now + 14 * DAY - 1), now);
    assert_eq!(soon.verdict, Verdict::Warn);
    assert_eq!(soon.detail, "expires on 2030-01-01 (in 13 days)");
    assert!(soon.hint.unwrap().contains("renew the certificate"));
    let today = expiry(&validity(0, now + 60), now);
    assert_eq!(today.verdict, Verdict::Warn);
    assert_eq!(today.detail, "expires on 2030-01-01 (in 0 days)");
}

#[test]
fn expired_or_not_yet_valid_fails() {
    let now = 1_000 * DAY;
    let at_end = expiry(&validity(0, now), now);
    assert_eq!(at_end.verdict, Verdict::Fail);
    assert_eq!(at_end.detail, "expired on 2030-01-01 (0 days ago)");
    let long_ago = expiry(&validity(0, now - 3 * DAY - 1), now);
    assert_eq!(long_ago.detail, "expired on 2030-01-01 (3 days ago)");
    assert!(long_ago.hint.unwrap().contains("renew the certificate"));

    let early = expiry(&validity(now + 2 * DAY, now + 400 * DAY), now);
    assert_eq!(early.verdict, Verdict::Fail);
    assert_eq!(
        early.detail,
        "not valid yet: starts in 2 days (expires on 2030-01-01)"
    );
    assert!(early.hint.unwrap().contains("clock"));
}

fn params(cn: &str, sans: &[&str]) -> CertificateParams {
    let names: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params
}

/// A CA, a leaf for `host` issued by it, and the PEM of each.
fn ca_and_leaf(host: &str) -> (String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = params("Test CA", &[]);
    ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = params(host, &[host]).signed_by(&leaf_key, &issuer).unwrap();
    (ca_cert.pem(), leaf.pem())
}

#[test]
fn a_self_signed_certificate_gives_its_names_and_dates() {
    let key = KeyPair::generate().unwrap();
    let mut p = params("dev", &["localhost", "127.0.0.1", "::1", "*.example.com"]);
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 6, 30);
    let pem = p.self_signed(&key).unwrap().pem();

    let chain = parse_chain(pem.as_bytes()).unwrap();
    assert_eq!(chain.len(), 1);
    let leaf = &chain[0];
    assert_eq!(
        names(leaf),
        Outcome::ok("valid for localhost, 127.0.0.1, ::1, *.example.com")
    );
    assert_eq!(leaf.validity.not_after_date, "2040-06-30");
    assert_eq!(expiry(&leaf.validity, 0).verdict, Verdict::Fail);
    assert_eq!(
        covers_host(leaf, &Host::parse("scim.example.com")),
        Outcome::ok("scim.example.com is covered by the certificate")
    );
    let elsewhere = covers_host(leaf, &Host::parse("scim.example.org"));
    assert_eq!(elsewhere.verdict, Verdict::Fail);
    assert_eq!(
        elsewhere.detail,
        "scim.example.org is not among the certificate's names \
         (localhost, 127.0.0.1, ::1, *.example.com)"
    );
    assert_eq!(
        chain_order(&chain),
        Outcome::ok("1 certificate, self-signed (clients must be given it to trust it)")
    );
}

#[test]
fn chain_order_wants_the_leaf_first_and_its_issuers_after() {
    let (ca, leaf) = ca_and_leaf("scim.example.com");
    let in_order = parse_chain(format!("{leaf}{ca}").as_bytes()).unwrap();
    assert_eq!(
        chain_order(&in_order),
        Outcome::ok("2 certificates, leaf first, each issued by the next")
    );

    let reversed = chain_order(&parse_chain(format!("{ca}{leaf}").as_bytes()).unwrap());
    assert_eq!(reversed.verdict, Verdict::Warn);
    assert_eq!(
        reversed.detail,
        "certificate 1 is issued by CN=Test CA, but certificate 2 is CN=scim.example.com"
    );
    assert!(reversed.hint.unwrap().contains("leaf first"));

    let alone = chain_order(&parse_chain(leaf.as_bytes()).unwrap());
    assert_eq!(alone.verdict, Verdict::Warn);
    assert_eq!(
        alone.detail,
        "only the leaf certificate, issued by CN=Test CA"
    );
}

#[test]
fn a_leaf_without_names_fails_and_a_file_without_certificates_is_an_error() {
    let key = KeyPair::generate().unwrap();
    let pem = params("cn-only.example.com", &[])
        .self_signed(&key)
        .unwrap()
        .pem();
    let chain = parse_chain(pem.as_bytes()).unwrap();
    let outcome = names(&chain[0]);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(
        outcome.detail,
        "no DNS or IP subjectAltName (subject CN=cn-only.example.com)"
    );

    // A key alone is skipped, which leaves no certificate.
    let err = parse_chain(key.serialize_pem().as_bytes()).unwrap_err();
    assert!(matches!(err, CertError::Empty), "{err}");
    let err = parse_chain(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert!(matches!(err, CertError::Pem { index: 1, .. }), "{err}");
}
