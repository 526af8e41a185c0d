//! What a mutation changed: the attribute diff of an audit event, its
//! kinds, and the redaction of personal data. Pure functions, no IO.
//!
//! A user that does not exist (before a create, after a delete) is compared
//! as `user_name`, `external_id` and `active` null, `emails` and `roles`
//! empty and `profile` empty, so a create lists what it set and a delete
//! lists what it removed.

use std::collections::BTreeSet;

use authsidecar_core_api::{AuditChange, AuditKind, REDACTED, User};
use serde_json::{Map, Value};

/// The attributes that differ between `before` and `after`, in a fixed
/// order: the core fields, then the profile members sorted by key.
///
/// Top-level profile members are compared as whole values, except objects
/// under a `urn:` key (SCIM extensions such as the enterprise user), whose
/// members are compared one by one as `profile.URN:MEMBER`.
pub(super) fn changes(
    before: Option<&User>,
    after: Option<&User>,
    redact: &[String],
) -> Vec<AuditChange> {
    let (old, new) = (core_fields(before), core_fields(after));
    let mut out = Vec::new();
    for ((name, was), (_, now)) in old.into_iter().zip(new) {
        if was != now {
            out.push(change(name.to_owned(), &[name], was, now, redact));
        }
    }
    let empty = Map::new();
    let old = before.map_or(&empty, |u| &u.profile);
    let new = after.map_or(&empty, |u| &u.profile);
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (was, now) = (old.get(key), new.get(key));
        if was == now {
            continue;
        }
        if let Some((was, now)) = extension_members(key, was, now, &empty) {
            let members: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
            for member in members {
                let (a, b) = (
                    value_or_null(was.get(member)),
                    value_or_null(now.get(member)),
                );
                if a != b {
                    let attribute = format!("profile.{key}:{member}");
                    out.push(change(attribute, &[key, member], a, b, redact));
                }
            }
        } else {
            let (a, b) = (value_or_null(was), value_or_null(now));
            out.push(change(format!("profile.{key}"), &[key], a, b, redact));
        }
    }
    out
}

/// What the mutation meant, in [`AuditKind::ALL`] order.
pub(super) fn kinds(before: Option<&User>, after: Option<&User>) -> Vec<AuditKind> {
    let mut out = Vec::new();
    if let (Some(b), Some(a)) = (before, after) {
        if b.active && !a.active {
            out.push(AuditKind::Disable);
        }
        if !b.active && a.active {
            out.push(AuditKind::Enable);
        }
        if b.user_name != a.user_name {
            out.push(AuditKind::Rename);
        }
    }
    let no_roles: &[String] = &[];
    let roles_before = before.map_or(no_roles, |u| &u.roles);
    let roles_after = after.map_or(no_roles, |u| &u.roles);
    // The stored lists are in catalogue order, so equal sets are equal lists.
    if roles_before != roles_after {
        out.push(AuditKind::RoleChange);
    }
    out
}

/// Whether `name` is listed in `redact`, ignoring letter case and
/// underscores, so that the core's `user_name` matches SCIM's `userName`.
pub(super) fn is_redacted(name: &str, redact: &[String]) -> bool {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let name = fold(name);
    redact.iter().any(|r| fold(r) == name)
}

/// The core fields of a user (or of no user), by their contract names.
fn core_fields(user: Option<&User>) -> [(&'static str, Value); 5] {
    let list = |l: &[String]| Value::from(l.to_vec());
    [
        (
            "user_name",
            user.map_or(Value::Null, |u| Value::from(u.user_name.clone())),
        ),
        (
            "external_id",
            user.and_then(|u| u.external_id.clone())
                .map_or(Value::Null, Value::from),
        ),
        (
            "active",
            user.map_or(Value::Null, |u| Value::Bool(u.active)),
        ),
        (
            "emails",
            user.map_or(Value::Array(Vec::new()), |u| list(&u.emails)),
        ),
        (
            "roles",
            user.map_or(Value::Array(Vec::new()), |u| list(&u.roles)),
        ),
    ]
}

/// The members of an extension object.
type Members<'a> = &'a Map<String, Value>;

/// For a `urn:` key holding an object on at least one side and nothing
/// else on the other: both sides as objects, a missing side as `empty`.
fn extension_members<'a>(
    key: &str,
    was: Option<&'a Value>,
    now: Option<&'a Value>,
    empty: &'a Map<String, Value>,
) -> Option<(Members<'a>, Members<'a>)> {
    if !key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        return None;
    }
    let side = |v: Option<&'a Value>| match v {
        None => Some(empty),
        Some(Value::Object(m)) => Some(m),
        Some(_) => None,
    };
    Some((side(was)?, side(now)?))
}

