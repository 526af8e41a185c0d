//! The provisioning audit trail: one event per mutation, inserted by the
//! mutation's own store job, so a write whose event cannot be stored is
//! rolled back and never acknowledged; and the listing of a workspace's
//! events, newest first.

use authsidecar_core_api::{
    AuditEvent, AuditKind, AuditOperation, AuditPage, AuditQuery, MAX_LIST_LIMIT, User,
};
use rusqlite::types::{ToSql, Type};
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::users::json_column;
use super::worker::Work;
use super::{Store, audit_diff, format_timestamp};
use crate::StoreError;

/// Who makes a write, for which request, and how its audit event is shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// The workspace the write is scoped to: the caller's token's.
    pub workspace: String,
    /// The non-secret id of the caller's token.
    pub token_id: String,
    /// The request that caused the write.
    pub request_id: String,
    /// The operation to record where the endpoint serves more than one
    /// (`replace` or `patch`); `None` records the endpoint's own.
    pub operation: Option<AuditOperation>,
    /// Attribute names whose values are recorded as `[redacted]`, matched
    /// ignoring letter case and underscores.
    pub redact: Vec<String>,
}

impl AuditContext {
    /// A context that records each endpoint's own operation and redacts nothing.
    pub fn new(workspace: &str, token_id: &str, request_id: &str) -> AuditContext {
        AuditContext {
            workspace: workspace.to_owned(),
            token_id: token_id.to_owned(),
            request_id: request_id.to_owned(),
            operation: None,
            redact: Vec::new(),
        }
    }

    /// The operation to record for an endpoint whose own is `own` and which
    /// may also be recorded as one of `also`; anything else is a 400, so a
    /// caller cannot log a replace as a delete.
    pub(super) fn operation(
        &self,
        own: AuditOperation,
        also: &[AuditOperation],
    ) -> Result<AuditOperation, StoreError> {
        match self.operation {
            None => Ok(own),
            Some(op) if op == own || also.contains(&op) => Ok(op),
            Some(op) => {
                let allowed: Vec<&str> = std::iter::once(own)
                    .chain(also.iter().copied())
                    .map(AuditOperation::as_str)
                    .collect();
                Err(StoreError::InvalidRequest(format!(
                    "operation '{}' does not fit this endpoint; it records {}",
                    op.as_str(),
                    allowed.join(" or ")
                )))
            }
        }
    }
}

/// Inserts the event of one mutation of `user_id` from `before` to `after`
/// (`None`: the user does not exist on that side), committed at `time`.
pub(super) fn record(
    conn: &Connection,
    ctx: &AuditContext,
    operation: AuditOperation,
    user_id: &str,
    (before, after): (Option<&User>, Option<&User>),
    time: &str,
) -> Result<(), StoreError> {
    let kinds: Vec<&str> = audit_diff::kinds(before, after)
        .into_iter()
        .map(AuditKind::as_str)
        .collect();
    let changes = audit_diff::changes(before, after, &ctx.redact);
    let changes = serde_json::to_string(&changes)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode audit changes: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO audit (id, workspace, time, token_id, request_id, operation, kinds,
             user_id, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        // Time-ordered, so the UNIQUE index on `id` grows at its end like
        // `seq` does, instead of touching a random page per event.
        uuid::Uuid::now_v7().to_string(),
        ctx.workspace,
        time,
        ctx.token_id,
        ctx.request_id,
        operation.as_str(),
        serde_json::Value::from(kinds).to_string(),
        user_id,
        changes,
    ])?;
    Ok(())
}

/// Columns in the order [`event_from_row`] reads them.
const COLUMNS: &str =
    "id, time, workspace, token_id, request_id, operation, kinds, user_id, changes";

impl Store {
    /// The audit events of `workspace` matching every given filter, newest
    /// first, paged. `limit` is clamped to [`MAX_LIST_LIMIT`]; 0 returns
    /// only the total.
    pub fn audit_events(
        &self,
        workspace: &str,
        query: &AuditQuery,
    ) -> Result<AuditPage, StoreError> {
        self.read(events(workspace, query)?)
    }

    /// [`Store::audit_events`] for async callers.
    pub(crate) async fn audit_events_async(
        &self,
        workspace: &str,
        query: &AuditQuery,
    ) -> Result<AuditPage, StoreError> {
        self.read_async(events(workspace, query)?).await
    }
}

