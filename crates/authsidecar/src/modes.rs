//! The modes: `dev`, `core`, `run`, `check-config`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use authsidecar_config::{Config, LogFormat};
use authsidecar_local_core::{Seed, Store};
use tokio::net::TcpListener;

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
        } => {
            init_tracing(LogFormat::Plain, "info");
            dev(listen, &data, seed.as_deref(), core_listen).await
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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

async fn dev(
    listen: SocketAddr,
    data: &Path,
    seed: Option<&Path>,
    core_listen: SocketAddr,
) -> Result<(), Failed> {
    let (store, minted) = open_store(data, seed)?;
    let (core_addr, core) = spawn_core(store, core_listen).await?;
    let cert = authsidecar_server::tls::ensure_self_signed(data, &[])
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    // The sidecar calls the local core over HTTP with the production client.
    let config = Config::for_dev(
        listen,
        cert.cert_file.clone(),
        cert.key_file.clone(),
        format!("http://{core_addr}"),
    );
    let tls = authsidecar_server::tls::server_config(&cert.cert_file, &cert.key_file)
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let state = authsidecar_server::AppState::from_config(&config)
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let listener = bind(listen, "sidecar").await?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    let sidecar = authsidecar_server::spawn(Arc::new(state), tls, listener)
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    print_banner(
        addr,
        &config.scim.base_path,
        &cert.cert_file,
        data,
        minted.as_deref(),
        core_addr,
    );
    wait_for_signal().await;
    tracing::info!("stopping");
    sidecar.shutdown().await;
    stop_core(core).await;
    Ok(())
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

fn print_banner(
    addr: SocketAddr,
    base_path: &str,
    cert: &Path,
    data: &Path,
    token: Option<&str>,
    core: SocketAddr,
) {
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
    let (store, minted) = open_store(data, seed)?;
    let (addr, core) = spawn_core(store, listen).await?;
    println!("authsidecar core is listening on http://{addr}");
    if let Some(t) = minted {
        println!("  admin token : {t} (workspace 'default')");
    }
    wait_for_signal().await;
    stop_core(core).await;
    Ok(())
}

async fn production(config: &Config) -> Result<(), Failed> {
    let sidecar = authsidecar_server::start(config)
        .await
        .map_err(|e| Failed::Runtime(e.to_string()))?;
    tracing::info!(
        listen = %sidecar.local_addr(),
        scim = %config.scim.base_path,
        core = %config.core.base_url,
        cache_ttl_secs = config.auth.cache_ttl_secs,
        "authsidecar started"
    );
    wait_for_signal().await;
    tracing::info!("stopping");
    sidecar.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
