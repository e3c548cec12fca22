//! `/health` (liveness) and `/health/ready` (readiness with the state of each component).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::endpoint::{HttpState, guard_refusal};
use crate::middleware::{CircuitBreakerLayer, CircuitState};
use crate::router::BoxFuture;

/// A named check the readiness answer runs: `Ok` when the component works, else why not.
#[derive(Clone)]
pub struct HealthCheck {
    name: String,
    check: Arc<dyn Fn() -> BoxFuture<Result<(), String>> + Send + Sync>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl HealthCheck {
    /// A check named `name` (the key in `components`).
    ///
    /// ```
    /// use mcp_server::http::HealthCheck;
    ///
    /// let database = HealthCheck::new("database", || async {
    ///     // ping the database ...
    ///     Ok::<(), String>(())
    /// });
    /// # drop(database);
    /// ```
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move || Box::pin(check())),
        }
    }
}

/// The health routes: where they are, what readiness checks, whether they need credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HealthOptions {
    /// Liveness (default `/health`): 200 `{"status":"ok"}` while the server answers.
    pub path: String,
    /// Readiness (default `/health/ready`): 200 when ready or degraded, 503 when not ready,
    /// with the state of each component.
    pub ready_path: String,
    /// Both routes go through the endpoint's authenticator (default `false`: probes from the
    /// orchestrator usually carry no credentials).
    pub require_auth: bool,
    /// Checks of the application's own components (a database, an upstream API); a failing
    /// one makes the server not ready.
    pub checks: Vec<HealthCheck>,
    /// How long each check may take (default 2 s); a slower one counts as down.
    pub check_timeout: Duration,
    /// Circuit breakers to report: an open one makes the server degraded (still ready).
    pub circuit_breakers: Option<CircuitBreakerLayer>,
}

impl Default for HealthOptions {
    fn default() -> Self {
        Self {
            path: "/health".to_owned(),
            ready_path: "/health/ready".to_owned(),
            require_auth: false,
            checks: Vec::new(),
            check_timeout: Duration::from_secs(2),
            circuit_breakers: None,
        }
    }
}

impl HealthOptions {
    /// Adds a readiness check.
    #[must_use]
    pub fn check(mut self, check: HealthCheck) -> Self {
        self.checks.push(check);
        self
    }

    /// Reports these circuit breakers.
    #[must_use]
    pub fn circuit_breakers(mut self, breakers: CircuitBreakerLayer) -> Self {
        self.circuit_breakers = Some(breakers);
        self
    }

    /// Puts both routes behind the endpoint's authenticator.
    #[must_use]
    pub fn require_auth(mut self) -> Self {
        self.require_auth = true;
        self
    }
}

fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Checks the guard and, when asked, the credentials of a health or metrics request (taken by
/// value: the body is not `Sync`, so the future must own it rather than borrow it).
pub(crate) async fn admit(
    state: &HttpState,
    request: Request,
    require_auth: bool,
) -> Option<Response> {
    if let Some(refusal) = guard_refusal(state, &request) {
        return Some(refusal);
    }
    let (parts, _) = request.into_parts();
    if require_auth && state.auth.enabled() {
        let peer = parts.extensions.get::<super::PeerAddr>().map(|p| p.0);
        if let Err(refusal) =
            super::endpoint::authenticate_parts(state, &parts.headers, &parts.uri, peer).await
        {
            return Some(refusal);
        }
    }
    None
}

/// `GET /health`.
pub(crate) async fn live(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    let Some(options) = &state.options.health else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(refusal) = admit(&state, request, options.require_auth).await {
        return refusal;
    }
    json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "uptimeSeconds": state.started.elapsed().as_secs(),
        }),
    )
}

/// `GET /health/ready`.
pub(crate) async fn ready(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    let Some(options) = &state.options.health else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(refusal) = admit(&state, request, options.require_auth).await {
        return refusal;
    }
    let mut components = Map::new();
    let mut ready = true;
    let mut degraded = false;

    let shutting_down = state.shutdown.is_cancelled();
    ready &= !shutting_down;
    {
        let routes = state.server.inner.router.read();
        components.insert(
            "server".into(),
            json!({
                "status": if shutting_down { "down" } else { "up" },
                "shuttingDown": shutting_down,
                "tools": routes.tools.len(),
                "resources": routes.resources.len() + routes.templates.len(),
                "prompts": routes.prompts.len(),
            }),
        );
    }
    let open = state.sessions.len();
    let max = state.options.max_sessions;
    components.insert(
        "sessions".into(),
        json!({
            "status": "up",
            "open": open,
            "max": max,
            "httpSseStreams": state.legacy_sse.as_ref().map_or(0, |l| l.len()),
        }),
    );
    if let Some(breakers) = &options.circuit_breakers {
        let tripped = breakers.tripped();
        let names = |wanted: CircuitState| {
            tripped
                .iter()
                .filter(|(_, s)| *s == wanted)
                .map(|(t, _)| t.clone())
                .collect::<Vec<_>>()
        };
        let open = names(CircuitState::Open);
        degraded |= !open.is_empty();
        components.insert(
            "circuitBreakers".into(),
            json!({
                "status": if open.is_empty() { "up" } else { "degraded" },
                "open": open,
                "halfOpen": names(CircuitState::HalfOpen),
            }),
        );
    }
    let checks = options.checks.iter().map(|c| {
        let limit = options.check_timeout;
        async move {
            let started = Instant::now();
            let outcome = match tokio::time::timeout(limit, (c.check)()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
            };
            (c.name.clone(), outcome, started.elapsed())
        }
    });
    for (name, outcome, took) in futures_util::future::join_all(checks).await {
        let took_ms = took.as_secs_f64() * 1000.0;
        let entry = match outcome {
            Ok(()) => json!({"status": "up", "tookMs": took_ms}),
            Err(error) => {
                ready = false;
                json!({"status": "down", "error": error, "tookMs": took_ms})
            }
        };
        components.insert(name, entry);
    }
    let (status, word) = match (ready, degraded) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
        (true, true) => (StatusCode::OK, "degraded"),
        (true, false) => (StatusCode::OK, "ready"),
    };
    json(status, &json!({"status": word, "components": components}))
}
