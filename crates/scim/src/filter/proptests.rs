//! Properties of the whole grammar: printing then parsing gives the same
//! tree, and no input makes the parser (or the evaluator) panic.

use proptest::prelude::*;
use serde_json::{Number, json};

use super::{CompValue, CompareOp, Filter};
use crate::ENTERPRISE_SCHEMA;
use crate::path::AttrPath;

fn name() -> impl Strategy<Value = String> {
    // Keyword-like names (`and`, `not`, `pr`, `eq`) are legal attribute names
    // and must survive printing, so they are generated on purpose.
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
        Just("and".to_owned()),
        Just("not".to_owned()),
        Just("pr".to_owned()),
        Just("eq".to_owned()),
        Just("$ref".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = AttrPath> {
    let urn = prop_oneof![4 => Just(None), 1 => Just(Some(ENTERPRISE_SCHEMA.to_owned()))];
    (urn, name(), proptest::option::of(name())).prop_map(|(urn, attr, sub_attr)| AttrPath {
        urn,
        attr,
        sub_attr,
    })
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        "[a-z ]{0,5}(and|or|not|pr|\\(|\\)|\\[|\\]|\")".prop_map(CompValue::Str),
        any::<i64>().prop_map(|n| CompValue::Num(n.into())),
        any::<u64>().prop_map(|n| CompValue::Num(n.into())),
        (-1e12f64..1e12).prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Num)),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    prop_oneof![
        Just(Eq),
        Just(Ne),
        Just(Co),
        Just(Sw),
        Just(Ew),
        Just(Gt),
        Just(Ge),
        Just(Lt),
        Just(Le)
    ]
}

fn term() -> impl Strategy<Value = Filter> {
    prop_oneof![
        3 => (path(), op(), value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
        1 => path().prop_map(Filter::Present),
    ]
}

/// Trees without value paths: what may appear inside `[...]`.
fn inner_filter() -> impl Strategy<Value = Filter> {
    term().prop_recursive(3, 12, 2, |f| {
        prop_oneof![
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            f.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (name(), inner_filter())
        .prop_map(|(attr, inner)| Filter::ValuePath(AttrPath::simple(&attr), Box::new(inner)));
    prop_oneof![3 => term(), 1 => value_path].prop_recursive(4, 24, 2, |f| {
        prop_oneof![
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            f.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

/// Fragments that reach deep into the parser when glued together.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just(" "),
        Just("and"),
        Just("or"),
        Just("not"),
        Just("eq"),
        Just("pr"),
        Just("\"x\""),
        Just("\"\\"),
        Just("emails"),
        Just(".value"),
        Just("urn:a:b:c"),
        Just("1.5e3"),
        Just("true"),
        Just("é"),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn print_then_parse_gives_the_same_tree(f in filter()) {
        let printed = f.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(f), "printed: {}", printed);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        let _ = Filter::parse(&s);
    }

    #[test]
    fn token_soup_never_panics_and_parsed_filters_evaluate(s in token_soup()) {
        if let Ok(f) = Filter::parse(&s) {
            let resource = json!({"emails": [{"value": "x"}], "urn:a:b": {"c": 1500}});
            let _ = f.matches(&resource);
            prop_assert_eq!(Filter::parse(&f.to_string()), Ok(f));
        }
    }
}
