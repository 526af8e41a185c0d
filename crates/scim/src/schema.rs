//! The User schema (RFC 7643 §4.1), the enterprise extension (§4.3), and the
//! discovery documents built from them (RFC 7644 §4).
//!
//! The attribute table lives in the private `table` statics; everything else
//! (lookups, `/Schemas`, path resolution, projection, filter case rules) reads
//! it, so a characteristic is stated exactly once.

mod discovery;
mod table;

pub use discovery::{
    advertise_role_values, resource_types, schema_by_id, schemas, service_provider_config,
    user_resource_type,
};

/// SCIM attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// string
    String,
    /// boolean
    Boolean,
    /// decimal
    Decimal,
    /// integer
    Integer,
    /// dateTime
    DateTime,
    /// binary
    Binary,
    /// reference
    Reference,
    /// complex
    Complex,
}

impl AttrType {
    /// The `type` keyword as it appears in a schema representation (RFC 7643 §7).
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// `mutability` (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// readOnly
    ReadOnly,
    /// readWrite
    ReadWrite,
    /// immutable
    Immutable,
    /// writeOnly
    WriteOnly,
}

impl Mutability {
    /// The `mutability` keyword as it appears in a schema representation (RFC 7643 §7).
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// `returned` (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// always
    Always,
    /// never
    Never,
    /// default
    Default,
    /// request
    Request,
}

impl Returned {
    /// The `returned` keyword as it appears in a schema representation (RFC 7643 §7).
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// One attribute definition.
#[derive(Debug, Clone)]
pub struct AttrDef {
    /// Canonical name, e.g. `userName`.
    pub name: &'static str,
    /// Data type.
    pub ty: AttrType,
    /// Whether the attribute holds a list.
    pub multi_valued: bool,
    /// Whether the server requires it.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// `none` / `server` / `global`.
    pub uniqueness: &'static str,
    /// Allowed values, if any (for example `type` of `emails`).
    pub canonical_values: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [AttrDef],
    /// Human-readable description for `/Schemas`.
    pub description: &'static str,
}

// Builders for the static table: every attribute starts from the RFC 7643 §2.2
// defaults and states only where it differs, so the table reads like the RFC.
impl AttrDef {
    const fn new(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: "none",
            canonical_values: &[],
            sub_attributes: &[],
            description,
        }
    }

    const fn multi(mut self) -> AttrDef {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> AttrDef {
        self.required = true;
        self
    }

    const fn exact(mut self) -> AttrDef {
        self.case_exact = true;
        self
    }

    const fn mutability(mut self, mutability: Mutability) -> AttrDef {
        self.mutability = mutability;
        self
    }

    const fn returned(mut self, returned: Returned) -> AttrDef {
        self.returned = returned;
        self
    }

    const fn unique_server(mut self) -> AttrDef {
        self.uniqueness = "server";
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> AttrDef {
        self.canonical_values = values;
        self
    }

    const fn subs(mut self, subs: &'static [AttrDef]) -> AttrDef {
        self.sub_attributes = subs;
        self
    }
}

/// The common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1). They
/// belong to every resource and to no schema, so `/Schemas` leaves them out.
pub fn common_attributes() -> &'static [AttrDef] {
    table::COMMON
}

/// The attributes of the core User schema (RFC 7643 §4.1), as published in `/Schemas`.
pub fn user_attributes() -> &'static [AttrDef] {
    table::USER
}

/// The attributes of the enterprise User extension (RFC 7643 §4.3).
pub fn enterprise_attributes() -> &'static [AttrDef] {
    table::ENTERPRISE
}

/// Maps a schema URN written in any letter case to its canonical spelling
/// ([`crate::USER_SCHEMA`] or [`crate::ENTERPRISE_SCHEMA`]); `None` for any other URN.
pub fn canonical_urn(urn: &str) -> Option<&'static str> {
    [crate::USER_SCHEMA, crate::ENTERPRISE_SCHEMA]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(urn))
}

/// Finds an attribute by schema URN (`None` = core User schema, also for
/// `id`, `externalId`, `meta`) and name, case-insensitively.
pub fn find(urn: Option<&str>, name: &str) -> Option<&'static AttrDef> {
    let attrs: &[&'static [AttrDef]] = match urn.map(canonical_urn) {
        None | Some(Some(crate::USER_SCHEMA)) => &[table::COMMON, table::USER],
        Some(Some(_)) => &[table::ENTERPRISE],
        Some(None) => return None,
    };
    attrs
        .iter()
        .flat_map(|list| list.iter())
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Finds a sub-attribute of a complex attribute, case-insensitively.
pub fn find_sub(parent: &'static AttrDef, name: &str) -> Option<&'static AttrDef> {
    parent
        .sub_attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ENTERPRISE_SCHEMA, USER_SCHEMA};

    #[test]
    fn find_core_attribute_case_insensitively() {
        let user_name = find(None, "USERNAME").map(|a| a.name);
        assert_eq!(user_name, Some("userName"));
        let def = find(
            Some("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"),
            "username",
        );
        assert_eq!(
            def.map(|a| (a.required, a.case_exact, a.uniqueness)),
            Some((true, false, "server"))
        );
    }

    #[test]
    fn find_common_attributes_under_core_urn() {
        let id = find(Some(USER_SCHEMA), "id");
        assert_eq!(
            id.map(|a| (a.mutability, a.returned, a.case_exact)),
            Some((Mutability::ReadOnly, Returned::Always, true))
        );
        assert_eq!(find(None, "externalId").map(|a| a.case_exact), Some(true));
        assert_eq!(find(None, "meta").map(|a| a.sub_attributes.len()), Some(5));
    }

    #[test]
    fn find_enterprise_only_under_its_urn() {
        assert_eq!(
            find(Some(ENTERPRISE_SCHEMA), "Department").map(|a| a.name),
            Some("department")
        );
        assert_eq!(find(None, "department").map(|a| a.name), None);
        assert_eq!(
            find(Some(ENTERPRISE_SCHEMA), "userName").map(|a| a.name),
            None
        );
        assert_eq!(
            find(Some("urn:example:unknown"), "userName").map(|a| a.name),
            None
        );
    }

    #[test]
    fn find_sub_attributes() {
        let Some(emails) = find(None, "emails") else {
            panic!("emails missing")
        };
        assert_eq!(
            find_sub(emails, "TYPE").map(|a| a.canonical_values),
            Some(&["work", "home", "other"][..])
        );
        let Some(manager) = find(Some(ENTERPRISE_SCHEMA), "manager") else {
            panic!("manager missing")
        };
        let names: Vec<_> = manager.sub_attributes.iter().map(|a| a.name).collect();
        assert_eq!(names, ["value", "$ref", "displayName"]);
        assert_eq!(
            find_sub(manager, "displayname").map(|a| a.mutability),
            Some(Mutability::ReadOnly)
        );
        let Some(roles) = find(None, "roles") else {
            panic!("roles missing")
        };
        let names: Vec<_> = roles.sub_attributes.iter().map(|a| a.name).collect();
        assert_eq!(names, ["value", "display", "type", "primary"]);
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let def = find(None, "password").map(|a| (a.mutability, a.returned));
        assert_eq!(def, Some((Mutability::WriteOnly, Returned::Never)));
    }

    #[test]
    fn canonical_urn_spellings() {
        assert_eq!(
            canonical_urn("urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user"),
            Some(ENTERPRISE_SCHEMA)
        );
        assert_eq!(
            canonical_urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0User"),
            None
        );
    }
}
