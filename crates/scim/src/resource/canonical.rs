//! Shaping one attribute value into its canonical form: schema spelling of
//! sub-attribute names, Entra's shapes normalised, nulls and empty values
//! removed. Shaping never fails; a value that stays malformed is reported by
//! [`super::validate`], which names the attribute.

use serde_json::{Map, Value};

use crate::entra;
use crate::schema::{self, AttrDef, AttrType, Mutability};

/// Multi-valued attributes whose elements Entra addresses by `type`, so a
/// type appears at most once (ENTRA §5.2, [`crate::entra`] rule 15).
pub(crate) const TYPED_ATTRS: &[&str] = &["emails", "phoneNumbers", "ims", "photos", "addresses"];

/// The canonical form of a value for `def`; `None` when it amounts to
/// unassigned (null, empty array, empty complex value: RFC 7643 §2.5).
/// A single value given for a multi-valued attribute is wrapped in an array.
pub(crate) fn canonical_value(def: &'static AttrDef, value: Value) -> Option<Value> {
    if !def.multi_valued {
        return canonical_element(def, value);
    }
    let items = match value {
        Value::Null => return None,
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = canonical_element(def, item) {
            out.push(item);
        }
    }
    dedup(def, &mut out);
    (!out.is_empty()).then_some(Value::Array(out))
}

/// The canonical form of one value of `def` (one element when `def` is
/// multi-valued).
pub(crate) fn canonical_element(def: &'static AttrDef, value: Value) -> Option<Value> {
    let value = entra_shape(def, value);
    match (def.ty, value) {
        (_, Value::Null) => None,
        (AttrType::Complex, Value::Object(map)) => canonical_complex(def, map),
        (AttrType::Boolean, value) => match entra::parse_bool(&value) {
            Some(b) => Some(Value::Bool(b)),
            None => Some(value),
        },
        (_, value) => Some(value),
    }
}

/// Removes duplicate elements of a multi-valued attribute: roles with the
/// same [`entra::role_key`] collapse into the first (rule 6), which takes
/// sub-attributes it lacks from the later ones; other exact duplicates go.
pub(crate) fn dedup(def: &AttrDef, items: &mut Vec<Value>) {
    let mut kept: Vec<Value> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let role = is_roles(def).then(|| entra::role_key(&item)).flatten();
        let same = kept.iter_mut().find(|k| match &role {
            Some(key) => entra::role_key(k).as_deref() == Some(key.as_str()),
            None => **k == item,
        });
        match (same, item) {
            (Some(Value::Object(first)), Value::Object(later)) => {
                for (key, value) in later {
                    first.entry(key).or_insert(value);
                }
            }
            (Some(_), _) => {}
            (None, item) => kept.push(item),
        }
    }
    *items = kept;
}

/// Whether `def` is the core `roles` attribute (RFC 7643 §4.1.2).
pub(crate) fn is_roles(def: &AttrDef) -> bool {
    def.name.eq_ignore_ascii_case("roles")
}

/// Whether `def` is the enterprise `manager` attribute (RFC 7643 §4.3).
pub(crate) fn is_manager(def: &AttrDef) -> bool {
    def.name.eq_ignore_ascii_case("manager")
}

/// Whether elements of `def` are keyed on `type` (rule 15).
pub(crate) fn is_typed(def: &AttrDef) -> bool {
    TYPED_ATTRS
        .iter()
        .any(|name| def.name.eq_ignore_ascii_case(name))
}

/// A sub-attribute a client may write. Read-only ones (`manager.displayName`)
/// are the server's to set and write-only ones are never stored
/// (RFC 7643 §7), so both are dropped from input.
pub(crate) fn writable_sub(def: &'static AttrDef, name: &str) -> Option<&'static AttrDef> {
    schema::find_sub(def, name).filter(|sub| {
        matches!(
            sub.mutability,
            Mutability::ReadWrite | Mutability::Immutable
        )
    })
}

/// Entra's shapes of roles and manager (rules 4, 5, 11).
pub(crate) fn entra_shape(def: &AttrDef, value: Value) -> Value {
    if is_roles(def) {
        entra::normalize_role(value)
    } else if is_manager(def) {
        entra::normalize_manager(value)
    } else {
        value
    }
}

/// Sub-attributes get their schema spelling; unknown ones are dropped, as
/// unknown attributes are at the top level.
fn canonical_complex(def: &'static AttrDef, map: Map<String, Value>) -> Option<Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let Some(sub) = writable_sub(def, &key) else {
            continue;
        };
        match canonical_value(sub, value) {
            Some(value) => out.insert(sub.name.to_owned(), value),
            None => out.remove(sub.name),
        };
    }
    (!out.is_empty()).then_some(Value::Object(out))
}
