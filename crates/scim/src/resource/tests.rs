//! Tests of decoding, normalising, validating and rendering Users, including
//! the create cases of `cases/entra-lifecycle.json` and `cases/roles.json`.

use serde_json::{Value, json};

use super::*;
use crate::ScimType;

pub(super) const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn normalized(body: Value) -> Resource {
    normalize_user(&body).expect("body should normalise")
}

fn rejected(body: Value) -> ScimError {
    match normalize_user(&body) {
        Ok(resource) => panic!("accepted: {resource:?}"),
        Err(e) => e,
    }
}

pub(super) fn meta() -> Meta {
    Meta {
        created: "2026-12-04T10:00:00Z".to_owned(),
        last_modified: "2026-12-04T11:00:00Z".to_owned(),
        location: "https://sidecar.example.test/api/v1/scim/v2/Users/u1".to_owned(),
        version: 3,
    }
}

#[test]
fn malformed_json_is_invalid_syntax_saying_where() {
    let e = parse_json_body(br#"{"userName": "bob", "active": tre,"#).expect_err("malformed");
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(
        e.detail,
        "request body is not valid JSON: expected ident at line 1 column 33"
    );
}

#[test]
fn deep_nesting_is_invalid_syntax_not_a_crash() {
    let body = format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let e = parse_json_body(body.as_bytes()).expect_err("too deep");
    assert_eq!(e.status, 400);
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(
        e.detail
            .starts_with("request body is nested too deeply (at most 128 levels): ")
    );
}

#[test]
fn non_object_and_empty_bodies_are_invalid_syntax() {
    let e = parse_json_body(b"[1, 2]").expect_err("array");
    assert_eq!(e.detail, "request body must be a JSON object, got an array");
    let e = parse_json_body(b" \n").expect_err("empty");
    assert_eq!(e.detail, "request body is empty; send a JSON object");
    assert_eq!(parse_json_body(br#"{"a": 1}"#), Ok(json!({"a": 1})));
}

/// `lifecycle.create-entra-shape`: the exact POST Entra sends.
#[test]
fn entra_create_shape() {
    let resource = normalized(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "externalId": "7c2e4b1a-3f5d-4e8a-9b6c-1d2e3f4a5b6c",
        "userName": "alice@example.test",
        "active": true,
        "displayName": "Alice Example",
        "emails": [{"primary": true, "type": "work", "value": "alice@example.test"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alice Example", "familyName": "Example", "givenName": "Alice"},
        "roles": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole",
                   "displayName": "Buyer", "value": "Buyer"}]
    }));
    let expected = json!({
        "externalId": "7c2e4b1a-3f5d-4e8a-9b6c-1d2e3f4a5b6c",
        "userName": "alice@example.test",
        "active": true,
        "displayName": "Alice Example",
        "emails": [{"primary": true, "type": "work", "value": "alice@example.test"}],
        "name": {"formatted": "Alice Example", "familyName": "Example", "givenName": "Alice"},
        "roles": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole",
                   "display": "Buyer", "value": "Buyer"}]
    });
    assert_eq!(Value::Object(resource.clone()), expected);

    let rendered = render_user(&resource, "u1", &meta());
    assert_eq!(
        rendered["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert_eq!(
        rendered["roles"],
        json!([{"primary": false,
        "type": "WindowsAzureActiveDirectoryRole", "display": "Buyer", "value": "Buyer"}])
    );
    assert_eq!(rendered["meta"]["resourceType"], json!("User"));
}

/// `lifecycle.create-active-string-true`.
#[test]
fn active_string_true_becomes_boolean() {
    let resource = normalized(json!({"userName": "carol", "active": "True"}));
    assert_eq!(resource.get("active"), Some(&json!(true)));
    let resource = normalized(json!({"userName": "carol", "active": "false"}));
    assert_eq!(resource.get("active"), Some(&json!(false)));
}

