//! The store's two threads: one writer that group-commits, one reader.
//!
//! Callers hand a job (a closure over a [`Connection`]) to a thread through
//! a channel and get its result back on a reply channel: a tokio `oneshot`
//! for async callers, a std channel for blocking ones.
//!
//! The writer takes every job already queued (at most [`MAX_BATCH`]) and runs
//! them in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint:
//! a job that fails is rolled back to its savepoint and keeps its own error,
//! the others stay. One `COMMIT`, so one fsync, covers the batch, and only
//! after it succeeds is any job answered. If the batch cannot be committed,
//! every job gets an error and nothing of the batch is visible. A batch of
//! one job, the usual case at provisioning rates, runs without a savepoint:
//! if the job fails, the transaction is rolled back instead.
//!
//! The reader has its own read-only connection. In WAL mode it sees the last
//! committed state and never waits for the writer's fsync; because a write
//! is answered only after its commit, a read sent after that answer sees it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::StoreError;

/// Most jobs one batch holds. Bounds how long the first jobs of a batch
/// wait for the last ones to run, and how many writes one failed commit
/// takes with it.
pub(super) const MAX_BATCH: usize = 64;

/// What a caller hands a store thread: a closure run on the thread's
/// connection, inside the transaction the thread opened for it.
pub(crate) trait Work<T>:
    FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static
{
}

impl<T, F> Work<T> for F where F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static {}

/// A queued [`Work`] with its reply; the result type is erased so that one
/// channel carries every kind of call.
pub(super) trait Job: Send {
    /// Runs the work on `conn` and keeps its result; true if it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;

    /// Sends the kept result to the caller. `lost` is why the batch holding
    /// the job was not committed: a job that succeeded (or never ran) gets
    /// that error instead, a job that failed keeps its own.
    fn finish(self: Box<Self>, lost: Option<&StoreError>);
}

/// A closure, the result it produced, and where that result goes.
struct Call<T, F, R> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: R,
}

impl<T, F, R> Job for Call<T, F, R>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    R: FnOnce(Result<T, StoreError>) + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A panicking job must not take the thread, and every later caller,
        // down with it; its savepoint is rolled back like any failed job's.
        let result = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
            tracing::error!("a store job panicked; its writes are rolled back");
            Err(StoreError::TaskFailed("the store job panicked".to_owned()))
        });
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, lost: Option<&StoreError>) {
        let Call { result, reply, .. } = *self;
        let result = match (result, lost) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(_)) | None, Some(cause)) => Err(copy_error(cause)),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::TaskFailed("the store job never ran".to_owned())),
        };
        reply(result);
    }
}

/// One store thread and the sending end of its queue.
///
/// Dropping it closes the queue; the thread finishes the jobs already queued,
/// closes its connection and ends, and the drop waits for that, so a store
/// reopened right after its last handle is dropped finds the file closed.
pub(super) struct Worker {
    jobs: Option<Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

/// How a thread runs one batch of jobs on its connection.
pub(super) type RunBatch = fn(&Connection, &mut Vec<Box<dyn Job>>);

impl Worker {
    /// Starts thread `name`, which owns `conn` and runs batches with `run`.
    pub(super) fn spawn(name: &str, conn: Connection, run: RunBatch) -> std::io::Result<Worker> {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || serve(&conn, &queue, run))?;
        Ok(Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Queues `work`; `reply` receives its result. If the thread is gone,
    /// `reply` is called at once with an error.
    pub(super) fn submit<T, R>(&self, work: impl Work<T>, reply: R)
    where
        T: Send + 'static,
        R: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let job: Box<dyn Job> = Box::new(Call {
            work: Some(work),
            result: None,
            reply,
        });
        let Some(jobs) = &self.jobs else {
            return job.finish(Some(&stopped()));
        };
        if let Err(mpsc::SendError(job)) = jobs.send(job) {
            job.finish(Some(&stopped()));
        }
    }

    /// Runs `work` on the thread and waits for its result.
    ///
    /// Blocks the calling thread, never an executor's waker: safe to call
    /// from inside a tokio runtime, as the synchronous `Store` API is.
    pub(super) fn call<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(work, move |result| {
            // The caller waits on `rx` until this send; it cannot be gone.
            let _ = tx.send(result);
        });
        rx.recv().unwrap_or_else(|_| Err(stopped()))
    }

