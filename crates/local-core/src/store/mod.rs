//! Durable storage of workspaces, roles, tokens and users in one SQLite file.
//!
//! The API is blocking: SQLite is. Async callers run it on
//! `tokio::task::spawn_blocking` (the HTTP server does). One connection,
//! behind a `std::sync::Mutex`, serves all calls; SQLite allows one writer at
//! a time anyway, and every index look-up is microseconds, so a read pool
//! would add code without adding throughput that matters here.
//!
//! Durability: WAL journal with `synchronous=FULL`. NORMAL would keep the file
//! consistent but can lose the last commits on power loss; a user the core
//! answered 201 for must still exist afterwards, because Entra records the id
//! and never re-creates it. FULL costs one fsync per write, which provisioning
//! rates (a few writes a second) do not notice.
//!
//! Every user write also inserts its audit event (see `audit`) in the same
//! transaction.
//!
//! Token checks never touch SQLite: the SHA-256 of every known secret is kept
//! in memory and reloaded whenever a seed or mint changes the tokens table.

mod audit;
mod audit_diff;
mod schema;
mod tokens;
mod users;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use authsidecar_core_api::Introspection;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::StoreError;

pub use audit::AuditContext;
pub use tokens::{DEV_ROLES, DEV_TOKEN_FILE, DEV_WORKSPACE, DevCredentials, token_id};
pub use users::MAX_FIELD_CHARS;

/// File name of the database inside the store's directory.
pub const DB_FILE_NAME: &str = "core.sqlite3";

/// How long a statement waits for another process's lock before failing
/// with `unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The local core's storage. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    /// SHA-256 of each known secret → who it is.
    tokens: RwLock<HashMap<[u8; 32], Introspection>>,
    file: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("file", &self.inner.file)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if missing) `dir/core.sqlite3` and migrates its schema.
    ///
    /// Creates `dir` if it does not exist. Sets WAL mode, `synchronous=FULL`,
    /// foreign keys and a busy timeout, then loads the token hashes.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let file = dir.join(DB_FILE_NAME);
        let mut conn = Connection::open(&file)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Only in-memory or exotic VFSs refuse WAL; say so rather than run silently slower.
            tracing::warn!(journal_mode = %mode, "sqlite refused WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        schema::migrate(&mut conn)?;
        let tokens = tokens::load_all(&conn)?;
        tracing::info!(file = %file.display(), tokens = tokens.len(), "local core store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                tokens: RwLock::new(tokens),
                file,
            }),
        })
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.inner.file
    }

    /// Who a bearer secret belongs to, or `None` for an unknown secret.
    ///
    /// Memory only, never blocks on storage. The map is keyed by SHA-256 of
    /// the secret, so look-up timing can reveal nothing about a secret itself.
    pub fn authenticate(&self, secret: &str) -> Option<Introspection> {
        let hash = tokens::secret_sha256(secret);
        let map = self
            .inner
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(&hash).cloned()
    }

    /// Locks the connection.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while locked dropped its open transaction, which rolled it
        // back; the connection is sound, so the poison flag carries no risk.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: committed if `f`
    /// succeeds, rolled back (by drop) if it fails.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        // IMMEDIATE takes the write lock up front, so a read-then-write
        // transaction cannot fail half-way with SQLITE_BUSY on upgrade.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one read transaction, so its statements see one snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }

    /// Replaces the in-memory token map with the tokens table.
    fn reload_tokens(&self) -> Result<(), StoreError> {
        let fresh = tokens::load_all(&self.lock())?;
        *self
            .inner
            .tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }
}

/// Now, as RFC 3339 UTC with millisecond precision: `2026-12-04T15:13:11.123Z`.
pub(crate) fn now_rfc3339() -> String {
    format_timestamp(OffsetDateTime::now_utc())
}

/// `at` as RFC 3339 UTC with millisecond precision, the one stored form.
pub(crate) fn format_timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let utc = at.to_offset(time::UtcOffset::UTC);
    // Formatting a UTC date of years 0..=9999 with this description cannot
    // fail; the fallback keeps the signature infallible without a panic.
    utc.format(&format)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = datetime!(2026-12-04 16:13:11.123456 +01:00);
        assert_eq!(format_timestamp(at), "2026-12-04T15:13:11.123Z");
        assert_eq!(
            format_timestamp(datetime!(2026-01-02 03:04:05 UTC)),
            "2026-01-02T03:04:05.000Z"
        );
    }

    #[test]
    fn open_creates_the_directory_and_wal_file() {
        let dir = TestDir::new("open");
        let nested = dir.path().join("a").join("b");
        let store = Store::open(&nested).unwrap();
        assert_eq!(store.file(), nested.join("core.sqlite3"));
        let conn = store.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fks: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, fks), ("wal", 2, 1));
    }

    #[test]
    fn unknown_secret_is_not_authenticated() {
        let dir = TestDir::new("auth");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.authenticate("nobody-knows-this"), None);
    }
}
