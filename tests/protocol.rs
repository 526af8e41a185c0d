//! SCIM behaviour beyond the shared cases: conditional requests (ETag,
//! If-Match, If-None-Match), PUT, searches by POST, projections on write
//! responses, and the cap on filters the core cannot index.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{Harness, filter_path, rand_hex, user};
use serde_json::json;

fn name() -> String {
    format!("p-{}@example.test", rand_hex())
}

/// Every single-resource answer carries the version as a weak ETag, equal to
/// `meta.version`, and a write moves it on.
#[tokio::test]
async fn etag_follows_meta_version() {
    let h = Harness::start().await;
    let r = h.post("/Users", user(&name())).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("etag"), "W/\"1\"");
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    let id = r.id();
    let r = h
        .patch_user(
            &id,
            json!([{"op": "replace", "path": "displayName", "value": "X"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), "W/\"2\"");
    assert_eq!(h.read_user(&id).await.header("etag"), "W/\"2\"");
    h.shutdown().await;
}

/// If-None-Match with the current ETag is 304 without a body; a stale one is 200.
#[tokio::test]
async fn if_none_match_gives_304_for_the_current_version() {
    let h = Harness::start().await;
    let id = h.create(user(&name())).await;
    let path = format!("/Users/{id}");
    let r = h
        .req("GET", &path)
        .header("If-None-Match", "W/\"1\"")
        .send()
        .await;
    assert_eq!(r.status, 304);
    assert!(r.raw.is_empty());
    assert_eq!(r.header("etag"), "W/\"1\"");
    let r = h
        .req("GET", &path)
        .header("If-None-Match", "W/\"7\"")
        .send()
        .await;
    assert_eq!(r.status, 200);
    h.shutdown().await;
}

/// If-Match with a stale ETag is 412 and changes nothing; with the current
/// one (weak or strong form) the write goes through.
#[tokio::test]
async fn if_match_guards_patch_put_and_delete() {
    let h = Harness::start().await;
    let n = name();
    let id = h.create(user(&n)).await;
    let path = format!("/Users/{id}");
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]
    });
    let r = h
        .req("PATCH", &path)
        .header("If-Match", "W/\"9\"")
        .json(patch.clone())
        .send()
        .await;
    r.assert_error(412, None);
    assert!(h.read_user(&id).await.body.get("displayName").is_none());

    let r = h
        .req("PATCH", &path)
        .header("If-Match", "\"1\"")
        .json(patch)
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["displayName"], "Changed");

    let r = h
        .req("PUT", &path)
        .header("If-Match", "W/\"1\"")
        .json(user(&n))
        .send()
        .await;
    r.assert_error(412, None);
    let r = h
        .req("DELETE", &path)
        .header("If-Match", "W/\"1\"")
        .send()
        .await;
    r.assert_error(412, None);
    assert_eq!(h.read_user(&id).await.status, 200);
    let r = h
        .req("DELETE", &path)
        .header("If-Match", "W/\"2\"")
        .send()
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(h.get(&path).await.status, 404);
    h.shutdown().await;
}

/// PUT replaces the whole resource: attributes left out are gone, the id and
/// `meta.created` stay.
#[tokio::test]
async fn put_replaces_the_resource() {
    let h = Harness::start().await;
    let n = name();
    let r = h
        .post(
            "/Users",
            json!({"userName": n, "displayName": "Old", "title": "Buyer"}),
        )
        .await;
    let id = r.id();
    let created = r.body["meta"]["created"].clone();
    let r = h
        .req("PUT", &format!("/Users/{id}"))
        .json(json!({"userName": n, "displayName": "New", "active": false}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["displayName"], "New");
    assert_eq!(r.body["active"], false);
    assert!(r.body.get("title").is_none());
    assert_eq!(r.body["meta"]["created"], created);
    let back = h.read_user(&id).await;
    assert!(back.body.get("title").is_none());
    assert_eq!(back.body["active"], false);
    h.shutdown().await;
}

/// A search by POST (RFC 7644 §3.4.3), at /Users/.search and at the root,
/// answers like the GET with the same filter.
#[tokio::test]
async fn post_search_answers_like_get() {
    let h = Harness::start().await;
    let n = name();
    let id = h.create(user(&n)).await;
    h.create(user(&name())).await;
    for path in ["/Users/.search", "/.search"] {
        let r = h
            .post(
                path,
                json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": format!("userName eq \"{n}\""),
                    "attributes": ["userName"],
                    "startIndex": 1,
                    "count": 10
                }),
            )
            .await;
        r.assert_one(&id);
        let only = &r.body["Resources"][0];
        assert_eq!(only["userName"], n.as_str());
        assert!(only.get("meta").is_none(), "{only}");
    }
    h.shutdown().await;
}

/// `attributes` and `excludedAttributes` shape the answers of POST and PATCH too.
#[tokio::test]
async fn projection_applies_to_write_answers() {
    let h = Harness::start().await;
    let r = h
        .req("POST", "/Users?attributes=userName")
        .json(json!({"userName": name(), "displayName": "D", "title": "T"}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    let id = r.id();
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["schemas", "id", "userName"]);
    let r = h
        .req(
            "PATCH",
            &format!("/Users/{id}?excludedAttributes=title,meta"),
        )
        .json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "E"}]
        }))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["displayName"], "E");
    assert!(r.body.get("title").is_none() && r.body.get("meta").is_none());
    h.shutdown().await;
}

/// A filter the core cannot index is evaluated by the sidecar up to
/// `scim.filter_scan_cap` users; past it the answer is 400 `tooMany`, never a
/// truncated or unfiltered list. Indexed filters are not capped.
#[tokio::test]
async fn unindexed_filters_past_the_scan_cap_are_too_many() {
    let h = Harness::start_with(|c| c.scim.filter_scan_cap = 3).await;
    let mut names = Vec::new();
    for _ in 0..3 {
        let n = name();
        h.create(json!({"userName": n, "title": "Approver"})).await;
        names.push(n);
    }
    let r = h.get(&filter_path("title", "Approver")).await;
    r.assert_list(3);
    h.create(user(&name())).await;
    let r = h.get(&filter_path("title", "Approver")).await;
    r.assert_error(400, Some("tooMany"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("userName"),
        "{}",
        r.body
    );
    let r = h.get(&filter_path("userName", &names[0])).await;
    r.assert_list(1);
    h.shutdown().await;
}
