use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::test_support::TempDir;

/// The error lines of a failed load.
fn lines(result: Result<Config, ConfigError>) -> Vec<String> {
    match result {
        Ok(config) => panic!("expected problems, got {config:?}"),
        Err(error) => error.to_string().lines().map(str::to_owned).collect(),
    }
}

const RELATIVE: &str = "\
tls:
  cert_file: tls.crt
  key_file: tls.key
core:
  base_url: http://ignite-core.internal:8080/
";

#[test]
fn load_resolves_tls_paths_against_the_file_directory() {
    let dir = TempDir::new();
    let (cert, key) = dir.write_tls_files();
    let file = dir.write("authsidecar.yaml", RELATIVE);

    let config = load(&file).expect("valid config");

    assert_eq!(config.tls.cert_file, cert);
    assert_eq!(config.tls.key_file, key);
    assert_eq!(config.core.base_url, "http://ignite-core.internal:8080");
    assert_eq!(config.scim, ScimConfig::default());
}

#[test]
fn from_yaml_str_resolves_tls_paths_against_base_dir() {
    let dir = TempDir::new();
    let (cert, key) = dir.write_tls_files();

    let config = from_yaml_str(RELATIVE, dir.path()).expect("valid config");

    assert_eq!(config.tls, TlsConfig::new(cert, key));
}

#[test]
fn relative_paths_are_checked_where_they_resolve() {
    let dir = TempDir::new();

    let problems = lines(from_yaml_str(RELATIVE, dir.path()));

    let base = dir.path().display();
    assert_eq!(
        problems,
        [
            format!("tls.cert_file: {base}/tls.crt does not exist"),
            format!("tls.key_file: {base}/tls.key does not exist"),
        ]
    );
}

#[test]
fn a_missing_file_is_one_problem_named_by_its_path() {
    let dir = TempDir::new();
    let file = dir.path().join("absent.yaml");

    let error = load(&file).expect_err("missing file");

    assert_eq!(
        error.problems,
        [Problem::new(
            file.display().to_string(),
            "the config file does not exist"
        )]
    );
}

#[test]
fn a_directory_is_not_a_config_file() {
    let dir = TempDir::new();

    let problems = lines(load(dir.path()));

    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with(&format!(
            "{}: the config file cannot be read: ",
            dir.path().display()
        )),
        "{problems:?}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_named() {
    let dir = TempDir::new();
    let file = dir.path().join("latin1.yaml");
    std::fs::write(&file, b"listen: \xe9\n").expect("write");

    assert_eq!(
        lines(load(&file)),
        [format!(
            "{}: the config file is not UTF-8 text",
            file.display()
        )]
    );
}

#[test]
fn a_parse_problem_stops_before_validation() {
    let yaml = "tls:\n  cert_file: /x/tls.crt\n  key_flie: /x/tls.key\n";

    assert_eq!(
        lines(from_yaml_str(yaml, Path::new("/"))),
        [
            "tls.key_flie: unknown key 'key_flie' (the keys allowed here are cert_file, \
             key_file, reload_interval_secs, handshake_timeout_ms) at line 3, column 3"
        ]
    );
}

#[test]
fn missing_and_invalid_keys_are_reported_together_once_each() {
    let yaml = "\
tls:
  key_file: /x/tls.key
core:
  connect_timeout_ms: 0
auth:
  negative_ttl_secs: 60
";

    assert_eq!(
        lines(from_yaml_str(yaml, Path::new("/"))),
        [
            "tls.cert_file: is required; give the path of the PEM certificate chain",
            "core.base_url: is required; give the core API's URL, e.g. \
             http://ignite-core.internal:8080",
            "tls.key_file: /x/tls.key does not exist",
            "core.connect_timeout_ms: 0 is out of range; use a value from 1 to 60000",
            "auth.negative_ttl_secs: 60 is larger than auth.cache_ttl_secs (30); an invalid \
             token must not be cached longer than a valid one",
        ]
    );
}

#[test]
fn an_empty_file_names_both_required_sections_only() {
    assert_eq!(
        lines(from_yaml_str("", Path::new("/"))),
        [
            "tls: is required; add a tls section with cert_file and key_file",
            "core: is required; add a core section with base_url",
        ]
    );
}

/// `config/authsidecar.example.yaml` is what operators copy; it must parse,
/// validate, and mean what its comments say.
#[test]
fn the_example_file_is_a_valid_config() {
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/authsidecar.example.yaml");
    let yaml = std::fs::read_to_string(&example).expect("read the example config");
    let parse::Parsed {
        mut config,
        missing,
    } = parse::parse(&yaml, Path::new("/etc/authsidecar")).expect("the example parses");
    assert_eq!(missing, []);

    // Its TLS paths point at /etc; check the rest against real files.
    assert_eq!(
        config.tls.cert_file,
        PathBuf::from("/etc/authsidecar/tls/tls.crt")
    );
    assert_eq!(
        config.tls.key_file,
        PathBuf::from("/etc/authsidecar/tls/tls.key")
    );
    let dir = TempDir::new();
    (config.tls.cert_file, config.tls.key_file) = dir.write_tls_files();
    assert_eq!(config.validate(), Ok(()));

    assert_eq!(config.listen, defaults::LISTEN);
    assert_eq!(config.tls.reload_interval_secs, 10);
    assert_eq!(config.tls.handshake_timeout_ms, 10_000);
    let core = CoreConfig::new("http://ignite-core.internal:8080".to_owned());
    assert_eq!(config.core, core);
    assert_eq!(config.scim, ScimConfig::default());
    assert_eq!(config.auth, AuthConfig::default());
    let mapping = BTreeMap::from([
        ("Ignite.Admin".to_owned(), "Admin".to_owned()),
        ("Ignite.Purchaser".to_owned(), "Buyer".to_owned()),
    ]);
    assert_eq!(config.roles.mapping, mapping);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.log.level, "info");
    let app = AppConfig {
        public_paths: vec!["/healthz".to_owned(), "/assets/".to_owned()],
        ..AppConfig::new("http://127.0.0.1:3000".to_owned())
    };
    assert_eq!(config.app, Some(app));
    assert_eq!(
        config.admin.listen,
        Some("127.0.0.1:9901".parse().expect("address"))
    );
    assert_eq!(config.limits, LimitsConfig::default());
    assert_eq!(config.lifecycle, LifecycleConfig::default());
    assert_eq!(config.audit, AuditConfig::default());
}

#[test]
fn an_app_section_without_base_url_is_reported_once() {
    let yaml = format!("{RELATIVE}app:\n  public_paths: [/healthz]\n");
    let dir = TempDir::new();
    dir.write_tls_files();

    assert_eq!(
        lines(from_yaml_str(&yaml, dir.path())),
        [
            "app.base_url: is required in the app section; give the app's URL, e.g. \
             http://127.0.0.1:3000, or remove the section to answer non-SCIM paths with 404"
        ]
    );
}
