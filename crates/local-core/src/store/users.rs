//! Users: create, read, look up, replace, set roles, delete.
//!
//! Each write runs on the writer thread as one job of the batch's
//! transaction and checks the version inside it (`UPDATE … WHERE id = ? AND
//! version = ?`), so two writers based on the same version cannot both win,
//! not even in one batch, and a uniqueness failure rolls back the whole
//! write, e-mail index rows included. The write's audit event is inserted by
//! that same job: if it cannot be, nothing of the write is kept.
//!
//! Each call is built as a job: what needs no database (field checks, the
//! audit operation) is checked on the caller's thread, and the rest is the
//! work the store thread runs. Blocking and async callers share the jobs.

use std::collections::BTreeSet;

use authsidecar_core_api::{AuditOperation, RolesWrite, User, UserPage, UserQuery, UserWrite};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::audit::{self, AuditContext};
use super::tokens::role_names;
use super::user_list::list;
use super::worker::Work;
use super::{Store, now_rfc3339};
use crate::StoreError;

/// Longest accepted `user_name`, `external_id` or e-mail, in characters.
pub const MAX_FIELD_CHARS: usize = 256;

/// Columns in the order [`user_from_row`] reads them; a macro so that every
/// statement below is one `&'static str`, never formatted per request.
macro_rules! columns {
    () => {
        "id, user_name, external_id, active, emails, roles, profile, version, created, \
         last_modified"
    };
}
pub(super) use columns;

const INSERT: &str = concat!(
    "INSERT INTO users (workspace, user_name, user_name_lower, external_id, active, emails, \
         roles, profile, version, created, last_modified, id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9, ?10)
     RETURNING seq, ",
    columns!()
);

/// One user of a workspace, by id.
pub(super) const SELECT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM users WHERE workspace = ?1 AND id = ?2"
);

/// A replace of every field, if the version is current.
pub(super) const REPLACE: &str = concat!(
    "UPDATE users SET user_name = ?1, user_name_lower = ?2, external_id = ?3, active = ?4,
         emails = ?5, roles = ?6, profile = ?7, version = version + 1, last_modified = ?8
     WHERE workspace = ?9 AND id = ?10 AND version = ?11
     RETURNING seq, ",
    columns!()
);

/// A role change, if the version is current.
pub(super) const SET_ROLES: &str = concat!(
    "UPDATE users SET roles = ?1, version = version + 1, last_modified = ?2
     WHERE workspace = ?3 AND id = ?4 AND version = ?5
     RETURNING ",
    columns!()
);

/// The version of one user, to tell a stale write from a missing user.
pub(super) const VERSION_OF: &str = "SELECT version FROM users WHERE workspace = ?1 AND id = ?2";

/// A delete that returns what the user held.
pub(super) const DELETE: &str = concat!(
    "DELETE FROM users WHERE workspace = ?1 AND id = ?2 RETURNING ",
    columns!()
);

/// The blocking API (CLI, seeding, tests): each call waits for its answer.
impl Store {
    /// Creates a user at version 1 with a fresh, time-ordered UUID v7 id
    /// in `ctx.workspace`, and records a `create` event.
    pub fn create_user(&self, ctx: &AuditContext, write: &UserWrite) -> Result<User, StoreError> {
        self.write(create(ctx.clone(), write.clone())?)
    }

    /// The user `id` of `workspace`; users of other workspaces are not found.
    pub fn get_user(&self, workspace: &str, id: &str) -> Result<User, StoreError> {
        self.read(get(workspace.to_owned(), id.to_owned()))
    }

    /// Users matching every given filter, in creation order, paged.
    /// `limit` is clamped to [`MAX_LIST_LIMIT`]; 0 returns only the total.
    pub fn list_users(&self, workspace: &str, query: &UserQuery) -> Result<UserPage, StoreError> {
        self.read(list(workspace.to_owned(), query.clone()))
    }

    /// Replaces every field of user `id`; `write.version` must be current.
    /// The result is at version + 1 with a new `last_modified`; `id` and
    /// `created` never change. Records a `replace` event, or `patch` when
    /// `ctx.operation` says so.
    pub fn replace_user(
        &self,
        ctx: &AuditContext,
        id: &str,
        write: &UserWrite,
    ) -> Result<User, StoreError> {
        self.write(replace(ctx.clone(), id.to_owned(), write.clone())?)
    }

