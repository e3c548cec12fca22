//! `mcp bridge`: a stdio MCP server exposed over Streamable HTTP (both eras), HTTP+SSE and
//! WebSocket.
//!
//! The bridge is a real `mcp-server` [`Server`] whose routes are the child's tools, resources,
//! resource templates and prompts, copied from the child's lists (and kept in step with its
//! list-changed notifications); each route's handler forwards to an `mcp-client` [`McpClient`]
//! connected to the child over stdio. So every transport, both eras, the middleware (auth,
//! permissions, rate limits, metrics, timeouts) and the size limits are the server's own, and
//! requests reach the child as fresh, well-formed requests from one client: ids never clash,
//! cancellation and progress are mapped by the client, and a client's malformed input is
//! refused before it reaches the child. `docs/cli.md` says what is forwarded and what is not.
//!
//! Two modes: one shared child (restarted when it exits, `/health/ready` unready meanwhile), or
//! `--per-session`: one child per legacy session (or WebSocket / HTTP+SSE connection), ended
//! when the session ends, with the child's sampling, elicitation and roots requests forwarded to
//! that session's client.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mcp_client::{
    CallOptions, Client as McpClient, ClientError, ClientOptions, EraPreference, Handlers,
    StructuredCheck,
};
use mcp_protocol::error::ErrorObject;
use mcp_protocol::types::{
    CallToolResult, CompletionReference, Implementation, ProgressNotificationParams,
    ResourceContents,
};
use mcp_protocol::{McpError, ProtocolVersion};
use mcp_server::http::HealthCheck;
use mcp_server::router::uri_template::UriTemplate;
use mcp_server::{
    CompleteWith, CompletionRequest, Prompt, PromptRequest, RawArgs, RequestContext, Resource,
    ResourceRequest, ResourceTemplate, Router, Server, ServerOptions, SessionHandle, Tool,
    ToolError,
};
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};
use tokio::sync::{OnceCell, watch};

use crate::cli::BridgeArgs;
use crate::exit::{Exit, Failure};
use crate::hosting::Hosting;

/// The JSON-RPC code of "the bridged server is not there" (`-31000 - 503`, as the middleware's
/// refusals): retryable.
const UNAVAILABLE: i64 = -31503;
/// The JSON-RPC code of "the bridged server did not answer in time" (`-31000 - 504`).
const TIMED_OUT: i64 = -31504;
/// A boxed future, as the forwarding handlers return.
type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The longest wait between two restarts of a shared child that keeps exiting.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs the bridge until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: BridgeArgs) -> Result<Exit, Failure> {
    let hosting = Hosting::resolve(&args.hosting, args.http.as_deref(), true)?;
    let command = if args.command.is_empty() {
        hosting.bridge.command.clone().unwrap_or_default()
    } else {
        args.command.clone()
    };
    let Some((program, rest)) = command.split_first() else {
        return Err(Failure::usage(
            "give the stdio server to bridge after `--` (mcp bridge -- npx -y some-server)",
        ));
    };
    let per_session = args.per_session || hosting.bridge.per_session.unwrap_or(false);
    if per_session && args.max_children == 0 {
        return Err(Failure::usage("--max-children must be at least 1"));
    }
    let addr = hosting.http_or("127.0.0.1:8080");
    // Settings are checked before a child is started.
    hosting.check_exposure(&addr).await?;
    hosting.authenticator("http://127.0.0.1/mcp")?;
    hosting.layer()?;
    let spec = ChildSpec::new(program.clone(), rest.iter().cloned());
    let timeout = hosting.request_timeout();
    let mode = if per_session {
        Mode::PerSession(PerSession {
            children: Mutex::new(HashMap::new()),
            max: args.max_children,
        })
    } else {
        Mode::Shared(Shared {
            current: watch::channel(None).0,
            restarts: AtomicU64::new(0),
            last_exit: Mutex::new(None),
        })
    };
    let bridge = Arc::new(Bridge {
        spec,
        timeout,
        mode,
        router: Router::new(),
        known: Mutex::new(Known::default()),
    });
    // The first child: it must start, and its lists are the routes.
    let first = bridge
        .spawn(Handlers::default())
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, format!("the bridged server: {e}")))?;
    bridge.sync(&first).await;
    let session = first.session();
    let info = session
        .as_ref()
        .and_then(|s| s.server_info.clone())
        .unwrap_or_else(|| Implementation::new(program.clone(), "unknown"));
    let mut options = ServerOptions {
        instructions: session.and_then(|s| s.instructions),
        client_request_timeout: timeout,
        ..ServerOptions::default()
    };
    if per_session {
        // 2026-07-28 has no sessions to give children to.
        options.supported_versions = ProtocolVersion::ALL
            .iter()
            .copied()
            .filter(|v| v.is_legacy())
            .collect();
        first.close().await;
    } else if let Some(shared) = bridge.shared() {
        shared.current.send_replace(Some(first.clone()));
        tokio::spawn(supervise(bridge.clone(), first));
    }
    let server = Server::with_options(info, bridge.router.clone(), options);
    let health = {
        let bridge = bridge.clone();
        HealthCheck::new("upstream", move || {
            let bridge = bridge.clone();
            async move { bridge.health() }
        })
    };
    let idle = args.idle_timeout;
    let served = hosting
        .serve_http(
            &hosting.http_or("127.0.0.1:8080"),
            server,
            vec![health],
            |o| {
                if per_session {
                    o.session_idle_timeout = idle;
                }
            },
        )
        .await;
    bridge.close_all().await;
    served?;
    Ok(Exit::Ok)
}

