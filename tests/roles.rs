//! `../shared/cases/roles.json`, ported: app roles in Entra's shapes
//! (stringified legacy values, plain objects, assertive replace, remove with a
//! value, SingleAppRoleAssignment's primary filter, unknown roles), through
//! the real sidecar and core.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{
    Harness, Resp, USER, at, contains, filter_path, filter_path_plus, rand_hex, user,
};
use serde_json::{Value, json};

/// Entra's role `type`.
const AAD_ROLE: &str = "WindowsAzureActiveDirectoryRole";

/// A role in the shape the setup steps use (`display` key).
fn role(value: &str) -> Value {
    json!({ "type": AAD_ROLE, "display": value, "value": value })
}

/// Creates a user with these roles (asserts 201) and returns its id.
async fn create_with_roles(h: &Harness, user_name: &str, roles: Value) -> String {
    let mut body = user(user_name);
    body["roles"] = roles;
    h.create(body).await
}

fn roles_len(body: &Value) -> Option<usize> {
    body["roles"].as_array().map(Vec::len)
}

/// Asserts `roles` has exactly `len` elements and one matching each partial.
fn assert_roles(body: &Value, len: usize, partials: &[Value]) {
    assert_eq!(roles_len(body), Some(len), "body: {body}");
    for p in partials {
        assert!(contains(&body["roles"], p), "no role {p} in {body}");
    }
}

/// Checks a PATCH answered 200 with the resource and that a read back sees
/// the same roles.
async fn assert_patched_roles(h: &Harness, id: &str, r: &Resp, len: usize, partials: &[Value]) {
    r.assert_scim_status(200);
    assert_roles(&r.body, len, partials);
    assert_roles(&h.read_user(id).await.body, len, partials);
}

/// The stringified `{id,value,displayName}` Entra puts in `roles[].value`.
fn stringified(value: &str) -> String {
    json!({ "id": "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a", "value": value, "displayName": value })
        .to_string()
}

/// roles.add-stringified-legacy
#[tokio::test]
async fn add_stringified_legacy_role_is_decoded_and_merged() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = create_with_roles(
        &h,
        &format!("rs-{rand}@example.test"),
        json!([role("Buyer")]),
    )
    .await;
    let value = concat!(
        r#"{"id":"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a","#,
        r#""value":"Approver","displayName":"Approver"}"#
    );
    assert_eq!(value, stringified("Approver"));

    let ops = json!([{ "op": "Add", "path": "roles", "value": [{ "value": value }] }]);
    let r = h.patch_user(&u1, ops).await;
    let expected = [
        json!({ "value": "Buyer" }),
        json!({ "value": "Approver", "display": "Approver" }),
    ];
    assert_patched_roles(&h, &u1, &r, 2, &expected).await;
    h.shutdown().await;
}

/// Extra (same kind as `roles.add-stringified-legacy`): two stringified roles
/// in one `Add`, one of them already held (union, no duplicate), with a
/// lower-case `add` op.
#[tokio::test]
async fn extra_add_two_stringified_roles_one_already_held() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = create_with_roles(
        &h,
        &format!("rs2-{rand}@example.test"),
        json!([role("Buyer")]),
    )
    .await;

    let value = json!([{ "value": stringified("Buyer") }, { "value": stringified("Viewer") }]);
    let r = h
        .patch_user(
            &u1,
            json!([{ "op": "add", "path": "roles", "value": value }]),
        )
        .await;
    let expected = [
        json!({ "value": "Buyer" }),
        json!({ "value": "Viewer", "display": "Viewer" }),
    ];
    assert_patched_roles(&h, &u1, &r, 2, &expected).await;
    h.shutdown().await;
}

/// Extra (same kind as `roles.add-stringified-legacy`): a stringified role
/// that names a role the workspace does not have is refused like on POST,
/// and the stored roles are unchanged.
#[tokio::test]
async fn extra_add_stringified_unknown_role_is_refused() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = create_with_roles(
        &h,
        &format!("rs3-{rand}@example.test"),
        json!([role("Buyer")]),
    )
    .await;

    let value = json!([{ "value": stringified("Overseer") }]);
    let r = h
        .patch_user(
            &u1,
            json!([{ "op": "Add", "path": "roles", "value": value }]),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("Overseer"),
        "body: {}",
        r.body
    );

    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_roles(&r.body, 1, &[json!({ "value": "Buyer" })]);
    h.shutdown().await;
}

/// roles.add-objects-flag
#[tokio::test]
async fn add_plain_role_objects_with_the_flag() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = create_with_roles(
        &h,
        &format!("ro-{rand}@example.test"),
        json!([role("Buyer")]),
    )
    .await;

    let value = json!([
        { "primary": false, "type": AAD_ROLE, "display": "Approver", "value": "Approver" }
    ]);
    let r = h
        .patch_user(
            &u1,
            json!([{ "op": "add", "path": "roles", "value": value }]),
        )
        .await;
    let expected = [json!({ "value": "Buyer" }), json!({ "value": "Approver" })];
    assert_patched_roles(&h, &u1, &r, 2, &expected).await;
    h.shutdown().await;
}

/// roles.assertive-replace
#[tokio::test]
async fn assertive_replace_sets_the_whole_role_list() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let roles = json!([role("Buyer"), role("Approver")]);
    let u1 = create_with_roles(&h, &format!("ra-{rand}@example.test"), roles).await;

    let value =
        json!([{ "primary": false, "type": AAD_ROLE, "display": "Admin", "value": "Admin" }]);
    let ops = json!([{ "op": "replace", "path": "roles", "value": value }]);
    let r = h.patch_user(&u1, ops).await;
    assert_patched_roles(&h, &u1, &r, 1, &[json!({ "value": "Admin" })]).await;
    h.shutdown().await;
}

