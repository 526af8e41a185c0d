//! The label values metrics are broken down by: small fixed sets, so a
//! scan of random paths or a misbehaving core cannot grow the number of
//! time series without bound.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// Which part of the sidecar answered a request; never the raw path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// SCIM `/Users`, `/Users/{id}`, `/Users/.search` and the root `/.search`.
    ScimUsers,
    /// SCIM `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
    ScimDiscovery,
    /// Any other path under the SCIM base path (`/Groups`, unknown endpoints).
    ScimOther,
    /// A request passed through to the app with a validated token.
    Proxy,
    /// A request to one of `app.public_paths`, passed through without a token.
    Public,
    /// Nothing is served at the path.
    NotFound,
}

impl Route {
    /// How many routes there are.
    pub(crate) const COUNT: usize = 6;

    /// Every route, in [`Route::index`] order.
    pub(crate) const ALL: [Route; Route::COUNT] = [
        Route::ScimUsers,
        Route::ScimDiscovery,
        Route::ScimOther,
        Route::Proxy,
        Route::Public,
        Route::NotFound,
    ];

    /// The route's position in [`Route::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Route::ScimUsers => 0,
            Route::ScimDiscovery => 1,
            Route::ScimOther => 2,
            Route::Proxy => 3,
            Route::Public => 4,
            Route::NotFound => 5,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::ScimUsers => "scim_users",
            Route::ScimDiscovery => "scim_discovery",
            Route::ScimOther => "scim_other",
            Route::Proxy => "proxy",
            Route::Public => "public",
            Route::NotFound => "not_found",
        }
    }

    /// The route of a SCIM request; `rest` is the path below the base path.
    pub fn scim(rest: &str) -> Route {
        match rest.split('/').find(|s| !s.is_empty()) {
            Some("Users" | ".search") => Route::ScimUsers,
            Some("ServiceProviderConfig" | "ResourceTypes" | "Schemas") => Route::ScimDiscovery,
            _ => Route::ScimOther,
        }
    }
}

/// One call of the core API contract (`docs/core-api.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreOp {
    /// `GET /internal/v1/introspect` for a request's token.
    Introspect,
    /// `GET /internal/v1/roles`.
    Roles,
    /// `POST /internal/v1/users`.
    CreateUser,
    /// `GET /internal/v1/users/{id}`.
    GetUser,
    /// `GET /internal/v1/users?…`.
    ListUsers,
    /// `PUT /internal/v1/users/{id}`.
    UpdateUser,
    /// `PUT /internal/v1/users/{id}/roles`.
    SetRoles,
    /// `DELETE /internal/v1/users/{id}`.
    DeleteUser,
    /// `GET /internal/v1/audit`.
    Audit,
    /// The readiness probe (an introspection of a token that is no secret).
    Probe,
}

impl CoreOp {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CoreOp::Introspect => "introspect",
            CoreOp::Roles => "roles",
            CoreOp::CreateUser => "create_user",
            CoreOp::GetUser => "get_user",
            CoreOp::ListUsers => "list_users",
            CoreOp::UpdateUser => "update_user",
            CoreOp::SetRoles => "set_roles",
            CoreOp::DeleteUser => "delete_user",
            CoreOp::Audit => "audit",
            CoreOp::Probe => "probe",
        }
    }
}

/// How a core call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreOutcome {
    /// The core answered with success.
    Ok,
    /// The core answered with a contract error about the request (4xx:
    /// unknown user, taken name, version conflict…): the core is healthy.
    Rejected,
    /// The core answered with a contract error of its own (5xx).
    Failed,
    /// The core could not be reached.
    Unreachable,
    /// The core did not answer in time.
    Timeout,
    /// The core answered outside the contract.
    Protocol,
}

impl CoreOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CoreOutcome::Ok => "ok",
            CoreOutcome::Rejected => "rejected",
            CoreOutcome::Failed => "failed",
            CoreOutcome::Unreachable => "unreachable",
            CoreOutcome::Timeout => "timeout",
            CoreOutcome::Protocol => "protocol",
        }
    }

    /// Whether the core answered at all (it is reachable).
    pub fn core_answered(self) -> bool {
        matches!(
            self,
            CoreOutcome::Ok | CoreOutcome::Rejected | CoreOutcome::Failed
        )
    }
}

/// Success or failure of a TLS handshake or a certificate reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It worked.
    Ok,
    /// It did not.
    Failed,
}

impl From<bool> for Outcome {
    fn from(ok: bool) -> Self {
        if ok { Outcome::Ok } else { Outcome::Failed }
    }
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

macro_rules! label_value {
    ($($t:ty),*) => {$(
        impl EncodeLabelValue for $t {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    )*};
}

label_value!(Route, CoreOp, CoreOutcome, Outcome);

/// `{route, status}` of a request counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) route: Route,
    pub(crate) status: u16,
}

/// `{route}` of a latency histogram.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: Route,
}

/// `{operation, outcome}` of a core call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct CoreLabels {
    pub(crate) operation: CoreOp,
    pub(crate) outcome: CoreOutcome,
}

/// `{outcome}` of a handshake or reload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct OutcomeLabels {
    pub(crate) outcome: Outcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_routes_are_a_fixed_set() {
        assert_eq!(Route::scim("/Users"), Route::ScimUsers);
        assert_eq!(Route::scim("/Users/abc"), Route::ScimUsers);
        assert_eq!(Route::scim("/.search"), Route::ScimUsers);
        assert_eq!(Route::scim("/Schemas/urn:x"), Route::ScimDiscovery);
        assert_eq!(Route::scim("/ResourceTypes"), Route::ScimDiscovery);
        assert_eq!(Route::scim("/ServiceProviderConfig"), Route::ScimDiscovery);
        assert_eq!(Route::scim("/Groups"), Route::ScimOther);
        assert_eq!(Route::scim(""), Route::ScimOther);
        assert_eq!(Route::scim("/random-scan-path"), Route::ScimOther);
    }
}
