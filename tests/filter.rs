//! `../shared/cases/filter.json`, ported: filter parsing and evaluation on
//! `/Users`, through the real sidecar and core. Extras, marked as such, send
//! other filters of the same kinds: other malformed filters, other letter
//! cases, other near-miss values.
#![allow(clippy::unwrap_used)]

use authsidecar_e2e::{Harness, Resp, rand_hex, user};
use serde_json::{Value, json};

/// `GET /Users?filter=<filter>`, the filter sent exactly as written.
async fn users_where(h: &Harness, filter: &str) -> Resp {
    h.get(&format!("/Users?filter={filter}")).await
}

/// `user(name)` with an externalId.
fn user_ext(name: &str, external_id: &str) -> Value {
    let mut u = user(name);
    u["externalId"] = json!(external_id);
    u
}

/// filter.externalid-eq
#[tokio::test]
async fn externalid_eq_finds_the_user_and_unknown_gives_zero() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let ext = format!("5d0f6c1e-3b7a-4c2e-9f41-{rand}");
    let u1 = h
        .create(user_ext(&format!("erin-{rand}@example.test"), &ext))
        .await;

    let r = users_where(&h, &format!("externalId+eq+%22{ext}%22")).await;
    r.assert_one(&u1);
    assert_eq!(r.body["Resources"][0]["externalId"], ext.as_str());

    let r = users_where(
        &h,
        &format!("externalId+eq+%2200000000-0000-4000-8000-{rand}%22"),
    )
    .await;
    r.assert_list(0);
    assert_eq!(r.body["Resources"], json!([]));
    h.shutdown().await;
}

/// filter.and-of-eq-terms
#[tokio::test]
async fn and_of_two_eq_terms_applies_both() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user_ext(
            &format!("alice-{rand}@example.test"),
            &format!("5d0f6c1e-3b7a-4c2e-9f41-{rand}"),
        ))
        .await;

    let r = users_where(
        &h,
        &format!(
            "userName+eq+%22alice-{rand}%40example.test%22\
             +and+externalId+eq+%225d0f6c1e-3b7a-4c2e-9f41-{rand}%22"
        ),
    )
    .await;
    r.assert_one(&u1);

    let r = users_where(
        &h,
        &format!(
            "userName+eq+%22alice-{rand}%40example.test%22\
             +and+externalId+eq+%2200000000-0000-4000-8000-{rand}%22"
        ),
    )
    .await;
    r.assert_list(0);
    h.shutdown().await;
}

/// filter.username-case-insensitive
#[tokio::test]
async fn username_matches_case_insensitively_and_keeps_its_spelling() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user(&format!("Alice.Example-{rand}@Example.Test")))
        .await;

    let r = users_where(
        &h,
        &format!("userName%20eq%20%22alice.example-{rand}%40example.test%22"),
    )
    .await;
    r.assert_one(&u1);
    assert_eq!(
        r.body["Resources"][0]["userName"],
        format!("Alice.Example-{rand}@Example.Test")
    );
    h.shutdown().await;
}

/// filter.attribute-and-operator-case
#[tokio::test]
async fn attribute_and_operator_names_are_case_insensitive() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h.create(user(&format!("alice-{rand}@example.test"))).await;

    let r = users_where(
        &h,
        &format!("USERNAME+EQ+%22alice-{rand}%40example.test%22"),
    )
    .await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.externalid-case-exact
#[tokio::test]
async fn externalid_is_case_exact() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user_ext(
            &format!("fay-{rand}@example.test"),
            &format!("ExtId-{rand}"),
        ))
        .await;

    let r = users_where(&h, &format!("externalId%20eq%20%22extid-{rand}%22")).await;
    r.assert_list(0);

    let r = users_where(&h, &format!("externalId%20eq%20%22ExtId-{rand}%22")).await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.emails-valuepath-subattr