/// roles.remove-with-value-legacy
#[tokio::test]
async fn remove_with_value_removes_only_that_role() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let roles = json!([role("Buyer"), role("Approver")]);
    let u1 = create_with_roles(&h, &format!("rr-{rand}@example.test"), roles).await;

    let ops = json!([{ "op": "Remove", "path": "roles", "value": [{ "value": "Approver" }] }]);
    let r = h.patch_user(&u1, ops).await;
    assert_patched_roles(&h, &u1, &r, 1, &[json!({ "value": "Buyer" })]).await;
    h.shutdown().await;
}

/// Extra (same kind as `roles.remove-with-value-legacy`): a legacy remove
/// whose value is a stringified role removes just that role.
#[tokio::test]
async fn extra_remove_with_stringified_value() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let roles = json!([role("Buyer"), role("Approver"), role("Viewer")]);
    let u1 = create_with_roles(&h, &format!("rr2-{rand}@example.test"), roles).await;

    let value = json!([{ "value": stringified("Approver") }]);
    let r = h
        .patch_user(
            &u1,
            json!([{ "op": "Remove", "path": "roles", "value": value }]),
        )
        .await;
    let expected = [json!({ "value": "Buyer" }), json!({ "value": "Viewer" })];
    assert_patched_roles(&h, &u1, &r, 2, &expected).await;
    h.shutdown().await;
}

/// roles.single-app-role-primary-string
#[tokio::test]
async fn single_app_role_primary_string_filter_replaces_the_value() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let roles = json!([{ "primary": true, "type": AAD_ROLE, "value": "Buyer" }]);
    let u1 = create_with_roles(&h, &format!("sr-{rand}@example.test"), roles).await;

    let ops =
        json!([{ "op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin" }]);
    let r = h.patch_user(&u1, ops).await;
    r.assert_scim_status(200);
    assert_single_primary(&r.body, "Admin");
    assert_single_primary(&h.read_user(&u1).await.body, "Admin");
    h.shutdown().await;
}

fn assert_single_primary(body: &Value, value: &str) {
    assert_eq!(roles_len(body), Some(1), "body: {body}");
    assert_eq!(at(body, "/roles/0/primary"), &json!(true), "body: {body}");
    assert_eq!(at(body, "/roles/0/value"), value, "body: {body}");
}

/// Extra (same kind as `roles.single-app-role-primary-string`): the filter
/// written with the JSON boolean `true` and a lower-case `replace` op.
#[tokio::test]
async fn extra_single_app_role_primary_boolean_filter() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let roles = json!([{ "primary": true, "type": AAD_ROLE, "value": "Buyer" }]);
    let u1 = create_with_roles(&h, &format!("sr2-{rand}@example.test"), roles).await;

    let ops =
        json!([{ "op": "replace", "path": "roles[primary eq true].value", "value": "Viewer" }]);
    let r = h.patch_user(&u1, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_single_primary(&r.body, "Viewer");

    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_single_primary(&r.body, "Viewer");
    h.shutdown().await;
}

/// roles.unknown-role-post-400
#[tokio::test]
async fn unknown_role_on_post_is_400_invalid_value() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER],
        "userName": format!("ur-{rand}@example.test"),
        "active": true,
        "roles": [role("Superuser")]
    });

    let r = h.post("/Users", body).await;
    assert_unknown_role_error(&r, "Superuser");

    // Followup: nothing was created (this case writes the spaces as %20).
    let name = format!("ur-{rand}@example.test");
    h.get(&filter_path("userName", &name)).await.assert_list(0);
    h.shutdown().await;
}

/// The case's checks: a 400 invalidValue SCIM error whose detail names `role`.
fn assert_unknown_role_error(r: &Resp, role: &str) {
    r.assert_error(400, Some("invalidValue"));
    let detail = r.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains(role),
        "detail does not name {role}: {}",
        r.body
    );
}

/// Extra (same kind as `roles.unknown-role-post-400`): one unknown role among
/// valid ones, sent with the `displayName` key, still refuses the whole user.
#[tokio::test]
async fn extra_unknown_role_among_valid_ones_on_post() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER],
        "userName": format!("ur2-{rand}@example.test"),
        "active": true,
        "roles": [
            { "primary": false, "type": AAD_ROLE, "displayName": "Buyer", "value": "Buyer" },
            { "primary": false, "type": AAD_ROLE, "displayName": "Overseer", "value": "Overseer" }
        ]
    });

    let r = h.post("/Users", body).await;
    assert_unknown_role_error(&r, "Overseer");
    let name = format!("ur2-{rand}@example.test");
    h.get(&filter_path_plus("userName", &name))
        .await
        .assert_list(0);
    h.shutdown().await;
}

/// roles.post-mixed-display-keys
#[tokio::test]
async fn post_accepts_display_and_display_name_keys() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER],
        "userName": format!("rm-{rand}@example.test"),
        "active": true,
        "roles": [
            { "primary": false, "type": AAD_ROLE, "displayName": "Admin", "value": "Admin" },
            { "primary": false, "type": AAD_ROLE, "display": "Viewer", "value": "Viewer" }
        ]
    });

    let r = h.post("/Users", body).await;
    r.assert_scim_status(201);
    let expected = [
        json!({ "value": "Admin", "type": AAD_ROLE }),
        json!({ "value": "Viewer", "type": AAD_ROLE }),
    ];
    assert_roles(&r.body, 2, &expected);
    h.shutdown().await;
}
