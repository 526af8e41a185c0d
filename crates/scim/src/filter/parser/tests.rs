use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;
use crate::{ENTERPRISE_SCHEMA, ScimType, USER_SCHEMA};

fn parse(s: &str) -> Filter {
    match Filter::parse(s) {
        Ok(f) => f,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn detail(s: &str) -> String {
    match Filter::parse(s) {
        Err(e) if e.status == 400 && e.scim_type == Some(ScimType::InvalidFilter) => e.detail,
        other => panic!("{s}: expected invalidFilter, got {other:?}"),
    }
}

fn cmp(attr: &str, op: CompareOp, value: CompValue) -> Filter {
    let path = AttrPath::parse(attr).unwrap_or_else(|e| panic!("{attr}: {e}"));
    Filter::Compare(path, op, value)
}

fn eq(attr: &str, value: &str) -> Filter {
    cmp(attr, CompareOp::Eq, str(value))
}

fn str(s: &str) -> CompValue {
    CompValue::Str(s.into())
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn present(attr: &str) -> Filter {
    Filter::Present(AttrPath::simple(attr))
}

#[test]
fn entra_matching_query() {
    assert_eq!(
        parse(r#"userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a""#),
        eq("userName", "7d420df3-9995-4831-a406-ecf8166f5f6a")
    );
}

#[test]
fn attribute_names_and_operators_in_any_case() {
    assert_eq!(parse(r#"USERNAME EQ "a@x""#), eq("USERNAME", "a@x"));
    assert_eq!(
        parse("title PR AND nickName Pr"),
        and(present("title"), present("nickName"))
    );
}

#[test]
fn keywords_inside_quotes_are_text() {
    assert_eq!(
        parse(r#"externalId eq "ann 1f AND""#),
        eq("externalId", "ann 1f AND")
    );
    assert_eq!(
        parse(r#"userName eq "ann.and-1f@example.test" and externalId eq "ann 1f AND""#),
        and(
            eq("userName", "ann.and-1f@example.test"),
            eq("externalId", "ann 1f AND")
        )
    );
}

#[test]
fn unquoted_bare_word_is_a_string() {
    assert_eq!(
        parse("externalId eq 6e1f7d2a-4c8b-4d3f-8a52-0123456789ab"),
        eq("externalId", "6e1f7d2a-4c8b-4d3f-8a52-0123456789ab")
    );
    assert_eq!(parse("userName eq alice@x"), eq("userName", "alice@x"));
}

#[test]
fn literals() {
    assert_eq!(
        parse("active eq TRUE"),
        cmp("active", CompareOp::Eq, CompValue::Bool(true))
    );
    assert_eq!(
        parse("active ne false"),
        cmp("active", CompareOp::Ne, CompValue::Bool(false))
    );
    assert_eq!(
        parse("title eq Null"),
        cmp("title", CompareOp::Eq, CompValue::Null)
    );
    assert_eq!(
        parse("n gt 10"),
        cmp("n", CompareOp::Gt, CompValue::Num(10.into()))
    );
    let half = serde_json::Number::from_f64(-1.5).map_or(CompValue::Null, CompValue::Num);
    assert_eq!(parse("n le -1.5"), cmp("n", CompareOp::Le, half));
    assert_eq!(parse(r#"x eq "a\"b\u00e9""#), eq("x", "a\"bé"));
}

#[test]
fn and_binds_tighter_than_or() {
    let (a, b, c) = (eq("a", "1"), eq("b", "2"), eq("c", "3"));
    assert_eq!(
        parse(r#"a eq "1" or b eq "2" and c eq "3""#),
        or(a.clone(), and(b.clone(), c.clone()))
    );
    assert_eq!(
        parse(r#"(a eq "1" or b eq "2") and c eq "3""#),
        and(or(a, b), c)
    );
}

#[test]
fn grouping_case_from_the_suite() {
    let f = concat!(
        r#"(userName eq "alice-1@example.test" or userName eq "bob-1@example.test")"#,
        " and active eq false"
    );
    assert_eq!(
        parse(f),
        and(
            or(
                eq("userName", "alice-1@example.test"),
                eq("userName", "bob-1@example.test")
            ),
            cmp("active", CompareOp::Eq, CompValue::Bool(false))
        )
    );
}

#[test]
fn not_requires_parentheses() {
    let inner = eq("userName", "a");
    assert_eq!(
        parse(r#"not (userName eq "a")"#),
        Filter::Not(Box::new(inner.clone()))
    );
    assert_eq!(
        parse(r#"NOT(userName eq "a")"#),
        Filter::Not(Box::new(inner))
    );
    assert_eq!(
        detail(r#"not userName eq "a""#),
        "filter: expected a comparison operator after 'not', found 'userName' at position 4"
    );
}

#[test]
fn value_path() {
    assert_eq!(
        parse(r#"emails[type eq "work" and value co "@x"]"#),
        Filter::ValuePath(
            AttrPath::simple("emails"),
            Box::new(and(
                eq("type", "work"),
                cmp("value", CompareOp::Co, str("@x"))
            ))
        )
    );
}

#[test]
fn entra_sub_attribute_after_value_path_is_folded() {
    assert_eq!(
        parse(r#"emails[type eq "work"].value eq "alice@example.test""#),
        Filter::ValuePath(
            AttrPath::simple("emails"),
            Box::new(and(eq("type", "work"), eq("value", "alice@example.test")))
        )
    );
    assert_eq!(
        parse(r#"emails[type eq "work"].value pr and userName eq "a""#),
        and(
            Filter::ValuePath(
                AttrPath::simple("emails"),
                Box::new(and(eq("type", "work"), present("value")))
            ),
            eq("userName", "a")
        )
    );
}

#[test]
fn value_path_inside_parentheses() {
    let vp = Filter::ValuePath(AttrPath::simple("emails"), Box::new(eq("type", "work")));
    assert_eq!(parse(r#"(emails[type eq "work"])"#), vp.clone());
    assert_eq!(
        parse(r#"not(emails[type eq "work"])"#),
        Filter::Not(Box::new(vp))
    );
    assert_eq!(
        detail(r#"emails[type eq "work"]and title pr"#),
        "filter: expected '.' after ']' at position 22"
    );
}

#[test]
fn urn_qualified_attributes() {
    let employee = format!("{ENTERPRISE_SCHEMA}:employeeNumber eq \"701984\"");
    let Filter::Compare(path, _, _) = parse(&employee) else {
        panic!("not a comparison")
    };
    assert_eq!(
        (path.urn.as_deref(), path.attr.as_str()),
        (Some(ENTERPRISE_SCHEMA), "employeeNumber")
    );
    let given = format!("{USER_SCHEMA}:name.givenName eq \"Al\"");
    let Filter::Compare(path, _, _) = parse(&given) else {
        panic!("not a comparison")
    };
    assert_eq!(path.sub_attr.as_deref(), Some("givenName"));
}

#[test]
fn empty_and_whitespace_filters() {
    assert_eq!(detail(""), "filter: the filter is empty at position 0");
    assert_eq!(detail(" \t "), "filter: the filter is empty at position 0");
}

#[test]
fn syntax_errors_name_the_position() {
    assert_eq!(
        detail(r#"userName zz "alice@example.test""#),
        "filter: expected a comparison operator after 'userName', found 'zz' at position 9"
    );
    assert_eq!(
        detail("userName"),
        "filter: expected a comparison operator after 'userName' at position 8"
    );
    assert_eq!(
        detail("userName eq"),
        "filter: expected a comparison value after 'eq' at position 11"
    );
    assert_eq!(
        detail(r#"userName eq "a" extra"#),
        "filter: expected 'and', 'or' or the end of the filter, found 'extra' at position 16"
    );
    assert_eq!(
        detail(r#"(userName eq "a""#),
        "filter: the '(' at position 0 is never closed; expected ')' at position 16"
    );
    assert_eq!(
        detail(r#"userName eq "a")"#),
        "filter: expected 'and', 'or' or the end of the filter, found ')' at position 15"
    );
    assert_eq!(
        detail(r#"userName eq "a" and"#),
        "filter: expected an attribute, 'not' or '(' at the end of the filter at position 19"
    );
    assert_eq!(
        detail(r#""a" eq "b""#),
        "filter: expected an attribute, 'not' or '(', found '\"a\"' at position 0"
    );
    assert_eq!(
        detail(r#"userName eq "abc"#),
        "filter: unterminated string literal at position 12"
    );
    assert_eq!(
        detail("1abc eq 2"),
        "filter: an attribute name must start with a letter, found '1' at position 0"
    );
    assert_eq!(
        detail("name.given.x pr"),
        "filter: unexpected character '.' at position 10"
    );
    assert_eq!(
        detail(r#"emails[type eq "work"]].value eq "x""#),
        "filter: expected 'and', 'or' or the end of the filter, found ']' at position 22"
    );
}

#[test]
fn value_path_errors() {
    assert_eq!(
        detail(r#"emails[type eq "work""#),
        "filter: the '[' at position 6 is never closed; expected ']' at position 21"
    );
    assert_eq!(
        detail(r#"emails[addresses[type eq "work"]]"#),
        "filter: value filters cannot be nested at position 16"
    );
    assert_eq!(
        detail(r#"emails.value[type eq "work"]"#),
        "filter: a value filter must follow the attribute itself at position 12"
    );
    assert_eq!(
        detail(r#"emails[type eq "work"].value.x eq "a""#),
        "filter: unexpected '.value.x' in a sub-attribute name at position 28"
    );
    assert_eq!(
        detail(r#"emails[type eq "work"].value"#),
        "filter: expected a comparison operator after '.value' at position 28"
    );
}

#[test]
fn limits() {
    let deep = format!("{}a pr{}", "(".repeat(32), ")".repeat(32));
    assert_eq!(parse(&deep), present("a"));
    let too_deep = format!("{}a pr{}", "(".repeat(33), ")".repeat(33));
    assert_eq!(
        detail(&too_deep),
        "filter: nested deeper than 32 levels at position 32"
    );

    let many = vec!["a pr"; 64].join(" and ");
    assert!(Filter::parse(&many).is_ok());
    let too_many = vec!["a pr"; 65].join(" and ");
    assert_eq!(
        detail(&too_many),
        "filter: more than 64 terms at position 576"
    );

    let long = format!("userName eq \"{}\"", "x".repeat(4096));
    assert_eq!(
        detail(&long),
        "filter: the filter is 4110 bytes long, the limit is 4096 at position 4096"
    );
}
