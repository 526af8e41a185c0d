//! `../shared/cases/patch.json`, ported: PATCH semantics in both of Entra's
//! request families (legacy PascalCase ops with paths, and the
//! `aadOptscim062020` lower-case, path-less, dotted-key shape), through the
//! real sidecar and core. The cases accept 200 with the resource or 204; this
//! server answers 200 with the resource, so the 200 branch's checks are
//! asserted, then the stored user is read back. Extras, marked as such, send
//! other inputs of the same kinds.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{ENTERPRISE, Harness, Resp, USER, contains, rand_hex, user};
use serde_json::{Value, json};

/// The PATCH's answer: 200 with the resource (the cases' preferred branch).
fn assert_patched(r: &Resp) {
    assert_eq!(
        r.status, 200,
        "PATCH should answer 200 + resource: {}",
        r.body
    );
    r.assert_scim();
}

/// The checks of a PATCH that sets one attribute: 200 with `attribute` equal
/// to `value` in the answer, and in the read-back.
async fn assert_applied(h: &Harness, id: &str, r: &Resp, attribute: &str, value: Value) {
    assert_patched(r);
    assert_eq!(r.body[attribute], value, "{}", r.body);
    assert_eq!(h.read_user(id).await.body[attribute], value);
}

/// The case check `{"ptr": "/emails", "op": "len", "value": n}`.
fn emails_len(r: &Resp) -> usize {
    r.body["emails"]
        .as_array()
        .unwrap_or_else(|| panic!("emails not an array: {}", r.body))
        .len()
}

/// The Alice user of the legacy and flag cases.
fn alice(rand: &str, local: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}"),
        "userName": format!("{local}-{rand}@example.test"),
        "active": true,
        "displayName": "Alice Example",
        "emails": [{
            "primary": true,
            "type": "work",
            "value": format!("alice-{rand}@example.test")
        }],
        "name": {"formatted": "Alice Example", "familyName": "Example", "givenName": "Alice"}
    })
}

/// The checks of patch.legacy-replace-multiple, on the answer and read-back.
fn assert_legacy_replaced(r: &Resp, rand: &str) {
    let b = &r.body;
    assert_eq!(b["displayName"], "Alice Q. Example", "{b}");
    assert_eq!(emails_len(r), 1, "{b}");
    let email = json!({"type": "work", "value": format!("alice.q-{rand}@example.test")});
    assert!(contains(&b["emails"], &email), "{b}");
    assert_eq!(b["name"]["givenName"], "Alicia", "{b}");
    assert_eq!(b["name"]["familyName"], "Example-Smith", "{b}");
    assert_eq!(
        b["externalId"],
        format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}"),
        "{b}"
    );
    assert_eq!(b[ENTERPRISE]["employeeNumber"], "E-1001", "{b}");
    assert_eq!(b["active"], true, "{b}");
}

/// patch.legacy-replace-multiple
#[tokio::test]
async fn legacy_pascal_case_replaces_apply_together() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(alice(&rand, "alice.p")).await;

    let r = h
        .patch_user(
            &u1,
            json!([
                {"op": "Replace", "path": "displayName", "value": "Alice Q. Example"},
                {
                    "op": "Replace",
                    "path": "emails[type eq \"work\"].value",
                    "value": format!("alice.q-{rand}@example.test")
                },
                {"op": "Replace", "path": "name.givenName", "value": "Alicia"},
                {"op": "Replace", "path": "name.familyName", "value": "Example-Smith"},
                {
                    "op": "Replace",
                    "path": "externalId",
                    "value": format!("7c2e4b1a-3f5d-4e8a-9b6c-{rand}")
                },
                {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "E-1001"}
            ]),
        )
        .await;
    assert_patched(&r);
    assert_legacy_replaced(&r, &rand);

    assert_legacy_replaced(&h.read_user(&u1).await, &rand);
    h.shutdown().await;
}

/// The checks of patch.add-filtered-email-when-absent: one work e-mail.
fn assert_one_work_email(r: &Resp, value: &str) {
    assert_eq!(emails_len(r), 1, "{}", r.body);
    let email = json!({"type": "work", "value": value});
    assert!(contains(&r.body["emails"], &email), "{}", r.body);
}

/// patch.add-filtered-email-when-absent
#[tokio::test]
async fn add_on_filtered_email_creates_it_once() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user(&format!("carol.ne-{rand}@example.test")))
        .await;
    let email = format!("carol.work-{rand}@example.test");
    let ops = json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": email}]);

    let r = h.patch_user(&u1, ops.clone()).await;
    assert_patched(&r);
    assert_one_work_email(&r, &email);

    assert_one_work_email(&h.read_user(&u1).await, &email);

    let r = h.patch_user(&u1, ops).await;
    assert!(
        matches!(r.status, 200 | 204),
        "repeat: {} {}",
        r.status,
        r.body
    );

    assert_one_work_email(&h.read_user(&u1).await, &email);
    h.shutdown().await;
}

