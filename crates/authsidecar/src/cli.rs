//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use authsidecar_config::LifecycleConfig;
use clap::{Parser, Subcommand};

/// authsidecar: the SCIM 2.0 endpoint Microsoft Entra ID provisions Ignite
/// users into, and the auth sidecar in front of the Ignite app.
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the sidecar and a local core in one process, for trying it out and for tests.
    Dev {
        /// Where the sidecar listens (HTTPS).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Where the local core keeps its database, certificate and dev token.
        #[arg(long, default_value = "authsidecar-data")]
        data: PathBuf,
        /// Workspaces and tokens to create (YAML); without it a `default`
        /// workspace and an admin token are created.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Where the local core listens (plain HTTP, loopback only).
        #[arg(long, default_value = "127.0.0.1:0")]
        core_listen: SocketAddr,
        /// Where the admin listener serves /healthz, /readyz and /metrics
        /// (plain HTTP); none without it.
        #[arg(long, value_name = "ADDR")]
        admin: Option<SocketAddr>,
        /// After SIGTERM or Ctrl-C, how long to keep serving with /readyz
        /// answering 503 before the listener closes (`lifecycle.drain_secs`).
        #[arg(long, value_name = "N", default_value_t = LifecycleConfig::default().drain_secs)]
        drain_secs: u64,
        /// The Ignite app (plain HTTP, e.g. http://127.0.0.1:3000) that every
        /// non-SCIM request is passed to once its token is valid (`app.base_url`,
        /// other `app` keys at their defaults); without it those requests get 404.
        #[arg(long, value_name = "URL")]
        app: Option<String>,
    },
    /// Run the local core alone: the upstream for `run` on one machine.
    Core {
        /// Where the core listens (plain HTTP).
        #[arg(long, default_value = "127.0.0.1:7070")]
        listen: SocketAddr,
        /// Where the core keeps its database.
        #[arg(long, default_value = "authsidecar-data")]
        data: PathBuf,
        /// Workspaces and tokens to create (YAML).
        #[arg(long)]
        seed: Option<PathBuf>,
    },
    /// Run the sidecar in production from a config file.
    Run {
        /// The YAML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a config file and exit: 0 when valid, 64 with every problem listed otherwise.
    CheckConfig {
        /// The YAML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Check that a deployment is ready for Entra: one line per check (ok,
    /// warn, FAIL with a hint); exits non-zero when any check fails.
    Check(CheckArgs),
    /// List the provisioning audit trail of the token's workspace, newest
    /// first: one line per create, replace, patch, delete or role change.
    Audit(AuditArgs),
}

/// Arguments of `authsidecar audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// The tenant URL as pasted into Entra (the SCIM base URL), e.g.
    /// https://authsidecar.example.com/api/v1/scim/v2?aadOptscim062020
    #[arg(long)]
    pub(crate) url: String,
    /// A file holding an Admin token of the workspace.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: PathBuf,
    /// Only events about this user id.
    #[arg(long, value_name = "ID")]
    pub(crate) user: Option<String>,
    /// Only events at or after this RFC 3339 time, e.g. 2026-12-04T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// Only events of this operation (create, replace, patch, delete, roles)
    /// or kind (disable, enable, rename, role_change).
    #[arg(long, value_name = "OP")]
    pub(crate) op: Option<String>,
    /// Do not verify the server certificate (prints a warning).
    #[arg(long, conflicts_with = "cacert")]
    pub(crate) insecure: bool,
    /// Trust only the CA certificates in this PEM file (for `authsidecar
    /// dev`: its dev-cert.pem).
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
}

/// Arguments of `authsidecar check`: `--config`, `--url` or both.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The deployment's YAML config: checks the file, the core, the
    /// certificate and key.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The tenant URL as pasted into Entra, e.g.
    /// https://authsidecar.example.com/api/v1/scim/v2?aadOptscim062020
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// A file holding the secret token Entra sends; runs Entra's Test
    /// Connection probe against --url.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// Do not verify the server certificate (prints a warning).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Trust only the CA certificates in this PEM file (for `authsidecar
    /// dev`: its dev-cert.pem).
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn dev_takes_an_app_url_and_documents_it() {
        let url = "http://127.0.0.1:3000";
        let cli = Cli::try_parse_from(["authsidecar", "dev", "--app", url]).unwrap();
        match cli.command {
            Command::Dev { app, .. } => assert_eq!(app.as_deref(), Some(url)),
            other => panic!("{other:?}"),
        }
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("dev")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("--app <URL>"), "{help}");
        assert!(help.contains("non-SCIM request"), "{help}");
    }
}
