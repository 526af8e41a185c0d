//! Selecting elements of a multi-valued (or complex) attribute beyond what
//! [`Filter::matches_element`] answers: the element an unmatched `eq`
//! filter describes ([`crate::entra`] rule 8), and the values a
//! remove-with-value names (rule 9).

use serde_json::{Map, Value};

use crate::entra;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;
use crate::resource::canonical::is_roles;
use crate::schema::{self, AttrDef, AttrType};

/// The element an unmatched filter describes, when the filter is only `eq`
/// terms joined by `and` on known sub-attributes (rule 8): `type eq "work"`
/// gives `{"type": "work"}`. `None` for any other filter.
pub(super) fn new_element(parent: &'static AttrDef, filter: &Filter) -> Option<Map<String, Value>> {
    let mut terms = Vec::new();
    if !eq_terms(filter, &mut terms) {
        return None;
    }
    let mut element = Map::new();
    for (path, value) in terms {
        if path.sub_attr.is_some() {
            return None;
        }
        let sub = schema::find_sub(parent, &path.attr)?;
        let value = match (value, sub.ty) {
            (CompValue::Str(s), AttrType::Boolean) => Value::Bool(entra::parse_bool_str(s)?),
            (CompValue::Str(s), _) => Value::String(s.clone()),
            (CompValue::Num(n), _) => Value::Number(n.clone()),
            (CompValue::Bool(b), _) => Value::Bool(*b),
            (CompValue::Null, _) => continue,
        };
        element.insert(sub.name.to_owned(), value);
    }
    Some(element)
}

/// Whether an existing value equals one named by a remove-with-value
/// (rule 9). Both are canonical. Roles compare on [`entra::role_key`];
/// other complex values on `value` when it is given, else on every given
/// sub-attribute; simple values directly.
pub(super) fn value_matches(def: &'static AttrDef, existing: &Value, wanted: &Value) -> bool {
    if is_roles(def)
        && let (Some(a), Some(b)) = (entra::role_key(existing), entra::role_key(wanted))
    {
        return a == b;
    }
    match (existing, wanted) {
        (Value::Object(have), Value::Object(want)) => {
            let keys: Vec<&String> = match want.get_key_value("value") {
                Some((key, _)) => vec![key],
                None => want.keys().collect(),
            };
            keys.into_iter().all(|key| {
                let case_exact = schema::find_sub(def, key).is_some_and(|s| s.case_exact);
                match (have.get(key), want.get(key)) {
                    (Some(a), Some(b)) => same_scalar(a, b, case_exact),
                    _ => false,
                }
            })
        }
        (a, b) => same_scalar(a, b, def.case_exact),
    }
}

/// Collects the `eq` terms of a filter made only of `eq` and `and`.
fn eq_terms<'f>(filter: &'f Filter, out: &mut Vec<(&'f AttrPath, &'f CompValue)>) -> bool {
    match filter {
        Filter::Compare(path, CompareOp::Eq, value) => {
            out.push((path, value));
            true
        }
        Filter::And(a, b) => eq_terms(a, out) && eq_terms(b, out),
        _ => false,
    }
}

/// Equality of two simple values, strings compared by `caseExact`.
fn same_scalar(a: &Value, b: &Value, case_exact: bool) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if !case_exact => a.to_lowercase() == b.to_lowercase(),
        _ => a == b,
    }
}