#[test]
fn active_of_another_shape_is_invalid_value_naming_it() {
    let e = rejected(json!({"userName": "carol", "active": "yes"}));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        e.detail,
        "active must be a boolean (true or false) (RFC 7643 §2.3), got the string \"yes\""
    );
    let e = rejected(json!({"userName": "c", "emails": [{"value": "c@x", "primary": 1}]}));
    assert_eq!(
        e.detail,
        "emails.primary must be a boolean (true or false) (RFC 7643 §2.3), got the number 1"
    );
}

/// `lifecycle.create-nulls-and-typo-schema`.
#[test]
fn nulls_empty_roles_and_typo_schema() {
    let resource = normalized(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "externalId": "2b3c4d5e-6f70-4819-a2b3-000000000000",
        "userName": "dave@example.test",
        "active": true,
        "addresses": null,
        "displayName": "Dave Example",
        "emails": [{"type": "work", "value": "dave@example.test", "primary": true}],
        "meta": {"resourceType": "User"},
        "name": {"familyName": "Example", "givenName": "Dave"},
        "phoneNumbers": null, "preferredLanguage": null, "title": null,
        "department": null, "manager": null, "roles": []
    }));
    assert_eq!(
        Value::Object(resource),
        json!({
            "externalId": "2b3c4d5e-6f70-4819-a2b3-000000000000",
            "userName": "dave@example.test",
            "active": true,
            "displayName": "Dave Example",
            "emails": [{"type": "work", "value": "dave@example.test", "primary": true}],
            "name": {"familyName": "Example", "givenName": "Dave"}
        })
    );
}

/// `errors.missing-username-400` and empty names.
#[test]
fn user_name_is_required_and_non_empty() {
    let e = rejected(json!({"displayName": "No Username", "active": true}));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        e.detail,
        "userName is required: send a non-empty string (RFC 7643 §4.1.1)"
    );
    let e = rejected(json!({"userName": "  "}));
    assert_eq!(
        e.detail,
        "userName must be a non-empty string (RFC 7643 §4.1.1), got the string \"  \""
    );
    let e = rejected(json!({"userName": null}));
    assert_eq!(
        e.detail,
        "userName is required: send a non-empty string (RFC 7643 §4.1.1)"
    );
}

/// `roles.post-mixed-display-keys`.
#[test]
fn roles_with_display_name_and_display_keys() {
    let resource = normalized(json!({
        "userName": "rm",
        "roles": [
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
             "displayName": "Admin", "value": "Admin"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
             "display": "Viewer", "value": "Viewer"}
        ]
    }));
    assert_eq!(
        resource.get("roles"),
        Some(&json!([
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
             "display": "Admin", "value": "Admin"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
             "display": "Viewer", "value": "Viewer"}
        ]))
    );
}

#[test]
fn duplicate_role_values_collapse_case_insensitively() {
    let resource = normalized(json!({
        "userName": "r",
        "roles": [{"value": "Buyer"}, {"value": "BUYER", "display": "Buyer"}, {"value": "Admin"}]
    }));
    assert_eq!(
        resource.get("roles"),
        Some(&json!([{"value": "Buyer", "display": "Buyer"}, {"value": "Admin"}]))
    );
}

#[test]
fn attribute_names_take_the_schema_spelling() {
    let resource = normalized(json!({
        "USERNAME": "u",
        "Emails": [{"VALUE": "u@x", "Type": "work"}],
        "name": {"GIVENNAME": "U"}
    }));
    assert_eq!(
        Value::Object(resource),
        json!({"userName": "u", "emails": [{"value": "u@x", "type": "work"}],
               "name": {"givenName": "U"}})
    );
}

#[test]
fn unknown_and_server_owned_attributes_are_dropped_custom_extensions_kept() {
    let resource = normalized(json!({
        "userName": "u",
        "id": "client-chosen",
        "meta": {"resourceType": "User"},
        "groups": [{"value": "g1"}],
        "password": "secret",
        "favouriteColour": "blue",
        "name": {"givenName": "U", "nickname": "x"},
        "urn:example:acme:1.0:User": {"badge": "42", "floor": null}
    }));
    assert_eq!(
        Value::Object(resource),
        json!({"userName": "u", "name": {"givenName": "U"},
               "urn:example:acme:1.0:User": {"badge": "42"}})
    );
}

