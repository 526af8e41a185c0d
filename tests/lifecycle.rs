//! `../shared/cases/entra-lifecycle.json`, ported: Entra's Test Connection
//! probes, create, match, disable / re-enable and rename, through the real
//! sidecar and core; plus one test that walks an Entra admin's whole sequence.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{
    ENTERPRISE, Harness, Resp, USER, absent, at, contains, filter_path_plus, rand_hex, user,
};
use serde_json::{Value, json};

/// A 200 ListResponse with no resources.
fn assert_no_match(r: &Resp) {
    r.assert_list(0);
    assert_eq!(at(&r.body, "/Resources"), &json!([]), "body: {}", r.body);
}

/// The checks every probe case makes on its answer: a 200 empty ListResponse.
fn assert_empty_list_response(r: &Resp) {
    assert_no_match(r);
    r.assert_integer("startIndex");
    r.assert_integer("itemsPerPage");
}

/// Runs one Test Connection probe against a fresh core: `GET path`, with
/// this Accept header if any, must be a 200 empty ListResponse.
async fn assert_probe_is_empty(path: &str, accept: Option<&str>) {
    let h = Harness::start().await;
    let mut req = h.req("GET", path);
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    assert_empty_list_response(&req.send().await);
    h.shutdown().await;
}

/// The Entra-shaped create body of `lifecycle.create-entra-shape`.
fn entra_alice(rand: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}"),
        "userName": format!("alice-{rand}@example.test"),
        "active": true,
        "displayName": "Alice Example",
        "emails": [
            { "primary": true, "type": "work", "value": format!("alice-{rand}@example.test") }
        ],
        "meta": { "resourceType": "User" },
        "name": { "formatted": "Alice Example", "familyName": "Example", "givenName": "Alice" },
        "roles": [{
            "primary": false,
            "type": "WindowsAzureActiveDirectoryRole",
            "displayName": "Buyer",
            "value": "Buyer"
        }]
    })
}

/// The body checks `lifecycle.create-entra-shape` makes on both the POST
/// answer and the GET by id.
fn assert_entra_alice(body: &Value, rand: &str) {
    assert!(body["id"].is_string(), "body: {body}");
    assert!(
        body["id"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| !c.is_whitespace())
    );
    assert!(contains(&body["schemas"], &json!(USER)), "body: {body}");
    assert_eq!(body["userName"], format!("alice-{rand}@example.test"));
    assert_eq!(
        body["externalId"],
        format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}")
    );
    assert_eq!(at(body, "/active"), &json!(true), "body: {body}");
    assert_eq!(body["displayName"], "Alice Example");
    assert_eq!(at(body, "/meta/resourceType"), "User");
    assert!(at(body, "/meta/created").is_string(), "body: {body}");
    assert!(at(body, "/meta/lastModified").is_string(), "body: {body}");
    assert_eq!(at(body, "/name/givenName"), "Alice");
    assert_eq!(at(body, "/name/familyName"), "Example");
    assert_eq!(
        body["emails"].as_array().map(Vec::len),
        Some(1),
        "body: {body}"
    );
    let email = json!({ "type": "work", "value": format!("alice-{rand}@example.test") });
    assert!(contains(&body["emails"], &email), "body: {body}");
    assert_eq!(
        body["roles"].as_array().map(Vec::len),
        Some(1),
        "body: {body}"
    );
    let role = json!({ "value": "Buyer", "display": "Buyer" });
    assert!(contains(&body["roles"], &role), "body: {body}");
}

/// The checks `lifecycle.create-entra-shape` makes on the POST answer: 201
/// with the SCIM media type, a Location naming the new user, and the body of
/// [`assert_entra_alice`]. Returns the new id.
fn assert_alice_created(r: &Resp, rand: &str) -> String {
    r.assert_scim_status(201);
    let id = r.id();
    let location = r.header("location");
    assert!(
        location.ends_with(&format!("/Users/{id}")),
        "Location {location:?}"
    );
    assert_entra_alice(&r.body, rand);
    id
}

