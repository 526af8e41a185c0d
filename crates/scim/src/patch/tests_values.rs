//! Tests of what add, replace and remove do to values: merges, unions,
//! filtered writes and removes, primaries, the manager.

use serde_json::{Value, json};

use super::tests::sample;
use super::tests_cases::{patch, patched, user};
use crate::ScimType;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn pathless_replace_merges_complex_and_swaps_multi_valued() {
    let after = patched(
        &sample(),
        json!([{"op": "replace", "value": {
            "name": {"givenName": "Samuel"},
            "emails": [{"type": "work", "value": "s@example.test"}],
            ENT: {"costCenter": "CC-1"}
        }}]),
    );
    assert_eq!(
        after.get("name"),
        Some(&json!({"givenName": "Samuel", "familyName": "Example"}))
    );
    assert_eq!(
        after.get("emails"),
        Some(&json!([{"type": "work", "value": "s@example.test"}]))
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Retail", "costCenter": "CC-1",
                     "manager": {"value": "m-1", "$ref": "../Users/m-1"}}))
    );
}

#[test]
fn null_clears_an_attribute_or_a_sub_attribute() {
    let after = patched(
        &sample(),
        json!([
            {"op": "replace", "path": "displayName", "value": null},
            {"op": "replace", "value": {"name": {"familyName": null}}}
        ]),
    );
    assert_eq!(after.get("displayName"), None);
    assert_eq!(after.get("name"), Some(&json!({"givenName": "Sam"})));
}

#[test]
fn add_to_emails_updates_the_same_type_and_moves_primary() {
    let after = patched(
        &sample(),
        json!([{"op": "add", "path": "emails", "value": [
        {"type": "home", "value": "sam@new-home.test", "primary": true},
        {"type": "other", "value": "sam@other.test"}]}]),
    );
    assert_eq!(
        after.get("emails"),
        Some(&json!([
            {"type": "work", "value": "sam@example.test", "primary": false},
            {"type": "home", "value": "sam@new-home.test", "primary": true},
            {"type": "other", "value": "sam@other.test"}
        ]))
    );
}

#[test]
fn filtered_replace_of_a_primary_demotes_the_others() {
    let after = patched(
        &sample(),
        json!([
        {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
    );
    assert_eq!(
        after.get("emails"),
        Some(
            &json!([{"type": "work", "value": "sam@example.test", "primary": false},
                     {"type": "home", "value": "sam@home.test", "primary": true}])
        )
    );
}

#[test]
fn filter_that_cannot_describe_an_element_is_no_target() {
    let e = patch(
        &sample(),
        json!([{"op": "replace",
        "path": "emails[value co \"nobody\"].type", "value": "work"}]),
    )
    .expect_err("no element to create");
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    assert_eq!(
        e.detail,
        "Operations[0] (replace emails[value co \"nobody\"].type): the filter on emails matches \
         no value, and only a filter of eq terms joined by and can create one; add the value \
         without a filter (RFC 7644 §3.5.2)"
    );
}

#[test]
fn filtered_add_with_two_eq_terms_creates_one_element() {
    let after = patched(
        &user(json!({"userName": "u"})),
        json!([
        {"op": "add", "path": "phoneNumbers[type eq \"mobile\" and primary eq \"True\"].value",
         "value": "+1 555 0100"}]),
    );
    assert_eq!(
        after.get("phoneNumbers"),
        Some(&json!([{"type": "mobile", "primary": true, "value": "+1 555 0100"}]))
    );
}

#[test]
fn removes_by_filter_sub_attribute_and_value() {
    let after = patched(
        &sample(),
        json!([
            {"op": "remove", "path": "emails[type eq \"home\"]"},
            {"op": "remove", "path": "name.familyName"},
            {"op": "Remove", "path": "roles", "value": [{"value": "VIEWER"}]}
        ]),
    );
    assert_eq!(
        after.get("emails"),
        Some(&json!([{"type": "work", "value": "sam@example.test", "primary": true}]))
    );
    assert_eq!(after.get("name"), Some(&json!({"givenName": "Sam"})));
    assert_eq!(
        after.get("roles"),
        Some(&json!([{"value": "Buyer", "display": "Buyer"}]))
    );
}

#[test]
fn remove_that_finds_nothing_changes_nothing() {
    let after = patched(
        &sample(),
        json!([
            {"op": "remove", "path": "emails[type eq \"fax\"]"},
            {"op": "remove", "path": "nickName"},
            {"op": "Remove", "path": "roles", "value": [{"value": "Overseer"}]},
            {"op": "remove", "path": "manager[value eq \"someone-else\"]"}
        ]),
    );
    assert_eq!(after, sample());
}

#[test]
fn manager_removed_by_value_filter_and_by_value() {
    let by_filter = patched(
        &sample(),
        json!([
        {"op": "remove", "path": format!("{ENT}:manager[value eq \"m-1\"]")}]),
    );
    assert_eq!(by_filter.get(ENT), Some(&json!({"department": "Retail"})));
    let by_value = patched(
        &sample(),
        json!([
        {"op": "Remove", "path": format!("{ENT}:manager"), "value": "m-1"}]),
    );
    assert_eq!(by_value.get(ENT), Some(&json!({"department": "Retail"})));
    let empty_id = patched(
        &sample(),
        json!([
        {"op": "replace", "path": format!("{ENT}:manager"), "value": ""}]),
    );
    assert_eq!(empty_id.get(ENT), Some(&json!({"department": "Retail"})));
}

#[test]
fn a_new_manager_replaces_the_old_object() {
    let after = patched(
        &sample(),
        json!([{"op": "Add", "path": format!("{ENT}:manager"),
                "value": [{"value": "m-2", "$ref": null}]}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Retail", "manager": {"value": "m-2"}}))
    );
}

#[test]
fn add_then_remove_of_a_role_gives_back_the_roles() {
    for value in [
        json!([{"value": "Approver"}]),
        json!([{"value": "{\"id\":\"1\",\"value\":\"Approver\",\"displayName\":\"A\"}"}]),
    ] {
        let added = patched(
            &sample(),
            json!([{"op": "Add", "path": "roles", "value": value}]),
        );
        assert_eq!(
            added.get("roles").and_then(Value::as_array).map(Vec::len),
            Some(3)
        );
        let removed = patched(
            &added,
            json!([{"op": "Remove", "path": "roles",
                                              "value": [{"value": "approver"}]}]),
        );
        assert_eq!(removed, sample());
    }
}

#[test]
fn manager_value_key_replaces_the_old_manager() {
    let after = patched(
        &sample(),
        json!([{"op": "replace", "value": {format!("{ENT}:manager.value"): "m-9"}}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Retail", "manager": {"value": "m-9"}}))
    );
    let same = patched(
        &sample(),
        json!([{"op": "replace", "path": format!("{ENT}:manager.value"), "value": "m-1"}]),
    );
    assert_eq!(same, sample());
}
