//! The seed file: workspaces, their role catalogues and their API tokens.
//!
//! Phases: parse the YAML (unknown keys rejected), then [`Seed::validate`]
//! every rule and report *all* problems at once, each with its key path, so
//! an operator fixes the file in one pass. [`crate::Store::apply_seed`]
//! writes a valid seed.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Shortest accepted token secret, in characters.
pub const MIN_SECRET_CHARS: usize = 8;
/// Longest accepted role or token name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// A seed file: the workspaces to create and the tokens to install.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Workspaces, each with its roles and tokens.
    pub workspaces: Vec<SeedWorkspace>,
}

/// One workspace of a [`Seed`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWorkspace {
    /// Workspace id, `[a-z0-9][a-z0-9_-]{0,62}`.
    pub id: String,
    /// Role catalogue in canonical spelling; roles are added, never removed.
    pub roles: Vec<String>,
    /// API tokens of the workspace.
    #[serde(default)]
    pub tokens: Vec<SeedToken>,
}

/// One API token of a [`SeedWorkspace`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedToken {
    /// Name, unique within the workspace; the token's identity across
    /// secret rotations.
    pub name: String,
    /// The bearer secret. Only its SHA-256 is stored.
    pub secret: String,
    /// One of the workspace's roles, exact spelling.
    pub role: String,
}

// Hand-written so that a seed in a log or a panic message shows no secret.
impl fmt::Debug for SeedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedToken")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

/// One rule a seed breaks, at one key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProblem {
    /// Where, e.g. `workspaces[1].tokens[0].role`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for SeedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem of a seed, displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProblems(pub Vec<SeedProblem>);

impl fmt::Display for SeedProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The seed file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The text is not YAML of the seed's shape (the message has line and column).
    #[error("seed is not a valid seed document: {0}")]
    Parse(String),
    /// The document breaks one or more rules.
    #[error("the seed is invalid:\n{0}")]
    Invalid(SeedProblems),
}

impl Seed {
    /// Parses and validates a seed document.
    pub fn from_yaml_str(yaml: &str) -> Result<Seed, SeedError> {
        // No source snippet in errors: the quoted line could be a secret.
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        let seed: Seed = serde_saphyr::from_str_with_options(yaml, options)
            .map_err(|e| SeedError::Parse(e.to_string()))?;
        seed.validate().map_err(SeedError::Invalid)?;
        Ok(seed)
    }

    /// Reads, parses and validates a seed file.
    pub fn load(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_yaml_str(&text)
    }

    /// Checks every rule and returns all problems, in document order.
    pub fn validate(&self) -> Result<(), SeedProblems> {
        let mut problems = Vec::new();
        let mut report = |path: String, message: String| {
            problems.push(SeedProblem { path, message });
        };
        let mut workspace_ids: HashMap<&str, usize> = HashMap::new();
        // A secret resolves to exactly one token, so secrets are unique seed-wide.
        let mut secrets: HashMap<&str, String> = HashMap::new();

        for (w, ws) in self.workspaces.iter().enumerate() {
            let at = format!("workspaces[{w}]");
            if !is_valid_workspace_id(&ws.id) {
                report(
                    format!("{at}.id"),
                    format!(
                        "'{}' is not a workspace id ([a-z0-9][a-z0-9_-]{{0,62}})",
                        ws.id
                    ),
                );
            } else if let Some(first) = workspace_ids.insert(&ws.id, w) {
                report(
                    format!("{at}.id"),
                    format!(
                        "workspace '{}' is already defined at workspaces[{first}]",
                        ws.id
                    ),
                );
            }
            check_roles(&at, &ws.roles, &mut report);

            let mut names: HashMap<&str, usize> = HashMap::new();
            for (t, token) in ws.tokens.iter().enumerate() {
                let at = format!("{at}.tokens[{t}]");
                if let Some(message) = name_problem(&token.name) {
                    report(format!("{at}.name"), message);
                } else if let Some(first) = names.insert(&token.name, t) {
                    report(
                        format!("{at}.name"),
                        format!(
                            "token name '{}' is already used by tokens[{first}]",
                            token.name
                        ),
                    );
                }
                if token.secret.chars().count() < MIN_SECRET_CHARS {
                    report(
                        format!("{at}.secret"),
                        format!("secret is shorter than {MIN_SECRET_CHARS} characters"),
                    );
                } else if let Some(first) = secrets.insert(&token.secret, at.clone()) {
                    report(
                        format!("{at}.secret"),
                        format!("secret is the same as {first}'s; every token needs its own"),
                    );
                }
                if !ws.roles.contains(&token.role) {
                    report(
                        format!("{at}.role"),
                        format!(
                            "role '{}' is not one of the workspace's roles [{}]",
                            token.role,
                            ws.roles.join(", ")
                        ),
                    );
                }
            }
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(SeedProblems(problems))
        }
    }
}

