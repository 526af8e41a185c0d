//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

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
}
