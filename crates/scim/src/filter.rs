//! The filter grammar of RFC 7644 §3.4.2.2: parse, print, evaluate.
//!
//! The phases live in submodules: `lexer` cuts the text into tokens,
//! `parser` builds the [`Filter`] tree by recursive descent, `eval` runs it
//! against a rendered resource, `index` decides whether the core's indexes
//! can answer it. Printing (`Display`) is here, beside the types.

use std::fmt;

use serde_json::Value;

use crate::ScimError;
use crate::path::AttrPath;
use crate::schema::AttrDef;

mod eval;
mod index;
mod lexer;
pub(crate) mod parser;

/// Longest filter accepted, in bytes; longer is 400 `invalidFilter`.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of `(`, `not (` and `[` accepted.
pub const MAX_DEPTH: usize = 32;
/// Most comparison and presence terms accepted in one filter.
pub const MAX_TERMS: usize = 64;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare(AttrPath, CompareOp, CompValue),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `attr[filter]` or, Entra's form, `attr[filter].sub op value` (the
    /// trailing comparison is folded into the inner filter by the parser).
    ValuePath(AttrPath, Box<Filter>),
}

/// Comparison operators (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// equal
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater than or equal
    Ge,
    /// less than
    Lt,
    /// less than or equal
    Le,
}

/// A comparison value.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// A JSON string (also an unquoted bare word, which Entra's old examples send).
    Str(String),
    /// A JSON number.
    Num(serde_json::Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A filter the core can answer with its indexes: equality on `userName`
/// (case-insensitive), `externalId` (exact), `emails.value`
/// (case-insensitive) and `id`, alone or joined with `and`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexLookup {
    /// `userName eq …`
    pub user_name: Option<String>,
    /// `externalId eq …`
    pub external_id: Option<String>,
    /// `emails.value eq …` / `emails eq …` / `emails[value eq …]`
    pub email: Option<String>,
    /// `id eq …`
    pub id: Option<String>,
}

impl Filter {
    /// Parses a filter (already URL-decoded). Errors are 400 `invalidFilter`
    /// with the byte position of the problem in `detail`.
    pub fn parse(s: &str) -> Result<Filter, ScimError> {
        parser::parse(s).map_err(|e| {
            ScimError::invalid_filter(format!("filter: {} at position {}", e.msg, e.pos))
        })
    }

    /// Evaluates the filter against a rendered User resource (with `id`,
    /// `meta`, and the enterprise extension under its URN key), or, inside a
    /// value path, against one element of a multi-valued attribute.
    ///
    /// String comparisons follow the schema's `caseExact` (RFC 7643 §2.2);
    /// attributes the schema does not know compare case-insensitively.
    pub fn matches(&self, resource: &Value) -> bool {
        eval::matches(self, resource)
    }

    /// Evaluates a value filter (the `[...]` of RFC 7644 §3.5.2) against one
    /// element of the complex attribute `parent`, e.g. one of `emails`: names
    /// in the filter are sub-attributes of `parent`, and their `caseExact`
    /// decides how strings compare.
    pub fn matches_element(&self, element: &Value, parent: &'static AttrDef) -> bool {
        eval::matches_element(self, element, parent)
    }

    /// `Some` when the whole filter is answerable by the core's indexes.
    pub fn index_lookup(&self) -> Option<IndexLookup> {
        index::index_lookup(self)
    }
}

impl CompareOp {
    /// The operator keyword, lower-case (RFC 7644 §3.4.2.2, table 3).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator for a keyword in any letter case; `None` for `pr` and
    /// anything else.
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    /// Prints the value as a JSON literal; strings are always quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Str(s) => write!(f, "{}", Value::from(s.as_str())),
            CompValue::Num(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for Filter {
    /// Prints the filter in RFC syntax so that `parse(print(f)) == f`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare(path, op, value) => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            // `and` binds tighter than `or` and both group to the left, so only
            // an `or` under an `and`, or a right operand of the same kind,
            // needs parentheses to come back as the same tree.
            Filter::And(left, right) => {
                write_operand(f, left, matches!(**left, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_operand(
                    f,
                    right,
                    matches!(**right, Filter::Or(..) | Filter::And(..)),
                )
            }
            Filter::Or(left, right) => {
                write_operand(f, left, false)?;
                f.write_str(" or ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..)))
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

#[cfg(test)]
mod proptests;
