//! Listing users by `user_name`, `external_id` and e-mail: the look-ups
//! Entra runs before every create and update, so the hottest read.
//!
//! Only the given filters appear in the SQL, so SQLite picks the matching
//! index instead of facing `?n IS NULL OR …` terms it cannot index. The
//! statements of all eight filter combinations are built once per process;
//! a request only picks one and binds its values.

use std::sync::LazyLock;

use authsidecar_core_api::{MAX_LIST_LIMIT, UserPage, UserQuery};
use rusqlite::types::ToSql;
use rusqlite::{Connection, params_from_iter};

use super::users::{columns, user_from_row};
use super::worker::Work;
use crate::StoreError;

/// Users of `workspace` matching every filter of `query`, in creation
/// order, paged; `limit` clamped to [`MAX_LIST_LIMIT`].
pub(super) fn list(workspace: String, query: UserQuery) -> impl Work<UserPage> {
    move |conn: &Connection| {
        let filter = ListFilter::new(&query);
        let sql = filter.sql()?;
        let total: i64 = conn
            .prepare_cached(&sql.count)?
            .query_row(params_from_iter(filter.args(&workspace)), |row| row.get(0))?;
        let limit = query.limit.min(MAX_LIST_LIMIT);
        let mut users = Vec::new();
        if limit > 0 {
            let limit = i64::from(limit);
            let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
            let paging: [&dyn ToSql; 2] = [&limit, &offset];
            let args = filter.args(&workspace).chain(paging);
            let mut stmt = conn.prepare_cached(&sql.page)?;
            let rows = stmt.query_map(params_from_iter(args), |row| user_from_row(row, 0))?;
            users = rows.collect::<Result<_, _>>()?;
        }
        Ok(UserPage {
            total: u64::try_from(total).unwrap_or(0),
            users,
        })
    }
}

/// A list query's filters in their stored form.
pub(super) struct ListFilter<'q> {
    user_name_lower: Option<String>,
    external_id: Option<&'q String>,
    email_lower: Option<String>,
}

/// The statements of one combination of list filters.
pub(super) struct ListSql {
    /// Counts the matches.
    pub(super) count: String,
    /// One page of matches; the last two parameters are limit and offset.
    pub(super) page: String,
}

/// Bits of a filter combination, which indexes [`LIST_SQL`].
const BY_USER_NAME: usize = 1;
const BY_EXTERNAL_ID: usize = 2;
const BY_EMAIL: usize = 4;

/// The statements of every combination of filters.
pub(super) static LIST_SQL: LazyLock<Vec<ListSql>> =
    LazyLock::new(|| (0..8).map(list_sql).collect());

fn list_sql(filters: usize) -> ListSql {
    let mut clauses = vec!["workspace = ?1".to_owned()];
    if filters & BY_USER_NAME != 0 {
        clauses.push(format!("user_name_lower = ?{}", clauses.len() + 1));
    }
    if filters & BY_EXTERNAL_ID != 0 {
        clauses.push(format!("external_id = ?{}", clauses.len() + 1));
    }
    if filters & BY_EMAIL != 0 {
        clauses.push(format!(
            "seq IN (SELECT user_seq FROM user_emails WHERE workspace = ?1 AND email_lower = ?{})",
            clauses.len() + 1
        ));
    }
    let n = clauses.len();
    let filter = clauses.join(" AND ");
    ListSql {
        count: format!("SELECT COUNT(*) FROM users WHERE {filter}"),
        page: format!(
            "SELECT {} FROM users WHERE {filter} ORDER BY seq LIMIT ?{} OFFSET ?{}",
            columns!(),
            n + 1,
            n + 2
        ),
    }
}

impl<'q> ListFilter<'q> {
    /// The stored forms of `query`'s filters: names and e-mails lowercased.
    pub(super) fn new(query: &'q UserQuery) -> ListFilter<'q> {
        ListFilter {
            user_name_lower: query.user_name.as_deref().map(str::to_lowercase),
            external_id: query.external_id.as_ref(),
            email_lower: query.email.as_deref().map(str::to_lowercase),
        }
    }

    /// The statements for this combination of filters.
    pub(super) fn sql(&self) -> Result<&'static ListSql, StoreError> {
        let mut filters = 0;
        if self.user_name_lower.is_some() {
            filters |= BY_USER_NAME;
        }
        if self.external_id.is_some() {
            filters |= BY_EXTERNAL_ID;
        }
        if self.email_lower.is_some() {
            filters |= BY_EMAIL;
        }
        LIST_SQL
            .get(filters)
            .ok_or_else(|| StoreError::Corrupt(format!("no list statement for filters {filters}")))
    }

    /// The workspace, then each given filter, in [`ListSql`] parameter order.
    pub(super) fn args<'a>(
        &'a self,
        workspace: &'a dyn ToSql,
    ) -> impl Iterator<Item = &'a dyn ToSql> + 'a {
        std::iter::once(workspace)
            .chain(self.user_name_lower.iter().map(|v| v as &dyn ToSql))
            .chain(self.external_id.iter().map(|v| *v as &dyn ToSql))
            .chain(self.email_lower.iter().map(|v| v as &dyn ToSql))
    }
}
