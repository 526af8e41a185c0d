use authsidecar_core_api::{
    AuditChange, AuditKind, ErrorCode, REDACTED, RolesWrite, UserQuery, UserWrite,
};
use serde_json::{Value, json};

use super::*;
use crate::seed::Seed;
use crate::test_dir::TestDir;

const SEED: &str = r#"
workspaces:
  - id: acme
    roles: [Admin, Buyer, Approver, Viewer]
  - id: globex
    roles: [Admin, Buyer]
"#;

fn seeded(label: &str) -> (TestDir, Store) {
    let dir = TestDir::new(label);
    let store = Store::open(dir.path()).unwrap();
    store
        .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
        .unwrap();
    (dir, store)
}

fn ctx(workspace: &str, request_id: &str) -> AuditContext {
    AuditContext::new(workspace, &format!("tok_{workspace}"), request_id)
}

fn write(user_name: &str, profile: Value) -> UserWrite {
    UserWrite {
        user_name: user_name.into(),
        external_id: None,
        active: true,
        emails: vec![user_name.into()],
        roles: Vec::new(),
        profile: profile.as_object().cloned().unwrap_or_default(),
        version: None,
    }
}

fn all() -> AuditQuery {
    AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    }
}

fn events(store: &Store, workspace: &str, query: &AuditQuery) -> Vec<AuditEvent> {
    store.audit_events(workspace, query).unwrap().events
}

fn change(attribute: &str, before: Value, after: Value) -> AuditChange {
    AuditChange {
        attribute: attribute.into(),
        before,
        after,
    }
}

#[test]
fn every_mutation_writes_exactly_one_event_with_its_diff() {
    let (_dir, store) = seeded("audit-each");
    let created = store
        .create_user(
            &ctx("acme", "req-1"),
            &write("ann@acme.test", json!({"title": "Eng"})),
        )
        .unwrap();
    let page = store.audit_events("acme", &all()).unwrap();
    assert_eq!(page.total, 1);
    let event = &page.events[0];
    assert_eq!(
        uuid::Uuid::parse_str(&event.id).unwrap().get_version_num(),
        7
    );
    assert_eq!(
        (
            event.time.as_str(),
            event.workspace.as_str(),
            event.token_id.as_str(),
            event.request_id.as_str(),
            event.operation,
            event.user_id.as_str(),
        ),
        (
            created.last_modified.as_str(),
            "acme",
            "tok_acme",
            "req-1",
            AuditOperation::Create,
            created.id.as_str(),
        )
    );
    assert_eq!(event.kinds, []);
    assert_eq!(
        event.changes,
        [
            change("user_name", Value::Null, json!("ann@acme.test")),
            change("active", Value::Null, json!(true)),
            change("emails", json!([]), json!(["ann@acme.test"])),
            change("profile.title", Value::Null, json!("Eng")),
        ]
    );

    let mut next = write("ann@acme.test", json!({"title": "Eng"}));
    next.active = false;
    next.version = Some(1);
    let mut patch = ctx("acme", "req-2");
    patch.operation = Some(AuditOperation::Patch);
    let disabled = store.replace_user(&patch, &created.id, &next).unwrap();
    let roles = RolesWrite {
        roles: vec!["Buyer".into()],
        version: 2,
    };
    store
        .set_roles(&ctx("acme", "req-3"), &created.id, &roles)
        .unwrap();
    store
        .delete_user(&ctx("acme", "req-4"), &created.id)
        .unwrap();

    let trail = events(&store, "acme", &all());
    let summary: Vec<(&str, AuditOperation, &[AuditKind])> = trail
        .iter()
        .map(|e| (e.request_id.as_str(), e.operation, e.kinds.as_slice()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "req-4",
                AuditOperation::Delete,
                &[AuditKind::RoleChange][..]
            ),
            ("req-3", AuditOperation::Roles, &[AuditKind::RoleChange][..]),
            ("req-2", AuditOperation::Patch, &[AuditKind::Disable][..]),
            ("req-1", AuditOperation::Create, &[][..]),
        ],
        "newest first"
    );
    assert_eq!(trail[2].time, disabled.last_modified);
    assert_eq!(
        trail[2].changes,
        [change("active", json!(true), json!(false))]
    );
    assert_eq!(
        trail[1].changes,
        [change("roles", json!([]), json!(["Buyer"]))]
    );
    assert_eq!(
        trail[0].changes,
        [
            change("user_name", json!("ann@acme.test"), Value::Null),
            change("active", json!(false), Value::Null),
            change("emails", json!(["ann@acme.test"]), json!([])),
            change("roles", json!(["Buyer"]), json!([])),
            change("profile.title", json!("Eng"), Value::Null),
        ]
    );
}

