//! The server: a router, its identity and its options.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_auth::{Authenticator, Principal};
use tower::{Layer, Service};

use mcp_protocol::ProtocolVersion;
use mcp_protocol::types::{
    CacheScope, Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities,
    ToolsCapability,
};

use crate::request::{Authentication, McpRequest, McpResponse};
use crate::request_state::StateKey;
use crate::router::{BoxFuture, Router};
use crate::tasks::{TaskOptions, TaskRuntime};

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Items per page of the four list methods (default 100).
    pub page_size: usize,
    /// How to use the server, for the model.
    pub instructions: Option<String>,
    /// How long to wait for a legacy client to answer a server-to-client request (default 60 s).
    pub client_request_timeout: Duration,
    /// The revisions served (default: all five).
    pub supported_versions: Vec<ProtocolVersion>,
    /// The HMAC key for `requestState` (default: random per process). Set the same key on every
    /// instance behind a load balancer.
    pub state_key: [u8; 32],
    /// How long a `requestState` stays valid (default 10 minutes).
    pub state_ttl: Duration,
    /// `ttlMs` on cacheable 2026-07-28 results (default 0: immediately stale).
    pub cache_ttl_ms: u64,
    /// `cacheScope` on cacheable results (default `private`: lists may differ per principal).
    pub cache_scope: CacheScope,
    /// The largest incoming message accepted on byte streams (default 4 MiB).
    pub max_message_size: usize,
    /// The most requests one connection may have in flight; more wait (default 256).
    pub max_in_flight: usize,
    /// Who calls on connections that carry no credentials of their own: stdio, TCP and Unix
    /// sockets, in-memory pipes (default [`LocalPrincipal::None`]). HTTP requests are
    /// authenticated by the endpoint instead (`HttpOptions::auth`).
    pub local_principal: LocalPrincipal,
    /// Where tasks are kept and how long they live (tools with task support; see
    /// [`crate::tasks`]).
    pub tasks: TaskOptions,
}

/// Who calls on a connection without credentials of its own (stdio, sockets), settled when the
/// connection starts. An [`AuthLayer`](crate::middleware::AuthLayer) puts it in each request.
///
/// On stdio whoever could start the process is already trusted by the operating system, so
/// [`LocalPrincipal::ProcessUser`] is the usual choice; [`LocalPrincipal::Environment`] checks a
/// credential the client passed in the environment (the `env` block of a client's server
/// configuration) with the same authenticator an HTTP deployment uses.
///
/// ```
/// use mcp_server::{LocalPrincipal, ServerOptions};
///
/// let options = ServerOptions {
///     local_principal: LocalPrincipal::process_user(["tools.*", "resources.*", "prompts.*"]),
///     ..ServerOptions::default()
/// };
/// # drop(options);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum LocalPrincipal {
    /// Nobody: requests carry no principal, and an `AuthLayer` that requires one refuses
    /// them (-31401).
    #[default]
    None,
    /// The operating-system user that started the process (`$USER`, else `$USERNAME`, else
    /// `local`), authenticated by the environment (`AuthMethod::Environment`), with these
    /// permissions.
    ProcessUser(Vec<String>),
    /// This principal.
    Fixed(Arc<Principal>),
    /// A credential read from the environment variable `variable` when a connection starts,
    /// presented to `authenticator` as the value of the header `header` (for example
    /// `authorization` with `Bearer <token>`, or `x-api-key`). An unset variable is
    /// "no credentials"; a refused one makes every request fail with -31401.
    Environment {
        /// The environment variable.
        variable: String,
        /// The header it stands for.
        header: http::HeaderName,
        /// Checks it.
        authenticator: Arc<dyn Authenticator>,
    },
}

impl LocalPrincipal {
    /// [`LocalPrincipal::ProcessUser`] with these permissions.
    pub fn process_user<I, S>(permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::ProcessUser(permissions.into_iter().map(Into::into).collect())
    }

    /// [`LocalPrincipal::Environment`].
    pub fn environment(
        variable: impl Into<String>,
        header: http::HeaderName,
        authenticator: Arc<dyn Authenticator>,
    ) -> Self {
        Self::Environment {
            variable: variable.into(),
            header,
            authenticator,
        }
    }

