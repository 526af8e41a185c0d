//! The PATCH cases of `cases/patch.json` and `entra-lifecycle.json` (those
//! of `roles.json` and `enterprise.json` are in `tests_cases_ext`), at the
//! function level: the setup body goes through [`normalize_user`], the
//! case's PatchOp through [`PatchRequest::parse`] and [`apply`], and the
//! checks of the case become exact assertions on the result.

use serde_json::{Value, json};

use super::{PatchRequest, apply};
use crate::resource::{Resource, normalize_user};
use crate::{ScimError, ScimType};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub(super) fn user(body: Value) -> Resource {
    normalize_user(&body).expect("setup body should normalise")
}

pub(super) fn patch(resource: &Resource, operations: Value) -> Result<Resource, ScimError> {
    let body = json!({"schemas": [PATCH_OP], "Operations": operations});
    apply(resource, &PatchRequest::parse(&body)?)
}

pub(super) fn patched(resource: &Resource, operations: Value) -> Resource {
    patch(resource, operations).expect("patch should apply")
}

fn alice(user_name: &str) -> Resource {
    user(json!({
        "schemas": [CORE, ENT],
        "externalId": "7c2e4b1a-3f5d-4e8a-9b6c-000000000001",
        "userName": user_name,
        "active": true,
        "displayName": "Alice Example",
        "emails": [{"primary": true, "type": "work", "value": "alice@example.test"}],
        "name": {"formatted": "Alice Example", "familyName": "Example", "givenName": "Alice"}
    }))
}

pub(super) fn plain(user_name: &str) -> Resource {
    user(json!({"schemas": [CORE], "userName": user_name, "active": true}))
}

#[test]
fn patch_legacy_replace_multiple() {
    let after = patched(
        &alice("alice.p@example.test"),
        json!([
            {"op": "Replace", "path": "displayName", "value": "Alice Q. Example"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value",
             "value": "alice.q@example.test"},
            {"op": "Replace", "path": "name.givenName", "value": "Alicia"},
            {"op": "Replace", "path": "name.familyName", "value": "Example-Smith"},
            {"op": "Replace", "path": "externalId",
             "value": "7c2e4b1a-3f5d-4e8a-9b6c-000000000002"},
            {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "E-1001"}
        ]),
    );
    assert_eq!(
        Value::Object(after),
        json!({
            "externalId": "7c2e4b1a-3f5d-4e8a-9b6c-000000000002",
            "userName": "alice.p@example.test",
            "active": true,
            "displayName": "Alice Q. Example",
            "emails": [{"primary": true, "type": "work", "value": "alice.q@example.test"}],
            "name": {"formatted": "Alice Example", "familyName": "Example-Smith",
                     "givenName": "Alicia"},
            ENT: {"employeeNumber": "E-1001"}
        })
    );
}

#[test]
fn patch_add_filtered_email_when_absent_then_again() {
    let op = json!([{"op": "Add", "path": "emails[type eq \"work\"].value",
                     "value": "carol.work@example.test"}]);
    let once = patched(&plain("carol.ne@example.test"), op.clone());
    let expected = json!([{"type": "work", "value": "carol.work@example.test"}]);
    assert_eq!(once.get("emails"), Some(&expected));
    let twice = patched(&once, op);
    assert_eq!(twice.get("emails"), Some(&expected));
}

#[test]
fn patch_add_subattrs_under_one_filter() {
    let after = patched(
        &plain("carl@example.test"),
        json!([
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress",
             "value": "1 Example Way"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"},
            {"op": "Add", "path": "addresses[type eq \"work\"].postalCode", "value": "12345"},
            {"op": "Add", "path": "addresses[type eq \"work\"].country", "value": "US"}
        ]),
    );
    assert_eq!(
        after.get("addresses"),
        Some(&json!([{"type": "work", "streetAddress": "1 Example Way",
                      "locality": "Springfield", "postalCode": "12345", "country": "US"}]))
    );
}

#[test]
fn patch_disable_bundled_with_other_ops() {
    let after = patched(
        &plain("bund@example.test"),
        json!([
            {"op": "Replace", "path": "title", "value": "Senior Buyer"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].streetAddress",
             "value": "1 Example Way"},
            {"op": "Replace", "path": "active", "value": "False"}
        ]),
    );
    assert_eq!(
        Value::Object(after),
        json!({"userName": "bund@example.test", "active": false, "title": "Senior Buyer",
               "addresses": [{"type": "work", "streetAddress": "1 Example Way"}]})
    );
}