#[test]
fn redacted_attributes_are_listed_without_their_values() {
    let (_dir, store) = seeded("audit-redact");
    let mut by = ctx("acme", "req-1");
    by.redact = vec!["emails".into(), "name".into(), "userName".into()];
    let profile = json!({"name": {"givenName": "Ann"}, "title": "Eng"});
    let user = store
        .create_user(&by, &write("ann@acme.test", profile))
        .unwrap();
    let mut renamed = write("ann.lee@acme.test", json!({"name": {"givenName": "Anne"}}));
    renamed.version = Some(user.version);
    store.replace_user(&by, &user.id, &renamed).unwrap();

    let trail = events(&store, "acme", &all());
    let redacted = json!(REDACTED);
    assert_eq!(
        trail[0].changes,
        [
            change("user_name", redacted.clone(), redacted.clone()),
            change("emails", redacted.clone(), redacted.clone()),
            change("profile.name", redacted.clone(), redacted.clone()),
            change("profile.title", json!("Eng"), Value::Null),
        ]
    );
    assert_eq!(trail[0].kinds, [AuditKind::Rename]);
    assert_eq!(
        trail[1].changes[0],
        change("user_name", Value::Null, redacted)
    );
    let raw: String = store
        .read(|c| Ok(c.query_row("SELECT group_concat(changes) FROM audit", [], |r| r.get(0))?))
        .unwrap();
    assert!(
        !raw.contains("ann@acme.test") && !raw.contains("Ann"),
        "{raw}"
    );
}

#[test]
fn a_write_whose_event_cannot_be_stored_is_not_made() {
    let (_dir, store) = seeded("audit-fail");
    let by = ctx("acme", "req-1");
    let user = store
        .create_user(&by, &write("ann@acme.test", json!({})))
        .unwrap();
    store
        .write(|c| {
            Ok(c.execute_batch(
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit
                 BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
            )?)
        })
        .unwrap();

    let err = store
        .create_user(&by, &write("bob@acme.test", json!({})))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Internal);
    let mut by_name = UserQuery {
        limit: 100,
        ..UserQuery::default()
    };
    by_name.user_name = Some("bob@acme.test".into());
    assert_eq!(store.list_users("acme", &by_name).unwrap().total, 0);

    let mut next = write("ann@acme.test", json!({}));
    next.active = false;
    next.version = Some(1);
    assert_eq!(
        store.replace_user(&by, &user.id, &next).unwrap_err().code(),
        ErrorCode::Internal
    );
    let roles = RolesWrite {
        roles: vec!["Admin".into()],
        version: 1,
    };
    assert_eq!(
        store.set_roles(&by, &user.id, &roles).unwrap_err().code(),
        ErrorCode::Internal
    );
    assert_eq!(
        store.delete_user(&by, &user.id).unwrap_err().code(),
        ErrorCode::Internal
    );
    assert_eq!(store.get_user("acme", &user.id).unwrap(), user);
    assert_eq!(store.audit_events("acme", &all()).unwrap().total, 1);
}

#[test]
fn failed_writes_and_reads_record_nothing() {
    let (_dir, store) = seeded("audit-nothing");
    let by = ctx("acme", "req-1");
    let user = store
        .create_user(&by, &write("ann@acme.test", json!({})))
        .unwrap();
    let mut stale = write("ann@acme.test", json!({}));
    stale.version = Some(7);
    assert!(store.replace_user(&by, &user.id, &stale).is_err());
    assert!(
        store
            .create_user(&by, &write("ANN@acme.test", json!({})))
            .is_err()
    );
    assert!(store.delete_user(&by, "no-such-id").is_err());
    store.get_user("acme", &user.id).unwrap();
    assert_eq!(store.audit_events("acme", &all()).unwrap().total, 1);
}

#[test]
fn an_operation_that_does_not_fit_the_endpoint_is_refused() {
    let (_dir, store) = seeded("audit-op");
    let mut by = ctx("acme", "req-1");
    by.operation = Some(AuditOperation::Delete);
    let err = store
        .create_user(&by, &write("ann@acme.test", json!({})))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "operation 'delete' does not fit this endpoint; it records create"
    );
    assert_eq!(store.audit_events("acme", &all()).unwrap().total, 0);
}