    /// Settles who calls, for a connection starting now.
    pub(crate) async fn resolve(&self) -> Authentication {
        match self {
            Self::None => Authentication::None,
            Self::Fixed(p) => Authentication::Principal(p.clone()),
            Self::ProcessUser(permissions) => {
                let user = ["USER", "USERNAME"]
                    .iter()
                    .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                    .unwrap_or_else(|| "local".to_owned());
                Authentication::Principal(Arc::new(
                    Principal::new(user, mcp_auth::AuthMethod::Environment)
                        .with_permissions(permissions.iter().cloned()),
                ))
            }
            Self::Environment {
                variable,
                header,
                authenticator,
            } => {
                let mut headers = http::HeaderMap::new();
                if let Some(value) = std::env::var(variable)
                    .ok()
                    .and_then(|v| http::HeaderValue::from_str(&v).ok())
                {
                    headers.insert(header.clone(), value);
                }
                match authenticator
                    .authenticate(mcp_auth::AuthRequest::from_headers(&headers))
                    .await
                {
                    Ok(p) => Authentication::Principal(p),
                    Err(mcp_auth::AuthError::MissingCredentials) => Authentication::None,
                    Err(e) => {
                        tracing::warn!(%variable, error = %e, "the environment's credential was refused");
                        Authentication::Failed(e)
                    }
                }
            }
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            page_size: 100,
            instructions: None,
            client_request_timeout: Duration::from_secs(60),
            supported_versions: ProtocolVersion::ALL.to_vec(),
            state_key: rand::random(),
            state_ttl: Duration::from_secs(600),
            cache_ttl_ms: 0,
            cache_scope: CacheScope::Private,
            max_message_size: mcp_transport::DEFAULT_MAX_FRAME,
            max_in_flight: 256,
            local_principal: LocalPrincipal::default(),
            tasks: TaskOptions::default(),
        }
    }
}

/// An MCP server. Cheap to clone; clones share everything.
///
/// ```
/// use mcp_server::{Router, Server, Tool};
///
/// let server = Server::new("demo", "1.0.0", Router::new().tool(Tool::new("hello").handler(|| async { "hi" })));
/// assert_eq!(server.info().name, "demo");
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    pub(crate) inner: Arc<ServerInner>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServerInner {
    pub(crate) router: Router,
    pub(crate) info: Implementation,
    pub(crate) options: ServerOptions,
    pub(crate) state_key: StateKey,
    pub(crate) stack: McpService,
    /// Connections served by `serve_messages` (stdio, sockets, WebSocket, HTTP+SSE).
    pub(crate) connections: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) tasks: TaskRuntime,
}

/// The server's service: the dispatcher, behind the layers [`Server::layer`] added. Every
/// transport drives it; it is what layers wrap.
#[derive(Clone)]
pub struct McpService(Stack);

#[derive(Clone)]
enum Stack {
    /// No layers: straight to the dispatcher, with nothing boxed on the way.
    Dispatcher,
    Layered(Arc<dyn Layered>),
}

/// The layers added with [`Server::layer`], behind one pointer. A request clones the stack
/// in place (for this crate's layers, a reference count or two) and boxes one future that
/// waits for the clone to be ready and calls it; `BoxCloneSyncService` boxed the clone and the
/// future separately, two allocations per request instead of one.
trait Layered: Send + Sync {
    fn call(&self, request: McpRequest) -> BoxFuture<Result<McpResponse, Infallible>>;
}

/// A layered service, called through [`Layered`].
struct Stacked<S>(S);

impl<S> Layered for Stacked<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + Sync + 'static,
    S::Error: Into<tower::BoxError>,
    S::Future: Send + 'static,
{
    fn call(&self, request: McpRequest) -> BoxFuture<Result<McpResponse, Infallible>> {
        let mut service = Erased(self.0.clone());
        Box::pin(async move {
            // tower's contract: called once ready (the stack's own layers always are).
            let Ok(()) = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
            service.call(request).await
        })
    }
}

impl McpService {
    /// Whether there are no layers: the dispatcher alone.
    pub(crate) fn is_bare(&self) -> bool {
        matches!(self.0, Stack::Dispatcher)
    }
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Stack::Dispatcher => "McpService(dispatcher)",
            Stack::Layered(_) => "McpService(layered)",
        })
    }
}

impl Service<McpRequest> for McpService {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<Result<McpResponse, Infallible>>;

    /// Always ready: the dispatcher is, and a layered stack's readiness is awaited in the
    /// call's future.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        match &mut self.0 {
            Stack::Dispatcher => Box::pin(async move {
                let server = request.server.clone();
                Ok(server.execute(request).await)
            }),
            Stack::Layered(s) => s.call(request),
        }
    }
}

/// A layered service with its errors turned into responses: a tower layer that fails (a
/// `tower::timeout::Timeout`, a `tower::load_shed::LoadShed`, ...) answers -32603 with the
/// error's message instead.
#[derive(Clone)]
pub(crate) struct Erased<S>(S);

impl<S> Erased<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self(inner)
    }
}

