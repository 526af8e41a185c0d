//! `../shared/cases/content.json`, ported: request and response media types,
//! attribute selection and UTF-8 round trips, through the real sidecar and
//! core. Extras, marked as such, send other inputs of the same kinds: other
//! content types (refused and accepted), other Accept headers, other attribute
//! selections, other non-ASCII text.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{Harness, PATCH_OP, Resp, USER, filter_path, rand_hex, user};
use serde_json::json;

/// The stricter check `Content-Type matches ^application/scim\+json\s*(;.*)?$`:
/// the SCIM media type, optionally followed by parameters, and nothing else.
fn assert_exact_scim_media(r: &Resp) {
    let ct = r.header("content-type").to_ascii_lowercase();
    let rest = ct
        .strip_prefix("application/scim+json")
        .unwrap_or_else(|| panic!("content-type {ct:?} (status {})", r.status));
    let rest = rest.trim_start();
    assert!(
        rest.is_empty() || rest.starts_with(';'),
        "content-type {ct:?}"
    );
}

/// The checks content.text-plain-rejected makes of a refused body: 400 or 415,
/// each with the SCIM media type and a SCIM Error body of that status.
fn assert_refused(r: &Resp) {
    assert!(
        matches!(r.status, 400 | 415),
        "status {} (expected 400 or 415): {}",
        r.status,
        r.body
    );
    r.assert_error(r.status, None);
}

/// `GET /Users?filter=userName eq "<local>-<rand>@example.test"`.
async fn find(h: &Harness, local: &str, rand: &str) -> Resp {
    let name = format!("{local}-{rand}@example.test");
    h.get(&filter_path("userName", &name)).await
}

/// content.application-json-accepted
#[tokio::test]
async fn application_json_body_is_accepted() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let r = h
        .req("POST", "/Users")
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .json(user(&format!("tom-{rand}@example.test")))
        .send()
        .await;
    assert_eq!(r.status, 201, "body: {}", r.body);
    assert!(r.body["id"].is_string(), "no id to capture: {}", r.body);
    assert_eq!(r.body["userName"], format!("tom-{rand}@example.test"));
    h.shutdown().await;
}

/// content.text-plain-rejected
#[tokio::test]
async fn text_plain_body_is_refused_and_nothing_is_created() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let r = h
        .req("POST", "/Users")
        .header("Content-Type", "text/plain")
        .json(user(&format!("plain-{rand}@example.test")))
        .send()
        .await;
    assert_refused(&r);

    find(&h, "plain", &rand).await.assert_list(0);
    h.shutdown().await;
}

/// content.response-media-type
#[tokio::test]
async fn responses_are_labelled_scim_json() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("uma-{rand}@example.test"))).await;

    let r = h
        .req("GET", "/Users?count=1")
        .header("Accept", "application/scim+json")
        .send()
        .await;
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_exact_scim_media(&r);

    let r = h
        .get(&format!("/Users/00000000-0000-4000-8000-{rand}"))
        .await;
    assert_eq!(r.status, 404, "body: {}", r.body);
    assert_exact_scim_media(&r);
    h.shutdown().await;
}

/// content.attributes-param
#[tokio::test]
async fn attributes_param_projects_and_still_filters() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let mut u = user(&format!("vic-{rand}@example.test"));
    u["emails"] = json!([{"type": "work", "value": format!("vic-{rand}@example.test")}]);
    u["name"] = json!({"givenName": "Vic", "familyName": "Example"});
    let u1 = h.create(u).await;
    h.create(user(&format!("wes-{rand}@example.test"))).await;

    let r = h
        .get(&format!(
            "/Users?attributes=userName&filter=userName%20eq%20%22vic-{rand}%40example.test%22"
        ))
        .await;
    r.assert_one(&u1);
    let res = &r.body["Resources"][0];
    assert_eq!(res["userName"], format!("vic-{rand}@example.test"));
    for gone in ["emails", "name", "active"] {
        assert!(res.get(gone).is_none(), "{gone} returned: {res}");
    }
    h.shutdown().await;
}

/// The display name of content.utf8-round-trip.
fn zoe_display(rand: &str) -> String {
    format!("Zo\u{eb} \u{c5}ngstr\u{f6}m-N\u{fa}\u{f1}ez \u{674e} {rand}")
}

