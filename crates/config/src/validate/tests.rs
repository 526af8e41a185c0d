use std::path::PathBuf;

use super::*;
use crate::schema::{AppConfig, defaults};
use crate::test_support::TempDir;

/// A valid config whose TLS files live in `dir`.
fn config(dir: &TempDir) -> Config {
    let (cert, key) = dir.write_tls_files();
    Config::for_dev(
        defaults::LISTEN,
        cert,
        key,
        "http://ignite-core.internal:8080".to_owned(),
    )
}

fn problems(config: &Config) -> Vec<String> {
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

/// The problems for `config` with one change applied.
fn with(change: impl FnOnce(&mut Config)) -> Vec<String> {
    let dir = TempDir::new();
    let mut config = config(&dir);
    change(&mut config);
    problems(&config)
}

#[test]
fn defaults_with_readable_files_are_valid() {
    assert_eq!(with(|_| {}), Vec::<String>::new());
}

#[test]
fn missing_tls_files() {
    let problems = with(|c| {
        c.tls.cert_file = PathBuf::from("/x/tls.crt");
        c.tls.key_file = PathBuf::from("/x/tls.key");
    });

    assert_eq!(
        problems,
        [
            "tls.cert_file: /x/tls.crt does not exist",
            "tls.key_file: /x/tls.key does not exist"
        ]
    );
}

#[test]
fn tls_path_that_is_a_directory() {
    let dir = TempDir::new();
    let mut config = config(&dir);
    config.tls.key_file = dir.path().to_owned();

    assert_eq!(
        problems(&config),
        [format!(
            "tls.key_file: {} is a directory; give the path of the PEM private key",
            dir.path().display()
        )]
    );
}

#[test]
fn empty_tls_path() {
    assert_eq!(
        with(|c| c.tls.cert_file = PathBuf::new()),
        ["tls.cert_file: is empty; give the path of the PEM certificate chain"]
    );
}

#[test]
fn base_url_shapes() {
    let cases = [
        ("ftp://x", "'ftp://x' must start with http:// or https://"),
        (
            "ignite-core:8080",
            "'ignite-core:8080' must start with http:// or https://",
        ),
        (
            "HTTP://core",
            "'HTTP://core' must start with http:// or https://",
        ),
        (
            "http://core internal",
            "'http://core internal' must not contain whitespace",
        ),
        (
            "http://core/api?x=1",
            "'http://core/api?x=1' must not contain a query ('?') or a fragment ('#'); give only \
             scheme, host, port and path",
        ),
        (
            "http://core#top",
            "'http://core#top' must not contain a query ('?') or a fragment ('#'); give only \
             scheme, host, port and path",
        ),
        (
            "https://svc:hunter2@core",
            "must not contain credentials (user:password@); secrets never go in the config file",
        ),
        (
            "http://",
            "'http://' has no host; write e.g. http://ignite-core.internal:8080",
        ),
        (
            "http://:8080/api",
            "'http://:8080/api' has no host; write e.g. http://ignite-core.internal:8080",
        ),
        (
            "http://core_%41",
            "'http://core_%41' has an invalid host 'core_%41'",
        ),
        (
            "http://[zz]:80",
            "'http://[zz]:80' has an invalid host '[zz]'",
        ),
        (
            "http://core:99999",
            "'http://core:99999' has an invalid port '99999'; use a number from 1 to 65535",
        ),
        (
            "http://core:0",
            "'http://core:0' has an invalid port '0'; use a number from 1 to 65535",
        ),
        (
            "http://core:",
            "'http://core:' has an invalid port ''; use a number from 1 to 65535",
        ),
    ];
    for (url, message) in cases {
        let problems = with(|c| c.core.base_url = url.to_owned());

        assert_eq!(problems, [format!("core.base_url: {message}")], "for {url}");
    }
}

#[test]
fn base_urls_that_are_fine() {
    for url in [
        "http://ignite-core.internal:8080",
        "https://core.example.com/ignite/api",
        "http://10.0.0.7",
        "http://[::1]:8080",
    ] {
        assert_eq!(
            with(|c| c.core.base_url = url.to_owned()),
            Vec::<String>::new(),
            "{url}"
        );
    }
}

#[test]
fn core_ranges() {
    assert_eq!(
        with(|c| {
            c.core.connect_timeout_ms = 0;
            c.core.request_timeout_ms = 300_001;
            c.core.max_idle_per_host = 1_025;
        }),
        [
            "core.connect_timeout_ms: 0 is out of range; use a value from 1 to 60000",
            "core.request_timeout_ms: 300001 is out of range; use a value from 1 to 300000",
            "core.max_idle_per_host: 1025 is out of range; use a value from 0 to 1024",
        ]
    );
    assert_eq!(
        with(|c| {
            c.core.connect_timeout_ms = 60_001;
            c.core.request_timeout_ms = 0;
        }),
        [
            "core.connect_timeout_ms: 60001 is out of range; use a value from 1 to 60000",
            "core.request_timeout_ms: 0 is out of range; use a value from 1 to 300000",
        ]
    );
}

#[test]
fn core_range_edges_are_valid() {
    let problems = with(|c| {
        c.core.connect_timeout_ms = 60_000;
        c.core.request_timeout_ms = 60_000;
        c.core.pool_idle_timeout_ms = 0;
        c.core.max_idle_per_host = 0;
    });

    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn request_timeout_below_connect_timeout() {
    assert_eq!(
        with(|c| {
            c.core.connect_timeout_ms = 1_000;
            c.core.request_timeout_ms = 500;
        }),
        [
            "core.request_timeout_ms: 500 is smaller than core.connect_timeout_ms (1000); the \
             request timeout includes connecting, so raise it or lower the connect timeout"
        ]
    );
}

#[test]
fn base_path_shapes() {
    let cases = [
        ("scim/v2", "'scim/v2' must start with '/'"),
        ("", "'' must start with '/'"),
        ("/scim v2", "'/scim v2' must not contain whitespace"),
        (
            "/scim?x",
            "'/scim?x' must not contain '?' or '#'; it is a path, not a URL",
        ),
        (
            "/scim#x",
            "'/scim#x' must not contain '?' or '#'; it is a path, not a URL",
        ),
        (
            "/scim/v2/",
            "'/scim/v2/' must not end with '/'; write '/scim/v2'",
        ),
        (
            "/",
            "'/' must not end with '/'; use a prefix such as /scim/v2",
        ),
    ];
    for (path, message) in cases {
        let problems = with(|c| c.scim.base_path = path.to_owned());

        assert_eq!(
            problems,
            [format!("scim.base_path: {message}")],
            "for {path:?}"
        );
    }
}

#[test]
fn scim_ranges() {
    assert_eq!(
        with(|c| {
            c.scim.max_body_bytes = 1_023;
            c.scim.filter_scan_cap = 0;
            c.scim.max_write_retries = 51;
        }),
        [
            "scim.max_body_bytes: 1023 is out of range; use a value from 1024 to 67108864",
            "scim.filter_scan_cap: 0 is out of range; use a value from 1 to 1000000",
            "scim.max_write_retries: 51 is out of range; use a value from 0 to 50",
        ]
    );
    assert_eq!(
        with(|c| {
            c.scim.max_body_bytes = 67_108_865;
            c.scim.filter_scan_cap = 1_000_001;
        }),
        [
            "scim.max_body_bytes: 67108865 is out of range; use a value from 1024 to 67108864",
            "scim.filter_scan_cap: 1000001 is out of range; use a value from 1 to 1000000",
        ]
    );
}

#[test]
fn auth_ranges() {
    assert_eq!(
        with(|c| {
            c.auth.cache_ttl_secs = 0;
            c.auth.negative_ttl_secs = 301;
            c.auth.cache_capacity = 0;
        }),
        [
            "auth.cache_ttl_secs: 0 is out of range; use a value from 1 to 3600",
            "auth.negative_ttl_secs: 301 is out of range; use a value from 0 to 300",
            "auth.cache_capacity: 0 is out of range; use a value from 1 to 10000000",
        ]
    );
    assert_eq!(
        with(|c| {
            c.auth.cache_ttl_secs = 3_601;
            c.auth.cache_capacity = 10_000_001;
        }),
        [
            "auth.cache_ttl_secs: 3601 is out of range; use a value from 1 to 3600",
            "auth.cache_capacity: 10000001 is out of range; use a value from 1 to 10000000",
        ]
    );
}

#[test]
fn negative_ttl_longer_than_positive_ttl() {
    assert_eq!(
        with(|c| {
            c.auth.cache_ttl_secs = 30;
            c.auth.negative_ttl_secs = 60;
        }),
        [
            "auth.negative_ttl_secs: 60 is larger than auth.cache_ttl_secs (30); an invalid \
             token must not be cached longer than a valid one"
        ]
    );
    assert_eq!(
        with(|c| {
            c.auth.cache_ttl_secs = 30;
            c.auth.negative_ttl_secs = 30;
        }),
        Vec::<String>::new()
    );
}

#[test]
fn role_mapping_entries_must_not_be_empty() {
    let problems = with(|c| {
        let mapping = &mut c.roles.mapping;
        mapping.insert(" ".to_owned(), "Admin".to_owned());
        mapping.insert("Ignite.Buyer".to_owned(), String::new());
        mapping.insert("Approver".to_owned(), "Approver".to_owned());
    });

    assert_eq!(
        problems,
        [
            "roles.mapping.\" \": the Entra app-role value is empty; write it exactly as in the \
             Entra app registration",
            "roles.mapping.\"Ignite.Buyer\": the Ignite role name is empty; give the workspace \
             role this app role grants",
        ]
    );
}

#[test]
fn log_levels() {
    assert_eq!(
        with(|c| c.log.level = " ".to_owned()),
        [
            "log.level: is empty; use a level such as info, or directives such as \
             info,authsidecar=debug"
        ]
    );
    assert_eq!(
        with(|c| c.log.level = "authsidecar=loud".to_owned()),
        [
            "log.level: 'authsidecar=loud' is not a valid filter directive (error parsing \
             level filter: expected one of \"off\", \"error\", \"warn\", \"info\", \"debug\", \
             \"trace\", or a number 0-5); use a level such as info, or directives such as \
             info,authsidecar=debug"
        ]
    );
    assert_eq!(
        with(|c| c.log.level = "warn,authsidecar=debug".to_owned()),
        Vec::<String>::new()
    );
}

#[test]
fn every_problem_is_reported_at_once_in_schema_order() {
    let problems = with(|c| {
        c.tls.cert_file = PathBuf::from("/x/tls.crt");
        c.core.base_url = "ftp://x".to_owned();
        c.scim.base_path = "/scim/".to_owned();
        c.auth.negative_ttl_secs = 60;
        c.log.level = String::new();
        c.app = Some(AppConfig::new("ftp://app".to_owned()));
        c.admin.listen = Some(c.listen);
        c.limits.max_connections = 0;
        c.lifecycle.drain_secs = 601;
        c.audit.redact = vec![String::new()];
    });

    assert_eq!(
        problems,
        [
            "tls.cert_file: /x/tls.crt does not exist",
            "core.base_url: 'ftp://x' must start with http:// or https://",
            "scim.base_path: '/scim/' must not end with '/'; write '/scim'",
            "auth.negative_ttl_secs: 60 is larger than auth.cache_ttl_secs (30); an invalid \
             token must not be cached longer than a valid one",
            "log.level: is empty; use a level such as info, or directives such as \
             info,authsidecar=debug",
            "app.base_url: 'ftp://app' must start with http:// or https://",
            "admin.listen: 0.0.0.0:8443 collides with listen (0.0.0.0:8443): both bind port \
             8443; give the admin listener a port of its own, e.g. 127.0.0.1:9901",
            "limits.max_connections: 0 is out of range; use a value from 1 to 1000000",
            "lifecycle.drain_secs: 601 is out of range; use a value from 0 to 600",
            "audit.redact[0]: is empty; give a SCIM attribute name such as emails, or remove \
             the entry",
        ]
    );
}

#[test]
fn admin_listen_must_not_collide_with_listen() {
    let addr = |s: &str| s.parse::<std::net::SocketAddr>().expect("address");
    let collide = |listen: &str, admin: &str| {
        with(|c| {
            c.listen = addr(listen);
            c.admin.listen = Some(addr(admin));
        })
    };

    assert_eq!(
        collide("0.0.0.0:8443", "0.0.0.0:8443"),
        [
            "admin.listen: 0.0.0.0:8443 collides with listen (0.0.0.0:8443): both bind port \
             8443; give the admin listener a port of its own, e.g. 127.0.0.1:9901"
        ]
    );
    assert_eq!(
        collide("0.0.0.0:8443", "127.0.0.1:8443"),
        [
            "admin.listen: 127.0.0.1:8443 collides with listen (0.0.0.0:8443): both bind port \
             8443; give the admin listener a port of its own, e.g. 127.0.0.1:9901"
        ]
    );
    assert_eq!(
        collide("127.0.0.1:8443", "127.0.0.1:9901"),
        Vec::<String>::new()
    );
    assert_eq!(
        collide("10.0.0.1:8443", "127.0.0.1:8443"),
        Vec::<String>::new()
    );
    assert_eq!(collide("127.0.0.1:0", "127.0.0.1:0"), Vec::<String>::new());
}

#[test]
fn tls_ranges() {
    assert_eq!(
        with(|c| {
            c.tls.reload_interval_secs = 86_401;
            c.tls.handshake_timeout_ms = 99;
        }),
        [
            "tls.reload_interval_secs: 86401 is out of range; use a value from 0 to 86400",
            "tls.handshake_timeout_ms: 99 is out of range; use a value from 100 to 120000",
        ]
    );
    assert_eq!(
        with(|c| c.tls.handshake_timeout_ms = 120_001),
        ["tls.handshake_timeout_ms: 120001 is out of range; use a value from 100 to 120000"]
    );
    assert_eq!(
        with(|c| {
            c.tls.reload_interval_secs = 0;
            c.tls.handshake_timeout_ms = 100;
        }),
        Vec::<String>::new()
    );
}

#[test]
fn stale_if_error_range() {
    assert_eq!(
        with(|c| c.auth.stale_if_error_secs = 3_601),
        ["auth.stale_if_error_secs: 3601 is out of range; use a value from 0 to 3600"]
    );
    assert_eq!(
        with(|c| c.auth.stale_if_error_secs = 3_600),
        Vec::<String>::new()
    );
}

#[test]
fn limits_ranges() {
    assert_eq!(
        with(|c| {
            c.limits = LimitsConfig {
                header_read_timeout_ms: 99,
                max_header_bytes: 4_095,
                idle_timeout_secs: 0,
                max_connections: 0,
                core_max_concurrency: 0,
            };
        }),
        [
            "limits.header_read_timeout_ms: 99 is out of range; use a value from 100 to 300000",
            "limits.max_header_bytes: 4095 is out of range; use a value from 4096 to 1048576",
            "limits.idle_timeout_secs: 0 is out of range; use a value from 1 to 3600",
            "limits.max_connections: 0 is out of range; use a value from 1 to 1000000",
            "limits.core_max_concurrency: 0 is out of range; use a value from 1 to 100000",
        ]
    );
    assert_eq!(
        with(|c| {
            c.limits = LimitsConfig {
                header_read_timeout_ms: 300_001,
                max_header_bytes: 1_048_577,
                idle_timeout_secs: 3_601,
                max_connections: 1_000_001,
                core_max_concurrency: 100_001,
            };
        }),
        [
            "limits.header_read_timeout_ms: 300001 is out of range; use a value from 100 to \
             300000",
            "limits.max_header_bytes: 1048577 is out of range; use a value from 4096 to 1048576",
            "limits.idle_timeout_secs: 3601 is out of range; use a value from 1 to 3600",
            "limits.max_connections: 1000001 is out of range; use a value from 1 to 1000000",
            "limits.core_max_concurrency: 100001 is out of range; use a value from 1 to 100000",
        ]
    );
}

#[test]
fn lifecycle_ranges() {
    assert_eq!(
        with(|c| {
            c.lifecycle.drain_secs = 601;
            c.lifecycle.shutdown_deadline_secs = 0;
        }),
        [
            "lifecycle.drain_secs: 601 is out of range; use a value from 0 to 600",
            "lifecycle.shutdown_deadline_secs: 0 is out of range; use a value from 1 to 3600",
        ]
    );
    assert_eq!(
        with(|c| c.lifecycle.shutdown_deadline_secs = 3_601),
        ["lifecycle.shutdown_deadline_secs: 3601 is out of range; use a value from 1 to 3600"]
    );
    assert_eq!(
        with(|c| {
            c.lifecycle.drain_secs = 0;
            c.lifecycle.shutdown_deadline_secs = 3_600;
        }),
        Vec::<String>::new()
    );
}

#[test]
fn audit_redact_names() {
    let problems = with(|c| {
        c.audit.redact = ["emails", " ", "Emails", "name", "NAME"]
            .map(str::to_owned)
            .to_vec();
    });

    assert_eq!(
        problems,
        [
            "audit.redact[1]: is empty; give a SCIM attribute name such as emails, or remove \
             the entry",
            "audit.redact[2]: 'Emails' is listed already as 'emails' (names are \
             case-insensitive); remove one",
            "audit.redact[4]: 'NAME' is listed already as 'name' (names are case-insensitive); \
             remove one",
        ]
    );
    assert_eq!(with(|c| c.audit.redact.clear()), Vec::<String>::new());
}
