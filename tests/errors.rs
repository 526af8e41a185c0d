//! `../shared/cases/errors.json`, ported: SCIM Error responses (409, 400, 404)
//! and request limits (413, deep nesting), through the real sidecar and core.
//! Extras, marked as such, send other inputs of the same kinds: other malformed
//! JSON, other nesting, other oversized bodies, other unknown ids, other
//! uniqueness clashes.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{Harness, PATCH_OP, Resp, USER, filter_path, rand_hex, user};
use serde_json::{Value, json};

/// The runner's `pad` body: `template` with `field` set to `a` characters so
/// that the serialised body is exactly `bytes` bytes.
fn pad_body(mut template: Value, field: &str, bytes: usize) -> Vec<u8> {
    template[field] = json!("");
    let size = serde_json::to_vec(&template).unwrap().len();
    template[field] = Value::String("a".repeat(bytes.saturating_sub(size)));
    let body = serde_json::to_vec(&template).unwrap();
    assert_eq!(body.len(), bytes, "pad arithmetic");
    body
}

/// The runner's `nest` body: `template` with `field` set to JSON nested
/// `depth` levels deep (`[[...]]`, or `{"a":{"a":...1}}` for objects).
fn nest_body(mut template: Value, field: &str, depth: usize, array: bool) -> Vec<u8> {
    let marker = "\u{0}NEST\u{0}";
    template[field] = json!(marker);
    let text = serde_json::to_string(&template).unwrap();
    let nested = if array {
        "[".repeat(depth) + &"]".repeat(depth)
    } else {
        "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth)
    };
    let quoted = serde_json::to_string(marker).unwrap();
    assert!(text.contains(&quoted), "marker not found");
    text.replacen(&quoted, &nested, 1).into_bytes()
}

/// The number of users the admin token sees (`GET /Users?count=0`).
async fn user_count(h: &Harness) -> u64 {
    let r = h.get("/Users?count=0").await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    r.body["totalResults"].as_u64().unwrap()
}

/// The follow-up of the uniqueness cases: the filter on `user_name` finds
/// exactly the user `id`, so the refused request created nothing.
async fn assert_only_user(h: &Harness, user_name: &str, id: &str) {
    h.get(&filter_path("userName", user_name))
        .await
        .assert_one(id);
}

/// errors.duplicate-username-409
#[tokio::test]
async fn duplicate_username_is_409_uniqueness_and_one_user_stays() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("rita-{rand}@example.test");
    let u1 = h.create(user(&name)).await;

    let r = h
        .post(
            "/Users",
            json!({
                "schemas": [USER],
                "userName": name,
                "active": true,
                "externalId": format!("5a9d8c7b-6e5f-4d3c-8b2a-{rand}")
            }),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert_only_user(&h, &name, &u1).await;
    h.shutdown().await;
}

/// errors.duplicate-username-case-409
#[tokio::test]
async fn username_differing_only_in_case_is_a_duplicate() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("Chris-{rand}@Example.Test"))).await;

    let name = format!("chris-{rand}@example.test");
    let r = h.post("/Users", user(&name)).await;
    r.assert_error(409, Some("uniqueness"));
    assert_only_user(&h, &name, &u1).await;
    h.shutdown().await;
}

/// errors.missing-username-400
#[tokio::test]
async fn missing_username_is_400_invalid_value() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let r = h
        .post(
            "/Users",
            json!({
                "schemas": [USER],
                "externalId": format!("5a9d8c7b-6e5f-4d3c-8b2a-{rand}"),
                "displayName": "No Username",
                "active": true
            }),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    h.shutdown().await;
}

/// errors.malformed-json-post
#[tokio::test]
async fn malformed_json_is_400_invalid_syntax() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let raw = format!(
        "{{\"schemas\": [\"{USER}\"], \"userName\": \"bob-{rand}@example.test\", \
         \"active\": tre,"
    );
    let r = h.send_raw("POST", "/Users", raw.into_bytes()).await;
    r.assert_error(400, Some("invalidSyntax"));
    h.shutdown().await;
}

/// errors.not-found-404-shape
#[tokio::test]
async fn unknown_id_is_a_top_level_404_error() {
    let h = Harness::start().await;
    let r = h
        .get(&format!("/Users/00000000-0000-4000-8000-{}", rand_hex()))
        .await;
    r.assert_error(404, None);
    assert_top_level_error_keys(&r);
    h.shutdown().await;
}

