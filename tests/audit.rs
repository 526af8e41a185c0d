//! The provisioning audit trail end to end: Entra-shaped writes through the
//! sidecar land in the core's trail with the client's request ids, the
//! token id (never the token) and redacted personal data, and
//! `{base}/AuditEvents` lists them for admins of the workspace only.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{ADMIN, Harness, OTHER, PATCH_OP, Resp, USER, VIEWER, rand_hex};
use authsidecar_local_core::token_id;
use serde_json::{Value, json};

const REDACTED: &str = "[redacted]";

/// A user with personal data in `name` and `emails`.
fn person(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "active": true,
        "name": { "givenName": "Quentin", "familyName": "Zebedee" },
        "emails": [{ "value": email, "type": "work", "primary": true }],
    })
}

/// Sends `method path` as admin with `X-Request-Id: id` and returns the answer.
async fn send(h: &Harness, method: &str, path: &str, id: &str, body: Option<Value>) -> Resp {
    let mut req = h.req(method, path).header("X-Request-Id", id);
    if let Some(body) = body {
        req = req.json(body);
    }
    let r = req.send().await;
    assert_eq!(
        r.header("x-request-id"),
        id,
        "the router keeps the client's id"
    );
    r
}

async fn patch(h: &Harness, user: &str, id: &str, ops: Value) -> Resp {
    let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
    let r = send(h, "PATCH", &format!("/Users/{user}"), id, Some(body)).await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    r
}

/// `GET /AuditEvents{query}` as `token`, asserting 200 and JSON.
async fn trail(h: &Harness, query: &str, token: &str) -> Value {
    let r = h
        .req("GET", &format!("/AuditEvents{query}"))
        .token(Some(token))
        .send()
        .await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.header("content-type"), "application/json");
    r.body
}

