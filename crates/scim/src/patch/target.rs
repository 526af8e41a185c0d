//! Resolving what an operation touches: a PATCH `path` (RFC 7644 §3.5.2),
//! or a key of a path-less value or of a POST/PUT body, which Entra writes
//! as attribute paths too ([`crate::entra`] rule 7).

use serde_json::Value;

use crate::filter::Filter;
use crate::path::PatchPath;
use crate::schema::{self, AttrDef, AttrType, Mutability};
use crate::{ENTERPRISE_SCHEMA, ScimError, USER_SCHEMA, entra};

/// Where an operation lands.
#[derive(Debug)]
pub(crate) enum Target<'f> {
    /// An attribute of the core or the enterprise schema.
    Attr(AttrTarget<'f>),
    /// A whole schema given as one object: `{"urn:…:enterprise:2.0:User":
    /// {…}}` (`ext`), or the core URN the same way.
    Schema {
        /// The enterprise extension rather than the core schema.
        ext: bool,
    },
    /// A custom extension (an unknown `urn:` key) or one attribute in it.
    Custom {
        /// The extension URN, as the client spelled it.
        urn: String,
        /// The attribute inside it; `None` for the whole object.
        attr: Option<String>,
    },
}

/// A schema attribute, optionally narrowed to a sub-attribute and/or to the
/// elements a value filter selects.
#[derive(Debug)]
pub(crate) struct AttrTarget<'f> {
    /// Lives in the enterprise extension object.
    pub(crate) ext: bool,
    /// The attribute.
    pub(crate) def: &'static AttrDef,
    /// `name.givenName`, `emails[…].value`.
    pub(crate) sub: Option<&'static AttrDef>,
    /// `emails[type eq "work"]`.
    pub(crate) filter: Option<&'f Filter>,
}

/// Where a target came from, which decides how unknown and server-owned
/// attributes are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// An explicit PATCH `path`: unknown is 400 `invalidPath`, read-only is
    /// 400 `mutability`.
    Path,
    /// A key of a path-less add/replace value: unknown is ignored (rule 7),
    /// read-only is 400 `mutability`, `schemas` is ignored.
    PathlessKey,
    /// A key of a POST/PUT body: unknown and read-only are ignored
    /// (RFC 7644 §3.3, §3.5.1; rule 13).
    BodyKey,
}

/// Resolves an explicit PATCH path; `None` when the operation is to be
/// ignored (a write-only attribute, which is never stored).
pub(crate) fn from_path(path: &PatchPath) -> Result<Option<Target<'_>>, ScimError> {
    let attr = &path.attr;
    let sub = match (&attr.sub_attr, &path.sub_attr_after_filter) {
        (Some(_), Some(_)) => {
            return Err(ScimError::invalid_path(
                "a path has at most one sub-attribute (RFC 7644 §3.10)",
            ));
        }
        (a, b) => a.as_deref().or(b.as_deref()),
    };
    resolve(
        attr.urn.as_deref(),
        &attr.attr,
        sub,
        path.filter.as_ref(),
        Origin::Path,
    )
}

/// Resolves a key of a path-less value or of a body; `None` when the key is
/// to be ignored. `value` decides whether an unknown `urn:` key is a custom
/// extension object or an attribute inside one.
pub(crate) fn from_key(
    key: &str,
    value: &Value,
    origin: Origin,
) -> Result<Option<Target<'static>>, ScimError> {
    if key.eq_ignore_ascii_case("schemas") {
        return Ok(None);
    }
    let (urn, rest) = if starts_with_ci(key, "urn:") {
        if entra::is_enterprise_urn(key) {
            return Ok(Some(Target::Schema { ext: true }));
        }
        if key.eq_ignore_ascii_case(USER_SCHEMA) {
            return Ok(Some(Target::Schema { ext: false }));
        }
        match known_prefix(key) {
            Some((urn, rest)) => (Some(urn), rest),
            None if value.is_object() => {
                return Ok(Some(Target::Custom {
                    urn: key.to_owned(),
                    attr: None,
                }));
            }
            None => match key.rsplit_once(':') {
                Some((urn, rest)) => (Some(urn), rest),
                None => (None, key),
            },
        }
    } else {
        (None, key)
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((attr, sub)) => (attr, Some(sub)),
        None => (rest, None),
    };
    resolve(urn, attr, sub, None, origin)
}

/// Splits a key that starts with the core or enterprise URN followed by `:`
/// or, as pre-2019 Entra jobs wrote it, `.` (ENTRA §1, old flags).
fn known_prefix(key: &str) -> Option<(&'static str, &str)> {
    [ENTERPRISE_SCHEMA, USER_SCHEMA]
        .into_iter()
        .find_map(|urn| {
            let rest = key.get(urn.len()..)?;
            let qualified =
                starts_with_ci(key, urn) && (rest.starts_with(':') || rest.starts_with('.'));
            Some((urn, rest.get(1..)?)).filter(|_| qualified)
        })
}

