//! The plans SQLite picks for every statement the store runs on `users` and
//! `audit`, checked on a freshly migrated file: each must reach its rows
//! through an index, and the listings must come out of an index already in
//! `seq` order. A sort there would read every row of the workspace for each
//! page, and the one reader thread would hold every other read meanwhile.

use authsidecar_core_api::AuditQuery;
use rusqlite::types::Null;
use rusqlite::{Connection, params_from_iter};

use super::audit::{audit_filter, listing_sql};
use super::user_list::LIST_SQL;
use super::users::{DELETE, REPLACE, SELECT, SET_ROLES, VERSION_OF};
use crate::StoreError;
use crate::store::Store;
use crate::test_dir::TestDir;

/// Tables a store statement must never read from end to end.
const TABLES: [&str; 3] = ["users", "audit", "user_emails"];

/// The `detail` lines of `sql`'s query plan, its parameters all NULL.
fn plan(conn: &Connection, sql: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let nulls = vec![Null; stmt.parameter_count()];
    let rows = stmt.query_map(params_from_iter(nulls), |row| row.get::<_, String>(3))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The plan lines that read one of [`TABLES`] without an index.
fn full_scans(plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("SCAN")
                && words.next().is_some_and(|table| TABLES.contains(&table))
                && !line.contains(" USING ")
        })
        .cloned()
        .collect()
}

/// The plan lines that sort the rows after reading them.
fn sorts(plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|line| line.contains("TEMP B-TREE FOR ORDER BY"))
        .cloned()
        .collect()
}

/// The count and page statements of the audit listings an operator can
/// ask for, in [`ACCESS`] order.
fn audit_listings() -> Vec<(String, String)> {
    let query = |user: bool, since: bool, op: Option<&str>| AuditQuery {
        user_id: user.then(|| "u-1".to_owned()),
        since: since.then(|| "2026-01-01T00:00:00Z".to_owned()),
        op: op.map(str::to_owned),
        limit: 10,
        ..AuditQuery::default()
    };
    [
        query(false, false, None),
        query(true, false, None),
        query(false, false, Some("create")),
        query(false, false, Some("rename")),
        query(false, true, None),
        query(true, false, Some("patch")),
        query(true, true, Some("role_change")),
    ]
    .iter()
    .map(|query| {
        let (filter, args) = audit_filter("acme", query).unwrap();
        let sql = listing_sql(&filter, args.len());
        (sql.count, sql.page)
    })
    .collect()
}

/// How each statement reaches its rows: the first line of its plan.
const ACCESS: [(&str, &str); 35] = [
    ("get", BY_ID),
    ("replace", BY_ID),
    ("set roles", BY_ID),
    ("version of", BY_ID),
    ("delete", BY_ID),
    // The workspace-only indexes hold each workspace's rows in `seq` order:
    // without them these listings sort the whole workspace for every page.
    (
        "count users",
        "SEARCH users USING COVERING INDEX users_by_workspace (workspace=?)",
    ),
    (
        "list users",
        "SEARCH users USING INDEX users_by_workspace (workspace=?)",
    ),
    ("count users by name", USER_NAME_COVERING),
    ("list users by name", USER_NAME),
    ("count users by external id", EXTERNAL_ID_COVERING),
    ("list users by external id", EXTERNAL_ID),
    ("count users by name, external id", USER_NAME),
    ("list users by name, external id", USER_NAME),
    ("count users by e-mail", EMAIL_COVERING),
    ("list users by e-mail", EMAIL),
    ("count users by name, e-mail", USER_NAME_COVERING),
    ("list users by name, e-mail", USER_NAME),
    (
        "count users by external id, e-mail",
        "SEARCH users USING COVERING INDEX users_by_external_id \
         (workspace=? AND external_id=? AND rowid=?)",
    ),
    (
        "list users by external id, e-mail",
        "SEARCH users USING INDEX users_by_external_id \
         (workspace=? AND external_id=? AND rowid=?)",
    ),
    ("count users by name, external id, e-mail", USER_NAME),
    ("list users by name, external id, e-mail", USER_NAME),
    (
        "count audit",
        "SEARCH audit USING COVERING INDEX audit_by_workspace (workspace=?)",
    ),
    ("list audit", AUDIT_BY_WORKSPACE),
    ("count audit by user", AUDIT_BY_USER_COVERING),
    ("list audit by user", AUDIT_BY_USER),
    (
        "count audit by operation",
        "SEARCH audit USING COVERING INDEX audit_by_operation (workspace=? AND operation=?)",
    ),
    ("list audit by operation", AUDIT_BY_OPERATION),
    ("count audit by kind", AUDIT_BY_WORKSPACE),
    ("list audit by kind", AUDIT_BY_WORKSPACE),
    ("count audit since", AUDIT_BY_WORKSPACE),
    ("list audit since", AUDIT_BY_WORKSPACE),
    ("count audit by user, operation", AUDIT_BY_OPERATION),
    ("list audit by user, operation", AUDIT_BY_OPERATION),
    ("count audit by user, since, kind", AUDIT_BY_USER),
    ("list audit by user, since, kind", AUDIT_BY_USER),
];

