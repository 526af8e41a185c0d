use serde_json::{Value, json};

use crate::filter::Filter;
use crate::schema;
use crate::{ENTERPRISE_SCHEMA, USER_SCHEMA};

fn matches(filter: &str, resource: &Value) -> bool {
    match Filter::parse(filter) {
        Ok(f) => f.matches(resource),
        Err(e) => panic!("{filter}: {e}"),
    }
}

fn user(user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "ExtId-1f",
        "userName": user_name,
        "displayName": "Zoë Ångström-Núñez 李",
        "nickName": "Ali",
        "title": "",
        "active": true,
        "name": {"givenName": "Alice", "familyName": "Example"},
        "emails": [
            {"type": "work", "value": "alice@example.test", "primary": true},
            {"type": "home", "value": "alice@home.test"}
        ],
        "phoneNumbers": [],
        "roles": [{"value": "Buyer", "primary": "True"}],
        ENTERPRISE_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
        "meta": {
            "resourceType": "User",
            "created": "2024-01-02T03:04:05Z",
            "lastModified": "2024-06-07T08:09:10Z",
            "version": "W/\"3\""
        },
        "x-count": 7
    })
}

#[test]
fn user_name_is_case_insensitive_and_exact() {
    let u = user("Alice.Example-1f@Example.Test");
    assert!(matches(
        r#"userName eq "alice.example-1f@example.test""#,
        &u
    ));
    assert!(matches(
        r#"USERNAME EQ "ALICE.EXAMPLE-1F@EXAMPLE.TEST""#,
        &u
    ));
    assert!(!matches(
        r#"userName eq "alice.example-1f@example.tes""#,
        &u
    ));
    assert!(!matches(
        r#"userName eq "alice.example-1f@example.test.x""#,
        &u
    ));
}

