//! The modes: `dev`, `core`, `run`, `check-config`.
//!
//! `dev` and `run` stop the same way on SIGTERM or Ctrl-C: `/readyz` turns
//! 503 at once, the sidecar keeps serving for `lifecycle.drain_secs` (so
//! load balancers notice and stop sending), then it stops accepting and
//! gives requests in flight `lifecycle.shutdown_deadline_secs` to finish.
//! A second signal during the drain cuts it short.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use authsidecar_config::{AppConfig, Config, LifecycleConfig, LogFormat};
use authsidecar_local_core::{Seed, Store};
use authsidecar_server::admin::{self, AdminServer};
use authsidecar_server::{RunningSidecar, StartError};
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::cli::Command;

/// How a mode failed.
pub(crate) enum Failed {
    /// Bad configuration or arguments (exit 64).
    Usage(String),
    /// Could not run (exit 1).
    Runtime(String),
}

pub(crate) async fn run(command: Command) -> Result<(), Failed> {
    match command {
        Command::Dev {
            listen,
            data,
            seed,
            core_listen,
            admin,
            drain_secs,
            app,
        } => {
            init_tracing(LogFormat::Plain, "info");
            let lifecycle = LifecycleConfig {
                drain_secs,
                ..LifecycleConfig::default()
            };
            let listeners = DevListeners {
                sidecar: listen,
                core: core_listen,
                admin,
            };
            dev(listeners, &data, seed.as_deref(), lifecycle, app).await
        }
        Command::Core { listen, data, seed } => {
            init_tracing(LogFormat::Plain, "info");
            core(listen, &data, seed.as_deref()).await
        }
        Command::Run { config } => {
            let config = load_config(&config)?;
            init_tracing(config.log.format, &config.log.level);
            production(&config).await
        }
        Command::CheckConfig { config } => {
            load_config(&config)?;
            println!("{}: ok", config.display());
            Ok(())
        }
        Command::Check(args) => crate::check::run(args).await,
        Command::Audit(args) => crate::audit_cmd::run(args).await,
    }
}

fn load_config(path: &Path) -> Result<Config, Failed> {
    authsidecar_config::load(path)
        .map_err(|e| Failed::Usage(format!("invalid config {}:\n{e}", path.display())))
}

fn init_tracing(format: LogFormat, default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal: in a log file they are
    // noise, and the plain format would write them into every request
    // span's fields as the span is created, logged or not.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // A second init (tests) is not an error worth stopping for.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Plain => builder.try_init(),
    };
}

