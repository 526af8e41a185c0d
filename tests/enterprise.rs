//! `../shared/cases/enterprise.json`, ported: the enterprise extension in
//! Entra's shapes (bare-string manager, URN-qualified paths and keys, manager
//! removal), through the real sidecar and core.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{ENTERPRISE, Harness, USER, absent, at, contains, rand_hex, user};
use serde_json::{Value, json};

/// JSON pointers into the extension object.
const MANAGER: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager";
const MANAGER_VALUE: &str =
    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value";
const DEPARTMENT: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department";
const EMPLOYEE_NUMBER: &str =
    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber";
const COST_CENTER: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/costCenter";

/// Creates two plain users, the manager `boss{n}-{rand}` and the employee
/// `emp{n}-{rand}`, and returns their ids in that order.
async fn boss_and_employee(h: &Harness, n: &str, rand: &str) -> (String, String) {
    let boss = h
        .create(user(&format!("boss{n}-{rand}@example.test")))
        .await;
    let employee = h.create(user(&format!("emp{n}-{rand}@example.test"))).await;
    (boss, employee)
}

/// Creates a user with this enterprise extension object and returns its id.
async fn create_with_extension(h: &Harness, user_name: &str, extension: Value) -> String {
    h.create(json!({
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "active": true,
        ENTERPRISE: extension
    }))
    .await
}

/// The body lists the enterprise extension among its schemas.
fn assert_lists_extension(body: &Value) {
    assert!(
        contains(&body["schemas"], &json!(ENTERPRISE)),
        "body: {body}"
    );
}

/// The manager checks: an object whose `value` is the manager's id.
fn assert_manager(body: &Value, manager: &str) {
    assert!(
        at(body, MANAGER).is_object(),
        "manager not an object: {body}"
    );
    assert_eq!(at(body, MANAGER_VALUE), manager, "body: {body}");
}

/// enterprise.manager-bare-string
#[tokio::test]
async fn manager_set_as_a_bare_string_reads_back_as_an_object() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let (m1, e1) = boss_and_employee(&h, "", &rand).await;

    let ops = json!([{ "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": m1 }]);
    let r = h.patch_user(&e1, ops).await;
    r.assert_scim_status(200);
    assert_manager(&r.body, &m1);

    let body = h.read_user(&e1).await.body;
    assert_manager(&body, &m1);
    assert_lists_extension(&body);
    h.shutdown().await;
}

/// enterprise.manager-rfc-object
#[tokio::test]
async fn manager_set_as_an_rfc_object() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let (m1, e1) = boss_and_employee(&h, "2", &rand).await;

    let path = format!("{ENTERPRISE}:manager");
    let ops = json!([{ "op": "add", "path": path, "value": { "value": m1 } }]);
    let r = h.patch_user(&e1, ops).await;
    r.assert_scim_status(200);
    assert_manager(&r.body, &m1);

    assert_manager(&h.read_user(&e1).await.body, &m1);
    h.shutdown().await;
}

/// Extra (same kind as `enterprise.manager-bare-string`): a manager changed
/// with a legacy `Replace` and a bare string replaces the old manager.
#[tokio::test]
async fn extra_manager_replaced_with_a_bare_string() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let m1 = h.create(user(&format!("boss5-{rand}@example.test"))).await;
    let m2 = h.create(user(&format!("boss6-{rand}@example.test"))).await;
    let extension = json!({ "manager": { "value": m1 } });
    let e1 = create_with_extension(&h, &format!("emp5-{rand}@example.test"), extension).await;

    let ops = json!([{ "op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": m2 }]);
    let r = h.patch_user(&e1, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_manager(&r.body, &m2);
    assert_manager(&h.read_user(&e1).await.body, &m2);
    h.shutdown().await;
}

/// The body checks of `enterprise.urn-path-add-and-replace`.
fn assert_urn_path_values(body: &Value) {
    assert_eq!(at(body, DEPARTMENT), "Retail", "body: {body}");
    assert_eq!(at(body, EMPLOYEE_NUMBER), "6546579", "body: {body}");
    assert_lists_extension(body);
    assert!(
        absent(body, "/urn:ietf:params:scim:schemas:extension:enterprise:2"),
        "body: {body}"
    );
    let flat = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    assert!(absent(body, flat), "body: {body}");
}

/// enterprise.urn-path-add-and-replace
#[tokio::test]
async fn urn_paths_land_in_the_extension() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("una-{rand}@example.test"))).await;

    let ops = json!([
        { "op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Retail" },
        { "op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "6546579" }
    ]);
    let r = h.patch_user(&u1, ops).await;
    r.assert_scim_status(200);
    assert_urn_path_values(&r.body);

    assert_urn_path_values(&h.read_user(&u1).await.body);
    h.shutdown().await;
}

