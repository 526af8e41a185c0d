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
        stale_if_error_secs: 0,
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
fn new_sections_left_out_take_their_defaults() {
    let config = parsed(MINIMAL).config;

    assert_eq!(config.tls.reload_interval_secs, 10);
    assert_eq!(config.tls.handshake_timeout_ms, 10_000);
    assert_eq!(config.auth.stale_if_error_secs, 0);
    assert_eq!(config.app, None);
    assert_eq!(config.admin, AdminConfig { listen: None });
    assert_eq!(config.limits, LimitsConfig::default());
    assert_eq!(config.lifecycle, LifecycleConfig::default());
    assert_eq!(config.audit, AuditConfig::default());
}

#[test]
fn every_new_key_is_read() {
    let yaml = "\
tls:
  cert_file: /a.crt
  key_file: /a.key
  reload_interval_secs: 0
  handshake_timeout_ms: 500
core: { base_url: http://c }
auth:
  stale_if_error_secs: 300
app:
  base_url: http://127.0.0.1:3000/
  connect_timeout_ms: 200
  request_timeout_ms: 60000
  pool_idle_timeout_ms: 0
  max_idle_per_host: 8
  public_paths: [/healthz, /assets/]
  forward_authorization: true
  identity_headers:
    workspace: X-Workspace
    token_id: X-Token
    role: X-Role
admin:
  listen: 127.0.0.1:9901
limits:
  header_read_timeout_ms: 5000
  max_header_bytes: 16384
  idle_timeout_secs: 60
  max_connections: 100
  core_max_concurrency: 16
lifecycle:
  drain_secs: 0
  shutdown_deadline_secs: 60
audit:
  redact: [emails]
";
    let config = parsed(yaml).config;

    assert_eq!(config.tls.reload_interval_secs, 0);
    assert_eq!(config.tls.handshake_timeout_ms, 500);
    assert_eq!(config.auth.stale_if_error_secs, 300);
    let app = AppConfig {
        base_url: "http://127.0.0.1:3000".to_owned(),
        connect_timeout_ms: 200,
        request_timeout_ms: 60_000,
        pool_idle_timeout_ms: 0,
        max_idle_per_host: 8,
        public_paths: vec!["/healthz".to_owned(), "/assets/".to_owned()],
        forward_authorization: true,
        identity_headers: IdentityHeaders {
            workspace: "X-Workspace".to_owned(),
            token_id: "X-Token".to_owned(),
            role: "X-Role".to_owned(),
        },
    };
    assert_eq!(config.app, Some(app));
    assert_eq!(
        config.admin.listen.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:9901")
    );
    let limits = LimitsConfig {
        header_read_timeout_ms: 5_000,
        max_header_bytes: 16_384,
        idle_timeout_secs: 60,
        max_connections: 100,
        core_max_concurrency: 16,
    };
    assert_eq!(config.limits, limits);
    let lifecycle = LifecycleConfig {
        drain_secs: 0,
        shutdown_deadline_secs: 60,
    };
    assert_eq!(config.lifecycle, lifecycle);
    assert_eq!(config.audit.redact, ["emails"]);
}

#[test]
fn keys_left_out_of_the_app_section_take_their_defaults() {
    let yaml = format!("{MINIMAL}app:\n  base_url: http://127.0.0.1:3000\n");

    let app = parsed(&yaml).config.app;

    assert_eq!(
        app,
        Some(AppConfig::new("http://127.0.0.1:3000".to_owned()))
    );
}

#[test]
fn identity_headers_left_out_take_their_defaults() {
    let yaml =
        format!("{MINIMAL}app:\n  base_url: http://a\n  identity_headers:\n    role: X-Role\n");

    let headers = parsed(&yaml).config.app.map(|app| app.identity_headers);

    let expected = IdentityHeaders {
        role: "X-Role".to_owned(),
        ..IdentityHeaders::default()
    };
    assert_eq!(headers, Some(expected));
}

#[test]
fn an_empty_app_section_is_no_app() {
    let yaml = format!("{MINIMAL}app:\n");

    assert_eq!(parsed(&yaml).config.app, None);
}

#[test]
fn an_app_section_without_base_url_misses_it() {
    let yaml = format!("{MINIMAL}app:\n  connect_timeout_ms: 100\n");

    assert_eq!(
        missing(&yaml),
        [
            "app.base_url: is required in the app section; give the app's URL, e.g. \
             http://127.0.0.1:3000, or remove the section to answer non-SCIM paths with 404"
        ]
    );
    assert_eq!(missing(&format!("{MINIMAL}app: {{}}\n")).len(), 1);
}

#[test]
fn an_empty_redact_list_disables_redaction() {
    let yaml = format!("{MINIMAL}audit:\n  redact: []\n");

    assert_eq!(parsed(&yaml).config.audit.redact, Vec::<String>::new());
}

#[test]
fn keys_left_out_of_a_section_take_their_defaults() {
    let yaml = format!("{MINIMAL}auth:\n  cache_ttl_secs: 120\n");

    let auth = parsed(&yaml).config.auth;

    assert_eq!(auth.cache_ttl_secs, 120);
    assert_eq!(auth.negative_ttl_secs, 5);
    assert_eq!(auth.cache_capacity, 50_000);
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
         roles, log, app, admin, limits, lifecycle, audit) at line 1, column 1"
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
        "tls.bogus: unknown key 'bogus' (the keys allowed here are cert_file, key_file, \
         reload_interval_secs, handshake_timeout_ms) at line 1, column 22"
    );
}