/// The bridge: how to start a child, where requests go, and the routes.
struct Bridge {
    spec: ChildSpec,
    timeout: Duration,
    mode: Mode,
    router: Router,
    known: Mutex<Known>,
}

/// The names of the routes copied from the child, to remove the ones it drops.
#[derive(Default)]
struct Known {
    tools: HashSet<String>,
    resources: HashSet<String>,
    templates: HashSet<String>,
    prompts: HashSet<String>,
}

enum Mode {
    Shared(Shared),
    PerSession(PerSession),
}

/// One child for everyone.
struct Shared {
    /// The running child's client; `None` while it is being restarted.
    current: watch::Sender<Option<McpClient>>,
    restarts: AtomicU64,
    last_exit: Mutex<Option<String>>,
}

/// A child per session.
struct PerSession {
    children: Mutex<HashMap<u64, Arc<SessionChild>>>,
    max: usize,
}

/// A session's child, and the downstream requests in flight that its questions (sampling,
/// elicitation, roots) can be asked through.
#[derive(Default)]
struct SessionChild {
    client: OnceCell<Result<McpClient, String>>,
    downstream: Mutex<Vec<(u64, mcp_server::Client)>>,
    next: AtomicU64,
}

impl SessionChild {
    /// The newest request in flight: the child asks while serving it.
    fn asker(&self) -> Result<mcp_server::Client, McpError> {
        self.downstream
            .lock()
            .ok()
            .and_then(|d| d.last().map(|(_, c)| c.clone()))
            .ok_or_else(|| {
                McpError::Internal(
                    "no request of this session is in flight to ask the client through".into(),
                )
            })
    }
}

/// Removes a downstream request from its session's list when it ends.
struct InFlight {
    child: Arc<SessionChild>,
    token: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut d) = self.child.downstream.lock() {
            d.retain(|(t, _)| *t != self.token);
        }
    }
}

impl Bridge {
    fn shared(&self) -> Option<&Shared> {
        match &self.mode {
            Mode::Shared(s) => Some(s),
            Mode::PerSession(_) => None,
        }
    }

    /// Starts a child and connects to it.
    async fn spawn(&self, handlers: Handlers) -> Result<McpClient, ClientError> {
        let options = ClientOptions {
            client_info: Implementation::new("mcp-bridge", env!("CARGO_PKG_VERSION")),
            era: EraPreference::Auto,
            request_timeout: self.timeout,
            reset_timeout_on_progress: true,
            max_total_timeout: self.timeout.max(Duration::from_secs(600)),
            handlers,
            // Relayed as they are: the downstream client checks them.
            structured_output: StructuredCheck::Off,
            // The bridge caches only when --cache asks (the middleware's cache).
            cache_capacity: 0,
            ..ClientOptions::default()
        };
        McpClient::spawn(&self.spec, options).await
    }

