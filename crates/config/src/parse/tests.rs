use std::collections::BTreeMap;

use super::*;
use crate::schema::LogFormat;

const MINIMAL: &str = "\
tls:
  cert_file: /etc/authsidecar/tls/tls.crt
  key_file: /etc/authsidecar/tls/tls.key
core:
  base_url: http://ignite-core.internal:8080
";

fn parsed(yaml: &str) -> Parsed {
    match parse(yaml, Path::new("/etc/authsidecar")) {
        Ok(parsed) => parsed,
        Err(problem) => panic!("unexpected parse problem: {problem}"),
    }
}

fn problem(yaml: &str) -> String {
    match parse(yaml, Path::new("/etc/authsidecar")) {
        Ok(_) => panic!("expected a parse problem"),
        Err(problem) => problem.to_string(),
    }
}

fn missing(yaml: &str) -> Vec<String> {
    parsed(yaml)
        .missing
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn defaults_fill_in_every_optional_key() {
    let config = parsed(MINIMAL).config;

    let expected = Config::for_dev(
        defaults::LISTEN,
        PathBuf::from("/etc/authsidecar/tls/tls.crt"),
        PathBuf::from("/etc/authsidecar/tls/tls.key"),
        "http://ignite-core.internal:8080".to_owned(),
    );
    assert_eq!(config, expected);
}

#[test]
fn every_key_is_read() {
    let yaml = "\
listen: 127.0.0.1:9443
tls: { cert_file: /a.crt, key_file: /a.key }
core:
  base_url: https://core.example.com/ignite/
  connect_timeout_ms: 250
  request_timeout_ms: 2500
  pool_idle_timeout_ms: 0
  max_idle_per_host: 4
scim:
  base_path: /scim/v2
  max_body_bytes: 2048
  filter_scan_cap: 50
  max_write_retries: 0
auth:
  cache_ttl_secs: 60
  negative_ttl_secs: 0
  cache_capacity: 10
roles:
  mapping:
    Ignite.Admin: Admin
    Reader: Viewer
log:
  format: json
  level: info,authsidecar=debug
";
    let config = parsed(yaml).config;

    assert_eq!(config.listen.to_string(), "127.0.0.1:9443");
    assert_eq!(config.tls.cert_file, PathBuf::from("/a.crt"));
    assert_eq!(config.tls.key_file, PathBuf::from("/a.key"));
    let core = CoreConfig {
        base_url: "https://core.example.com/ignite".to_owned(),
        connect_timeout_ms: 250,
        request_timeout_ms: 2500,
        pool_idle_timeout_ms: 0,
        max_idle_per_host: 4,
    };
    assert_eq!(config.core, core);
    let scim = ScimConfig {
        base_path: "/scim/v2".to_owned(),
        max_body_bytes: 2048,
        filter_scan_cap: 50,
        max_write_retries: 0,
    };
    assert_eq!(config.scim, scim);
    let auth = AuthConfig {
        cache_ttl_secs: 60,
        negative_ttl_secs: 0,
        cache_capacity: 10,
    };
    assert_eq!(config.auth, auth);
    let mapping = BTreeMap::from([
        ("Ignite.Admin".to_owned(), "Admin".to_owned()),
        ("Reader".to_owned(), "Viewer".to_owned()),
    ]);
    assert_eq!(config.roles.mapping, mapping);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.log.level, "info,authsidecar=debug");
}

#[test]
fn a_section_left_empty_takes_its_defaults() {
    let yaml = format!("{MINIMAL}scim:\nauth: ~\nroles:\nlog:\n");

    let config = parsed(&yaml).config;

    assert_eq!(config.scim, ScimConfig::default());
    assert_eq!(config.auth, AuthConfig::default());
    assert_eq!(config.roles, RolesConfig::default());
    assert_eq!(config.log, LogConfig::default());
}

#[test]
fn keys_left_out_of_a_section_take_their_defaults() {
    let yaml = format!("{MINIMAL}auth:\n  cache_ttl_secs: 120\n");

    let auth = parsed(&yaml).config.auth;

    assert_eq!(auth.cache_ttl_secs, 120);
    assert_eq!(auth.negative_ttl_secs, 5);
    assert_eq!(auth.cache_capacity, 100_000);
}

#[test]
fn relative_tls_paths_resolve_against_base_dir() {
    let yaml =
        "tls:\n  cert_file: tls/tls.crt\n  key_file: /abs/tls.key\ncore:\n  base_url: http://c\n";

    let tls = parsed(yaml).config.tls;

    assert_eq!(tls.cert_file, PathBuf::from("/etc/authsidecar/tls/tls.crt"));
    assert_eq!(tls.key_file, PathBuf::from("/abs/tls.key"));
}

#[test]
fn an_empty_tls_path_is_left_for_validation_to_name() {
    let yaml = "tls:\n  cert_file: ''\n  key_file: k\ncore:\n  base_url: http://c\n";

    let tls = parsed(yaml).config.tls;

    assert_eq!(tls.cert_file, PathBuf::new());
    assert_eq!(tls.key_file, PathBuf::from("/etc/authsidecar/k"));
}

