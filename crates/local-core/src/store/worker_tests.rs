use std::sync::mpsc::TryRecvError;

use authsidecar_core_api::{AuditQuery, ErrorCode, User, UserQuery, UserWrite};
use serde_json::Map;

use super::*;
use crate::seed::Seed;
use crate::store::users::{create, replace};
use crate::store::{AuditContext, Store};
use crate::test_dir::TestDir;

type Answer<T> = Receiver<Result<T, StoreError>>;

fn seeded(label: &str) -> (TestDir, Store) {
    let dir = TestDir::new(label);
    let store = Store::open(dir.path()).unwrap();
    let seed = "workspaces:\n  - id: acme\n    roles: [Admin, Buyer]\n";
    store
        .apply_seed(&Seed::from_yaml_str(seed).unwrap())
        .unwrap();
    (dir, store)
}

fn by() -> AuditContext {
    AuditContext::new("acme", "tok_test", "req-test")
}

fn user(user_name: &str) -> UserWrite {
    UserWrite {
        user_name: user_name.into(),
        external_id: None,
        active: true,
        emails: vec![user_name.into()],
        roles: Vec::new(),
        profile: Map::new(),
        version: None,
    }
}

/// Queues `work` on the writer without waiting for it.
fn queue<T: Send + 'static>(store: &Store, work: impl Work<T>) -> Answer<T> {
    let (tx, rx) = mpsc::channel();
    store.inner.writer.submit(work, move |result| {
        let _ = tx.send(result);
    });
    rx
}

/// Parks the writer inside a job until the returned sender sends; jobs
/// queued meanwhile all land in the writer's next batch.
fn park(store: &Store) -> (Sender<()>, Answer<()>) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let parked = queue(store, move |_| {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
        Ok(())
    });
    started.recv().unwrap();
    (release, parked)
}

/// Total of the users listed by the reader, which sees committed state only.
fn committed_users(store: &Store) -> u64 {
    let all = UserQuery {
        limit: 0,
        ..UserQuery::default()
    };
    store.list_users("acme", &all).unwrap().total
}

fn code<T: std::fmt::Debug>(answer: &Answer<T>) -> ErrorCode {
    answer.recv().unwrap().unwrap_err().code()
}

#[test]
fn queued_writes_commit_together_and_are_answered_after_the_commit() {
    let (_dir, store) = seeded("batch");
    let (release, parked) = park(&store);
    let writes: Vec<Answer<User>> = ["a@x.test", "b@x.test", "c@x.test"]
        .into_iter()
        .map(|name| queue(&store, create(by(), user(name)).unwrap()))
        .collect();
    let (inside_tx, inside) = mpsc::channel();
    let (finish, finish_rx) = mpsc::channel::<()>();
    let probe = queue(&store, move |conn| {
        let seen: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
        inside_tx.send(seen).unwrap();
        let _ = finish_rx.recv();
        Ok(seen)
    });
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();

    // The batch is open: its jobs see each other, nobody has an answer, and
    // the reader (not waiting for the writer) still sees the last commit.
    assert_eq!(inside.recv().unwrap(), 3);
    for answer in &writes {
        assert_eq!(answer.try_recv().unwrap_err(), TryRecvError::Empty);
    }
    assert_eq!(committed_users(&store), 0);

    finish.send(()).unwrap();
    assert_eq!(probe.recv().unwrap().unwrap(), 3);
    let names: Vec<String> = writes
        .iter()
        .map(|answer| answer.recv().unwrap().unwrap().user_name)
        .collect();
    assert_eq!(names, ["a@x.test", "b@x.test", "c@x.test"]);
    assert_eq!(committed_users(&store), 3);
}