/// Roles: a non-empty list of distinct names. Names differing only in case
/// count as duplicates, because the sidecar maps role names case-insensitively.
fn check_roles(at: &str, roles: &[String], report: &mut impl FnMut(String, String)) {
    if roles.is_empty() {
        report(
            format!("{at}.roles"),
            "a workspace needs at least one role".to_owned(),
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (r, role) in roles.iter().enumerate() {
        if let Some(message) = name_problem(role) {
            report(format!("{at}.roles[{r}]"), message);
        } else if let Some(first) = seen.insert(role.to_lowercase(), r) {
            report(
                format!("{at}.roles[{r}]"),
                format!("role '{role}' duplicates roles[{first}] (letter case is ignored)"),
            );
        }
    }
}

/// Role and token names: 1 to 64 characters, no surrounding or control whitespace.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!(
            "'{name}' is longer than {MAX_NAME_CHARS} characters"
        ))
    } else if name.trim() != name || name.chars().any(char::is_control) {
        Some(format!(
            "'{name}' has surrounding spaces or control characters"
        ))
    } else {
        None
    }
}

/// `[a-z0-9][a-z0-9_-]{0,62}`.
pub(crate) fn is_valid_workspace_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    bytes.len() <= 63
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
workspaces:
  - id: acme
    roles: [Admin, Buyer, Approver, Viewer]
    tokens:
      - { name: entra, secret: "ci-acme-admin", role: Admin }
      - { name: reports, secret: "ci-acme-viewer", role: Viewer }
  - id: globex
    roles: [Admin, Buyer]
    tokens:
      - { name: entra, secret: "ci-globex-admin", role: Admin }
"#;

    fn problems_of(yaml: &str) -> Vec<String> {
        match Seed::from_yaml_str(yaml) {
            Err(SeedError::Invalid(p)) => p.0.iter().map(ToString::to_string).collect(),
            other => vec![format!("unexpected: {other:?}")],
        }
    }

    #[test]
    fn example_seed_parses() {
        let seed = Seed::from_yaml_str(EXAMPLE).unwrap();
        assert_eq!(seed.workspaces.len(), 2);
        assert_eq!(seed.workspaces[0].id, "acme");
        assert_eq!(
            seed.workspaces[0].roles,
            ["Admin", "Buyer", "Approver", "Viewer"]
        );
        assert_eq!(seed.workspaces[0].tokens[1].name, "reports");
        assert_eq!(seed.workspaces[0].tokens[1].secret, "ci-acme-viewer");
        assert_eq!(seed.workspaces[1].tokens[0].role, "Admin");
    }

    #[test]
    fn token_role_outside_catalogue_is_reported_with_key_path() {
        let yaml = EXAMPLE.replace(
            "{ name: entra, secret: \"ci-globex-admin\", role: Admin }",
            "{ name: entra, secret: \"ci-globex-admin\", role: Root }",
        );
        assert_eq!(
            problems_of(&yaml),
            [
                "workspaces[1].tokens[0].role: role 'Root' is not one of the workspace's roles \
              [Admin, Buyer]"
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let yaml = r#"
workspaces:
  - id: Acme
    roles: [Admin, admin, ""]
    tokens:
      - { name: entra, secret: short, role: Admin }
      - { name: entra, secret: "long-enough", role: Viewer }
  - id: globex
    roles: []
    tokens:
      - { name: ci, secret: "long-enough", role: Admin }
  - id: globex
    roles: [Admin]
"#;
        assert_eq!(
            problems_of(yaml),
            [
                "workspaces[0].id: 'Acme' is not a workspace id ([a-z0-9][a-z0-9_-]{0,62})",
                "workspaces[0].roles[1]: role 'admin' duplicates roles[0] (letter case is ignored)",
                "workspaces[0].roles[2]: must not be empty",
                "workspaces[0].tokens[0].secret: secret is shorter than 8 characters",
                "workspaces[0].tokens[1].name: token name 'entra' is already used by tokens[0]",
                "workspaces[0].tokens[1].role: role 'Viewer' is not one of the workspace's roles \
                 [Admin, admin, ]",
                "workspaces[1].roles: a workspace needs at least one role",
                "workspaces[1].tokens[0].secret: secret is the same as workspaces[0].tokens[1]'s; \
                 every token needs its own",
                "workspaces[1].tokens[0].role: role 'Admin' is not one of the workspace's roles []",
                "workspaces[2].id: workspace 'globex' is already defined at workspaces[1]",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_rejected_without_quoting_the_source() {
        let yaml = "workspaces:\n  - id: acme\n    roles: [Admin]\n    tokns: []\n";
        let Err(SeedError::Parse(message)) = Seed::from_yaml_str(yaml) else {
            panic!("expected a parse error");
        };
        assert_eq!(
            message,
            "unknown field `tokns`, expected one of id, roles, tokens at line 4, column 5"
        );
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let seed = Seed::from_yaml_str(EXAMPLE).unwrap();
        let shown = format!("{seed:?}");
        assert!(!shown.contains("ci-acme-admin"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn workspace_id_grammar() {
        assert!(is_valid_workspace_id("a"));
        assert!(is_valid_workspace_id("0acme_eu-1"));
        assert!(is_valid_workspace_id(&"a".repeat(63)));
        assert!(!is_valid_workspace_id(&"a".repeat(64)));
        assert!(!is_valid_workspace_id(""));
        assert!(!is_valid_workspace_id("-acme"));
        assert!(!is_valid_workspace_id("acme.eu"));
    }

    #[test]
    fn load_reports_missing_file_with_its_path() {
        let path = std::env::temp_dir().join("local-core-no-such-seed.yaml");
        let err = Seed::load(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read seed file {}: No such file or directory (os error 2)",
                path.display()
            )
        );
    }
}
