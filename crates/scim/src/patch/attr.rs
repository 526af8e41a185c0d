//! What add, replace and remove do to the value of one schema attribute
//! (RFC 7644 §3.5.2.1–3), with Entra's readings from [`crate::entra`]:
//! merging complex values, unions of multi-valued attributes, writes through
//! value filters that create the element they describe (rule 8), and
//! removes of listed values (rule 9). Values are canonicalised on the way
//! in.

use serde_json::{Map, Value};

use super::OpKind;
use super::select::{new_element, value_matches};
use super::target::AttrTarget;
use crate::resource::canonical::{
    canonical_element, canonical_value, dedup, entra_shape, is_manager, is_roles, is_typed,
    writable_sub,
};
use crate::schema::{AttrDef, AttrType};
use crate::{ScimError, entra};

type Object = Map<String, Value>;

/// The new value of an attribute after add/replace.
pub(super) fn set_attr(
    t: &AttrTarget<'_>,
    kind: OpKind,
    old: Option<Value>,
    value: Value,
) -> Result<Option<Value>, ScimError> {
    let def = t.def;
    if t.filter.is_some() || (def.multi_valued && t.sub.is_some()) {
        return write_selected(t, kind, old, value);
    }
    Ok(match (t.sub, def.multi_valued, kind) {
        // `name.givenName`: a merge of one sub-attribute, so that a new
        // `manager.value` drops the old manager's `$ref` too (rule 11).
        (Some(sub), _, _) => {
            let given = Object::from_iter([(sub.name.to_owned(), value)]);
            merge_complex(def, old, Value::Object(given))
        }
        (None, true, OpKind::Replace) => canonical_value(def, value),
        (None, true, _) => union(def, old, canonical_value(def, value)),
        (None, false, _) if def.ty == AttrType::Complex => merge_complex(def, old, value),
        (None, false, _) => canonical_value(def, value),
    })
}

/// What an existing value loses on remove: selected elements or their
/// sub-attribute, a sub-attribute, the listed values, or everything.
pub(super) fn remove_attr(t: &AttrTarget<'_>, old: Value, value: Option<Value>) -> Option<Value> {
    let def = t.def;
    let strip = |element: Value| match t.sub {
        Some(sub) => {
            let mut object = into_object(Some(element));
            object.remove(sub.name);
            non_empty(object)
        }
        None => None,
    };
    if t.filter.is_some() || (def.multi_valued && t.sub.is_some()) {
        let selects = |element: &Value| t.filter.is_none_or(|f| f.matches_element(element, def));
        if !def.multi_valued {
            return if selects(&old) { strip(old) } else { Some(old) };
        }
        let kept: Vec<Value> = into_items(Some(old))
            .into_iter()
            .filter_map(|item| {
                if selects(&item) {
                    strip(item)
                } else {
                    Some(item)
                }
            })
            .collect();
        return (!kept.is_empty()).then_some(Value::Array(kept));
    }
    if t.sub.is_some() {
        return strip(old);
    }
    // Without a value the whole attribute goes.
    let value = value?;
    let Some(wanted) = canonical_value(def, value) else {
        return Some(old);
    };
    if !def.multi_valued {
        return if value_matches(def, &old, &wanted) {
            None
        } else {
            Some(old)
        };
    }
    let wanted = into_items(Some(wanted));
    let kept: Vec<Value> = into_items(Some(old))
        .into_iter()
        .filter(|item| !wanted.iter().any(|w| value_matches(def, item, w)))
        .collect();
    (!kept.is_empty()).then_some(Value::Array(kept))
}

