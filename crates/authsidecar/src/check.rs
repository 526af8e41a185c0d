//! `authsidecar check`: is this deployment ready for Entra?
//!
//! Prints one line per check (`ok`, `warn` or `FAIL`, with a hint on how to
//! fix a warning or failure) and fails when any check fails. The phases:
//!
//! 1. the arguments: `--config`, `--url` or both; the token and CA files;
//! 2. with `--url`: the tenant URL itself;
//! 3. with `--config`: the file loads; the core answers like the Ignite core;
//!    the certificate and key belong together; the leaf's expiry and names
//!    (covering the URL's host, given one); the chain order;
//! 4. with `--url`: Entra's Test Connection probe with the token, then the
//!    discovery documents.
//!
//! It only reads: no user is created or changed, and the token is never
//! printed.

mod cert;
mod deployment;
mod endpoint;
mod net;
mod report;

use std::fmt;
use std::path::Path;

use crate::cli::CheckArgs;
use crate::modes::Failed;

use self::endpoint::Trust;
use self::report::Report;

/// The secret token Entra sends, read from `--token-file`.
pub(crate) struct Token(String);

impl Token {
    /// The secret, for the `Authorization` header only.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Runs the checks; `Err(Failed::Runtime)` when any failed.
pub(crate) async fn run(args: CheckArgs) -> Result<(), Failed> {
    usage(&args)?;
    let token = args.token_file.as_deref().map(read_token).transpose()?;
    let trust = match (&args.cacert, args.insecure) {
        (Some(file), _) => Trust::Roots(read_cacert(file)?),
        (None, true) => Trust::Insecure,
        (None, false) => Trust::System,
    };

    let mut report = Report::default();
    let target = args.url.as_deref().and_then(|url| {
        let (outcome, target) = endpoint::target(url);
        report.add("url", outcome);
        target
    });
    if let Some(config) = &args.config {
        let url = target.as_ref().map(|t| (&t.host, t.path.as_str()));
        deployment::check(&mut report, config, url).await;
    }
    if let Some(target) = &target {
        endpoint::check(&mut report, target, token.as_ref(), &trust).await;
    }

    println!("{}", report.summary());
    match report.failures() {
        0 => Ok(()),
        1 => Err(Failed::Runtime("1 check failed".to_owned())),
        n => Err(Failed::Runtime(format!("{n} checks failed"))),
    }
}

/// Combinations of arguments that cannot work (exit 64).
fn usage(args: &CheckArgs) -> Result<(), Failed> {
    let problem = if args.config.is_none() && args.url.is_none() {
        Some(
            "check needs --config FILE (the deployment's config), --url URL (the tenant URL \
             as pasted into Entra), or both",
        )
    } else if args.url.is_none() && (args.token_file.is_some() || args.insecure) {
        Some("--token-file and --insecure apply to --url; pass the tenant URL with --url")
    } else if args.url.is_none() && args.cacert.is_some() {
        Some("--cacert applies to --url; pass the tenant URL with --url")
    } else if args.insecure && args.cacert.is_some() {
        Some("--insecure and --cacert exclude each other; pass one of them")
    } else {
        None
    };
    match problem {
        Some(p) => Err(Failed::Usage(p.to_owned())),
        None => Ok(()),
    }
}

fn read_token(path: &Path) -> Result<Token, Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failed::Usage(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Failed::Usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(Token(secret.to_owned()))
}

fn read_cacert(path: &Path) -> Result<Vec<reqwest::Certificate>, Failed> {
    let pem = std::fs::read(path)
        .map_err(|e| Failed::Usage(format!("cannot read the CA file {}: {e}", path.display())))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(Failed::Usage(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        ))),
        Err(e) => Err(Failed::Usage(format!(
            "the CA file {} is not PEM: {e}",
            path.display()
        ))),
    }
}
