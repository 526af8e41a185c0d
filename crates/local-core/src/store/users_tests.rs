use authsidecar_core_api::ErrorCode;
use rusqlite::params_from_iter;
use rusqlite::types::ToSql;
use serde_json::json;

use super::*;
use crate::seed::Seed;
use crate::store::user_list::ListFilter;
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

fn write(user_name: &str) -> UserWrite {
    UserWrite {
        user_name: user_name.into(),
        external_id: None,
        active: true,
        emails: Vec::new(),
        roles: Vec::new(),
        profile: Map::new(),
        version: None,
    }
}

/// A write context for `workspace` that redacts nothing.
fn by(workspace: &str) -> AuditContext {
    AuditContext::new(workspace, "tok_test", "req-test")
}

fn code(result: Result<impl std::fmt::Debug, StoreError>) -> ErrorCode {
    result.unwrap_err().code()
}

fn names(page: &UserPage) -> Vec<&str> {
    page.users.iter().map(|u| u.user_name.as_str()).collect()
}

fn query() -> UserQuery {
    UserQuery {
        limit: 100,
        ..UserQuery::default()
    }
}

#[test]
fn create_returns_the_stored_user_at_version_one() {
    let (_dir, store) = seeded("create");
    let mut w = write("Alice@Acme.test");
    w.external_id = Some("ext-1".into());
    w.emails = vec!["Alice@Acme.test".into(), "a@home.test".into()];
    w.roles = vec!["Viewer".into(), "Buyer".into(), "Viewer".into()];
    w.profile = json!({"name": {"givenName": "Alice"}, "z": [1, 2]})
        .as_object()
        .unwrap()
        .clone();
    w.version = Some(42);
    let user = store.create_user(&by("acme"), &w).unwrap();

    assert_eq!(
        uuid::Uuid::parse_str(&user.id).unwrap().get_version_num(),
        7
    );
    assert_eq!(user.user_name, "Alice@Acme.test");
    assert_eq!(user.external_id.as_deref(), Some("ext-1"));
    assert_eq!(user.emails, ["Alice@Acme.test", "a@home.test"]);
    assert_eq!(
        user.roles,
        ["Buyer", "Viewer"],
        "deduplicated, catalogue order"
    );
    assert_eq!(user.profile, w.profile);
    assert_eq!(user.version, 1);
    assert_eq!(user.created, user.last_modified);
    let t = time::OffsetDateTime::parse(
        &user.created,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(user.created.len(), "2026-12-04T15:13:11.123Z".len());
    assert_eq!(t.offset(), time::UtcOffset::UTC);
    assert_eq!(store.get_user("acme", &user.id).unwrap(), user);
}

#[test]
fn ids_are_hyphenated_and_sort_in_creation_order() {
    let (_dir, store) = seeded("ids");
    let ids: Vec<String> = ["c@x.test", "a@x.test", "b@x.test"]
        .map(|name| store.create_user(&by("acme"), &write(name)).unwrap().id)
        .to_vec();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "each id is above the ones created before it");
    let shapes: Vec<(usize, Vec<usize>)> = ids
        .iter()
        .map(|id| (id.len(), id.split('-').map(str::len).collect()))
        .collect();
    assert_eq!(shapes, vec![(36, vec![8, 4, 4, 4, 12]); 3]);
}

#[test]
fn a_random_v4_id_from_an_older_build_keeps_working() {
    let (_dir, store) = seeded("v4-id");
    let ann = store
        .create_user(&by("acme"), &write("ann@x.test"))
        .unwrap();
    let old = "0b6f3c4e-5a1d-4f2b-9c7e-8d9a0b1c2d3e";
    store
        .write(move |c| {
            let sql = "UPDATE users SET id = ?1 WHERE id = ?2";
            Ok(c.execute(sql, [old, ann.id.as_str()])?)
        })
        .unwrap();

    assert_eq!(store.get_user("acme", old).unwrap().user_name, "ann@x.test");
    let mut rename = write("ann.lee@x.test");
    rename.version = Some(1);
    let renamed = store.replace_user(&by("acme"), old, &rename).unwrap();
    assert_eq!((renamed.id.as_str(), renamed.version), (old, 2));
    store.delete_user(&by("acme"), old).unwrap();
    assert_eq!(code(store.get_user("acme", old)), ErrorCode::UserNotFound);
}