/// lifecycle.probe-username-guid
#[tokio::test]
async fn probe_username_guid_is_an_empty_list() {
    let guid = format!("3f8e2a51-9c4d-4b7e-a1f6-{}", rand_hex());
    assert_probe_is_empty(&filter_path_plus("userName", &guid), None).await;
}

/// lifecycle.probe-externalid-guid
#[tokio::test]
async fn probe_external_id_guid_is_an_empty_list() {
    let guid = format!("7c2e4b1a-3f5d-4e8a-9b6c-{}", rand_hex());
    assert_probe_is_empty(&filter_path_plus("externalId", &guid), None).await;
}

/// lifecycle.probe-accept-any
#[tokio::test]
async fn probe_with_accept_any_is_not_406() {
    let guid = format!("3f8e2a51-9c4d-4b7e-a1f6-{}", rand_hex());
    assert_probe_is_empty(&filter_path_plus("userName", &guid), Some("*/*")).await;
}

/// Extra (same kind as `lifecycle.probe-username-guid`): the probe with the
/// `aadOptscim062020` flag carried in the query string (ENTRA.md §8: tolerate
/// it) and the attribute name in another letter case.
#[tokio::test]
async fn extra_probe_with_the_flag_in_the_query_string() {
    let path = format!(
        "/Users?aadOptscim062020&filter=USERNAME+eq+%223f8e2a51-9c4d-4b7e-a1f6-{}%22",
        rand_hex()
    );
    assert_probe_is_empty(&path, None).await;
}

/// lifecycle.create-entra-shape
#[tokio::test]
async fn create_with_entra_shape_round_trips() {
    let h = Harness::start().await;
    let rand = rand_hex();

    let r = h.post("/Users", entra_alice(&rand)).await;
    let u1 = assert_alice_created(&r, &rand);

    // Followup: read back u1.
    assert_entra_alice(&h.read_user(&u1).await.body, &rand);
    h.shutdown().await;
}

/// lifecycle.create-active-string-true
#[tokio::test]
async fn create_with_active_string_true_stores_a_boolean() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER],
        "externalId": format!("0d1c2b3a-4e5f-4a6b-8c7d-{rand}"),
        "userName": format!("carol-{rand}@example.test"),
        "active": "True",
        "name": { "givenName": "Carol", "familyName": "Example" },
        "emails": [
            { "primary": true, "type": "work", "value": format!("carol-{rand}@example.test") }
        ]
    });

    let r = h.post("/Users", body).await;
    r.assert_scim_status(201);
    let u1 = r.id();
    assert_eq!(at(&r.body, "/active"), &json!(true), "body: {}", r.body);
    assert!(r.body["active"].is_boolean());

    let r = h.read_user(&u1).await;
    assert_eq!(at(&r.body, "/active"), &json!(true), "body: {}", r.body);
    h.shutdown().await;
}

/// Extra (same kind as `lifecycle.create-active-string-true`): a user created
/// disabled with the string `"False"` is stored as the boolean `false`, and
/// the lower-case `"true"` as `true`.
#[tokio::test]
async fn extra_create_with_active_strings_false_and_lowercase_true() {
    let h = Harness::start().await;
    let rand = rand_hex();
    for (i, (sent, stored)) in [("False", false), ("true", true)].into_iter().enumerate() {
        let body = json!({
            "schemas": [USER],
            "userName": format!("ast{i}-{rand}@example.test"),
            "active": sent
        });
        let r = h.post("/Users", body).await;
        assert_eq!(r.status, 201, "active {sent:?}: {}", r.body);
        assert_eq!(at(&r.body, "/active"), &json!(stored), "body: {}", r.body);
        let u1 = r.id();
        let r = h.get(&format!("/Users/{u1}")).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(at(&r.body, "/active"), &json!(stored), "body: {}", r.body);
    }
    h.shutdown().await;
}

