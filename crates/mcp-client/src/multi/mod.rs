//! Many servers through one client (feature `multi`): what the original SDK's `MCPClient`
//! promised, done for real.
//!
//! [`MultiClient`] takes a [`ServerConfig`] per call and keeps one pooled connection per server
//! (over stdio one process, kept alive and started again when it dies). Every call goes through
//! the server's circuit breaker, then the pool, then retries with backoff when the failure is
//! retryable and the call safe to repeat; every outcome is typed ([`MultiError`] with `kind()`
//! and `is_retryable()`), never an empty list or a dict with `success: false`; and everything
//! is counted in a prometheus registry you can pass in.
//!
//! - [`pool`]: the connection pool ([`PoolOptions`], [`PoolStats`]).
//! - [`retry`]: [`RetryPolicy`] and [`Backoff`].
//! - [`breaker`]: [`BreakerOptions`] and [`BreakerState`].
//! - [`metrics`]: the metric names.
//! - [`discovery`]: [`MultiClient::discover_all`] across many servers.
//!
//! ```no_run
//! use std::time::Duration;
//! use mcp_client::config::ServerConfig;
//! use mcp_client::multi::{MultiClient, MultiClientOptions};
//!
//! # async fn demo() -> Result<(), mcp_client::multi::MultiError> {
//! let multi = MultiClient::new(MultiClientOptions::default())?;
//! let weather = ServerConfig::stdio("weather", "weather-server", ["--stdio"]);
//! let tools = multi.discover_tools(&weather, false).await?;
//! let result = multi
//!     .call_tool(&weather, "forecast", serde_json::json!({"city": "Oslo"}), Some(Duration::from_secs(5)))
//!     .await?;
//! println!("{} tools; {:?}", tools.len(), result.structured_content);
//! println!("{}", multi.health_check(&weather).await.healthy);
//! multi.close().await;
//! # Ok(())
//! # }
//! ```

pub mod breaker;
pub mod discovery;
mod error;
pub mod metrics;
pub mod pool;
pub mod retry;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_protocol::types::{
    CallToolRequestParams, CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource,
    Tool,
};
use serde_json::Value;

/// The prometheus crate this client registers its metrics with (pass a `Registry` of this
/// version in [`MultiClientOptions::registry`]).
pub use prometheus;

pub use breaker::{BreakerOptions, BreakerState};
pub use discovery::{DiscoverOptions, ServerTools};
pub use error::MultiError;
pub use pool::{PoolOptions, PoolStats};
pub use retry::{Backoff, RetryPolicy};

use breaker::Verdict;
use error::kind_label;
use metrics::{Method, Metrics};
use pool::{AcquireError, Pool, Server};

use crate::config::ServerConfig;
use crate::{CallOptions, Client, ClientError, ClientOptions, ErrorKind};

/// How the multi-server client behaves. Every knob is mapped to the original SDK's in
/// `docs/multi-client.md`.
#[derive(Debug, Clone)]
pub struct MultiClientOptions {
    /// Options of every connection (era, handlers, request timeout, ...).
    pub client: ClientOptions,
    /// The connection pool.
    pub pool: PoolOptions,
    /// Retries of failed calls (default: exponential backoff, 3 retries).
    pub retry: RetryPolicy,
    /// The circuit breaker of each server (default on; `None`: no breaker).
    pub breaker: Option<BreakerOptions>,
    /// How long a call may take when the caller gives no timeout (default 30 s).
    pub call_timeout: Duration,
    /// How long discovered tools stay cached (default 5 minutes); list-changed notifications
    /// drop them sooner.
    pub discovery_ttl: Duration,
    /// The most servers whose tools are cached (default 1,000).
    pub discovery_capacity: u64,
    /// Where the metrics are registered (default: a registry of the client's own, see
    /// [`MultiClient::registry`]).
    pub registry: Option<prometheus::Registry>,
    /// The metrics' name prefix (default `mcp_client`).
    pub metrics_namespace: String,
}

impl Default for MultiClientOptions {
    fn default() -> Self {
        Self {
            client: ClientOptions::default(),
            pool: PoolOptions::default(),
            retry: RetryPolicy::default(),
            breaker: Some(BreakerOptions::default()),
            call_timeout: Duration::from_secs(30),
            discovery_ttl: Duration::from_secs(300),
            discovery_capacity: 1_000,
            registry: None,
            metrics_namespace: "mcp_client".to_owned(),
        }
    }
}