/// `(operation, kinds, request_id)` of each event, newest first.
fn summary(page: &Value) -> Vec<(String, Vec<String>, String)> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kinds = e["kinds"].as_array().unwrap();
            (
                e["operation"].as_str().unwrap().to_owned(),
                kinds
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect(),
                e["request_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The change of `attribute` in `event` as `(before, after)`.
fn change<'a>(event: &'a Value, attribute: &str) -> (&'a Value, &'a Value) {
    let found = event["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attribute"] == attribute)
        .unwrap_or_else(|| panic!("no change of {attribute} in {event}"));
    (&found["before"], &found["after"])
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn an_entra_lifecycle_is_recorded_and_listed_for_admins_only() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let rid = |step: &str| format!("audit-{step}-{rand}");
    let name = format!("quentin-{rand}@example.test");
    let email = format!("q.zebedee-{rand}@example.test");

    let created = send(
        &h,
        "POST",
        "/Users",
        &rid("create"),
        Some(person(&name, &email)),
    )
    .await;
    assert_eq!(created.status, 201, "body: {}", created.body);
    let user = created.id();
    let legacy_disable = json!([{ "op": "Replace", "path": "active", "value": "False" }]);
    patch(&h, &user, &rid("disable"), legacy_disable).await;
    let role_add = json!([{ "op": "Add", "path": "roles", "value": [{ "value": "Buyer" }] }]);
    patch(&h, &user, &rid("roles"), role_add).await;
    let renamed = format!("quentin.new-{rand}@example.test");
    let rename = json!([{ "op": "Replace", "path": "userName", "value": renamed }]);
    patch(&h, &user, &rid("rename"), rename).await;
    let deleted = send(
        &h,
        "DELETE",
        &format!("/Users/{user}"),
        &rid("delete"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);

    let page = trail(&h, "", ADMIN).await;
    assert_eq!(page["total"], 5, "{page}");
    assert_eq!(page["start_index"], 1);
    let step = |op: &str, kinds: &[&str], id: &str| (op.to_owned(), owned(kinds), rid(id));
    assert_eq!(
        summary(&page),
        [
            step("delete", &["role_change"], "delete"),
            step("patch", &["rename"], "rename"),
            step("patch", &["role_change"], "roles"),
            step("patch", &["disable"], "disable"),
            step("create", &[], "create"),
        ]
    );
    let events = page["events"].as_array().unwrap();
    for event in events {
        assert_eq!(event["user_id"], user.as_str());
        assert_eq!(event["workspace"], "acme");
        assert_eq!(event["token_id"], token_id("acme", "entra").as_str());
    }
    let [delete, rename, roles, disable, create] = events.as_slice() else {
        panic!("{page}");
    };

    // What changed, with before and after; personal data redacted by default.
    let redacted = json!(REDACTED);
    assert_eq!(change(create, "user_name"), (&Value::Null, &json!(name)));
    assert_eq!(change(create, "emails"), (&json!([]), &redacted));
    assert_eq!(change(create, "profile.emails"), (&Value::Null, &redacted));
    assert_eq!(change(create, "profile.name"), (&Value::Null, &redacted));
    assert_eq!(change(disable, "active"), (&json!(true), &json!(false)));
    assert_eq!(change(roles, "roles"), (&json!([]), &json!(["Buyer"])));
    assert_eq!(change(rename, "user_name"), (&json!(name), &json!(renamed)));
    assert_eq!(change(delete, "emails"), (&redacted, &json!([])));
    let raw = serde_json::to_string(&page).unwrap();
    for secret in [email.as_str(), "Quentin", "Zebedee", ADMIN] {
        assert!(
            !raw.contains(secret),
            "{secret} leaked into the trail: {raw}"
        );
    }

    // Admins of the workspace only.
    let viewer = h
        .req("GET", "/AuditEvents")
        .token(Some(VIEWER))
        .send()
        .await;
    viewer.assert_error(403, None);
    assert_eq!(
        trail(&h, "", OTHER).await,
        json!({"total": 0, "start_index": 1, "events": []})
    );
    h.shutdown().await;
}

#[tokio::test]
async fn filters_by_user_op_and_time_and_pages() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let ann = h
        .create(person(&format!("ann-{rand}@x.test"), "a@x.test"))
        .await;
    let bob = h
        .create(person(&format!("bob-{rand}@x.test"), "b@x.test"))
        .await;
    let off = json!([{ "op": "replace", "path": "active", "value": false }]);
    patch(&h, &ann, &format!("off-{rand}"), off).await;
    let on = json!([{ "op": "replace", "path": "active", "value": true }]);
    patch(&h, &ann, &format!("on-{rand}"), on).await;

    let all = trail(&h, "", ADMIN).await;
    assert_eq!(all["total"], 4);
    let of_ann = trail(&h, &format!("?user={ann}"), ADMIN).await;
    assert_eq!(of_ann["total"], 3);
    assert!(
        of_ann["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["user_id"] == ann.as_str())
    );
    let of_bob = trail(&h, &format!("?user={bob}"), ADMIN).await;
    assert_eq!(summary(&of_bob)[0].0, "create");

    let disables = trail(&h, "?op=disable", ADMIN).await;
    assert_eq!(
        summary(&disables),
        [(
            "patch".to_owned(),
            owned(&["disable"]),
            format!("off-{rand}")
        )]
    );
    assert_eq!(trail(&h, "?op=enable", ADMIN).await["total"], 1);
    assert_eq!(trail(&h, "?op=create", ADMIN).await["total"], 2);

    // `since` is inclusive: exactly the events at or after the given time.
    let times: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    let since = times[1];
    let recent = trail(&h, &format!("?since={since}"), ADMIN).await;
    let expected = times.iter().filter(|t| **t >= since).count();
    assert_eq!(recent["total"], expected);
    assert_eq!(
        trail(&h, "?since=2999-01-01T00:00:00Z", ADMIN).await["total"],
        0
    );
    let offset = trail(&h, "?since=2000-01-01T01:00:00%2B01:00", ADMIN).await;
    assert_eq!(offset["total"], 4);

    let second = trail(&h, "?startIndex=2&count=1", ADMIN).await;
    assert_eq!(
        (second["total"].clone(), second["start_index"].clone()),
        (json!(4), json!(2))
    );
    assert_eq!(second["events"][0], all["events"][1]);

    // Mistakes are explained, not widened into a listing.
    let bad = h.get("/AuditEvents?op=nuke").await;
    bad.assert_error(400, Some("invalidValue"));
    assert!(
        bad.body["detail"].as_str().unwrap().contains("op 'nuke'"),
        "{}",
        bad.body
    );
    h.get("/AuditEvents?since=yesterday")
        .await
        .assert_error(400, Some("invalidValue"));
    h.get("/AuditEvents?userName=x")
        .await
        .assert_error(400, Some("invalidValue"));
    h.req("POST", "/AuditEvents")
        .json(json!({}))
        .send()
        .await
        .assert_error(405, None);
    h.shutdown().await;
}

#[tokio::test]
async fn redaction_follows_the_config_and_minted_request_ids_are_recorded() {
    let h = Harness::start_with(|c| c.audit.redact = vec!["name".to_owned()]).await;
    let rand = rand_hex();
    let email = format!("open-{rand}@x.test");
    // No X-Request-Id: the router mints one, and the trail records that one.
    let r = h
        .post("/Users", person(&format!("open-{rand}"), &email))
        .await;
    assert_eq!(r.status, 201, "body: {}", r.body);
    let minted = r.header("x-request-id").to_owned();
    assert!(!minted.is_empty());

    let page = trail(&h, "", ADMIN).await;
    let create = &page["events"][0];
    assert_eq!(create["request_id"], minted.as_str());
    assert_eq!(change(create, "emails"), (&json!([]), &json!([email])));
    assert_eq!(
        change(create, "profile.name"),
        (&Value::Null, &json!(REDACTED))
    );

    // It is not a SCIM resource type.
    let types = h.get("/ResourceTypes").await;
    assert_eq!(types.status, 200);
    assert!(!String::from_utf8_lossy(&types.raw).contains("AuditEvents"));
    h.shutdown().await;
}
