//! PATCH (RFC 7644 §3.5.2): parsing PatchOp messages in both of Entra's
//! families and applying them, all or nothing, to a copy of a resource.
//!
//! Applying a request runs, for each operation in order:
//! 1. resolve the target: an explicit `path` ([`PatchPath`]), or each key
//!    of a path-less value read as an attribute path
//!    ([`crate::entra`] rule 7);
//! 2. canonicalise the value (schema spelling, Entra's shapes, nulls);
//! 3. add, replace or remove at the target (`apply` submodule), with
//!    Entra's readings of filtered creates (rule 8) and removes with values
//!    (rule 9);
//! 4. validate the whole resource, so an error names the operation that
//!    caused it: `Operations[1] (replace userName): userName must be …`.
//!
//! The first error ends the request and the input resource is untouched.

mod apply;
mod attr;
mod select;
pub(crate) mod target;

use serde_json::{Map, Value};

use crate::path::PatchPath;
use crate::resource::{Resource, describe, validate};
use crate::{ScimError, entra};

pub(crate) use apply::set_pathless;
pub(crate) use target::Origin;

/// `add`, `replace` or `remove` (matched case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// add
    Add,
    /// replace
    Replace,
    /// remove
    Remove,
}

impl OpKind {
    /// The RFC 7644 §3.5.2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

/// One operation of a PatchOp.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    /// The operation.
    pub op: OpKind,
    /// The target; `None` for a path-less add/replace.
    pub path: Option<PatchPath>,
    /// The value; `None` for a remove without value.
    pub value: Option<Value>,
}

/// A parsed PatchOp message.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    /// The operations, in order.
    pub ops: Vec<PatchOp>,
}

impl PatchRequest {
    /// Parses a PatchOp body. A missing or empty `Operations`, an unknown
    /// `op`, an add/replace without `value`, or a non-object body is 400
    /// `invalidSyntax`; a malformed `path` is 400 `invalidPath`; a remove
    /// without `path` is 400 `noTarget` (RFC 7644 §3.5.2.2). Member names and
    /// `op` are matched case-insensitively ([`crate::entra`] rule 1); a
    /// `value` of `null` is kept and clears its target (RFC 7643 §2.5).
    pub fn parse(body: &Value) -> Result<PatchRequest, ScimError> {
        let Value::Object(message) = body else {
            return Err(ScimError::invalid_syntax(format!(
                "a PatchOp body must be a JSON object with an Operations array \
                 (RFC 7644 §3.5.2), got {}",
                describe(body)
            )));
        };
        // Member names are matched case-insensitively (rule 1).
        let ops = match entra::get_ci(message, "Operations") {
            Some(Value::Array(ops)) if !ops.is_empty() => ops,
            _ => {
                return Err(ScimError::invalid_syntax(
                    "PatchOp body has no Operations array, or it is empty; send \
                     {\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \
                     \"Operations\": [{\"op\": \"replace\", \"path\": …, \"value\": …}]} \
                     (RFC 7644 §3.5.2)",
                ));
            }
        };
        let ops = ops
            .iter()
            .enumerate()
            .map(|(index, op)| parse_op(index, op));
        Ok(PatchRequest {
            ops: ops.collect::<Result<_, _>>()?,
        })
    }
}

/// Applies every operation to a copy of `resource` and validates the result.
/// On any error the original is untouched and the error is returned.
///
/// The resource is validated after every operation, so an error names the
/// operation that caused it: `Operations[1] (replace userName): …`.
pub fn apply(resource: &Resource, request: &PatchRequest) -> Result<Resource, ScimError> {
    let mut work = resource.clone();
    for (index, op) in request.ops.iter().enumerate() {
        apply_op(&mut work, op)
            .and_then(|()| validate(&work))
            .map_err(|e| in_op(index, op.op, &path_text(op.path.as_ref()), e))?;
    }
    Ok(work)
}

