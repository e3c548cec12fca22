//! The server: a router, its identity and its options.

use std::sync::Arc;
use std::time::Duration;

use mcp_protocol::ProtocolVersion;
use mcp_protocol::types::{
    CacheScope, Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities,
    ToolsCapability,
};

use crate::request_state::StateKey;
use crate::router::Router;
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
    /// Where tasks are kept and how long they live (tools with task support; see
    /// [`crate::tasks`]).
    pub tasks: TaskOptions,
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

#[derive(Debug)]
pub(crate) struct ServerInner {
    pub(crate) router: Router,
    pub(crate) info: Implementation,
    pub(crate) options: ServerOptions,
    pub(crate) state_key: StateKey,
    pub(crate) tasks: TaskRuntime,
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
                tasks,
            }),
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
