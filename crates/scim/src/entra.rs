//! Microsoft Entra ID's deviations from RFC 7643/7644, and the rule chosen
//! for each. This is the one place that lists them; the code that applies
//! each rule links back here, and the helpers below are the only
//! implementation of the rules that need code of their own.
//!
//! Source tags (`[DOC S2]`, `[OBS S16]`, …) and section numbers refer to
//! `ENTRA.md`, the protocol reference written for this project. Entra sends
//! two request families: the legacy one (no `aadOptscim062020` flag, and
//! every on-demand run) and the flag one. Both are accepted, always.
//!
//! 1. **Capitalised ops.** Entra sends `"op": "Replace"`, `"Add"`, `"Remove"`.
//!    RFC 7644 §3.5.2 spells them in lower case. Rule: `op` is matched
//!    case-insensitively, and so are the member names `Operations`, `op`,
//!    `path` and `value`. ENTRA §3 rule 1, §7.1 [DOC S1, S2].
//! 2. **Booleans as strings.** `"active": "True"` in POST bodies and
//!    `{"op":"Replace","path":"active","value":"False"}` in PATCH; lower-case
//!    `"false"` is seen too. RFC 7643 §2.3.2 allows only JSON `true`/`false`.
//!    Rule: for every boolean attribute (`active`, `primary` at any level)
//!    the strings `true`/`false` in any letter case become JSON booleans; any
//!    other non-boolean is 400 `invalidValue` naming the attribute. Responses
//!    always carry JSON booleans. See [`parse_bool`]. ENTRA §2.8, §3 rule 2,
//!    §7.2 [DOC S2] [MSREF S11] [OBS S18, S19b].
//! 3. **Boolean strings in PATCH filters.** SingleAppRoleAssignment targets
//!    `roles[primary eq "True"].value`. RFC 7644 §3.4.2.2 compares a boolean
//!    attribute with a JSON boolean. Rule: inside a PATCH value filter, the
//!    string `"True"`/`"False"` equals the matching boolean. ENTRA §4.3
//!    [DOC S3].
//! 4. **Stringified role values.** AppRoleAssignmentsComplex and
//!    SingleAppRoleAssignment PATCHes send
//!    `{"value": "{\"id\":\"…\",\"value\":\"Buyer\",\"displayName\":\"Buyer\"}"}`.
//!    RFC 7643 §4.1.2 makes `roles.value` a plain string. Rule: a role `value`
//!    that parses as a JSON object with a `value` member is unwrapped into
//!    `{value, display}`; the outer `type` and `primary` are kept; the `id`
//!    is dropped, since roles have no `id` sub-attribute. A role given as a
//!    bare string is read as its `value`. See [`normalize_role`]. ENTRA §3
//!    P13/P15, §4.1, §7.9 [DOC S3] [OBS S16 #516, S20].
//! 5. **`displayName` instead of `display` in roles.** POST bodies carry
//!    `displayName`; Assertive samples carry `display`. RFC 7643 §2.4 names
//!    the sub-attribute `display`. Rule: `displayName` is read as `display`
//!    (an explicit `display` wins) and responses use `display` only. ENTRA
//!    §2.8, §4.1, §4.2, §7.10 [DOC S3] [OBS S20].
//! 6. **Roles keyed on `value`; Add is a union.** AppRoleAssignmentsComplex
//!    only ever adds, possibly the full set each time. RFC 7644 §3.5.2.1
//!    appends. Rule: role values are compared case-insensitively; duplicates
//!    collapse into one element and an added role that exists already
//!    updates it instead of being appended. A whole-array `replace`
//!    (AssertiveAppRoleAssignmentsComplex) drops roles not listed. See
//!    [`role_key`]. ENTRA §4.1, §4.2, §4.4, §7.11 [DOC S3] \[INF\].
//! 7. **Dotted and URN-qualified keys in path-less add/replace.** With the
//!    flag, one path-less op carries `{"name.givenName": …,
//!    "urn:…:enterprise:2.0:User:employeeNumber": …}`. RFC 7644 §3.5.2.1 and
//!    §3.5.2.3 expect attribute names as keys. Rule: each key is read as an
//!    attribute path: a URN prefix is split off at the last `:`, then a
//!    sub-attribute at the `.`; the enterprise URN itself, mapped to an
//!    object, is merged. POST and PUT bodies are read the same way. Keys
//!    that name no known attribute are ignored, so one stray key cannot
//!    block a bundled disable. ENTRA §3 P4/P5/P16 and rule 3, §7.4
//!    [DOC S2] [OBS S16, S17 #132, S19, S39].
//! 8. **A filtered add/replace creates the element.** `Add
//!    emails[type eq "work"].value` for a user without a work e-mail, and
//!    several `addresses[type eq "work"].x` ops meant to build one address.
//!    RFC 7644 §3.5.2.3 answers an unmatched filtered replace with 400
//!    `noTarget` and leaves add open. Rule: when no element matches and the
//!    filter is `eq` terms joined by `and`, one element is created from those
//!    terms plus the value; later ops with the same filter then match it.
//!    Other filters that match nothing are 400 `noTarget`. ENTRA §3 P7/P8 and
//!    rule 4, §7.7 [OBS S16 #416, S17].
//! 9. **Remove with a value.** `{"op":"Remove","path":"roles","value":
//!    [{"value":"Approver"}]}` (and `members` for groups). RFC 7644 §3.5.2.2
//!    knows no value on remove, so a literal reading removes every role.
//!    Rule: only the elements equal to a listed value are removed (roles by
//!    [`role_key`]; other elements when every listed sub-attribute is equal);
//!    a single-valued attribute is removed only when it equals the value.
//!    ENTRA §3 P11 and rule 5, §7.5 [DOC S2] [OBS S28].
//! 10. **Removing what is already gone.** `manager[value eq "…"]` after the
//!     manager changed, or a role that was never there. RFC 7644 §3.5.2
//!     asks for 400 `noTarget` when a filter matches nothing. Rule: a remove
//!     that finds nothing, or a null written through a filter that matches
//!     nothing, succeeds and changes nothing; the state Entra wants already
//!     holds, and a 400 would block a disable bundled in the
//!     same PATCH and be retried forever. ENTRA §2.4, §3 P10 and rule 9,
//!     §7.23 [OBS S17 #453, S36] \[INF\].
//! 11. **Manager shapes.** The manager arrives as a bare id string
//!     (`"value": "271"`), as `{"value": …}`, or as `[{"value": …, "$ref":
//!     …}]`, and is removed with `manager[value eq "…"]` although it is
//!     single-valued. RFC 7643 §4.3 makes `manager` one complex value. Rule:
//!     a string becomes `{"value": …}`, an array its first element, an empty
//!     id clears the manager (the SCIM Validator removes it that way); a
//!     manager whose `value` changes replaces the old object instead of
//!     merging into it, because its `$ref` and `displayName` described the
//!     old manager. See [`normalize_manager`]. ENTRA §3 P9/P10 and rule 7,
//!     §7.8 [OBS S16, S17 #453] [DOC S1] [MSREF S10c].
//! 12. **Nulls, `$ref: null`, empty arrays.** Old samples post `"title":
//!     null`, `"addresses": null`; member and manager values carry `"$ref":
//!     null`; `"roles": []` means no roles. RFC 7643 §2.5 makes null and an
//!     empty array equal to unassigned. Rule: nulls are removed at every
//!     level, and empty arrays and empty complex values are dropped, so none
//!     is ever echoed. Empty strings are kept as sent (values round-trip
//!     byte for byte), except for `userName`, which must not be empty.
//!     ENTRA §2.8, §5.2, §7.6, §7.26 [DOC S1, S7] [OBS S19b].
//! 13. **Unknown or mistyped schema URIs; `schemas` and `meta` in bodies.**
//!     Entra lists URIs such as `…:enterprise:2.0User` (missing colon), omits
//!     custom extension URNs, and posts `"meta": {"resourceType": "User"}`.
//!     RFC 7643 §3 has `schemas` list the schemas used, and makes `id` and
//!     `meta` read-only. Rule: `schemas`, `id` and `meta` in a POST or PUT
//!     body are ignored; response `schemas` are computed from the attributes
//!     present; the mistyped enterprise URN, used as an object key, is read
//!     as the enterprise URN ([`is_enterprise_urn`]); objects under other
//!     `urn:` keys are kept as custom extensions. ENTRA §2.8, §7.13, §7.14
//!     [DOC S1, S3].
//! 14. **Valid but unmapped attributes.** Entra may send any attribute of the
//!     User schema, and a PATCH that fails on one of them never delivers the
//!     disable bundled with it. Rule: every attribute of the User and
//!     enterprise schemas is accepted, stored and returned as sent, whether
//!     Ignite uses it or not, so Entra sees no drift; the one exception is
//!     the write-only `password`, accepted and never stored (Ignite users
//!     sign in through Entra). ENTRA §2.3, §2.4, §3 rule 9, §7.21, §7.23
//!     [DOC S1] [OBS S15, S36].
//! 15. **One value per `type`.** Entra addresses e-mails, phone numbers and
//!     addresses by type (`emails[type eq "work"]`) and expects at most one
//!     element of each type. RFC 7643 §2.4 does not require unique types.
//!     Rule: within `emails`, `phoneNumbers`, `ims`, `photos` and
//!     `addresses`, a POST or replace with two elements of the same type is
//!     400 `invalidValue`, and a PATCH `add` of an element whose type exists
//!     updates that element instead of appending a second one. ENTRA §5.2
//!     [DOC S1].
//! 16. **Unquoted filter values** (`filter=externalId eq jyoung`). RFC 7644
//!     §3.4.2.2 requires JSON string literals. Rule: a bare word is read as
//!     a string; implemented in [`crate::filter`]. ENTRA §6, §7.24
//!     [DOC S1] [OBS S24].
//! 17. **`+` for spaces in query strings** (`userName+eq+%22…%22`). RFC 3986
//!     has no special meaning for `+`. Rule: the query is decoded once, `+`
//!     as a space; implemented in [`crate::list`]. ENTRA §2.1, §6, §7.24
//!     [OBS S13, S15].
//! 18. **Enterprise attributes without their URN.** Entra removes the
//!     manager with `manager[value eq "…"]`, and pre-2019 jobs wrote
//!     extension attributes unqualified. RFC 7644 §3.10 resolves a name
//!     without URN in the core schema only. Rule: a name the core schema
//!     lacks is looked up in the enterprise extension (the two share no
//!     attribute name), in paths, path-less keys and bodies alike. ENTRA §1
//!     (old flags), §3 P10, §7.8 [OBS S17 #453] [DOC S2].

