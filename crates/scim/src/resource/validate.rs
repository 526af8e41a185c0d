//! Schema checks of a canonical resource (RFC 7643 §2, §4). Every error is
//! 400 `invalidValue` and names the attribute, what it must be, and what
//! was found, so the admin can fix the mapping from Entra's provisioning log.

use std::fmt;

use serde_json::{Map, Value};

use super::canonical::{TYPED_ATTRS, is_typed};
use crate::schema::{self, AttrDef, AttrType};
use crate::{ENTERPRISE_SCHEMA, ScimError};

/// See [`super::validate`].
pub(crate) fn validate(resource: &Map<String, Value>) -> Result<(), ScimError> {
    check_user_name(resource.get("userName"))?;
    for (key, value) in resource {
        if key == ENTERPRISE_SCHEMA {
            check_extension(value)?;
        } else if let Some(def) = schema::find(None, key) {
            check_value(def, value, Path::Top(def.name))?;
        }
    }
    Ok(())
}

/// `userName` is required and must be a non-empty string (RFC 7643 §4.1.1).
fn check_user_name(value: Option<&Value>) -> Result<(), ScimError> {
    match value {
        None => Err(ScimError::invalid_value(
            "userName is required: send a non-empty string (RFC 7643 §4.1.1)",
        )),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(other) => Err(ScimError::invalid_value(format!(
            "userName must be a non-empty string (RFC 7643 §4.1.1), got {}",
            describe(other)
        ))),
    }
}

/// The enterprise extension is an object of enterprise attributes (§4.3).
fn check_extension(value: &Value) -> Result<(), ScimError> {
    let Value::Object(map) = value else {
        return Err(ScimError::invalid_value(format!(
            "{ENTERPRISE_SCHEMA} must be an object of enterprise attributes \
             (RFC 7643 §4.3), got {}",
            describe(value)
        )));
    };
    for (key, value) in map {
        if let Some(def) = schema::find(Some(ENTERPRISE_SCHEMA), key) {
            check_value(def, value, Path::Enterprise(def.name))?;
        }
    }
    Ok(())
}

/// An attribute's path for an error detail, written out only when an error
/// is: a valid resource is checked without formatting a single name.
#[derive(Clone, Copy)]
enum Path<'a> {
    /// A core attribute: `emails`.
    Top(&'static str),
    /// An enterprise attribute: `urn:…:enterprise:2.0:User:manager`.
    Enterprise(&'static str),
    /// A sub-attribute: `emails.value`.
    Sub(&'a Path<'a>, &'static str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Top(name) => f.write_str(name),
            Path::Enterprise(name) => write!(f, "{ENTERPRISE_SCHEMA}:{name}"),
            Path::Sub(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

/// Checks the type of a value against its definition, recursively; `name`
/// is the attribute's path, used in the error.
fn check_value(def: &'static AttrDef, value: &Value, name: Path<'_>) -> Result<(), ScimError> {
    if !def.multi_valued {
        return check_single(def, value, name);
    }
    let Value::Array(items) = value else {
        return Err(type_error(
            name,
            &format!("an array of {}", expected(def.ty)),
            value,
        ));
    };
    for item in items {
        check_single(def, item, name)?;
    }
    check_one_primary(items, name)?;
    if is_typed(def) {
        check_unique_types(items, name)?;
    }
    Ok(())
}

/// Checks one value (or one element of a multi-valued attribute).
fn check_single(def: &'static AttrDef, value: &Value, name: Path<'_>) -> Result<(), ScimError> {
    let ok = match def.ty {
        AttrType::String | AttrType::Reference | AttrType::DateTime | AttrType::Binary => {
            value.is_string()
        }
        AttrType::Boolean => value.is_boolean(),
        AttrType::Integer => value.is_i64() || value.is_u64(),
        AttrType::Decimal => value.is_number(),
        AttrType::Complex => {
            let Value::Object(map) = value else {
                return Err(type_error(name, expected(def.ty), value));
            };
            for (key, sub_value) in map {
                if let Some(sub) = schema::find_sub(def, key) {
                    check_value(sub, sub_value, Path::Sub(&name, sub.name))?;
                }
            }
            true
        }
    };
    if ok {
        Ok(())
    } else {
        Err(type_error(name, expected(def.ty), value))
    }
}

/// At most one element may be primary (RFC 7643 §2.4).
fn check_one_primary(items: &[Value], name: Path<'_>) -> Result<(), ScimError> {
    let primaries = items
        .iter()
        .filter(|i| i.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "{name} has {primaries} values with primary true; mark at most one as primary \
             (RFC 7643 §2.4)"
        )));
    }
    Ok(())
}

/// Each `type` at most once in [`TYPED_ATTRS`] (ENTRA §5.2, rule 15).
fn check_unique_types(items: &[Value], name: Path<'_>) -> Result<(), ScimError> {
    let mut seen: Vec<String> = Vec::new();
    for ty in items
        .iter()
        .filter_map(|i| i.get("type"))
        .filter_map(Value::as_str)
    {
        let key = ty.to_lowercase();
        if seen.contains(&key) {
            return Err(ScimError::invalid_value(format!(
                "{name} has more than one value of type \"{ty}\"; send one value per type \
                 (types must be unique in {})",
                TYPED_ATTRS.join(", ")
            )));
        }
        seen.push(key);
    }
    Ok(())
}

/// The expected JSON shape of a type, for error messages (RFC 7643 §2.3).
fn expected(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "a string",
        AttrType::Boolean => "a boolean (true or false)",
        AttrType::Decimal => "a number",
        AttrType::Integer => "an integer",
        AttrType::DateTime => "a string with an xsd:dateTime",
        AttrType::Binary => "a base64 string",
        AttrType::Reference => "a string with a URI",
        AttrType::Complex => "an object",
    }
}

fn type_error(name: Path<'_>, expected: &str, got: &Value) -> ScimError {
    ScimError::invalid_value(format!(
        "{name} must be {expected} (RFC 7643 §2.3), got {}",
        describe(got)
    ))
}

/// A short description of a value for an error detail: scalars are shown
/// (strings cut at 40 characters), containers only by kind.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("the string \"{head}…\"")
        }
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