// SQLite's names for UNIQUE (id) and UNIQUE (workspace, user_name_lower).
const BY_ID: &str = "SEARCH users USING INDEX sqlite_autoindex_users_1 (id=?)";
const USER_NAME: &str =
    "SEARCH users USING INDEX sqlite_autoindex_users_2 (workspace=? AND user_name_lower=?)";
const USER_NAME_COVERING: &str = "SEARCH users USING COVERING INDEX sqlite_autoindex_users_2 \
     (workspace=? AND user_name_lower=?)";
const EXTERNAL_ID: &str =
    "SEARCH users USING INDEX users_by_external_id (workspace=? AND external_id=?)";
const EXTERNAL_ID_COVERING: &str =
    "SEARCH users USING COVERING INDEX users_by_external_id (workspace=? AND external_id=?)";
// The e-mail look-up yields `seq`s, each checked in the workspace index;
// without that index SQLite walks every user of the workspace instead.
const EMAIL: &str = "SEARCH users USING INDEX users_by_workspace (workspace=? AND rowid=?)";
const EMAIL_COVERING: &str =
    "SEARCH users USING COVERING INDEX users_by_workspace (workspace=? AND rowid=?)";
const AUDIT_BY_WORKSPACE: &str = "SEARCH audit USING INDEX audit_by_workspace (workspace=?)";
const AUDIT_BY_USER: &str = "SEARCH audit USING INDEX audit_by_user (workspace=? AND user_id=?)";
const AUDIT_BY_USER_COVERING: &str =
    "SEARCH audit USING COVERING INDEX audit_by_user (workspace=? AND user_id=?)";
const AUDIT_BY_OPERATION: &str =
    "SEARCH audit USING INDEX audit_by_operation (workspace=? AND operation=?)";

/// Every statement the store runs on `users` and `audit` but the inserts,
/// which look nothing up, in [`ACCESS`] order.
fn statements() -> Vec<String> {
    let mut statements: Vec<String> = [SELECT, REPLACE, SET_ROLES, VERSION_OF, DELETE]
        .map(str::to_owned)
        .to_vec();
    for sql in LIST_SQL.iter() {
        statements.extend([sql.count.clone(), sql.page.clone()]);
    }
    for (count, page) in audit_listings() {
        statements.extend([count, page]);
    }
    statements
}

#[test]
fn every_users_and_audit_statement_reads_through_an_index_in_listing_order() {
    let dir = TestDir::new("query-plans");
    let store = Store::open(dir.path()).unwrap();
    let statements = statements();
    assert_eq!(statements.len(), ACCESS.len());
    let plans: Vec<Vec<String>> = store
        .read(move |conn| statements.iter().map(|sql| plan(conn, sql)).collect())
        .unwrap();

    let access: Vec<(&str, Option<&str>)> = ACCESS
        .iter()
        .zip(&plans)
        .map(|((name, _), plan)| (*name, plan.first().map(String::as_str)))
        .collect();
    let expected: Vec<(&str, Option<&str>)> = ACCESS
        .iter()
        .map(|(name, line)| (*name, Some(*line)))
        .collect();
    assert_eq!(access, expected);
    let slow: Vec<(&str, Vec<String>)> = ACCESS
        .iter()
        .zip(&plans)
        .map(|((name, _), plan)| (*name, [full_scans(plan), sorts(plan)].concat()))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    assert_eq!(
        slow,
        Vec::new(),
        "no full scan of a table, no sort of its rows"
    );
}

#[test]
fn a_full_scan_and_a_sort_are_told_from_index_reads() {
    let plan: Vec<String> = [
        "SCAN users",
        "SCAN audit USING COVERING INDEX audit_by_user",
        "SCAN json_each VIRTUAL TABLE INDEX 1:",
        "SEARCH users USING INDEX users_by_workspace (workspace=?)",
        "USE TEMP B-TREE FOR ORDER BY",
    ]
    .map(str::to_owned)
    .to_vec();
    assert_eq!(full_scans(&plan), ["SCAN users"]);
    assert_eq!(sorts(&plan), ["USE TEMP B-TREE FOR ORDER BY"]);
}
