//! What is wrong with a config, and where.
//!
//! Every check in this crate reports a [`Problem`]: a key path such as
//! `core.connect_timeout_ms` and a message that says what is wrong and how to
//! fix it. A [`ConfigError`] carries all of them, so an operator fixes the
//! whole file in one pass instead of one typo per restart.

use std::borrow::Cow;
use std::fmt;

/// The path of problems that belong to the document as a whole rather than to
/// a key (a YAML syntax error before the first key, a document that is a list).
pub const ROOT_PATH: &str = "<root>";

/// One thing wrong with the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path (`auth.negative_ttl_secs`), the config file's path for
    /// problems reading it, or [`ROOT_PATH`].
    pub path: String,
    /// What is wrong and how to fix it, in lowercase.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a config file. The binary prints it and exits with
/// code 64 (`EX_USAGE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(.problems))]
pub struct ConfigError {
    /// The problems, in the order of the schema; never empty when returned by
    /// this crate.
    pub problems: Vec<Problem>,
}

impl From<Vec<Problem>> for ConfigError {
    fn from(problems: Vec<Problem>) -> Self {
        Self { problems }
    }
}

/// Displays problems one per line, without a trailing newline.
struct Lines<'a>(&'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Appends `key` to the dotted path `parent`.
///
/// Keys that are not plain identifiers (an Entra app-role value such as
/// `Ignite.Admin` or `Read Only`) are quoted, so the path stays unambiguous.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let key = quote_key(key);
    if parent.is_empty() {
        key.into_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn quote_key(key: &str) -> Cow<'_, str> {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(format!("\"{}\"", key.escape_debug()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_displays_path_then_message() {
        let problem = Problem::new("tls.cert_file", "/x/tls.crt does not exist");

        assert_eq!(
            problem.to_string(),
            "tls.cert_file: /x/tls.crt does not exist"
        );
    }

    #[test]
    fn config_error_lists_one_problem_per_line() {
        let error = ConfigError::from(vec![
            Problem::new("tls", "is required"),
            Problem::new("core.base_url", "is required"),
        ]);

        assert_eq!(
            error.to_string(),
            "tls: is required\ncore.base_url: is required"
        );
    }

    #[test]
    fn join_leaves_plain_keys_bare() {
        assert_eq!(join("", "core"), "core");
        assert_eq!(join("core", "base_url"), "core.base_url");
        assert_eq!(
            join("roles.mapping", "Buyer-EU_2"),
            "roles.mapping.Buyer-EU_2"
        );
    }

    #[test]
    fn join_quotes_keys_that_would_be_ambiguous() {
        assert_eq!(
            join("roles.mapping", "Ignite.Admin"),
            "roles.mapping.\"Ignite.Admin\""
        );
        assert_eq!(
            join("roles.mapping", "Read Only"),
            "roles.mapping.\"Read Only\""
        );
        assert_eq!(join("roles.mapping", ""), "roles.mapping.\"\"");
        assert_eq!(join("roles.mapping", "a\"b"), "roles.mapping.\"a\\\"b\"");
    }
}
