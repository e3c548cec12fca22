//! The Streamable HTTP transport, server side (feature `http`): one endpoint (default `/mcp`)
//! serving both protocol eras.
//!
//! - **2026-07-28**: every request is its own POST, answered with `application/json`, or with a
//!   `text/event-stream` when the handler sends notifications (progress, logging, a listen
//!   stream) before its result. `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and
//!   `Mcp-Param-*` must match the body (400 with -32020 otherwise). A client closing the
//!   connection cancels the handler.
//! - **2025-03-26 to 2025-11-25**: `initialize` opens a session with a random `Mcp-Session-Id`;
//!   GET opens the stream of server-initiated messages; DELETE ends the session. SSE events carry
//!   ids and a broken stream resumes with `Last-Event-ID` from the session's [`EventLog`].
//!   Sessions end after an idle timeout and are capped in number.
//! - Always: `Host` and `Origin` checked against allowlists (DNS-rebinding protection), a body
//!   size limit (413), `Accept` (406) and `Content-Type` (415) checks.
//!
//! ```no_run
//! use mcp_server::http::HttpOptions;
//! use mcp_server::{Router, Server, Tool};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let router = Router::new().tool(Tool::new("hello").handler(|| async { "hi" }));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     // Stop with `serve_http_with_shutdown(listener, options, signal)` instead.
//!     Server::new("hello", "1.0.0", router)
//!         .serve_http(listener, HttpOptions::default())
//!         .await
//! }
//! ```
//!
//! With the `tls` feature, `Server::serve_https` serves the same endpoint over TLS (see the
//! `tls` module).
//!
//! The status codes and JSON-RPC codes of every refusal are listed in `docs/http.md`.

mod auth;
mod endpoint;
mod event_store;
mod exchange;
mod guard;
mod health;
#[cfg(feature = "metrics")]
mod metrics;
mod session;
mod sse_legacy;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

pub use auth::HttpAuth;
pub use event_store::{BoxFuture, EventLog, EventStore, InMemoryEventStore, StoredEvent};
pub use guard::{AllowedHosts, AllowedOrigins};
pub use health::{HealthCheck, HealthOptions};
#[cfg(feature = "metrics")]
pub use metrics::MetricsOptions;
pub use sse_legacy::LegacySseOptions;
#[cfg(feature = "tls")]
pub use tls::{ServerTls, TlsConfigError};
#[cfg(feature = "ws")]
pub use ws::WsOptions;

use crate::server::Server;
use endpoint::HttpState;
use guard::Guard;
use session::{Limits, Sessions};

