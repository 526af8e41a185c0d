//! Evaluating a filter against a rendered resource (RFC 7644 §3.4.2.2).
//!
//! Rules chosen where the RFC leaves room:
//! - attribute names match case-insensitively; strings compare by the
//!   schema's `caseExact`, and case-insensitively for unknown attributes;
//! - a multi-valued attribute matches if any value does, and a complex one
//!   compared directly (`emails eq "x"`) compares its `value` sub-attribute;
//! - `ne` is the negation of `eq`, so it also matches an absent attribute,
//!   and `eq null` matches exactly when `pr` does not (empty counts as absent);
//! - `gt`/`ge`/`lt`/`le` order strings by code point and numbers by value;
//!   `dateTime` values are ordered as strings, which is their instant order
//!   because the server renders them all as RFC 3339 in UTC with one format;
//! - a filter string `"True"`/`"False"` against a boolean compares as a
//!   boolean (Entra sends booleans as strings); a number against a string
//!   compares as its JSON text (an unquoted numeric `externalId`);
//! - any comparison the types do not support is simply false.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;
use crate::schema::{self, AttrDef, AttrType};

/// What the names in a filter are relative to.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// A whole rendered resource.
    Resource,
    /// One element (or the value) of a complex attribute, whose definition
    /// is known when the attribute is in the schema.
    Element(Option<&'static AttrDef>),
}

pub(super) fn matches(filter: &Filter, resource: &Value) -> bool {
    eval(filter, resource, Scope::Resource)
}

pub(super) fn matches_element(filter: &Filter, element: &Value, parent: &'static AttrDef) -> bool {
    eval(filter, element, Scope::Element(Some(parent)))
}

fn eval(filter: &Filter, node: &Value, scope: Scope) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, node, scope) && eval(b, node, scope),
        Filter::Or(a, b) => eval(a, node, scope) || eval(b, node, scope),
        Filter::Not(inner) => !eval(inner, node, scope),
        Filter::Present(path) => {
            let (values, _) = locate(node, path, scope);
            values.into_iter().any(is_present)
        }
        Filter::Compare(path, op, expected) => {
            let (values, def) = locate(node, path, scope);
            let (values, def) = simple_values(values, def);
            match (op, expected) {
                (CompareOp::Eq, CompValue::Null) => !values.into_iter().any(is_present),
                (CompareOp::Ne, CompValue::Null) => values.into_iter().any(is_present),
                (CompareOp::Ne, _) => !values
                    .iter()
                    .any(|v| compare(v, CompareOp::Eq, expected, def)),
                _ => values.iter().any(|v| compare(v, *op, expected, def)),
            }
        }
        Filter::ValuePath(path, inner) => {
            let (values, def) = locate(node, path, scope);
            values
                .into_iter()
                .any(|element| eval(inner, element, Scope::Element(def)))
        }
    }
}

/// The non-null values a path names (array elements flattened) and the
/// definition of the attribute or sub-attribute they belong to.
fn locate<'v>(
    node: &'v Value,
    path: &AttrPath,
    scope: Scope,
) -> (Vec<&'v Value>, Option<&'static AttrDef>) {
    let (container, def) = match scope {
        Scope::Resource => {
            let container = match path.urn.as_deref() {
                None => Some(node),
                Some(urn) if schema::canonical_urn(urn) == Some(crate::USER_SCHEMA) => Some(node),
                Some(urn) => get_ci(node, urn),
            };
            let def = path.resolve().map(|r| r.sub_attr.unwrap_or(r.attr));
            (container, def)
        }
        // Inside a value filter names are sub-attributes; a URN there names nothing.
        Scope::Element(parent) if path.urn.is_none() => {
            let def = parent.and_then(|p| schema::find_sub(p, &path.attr));
            (Some(node), if path.sub_attr.is_some() { None } else { def })
        }
        Scope::Element(_) => (None, None),
    };
    let mut values = Vec::new();
    if let Some(value) = container.and_then(|c| get_ci(c, &path.attr)) {
        flatten(value, &mut values);
    }
    if let Some(sub) = &path.sub_attr {
        let parents = std::mem::take(&mut values);
        for value in parents.into_iter().filter_map(|p| get_ci(p, sub)) {
            flatten(value, &mut values);
        }
    }
    (values, def)
}

/// A complex value compared directly stands for its `value` sub-attribute
/// (RFC 7644 §3.4.2.2, `emails eq "x"`).
fn simple_values<'v>(
    values: Vec<&'v Value>,
    def: Option<&'static AttrDef>,
) -> (Vec<&'v Value>, Option<&'static AttrDef>) {
    if !values.iter().any(|v| v.is_object()) {
        return (values, def);
    }
    let def = def.and_then(|d| schema::find_sub(d, "value"));
    let mut simple = Vec::new();
    for value in values.into_iter().filter_map(|v| {
        if v.is_object() {
            get_ci(v, "value")
        } else {
            Some(v)
        }
    }) {
        flatten(value, &mut simple);
    }
    (simple, def)
}

fn flatten<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        other => out.push(other),
    }
}

/// An object member by name, exact spelling first, then ignoring ASCII case.
fn get_ci<'v>(node: &'v Value, key: &str) -> Option<&'v Value> {
    let object: &Map<String, Value> = node.as_object()?;
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// `pr`: present and not empty (RFC 7644 §3.4.2.2).
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue, def: Option<&AttrDef>) -> bool {
    let case_exact = def.is_some_and(|d| d.case_exact || d.ty == AttrType::Binary);
    match (actual, expected) {
        (Value::String(a), CompValue::Str(b)) => compare_str(a, b, op, case_exact),
        (Value::String(a), CompValue::Num(n)) => compare_str(a, &n.to_string(), op, case_exact),
        (Value::String(a), CompValue::Bool(b)) => op == CompareOp::Eq && parse_bool(a) == Some(*b),
        (Value::Bool(a), CompValue::Bool(b)) => op == CompareOp::Eq && a == b,
        (Value::Bool(a), CompValue::Str(b)) => op == CompareOp::Eq && parse_bool(b) == Some(*a),
        (Value::Number(a), CompValue::Num(b)) => {
            compare_numbers(a, b).is_some_and(|o| ordered(o, op))
        }
        _ => false,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare_str(actual: &str, expected: &str, op: CompareOp, case_exact: bool) -> bool {
    let (a, b): (Cow<'_, str>, Cow<'_, str>) = if case_exact {
        (actual.into(), expected.into())
    } else {
        (actual.to_lowercase().into(), expected.to_lowercase().into())
    };
    match op {
        CompareOp::Co => a.contains(b.as_ref()),
        CompareOp::Sw => a.starts_with(b.as_ref()),
        CompareOp::Ew => a.ends_with(b.as_ref()),
        _ => ordered(a.cmp(&b), op),
    }
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => Some(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Whether `actual.cmp(expected) == ordering` satisfies an ordering operator.
fn ordered(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests;
