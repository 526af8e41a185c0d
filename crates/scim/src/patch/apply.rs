//! Where one add, replace or remove lands on a working copy of a resource
//! (RFC 7644 §3.5.2.1–3): path-less values key by key, whole schema
//! objects, custom extensions, and the map (resource or enterprise
//! extension) that holds an attribute. What happens to the attribute's
//! value is in `attr`. The caller validates the result of every operation.

use serde_json::{Map, Value};

use super::OpKind;
use super::attr::{remove_attr, set_attr};
use super::target::{Origin, Target, from_key};
use crate::resource::Resource;
use crate::{ENTERPRISE_SCHEMA, ScimError, USER_SCHEMA};

type Object = Map<String, Value>;

/// Applies a path-less add/replace (RFC 7644 §3.5.2.1, §3.5.2.3): every key
/// of the object `value` is resolved as an attribute path (rule 7) and set.
pub(crate) fn set_pathless(
    work: &mut Resource,
    kind: OpKind,
    value: Value,
    origin: Origin,
) -> Result<(), ScimError> {
    let Value::Object(members) = value else {
        return Err(ScimError::invalid_value(
            "a path-less add or replace needs an object value that maps attribute names to \
             values (RFC 7644 §3.5.2.1)",
        ));
    };
    for (key, value) in members {
        if let Some(target) = from_key(&key, &value, origin)? {
            set(work, target, kind, value, origin)?;
        }
    }
    Ok(())
}

/// Add or replace `value` at `target`. On a complex value both merge the
/// given sub-attributes (RFC 7644 §3.5.2.1, §3.5.2.3); on a multi-valued
/// attribute add is a union and replace swaps the whole array.
pub(crate) fn set(
    work: &mut Resource,
    target: Target<'_>,
    kind: OpKind,
    value: Value,
    origin: Origin,
) -> Result<(), ScimError> {
    match target {
        Target::Schema { ext } => {
            let urn = if ext { ENTERPRISE_SCHEMA } else { USER_SCHEMA };
            let Value::Object(members) = value else {
                return Err(ScimError::invalid_value(format!(
                    "{urn} must be an object of attributes, got {}",
                    crate::resource::describe(&value)
                )));
            };
            // Keys inside a schema object are attribute names, like a
            // path-less value's, even when the schema was an explicit path.
            let inner = if origin == Origin::Path {
                Origin::PathlessKey
            } else {
                origin
            };
            for (key, value) in members {
                if let Some(target) = from_key(&format!("{urn}:{key}"), &value, inner)? {
                    set(work, target, kind, value, inner)?;
                }
            }
            Ok(())
        }
        Target::Custom { urn, attr } => set_custom(work, &urn, attr, value),
        Target::Attr(t) => with_container(work, t.ext, |map| {
            edit(map, t.def.name, |old| set_attr(&t, kind, old, value))
        }),
    }
}

/// Removes what `target` names (RFC 7644 §3.5.2.2). With a value on an
/// attribute, only the equal values go (rule 9); finding nothing to remove
/// is not an error (rule 10).
pub(crate) fn remove(
    work: &mut Resource,
    target: Target<'_>,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let value = value.filter(|v| !v.is_null());
    match target {
        Target::Schema { ext: true } => {
            work.remove(ENTERPRISE_SCHEMA);
            Ok(())
        }
        Target::Schema { ext: false } => Err(ScimError::invalid_path(format!(
            "{USER_SCHEMA} names the whole resource, which remove cannot take; name an attribute"
        ))),
        Target::Custom { urn, attr } => {
            let Some(key) = key_ci(work, &urn) else {
                return Ok(());
            };
            match (attr, work.get_mut(&key)) {
                (Some(attr), Some(Value::Object(ext))) => {
                    if let Some(k) = key_ci(ext, &attr) {
                        ext.remove(&k);
                    }
                    if ext.is_empty() {
                        work.remove(&key);
                    }
                }
                _ => {
                    work.remove(&key);
                }
            }
            Ok(())
        }
        Target::Attr(t) => with_container(work, t.ext, |map| {
            edit(map, t.def.name, |old| {
                Ok(old.and_then(|old| remove_attr(&t, old, value)))
            })
        }),
    }
}

/// Sets a custom extension object, or one attribute in it, as sent minus
/// nulls (rule 13).
fn set_custom(
    work: &mut Resource,
    urn: &str,
    attr: Option<String>,
    value: Value,
) -> Result<(), ScimError> {
    let key = key_ci(work, urn).unwrap_or_else(|| urn.to_owned());
    let mut ext = match work.remove(&key) {
        Some(Value::Object(ext)) => ext,
        _ => Object::new(),
    };
    match (attr, strip_nulls(value)) {
        (None, Value::Object(members)) => ext.extend(members),
        (None, Value::Null) => ext.clear(),
        (None, other) => {
            return Err(ScimError::invalid_value(format!(
                "{urn} is a schema extension and must be an object, got {}",
                crate::resource::describe(&other)
            )));
        }
        (Some(attr), value) => {
            let attr = key_ci(&ext, &attr).unwrap_or(attr);
            if value.is_null() {
                ext.remove(&attr);
            } else {
                ext.insert(attr, value);
            }
        }
    }
    if !ext.is_empty() {
        work.insert(key, Value::Object(ext));
    }
    Ok(())
}

/// Runs `f` on the map holding the attribute: the resource itself, or the
/// enterprise extension object, which is dropped when it ends up empty.
fn with_container(
    work: &mut Resource,
    ext: bool,
    f: impl FnOnce(&mut Object) -> Result<(), ScimError>,
) -> Result<(), ScimError> {
    if !ext {
        return f(work);
    }
    let mut map = match work.remove(ENTERPRISE_SCHEMA) {
        Some(Value::Object(map)) => map,
        _ => Object::new(),
    };
    let result = f(&mut map);
    if !map.is_empty() {
        work.insert(ENTERPRISE_SCHEMA.to_owned(), Value::Object(map));
    }
    result
}

/// Replaces `map[name]` by what `f` makes of it; `None` removes it.
fn edit(
    map: &mut Object,
    name: &str,
    f: impl FnOnce(Option<Value>) -> Result<Option<Value>, ScimError>,
) -> Result<(), ScimError> {
    let old = map.remove(name);
    if let Some(new) = f(old)? {
        map.insert(name.to_owned(), new);
    }
    Ok(())
}

/// The stored spelling of `key` in `map`, matched case-insensitively.
fn key_ci(map: &Object, key: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// Removes nulls at every level (RFC 7643 §2.5, rule 12).
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(strip_nulls)
                .collect(),
        ),
        other => other,
    }
}