use serde_json::{Map, Value};

/// The enterprise extension URN as an old Entra sample misspells it (the
/// colon before `User` is missing). Rule 13.
pub const MISTYPED_ENTERPRISE_URN: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0User";

/// Whether `urn` names the enterprise extension (RFC 7643 §4.3), in any
/// letter case, including Entra's misspelling (rule 13).
pub fn is_enterprise_urn(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(crate::ENTERPRISE_SCHEMA)
        || urn.eq_ignore_ascii_case(MISTYPED_ENTERPRISE_URN)
}

/// Reads a boolean as Entra sends it (rule 2): a JSON boolean, or the string
/// `true`/`false` in any letter case. `None` for anything else
/// (RFC 7643 §2.3.2).
pub fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool_str(s),
        _ => None,
    }
}

/// The string form of [`parse_bool`]: `"True"`, `"false"`, … (rules 2, 3).
pub fn parse_bool_str(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Brings one `roles` element (RFC 7643 §4.1.2) into the RFC shape: unwraps
/// a stringified `value` (rule 4) and renames `displayName` to `display`
/// (rule 5). Member names are matched case-insensitively; the result still
/// goes through the schema, which fixes their spelling.
pub fn normalize_role(element: Value) -> Value {
    match element {
        Value::String(s) => match decode_role_json(&s) {
            Some(inner) => Value::Object(role_from_parts(Map::new(), inner)),
            None => Value::Object(Map::from_iter([("value".to_owned(), Value::String(s))])),
        },
        Value::Object(mut outer) => {
            let inner = match get_ci(&outer, "value") {
                Some(Value::String(s)) => decode_role_json(s),
                _ => None,
            };
            match inner {
                Some(inner) => {
                    remove_ci(&mut outer, "value");
                    Value::Object(role_from_parts(outer, inner))
                }
                None => Value::Object(rename_display_name(outer)),
            }
        }
        other => other,
    }
}

/// The key roles are compared on (rule 6): the `value`, lower-cased.
/// `None` when the element has no string `value`.
pub fn role_key(element: &Value) -> Option<String> {
    match element {
        Value::Object(map) => match get_ci(map, "value") {
            Some(Value::String(s)) => Some(s.to_lowercase()),
            _ => None,
        },
        _ => None,
    }
}

/// Brings a `manager` value (RFC 7643 §4.3) into the RFC shape (rule 11): a
/// bare id becomes `{"value": id}`, an array its first element, and an
/// empty id `null`, which clears the manager.
pub fn normalize_manager(value: Value) -> Value {
    match value {
        Value::String(s) if s.is_empty() => Value::Null,
        Value::String(s) => Value::Object(Map::from_iter([("value".to_owned(), Value::String(s))])),
        Value::Array(items) => match items.into_iter().next() {
            Some(first) => normalize_manager(first),
            None => Value::Null,
        },
        Value::Object(map) => match get_ci(&map, "value") {
            Some(Value::String(s)) if s.is_empty() => Value::Null,
            _ => Value::Object(map),
        },
        other => other,
    }
}

/// Whether a new manager object names a different manager than the stored
/// one, in which case it replaces the old object instead of merging into it
/// (rule 11). Both are canonical `{value, $ref, displayName}` objects.
pub fn manager_changed(old: &Value, new: &Value) -> bool {
    match (old.get("value"), new.get("value")) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

/// Decodes a stringified role (rule 4): a JSON object with a `value` member.
fn decode_role_json(s: &str) -> Option<Map<String, Value>> {
    if !s.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(map)) if get_ci(&map, "value").is_some() => Some(map),
        _ => None,
    }
}

/// Merges a decoded stringified role into what is left of the outer element.
/// The outer `type`/`primary` win; the inner `id` has no place in a role.
fn role_from_parts(outer: Map<String, Value>, inner: Map<String, Value>) -> Map<String, Value> {
    let mut role = rename_display_name(outer);
    for (key, value) in rename_display_name(inner) {
        if key.eq_ignore_ascii_case("id") || get_ci(&role, &key).is_some() {
            continue;
        }
        role.insert(key, value);
    }
    role
}

/// `displayName` → `display`, unless `display` is present already (rule 5).
fn rename_display_name(mut map: Map<String, Value>) -> Map<String, Value> {
    if let Some(name) = remove_ci(&mut map, "displayName")
        && get_ci(&map, "display").is_none()
    {
        map.insert("display".to_owned(), name);
    }
    map
}

/// The member `key` of `map`, compared case-insensitively (RFC 7643 §2.1).
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Removes every member of `map` named `key` in any letter case, returning
/// the last one.
fn remove_ci(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let keys: Vec<String> = map
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .collect();
    keys.into_iter().filter_map(|k| map.remove(&k)).last()
}

#[cfg(test)]
mod tests;
