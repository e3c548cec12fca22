use std::fmt::Write as _;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use tower::{Service, ServiceExt as _};

use super::layer::{Entry, Partition, Shared, Store};
use super::{CacheLayer, ResponseFuture};
use crate::request::{CacheStatus, McpRequest, McpResponse, Outcome, Params};

/// The service of [`CacheLayer`](super::CacheLayer).
#[derive(Clone)]
pub struct Cache<S> {
    pub(super) inner: S,
    pub(super) layer: CacheLayer,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Cache<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The TTL and key of `request` when its result may be cached; `None` for other requests.
    /// The key is built only for a cacheable call: others pass for the price of a check.
    pub(super) fn cacheable(&self, request: &McpRequest) -> Option<(Duration, String)> {
        let ttl = self.ttl(request)?;
        Some((ttl, self.key(request)?))
    }

    /// How long this request's result may be kept; `None` when it must not be.
    fn ttl(&self, request: &McpRequest) -> Option<Duration> {
        let Params::CallTool(p) = &*request.params else {
            return None;
        };
        // A round of a multi-round-trip call depends on answers the key does not hold.
        if p.input_responses.is_some() || p.request_state.is_some() || p.task.is_some() {
            return None;
        }
        let route = request.tool_route()?;
        let ttl = match route.cache_ttl() {
            Some(ttl) => ttl,
            None if route.is_read_only() => {
                self.tools.get(&p.name).copied().unwrap_or(self.default_ttl)
            }
            None => return None,
        };
        (!ttl.is_zero()).then_some(ttl)
    }

    /// The entry's key: partition, revision, tool, canonical arguments.
    fn key(&self, request: &McpRequest) -> Option<String> {
        let Params::CallTool(p) = &*request.params else {
            return None;
        };
        let mut key = String::with_capacity(64);
        match self.partition {
            Partition::Shared => key.push('*'),
            Partition::PerPrincipal => match request.principal() {
                None => key.push('-'),
                Some(principal) => {
                    let _ = write!(key, "{:?}:{}", principal.method, principal.id.len());
                    key.push_str(&principal.id);
                    for permission in principal.permissions.iter() {
                        key.push('\u{1}');
                        key.push_str(permission);
                    }
                    for scope in &principal.scopes {
                        key.push('\u{2}');
                        key.push_str(scope);
                    }
                }
            },
        }
        key.push('\u{0}');
        key.push_str(request.revision().as_str());
        key.push('\u{0}');
        key.push_str(&p.name);
        key.push('\u{0}');
        match &p.arguments {
            Some(arguments) => canonical_object(&mut key, arguments),
            None => key.push_str("{}"),
        }
        Some(key)
    }
}

/// Writes `value` as JSON with object keys sorted, so equal arguments give equal keys
/// whatever order their members came in.
fn canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => canonical_object(out, map),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(out, v);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn canonical_object(out: &mut String, map: &mcp_protocol::JsonObject) {
    let mut members: Vec<_> = map.iter().collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A key written as a JSON string: quotes and escapes keep keys apart.
        if let Ok(quoted) = serde_json::to_string(k) {
            out.push_str(&quoted);
        }
        out.push(':');
        canonical(out, v);
    }
    out.push('}');
}

impl<S> Service<McpRequest> for Cache<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let Some((ttl, key)) = self.layer.cacheable(&request) else {
            return ResponseFuture::passed(self.inner.call(request));
        };
        let inner = crate::middleware::take_ready(&mut self.inner);
        let cached = self
            .layer
            .through(ttl, key, request, |request| inner.oneshot(request));
        ResponseFuture::cached(Box::pin(async move { Ok(cached.await) }))
    }
}

/// Answers a cacheable `request` from `store`, or runs it with `run` (once for all identical
/// requests arriving meanwhile: single flight) and stores a successful result for `ttl`.
pub(super) async fn through<F, Fut, E>(
    store: Store,
    ttl: Duration,
    key: String,
    request: McpRequest,
    run: F,
) -> McpResponse
where
    F: FnOnce(McpRequest) -> Fut,
    Fut: Future<Output = Result<McpResponse, E>>,
    E: Into<tower::BoxError>,
{
    let (id, revision) = (request.id().clone(), request.revision());
    let mut ran = false;
    let running = async {
        ran = true;
        let response = match run(request).await {
            Ok(response) => response,
            Err(e) => {
                let e: tower::BoxError = e.into();
                return Err(McpResponse::error(
                    id.clone(),
                    revision,
                    mcp_protocol::McpError::Internal(e.to_string()),
                ));
            }
        };
        match (response.outcome(), &response.body) {
            (Outcome::Success, crate::request::Body::Result { json, .. }) => Ok(Entry {
                json: json.clone(),
                revision: response.revision,
                ttl,
            }),
            _ => Err(response),
        }
    };
    let stored = store.try_get_with(key, running).await;
    let status = if ran {
        CacheStatus::Miss
    } else {
        CacheStatus::Hit
    };
    let mut response = match stored {
        Ok(entry) => McpResponse::result(id, entry.revision, entry.json, Outcome::Success),
        Err(uncached) => (*uncached).clone().with_id(id),
    };
    response.set_cache_status(status);
    response
}
