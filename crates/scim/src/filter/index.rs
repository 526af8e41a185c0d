//! Deciding whether the core's indexes can answer a filter on their own:
//! Entra's matching queries (`userName eq "…"`, `externalId eq "…"`, and
//! `and` of such terms) must not scan every user of a workspace.

use super::{CompValue, CompareOp, Filter, IndexLookup};
use crate::path::AttrPath;

pub(super) fn index_lookup(filter: &Filter) -> Option<IndexLookup> {
    let mut lookup = IndexLookup::default();
    collect(filter, &mut lookup)?;
    Some(lookup)
}

/// Adds the terms of an `and` tree to `lookup`; `None` for any other shape,
/// for a non-string value, or for an attribute named twice.
fn collect(filter: &Filter, lookup: &mut IndexLookup) -> Option<()> {
    match filter {
        Filter::And(a, b) => {
            collect(a, lookup)?;
            collect(b, lookup)
        }
        Filter::Compare(path, CompareOp::Eq, CompValue::Str(value)) => {
            set(slot(path, lookup)?, value)
        }
        Filter::ValuePath(path, inner) => {
            let is_emails = path.sub_attr.is_none()
                && path
                    .resolve()
                    .is_some_and(|r| r.urn.is_none() && r.attr.name == "emails");
            match inner.as_ref() {
                Filter::Compare(sub, CompareOp::Eq, CompValue::Str(value))
                    if is_emails && is_plain(sub, "value") =>
                {
                    set(&mut lookup.email, value)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The field of `lookup` an `eq` on `path` fills, if the core indexes it.
fn slot<'l>(path: &AttrPath, lookup: &'l mut IndexLookup) -> Option<&'l mut Option<String>> {
    let resolved = path.resolve()?;
    if resolved.urn.is_some() {
        return None;
    }
    match (resolved.attr.name, resolved.sub_attr.map(|s| s.name)) {
        ("userName", None) => Some(&mut lookup.user_name),
        ("externalId", None) => Some(&mut lookup.external_id),
        ("id", None) => Some(&mut lookup.id),
        ("emails", None | Some("value")) => Some(&mut lookup.email),
        _ => None,
    }
}

fn is_plain(path: &AttrPath, name: &str) -> bool {
    path.urn.is_none() && path.sub_attr.is_none() && path.attr.eq_ignore_ascii_case(name)
}

fn set(slot: &mut Option<String>, value: &str) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value.to_owned());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(filter: &str) -> Option<IndexLookup> {
        Filter::parse(filter)
            .expect("test filter parses")
            .index_lookup()
    }

    fn user_name(v: &str) -> IndexLookup {
        IndexLookup {
            user_name: Some(v.into()),
            ..IndexLookup::default()
        }
    }

    #[test]
    fn single_equalities() {
        assert_eq!(
            lookup(r#"userName eq "Alice@X""#),
            Some(user_name("Alice@X"))
        );
        assert_eq!(lookup(r#"USERNAME EQ "a""#), Some(user_name("a")));
        let id = IndexLookup {
            id: Some("42".into()),
            ..IndexLookup::default()
        };
        assert_eq!(lookup(r#"id eq "42""#), Some(id));
        let core_urn = "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"a\"";
        assert_eq!(lookup(core_urn), Some(user_name("a")));
    }

    #[test]
    fn unquoted_value_is_a_string() {
        let ext = IndexLookup {
            external_id: Some("5ab2-x".into()),
            ..IndexLookup::default()
        };
        assert_eq!(lookup("externalId eq 5ab2-x"), Some(ext));
    }

    #[test]
    fn email_forms() {
        let email = IndexLookup {
            email: Some("a@x".into()),
            ..IndexLookup::default()
        };
        assert_eq!(lookup(r#"emails.value eq "a@x""#), Some(email.clone()));
        assert_eq!(lookup(r#"emails eq "a@x""#), Some(email.clone()));
        assert_eq!(lookup(r#"emails[value eq "a@x"]"#), Some(email));
        assert_eq!(lookup(r#"emails[type eq "work"].value eq "a@x""#), None);
        assert_eq!(lookup(r#"emails.type eq "work""#), None);
    }

    #[test]
    fn and_of_distinct_attributes() {
        let both = IndexLookup {
            user_name: Some("a".into()),
            external_id: Some("e".into()),
            ..IndexLookup::default()
        };
        assert_eq!(
            lookup(r#"userName eq "a" and externalId eq "e""#),
            Some(both)
        );
        assert_eq!(lookup(r#"userName eq "a" and userName eq "b""#), None);
    }

    #[test]
    fn everything_else_scans() {
        assert_eq!(lookup(r#"userName eq "a" or externalId eq "e""#), None);
        assert_eq!(lookup(r#"userName sw "a""#), None);
        assert_eq!(lookup(r#"not (userName eq "a")"#), None);
        assert_eq!(lookup("userName eq 5"), None);
        assert_eq!(lookup("userName pr"), None);
        assert_eq!(lookup(r#"displayName eq "a""#), None);
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
        assert_eq!(lookup(&format!("{ext} eq \"1\"")), None);
        assert_eq!(lookup(r#"userName eq "a" and active eq true"#), None);
    }
}
