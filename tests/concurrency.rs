//! `../shared/cases/concurrency.json`, ported: delete idempotency, racing
//! duplicate creates, parallel distinct creates and parallel role adds,
//! through the real sidecar and core. The parallel steps release their
//! requests together from a barrier, each on its own task, on a
//! multi-threaded runtime.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use authsidecar_e2e::{ADMIN, Harness, Resp, contains, rand_hex};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The Content-Type Entra sends.
const ENTRA_CT: &str = "application/scim+json; charset=utf-8";

/// The case's header check `Content-Type matches ^application/scim\+json`
/// (a case-insensitive regex).
fn assert_scim_ct(r: &Resp) {
    let ct = r.header("content-type").to_ascii_lowercase();
    assert!(
        ct.starts_with("application/scim+json"),
        "content-type {ct:?}"
    );
}

fn plain_user(user_name: &str) -> Value {
    json!({ "schemas": [CORE], "userName": user_name, "active": true })
}

/// Sends one request per body, all at once: each copy runs on its own task
/// over a clone of the harness's client (so on its own connection) and waits
/// at a barrier until every copy is ready. Answers come back in body order.
///
/// The harness's `Req` borrows the harness, so it cannot move into a task;
/// this helper builds the same request (admin token, Entra's Content-Type).
async fn send_parallel(h: &Harness, method: &str, path: &str, bodies: Vec<Value>) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let url = format!("{}{}", h.base, path);
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let client = h.client.clone();
            let barrier = Arc::clone(&barrier);
            let (method, url) = (method.clone(), url.clone());
            tokio::spawn(async move {
                let request = client
                    .request(method, url)
                    .header("authorization", format!("Bearer {ADMIN}"))
                    .header("content-type", ENTRA_CT)
                    .body(serde_json::to_vec(&body).unwrap());
                barrier.wait().await;
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let raw = response.bytes().await.unwrap().to_vec();
                let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                Resp {
                    status,
                    headers,
                    body,
                    raw,
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Sends bodiless requests to these paths all at once (see [`send_parallel`]).
async fn send_parallel_bodiless(h: &Harness, method: &str, paths: Vec<String>) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(paths.len()));
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let tasks: Vec<_> = paths
        .into_iter()
        .map(|path| {
            let client = h.client.clone();
            let barrier = Arc::clone(&barrier);
            let method = method.clone();
            let url = format!("{}{}", h.base, path);
            tokio::spawn(async move {
                let request = client
                    .request(method, url)
                    .header("authorization", format!("Bearer {ADMIN}"));
                barrier.wait().await;
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let raw = response.bytes().await.unwrap().to_vec();
                let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                Resp {
                    status,
                    headers,
                    body,
                    raw,
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// How many answers have this status.
fn count(answers: &[Resp], status: u16) -> usize {
    answers.iter().filter(|r| r.status == status).count()
}

fn statuses(answers: &[Resp]) -> Vec<u16> {
    answers.iter().map(|r| r.status).collect()
}

/// The checks the cases make on a 409 / 404 error answer.
fn assert_error_body(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_scim_ct(r);
    assert_eq!(r.body["schemas"], json!([ERROR]), "body: {}", r.body);
    assert_eq!(r.body["status"], status.to_string(), "body: {}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.chars().any(|c| !c.is_whitespace()),
        "detail: {}",
        r.body
    );
}

/// Asserts a ListResponse with exactly the user `id`.
fn assert_exactly(r: &Resp, id: &str) {
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_scim_ct(r);
    assert_eq!(r.body["schemas"], json!([LIST]), "body: {}", r.body);
    let total = &r.body["totalResults"];
    assert!(total.is_i64() || total.is_u64(), "body: {}", r.body);
    assert_eq!(r.body["totalResults"], json!(1), "body: {}", r.body);
    assert_eq!(
        r.body["Resources"].as_array().map(Vec::len),
        Some(1),
        "body: {}",
        r.body
    );
    assert_eq!(r.body["Resources"][0]["id"], id, "body: {}", r.body);
}

/// concurrency.delete-twice
#[tokio::test]
async fn delete_twice_is_204_then_404() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(plain_user(&format!("sue-{rand}@example.test")))
        .await;

    let r = h.delete(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 204, "body: {}", r.body);
    assert!(
        r.raw.is_empty(),
        "DELETE body: {:?}",
        String::from_utf8_lossy(&r.raw)
    );

    // GET after delete.
    assert_error_body(&h.get(&format!("/Users/{u1}")).await, 404);
    // Second DELETE.
    assert_error_body(&h.delete(&format!("/Users/{u1}")).await, 404);
    h.shutdown().await;
}

/// concurrency.parallel-duplicate-post
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_duplicate_posts_create_one_user() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("race-{rand}@example.test");
    let bodies = vec![plain_user(&name); 5];

    let answers = send_parallel(&h, "POST", "/Users", bodies).await;
    assert_duplicate_race(&answers, 4);
    let u1 = first_created_id(&answers);

    // Followup: exactly one user (this case writes the spaces as %20).
    let r = h
        .get(&format!(
            "/Users?filter=userName%20eq%20%22race-{rand}%40example.test%22"
        ))
        .await;
    assert_exactly(&r, &u1);
    h.shutdown().await;
}

/// One 201 and `losers` 409 uniqueness errors, nothing else.
fn assert_duplicate_race(answers: &[Resp], losers: usize) {
    let all = statuses(answers);
    assert!(
        all.iter().all(|s| [201, 409].contains(s)),
        "statuses {all:?}"
    );
    assert_eq!(count(answers, 201), 1, "statuses {all:?}");
    assert_eq!(count(answers, 409), losers, "statuses {all:?}");
    for r in answers.iter().filter(|r| r.status == 409) {
        assert_error_body(r, 409);
        assert_eq!(r.body["scimType"], "uniqueness", "body: {}", r.body);
    }
}

/// The id in the first 2xx answer (the runner's capture rule).
fn first_created_id(answers: &[Resp]) -> String {
    let created = answers
        .iter()
        .find(|r| (200..300).contains(&r.status))
        .unwrap();
    created.body["id"].as_str().unwrap().to_owned()
}

/// Extra (same kind as `concurrency.parallel-duplicate-post`): the racing
/// copies spell the userName in different letter cases. userName is
/// case-insensitive (RFC 7643 §4.1), so they are still duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_parallel_posts_differing_only_in_case_create_one_user() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let bodies = ["race", "Race", "RACE", "rAcE"]
        .iter()
        .map(|p| plain_user(&format!("{p}-{rand}@Example.test")))
        .collect();

    let answers = send_parallel(&h, "POST", "/Users", bodies).await;
    assert_duplicate_race(&answers, 3);
    let u1 = first_created_id(&answers);

    let r = h
        .get(&format!(
            "/Users?filter=userName+eq+%22race-{rand}%40example.test%22"
        ))
        .await;
    assert_exactly(&r, &u1);
    h.shutdown().await;
}

/// concurrency.parallel-distinct-creates
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_distinct_creates_all_succeed() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let bodies = (0..6)
        .map(|i| {
            json!({
                "schemas": [CORE],
                "active": true,
                "userName": format!("par{i}-{rand}@example.test")
            })
        })
        .collect();

    let answers = send_parallel(&h, "POST", "/Users", bodies).await;
    assert_eq!(count(&answers, 201), 6, "statuses {:?}", statuses(&answers));

    // Followups: user i stored under its own id.
    for (i, created) in answers.iter().enumerate() {
        let u = created.body["id"].as_str().unwrap();
        let r = h.get(&format!("/Users/{u}")).await;
        assert_eq!(r.status, 200, "user {i}: {}", r.body);
        assert_scim_ct(&r);
        assert_eq!(
            r.body["userName"],
            format!("par{i}-{rand}@example.test"),
            "user {i}"
        );
    }
    h.shutdown().await;
}

/// concurrency.parallel-role-adds
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_role_adds_are_all_kept() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(plain_user(&format!("pr-{rand}@example.test")))
        .await;
    let roles = ["Admin", "Buyer", "Approver", "Viewer"];
    let bodies = roles
        .iter()
        .map(|role| {
            json!({
                "schemas": [PATCH_OP],
                "Operations": [{ "op": "Add", "path": "roles", "value": [{ "value": role }] }]
            })
        })
        .collect();

    let answers = send_parallel(&h, "PATCH", &format!("/Users/{u1}"), bodies).await;
    let all = statuses(&answers);
    assert!(
        all.iter().all(|s| [200, 204].contains(s)),
        "statuses {all:?}"
    );

    // Followup: read back u1.
    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_scim_ct(&r);
    assert_eq!(
        r.body["roles"].as_array().map(Vec::len),
        Some(4),
        "body: {}",
        r.body
    );
    for role in roles {
        assert!(
            contains(&r.body["roles"], &json!({ "value": role })),
            "no {role}: {}",
            r.body
        );
    }
    h.shutdown().await;
}

/// Extra (same kind as `concurrency.parallel-role-adds`): different attributes
/// of one user patched at once (disable, rename the display name, add a role,
/// set the department) in Entra's legacy shapes: no update is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_parallel_patches_of_different_attributes_are_all_kept() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(plain_user(&format!("pm-{rand}@example.test")))
        .await;
    let ops = [
        json!({ "op": "Replace", "path": "active", "value": "False" }),
        json!({ "op": "Replace", "path": "displayName", "value": "Pat Parallel" }),
        json!({ "op": "Add", "path": "roles", "value": [{ "value": "Approver" }] }),
        json!({
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "value": "Retail"
        }),
    ];
    let bodies = ops
        .into_iter()
        .map(|op| json!({ "schemas": [PATCH_OP], "Operations": [op] }))
        .collect();

    let answers = send_parallel(&h, "PATCH", &format!("/Users/{u1}"), bodies).await;
    let all = statuses(&answers);
    assert!(
        all.iter().all(|s| [200, 204].contains(s)),
        "statuses {all:?}"
    );

    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body["active"], json!(false), "body: {}", r.body);
    assert_eq!(r.body["displayName"], "Pat Parallel", "body: {}", r.body);
    assert_eq!(
        r.body["roles"].as_array().map(Vec::len),
        Some(1),
        "body: {}",
        r.body
    );
    assert!(
        contains(&r.body["roles"], &json!({ "value": "Approver" })),
        "body: {}",
        r.body
    );
    let department = r
        .body
        .pointer("/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department");
    assert_eq!(department, Some(&json!("Retail")), "body: {}", r.body);
    h.shutdown().await;
}

/// Extra (same kind as `concurrency.delete-twice`): four DELETEs of one user
/// at once: exactly one 204 (empty body), three 404 SCIM errors, then 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_parallel_deletes_one_wins() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(plain_user(&format!("pd-{rand}@example.test")))
        .await;

    let answers = send_parallel_bodiless(&h, "DELETE", vec![format!("/Users/{u1}"); 4]).await;
    let all = statuses(&answers);
    assert_eq!(count(&answers, 204), 1, "statuses {all:?}");
    assert_eq!(count(&answers, 404), 3, "statuses {all:?}");
    for r in &answers {
        if r.status == 204 {
            assert!(
                r.raw.is_empty(),
                "DELETE body: {:?}",
                String::from_utf8_lossy(&r.raw)
            );
        } else {
            assert_error_body(r, 404);
        }
    }
    assert_error_body(&h.get(&format!("/Users/{u1}")).await, 404);
    h.shutdown().await;
}
