//! Tests of rendering a resource and of reading the core's fields from it.

use serde_json::{Value, json};

use super::tests::{ENT, meta, normalized};
use super::*;

fn object(value: Value) -> Resource {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn render_adds_schemas_id_meta_and_no_default_active() {
    let resource = object(json!({"userName": "u", ENT: {"department": "Retail"},
        "urn:example:acme:1.0:User": {"badge": "42"}}));
    assert_eq!(
        render_user(&resource, "u1", &meta()),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT,
                        "urn:example:acme:1.0:User"],
            "id": "u1",
            "userName": "u",
            ENT: {"department": "Retail"},
            "urn:example:acme:1.0:User": {"badge": "42"},
            "meta": {
                "resourceType": "User",
                "created": "2026-12-04T10:00:00Z",
                "lastModified": "2026-12-04T11:00:00Z",
                "location": "https://sidecar.example.test/api/v1/scim/v2/Users/u1",
                "version": "W/\"3\""
            }
        })
    );
}

#[test]
fn render_leaves_out_an_empty_extension_and_keeps_active_false() {
    let resource = object(json!({"userName": "u", "active": false, ENT: {}}));
    let rendered = render_user(&resource, "u1", &meta());
    assert_eq!(
        rendered["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert_eq!(rendered["active"], json!(false));
    assert_eq!(rendered.get(ENT), None);
}

#[test]
fn core_fields_of_a_resource() {
    let resource = normalized(json!({
        "userName": "alice@example.test", "externalId": "ext-1", "active": "False",
        "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
        "roles": [{"value": "{\"id\":\"1\",\"value\":\"Buyer\"}"}, {"value": "Admin"}]
    }));
    assert_eq!(
        core_fields(&resource),
        CoreFields {
            user_name: "alice@example.test".to_owned(),
            external_id: Some("ext-1".to_owned()),
            active: false,
            emails: vec!["a@x".to_owned(), "b@x".to_owned()],
            role_values: vec!["Buyer".to_owned(), "Admin".to_owned()],
        }
    );
    let bare = normalized(json!({"userName": "b"}));
    assert!(core_fields(&bare).active);
    assert_eq!(core_fields(&bare).external_id, None);
}
