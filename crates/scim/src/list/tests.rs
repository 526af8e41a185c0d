use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::ScimType;
use crate::filter::{CompValue, CompareOp};

fn query(raw: &str) -> ListQuery {
    ListQuery::parse(Some(raw)).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn error(raw: &str) -> (ScimType, String) {
    match ListQuery::parse(Some(raw)) {
        Err(e) if e.status == 400 => (e.scim_type.unwrap_or(ScimType::InvalidSyntax), e.detail),
        other => panic!("{raw}: expected a 400, got {other:?}"),
    }
}

fn user_name_eq(value: &str) -> Option<Filter> {
    Some(Filter::Compare(
        AttrPath::simple("userName"),
        CompareOp::Eq,
        CompValue::Str(value.into()),
    ))
}

fn paths(list: &[&str]) -> Vec<AttrPath> {
    list.iter()
        .map(|p| AttrPath::parse(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect()
}

#[test]
fn no_query_gives_the_defaults() {
    assert_eq!(ListQuery::parse(None), Ok(ListQuery::default()));
    assert_eq!(
        ListQuery::default(),
        ListQuery {
            filter: None,
            start_index: 1,
            count: 100,
            attributes: vec![],
            excluded_attributes: vec![]
        }
    );
    assert_eq!(query(""), ListQuery::default());
}

#[test]
fn entra_filter_with_plus_for_space() {
    let q = query("filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22");
    assert_eq!(
        q.filter,
        user_name_eq("7d420df3-9995-4831-a406-ecf8166f5f6a")
    );
}

#[test]
fn encoded_plus_stays_a_plus_and_bare_plus_is_a_space() {
    let encoded = query("filter=userName%20eq%20%22test%2Bscim-1f%40example.test%22");
    assert_eq!(encoded.filter, user_name_eq("test+scim-1f@example.test"));
    let mixed = query("filter=userName+eq+%22test%2Bscim-1f%40example.test%22");
    assert_eq!(mixed.filter, user_name_eq("test+scim-1f@example.test"));
    let bare = query("filter=userName+eq+%22a+b%22");
    assert_eq!(bare.filter, user_name_eq("a b"));
}

#[test]
fn decoded_exactly_once() {
    let q = query("filter=userName+eq+%22a%2520b%26c%22");
    assert_eq!(q.filter, user_name_eq("a%20b&c"));
}

#[test]
fn unknown_parameters_and_flag_are_ignored() {
    let q = query("aadOptscim062020&filter=userName+eq+%22a%22&x=1&&=y&sortBy=userName");
    assert_eq!(q.filter, user_name_eq("a"));
    assert_eq!((q.start_index, q.count), (1, 100));
}

#[test]
fn parameter_names_are_case_insensitive() {
    let q = query("FILTER=USERNAME+EQ+%22a%22&StartIndex=3&COUNT=5");
    let path = AttrPath::simple("USERNAME");
    assert_eq!(
        q.filter,
        Some(Filter::Compare(
            path,
            CompareOp::Eq,
            CompValue::Str("a".into())
        ))
    );
    assert_eq!((q.start_index, q.count), (3, 5));
}

#[test]
fn empty_filter_is_invalid() {
    let empty = (
        ScimType::InvalidFilter,
        "filter: the filter is empty at position 0".to_owned(),
    );
    assert_eq!(error("filter="), empty);
    assert_eq!(error("filter"), empty);
    assert_eq!(error("filter=+++"), empty);
}

#[test]
fn bad_filter_is_invalid_filter() {
    assert_eq!(
        error("filter=userName%20zz%20%22alice%40example.test%22"),
        (
            ScimType::InvalidFilter,
            "filter: expected a comparison operator after 'userName', found 'zz' at position 9"
                .to_owned()
        )
    );
}

#[test]
fn paging_clamps() {
    assert_eq!(query("startIndex=0").start_index, 1);
    assert_eq!(query("startIndex=-5").start_index, 1);
    assert_eq!(query("startIndex=7").start_index, 7);
    assert_eq!(query("count=0").count, 0);
    assert_eq!(query("count=-1").count, 0);
    assert_eq!(query("count=2").count, 2);
    assert_eq!(query("count=5000").count, 1000);
    assert_eq!(
        query("count=999999999999999999999999999999999999999999").count,
        1000
    );
    assert_eq!(
        query("startIndex=99999999999999999999999").start_index,
        u64::MAX
    );
}

#[test]
fn non_integer_paging_is_invalid_value() {
    assert_eq!(
        error("startIndex=abc"),
        (
            ScimType::InvalidValue,
            "startIndex: expected an integer, got 'abc'".to_owned()
        )
    );
    assert_eq!(
        error("count=1.5"),
        (
            ScimType::InvalidValue,
            "count: expected an integer, got '1.5'".to_owned()
        )
    );
    assert_eq!(
        error("count="),
        (
            ScimType::InvalidValue,
            "count: expected an integer, got ''".to_owned()
        )
    );
}

#[test]
fn repeated_scalar_parameters_are_refused() {
    assert_eq!(
        error("count=1&Count=2"),
        (
            ScimType::InvalidValue,
            "count: the query parameter is given more than once".to_owned()
        )
    );
    assert_eq!(error("filter=a+pr&filter=b+pr").0, ScimType::InvalidFilter);
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    assert_eq!(
        error("filter=%FF"),
        (
            ScimType::InvalidFilter,
            "filter: the value is not valid UTF-8 after percent-decoding".to_owned()
        )
    );
    assert_eq!(error("count=%C3").0, ScimType::InvalidValue);
    assert_eq!(query("%FF=1").count, 100);
}

#[test]
fn attribute_lists() {
    let q = query(concat!(
        "attributes=userName,name.givenName,%20emails&excludedAttributes=",
        "urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Aextension%3Aenterprise%3A2.0%3AUser%3Amanager"
    ));
    assert_eq!(
        q.attributes,
        paths(&["userName", "name.givenName", "emails"])
    );
    assert_eq!(
        q.excluded_attributes,
        paths(&["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"])
    );
    assert_eq!(
        query("attributes=a&attributes=b,").attributes,
        paths(&["a", "b"])
    );
    assert_eq!(
        error("attributes=userName,bad%20path"),
        (
            ScimType::InvalidValue,
            "attributes: invalid path 'bad path': unexpected character ' ' at position 3"
                .to_owned()
        )
    );
}

#[test]
fn projection_only_reads_its_two_parameters() {
    let raw = "filter=zz&count=x&attributes=userName&excludedAttributes=emails,name";
    assert_eq!(
        parse_projection(Some(raw)),
        Ok((paths(&["userName"]), paths(&["emails", "name"])))
    );
    assert_eq!(parse_projection(None), Ok((vec![], vec![])));
    assert_eq!(
        parse_projection(Some("excludedAttributes=%FF")).map_err(|e| e.scim_type),
        Err(Some(ScimType::InvalidValue))
    );
}

#[test]
fn search_body() {
    let body = json!({
        "schemas": [crate::SEARCH_REQUEST_SCHEMA],
        "filter": "userName eq \"a\"",
        "startIndex": "2",
        "count": 10,
        "attributes": ["userName", "emails.value"],
        "excludedAttributes": "name,title",
        "sortBy": "userName"
    });
    assert_eq!(
        ListQuery::from_search_body(&body),
        Ok(ListQuery {
            filter: user_name_eq("a"),
            start_index: 2,
            count: 10,
            attributes: paths(&["userName", "emails.value"]),
            excluded_attributes: paths(&["name", "title"]),
        })
    );
    let clamped = json!({"startIndex": -3, "count": 1e6, "filter": null});
    let q = ListQuery::from_search_body(&clamped);
    assert_eq!(
        q.map(|q| (q.filter, q.start_index, q.count)),
        Ok((None, 1, 1000))
    );
}

#[test]
fn bad_search_bodies() {
    let kind =
        |body: Value| ListQuery::from_search_body(&body).map_err(|e| (e.scim_type, e.detail));
    assert_eq!(
        kind(json!([1])),
        Err((
            Some(ScimType::InvalidSyntax),
            "search request: the body must be a JSON object".into()
        ))
    );
    assert_eq!(
        kind(json!({"filter": 1})),
        Err((
            Some(ScimType::InvalidFilter),
            "filter: must be a JSON string".into()
        ))
    );
    assert_eq!(
        kind(json!({"filter": ""})),
        Err((
            Some(ScimType::InvalidFilter),
            "filter: the filter is empty at position 0".into()
        ))
    );
    assert_eq!(
        kind(json!({"count": 2.5})),
        Err((
            Some(ScimType::InvalidValue),
            "count: expected an integer, got 2.5".into()
        ))
    );
    assert_eq!(
        kind(json!({"count": true})),
        Err((
            Some(ScimType::InvalidValue),
            "count: expected an integer, got true".into()
        ))
    );
    assert_eq!(
        kind(json!({"attributes": [1]})),
        Err((
            Some(ScimType::InvalidValue),
            "attributes: expected strings, got 1".into()
        ))
    );
}

#[test]
fn list_response_shape() {
    let page = list_response(vec![json!({"id": "a"})], 3, 2);
    assert_eq!(
        page,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 3,
            "itemsPerPage": 1,
            "startIndex": 2,
            "Resources": [{"id": "a"}]
        })
    );
    assert_eq!(list_response(vec![], 0, 1)["Resources"], json!([]));
}

proptest! {
    #[test]
    fn query_parse_never_panics(raw in "\\PC{0,60}") {
        let _ = ListQuery::parse(Some(&raw));
        let _ = parse_projection(Some(&raw));
    }

    #[test]
    fn percent_soup_never_panics(raw in "([a-zA-Z=&+,]|%[0-9A-Fa-f]{0,2}|filter=|count=){0,30}") {
        let _ = ListQuery::parse(Some(&raw));
    }
}