    /// Runs `work` on the thread; the calling task waits without blocking
    /// its executor thread.
    pub(super) async fn call_async<T: Send + 'static>(
        &self,
        work: impl Work<T>,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(work, move |result| {
            // A caller that stopped waiting (its request was cancelled) has
            // nothing to be told; the job itself has run regardless.
            let _ = tx.send(result);
        });
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // A job holding the last store handle would otherwise join its
            // own thread; that thread ends on its own once the queue closes.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The thread's loop: wait for a job, take whatever else is queued, run the
/// batch. Ends when every sender is gone and the queue is empty.
fn serve(conn: &Connection, queue: &Receiver<Box<dyn Job>>, run: RunBatch) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run(conn, &mut batch);
        // A batch runner answers every job; one that did not must not leave
        // its callers waiting forever.
        for job in batch.drain(..) {
            job.finish(Some(&stopped()));
        }
    }
}

/// Runs a batch of writes in one transaction and answers them after its
/// commit (see the module docs).
pub(super) fn write_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>) {
    let lost = commit_batch(conn, batch).err();
    if let Some(cause) = &lost {
        tracing::warn!(jobs = batch.len(), error = %cause, "store batch rolled back");
        if !conn.is_autocommit()
            && let Err(e) = execute(conn, "ROLLBACK")
        {
            tracing::error!(error = %e, "cannot roll back a failed store batch");
        }
    }
    for job in batch.drain(..) {
        job.finish(lost.as_ref());
    }
}

/// Begins, runs each job, commits. An error means the batch's writes are
/// not (or may not be) committed. A lone job that fails is rolled back with
/// the transaction and answered with its own error, which is no batch error.
fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock up front, so a read-then-write job
    // cannot fail half-way with SQLITE_BUSY on upgrade.
    execute(conn, "BEGIN IMMEDIATE")?;
    if let [job] = batch {
        // Alone, a job needs no savepoint: rolling back the transaction
        // undoes exactly its writes, and without an open savepoint SQLite
        // need not copy each page the job first touches to a side journal.
        let ok = job.run(conn);
        still_open(conn)?;
        return execute(conn, if ok { "COMMIT" } else { "ROLLBACK" });
    }
    for job in batch.iter_mut() {
        execute(conn, "SAVEPOINT job")?;
        let ok = job.run(conn);
        still_open(conn)?;
        if !ok {
            execute(conn, "ROLLBACK TO job")?;
        }
        execute(conn, "RELEASE job")?;
    }
    execute(conn, "COMMIT")
}

/// Fails if the batch's transaction has ended under a job: some failures
/// (I/O, full disk) make SQLite roll back the whole transaction, and the
/// earlier jobs' writes with it.
fn still_open(conn: &Connection) -> Result<(), StoreError> {
    if conn.is_autocommit() {
        return Err(StoreError::TaskFailed(
            "sqlite rolled back the whole batch after a failed statement".to_owned(),
        ));
    }
    Ok(())
}

/// Runs a batch of reads in one read transaction (one snapshot, begun
/// after every job of the batch was queued) and answers each at once.
pub(super) fn read_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>) {
    for mut job in batch.drain(..) {
        // Re-begun if a failed statement ended the transaction, so that a
        // job's statements still share one snapshot.
        if conn.is_autocommit()
            && let Err(e) = execute(conn, "BEGIN")
        {
            job.finish(Some(&e));
            continue;
        }
        job.run(conn);
        job.finish(None);
    }
    if !conn.is_autocommit()
        && let Err(e) = execute(conn, "COMMIT")
    {
        tracing::warn!(error = %e, "cannot end a store read transaction");
    }
}

/// Runs one parameterless statement from the connection's statement cache.
fn execute(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// The error a thread that has stopped answers with.
fn stopped() -> StoreError {
    StoreError::TaskFailed("the store's thread has stopped".to_owned())
}

/// A copy of `cause` for one more job; SQLite failures keep their code, so
/// a busy database still answers `unavailable`.
fn copy_error(cause: &StoreError) -> StoreError {
    match cause {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(code, message)) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        StoreError::TaskFailed(message) => StoreError::TaskFailed(message.clone()),
        other => StoreError::TaskFailed(format!("the write's batch was not committed: {other}")),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
#[path = "worker_tests.rs"]
mod tests;
