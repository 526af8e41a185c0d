use serde_json::{Value, json};

use super::*;
use crate::{ENTERPRISE_SCHEMA, USER_SCHEMA};

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": "u1",
        "externalId": "e1",
        "userName": "vic@example.test",
        "active": true,
        "password": "hunter2",
        "name": {"givenName": "Vic", "familyName": "Example"},
        "emails": [
            {"type": "work", "value": "vic@example.test", "primary": true},
            {"type": "home", "value": "vic@home.test"}
        ],
        "roles": [],
        ENTERPRISE_SCHEMA: {
            "department": "Sales",
            "manager": {"value": "m1", "displayName": "Boss"}
        },
        "meta": {"resourceType": "User", "lastModified": "2024-06-07T08:09:10Z"}
    })
}

fn paths(list: &[&str]) -> Vec<AttrPath> {
    list.iter()
        .map(|p| AttrPath::parse(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect()
}

fn with(attributes: &[&str], excluded: &[&str]) -> Value {
    project(&user(), &paths(attributes), &paths(excluded))
}

fn without_password() -> Value {
    let mut expected = user();
    if let Some(object) = expected.as_object_mut() {
        object.remove("password");
    }
    expected
}

#[test]
fn no_parameters_only_hides_the_password() {
    assert_eq!(with(&[], &[]), without_password());
}

#[test]
fn attributes_user_name_as_in_the_content_case() {
    assert_eq!(
        with(&["userName"], &[]),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": "u1",
            "userName": "vic@example.test"
        })
    );
    assert_eq!(with(&["USERNAME"], &[]), with(&["userName"], &[]));
    let qualified = format!("{USER_SCHEMA}:userName");
    assert_eq!(with(&[&qualified], &[]), with(&["userName"], &[]));
}

#[test]
fn sub_attributes_keep_their_parent() {
    assert_eq!(
        with(
            &[
                "name.givenName",
                "emails.value",
                "emails.type",
                "meta.lastModified"
            ],
            &[]
        ),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": "u1",
            "name": {"givenName": "Vic"},
            "emails": [
                {"type": "work", "value": "vic@example.test"},
                {"type": "home", "value": "vic@home.test"}
            ],
            "meta": {"lastModified": "2024-06-07T08:09:10Z"}
        })
    );
    assert_eq!(with(&["name.middleName"], &[]).get("name"), None);
}

#[test]
fn extension_attributes_by_urn() {
    let department = format!("{ENTERPRISE_SCHEMA}:department");
    assert_eq!(
        with(&[&department], &[]),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": "u1",
            ENTERPRISE_SCHEMA: {"department": "Sales"}
        })
    );
    let manager = format!("{}:manager.value", ENTERPRISE_SCHEMA.to_uppercase());
    assert_eq!(
        with(&[&manager], &[])[ENTERPRISE_SCHEMA],
        json!({"manager": {"value": "m1"}})
    );
    assert_eq!(
        with(&[ENTERPRISE_SCHEMA], &[])[ENTERPRISE_SCHEMA],
        user()[ENTERPRISE_SCHEMA]
    );
    assert_eq!(with(&["department"], &[]).get(ENTERPRISE_SCHEMA), None);
}

#[test]
fn excluded_attributes() {
    let mut expected = without_password();
    if let Some(object) = expected.as_object_mut() {
        object.remove("emails");
        object.remove(ENTERPRISE_SCHEMA);
    }
    expected["name"] = json!({"givenName": "Vic"});
    assert_eq!(
        with(
            &[],
            &[
                "emails",
                "name.familyName",
                "id",
                "schemas",
                ENTERPRISE_SCHEMA
            ]
        ),
        expected
    );
}

#[test]
fn excluded_sub_attribute_of_multi_valued_and_extension() {
    let manager = format!("{ENTERPRISE_SCHEMA}:manager.displayName");
    let projected = with(&[], &["emails.type", "emails.primary", &manager]);
    assert_eq!(
        projected["emails"],
        json!([{"value": "vic@example.test"}, {"value": "vic@home.test"}])
    );
    assert_eq!(
        projected[ENTERPRISE_SCHEMA],
        json!({"department": "Sales", "manager": {"value": "m1"}})
    );
}

#[test]
fn both_parameters() {
    assert_eq!(
        with(&["name", "userName"], &["name.givenName"]),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": "u1",
            "userName": "vic@example.test",
            "name": {"familyName": "Example"}
        })
    );
}

#[test]
fn password_is_never_returned_even_when_asked() {
    assert_eq!(
        with(&["password"], &[]),
        json!({"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "id": "u1"})
    );
}

#[test]
fn non_objects_pass_through() {
    assert_eq!(project(&json!([1]), &paths(&["userName"]), &[]), json!([1]));
}
