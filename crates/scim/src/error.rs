//! SCIM error responses (RFC 7644 §3.12).

use serde_json::{Value, json};

/// The `scimType` keywords of RFC 7644 §3.12, table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid or the attribute/operator is unsupported.
    InvalidFilter,
    /// The query would return more results than the server will evaluate.
    TooMany,
    /// A value violates a uniqueness constraint (for example `userName`).
    Uniqueness,
    /// An attempt to change an immutable or read-only attribute.
    Mutability,
    /// The request body is not parsable or violates the message schema.
    InvalidSyntax,
    /// The PATCH `path` is malformed or names an unknown attribute.
    InvalidPath,
    /// The PATCH `path` matched no value for a `remove` or filtered `replace`.
    NoTarget,
    /// A value is missing, of the wrong type, or not allowed.
    InvalidValue,
    /// The protocol version is not supported.
    InvalidVers,
    /// The request carried sensitive data in the URI.
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

/// A SCIM error: HTTP status, optional `scimType`, and a `detail` that tells
/// an administrator what to fix (it is shown in Entra's provisioning log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// HTTP status code.
    pub status: u16,
    /// RFC 7644 `scimType`, where the RFC defines one for the case.
    pub scim_type: Option<ScimType>,
    /// Human-readable, actionable explanation.
    pub detail: String,
}

impl ScimError {
    /// A 400 with the given `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// 400 `tooMany`.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::TooMany, detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self {
            status: 409,
            scim_type: Some(ScimType::Uniqueness),
            detail: detail.into(),
        }
    }

    /// An error with a status and no `scimType` (401, 403, 404, 412, 413, 5xx …).
    pub fn status(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 404 for a resource that does not exist (or is not visible).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::status(404, detail)
    }

    /// The error as a SCIM Error message; `status` is a string (RFC 7644 §3.12).
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [crate::ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = Value::String(t.as_str().to_owned());
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status, t.as_str(), self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_has_string_status_and_scim_type() {
        let e = ScimError::uniqueness("userName alice exists");
        assert_eq!(
            e.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName alice exists"
            })
        );
        assert!(
            ScimError::not_found("x")
                .to_json()
                .get("scimType")
                .is_none()
        );
    }
}
