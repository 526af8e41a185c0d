//! What every request handler shares: the core client, the token cache,
//! the role catalogue cache and the settings that shape SCIM answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use authsidecar_auth::{BearerError, TokenCache, TokenHash, Verdict, Verifier, bearer_token};
use authsidecar_config::Config;
use authsidecar_core_api::Introspection;
use authsidecar_core_client::{CoreCallError, CoreClient, CoreClientOptions};
use http::HeaderMap;

use crate::StartError;
use crate::admin::Readiness;
use crate::core_gate::CoreGate;
use crate::failure::{Failure, forbidden, unauthorized};
use crate::metrics::{CoreCalls, MeteredCore, Metrics};
use crate::proxy::AppProxy;
use crate::rejections::RejectionLog;
use crate::serve::ListenerSettings;

/// How long a workspace's role catalogue is reused before it is read again.
const ROLE_CATALOGUE_TTL: Duration = Duration::from_secs(10);

/// Asks the core's introspection endpoint who a token belongs to.
#[derive(Debug, Clone)]
pub struct CoreVerifier(pub(crate) MeteredCore);

impl Verifier for CoreVerifier {
    type Error = CoreCallError;

    async fn verify(&self, token: &str) -> Result<Option<Introspection>, CoreCallError> {
        self.0.introspect(token).await
    }
}

/// The shared state of one running sidecar.
pub struct AppState {
    /// Where SCIM lives, e.g. `/api/v1/scim/v2`.
    pub(crate) scim_base_path: String,
    /// The core API client, every call measured.
    pub(crate) core: MeteredCore,
    /// Verdicts per token hash.
    pub(crate) tokens: TokenCache<CoreVerifier>,
    /// Role catalogue per workspace.
    pub(crate) roles: moka::future::Cache<String, Arc<Vec<String>>>,
    /// Entra app-role value (lower-cased) → Ignite role name.
    pub(crate) role_mapping: BTreeMap<String, String>,
    /// Largest request body accepted.
    pub(crate) max_body_bytes: usize,
    /// Most users evaluated for a filter the core cannot index.
    pub(crate) filter_scan_cap: usize,
    /// Re-read and re-apply attempts after a version conflict.
    pub(crate) max_write_retries: u32,
    /// `audit.redact`: attributes the core's audit trail shows as `[redacted]`.
    pub(crate) audit_redact: Vec<String>,
    /// The cap on SCIM requests working against the core at once.
    pub(crate) core_gate: CoreGate,
    /// Timeouts and limits of the HTTPS listener.
    pub(crate) listener: ListenerSettings,
    /// Counters and histograms for the admin listener's `/metrics`.
    pub(crate) metrics: Metrics,
    /// What the admin listener's `/readyz` answers.
    pub(crate) readiness: Arc<Readiness>,
    /// The Ignite app non-SCIM requests are passed to; `None` without an
    /// `app` section (those requests get 404).
    pub(crate) app: Option<AppProxy>,
    /// Rejected tokens: counted, and logged at most once a second.
    pub(crate) rejections: RejectionLog,
}

impl AppState {
    /// Builds the state from a validated config.
    pub fn from_config(config: &Config) -> Result<Self, StartError> {
        let options = CoreClientOptions {
            connect_timeout: Duration::from_millis(config.core.connect_timeout_ms),
            request_timeout: Duration::from_millis(config.core.request_timeout_ms),
            pool_idle_timeout: Duration::from_millis(config.core.pool_idle_timeout_ms),
            max_idle_per_host: config.core.max_idle_per_host,
        };
        let readiness = Arc::new(Readiness::default());
        let core_calls = CoreCalls::default();
        let core = MeteredCore::new(
            CoreClient::new(&config.core.base_url, &options)?,
            core_calls.clone(),
            readiness.clone(),
        );
        let tokens = TokenCache::new(
            CoreVerifier(core.clone()),
            authsidecar_auth::CacheOptions {
                ttl: Duration::from_secs(config.auth.cache_ttl_secs),
                negative_ttl: Duration::from_secs(config.auth.negative_ttl_secs),
                capacity: config.auth.cache_capacity,
                stale_if_error: config.auth.stale_if_error(),
            },
        );
        let roles = moka::future::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(ROLE_CATALOGUE_TTL)
            .build();
        let metrics = Metrics::new(&core_calls, tokens.clone());
        let rejections = RejectionLog::new(metrics.token_rejections());
        let role_mapping = config
            .roles
            .mapping
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect();
        Ok(Self {
            scim_base_path: config.scim.base_path.clone(),
            core,
            tokens,
            roles,
            role_mapping,
            max_body_bytes: config.scim.max_body_bytes,
            filter_scan_cap: config.scim.filter_scan_cap,
            max_write_retries: config.scim.max_write_retries,
            audit_redact: config.audit.redact.clone(),
            core_gate: CoreGate::new(config.limits.core_max_concurrency),
            listener: ListenerSettings::from_config(config),
            metrics,
            readiness,
            app: config.app.as_ref().map(AppProxy::new).transpose()?,
            rejections,
        })
    }

    /// The token cache, for metrics and tests.
    pub fn token_cache(&self) -> &TokenCache<CoreVerifier> {
        &self.tokens
    }

    /// The metrics `/metrics` serves.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// What `/readyz` answers; shutdown starts by marking it draining.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The bearer token, passed on to the core on every call.
    pub(crate) token: String,
    /// Who the core says the token belongs to.
    pub(crate) identity: Arc<Introspection>,
}

impl Caller {
    /// The workspace every SCIM call of this caller is scoped to.
    pub(crate) fn workspace(&self) -> &str {
        &self.identity.workspace
    }
}

/// Authenticates a request: a bearer token the core knows. Errors are the
/// 401 (missing or unknown token) or 503 (core unreachable) to answer with.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Failure> {
    let (token, identity) = verify(state, headers).await?;
    Ok(Caller {
        token: token.to_owned(),
        identity,
    })
}

/// The token of a request and who the core says it belongs to; the errors
/// of [`authenticate`]. The passthrough needs no copy of the token.
pub(crate) async fn verify<'h>(
    state: &AppState,
    headers: &'h HeaderMap,
) -> Result<(&'h str, Arc<Introspection>), Failure> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let token = bearer_token(header).map_err(|e| match e {
        BearerError::Missing => unauthorized(
            "no Authorization header; send 'Authorization: Bearer <Ignite API token>' \
             (in Entra, paste the token into Secret Token)",
        ),
        BearerError::Malformed => {
            unauthorized("the Authorization header must be 'Bearer <Ignite API token>'")
        }
    })?;
    let hash = TokenHash::of(token);
    match state.tokens.verify_hashed(token, hash).await {
        Ok(Verdict::Valid(identity)) => {
            let span = tracing::Span::current();
            // Only a span some subscriber records needs the hash written out.
            if !span.is_disabled() {
                span.record("token", tracing::field::display(hash.short()));
            }
            Ok((token, identity))
        }
        Ok(Verdict::Invalid) => {
            state.rejections.rejected(&hash);
            Err(Failure::Client(unauthorized(
                "the Ignite API token is not valid; create an API token with the Admin role \
                 in Ignite and paste it into Entra's Secret Token",
            )))
        }
        Err(e) => Err(Failure::from_shared_core(&e, "token introspection")),
    }
}

/// Requires the Admin role (every SCIM call provisions users).
pub(crate) fn require_admin(caller: &Caller) -> Result<(), Failure> {
    if caller.identity.is_admin() {
        Ok(())
    } else {
        Err(Failure::Client(forbidden()))
    }
}