#[test]
fn dotted_urn_and_typo_urn_keys_in_a_body() {
    let resource = normalized(json!({
        "userName": "u",
        "name.givenName": "Una",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0User": {"department": "Retail"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "CC-1"
    }));
    assert_eq!(
        Value::Object(resource),
        json!({"userName": "u", "name": {"givenName": "Una"},
               ENT: {"department": "Retail", "costCenter": "CC-1"}})
    );
}

#[test]
fn manager_shapes_in_a_body() {
    for manager in [
        json!("271"),
        json!({"value": "271"}),
        json!([{"value": "271", "$ref": null}]),
    ] {
        let resource = normalized(json!({"userName": "u", ENT: {"manager": manager}}));
        assert_eq!(
            resource.get(ENT),
            Some(&json!({"manager": {"value": "271"}}))
        );
    }
    let resource = normalized(json!({"userName": "u", ENT: {"manager": {"value": "1",
        "displayName": "Set by the server"}}}));
    assert_eq!(resource.get(ENT), Some(&json!({"manager": {"value": "1"}})));
}

#[test]
fn single_value_for_a_multi_valued_attribute_is_wrapped() {
    let resource = normalized(json!({"userName": "u", "emails": {"value": "u@x"}}));
    assert_eq!(resource.get("emails"), Some(&json!([{"value": "u@x"}])));
}

#[test]
fn value_types_are_checked_against_the_schema() {
    let e = rejected(json!({"userName": "u", "title": 5}));
    assert_eq!(
        e.detail,
        "title must be a string (RFC 7643 §2.3), got the number 5"
    );
    let e = rejected(json!({"userName": "u", "name": "Una"}));
    assert_eq!(
        e.detail,
        "name must be an object (RFC 7643 §2.3), got the string \"Una\""
    );
    let e = rejected(json!({"userName": "u", ENT: {"employeeNumber": 7}}));
    assert_eq!(
        e.detail,
        format!("{ENT}:employeeNumber must be a string (RFC 7643 §2.3), got the number 7")
    );
    let e = rejected(json!({"userName": "u", "emails": ["u@x"]}));
    assert_eq!(
        e.detail,
        "emails must be an object (RFC 7643 §2.3), got the string \"u@x\""
    );
}

#[test]
fn one_primary_and_unique_types() {
    let e = rejected(json!({"userName": "u", "emails": [
        {"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]}));
    assert_eq!(
        e.detail,
        "emails has 2 values with primary true; mark at most one as primary (RFC 7643 §2.4)"
    );
    let e = rejected(json!({"userName": "u", "phoneNumbers": [
        {"value": "1", "type": "work"}, {"value": "2", "type": "Work"}]}));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        e.detail,
        "phoneNumbers has more than one value of type \"Work\"; send one value per type \
         (types must be unique in emails, phoneNumbers, ims, photos, addresses)"
    );
    // Roles all share Entra's one type, which is fine.
    let resource = normalized(json!({"userName": "u", "roles": [
        {"value": "A", "type": "WindowsAzureActiveDirectoryRole"},
        {"value": "B", "type": "WindowsAzureActiveDirectoryRole"}]}));
    assert_eq!(
        resource
            .get("roles")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn strings_are_kept_as_sent() {
    let resource = normalized(json!({"userName": " Zoë@Example.Test ", "nickName": "",
        "phoneNumbers": [{"value": "+1 (555) 010-0000", "type": "work"}]}));
    assert_eq!(
        Value::Object(resource),
        json!({"userName": " Zoë@Example.Test ", "nickName": "",
               "phoneNumbers": [{"value": "+1 (555) 010-0000", "type": "work"}]})
    );
}

#[test]
fn non_object_body_is_invalid_syntax() {
    let e = rejected(json!(["userName"]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(
        e.detail,
        "a User must be a JSON object (RFC 7644 §3.3), got an array"
    );
}
