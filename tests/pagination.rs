//! `../shared/cases/pagination.json`, ported: list responses and pagination
//! of `/Users`, through the real sidecar and core. Each test has its own
//! fresh core, so no other client changes the user count during a case.
//! Extras, marked as such, page with other values of the same kinds: RFC 7644
//! §3.4.2.4's out-of-range `startIndex` and `count`, a page past the end, and
//! a walk over every page.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use authsidecar_e2e::{Harness, Resp, rand_hex, user};

/// The case check `{"ptr": "/Resources", "op": "len", "value": n}`.
fn resources_len(r: &Resp) -> usize {
    r.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("Resources not an array: {}", r.body))
        .len()
}

/// The three setup users `ned`, `oli` and `pia` several cases share.
async fn create_three(h: &Harness, rand: &str) {
    for n in ["ned", "oli", "pia"] {
        h.create(user(&format!("{n}-{rand}@example.test"))).await;
    }
}

/// The count-0 probe: the total number of users (asserts the list shape).
async fn total(h: &Harness) -> u64 {
    let r = h.get("/Users?count=0").await;
    r.assert_list_shape();
    r.body["totalResults"].as_u64().unwrap()
}

/// pagination.count-limits-page
#[tokio::test]
async fn count_limits_the_page_but_not_total_results() {
    let h = Harness::start().await;
    create_three(&h, &rand_hex()).await;

    let r = h.get("/Users?startIndex=1&count=2").await;
    r.assert_list_shape();
    r.assert_integer("startIndex");
    r.assert_integer("itemsPerPage");
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert_eq!(resources_len(&r), 2);
    assert!(r.body["totalResults"].as_u64().unwrap() >= 3, "{}", r.body);
    h.shutdown().await;
}

/// pagination.defaults-without-params
#[tokio::test]
async fn defaults_apply_without_start_index_or_count() {
    let h = Harness::start().await;
    let rand = rand_hex();
    h.create(user(&format!("lee-{rand}@example.test"))).await;
    h.create(user(&format!("max-{rand}@example.test"))).await;

    let r = h.get("/Users").await;
    r.assert_list_shape();
    r.assert_integer("startIndex");
    r.assert_integer("itemsPerPage");
    assert_eq!(r.body["startIndex"], 1);
    assert!(r.body["totalResults"].as_u64().unwrap() >= 2, "{}", r.body);
    assert!(resources_len(&r) >= 2, "{}", r.body);
    h.shutdown().await;
}

/// pagination.count-zero
#[tokio::test]
async fn count_zero_returns_only_the_total() {
    let h = Harness::start().await;
    create_three(&h, &rand_hex()).await;

    let r = h.get("/Users?count=0").await;
    r.assert_list_shape();
    assert!(r.body["totalResults"].as_u64().unwrap() >= 3, "{}", r.body);
    r.assert_no_resources();
    assert!(
        r.body.get("itemsPerPage").is_none() || r.body["itemsPerPage"] == 0,
        "itemsPerPage: {}",
        r.body
    );
    h.shutdown().await;
}

/// pagination.last-page-item-count
#[tokio::test]
async fn last_page_holds_one_item_and_says_so() {
    let h = Harness::start().await;
    create_three(&h, &rand_hex()).await;
    let t = total(&h).await;

    let r = h.get(&format!("/Users?startIndex={t}&count=2")).await;
    r.assert_list_shape();
    r.assert_integer("startIndex");
    r.assert_integer("itemsPerPage");
    assert_eq!(resources_len(&r), 1, "{}", r.body);
    assert_eq!(r.body["itemsPerPage"], 1);
    assert_eq!(r.body["startIndex"], t);
    assert_eq!(r.body["totalResults"], t);
    h.shutdown().await;
}

/// pagination.list-metadata-integers
#[tokio::test]
async fn list_metadata_are_integers() {
    let h = Harness::start().await;
    h.create(user(&format!("kai-{}@example.test", rand_hex())))
        .await;

    let r = h.get("/Users?startIndex=1&count=5").await;
    r.assert_list_shape();
    r.assert_integer("itemsPerPage");
    r.assert_integer("startIndex");
    h.shutdown().await;
}

/// The ids on one page.
fn page_ids(r: &Resp) -> Vec<String> {
    r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Extra (kind of pagination.count-limits-page): walking every page with
/// `count=2` over five users visits each user exactly once, every page says
/// where it starts and how many it holds, and the total never changes.
#[tokio::test]
async fn extra_walking_all_pages_visits_every_user_once() {
    let h = Harness::start().await;
    let rand = rand_hex();
    let mut created = BTreeSet::new();
    for n in ["a", "b", "c", "d", "e"] {
        created.insert(
            h.create(user(&format!("walk{n}-{rand}@example.test")))
                .await,
        );
    }
    let t = total(&h).await;
    assert_eq!(t, 5, "a fresh core holds only the users this test created");

    let mut seen = Vec::new();
    let mut start = 1;
    while start <= t {
        let r = h.get(&format!("/Users?startIndex={start}&count=2")).await;
        r.assert_list(t);
        assert_eq!(r.body["startIndex"], start);
        let ids = page_ids(&r);
        assert_eq!(ids.len() as u64, 2.min(t - start + 1), "{}", r.body);
        assert_eq!(r.body["itemsPerPage"], ids.len());
        seen.extend(ids);
        start += 2;
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a user appeared twice: {seen:?}");
    assert_eq!(unique, created);
    h.shutdown().await;
}

/// Extra (kind of pagination.defaults-without-params): RFC 7644 §3.4.2.4
/// reads a `startIndex` below 1 as 1 and a negative `count` as 0.
#[tokio::test]
async fn extra_out_of_range_start_index_and_count_are_clamped() {
    let h = Harness::start().await;
    create_three(&h, &rand_hex()).await;
    let t = total(&h).await;

    for start in ["0", "-5"] {
        let r = h.get(&format!("/Users?startIndex={start}&count=2")).await;
        r.assert_list(t);
        assert_eq!(r.body["startIndex"], 1, "startIndex={start}: {}", r.body);
        assert_eq!(resources_len(&r), 2, "startIndex={start}: {}", r.body);
    }

    let r = h.get("/Users?count=-1").await;
    r.assert_list(t);
    r.assert_no_resources();
    h.shutdown().await;
}

/// Extra (kind of pagination.last-page-item-count): a `startIndex` past the
/// last user is 200 with the true total and no resources, never 404 or 400.
#[tokio::test]
async fn extra_start_index_past_the_end_is_an_empty_page() {
    let h = Harness::start().await;
    create_three(&h, &rand_hex()).await;
    let t = total(&h).await;

    let r = h.get(&format!("/Users?startIndex={}&count=2", t + 1)).await;
    r.assert_list(t);
    r.assert_no_resources();
    let r = h.get("/Users?startIndex=1000000&count=5").await;
    r.assert_list(t);
    r.assert_no_resources();
    h.shutdown().await;
}