/// patch.add-subattrs-under-one-filter
#[tokio::test]
async fn adds_under_one_filter_build_one_address() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("carl-{rand}@example.test"))).await;

    let r = h.patch_user(&u1, json!([
            {
                "op": "Add",
                "path": "addresses[type eq \"work\"].streetAddress",
                "value": "1 Example Way"
            },
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"},
            {"op": "Add", "path": "addresses[type eq \"work\"].postalCode", "value": "12345"},
            {"op": "Add", "path": "addresses[type eq \"work\"].country", "value": "US"}
        ]),
    )
    .await;
    assert_patched(&r);

    let r = h.read_user(&u1).await;
    let address = json!({
        "type": "work",
        "streetAddress": "1 Example Way",
        "locality": "Springfield",
        "postalCode": "12345",
        "country": "US"
    });
    let one_full_address = r.body["addresses"].as_array().map(Vec::len) == Some(1)
        && contains(&r.body["addresses"], &address);
    assert!(
        one_full_address || r.body.get("addresses").is_none(),
        "addresses: {}",
        r.body
    );
    h.shutdown().await;
}

/// patch.disable-bundled-with-other-ops
#[tokio::test]
async fn disable_bundled_with_other_ops_lands() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("bund-{}@example.test", rand_hex())))
        .await;

    let r = h
        .patch_user(
            &u1,
            json!([
                {"op": "Replace", "path": "title", "value": "Senior Buyer"},
                {
                    "op": "Replace",
                    "path": "addresses[type eq \"work\"].streetAddress",
                    "value": "1 Example Way"
                },
                {"op": "Replace", "path": "active", "value": "False"}
            ]),
        )
        .await;
    assert_applied(&h, &u1, &r, "active", json!(false)).await;
    h.shutdown().await;
}

/// patch.pathless-replace-active
#[tokio::test]
async fn pathless_replace_deactivates() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("dee-{}@example.test", rand_hex())))
        .await;

    let r = h
        .patch_user(&u1, json!([{"op": "replace", "value": {"active": false}}]))
        .await;
    assert_applied(&h, &u1, &r, "active", json!(false)).await;
    h.shutdown().await;
}

/// The checks of patch.flag-pathless-dotted-and-urn-keys.
fn assert_flag_replaced(r: &Resp, rand: &str) {
    let b = &r.body;
    assert_eq!(b["displayName"], "Alice B. Example", "{b}");
    assert_eq!(b["name"]["givenName"], "Alice", "{b}");
    assert_eq!(b["name"]["familyName"], "Bexample", "{b}");
    assert_eq!(b[ENTERPRISE]["employeeNumber"], "E-2002", "{b}");
    assert_eq!(emails_len(r), 1, "{b}");
    let email = json!({"type": "work", "value": format!("alice.b-{rand}@example.test")});
    assert!(contains(&b["emails"], &email), "{b}");
    assert_no_literal_keys(r);
}

/// No dotted or URN-qualified key was stored literally at the top level.
fn assert_no_literal_keys(r: &Resp) {
    for key in ["name.givenName", "name.familyName"] {
        assert!(r.body.get(key).is_none(), "literal {key:?}: {}", r.body);
    }
    let urn_key = format!("{ENTERPRISE}:employeeNumber");
    assert!(
        r.body.get(&urn_key).is_none(),
        "literal URN key: {}",
        r.body
    );
}

/// patch.flag-pathless-dotted-and-urn-keys
#[tokio::test]
async fn flag_pathless_dotted_and_urn_keys_resolve() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(alice(&rand, "alice.f")).await;

    let r = h
        .patch_user(
            &u1,
            json!([
                {
                    "op": "replace",
                    "path": "emails[type eq \"work\"].value",
                    "value": format!("alice.b-{rand}@example.test")
                },
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Alice B. Example",
                        "name.givenName": "Alice",
                        "name.familyName": "Bexample",
                        format!("{ENTERPRISE}:employeeNumber"): "E-2002"
                    }
                }
            ]),
        )
        .await;
    assert_patched(&r);
    assert_flag_replaced(&r, &rand);

    assert_flag_replaced(&h.read_user(&u1).await, &rand);
    h.shutdown().await;
}

