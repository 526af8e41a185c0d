//! `../shared/cases/discovery.json`, ported: the discovery endpoints and the
//! disabled Groups endpoint, through the real sidecar and core. Extras, marked
//! as such, send other requests of the same kinds: other Groups probes and
//! verbs, the other discovery documents.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{Harness, LIST, Resp, contains, rand_hex};
use serde_json::json;

/// The checks of discovery.groups-probe-sane: 200 with an empty ListResponse,
/// or 404 with a SCIM Error body.
fn assert_sane_groups_probe(r: &Resp) {
    match r.status {
        200 => {
            r.assert_list(0);
            r.assert_no_resources();
        }
        404 => r.assert_error(404, None),
        s => panic!("status {s} (expected 200 or 404): {}", r.body),
    }
}

/// The checks of discovery.groups-post-refused: 400, 403, 404, 405 or 501,
/// each with a SCIM Error body of that status.
fn assert_groups_refused(r: &Resp) {
    assert!(
        matches!(r.status, 400 | 403 | 404 | 405 | 501),
        "status {} (expected 400, 403, 404, 405 or 501): {}",
        r.status,
        r.body
    );
    r.assert_error(r.status, None);
}

/// discovery.service-provider-config
#[tokio::test]
async fn service_provider_config_announces_patch_and_filter() {
    let h = Harness::start().await;
    let r = h.get("/ServiceProviderConfig").await;
    r.assert_scim_status(200);
    let spc = json!("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
    assert!(contains(&r.body["schemas"], &spc), "schemas: {}", r.body);
    assert_eq!(r.body["patch"]["supported"], true);
    assert_eq!(r.body["filter"]["supported"], true);
    assert!(r.body["bulk"]["supported"].is_boolean(), "{}", r.body);
    assert!(r.body["authenticationSchemes"].is_array(), "{}", r.body);
    h.shutdown().await;
}

/// discovery.resource-types-user-only
#[tokio::test]
async fn resource_types_list_only_user() {
    let h = Harness::start().await;
    let r = h.get("/ResourceTypes").await;
    r.assert_scim_status(200);
    assert_eq!(r.body["schemas"], json!([LIST]));
    assert_eq!(r.body["Resources"].as_array().map(Vec::len), Some(1));
    let user = json!({"name": "User", "endpoint": "/Users"});
    assert!(contains(&r.body["Resources"], &user), "{}", r.body);
    assert!(
        !contains(&r.body["Resources"], &json!({"name": "Group"})),
        "{}",
        r.body
    );
    h.shutdown().await;
}

/// discovery.groups-probe-sane
#[tokio::test]
async fn groups_probe_is_a_clear_answer() {
    let h = Harness::start().await;
    let r = h
        .get(&format!(
            "/Groups?excludedAttributes=members&filter=displayName+eq+\
             %223f8e2a51-9c4d-4b7e-a1f6-{}%22",
            rand_hex()
        ))
        .await;
    assert_sane_groups_probe(&r);
    h.shutdown().await;
}

/// discovery.groups-post-refused
#[tokio::test]
async fn creating_a_group_is_refused() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let r = h
        .post(
            "/Groups",
            json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
                ],
                "externalId": format!("8f7e6d5c-4b3a-4291-8a7b-{rand}"),
                "displayName": format!("Procurement Team {rand}"),
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_groups_refused(&r);
    h.shutdown().await;
}

/// Extra (kind of discovery.groups-probe-sane): other Groups probes (no
/// query, a bare filter, a page request) are each 200 with an empty list or a
/// 404 SCIM Error.
#[tokio::test]
async fn extra_other_groups_probes_are_clear_answers() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let paths = [
        "/Groups".to_owned(),
        format!("/Groups?filter=displayName+eq+%22Team+{rand}%22"),
        "/Groups?startIndex=1&count=5".to_owned(),
        format!("/Groups?filter=externalId+eq+%228f7e6d5c-4b3a-4291-8a7b-{rand}%22"),
    ];
    for p in paths {
        let r = h.get(&p).await;
        assert!(
            matches!(r.status, 200 | 404),
            "{p}: {} {}",
            r.status,
            r.body
        );
        assert_sane_groups_probe(&r);
    }
    h.shutdown().await;
}

/// Extra (kind of discovery.groups-post-refused): the other Group verbs
/// Entra uses (GET, PATCH with a member Add, PUT, DELETE of one group) are
/// refused with a SCIM Error, never a 2xx, a 500 or an HTML page.
#[tokio::test]
async fn extra_other_group_verbs_are_refused() {
    let h = Harness::start().await;
    let path = format!("/Groups/8f7e6d5c-4b3a-4291-8a7b-{}", rand_hex());
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": "x"}]}]
    });
    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Team"
    });
    let answers = [
        h.get(&path).await,
        h.patch(&path, patch).await,
        h.req("PUT", &path).json(put).send().await,
        h.delete(&path).await,
    ];
    for r in answers {
        assert_groups_refused(&r);
    }
    h.shutdown().await;
}

/// Extra (kind of discovery.resource-types-user-only): the other discovery
/// documents Entra and its validator read (`/ResourceTypes/User`, `/Schemas`)
/// answer 200 with the SCIM media type, and `/Schemas` describes the User
/// schema but no Group schema.
#[tokio::test]
async fn extra_other_discovery_documents_answer() {
    let h = Harness::start().await;
    let r = h.get("/ResourceTypes/User").await;
    r.assert_scim_status(200);
    assert_eq!(r.body["name"], "User", "{}", r.body);
    assert_eq!(r.body["endpoint"], "/Users", "{}", r.body);

    let r = h.get("/Schemas").await;
    r.assert_scim_status(200);
    let core = json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User"});
    assert!(contains(&r.body["Resources"], &core), "{}", r.body);
    let group = json!({"id": "urn:ietf:params:scim:schemas:core:2.0:Group"});
    assert!(!contains(&r.body["Resources"], &group), "{}", r.body);
    h.shutdown().await;
}