/// Opens the store and applies the seed, or bootstraps the dev workspace.
fn open_store(data: &Path, seed: Option<&Path>) -> Result<(Store, Option<String>), Failed> {
    let store = Store::open(data).map_err(|e| {
        Failed::Runtime(format!("cannot open the store in {}: {e}", data.display()))
    })?;
    match seed {
        Some(path) => {
            let seed = Seed::load(path)
                .map_err(|e| Failed::Usage(format!("invalid seed {}:\n{e}", path.display())))?;
            store
                .apply_seed(&seed)
                .map_err(|e| Failed::Runtime(format!("cannot apply the seed: {e}")))?;
            Ok((store, None))
        }
        None => {
            let creds = store
                .dev_bootstrap(data)
                .map_err(|e| Failed::Runtime(format!("cannot create the dev workspace: {e}")))?;
            Ok((store, Some(creds.token)))
        }
    }
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, Failed> {
    TcpListener::bind(addr).await.map_err(|e| {
        Failed::Runtime(format!(
            "cannot listen on {addr} for the {what}: {e} (is another process using it? \
             pass --listen with a free address)"
        ))
    })
}

/// Where `dev`'s listeners bind.
struct DevListeners {
    sidecar: SocketAddr,
    core: SocketAddr,
    admin: Option<SocketAddr>,
}

async fn dev(
    listen: DevListeners,
    data: &Path,
    seed: Option<&Path>,
    lifecycle: LifecycleConfig,
    app: Option<String>,
) -> Result<(), Failed> {
    let signals = Signals::register();
    let (store, minted) = open_store(data, seed)?;
    let (core_addr, core) = spawn_core(store, listen.core).await?;
    let cert = authsidecar_server::tls::ensure_self_signed(data, &[])
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    // The sidecar calls the local core over HTTP with the production client.
    let mut config = Config::for_dev(
        listen.sidecar,
        cert.cert_file.clone(),
        cert.key_file.clone(),
        format!("http://{core_addr}"),
    );
    config.admin.listen = listen.admin;
    config.lifecycle = lifecycle;
    config.app = app.map(AppConfig::new);
    // Reloadable, like `run`: SIGHUP and file changes swap the certificate.
    let tls = authsidecar_server::tls::CertReloader::load(&cert.cert_file, &cert.key_file)
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let state = authsidecar_server::AppState::from_config(&config).map_err(|e| match e {
        // A bad --app URL is the caller's to fix (exit 64).
        StartError::App(e) => Failed::Usage(format!("--app: {e}")),
        e => Failed::Runtime(e.to_string()),
    })?;
    let listener = bind(listen.sidecar, "sidecar").await?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let sidecar = authsidecar_server::spawn(Arc::new(state), tls, listener)
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let admin = start_admin(&sidecar, &config).await?;
    print_banner(&Banner {
        addr,
        base_path: &config.scim.base_path,
        cert: &cert.cert_file,
        data,
        token: minted.as_deref(),
        core: core_addr,
        admin: admin.as_ref().map(AdminServer::local_addr),
        app: config.app.as_ref().map(|a| a.base_url.as_str()),
    });
    serve_until_signal(signals, sidecar, admin, &config.lifecycle).await;
    // The core stops last: every request the sidecar finished has reached it.
    stop_core(core).await;
    Ok(())
}

/// Starts the admin listener when `admin.listen` is set.
async fn start_admin(
    sidecar: &RunningSidecar,
    config: &Config,
) -> Result<Option<AdminServer>, Failed> {
    let Some(addr) = config.admin.listen else {
        return Ok(None);
    };
    admin::start(sidecar.state().clone(), addr)
        .await
        .map(Some)
        .map_err(|e| {
            Failed::Runtime(format!(
                "{e} (for the admin listener; is another process using it?)"
            ))
        })
}

/// Serves until SIGTERM or Ctrl-C, then drains and stops (see the module
/// docs); the admin listener stops last so `/readyz` answers throughout.
async fn serve_until_signal(
    mut signals: Signals,
    sidecar: RunningSidecar,
    admin: Option<AdminServer>,
    lifecycle: &LifecycleConfig,
) {
    signals.next().await;
    sidecar.state().readiness().start_draining();
    tracing::info!(
        drain_secs = lifecycle.drain_secs,
        "stopping: readiness is false, still serving while load balancers notice"
    );
    tokio::select! {
        () = tokio::time::sleep(lifecycle.drain()) => {}
        () = signals.next() => tracing::info!("second signal: drain cut short"),
    }
    tracing::info!(
        deadline_secs = lifecycle.shutdown_deadline_secs,
        "stopping: no longer accepting, finishing requests in flight"
    );
    sidecar.shutdown().await;
    if let Some(admin) = admin {
        admin.shutdown().await;
    }
    tracing::info!("stopped");
}

async fn spawn_core(
    store: Store,
    listen: SocketAddr,
) -> Result<(SocketAddr, authsidecar_local_core::ShutdownHandle), Failed> {
    authsidecar_local_core::spawn(store, listen)
        .await
        .map_err(|e| {
            Failed::Runtime(format!(
                "cannot listen on {listen} for the local core: {e} (is another process using it? \
             pass a free address)"
            ))
        })
}

async fn stop_core(core: authsidecar_local_core::ShutdownHandle) {
    if let Err(e) = core.shutdown().await {
        tracing::warn!(error = %e, "local core did not stop cleanly");
    }
}

/// What `dev` prints once its listeners are up.
struct Banner<'a> {
    addr: SocketAddr,
    base_path: &'a str,
    cert: &'a Path,
    data: &'a Path,
    token: Option<&'a str>,
    core: SocketAddr,
    admin: Option<SocketAddr>,
    app: Option<&'a str>,
}