#[tokio::test]
async fn emails_value_path_with_sub_attribute() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let with_email = |local: &str| {
        let mut u = user(&format!("{local}-{rand}@example.test"));
        u["emails"] = json!([{
            "type": "work",
            "primary": true,
            "value": format!("{local}-{rand}@example.test")
        }]);
        u
    };
    let u1 = h.create(with_email("alice")).await;
    h.create(with_email("bob")).await;

    let r = users_where(
        &h,
        &format!(
            "emails%5Btype%20eq%20%22work%22%5D.value%20eq\
             %20%22alice-{rand}%40example.test%22"
        ),
    )
    .await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.grouping-parentheses (the case also accepts 400 invalidFilter; this
/// server evaluates the filter, so the right answer is asserted).
#[tokio::test]
async fn parentheses_group_or_inside_and() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("alice-{rand}@example.test"))).await;
    let mut bob = user(&format!("bob-{rand}@example.test"));
    bob["active"] = json!(false);
    let ub = h.create(bob).await;

    let r = users_where(
        &h,
        &format!(
            "%28userName%20eq%20%22alice-{rand}%40example.test%22%20or\
             %20userName%20eq%20%22bob-{rand}%40example.test%22%29%20and%20active%20eq%20false"
        ),
    )
    .await;
    r.assert_one(&ub);
    assert_eq!(
        r.body["Resources"][0]["userName"],
        format!("bob-{rand}@example.test")
    );
    h.shutdown().await;
}

/// filter.keyword-inside-quotes
#[tokio::test]
async fn keyword_inside_quotes_is_part_of_the_value() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user_ext(
            &format!("ann.and-{rand}@example.test"),
            &format!("ann {rand} AND"),
        ))
        .await;
    h.create(user_ext(
        &format!("ann.other-{rand}@example.test"),
        &format!("ann {rand}"),
    ))
    .await;

    let r = users_where(&h, &format!("externalId%20eq%20%22ann%20{rand}%20AND%22")).await;
    r.assert_one(&u1);

    let r = users_where(
        &h,
        &format!(
            "userName%20eq%20%22ann.and-{rand}%40example.test%22%20and\
             %20externalId%20eq%20%22ann%20{rand}%20AND%22"
        ),
    )
    .await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.eq-is-exact-not-prefix
#[tokio::test]
async fn eq_is_exact_not_prefix() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("pat-{rand}@example.testing"))).await;

    let r = users_where(
        &h,
        &format!("userName%20eq%20%22pat-{rand}%40example.test%22"),
    )
    .await;
    r.assert_list(0);

    let r = h
        .post("/Users", user(&format!("pat-{rand}@example.test")))
        .await;
    r.assert_scim_status(201);
    assert!(r.body["id"].is_string(), "no id to capture: {}", r.body);
    assert_eq!(r.body["userName"], format!("pat-{rand}@example.test"));
    h.shutdown().await;
}

/// filter.plus-encoded-in-value
#[tokio::test]
async fn encoded_plus_is_a_literal_plus() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user(&format!("test+scim-{rand}@example.test")))
        .await;

    let r = users_where(
        &h,
        &format!("userName%20eq%20%22test%2Bscim-{rand}%40example.test%22"),
    )
    .await;
    r.assert_one(&u1);
    assert_eq!(
        r.body["Resources"][0]["userName"],
        format!("test+scim-{rand}@example.test")
    );

    let r = users_where(
        &h,
        &format!("userName+eq+%22test%2Bscim-{rand}%40example.test%22"),
    )
    .await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.unknown-operator
#[tokio::test]
async fn unknown_operator_is_400_invalid_filter() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("alice-{rand}@example.test"))).await;
    h.create(user(&format!("bob-{rand}@example.test"))).await;

    let r = users_where(
        &h,
        &format!("userName%20zz%20%22alice-{rand}%40example.test%22"),
    )
    .await;
    r.assert_error(400, Some("invalidFilter"));
    assert!(r.body.get("Resources").is_none(), "body: {}", r.body);
    h.shutdown().await;
}

/// filter.empty-filter
#[tokio::test]
async fn empty_filter_is_400_invalid_filter() {
    let h = Harness::start().await;
    let r = users_where(&h, "").await;
    r.assert_error(400, Some("invalidFilter"));
    h.shutdown().await;
}

/// filter.unsupported-attribute (the case also accepts 400 invalidFilter;
/// this server evaluates the filter, so the right answer is asserted).
#[tokio::test]
async fn unindexed_attribute_is_evaluated_correctly() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let mut u = user(&format!("ali-{rand}@example.test"));
    u["nickName"] = json!(format!("Ali-{rand}"));
    let u1 = h.create(u).await;

    let r = users_where(&h, &format!("nickName+eq+%22Ali-{rand}%22")).await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// filter.unquoted-value