#[test]
fn user_names_are_unique_per_workspace_ignoring_case() {
    let (_dir, store) = seeded("unique");
    let mut first = write("bob@acme.test");
    first.emails = vec!["bob@acme.test".into()];
    store.create_user(&by("acme"), &first).unwrap();
    let mut again = write("BOB@Acme.TEST");
    again.emails = vec!["other@acme.test".into()];
    assert_eq!(
        code(store.create_user(&by("acme"), &again)),
        ErrorCode::UserNameTaken
    );
    assert_eq!(
        store.create_user(&by("globex"), &again).unwrap().user_name,
        "BOB@Acme.TEST"
    );

    // The failed write left nothing behind, not even its e-mail index row.
    let mut q = query();
    q.email = Some("other@acme.test".into());
    assert_eq!(store.list_users("acme", &q).unwrap().total, 0);

    let carol = store
        .create_user(&by("acme"), &write("carol@acme.test"))
        .unwrap();
    let mut rename = write("Bob@acme.test");
    rename.version = Some(carol.version);
    assert_eq!(
        code(store.replace_user(&by("acme"), &carol.id, &rename)),
        ErrorCode::UserNameTaken
    );
    assert_eq!(store.get_user("acme", &carol.id).unwrap(), carol);
}

#[test]
fn look_ups_by_each_index() {
    let (_dir, store) = seeded("lookup");
    let mut a = write("Ann@acme.test");
    a.external_id = Some("EXT-A".into());
    a.emails = vec!["Ann.Work@Acme.test".into()];
    store.create_user(&by("acme"), &a).unwrap();
    let mut b = write("ben@acme.test");
    b.external_id = Some("EXT-B".into());
    b.emails = vec!["shared@acme.test".into(), "ANN.WORK@acme.test".into()];
    store.create_user(&by("acme"), &b).unwrap();

    let find = |f: &dyn Fn(&mut UserQuery)| {
        let mut q = query();
        f(&mut q);
        let page = store.list_users("acme", &q).unwrap();
        names(&page)
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find(&|q| q.user_name = Some("ANN@ACME.TEST".into())),
        ["Ann@acme.test"]
    );
    assert_eq!(
        find(&|q| q.external_id = Some("EXT-B".into())),
        ["ben@acme.test"]
    );
    assert_eq!(
        find(&|q| q.external_id = Some("ext-b".into())),
        Vec::<String>::new()
    );
    assert_eq!(
        find(&|q| q.email = Some("ann.work@ACME.test".into())),
        ["Ann@acme.test", "ben@acme.test"]
    );
    assert_eq!(
        find(&|q| {
            q.email = Some("ann.work@acme.test".into());
            q.external_id = Some("EXT-A".into());
        }),
        ["Ann@acme.test"]
    );
    assert_eq!(
        find(&|q| {
            q.user_name = Some("ben@acme.test".into());
            q.external_id = Some("EXT-A".into());
        }),
        Vec::<String>::new()
    );
}

#[test]
fn replace_bumps_version_and_refuses_a_stale_one() {
    let (_dir, store) = seeded("replace");
    let mut w = write("dora@acme.test");
    w.emails = vec!["old@acme.test".into()];
    let created = store.create_user(&by("acme"), &w).unwrap();

    let mut next = write("Dora@acme.test");
    next.active = false;
    next.emails = vec!["new@acme.test".into()];
    next.version = Some(1);
    let updated = store.replace_user(&by("acme"), &created.id, &next).unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.created, created.created);
    assert_eq!(
        (updated.user_name.as_str(), updated.active),
        ("Dora@acme.test", false)
    );
    assert!(updated.last_modified >= created.last_modified);

    let err = store
        .replace_user(&by("acme"), &created.id, &next)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "version 1 is not current (the user is at version 2); re-read and retry"
    );
    next.version = None;
    let err = store
        .replace_user(&by("acme"), &created.id, &next)
        .unwrap_err();
    assert_eq!(err.to_string(), "version is required when replacing a user");
    next.version = Some(2);
    assert_eq!(
        code(store.replace_user(&by("acme"), "no-such-id", &next)),
        ErrorCode::UserNotFound
    );

    // The e-mail index follows the replacement.
    let mut q = query();
    q.email = Some("old@acme.test".into());
    assert_eq!(store.list_users("acme", &q).unwrap().total, 0);
    q.email = Some("NEW@acme.test".into());
    assert_eq!(store.list_users("acme", &q).unwrap().total, 1);
}

