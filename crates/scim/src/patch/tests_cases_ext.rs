//! The PATCH cases of `cases/roles.json` and `cases/enterprise.json`, at
//! the function level, like `tests_cases`.

use serde_json::{Value, json};

use super::tests_cases::{patched, plain, user};
use crate::resource::Resource;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn with_roles(roles: Value) -> Resource {
    user(json!({"userName": "r@example.test", "active": true, "roles": roles}))
}

fn buyer() -> Value {
    json!({"type": "WindowsAzureActiveDirectoryRole", "display": "Buyer", "value": "Buyer"})
}

fn approver() -> Value {
    json!({"type": "WindowsAzureActiveDirectoryRole", "display": "Approver", "value": "Approver"})
}

#[test]
fn roles_add_stringified_legacy() {
    let after = patched(
        &with_roles(json!([buyer()])),
        json!([{"op": "Add", "path": "roles", "value": [{"value": concat!(
            "{\"id\":\"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a\",",
            "\"value\":\"Approver\",\"displayName\":\"Approver\"}"
        )}]}]),
    );
    assert_eq!(
        after.get("roles"),
        Some(&json!([buyer(), {"value": "Approver", "display": "Approver"}]))
    );
}

#[test]
fn roles_add_objects_flag() {
    let after = patched(
        &with_roles(json!([buyer()])),
        json!([{"op": "add", "path": "roles", "value": [{"primary": false,
            "type": "WindowsAzureActiveDirectoryRole", "display": "Approver",
            "value": "Approver"}]}]),
    );
    assert_eq!(
        after.get("roles"),
        Some(
            &json!([buyer(), {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
                                "display": "Approver", "value": "Approver"}])
        )
    );
}

#[test]
fn roles_assertive_replace() {
    let admin = json!({"primary": false, "type": "WindowsAzureActiveDirectoryRole",
                       "display": "Admin", "value": "Admin"});
    let after = patched(
        &with_roles(json!([buyer(), approver()])),
        json!([{"op": "replace", "path": "roles", "value": [admin.clone()]}]),
    );
    assert_eq!(after.get("roles"), Some(&json!([admin])));
}

#[test]
fn roles_remove_with_value_legacy() {
    let after = patched(
        &with_roles(json!([buyer(), approver()])),
        json!([{"op": "Remove", "path": "roles", "value": [{"value": "Approver"}]}]),
    );
    assert_eq!(after.get("roles"), Some(&json!([buyer()])));
}

#[test]
fn roles_single_app_role_primary_string() {
    let before = with_roles(
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole",
                                     "value": "Buyer"}]),
    );
    let after = patched(
        &before,
        json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]),
    );
    assert_eq!(
        after.get("roles"),
        Some(
            &json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
        )
    );
}

#[test]
fn enterprise_manager_bare_string() {
    let after = patched(
        &plain("emp@example.test"),
        json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m-271"}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"manager": {"value": "m-271"}}))
    );
}

#[test]
fn enterprise_manager_rfc_object() {
    let after = patched(
        &plain("emp2@example.test"),
        json!([{"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "m-272"}}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"manager": {"value": "m-272"}}))
    );
}

#[test]
fn enterprise_urn_path_add_and_replace() {
    let after = patched(
        &plain("una@example.test"),
        json!([
            {"op": "Add", "path": format!("{ENT}:department"), "value": "Retail"},
            {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "6546579"}
        ]),
    );
    assert_eq!(
        Value::Object(after),
        json!({"userName": "una@example.test", "active": true,
               ENT: {"department": "Retail", "employeeNumber": "6546579"}})
    );
}

#[test]
fn enterprise_pathless_urn_keys() {
    let after = patched(
        &plain("val@example.test"),
        json!([{"op": "replace", "value": {
            format!("{ENT}:department"): "Testing",
            format!("{ENT}:employeeNumber"): "123456",
            format!("{ENT}:costCenter"): "CC-90"
        }}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Testing", "employeeNumber": "123456", "costCenter": "CC-90"}))
    );
    assert_eq!(after.len(), 3);
}

#[test]
fn enterprise_remove_manager_urn_path() {
    let before = user(
        json!({"schemas": [CORE, ENT], "userName": "emp4@example.test",
        "active": true, ENT: {"department": "Retail", "manager": {"value": "m-4"}}}),
    );
    let after = patched(
        &before,
        json!([{"op": "Remove", "path": format!("{ENT}:manager")}]),
    );
    assert_eq!(after.get(ENT), Some(&json!({"department": "Retail"})));
}
