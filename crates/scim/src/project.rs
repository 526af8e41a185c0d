//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9).
//!
//! Rules chosen: names match case-insensitively and may carry the core
//! schema URN; `schemas` and attributes with `returned: always` (`id`) are
//! always kept; `returned: never` (`password`) is never output; `meta` is
//! `returned: default`, so `attributes=userName` leaves it out; a projected
//! complex value or extension object that ends up empty is left out; both
//! parameters may be given, `attributes` selects first and
//! `excludedAttributes` then removes.

use serde_json::{Map, Value};

use crate::path::AttrPath;
use crate::schema::{self, Returned};

/// Projects a rendered resource. `id`, `schemas` and other attributes with
/// `returned: always` are always kept; with `attributes` only those (and
/// their parents/sub-attributes) are kept; `excludedAttributes` removes the
/// named ones unless they are always returned.
pub fn project(resource: &Value, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Value::Object(members) = resource else {
        return resource.clone();
    };
    let rules = Rules {
        include: attributes.iter().map(Selector::new).collect(),
        exclude: excluded.iter().map(Selector::new).collect(),
    };
    Value::Object(project_members(members, &Scope::Core, &rules))
}

/// Where an attribute lives: top level (core and common attributes) or in
/// an extension object, keyed by its URN in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Core,
    Extension(String),
}

impl Scope {
    fn of_urn(urn: &str) -> Scope {
        match schema::canonical_urn(urn) {
            Some(crate::USER_SCHEMA) => Scope::Core,
            _ => Scope::Extension(urn.to_ascii_lowercase()),
        }
    }
}

/// One `attributes` / `excludedAttributes` entry; `attr: None` names every
/// attribute of the scope (the path was a bare schema URN).
#[derive(Debug)]
struct Selector {
    scope: Scope,
    attr: Option<String>,
    sub: Option<String>,
}

impl Selector {
    fn new(path: &AttrPath) -> Selector {
        if let Some(urn) = path.whole_schema() {
            return Selector {
                scope: Scope::of_urn(urn),
                attr: None,
                sub: None,
            };
        }
        let scope = path.urn.as_deref().map_or(Scope::Core, Scope::of_urn);
        Selector {
            scope,
            attr: Some(path.attr.clone()),
            sub: path.sub_attr.clone(),
        }
    }
}

struct Rules {
    include: Vec<Selector>,
    exclude: Vec<Selector>,
}

/// What a list of selectors says about one attribute.
enum Selected<'s> {
    Nothing,
    Whole,
    Subs(Vec<&'s str>),
}

fn selected<'s>(selectors: &'s [Selector], scope: &Scope, key: &str) -> Selected<'s> {
    let mut subs = Vec::new();
    for s in selectors.iter().filter(|s| s.scope == *scope) {
        match (&s.attr, &s.sub) {
            (None, _) => return Selected::Whole,
            (Some(attr), _) if !attr.eq_ignore_ascii_case(key) => {}
            (Some(_), None) => return Selected::Whole,
            (Some(_), Some(sub)) => subs.push(sub.as_str()),
        }
    }
    if subs.is_empty() {
        Selected::Nothing
    } else {
        Selected::Subs(subs)
    }
}

fn project_members(
    members: &Map<String, Value>,
    scope: &Scope,
    rules: &Rules,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in members {
        let top = *scope == Scope::Core;
        let kept = if top && key == "schemas" {
            Some(value.clone())
        } else if let (true, Some(object)) = (top && is_urn(key), value.as_object()) {
            let inner = project_members(object, &Scope::of_urn(key), rules);
            let untouched = object.is_empty() && rules.include.is_empty();
            (!inner.is_empty() || untouched).then_some(Value::Object(inner))
        } else {
            project_attribute(key, value, scope, rules)
        };
        if let Some(kept) = kept {
            out.insert(key.clone(), kept);
        }
    }
    out
}

fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

fn project_attribute(key: &str, value: &Value, scope: &Scope, rules: &Rules) -> Option<Value> {
    let urn = match scope {
        Scope::Core => None,
        Scope::Extension(urn) => Some(urn.as_str()),
    };
    let returned = schema::find(urn, key).map_or(Returned::Default, |d| d.returned);
    match returned {
        Returned::Never => return None,
        Returned::Always => return Some(value.clone()),
        Returned::Default | Returned::Request => {}
    }
    // Only a value cut down to some sub-attributes may become empty and be
    // dropped; an attribute stored empty passes through as it is.
    let mut cut = false;
    let mut value = match selected(&rules.include, scope, key) {
        Selected::Whole => value.clone(),
        Selected::Subs(subs) => {
            cut = true;
            keep_subs(value, &subs)
        }
        // `returned: request` attributes appear only when asked for by name.
        Selected::Nothing if rules.include.is_empty() && returned == Returned::Default => {
            value.clone()
        }
        Selected::Nothing => return None,
    };
    match selected(&rules.exclude, scope, key) {
        Selected::Whole => return None,
        Selected::Subs(subs) => {
            cut = true;
            drop_subs(&mut value, &subs);
        }
        Selected::Nothing => {}
    }
    (!cut || !is_empty(&value)).then_some(value)
}

fn is_named(key: &str, subs: &[&str]) -> bool {
    subs.iter().any(|s| s.eq_ignore_ascii_case(key))
}

/// The value with only the named sub-attributes, element by element for a
/// multi-valued attribute.
fn keep_subs(value: &Value, subs: &[&str]) -> Value {
    let keep = |object: &Map<String, Value>| -> Map<String, Value> {
        object
            .iter()
            .filter(|(k, _)| is_named(k, subs))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    match value {
        Value::Object(object) => Value::Object(keep(object)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter_map(Value::as_object)
                .map(keep)
                .filter(|o| !o.is_empty())
                .map(Value::Object)
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn drop_subs(value: &mut Value, subs: &[&str]) {
    match value {
        Value::Object(object) => object.retain(|k, _| !is_named(k, subs)),
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(object) = item {
                    object.retain(|k, _| !is_named(k, subs));
                }
            }
            items.retain(|item| !is_empty(item));
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(object) => object.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