#[test]
fn roles_must_match_the_catalogue_exactly() {
    let (_dir, store) = seeded("roles");
    let mut w = write("eve@acme.test");
    w.roles = vec!["Buyer".into(), "admin".into()];
    let err = store.create_user(&by("acme"), &w).unwrap_err();
    let body = err.to_core_error();
    assert_eq!(body.code, ErrorCode::UnknownRole);
    assert_eq!(
        body.message,
        "role 'admin' is not in this workspace's role catalogue"
    );
    assert_eq!(
        body.known_roles,
        Some(vec![
            "Admin".into(),
            "Buyer".into(),
            "Approver".into(),
            "Viewer".into()
        ])
    );

    let user = store
        .create_user(&by("acme"), &write("eve@acme.test"))
        .unwrap();
    let set = |roles: &[&str], version| RolesWrite {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        version,
    };
    let updated = store
        .set_roles(
            &by("acme"),
            &user.id,
            &set(&["Viewer", "Admin", "Admin"], 1),
        )
        .unwrap();
    assert_eq!(
        (updated.roles.clone(), updated.version),
        (vec!["Admin".into(), "Viewer".into()], 2)
    );
    assert_eq!(
        code(store.set_roles(&by("acme"), &user.id, &set(&["Viewer"], 1))),
        ErrorCode::VersionConflict
    );
    assert_eq!(
        code(store.set_roles(&by("acme"), &user.id, &set(&["Root"], 2))),
        ErrorCode::UnknownRole
    );
    assert_eq!(
        code(store.set_roles(&by("globex"), &user.id, &set(&["Admin"], 2))),
        ErrorCode::UserNotFound
    );
    assert_eq!(store.get_user("acme", &user.id).unwrap(), updated);
}

#[test]
fn delete_then_not_found() {
    let (_dir, store) = seeded("delete");
    let mut w = write("fay@acme.test");
    w.emails = vec!["fay@acme.test".into()];
    let user = store.create_user(&by("acme"), &w).unwrap();
    assert_eq!(
        code(store.delete_user(&by("globex"), &user.id)),
        ErrorCode::UserNotFound
    );
    store.delete_user(&by("acme"), &user.id).unwrap();
    assert_eq!(
        code(store.get_user("acme", &user.id)),
        ErrorCode::UserNotFound
    );
    assert_eq!(
        code(store.delete_user(&by("acme"), &user.id)),
        ErrorCode::UserNotFound
    );
    let rows: i64 = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM user_emails", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(rows, 0);
    // The name is free again.
    assert_eq!(store.create_user(&by("acme"), &w).unwrap().version, 1);
}

#[test]
fn workspaces_are_isolated() {
    let (_dir, store) = seeded("isolation");
    let user = store
        .create_user(&by("acme"), &write("gil@acme.test"))
        .unwrap();
    assert_eq!(
        code(store.get_user("globex", &user.id)),
        ErrorCode::UserNotFound
    );
    let mut q = query();
    q.user_name = Some("gil@acme.test".into());
    assert_eq!(
        store.list_users("globex", &q).unwrap(),
        UserPage {
            total: 0,
            users: vec![]
        }
    );
    let mut w = write("gil@acme.test");
    w.version = Some(1);
    assert_eq!(
        code(store.replace_user(&by("globex"), &user.id, &w)),
        ErrorCode::UserNotFound
    );
}

#[test]
fn paging_follows_creation_order() {
    let (_dir, store) = seeded("paging");
    for name in ["u3", "u1", "u5", "u2", "u4"] {
        store.create_user(&by("acme"), &write(name)).unwrap();
    }
    store.create_user(&by("globex"), &write("other")).unwrap();
    let page = |offset, limit| {
        let q = UserQuery {
            offset,
            limit,
            ..UserQuery::default()
        };
        store.list_users("acme", &q).unwrap()
    };
    assert_eq!(names(&page(0, 100)), ["u3", "u1", "u5", "u2", "u4"]);
    assert_eq!(
        (page(1, 2).total, names(&page(1, 2))),
        (5, vec!["u1", "u5"])
    );
    assert_eq!(names(&page(4, 2)), ["u4"]);
    assert_eq!((page(9, 2).total, page(9, 2).users.len()), (5, 0));
    assert_eq!(
        page(0, 0),
        UserPage {
            total: 5,
            users: vec![]
        }
    );
    assert_eq!(names(&page(u64::MAX, 1)), Vec::<&str>::new());
}

