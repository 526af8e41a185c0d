//! `../shared/cases/auth.json`, ported: authentication (401), authorization
//! (403) and workspace isolation (404), through the real sidecar and core.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{ADMIN, Harness, OTHER, Resp, VIEWER, filter_path_plus, rand_hex, user};

/// `method path` with `token` instead of the admin's.
async fn send_as(h: &Harness, token: &str, method: &str, path: &str) -> Resp {
    h.req(method, path).token(Some(token)).send().await
}

/// Creates the user `{local}-RAND@example.test` as admin, then tries to
/// delete it with `token`; returns the user's id and that answer.
async fn create_then_delete_as(h: &Harness, local: &str, token: &str) -> (String, Resp) {
    let id = h
        .create(user(&format!("{local}-{}@example.test", rand_hex())))
        .await;
    let r = send_as(h, token, "DELETE", &format!("/Users/{id}")).await;
    (id, r)
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
    let r = send_as(&h, "garbage-token-xyz", "GET", "/Users").await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    // A second try is answered from the negative cache the same way.
    let r = send_as(&h, "garbage-token-xyz", "GET", "/Users").await;
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
    let r = send_as(&h, VIEWER, "GET", "/Users").await;
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
    let r = h.get(&filter_path_plus("userName", &name)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    h.shutdown().await;
}

/// authz.member-delete-403
#[tokio::test]
async fn non_admin_token_cannot_delete() {
    let h = Harness::start().await;
    let (id, r) = create_then_delete_as(&h, "d", VIEWER).await;
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
    let r = send_as(&h, OTHER, "GET", &format!("/Users/{id}")).await;
    r.assert_error(404, None);
    // Nor find it by filter.
    let r = send_as(&h, OTHER, "GET", &filter_path_plus("userName", &name)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    h.shutdown().await;
}

/// isolation.other-workspace-delete-404
#[tokio::test]
async fn another_workspace_cannot_delete_the_user() {
    let h = Harness::start().await;
    let (id, r) = create_then_delete_as(&h, "isd", OTHER).await;
    r.assert_error(404, None);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    h.shutdown().await;
}