/// The case's `keys_subset` check: the body is the Error object itself, with
/// no key outside `schemas`, `status`, `scimType`, `detail`.
fn assert_top_level_error_keys(r: &Resp) {
    let keys = r.body.as_object().expect("body is an object");
    for k in keys.keys() {
        assert!(
            ["schemas", "status", "scimType", "detail"].contains(&k.as_str()),
            "unexpected key {k:?} in {}",
            r.body
        );
    }
}

/// errors.invalid-path-400
#[tokio::test]
async fn malformed_patch_path_is_400_invalid_path() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("quinn-{rand}@example.test"))).await;

    let r = h
        .patch_user(
            &u1,
            json!([{
                "op": "replace",
                "path": "emails[type eq \"work\"",
                "value": format!("x-{rand}@example.test")
            }]),
        )
        .await;
    r.assert_error(400, Some("invalidPath"));
    assert!(r.body["status"].is_string(), "status type: {}", r.body);
    h.shutdown().await;
}

/// errors.patch-missing-operations
#[tokio::test]
async fn patchop_without_operations_is_400_invalid_syntax() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("mo-{}@example.test", rand_hex())))
        .await;

    let r = h
        .patch(&format!("/Users/{u1}"), json!({"schemas": [PATCH_OP]}))
        .await;
    r.assert_error(400, Some("invalidSyntax"));
    h.shutdown().await;
}

/// errors.body-over-1mib-413
#[tokio::test]
async fn body_over_1_mib_is_413_and_nothing_is_created() {
    let h = Harness::start().await;
    let name = format!("big-{}@example.test", rand_hex());
    let body = pad_body(user(&name), "displayName", 1_153_434);
    let r = h.send_raw("POST", "/Users", body).await;
    r.assert_error(413, None);

    h.get(&filter_path("userName", &name)).await.assert_list(0);
    h.shutdown().await;
}

/// errors.deeply-nested-json-400
#[tokio::test]
async fn deeply_nested_json_is_400_and_nothing_is_created() {
    let h = Harness::start().await;
    let name = format!("deep-{}@example.test", rand_hex());
    let body = nest_body(user(&name), "x", 100_000, true);
    let r = h.send_raw("POST", "/Users", body).await;
    r.assert_error(400, None);
    let t = &r.body["scimType"];
    assert!(
        *t == "invalidSyntax" || *t == "invalidValue",
        "scimType {t}"
    );

    h.get(&filter_path("userName", &name)).await.assert_list(0);
    h.shutdown().await;
}

/// Extra (kind of errors.malformed-json-post): other bodies that are not JSON
/// at all (truncated, trailing garbage, single quotes, a bare word, invalid
/// UTF-8, no body): each is 400 invalidSyntax with a SCIM Error body, never a
/// 500 or a dropped connection, and no user is created.
#[tokio::test]
async fn extra_other_malformed_json_is_400_invalid_syntax() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let before = user_count(&h).await;
    let good = format!("{{\"schemas\":[\"{USER}\"],\"userName\":\"mal-{rand}@example.test\"}}");
    let bodies: Vec<Vec<u8>> = vec![
        good.as_bytes()[..good.len() - 1].to_vec(),
        format!("{good} trailing").into_bytes(),
        format!("{good}{good}").into_bytes(),
        good.replace('"', "'").into_bytes(),
        b"userName=mal@example.test".to_vec(),
        [&good.as_bytes()[..good.len() - 2], b"\xff\xfe\"}"].concat(),
        Vec::new(),
    ];
    for body in bodies {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let r = h.send_raw("POST", "/Users", body).await;
        assert_eq!(r.status, 400, "body sent: {shown:?}; answer: {}", r.body);
        r.assert_error(400, Some("invalidSyntax"));
    }
    assert_eq!(
        user_count(&h).await,
        before,
        "a malformed body created a user"
    );
    h.shutdown().await;
}

/// Extra (kind of errors.malformed-json-post): a malformed PATCH body is 400
/// invalidSyntax and leaves the stored user exactly as it was.
#[tokio::test]
async fn extra_malformed_patch_body_is_400_and_changes_nothing() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(json!({
            "schemas": [USER],
            "userName": format!("mp-{rand}@example.test"),
            "displayName": "Before",
            "active": true
        }))
        .await;
    let before = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(before.status, 200);

    let raw = format!(
        "{{\"schemas\":[\"{PATCH_OP}\"],\"Operations\":[{{\"op\":\"Replace\",\
         \"path\":\"displayName\",\"value\":\"After\"}},"
    );
    let r = h
        .send_raw("PATCH", &format!("/Users/{u1}"), raw.into_bytes())
        .await;
    r.assert_error(400, Some("invalidSyntax"));

    let after = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, before.body, "a refused PATCH changed the user");
    h.shutdown().await;
}

