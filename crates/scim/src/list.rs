//! Query parameters of `GET /Users` and `POST /Users/.search`, and the
//! ListResponse (RFC 7644 §3.4.2, §3.4.3).

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::ScimError;
use crate::filter::Filter;
use crate::path::AttrPath;

/// Page size when the client gives no `count`.
pub const DEFAULT_COUNT: u64 = 100;
/// Largest page the server returns; a larger `count` is clamped (RFC 7644 §3.4.2.4).
pub const MAX_COUNT: u64 = 1000;

/// A parsed list or search request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// `filter`, if given.
    pub filter: Option<Filter>,
    /// 1-based `startIndex`; values below 1 are read as 1.
    pub start_index: u64,
    /// `count`, clamped to [`MAX_COUNT`]; [`DEFAULT_COUNT`] when absent.
    pub count: u64,
    /// `attributes`.
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`.
    pub excluded_attributes: Vec<AttrPath>,
}

impl ListQuery {
    /// Parses a raw (still percent-encoded) query string. Decodes exactly
    /// once, `+` as a space; ignores unknown parameters such as
    /// `aadOptscim062020`. A present but empty `filter` is 400 `invalidFilter`.
    ///
    /// `startIndex`/`count` that are not integers, a malformed `attributes` or
    /// `excludedAttributes` entry, or a repeated `startIndex`/`count` are 400
    /// `invalidValue` (a repeated `filter` is `invalidFilter`; repeated
    /// attribute lists add up); `sortBy`/`sortOrder` are ignored, as sorting
    /// is not supported (RFC 7644 §3.4.2.3).
    pub fn parse(raw_query: Option<&str>) -> Result<ListQuery, ScimError> {
        let mut query = ListQuery::default();
        let mut seen = Vec::new();
        for (name, value) in params(raw_query.unwrap_or("")) {
            let Some(param) = Param::from_name(&name) else {
                continue;
            };
            if param.is_scalar() && seen.contains(&param) {
                return Err(repeated(param));
            }
            seen.push(param);
            let Ok(value) = value else {
                return Err(not_utf8(param));
            };
            match param {
                Param::Filter => query.filter = Some(Filter::parse(&value)?),
                Param::StartIndex => {
                    query.start_index = clamp_start(integer(param, &value)?);
                }
                Param::Count => query.count = clamp_count(integer(param, &value)?),
                Param::Attributes => query.attributes.extend(attr_list(param, &value)?),
                Param::Excluded => query.excluded_attributes.extend(attr_list(param, &value)?),
                Param::SortBy | Param::SortOrder => {}
            }
        }
        Ok(query)
    }

    /// Parses a `POST /.search` SearchRequest body.
    ///
    /// Member names match case-insensitively; `startIndex` and `count` may be
    /// JSON numbers or strings, `attributes` an array or a comma-separated
    /// string. A body that is not an object is 400 `invalidSyntax`.
    pub fn from_search_body(body: &Value) -> Result<ListQuery, ScimError> {
        let Some(members) = body.as_object() else {
            let msg = "search request: the body must be a JSON object";
            return Err(ScimError::invalid_syntax(msg));
        };
        let mut query = ListQuery::default();
        for (name, value) in members {
            let Some(param) = Param::from_name(name) else {
                continue;
            };
            match (param, value) {
                (_, Value::Null) | (Param::SortBy | Param::SortOrder, _) => {}
                (Param::Filter, Value::String(s)) => query.filter = Some(Filter::parse(s)?),
                (Param::Filter, _) => {
                    return Err(ScimError::invalid_filter("filter: must be a JSON string"));
                }
                (Param::StartIndex, v) => query.start_index = clamp_start(json_integer(param, v)?),
                (Param::Count, v) => query.count = clamp_count(json_integer(param, v)?),
                (Param::Attributes, v) => query.attributes = json_attr_list(param, v)?,
                (Param::Excluded, v) => query.excluded_attributes = json_attr_list(param, v)?,
            }
        }
        Ok(query)
    }
}

impl Default for ListQuery {
    /// No filter, the first page of [`DEFAULT_COUNT`] resources, no projection.
    fn default() -> ListQuery {
        ListQuery {
            filter: None,
            start_index: 1,
            count: DEFAULT_COUNT,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
        }
    }
}

/// Parses only `attributes` / `excludedAttributes` from a raw query string
/// (for GET by id and for POST/PUT/PATCH responses).
pub fn parse_projection(
    raw_query: Option<&str>,
) -> Result<(Vec<AttrPath>, Vec<AttrPath>), ScimError> {
    let (mut attributes, mut excluded) = (Vec::new(), Vec::new());
    for (name, value) in params(raw_query.unwrap_or("")) {
        let param = match Param::from_name(&name) {
            Some(p @ (Param::Attributes | Param::Excluded)) => p,
            _ => continue,
        };
        let value = value.map_err(|_| not_utf8(param))?;
        let paths = attr_list(param, &value)?;
        if param == Param::Attributes {
            attributes.extend(paths);
        } else {
            excluded.extend(paths);
        }
    }
    Ok((attributes, excluded))
}

/// A ListResponse with `totalResults`, `itemsPerPage` (= resources returned),
/// `startIndex` and `Resources` (always present, possibly empty).
pub fn list_response(resources: Vec<Value>, total: u64, start_index: u64) -> Value {
    serde_json::json!({
        "schemas": [crate::LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// The query parameters of RFC 7644 §3.4.2 that the server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Filter,
    StartIndex,
    Count,
    Attributes,
    Excluded,
    SortBy,
    SortOrder,
}

impl Param {
    const ALL: [Param; 7] = [
        Param::Filter,
        Param::StartIndex,
        Param::Count,
        Param::Attributes,
        Param::Excluded,
        Param::SortBy,
        Param::SortOrder,
    ];

    fn name(self) -> &'static str {
        match self {
            Param::Filter => "filter",
            Param::StartIndex => "startIndex",
            Param::Count => "count",
            Param::Attributes => "attributes",
            Param::Excluded => "excludedAttributes",
            Param::SortBy => "sortBy",
            Param::SortOrder => "sortOrder",
        }
    }

    fn from_name(name: &str) -> Option<Param> {
        Param::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Whether a second occurrence would be ambiguous (lists just add up).
    fn is_scalar(self) -> bool {
        !matches!(self, Param::Attributes | Param::Excluded)
    }
}

/// The `name=value` pairs of a query, each side decoded exactly once: `+`
/// becomes a space first, then `%XX` is decoded, so `%2B` stays a literal
/// `+`. A value that is not UTF-8 after decoding is `Err(())`; a name that is
/// not UTF-8 cannot be one of ours and the pair is skipped. A name without
/// `=` has an empty value.
fn params(raw: &str) -> impl Iterator<Item = (String, Result<String, ()>)> + '_ {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(name).ok()?, decode(value)))
        })
}

fn decode(part: &str) -> Result<String, ()> {
    let spaced = part.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ())
}

fn repeated(param: Param) -> ScimError {
    let detail = format!(
        "{}: the query parameter is given more than once",
        param.name()
    );
    if param == Param::Filter {
        ScimError::invalid_filter(detail)
    } else {
        ScimError::invalid_value(detail)
    }
}

fn not_utf8(param: Param) -> ScimError {
    let detail = format!(
        "{}: the value is not valid UTF-8 after percent-decoding",
        param.name()
    );
    if param == Param::Filter {
        ScimError::invalid_filter(detail)
    } else {
        ScimError::invalid_value(detail)
    }
}

/// An optionally signed decimal integer; magnitudes beyond `i128` saturate,
/// since every caller clamps to a small range anyway.
fn integer(param: Param, raw: &str) -> Result<i128, ScimError> {
    let text = raw.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let detail = format!("{}: expected an integer, got '{raw}'", param.name());
        return Err(ScimError::invalid_value(detail));
    }
    let magnitude = digits.bytes().fold(0i128, |acc, d| {
        acc.saturating_mul(10).saturating_add(i128::from(d - b'0'))
    });
    Ok(if negative { -magnitude } else { magnitude })
}

/// An integer from a SearchRequest member: a JSON number without a
/// fraction, or a string holding one.
fn json_integer(param: Param, value: &Value) -> Result<i128, ScimError> {
    let number = match value {
        Value::String(s) => return integer(param, s),
        Value::Number(n) => n,
        other => {
            let detail = format!("{}: expected an integer, got {other}", param.name());
            return Err(ScimError::invalid_value(detail));
        }
    };
    if let Some(i) = number.as_i64() {
        return Ok(i128::from(i));
    }
    if let Some(u) = number.as_u64() {
        return Ok(i128::from(u));
    }
    match number.as_f64() {
        // A float cast to i128 saturates, which is what the clamps want.
        Some(f) if f.is_finite() && f.fract() == 0.0 => Ok(f as i128),
        _ => {
            let detail = format!("{}: expected an integer, got {number}", param.name());
            Err(ScimError::invalid_value(detail))
        }
    }
}

/// `startIndex` below 1 is read as 1 (RFC 7644 §3.4.2.4).
fn clamp_start(n: i128) -> u64 {
    u64::try_from(n.max(1)).unwrap_or(u64::MAX)
}

/// `count` below 0 is read as 0 and above [`MAX_COUNT`] as [`MAX_COUNT`]
/// (RFC 7644 §3.4.2.4).
fn clamp_count(n: i128) -> u64 {
    u64::try_from(n.clamp(0, i128::from(MAX_COUNT))).unwrap_or(MAX_COUNT)
}

/// A comma-separated list of attribute paths (RFC 7644 §3.4.2.5); empty
/// items are skipped.
fn attr_list(param: Param, raw: &str) -> Result<Vec<AttrPath>, ScimError> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            AttrPath::parse(item)
                .map_err(|e| ScimError::invalid_value(format!("{}: {}", param.name(), e.detail)))
        })
        .collect()
}

fn json_attr_list(param: Param, value: &Value) -> Result<Vec<AttrPath>, ScimError> {
    match value {
        Value::String(s) => attr_list(param, s),
        Value::Array(items) => {
            let mut paths = Vec::new();
            for item in items {
                let Value::String(s) = item else {
                    let detail = format!("{}: expected strings, got {item}", param.name());
                    return Err(ScimError::invalid_value(detail));
                };
                paths.extend(attr_list(param, s)?);
            }
            Ok(paths)
        }
        other => {
            let detail = format!(
                "{}: expected an array of strings, got {other}",
                param.name()
            );
            Err(ScimError::invalid_value(detail))
        }
    }
}

#[cfg(test)]
mod tests;