#[test]
fn patch_pathless_replace_active() {
    let after = patched(
        &plain("dee@example.test"),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    assert_eq!(after.get("active"), Some(&json!(false)));
}

#[test]
fn patch_flag_pathless_dotted_and_urn_keys() {
    let after = patched(
        &alice("alice.f@example.test"),
        json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value",
             "value": "alice.b@example.test"},
            {"op": "replace", "value": {
                "displayName": "Alice B. Example",
                "name.givenName": "Alice",
                "name.familyName": "Bexample",
                format!("{ENT}:employeeNumber"): "E-2002"
            }}
        ]),
    );
    assert_eq!(
        Value::Object(after),
        json!({
            "externalId": "7c2e4b1a-3f5d-4e8a-9b6c-000000000001",
            "userName": "alice.f@example.test",
            "active": true,
            "displayName": "Alice B. Example",
            "emails": [{"primary": true, "type": "work", "value": "alice.b@example.test"}],
            "name": {"formatted": "Alice Example", "familyName": "Bexample", "givenName": "Alice"},
            ENT: {"employeeNumber": "E-2002"}
        })
    );
}

#[test]
fn patch_op_pascal_case() {
    let before = user(json!({"userName": "gina2@example.test", "displayName": "Gina Example"}));
    let after = patched(
        &before,
        json!([{"op": "Replace", "path": "displayName", "value": "Gina Renamed"}]),
    );
    assert_eq!(after.get("displayName"), Some(&json!("Gina Renamed")));
}

#[test]
fn patch_add_single_value() {
    let after = patched(
        &plain("nick@example.test"),
        json!([{"op": "Add", "path": "nickName", "value": "Ali"}]),
    );
    assert_eq!(after.get("nickName"), Some(&json!("Ali")));
}

#[test]
fn patch_atomic_rollback() {
    let before = user(json!({"userName": "atom@example.test", "active": true,
                              "displayName": "Alice Example"}));
    let snapshot = before.clone();
    let e = patch(
        &before,
        json!([
            {"op": "replace", "path": "displayName", "value": "Should Not Stick"},
            {"op": "replace", "path": "userName", "value": null}
        ]),
    )
    .expect_err("userName cannot be cleared");
    assert_eq!(e.status, 400);
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        e.detail,
        "Operations[1] (replace userName): userName is required: send a non-empty string \
         (RFC 7643 §4.1.1)"
    );
    assert_eq!(before, snapshot);
}

#[test]
fn lifecycle_disable_legacy_string_false() {
    let after = patched(
        &plain("hal@example.test"),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(after.get("active"), Some(&json!(false)));
}

#[test]
fn lifecycle_disable_then_reenable_flag_boolean() {
    let disabled = patched(
        &plain("kim@example.test"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    );
    assert_eq!(disabled.get("active"), Some(&json!(false)));
    let enabled = patched(
        &disabled,
        json!([{"op": "replace", "path": "active", "value": true}]),
    );
    assert_eq!(enabled.get("active"), Some(&json!(true)));
}

#[test]
fn lifecycle_rename_user_name() {
    let after = patched(
        &plain("alice.old@example.test"),
        json!([{"op": "Replace", "path": "userName", "value": "alice.new@example.test"}]),
    );
    assert_eq!(
        Value::Object(after),
        json!({"userName": "alice.new@example.test", "active": true})
    );
}

/// `concurrency.parallel-role-adds`, one add at a time: every add is kept.
#[test]
fn role_adds_accumulate() {
    let mut resource = plain("pr@example.test");
    for role in ["Admin", "Buyer", "Approver", "Viewer"] {
        resource = patched(
            &resource,
            json!([{"op": "Add", "path": "roles", "value": [{"value": role}]}]),
        );
    }
    assert_eq!(
        resource.get("roles"),
        Some(&json!([
            {"value": "Admin"}, {"value": "Buyer"}, {"value": "Approver"}, {"value": "Viewer"}
        ]))
    );
}

/// `errors.invalid-path-400` and `errors.patch-missing-operations`.
#[test]
fn errors_invalid_path_and_missing_operations() {
    let e = patch(
        &plain("quinn@example.test"),
        json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": "x@example.test"}]),
    )
    .expect_err("unclosed filter");
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    assert!(
        e.detail
            .starts_with("Operations[0] (replace emails[type eq \"work\"): invalid path")
    );

    let e = PatchRequest::parse(&json!({"schemas": [PATCH_OP]})).expect_err("no Operations");
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.starts_with("PatchOp body has no Operations array"));
}