/// content.utf8-round-trip (the filter step also accepts 400 invalidFilter;
/// this server evaluates it, so the right answer is asserted).
#[tokio::test]
async fn non_ascii_values_round_trip_and_filter() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let body = json!({
        "schemas": [USER],
        "userName": format!("zoe-{rand}@example.test"),
        "active": true,
        "displayName": zoe_display(&rand),
        "name": {"givenName": "Zo\u{eb}", "familyName": "\u{c5}ngstr\u{f6}m-N\u{fa}\u{f1}ez"}
    });
    let r = h.post("/Users", body).await;
    r.assert_scim_status(201);
    let u1 = r.id();
    assert_eq!(r.body["displayName"], zoe_display(&rand));
    assert_eq!(
        r.body["name"]["familyName"],
        "\u{c5}ngstr\u{f6}m-N\u{fa}\u{f1}ez"
    );

    let r = h.read_user(&u1).await;
    assert_eq!(r.body["displayName"], zoe_display(&rand));
    assert_eq!(r.body["name"]["givenName"], "Zo\u{eb}");

    let r = h
        .get(&format!(
            "/Users?filter=displayName%20eq%20%22Zo%C3%AB%20%C3%85ngstr%C3%B6m-N%C3%BA%C3%B1ez\
             %20%E6%9D%8E%20{rand}%22"
        ))
        .await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// Extra (kind of content.text-plain-rejected): other content types that are
/// not JSON (XML, a form, HTML, an unknown type), even with a JSON body, are
/// 400 or 415 with a SCIM Error, and nothing is created.
#[tokio::test]
async fn extra_other_non_json_content_types_are_refused() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let cases: [(&str, &str, String); 5] = [
        (
            "xml",
            "application/xml",
            format!("<User><userName>xml-{rand}@example.test</userName></User>"),
        ),
        (
            "form",
            "application/x-www-form-urlencoded",
            format!("userName=form-{rand}%40example.test&active=true"),
        ),
        (
            "html",
            "text/html; charset=utf-8",
            serde_json::to_string(&user(&format!("html-{rand}@example.test"))).unwrap(),
        ),
        (
            "octet",
            "application/octet-stream",
            serde_json::to_string(&user(&format!("octet-{rand}@example.test"))).unwrap(),
        ),
        (
            "jsonx",
            "application/jsonx",
            serde_json::to_string(&user(&format!("jsonx-{rand}@example.test"))).unwrap(),
        ),
    ];
    for (local, ct, body) in cases {
        let r = h
            .req("POST", "/Users")
            .header("Content-Type", ct)
            .raw(body.into_bytes())
            .send()
            .await;
        assert!(
            matches!(r.status, 400 | 415),
            "{ct}: {} {}",
            r.status,
            r.body
        );
        assert_refused(&r);
        find(&h, local, &rand).await.assert_list(0);
    }
    h.shutdown().await;
}

/// Extra (kind of content.text-plain-rejected): a PATCH sent as text/plain is
/// refused the same way and leaves the user unchanged.
#[tokio::test]
async fn extra_text_plain_patch_is_refused_and_changes_nothing() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("tpp-{}@example.test", rand_hex())))
        .await;
    let before = h.get(&format!("/Users/{u1}")).await;

    let r = h
        .req("PATCH", &format!("/Users/{u1}"))
        .header("Content-Type", "text/plain")
        .json(json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
        }))
        .send()
        .await;
    assert_refused(&r);
    let after = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(after.body, before.body, "a refused PATCH changed the user");
    h.shutdown().await;
}

/// Extra (kind of content.application-json-accepted): other spellings of the
/// JSON media types (with a charset, without one, upper-case, with extra
/// blanks) are accepted for POST and PATCH.
#[tokio::test]
async fn extra_other_json_content_types_are_accepted() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let types = [
        "application/json; charset=utf-8",
        "application/scim+json",
        "Application/SCIM+JSON; charset=UTF-8",
        "APPLICATION/JSON",
        "application/scim+json ; charset=\"utf-8\"",
    ];
    for (i, ct) in types.iter().enumerate() {
        let name = format!("ct{i}-{rand}@example.test");
        let r = h
            .req("POST", "/Users")
            .header("Content-Type", ct)
            .json(user(&name))
            .send()
            .await;
        assert_eq!(r.status, 201, "{ct}: {}", r.body);
        assert_eq!(r.body["userName"], name.as_str());
        let id = r.id();

        let r = h
            .req("PATCH", &format!("/Users/{id}"))
            .header("Content-Type", ct)
            .json(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "Replace", "path": "displayName", "value": format!("T{i}")}]
            }))
            .send()
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.body);
        let r = h.get(&format!("/Users/{id}")).await;
        assert_eq!(r.body["displayName"], format!("T{i}"), "{ct}: {}", r.body);
    }
    h.shutdown().await;
}