/// Whether a call may be sent again after it went out.
#[derive(Debug, Clone, Copy)]
enum Repeat<'a> {
    /// A read: always.
    Always,
    /// A tool: when annotated read-only or idempotent.
    Tool(&'a str),
}

/// A health check's answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct HealthReport {
    /// The server's name.
    pub server: String,
    /// `stdio`, `http`, `sse` or `websocket`.
    pub transport: &'static str,
    /// Whether the server answered `tools/list` in time.
    pub healthy: bool,
    /// How many tools it listed, when healthy.
    pub tools_available: Option<usize>,
    /// How long the check took, connecting included.
    pub latency: Duration,
    /// Why it is unhealthy.
    pub error: Option<MultiError>,
    /// The server's circuit breaker, if breakers are on.
    pub breaker: Option<BreakerState>,
}

#[derive(Debug)]
struct Shared {
    pool: Arc<Pool>,
    retry: RetryPolicy,
    call_timeout: Duration,
    registry: prometheus::Registry,
}

/// A client of many servers: pooled connections, retries, circuit breakers, a discovery cache
/// and metrics. Cheap to clone; clones share everything. Create it inside a tokio runtime (it
/// starts the pool's upkeep task).
#[derive(Debug, Clone)]
pub struct MultiClient {
    shared: Arc<Shared>,
}