    /// Sets the complete role list of user `id`; `write.version` must be
    /// current. Records a `roles` event.
    pub fn set_roles(
        &self,
        ctx: &AuditContext,
        id: &str,
        write: &RolesWrite,
    ) -> Result<User, StoreError> {
        self.write(set_roles(ctx.clone(), id.to_owned(), write.clone())?)
    }

    /// Deletes user `id` and its e-mail index rows, and records a `delete`
    /// event listing what the user held.
    pub fn delete_user(&self, ctx: &AuditContext, id: &str) -> Result<(), StoreError> {
        self.write(delete(ctx.clone(), id.to_owned())?)
    }
}

/// The same calls for the HTTP server: arguments by value, answers awaited.
impl Store {
    /// [`Store::create_user`] for async callers.
    pub(crate) async fn create_user_async(
        &self,
        ctx: AuditContext,
        write: UserWrite,
    ) -> Result<User, StoreError> {
        self.write_async(create(ctx, write)?).await
    }

    /// [`Store::get_user`] for async callers.
    pub(crate) async fn get_user_async(
        &self,
        workspace: String,
        id: String,
    ) -> Result<User, StoreError> {
        self.read_async(get(workspace, id)).await
    }

    /// [`Store::list_users`] for async callers.
    pub(crate) async fn list_users_async(
        &self,
        workspace: String,
        query: UserQuery,
    ) -> Result<UserPage, StoreError> {
        self.read_async(list(workspace, query)).await
    }

    /// [`Store::replace_user`] for async callers.
    pub(crate) async fn replace_user_async(
        &self,
        ctx: AuditContext,
        id: String,
        write: UserWrite,
    ) -> Result<User, StoreError> {
        self.write_async(replace(ctx, id, write)?).await
    }

    /// [`Store::set_roles`] for async callers.
    pub(crate) async fn set_roles_async(
        &self,
        ctx: AuditContext,
        id: String,
        write: RolesWrite,
    ) -> Result<User, StoreError> {
        self.write_async(set_roles(ctx, id, write)?).await
    }

    /// [`Store::delete_user`] for async callers.
    pub(crate) async fn delete_user_async(
        &self,
        ctx: AuditContext,
        id: String,
    ) -> Result<(), StoreError> {
        self.write_async(delete(ctx, id)?).await
    }
}

/// A create at version 1; the work inserts the user, its e-mail index rows
/// and its `create` event.
pub(super) fn create(ctx: AuditContext, write: UserWrite) -> Result<impl Work<User>, StoreError> {
    let operation = ctx.operation(AuditOperation::Create, &[])?;
    let fields = Fields::check(&write)?;
    Ok(move |conn: &Connection| {
        let workspace = ctx.workspace.as_str();
        let roles = canonical_roles(conn, workspace, &write.roles)?;
        let now = now_rfc3339();
        // Time-ordered, so the UNIQUE index on `id` grows at its end
        // instead of taking a random page into every create's commit.
        let id = uuid::Uuid::now_v7().to_string();
        let (seq, user) = conn
            .prepare_cached(INSERT)?
            .query_row(
                params![
                    workspace,
                    write.user_name,
                    fields.user_name_lower,
                    write.external_id,
                    write.active,
                    fields.emails_json,
                    json_text(&roles),
                    fields.profile_json,
                    now,
                    id,
                ],
                |row| Ok((row.get::<_, i64>(0)?, user_from_row(row, 1)?)),
            )
            .map_err(name_taken_or)?;
        index_emails(conn, seq, workspace, &fields.email_lowers)?;
        audit::record(conn, &ctx, operation, &user.id, (None, Some(&user)), &now)?;
        Ok(user)
    })
}

/// A look-up of user `id` in `workspace`.
fn get(workspace: String, id: String) -> impl Work<User> {
    move |conn: &Connection| current(conn, &workspace, &id)?.ok_or_else(|| not_found(&id))
}