/// Extra (kind of errors.deeply-nested-json-400): other deep nesting (objects
/// 100000 deep in a POST, arrays 100000 deep in a PATCH value): 400 with a
/// SCIM Error, the server keeps answering, and nothing is stored.
#[tokio::test]
async fn extra_other_deep_nesting_is_400_and_stores_nothing() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("deepo-{rand}@example.test");
    let body = nest_body(user(&name), "x", 100_000, false);
    let r = h.send_raw("POST", "/Users", body).await;
    r.assert_error(400, None);
    h.get(&filter_path("userName", &name)).await.assert_list(0);

    let u1 = h.create(user(&format!("deepp-{rand}@example.test"))).await;
    let before = h.get(&format!("/Users/{u1}")).await;
    // The nesting sits in the op's value rather than in a top-level field.
    let nested = "[".repeat(100_000) + &"]".repeat(100_000);
    let text = format!(
        "{{\"schemas\":[\"{PATCH_OP}\"],\"Operations\":[{{\"op\":\"Replace\",\
         \"path\":\"displayName\",\"value\":{nested}}}]}}"
    );
    let r = h
        .send_raw("PATCH", &format!("/Users/{u1}"), text.into_bytes())
        .await;
    r.assert_error(400, None);
    let after = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, before.body, "a refused PATCH changed the user");
    h.shutdown().await;
}

/// Extra (kind of errors.body-over-1mib-413): one byte over 1 MiB is already
/// refused with 413, for POST and for PATCH, and nothing changes.
#[tokio::test]
async fn extra_one_byte_over_1_mib_is_413_for_post_and_patch() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("big1-{rand}@example.test");
    let body = pad_body(user(&name), "displayName", 1_048_577);
    let r = h.send_raw("POST", "/Users", body).await;
    r.assert_error(413, None);
    h.get(&filter_path("userName", &name)).await.assert_list(0);

    let u1 = h.create(user(&format!("big2-{rand}@example.test"))).await;
    let before = h.get(&format!("/Users/{u1}")).await;
    let template = json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "nickName", "value": "x"}],
        "pad": ""
    });
    let body = pad_body(template, "pad", 1_048_577);
    let r = h.send_raw("PATCH", &format!("/Users/{u1}"), body).await;
    r.assert_error(413, None);
    let after = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(after.body, before.body, "a refused PATCH changed the user");
    h.shutdown().await;
}

/// Extra (kind of errors.not-found-404-shape): PATCH and DELETE of an unknown
/// id are also 404 with the Error object as the whole body.
#[tokio::test]
async fn extra_patch_and_delete_of_unknown_id_are_top_level_404() {
    let h = Harness::start().await;
    let id = format!("00000000-0000-4000-8000-{}", rand_hex());
    let ops = json!([{"op": "Replace", "path": "active", "value": "False"}]);
    let r = h.patch_user(&id, ops).await;
    r.assert_error(404, None);
    assert_top_level_error_keys(&r);
    let r = h.delete(&format!("/Users/{id}")).await;
    r.assert_error(404, None);
    assert_top_level_error_keys(&r);
    h.shutdown().await;
}

/// Extra (kind of errors.duplicate-username-case-409): a PATCH that renames a
/// user to another user's userName, in other letter case, is 409 uniqueness
/// and the user keeps its own name.
#[tokio::test]
async fn extra_patch_to_an_existing_username_is_409() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("Dana-{rand}@Example.Test"))).await;
    let u2 = h.create(user(&format!("eli-{rand}@example.test"))).await;

    let dana = format!("dana-{rand}@example.test");
    let ops = json!([{"op": "Replace", "path": "userName", "value": dana}]);
    let r = h.patch_user(&u2, ops).await;
    r.assert_error(409, Some("uniqueness"));

    let r = h.get(&format!("/Users/{u2}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["userName"], format!("eli-{rand}@example.test"));
    h.get(&filter_path("userName", &dana)).await.assert_list(1);
    h.shutdown().await;
}
