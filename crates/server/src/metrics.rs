//! Prometheus metrics, all named `authsidecar_*`, kept in one explicit
//! [`Registry`] built with the [`AppState`](crate::AppState) (no global
//! recorder, so two sidecars in one test process count apart) and served
//! by the admin listener's `/metrics`.
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `authsidecar_requests_total` | `route`, `status` | answered requests |
//! | `authsidecar_request_duration_seconds` | `route` | time to the response head |
//! | `authsidecar_core_call_duration_seconds` | `operation`, `outcome` | core calls |
//! | `authsidecar_core_call_errors_total` | `operation`, `outcome` | core calls that failed |
//! | `authsidecar_token_cache_hits_total` / `_misses_total` | | verdict cache lookups |
//! | `authsidecar_token_cache_entries` | | cached verdicts |
//! | `authsidecar_token_rejections_total` | | requests refused for an unknown token |
//! | `authsidecar_tls_handshakes_total` | `outcome` | TLS handshakes |
//! | `authsidecar_cert_reloads_total` | `outcome` | certificate reloads |
//!
//! Label values come from fixed sets ([`Route`], [`CoreOp`], [`CoreOutcome`],
//! [`Outcome`]) and HTTP status codes, never from paths or tokens. A proxied
//! response's latency ends when its head is ready, not when its body has
//! been streamed.

mod core_calls;
mod labels;
mod token_cache;

use std::sync::OnceLock;
use std::time::Duration;

use authsidecar_auth::{TokenCache, Verifier};
use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub(crate) use core_calls::{CoreCalls, MeteredCore};
pub use labels::{CoreOp, CoreOutcome, Outcome, Route};
use labels::{OutcomeLabels, RequestLabels, RouteLabels};

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Latency bucket bounds in seconds: 1 ms (a cached verdict on loopback)
/// to 10 s (beyond every configured timeout).
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A family of latency histograms, one per label set.
pub(crate) type LatencyFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A new, empty [`LatencyFamily`].
pub(crate) fn latency_family<L: EncodeLabelSet + Clone + Eq + std::hash::Hash>() -> LatencyFamily<L>
{
    Family::new_with_constructor(latency_histogram)
}

/// The certificate reload counts of [`Metrics`]; clones count together.
#[derive(Debug, Clone)]
pub(crate) struct CertReloads(Family<OutcomeLabels, Counter>);

impl CertReloads {
    /// Counts one reload that read the files: `ok: false` when refused.
    pub(crate) fn count(&self, ok: bool) {
        let outcome = Outcome::from(ok);
        self.0.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}

/// The status codes with a request counter slot of their own in
/// [`RouteSeries`]: every code hyper can send.
const STATUS_SLOTS: std::ops::RangeInclusive<u16> = 100..=599;

/// One route's handles on its series: each looked up in its family once, on
/// first use, and kept. Counting a request is then an index and an atomic
/// add instead of a lock and a SipHash of the label set per family (about a
/// twentieth of the user-space cost of a forwarded request). Series still
/// appear on first use, as with the families alone.
struct RouteSeries {
    duration: OnceLock<Histogram>,
    /// Indexed by `status - 100`.
    by_status: Box<[OnceLock<Counter>]>,
}

impl RouteSeries {
    fn new() -> Self {
        Self {
            duration: OnceLock::new(),
            by_status: STATUS_SLOTS.map(|_| OnceLock::new()).collect(),
        }
    }
}

impl std::fmt::Debug for RouteSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSeries").finish_non_exhaustive()
    }
}

/// Every metric of one sidecar.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: LatencyFamily<RouteLabels>,
    /// Per [`Route::index`]: handles into `requests` and `request_duration`.
    series: [RouteSeries; Route::COUNT],
    tls_handshakes: Family<OutcomeLabels, Counter>,
    cert_reloads: Family<OutcomeLabels, Counter>,
    token_rejections: Counter,
}