#[test]
fn an_empty_document_misses_both_required_sections() {
    assert_eq!(
        missing("# nothing yet\n"),
        [
            "tls: is required; add a tls section with cert_file and key_file",
            "core: is required; add a core section with base_url",
        ]
    );
}

#[test]
fn every_missing_required_key_is_reported() {
    assert_eq!(
        missing("tls:\ncore:\n  connect_timeout_ms: 100\n"),
        [
            "tls: is required; add a tls section with cert_file and key_file",
            "core.base_url: is required; give the core API's URL, e.g. \
             http://ignite-core.internal:8080",
        ]
    );
    assert_eq!(
        missing("tls: {}\ncore: {base_url: http://c}\n"),
        [
            "tls.cert_file: is required; give the path of the PEM certificate chain",
            "tls.key_file: is required; give the path of the PEM private key",
        ]
    );
}

#[test]
fn missing_problems_cover_their_placeholders() {
    let parsed = parsed("core: {base_url: http://c}\n");

    assert!(parsed.covers(&Problem::new("tls", "x")));
    assert!(parsed.covers(&Problem::new("tls.cert_file", "x")));
    assert!(!parsed.covers(&Problem::new("tlsx", "x")));
    assert!(!parsed.covers(&Problem::new("core.base_url", "x")));
}

#[test]
fn unknown_top_level_key_is_named() {
    assert_eq!(
        problem("bogus: 1\n"),
        "bogus: unknown key 'bogus' (the keys allowed here are listen, tls, core, scim, auth, \
         roles, log) at line 1, column 1"
    );
}

#[test]
fn unknown_nested_key_is_named_with_its_path() {
    let yaml = format!("{MINIMAL}  connect_timeout: 100\n");

    assert_eq!(
        problem(&yaml),
        "core.connect_timeout: unknown key 'connect_timeout' (the keys allowed here are \
         base_url, connect_timeout_ms, request_timeout_ms, pool_idle_timeout_ms, \
         max_idle_per_host) at line 6, column 3"
    );
}

#[test]
fn unknown_key_in_an_optional_section_is_named() {
    let yaml = format!("{MINIMAL}scim:\n  max_body_size: 10\n");

    assert_eq!(
        problem(&yaml),
        "scim.max_body_size: unknown key 'max_body_size' (the keys allowed here are \
         base_path, max_body_bytes, filter_scan_cap, max_write_retries) at line 7, column 3"
    );
}

#[test]
fn unknown_key_in_a_flow_mapping_is_named() {
    assert_eq!(
        problem("tls: { cert_file: a, bogus: b }\n"),
        "tls.bogus: unknown key 'bogus' (the keys allowed here are cert_file, key_file) \
         at line 1, column 22"
    );
}

#[test]
fn wrong_type_names_the_key_and_position() {
    let yaml = format!("{MINIMAL}  connect_timeout_ms: soon\n");

    assert_eq!(
        problem(&yaml),
        "core.connect_timeout_ms: expected a whole number that is not negative \
         at line 6, column 23"
    );
}

#[test]
fn negative_number_is_rejected() {
    let yaml = format!("{MINIMAL}scim:\n  max_write_retries: -1\n");

    assert_eq!(
        problem(&yaml),
        "scim.max_write_retries: expected a whole number that is not negative \
         at line 7, column 22"
    );
}

#[test]
fn unknown_log_format_lists_the_choices() {
    let yaml = format!("{MINIMAL}log:\n  format: xml\n");

    assert_eq!(
        problem(&yaml),
        "log.format: unknown value 'xml' (use one of plain, json) at line 7, column 11"
    );
}

#[test]
fn invalid_listen_address() {
    assert_eq!(
        problem("listen: 8443\n"),
        "listen: invalid socket address syntax at line 1, column 9"
    );
}

#[test]
fn section_of_the_wrong_shape() {
    assert_eq!(
        problem("tls: /etc/tls.crt\n"),
        "tls: expected mapping start at line 1, column 6"
    );
}

#[test]
fn duplicate_key() {
    let yaml = format!("{MINIMAL}  base_url: http://other\n");

    assert_eq!(
        problem(&yaml),
        "core.base_url: duplicate mapping key `base_url` is not allowed here at line 6, column 3"
    );
}

#[test]
fn syntax_error() {
    assert_eq!(
        problem("tls:\n  cert_file: \"/etc/tls.crt\n"),
        "tls.cert_file: unclosed quote at line 2, column 14"
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_a_root_problem() {
    assert_eq!(
        problem("- tls\n"),
        "<root>: expected mapping start at line 1, column 1"
    );
}

#[test]
fn a_second_document_is_rejected() {
    let yaml = format!("{MINIMAL}---\n{MINIMAL}");

    assert_eq!(
        problem(&yaml),
        "<root>: only single YAML document expected but multiple found at line 7, column 1"
    );
}
