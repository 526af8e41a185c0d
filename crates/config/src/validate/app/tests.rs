use super::*;
use crate::schema::Config;
use crate::test_support::TempDir;

/// The problems of a valid config changed by `change`.
fn with(change: impl FnOnce(&mut Config)) -> Vec<String> {
    let dir = TempDir::new();
    let (cert, key) = dir.write_tls_files();
    let mut config = Config::for_dev(
        defaults::LISTEN,
        cert,
        key,
        "http://ignite-core.internal:8080".to_owned(),
    );
    change(&mut config);
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

/// The problems of a valid config with a default `app` section changed by
/// `change`.
fn with_app(change: impl FnOnce(&mut AppConfig)) -> Vec<String> {
    with(|c| {
        let mut app = AppConfig::new("http://127.0.0.1:3000".to_owned());
        change(&mut app);
        c.app = Some(app);
    })
}

#[test]
fn a_default_app_section_is_valid() {
    assert_eq!(with_app(|_| {}), Vec::<String>::new());
}

#[test]
fn app_base_url_follows_the_core_rules() {
    assert_eq!(
        with_app(|a| a.base_url = "127.0.0.1:3000".to_owned()),
        ["app.base_url: '127.0.0.1:3000' must start with http:// or https://"]
    );
    assert_eq!(
        with_app(|a| a.base_url = "http://".to_owned()),
        ["app.base_url: 'http://' has no host; write e.g. http://127.0.0.1:3000"]
    );
    assert_eq!(
        with_app(|a| a.base_url = "https://127.0.0.1:3000".to_owned()),
        [
            "app.base_url: 'https://127.0.0.1:3000' must start with http://: the sidecar calls \
             the app beside it over plain HTTP (e.g. http://127.0.0.1:3000)"
        ]
    );
    assert_eq!(
        with_app(|a| a.base_url = "http://u:p@app".to_owned()),
        [
            "app.base_url: must not contain credentials (user:password@); secrets never go in \
             the config file"
        ]
    );
}

#[test]
fn app_ranges() {
    assert_eq!(
        with_app(|a| {
            a.connect_timeout_ms = 0;
            a.request_timeout_ms = 600_001;
            a.max_idle_per_host = 4_097;
        }),
        [
            "app.connect_timeout_ms: 0 is out of range; use a value from 1 to 60000",
            "app.request_timeout_ms: 600001 is out of range; use a value from 1 to 600000",
            "app.max_idle_per_host: 4097 is out of range; use a value from 0 to 4096",
        ]
    );
    assert_eq!(
        with_app(|a| {
            a.connect_timeout_ms = 60_001;
            a.request_timeout_ms = 0;
        }),
        [
            "app.connect_timeout_ms: 60001 is out of range; use a value from 1 to 60000",
            "app.request_timeout_ms: 0 is out of range; use a value from 1 to 600000",
        ]
    );
    assert_eq!(
        with_app(|a| {
            a.connect_timeout_ms = 60_000;
            a.request_timeout_ms = 600_000;
            a.pool_idle_timeout_ms = 0;
            a.max_idle_per_host = 4_096;
        }),
        Vec::<String>::new()
    );
}

#[test]
fn app_request_timeout_below_connect_timeout() {
    assert_eq!(
        with_app(|a| {
            a.connect_timeout_ms = 2_000;
            a.request_timeout_ms = 1_999;
        }),
        [
            "app.request_timeout_ms: 1999 is smaller than app.connect_timeout_ms (2000); the \
             request timeout includes connecting, so raise it or lower the connect timeout"
        ]
    );
}

#[test]
fn public_path_shapes() {
    let problems = with_app(|a| {
        a.public_paths = [
            "/healthz",
            "assets/",
            "",
            "/a b",
            "/x?y",
            "/x#y",
            "/api/v1/scim/v2",
            "/api/v1/scim/v2/Users",
            "/api/v1/scim/v2x",
            "/api/v1",
            "/",
        ]
        .map(str::to_owned)
        .to_vec();
    });

    assert_eq!(
        problems,
        [
            "app.public_paths[1]: 'assets/' must start with '/'",
            "app.public_paths[2]: '' must start with '/'",
            "app.public_paths[3]: '/a b' must not contain whitespace",
            "app.public_paths[4]: '/x?y' must not contain '?' or '#'; it is a path prefix, \
             not a URL",
            "app.public_paths[5]: '/x#y' must not contain '?' or '#'; it is a path prefix, \
             not a URL",
            "app.public_paths[6]: '/api/v1/scim/v2' is under scim.base_path (/api/v1/scim/v2); \
             SCIM requests always need a token, so remove it",
            "app.public_paths[7]: '/api/v1/scim/v2/Users' is under scim.base_path \
             (/api/v1/scim/v2); SCIM requests always need a token, so remove it",
        ]
    );
}

#[test]
fn public_paths_are_not_compared_with_an_invalid_scim_base_path() {
    let problems = with(|c| {
        c.scim.base_path = "/scim/".to_owned();
        let mut app = AppConfig::new("http://127.0.0.1:3000".to_owned());
        app.public_paths = vec!["/scim/".to_owned()];
        c.app = Some(app);
    });

    assert_eq!(
        problems,
        ["scim.base_path: '/scim/' must not end with '/'; write '/scim'"]
    );
}

#[test]
fn identity_header_names() {
    let problems = with_app(|a| {
        a.identity_headers = IdentityHeaders {
            workspace: String::new(),
            token_id: "X Token".to_owned(),
            role: "host".to_owned(),
        };
    });

    assert_eq!(
        problems,
        [
            "app.identity_headers.workspace: is empty; give a header name such as \
             X-Ignite-Workspace",
            "app.identity_headers.token_id: 'X Token' is not a valid HTTP header name (RFC 9110 \
             section 5.6.2); use letters, digits and '-', e.g. X-Ignite-Token-Id",
            "app.identity_headers.role: 'host' is reserved: the sidecar or HTTP itself gives it \
             a meaning; use a name of your own, e.g. X-Ignite-Role",
        ]
    );
}

#[test]
fn every_reserved_header_is_refused() {
    for name in [
        "Host",
        "Authorization",
        "Connection",
        "Content-Length",
        "Transfer-Encoding",
        "Keep-Alive",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Authorization",
        "X-Forwarded-For",
    ] {
        let problems = with_app(|a| a.identity_headers.role = name.to_owned());

        assert_eq!(
            problems,
            [format!(
                "app.identity_headers.role: '{name}' is reserved: the sidecar or HTTP itself \
                 gives it a meaning; use a name of your own, e.g. X-Ignite-Role"
            )],
            "{name}"
        );
    }
}

#[test]
fn identity_headers_must_differ_ignoring_case() {
    let problems = with_app(|a| {
        a.identity_headers = IdentityHeaders {
            workspace: "X-Ignite-Id".to_owned(),
            token_id: "x-ignite-id".to_owned(),
            role: "X-IGNITE-ID".to_owned(),
        };
    });

    assert_eq!(
        problems,
        [
            "app.identity_headers.token_id: 'x-ignite-id' is the same header as \
             app.identity_headers.workspace (header names are case-insensitive); give each \
             identity header its own name",
            "app.identity_headers.role: 'X-IGNITE-ID' is the same header as \
             app.identity_headers.workspace (header names are case-insensitive); give each \
             identity header its own name",
        ]
    );
}

#[test]
fn unusual_but_valid_header_names_pass() {
    let problems = with_app(|a| {
        a.identity_headers = IdentityHeaders {
            workspace: "x_ignite.workspace".to_owned(),
            token_id: "X-Token~1".to_owned(),
            role: "Role".to_owned(),
        };
    });

    assert_eq!(problems, Vec::<String>::new());
}