/// Checks the query and returns the listing as reader work. The listing is
/// an operator's occasional look, not a provisioning path, so its SQL is
/// built per call.
fn events(workspace: &str, query: &AuditQuery) -> Result<impl Work<AuditPage>, StoreError> {
    let (filter, mut args) = audit_filter(workspace, query)?;
    let limit = query.limit.min(MAX_LIST_LIMIT);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let sql = listing_sql(&filter, args.len());
    Ok(move |conn: &Connection| {
        let total: i64 = conn
            .prepare_cached(&sql.count)?
            .query_row(rusqlite::params_from_iter(&args), |row| row.get(0))?;
        let mut events = Vec::new();
        if limit > 0 {
            args.push(Box::new(i64::from(limit)));
            args.push(Box::new(offset));
            let mut stmt = conn.prepare_cached(&sql.page)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(&args), event_from_row)?;
            events = rows.collect::<Result<_, _>>()?;
        }
        Ok(AuditPage {
            total: u64::try_from(total).unwrap_or(0),
            events,
        })
    })
}

/// The statements of one audit listing.
pub(super) struct ListingSql {
    /// Counts the matches.
    pub(super) count: String,
    /// One page of matches, newest first; the last two parameters are
    /// limit and offset.
    pub(super) page: String,
}

/// The statements for `filter`, whose `n` arguments come first.
pub(super) fn listing_sql(filter: &str, n: usize) -> ListingSql {
    ListingSql {
        count: format!("SELECT COUNT(*) FROM audit WHERE {filter}"),
        page: format!(
            "SELECT {COLUMNS} FROM audit WHERE {filter} ORDER BY seq DESC LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
    }
}

/// The WHERE clause and its arguments; checks `since` and `op`.
pub(super) fn audit_filter(
    workspace: &str,
    query: &AuditQuery,
) -> Result<(String, Vec<Box<dyn ToSql + Send>>), StoreError> {
    let mut clauses = vec!["workspace = ?1".to_owned()];
    let mut args: Vec<Box<dyn ToSql + Send>> = vec![Box::new(workspace.to_owned())];
    if let Some(user_id) = &query.user_id {
        args.push(Box::new(user_id.clone()));
        clauses.push(format!("user_id = ?{}", args.len()));
    }
    if let Some(since) = &query.since {
        let at = OffsetDateTime::parse(since, &Rfc3339).map_err(|_| {
            StoreError::InvalidRequest(format!(
                "since must be an RFC 3339 time such as 2026-12-04T15:13:11Z, not '{since}'"
            ))
        })?;
        // Stored times share this fixed-width UTC form, so text order is time order.
        args.push(Box::new(format_timestamp(at)));
        clauses.push(format!("time >= ?{}", args.len()));
    }
    if let Some(op) = &query.op {
        if let Some(operation) = AuditOperation::parse(op) {
            args.push(Box::new(operation.as_str()));
            clauses.push(format!("operation = ?{}", args.len()));
        } else if let Some(kind) = AuditKind::parse(op) {
            args.push(Box::new(kind.as_str()));
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM json_each(audit.kinds) WHERE json_each.value = ?{})",
                args.len()
            ));
        } else {
            return Err(StoreError::InvalidRequest(format!(
                "op '{op}' is neither an operation ({}) nor a kind ({})",
                names(AuditOperation::ALL.map(AuditOperation::as_str)),
                names(AuditKind::ALL.map(AuditKind::as_str)),
            )));
        }
    }
    Ok((clauses.join(" AND "), args))
}

fn names<const N: usize>(list: [&str; N]) -> String {
    list.join(", ")
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let operation: String = row.get(5)?;
    let operation = AuditOperation::parse(&operation).ok_or_else(|| {
        let message = format!("unknown audit operation '{operation}'");
        rusqlite::Error::FromSqlConversionFailure(5, Type::Text, message.into())
    })?;
    Ok(AuditEvent {
        id: row.get(0)?,
        time: row.get(1)?,
        workspace: row.get(2)?,
        token_id: row.get(3)?,
        request_id: row.get(4)?,
        operation,
        kinds: json_column(row, 6)?,
        user_id: row.get(7)?,
        changes: json_column(row, 8)?,
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
#[path = "audit_tests.rs"]
mod tests;
