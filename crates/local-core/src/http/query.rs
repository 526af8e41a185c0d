//! The query strings of `GET /internal/v1/users` and `GET /internal/v1/audit`.
//!
//! Form encoding: `&`-separated `key=value` pairs, `+` is a space, then
//! percent-decoding to UTF-8. Unknown or repeated keys are refused rather
//! than ignored, so a client typo cannot silently widen a look-up into a
//! listing of the whole workspace.

use authsidecar_core_api::{AuditQuery, MAX_LIST_LIMIT, UserQuery};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Parses the query into a [`UserQuery`]; the error says what to fix.
///
/// Absent keys take the contract's defaults (offset 0, limit 100); `limit`
/// above [`MAX_LIST_LIMIT`] is clamped to it.
pub(super) fn parse_user_query(raw: Option<&str>) -> Result<UserQuery, String> {
    parse_query(raw, &["user_name", "external_id", "email"])
}

/// Parses the query into an [`AuditQuery`], with the same rules as
/// [`parse_user_query`]. The values of `since` and `op` are checked by the
/// store.
pub(super) fn parse_audit_query(raw: Option<&str>) -> Result<AuditQuery, String> {
    parse_query(raw, &["user_id", "since", "op"])
}

/// `text_keys` take string values; `offset` and `limit` are known to all.
fn parse_query<T: DeserializeOwned>(raw: Option<&str>, text_keys: &[&str]) -> Result<T, String> {
    let mut fields = Map::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)?;
        let value = decode(value)?;
        let parsed = match key.as_str() {
            "offset" => Value::from(whole_number(&key, &value)?),
            "limit" => Value::from(whole_number(&key, &value)?.min(u64::from(MAX_LIST_LIMIT))),
            text if text_keys.contains(&text) => Value::String(value),
            _ => {
                return Err(format!(
                    "unknown query parameter '{key}'; known: {}, offset, limit",
                    text_keys.join(", ")
                ));
            }
        };
        if fields.insert(key.clone(), parsed).is_some() {
            return Err(format!("query parameter '{key}' is given more than once"));
        }
    }
    // Deserialising keeps the contract crate the one owner of the defaults.
    serde_json::from_value(Value::Object(fields)).map_err(|e| format!("invalid query: {e}"))
}

fn decode(text: &str) -> Result<String, String> {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "query is not UTF-8 after percent-decoding".to_owned())
}

fn whole_number(key: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{key} must be a non-negative whole number, not '{value}'"))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> UserQuery {
        parse_user_query(Some(raw)).unwrap()
    }

    #[test]
    fn absent_query_takes_the_contract_defaults() {
        let q = parse_user_query(None).unwrap();
        assert_eq!(
            q,
            UserQuery {
                limit: 100,
                ..UserQuery::default()
            }
        );
    }

    #[test]
    fn values_are_form_decoded() {
        let q = parsed("user_name=Ann+Lee%40acme.test&external_id=a%2Bb&email=%C3%A9%40x&offset=5");
        assert_eq!(q.user_name.as_deref(), Some("Ann Lee@acme.test"));
        assert_eq!(q.external_id.as_deref(), Some("a+b"));
        assert_eq!(q.email.as_deref(), Some("é@x"));
        assert_eq!((q.offset, q.limit), (5, 100));
    }

    #[test]
    fn audit_queries_take_their_own_keys() {
        let q = parse_audit_query(Some(
            "user_id=u-1&since=2026-12-04T15%3A13%3A11%2B01%3A00&op=disable&offset=2&limit=5",
        ))
        .unwrap();
        assert_eq!(q.user_id.as_deref(), Some("u-1"));
        assert_eq!(q.since.as_deref(), Some("2026-12-04T15:13:11+01:00"));
        assert_eq!(q.op.as_deref(), Some("disable"));
        assert_eq!((q.offset, q.limit), (2, 5));
        assert_eq!(
            parse_audit_query(Some("user_name=x")).unwrap_err(),
            "unknown query parameter 'user_name'; known: user_id, since, op, offset, limit"
        );
    }

    #[test]
    fn limit_is_clamped_and_zero_is_kept() {
        assert_eq!(parsed("limit=0").limit, 0);
        assert_eq!(parsed("limit=1000").limit, 1000);
        assert_eq!(parsed("limit=99999999999").limit, 1000);
    }

    #[test]
    fn empty_pairs_and_empty_values_are_tolerated() {
        let q = parsed("&user_name=&");
        assert_eq!(q.user_name.as_deref(), Some(""));
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        let err = |raw: &str| parse_user_query(Some(raw)).unwrap_err();
        assert_eq!(
            err("username=x"),
            "unknown query parameter 'username'; known: user_name, external_id, email, \
             offset, limit"
        );
        assert_eq!(
            err("email=a&email=b"),
            "query parameter 'email' is given more than once"
        );
        assert_eq!(
            err("limit=-1"),
            "limit must be a non-negative whole number, not '-1'"
        );
        assert_eq!(
            err("offset=ten"),
            "offset must be a non-negative whole number, not 'ten'"
        );
        assert_eq!(
            err("email=%FF"),
            "query is not UTF-8 after percent-decoding"
        );
    }
}
