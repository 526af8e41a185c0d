//! Tests of PatchOp parsing, of what paths and path-less keys may target,
//! and of error details. The shared cases are in `tests_cases`, value
//! semantics in `tests_values`, properties in `proptests`.

use serde_json::{Value, json};

use super::tests_cases::{patch, patched, user};
use super::{OpKind, PatchRequest};
use crate::ScimType;
use crate::resource::Resource;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn sample() -> Resource {
    user(json!({
        "userName": "sam@example.test",
        "externalId": "ext-sam",
        "active": true,
        "displayName": "Sam Example",
        "name": {"givenName": "Sam", "familyName": "Example"},
        "emails": [{"type": "work", "value": "sam@example.test", "primary": true},
                   {"type": "home", "value": "sam@home.test"}],
        "roles": [{"value": "Buyer", "display": "Buyer"}, {"value": "Viewer"}],
        ENT: {"department": "Retail", "manager": {"value": "m-1", "$ref": "../Users/m-1"}}
    }))
}

fn parse_err(body: Value) -> crate::ScimError {
    PatchRequest::parse(&body).expect_err("should not parse")
}

#[test]
fn parse_reads_ops_in_any_case_and_member_names_too() {
    let request = PatchRequest::parse(&json!({"operations": [
        {"Op": "ADD", "Path": "nickName", "Value": "S"},
        {"op": "Remove", "path": "title"},
        {"op": "replace", "path": "", "value": {"title": "T"}}
    ]}))
    .expect("parses");
    let kinds: Vec<OpKind> = request.ops.iter().map(|op| op.op).collect();
    assert_eq!(kinds, [OpKind::Add, OpKind::Remove, OpKind::Replace]);
    assert_eq!(
        request
            .ops
            .iter()
            .map(|op| op.path.is_some())
            .collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(
        request.ops.first().and_then(|op| op.value.clone()),
        Some(json!("S"))
    );
    assert_eq!(request.ops.get(1).and_then(|op| op.value.clone()), None);
}

#[test]
fn parse_errors_name_the_operation() {
    let e = parse_err(json!([1]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(
        e.detail,
        "a PatchOp body must be a JSON object with an Operations array (RFC 7644 §3.5.2), \
         got an array"
    );
    let e = parse_err(json!({"Operations": []}));
    assert!(
        e.detail
            .starts_with("PatchOp body has no Operations array, or it is empty")
    );

    let e = parse_err(json!({"Operations": [{"op": "merge", "path": "title", "value": "x"}]}));
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(
        e.detail,
        "Operations[0]: unknown op \"merge\"; use add, replace or remove (RFC 7644 §3.5.2)"
    );
    let e = parse_err(
        json!({"Operations": [{"op": "add", "path": "title", "value": "x"},
                                            {"op": "replace", "path": "title"}]}),
    );
    assert_eq!(
        e.detail,
        "Operations[1] (replace title): value is required for add and replace \
         (RFC 7644 §3.5.2.1, §3.5.2.3); use remove to clear an attribute"
    );
    let e = parse_err(json!({"Operations": [{"op": "remove"}]}));
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    assert_eq!(
        e.detail,
        "Operations[0] (remove): remove needs a path naming what to remove (RFC 7644 §3.5.2.2)"
    );
    let e = parse_err(json!({"Operations": ["add"]}));
    assert_eq!(
        e.detail,
        "Operations[0] must be an object with op, path and value (RFC 7644 §3.5.2), \
         got the string \"add\""
    );
    let e = parse_err(json!({"Operations": [{"op": "add", "path": 5, "value": 1}]}));
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    assert_eq!(
        e.detail,
        "Operations[0] (add): path must be a string, got the number 5"
    );
}

#[test]
fn server_owned_attributes_are_read_only() {
    for path in ["id", "meta", "schemas", "meta.created", "groups"] {
        let e = patch(
            &sample(),
            json!([{"op": "replace", "path": path, "value": "x"}]),
        )
        .expect_err("read-only");
        assert_eq!(e.scim_type, Some(ScimType::Mutability), "{path}");
    }
    let e = patch(
        &sample(),
        json!([{"op": "replace", "value": {"id": "new"}}]),
    )
    .expect_err("id");
    assert_eq!(
        e.detail,
        "Operations[0] (replace): id is read-only (set by the server, RFC 7643 §7); \
         remove it from the request"
    );
    let e = patch(
        &sample(),
        json!([{"op": "add", "path": format!("{ENT}:manager.displayName"),
                                     "value": "Boss"}]),
    )
    .expect_err("manager.displayName");
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
    // A path-less value that carries `schemas` (an echoed GET body) is fine.
    let after = patched(
        &sample(),
        json!([{"op": "replace", "value": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "title": "T"}}]),
    );
    assert_eq!(after.get("title"), Some(&json!("T")));
}

#[test]
fn unknown_paths_are_invalid_path_but_unknown_pathless_keys_are_ignored() {
    let e = patch(
        &sample(),
        json!([{"op": "replace", "path": "favouriteColour", "value": "x"}]),
    )
    .expect_err("unknown");
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    assert_eq!(
        e.detail,
        "Operations[0] (replace favouriteColour): favouriteColour is not an attribute of the \
         User schema or the enterprise extension (RFC 7643 §4.1, §4.3); check the attribute \
         mapping in Entra"
    );
    let e = patch(
        &sample(),
        json!([{"op": "add", "path": "name.nick", "value": "x"}]),
    )
    .expect_err("unknown sub");
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    let e = patch(
        &sample(),
        json!([{"op": "add", "path": "title[value eq \"x\"]", "value": "x"}]),
    )
    .expect_err("filter on a simple attribute");
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));

    let after = patched(
        &sample(),
        json!([{"op": "replace", "value": {
        "favouriteColour": "blue", "name.nick": "x", "active": "False"}}]),
    );
    let mut expected = sample();
    expected.insert("active".to_owned(), json!(false));
    assert_eq!(after, expected);
}