fn print_banner(b: &Banner<'_>) {
    let Banner {
        addr,
        base_path,
        cert,
        data,
        token,
        core,
        admin,
        app,
    } = *b;
    let base = format!("https://{addr}{base_path}");
    println!("authsidecar dev is running (Ctrl-C stops it)");
    println!("  SCIM base URL : {base}");
    println!(
        "  certificate   : {} (self-signed; trust it with --cacert)",
        cert.display()
    );
    println!(
        "  local core    : http://{core} (data in {})",
        data.display()
    );
    if let Some(admin) = admin {
        println!("  admin         : http://{admin} (/healthz /readyz /metrics)");
    }
    if let Some(app) = app {
        println!("  Ignite app    : {app} (every other path, with a valid token)");
    }
    match token {
        Some(t) => {
            let file: PathBuf = data.join("dev-admin-token");
            println!("  admin token   : {t}");
            println!(
                "                  (workspace 'default', also in {})",
                file.display()
            );
            println!(
                "  try           : curl --cacert {} -H \"Authorization: Bearer $(cat {})\" \
                 '{base}/Users?filter=userName+eq+%22nobody%22'",
                cert.display(),
                file.display()
            );
        }
        None => println!("  tokens        : those of the seed file"),
    }
}

async fn core(listen: SocketAddr, data: &Path, seed: Option<&Path>) -> Result<(), Failed> {
    let mut signals = Signals::register();
    let (store, minted) = open_store(data, seed)?;
    let (addr, core) = spawn_core(store, listen).await?;
    println!("authsidecar core is listening on http://{addr}");
    if let Some(t) = minted {
        println!("  admin token : {t} (workspace 'default')");
    }
    signals.next().await;
    stop_core(core).await;
    Ok(())
}

async fn production(config: &Config) -> Result<(), Failed> {
    let signals = Signals::register();
    let sidecar = authsidecar_server::start(config)
        .await
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let admin = start_admin(&sidecar, config).await?;
    let admin_addr = admin
        .as_ref()
        .map_or_else(|| "off".to_owned(), |a| a.local_addr().to_string());
    tracing::info!(
        listen = %sidecar.local_addr(),
        admin = %admin_addr,
        scim = %config.scim.base_path,
        core = %config.core.base_url,
        app = %config.app.as_ref().map_or("off", |a| a.base_url.as_str()),
        cache_ttl_secs = config.auth.cache_ttl_secs,
        "authsidecar started"
    );
    serve_until_signal(signals, sidecar, admin, &config.lifecycle).await;
    Ok(())
}

/// SIGTERM and Ctrl-C (SIGINT). Registered before the listeners announce
/// themselves, so a signal sent right after the banner is not lost (and
/// does not kill the process with the default action).
struct Signals {
    term: Option<Signal>,
    interrupt: Option<Signal>,
}

impl Signals {
    fn register() -> Self {
        let register = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for {name}");
                None
            }
        };
        Self {
            term: register(SignalKind::terminate(), "SIGTERM"),
            interrupt: register(SignalKind::interrupt(), "SIGINT"),
        }
    }

    /// Waits for the next SIGTERM or SIGINT.
    async fn next(&mut self) {
        tokio::select! {
            () = next_of(&mut self.term) => {}
            () = next_of(&mut self.interrupt) => {}
        }
    }
}

async fn next_of(signal: &mut Option<Signal>) {
    match signal {
        Some(s) => {
            if s.recv().await.is_none() {
                // The signal driver is gone; no signal will come this way.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}