#[test]
fn limit_is_clamped_to_the_maximum() {
    let (_dir, store) = seeded("clamp");
    // Bulk-insert 1001 rows directly: one transaction instead of 1001 fsyncs.
    store
        .write(|c| {
            Ok(c.execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001)
                 INSERT INTO users (id, workspace, user_name, user_name_lower, active, emails,
                     roles, profile, version, created, last_modified)
                 SELECT 'id-' || i, 'acme', 'u' || i, 'u' || i, 1, '[]', '[]', '{}', 1,
                     '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
            )?)
        })
        .unwrap();
    let q = UserQuery {
        limit: u32::MAX,
        ..UserQuery::default()
    };
    let page = store.list_users("acme", &q).unwrap();
    assert_eq!((page.total, page.users.len()), (1001, 1000));
    assert_eq!(page.users[999].user_name, "u1000");
}

#[test]
fn invalid_writes_are_explained() {
    let (_dir, store) = seeded("invalid");
    let message = |w: &UserWrite| store.create_user(&by("acme"), w).unwrap_err().to_string();
    assert_eq!(message(&write("  ")), "user_name must not be empty");
    assert_eq!(
        message(&write(&"x".repeat(257))),
        "user_name is longer than 256 characters"
    );
    assert_eq!(
        store
            .create_user(&by("acme"), &write(&"é".repeat(256)))
            .unwrap()
            .version,
        1
    );
    let mut w = write("hal@acme.test");
    w.external_id = Some(String::new());
    assert_eq!(message(&w), "external_id must be absent or non-empty");
    w.external_id = None;
    w.emails = vec!["ok@acme.test".into(), " ".into()];
    assert_eq!(
        message(&w),
        "emails[1] must be 1 to 256 characters and not blank"
    );
}

#[test]
fn users_survive_a_reopen() {
    let (dir, store) = seeded("reopen");
    let mut w = write("ida@acme.test");
    w.emails = vec!["ida@acme.test".into()];
    let user = store.create_user(&by("acme"), &w).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get_user("acme", &user.id).unwrap(), user);
    let mut q = query();
    q.email = Some("IDA@acme.test".into());
    assert_eq!(store.list_users("acme", &q).unwrap().users, vec![user]);
}

#[test]
fn every_look_up_uses_an_index() {
    let (_dir, store) = seeded("plans");
    let plan = |q: &UserQuery| {
        let q = q.clone();
        store
            .read(move |conn| {
                let filter = ListFilter::new(&q);
                let sql = format!("EXPLAIN QUERY PLAN {}", filter.sql()?.page);
                let mut stmt = conn.prepare(&sql)?;
                let workspace = "acme".to_owned();
                let paging: [&dyn ToSql; 2] = [&10, &0];
                let args = params_from_iter(filter.args(&workspace).chain(paging));
                let rows = stmt.query_map(args, |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap()
    };
    let by = |f: fn(&mut UserQuery)| {
        let mut q = query();
        f(&mut q);
        plan(&q)
    };
    assert_eq!(
        by(|q| q.user_name = Some("a".into())),
        ["SEARCH users USING INDEX sqlite_autoindex_users_2 (workspace=? AND user_name_lower=?)"]
    );
    assert_eq!(
        by(|q| q.external_id = Some("a".into())),
        ["SEARCH users USING INDEX users_by_external_id (workspace=? AND external_id=?)"]
    );
    assert_eq!(
        by(|q| q.email = Some("a".into())),
        [
            "SEARCH users USING INDEX users_by_workspace (workspace=? AND rowid=?)",
            "LIST SUBQUERY 1",
            "SEARCH user_emails USING COVERING INDEX user_emails_by_email \
             (workspace=? AND email_lower=?)",
            "CREATE BLOOM FILTER",
        ]
    );
    assert_eq!(
        by(|_| {}),
        ["SEARCH users USING INDEX users_by_workspace (workspace=?)"]
    );
}