impl Metrics {
    /// Registers every metric: the core call counts already shared with the
    /// core client, and the verdict cache read at scrape time.
    pub(crate) fn new<V: Verifier>(core_calls: &CoreCalls, tokens: TokenCache<V>) -> Self {
        let mut registry = Registry::with_prefix("authsidecar");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route and HTTP status",
            requests.clone(),
        );
        let request_duration = latency_family::<RouteLabels>();
        registry.register_with_unit(
            "request_duration",
            "Time from a request's arrival to its response head, by route",
            Unit::Seconds,
            request_duration.clone(),
        );
        registry.register_with_unit(
            "core_call_duration",
            "Calls to the core API, by operation and outcome",
            Unit::Seconds,
            core_calls.duration.clone(),
        );
        registry.register(
            "core_call_errors",
            "Calls to the core API that got no usable answer or a 5xx, by operation and outcome",
            core_calls.errors.clone(),
        );
        let tls_handshakes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "tls_handshakes",
            "TLS handshakes on the HTTPS listener, by outcome (failed includes timed out)",
            tls_handshakes.clone(),
        );
        let cert_reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cert_reloads",
            "Certificate and key reloads, by outcome (a failed reload keeps the old pair)",
            cert_reloads.clone(),
        );
        let token_rejections = Counter::default();
        registry.register(
            "token_rejections",
            "Requests refused because the core does not know their token (each counted, \
             the warn line is rate-limited)",
            token_rejections.clone(),
        );
        registry.register_collector(Box::new(token_cache::TokenCacheCollector(tokens)));
        Self {
            registry,
            requests,
            request_duration,
            series: Route::ALL.map(|_| RouteSeries::new()),
            tls_handshakes,
            cert_reloads,
            token_rejections,
        }
    }

    /// Counts one answered request and its latency.
    pub fn request(&self, route: Route, status: u16, elapsed: Duration) {
        let labels = || RequestLabels { route, status };
        let series = self.series.get(route.index());
        let slot = series.and_then(|s| s.by_status.get(usize::from(status).checked_sub(100)?));
        match slot {
            Some(slot) => slot
                .get_or_init(|| self.requests.get_or_create(&labels()).clone())
                .inc(),
            None => self.requests.get_or_create(&labels()).inc(),
        };
        let seconds = elapsed.as_secs_f64();
        match series {
            Some(s) => s
                .duration
                .get_or_init(|| {
                    self.request_duration
                        .get_or_create(&RouteLabels { route })
                        .clone()
                })
                .observe(seconds),
            None => self
                .request_duration
                .get_or_create(&RouteLabels { route })
                .observe(seconds),
        }
    }

    /// Counts one TLS handshake; `ok: false` for a failed or timed-out one.
    pub fn tls_handshake(&self, ok: bool) {
        self.tls_handshakes
            .get_or_create(&OutcomeLabels {
                outcome: Outcome::from(ok),
            })
            .inc();
    }

    /// Counts one certificate reload attempt.
    pub fn cert_reload(&self, ok: bool) {
        self.cert_reloads().count(ok);
    }

    /// A handle on the reload counts, for the task that watches the files.
    pub(crate) fn cert_reloads(&self) -> CertReloads {
        CertReloads(self.cert_reloads.clone())
    }

    /// A handle on the rejected-token count, for the rejection log.
    pub(crate) fn token_rejections(&self) -> Counter {
        self.token_rejections.clone()
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an Err could only come from a
        // collector, and a partial page is still worth serving.
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "cannot encode every metric");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsidecar_auth::CacheOptions;
    use authsidecar_core_api::Introspection;

    struct Nobody;

    impl Verifier for Nobody {
        type Error = std::io::Error;

        async fn verify(&self, _: &str) -> Result<Option<Introspection>, std::io::Error> {
            Ok(None)
        }
    }

    fn metrics() -> Metrics {
        let tokens = TokenCache::new(Nobody, CacheOptions::default());
        Metrics::new(&CoreCalls::default(), tokens)
    }

    fn line<'a>(page: &'a str, prefix: &str) -> &'a str {
        page.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix} in:\n{page}"))
    }

    #[test]
    fn route_indexes_follow_the_list_of_routes() {
        for (i, route) in Route::ALL.into_iter().enumerate() {
            assert_eq!(route.index(), i, "{route:?}");
        }
    }

    #[test]
    fn every_route_and_unusual_statuses_are_counted_apart() {
        let m = metrics();
        for route in Route::ALL {
            m.request(route, 200, Duration::from_millis(1));
        }
        // 799 has no slot of its own: counted straight in the family.
        m.request(Route::Proxy, 799, Duration::from_millis(1));
        m.request(Route::Proxy, 799, Duration::from_millis(1));
        m.request(Route::Public, 599, Duration::from_millis(1));
        let page = m.encode();
        for route in Route::ALL {
            let series = format!(
                "authsidecar_requests_total{{route=\"{}\",status=\"200\"}}",
                route.as_str()
            );
            assert_eq!(line(&page, &series), format!("{series} 1"));
            let count = format!(
                "authsidecar_request_duration_seconds_count{{route=\"{}\"}}",
                route.as_str()
            );
            let expected = match route {
                Route::Proxy => 3,
                Route::Public => 2,
                _ => 1,
            };
            assert_eq!(line(&page, &count), format!("{count} {expected}"));
        }
        assert_eq!(
            line(
                &page,
                "authsidecar_requests_total{route=\"proxy\",status=\"799\"}"
            ),
            "authsidecar_requests_total{route=\"proxy\",status=\"799\"} 2"
        );
        assert_eq!(
            line(
                &page,
                "authsidecar_requests_total{route=\"public\",status=\"599\"}"
            ),
            "authsidecar_requests_total{route=\"public\",status=\"599\"} 1"
        );
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = metrics();
        m.request(Route::ScimUsers, 201, Duration::from_millis(3));
        m.request(Route::ScimUsers, 201, Duration::from_millis(30));
        m.request(Route::NotFound, 404, Duration::from_millis(1));
        let page = m.encode();
        assert_eq!(
            line(&page, "authsidecar_requests_total{route=\"scim_users\""),
            "authsidecar_requests_total{route=\"scim_users\",status=\"201\"} 2"
        );
        assert_eq!(
            line(&page, "authsidecar_requests_total{route=\"not_found\""),
            "authsidecar_requests_total{route=\"not_found\",status=\"404\"} 1"
        );
        assert_eq!(
            line(
                &page,
                "authsidecar_request_duration_seconds_bucket{route=\"scim_users\",le=\"0.005\"}"
            ),
            "authsidecar_request_duration_seconds_bucket{route=\"scim_users\",le=\"0.005\"} 1"
        );
        assert_eq!(
            line(
                &page,
                "authsidecar_request_duration_seconds_count{route=\"scim_users\"}"
            ),
            "authsidecar_request_duration_seconds_count{route=\"scim_users\"} 2"
        );
        assert!(
            page.contains("# TYPE authsidecar_requests_total counter\n"),
            "{page}"
        );
    }

    #[test]
    fn handshakes_reloads_and_the_cache_are_exposed() {
        let m = metrics();
        m.tls_handshake(true);
        m.tls_handshake(true);
        m.tls_handshake(false);
        m.cert_reload(false);
        m.token_rejections().inc();
        let page = m.encode();
        assert_eq!(
            line(&page, "authsidecar_tls_handshakes_total{outcome=\"ok\"}"),
            "authsidecar_tls_handshakes_total{outcome=\"ok\"} 2"
        );
        assert_eq!(
            line(
                &page,
                "authsidecar_tls_handshakes_total{outcome=\"failed\"}"
            ),
            "authsidecar_tls_handshakes_total{outcome=\"failed\"} 1"
        );
        assert_eq!(
            line(&page, "authsidecar_cert_reloads_total{"),
            "authsidecar_cert_reloads_total{outcome=\"failed\"} 1"
        );
        assert_eq!(
            line(&page, "authsidecar_token_cache_hits_total"),
            "authsidecar_token_cache_hits_total 0"
        );
        assert_eq!(
            line(&page, "authsidecar_token_cache_entries"),
            "authsidecar_token_cache_entries 0"
        );
        assert_eq!(
            line(&page, "authsidecar_token_rejections_total"),
            "authsidecar_token_rejections_total 1"
        );
    }
}
