//! Tests of the shared Entra normalisation helpers.

use super::*;
use serde_json::json;

#[test]
fn booleans_as_strings_in_any_case() {
    assert_eq!(parse_bool(&json!("True")), Some(true));
    assert_eq!(parse_bool(&json!("False")), Some(false));
    assert_eq!(parse_bool(&json!("false")), Some(false));
    assert_eq!(parse_bool(&json!("TRUE")), Some(true));
    assert_eq!(parse_bool(&json!(true)), Some(true));
    assert_eq!(parse_bool(&json!("yes")), None);
    assert_eq!(parse_bool(&json!(1)), None);
    assert_eq!(parse_bool(&json!(null)), None);
}

#[test]
fn stringified_role_is_unwrapped_and_id_dropped() {
    let raw = json!({"value": "{\"id\":\"9d8c\",\"value\":\"Approver\",\"displayName\":\"Appr\"}"});
    assert_eq!(
        normalize_role(raw),
        json!({"value": "Approver", "display": "Appr"})
    );
}

#[test]
fn stringified_role_keeps_outer_type_and_primary() {
    let raw = json!({
        "primary": true,
        "type": "WindowsAzureActiveDirectoryRole",
        "value": "{\"id\":\"1\",\"value\":\"25\",\"displayName\":\"Role1234\",\"primary\":false}"
    });
    assert_eq!(
        normalize_role(raw),
        json!({
            "primary": true,
            "type": "WindowsAzureActiveDirectoryRole",
            "value": "25",
            "display": "Role1234"
        })
    );
}

#[test]
fn role_display_name_becomes_display_and_display_wins() {
    assert_eq!(
        normalize_role(json!({"displayName": "Buyer", "value": "Buyer"})),
        json!({"display": "Buyer", "value": "Buyer"})
    );
    assert_eq!(
        normalize_role(json!({"displayName": "Old", "display": "New", "value": "B"})),
        json!({"display": "New", "value": "B"})
    );
}

#[test]
fn role_plain_values_are_left_alone() {
    assert_eq!(
        normalize_role(json!({"value": "{not json"})),
        json!({"value": "{not json"})
    );
    assert_eq!(normalize_role(json!("Admin")), json!({"value": "Admin"}));
    assert_eq!(
        normalize_role(json!("{\"value\":\"Admin\",\"id\":\"x\"}")),
        json!({"value": "Admin"})
    );
    assert_eq!(normalize_role(json!(5)), json!(5));
}

#[test]
fn role_key_is_case_insensitive_value() {
    assert_eq!(
        role_key(&json!({"value": "Buyer"})),
        Some("buyer".to_owned())
    );
    assert_eq!(role_key(&json!({"display": "Buyer"})), None);
}

#[test]
fn manager_shapes() {
    assert_eq!(normalize_manager(json!("271")), json!({"value": "271"}));
    assert_eq!(
        normalize_manager(json!([{"value": "271", "$ref": "https://x/Users/271"}])),
        json!({"value": "271", "$ref": "https://x/Users/271"})
    );
    assert_eq!(normalize_manager(json!(["271"])), json!({"value": "271"}));
    assert_eq!(
        normalize_manager(json!({"value": "271"})),
        json!({"value": "271"})
    );
    assert_eq!(normalize_manager(json!("")), Value::Null);
    assert_eq!(normalize_manager(json!({"value": ""})), Value::Null);
    assert_eq!(normalize_manager(json!([])), Value::Null);
}

#[test]
fn manager_change_is_detected_on_value() {
    let old = json!({"value": "1", "displayName": "Bob"});
    assert!(manager_changed(&old, &json!({"value": "2"})));
    assert!(!manager_changed(&old, &json!({"value": "1"})));
    assert!(!manager_changed(&old, &json!({"displayName": "Robert"})));
}

#[test]
fn enterprise_urn_and_its_misspelling() {
    assert!(is_enterprise_urn(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ));
    assert!(is_enterprise_urn(
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"
    ));
    assert!(is_enterprise_urn(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
    ));
    assert!(!is_enterprise_urn(
        "urn:ietf:params:scim:schemas:core:2.0:User"
    ));
}
