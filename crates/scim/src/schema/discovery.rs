//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig` (RFC 7643
//! §5), `/ResourceTypes` (§6) and `/Schemas` (§7), rendered from the table.

use serde_json::{Map, Value, json};

use super::{AttrDef, AttrType, table};
use crate::list::{MAX_COUNT, list_response};
use crate::{ENTERPRISE_SCHEMA, USER_SCHEMA};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `GET /ServiceProviderConfig` (RFC 7643 §5), telling the truth about
/// what this server supports. `base` is the SCIM base URL.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        // Bulk is off, but RFC 7643 §5 still marks both limits as required.
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An Ignite admin API token sent as 'Authorization: Bearer <token>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

/// `GET /ResourceTypes` as a ListResponse: only User (groups are off).
pub fn resource_types(base: &str) -> Value {
    list_response(vec![user_resource_type(base)], 1, 1)
}

/// `GET /ResourceTypes/User`.
pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": false}],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/User")
        }
    })
}

/// `GET /Schemas` as a ListResponse: User and the enterprise extension.
pub fn schemas(base: &str) -> Value {
    let all = vec![user_schema(base), enterprise_schema(base)];
    list_response(all, 2, 1)
}

/// `GET /Schemas/{urn}`; `None` for an unknown URN.
pub fn schema_by_id(base: &str, urn: &str) -> Option<Value> {
    match super::canonical_urn(urn)? {
        USER_SCHEMA => Some(user_schema(base)),
        _ => Some(enterprise_schema(base)),
    }
}

/// Advertises the workspace's roles as the `canonicalValues` of the User
/// schema's `roles.value` (RFC 7643 §7: suggested values), in a `/Schemas`
/// ListResponse or a single schema document. A role value outside them is
/// refused on write, so publishing them tells clients what is accepted.
pub fn advertise_role_values(doc: &mut Value, roles: &[String]) {
    let schemas: Vec<&mut Value> = match doc.get_mut("Resources").and_then(Value::as_array_mut) {
        Some(list) => list.iter_mut().collect(),
        None => vec![doc],
    };
    for schema in schemas {
        if schema.get("id").and_then(Value::as_str) != Some(USER_SCHEMA) {
            continue;
        }
        let Some(attrs) = schema.get_mut("attributes").and_then(Value::as_array_mut) else {
            continue;
        };
        let roles_value = attrs
            .iter_mut()
            .filter(|a| a.get("name").and_then(Value::as_str) == Some("roles"))
            .filter_map(|a| a.get_mut("subAttributes").and_then(Value::as_array_mut))
            .flat_map(|subs| subs.iter_mut())
            .find(|s| s.get("name").and_then(Value::as_str) == Some("value"));
        if let Some(value) = roles_value.and_then(Value::as_object_mut) {
            value.insert("canonicalValues".into(), json!(roles));
        }
    }
}

fn user_schema(base: &str) -> Value {
    schema_json(base, USER_SCHEMA, "User", "User Account", table::USER)
}

fn enterprise_schema(base: &str) -> Value {
    schema_json(
        base,
        ENTERPRISE_SCHEMA,
        "EnterpriseUser",
        "Enterprise User",
        table::ENTERPRISE,
    )
}

fn schema_json(base: &str, urn: &str, name: &str, description: &str, attrs: &[AttrDef]) -> Value {
    let attributes: Vec<Value> = attrs.iter().map(|a| attribute_json(a, None)).collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{urn}")}
    })
}

/// One attribute of a schema representation (RFC 7643 §7); `parent` is the
/// name of the complex attribute that holds it, for sub-attributes.
fn attribute_json(def: &AttrDef, parent: Option<&str>) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), def.name.into());
    out.insert("type".into(), def.ty.as_str().into());
    out.insert("multiValued".into(), def.multi_valued.into());
    out.insert("description".into(), def.description.into());
    out.insert("required".into(), def.required.into());
    out.insert("caseExact".into(), def.case_exact.into());
    out.insert("mutability".into(), def.mutability.as_str().into());
    out.insert("returned".into(), def.returned.as_str().into());
    out.insert("uniqueness".into(), def.uniqueness.into());
    if !def.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), def.canonical_values.into());
    }
    if def.ty == AttrType::Reference {
        out.insert(
            "referenceTypes".into(),
            reference_types(parent, def.name).into(),
        );
    }
    if def.ty == AttrType::Complex {
        let subs = def
            .sub_attributes
            .iter()
            .map(|s| attribute_json(s, Some(def.name)));
        out.insert("subAttributes".into(), Value::Array(subs.collect()));
    }
    Value::Object(out)
}

