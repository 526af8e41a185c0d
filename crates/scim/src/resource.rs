//! The User resource: decoding request bodies into one canonical form,
//! validating it, and rendering it with `id`, `schemas` and `meta`.
//!
//! The canonical form ([`Resource`]) is a JSON object holding the client's
//! attributes with their schema spelling (`username` becomes `userName`),
//! the enterprise extension as an object under its URN key, Entra's shapes
//! normalised (see [`crate::entra`]), nulls removed, and without the
//! server-owned `id`, `meta` and `schemas`.
//!
//! More precisely:
//! - every attribute of the User schema (RFC 7643 §4.1) and the enterprise
//!   extension (§4.3) is kept, whether Ignite uses it or not, with its value
//!   as sent (strings are never reformatted, empty strings are kept), so
//!   Entra sees no drift (rule 14);
//! - top-level keys that name no attribute are dropped, except objects
//!   under unknown `urn:` keys, which are custom extensions kept as sent
//!   minus nulls (rule 13); unknown sub-attributes are dropped too;
//! - nulls, empty arrays and empty complex values are unassigned
//!   (RFC 7643 §2.5) and never stored (rule 12);
//! - a single value sent for a multi-valued attribute is wrapped in an array;
//! - read-only attributes and sub-attributes (`id`, `meta`, `groups`,
//!   `manager.displayName`) in a body are ignored (RFC 7644 §3.5.1), and the
//!   write-only `password` is never stored: Ignite users sign in through
//!   Entra;
//! - enterprise attributes sent without their URN (`department`) land in
//!   the extension object (rule 18).
//!
//! A POST or PUT body is read exactly like the value of a path-less PATCH
//! replace applied to an empty resource, so dotted and URN-qualified keys
//! work in both (rule 7).

pub(crate) mod canonical;
mod validate;

use serde_json::{Map, Value, json};

use crate::patch::{OpKind, Origin, set_pathless};
use crate::{ENTERPRISE_SCHEMA, ScimError, USER_SCHEMA, entra};

pub(crate) use validate::describe;

/// A canonical User resource (see the module docs).
pub type Resource = Map<String, Value>;

/// Server-owned metadata added when a resource is rendered (RFC 7643 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// RFC 3339 creation time.
    pub created: String,
    /// RFC 3339 time of the last change.
    pub last_modified: String,
    /// The resource's URL, `{base}/Users/{id}`.
    pub location: String,
    /// The version, rendered as the weak ETag `W/"{version}"`.
    pub version: u64,
}

/// The fields the core indexes, read from a canonical resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreFields {
    /// `userName`.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`; absent means true.
    pub active: bool,
    /// Every `emails[].value`.
    pub emails: Vec<String>,
    /// Every `roles[].value`, as sent (mapping to Ignite roles is the caller's job).
    pub role_values: Vec<String>,
}

/// Parses a request body as JSON. Malformed JSON, JSON nested too deeply, or
/// a body that is not an object is 400 `invalidSyntax`.
pub fn parse_json_body(body: &[u8]) -> Result<Value, ScimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax(
            "request body is empty; send a JSON object",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        // serde_json stops at 128 levels instead of overflowing the stack.
        if e.to_string().starts_with("recursion limit exceeded") {
            ScimError::invalid_syntax(format!(
                "request body is nested too deeply (at most 128 levels): {e}"
            ))
        } else {
            ScimError::invalid_syntax(format!("request body is not valid JSON: {e}"))
        }
    })?;
    if !value.is_object() {
        return Err(ScimError::invalid_syntax(format!(
            "request body must be a JSON object, got {}",
            describe(&value)
        )));
    }
    Ok(value)
}

/// Turns a POST or PUT body into a canonical, validated resource.
pub fn normalize_user(body: &Value) -> Result<Resource, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(format!(
            "a User must be a JSON object (RFC 7644 §3.3), got {}",
            describe(body)
        )));
    }
    let mut resource = Resource::new();
    set_pathless(
        &mut resource,
        OpKind::Replace,
        body.clone(),
        Origin::BodyKey,
    )?;
    validate(&resource)?;
    Ok(resource)
}

/// Checks a canonical resource against the schema: `userName` present and
/// non-empty, value types, at most one `primary`, unique `type` per
/// multi-valued attribute. Errors are 400 `invalidValue` naming the attribute.
pub fn validate(resource: &Resource) -> Result<(), ScimError> {
    validate::validate(resource)
}

/// Reads the core's indexed fields. The resource must be valid.
pub fn core_fields(resource: &Resource) -> CoreFields {
    let text = |key: &str| resource.get(key).and_then(Value::as_str).map(str::to_owned);
    let values = |key: &str| -> Vec<String> {
        let items = resource
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        items
            .iter()
            .filter_map(|i| i.get("value")?.as_str().map(str::to_owned))
            .collect()
    };
    CoreFields {
        user_name: text("userName").unwrap_or_default(),
        external_id: text("externalId"),
        active: is_active(resource),
        emails: values("emails"),
        role_values: values("roles"),
    }
}

/// Renders a resource for a response: `schemas`, `id`, the attributes, `meta`.
pub fn render_user(resource: &Resource, id: &str, meta: &Meta) -> Value {
    let mut enterprise = false;
    let mut custom = Vec::new();
    for (key, value) in resource {
        if key == ENTERPRISE_SCHEMA {
            enterprise = value.as_object().is_some_and(|ext| !ext.is_empty());
        } else if key
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("urn:"))
        {
            custom.push(Value::String(key.clone()));
        }
    }
    // RFC 7643 §3: `schemas` lists every schema whose attributes are present.
    let mut schemas = vec![Value::String(USER_SCHEMA.to_owned())];
    if enterprise {
        schemas.push(Value::String(ENTERPRISE_SCHEMA.to_owned()));
    }
    schemas.extend(custom);
    let mut out = Map::new();
    out.insert("schemas".to_owned(), Value::Array(schemas));
    out.insert("id".to_owned(), Value::String(id.to_owned()));
    for (key, value) in resource {
        let empty_extension =
            key == ENTERPRISE_SCHEMA && value.as_object().is_none_or(|ext| ext.is_empty());
        if !empty_extension {
            out.insert(key.clone(), value.clone());
        }
    }
    // `active` is rendered only when the resource has it (it is optional in
    // RFC 7643 §4.1.1, and a PATCH may remove it); normalisation has made it
    // a JSON boolean whatever Entra sent (ENTRA §5.2).
    out.insert(
        "meta".to_owned(),
        json!({
            "resourceType": "User",
            "created": meta.created,
            "lastModified": meta.last_modified,
            "location": meta.location,
            "version": format!("W/\"{}\"", meta.version),
        }),
    );
    Value::Object(out)
}

/// `active`, true when absent (RFC 7643 §4.1.1 leaves the default to the
/// server; a provisioned user is active until Entra says otherwise).
fn is_active(resource: &Resource) -> bool {
    resource
        .get("active")
        .and_then(entra::parse_bool)
        .unwrap_or(true)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_render;
