//! The core client as the handlers see it: the same calls, each one timed,
//! counted by operation and outcome, and reported to readiness (a core
//! that answers, even with an error, is reachable).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authsidecar_core_api::{
    AuditPage, AuditQuery, Introspection, RoleCatalogue, User, UserPage, UserQuery, UserWrite,
};
use authsidecar_core_client::{CoreCallError, CoreClient, WriteContext};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::admin::Readiness;
use crate::metrics::labels::{CoreLabels, CoreOp, CoreOutcome};
use crate::metrics::{LatencyFamily, latency_family};

/// The token the readiness probe introspects. It is no secret and belongs
/// to nobody: any answer of the core (401 included) proves it is reachable.
const PROBE_TOKEN: &str = "authsidecar-readiness-probe";

/// Latency and error counts of core calls; clones share the counts.
#[derive(Debug, Clone)]
pub(crate) struct CoreCalls {
    /// Every call, by operation and outcome.
    pub(crate) duration: LatencyFamily<CoreLabels>,
    /// Calls that did not end `ok` or `rejected`, by operation and outcome.
    pub(crate) errors: Family<CoreLabels, Counter>,
}

impl Default for CoreCalls {
    fn default() -> Self {
        Self {
            duration: latency_family(),
            errors: Family::default(),
        }
    }
}

impl CoreCalls {
    fn observe(&self, operation: CoreOp, outcome: CoreOutcome, elapsed: Duration) {
        let labels = CoreLabels { operation, outcome };
        self.duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if !matches!(outcome, CoreOutcome::Ok | CoreOutcome::Rejected) {
            self.errors.get_or_create(&labels).inc();
        }
    }
}

/// The outcome label of a failed call.
fn outcome_of(e: &CoreCallError) -> CoreOutcome {
    match e {
        CoreCallError::Api { status, .. } if *status >= 500 => CoreOutcome::Failed,
        CoreCallError::Api { .. } => CoreOutcome::Rejected,
        CoreCallError::Unreachable(_) => CoreOutcome::Unreachable,
        CoreCallError::Timeout => CoreOutcome::Timeout,
        CoreCallError::Protocol(_) => CoreOutcome::Protocol,
    }
}

/// [`CoreClient`] with every call measured.
#[derive(Debug, Clone)]
pub(crate) struct MeteredCore {
    client: CoreClient,
    calls: CoreCalls,
    readiness: Arc<Readiness>,
}

impl MeteredCore {
    /// Measures `client`'s calls into `calls` and reports reachability to `readiness`.
    pub(crate) fn new(client: CoreClient, calls: CoreCalls, readiness: Arc<Readiness>) -> Self {
        Self {
            client,
            calls,
            readiness,
        }
    }

    async fn timed<T>(
        &self,
        operation: CoreOp,
        call: impl Future<Output = Result<T, CoreCallError>>,
    ) -> Result<T, CoreCallError> {
        let started = Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => CoreOutcome::Ok,
            Err(e) => outcome_of(e),
        };
        self.calls.observe(operation, outcome, started.elapsed());
        self.readiness.observe_core(outcome.core_answered());
        result
    }

    /// [`CoreClient::introspect`], measured.
    pub(crate) async fn introspect(
        &self,
        token: &str,
    ) -> Result<Option<Introspection>, CoreCallError> {
        self.timed(CoreOp::Introspect, self.client.introspect(token))
            .await
    }

    /// [`CoreClient::roles`], measured.
    pub(crate) async fn roles(&self, token: &str) -> Result<RoleCatalogue, CoreCallError> {
        self.timed(CoreOp::Roles, self.client.roles(token)).await
    }

    /// [`CoreClient::create_user`], measured.
    pub(crate) async fn create_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        user: &UserWrite,
    ) -> Result<User, CoreCallError> {
        let call = self.client.create_user(token, ctx, user);
        self.timed(CoreOp::CreateUser, call).await
    }

    /// [`CoreClient::get_user`], measured.
    pub(crate) async fn get_user(&self, token: &str, id: &str) -> Result<User, CoreCallError> {
        self.timed(CoreOp::GetUser, self.client.get_user(token, id))
            .await
    }

    /// [`CoreClient::list_users`], measured.
    pub(crate) async fn list_users(
        &self,
        token: &str,
        query: &UserQuery,
    ) -> Result<UserPage, CoreCallError> {
        self.timed(CoreOp::ListUsers, self.client.list_users(token, query))
            .await
    }

    /// [`CoreClient::update_user`], measured.
    pub(crate) async fn update_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        id: &str,
        user: &UserWrite,
    ) -> Result<User, CoreCallError> {
        let call = self.client.update_user(token, ctx, id, user);
        self.timed(CoreOp::UpdateUser, call).await
    }

    /// [`CoreClient::delete_user`], measured.
    pub(crate) async fn delete_user(
        &self,
        token: &str,
        ctx: &WriteContext,
        id: &str,
    ) -> Result<(), CoreCallError> {
        let call = self.client.delete_user(token, ctx, id);
        self.timed(CoreOp::DeleteUser, call).await
    }

    /// [`CoreClient::audit`], measured.
    pub(crate) async fn audit(
        &self,
        token: &str,
        query: &AuditQuery,
    ) -> Result<AuditPage, CoreCallError> {
        self.timed(CoreOp::Audit, self.client.audit(token, query))
            .await
    }

    /// One cheap call whose only purpose is to learn whether the core
    /// answers; the result lands in readiness like any other call's.
    pub(crate) async fn probe(&self) {
        let _ = self
            .timed(CoreOp::Probe, self.client.introspect(PROBE_TOKEN))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsidecar_core_api::{CoreError, ErrorCode};

    fn api(status: u16, code: ErrorCode) -> CoreCallError {
        CoreCallError::Api {
            status,
            error: CoreError {
                code,
                message: String::new(),
                known_roles: None,
            },
        }
    }

    #[test]
    fn outcomes_separate_the_core_refusing_from_the_core_failing() {
        assert_eq!(
            outcome_of(&api(404, ErrorCode::UserNotFound)),
            CoreOutcome::Rejected
        );
        assert_eq!(
            outcome_of(&api(503, ErrorCode::Unavailable)),
            CoreOutcome::Failed
        );
        assert_eq!(
            outcome_of(&CoreCallError::Unreachable("refused".into())),
            CoreOutcome::Unreachable
        );
        assert_eq!(outcome_of(&CoreCallError::Timeout), CoreOutcome::Timeout);
        assert!(CoreOutcome::Failed.core_answered());
        assert!(!CoreOutcome::Timeout.core_answered());
    }
}
