use super::*;

#[test]
fn for_dev_fills_defaults_around_the_given_values() {
    let listen: SocketAddr = "127.0.0.1:9443".parse().expect("address");
    let config = Config::for_dev(
        listen,
        PathBuf::from("/dev/tls.crt"),
        PathBuf::from("/dev/tls.key"),
        "http://127.0.0.1:8080/".to_owned(),
    );

    assert_eq!(config.listen, listen);
    assert_eq!(config.tls.cert_file, PathBuf::from("/dev/tls.crt"));
    assert_eq!(config.tls.key_file, PathBuf::from("/dev/tls.key"));
    assert_eq!(config.core.base_url, "http://127.0.0.1:8080");
    assert_eq!(config.core.connect_timeout(), Duration::from_millis(1_000));
    assert_eq!(config.core.request_timeout(), Duration::from_millis(5_000));
    assert_eq!(
        config.core.pool_idle_timeout(),
        Duration::from_millis(30_000)
    );
    assert_eq!(config.core.max_idle_per_host, 32);
    assert_eq!(config.scim.base_path, "/api/v1/scim/v2");
    assert_eq!(config.scim.max_body_bytes, 1_048_576);
    assert_eq!(config.scim.filter_scan_cap, 10_000);
    assert_eq!(config.scim.max_write_retries, 5);
    assert_eq!(config.auth.cache_ttl(), Duration::from_secs(30));
    assert_eq!(config.auth.negative_ttl(), Duration::from_secs(5));
    assert_eq!(config.auth.cache_capacity, 50_000);
    assert_eq!(config.roles.mapping, BTreeMap::new());
    assert_eq!(config.log.format, LogFormat::Plain);
    assert_eq!(config.log.level, "info");
    assert_eq!(config.app, None);
    assert_eq!(config.admin.listen, None);
}

#[test]
fn new_sections_default_to_the_documented_values() {
    let tls = TlsConfig::new(PathBuf::from("/a.crt"), PathBuf::from("/a.key"));
    assert_eq!(tls.reload_interval(), Duration::from_secs(10));
    assert_eq!(tls.handshake_timeout(), Duration::from_millis(10_000));

    let auth = AuthConfig::default();
    assert_eq!(auth.stale_if_error_secs, 0);
    assert_eq!(auth.stale_if_error(), Duration::ZERO);

    let app = AppConfig::new("http://127.0.0.1:3000/".to_owned());
    assert_eq!(app.base_url, "http://127.0.0.1:3000");
    assert_eq!(app.connect_timeout(), Duration::from_millis(1_000));
    assert_eq!(app.request_timeout(), Duration::from_millis(30_000));
    assert_eq!(app.pool_idle_timeout(), Duration::from_millis(30_000));
    assert_eq!(app.max_idle_per_host, 64);
    assert_eq!(app.public_paths, Vec::<String>::new());
    assert!(!app.forward_authorization);
    let headers = IdentityHeaders {
        workspace: "X-Ignite-Workspace".to_owned(),
        token_id: "X-Ignite-Token-Id".to_owned(),
        role: "X-Ignite-Role".to_owned(),
    };
    assert_eq!(app.identity_headers, headers);

    let limits = LimitsConfig::default();
    assert_eq!(limits.header_read_timeout(), Duration::from_millis(30_000));
    assert_eq!(limits.max_header_bytes, 65_536);
    assert_eq!(limits.idle_timeout(), Duration::from_secs(120));
    assert_eq!(limits.max_connections, 10_000);
    assert_eq!(limits.core_max_concurrency, 256);

    let lifecycle = LifecycleConfig::default();
    assert_eq!(lifecycle.drain(), Duration::from_secs(5));
    assert_eq!(lifecycle.shutdown_deadline(), Duration::from_secs(20));

    assert_eq!(
        AuditConfig::default().redact,
        [
            "name",
            "displayName",
            "nickName",
            "emails",
            "phoneNumbers",
            "addresses",
            "photos",
            "ims"
        ]
    );
}

#[test]
fn default_listen_is_all_interfaces_on_8443() {
    assert_eq!(defaults::LISTEN.to_string(), "0.0.0.0:8443");
}

#[test]
fn trailing_slashes_are_stripped_from_the_path_only() {
    let strip = |url: &str| strip_trailing_slashes(url.to_owned());

    assert_eq!(strip("https://core.internal/"), "https://core.internal");
    assert_eq!(
        strip("https://core.internal/api//"),
        "https://core.internal/api"
    );
    assert_eq!(strip("https://core.internal"), "https://core.internal");
    assert_eq!(strip("http://"), "http://");
    assert_eq!(strip("core.internal/"), "core.internal/");
}
