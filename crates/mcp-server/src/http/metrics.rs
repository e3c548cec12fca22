//! `/metrics`: the Prometheus text format.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::endpoint::HttpState;
use super::health::admit;
use crate::middleware::Metrics;

/// The metrics route: which [`Metrics`] it serves, where, whether it needs credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetricsOptions {
    /// What to serve (the ones a [`MetricsLayer`](crate::middleware::MetricsLayer) records
    /// into; the whole registry is rendered).
    pub metrics: Metrics,
    /// Where (default `/metrics`).
    pub path: String,
    /// The route goes through the endpoint's authenticator (default `false`).
    pub require_auth: bool,
}

impl MetricsOptions {
    /// Serves `metrics` at `/metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            path: "/metrics".to_owned(),
            require_auth: false,
        }
    }

    /// Puts the route behind the endpoint's authenticator.
    #[must_use]
    pub fn require_auth(mut self) -> Self {
        self.require_auth = true;
        self
    }
}

/// `GET /metrics`.
pub(crate) async fn scrape(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    let Some(options) = &state.options.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(refusal) = admit(&state, request, options.require_auth).await {
        return refusal;
    }
    let metrics = &options.metrics;
    metrics.set_sessions("streamable_http", state.sessions.len());
    metrics.set_sessions("http_sse", state.legacy_sse.as_ref().map_or(0, |l| l.len()));
    metrics.set_sessions("connection", state.server.open_connections());
    let mut response = Response::new(Body::from(metrics.render()));
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
