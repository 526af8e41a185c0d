//! The attribute table: RFC 7643 §3.1 (common), §4.1 (User), §4.3 (enterprise),
//! with the characteristics of the schema representation in §8.7.1.

use super::AttrDef;
use super::AttrType::{Binary, Boolean, Complex, DateTime, Reference, String};
use super::Mutability::{ReadOnly, WriteOnly};
use super::Returned::{Always, Never};

/// `id`, `externalId`, `meta` (RFC 7643 §3.1).
pub(super) static COMMON: &[AttrDef] = &[
    AttrDef::new(
        "id",
        String,
        "Identifier of the resource, assigned by the service provider.",
    )
    .exact()
    .mutability(ReadOnly)
    .returned(Always)
    .unique_server(),
    AttrDef::new(
        "externalId",
        String,
        "Identifier of the resource in the provisioning client.",
    )
    .exact(),
    AttrDef::new(
        "meta",
        Complex,
        "Resource metadata maintained by the service provider.",
    )
    .mutability(ReadOnly)
    .subs(META),
];

const META: &[AttrDef] = &[
    AttrDef::new("resourceType", String, "Name of the resource type.")
        .exact()
        .mutability(ReadOnly),
    AttrDef::new("created", DateTime, "When the resource was added.").mutability(ReadOnly),
    AttrDef::new("lastModified", DateTime, "When the resource last changed.").mutability(ReadOnly),
    AttrDef::new("location", Reference, "URI of the resource.")
        .exact()
        .mutability(ReadOnly),
    AttrDef::new("version", String, "Version of the resource (ETag).")
        .exact()
        .mutability(ReadOnly),
];

/// The core User schema (RFC 7643 §4.1).
pub(super) static USER: &[AttrDef] = &[
    AttrDef::new(
        "userName",
        String,
        "Unique login name of the user. Required, non-empty.",
    )
    .required()
    .unique_server(),
    AttrDef::new("name", Complex, "Components of the user's name.").subs(NAME),
    AttrDef::new(
        "displayName",
        String,
        "Name of the user, suitable for display.",
    ),
    AttrDef::new("nickName", String, "Casual name of the user."),
    AttrDef::new("profileUrl", Reference, "URL of the user's online profile."),
    AttrDef::new("title", String, "Job title of the user."),
    AttrDef::new(
        "userType",
        String,
        "Relationship of the user to the organization.",
    ),
    AttrDef::new(
        "preferredLanguage",
        String,
        "Preferred written or spoken language.",
    ),
    AttrDef::new("locale", String, "Default location for localizing values."),
    AttrDef::new("timezone", String, "Time zone in IANA database format."),
    AttrDef::new("active", Boolean, "Whether the user may sign in."),
    AttrDef::new(
        "password",
        String,
        "Clear-text password; accepted, never returned.",
    )
    .mutability(WriteOnly)
    .returned(Never),
    AttrDef::new("emails", Complex, "E-mail addresses of the user.")
        .multi()
        .subs(EMAILS),
    AttrDef::new("phoneNumbers", Complex, "Phone numbers of the user.")
        .multi()
        .subs(PHONES),
    AttrDef::new("ims", Complex, "Instant messaging addresses of the user.")
        .multi()
        .subs(IMS),
    AttrDef::new("photos", Complex, "URLs of photos of the user.")
        .multi()
        .subs(PHOTOS),
    AttrDef::new(
        "addresses",
        Complex,
        "Physical mailing addresses of the user.",
    )
    .multi()
    .subs(ADDRESSES),
    AttrDef::new(
        "groups",
        Complex,
        "Groups the user belongs to, managed through Groups.",
    )
    .multi()
    .mutability(ReadOnly)
    .subs(GROUPS),
    AttrDef::new("entitlements", Complex, "Entitlements of the user.")
        .multi()
        .subs(PLAIN),
    AttrDef::new("roles", Complex, "Roles of the user.")
        .multi()
        .subs(PLAIN),
    AttrDef::new(
        "x509Certificates",
        Complex,
        "X.509 certificates of the user.",
    )
    .multi()
    .subs(CERTIFICATES),
];