/// How the HTTP endpoint behaves.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The endpoint's path (default `/mcp`).
    pub path: String,
    /// Which `Host` values are answered (default [`AllowedHosts::Auto`]: loopback names when
    /// bound to loopback). A foreign host gets 403.
    pub allowed_hosts: AllowedHosts,
    /// Which `Origin` values are answered (default [`AllowedOrigins::Auto`]). A foreign origin
    /// gets 403.
    pub allowed_origins: AllowedOrigins,
    /// Check the host a trusted reverse proxy forwarded (`X-Forwarded-Host`, else the `host=` of
    /// `Forwarded`) instead of `Host` (default `false`). Turn it on only behind a proxy that sets
    /// or overwrites these headers; list the public names in `allowed_hosts`.
    pub trust_forwarded_host: bool,
    /// The largest request body accepted (default 4 MiB); larger gets 413.
    pub max_body_size: usize,
    /// How long a request body may take to arrive (default 30 s); slower gets 408.
    pub body_read_timeout: Duration,
    /// How long a connection may take to send a request's headers, and may sit idle between
    /// requests (default 30 s). Applies to [`Server::serve_http`] (and `serve_https`, after the
    /// TLS handshake, which has its own timeout).
    pub header_read_timeout: Duration,
    /// The most connections served at once (default 1,024), TLS handshakes in progress
    /// included; more wait to be accepted. Applies to [`Server::serve_http`] (and
    /// `serve_https`).
    pub max_connections: usize,
    /// The most legacy sessions open at once (default 10,000). At the cap a new session evicts
    /// the longest-idle one; when every session is busy, `initialize` gets 503.
    pub max_sessions: usize,
    /// A legacy session with no request and no open stream for this long ends (default 10
    /// minutes); its id then gets 404.
    pub session_idle_timeout: Duration,
    /// A legacy session whose client has not sent `notifications/initialized` (nor any other
    /// request) this long after `initialize` ends (default 30 s).
    pub pre_initialize_timeout: Duration,
    /// The `retry` of the priming event that opens each legacy SSE stream for 2025-11-25
    /// clients (SEP-1699): how long a client waits before reconnecting (default 1 s).
    pub sse_retry: Duration,
    /// How often an SSE stream with nothing to send gets a comment line, so that proxies keep it
    /// and a vanished client is noticed (default 15 s).
    pub sse_keep_alive: Duration,
    /// Where legacy sessions keep their SSE events for resumption (default
    /// [`InMemoryEventStore`]).
    pub event_store: Arc<dyn EventStore>,
    /// How long a graceful shutdown waits for open requests before dropping them (default
    /// 10 s).
    pub shutdown_timeout: Duration,
    /// Serve MCP over WebSocket too, on its own path of the same router, behind the same
    /// `Host` / `Origin` checks (default `None`: off). See [`ws`].
    #[cfg(feature = "ws")]
    pub websocket: Option<WsOptions>,
    /// Serve the 2024-11-05 HTTP+SSE transport for old clients beside the endpoint (default
    /// on, at `/sse` and `/messages`; `None` turns it off). See `docs/http.md`.
    pub legacy_sse: Option<LegacySseOptions>,
    /// Authenticate every request (default `None`: nobody is authenticated). See
    /// [`HttpAuth`] and `docs/http.md`.
    pub auth: Option<HttpAuth>,
    /// Serve `/health` and `/health/ready` (default `None`: off).
    pub health: Option<HealthOptions>,
    /// Serve `/metrics` in the Prometheus text format (default `None`: off).
    #[cfg(feature = "metrics")]
    pub metrics: Option<MetricsOptions>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            path: "/mcp".to_owned(),
            allowed_hosts: AllowedHosts::Auto,
            allowed_origins: AllowedOrigins::Auto,
            trust_forwarded_host: false,
            max_body_size: 4 << 20,
            body_read_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_sessions: 10_000,
            session_idle_timeout: Duration::from_secs(600),
            pre_initialize_timeout: Duration::from_secs(30),
            sse_retry: Duration::from_secs(1),
            sse_keep_alive: Duration::from_secs(15),
            event_store: Arc::new(InMemoryEventStore::default()),
            shutdown_timeout: Duration::from_secs(10),
            #[cfg(feature = "ws")]
            websocket: None,
            legacy_sse: Some(LegacySseOptions::default()),
            auth: None,
            health: None,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

/// The address a connection arrived on and whether it is TLS, set by [`HttpEndpoint::serve`]
/// so that [`AllowedHosts::Auto`] knows whether the server is bound to loopback and
/// [`AllowedOrigins::Auto`] which page schemes to accept.
#[derive(Debug, Clone, Copy)]
struct LocalAddr {
    addr: SocketAddr,
    secure: bool,
}

/// The address a connection came from, set by [`HttpEndpoint::serve`] for authenticators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// An MCP endpoint: the axum router and the sessions behind it. Cheap to clone.
///
/// ```
/// use mcp_server::http::{HttpEndpoint, HttpOptions};
/// use mcp_server::{Router, Server};
///
/// let endpoint = HttpEndpoint::new(Server::new("s", "1.0.0", Router::new()), HttpOptions::default());
/// let app: axum::Router = endpoint.router();
/// assert_eq!(endpoint.session_count(), 0);
/// # drop(app);
/// ```
#[derive(Debug, Clone)]
pub struct HttpEndpoint {
    state: Arc<HttpState>,
}

impl HttpEndpoint {
    /// An endpoint serving `server`.
    pub fn new(server: Server, options: HttpOptions) -> Self {
        let guard = Guard::new(
            options.allowed_hosts.clone(),
            options.allowed_origins.clone(),
            options.trust_forwarded_host,
        );
        let sessions = Arc::new(Sessions::new(Limits {
            max_sessions: options.max_sessions,
            idle_timeout: options.session_idle_timeout,
            pre_initialize_timeout: options.pre_initialize_timeout,
        }));
        #[cfg(feature = "ws")]
        let ws = options.websocket.clone().map(ws::WsState::new);
        let legacy_sse = options
            .legacy_sse
            .clone()
            .map(sse_legacy::LegacySseState::new);
        let auth = auth::AuthState::new(options.auth.clone());
        Self {
            state: Arc::new(HttpState {
                server,
                options,
                guard,
                auth,
                started: std::time::Instant::now(),
                sessions,
                shutdown: CancellationToken::new(),
                background: tokio_util::task::TaskTracker::new(),
                #[cfg(feature = "ws")]
                ws,
                legacy_sse,
            }),
        }
    }