/// The shared resolution of `[urn:]attr[.sub]` plus an optional filter.
fn resolve<'f>(
    urn: Option<&str>,
    attr: &str,
    sub: Option<&str>,
    filter: Option<&'f Filter>,
    origin: Origin,
) -> Result<Option<Target<'f>>, ScimError> {
    let strict = origin == Origin::Path;
    let ext = match urn {
        // The path parser leaves a whole-schema URN unsplit in `attr`.
        None if entra::is_enterprise_urn(attr) => return whole_schema(true, sub, filter),
        None if attr.eq_ignore_ascii_case(USER_SCHEMA) => return whole_schema(false, sub, filter),
        None if starts_with_ci(attr, "urn:") => {
            return Ok(Some(Target::Custom {
                urn: attr.to_owned(),
                attr: None,
            }));
        }
        None => false,
        Some(u) if entra::is_enterprise_urn(&format!("{u}:{attr}")) => {
            return whole_schema(true, sub, filter);
        }
        Some(u) if format!("{u}:{attr}").eq_ignore_ascii_case(USER_SCHEMA) => {
            return whole_schema(false, sub, filter);
        }
        Some(u) if entra::is_enterprise_urn(u) => true,
        Some(u) if u.eq_ignore_ascii_case(USER_SCHEMA) => false,
        Some(u) => {
            if sub.is_some() || filter.is_some() {
                return if strict {
                    Err(ScimError::invalid_path(format!(
                        "{u}:{attr}: attributes of custom extensions take no sub-attribute or \
                         filter; set the whole attribute"
                    )))
                } else {
                    Ok(None)
                };
            }
            return Ok(Some(Target::Custom {
                urn: u.to_owned(),
                attr: Some(attr.to_owned()),
            }));
        }
    };
    if !ext && is_server_owned(attr) {
        return match origin {
            Origin::BodyKey => Ok(None),
            _ => Err(read_only(attr)),
        };
    }
    let found = match schema::find(ext.then_some(ENTERPRISE_SCHEMA), attr) {
        Some(def) => Some((ext, def)),
        // Enterprise attributes named without their URN (rule 18): the two
        // schemas share no attribute name, so this is never ambiguous.
        None if urn.is_none() => schema::find(Some(ENTERPRISE_SCHEMA), attr).map(|def| (true, def)),
        None => None,
    };
    let Some((ext, def)) = found else {
        return if strict {
            Err(unknown(&qualified(ext, attr)))
        } else {
            Ok(None)
        };
    };
    let sub = match sub {
        None => None,
        Some(s) => match (def.ty, schema::find_sub(def, s)) {
            (AttrType::Complex, Some(sub)) => Some(sub),
            _ if strict => {
                return Err(unknown(&format!("{}.{s}", qualified(ext, def.name))));
            }
            _ => return Ok(None),
        },
    };
    let named = [
        Some((def, def.name.to_owned())),
        sub.map(|s| (s, format!("{}.{}", def.name, s.name))),
    ];
    for (d, name) in named.into_iter().flatten() {
        match (d.mutability, origin) {
            // A password is never stored: Ignite users sign in through Entra.
            (Mutability::WriteOnly, _) | (Mutability::ReadOnly, Origin::BodyKey) => {
                return Ok(None);
            }
            (Mutability::ReadOnly, _) => return Err(read_only(&qualified(ext, &name))),
            _ => {}
        }
    }
    if filter.is_some() && def.ty != AttrType::Complex {
        return Err(ScimError::invalid_path(format!(
            "{} is a simple attribute and takes no value filter; use the attribute name alone",
            qualified(ext, def.name)
        )));
    }
    Ok(Some(Target::Attr(AttrTarget {
        ext,
        def,
        sub,
        filter,
    })))
}

/// A path naming a whole schema takes neither a sub-attribute nor a filter.
fn whole_schema<'f>(
    ext: bool,
    sub: Option<&str>,
    filter: Option<&Filter>,
) -> Result<Option<Target<'f>>, ScimError> {
    if sub.is_some() || filter.is_some() {
        let urn = if ext { ENTERPRISE_SCHEMA } else { USER_SCHEMA };
        return Err(ScimError::invalid_path(format!(
            "{urn} names a whole schema; write {urn}:attribute to target one attribute"
        )));
    }
    Ok(Some(Target::Schema { ext }))
}

/// `id`, `meta` and `schemas` belong to the server (RFC 7643 §3, §3.1).
fn is_server_owned(attr: &str) -> bool {
    ["id", "meta", "schemas"]
        .iter()
        .any(|owned| attr.eq_ignore_ascii_case(owned))
}

fn read_only(attr: &str) -> ScimError {
    ScimError::mutability(format!(
        "{attr} is read-only (set by the server, RFC 7643 §7); remove it from the request"
    ))
}

fn unknown(attr: &str) -> ScimError {
    ScimError::invalid_path(format!(
        "{attr} is not an attribute of the User schema or the enterprise extension \
         (RFC 7643 §4.1, §4.3); check the attribute mapping in Entra"
    ))
}

fn qualified(ext: bool, attr: &str) -> String {
    if ext {
        format!("{ENTERPRISE_SCHEMA}:{attr}")
    } else {
        attr.to_owned()
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}