/// patch.op-pascal-case
#[tokio::test]
async fn pascal_case_replace_is_applied() {
    let h = Harness::start().await;
    let mut u = user(&format!("gina2-{}@example.test", rand_hex()));
    u["displayName"] = json!("Gina Example");
    let u1 = h.create(u).await;

    let r = h
        .patch_user(
            &u1,
            json!([{"op": "Replace", "path": "displayName", "value": "Gina Renamed"}]),
        )
        .await;
    assert_applied(&h, &u1, &r, "displayName", json!("Gina Renamed")).await;
    h.shutdown().await;
}

/// patch.add-single-value
#[tokio::test]
async fn add_sets_a_single_valued_attribute() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("nick-{}@example.test", rand_hex())))
        .await;

    let r = h
        .patch_user(
            &u1,
            json!([{"op": "Add", "path": "nickName", "value": "Ali"}]),
        )
        .await;
    assert_applied(&h, &u1, &r, "nickName", json!("Ali")).await;
    h.shutdown().await;
}

/// patch.atomic-rollback
#[tokio::test]
async fn failing_op_rolls_back_the_whole_patch() {
    let h = Harness::start().await;
    let name = format!("atom-{}@example.test", rand_hex());
    let mut u = user(&name);
    u["displayName"] = json!("Alice Example");
    let u1 = h.create(u).await;

    let r = h
        .patch_user(
            &u1,
            json!([
                {"op": "replace", "path": "displayName", "value": "Should Not Stick"},
                {"op": "replace", "path": "userName", "value": null}
            ]),
        )
        .await;
    r.assert_error(400, None);

    let r = h.read_user(&u1).await;
    assert_eq!(r.body["displayName"], "Alice Example", "{}", r.body);
    assert_eq!(r.body["userName"], name.as_str(), "{}", r.body);
    h.shutdown().await;
}

/// Extra (kind of patch.atomic-rollback): other invalid second ops (an unknown
/// op, a non-boolean `active`, a remove of the required userName, a malformed
/// path, an empty userName, an op without path or value) each fail the whole
/// PATCH with a 400 SCIM error, and the stored user is unchanged.
#[tokio::test]
async fn extra_other_invalid_ops_roll_back_the_whole_patch() {
    let h = Harness::start().await;
    let mut u = user(&format!("atom2-{}@example.test", rand_hex()));
    u["displayName"] = json!("Alice Example");
    let u1 = h.create(u).await;
    let before = h.read_user(&u1).await;

    let first = json!({"op": "Replace", "path": "displayName", "value": "Should Not Stick"});
    let bad_ops = [
        json!({"op": "Frobnicate", "path": "nickName", "value": "x"}),
        json!({"op": "Replace", "path": "active", "value": "maybe"}),
        json!({"op": "Remove", "path": "userName"}),
        json!({"op": "Replace", "path": "emails[type eq \"work\"", "value": "x@example.test"}),
        json!({"op": "Replace", "path": "userName", "value": ""}),
        json!({"op": "Replace"}),
    ];
    for bad in bad_ops {
        let r = h.patch_user(&u1, json!([first.clone(), bad.clone()])).await;
        assert_eq!(r.status, 400, "second op {bad}: {}", r.body);
        r.assert_error(400, None);
        let after = h.read_user(&u1).await;
        assert_eq!(after.body, before.body, "second op {bad} left a change");
    }
    h.shutdown().await;
}

/// Extra (kind of patch.disable-bundled-with-other-ops and
/// patch.pathless-replace-active): the other spellings of string booleans
/// Entra has sent (`"false"`, `"True"`, `"FALSE"`), with a path and path-less,
/// all land.
#[tokio::test]
async fn extra_string_booleans_in_other_spellings_land() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("sb-{}@example.test", rand_hex())))
        .await;

    let steps = [
        (
            json!([{"op": "Replace", "path": "active", "value": "false"}]),
            false,
        ),
        (
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            true,
        ),
        (
            json!([{"op": "replace", "value": {"active": "FALSE"}}]),
            false,
        ),
        (
            json!([{"op": "Replace", "value": {"active": "True"}}]),
            true,
        ),
        (
            json!([{"op": "Replace", "path": "active", "value": false}]),
            false,
        ),
    ];
    for (ops, active) in steps {
        let r = h.patch_user(&u1, ops.clone()).await;
        assert_patched(&r);
        assert_eq!(r.body["active"], active, "{ops}: {}", r.body);
        let r = h.read_user(&u1).await;
        assert_eq!(r.body["active"], active, "{ops}: {}", r.body);
    }
    h.shutdown().await;
}