/// lifecycle.create-nulls-and-typo-schema
#[tokio::test]
async fn create_with_nulls_and_a_mistyped_schema_uri() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "externalId": format!("2b3c4d5e-6f70-4819-a2b3-{rand}"),
        "userName": format!("dave-{rand}@example.test"),
        "active": true,
        "addresses": null,
        "displayName": "Dave Example",
        "emails": [
            { "type": "work", "value": format!("dave-{rand}@example.test"), "primary": true }
        ],
        "meta": { "resourceType": "User" },
        "name": { "familyName": "Example", "givenName": "Dave" },
        "phoneNumbers": null,
        "preferredLanguage": null,
        "title": null,
        "department": null,
        "manager": null,
        "roles": []
    });

    let r = h.post("/Users", body).await;
    r.assert_scim_status(201);
    let u1 = r.id();
    assert_eq!(r.body["userName"], format!("dave-{rand}@example.test"));
    for ptr in [
        "/addresses",
        "/phoneNumbers",
        "/title",
        "/preferredLanguage",
    ] {
        assert!(absent(&r.body, ptr), "{ptr} echoed: {}", r.body);
    }
    let roles_absent_or_empty =
        absent(&r.body, "/roles") || r.body["roles"].as_array().is_some_and(Vec::is_empty);
    assert!(roles_absent_or_empty, "body: {}", r.body);

    let r = h.read_user(&u1).await;
    assert!(absent(&r.body, "/title"), "body: {}", r.body);
    assert!(absent(&r.body, "/addresses"), "body: {}", r.body);
    assert_eq!(r.body["displayName"], "Dave Example");
    h.shutdown().await;
}

/// Extra (same kind as `lifecycle.create-nulls-and-typo-schema`): nulls inside
/// the enterprise extension object and inside a name count as absent too.
#[tokio::test]
async fn extra_create_with_nulls_inside_the_extension() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER, ENTERPRISE],
        "userName": format!("nul-{rand}@example.test"),
        "active": true,
        "name": { "givenName": "Nul", "familyName": null },
        ENTERPRISE: { "department": null, "manager": null, "employeeNumber": "42" }
    });

    let r = h.post("/Users", body).await;
    assert_eq!(r.status, 201, "body: {}", r.body);
    let u1 = r.id();
    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(at(&r.body, "/name/givenName"), "Nul", "body: {}", r.body);
    assert!(absent(&r.body, "/name/familyName"), "body: {}", r.body);
    let ext = format!("/{ENTERPRISE}");
    assert!(
        absent(&r.body, &format!("{ext}/department")),
        "body: {}",
        r.body
    );
    assert!(
        absent(&r.body, &format!("{ext}/manager")),
        "body: {}",
        r.body
    );
    assert_eq!(
        at(&r.body, &format!("{ext}/employeeNumber")),
        "42",
        "body: {}",
        r.body
    );
    h.shutdown().await;
}

/// lifecycle.filter-username-found
#[tokio::test]
async fn filter_by_user_name_finds_exactly_the_user() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("alice-{rand}@example.test");
    let u1 = h.create(user(&name)).await;

    let r = h.get(&filter_path_plus("userName", &name)).await;
    r.assert_one(&u1);
    r.assert_integer("startIndex");
    r.assert_integer("itemsPerPage");
    assert_eq!(r.body["startIndex"], json!(1));
    assert_eq!(at(&r.body, "/Resources/0/userName"), name.as_str());
    assert!(
        at(&r.body, "/Resources/0/active").is_boolean(),
        "body: {}",
        r.body
    );
    h.shutdown().await;
}

/// A disabling PATCH of `id`, which the cases let answer 200 or 204.
async fn disable(h: &Harness, id: &str, ops: Value) {
    let r = h.patch_user(id, ops).await;
    assert!(
        [200, 204].contains(&r.status),
        "disable: {} {}",
        r.status,
        r.body
    );
}

/// lifecycle.disabled-user-still-findable
#[tokio::test]
async fn disabled_user_is_still_findable() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("dis-{rand}@example.test");
    let u1 = h.create(user(&name)).await;
    let ops = json!([{ "op": "Replace", "path": "active", "value": "False" }]);
    disable(&h, &u1, ops).await;

    let r = h.get(&filter_path_plus("userName", &name)).await;
    r.assert_one(&u1);
    assert_eq!(
        at(&r.body, "/Resources/0/active"),
        &json!(false),
        "body: {}",
        r.body
    );

    let r = h.read_user(&u1).await;
    assert_eq!(at(&r.body, "/active"), &json!(false), "body: {}", r.body);
    h.shutdown().await;
}

