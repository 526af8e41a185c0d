//! The `authsidecar` binary: parses the command line, sets up tracing and
//! the crypto provider, and runs one of the modes until a signal.

mod audit_cmd;
mod check;
mod cli;
mod modes;

use std::process::ExitCode;

use clap::Parser;

/// BSD `EX_USAGE`: the configuration or the command line is wrong.
const EXIT_USAGE: u8 = 64;
/// BSD `EX_SOFTWARE`-like: the process could not run (port taken, disk error).
const EXIT_FAILURE: u8 = 1;

/// mimalloc instead of glibc malloc: under load, glibc's malloc and free were about an eighth
/// of the sidecar's and the local core's CPU (docs/performance.md); mimalloc's thread-local
/// free lists cost a fraction of that for the many small, short-lived allocations of a request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    authsidecar_server::tls::install_default_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("authsidecar: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(modes::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(modes::Failed::Usage(message)) => {
            eprintln!("authsidecar: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(modes::Failed::Runtime(message)) => {
            eprintln!("authsidecar: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