#[tokio::test]
async fn unquoted_value_is_accepted() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let u1 = h
        .create(user_ext(
            &format!("uq-{rand}@example.test"),
            &format!("6e1f7d2a-4c8b-4d3f-8a52-{rand}"),
        ))
        .await;

    let r = users_where(&h, &format!("externalId+eq+6e1f7d2a-4c8b-4d3f-8a52-{rand}")).await;
    r.assert_one(&u1);
    h.shutdown().await;
}

/// Extra (kind of filter.unknown-operator and filter.empty-filter): other
/// malformed filters (unterminated quote, dangling `and`, missing value,
/// unbalanced parentheses, trailing garbage, a lone attribute, blanks only,
/// a bad bracket) are each 400 invalidFilter with no `Resources`, never an
/// unfiltered list and never a 500.
#[tokio::test]
async fn extra_other_malformed_filters_are_400_invalid_filter() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("alice-{rand}@example.test"))).await;
    h.create(user(&format!("bob-{rand}@example.test"))).await;

    let name = format!("%22alice-{rand}%40example.test%22");
    let filters = [
        format!("userName+eq+%22alice-{rand}%40example.test"),
        format!("userName+eq+{name}+and"),
        format!("userName+eq+{name}+and+"),
        "userName+eq".to_owned(),
        "userName+eq+".to_owned(),
        format!("%28userName+eq+{name}"),
        format!("userName+eq+{name}%29"),
        format!("userName+eq+{name}+garbage"),
        "userName".to_owned(),
        "+++".to_owned(),
        format!("emails%5Btype+eq+%22work%22.value+eq+{name}"),
        format!("eq+{name}"),
    ];
    for f in filters {
        let r = users_where(&h, &f).await;
        assert_eq!(r.status, 400, "filter {f:?}: {}", r.body);
        r.assert_error(400, Some("invalidFilter"));
        assert!(
            r.body.get("Resources").is_none(),
            "filter {f:?}: {}",
            r.body
        );
    }
    h.shutdown().await;
}

/// Extra (kind of filter.attribute-and-operator-case): other letter cases of
/// attribute names and of the logical operator (`UserName Eq`, `AND`,
/// `externalID`) are matched the same way.
#[tokio::test]
async fn extra_other_letter_cases_of_names_and_operators() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let ext = format!("5d0f6c1e-3b7a-4c2e-9f41-{rand}");
    let u1 = h
        .create(user_ext(&format!("cas-{rand}@example.test"), &ext))
        .await;
    h.create(user(&format!("other-{rand}@example.test"))).await;

    let filters = [
        format!("UserName+Eq+%22cas-{rand}%40example.test%22"),
        format!("externalID+eQ+%22{ext}%22"),
        format!("userName+eq+%22cas-{rand}%40example.test%22+AND+externalId+eq+%22{ext}%22"),
        format!("userName+eq+%22cas-{rand}%40example.test%22+And+externalId+eq+%22{ext}%22"),
    ];
    for f in filters {
        let r = users_where(&h, &f).await;
        assert_eq!(r.status, 200, "filter {f:?}: {}", r.body);
        r.assert_one(&u1);
    }
    h.shutdown().await;
}

/// Extra (kind of filter.eq-is-exact-not-prefix): `eq` matches neither a
/// suffix, nor a middle part, nor a longer value of an existing userName or
/// externalId.
#[tokio::test]
async fn extra_eq_matches_no_suffix_infix_or_superstring() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user_ext(
        &format!("quentin-{rand}@example.test"),
        &format!("7a7a7a7a-{rand}"),
    ))
    .await;

    let filters = [
        format!("userName+eq+%22entin-{rand}%40example.test%22"),
        format!("userName+eq+%22quentin-{rand}%22"),
        format!("userName+eq+%22quentin-{rand}%40example.test.org%22"),
        format!("userName+eq+%22%20quentin-{rand}%40example.test%22"),
        format!("externalId+eq+%227a7a7a7a-{rand}0%22"),
        "externalId+eq+%227a7a7a7a%22".to_owned(),
    ];
    for f in filters {
        let r = users_where(&h, &f).await;
        assert_eq!(r.status, 200, "filter {f:?}: {}", r.body);
        r.assert_list(0);
    }
    h.shutdown().await;
}
