//! Which paths reach the app, with or without a token, and exactly how
//! their targets arrive.

use authsidecar_e2e::{ADMIN, Harness, VIEWER};

use crate::app::App;
use crate::client::{Proto, bytes, call};
use crate::{BOTH, bearer, get, sidecar_for};

/// Public path prefixes pass without a token, at segment boundaries only.
#[tokio::test]
async fn public_paths_skip_the_token_at_segment_boundaries() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    for target in ["/healthz", "/healthz/live?full=1", "/assets/app.js"] {
        let got = get(&h, Proto::H1, target, &[]).await;
        assert_eq!(got.status, 200, "{target}");
        assert_eq!(got.json["target"], target);
    }
    for target in ["/healthzz", "/assets", "/%61ssets/app.js"] {
        let got = get(&h, Proto::H1, target, &[]).await;
        assert_eq!(got.status, 401, "{target}");
    }
    assert_eq!(
        app.seen(),
        vec![
            "GET /healthz",
            "GET /healthz/live?full=1",
            "GET /assets/app.js"
        ]
    );
    h.shutdown().await;
}

/// A missing, malformed or unknown token is a 401 with a Bearer challenge
/// and the JSON error body, and the app sees nothing.
#[tokio::test]
async fn missing_or_invalid_tokens_get_401_with_a_bearer_challenge() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[],
            "no Authorization header; send 'Authorization: Bearer <Ignite API token>'",
        ),
        (
            &[("authorization", "Basic dXNlcjpwdw==")],
            "the Authorization header is not 'Bearer <token>'",
        ),
        (
            &[("authorization", "Bearer not-a-known-token")],
            "the Ignite API token is not valid (unknown, expired or revoked); send \
             'Authorization: Bearer <Ignite API token>' with a current token",
        ),
    ];
    for proto in BOTH {
        for (headers, detail) in cases {
            let got = call(&h, proto, "POST", "/app/orders", headers, bytes("{}")).await;
            got.assert_error(401, detail);
            assert_eq!(
                got.header("www-authenticate"),
                "Bearer realm=\"authsidecar\""
            );
        }
    }
    assert_eq!(app.seen(), Vec::<String>::new());
    h.shutdown().await;
}

/// Paths and queries reach the app byte-for-byte, below the path of
/// `app.base_url` when it has one.
#[tokio::test]
async fn targets_are_forwarded_byte_for_byte() {
    let app = App::start().await;
    let targets = [
        "/q?a=1&a=2&b=%2F&c=a+b&d=%zz&empty=&flag&u=%C3%A9&x=%7e",
        "/q?",
        "/p/%7Euser/caf%C3%A9;v=1/a:b@c!$'()*,=/x%2Fy",
        "/p//double",
    ];
    let h = sidecar_for(&app, |_| {}).await;
    let auth = bearer(VIEWER);
    for proto in BOTH {
        for target in targets {
            let got = get(&h, proto, target, &[("authorization", &auth)]).await;
            assert_eq!(got.status, 200, "{proto:?} {target}");
            assert_eq!(got.json["target"], target, "{proto:?}");
        }
    }
    h.shutdown().await;

    let h = sidecar_for(&app, |c| c.base_url = format!("{}/base", app.url())).await;
    let got = get(&h, Proto::H1, targets[0], &[("authorization", &auth)]).await;
    assert_eq!(got.json["target"], format!("/base{}", targets[0]));
    h.shutdown().await;
}