    /// The client a request is forwarded to, and (per session) its place in the session's
    /// list of requests in flight.
    async fn client_for(
        self: &Arc<Self>,
        ctx: &RequestContext,
    ) -> Result<(McpClient, Option<InFlight>), ToolError> {
        match &self.mode {
            Mode::Shared(shared) => {
                let current = shared.current.borrow().clone();
                current.map(|c| (c, None)).ok_or_else(|| {
                    unavailable("the bridged server is not running; it is being restarted")
                })
            }
            Mode::PerSession(per) => {
                let Some(session) = ctx.session() else {
                    return Err(McpError::InvalidRequest(
                        "this bridge serves sessions only (protocol revisions up to 2025-11-25)"
                            .into(),
                    )
                    .into());
                };
                let child = {
                    let mut children = per.children.lock().map_err(|_| poisoned())?;
                    match children.get(&session.id()) {
                        Some(child) => child.clone(),
                        None => {
                            if children.len() >= per.max {
                                return Err(unavailable(
                                    "the bridge runs as many children as it may (--max-children)",
                                ));
                            }
                            let child = Arc::new(SessionChild::default());
                            children.insert(session.id(), child.clone());
                            tokio::spawn(end_with_session(
                                Arc::downgrade(self),
                                session.clone(),
                                child.clone(),
                            ));
                            child
                        }
                    }
                };
                let started = child
                    .client
                    .get_or_init(|| async {
                        let handlers = forwarding_handlers(ctx, Arc::downgrade(&child));
                        let spawned = self.spawn(handlers).await.map_err(|e| e.to_string());
                        if let (Ok(client), true) = (&spawned, session.is_ended()) {
                            client.close().await;
                        }
                        spawned
                    })
                    .await;
                let client = match started {
                    Ok(c) if !c.is_closed() => c.clone(),
                    Ok(_) => {
                        return Err(unavailable(
                            "this session's server exited; start a new session",
                        ));
                    }
                    Err(e) => {
                        return Err(unavailable(format!(
                            "this session's server did not start: {e}"
                        )));
                    }
                };
                let token = child.next.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut d) = child.downstream.lock() {
                    d.push((token, ctx.client()));
                }
                Ok((client, Some(InFlight { child, token })))
            }
        }
    }

    /// What `/health/ready` says about the child.
    fn health(&self) -> Result<(), String> {
        match &self.mode {
            Mode::Shared(shared) => match &*shared.current.borrow() {
                Some(c) if !c.is_closed() => Ok(()),
                _ => Err(format!(
                    "the bridged server is not running (restarted {} times; last exit: {})",
                    shared.restarts.load(Ordering::Relaxed),
                    shared
                        .last_exit
                        .lock()
                        .ok()
                        .and_then(|e| e.clone())
                        .unwrap_or_else(|| "none".into())
                )),
            },
            Mode::PerSession(_) => Ok(()),
        }
    }

    /// Ends every child (shutdown).
    async fn close_all(&self) {
        let clients: Vec<McpClient> = match &self.mode {
            Mode::Shared(shared) => shared.current.send_replace(None).into_iter().collect(),
            Mode::PerSession(per) => per
                .children
                .lock()
                .map(|mut c| c.drain().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(_, child)| child.client.get().and_then(|c| c.clone().ok()))
                .collect(),
        };
        for client in clients {
            client.close().await;
        }
    }

    /// Copies the child's tools, resources, templates and prompts into the router, removing
    /// what it no longer lists. A list that fails is left as it was.
    async fn sync(self: &Arc<Self>, client: &McpClient) {
        let caps = client.session().map(|s| s.capabilities).unwrap_or_default();
        let completes = caps.completions.is_some() && matches!(self.mode, Mode::Shared(_));
        if caps.tools.is_some() {
            match client.list_tools().await {
                Ok(tools) => {
                    let mut names = HashSet::new();
                    for tool in tools {
                        let name = tool.name.clone();
                        match Tool::from_definition(tool) {
                            Ok(t) => {
                                self.router.add_tool(t.handler(tool_handler(self, &name)));
                                names.insert(name);
                            }
                            Err(e) => tracing::warn!("not bridged: {e}"),
                        }
                    }
                    let old = self.replace_known(|k| &mut k.tools, names.clone());
                    for gone in old.difference(&names) {
                        self.router.remove_tool(gone);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "listing the bridged server's tools failed"),
            }
        }
        if caps.resources.is_some() {
            match client.list_resources().await {
                Ok(resources) => {
                    let mut uris = HashSet::new();
                    for r in resources {
                        uris.insert(r.uri.clone());
                        self.router.add_resource(resource_route(self, r));
                    }
                    let old = self.replace_known(|k| &mut k.resources, uris.clone());
                    for gone in old.difference(&uris) {
                        self.router.remove_resource(gone);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listing the bridged server's resources failed");
                }
            }
            match client.list_resource_templates().await {
                Ok(templates) => {
                    for t in templates {
                        if let Err(e) = UriTemplate::parse(&t.uri_template) {
                            tracing::warn!(template = %t.uri_template, error = %e, "not bridged");
                            continue;
                        }
                        let known = self
                            .known
                            .lock()
                            .map(|mut k| !k.templates.insert(t.uri_template.clone()))
                            .unwrap_or(true);
                        // The router cannot remove templates: new ones are added, none dropped.
                        if !known {
                            self.router.add_template(template_route(self, t, completes));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listing the bridged server's resource templates failed");
                }
            }
        }
        if caps.prompts.is_some() {
            match client.list_prompts().await {
                Ok(prompts) => {
                    let mut names = HashSet::new();
                    for p in prompts {
                        names.insert(p.name.clone());
                        self.router.add_prompt(prompt_route(self, p, completes));
                    }
                    let old = self.replace_known(|k| &mut k.prompts, names.clone());
                    for gone in old.difference(&names) {
                        self.router.remove_prompt(gone);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "listing the bridged server's prompts failed"),
            }
        }
    }

    fn replace_known(
        &self,
        field: impl FnOnce(&mut Known) -> &mut HashSet<String>,
        new: HashSet<String>,
    ) -> HashSet<String> {
        self.known
            .lock()
            .map(|mut k| std::mem::replace(field(&mut k), new))
            .unwrap_or_default()
    }
}

/// Keeps the shared child running: follows its list changes, and when it exits, marks the
/// bridge unready and restarts it with a growing delay (reset once a child has run a while).
async fn supervise(bridge: Arc<Bridge>, mut client: McpClient) {
    let Some(shared) = bridge.shared() else {
        return;
    };
    let mut delay = Duration::from_millis(250);
    loop {
        let started = Instant::now();
        let mut notes = client.notifications();
        // The client has no "closed" future to await; a short poll is cheap next to a child.
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                note = notes.recv() => match note {
                    Ok(n) if n.method.ends_with("/list_changed") => bridge.sync(&client).await,
                    Ok(n) if n.method == "notifications/resources/updated" => {
                        if let Some(uri) = n
                            .params_as::<Value>()
                            .ok()
                            .and_then(|p| p.get("uri").and_then(Value::as_str).map(str::to_owned))
                        {
                            bridge.router.resource_updated(uri);
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick() => if client.is_closed() { break },
            }
        }
        shared.current.send_replace(None);
        client.close().await;
        let note = format!("exited after {:.1} s", started.elapsed().as_secs_f64());
        tracing::warn!("the bridged server {note}; restarting it");
        if let Ok(mut e) = shared.last_exit.lock() {
            *e = Some(note);
        }
        if started.elapsed() > MAX_BACKOFF {
            delay = Duration::from_millis(250);
        }
        client = loop {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_BACKOFF);
            shared.restarts.fetch_add(1, Ordering::Relaxed);
            match bridge.spawn(Handlers::default()).await {
                Ok(c) => break c,
                Err(e) => {
                    tracing::warn!(error = %e, "restarting the bridged server failed");
                    if let Ok(mut last) = shared.last_exit.lock() {
                        *last = Some(format!("did not restart: {e}"));
                    }
                }
            }
        };
        bridge.sync(&client).await;
        shared.current.send_replace(Some(client.clone()));
        tracing::info!("the bridged server is running again");
    }
}

/// Ends a session's child when the session ends.
async fn end_with_session(bridge: Weak<Bridge>, session: SessionHandle, child: Arc<SessionChild>) {
    session.ended().await;
    if let Some(bridge) = bridge.upgrade()
        && let Mode::PerSession(per) = &bridge.mode
        && let Ok(mut children) = per.children.lock()
    {
        children.remove(&session.id());
    }
    if let Some(Ok(client)) = child.client.get() {
        client.close().await;
    }
}

/// Handlers for a session's child that ask the session's client, declaring only what that
/// client declared.
fn forwarding_handlers(ctx: &RequestContext, child: Weak<SessionChild>) -> Handlers {
    let caps = ctx.client_capabilities();
    let mut handlers = Handlers::default();
    let asker = move |child: &Weak<SessionChild>| {
        child
            .upgrade()
            .ok_or_else(|| McpError::Internal("the session ended".into()))
            .and_then(|c| c.asker())
    };
    if caps.sampling.is_some() {
        let child = child.clone();
        handlers = handlers.on_sampling(move |params| {
            let asked = asker(&child);
            async move { asked?.sample(params).await.map_err(to_mcp) }
        });
    }
    if let Some(elicitation) = &caps.elicitation {
        let child = child.clone();
        handlers = handlers.on_elicitation(elicitation.url.is_some(), move |params| {
            let asked = asker(&child);
            async move { asked?.elicit(params).await.map_err(to_mcp) }
        });
    }
    if caps.roots.is_some() {
        handlers = handlers.on_roots(move || {
            let asked = asker(&child);
            async move { asked?.roots().await.map_err(to_mcp) }
        });
    }
    handlers
}

fn tool_handler(
    bridge: &Arc<Bridge>,
    name: &str,
) -> impl Fn(RawArgs, RequestContext) -> BoxFuture<Result<CallToolResult, ToolError>>
+ Clone
+ Send
+ Sync
+ use<> {
    let bridge = bridge.clone();
    let name: Arc<str> = Arc::from(name);
    move |RawArgs(args), ctx: RequestContext| {
        let bridge = bridge.clone();
        let name = name.clone();
        Box::pin(async move {
            let (client, _in_flight) = bridge.client_for(&ctx).await?;
            let progress = ctx.progress();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParams>();
            let options = CallOptions {
                timeout: None,
                progress: progress.is_wanted().then(
                    || -> Box<dyn Fn(ProgressNotificationParams) + Send + Sync> {
                        Box::new(move |p| {
                            let _ = tx.send(p);
                        })
                    },
                ),
            };
            let call = client.call_tool_with(&name, Value::Object(args), &options);
            tokio::pin!(call);
            // Progress is relayed while the call runs; dropping this future (a cancelled
            // request) drops the call, which cancels it at the child.
            let result = loop {
                tokio::select! {
                    r = &mut call => break r,
                    Some(p) = rx.recv() => {
                        progress.report(p.progress, p.total, p.message.as_deref()).await;
                    }
                }
            };
            result.map_err(upstream_error)
        })
    }
}

fn resource_route(
    bridge: &Arc<Bridge>,
    r: mcp_protocol::types::Resource,
) -> mcp_server::ResourceRoute {
    let mut resource = Resource::new(r.uri, r.name);
    if let Some(d) = r.description {
        resource = resource.description(d);
    }
    if let Some(t) = r.title {
        resource = resource.title(t);
    }
    if let Some(m) = r.mime_type {
        resource = resource.mime_type(m);
    }
    if let Some(a) = r.annotations {
        resource = resource.annotations(a);
    }
    for icon in r.icons.unwrap_or_default() {
        resource = resource.icon(icon);
    }
    let bridge = bridge.clone();
    resource.handler(move |req: ResourceRequest| read(bridge.clone(), req))
}

async fn read(
    bridge: Arc<Bridge>,
    req: ResourceRequest,
) -> Result<Vec<ResourceContents>, ToolError> {
    let (client, _in_flight) = bridge.client_for(&req.ctx).await?;
    client
        .read_resource(&req.uri)
        .await
        .map(|r| r.contents)
        .map_err(upstream_error)
}

fn template_route(
    bridge: &Arc<Bridge>,
    t: mcp_protocol::types::ResourceTemplate,
    completes: bool,
) -> mcp_server::TemplateRoute {
    let mut template = ResourceTemplate::new(t.uri_template.clone(), t.name);
    if let Some(d) = t.description {
        template = template.description(d);
    }
    if let Some(x) = t.title {
        template = template.title(x);
    }
    if let Some(m) = t.mime_type {
        template = template.mime_type(m);
    }
    if completes && let Ok(parsed) = UriTemplate::parse(&t.uri_template) {
        for variable in parsed.variables() {
            let reference = CompletionReference::Resource {
                uri: t.uri_template.clone(),
            };
            template = template.complete(variable, completer(bridge, reference, variable));
        }
    }
    let bridge = bridge.clone();
    template.handler(move |req: ResourceRequest| read(bridge.clone(), req))
}

fn prompt_route(
    bridge: &Arc<Bridge>,
    p: mcp_protocol::types::Prompt,
    completes: bool,
) -> mcp_server::PromptRoute {
    let mut prompt = Prompt::new(p.name.clone());
    if let Some(d) = p.description {
        prompt = prompt.description(d);
    }
    if let Some(t) = p.title {
        prompt = prompt.title(t);
    }
    for icon in p.icons.unwrap_or_default() {
        prompt = prompt.icon(icon);
    }
    for a in p.arguments.unwrap_or_default() {
        prompt = prompt.argument(
            a.name.clone(),
            a.description.unwrap_or_default(),
            a.required.unwrap_or(false),
        );
        if completes {
            let reference = CompletionReference::Prompt {
                name: p.name.clone(),
                title: None,
            };
            prompt = prompt.complete(&a.name, completer(bridge, reference, &a.name));
        }
    }
    let bridge = bridge.clone();
    let name: Arc<str> = Arc::from(p.name);
    prompt.handler(move |req: PromptRequest| {
        let bridge = bridge.clone();
        let name = name.clone();
        async move {
            let (client, _in_flight) = bridge.client_for(&req.ctx).await?;
            client
                .get_prompt(&name, req.arguments)
                .await
                .map_err(upstream_error)
        }
    })
}

/// Completes through the shared child (a completion carries no session to pick a child by, so
/// per-session bridges offer none).
fn completer(
    bridge: &Arc<Bridge>,
    reference: CompletionReference,
    argument: &str,
) -> CompleteWith<impl Fn(CompletionRequest) -> BoxFuture<Vec<String>> + Send + Sync + use<>> {
    let bridge = Arc::downgrade(bridge);
    let argument: Arc<str> = Arc::from(argument);
    CompleteWith(move |req: CompletionRequest| -> BoxFuture<Vec<String>> {
        let client = bridge.upgrade().and_then(|b| match &b.mode {
            Mode::Shared(shared) => shared.current.borrow().clone(),
            Mode::PerSession(_) => None,
        });
        let reference = reference.clone();
        let argument = argument.clone();
        Box::pin(async move {
            let Some(client) = client else {
                return Vec::new();
            };
            match client.complete(reference, &argument, &req.value).await {
                Ok(c) => c.values,
                Err(e) => {
                    tracing::debug!(error = %e, "completion at the bridged server failed");
                    Vec::new()
                }
            }
        })
    })
}

/// What a client call's failure becomes for the downstream client.
fn upstream_error(e: ClientError) -> ToolError {
    match e {
        ClientError::Server(error) => McpError::from_error_object(error).into(),
        ClientError::Timeout { after, .. } => McpError::Other(
            ErrorObject::new(
                TIMED_OUT,
                format!("the bridged server did not answer within {after:?}"),
            )
            .with_data(json!({"reason": "timed_out"})),
        )
        .into(),
        ClientError::Transport(m) => unavailable(format!("the bridged server went away: {m}")),
        other => McpError::Internal(format!("the bridged server: {other}")).into(),
    }
}

fn unavailable(message: impl Into<String>) -> ToolError {
    McpError::Other(
        ErrorObject::new(UNAVAILABLE, message).with_data(json!({"reason": "upstream_unavailable"})),
    )
    .into()
}

fn poisoned() -> ToolError {
    McpError::Internal("the bridge's session table is unusable".into()).into()
}

/// A downstream client's refusal, as the child sees it.
fn to_mcp(e: ToolError) -> McpError {
    match e {
        ToolError::Protocol(e) => e,
        other => McpError::Internal(other.to_string()),
    }
}