/// Add/replace on the elements a filter selects (all elements for
/// `emails.value` without a filter). When none is selected, the element the
/// filter describes is created (rule 8).
fn write_selected(
    t: &AttrTarget<'_>,
    kind: OpKind,
    old: Option<Value>,
    value: Value,
) -> Result<Option<Value>, ScimError> {
    let def = t.def;
    let selects = |element: &Value| t.filter.is_none_or(|f| f.matches_element(element, def));
    if !def.multi_valued {
        // A filter on a single complex value, like `manager[value eq "…"]`.
        return match old {
            Some(old) if selects(&old) => Ok(write_element(t, kind, old, value)),
            // Clearing what is not there is done already (rule 10).
            old if clears(t, &value) => Ok(old),
            _ => Err(no_match(def)),
        };
    }
    let items = into_items(old);
    let mut out = Vec::with_capacity(items.len() + 1);
    let mut touched = None;
    let mut matched = false;
    for item in items {
        if !selects(&item) {
            out.push(item);
            continue;
        }
        matched = true;
        if let Some(item) = write_element(t, kind, item, value.clone()) {
            touched = touched.or(is_primary(&item).then_some(out.len()));
            out.push(item);
        }
    }
    // Clearing what is not there is done already (rule 10).
    if !matched && !clears(t, &value) {
        let seed = match t.filter {
            None => Object::new(),
            Some(filter) => new_element(def, filter).ok_or_else(|| no_match(def))?,
        };
        if let Some(item) = write_element(t, kind, Value::Object(seed), value) {
            touched = is_primary(&item).then_some(out.len());
            out.push(item);
        }
    }
    if let Some(keep) = touched {
        demote_other_primaries(&mut out, keep);
    }
    dedup(def, &mut out);
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Whether writing `value` at the target amounts to clearing it (null, or
/// an empty array or object: RFC 7643 §2.5).
fn clears(t: &AttrTarget<'_>, value: &Value) -> bool {
    match t.sub {
        Some(sub) => canonical_value(sub, value.clone()).is_none(),
        None => canonical_element(t.def, value.clone()).is_none(),
    }
}

/// Writes into one selected element: a sub-attribute, or (no sub-attribute)
/// the whole element for replace and its given sub-attributes for add.
fn write_element(t: &AttrTarget<'_>, kind: OpKind, element: Value, value: Value) -> Option<Value> {
    match (t.sub, kind) {
        (Some(sub), _) => {
            let mut object = into_object(Some(element));
            put(&mut object, sub, value);
            non_empty(object)
        }
        // The replacement keeps what the filter selected it by, so that a
        // repeated replace selects it again.
        (None, OpKind::Replace) => match canonical_element(t.def, value) {
            Some(Value::Object(given)) => {
                let mut element = t
                    .filter
                    .and_then(|f| new_element(t.def, f))
                    .unwrap_or_default();
                element.extend(given);
                non_empty(element)
            }
            other => other,
        },
        (None, _) => merge_complex(t.def, Some(element), value),
    }
}

/// Merges the sub-attributes given in `value` into a complex value; a null
/// sub-attribute clears it, a null value clears the attribute
/// (RFC 7643 §2.5). A manager naming someone else replaces the old one
/// (rule 11).
fn merge_complex(def: &'static AttrDef, old: Option<Value>, value: Value) -> Option<Value> {
    match entra_shape(def, value) {
        Value::Null => None,
        Value::Object(given) => {
            let new = canonical_element(def, Value::Object(given.clone()));
            let fresh = match (&old, &new) {
                (Some(old), Some(new)) => is_manager(def) && entra::manager_changed(old, new),
                _ => false,
            };
            let mut object = if fresh {
                Object::new()
            } else {
                into_object(old)
            };
            for (key, sub_value) in given {
                if let Some(sub) = writable_sub(def, &key) {
                    put(&mut object, sub, sub_value);
                }
            }
            non_empty(object)
        }
        // Not an object: kept so that validation names the attribute.
        other => Some(other),
    }
}

/// `add` on a multi-valued attribute (RFC 7644 §3.5.2.1): each new element
/// is appended, unless an element in the same slot exists (same role value,
/// rule 6; same type, rule 15; or equal), which it then updates.
fn union(def: &'static AttrDef, old: Option<Value>, new: Option<Value>) -> Option<Value> {
    let mut items = into_items(old);
    for element in into_items(new) {
        let keep = match items.iter().position(|item| same_slot(def, item, &element)) {
            Some(index) => {
                if let (Some(Value::Object(item)), Value::Object(given)) =
                    (items.get_mut(index), element)
                {
                    item.extend(given);
                }
                index
            }
            None => {
                items.push(element);
                items.len().saturating_sub(1)
            }
        };
        demote_other_primaries(&mut items, keep);
    }
    (!items.is_empty()).then_some(Value::Array(items))
}

/// Sets sub-attribute `sub` of `object` to the canonical `value`, or
/// removes it when that is unassigned.
fn put(object: &mut Object, sub: &'static AttrDef, value: Value) {
    match canonical_value(sub, value) {
        Some(value) => object.insert(sub.name.to_owned(), value),
        None => object.remove(sub.name),
    };
}

/// Whether two elements occupy the same slot of a multi-valued attribute.
fn same_slot(def: &AttrDef, a: &Value, b: &Value) -> bool {
    if is_roles(def)
        && let (Some(x), Some(y)) = (entra::role_key(a), entra::role_key(b))
    {
        return x == y;
    }
    if is_typed(def)
        && let (Some(Value::String(x)), Some(Value::String(y))) = (a.get("type"), b.get("type"))
    {
        return x.eq_ignore_ascii_case(y);
    }
    a == b
}

/// A value set as primary clears `primary` on the others (RFC 7644 §3.5.2).
fn demote_other_primaries(items: &mut [Value], keep: usize) {
    if !items.get(keep).is_some_and(is_primary) {
        return;
    }
    for (index, item) in items.iter_mut().enumerate() {
        if index != keep
            && is_primary(item)
            && let Value::Object(item) = item
        {
            item.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

fn is_primary(item: &Value) -> bool {
    item.get("primary") == Some(&Value::Bool(true))
}

fn into_items(value: Option<Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

fn into_object(value: Option<Value>) -> Object {
    match value {
        Some(Value::Object(object)) => object,
        _ => Object::new(),
    }
}

fn non_empty(object: Object) -> Option<Value> {
    (!object.is_empty()).then_some(Value::Object(object))
}

fn no_match(def: &AttrDef) -> ScimError {
    ScimError::no_target(format!(
        "the filter on {} matches no value, and only a filter of eq terms joined by and can \
         create one; add the value without a filter (RFC 7644 §3.5.2)",
        def.name
    ))
}