impl<S> Service<McpRequest> for Erased<S>
where
    S: Service<McpRequest, Response = McpResponse>,
    S::Error: Into<tower::BoxError>,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = ErasedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A service that fails to become ready is called anyway: its call answers the error.
        match self.0.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let answer_to = (request.id.clone(), request.revision());
        ErasedFuture {
            inner: self.0.call(request),
            answer_to: Some(answer_to),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Erased`]: the inner one, its error turned into a -32603 response. Named,
    /// so that boxing the stack boxes it once.
    pub(crate) struct ErasedFuture<F> {
        #[pin]
        inner: F,
        answer_to: Option<(mcp_protocol::jsonrpc::RequestId, ProtocolVersion)>,
    }
}

impl<F, E> Future for ErasedFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
    E: Into<tower::BoxError>,
{
    type Output = Result<McpResponse, Infallible>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        Poll::Ready(Ok(out.unwrap_or_else(|e| {
            let e: tower::BoxError = e.into();
            let (id, revision) = this.answer_to.take().unwrap_or((
                mcp_protocol::jsonrpc::RequestId::Number(0),
                ProtocolVersion::LATEST,
            ));
            McpResponse::error(
                id,
                revision,
                mcp_protocol::McpError::Internal(e.to_string()),
            )
        })))
    }
}

impl Server {
    /// A server named `name` at `version`, with default options.
    pub fn new(name: impl Into<String>, version: impl Into<String>, router: Router) -> Self {
        Self::with_options(
            Implementation::new(name, version),
            router,
            ServerOptions::default(),
        )
    }

    /// A server with full implementation info and options.
    pub fn with_options(info: Implementation, router: Router, options: ServerOptions) -> Self {
        let state_key = StateKey::new(options.state_key, options.state_ttl);
        let tasks = TaskRuntime::new(&options.tasks);
        Self {
            inner: Arc::new(ServerInner {
                router,
                info,
                options,
                state_key,
                stack: McpService(Stack::Dispatcher),
                connections: Arc::default(),
                tasks,
            }),
        }
    }

    /// Wraps the server's service in `layer`: the layers of [`crate::middleware`], or any tower
    /// layer over [`McpRequest`] (its errors are answered -32603). Every transport goes through
    /// it. Each call wraps what is there, so the last layer added runs first; pass a whole
    /// `tower::ServiceBuilder` to add a stack in reading order (first listed runs first), which
    /// also boxes it only once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_server::middleware::{ConcurrencyLimitLayer, TimeoutLayer};
    /// use mcp_server::{Router, Server};
    /// use tower::ServiceBuilder;
    ///
    /// let server = Server::new("s", "1.0.0", Router::new()).layer(
    ///     ServiceBuilder::new()
    ///         .layer(ConcurrencyLimitLayer::new(64))
    ///         .layer(TimeoutLayer::new(Duration::from_secs(30))),
    /// );
    /// # drop(server);
    /// ```
    #[must_use]
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<McpService>,
        L::Service: Service<McpRequest, Response = McpResponse> + Clone + Send + Sync + 'static,
        <L::Service as Service<McpRequest>>::Error: Into<tower::BoxError>,
        <L::Service as Service<McpRequest>>::Future: Send + 'static,
    {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| (*shared).clone());
        let service = layer.layer(inner.stack.clone());
        inner.stack = McpService(Stack::Layered(Arc::new(Stacked(service))));
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The server's implementation info.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The router; routes added to it while serving are announced to subscribed clients.
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// How many connections are being served (stdio, sockets, WebSocket, HTTP+SSE streams).
    pub fn open_connections(&self) -> usize {
        self.inner
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The options.
    pub fn options(&self) -> &ServerOptions {
        &self.inner.options
    }

    /// What the server supports, as advertised in `initialize` and `server/discover`: tools,
    /// resources (with subscriptions) and prompts, each with list-changed; completions when a
    /// completer is registered; logging; and the tasks extension (2026-07-28) while a tool has
    /// task support.
    pub fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            tools: Some(ToolsCapability {
                list_changed: Some(true),
            }),
            resources: Some(ResourcesCapability {
                subscribe: Some(true),
                list_changed: Some(true),
            }),
            prompts: Some(PromptsCapability {
                list_changed: Some(true),
            }),
            completions: self.inner.router.has_completions().then(Default::default),
            logging: Some(Default::default()),
            extensions: self.inner.router.has_task_tools().then(|| {
                [(
                    mcp_protocol::types::tasks::TASKS_EXTENSION.to_owned(),
                    mcp_protocol::JsonObject::new(),
                )]
                .into()
            }),
            ..ServerCapabilities::default()
        }
    }
}

/// The server-base-class pattern: a type that sets up its own tools, resources and prompts.
///
/// ```
/// use mcp_server::{McpServer, Router, Tool};
///
/// struct Weather;
///
/// impl McpServer for Weather {
///     fn name(&self) -> String { "weather".into() }
///     fn routes(&self, router: Router) -> Router {
///         router.tool(Tool::new("forecast").handler(|| async { "sunny" }))
///     }
/// }
///
/// let server = Weather.into_server();
/// assert!(server.router().has_tool("forecast"));
/// ```
pub trait McpServer: Sized {
    /// The server's name.
    fn name(&self) -> String;
    /// The server's version (default: `0.1.0`).
    fn version(&self) -> String {
        "0.1.0".to_owned()
    }
    /// Options (default: [`ServerOptions::default`]).
    fn options(&self) -> ServerOptions {
        ServerOptions::default()
    }
    /// Adds the server's tools, resources and prompts.
    fn routes(&self, router: Router) -> Router;
    /// Builds the server.
    fn into_server(self) -> Server {
        let router = self.routes(Router::new());
        Server::with_options(
            Implementation::new(self.name(), self.version()),
            router,
            self.options(),
        )
    }
}
