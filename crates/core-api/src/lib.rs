//! Wire types of the Ignite core API contract.
//!
//! `docs/core-api.md` is the prose form of this contract; this crate is its
//! machine form, shared by the client (`authsidecar-core-client`) and the
//! local implementation (`authsidecar-local-core`) so the two cannot drift.
//!
//! Every path below is relative to the core's base URL (for the local core
//! `http://127.0.0.1:PORT`). Every request carries the *caller's* token as
//! `Authorization: Bearer …`; the core resolves it to a workspace and role
//! and scopes everything to that workspace.

mod audit;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use audit::{
    AuditChange, AuditEvent, AuditKind, AuditOperation, AuditPage, AuditQuery, HEADER_AUDIT_REDACT,
    HEADER_OPERATION, HEADER_REQUEST_ID, MAX_REQUEST_ID_CHARS, PATH_AUDIT, REDACTED,
};

/// `GET /internal/v1/introspect`: who the bearer token belongs to.
pub const PATH_INTROSPECT: &str = "/internal/v1/introspect";
/// `GET /internal/v1/roles`: the workspace's role catalogue.
pub const PATH_ROLES: &str = "/internal/v1/roles";
/// `POST` (create) and `GET` (list / look up) users of the token's workspace.
pub const PATH_USERS: &str = "/internal/v1/users";

/// Response headers of a 200 introspection, for proxies such as nginx
/// `auth_request` that read headers rather than bodies.
pub const HEADER_WORKSPACE: &str = "x-ignite-workspace";
/// See [`HEADER_WORKSPACE`].
pub const HEADER_TOKEN_ID: &str = "x-ignite-token-id";
/// See [`HEADER_WORKSPACE`].
pub const HEADER_ROLE: &str = "x-ignite-role";

/// The role name that may provision users.
pub const ADMIN_ROLE: &str = "Admin";

/// Largest `limit` a list call accepts; larger values are clamped.
pub const MAX_LIST_LIMIT: u32 = 1000;

/// 200 body of `GET /internal/v1/introspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Introspection {
    /// The workspace the token belongs to, e.g. `acme`.
    pub workspace: String,
    /// A stable, non-secret identifier of the token (safe to log).
    pub token_id: String,
    /// The token's role, e.g. `Admin` or `Viewer`.
    pub role: String,
}

impl Introspection {
    /// Whether this token may provision users.
    pub fn is_admin(&self) -> bool {
        self.role == ADMIN_ROLE
    }
}

/// 200 body of `GET /internal/v1/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCatalogue {
    /// Role names in their canonical spelling, in catalogue order.
    pub roles: Vec<String>,
}

/// A user as the core stores it.
///
/// The core indexes `user_name` (unique per workspace, case-insensitively),
/// `external_id` (exact) and `emails` (case-insensitively); `roles` are
/// checked against the workspace's catalogue. `profile` is an opaque JSON
/// object the core stores and returns byte-for-byte: the sidecar keeps the
/// full SCIM representation there so that Entra sees no drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Server-assigned, immutable id (a UUID).
    pub id: String,
    /// Login name; unique per workspace ignoring letter case.
    pub user_name: String,
    /// The identity provider's id for the user (Entra objectId); exact match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Whether the user may sign in.
    pub active: bool,
    /// E-mail addresses, for look-up by e-mail.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Ignite role names, canonical spelling.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Opaque JSON object, stored and returned unchanged.
    #[serde(default)]
    pub profile: Map<String, Value>,
    /// Optimistic-concurrency version; starts at 1, +1 on every write.
    pub version: u64,
    /// RFC 3339 UTC creation time.
    pub created: String,
    /// RFC 3339 UTC time of the last write.
    pub last_modified: String,
}

/// Body of `POST /internal/v1/users` and `PUT /internal/v1/users/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserWrite {
    /// See [`User::user_name`].
    pub user_name: String,
    /// See [`User::external_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// See [`User::active`].
    pub active: bool,
    /// See [`User::emails`].
    #[serde(default)]
    pub emails: Vec<String>,
    /// See [`User::roles`].
    #[serde(default)]
    pub roles: Vec<String>,
    /// See [`User::profile`].
    #[serde(default)]
    pub profile: Map<String, Value>,
    /// On `PUT`: the version the write was based on. A different current
    /// version is a 409 `version_conflict`. Ignored on `POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// Body of `PUT /internal/v1/users/{id}/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesWrite {
    /// The complete new set of role names.
    pub roles: Vec<String>,
    /// The version the write was based on (see [`UserWrite::version`]).
    pub version: u64,
}

/// Query of `GET /internal/v1/users`. All given look-ups must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Case-insensitive exact match on `user_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Exact (case-sensitive) match on `external_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Case-insensitive exact match on any of `emails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Zero-based offset into the result, in creation order.
    #[serde(default)]
    pub offset: u64,
    /// Page size, 0 to [`MAX_LIST_LIMIT`]; 0 returns only the total.
    #[serde(default = "default_limit")]
    pub limit: u32,
}

pub(crate) fn default_limit() -> u32 {
    100
}

/// 200 body of `GET /internal/v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPage {
    /// Number of users matching the query, ignoring offset and limit.
    pub total: u64,
    /// The page, in creation order.
    pub users: Vec<User>,
}

/// Every non-2xx answer of the core carries this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreError {
    /// Machine-readable code, see [`ErrorCode`].
    pub code: ErrorCode,
    /// Human-readable explanation; never contains secrets.
    pub message: String,
    /// For `unknown_role`: the roles the workspace does have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_roles: Option<Vec<String>>,
}

/// Machine-readable error codes of the core API, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no token, or a token the core does not know.
    Unauthenticated,
    /// 403: a valid token whose role may not do this.
    Forbidden,
    /// 404: no such user in the token's workspace.
    UserNotFound,
    /// 404: no such endpoint.
    NotFound,
    /// 405: the endpoint exists but not with this method.
    MethodNotAllowed,
    /// 409: another user of the workspace has this userName (any case).
    UserNameTaken,
    /// 409: the write was based on a version that is no longer current.
    VersionConflict,
    /// 400: a role that is not in the workspace's catalogue.
    UnknownRole,
    /// 400: a body or query the core cannot accept.
    InvalidRequest,
    /// 413: the body is larger than the core accepts.
    PayloadTooLarge,
    /// 500: a fault inside the core; details are in its log only.
    Internal,
    /// 503: the core cannot serve right now (for example storage is busy).
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status the core answers with for this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::UserNotFound | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::UserNameTaken | ErrorCode::VersionConflict => 409,
            ErrorCode::UnknownRole | ErrorCode::InvalidRequest => 400,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// `GET|PUT|DELETE /internal/v1/users/{id}`.
pub fn user_path(id: &str) -> String {
    format!("{PATH_USERS}/{id}")
}

/// `PUT /internal/v1/users/{id}/roles`.
pub fn user_roles_path(id: &str) -> String {
    format!("{PATH_USERS}/{id}/roles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips_with_snake_case_code() {
        let e = CoreError {
            code: ErrorCode::UserNameTaken,
            message: "taken".into(),
            known_roles: None,
        };
        let s = serde_json::to_string(&e).unwrap();
        assert_eq!(s, r#"{"code":"user_name_taken","message":"taken"}"#);
        assert_eq!(serde_json::from_str::<CoreError>(&s).unwrap(), e);
        assert_eq!(ErrorCode::VersionConflict.status(), 409);
    }
}