#[test]
fn eq_is_not_a_prefix_match() {
    let u = user("pat-1f@example.test.old");
    assert!(!matches(r#"userName eq "pat-1f@example.test""#, &u));
    assert!(matches(r#"userName sw "PAT-1f@example.test""#, &u));
}

#[test]
fn external_id_and_id_are_case_exact() {
    let u = user("a");
    assert!(!matches(r#"externalId eq "extid-1f""#, &u));
    assert!(matches(r#"externalId eq "ExtId-1f""#, &u));
    assert!(matches("externalid eq ExtId-1f", &u));
    assert!(!matches(
        r#"id eq "2819C223-7F76-453A-919D-413861904646""#,
        &u
    ));
    assert!(matches(
        r#"id eq "2819c223-7f76-453a-919d-413861904646""#,
        &u
    ));
}

#[test]
fn plus_in_a_value_is_literal() {
    let u = user("test+scim-1f@example.test");
    assert!(matches(r#"userName eq "test+scim-1f@example.test""#, &u));
    assert!(!matches(r#"userName eq "test scim-1f@example.test""#, &u));
}

#[test]
fn and_needs_both_terms() {
    let u = user("alice-1f@example.test");
    assert!(matches(
        r#"userName eq "alice-1f@example.test" and externalId eq "ExtId-1f""#,
        &u
    ));
    assert!(!matches(
        r#"userName eq "alice-1f@example.test" and externalId eq "00-1f""#,
        &u
    ));
}

#[test]
fn grouping_keeps_precedence() {
    let f = r#"(userName eq "alice-1f@x" or userName eq "bob-1f@x") and active eq false"#;
    let mut alice = user("alice-1f@x");
    let mut bob = user("bob-1f@x");
    bob["active"] = json!(false);
    assert!(!matches(f, &alice));
    assert!(matches(f, &bob));
    alice["active"] = json!(false);
    assert!(!matches(
        r#"userName eq "x" or userName eq "bob-1f@x" and active eq false"#,
        &alice
    ));
}

#[test]
fn keyword_inside_quotes_compares_as_text() {
    let mut u = user("ann.and-1f@example.test");
    u["externalId"] = json!("ann 1f AND");
    assert!(matches(r#"externalId eq "ann 1f AND""#, &u));
    u["externalId"] = json!("ann 1f");
    assert!(!matches(r#"externalId eq "ann 1f AND""#, &u));
}

#[test]
fn multi_valued_any_element() {
    let u = user("a");
    assert!(matches(r#"emails.value eq "ALICE@home.test""#, &u));
    assert!(matches(r#"emails eq "alice@example.test""#, &u));
    assert!(matches(r#"emails co "@home""#, &u));
    assert!(matches(r#"Emails.Type eq "HOME""#, &u));
    assert!(!matches(r#"emails.value eq "bob@example.test""#, &u));
    assert!(!matches(r#"emails.value ne "alice@home.test""#, &u));
    assert!(matches(r#"emails.value ne "bob@example.test""#, &u));
}

#[test]
fn value_path_and_entra_fold() {
    let u = user("a");
    assert!(matches(
        r#"emails[type eq "work"].value eq "alice@example.test""#,
        &u
    ));
    assert!(!matches(
        r#"emails[type eq "work"].value eq "alice@home.test""#,
        &u
    ));
    assert!(matches(
        r#"emails[type eq "work" and value ew "example.test"]"#,
        &u
    ));
    assert!(!matches(
        r#"emails[type eq "home" and primary eq true]"#,
        &u
    ));
    assert!(matches(r#"name[givenName sw "al"]"#, &u));
    assert!(matches(r#"roles[primary eq true].value eq "buyer""#, &u));
}

#[test]
fn booleans_and_entra_string_booleans() {
    let mut u = user("a");
    assert!(matches("active eq true", &u));
    assert!(matches(r#"active eq "True""#, &u));
    assert!(!matches(r#"active eq "False""#, &u));
    u["active"] = json!(false);
    assert!(matches(r#"active eq "false""#, &u));
    assert!(matches("active ne true", &u));
    assert!(!matches(r#"active eq "no""#, &u));
    assert!(!matches("active gt false", &u));
}

#[test]
fn presence() {
    let u = user("a");
    assert!(matches("nickName pr", &u));
    assert!(!matches("title pr", &u));
    assert!(!matches("profileUrl pr", &u));
    assert!(!matches("phoneNumbers pr", &u));
    assert!(matches("emails pr", &u));
    assert!(matches("name.givenName pr", &u));
    assert!(!matches("name.middleName pr", &u));
    assert!(matches("not (title pr)", &u));
    assert!(matches("title eq null", &u));
    assert!(matches("profileUrl eq null", &u));
    assert!(!matches("nickName eq null", &u));
    assert!(matches("nickName ne null", &u));
    assert!(!matches("title ne null", &u));
}

#[test]
fn absent_attributes() {
    let u = user("a");
    assert!(!matches(r#"profileUrl eq "x""#, &u));
    assert!(matches(r#"profileUrl ne "x""#, &u));
    assert!(!matches(r#"profileUrl sw "x""#, &u));
}

#[test]
fn ordering_operators() {
    let u = user("m");
    assert!(matches(r#"userName gt "L""#, &u));
    assert!(matches(r#"userName ge "M""#, &u));
    assert!(!matches(r#"userName lt "m""#, &u));
    assert!(matches(r#"userName le "m""#, &u));
    assert!(matches("x-count gt 6", &u));
    assert!(matches("x-count le 7.0", &u));
    assert!(!matches("x-count lt -7", &u));
    assert!(matches(
        r#"meta.lastModified gt "2024-06-01T00:00:00Z""#,
        &u
    ));
    assert!(!matches(r#"meta.created ge "2024-01-02T03:04:06Z""#, &u));
    assert!(!matches(r#"x-count co "7""#, &u));
}

#[test]
fn enterprise_extension() {
    let u = user("a");
    let ext = ENTERPRISE_SCHEMA;
    assert!(matches(&format!("{ext}:employeeNumber eq \"701984\""), &u));
    assert!(matches(
        &format!("{}:EMPLOYEENUMBER eq 701984", ext.to_uppercase()),
        &u
    ));
    assert!(matches(&format!("{ext}:manager.value eq \"26118915\""), &u));
    assert!(!matches(r#"employeeNumber eq "701984""#, &u));
    assert!(matches(
        &format!("{USER_SCHEMA}:name.familyName eq \"example\""),
        &u
    ));
}

#[test]
fn utf8_values() {
    let u = user("a");
    assert!(matches(r#"displayName eq "zoë ångström-núñez 李""#, &u));
    assert!(!matches(r#"displayName eq "Zoe Angstrom-Nunez 李""#, &u));
}

#[test]
fn matches_element_uses_the_parents_case_rules() {
    let emails = schema::find(None, "emails").expect("emails in schema");
    let roles = schema::find(None, "roles").expect("roles in schema");
    let element = json!({"type": "Work", "value": "A@X.test", "primary": true});
    let hit = |f: &str, parent| {
        Filter::parse(f)
            .expect("test filter parses")
            .matches_element(&element, parent)
    };
    assert!(hit(r#"type eq "work""#, emails));
    assert!(hit(r#"value eq "a@x.test" and primary eq "True""#, emails));
    assert!(hit(r#"primary eq true"#, roles));
    assert!(!hit(r#"type eq "home""#, emails));
    assert!(!hit(r#"display pr"#, emails));
    let manager = schema::find(Some(ENTERPRISE_SCHEMA), "manager").expect("manager in schema");
    let m = json!({"value": "123"});
    assert!(
        Filter::parse(r#"value eq "123""#)
            .expect("parses")
            .matches_element(&m, manager)
    );
}
