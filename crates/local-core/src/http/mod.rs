//! The HTTP/1.1 server of the local core: accept loop, per-connection
//! tasks, graceful shutdown. Routing and handlers live in [`routes`].

mod audit;
mod query;
mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Store;

/// Largest request body accepted; larger ones get 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long shutdown waits for in-flight requests before dropping them.
pub const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// A client must send its request head within this time, or the connection
/// is closed. hyper counts an idle keep-alive connection's wait for its next
/// request against the same limit, so it is also how long an idle connection
/// lives: longer than any client should keep one in its pool (the sidecar's
/// `core.pool_idle_timeout_ms` defaults to 30 s), so that a pooled connection
/// is dropped by the client before the core closes it. With 10 s here, calls
/// after a quiet spell raced the close and failed (seen in the benchmark).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(75);

/// Pause after a failed `accept`, so that running out of file descriptors
/// does not become a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves the core API on `listener` until `shutdown` completes.
///
/// One task per connection, HTTP/1.1 with keep-alive. When `shutdown`
/// resolves, the listener is closed, idle connections are closed, and
/// in-flight requests get up to [`GRACE_PERIOD`] to finish.
pub async fn serve(
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    tracing::info!(addr = %listener.local_addr()?, "local core listening");

    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Per-connection failures (reset before accept, EMFILE) must
                // not stop the server.
                tracing::warn!(error = %e, "local core accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let store = store.clone();
        let service = service_fn(move |req| {
            let store = store.clone();
            async move { Ok::<_, Infallible>(routes::handle(store, req).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watcher().watch(connection);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(%peer, error = %e, "local core connection ended with an error");
            }
        });
    }

    drop(listener);
    match tokio::time::timeout(GRACE_PERIOD, graceful.shutdown()).await {
        Ok(()) => tracing::info!("local core stopped"),
        Err(_) => tracing::warn!(
            grace_secs = GRACE_PERIOD.as_secs(),
            "local core stopped with requests still running after the grace period"
        ),
    }
    Ok(())
}

/// Binds `addr` (use port 0 for any free port), runs [`serve`] on a new
/// task, and returns the bound address with the handle that stops it.
///
/// Dropping the handle also stops the server, without waiting for it.
pub async fn spawn(store: Store, addr: SocketAddr) -> io::Result<(SocketAddr, ShutdownHandle)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (trigger, stopped) = oneshot::channel::<()>();
    // Resolves on send and on drop of the sender alike.
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve(store, listener, shutdown));
    Ok((
        bound,
        ShutdownHandle {
            trigger: Some(trigger),
            task,
        },
    ))
}

/// Stops a server started by [`spawn`].
#[derive(Debug)]
pub struct ShutdownHandle {
    trigger: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl ShutdownHandle {
    /// Stops accepting, lets in-flight requests finish (bounded by
    /// [`GRACE_PERIOD`]) and waits until the server task has ended.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(trigger) = self.trigger.take() {
            // An error means the server already stopped; nothing to signal.
            let _ = trigger.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(io::Error::other(format!(
                "local core server task failed: {e}"
            ))),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::mpsc;

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::Seed;
    use crate::test_dir::TestDir;

    const SEED: &str = "workspaces:
  - id: acme
    roles: [Admin]
    tokens: [{ name: entra, secret: ci-acme-admin, role: Admin }]
";

    fn seeded(dir: &TestDir) -> Store {
        let store = Store::open(dir.path()).unwrap();
        store
            .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
            .unwrap();
        store
    }

    fn loopback() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_lets_an_in_flight_request_finish() {
        let dir = TestDir::new("graceful");
        let store = seeded(&dir);
        let (addr, handle) = spawn(store.clone(), loopback()).await.unwrap();

        // Keep the store's reader busy so the request parks inside the store call.
        let (locked_tx, locked) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            store.read(move |_| {
                locked_tx.send(()).unwrap();
                let _ = release_rx.recv();
                Ok(())
            })
        });
        locked.recv().unwrap();

        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let request = client
            .get(format!("http://{addr}/internal/v1/roles"))
            .bearer_auth("ci-acme-admin")
            .send();
        let request = tokio::spawn(request);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stopping = tokio::spawn(handle.shutdown());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !stopping.is_finished(),
            "shutdown must wait for the request"
        );

        release.send(()).unwrap();
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), r#"{"roles":["Admin"]}"#);
        stopping.await.unwrap().unwrap();
        holder.join().unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_cut_off_after_the_header_timeout() {
        let dir = TestDir::new("header-timeout");
        let (addr, handle) = spawn(seeded(&dir), loopback()).await.unwrap();
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let started = tokio::time::Instant::now();
        let mut buf = [0u8; 1];
        // Paused time jumps straight to the next timer: the server's 75 s.
        let read = tokio::time::timeout(Duration::from_secs(600), silent.read(&mut buf)).await;
        assert_eq!(
            read.unwrap().unwrap(),
            0,
            "the server closes the connection"
        );
        assert!(started.elapsed() >= HEADER_READ_TIMEOUT);
        handle.shutdown().await.unwrap();
    }

    #[test]
    fn idle_connections_outlive_the_sidecars_default_pool_idle_timeout() {
        let pool_idle = authsidecar_config::defaults::POOL_IDLE_TIMEOUT_MS;
        assert!(HEADER_READ_TIMEOUT > Duration::from_millis(pool_idle) * 2);
    }
}