const NAME: &[AttrDef] = &[
    AttrDef::new("formatted", String, "Full name, formatted for display."),
    AttrDef::new(
        "familyName",
        String,
        "Family name (last name in most Western languages).",
    ),
    AttrDef::new(
        "givenName",
        String,
        "Given name (first name in most Western languages).",
    ),
    AttrDef::new("middleName", String, "Middle name(s)."),
    AttrDef::new(
        "honorificPrefix",
        String,
        "Honorific prefix, such as 'Ms.'.",
    ),
    AttrDef::new(
        "honorificSuffix",
        String,
        "Honorific suffix, such as 'III'.",
    ),
];

const fn display() -> AttrDef {
    AttrDef::new("display", String, "Human-readable name of the value.")
}

const fn primary() -> AttrDef {
    AttrDef::new(
        "primary",
        Boolean,
        "Whether this is the preferred value; at most one.",
    )
}

const fn kind(values: &'static [&'static str]) -> AttrDef {
    AttrDef::new("type", String, "Label for the function of the value.").canonical(values)
}

const EMAILS: &[AttrDef] = &[
    AttrDef::new("value", String, "E-mail address, as in RFC 5321."),
    display(),
    kind(&["work", "home", "other"]),
    primary(),
];

const PHONES: &[AttrDef] = &[
    AttrDef::new(
        "value",
        String,
        "Phone number, preferably as an RFC 3966 URI.",
    ),
    display(),
    kind(&["work", "home", "mobile", "fax", "pager", "other"]),
    primary(),
];

const IMS: &[AttrDef] = &[
    AttrDef::new("value", String, "Instant messaging address."),
    display(),
    kind(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
    primary(),
];

const PHOTOS: &[AttrDef] = &[
    AttrDef::new("value", Reference, "URL of an image file."),
    display(),
    kind(&["photo", "thumbnail"]),
    primary(),
];

const ADDRESSES: &[AttrDef] = &[
    AttrDef::new("formatted", String, "Full address, formatted for display."),
    AttrDef::new(
        "streetAddress",
        String,
        "Street address, possibly on several lines.",
    ),
    AttrDef::new("locality", String, "City or locality."),
    AttrDef::new("region", String, "State or region."),
    AttrDef::new("postalCode", String, "Postal or ZIP code."),
    AttrDef::new("country", String, "Country, as an ISO 3166-1 alpha-2 code."),
    kind(&["work", "home", "other"]),
    primary(),
];

const GROUPS: &[AttrDef] = &[
    AttrDef::new("value", String, "Identifier of the group.").mutability(ReadOnly),
    AttrDef::new("$ref", Reference, "URI of the group.").mutability(ReadOnly),
    AttrDef::new("display", String, "Human-readable name of the group.").mutability(ReadOnly),
    kind(&["direct", "indirect"]).mutability(ReadOnly),
];

/// Sub-attributes of `entitlements` and `roles`: no canonical types.
const PLAIN: &[AttrDef] = &[
    AttrDef::new("value", String, "The value."),
    display(),
    AttrDef::new("type", String, "Label for the function of the value."),
    primary(),
];

const CERTIFICATES: &[AttrDef] = &[
    AttrDef::new("value", Binary, "DER-encoded certificate, base64."),
    display(),
    AttrDef::new("type", String, "Label for the function of the certificate."),
    primary(),
];

/// The enterprise User extension (RFC 7643 §4.3).
pub(super) static ENTERPRISE: &[AttrDef] = &[
    AttrDef::new(
        "employeeNumber",
        String,
        "Identifier assigned by the organization.",
    ),
    AttrDef::new("costCenter", String, "Name of a cost center."),
    AttrDef::new("organization", String, "Name of an organization."),
    AttrDef::new("division", String, "Name of a division."),
    AttrDef::new("department", String, "Name of a department."),
    AttrDef::new("manager", Complex, "The user's manager.").subs(MANAGER),
];

const MANAGER: &[AttrDef] = &[
    AttrDef::new("value", String, "The id of the manager's User resource."),
    AttrDef::new("$ref", Reference, "URI of the manager's User resource."),
    AttrDef::new("displayName", String, "Display name of the manager.").mutability(ReadOnly),
];