fn value_or_null(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

/// One change; redacted when any of `names` (the field, the profile key,
/// the extension member) is listed.
fn change(
    attribute: String,
    names: &[&str],
    before: Value,
    after: Value,
    redact: &[String],
) -> AuditChange {
    if names.iter().any(|n| is_redacted(n, redact)) {
        AuditChange {
            attribute,
            before: mask(before),
            after: mask(after),
        }
    } else {
        AuditChange {
            attribute,
            before,
            after,
        }
    }
}

/// Absent and empty values reveal nothing and stay as they are, so a
/// redacted change still shows whether a value was added or removed.
fn mask(value: Value) -> Value {
    let empty = match &value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    };
    if empty {
        value
    } else {
        Value::String(REDACTED.to_owned())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(profile: Value) -> User {
        User {
            id: "u-1".into(),
            user_name: "ann@acme.test".into(),
            external_id: None,
            active: true,
            emails: vec!["ann@acme.test".into()],
            roles: vec![],
            profile: profile.as_object().unwrap().clone(),
            version: 1,
            created: "2026-12-04T15:13:11.123Z".into(),
            last_modified: "2026-12-04T15:13:11.123Z".into(),
        }
    }

    fn listed(changes: &[AuditChange]) -> Vec<(String, Value, Value)> {
        changes
            .iter()
            .map(|c| (c.attribute.clone(), c.before.clone(), c.after.clone()))
            .collect()
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn extension_members_are_compared_one_by_one() {
        let before = user(json!({ ENTERPRISE: {"department": "Sales", "costCenter": "1"} }));
        let after = user(
            json!({ ENTERPRISE: {"department": "Ops", "costCenter": "1"},
                                 "title": "Boss" }),
        );
        assert_eq!(
            listed(&changes(Some(&before), Some(&after), &[])),
            [
                ("profile.title".into(), Value::Null, json!("Boss")),
                (
                    format!("profile.{ENTERPRISE}:department"),
                    json!("Sales"),
                    json!("Ops")
                ),
            ]
        );
        // Listing the extension itself redacts all of its members.
        let redacted = changes(Some(&before), Some(&after), &[ENTERPRISE.to_owned()]);
        assert_eq!(redacted[1].before, json!(REDACTED));
    }

    #[test]
    fn redaction_ignores_case_and_underscores_and_keeps_absence() {
        let redact = vec!["USERNAME".to_owned(), "emails".to_owned()];
        let created = user(json!({"userName": "ann@acme.test"}));
        assert_eq!(
            listed(&changes(None, Some(&created), &redact)),
            [
                ("user_name".into(), Value::Null, json!(REDACTED)),
                ("active".into(), Value::Null, json!(true)),
                ("emails".into(), json!([]), json!(REDACTED)),
                ("profile.userName".into(), Value::Null, json!(REDACTED)),
            ]
        );
    }

    #[test]
    fn kinds_of_each_transition() {
        let a = user(json!({}));
        let mut b = a.clone();
        b.active = false;
        assert_eq!(kinds(Some(&a), Some(&b)), [AuditKind::Disable]);
        assert_eq!(kinds(Some(&b), Some(&a)), [AuditKind::Enable]);
        b.user_name = "new@acme.test".into();
        b.roles = vec!["Buyer".into()];
        assert_eq!(
            kinds(Some(&a), Some(&b)),
            [AuditKind::Disable, AuditKind::Rename, AuditKind::RoleChange]
        );
        // A create is not an enable; a create or delete with roles is a role change.
        assert_eq!(kinds(None, Some(&a)), []);
        assert_eq!(kinds(Some(&b), None), [AuditKind::RoleChange]);
        assert_eq!(kinds(Some(&a), Some(&a)), []);
    }
}
