//! The multi-server client's prometheus metrics, registered in a registry the user passes in
//! (or a private one, readable through [`super::MultiClient::registry`]).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `{ns}_requests_total` | counter | `server`, `transport`, `method` |
//! | `{ns}_failures_total` | counter | `server`, `transport`, `kind` |
//! | `{ns}_request_duration_seconds` | histogram | `server`, `method` |
//! | `{ns}_retries_total` | counter | `server` |
//! | `{ns}_breaker_state` | gauge (0 closed, 1 open, 2 half-open) | `server` |
//! | `{ns}_breaker_transitions_total` | counter | `server`, `state` |
//! | `{ns}_pool_hits_total`, `{ns}_pool_misses_total` | counter | |
//! | `{ns}_pool_evictions_total` | counter | `reason` (`lru`, `idle`, `unhealthy`, `closed`) |
//! | `{ns}_pool_connections_started_total` | counter | `transport` |
//! | `{ns}_pool_restarts_total` | counter | |
//! | `{ns}_pool_waits_total` | counter | |
//! | `{ns}_pool_connections` | gauge | |
//! | `{ns}_discovery_cache_hits_total`, `{ns}_discovery_cache_misses_total` | counter | |
//!
//! `{ns}` is [`super::MultiClientOptions::metrics_namespace`] (default `mcp_client`).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

use super::breaker::BreakerState;

/// The calls the multi-server client makes, for the `method` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    ToolsCall,
    ToolsList,
    ResourcesList,
    ResourcesRead,
    PromptsList,
    PromptsGet,
}

impl Method {
    pub(crate) const ALL: [Self; 6] = [
        Self::ToolsCall,
        Self::ToolsList,
        Self::ResourcesList,
        Self::ResourcesRead,
        Self::PromptsList,
        Self::PromptsGet,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::ToolsCall => "tools/call",
            Self::ToolsList => "tools/list",
            Self::ResourcesList => "resources/list",
            Self::ResourcesRead => "resources/read",
            Self::PromptsList => "prompts/list",
            Self::PromptsGet => "prompts/get",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every metric, registered once.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    requests: IntCounterVec,
    failures: IntCounterVec,
    latency: HistogramVec,
    retries: IntCounterVec,
    breaker_state: IntGaugeVec,
    breaker_transitions: IntCounterVec,
    pub(crate) pool_hits: IntCounter,
    pub(crate) pool_misses: IntCounter,
    pub(crate) pool_evictions: IntCounterVec,
    pub(crate) pool_started: IntCounterVec,
    pub(crate) pool_restarts: IntCounter,
    pub(crate) pool_waits: IntCounter,
    pub(crate) pool_connections: IntGauge,
    pub(crate) discovery_hits: IntCounter,
    pub(crate) discovery_misses: IntCounter,
}

/// Latency buckets, seconds: from 50 µs (a pooled call on loopback) to 30 s.
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Metrics {
    /// Creates and registers every metric under `namespace`.
    pub(crate) fn register(registry: &Registry, namespace: &str) -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help).namespace(namespace), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let plain = |name: &str, help: &str| {
            let c = IntCounter::with_opts(Opts::new(name, help).namespace(namespace))?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Time from sending a request to its answer, per attempt",
            )
            .namespace(namespace)
            .buckets(BUCKETS.to_vec()),
            &["server", "method"],
        )?;
        registry.register(Box::new(latency.clone()))?;
        let breaker_state = IntGaugeVec::new(
            Opts::new(
                "breaker_state",
                "Circuit breaker state per server: 0 closed, 1 open, 2 half-open",
            )
            .namespace(namespace),
            &["server"],
        )?;
        registry.register(Box::new(breaker_state.clone()))?;
        let pool_connections = IntGauge::with_opts(
            Opts::new(
                "pool_connections",
                "Connections in the pool (open or being opened)",
            )
            .namespace(namespace),
        )?;
        registry.register(Box::new(pool_connections.clone()))?;
        Ok(Self {
            requests: counter(
                "requests_total",
                "Requests sent (each attempt counts)",
                &["server", "transport", "method"],
            )?,
            failures: counter(
                "failures_total",
                "Failed attempts by error kind",
                &["server", "transport", "kind"],
            )?,
            latency,
            retries: counter("retries_total", "Attempts that were retries", &["server"])?,
            breaker_state,
            breaker_transitions: counter(
                "breaker_transitions_total",
                "Circuit breaker state changes, by the state entered",
                &["server", "state"],
            )?,
            pool_hits: plain("pool_hits_total", "Calls that reused a pooled connection")?,
            pool_misses: plain("pool_misses_total", "Calls that had to open a connection")?,
            pool_evictions: counter(
                "pool_evictions_total",
                "Connections removed from the pool, by reason",
                &["reason"],
            )?,
            pool_started: counter(
                "pool_connections_started_total",
                "Connections opened (stdio: processes started), by transport",
                &["transport"],
            )?,
            pool_restarts: plain(
                "pool_restarts_total",
                "Connections reopened because the old one had died (stdio: the process exited)",
            )?,
            pool_waits: plain(
                "pool_waits_total",
                "Calls that waited for a connection (the pool was full, or it was being opened)",
            )?,
            pool_connections,
            discovery_hits: plain(
                "discovery_cache_hits_total",
                "discover_tools answered from the cache",
            )?,
            discovery_misses: plain(
                "discovery_cache_misses_total",
                "discover_tools that asked the server",
            )?,
        })
    }

    /// The per-server handles of the hot path, resolved once.
    pub(crate) fn for_server(&self, server: &str, transport: &'static str) -> ServerMetrics {
        ServerMetrics {
            requests: Method::ALL.map(|m| {
                self.requests
                    .with_label_values(&[server, transport, m.as_str()])
            }),
            latency: Method::ALL.map(|m| self.latency.with_label_values(&[server, m.as_str()])),
            retries: self.retries.with_label_values(&[server]),
            failures: self.failures.clone(),
            server: server.to_owned(),
            transport,
        }
    }

    /// A breaker's state change.
    pub(crate) fn breaker_changed(&self, server: &str, state: BreakerState) {
        let value = match state {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        self.breaker_state.with_label_values(&[server]).set(value);
        self.breaker_transitions
            .with_label_values(&[server, state.as_str()])
            .inc();
    }
}

/// One server's metric handles.
#[derive(Debug)]
pub(crate) struct ServerMetrics {
    requests: [IntCounter; 6],
    latency: [Histogram; 6],
    retries: IntCounter,
    failures: IntCounterVec,
    server: String,
    transport: &'static str,
}

impl ServerMetrics {
    pub(crate) fn request(&self, method: Method, seconds: f64) {
        self.requests[method.index()].inc();
        self.latency[method.index()].observe(seconds);
    }

    pub(crate) fn failure(&self, kind: &str) {
        self.failures
            .with_label_values(&[&self.server, self.transport, kind])
            .inc();
    }

    pub(crate) fn retry(&self) {
        self.retries.inc();
    }
}