#[test]
fn unknown_key_in_the_app_section_is_named() {
    let yaml = format!("{MINIMAL}app:\n  base_url: http://a\n  timeout_ms: 5\n");

    assert_eq!(
        problem(&yaml),
        "app.timeout_ms: unknown key 'timeout_ms' (the keys allowed here are base_url, \
         connect_timeout_ms, request_timeout_ms, pool_idle_timeout_ms, max_idle_per_host, \
         public_paths, forward_authorization, identity_headers) at line 8, column 3"
    );
}

#[test]
fn unknown_key_in_identity_headers_is_named() {
    let yaml = format!("{MINIMAL}app:\n  identity_headers:\n    user: X-User\n");

    assert_eq!(
        problem(&yaml),
        "app.identity_headers.user: unknown key 'user' (the keys allowed here are workspace, \
         token_id, role) at line 8, column 5"
    );
}

#[test]
fn unknown_keys_in_the_other_new_sections_are_named() {
    let cases = [
        (
            "admin:\n  address: 127.0.0.1:9901\n",
            "admin.address: unknown key 'address' (the keys allowed here are listen) \
             at line 7, column 3",
        ),
        (
            "limits:\n  max_header_size: 1\n",
            "limits.max_header_size: unknown key 'max_header_size' (the keys allowed here are \
             header_read_timeout_ms, max_header_bytes, idle_timeout_secs, max_connections, \
             core_max_concurrency) at line 7, column 3",
        ),
        (
            "lifecycle:\n  drain: 5\n",
            "lifecycle.drain: unknown key 'drain' (the keys allowed here are drain_secs, \
             shutdown_deadline_secs) at line 7, column 3",
        ),
        (
            "audit:\n  redacted: []\n",
            "audit.redacted: unknown key 'redacted' (the keys allowed here are redact) \
             at line 7, column 3",
        ),
    ];
    for (section, message) in cases {
        assert_eq!(
            problem(&format!("{MINIMAL}{section}")),
            message,
            "{section}"
        );
    }
}

#[test]
fn wrong_types_in_the_new_sections_are_named() {
    assert_eq!(
        problem(&format!("{MINIMAL}admin:\n  listen: 9901\n")),
        "admin.listen: invalid socket address syntax at line 7, column 11"
    );
    assert_eq!(
        problem(&format!("{MINIMAL}limits:\n  max_connections: -1\n")),
        "limits.max_connections: expected a whole number that is not negative \
         at line 7, column 20"
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