/// Runs a one-op PATCH on `active` for a fresh user (optionally disabled
/// first) and checks the 200 answer and the stored value, as the
/// `lifecycle.disable-*` / `reenable-*` cases do.
async fn patch_active(prefix: &str, op: Value, disable_first: bool, expected: bool) {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user(&format!("{prefix}-{rand}@example.test")))
        .await;
    if disable_first {
        let ops = json!([{ "op": "replace", "path": "active", "value": false }]);
        disable(&h, &u1, ops).await;
    }

    let r = h.patch_user(&u1, json!([op])).await;
    r.assert_scim_status(200);
    assert_eq!(at(&r.body, "/active"), &json!(expected), "body: {}", r.body);

    let r = h.read_user(&u1).await;
    assert_eq!(at(&r.body, "/active"), &json!(expected), "body: {}", r.body);
    assert!(r.body["active"].is_boolean(), "body: {}", r.body);
    h.shutdown().await;
}

/// lifecycle.disable-legacy-string-false
#[tokio::test]
async fn disable_with_legacy_string_false() {
    let op = json!({ "op": "Replace", "path": "active", "value": "False" });
    patch_active("hal", op, false, false).await;
}

/// lifecycle.disable-flag-boolean
#[tokio::test]
async fn disable_with_flag_boolean() {
    let op = json!({ "op": "replace", "path": "active", "value": false });
    patch_active("jo", op, false, false).await;
}

/// lifecycle.reenable-flag-boolean
#[tokio::test]
async fn reenable_with_flag_boolean() {
    let op = json!({ "op": "replace", "path": "active", "value": true });
    patch_active("kim", op, true, true).await;
}

/// Extra (same kind as `lifecycle.disable-legacy-string-false`): the lower-case
/// string `"false"` seen from Entra (scimmy#86) with an upper-case `REPLACE` op.
#[tokio::test]
async fn extra_disable_with_lowercase_string_false() {
    let op = json!({ "op": "REPLACE", "path": "active", "value": "false" });
    patch_active("lc", op, false, false).await;
}

/// Extra (same kind as `lifecycle.disable-legacy-string-false`): a legacy
/// re-enable, `Replace` with the string `"True"`, of a disabled user.
#[tokio::test]
async fn extra_reenable_with_legacy_string_true() {
    let op = json!({ "op": "Replace", "path": "active", "value": "True" });
    patch_active("st", op, true, true).await;
}

/// lifecycle.rename-username
#[tokio::test]
async fn rename_keeps_the_id_and_moves_the_match() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let old_name = format!("alice.old-{rand}@example.test");
    let new_name = format!("alice.new-{rand}@example.test");
    let u1 = h.create(user(&old_name)).await;

    let ops = json!([{ "op": "Replace", "path": "userName", "value": new_name }]);
    let r = h.patch_user(&u1, ops).await;
    r.assert_scim_status(200);
    assert_eq!(r.body["userName"], new_name.as_str());
    assert_eq!(r.body["id"], u1.as_str());

    let r = h.read_user(&u1).await;
    assert_eq!(r.body["userName"], new_name.as_str());
    assert_eq!(r.body["id"], u1.as_str());

    h.get(&filter_path_plus("userName", &new_name))
        .await
        .assert_one(&u1);
    h.get(&filter_path_plus("userName", &old_name))
        .await
        .assert_list(0);
    h.shutdown().await;
}

