//! `../shared/cases/concurrency.json`, ported: delete idempotency, racing
//! duplicate creates, parallel distinct creates and parallel role adds,
//! through the real sidecar and core. The parallel steps release their
//! requests together from a barrier, each on its own task, on a
//! multi-threaded runtime.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use authsidecar_e2e::{
    ENTERPRISE, Harness, PATCH_OP, Req, Resp, USER, contains, filter_path, filter_path_plus,
    rand_hex, user,
};
use serde_json::json;
use tokio::sync::Barrier;

/// Sends these requests all at once: each runs on its own task and waits at
/// a barrier until every one is ready. Answers come back in request order.
async fn send_together(requests: impl IntoIterator<Item = Req>) -> Vec<Resp> {
    let requests: Vec<Req> = requests.into_iter().collect();
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                request.send().await
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

/// concurrency.delete-twice
#[tokio::test]
async fn delete_twice_is_204_then_404() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("sue-{rand}@example.test"))).await;

    let r = h.delete(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 204, "body: {}", r.body);
    assert!(
        r.raw.is_empty(),
        "DELETE body: {:?}",
        String::from_utf8_lossy(&r.raw)
    );

    // GET after delete.
    h.get(&format!("/Users/{u1}")).await.assert_error(404, None);
    // Second DELETE.
    h.delete(&format!("/Users/{u1}"))
        .await
        .assert_error(404, None);
    h.shutdown().await;
}

/// concurrency.parallel-duplicate-post
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_duplicate_posts_create_one_user() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let name = format!("race-{rand}@example.test");
    let posts = (0..5).map(|_| h.req("POST", "/Users").json(user(&name)));

    let answers = send_together(posts).await;
    assert_duplicate_race(&answers, 4);
    let u1 = first_created_id(&answers);

    // Followup: exactly one user (this case writes the spaces as %20).
    h.get(&filter_path("userName", &name)).await.assert_one(&u1);
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
        r.assert_error(409, Some("uniqueness"));
    }
}

/// The id in the first 2xx answer (the runner's capture rule).
fn first_created_id(answers: &[Resp]) -> String {
    let created = answers
        .iter()
        .find(|r| (200..300).contains(&r.status))
        .unwrap();
    created.id()
}

/// Extra (same kind as `concurrency.parallel-duplicate-post`): the racing
/// copies spell the userName in different letter cases. userName is
/// case-insensitive (RFC 7643 §4.1), so they are still duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_parallel_posts_differing_only_in_case_create_one_user() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let posts = ["race", "Race", "RACE", "rAcE"].iter().map(|p| {
        h.req("POST", "/Users")
            .json(user(&format!("{p}-{rand}@Example.test")))
    });

    let answers = send_together(posts).await;
    assert_duplicate_race(&answers, 3);
    let u1 = first_created_id(&answers);

    let name = format!("race-{rand}@example.test");
    h.get(&filter_path_plus("userName", &name))
        .await
        .assert_one(&u1);
    h.shutdown().await;
}

/// concurrency.parallel-distinct-creates
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_distinct_creates_all_succeed() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let posts = (0..6).map(|i| {
        h.req("POST", "/Users").json(json!({
            "schemas": [USER],
            "active": true,
            "userName": format!("par{i}-{rand}@example.test")
        }))
    });

    let answers = send_together(posts).await;
    assert_eq!(count(&answers, 201), 6, "statuses {:?}", statuses(&answers));

    // Followups: user i stored under its own id.
    for (i, created) in answers.iter().enumerate() {
        let r = h.read_user(&created.id()).await;
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
    let u1 = h.create(user(&format!("pr-{rand}@example.test"))).await;
    let roles = ["Admin", "Buyer", "Approver", "Viewer"];
    let patches = roles.iter().map(|role| {
        h.req("PATCH", &format!("/Users/{u1}")).json(json!({
            "schemas": [PATCH_OP],
            "Operations": [{ "op": "Add", "path": "roles", "value": [{ "value": role }] }]
        }))
    });

    let answers = send_together(patches).await;
    let all = statuses(&answers);
    assert!(
        all.iter().all(|s| [200, 204].contains(s)),
        "statuses {all:?}"
    );

    // Followup: read back u1.
    let r = h.read_user(&u1).await;
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
    let u1 = h.create(user(&format!("pm-{rand}@example.test"))).await;
    let ops = [
        json!({ "op": "Replace", "path": "active", "value": "False" }),
        json!({ "op": "Replace", "path": "displayName", "value": "Pat Parallel" }),
        json!({ "op": "Add", "path": "roles", "value": [{ "value": "Approver" }] }),
        json!({
            "op": "Add",
            "path": format!("{ENTERPRISE}:department"),
            "value": "Retail"
        }),
    ];
    let patches = ops.into_iter().map(|op| {
        h.req("PATCH", &format!("/Users/{u1}"))
            .json(json!({ "schemas": [PATCH_OP], "Operations": [op] }))
    });

    let answers = send_together(patches).await;
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
    let department = r.body.pointer(&format!("/{ENTERPRISE}/department"));
    assert_eq!(department, Some(&json!("Retail")), "body: {}", r.body);
    h.shutdown().await;
}

/// Extra (same kind as `concurrency.delete-twice`): four DELETEs of one user
/// at once: exactly one 204 (empty body), three 404 SCIM errors, then 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_parallel_deletes_one_wins() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("pd-{rand}@example.test"))).await;

    let deletes = (0..4).map(|_| h.req("DELETE", &format!("/Users/{u1}")));
    let answers = send_together(deletes).await;
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
            r.assert_error(404, None);
        }
    }
    h.get(&format!("/Users/{u1}")).await.assert_error(404, None);
    h.shutdown().await;
}
