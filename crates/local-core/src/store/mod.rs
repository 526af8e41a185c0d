//! Durable storage of workspaces, roles, tokens and users in one SQLite file.
//!
//! The store owns two threads (see `worker`), each with its own connection:
//!
//! - the writer runs every write. It takes all writes already queued (up to
//!   64) into one `BEGIN IMMEDIATE` transaction, each in its own savepoint
//!   (a write alone needs none), commits once and only then answers each of
//!   them: group commit. A write that fails is rolled back to its savepoint
//!   (alone, with the transaction) and answered with its own error; the
//!   batch's others still commit. Writes in one batch run in queue order
//!   and see each other, so two writes based on one version of a user give
//!   one success and one version conflict, as they would apart.
//! - the reader runs every read on a read-only connection. In WAL mode it
//!   sees the last committed state without waiting for the writer's fsync,
//!   and since a write is answered only after its commit, a read sent after
//!   that answer sees the write.
//!
//! The HTTP server awaits these threads (`*_async` calls); the blocking API
//! (CLI, tests, seeding) waits on them with a plain channel, which is safe
//! inside an async runtime too. Dropping the last [`Store`] handle lets both
//! threads finish the jobs already queued, then closes the file.
//!
//! Durability: WAL journal with `synchronous=FULL`. NORMAL would keep the file
//! consistent but can lose the last commits on power loss; a user the core
//! answered 201 for must still exist afterwards, because Entra records the id
//! and never re-creates it. FULL costs one fsync per commit; under load a
//! commit carries a whole batch of writes, so concurrent writers share it.
//!
//! Every user write also inserts its audit event (see `audit`) in the same
//! job: if the event cannot be stored, the write is rolled back.
//!
//! Every statement a request runs comes from the connection's statement
//! cache, so SQLite parses each text once per connection.
//!
//! Token checks never touch SQLite: the SHA-256 of every known secret is kept
//! in memory and reloaded whenever a seed or mint changes the tokens table.

mod audit;
mod audit_diff;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod query_plans;
mod schema;
mod tokens;
mod user_list;
mod users;
mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use authsidecar_core_api::Introspection;
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::StoreError;
use worker::{Work, Worker};

pub use audit::AuditContext;
pub use tokens::{DEV_ROLES, DEV_TOKEN_FILE, DEV_WORKSPACE, DevCredentials, token_id};
pub use users::MAX_FIELD_CHARS;

/// File name of the database inside the store's directory.
pub const DB_FILE_NAME: &str = "core.sqlite3";

/// How long a statement waits for another process's lock before failing
/// with `unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages after which a commit copies the WAL back into the file.
///
/// SQLite's default is 1 000 (4 MB). A user write dirties ~10 pages, many
/// of them (index ends, upper tree levels) the same from write to write, and
/// a checkpoint copies each page once however often it was written: in a
/// create and patch mix on a 20 000-user file, checkpointing a quarter as
/// often copied 1.4 pages per write instead of 2.1, with a quarter of the
/// checkpoint fsyncs. The price is a WAL of up to ~16 MB on disk; readers
/// find pages through the WAL index either way.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4_000;

/// Prepared statements each connection keeps. The writer runs about 20
/// distinct texts, the reader about 25 (16 of them list filters); the
/// default of 16 would evict and re-parse them.
const STATEMENT_CACHE: usize = 64;

/// The local core's storage. Cheap to clone; clones share one writer and
/// one reader thread.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// SHA-256 of each known secret → who it is.
    tokens: RwLock<HashMap<[u8; 32], Arc<Introspection>>>,
    file: PathBuf,
    // Fields drop in order: the reader closes first, so that the writer's
    // connection is the last one and checkpoints the WAL into the file.
    reader: Worker,
    writer: Worker,
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
    /// a larger auto-checkpoint interval, foreign keys and a busy timeout,
    /// loads the token hashes, and starts the writer and reader threads.
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
        // Only the writer checkpoints: the reader's connection is read-only.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&mut conn)?;
        let tokens = tokens::load_all(&conn)?;

        // Opened after the writer, which has created the WAL and its index.
        let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let reader = Connection::open_with_flags(&file, read_only)?;
        reader.busy_timeout(BUSY_TIMEOUT)?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);

        let thread_failed =
            |e: std::io::Error| StoreError::TaskFailed(format!("cannot start a store thread: {e}"));
        let reader = Worker::spawn("core-store-reader", reader, worker::read_batch)
            .map_err(thread_failed)?;
        let writer =
            Worker::spawn("core-store-writer", conn, worker::write_batch).map_err(thread_failed)?;
        tracing::info!(file = %file.display(), tokens = tokens.len(), "local core store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                tokens: RwLock::new(tokens),
                file,
                reader,
                writer,
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
        self.authenticate_shared(secret).map(|who| (*who).clone())
    }

    /// [`Store::authenticate`] without copying the identity.
    pub(crate) fn authenticate_shared(&self, secret: &str) -> Option<Arc<Introspection>> {
        let hash = tokens::secret_sha256(secret);
        let map = self
            .inner
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(&hash).cloned()
    }

    /// Runs `work` in the writer's next batch, rolled back alone if it
    /// fails, and waits until that batch is committed.
    fn write<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, StoreError> {
        self.inner.writer.call(work)
    }

    /// [`Store::write`] for async callers.
    async fn write_async<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, StoreError> {
        self.inner.writer.call_async(work).await
    }

    /// Runs `work` on the reader, in a read transaction, and waits for it.
    pub(crate) fn read<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, StoreError> {
        self.inner.reader.call(work)
    }

    /// [`Store::read`] for async callers.
    async fn read_async<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, StoreError> {
        self.inner.reader.call_async(work).await
    }

    /// Replaces the in-memory token map with the committed tokens table.
    fn reload_tokens(&self) -> Result<(), StoreError> {
        // Held across the load, so that of two reloads racing, the one that
        // reads the later table is also the one installed last.
        let mut map = self
            .inner
            .tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *map = self.read(tokens::load_all)?;
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
        let settings = |conn: &Connection| {
            let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0));
            let number = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok((
                text("PRAGMA journal_mode")?,
                number("PRAGMA synchronous")?,
                number("PRAGMA foreign_keys")?,
                number("PRAGMA wal_autocheckpoint")?,
                conn.is_readonly(rusqlite::MAIN_DB)?,
            ))
        };
        assert_eq!(
            store.write(settings).unwrap(),
            ("wal".to_owned(), 2, 1, 4000, false)
        );
        assert!(store.read(settings).unwrap().4, "the reader is read-only");
    }

    #[test]
    fn the_reader_cannot_write() {
        let dir = TestDir::new("read-only");
        let store = Store::open(dir.path()).unwrap();
        let err = store
            .read(|conn| Ok(conn.execute("INSERT INTO workspaces VALUES ('x', 'y')", [])?))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "storage error: attempt to write a readonly database"
        );
    }

    #[test]
    fn unknown_secret_is_not_authenticated() {
        let dir = TestDir::new("auth");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.authenticate("nobody-knows-this"), None);
    }
}