/// An Entra admin's real sequence in one go, over TLS, on one user: Test
/// Connection probe, match (none), create, read, match by externalId, legacy
/// disable (still readable and findable), flag-style re-enable, legacy
/// stringified role add, rename, delete; then the user is gone everywhere.
#[tokio::test]
async fn entra_admin_sequence_end_to_end() {
    let h = Harness::start().await;
    assert!(
        h.base.starts_with("https://127.0.0.1:"),
        "not over TLS: {}",
        h.base
    );
    let rand = rand_hex();
    let by_name = filter_path_plus("userName", &format!("alice-{rand}@example.test"));
    let by_external_id = filter_path_plus("externalId", &format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}"));

    // 1. Test Connection: a random-GUID probe, no Accept header.
    let probe = filter_path_plus("userName", &fresh_guid());
    assert_empty_list_response(&h.get(&probe).await);

    // 2. Match by userName: nothing yet.
    assert_empty_list_response(&h.get(&by_name).await);

    // 3. Create with Entra's body.
    let r = h.post("/Users", entra_alice(&rand)).await;
    let id = assert_alice_created(&r, &rand);
    let created = r.body["meta"]["created"].clone();

    // 4. GET by id.
    let r = h.read_user(&id).await;
    assert_entra_alice(&r.body, &rand);
    assert_eq!(r.body["meta"]["created"], created);

    // 5. Match by externalId.
    h.get(&by_external_id).await.assert_one(&id);

    // 6. Legacy disable; the user stays readable and findable.
    let ops = json!([{ "op": "Replace", "path": "active", "value": "False" }]);
    let r = h.patch_user(&id, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body["active"], json!(false), "body: {}", r.body);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body["active"], json!(false), "body: {}", r.body);
    let r = h.get(&by_name).await;
    r.assert_one(&id);
    assert_eq!(
        at(&r.body, "/Resources/0/active"),
        &json!(false),
        "body: {}",
        r.body
    );
    h.get(&by_external_id).await.assert_one(&id);

    // 7. Flag-style re-enable.
    let ops = json!([{ "op": "replace", "path": "active", "value": true }]);
    let r = h.patch_user(&id, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body["active"], json!(true), "body: {}", r.body);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(r.body["active"], json!(true), "body: {}", r.body);

    // 8. Legacy AppRoleAssignmentsComplex add: a stringified role.
    let role = concat!(
        r#"{"id":"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a","#,
        r#""value":"Approver","displayName":"Approver"}"#
    );
    let ops = json!([{ "op": "Add", "path": "roles", "value": [{ "value": role }] }]);
    let r = h.patch_user(&id, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(
        r.body["roles"].as_array().map(Vec::len),
        Some(2),
        "body: {}",
        r.body
    );
    assert!(contains(
        &r.body["roles"],
        &json!({ "value": "Buyer", "display": "Buyer" })
    ));
    let approver = json!({ "value": "Approver", "display": "Approver" });
    assert!(contains(&r.body["roles"], &approver), "body: {}", r.body);

    // 9. Rename.
    let new_name = format!("alice.new-{rand}@example.test");
    let ops = json!([{ "op": "Replace", "path": "userName", "value": new_name }]);
    let r = h.patch_user(&id, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body["userName"], new_name.as_str());
    assert_eq!(r.body["id"], id.as_str());
    let by_new_name = filter_path_plus("userName", &new_name);
    h.get(&by_new_name).await.assert_one(&id);
    assert_no_match(&h.get(&by_name).await);
    let r = h.get(&format!("/Users/{id}")).await;
    assert_eq!(
        r.body["active"],
        json!(true),
        "rename lost active: {}",
        r.body
    );
    assert_eq!(
        r.body["roles"].as_array().map(Vec::len),
        Some(2),
        "body: {}",
        r.body
    );

    // 10. Delete: 204 with no body; then 404 and no match anywhere.
    let r = h.delete(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 204, "body: {}", r.body);
    assert!(
        r.raw.is_empty(),
        "DELETE body: {:?}",
        String::from_utf8_lossy(&r.raw)
    );
    h.get(&format!("/Users/{id}")).await.assert_error(404, None);
    assert_no_match(&h.get(&by_new_name).await);
    assert_no_match(&h.get(&by_external_id).await);
    h.shutdown().await;
}

/// A lower-case random GUID, like the ones Entra probes with.
fn fresh_guid() -> String {
    let (a, b) = (rand_hex(), rand_hex());
    format!(
        "{}-{}-4{}-a{}-{}",
        &a[..8],
        &a[8..12],
        &b[..3],
        &b[3..6],
        rand_hex()
    )
}
