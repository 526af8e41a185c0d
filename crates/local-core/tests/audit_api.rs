//! The audit part of the contract over real sockets: the headers of a
//! mutating call shape its event, and `GET /internal/v1/audit` lists the
//! token's workspace's events.
#![allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use authsidecar_core_api::{
    AuditKind, AuditOperation, AuditPage, CoreError, ErrorCode, PATH_AUDIT, PATH_USERS, User,
    user_path, user_roles_path,
};
use authsidecar_local_core::{Seed, ShutdownHandle, Store, spawn, token_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SEED: &str = r#"
workspaces:
  - id: acme
    roles: [Admin, Buyer, Viewer]
    tokens:
      - { name: entra, secret: "ci-acme-admin", role: Admin }
      - { name: reports, secret: "ci-acme-viewer", role: Viewer }
  - id: globex
    roles: [Admin]
    tokens:
      - { name: entra, secret: "ci-globex-admin", role: Admin }
"#;
const ADMIN: &str = "ci-acme-admin";

struct Core {
    base: String,
    client: reqwest::Client,
    handle: Option<ShutdownHandle>,
    dir: PathBuf,
}

impl Core {
    async fn start(label: &str) -> Core {
        let dir = std::env::temp_dir().join(format!(
            "authsidecar-local-core-audit-{label}-{}-{}",
            std::process::id(),
            uuid_like()
        ));
        let store = Store::open(&dir).unwrap();
        store
            .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
            .unwrap();
        let (addr, handle) = spawn(store, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        Core {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            handle: Some(handle),
            dir,
        }
    }

    fn request(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    async fn trail(&self, query: &str, token: &str) -> (StatusCode, Value) {
        let response = self
            .request(Method::GET, &format!("{PATH_AUDIT}{query}"), token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        (response.status(), response.json().await.unwrap())
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.handle.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[tokio::test]
async fn headers_shape_the_event_and_the_trail_lists_it() {
    let core = Core::start("headers").await;
    let body = json!({"user_name": "ann@acme.test", "active": true,
                      "emails": ["ann@acme.test"], "profile": {"title": "Eng"}});
    let response = core
        .request(Method::POST, PATH_USERS, ADMIN)
        .header("x-request-id", "req-create")
        .header("x-ignite-audit-redact", "emails")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: User = response.json().await.unwrap();

    let mut patch = body.clone();
    patch["active"] = json!(false);
    patch["version"] = json!(1);
    let response = core
        .request(Method::PUT, &user_path(&user.id), ADMIN)
        .header("x-request-id", "req-patch")
        .header("x-ignite-operation", "patch")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Without headers: the endpoint's own operation and a minted request id.
    let response = core
        .request(Method::PUT, &user_roles_path(&user.id), ADMIN)
        .json(&json!({"roles": ["Buyer"], "version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, body) = core.trail("", ADMIN).await;
    assert_eq!(status, StatusCode::OK);
    let page: AuditPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.total, 3);
    let [roles, patched, created] = page.events.as_slice() else {
        panic!("{page:?}");
    };
    assert_eq!(
        (
            created.operation,
            created.request_id.as_str(),
            created.kinds.as_slice()
        ),
        (AuditOperation::Create, "req-create", &[][..])
    );
    assert_eq!(created.token_id, token_id("acme", "entra"));
    assert_eq!(created.changes[2].attribute, "emails");
    assert_eq!(created.changes[2].after, json!("[redacted]"));
    assert_eq!(
        (
            patched.operation,
            patched.request_id.as_str(),
            patched.kinds.as_slice()
        ),
        (
            AuditOperation::Patch,
            "req-patch",
            &[AuditKind::Disable][..]
        )
    );
    assert_eq!(patched.changes[0].after, json!(false));
    assert_eq!(
        (roles.operation, roles.kinds.as_slice()),
        (AuditOperation::Roles, &[AuditKind::RoleChange][..])
    );
    let minted = uuid::Uuid::parse_str(&roles.request_id).unwrap();
    assert_eq!(minted.get_version_num(), 4);

    let (_, filtered) = core.trail("?op=disable&limit=10", ADMIN).await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["events"][0]["request_id"], "req-patch");
    let (_, other) = core.trail("", "ci-globex-admin").await;
    assert_eq!(other, json!({"total": 0, "events": []}));
}

#[tokio::test]
async fn the_trail_needs_admin_and_a_valid_query() {
    let mut core = Core::start("refusals").await;
    let (status, body) = core.trail("", "ci-acme-viewer").await;
    let error: CoreError = serde_json::from_value(body).unwrap();
    assert_eq!(
        (status, error.code),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );

    let (status, body) = core.trail("?op=nuke", ADMIN).await;
    let error: CoreError = serde_json::from_value(body).unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error.message.starts_with("op 'nuke' is neither"),
        "{}",
        error.message
    );
    let (status, _) = core.trail("?user=u-1", ADMIN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let response = core
        .request(Method::POST, PATH_AUDIT, ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");

    // A bad audit header refuses the write: nothing is created.
    let response = core
        .request(Method::POST, PATH_USERS, ADMIN)
        .header("x-ignite-operation", "delete")
        .json(&json!({"user_name": "bob@acme.test", "active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: CoreError = response.json().await.unwrap();
    assert_eq!(
        error.message,
        "operation 'delete' does not fit this endpoint; it records create"
    );
    let (_, body) = core.trail("", ADMIN).await;
    assert_eq!(body["total"], 0);
    let response = core
        .request(
            Method::GET,
            &format!("{PATH_USERS}?user_name=bob%40acme.test"),
            ADMIN,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["total"], 0);
    if let Some(handle) = core.handle.take() {
        handle.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_write_the_core_cannot_audit_is_answered_500_and_not_made() {
    let core = Core::start("unauditable").await;
    // Another connection to the same file: the trigger is schema, so the
    // server's connection sees it on its next statement.
    let db =
        rusqlite::Connection::open(core.dir.join(authsidecar_local_core::DB_FILE_NAME)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
    )
    .unwrap();

    let response = core
        .request(Method::POST, PATH_USERS, ADMIN)
        .json(&json!({"user_name": "carl@acme.test", "active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let error: CoreError = response.json().await.unwrap();
    assert_eq!(
        (error.code, error.message.as_str()),
        (
            ErrorCode::Internal,
            "internal error in the core; see its log"
        )
    );
    let response = core
        .request(
            Method::GET,
            &format!("{PATH_USERS}?user_name=carl%40acme.test"),
            ADMIN,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["total"], 0);
}