impl MultiClient {
    /// A client with `options`; fails only when the metrics cannot be registered (their names
    /// are already taken in the registry passed in: use another `metrics_namespace`).
    pub fn new(options: MultiClientOptions) -> Result<Self, MultiError> {
        let registry = options.registry.clone().unwrap_or_default();
        let metrics = Metrics::register(&registry, &options.metrics_namespace)
            .map_err(|e| MultiError::Metrics(e.to_string()))?;
        let tools = moka::sync::Cache::builder()
            .max_capacity(options.discovery_capacity)
            .time_to_live(options.discovery_ttl.max(Duration::from_millis(1)))
            .build();
        let pool = Pool::new(
            options.pool,
            options.client,
            options.breaker,
            metrics,
            tools,
        );
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                retry: options.retry,
                call_timeout: options.call_timeout,
                registry,
            }),
        })
    }

    /// The registry holding the metrics (the one passed in, or the client's own).
    pub fn registry(&self) -> &prometheus::Registry {
        &self.shared.registry
    }

    /// The pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.shared.pool.stats()
    }

    /// The state of `config`'s circuit breaker (`None` with breakers off). An open breaker
    /// whose time is up reads as half-open.
    pub fn breaker_state(&self, config: &ServerConfig) -> Option<BreakerState> {
        self.shared
            .pool
            .server(config)
            .breaker
            .as_ref()
            .map(breaker::Breaker::state)
    }

    /// The pooled connection to `config`'s server, if one is open (for what this client does
    /// not wrap: subscriptions, completions, ...).
    pub fn pooled_client(&self, config: &ServerConfig) -> Option<Client> {
        self.shared
            .pool
            .server(config)
            .client()
            .filter(|c| !c.is_closed())
    }

    /// The server's tools: from the cache unless `force_refresh` or the cache has none (its
    /// TTL passed, or the server said its list changed). Each tool is the full spec `Tool`
    /// (title, annotations, input and output schemas).
    pub async fn discover_tools(
        &self,
        config: &ServerConfig,
        force_refresh: bool,
    ) -> Result<Vec<Tool>, MultiError> {
        let server = self.shared.pool.server(config);
        let pool = &self.shared.pool;
        if !force_refresh && let Some(tools) = pool.tools.get(&server.id) {
            pool.metrics.discovery_hits.inc();
            return Ok(tools.as_ref().clone());
        }
        pool.metrics.discovery_misses.inc();
        self.fetch_tools(config, &server).await
    }

    /// Lists the server's tools and caches them, unless the list changed meanwhile.
    async fn fetch_tools(
        &self,
        config: &ServerConfig,
        server: &Arc<Server>,
    ) -> Result<Vec<Tool>, MultiError> {
        let generation = server.tools_generation.load(Ordering::Acquire);
        let name = &config.name;
        let tools = self
            .run(
                config,
                server,
                Method::ToolsList,
                Repeat::Always,
                None,
                |c, _| async move { c.list_tools().await.map_err(wrap(name)) },
            )
            .await?;
        self.remember(server, generation, &tools);
        Ok(tools)
    }

    fn remember(&self, server: &Server, generation: u64, tools: &[Tool]) {
        server.learn(tools);
        if server.tools_generation.load(Ordering::Acquire) == generation {
            self.shared
                .pool
                .tools
                .insert(server.id, Arc::new(tools.to_vec()));
        }
    }

    /// Calls a tool. A tool that ran and failed (`isError: true`) is
    /// [`MultiError::Tool`], with the whole result inside; a success is the result with its
    /// content and structured content. `timeout` defaults to
    /// [`MultiClientOptions::call_timeout`].
    ///
    /// Retried only when the failure is retryable and the call safe to repeat: it never
    /// reached the server (connecting failed), the tool is annotated read-only or idempotent
    /// in its `tools/list` entry, or the server marked a tool failure retryable.
    pub async fn call_tool(
        &self,
        config: &ServerConfig,
        name: &str,
        arguments: Value,
        timeout: Option<Duration>,
    ) -> Result<CallToolResult, MultiError> {
        let server = self.shared.pool.server(config);
        let server_name = &config.name;
        if self.shared.retry.max_retries() > 0
            && !server.hints_known.load(Ordering::Relaxed)
            && !server.hints_tried.swap(true, Ordering::Relaxed)
        {
            // Whether a tool is safe to repeat comes from its annotations: the first call to a
            // server lists its tools once (one attempt; later listings keep them up to date).
            // Boxed: it runs once per server, and would otherwise grow every call's future.
            let generation = server.tools_generation.load(Ordering::Acquire);
            let listed = Box::pin(self.attempt(
                config,
                &server,
                Method::ToolsList,
                None,
                &|c: Client, _| async move { c.list_tools().await.map_err(wrap(server_name)) },
            ))
            .await
            .0;
            match listed {
                Ok(tools) => self.remember(&server, generation, &tools),
                Err(e) => {
                    tracing::debug!(server = %config.name, error = %e, "could not list the tools; failed calls are retried only when nothing was sent");
                }
            }
        }
        let arguments = match arguments {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => {
                return Err(MultiError::Client {
                    server: server_name.clone(),
                    source: ClientError::Protocol(format!(
                        "tool arguments must be an object, not {other}"
                    )),
                });
            }
        };
        // The params are lent to each attempt and come back with it, so a retry sends the
        // same arguments without the call copying them first. Attempts run one after another
        // and each completes (the client times a call itself), so the slot is always full
        // when an attempt starts.
        let params = Mutex::new(Some(Box::new(CallToolRequestParams {
            name: name.to_owned(),
            arguments,
            ..CallToolRequestParams::default()
        })));
        let params = &params;
        self.run(
            config,
            &server,
            Method::ToolsCall,
            Repeat::Tool(name),
            timeout,
            |c, after| async move {
                let lent = params.lock().ok().and_then(|mut slot| slot.take());
                let Some(mut lent) = lent else {
                    return Err(MultiError::Client {
                        server: server_name.clone(),
                        source: ClientError::Protocol(format!(
                            "the arguments of `{name}` were lost by an abandoned attempt"
                        )),
                    });
                };
                // A retry starts over: no input answers from an earlier attempt's rounds.
                lent.input_responses = None;
                lent.request_state = None;
                // The client times the call itself (and cancels it at the server).
                let options = CallOptions {
                    timeout: Some(after),
                    ..CallOptions::default()
                };
                // The params and the options move into the call's future and come back with
                // its result: this future stays under a kilobyte (a fast allocation).
                let (lent, result) = c.call_tool_lent(lent, options).await;
                if let Ok(mut slot) = params.lock() {
                    *slot = Some(lent);
                }
                let result = result.map_err(wrap(server_name))?;
                if result.is_error() {
                    return Err(tool_error(server_name, name, result));
                }
                Ok(result)
            },
        )
        .await
    }

    /// Every resource of the server.
    pub async fn list_resources(&self, config: &ServerConfig) -> Result<Vec<Resource>, MultiError> {
        let server = self.shared.pool.server(config);
        let name = &config.name;
        self.run(
            config,
            &server,
            Method::ResourcesList,
            Repeat::Always,
            None,
            |c, _| async move { c.list_resources().await.map_err(wrap(name)) },
        )
        .await
    }

    /// Reads a resource.
    pub async fn read_resource(
        &self,
        config: &ServerConfig,
        uri: &str,
    ) -> Result<ReadResourceResult, MultiError> {
        let server = self.shared.pool.server(config);
        let name = &config.name;
        self.run(
            config,
            &server,
            Method::ResourcesRead,
            Repeat::Always,
            None,
            |c, _| async move { c.read_resource(uri).await.map_err(wrap(name)) },
        )
        .await
    }

    /// Every prompt of the server.
    pub async fn list_prompts(&self, config: &ServerConfig) -> Result<Vec<Prompt>, MultiError> {
        let server = self.shared.pool.server(config);
        let name = &config.name;
        self.run(
            config,
            &server,
            Method::PromptsList,
            Repeat::Always,
            None,
            |c, _| async move { c.list_prompts().await.map_err(wrap(name)) },
        )
        .await
    }

    /// Gets a prompt with its arguments.
    pub async fn get_prompt(
        &self,
        config: &ServerConfig,
        prompt: &str,
        arguments: BTreeMap<String, String>,
    ) -> Result<GetPromptResult, MultiError> {
        let server = self.shared.pool.server(config);
        let name = &config.name;
        let arguments = &arguments;
        self.run(
            config,
            &server,
            Method::PromptsGet,
            Repeat::Always,
            None,
            |c, _| async move {
                c.get_prompt(prompt, arguments.clone())
                    .await
                    .map_err(wrap(name))
            },
        )
        .await
    }

    /// Checks the server for real: connects (or reuses the pooled connection) and lists its
    /// tools within the call timeout, without retries and whatever its breaker says. An
    /// unreachable, hung or failing server is reported unhealthy with the typed error.
    pub async fn health_check(&self, config: &ServerConfig) -> HealthReport {
        let pool = &self.shared.pool;
        let server = pool.server(config);
        let started = Instant::now();
        let after = self.shared.call_timeout;
        let generation = server.tools_generation.load(Ordering::Acquire);
        let check = async {
            let lease = pool
                .acquire(&server)
                .await
                .map_err(|e| acquire_error(&config.name, e))?;
            let listed = lease.client.list_tools().await;
            if listed.is_err() && lease.client.is_closed() {
                pool.discard(&server, &lease.client, "closed");
            }
            listed.map_err(wrap(&config.name))
        };
        let outcome = match tokio::time::timeout(after, check).await {
            Ok(r) => r,
            Err(_) => Err(MultiError::Client {
                server: config.name.clone(),
                source: ClientError::Timeout {
                    method: "tools/list".into(),
                    after,
                },
            }),
        };
        let latency = started.elapsed();
        let breaker = server.breaker.as_ref().map(breaker::Breaker::state);
        match outcome {
            Ok(tools) => {
                self.remember(&server, generation, &tools);
                HealthReport {
                    server: config.name.clone(),
                    transport: config.transport.kind(),
                    healthy: true,
                    tools_available: Some(tools.len()),
                    latency,
                    error: None,
                    breaker,
                }
            }
            Err(e) => HealthReport {
                server: config.name.clone(),
                transport: config.transport.kind(),
                healthy: false,
                tools_available: None,
                latency,
                error: Some(e),
                breaker,
            },
        }
    }

    /// Closes every pooled connection (over stdio: shuts the processes down) and stops the
    /// pool's upkeep; later calls fail with [`MultiError::Closed`].
    pub async fn close(&self) {
        self.shared.pool.close().await;
    }

    /// One call with the breaker, the pool, the timeout and the retries around it.
    async fn run<'a, T, F, Fut>(
        &'a self,
        config: &'a ServerConfig,
        server: &'a Arc<Server>,
        method: Method,
        repeat: Repeat<'_>,
        timeout: Option<Duration>,
        call: F,
    ) -> Result<T, MultiError>
    where
        F: Fn(Client, Duration) -> Fut,
        Fut: Future<Output = Result<T, MultiError>>,
    {
        let mut retry = 0;
        loop {
            let (result, sent) = self.attempt(config, server, method, timeout, &call).await;
            let error = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let repeatable = !sent
                || matches!(
                    error,
                    MultiError::Tool {
                        retryable: true,
                        ..
                    }
                )
                || match repeat {
                    Repeat::Always => true,
                    Repeat::Tool(tool) => server.safe_to_repeat(tool),
                };
            let refused = matches!(
                error,
                MultiError::CircuitOpen { .. }
                    | MultiError::PoolExhausted { .. }
                    | MultiError::Closed
            );
            if !(error.is_retryable() && repeatable && !refused) {
                return Err(error);
            }
            let Some(wait) = self
                .shared
                .retry
                .delay_honouring(retry, error.retry_after())
            else {
                return Err(error);
            };
            tracing::debug!(server = %config.name, method = method.as_str(), retry, ?wait, error = %error, "retrying");
            server.metrics.retry();
            retry += 1;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.shared.pool.closed.cancelled() => return Err(error),
            }
        }
    }

    /// One attempt: the breaker's permit, a pooled connection, the call. Also says whether the
    /// request went out.
    async fn attempt<T, F, Fut>(
        &self,
        config: &ServerConfig,
        server: &Arc<Server>,
        method: Method,
        timeout: Option<Duration>,
        call: &F,
    ) -> (Result<T, MultiError>, bool)
    where
        F: Fn(Client, Duration) -> Fut,
        Fut: Future<Output = Result<T, MultiError>>,
    {
        let permit = match server.breaker.as_ref().map(breaker::Breaker::acquire) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(retry_after)) => {
                let e = MultiError::CircuitOpen {
                    server: config.name.clone(),
                    retry_after,
                };
                server.metrics.failure(kind_label(e.kind()));
                return (Err(e), false);
            }
        };
        let pool = &self.shared.pool;
        let mut lease = match pool.acquire(server).await {
            Ok(lease) => lease,
            Err(e) => {
                let e = acquire_error(&config.name, e);
                server.metrics.failure(kind_label(e.kind()));
                if let Some(p) = permit {
                    p.record(verdict(&e));
                }
                return (Err(e), false);
            }
        };
        let started = Instant::now();
        let after = timeout.unwrap_or(self.shared.call_timeout);
        // The call's future is boxed: it is most of this future's size, and every layer above
        // (the retry loop, `call_tool`, the caller's own future) would otherwise copy it.
        let call = Box::pin(call(lease.client.clone(), after));
        let result = if method == Method::ToolsCall {
            // Timed by the client (one timer, and the server hears of the cancellation).
            call.await
        } else {
            match tokio::time::timeout(after, call).await {
                Ok(r) => r,
                Err(_) => Err(MultiError::Client {
                    server: config.name.clone(),
                    source: ClientError::Timeout {
                        method: method.as_str().to_owned(),
                        after,
                    },
                }),
            }
        };
        let finished = Instant::now();
        server
            .metrics
            .request(method, (finished - started).as_secs_f64());
        lease.finished = Some(finished);
        if let Err(e) = &result {
            server.metrics.failure(kind_label(e.kind()));
            if e.kind() == ErrorKind::Transport && lease.client.is_closed() {
                pool.discard(server, &lease.client, "closed");
            }
        }
        if let Some(p) = permit {
            p.record(match &result {
                Ok(_) => Verdict::Success,
                Err(e) => verdict(e),
            });
        }
        (result, true)
    }
}