/// Extra (kind of content.response-media-type): other Accept headers a client
/// may send (plain JSON, a list with q-values, any type) still get a 200
/// labelled application/scim+json, never a 406.
#[tokio::test]
async fn extra_other_accept_headers_get_scim_json() {
    let h = Harness::start().await;
    h.create(user(&format!("acc-{}@example.test", rand_hex())))
        .await;
    let accepts = [
        "application/json",
        "application/scim+json, application/json;q=0.9",
        "*/*",
        "application/*",
    ];
    for accept in accepts {
        let r = h
            .req("GET", "/Users?count=1")
            .header("Accept", accept)
            .send()
            .await;
        assert_eq!(r.status, 200, "Accept {accept}: {}", r.body);
        assert_exact_scim_media(&r);
    }
    h.shutdown().await;
}

/// Extra (kind of content.attributes-param): other attribute selections:
/// `attributes` on a single GET and in another letter case, and
/// `excludedAttributes` on a list, each return exactly what was asked.
#[tokio::test]
async fn extra_other_attribute_selections() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let mut u = user(&format!("sel-{rand}@example.test"));
    u["emails"] = json!([{"type": "work", "value": format!("sel-{rand}@example.test")}]);
    u["name"] = json!({"givenName": "Sel", "familyName": "Example"});
    let u1 = h.create(u).await;

    for q in ["attributes=userName", "attributes=USERNAME"] {
        let r = h.get(&format!("/Users/{u1}?{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(r.body["id"], u1.as_str(), "{q}");
        assert_eq!(
            r.body["userName"],
            format!("sel-{rand}@example.test"),
            "{q}"
        );
        assert!(r.body["schemas"].is_array(), "{q}: {}", r.body);
        for gone in ["emails", "name", "active"] {
            assert!(
                r.body.get(gone).is_none(),
                "{q}: {gone} returned: {}",
                r.body
            );
        }
    }

    let r = h
        .get(&format!(
            "/Users?excludedAttributes=emails,name\
             &filter=userName%20eq%20%22sel-{rand}%40example.test%22"
        ))
        .await;
    r.assert_one(&u1);
    let res = &r.body["Resources"][0];
    assert_eq!(res["userName"], format!("sel-{rand}@example.test"));
    assert_eq!(res["active"], true);
    for gone in ["emails", "name"] {
        assert!(res.get(gone).is_none(), "{gone} returned: {res}");
    }
    h.shutdown().await;
}

/// Extra (kind of content.utf8-round-trip): other non-ASCII text (an emoji
/// sent as an escaped surrogate pair, decomposed and precomposed accents that
/// must not be normalised, right-to-left script) round-trips byte for byte,
/// and a non-ASCII userName is found by filter.
#[tokio::test]
async fn extra_other_non_ascii_round_trips() {
    let h = Harness::start().await;
    let rand = rand_hex();
    // "J\u00f6rg" written with a combining diaeresis (NFD) must stay NFD.
    let given = "Jo\u{308}rg";
    let family = "\u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{1f600}";
    let name = format!("j\u{f6}rg-{rand}@example.test");
    let raw = format!(
        "{{\"schemas\":[\"{USER}\"],\"userName\":\"j\\u00f6rg-{rand}@example.test\",\
         \"active\":true,\"displayName\":\"\\ud83d\\ude00 {rand}\",\
         \"name\":{{\"givenName\":\"{given}\",\"familyName\":\"{family}\"}}}}"
    );
    let r = h.send_raw("POST", "/Users", raw.into_bytes()).await;
    assert_eq!(r.status, 201, "body: {}", r.body);
    let u1 = r.id();

    let r = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["userName"], name.as_str());
    assert_eq!(r.body["displayName"], format!("\u{1f600} {rand}"));
    assert_eq!(r.body["name"]["givenName"], given);
    assert_eq!(r.body["name"]["familyName"], family);
    let raw = String::from_utf8(r.raw.clone()).unwrap();
    assert!(
        raw.contains(given) || raw.contains("Jo\\u0308rg"),
        "givenName re-encoded: {raw}"
    );

    let r = h
        .get(&format!(
            "/Users?filter=userName%20eq%20%22j%C3%B6rg-{rand}%40example.test%22"
        ))
        .await;
    r.assert_one(&u1);
    h.shutdown().await;
}