    /// The axum router: the endpoint at its path. Merge it into an application's router, or
    /// serve it with [`HttpEndpoint::serve`]. Served by other code, [`AllowedHosts::Auto`]
    /// allows loopback names only.
    pub fn router(&self) -> axum::Router {
        let router = axum::Router::new().route(
            &self.state.options.path,
            axum::routing::any(endpoint::endpoint),
        );
        #[cfg(feature = "ws")]
        let router = match &self.state.ws {
            Some(ws) => router.route(&ws.options.path, axum::routing::any(ws::upgrade)),
            None => router,
        };
        let router = match &self.state.legacy_sse {
            Some(l) => router
                .route(&l.options.sse_path, axum::routing::get(sse_legacy::open))
                .route(
                    &l.options.messages_path,
                    axum::routing::post(sse_legacy::post),
                ),
            None => router,
        };
        let mut router = router;
        if let Some(locations) = &self.state.auth.locations {
            router = router.route(
                &locations.path_inserted_path,
                axum::routing::get(endpoint::resource_metadata),
            );
            if locations.root_path != locations.path_inserted_path {
                router = router.route(
                    &locations.root_path,
                    axum::routing::get(endpoint::resource_metadata),
                );
            }
        }
        if let Some(health) = &self.state.options.health {
            router = router
                .route(&health.path, axum::routing::get(health::live))
                .route(&health.ready_path, axum::routing::get(health::ready));
        }
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.state.options.metrics {
            router = router.route(&metrics.path, axum::routing::get(metrics::scrape));
        }
        router.with_state(self.state.clone())
    }

    /// How many 2024-11-05 HTTP+SSE streams are open.
    pub fn legacy_sse_stream_count(&self) -> usize {
        self.state.legacy_sse.as_ref().map_or(0, |l| l.len())
    }

    /// How many legacy sessions are open.
    pub fn session_count(&self) -> usize {
        self.state.sessions.len()
    }

    /// Ends every SSE stream (2026-07-28 listen streams with their final result), every
    /// legacy session and every WebSocket connection (after its in-flight requests answer).
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
        self.state.sessions.clear();
    }

    /// Serves HTTP/1.1 on `listener` (with `TCP_NODELAY`) until `signal` completes, then shuts
    /// down gracefully: stops accepting, ends SSE streams and WebSocket connections, waits up
    /// to [`HttpOptions::shutdown_timeout`] for open requests, ends the sessions.
    pub async fn serve<F>(self, listener: TcpListener, signal: F) -> io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        self.serve_on(listener, Security::Plain, signal).await
    }

    /// Serves HTTPS on `listener` until `signal` completes, exactly as [`HttpEndpoint::serve`]
    /// serves HTTP: each connection first completes its TLS handshake (in its own task, within
    /// [`ServerTls::handshake_timeout`]), then is served HTTP/1.1.
    #[cfg(feature = "tls")]
    pub async fn serve_tls<F>(
        self,
        listener: TcpListener,
        tls: ServerTls,
        signal: F,
    ) -> io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        self.serve_on(listener, Security::Tls(tls), signal).await
    }

    async fn serve_on<F>(
        self,
        listener: TcpListener,
        security: Security,
        signal: F,
    ) -> io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        let local = listener.local_addr()?;
        let options = &self.state.options;
        let router = self.router();
        // Connections are tracked here rather than by hyper-util's `GracefulShutdown`, which
        // cannot watch a connection that allows upgrades (WebSocket).
        let tracker = self.state.background.clone();
        let stop_connections = CancellationToken::new();
        let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout)
            .keep_alive(true);
        let signal = std::pin::pin!(signal);
        let mut signal = signal;
        loop {
            let permit = tokio::select! {
                p = connections.clone().acquire_owned() => p,
                () = &mut signal => break,
            };
            let Ok(permit) = permit else { break };
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = &mut signal => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, a connection reset before accept: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let stop = stop_connections.clone();
            let http1 = http1.clone();
            let security = security.clone();
            tracker.spawn(async move {
                match security {
                    Security::Plain => {
                        serve_connection(
                            &http1,
                            stream,
                            router,
                            LocalAddr {
                                addr: local,
                                secure: false,
                            },
                            peer,
                            &stop,
                        )
                        .await
                    }
                    #[cfg(feature = "tls")]
                    Security::Tls(tls) => {
                        // The handshake runs here, not in the accept loop: a slow or failing
                        // client holds up only its own connection.
                        let accepted = tokio::select! {
                            a = tls.accept(stream) => a,
                            () = stop.cancelled() => None,
                        };
                        if let Some(stream) = accepted {
                            serve_connection(
                                &http1,
                                stream,
                                router,
                                LocalAddr {
                                    addr: local,
                                    secure: true,
                                },
                                peer,
                                &stop,
                            )
                            .await;
                        }
                    }
                }
                drop(permit);
            });
        }
        drop(listener);
        self.state.shutdown.cancel();
        stop_connections.cancel();
        tracker.close();
        if tokio::time::timeout(self.state.options.shutdown_timeout, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("graceful shutdown timed out; dropping open connections");
        }
        self.state.sessions.clear();
        Ok(())
    }
}

