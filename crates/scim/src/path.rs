//! Attribute paths (RFC 7644 §3.10) and PATCH paths (RFC 7644 §3.5.2).
//!
//! `attrPath = [URI ":"] ATTRNAME *1subAttr` and
//! `PATH = attrPath / valuePath [subAttr]`. A URN prefix is split at the
//! *last* colon, so the `.` in `2.0` is never read as a sub-attribute.

use std::fmt;

use crate::ScimError;
use crate::filter::{Filter, parser};
use crate::schema::{self, AttrDef};

/// `[urn:]attr[.sub]`, as written by the client (letter case preserved;
/// comparisons are case-insensitive).
///
/// A path that is exactly a known schema URN (`attributes=urn:…:enterprise:2.0:User`)
/// names the whole extension object: it parses to `urn: None`, `attr` = the URN
/// as written, which is also the key of that object in a rendered resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// Schema URN prefix, e.g. the enterprise extension URN; `None` for the core schema.
    pub urn: Option<String>,
    /// Attribute name, e.g. `emails`.
    pub attr: String,
    /// Sub-attribute name, e.g. `value` in `emails.value`.
    pub sub_attr: Option<String>,
}

/// A PATCH `path`: an attribute path, optionally with a value filter
/// (`emails[type eq "work"]`) and a sub-attribute after it (`.value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (and, without a filter, optional sub-attribute).
    pub attr: AttrPath,
    /// The `[...]` value filter on a multi-valued (or complex) attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after the `]`, e.g. `value` in `emails[type eq "work"].value`.
    pub sub_attr_after_filter: Option<String>,
}

/// A path resolved against the schema table (RFC 7643 §4.1, §4.3).
#[derive(Debug, Clone, Copy)]
pub struct ResolvedPath {
    /// `Some(ENTERPRISE_SCHEMA)` for an extension attribute (it lives under that
    /// key in a rendered resource); `None` for core and common attributes, also
    /// when the path was qualified with the core URN.
    pub urn: Option<&'static str>,
    /// The attribute.
    pub attr: &'static AttrDef,
    /// The sub-attribute, when the path names one.
    pub sub_attr: Option<&'static AttrDef>,
}

/// A syntax error at a byte position, before it becomes a [`ScimError`]; the
/// filter parser shares it so a PATCH path can report positions in the whole path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: usize,
    pub(crate) msg: String,
}

impl SyntaxError {
    pub(crate) fn new(pos: usize, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            msg: msg.into(),
        }
    }

    fn shifted(self, by: usize) -> SyntaxError {
        SyntaxError {
            pos: self.pos + by,
            msg: self.msg,
        }
    }

    fn into_path_error(self, path: &str) -> ScimError {
        ScimError::invalid_path(format!(
            "invalid path '{path}': {} at position {}",
            self.msg, self.pos
        ))
    }
}

impl AttrPath {
    /// Parses `[urn:]attr[.sub]`; errors are 400 `invalidPath`.
    pub fn parse(s: &str) -> Result<AttrPath, ScimError> {
        parse_attr_path(s).map_err(|e| e.into_path_error(s))
    }

    /// A core attribute path without URN or sub-attribute.
    pub fn simple(attr: &str) -> AttrPath {
        AttrPath {
            urn: None,
            attr: attr.to_owned(),
            sub_attr: None,
        }
    }

    /// The canonical URN when the whole path is a known schema URN (the path
    /// names the core schema or the extension object, RFC 7644 §3.10).
    pub fn whole_schema(&self) -> Option<&'static str> {
        match (&self.urn, &self.sub_attr) {
            (None, None) => schema::canonical_urn(&self.attr),
            _ => None,
        }
    }

    /// Resolves the path against the schema: `None` when the URN, attribute
    /// or sub-attribute is unknown, or the path names a whole schema.
    pub fn resolve(&self) -> Option<ResolvedPath> {
        let urn = match &self.urn {
            None => None,
            Some(urn) => Some(schema::canonical_urn(urn)?),
        };
        let attr = schema::find(urn, &self.attr)?;
        let sub_attr = match &self.sub_attr {
            None => None,
            Some(sub) => Some(schema::find_sub(attr, sub)?),
        };
        let urn = urn.filter(|u| *u != crate::USER_SCHEMA);
        Some(ResolvedPath {
            urn,
            attr,
            sub_attr,
        })
    }
}

impl PatchPath {
    /// Parses a PATCH path; errors are 400 `invalidPath` naming the position.
    pub fn parse(s: &str) -> Result<PatchPath, ScimError> {
        parse_patch_path(s).map_err(|e| e.into_path_error(s))
    }

    /// Resolves the attribute and the sub-attribute the path finally targets
    /// (`emails[type eq "work"].value` → `emails`, `value`); `None` if unknown.
    pub fn resolve(&self) -> Option<ResolvedPath> {
        let mut resolved = self.attr.resolve()?;
        if let Some(sub) = &self.sub_attr_after_filter {
            resolved.sub_attr = Some(schema::find_sub(resolved.attr, sub)?);
        }
        Some(resolved)
    }
}