/// Routing and the forwarded path agree: anything under the SCIM base path
/// (raw) is SCIM's, and a path a backend would normalise or decode into
/// another route (dot segments, an encoded SCIM path) is refused; none of
/// them reach the app, while a plain encoded slash does.
#[tokio::test]
async fn ambiguous_paths_never_reach_the_app() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let dots = "the path has a '.' or '..' segment (literal or percent-encoded); send the \
                path with dot segments resolved";
    let scim = "the path is another spelling of the SCIM endpoint; address SCIM as \
                /api/v1/scim/v2";
    for proto in BOTH {
        let viewer = bearer(VIEWER);
        let admin = bearer(ADMIN);
        let as_viewer = [("authorization", viewer.as_str())];
        let as_admin = [("authorization", admin.as_str())];
        let got = get(&h, proto, "/api/v1/scim/v2/../x", &as_viewer).await;
        assert_eq!(got.status, 403, "{proto:?}");
        assert_eq!(got.header("content-type"), "application/scim+json");
        let got = get(&h, proto, "/api/v1/scim/v2/../x", &as_admin).await;
        assert_eq!(got.status, 404, "{proto:?}");
        assert_eq!(got.header("content-type"), "application/scim+json");

        for target in [
            "/x/../api/v1/scim/v2/Users",
            "/assets/..%2Fapp/secret",
            "/assets/%2e%2e/app/secret",
            "/assets/..;/app/secret",
        ] {
            get(&h, proto, target, &[]).await.assert_error(400, dots);
            get(&h, proto, target, &as_viewer)
                .await
                .assert_error(400, dots);
        }
        for target in ["/api/v1/scim%2Fv2/Users", "/API/V1/SCIM/V2/Users"] {
            get(&h, proto, target, &as_admin)
                .await
                .assert_error(400, scim);
        }

        let got = get(&h, proto, "/files/a%2Fb", &as_viewer).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.json["target"], "/files/a%2Fb");
    }
    assert_eq!(app.seen(), vec!["GET /files/a%2Fb"; 2]);
    h.shutdown().await;
}

/// Without an `app` section, paths outside SCIM stay 404.
#[tokio::test]
async fn without_an_app_section_other_paths_are_404() {
    let h = Harness::start().await;
    let auth = bearer(ADMIN);
    let got = get(&h, Proto::H1, "/app/x", &[("authorization", &auth)]).await;
    got.assert_error(
        404,
        "nothing is served at /app/x; the SCIM endpoint is /api/v1/scim/v2",
    );
    h.shutdown().await;
}

/// Request headers of a test case.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// HEAD gets the status and headers of the answer and no body, over both
/// protocols, whether the app answers or the sidecar itself does. Over h2 a
/// body the sidecar made (an error, a SCIM document) used to go out as DATA
/// frames on the HEAD stream, which the client refused as a protocol error.
#[tokio::test]
async fn head_gets_headers_and_no_body_whoever_answers() {
    let app = App::start().await;
    let h = sidecar_for(&app, |_| {}).await;
    let as_admin = bearer(ADMIN);
    let cases: [(&str, Headers, u16); 5] = [
        ("/app/x", &[], 401),
        ("/app/x", &[("authorization", &as_admin)], 200),
        ("/api/v1/scim/v2/Users", &[], 401),
        // SCIM defines no HEAD: 405, from the sidecar, with a body to drop.
        (
            "/api/v1/scim/v2/ServiceProviderConfig",
            &[("authorization", &as_admin)],
            405,
        ),
        (
            "/api/v1/scim/v2/Users/no-such-user",
            &[("authorization", &as_admin)],
            405,
        ),
    ];
    for proto in BOTH {
        for (target, headers, status) in cases {
            let got = call(&h, proto, "HEAD", target, headers, bytes("")).await;
            assert_eq!(got.status, status, "{proto:?} HEAD {target}");
            assert!(got.raw.is_empty(), "{proto:?} HEAD {target}: {:?}", got.raw);
            assert!(
                !got.header("x-request-id").is_empty(),
                "{proto:?} HEAD {target}"
            );
        }
    }
    // The sidecar still answers normally on both protocols afterwards.
    for proto in BOTH {
        let got = get(&h, proto, "/api/v1/scim/v2/Users", &[]).await;
        got.assert_error(
            401,
            "no Authorization header; send 'Authorization: Bearer <Ignite API token>' \
             (in Entra, paste the token into Secret Token)",
        );
    }
    h.shutdown().await;
}