/// A replace based on `write.version`; the work updates the user, swaps
/// its e-mail index rows and records a `replace` or `patch` event.
pub(super) fn replace(
    ctx: AuditContext,
    id: String,
    write: UserWrite,
) -> Result<impl Work<User>, StoreError> {
    let operation = ctx.operation(AuditOperation::Replace, &[AuditOperation::Patch])?;
    let Some(version) = write.version else {
        return Err(StoreError::InvalidRequest(
            "version is required when replacing a user".to_owned(),
        ));
    };
    let fields = Fields::check(&write)?;
    Ok(move |conn: &Connection| {
        let workspace = ctx.workspace.as_str();
        let roles = canonical_roles(conn, workspace, &write.roles)?;
        let before = current(conn, workspace, &id)?;
        let now = now_rfc3339();
        let updated = conn
            .prepare_cached(REPLACE)?
            .query_row(
                params![
                    write.user_name,
                    fields.user_name_lower,
                    write.external_id,
                    write.active,
                    fields.emails_json,
                    json_text(&roles),
                    fields.profile_json,
                    now,
                    workspace,
                    id,
                    db_version(version),
                ],
                |row| Ok((row.get::<_, i64>(0)?, user_from_row(row, 1)?)),
            )
            .optional()
            .map_err(name_taken_or)?;
        let Some((seq, user)) = updated else {
            return Err(missing_or_conflict(conn, workspace, &id, version));
        };
        conn.prepare_cached("DELETE FROM user_emails WHERE user_seq = ?1")?
            .execute([seq])?;
        index_emails(conn, seq, workspace, &fields.email_lowers)?;
        audit::record(
            conn,
            &ctx,
            operation,
            &id,
            (before.as_ref(), Some(&user)),
            &now,
        )?;
        Ok(user)
    })
}

/// A role change based on `write.version`, with its `roles` event.
fn set_roles(
    ctx: AuditContext,
    id: String,
    write: RolesWrite,
) -> Result<impl Work<User>, StoreError> {
    let operation = ctx.operation(AuditOperation::Roles, &[])?;
    Ok(move |conn: &Connection| {
        let workspace = ctx.workspace.as_str();
        let roles = canonical_roles(conn, workspace, &write.roles)?;
        let before = current(conn, workspace, &id)?;
        let now = now_rfc3339();
        let updated = conn
            .prepare_cached(SET_ROLES)?
            .query_row(
                params![
                    json_text(&roles),
                    now,
                    workspace,
                    id,
                    db_version(write.version)
                ],
                |row| user_from_row(row, 0),
            )
            .optional()?;
        let Some(user) = updated else {
            return Err(missing_or_conflict(conn, workspace, &id, write.version));
        };
        audit::record(
            conn,
            &ctx,
            operation,
            &id,
            (before.as_ref(), Some(&user)),
            &now,
        )?;
        Ok(user)
    })
}

/// A delete, with its `delete` event.
fn delete(ctx: AuditContext, id: String) -> Result<impl Work<()>, StoreError> {
    let operation = ctx.operation(AuditOperation::Delete, &[])?;
    Ok(move |conn: &Connection| {
        let deleted = conn
            .prepare_cached(DELETE)?
            .query_row([ctx.workspace.as_str(), id.as_str()], |row| {
                user_from_row(row, 0)
            })
            .optional()?;
        let Some(before) = deleted else {
            return Err(not_found(&id));
        };
        let now = now_rfc3339();
        audit::record(conn, &ctx, operation, &id, (Some(&before), None), &now)
    })
}

/// The validated, derived columns of a [`UserWrite`].
struct Fields {
    user_name_lower: String,
    emails_json: String,
    email_lowers: BTreeSet<String>,
    profile_json: String,
}

