//! Entra app-role values → Ignite role names.
//!
//! A value is looked up first in the configured mapping (`roles.mapping`,
//! case-insensitive keys), then matched case-insensitively against the
//! workspace's role catalogue. SCIM keeps the value as Entra sent it; only
//! the core receives the Ignite name.

use std::collections::BTreeMap;
use std::sync::Arc;

use authsidecar_scim::ScimError;

use crate::failure::Failure;
use crate::scim::users::Ctx;

/// The workspace's role catalogue, cached for a few seconds.
pub(super) async fn catalogue(ctx: &Ctx<'_>) -> Result<Arc<Vec<String>>, Failure> {
    let core = ctx.state.core.clone();
    let token = ctx.caller.token.clone();
    ctx.state
        .roles
        .try_get_with(ctx.caller.workspace().to_owned(), async move {
            core.roles(&token).await.map(|c| Arc::new(c.roles))
        })
        .await
        .map_err(|e| Failure::from_shared_core(&e, "the role catalogue"))
}

/// Maps every role value; the first unknown value is a 400 `invalidValue`
/// naming it and the roles that do exist. Duplicates collapse.
pub(super) fn map_roles(
    values: &[String],
    catalogue: &[String],
    mapping: &BTreeMap<String, String>,
) -> Result<Vec<String>, ScimError> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let wanted = mapping
            .get(&value.to_lowercase())
            .map(String::as_str)
            .unwrap_or(value);
        let Some(role) = catalogue.iter().find(|r| r.eq_ignore_ascii_case(wanted)) else {
            return Err(ScimError::invalid_value(format!(
                "roles: '{value}' is not a role of this Ignite workspace; known roles: {}. \
                 Give the Entra app role this value, or map it in roles.mapping",
                catalogue.join(", ")
            )));
        };
        if !out.contains(role) {
            out.push(role.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Vec<String> {
        ["Admin", "Buyer", "Approver", "Viewer"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn values_match_case_insensitively_and_collapse() {
        let v = ["buyer", "BUYER", "Approver"].map(String::from);
        assert_eq!(
            map_roles(&v, &cat(), &BTreeMap::new()).unwrap(),
            vec!["Buyer", "Approver"]
        );
    }

    #[test]
    fn mapping_is_applied_first() {
        let mut m = BTreeMap::new();
        m.insert("procurement.buyer".to_owned(), "Buyer".to_owned());
        let v = ["Procurement.Buyer".to_owned()];
        assert_eq!(map_roles(&v, &cat(), &m).unwrap(), vec!["Buyer"]);
    }

    #[test]
    fn unknown_role_names_the_role_and_the_known_ones() {
        let e = map_roles(&["Superuser".to_owned()], &cat(), &BTreeMap::new()).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.scim_type, Some(authsidecar_scim::ScimType::InvalidValue));
        assert!(e.detail.contains("'Superuser'"), "{}", e.detail);
        assert!(
            e.detail.contains("Admin, Buyer, Approver, Viewer"),
            "{}",
            e.detail
        );
    }
}