impl fmt::Display for AttrPath {
    /// Prints the path so that [`AttrPath::parse`] gives it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PatchPath {
    /// Prints the path so that [`PatchPath::parse`] gives it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// `[urn:]attr[.sub]` with positions relative to `s`.
pub(crate) fn parse_attr_path(s: &str) -> Result<AttrPath, SyntaxError> {
    if s.is_empty() {
        return Err(SyntaxError::new(0, "the attribute path is empty"));
    }
    let has_urn = s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if !has_urn {
        let (attr, sub_attr) = parse_names(s, 0)?;
        return Ok(AttrPath {
            urn: None,
            attr,
            sub_attr,
        });
    }
    if schema::canonical_urn(s).is_some() {
        return Ok(AttrPath {
            urn: None,
            attr: s.to_owned(),
            sub_attr: None,
        });
    }
    let split = known_urn_end(s).or_else(|| s.rfind(':')).unwrap_or(0);
    let (urn, rest) = (
        s.get(..split).unwrap_or(""),
        s.get(split + 1..).unwrap_or(""),
    );
    if let Some((i, c)) = urn.char_indices().find(|(_, c)| !is_urn_char(*c)) {
        return Err(SyntaxError::new(
            i,
            format!("unexpected character '{c}' in the schema urn"),
        ));
    }
    if rest.is_empty() {
        return Err(SyntaxError::new(
            s.len(),
            "expected an attribute name after the schema urn",
        ));
    }
    let (attr, sub_attr) = parse_names(rest, split + 1)?;
    Ok(AttrPath {
        urn: Some(urn.to_owned()),
        attr,
        sub_attr,
    })
}

/// Where a known schema URN ends, when `s` starts with one followed by `:`
/// or (Entra's pre-2019 form) `.` and a name without further colons.
fn known_urn_end(s: &str) -> Option<usize> {
    [crate::USER_SCHEMA, crate::ENTERPRISE_SCHEMA]
        .into_iter()
        .find_map(|urn| {
            let prefix = s.get(..urn.len())?;
            let rest = s.get(urn.len()..)?;
            let separated = rest.starts_with(':') || rest.starts_with('.');
            let single = rest.get(1..).is_some_and(|name| !name.contains(':'));
            let ok = prefix.eq_ignore_ascii_case(urn) && separated && single;
            ok.then_some(urn.len())
        })
}

fn is_urn_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '[' | ']' | '(' | ')' | '"' | ',')
}

/// `ATTRNAME ["." ATTRNAME]`, `at` being the offset of `s` in the whole input.
fn parse_names(s: &str, at: usize) -> Result<(String, Option<String>), SyntaxError> {
    let end = name_end(s, at)?;
    let attr = s.get(..end).unwrap_or("").to_owned();
    let rest = s.get(end..).unwrap_or("");
    if rest.is_empty() {
        return Ok((attr, None));
    }
    if !rest.starts_with('.') {
        return Err(unexpected(rest, at + end));
    }
    let sub = rest.get(1..).unwrap_or("");
    let sub_end = name_end(sub, at + end + 1)?;
    if let Some(extra) = sub.get(sub_end..).filter(|r| !r.is_empty()) {
        return Err(unexpected(extra, at + end + 1 + sub_end));
    }
    Ok((attr, Some(sub.to_owned())))
}

/// The length of the ATTRNAME at the start of `s` (`ALPHA *(ALPHA / DIGIT /
/// "-" / "_")`, or `$ref`); an error if there is none.
pub(crate) fn name_end(s: &str, at: usize) -> Result<usize, SyntaxError> {
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("$ref")) {
        return Ok(4);
    }
    match s.chars().next() {
        None => Err(SyntaxError::new(at, "expected an attribute name")),
        Some(c) if c.is_ascii_alphabetic() => {
            let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            Ok(s.find(|c| !is_name(c)).unwrap_or(s.len()))
        }
        Some(c) => Err(SyntaxError::new(
            at,
            format!("an attribute name must start with a letter, found '{c}'"),
        )),
    }
}

fn unexpected(rest: &str, pos: usize) -> SyntaxError {
    let c = rest.chars().next().unwrap_or(' ');
    SyntaxError::new(pos, format!("unexpected character '{c}'"))
}

fn parse_patch_path(s: &str) -> Result<PatchPath, SyntaxError> {
    let Some(open) = s.find('[') else {
        let attr = parse_attr_path(s)?;
        return Ok(PatchPath {
            attr,
            filter: None,
            sub_attr_after_filter: None,
        });
    };
    let attr = parse_attr_path(s.get(..open).unwrap_or(""))?;
    if attr.sub_attr.is_some() {
        return Err(SyntaxError::new(
            open,
            "a value filter must follow the attribute itself",
        ));
    }
    let close = closing_bracket(s, open + 1)
        .ok_or_else(|| SyntaxError::new(s.len(), "expected ']' to close the value filter"))?;
    let inner = s.get(open + 1..close).unwrap_or("");
    let filter = parser::parse(inner).map_err(|e| SyntaxError {
        msg: format!("value filter: {}", e.msg),
        ..e.shifted(open + 1)
    })?;
    let rest = s.get(close + 1..).unwrap_or("");
    let sub_attr_after_filter = match rest.strip_prefix('.') {
        None if rest.is_empty() => None,
        None => return Err(unexpected(rest, close + 1)),
        Some(sub) => {
            let end = name_end(sub, close + 2)?;
            if let Some(extra) = sub.get(end..).filter(|r| !r.is_empty()) {
                return Err(unexpected(extra, close + 2 + end));
            }
            Some(sub.to_owned())
        }
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub_attr_after_filter,
    })
}

/// The byte index of the first `]` at or after `from` that is not inside a
/// quoted string.
fn closing_bracket(s: &str, from: usize) -> Option<usize> {
    let (mut in_string, mut escaped) = (false, false);
    for (i, b) in s.bytes().enumerate().skip(from) {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => in_string = !in_string,
            (false, _, b']') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
