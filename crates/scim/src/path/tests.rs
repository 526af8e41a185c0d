use proptest::prelude::*;

use super::*;
use crate::filter::{CompValue, CompareOp};
use crate::{ENTERPRISE_SCHEMA, ScimType, USER_SCHEMA};

fn path(urn: Option<&str>, attr: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        urn: urn.map(Into::into),
        attr: attr.into(),
        sub_attr: sub.map(Into::into),
    }
}

fn eq(attr: &str, value: &str) -> Filter {
    Filter::Compare(
        AttrPath::simple(attr),
        CompareOp::Eq,
        CompValue::Str(value.into()),
    )
}

fn detail(result: Result<impl std::fmt::Debug, ScimError>) -> String {
    match result {
        Err(e) if e.scim_type == Some(ScimType::InvalidPath) && e.status == 400 => e.detail,
        other => panic!("expected invalidPath, got {other:?}"),
    }
}

#[test]
fn plain_and_sub_attribute() {
    assert_eq!(
        AttrPath::parse("userName"),
        Ok(path(None, "userName", None))
    );
    assert_eq!(
        AttrPath::parse("name.givenName"),
        Ok(path(None, "name", Some("givenName")))
    );
    assert_eq!(
        AttrPath::parse("groups.$ref"),
        Ok(path(None, "groups", Some("$ref")))
    );
    assert_eq!(
        AttrPath::parse("x509Certificates"),
        Ok(path(None, "x509Certificates", None))
    );
}

#[test]
fn urn_splits_at_the_last_colon() {
    let manager = format!("{ENTERPRISE_SCHEMA}:manager.value");
    assert_eq!(
        AttrPath::parse(&manager),
        Ok(path(Some(ENTERPRISE_SCHEMA), "manager", Some("value")))
    );
    assert_eq!(
        AttrPath::parse("urn:example:custom:1.0:User:badge"),
        Ok(path(Some("urn:example:custom:1.0:User"), "badge", None))
    );
    let upper = "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName";
    assert_eq!(
        AttrPath::parse(upper),
        Ok(path(
            Some("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"),
            "userName",
            None
        ))
    );
}

#[test]
fn dotted_extension_attribute_of_old_entra_jobs() {
    let dotted = format!("{ENTERPRISE_SCHEMA}.department");
    assert_eq!(
        AttrPath::parse(&dotted),
        Ok(path(Some(ENTERPRISE_SCHEMA), "department", None))
    );
}

#[test]
fn a_bare_schema_urn_names_the_whole_object() {
    let p = AttrPath::parse(ENTERPRISE_SCHEMA);
    assert_eq!(p, Ok(path(None, ENTERPRISE_SCHEMA, None)));
    assert_eq!(p.map(|p| p.whole_schema()), Ok(Some(ENTERPRISE_SCHEMA)));
    assert_eq!(AttrPath::simple("emails").whole_schema(), None);
}

#[test]
fn attr_path_errors_name_path_and_position() {
    assert_eq!(
        detail(AttrPath::parse("em ails")),
        "invalid path 'em ails': unexpected character ' ' at position 2"
    );
    assert_eq!(
        detail(AttrPath::parse("9lives")),
        "invalid path '9lives': an attribute name must start with a letter, found '9' \
         at position 0"
    );
    assert_eq!(
        detail(AttrPath::parse("name.givenName.x")),
        "invalid path 'name.givenName.x': unexpected character '.' at position 14"
    );
    assert_eq!(
        detail(AttrPath::parse("name.")),
        "invalid path 'name.': expected an attribute name at position 5"
    );
    assert_eq!(
        detail(AttrPath::parse("urn:a:b:")),
        "invalid path 'urn:a:b:': expected an attribute name after the schema urn at position 8"
    );
    assert_eq!(
        detail(AttrPath::parse("")),
        "invalid path '': the attribute path is empty at position 0"
    );
    assert_eq!(
        detail(AttrPath::parse("urn:a b:c")),
        "invalid path 'urn:a b:c': unexpected character ' ' in the schema urn at position 5"
    );
}