#[test]
fn removing_the_extension_and_the_last_extension_attribute() {
    let after = patched(&sample(), json!([{"op": "remove", "path": ENT}]));
    assert_eq!(after.get(ENT), None);
    let after = patched(
        &sample(),
        json!([
        {"op": "remove", "path": format!("{ENT}:department")},
        {"op": "remove", "path": format!("{ENT}:manager")}]),
    );
    assert_eq!(after.get(ENT), None);
}

#[test]
fn custom_extension_attributes() {
    let urn = "urn:example:acme:1.0:User";
    let after = patched(
        &sample(),
        json!([
        {"op": "add", "path": format!("{urn}:badge"), "value": "42"},
        {"op": "replace", "value": {urn: {"floor": 3}}}]),
    );
    assert_eq!(after.get(urn), Some(&json!({"badge": "42", "floor": 3})));
    let after = patched(
        &after,
        json!([{"op": "remove", "path": format!("{urn}:badge")}]),
    );
    assert_eq!(after.get(urn), Some(&json!({"floor": 3})));
}

#[test]
fn password_is_never_stored() {
    let after = patched(
        &sample(),
        json!([
        {"op": "replace", "path": "password", "value": "hunter2"},
        {"op": "replace", "value": {"password": "hunter2"}}]),
    );
    assert_eq!(after, sample());
}

#[test]
fn type_errors_name_the_operation() {
    let e = patch(
        &sample(),
        json!([{"op": "add", "path": "nickName", "value": "S"},
                                     {"op": "replace", "path": "active", "value": "maybe"}]),
    )
    .expect_err("bad boolean");
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        e.detail,
        "Operations[1] (replace active): active must be a boolean (true or false) \
         (RFC 7643 §2.3), got the string \"maybe\""
    );
    let e = patch(
        &sample(),
        json!([{"op": "replace", "value": "not an object"}]),
    )
    .expect_err("path-less string");
    assert_eq!(
        e.detail,
        "Operations[0] (replace): a path-less add or replace needs an object value that maps \
         attribute names to values (RFC 7644 §3.5.2.1)"
    );
}

#[test]
fn failing_op_leaves_the_input_untouched() {
    let before = sample();
    let e = patch(
        &before,
        json!([
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "add", "path": "roles", "value": [{"value": "Admin"}]},
            {"op": "remove", "path": "userName"}
        ]),
    )
    .expect_err("userName removed");
    assert_eq!(
        e.detail,
        "Operations[2] (remove userName): userName is required: send a \
        non-empty string (RFC 7643 §4.1.1)"
    );
    assert_eq!(before, sample());
}

#[test]
fn whole_extension_path_merges_its_attributes() {
    let after = patched(
        &sample(),
        json!([{"op": "replace", "path": ENT, "value": {
            "costCenter": "CC-2", "manager": "m-3", "notAnAttribute": 1}}]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Retail", "costCenter": "CC-2", "manager": {"value": "m-3"}}))
    );
}

#[test]
fn enterprise_names_without_urn_and_in_the_old_dot_form() {
    let after = patched(
        &sample(),
        json!([
            {"op": "Add", "path": "manager", "value": "m-5"},
            {"op": "replace", "value": {
                "division": "North",
                format!("{ENT}.organization"): "Example Ltd"
            }}
        ]),
    );
    assert_eq!(
        after.get(ENT),
        Some(&json!({"department": "Retail", "division": "North",
                     "organization": "Example Ltd", "manager": {"value": "m-5"}}))
    );
    let created = user(json!({"userName": "u", "department": "Retail"}));
    assert_eq!(created.get(ENT), Some(&json!({"department": "Retail"})));
}