/// `referenceTypes` of the reference attributes, as RFC 7643 §8.7.1 lists them.
fn reference_types(parent: Option<&str>, name: &str) -> &'static [&'static str] {
    match (parent, name) {
        (Some("groups"), _) => &["User", "Group"],
        (Some("manager"), _) => &["User"],
        (Some("meta"), _) => &["uri"],
        _ => &["external"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://sc.example.test/api/v1/scim/v2";

    fn attr<'a>(schema: &'a Value, name: &str) -> &'a Value {
        let attrs = schema["attributes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        attrs
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn service_provider_config_tells_the_truth() {
        let spc = service_provider_config(BASE);
        assert_eq!(spc["schemas"], json!([SPC_SCHEMA]));
        assert_eq!(spc["patch"], json!({"supported": true}));
        assert_eq!(
            spc["filter"],
            json!({"supported": true, "maxResults": 1000})
        );
        assert_eq!(spc["bulk"]["supported"], json!(false));
        assert_eq!(spc["sort"], json!({"supported": false}));
        assert_eq!(spc["etag"], json!({"supported": true}));
        assert_eq!(
            spc["authenticationSchemes"][0]["type"],
            json!("oauthbearertoken")
        );
        assert_eq!(
            spc["meta"],
            json!({
                "resourceType": "ServiceProviderConfig",
                "location": format!("{BASE}/ServiceProviderConfig")
            })
        );
    }

    #[test]
    fn resource_types_list_only_user() {
        let rt = resource_types(BASE);
        assert_eq!(rt["totalResults"], json!(1));
        assert_eq!(rt["Resources"][0]["endpoint"], json!("/Users"));
        assert_eq!(
            rt["Resources"][0]["schemaExtensions"],
            json!([{"schema": ENTERPRISE_SCHEMA, "required": false}])
        );
    }

    #[test]
    fn schemas_list_both_without_common_attributes() {
        let all = schemas(BASE);
        assert_eq!(all["schemas"], json!([crate::LIST_RESPONSE_SCHEMA]));
        assert_eq!(all["totalResults"], json!(2));
        let user = &all["Resources"][0];
        assert_eq!(user["id"], json!(USER_SCHEMA));
        assert_eq!(
            user["meta"]["location"],
            json!(format!("{BASE}/Schemas/{USER_SCHEMA}"))
        );
        assert_eq!(user["attributes"].as_array().map(Vec::len), Some(21));
        assert_eq!(attr(user, "id"), &Value::Null);
        assert_eq!(all["Resources"][1]["meta"]["resourceType"], json!("Schema"));
    }

    #[test]
    fn attribute_entries_carry_every_characteristic() {
        let user = schema_by_id(BASE, USER_SCHEMA).unwrap_or_default();
        assert_eq!(
            attr(&user, "userName"),
            &json!({
                "name": "userName", "type": "string", "multiValued": false,
                "description": "Unique login name of the user. Required, non-empty.",
                "required": true, "caseExact": false, "mutability": "readWrite",
                "returned": "default", "uniqueness": "server"
            })
        );
        let emails = attr(&user, "emails");
        assert_eq!(emails["multiValued"], json!(true));
        assert_eq!(
            emails["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(attr(&user, "password")["returned"], json!("never"));
        assert_eq!(
            attr(&user, "groups")["subAttributes"][1]["referenceTypes"],
            json!(["User", "Group"])
        );
        assert_eq!(
            attr(&user, "profileUrl")["referenceTypes"],
            json!(["external"])
        );
    }

    #[test]
    fn role_values_are_advertised_on_roles_value_only() {
        let roles = vec!["Admin".to_owned(), "Buyer".to_owned()];
        let mut list = schemas("https://h/scim");
        advertise_role_values(&mut list, &roles);
        let user = &list["Resources"][0];
        let role_attr = attr(user, "roles");
        let value = role_attr["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "value")
            .unwrap();
        assert_eq!(value["canonicalValues"], json!(["Admin", "Buyer"]));
        let display = role_attr["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "display")
            .unwrap();
        assert!(display.get("canonicalValues").is_none());
        let mut single = schema_by_id("https://h/scim", USER_SCHEMA).unwrap();
        advertise_role_values(&mut single, &roles);
        assert_eq!(single, list["Resources"][0]);
    }

    #[test]
    fn enterprise_schema_by_id_any_case() {
        let ent = schema_by_id(BASE, &ENTERPRISE_SCHEMA.to_uppercase()).unwrap_or_default();
        let manager = attr(&ent, "manager");
        assert_eq!(
            manager["subAttributes"][1]["referenceTypes"],
            json!(["User"])
        );
        assert_eq!(manager["subAttributes"][2]["mutability"], json!("readOnly"));
        assert_eq!(schema_by_id(BASE, "urn:example:nope"), None);
    }
}