/// Extra (kind of patch.disable-bundled-with-other-ops): a disable bundled
/// with other valid attributes the product may not use (a filtered phone
/// number, an enterprise department, preferredLanguage, a second filtered
/// e-mail) still lands as a whole.
#[tokio::test]
async fn extra_disable_bundled_with_other_unused_attributes_lands() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("bund2-{rand}@example.test"))).await;

    let r = h.patch_user(&u1, json!([
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Procurement"},
            {"op": "Replace", "path": "preferredLanguage", "value": "en-US"},
            {
                "op": "Replace",
                "path": "emails[type eq \"home\"].value",
                "value": format!("h-{rand}@example.test")
            },
            {"op": "Replace", "path": "active", "value": "False"}
        ]),
    )
    .await;
    assert_applied(&h, &u1, &r, "active", json!(false)).await;
    h.shutdown().await;
}

/// Extra (kind of patch.flag-pathless-dotted-and-urn-keys): a path-less `add`
/// (both op spellings) with dotted and URN-qualified keys also resolves them
/// as attribute paths and stores no literal key.
#[tokio::test]
async fn extra_pathless_add_with_dotted_and_urn_keys_resolves() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("pla-{}@example.test", rand_hex())))
        .await;

    for (op, given, dept) in [("add", "Bo", "Sales"), ("Add", "Bea", "Legal")] {
        let r = h
            .patch_user(
                &u1,
                json!([{
                    "op": op,
                    "value": {
                        "name.givenName": given,
                        "name.familyName": "Lee",
                        format!("{ENTERPRISE}:department"): dept
                    }
                }]),
            )
            .await;
        assert_patched(&r);
        for r in [r, h.read_user(&u1).await] {
            assert_eq!(r.body["name"]["givenName"], given, "{}", r.body);
            assert_eq!(r.body["name"]["familyName"], "Lee", "{}", r.body);
            assert_eq!(r.body[ENTERPRISE]["department"], dept, "{}", r.body);
            for key in ["name.givenName", "name.familyName"] {
                assert!(r.body.get(key).is_none(), "literal {key:?}: {}", r.body);
            }
            let urn_key = format!("{ENTERPRISE}:department");
            assert!(
                r.body.get(&urn_key).is_none(),
                "literal URN key: {}",
                r.body
            );
        }
    }
    h.shutdown().await;
}

/// Extra (kind of patch.op-pascal-case): ops in other letter cases (`REPLACE`,
/// `rePlace`, `ADD`, `Remove`) are applied, not ignored with a 200.
#[tokio::test]
async fn extra_ops_in_other_letter_cases_are_applied() {
    let h = Harness::start().await;
    let u1 = h
        .create(user(&format!("opc-{}@example.test", rand_hex())))
        .await;

    let steps = [
        ("REPLACE", "displayName", "One"),
        ("rePlace", "displayName", "Two"),
        ("ADD", "nickName", "Nick"),
    ];
    for (op, path, value) in steps {
        let r = h
            .patch_user(&u1, json!([{"op": op, "path": path, "value": value}]))
            .await;
        assert_patched(&r);
        assert_eq!(h.read_user(&u1).await.body[path], value, "{op}");
    }

    let r = h
        .patch_user(&u1, json!([{"op": "Remove", "path": "nickName"}]))
        .await;
    assert_patched(&r);
    let r = h.read_user(&u1).await;
    assert!(r.body.get("nickName").is_none(), "{}", r.body);
    h.shutdown().await;
}

/// Extra (kind of patch.add-filtered-email-when-absent): a `Replace` on a
/// filtered e-mail path that matches nothing also creates the e-mail, and an
/// `Add` for another type adds a second entry without touching the first.
#[tokio::test]
async fn extra_filtered_replace_creates_and_other_type_adds_alongside() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("fre-{rand}@example.test"))).await;
    let work = format!("fre.work-{rand}@example.test");
    let home = format!("fre.home-{rand}@example.test");

    let r = h
        .patch_user(
            &u1,
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": work}]),
        )
        .await;
    assert_patched(&r);
    assert_one_work_email(&h.read_user(&u1).await, &work);

    let r = h
        .patch_user(
            &u1,
            json!([{"op": "Add", "path": "emails[type eq \"home\"].value", "value": home}]),
        )
        .await;
    assert_patched(&r);
    let r = h.read_user(&u1).await;
    assert_eq!(emails_len(&r), 2, "{}", r.body);
    assert!(contains(
        &r.body["emails"],
        &json!({"type": "work", "value": work})
    ));
    assert!(contains(
        &r.body["emails"],
        &json!({"type": "home", "value": home})
    ));
    h.shutdown().await;
}
