//! The one error type of the local core, and the one place it becomes a
//! contract [`CoreError`].
//!
//! Every variant belongs to one class: the caller's fault (a 4xx code the
//! contract names), or the core's own fault (storage, IO, a lost task). The
//! second class is logged in full here and answered with a bare `internal`
//! or `unavailable`, so no path, SQL text or driver message reaches a client.

use std::path::PathBuf;

use authsidecar_core_api::{CoreError, ErrorCode};

use crate::seed::SeedProblems;

/// Why a store or server operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No user with this id in the caller's workspace.
    #[error("no user with id '{id}' in this workspace")]
    UserNotFound {
        /// The id that was asked for.
        id: String,
    },
    /// Another user of the workspace has this userName, ignoring case.
    #[error("another user of this workspace already has this userName (letter case is ignored)")]
    UserNameTaken,
    /// The write was based on a version that is no longer current.
    #[error("version {given} is not current (the user is at version {current}); re-read and retry")]
    VersionConflict {
        /// The version the write was based on.
        given: u64,
        /// The version the user is at now.
        current: u64,
    },
    /// A role that is not in the workspace's catalogue (exact spelling).
    #[error("role '{role}' is not in this workspace's role catalogue")]
    UnknownRole {
        /// The role that was asked for.
        role: String,
        /// The workspace's catalogue, in catalogue order.
        known: Vec<String>,
    },
    /// A request the core cannot accept; the message says what to fix.
    #[error("{0}")]
    InvalidRequest(String),
    /// A seed whose problems are listed with their key paths.
    #[error("the seed is invalid:\n{0}")]
    InvalidSeed(SeedProblems),
    /// A workspace the store does not have.
    #[error("no workspace '{0}'")]
    UnknownWorkspace(String),
    /// The database schema was written by a newer build.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// SQLite failed.
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file or directory could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A stored JSON column could not be read back (a corrupt row).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A store thread could not start or has stopped, a store job panicked,
    /// or a write was lost with the rest of its batch.
    #[error("storage task failed: {0}")]
    TaskFailed(String),
}

impl StoreError {
    /// The contract code this error is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::UserNotFound { .. } => ErrorCode::UserNotFound,
            StoreError::UserNameTaken => ErrorCode::UserNameTaken,
            StoreError::VersionConflict { .. } => ErrorCode::VersionConflict,
            StoreError::UnknownRole { .. } => ErrorCode::UnknownRole,
            StoreError::InvalidRequest(_)
            | StoreError::InvalidSeed(_)
            | StoreError::UnknownWorkspace(_) => ErrorCode::InvalidRequest,
            StoreError::Sqlite(e) if is_busy(e) => ErrorCode::Unavailable,
            StoreError::SchemaTooNew { .. }
            | StoreError::Sqlite(_)
            | StoreError::Io { .. }
            | StoreError::Corrupt(_)
            | StoreError::TaskFailed(_) => ErrorCode::Internal,
        }
    }

    /// The contract body for this error.
    ///
    /// Client errors carry their own message; internal ones are logged here
    /// with their detail and answered with a fixed sentence, because driver
    /// messages can quote SQL and file paths.
    pub fn to_core_error(&self) -> CoreError {
        let code = self.code();
        let message = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %self, "local core internal error");
                "internal error in the core; see its log".to_owned()
            }
            ErrorCode::Unavailable => {
                tracing::warn!(error = %self, "local core storage busy");
                "the core's storage is busy; retry shortly".to_owned()
            }
            _ => self.to_string(),
        };
        let known_roles = match self {
            StoreError::UnknownRole { known, .. } => Some(known.clone()),
            _ => None,
        };
        CoreError {
            code,
            message,
            known_roles,
        }
    }
}

/// Whether SQLite gave up waiting for a lock held by another connection.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
mod tests {
    use super::*;

    #[test]
    fn unknown_role_carries_known_roles() {
        let e = StoreError::UnknownRole {
            role: "Root".into(),
            known: vec!["Admin".into(), "Viewer".into()],
        };
        let body = e.to_core_error();
        assert_eq!(body.code, ErrorCode::UnknownRole);
        assert_eq!(
            body.message,
            "role 'Root' is not in this workspace's role catalogue"
        );
        assert_eq!(
            body.known_roles,
            Some(vec!["Admin".to_owned(), "Viewer".to_owned()])
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let e = StoreError::Io {
            path: PathBuf::from("/secret/place/core.sqlite3"),
            source: std::io::Error::other("disk on fire"),
        };
        let body = e.to_core_error();
        assert_eq!(body.code, ErrorCode::Internal);
        assert_eq!(body.message, "internal error in the core; see its log");
        assert_eq!(body.known_roles, None);
    }

    #[test]
    fn version_conflict_names_both_versions() {
        let e = StoreError::VersionConflict {
            given: 1,
            current: 3,
        };
        assert_eq!(e.code().status(), 409);
        assert_eq!(
            e.to_core_error().message,
            "version 1 is not current (the user is at version 3); re-read and retry"
        );
    }
}
