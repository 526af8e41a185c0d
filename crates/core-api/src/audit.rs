//! The provisioning audit trail: what a mutating call tells the core about
//! itself, and what `GET /internal/v1/audit` answers.
//!
//! The core records one [`AuditEvent`] per acknowledged mutation, in the same
//! transaction as the mutation, so a write it cannot record is not made.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /internal/v1/audit`: the token's workspace's audit trail, newest first.
pub const PATH_AUDIT: &str = "/internal/v1/audit";

/// Request header of a mutating call: the id of the request that caused it
/// (1 to [`MAX_REQUEST_ID_CHARS`] visible ASCII characters). Absent, the
/// core mints a UUID.
pub const HEADER_REQUEST_ID: &str = "x-request-id";
/// Request header of a mutating call: the [`AuditOperation`] to record, for
/// a caller whose own operation the endpoint does not tell (a SCIM PATCH is
/// sent as a full replace). Absent, the endpoint's own operation is recorded.
pub const HEADER_OPERATION: &str = "x-ignite-operation";
/// Request header of a mutating call: comma-separated attribute names whose
/// values the audit record shows as [`REDACTED`]. Absent, nothing is redacted.
pub const HEADER_AUDIT_REDACT: &str = "x-ignite-audit-redact";

/// Longest accepted request id, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The mutation an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOperation {
    /// `POST /internal/v1/users`.
    Create,
    /// `PUT /internal/v1/users/{id}` for a full replace (SCIM PUT).
    Replace,
    /// `PUT /internal/v1/users/{id}` carrying a partial change (SCIM PATCH).
    Patch,
    /// `DELETE /internal/v1/users/{id}`.
    Delete,
    /// `PUT /internal/v1/users/{id}/roles`.
    Roles,
}

impl AuditOperation {
    /// Every operation, in contract order.
    pub const ALL: [AuditOperation; 5] = [
        AuditOperation::Create,
        AuditOperation::Replace,
        AuditOperation::Patch,
        AuditOperation::Delete,
        AuditOperation::Roles,
    ];

    /// The wire name, e.g. `patch`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOperation::Create => "create",
            AuditOperation::Replace => "replace",
            AuditOperation::Patch => "patch",
            AuditOperation::Delete => "delete",
            AuditOperation::Roles => "roles",
        }
    }

    /// The operation with this wire name, exactly spelt.
    pub fn parse(name: &str) -> Option<AuditOperation> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

/// What a mutation meant, derived by the core from the before and after
/// states; an event has zero or more, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An existing user went from active to inactive.
    Disable,
    /// An existing user went from inactive to active.
    Enable,
    /// An existing user's `user_name` changed.
    Rename,
    /// The set of roles held changed, including a create with roles and the
    /// delete of a user who held some.
    RoleChange,
}

impl AuditKind {
    /// Every kind, in the order an event lists them.
    pub const ALL: [AuditKind; 4] = [
        AuditKind::Disable,
        AuditKind::Enable,
        AuditKind::Rename,
        AuditKind::RoleChange,
    ];

    /// The wire name, e.g. `role_change`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Disable => "disable",
            AuditKind::Enable => "enable",
            AuditKind::Rename => "rename",
            AuditKind::RoleChange => "role_change",
        }
    }

    /// The kind with this wire name, exactly spelt.
    pub fn parse(name: &str) -> Option<AuditKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One attribute a mutation changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditChange {
    /// `user_name`, `external_id`, `active`, `emails`, `roles`, `profile.KEY`,
    /// or `profile.URN:MEMBER` for a member of an extension object.
    pub attribute: String,
    /// The value before; `null` when the attribute was absent.
    pub before: Value,
    /// The value after; `null` when the attribute is absent now.
    pub after: Value,
}

/// One recorded mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The event's own id (a UUID).
    pub id: String,
    /// When the mutation was committed, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The workspace of the user and of the token.
    pub workspace: String,
    /// The non-secret id of the token that made the call, never the token.
    pub token_id: String,
    /// The caller's request id ([`HEADER_REQUEST_ID`]), or one the core minted.
    pub request_id: String,
    /// The mutation.
    pub operation: AuditOperation,
    /// What it meant, derived from the before and after states.
    pub kinds: Vec<AuditKind>,
    /// The user it applied to.
    pub user_id: String,
    /// The attributes that differ between before and after.
    pub changes: Vec<AuditChange>,
}

/// Query of `GET /internal/v1/audit`. All given filters must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only events about this user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Only events at or after this RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Only events whose operation or one of whose kinds has this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Zero-based offset into the result, newest first.
    #[serde(default)]
    pub offset: u64,
    /// Page size, 0 to [`crate::MAX_LIST_LIMIT`]; 0 returns only the total.
    #[serde(default = "crate::default_limit")]
    pub limit: u32,
}

/// 200 body of `GET /internal/v1/audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Number of events matching the query, ignoring offset and limit.
    pub total: u64,
    /// The page, newest first.
    pub events: Vec<AuditEvent>,
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for op in AuditOperation::ALL {
            let wire = serde_json::to_value(op).unwrap();
            assert_eq!(wire, Value::String(op.as_str().to_owned()));
            assert_eq!(AuditOperation::parse(op.as_str()), Some(op));
        }
        for kind in AuditKind::ALL {
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, Value::String(kind.as_str().to_owned()));
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditOperation::parse("Patch"), None);
        assert_eq!(AuditKind::parse("role-change"), None);
    }

    #[test]
    fn query_defaults_match_the_user_list() {
        let q: AuditQuery = serde_json::from_str("{}").unwrap();
        assert_eq!((q.offset, q.limit, q.op), (0, 100, None));
    }
}