impl Fields {
    /// Checks the parts that need no database and derives the stored forms.
    fn check(write: &UserWrite) -> Result<Fields, StoreError> {
        let invalid = |m: String| Err(StoreError::InvalidRequest(m));
        if write.user_name.trim().is_empty() {
            return invalid("user_name must not be empty".to_owned());
        }
        if write.user_name.chars().count() > MAX_FIELD_CHARS {
            return invalid(format!(
                "user_name is longer than {MAX_FIELD_CHARS} characters"
            ));
        }
        if let Some(external_id) = &write.external_id {
            if external_id.is_empty() {
                return invalid("external_id must be absent or non-empty".to_owned());
            }
            if external_id.chars().count() > MAX_FIELD_CHARS {
                return invalid(format!(
                    "external_id is longer than {MAX_FIELD_CHARS} characters"
                ));
            }
        }
        for (i, email) in write.emails.iter().enumerate() {
            if email.trim().is_empty() || email.chars().count() > MAX_FIELD_CHARS {
                return invalid(format!(
                    "emails[{i}] must be 1 to {MAX_FIELD_CHARS} characters and not blank"
                ));
            }
        }
        Ok(Fields {
            user_name_lower: write.user_name.to_lowercase(),
            emails_json: json_text(&write.emails),
            email_lowers: write.emails.iter().map(|e| e.to_lowercase()).collect(),
            profile_json: Value::Object(write.profile.clone()).to_string(),
        })
    }
}

/// The requested roles, each checked against the catalogue with its exact
/// spelling, duplicates collapsed, in catalogue order so that one set always
/// reads back as one list.
fn canonical_roles(
    conn: &Connection,
    workspace: &str,
    requested: &[String],
) -> Result<Vec<String>, StoreError> {
    let known = role_names(conn, workspace)?;
    if let Some(role) = requested.iter().find(|r| !known.contains(r)) {
        return Err(StoreError::UnknownRole {
            role: role.clone(),
            known,
        });
    }
    Ok(known
        .into_iter()
        .filter(|k| requested.contains(k))
        .collect())
}

fn index_emails(
    conn: &Connection,
    seq: i64,
    workspace: &str,
    email_lowers: &BTreeSet<String>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO user_emails (user_seq, workspace, email_lower) VALUES (?1, ?2, ?3)",
    )?;
    for email in email_lowers {
        stmt.execute(params![seq, workspace, email])?;
    }
    Ok(())
}

/// The user `id` of `workspace` as it is inside this transaction.
fn current(conn: &Connection, workspace: &str, id: &str) -> Result<Option<User>, StoreError> {
    let user = conn
        .prepare_cached(SELECT)?
        .query_row([workspace, id], |row| user_from_row(row, 0))
        .optional()?;
    Ok(user)
}

/// After a versioned UPDATE matched no row: was the user missing, or stale?
fn missing_or_conflict(conn: &Connection, workspace: &str, id: &str, given: u64) -> StoreError {
    let current = conn.prepare_cached(VERSION_OF).and_then(|mut stmt| {
        stmt.query_row([workspace, id], |row| row.get::<_, i64>(0))
            .optional()
    });
    match current {
        Ok(Some(current)) => StoreError::VersionConflict {
            given,
            current: u64::try_from(current).unwrap_or(0),
        },
        Ok(None) => not_found(id),
        Err(e) => e.into(),
    }
}

/// Reads a user from `row`, its columns starting at `first` in `columns!()` order.
pub(super) fn user_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<User> {
    let at = |i: usize| first + i;
    let version: i64 = row.get(at(7))?;
    Ok(User {
        id: row.get(at(0))?,
        user_name: row.get(at(1))?,
        external_id: row.get(at(2))?,
        active: row.get(at(3))?,
        emails: json_column(row, at(4))?,
        roles: json_column(row, at(5))?,
        profile: json_column::<Map<String, Value>>(row, at(6))?,
        version: u64::try_from(version).unwrap_or(0),
        created: row.get(at(8))?,
        last_modified: row.get(at(9))?,
    })
}

/// Reads the JSON text in column `i` of `row` as a `T`.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

fn json_text(list: &[String]) -> String {
    Value::from(list.to_vec()).to_string()
}

/// Versions are u64 on the wire and i64 in SQLite; one past i64 never matches.
fn db_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(-1)
}

fn not_found(id: &str) -> StoreError {
    StoreError::UserNotFound { id: id.to_owned() }
}

/// The one UNIQUE constraint a user write can break is (workspace,
/// user_name_lower); the id is a fresh UUID v7.
fn name_taken_or(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(message))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                && message.contains("users.user_name_lower") =>
        {
            StoreError::UserNameTaken
        }
        _ => e.into(),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
#[path = "users_tests.rs"]
mod tests;