/// Plain HTTP or HTTPS.
#[derive(Debug, Clone)]
enum Security {
    Plain,
    #[cfg(feature = "tls")]
    Tls(ServerTls),
}

/// Serves HTTP/1.1 (with upgrades, for WebSocket) on one connection until it ends or `stop`
/// asks it to finish the request in progress and close.
async fn serve_connection<I>(
    http1: &hyper::server::conn::http1::Builder,
    io: I,
    router: axum::Router,
    local: LocalAddr,
    peer: SocketAddr,
    stop: &CancellationToken,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(tower::service_fn(
        move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(local);
            req.extensions_mut().insert(PeerAddr(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        },
    ));
    let connection = http1
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = stop.cancelled() => {
            // Finish the request in progress, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}

impl Server {
    /// The MCP endpoint as an axum router (see [`HttpEndpoint::router`]).
    pub fn into_http_router(self, options: HttpOptions) -> axum::Router {
        HttpEndpoint::new(self, options).router()
    }

    /// The MCP endpoint, to serve or to inspect.
    pub fn into_http_endpoint(self, options: HttpOptions) -> HttpEndpoint {
        HttpEndpoint::new(self, options)
    }

    /// Serves Streamable HTTP on `listener` until the process ends (see
    /// [`HttpEndpoint::serve`]).
    pub async fn serve_http(self, listener: TcpListener, options: HttpOptions) -> io::Result<()> {
        HttpEndpoint::new(self, options)
            .serve(listener, std::future::pending())
            .await
    }

    /// Serves Streamable HTTP on `listener` until `signal` completes, then shuts down
    /// gracefully (see [`HttpEndpoint::serve`]).
    pub async fn serve_http_with_shutdown<F>(
        self,
        listener: TcpListener,
        options: HttpOptions,
        signal: F,
    ) -> io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        HttpEndpoint::new(self, options)
            .serve(listener, signal)
            .await
    }

    /// Serves Streamable HTTP (and HTTP+SSE, and WebSocket when configured) over TLS on
    /// `listener` until the process ends (see [`HttpEndpoint::serve_tls`] and [`tls`]).
    #[cfg(feature = "tls")]
    pub async fn serve_https(
        self,
        listener: TcpListener,
        options: HttpOptions,
        tls: ServerTls,
    ) -> io::Result<()> {
        HttpEndpoint::new(self, options)
            .serve_tls(listener, tls, std::future::pending())
            .await
    }

    /// Serves HTTPS on `listener` until `signal` completes, then shuts down gracefully (see
    /// [`HttpEndpoint::serve_tls`]).
    #[cfg(feature = "tls")]
    pub async fn serve_https_with_shutdown<F>(
        self,
        listener: TcpListener,
        options: HttpOptions,
        tls: ServerTls,
        signal: F,
    ) -> io::Result<()>
    where
        F: Future<Output = ()> + Send,
    {
        HttpEndpoint::new(self, options)
            .serve_tls(listener, tls, signal)
            .await
    }
}
