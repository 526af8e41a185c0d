//! `../shared/cases/auth.json`, ported: authentication (401), authorization
//! (403) and workspace isolation (404), through the real sidecar and core.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{ADMIN, Harness, OTHER, VIEWER, rand_hex};
use serde_json::json;

fn user(name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "active": true
    })
}

fn filter_path(user_name: &str) -> String {
    format!(
        "/Users?filter=userName+eq+%22{}%22",
        user_name.replace('@', "%40")
    )
}

/// auth.missing-token-401
#[tokio::test]
async fn missing_token_is_401_with_a_bearer_challenge() {
    let h = Harness::start().await;
    let r = h
        .req("GET", "/Users?filter=userName+eq+%22x%22")
        .token(None)
        .send()
        .await;
    r.assert_error(401, None);
    assert!(
        r.header("www-authenticate").starts_with("Bearer"),
        "{:?}",
        r.headers
    );
    h.shutdown().await;
}

/// auth.garbage-token-401
#[tokio::test]
async fn unknown_token_is_401_with_a_bearer_challenge() {
    let h = Harness::start().await;
    let r = h
        .req("GET", "/Users")
        .token(Some("garbage-token-xyz"))
        .send()
        .await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    // A second try is answered from the negative cache the same way.
    let r = h
        .req("GET", "/Users")
        .token(Some("garbage-token-xyz"))
        .send()
        .await;
    r.assert_error(401, None);
    h.shutdown().await;
}

/// auth.lowercase-bearer-scheme
#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let h = Harness::start().await;
    let r = h
        .req("GET", "/Users?filter=userName+eq+%22nobody%22")
        .token(None)
        .header("Authorization", &format!("bearer {ADMIN}"))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 0);
    h.shutdown().await;
}

/// authz.member-get-403
#[tokio::test]
async fn non_admin_token_gets_403() {
    let h = Harness::start().await;
    let r = h.req("GET", "/Users").token(Some(VIEWER)).send().await;
    r.assert_error(403, None);
    assert!(r.body["detail"].as_str().unwrap().contains("Admin"));
    h.shutdown().await;
}

/// authz.member-post-403
#[tokio::test]
async fn non_admin_token_cannot_create() {
    let h = Harness::start().await;
    let name = format!("m-{}@example.test", rand_hex());
    let r = h
        .req("POST", "/Users")
        .token(Some(VIEWER))
        .json(user(&name))
        .send()
        .await;
    r.assert_error(403, None);
    let r = h.get(&filter_path(&name)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    h.shutdown().await;
}

/// authz.member-delete-403
#[tokio::test]
async fn non_admin_token_cannot_delete() {
    let h = Harness::start().await;
    let id = h
        .create(user(&format!("d-{}@example.test", rand_hex())))
        .await;
    let r = h
        .req("DELETE", &format!("/Users/{id}"))
        .token(Some(VIEWER))
        .send()
        .await;
    r.assert_error(403, None);
    assert_eq!(h.get(&format!("/Users/{id}")).await.status, 200);
    h.shutdown().await;
}

/// isolation.other-workspace-get-404
#[tokio::test]
async fn another_workspace_cannot_see_the_user() {
    let h = Harness::start().await;
    let name = format!("iso-{}@example.test", rand_hex());
    let id = h.create(user(&name)).await;
    let r = h
        .req("GET", &format!("/Users/{id}"))
        .token(Some(OTHER))
        .send()
        .await;
    r.assert_error(404, None);
    // Nor find it by filter.
    let r = h
        .req("GET", &filter_path(&name))
        .token(Some(OTHER))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    h.shutdown().await;
}

/// isolation.other-workspace-delete-404
#[tokio::test]
async fn another_workspace_cannot_delete_the_user() {
    let h = Harness::start().await;
    let id = h
        .create(user(&format!("isd-{}@example.test", rand_hex())))
        .await;
    let r = h
        .req("DELETE", &format!("/Users/{id}"))
        .token(Some(OTHER))
        .send()
        .await;
    r.assert_error(404, None);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    h.shutdown().await;
}