/// Extra (same kind as `enterprise.urn-path-add-and-replace`): the URN path
/// written in another letter case (URNs and attribute names are
/// case-insensitive, RFC 7644 §3.10) and another attribute (`division`).
#[tokio::test]
async fn extra_urn_path_in_another_letter_case() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("unb-{rand}@example.test"))).await;

    let path = "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Division";
    let ops = json!([{ "op": "Add", "path": path, "value": "North" }]);
    let r = h.patch_user(&u1, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    let body = h.read_user(&u1).await.body;
    let division = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/division";
    assert_eq!(at(&body, division), "North", "body: {body}");
    assert_lists_extension(&body);
    assert_eq!(
        body.as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("URN"))
            .count(),
        0
    );
    h.shutdown().await;
}

/// The body checks of `enterprise.pathless-urn-keys`.
fn assert_pathless_values(body: &Value) {
    assert_eq!(at(body, DEPARTMENT), "Testing", "body: {body}");
    assert_eq!(at(body, EMPLOYEE_NUMBER), "123456", "body: {body}");
    assert_eq!(at(body, COST_CENTER), "CC-90", "body: {body}");
    let flat = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter";
    assert!(absent(body, flat), "body: {body}");
}

/// enterprise.pathless-urn-keys
#[tokio::test]
async fn pathless_replace_with_urn_keys() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("val-{rand}@example.test"))).await;

    let ops = json!([{
        "op": "replace",
        "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Testing",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "123456",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "CC-90"
        }
    }]);
    let r = h.patch_user(&u1, ops).await;
    r.assert_scim_status(200);
    assert_pathless_values(&r.body);

    assert_pathless_values(&h.read_user(&u1).await.body);
    h.shutdown().await;
}

/// Extra (same kind as `enterprise.pathless-urn-keys`): a path-less `add`
/// mixing a URN-qualified manager, a dotted core key and a plain core key.
#[tokio::test]
async fn extra_pathless_add_with_urn_manager_and_dotted_keys() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let (m1, u1) = boss_and_employee(&h, "7", &rand).await;

    let ops = json!([{
        "op": "add",
        "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": m1,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division": "West",
            "name.givenName": "Val",
            "title": "Engineer"
        }
    }]);
    let r = h.patch_user(&u1, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);

    let body = h.read_user(&u1).await.body;
    assert_manager(&body, &m1);
    let division = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/division";
    assert_eq!(at(&body, division), "West", "body: {body}");
    assert_eq!(at(&body, "/name/givenName"), "Val", "body: {body}");
    assert_eq!(body["title"], "Engineer", "body: {body}");
    let manager_flat = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    assert!(absent(&body, manager_flat), "body: {body}");
    assert!(absent(&body, "/name.givenName"), "body: {body}");
    h.shutdown().await;
}

/// enterprise.remove-manager-urn-path
#[tokio::test]
async fn removing_the_manager_keeps_the_department() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let m1 = h.create(user(&format!("boss4-{rand}@example.test"))).await;
    let extension = json!({ "department": "Retail", "manager": { "value": m1 } });
    let e1 = create_with_extension(&h, &format!("emp4-{rand}@example.test"), extension).await;

    let ops = json!([{ "op": "Remove", "path": format!("{ENTERPRISE}:manager") }]);
    let r = h.patch_user(&e1, ops).await;
    r.assert_scim_status(200);

    let body = h.read_user(&e1).await.body;
    let manager_gone = absent(&body, MANAGER) || at(&body, MANAGER).is_null();
    assert!(manager_gone, "manager still set: {body}");
    assert_eq!(at(&body, DEPARTMENT), "Retail", "body: {body}");
    h.shutdown().await;
}

/// Extra (same kind as `enterprise.remove-manager-urn-path`): removing the
/// department via its URN path keeps the manager.
#[tokio::test]
async fn extra_removing_the_department_keeps_the_manager() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let m1 = h.create(user(&format!("boss8-{rand}@example.test"))).await;
    let extension = json!({ "department": "Retail", "manager": { "value": m1 } });
    let e1 = create_with_extension(&h, &format!("emp8-{rand}@example.test"), extension).await;

    let ops = json!([{ "op": "Remove", "path": format!("{ENTERPRISE}:department") }]);
    let r = h.patch_user(&e1, ops).await;
    assert_eq!(r.status, 200, "body: {}", r.body);

    let body = h.read_user(&e1).await.body;
    assert!(
        absent(&body, DEPARTMENT) || at(&body, DEPARTMENT).is_null(),
        "body: {body}"
    );
    assert_manager(&body, &m1);
    h.shutdown().await;
}