#[test]
fn each_workspace_sees_only_its_own_trail() {
    let (_dir, store) = seeded("audit-isolation");
    store
        .create_user(&ctx("acme", "req-a"), &write("a@x.test", json!({})))
        .unwrap();
    store
        .create_user(&ctx("globex", "req-g"), &write("g@x.test", json!({})))
        .unwrap();
    let acme = events(&store, "acme", &all());
    let globex = events(&store, "globex", &all());
    assert_eq!(
        (
            acme.len(),
            acme[0].request_id.as_str(),
            acme[0].workspace.as_str()
        ),
        (1, "req-a", "acme")
    );
    assert_eq!(
        (
            globex.len(),
            globex[0].request_id.as_str(),
            globex[0].token_id.as_str()
        ),
        (1, "req-g", "tok_globex")
    );
}

#[test]
fn newest_first_is_commit_order_and_event_ids_grow_with_it() {
    let (_dir, store) = seeded("audit-order");
    for (i, name) in ["c@x.test", "a@x.test", "b@x.test"].iter().enumerate() {
        store
            .create_user(&ctx("acme", &format!("req-{i}")), &write(name, json!({})))
            .unwrap();
    }
    let listed = events(&store, "acme", &all());
    let requests: Vec<&str> = listed.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(requests, ["req-2", "req-1", "req-0"]);
    let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
    let mut newest_first = ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first);
}

#[test]
fn filters_and_paging() {
    let (_dir, store) = seeded("audit-filters");
    let by = ctx("acme", "req");
    let ann = store
        .create_user(&by, &write("ann@x.test", json!({})))
        .unwrap();
    let bob = store
        .create_user(&by, &write("bob@x.test", json!({})))
        .unwrap();
    let mut off = write("ann@x.test", json!({}));
    off.active = false;
    off.version = Some(1);
    store.replace_user(&by, &ann.id, &off).unwrap();

    let query = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = all();
        f(&mut q);
        store.audit_events("acme", &q)
    };
    let ops = |page: AuditPage| -> Vec<(String, AuditOperation)> {
        page.events
            .into_iter()
            .map(|e| (e.user_id, e.operation))
            .collect()
    };
    assert_eq!(
        ops(query(&|q| q.user_id = Some(ann.id.clone())).unwrap()),
        [
            (ann.id.clone(), AuditOperation::Replace),
            (ann.id.clone(), AuditOperation::Create)
        ]
    );
    assert_eq!(
        ops(query(&|q| q.op = Some("disable".into())).unwrap()),
        [(ann.id.clone(), AuditOperation::Replace)]
    );
    assert_eq!(query(&|q| q.op = Some("create".into())).unwrap().total, 2);
    assert_eq!(query(&|q| q.op = Some("enable".into())).unwrap().total, 0);

    let second = query(&|q| {
        q.offset = 1;
        q.limit = 1;
    })
    .unwrap();
    assert_eq!(
        (second.total, ops(second).as_slice()),
        (3, &[(bob.id.clone(), AuditOperation::Create)][..])
    );
    assert_eq!(query(&|q| q.limit = 0).unwrap().events.len(), 0);

    // Move the first event into the past; `since` is inclusive and any offset works.
    store
        .write(|c| {
            Ok(c.execute(
                "UPDATE audit SET time = '2020-01-01T00:00:00.000Z' WHERE request_id = 'req' \
                 AND seq = (SELECT MIN(seq) FROM audit)",
                [],
            )?)
        })
        .unwrap();
    let recent = query(&|q| q.since = Some("2020-01-01T01:00:00.001+01:00".into())).unwrap();
    assert_eq!(recent.total, 2);
    let recent = query(&|q| q.since = Some("2020-01-01T00:00:00.001Z".into())).unwrap();
    assert_eq!(recent.total, 2);
    let all_of_them = query(&|q| q.since = Some("2020-01-01T00:00:00Z".into())).unwrap();
    assert_eq!(all_of_them.total, 3);
    let future = query(&|q| q.since = Some("2999-01-01T00:00:00+01:00".into())).unwrap();
    assert_eq!(future.total, 0);

    let err = query(&|q| q.since = Some("yesterday".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "since must be an RFC 3339 time such as 2026-12-04T15:13:11Z, not 'yesterday'"
    );
    let err = query(&|q| q.op = Some("Disable".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "op 'Disable' is neither an operation (create, replace, patch, delete, roles) nor a \
         kind (disable, enable, rename, role_change)"
    );
}
