use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use prometheus::{
    Encoder as _, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use tower::Layer;

use super::MetricsService;

/// The collectors of the MCP metrics. Cheap to clone; clones share them.
#[derive(Clone)]
pub struct Metrics {
    pub(super) inner: Arc<Collectors>,
}

pub(super) struct Collectors {
    pub(super) registry: Registry,
    pub(super) requests: IntCounterVec,
    pub(super) duration: HistogramVec,
    pub(super) in_flight: IntGaugeVec,
    pub(super) refusals: IntCounterVec,
    pub(super) cache: IntCounterVec,
    pub(super) sessions: IntGaugeVec,
    /// The series of each (method, tool) pair seen, resolved once: a request then updates
    /// them without hashing its labels three times over. Only methods (static names) and
    /// tools the router knows are keys, so this stays as small as the label sets themselves.
    pub(super) series: RwLock<SeriesMap>,
}

/// The series by method, then by tool (a randomly seeded fast hash: looked up per request).
pub(super) type SeriesMap = HashMap<
    &'static str,
    HashMap<String, Arc<Series>, foldhash::quality::RandomState>,
    foldhash::quality::RandomState,
>;

/// The series one (method, tool) pair updates on every request.
pub(super) struct Series {
    pub(super) in_flight: IntGauge,
    pub(super) duration: Histogram,
    /// `mcp_requests_total` with outcome `success`, the usual one.
    pub(super) succeeded: IntCounter,
}

impl Collectors {
    /// The series of `method` and `tool` (`""` for none), made on first use.
    pub(super) fn series(&self, method: &'static str, tool: &str) -> Arc<Series> {
        let known = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(method)
            .and_then(|tools| tools.get(tool))
            .cloned();
        if let Some(series) = known {
            return series;
        }
        let series = Arc::new(Series {
            in_flight: self.in_flight.with_label_values(&[method]),
            duration: self.duration.with_label_values(&[method, tool]),
            succeeded: self.requests.with_label_values(&[
                method,
                tool,
                crate::request::Outcome::Success.as_str(),
            ]),
        });
        self.series
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(method)
            .or_default()
            .entry(tool.to_owned())
            .or_insert(series)
            .clone()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency buckets, seconds: from half a millisecond (a cached call) to a minute.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

impl Metrics {
    /// The collectors in a registry of their own.
    pub fn new() -> Self {
        Self::with_registry(Registry::new()).unwrap_or_else(|e| {
            // A fresh registry holds nothing to clash with.
            unreachable!("registering into an empty registry failed: {e}")
        })
    }

    /// The collectors registered in `registry` (the application's), so one `/metrics` page
    /// shows both. Fails if the names are taken there.
    pub fn with_registry(registry: Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "mcp_requests_total",
                "MCP requests answered, by method, tool and outcome.",
            ),
            &["method", "tool", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "mcp_request_duration_seconds",
                "Time from a request entering the layers to its answer, by method and tool.",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "tool"],
        )?;
        let in_flight = IntGaugeVec::new(
            Opts::new(
                "mcp_requests_in_flight",
                "MCP requests being handled, by method.",
            ),
            &["method"],
        )?;
        let refusals = IntCounterVec::new(
            Opts::new("mcp_refusals_total", "Requests a layer refused, by reason."),
            &["reason"],
        )?;
        let cache = IntCounterVec::new(
            Opts::new(
                "mcp_cache_requests_total",
                "Cacheable tool calls, by tool and result (hit: the handler did not run).",
            ),
            &["tool", "result"],
        )?;
        let sessions = IntGaugeVec::new(
            Opts::new(
                "mcp_sessions",
                "Open sessions and connections, by transport.",
            ),
            &["transport"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(refusals.clone()))?;
        registry.register(Box::new(cache.clone()))?;
        registry.register(Box::new(sessions.clone()))?;
        Ok(Self {
            inner: Arc::new(Collectors {
                registry,
                requests,
                duration,
                in_flight,
                refusals,
                series: RwLock::new(HashMap::default()),
                cache,
                sessions,
            }),
        })
    }

    /// The registry the collectors are in.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Sets the open sessions of a transport (the HTTP endpoint does it when scraped).
    pub fn set_sessions(&self, transport: &str, open: usize) {
        self.inner
            .sessions
            .with_label_values(&[transport])
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// Counts a refusal made outside the layers (the HTTP endpoint's authenticator).
    pub fn record_refusal(&self, reason: &str) {
        self.inner.refusals.with_label_values(&[reason]).inc();
    }

    /// Everything in the registry, in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.inner.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Records every request in [`Metrics`]; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Metrics,
}

impl MetricsLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}