/// One operation on the working copy.
fn apply_op(work: &mut Resource, op: &PatchOp) -> Result<(), ScimError> {
    let value = || {
        op.value.clone().ok_or_else(|| {
            ScimError::invalid_syntax("add and replace need a value (RFC 7644 §3.5.2.1)")
        })
    };
    match (&op.path, op.op) {
        (None, OpKind::Remove) => Err(remove_needs_path()),
        (None, kind) => set_pathless(work, kind, value()?, Origin::PathlessKey),
        (Some(path), kind) => match (target::from_path(path)?, kind) {
            (None, _) => Ok(()),
            (Some(target), OpKind::Remove) => apply::remove(work, target, op.value.clone()),
            (Some(target), kind) => apply::set(work, target, kind, value()?, Origin::Path),
        },
    }
}

/// Parses `Operations[index]`.
fn parse_op(index: usize, op: &Value) -> Result<PatchOp, ScimError> {
    let Value::Object(op) = op else {
        return Err(ScimError::invalid_syntax(format!(
            "Operations[{index}] must be an object with op, path and value (RFC 7644 §3.5.2), \
             got {}",
            describe(op)
        )));
    };
    let kind = parse_kind(index, op)?;
    let path = match entra::get_ci(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            let parsed = PatchPath::parse(s.trim()).map_err(|e| in_op(index, kind, s, e))?;
            Some(parsed)
        }
        Some(other) => {
            return Err(in_op(
                index,
                kind,
                "",
                ScimError::invalid_path(format!("path must be a string, got {}", describe(other))),
            ));
        }
    };
    let value = entra::get_ci(op, "value").cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => return Err(in_op(index, kind, "", remove_needs_path())),
        (OpKind::Add | OpKind::Replace, _, None) => {
            let path = path_text(path.as_ref());
            let e = ScimError::invalid_syntax(
                "value is required for add and replace (RFC 7644 §3.5.2.1, §3.5.2.3); \
                 use remove to clear an attribute",
            );
            return Err(in_op(index, kind, &path, e));
        }
        _ => {}
    }
    Ok(PatchOp {
        op: kind,
        path,
        value,
    })
}

/// `op`, in any letter case (rule 1).
fn parse_kind(index: usize, op: &Map<String, Value>) -> Result<OpKind, ScimError> {
    let name = match entra::get_ci(op, "op") {
        Some(Value::String(name)) => name,
        Some(other) => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{index}]: op must be the string add, replace or remove \
                 (RFC 7644 §3.5.2), got {}",
                describe(other)
            )));
        }
        None => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{index}] has no op; set op to add, replace or remove \
                 (RFC 7644 §3.5.2)"
            )));
        }
    };
    [OpKind::Add, OpKind::Replace, OpKind::Remove]
        .into_iter()
        .find(|kind| name.eq_ignore_ascii_case(kind.as_str()))
        .ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "Operations[{index}]: unknown op \"{name}\"; use add, replace or remove \
                 (RFC 7644 §3.5.2)"
            ))
        })
}

fn remove_needs_path() -> ScimError {
    ScimError::no_target("remove needs a path naming what to remove (RFC 7644 §3.5.2.2)")
}

/// Prefixes an error with the operation it belongs to, keeping its status
/// and `scimType`.
fn in_op(index: usize, kind: OpKind, path: &str, e: ScimError) -> ScimError {
    let op = if path.is_empty() {
        kind.as_str().to_owned()
    } else {
        format!("{} {path}", kind.as_str())
    };
    ScimError {
        detail: format!("Operations[{index}] ({op}): {}", e.detail),
        ..e
    }
}

/// A PATCH path written back in RFC 7644 §3.10 syntax, for error details.
fn path_text(path: Option<&PatchPath>) -> String {
    path.map(PatchPath::to_string).unwrap_or_default()
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cases;
#[cfg(test)]
mod tests_cases_ext;
#[cfg(test)]
mod tests_values;
