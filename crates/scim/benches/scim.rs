//! Micro-benchmarks of the SCIM work done on every provisioning request: parsing Entra's
//! filters, evaluating a filter over a rendered user, and parsing plus applying Entra's PATCH
//! shapes. Run with `cargo bench -p authsidecar-scim`.
//!
//! The fixtures are the shapes Entra sends (see `src/entra.rs`), so a regression in one of
//! the Entra rules shows up as a slower case here.

#![allow(
    clippy::unwrap_used,
    reason = "the fixtures are constants; a failed unwrap is the bench's report"
)]

use authsidecar_scim::filter::Filter;
use authsidecar_scim::patch::{self, PatchRequest};
use authsidecar_scim::resource::{self, Meta, Resource};
use divan::{Bencher, black_box};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

/// The filter Entra sends before every create: match on userName.
const ENTRA_FILTER: &str = r#"userName eq "Ann.Lee@acme.example""#;

/// A filter the core cannot index: grouping, `or`, `not`, a value path and a presence test.
const COMPLEX_FILTER: &str = concat!(
    r#"(userName sw "ann" or emails[type eq "work" and value co "@acme"])"#,
    r#" and not (title eq "Intern") and active eq true and name.familyName pr"#
);

const ENTERPRISE_EMPLOYEE_NUMBER: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
const ENTERPRISE_DEPARTMENT: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

/// A POST body as Entra sends it (enterprise extension, a role, string boolean).
fn entra_user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0b5f1c9e-7d64-4f3a-9a51-2c8e4d7b6a10",
        "userName": "Ann.Lee@acme.example",
        "active": "True",
        "displayName": "Ann Lee",
        "title": "Buyer",
        "name": { "formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann" },
        "emails": [{ "primary": true, "type": "work", "value": "Ann.Lee@acme.example" }],
        "phoneNumbers": [{ "type": "work", "value": "+1 555 0100" }],
        "roles": [{
            "primary": false,
            "type": "WindowsAzureActiveDirectoryRole",
            "value": "Buyer",
            "displayName": "Buyer"
        }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "1042",
            "department": "Procurement",
            "manager": { "value": "271" }
        }
    })
}

fn stored_user() -> Resource {
    resource::normalize_user(&entra_user()).unwrap()
}

fn rendered_user() -> Value {
    let meta = Meta {
        created: "2026-12-04T15:13:11.123Z".into(),
        last_modified: "2026-12-04T15:13:11.123Z".into(),
        location: "https://sidecar.example/api/v1/scim/v2/Users/3f8e2b7c".into(),
        version: 3,
    };
    resource::render_user(
        &stored_user(),
        "3f8e2b7c-5d1a-4e9b-8c2f-1a2b3c4d5e6f",
        &meta,
    )
}

/// The legacy family: capitalised ops, several of them, string booleans, a filtered path.
fn legacy_multi_op() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "displayName", "value": "Ann Lee-Smith" },
            { "op": "Replace", "path": "name.familyName", "value": "Lee-Smith" },
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Add", "path": "emails[type eq \"work\"].value",
              "value": "Ann.LeeSmith@acme.example" },
            { "op": "Replace", "path": "title", "value": "Senior Buyer" },
            { "op": "Remove", "path": "phoneNumbers[type eq \"work\"]" }
        ]
    })
}

/// The flag family: one path-less replace keyed by dotted and URN-qualified attribute paths.
fn flag_pathless() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {
                "active": false,
                "name.givenName": "Annie",
                "name.familyName": "Lee-Smith",
                (ENTERPRISE_EMPLOYEE_NUMBER): "2042",
                (ENTERPRISE_DEPARTMENT): "Sales"
            }
        }]
    })
}

/// AppRoleAssignmentsComplex: roles added with their value stringified as JSON.
fn stringified_roles_add() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "roles",
            "value": [
                { "value": r#"{"id":"7b1c","value":"Approver","displayName":"Approver"}"# },
                { "value": r#"{"id":"9e2d","value":"Buyer","displayName":"Buyer"}"# }
            ]
        }]
    })
}

#[divan::bench]
fn filter_parse_entra_username_eq() -> Filter {
    Filter::parse(black_box(ENTRA_FILTER)).unwrap()
}

#[divan::bench]
fn filter_parse_complex() -> Filter {
    Filter::parse(black_box(COMPLEX_FILTER)).unwrap()
}

/// The filter text of a bench argument (the names keep divan's table narrow).
fn filter_text(name: &str) -> &'static str {
    if name == "complex" {
        COMPLEX_FILTER
    } else {
        ENTRA_FILTER
    }
}

#[divan::bench(args = ["entra_username_eq", "complex"])]
fn filter_evaluate_rendered_user(bencher: Bencher, name: &str) {
    let filter = Filter::parse(filter_text(name)).unwrap();
    let user = rendered_user();
    assert!(filter.matches(&user), "the fixture must match: {filter}");
    bencher.bench(|| black_box(&filter).matches(black_box(&user)));
}

#[divan::bench]
fn render_user(bencher: Bencher) {
    let user = stored_user();
    let meta = Meta {
        created: "2026-12-04T15:13:11.123Z".into(),
        last_modified: "2026-12-04T15:13:11.123Z".into(),
        location: "https://sidecar.example/api/v1/scim/v2/Users/3f8e2b7c".into(),
        version: 3,
    };
    bencher.bench(|| resource::render_user(black_box(&user), "3f8e2b7c", black_box(&meta)));
}

#[divan::bench]
fn normalize_post_body(bencher: Bencher) {
    let body = entra_user();
    bencher.bench(|| resource::normalize_user(black_box(&body)).unwrap());
}

/// Parse and apply, as the PATCH handler does on every request.
fn patch_case(bencher: Bencher, body: Value) {
    let user = stored_user();
    patch::apply(&user, &PatchRequest::parse(&body).unwrap()).unwrap();
    bencher.bench(|| {
        let request = PatchRequest::parse(black_box(&body)).unwrap();
        patch::apply(black_box(&user), &request).unwrap()
    });
}

#[divan::bench]
fn patch_legacy_multi_op(bencher: Bencher) {
    patch_case(bencher, legacy_multi_op());
}

#[divan::bench]
fn patch_flag_pathless_dotted_urn_keys(bencher: Bencher) {
    patch_case(bencher, flag_pathless());
}

#[divan::bench]
fn patch_stringified_roles_add(bencher: Bencher) {
    patch_case(bencher, stringified_roles_add());
}
