//! What a mutating request tells the core about itself, for its audit
//! event: the request id, the operation to record and the attributes to
//! redact (`HEADER_REQUEST_ID`, `HEADER_OPERATION`, `HEADER_AUDIT_REDACT`).

use authsidecar_core_api::{
    AuditOperation, HEADER_AUDIT_REDACT, HEADER_OPERATION, HEADER_REQUEST_ID, Introspection,
    MAX_REQUEST_ID_CHARS,
};
use http::HeaderMap;

use crate::AuditContext;

/// The audit context of a write by `who`. A header given twice or with a
/// value the contract does not allow is refused (the message says why)
/// rather than ignored, so the trail never silently loses what the caller
/// meant to record.
pub(super) fn audit_context(
    who: &Introspection,
    headers: &HeaderMap,
) -> Result<AuditContext, String> {
    let request_id = match single(headers, HEADER_REQUEST_ID)? {
        Some(id) => {
            let ok = !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_CHARS
                && id.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(format!(
                    "{HEADER_REQUEST_ID} must be 1 to {MAX_REQUEST_ID_CHARS} visible ASCII \
                     characters"
                ));
            }
            id.to_owned()
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let operation = match single(headers, HEADER_OPERATION)? {
        Some(name) => Some(AuditOperation::parse(name).ok_or_else(|| {
            let known: Vec<&str> = AuditOperation::ALL.map(AuditOperation::as_str).to_vec();
            format!(
                "{HEADER_OPERATION} '{name}' is not an operation; known: {}",
                known.join(", ")
            )
        })?),
        None => None,
    };
    let redact = single(headers, HEADER_AUDIT_REDACT)?
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(AuditContext {
        workspace: who.workspace.clone(),
        token_id: who.token_id.clone(),
        request_id,
        operation,
        redact,
    })
}

/// The header's one value as text; `None` when absent.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(|v| Some(v.trim()))
            .map_err(|_| format!("{name} must be visible ASCII")),
        (Some(_), Some(_)) => Err(format!("{name} is given more than once")),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn who() -> Introspection {
        Introspection {
            workspace: "acme".into(),
            token_id: "tok_1".into(),
            role: "Admin".into(),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn headers_become_the_context() {
        let ctx = audit_context(
            &who(),
            &headers(&[
                ("x-request-id", "req-42"),
                ("x-ignite-operation", "patch"),
                ("x-ignite-audit-redact", " name, emails ,,"),
            ]),
        )
        .unwrap();
        assert_eq!(
            ctx,
            AuditContext {
                workspace: "acme".into(),
                token_id: "tok_1".into(),
                request_id: "req-42".into(),
                operation: Some(AuditOperation::Patch),
                redact: vec!["name".into(), "emails".into()],
            }
        );
    }

    #[test]
    fn absent_headers_mint_an_id_and_redact_nothing() {
        let ctx = audit_context(&who(), &HeaderMap::new()).unwrap();
        assert_eq!(
            uuid::Uuid::parse_str(&ctx.request_id)
                .unwrap()
                .get_version_num(),
            4
        );
        assert_eq!((ctx.operation, ctx.redact.len()), (None, 0));
    }

    #[test]
    fn bad_headers_are_refused() {
        let err = |pairs| audit_context(&who(), &headers(pairs)).unwrap_err();
        assert_eq!(
            err(&[("x-ignite-operation", "disable")]),
            "x-ignite-operation 'disable' is not an operation; known: create, replace, patch, \
             delete, roles"
        );
        assert_eq!(
            err(&[("x-request-id", "a"), ("x-request-id", "b")]),
            "x-request-id is given more than once"
        );
        let long: &'static str = Box::leak("r".repeat(129).into_boxed_str());
        assert_eq!(
            err(&[("x-request-id", long)]),
            "x-request-id must be 1 to 128 visible ASCII characters"
        );
    }
}
