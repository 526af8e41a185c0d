use serde_json::json;

use super::*;
use crate::check::report::Verdict;

fn scim(status: u16, body: Value) -> Answer {
    Answer {
        status,
        media_type: SCIM_MEDIA_TYPE.to_owned(),
        request_id: Some("req-1".to_owned()),
        location: None,
        body: body.to_string().into_bytes(),
    }
}

fn error(status: u16, detail: &str) -> Answer {
    scim(
        status,
        json!({"status": status.to_string(), "detail": detail}),
    )
}

#[test]
fn an_empty_list_passes_the_probe() {
    let empty = scim(200, json!({"totalResults": 0, "Resources": []}));
    assert_eq!(
        probe(&empty, true),
        Outcome::ok(
            "answered 200 with an empty ListResponse (totalResults 0), as Entra's Test \
             Connection expects"
        )
    );
    let found = probe(
        &scim(200, json!({"totalResults": 2, "Resources": [{}, {}]})),
        true,
    );
    assert_eq!(found.verdict, Verdict::Fail);
    assert_eq!(
        found.detail,
        "answered 200 with totalResults 2 for a random userName"
    );
    let mut html = empty.clone();
    html.media_type = "text/html".to_owned();
    let html = probe(&html, true);
    assert_eq!(html.verdict, Verdict::Fail);
    assert_eq!(
        html.detail,
        "answered 200 with text/html, not application/scim+json"
    );
}

#[test]
fn each_refusal_gets_its_own_hint() {
    let unauthenticated = probe(&error(401, "the bearer token is not valid"), true);
    assert_eq!(
        unauthenticated.detail,
        "answered 401: the bearer token is not valid (request id req-1)"
    );
    assert!(
        unauthenticated
            .hint
            .unwrap()
            .starts_with("the token is not valid")
    );
    let forbidden = probe(&error(403, "role Viewer"), true);
    assert!(
        forbidden
            .hint
            .unwrap()
            .starts_with("the token lacks the Admin role")
    );
    let missing = probe(&error(404, "nothing is served at /scim/Users"), true);
    assert!(
        missing
            .hint
            .unwrap()
            .starts_with("the URL's path is wrong; it must end in /api/v1/scim/v2")
    );
    let mut moved = Answer {
        status: 301,
        location: Some("https://other/".to_owned()),
        ..Answer::default()
    };
    assert_eq!(
        probe(&moved, true).detail,
        "answered 301 (redirect to https://other/)"
    );
    moved.status = 502;
    assert!(
        probe(&moved, true)
            .hint
            .unwrap()
            .contains("core is unreachable")
    );
}

#[test]
fn without_a_token_a_401_is_the_right_answer() {
    let refused = probe(&error(401, "no bearer token"), false);
    assert_eq!(refused.verdict, Verdict::Ok);
    assert_eq!(probe(&scim(200, json!({})), false).verdict, Verdict::Fail);
}

#[test]
fn discovery_documents_must_describe_users() {
    let spc = json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        "filter": {"supported": true},
        "bulk": {"supported": false},
        "etag": {"supported": true},
    });
    assert_eq!(
        discovery("/ServiceProviderConfig", &scim(200, spc)),
        Outcome::ok("supports patch, filter, etag")
    );
    let no_patch = json!({"schemas": [SPC_SCHEMA], "filter": {"supported": true}});
    let no_patch = discovery("/ServiceProviderConfig", &scim(200, no_patch));
    assert_eq!(no_patch.verdict, Verdict::Warn);

    let types = json!({"Resources": [{"name": "User", "endpoint": "/Users"}]});
    assert_eq!(
        discovery("/ResourceTypes", &scim(200, types)),
        Outcome::ok("lists User at /Users")
    );
    let groups = json!({"Resources": [{"name": "Group", "endpoint": "/Groups"}]});
    assert_eq!(
        discovery("/ResourceTypes", &scim(200, groups)).verdict,
        Verdict::Fail
    );

    let schemas = json!({"Resources": [{"id": USER_SCHEMA}, {"id": "urn:x"}]});
    assert_eq!(
        discovery("/Schemas", &scim(200, schemas)),
        Outcome::ok("has the core User schema (2 schemas)")
    );
    let other = discovery("/Schemas", &scim(200, json!({"Resources": []})));
    assert_eq!(other.detail, format!("does not contain {USER_SCHEMA}"));
    let mut plain = scim(200, json!({"Resources": []}));
    plain.media_type = "application/json".to_owned();
    assert_eq!(discovery("/Schemas", &plain).verdict, Verdict::Fail);
    assert_eq!(
        discovery("/Schemas", &error(403, "no")).verdict,
        Verdict::Fail
    );
}