#[test]
fn patch_paths_from_the_cases() {
    assert_eq!(
        PatchPath::parse(r#"emails[type eq "work"].value"#),
        Ok(PatchPath {
            attr: AttrPath::simple("emails"),
            filter: Some(eq("type", "work")),
            sub_attr_after_filter: Some("value".into()),
        })
    );
    assert_eq!(
        PatchPath::parse(r#"roles[primary eq "True"].value"#).map(|p| p.filter),
        Ok(Some(eq("primary", "True")))
    );
    assert_eq!(
        PatchPath::parse(r#"manager[value eq "123"]"#),
        Ok(PatchPath {
            attr: AttrPath::simple("manager"),
            filter: Some(eq("value", "123")),
            sub_attr_after_filter: None,
        })
    );
    let manager = format!("{ENTERPRISE_SCHEMA}:manager");
    assert_eq!(
        PatchPath::parse(&manager).map(|p| (p.attr, p.filter)),
        Ok((path(Some(ENTERPRISE_SCHEMA), "manager", None), None))
    );
    assert_eq!(
        PatchPath::parse("name.givenName").map(|p| p.attr),
        Ok(path(None, "name", Some("givenName")))
    );
}

#[test]
fn bracket_inside_a_quoted_value_does_not_close_the_filter() {
    let p = PatchPath::parse(r#"emails[value eq "a]b\"c"].display"#);
    assert_eq!(p.map(|p| p.filter), Ok(Some(eq("value", "a]b\"c"))));
}

#[test]
fn patch_path_errors() {
    assert_eq!(
        detail(PatchPath::parse(r#"emails[type eq "work""#)),
        "invalid path 'emails[type eq \"work\"': expected ']' to close the value filter at \
         position 21"
    );
    assert_eq!(
        detail(PatchPath::parse(r#"emails[type zz "work"]"#)),
        "invalid path 'emails[type zz \"work\"]': value filter: expected a comparison operator \
         after 'type', found 'zz' at position 12"
    );
    assert_eq!(
        detail(PatchPath::parse(r#"emails[type eq "work"]value"#)),
        "invalid path 'emails[type eq \"work\"]value': unexpected character 'v' at position 22"
    );
    assert_eq!(
        detail(PatchPath::parse(r#"emails.value[type eq "work"]"#)),
        "invalid path 'emails.value[type eq \"work\"]': a value filter must follow the \
         attribute itself at position 12"
    );
    assert_eq!(
        detail(PatchPath::parse("emails[]")),
        "invalid path 'emails[]': value filter: the filter is empty at position 7"
    );
    assert_eq!(
        detail(PatchPath::parse("emails]")),
        "invalid path 'emails]': unexpected character ']' at position 6"
    );
}

#[test]
fn display_round_trips() {
    for s in [
        "userName",
        "name.givenName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ENTERPRISE_SCHEMA,
    ] {
        assert_eq!(AttrPath::parse(s).map(|p| p.to_string()), Ok(s.to_owned()));
    }
    for s in [
        r#"emails[type eq "work"].value"#,
        r#"addresses[type eq "work" and primary eq true]"#,
    ] {
        assert_eq!(PatchPath::parse(s).map(|p| p.to_string()), Ok(s.to_owned()));
    }
}

#[test]
fn resolve_against_the_schema() {
    let r = AttrPath::parse("NAME.givenname")
        .ok()
        .and_then(|p| p.resolve());
    assert_eq!(
        r.map(|r| (r.urn, r.attr.name, r.sub_attr.map(|s| s.name))),
        Some((None, "name", Some("givenName")))
    );
    let core = AttrPath::parse(&format!("{USER_SCHEMA}:id"))
        .ok()
        .and_then(|p| p.resolve());
    assert_eq!(core.map(|r| (r.urn, r.attr.name)), Some((None, "id")));
    let ent = AttrPath::parse(&format!("{ENTERPRISE_SCHEMA}:manager"))
        .ok()
        .and_then(|p| p.resolve());
    assert_eq!(
        ent.map(|r| (r.urn, r.attr.name)),
        Some((Some(ENTERPRISE_SCHEMA), "manager"))
    );
    assert!(AttrPath::simple("nope").resolve().is_none());
    assert!(
        AttrPath::parse("name.nope")
            .ok()
            .and_then(|p| p.resolve())
            .is_none()
    );
    assert!(AttrPath::simple("department").resolve().is_none());
    assert!(AttrPath::simple(ENTERPRISE_SCHEMA).resolve().is_none());
    let patch = PatchPath::parse(r#"emails[type eq "work"].value"#)
        .ok()
        .and_then(|p| p.resolve());
    assert_eq!(
        patch.map(|r| (r.attr.name, r.sub_attr.map(|s| s.name))),
        Some(("emails", Some("value")))
    );
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z][a-zA-Z0-9_-]{0,8}", Just("$ref".to_owned())]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let urn = prop_oneof![
        Just(None),
        Just(Some(ENTERPRISE_SCHEMA.to_owned())),
        Just(Some(USER_SCHEMA.to_lowercase())),
        Just(Some("urn:example:ext:1.0:Thing".to_owned())),
    ];
    (urn, name(), proptest::option::of(name())).prop_map(|(urn, attr, sub_attr)| AttrPath {
        urn,
        attr,
        sub_attr,
    })
}

proptest! {
    #[test]
    fn attr_path_print_parse_round_trip(p in attr_path()) {
        prop_assert_eq!(AttrPath::parse(&p.to_string()), Ok(p));
    }

    #[test]
    fn attr_path_never_panics(s in "\\PC{0,40}") {
        let _ = AttrPath::parse(&s);
    }

    #[test]
    fn patch_path_never_panics(s in "[a-z\\[\\]\". :$\\\\]{0,40}|\\PC{0,40}") {
        let _ = PatchPath::parse(&s);
    }
}