/// Wraps a client error with the server's name.
fn wrap(server: &str) -> impl Fn(ClientError) -> MultiError + '_ {
    move |source| MultiError::Client {
        server: server.to_owned(),
        source,
    }
}

fn acquire_error(server: &str, e: AcquireError) -> MultiError {
    match e {
        AcquireError::Connect(source) => MultiError::Client {
            server: server.to_owned(),
            source,
        },
        AcquireError::Exhausted(waited) => MultiError::PoolExhausted {
            server: server.to_owned(),
            waited,
        },
        AcquireError::Closed => MultiError::Closed,
    }
}

/// A tool's failure as an error; retryable when the result's `_meta` says `"retryable": true`.
fn tool_error(server: &str, tool: &str, result: CallToolResult) -> MultiError {
    let message = result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n");
    let retryable = result
        .meta
        .as_ref()
        .and_then(|m| serde_json::to_value(m).ok())
        .and_then(|m| m.get("retryable").and_then(Value::as_bool))
        .unwrap_or(false);
    MultiError::Tool {
        server: server.to_owned(),
        tool: tool.to_owned(),
        message,
        result: Box::new(result),
        retryable,
    }
}

/// What a failure says about the server's health: transport failures, timeouts and HTTP 5xx
/// count against it; answers (even errors) and refusals before sending do not.
fn verdict(e: &MultiError) -> Verdict {
    match e {
        MultiError::Client { source, .. } => match source {
            ClientError::Transport(_) | ClientError::Timeout { .. } => Verdict::Failure,
            ClientError::Http(h) if h.status().is_none_or(|s| s >= 500) && h.is_retryable() => {
                Verdict::Failure
            }
            // The server refused as unavailable (overloaded, its own breaker open) or timed out.
            ClientError::Server(e) if matches!(e.code, -31503 | -31504) => Verdict::Failure,
            // The server answered, even if with an error.
            ClientError::Server(_)
            | ClientError::Http(_)
            | ClientError::Protocol(_)
            | ClientError::Incompatible(_)
            | ClientError::TooManyInputRounds(_)
            | ClientError::TaskCancelled(_) => Verdict::Success,
            // A TLS setup or certificate problem says nothing about the server's health.
            _ => Verdict::Neutral,
        },
        MultiError::Tool { .. } => Verdict::Success,
        _ => Verdict::Neutral,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_that_count_against_a_server() {
        let client = |source| MultiError::Client {
            server: "s".into(),
            source,
        };
        assert_eq!(
            verdict(&client(ClientError::Transport("gone".into()))),
            Verdict::Failure
        );
        assert_eq!(
            verdict(&client(ClientError::Timeout {
                method: "m".into(),
                after: Duration::from_secs(1)
            })),
            Verdict::Failure
        );
        let status = |status| {
            client(ClientError::Http(
                mcp_transport::http_client::HttpError::Status {
                    status,
                    body: String::new(),
                    www_authenticate: None,
                },
            ))
        };
        assert_eq!(verdict(&status(503)), Verdict::Failure);
        assert_eq!(verdict(&status(401)), Verdict::Success);
        assert_eq!(verdict(&status(429)), Verdict::Success);
        let invalid = client(ClientError::Server(mcp_protocol::ErrorObject {
            code: -32602,
            message: "bad".into(),
            data: None,
        }));
        assert_eq!(verdict(&invalid), Verdict::Success);
        assert_eq!(
            verdict(&MultiError::PoolExhausted {
                server: "s".into(),
                waited: Duration::ZERO
            }),
            Verdict::Neutral
        );
    }

    #[test]
    fn tool_failures_are_typed_and_retryable_only_when_marked() {
        let plain = CallToolResult {
            is_error: Some(true),
            ..CallToolResult::text("disk full")
        };
        let e = tool_error("s", "write", plain);
        assert_eq!((e.kind(), e.is_retryable()), (ErrorKind::Tool, false));
        assert!(e.to_string().contains("disk full"));
        let marked: CallToolResult = serde_json::from_value(serde_json::json!({
            "content": [{"type": "text", "text": "busy"}],
            "isError": true,
            "_meta": {"retryable": true}
        }))
        .unwrap();
        assert!(tool_error("s", "write", marked).is_retryable());
    }

    fn stdio(name: &str, command: &str) -> ServerConfig {
        let text =
            format!(r#"[{{"name": "{name}", "transport": "stdio", "command": "{command}"}}]"#);
        ServerConfig::parse_many(&text).unwrap().remove(0)
    }

    #[tokio::test]
    async fn a_server_is_found_by_its_configuration_not_its_address() {
        let multi = MultiClient::new(MultiClientOptions::default()).unwrap();
        let pool = &multi.shared.pool;
        let mut config = stdio("a", "first-server");
        let first = pool.server(&config);
        assert!(Arc::ptr_eq(&first, &pool.server(&config)));
        // Another value with the same content is the same server.
        assert!(Arc::ptr_eq(&first, &pool.server(&config.clone())));
        // The same place with other content is another server, and the first is still found.
        config = stdio("a", "second-server");
        let second = pool.server(&config);
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(Arc::ptr_eq(
            &first,
            &pool.server(&stdio("b", "first-server"))
        ));
        assert!(Arc::ptr_eq(&second, &pool.server(&config)));
        multi.close().await;
    }

    #[tokio::test]
    async fn a_closed_client_refuses_calls_without_connecting() {
        let multi = MultiClient::new(MultiClientOptions::default()).unwrap();
        multi.close().await;
        let config = stdio("gone", "/nonexistent/mcp-server");
        let refused = multi
            .call_tool(&config, "echo", serde_json::json!({}), None)
            .await;
        assert!(matches!(refused, Err(MultiError::Closed)), "{refused:?}");
        assert_eq!(multi.pool_stats().connections_started, 0);
    }
}