#[test]
fn a_failed_job_is_rolled_back_alone() {
    let (_dir, store) = seeded("batch-one-fails");
    let (release, parked) = park(&store);
    let first = queue(&store, create(by(), user("ann@x.test")).unwrap());
    let taken = queue(&store, create(by(), user("ANN@x.test")).unwrap());
    let halfway = queue(&store, |conn| -> Result<(), StoreError> {
        conn.execute("INSERT INTO workspaces VALUES ('halfway', 'now')", [])?;
        Err(StoreError::InvalidRequest("given up half-way".into()))
    });
    let last = queue(&store, create(by(), user("bob@x.test")).unwrap());
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();

    assert_eq!(first.recv().unwrap().unwrap().user_name, "ann@x.test");
    assert_eq!(code(&taken), ErrorCode::UserNameTaken);
    assert_eq!(
        halfway.recv().unwrap().unwrap_err().to_string(),
        "given up half-way"
    );
    assert_eq!(last.recv().unwrap().unwrap().user_name, "bob@x.test");

    let halfway_rows: i64 = store
        .read(|c| {
            let sql = "SELECT COUNT(*) FROM workspaces WHERE id = 'halfway'";
            Ok(c.query_row(sql, [], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(halfway_rows, 0);
    let all = AuditQuery {
        limit: 10,
        ..Default::default()
    };
    let trail = store.audit_events("acme", &all).unwrap();
    assert_eq!((committed_users(&store), trail.total), (2, 2));
}

#[test]
fn a_lone_failed_job_leaves_nothing_and_the_next_batch_commits() {
    let (_dir, store) = seeded("batch-of-one-fails");
    let err = store
        .write(|conn| -> Result<(), StoreError> {
            conn.execute("INSERT INTO workspaces VALUES ('halfway', 'now')", [])?;
            Err(StoreError::InvalidRequest("given up half-way".into()))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "given up half-way");
    let taken = store.create_user(&by(), &user("ann@x.test")).unwrap();
    assert_eq!(
        store
            .create_user(&by(), &user("ANN@x.test"))
            .unwrap_err()
            .code(),
        ErrorCode::UserNameTaken
    );

    let workspaces: Vec<String> = store
        .read(|c| {
            let mut stmt = c.prepare("SELECT id FROM workspaces ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert_eq!(workspaces, ["acme"]);
    let all = AuditQuery {
        limit: 10,
        ..Default::default()
    };
    let trail = store.audit_events("acme", &all).unwrap();
    assert_eq!(
        (
            committed_users(&store),
            trail.total,
            trail.events[0].user_id.as_str()
        ),
        (1, 1, taken.id.as_str())
    );
    let bob = store.create_user(&by(), &user("bob@x.test")).unwrap();
    assert_eq!(store.get_user("acme", &bob.id).unwrap(), bob);
}

#[test]
fn only_a_batch_of_two_or_more_opens_savepoints() {
    let (_dir, store) = seeded("batch-savepoints");
    // Rolling back to the job's savepoint, where there is one, undoes
    // nothing here and leaves the savepoint in place.
    let savepoint_missing = |conn: &Connection| -> Result<Option<String>, StoreError> {
        Ok(conn
            .execute_batch("ROLLBACK TO job")
            .err()
            .map(|e| e.to_string()))
    };
    assert_eq!(
        store.write(savepoint_missing).unwrap().as_deref(),
        Some("no such savepoint: job")
    );

    let (release, parked) = park(&store);
    let first = queue(&store, savepoint_missing);
    let second = queue(&store, savepoint_missing);
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();
    assert_eq!(
        (
            first.recv().unwrap().unwrap(),
            second.recv().unwrap().unwrap()
        ),
        (None, None)
    );
}

#[test]
fn two_writes_at_one_version_in_one_batch_give_one_conflict() {
    let (_dir, store) = seeded("batch-versions");
    let ann = store.create_user(&by(), &user("ann@x.test")).unwrap();
    let mut disable = user("ann@x.test");
    disable.active = false;
    disable.version = Some(1);
    let mut rename = user("ann.lee@x.test");
    rename.version = Some(1);

    let (release, parked) = park(&store);
    let first = queue(&store, replace(by(), ann.id.clone(), disable).unwrap());
    let second = queue(&store, replace(by(), ann.id.clone(), rename).unwrap());
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();

    let won = first.recv().unwrap().unwrap();
    assert_eq!((won.version, won.active), (2, false));
    assert_eq!(
        second.recv().unwrap().unwrap_err().to_string(),
        "version 1 is not current (the user is at version 2); re-read and retry"
    );
    assert_eq!(store.get_user("acme", &ann.id).unwrap(), won);
}

#[test]
fn a_failed_commit_fails_every_job_and_shows_nothing() {
    let (_dir, store) = seeded("batch-commit-fails");
    // A deferred foreign key is checked only by COMMIT: a way to make a
    // commit fail after every job of the batch has succeeded.
    store
        .write(|c| {
            Ok(c.execute_batch(
                "CREATE TABLE later (workspace TEXT
                     REFERENCES workspaces(id) DEFERRABLE INITIALLY DEFERRED)",
            )?)
        })
        .unwrap();
    let (release, parked) = park(&store);
    let before = queue(&store, create(by(), user("ann@x.test")).unwrap());
    let orphan = queue(&store, |conn| {
        Ok(conn.execute("INSERT INTO later VALUES ('no-such-workspace')", [])?)
    });
    let after = queue(&store, create(by(), user("bob@x.test")).unwrap());
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();

    for message in [
        before.recv().unwrap().unwrap_err().to_string(),
        orphan.recv().unwrap().unwrap_err().to_string(),
        after.recv().unwrap().unwrap_err().to_string(),
    ] {
        assert_eq!(message, "storage error: FOREIGN KEY constraint failed");
    }
    assert_eq!(committed_users(&store), 0);
    let all = AuditQuery {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.audit_events("acme", &all).unwrap().total, 0);

    // The writer carries on with the next batch.
    store.create_user(&by(), &user("cy@x.test")).unwrap();
    assert_eq!(committed_users(&store), 1);
}

#[test]
fn a_batch_holds_at_most_max_batch_jobs() {
    let (_dir, store) = seeded("batch-bound");
    let file = store.file().to_owned();
    // How many of the jobs' rows another connection sees: committed ones.
    let committed = move || -> Result<i64, StoreError> {
        let other = Connection::open(&file)?;
        let sql = "SELECT COUNT(*) FROM workspaces WHERE id LIKE 'w-%'";
        Ok(other.query_row(sql, [], |r| r.get(0))?)
    };
    let (release, parked) = park(&store);
    let answers: Vec<Answer<i64>> = (1..=MAX_BATCH + 1)
        .map(|i| {
            let committed = committed.clone();
            queue(&store, move |conn| {
                conn.execute(
                    "INSERT INTO workspaces VALUES (?1, 'now')",
                    [format!("w-{i}")],
                )?;
                committed()
            })
        })
        .collect();
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();

    let seen: Vec<i64> = answers.iter().map(|a| a.recv().unwrap().unwrap()).collect();
    let full = i64::try_from(MAX_BATCH).unwrap();
    assert_eq!(seen[..MAX_BATCH], vec![0; MAX_BATCH][..]);
    assert_eq!(
        seen[MAX_BATCH], full,
        "the next batch starts after the commit"
    );
}

#[test]
fn a_batch_survives_a_reopen() {
    let (dir, store) = seeded("batch-reopen");
    let (release, parked) = park(&store);
    let answers: Vec<Answer<User>> = ["a@x.test", "b@x.test"]
        .into_iter()
        .map(|name| queue(&store, create(by(), user(name)).unwrap()))
        .collect();
    release.send(()).unwrap();
    parked.recv().unwrap().unwrap();
    let users: Vec<User> = answers.iter().map(|a| a.recv().unwrap().unwrap()).collect();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    for user in users {
        assert_eq!(store.get_user("acme", &user.id).unwrap(), user);
    }
}

#[test]
fn dropping_the_last_handle_finishes_queued_jobs() {
    let (dir, store) = seeded("batch-drop");
    let answer = queue(&store, create(by(), user("ann@x.test")).unwrap());
    drop(store);

    // The drop waited for the writer: the answer is already there.
    let ann = answer.try_recv().unwrap().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get_user("acme", &ann.id).unwrap(), ann);
}

#[test]
fn a_panicking_job_is_rolled_back_and_the_writer_carries_on() {
    let (_dir, store) = seeded("batch-panic");
    let err = store
        .write(|conn| -> Result<(), StoreError> {
            conn.execute("INSERT INTO workspaces VALUES ('panicked', 'now')", [])?;
            panic!("a bug in a store job");
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "storage task failed: the store job panicked"
    );
    assert_eq!(err.code(), ErrorCode::Internal);
    let rows: i64 = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM workspaces", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(rows, 1, "only the seeded workspace");
    assert_eq!(
        store
            .create_user(&by(), &user("ann@x.test"))
            .unwrap()
            .version,
        1
    );
}

#[test]
fn a_commit_error_keeps_its_sqlite_code_for_every_job() {
    let busy = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("database is locked".into()),
    );
    let copy = copy_error(&StoreError::Sqlite(busy));
    assert_eq!(copy.code(), ErrorCode::Unavailable);
    assert_eq!(copy.to_string(), "storage error: database is locked");
    let other = copy_error(&StoreError::Corrupt("bad row".into()));
    assert_eq!(
        other.to_string(),
        "storage task failed: the write's batch was not committed: stored data is corrupt: \
         bad row"
    );
}
