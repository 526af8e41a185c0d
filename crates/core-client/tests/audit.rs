//! The client's write context against the real local core over a real
//! socket: each write method sends its request id, operation and redaction
//! list, and `audit` reads them back.
#![allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]

use authsidecar_core_api::{
    AuditKind, AuditOperation, AuditQuery, ErrorCode, REDACTED, RolesWrite, UserWrite,
};
use authsidecar_core_client::{CoreClient, CoreClientOptions, WriteContext};
use authsidecar_local_core::{Seed, Store, spawn, token_id};
use serde_json::{Map, json};

const SEED: &str = "workspaces:
  - id: acme
    roles: [Admin, Buyer]
    tokens: [{ name: entra, secret: ci-acme-admin, role: Admin }]
";
const ADMIN: &str = "ci-acme-admin";

#[tokio::test]
async fn writes_carry_their_context_into_the_trail() {
    let dir = std::env::temp_dir().join(format!(
        "authsidecar-core-client-audit-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let store = Store::open(&dir).unwrap();
    store
        .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
        .unwrap();
    let (addr, handle) = spawn(store, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = CoreClient::new(&format!("http://{addr}"), &CoreClientOptions::default()).unwrap();

    let mut write = UserWrite {
        user_name: "ann@acme.test".into(),
        external_id: None,
        active: true,
        emails: vec!["ann@acme.test".into()],
        roles: Vec::new(),
        profile: Map::new(),
        version: None,
    };
    let redact = ["emails".to_owned()];
    let create = WriteContext::new("req-1", AuditOperation::Create).with_redact(&redact);
    let user = client.create_user(ADMIN, &create, &write).await.unwrap();
    write.active = false;
    write.version = Some(1);
    let patch = WriteContext::new("req-2", AuditOperation::Patch);
    client
        .update_user(ADMIN, &patch, &user.id, &write)
        .await
        .unwrap();
    let roles = RolesWrite {
        roles: vec!["Buyer".into()],
        version: 2,
    };
    let set = WriteContext::new("req-3", AuditOperation::Roles);
    client
        .set_roles(ADMIN, &set, &user.id, &roles)
        .await
        .unwrap();
    let delete = WriteContext::new("req-4", AuditOperation::Delete);
    client.delete_user(ADMIN, &delete, &user.id).await.unwrap();

    let page = client
        .audit(
            ADMIN,
            &AuditQuery {
                user_id: Some(user.id.clone()),
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let seen: Vec<(&str, AuditOperation, &[AuditKind])> = page
        .events
        .iter()
        .map(|e| (e.request_id.as_str(), e.operation, e.kinds.as_slice()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "req-4",
                AuditOperation::Delete,
                &[AuditKind::RoleChange][..]
            ),
            ("req-3", AuditOperation::Roles, &[AuditKind::RoleChange][..]),
            ("req-2", AuditOperation::Patch, &[AuditKind::Disable][..]),
            ("req-1", AuditOperation::Create, &[][..]),
        ]
    );
    assert!(
        page.events
            .iter()
            .all(|e| e.token_id == token_id("acme", "entra"))
    );
    let emails = &page.events[3].changes[2];
    assert_eq!(
        (emails.attribute.as_str(), &emails.after),
        ("emails", &json!(REDACTED))
    );

    // A filter the core refuses comes back as its contract error.
    let bad = AuditQuery {
        since: Some("last tuesday".into()),
        ..AuditQuery::default()
    };
    let err = client.audit(ADMIN, &bad).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));

    handle.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
