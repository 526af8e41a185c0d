//! The SQLite schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the file one version up and runs in
//! the same transaction as the version bump, so a crash leaves the file at
//! the old version or the new one, never in between.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2];

/// Version 1.
///
/// - `users.seq` is the rowid: it only grows, so it is the creation order
///   that paging follows; every index below ends in it implicitly, so an
///   equality look-up also yields rows already in creation order.
/// - `user_name_lower` carries the case-insensitive uniqueness rule.
/// - `users_by_workspace` is not redundant with the indexes it prefixes: it
///   alone holds a workspace's users in `seq` order, which the unfiltered
///   listing pages through and the e-mail filter checks `seq`s against.
/// - `emails` and `roles` keep the written lists as JSON for read-back;
///   `user_emails` is only the look-up index for e-mail.
/// - `tokens.secret_sha256` is the hex SHA-256 of the secret; the secret is
///   never stored.
const V1: &str = "
CREATE TABLE workspaces (
    id      TEXT PRIMARY KEY,
    created TEXT NOT NULL
) STRICT;

CREATE TABLE roles (
    workspace TEXT NOT NULL REFERENCES workspaces(id),
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (workspace, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE tokens (
    workspace     TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    token_id      TEXT NOT NULL UNIQUE,
    PRIMARY KEY (workspace, name),
    FOREIGN KEY (workspace, role) REFERENCES roles(workspace, name)
) STRICT;

CREATE TABLE users (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    workspace       TEXT NOT NULL REFERENCES workspaces(id),
    user_name       TEXT NOT NULL,
    user_name_lower TEXT NOT NULL,
    external_id     TEXT,
    active          INTEGER NOT NULL,
    emails          TEXT NOT NULL,
    roles           TEXT NOT NULL,
    profile         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created         TEXT NOT NULL,
    last_modified   TEXT NOT NULL,
    UNIQUE (workspace, user_name_lower)
) STRICT;

CREATE INDEX users_by_workspace ON users (workspace);
CREATE INDEX users_by_external_id ON users (workspace, external_id);

CREATE TABLE user_emails (
    user_seq    INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    workspace   TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    PRIMARY KEY (user_seq, email_lower)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_emails_by_email ON user_emails (workspace, email_lower, user_seq);
";

/// Version 2: the provisioning audit trail.
///
/// - `audit.seq` is the rowid: writes are serialised, so it is commit order,
///   which listing follows (newest first); `id` is the public, opaque id.
/// - `kinds` and `changes` are JSON arrays, written once and never updated.
/// - `user_id` is not a foreign key: the events of a deleted user stay.
/// - The indexes end in `seq` implicitly, so each filter also yields rows
///   already in listing order; `audit_by_workspace` does so for the
///   unfiltered listing, which would otherwise sort the whole trail.
const V2: &str = "
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    workspace  TEXT NOT NULL REFERENCES workspaces(id),
    time       TEXT NOT NULL,
    token_id   TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation  TEXT NOT NULL,
    kinds      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    changes    TEXT NOT NULL
) STRICT;

CREATE INDEX audit_by_workspace ON audit (workspace);
CREATE INDEX audit_by_user ON audit (workspace, user_id);
CREATE INDEX audit_by_operation ON audit (workspace, operation);
";

/// The version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file up to [`SCHEMA_VERSION`]; refuses a newer file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(sql)?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
        tracing::info!(schema_version = version + 1, "local core schema migrated");
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use authsidecar_core_api::{AuditQuery, UserQuery};

    use super::*;
    use crate::store::{AuditContext, Store};
    use crate::test_dir::TestDir;

    #[test]
    fn migrate_is_idempotent_and_sets_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
    }

    #[test]
    fn a_version_1_file_keeps_its_users_and_gains_the_trail() {
        let dir = TestDir::new("migrate-v1");
        {
            let conn = Connection::open(dir.path().join(crate::DB_FILE_NAME)).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO workspaces VALUES ('acme', '2026-01-01T00:00:00.000Z');
                 INSERT INTO roles VALUES ('acme', 'Admin', 0);
                 INSERT INTO users (id, workspace, user_name, user_name_lower, external_id,
                     active, emails, roles, profile, version, created, last_modified)
                 VALUES ('u-1', 'acme', 'Ann@x.test', 'ann@x.test', 'ext-1', 1,
                     '[\"Ann@x.test\"]', '[\"Admin\"]', '{\"title\":\"Eng\"}', 3,
                     '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
                 INSERT INTO user_emails VALUES (1, 'acme', 'ann@x.test');",
            )
            .unwrap();
        }

        let store = Store::open(dir.path()).unwrap();
        let version: i64 = store
            .read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(version, 2);
        let user = store.get_user("acme", "u-1").unwrap();
        assert_eq!(
            (user.user_name.as_str(), user.version, user.roles.as_slice()),
            ("Ann@x.test", 3, &["Admin".to_owned()][..])
        );
        assert_eq!(user.profile["title"], "Eng");
        let query = UserQuery {
            email: Some("ANN@x.test".into()),
            limit: 10,
            ..UserQuery::default()
        };
        assert_eq!(store.list_users("acme", &query).unwrap().total, 1);

        // The old user's next write is audited like any other.
        let all = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        assert_eq!(store.audit_events("acme", &all).unwrap().total, 0);
        store
            .delete_user(&AuditContext::new("acme", "tok_1", "req-1"), "u-1")
            .unwrap();
        let page = store.audit_events("acme", &all).unwrap();
        assert_eq!((page.total, page.events[0].user_id.as_str()), (1, "u-1"));
    }

    #[test]
    fn newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA user_version = 7").unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert_eq!(
            err.to_string(),
            "database schema version 7 is newer than this build supports (2)"
        );
    }
}
