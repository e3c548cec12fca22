//! The dual-era dispatcher: one request in, one response out, in either era.
//!
//! A transport hands [`Server::handle`] a JSON-RPC request; [`Server::prepare`] settles its era,
//! parses its params once and looks up the tool it names, giving an [`McpRequest`]; the server's
//! service stack (its layers, then [`Server::execute`]) answers with an [`McpResponse`], which
//! `handle` serializes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mcp_protocol::jsonrpc::{ErrorResponse, Request, RequestId};
use mcp_protocol::meta::Meta;
use mcp_protocol::methods;
use mcp_protocol::types::*;
use mcp_protocol::{
    ForRevision, McpError, Negotiated, ProtocolVersion, negotiate_legacy, negotiate_modern,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::context::{
    ContextInner, Extensions, InputRound, LegacyPeer, Outbox, Peer, PendingRequests,
    RequestContext, SessionHandle,
};
use crate::error::ToolError;
use crate::request::{
    Authentication, ListFilter, Listed, McpRequest, McpResponse, Outcome, Params, RequestEra,
};
use crate::request_state::digest;
use crate::router::{Change, CompletionRequest, PromptRequest, ResourceRequest, ToolCall};
use crate::server::Server;
use crate::tasks::{Decision, Started, TaskAnswer, TaskWatch};

/// A legacy session: what `initialize` settled.
#[derive(Debug, Clone)]
pub(crate) struct LegacySession {
    pub(crate) version: ProtocolVersion,
    pub(crate) capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Arc<Implementation>>,
}

/// The state of one connection (a stdio process, a socket, a legacy HTTP session).
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) outbox: mpsc::Sender<Vec<u8>>,
    pub(crate) legacy: Mutex<Option<LegacySession>>,
    pub(crate) log_level: Mutex<Option<LoggingLevel>>,
    pub(crate) subscriptions: Mutex<HashSet<String>>,
    pub(crate) pending: Arc<PendingRequests>,
    pub(crate) in_flight: Mutex<HashMap<RequestId, CancellationToken>>,
    pub(crate) closing: CancellationToken,
    /// Unique in this process: what `RequestContext::session` names the connection by.
    pub(crate) id: u64,
}

/// The next connection id.
static NEXT_CONNECTION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Connection {
    pub(crate) fn new(outbox: mpsc::Sender<Vec<u8>>) -> Self {
        Self {
            id: NEXT_CONNECTION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            outbox,
            legacy: Mutex::new(None),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            pending: Arc::default(),
            in_flight: Mutex::new(HashMap::new()),
            closing: CancellationToken::new(),
        }
    }

    pub(crate) fn legacy_session(&self) -> Option<LegacySession> {
        self.legacy.lock().ok().and_then(|s| s.clone())
    }
}

/// The digest binding a multi-round-trip `requestState` to its request; empty in the legacy
/// era, which has no such exchange (and so pays nothing for it).
fn identity_of<T: Serialize>(era: &RequestEra, identity: &T) -> String {
    if era.is_modern() {
        digest(identity)
    } else {
        String::new()
    }
}

/// The reply to one request: serialized bytes, or nothing (cancelled).
pub(crate) type Reply = Option<Vec<u8>>;

/// A result serialized for `revision` (the `result` member only).
fn encode<T: Serialize>(result: &T, revision: ProtocolVersion) -> Vec<u8> {
    serde_json::to_vec(&ForRevision::new(result, revision)).unwrap_or_default()
}

/// The bytes of an error response.
pub(crate) fn error_bytes(
    id: Option<RequestId>,
    error: &McpError,
    revision: ProtocolVersion,
) -> Vec<u8> {
    serde_json::to_vec(&ErrorResponse::new(id, error.to_error_object(revision))).unwrap_or_default()
}

fn params<T: DeserializeOwned>(req: &Request) -> Result<T, McpError> {
    req.params_as()
}

/// The revision a request answers in when its `_meta` names a protocol version: that version
/// if it is a modern one, else the newest (the version itself is checked later). `None` for a
/// request without one (legacy, or malformed `_meta`).
fn modern_version_of(req: &Request) -> Option<ProtocolVersion> {
    #[derive(serde::Deserialize)]
    struct MetaOnly {
        #[serde(rename = "_meta")]
        meta: Option<Meta>,
    }
    let requested = req.params_as::<MetaOnly>().ok()?.meta?.protocol_version?;
    Some(
        ProtocolVersion::parse(&requested)
            .filter(|v| v.is_modern())
            .unwrap_or(ProtocolVersion::LATEST),
    )
}

fn cursor_start(cursor: Option<&str>) -> Result<Option<String>, McpError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) => B64
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("k:").map(str::to_owned))
            .map(Some)
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor {c:?}"))),
    }
}

/// One page of a name-ordered map: the items after the cursor's key that `keep` lets through,
/// and the next cursor. Keyset pagination keeps pages stable while routes are added and
/// removed.
fn page<T, O>(
    items: &BTreeMap<String, T>,
    cursor: Option<&str>,
    size: usize,
    keep: impl Fn(&T) -> bool,
    out_of: impl Fn(&T) -> O,
) -> Result<(Vec<O>, Option<String>), McpError> {
    let start = cursor_start(cursor)?;
    let iter: Box<dyn Iterator<Item = (&String, &T)>> = match &start {
        Some(k) => Box::new(items.range::<String, _>((
            std::ops::Bound::Excluded(k.clone()),
            std::ops::Bound::Unbounded,
        ))),
        None => Box::new(items.iter()),
    };
    let mut iter = iter.filter(|(_, v)| keep(v));
    let mut out = Vec::new();
    let mut last = None;
    for (k, v) in iter.by_ref().take(size.max(1)) {
        out.push(out_of(v));
        last = Some(k.clone());
    }
    let next = match (iter.next(), last) {
        (Some(_), Some(last)) => Some(B64.encode(format!("k:{last}"))),
        _ => None,
    };
    Ok((out, next))
}

/// A refusal before the request reaches the service: the error and the revision to answer in
/// (`None`: the connection's).
type Early = (Option<ProtocolVersion>, McpError);

/// What `execute` works with once the params are taken out of the request.
struct Head {
    conn: Arc<Connection>,
    id: RequestId,
    method: std::borrow::Cow<'static, str>,
    era: RequestEra,
    cancel: CancellationToken,
    extensions: Extensions,
    principal: Option<Arc<mcp_auth::Principal>>,
}

impl Head {
    fn split(request: McpRequest) -> (Self, Params, Option<Arc<crate::router::ToolRoute>>) {
        let McpRequest {
            conn,
            id,
            method,
            era,
            params,
            cancel,
            extensions,
            principal,
            tool,
            ..
        } = request;
        (
            Self {
                conn,
                id,
                method,
                era,
                cancel,
                extensions,
                principal,
            },
            *params,
            tool,
        )
    }

    fn revision(&self) -> ProtocolVersion {
        self.era.revision()
    }

    fn ok<T: Serialize>(&self, result: &T) -> McpResponse {
        McpResponse::result(
            self.id.clone(),
            self.revision(),
            encode(result, self.revision()),
            Outcome::Success,
        )
    }

    fn fail(&self, error: McpError) -> McpResponse {
        McpResponse::error(self.id.clone(), self.revision(), error)
    }

    fn cancelled(&self) -> McpResponse {
        McpResponse::cancelled(self.id.clone(), self.revision())
    }

    /// Whether `item` may be listed (a layer may have set a [`ListFilter`]).
    fn lists(&self, item: Listed<'_>) -> bool {
        self.extensions
            .get::<ListFilter>()
            .is_none_or(|filter| filter.allows(item))
    }
}

impl Server {
    /// Handles one request on a connection: prepares it, runs it through the service stack,
    /// serializes the response. `None` when the request was cancelled: a cancelled request gets
    /// no response.
    pub(crate) async fn handle(
        &self,
        conn: &Arc<Connection>,
        req: Request,
        cancel: CancellationToken,
        authentication: Authentication,
    ) -> Reply {
        match self.prepare(conn, req, cancel, authentication) {
            Ok(request) => {
                // A request whose future is dropped (its client went away, its transport gave
                // up on it) fires its token too, so work the handler spawned with a clone of the
                // token stops with it.
                let dropped = request.cancel.clone().drop_guard();
                let reply = self.call_stack(request).await.into_bytes();
                dropped.disarm();
                reply
            }
            Err((id, revision, error)) => {
                let fallback = conn
                    .legacy_session()
                    .map_or(ProtocolVersion::LATEST, |s| s.version);
                Some(error_bytes(Some(id), &error, revision.unwrap_or(fallback)))
            }
        }
    }

    /// Answers one message without a transport: for custom transports (a queue, a serverless
    /// function) and tests. Each call is a connection of its own, so it suits 2026-07-28
    /// requests (stateless); notifications the handler sends are dropped. `None` for a
    /// notification or a response, or a cancelled request.
    ///
    /// ```
    /// use mcp_server::{Authentication, Router, Server, Tool};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = Server::new("s", "1.0.0", Router::new().tool(Tool::new("hi").handler(|| async { "hello" })));
    /// let call = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hi",
    ///     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
    ///              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    /// let reply = server.handle_message(call, Authentication::None).await.unwrap();
    /// let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    /// assert_eq!(reply["result"]["content"][0]["text"], "hello");
    /// # }
    /// ```
    pub async fn handle_message(
        &self,
        message: &[u8],
        authentication: Authentication,
    ) -> Option<Vec<u8>> {
        use mcp_protocol::jsonrpc::{self, Message};
        match jsonrpc::parse(message) {
            Err(e) => Some(serde_json::to_vec(&e.to_response()).unwrap_or_default()),
            Ok(Message::Request(req)) => {
                // Nobody reads this connection's outbox: what the handler sends is dropped.
                let (outbox, _) = mpsc::channel(1);
                let conn = Arc::new(Connection::new(outbox));
                self.handle(&conn, req, CancellationToken::new(), authentication)
                    .await
            }
            Ok(_) => None,
        }
    }

    /// Runs a prepared request through the layers and the dispatcher.
    pub(crate) async fn call_stack(&self, request: McpRequest) -> McpResponse {
        // Without layers the dispatcher is awaited in place: nothing cloned or boxed.
        if self.inner.stack.is_bare() {
            return self.execute(request).await;
        }
        match self.inner.stack.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn resolve_era(
        &self,
        conn: &Connection,
        meta: Option<&Meta>,
        method: &str,
    ) -> Result<RequestEra, McpError> {
        if let Some(meta) = meta {
            if let Some(requested) = &meta.protocol_version {
                let version =
                    match negotiate_modern(requested, &self.inner.options.supported_versions) {
                        Negotiated::Agreed(v) => v,
                        Negotiated::Unsupported(data) => {
                            return Err(McpError::UnsupportedProtocolVersion(data));
                        }
                    };
                let capabilities =
                    meta.client_capabilities
                        .as_deref()
                        .cloned()
                        .ok_or_else(|| {
                            McpError::invalid_params(
                                "missing _meta[\"io.modelcontextprotocol/clientCapabilities\"]",
                            )
                        })?;
                return Ok(RequestEra::Modern {
                    version,
                    capabilities: Arc::new(capabilities),
                    client_info: meta.client_info.as_deref().cloned().map(Arc::new),
                });
            }
            if meta.client_capabilities.is_some() {
                return Err(McpError::invalid_params(
                    "missing _meta[\"io.modelcontextprotocol/protocolVersion\"]",
                ));
            }
        }
        if let Some(session) = conn.legacy_session() {
            return Ok(RequestEra::Legacy(session));
        }
        if method == "ping" {
            return Ok(RequestEra::PreInit);
        }
        Err(McpError::invalid_params(
            "missing _meta: a 2026-07-28 request must carry io.modelcontextprotocol/protocolVersion and \
             io.modelcontextprotocol/clientCapabilities in _meta; a legacy client must send initialize first",
        ))
    }

    /// Turns a JSON-RPC request into an [`McpRequest`]: params parsed into their type, era
    /// settled, the named tool looked up. Errors here are answered without going through the
    /// layers (they concern the message, not what it asks for).
    pub(crate) fn prepare(
        &self,
        conn: &Arc<Connection>,
        req: Request,
        cancel: CancellationToken,
        authentication: Authentication,
    ) -> Result<McpRequest, (RequestId, Option<ProtocolVersion>, McpError)> {
        let (parsed, era) = match self.settle(conn, &req) {
            Ok(settled) => settled,
            Err((revision, error)) => return Err((req.id, revision, error)),
        };
        let tool = match &parsed {
            Params::CallTool(p) => self.inner.router.read().tools.get(&p.name).cloned(),
            _ => None,
        };
        // Who the transport established is the request's principal from the start; the
        // AuthLayer adds the policy for requests without one.
        let principal = match &authentication {
            Authentication::Principal(p) => Some(p.clone()),
            _ => None,
        };
        Ok(McpRequest {
            server: self.clone(),
            conn: conn.clone(),
            id: req.id,
            method: req.method,
            era,
            params: Box::new(parsed),
            cancel,
            authentication,
            principal,
            extensions: Extensions::default(),
            tool,
        })
    }

    /// A request's typed params and its era.
    fn settle(&self, conn: &Connection, req: &Request) -> Result<(Params, RequestEra), Early> {
        let no_rev = |e: McpError| (None, e);
        // A 2026-07-28 request for a method that revision removed (`initialize`,
        // `logging/setLevel`, ...) is -32601 whatever its params: they are not read.
        if let Some(version) = modern_version_of(req)
            && methods::removed_in_modern().any(|m| m == req.method)
        {
            return Err((
                Some(version),
                McpError::MethodNotFound(req.method.to_string()),
            ));
        }
        let parsed = match &*req.method {
            "initialize" => Params::Initialize(Box::new(params(req).map_err(no_rev)?)),
            "ping" => Params::Ping(params(req).map_err(no_rev)?),
            "server/discover" => Params::Discover(params(req).map_err(no_rev)?),
            "tools/list" => Params::ListTools(params(req).map_err(no_rev)?),
            "tools/call" => Params::CallTool(params(req).map_err(no_rev)?),
            "resources/list" => Params::ListResources(params(req).map_err(no_rev)?),
            "resources/templates/list" => Params::ListTemplates(params(req).map_err(no_rev)?),
            "resources/read" => Params::ReadResource(params(req).map_err(no_rev)?),
            "resources/subscribe" => Params::Subscribe(params(req).map_err(no_rev)?),
            "resources/unsubscribe" => Params::Unsubscribe(params(req).map_err(no_rev)?),
            "prompts/list" => Params::ListPrompts(params(req).map_err(no_rev)?),
            "prompts/get" => Params::GetPrompt(params(req).map_err(no_rev)?),
            "completion/complete" => Params::Complete(params(req).map_err(no_rev)?),
            "logging/setLevel" => Params::SetLevel(params(req).map_err(no_rev)?),
            "subscriptions/listen" => Params::Listen(params(req).map_err(no_rev)?),
            // The tasks extension reads its own params from the request.
            "tasks/get" | "tasks/update" | "tasks/cancel" => {
                Params::Task(params(req).map_err(no_rev)?, Box::new(req.clone()))
            }
            other => return Err((None, McpError::MethodNotFound(other.to_owned()))),
        };
        let era = if matches!(parsed, Params::Initialize(_)) {
            RequestEra::PreInit
        } else {
            let era = self
                .resolve_era(conn, parsed.meta(), &req.method)
                .map_err(|e| {
                    // Errors about the modern envelope are modern errors.
                    let rev = parsed
                        .meta()
                        .and_then(|m| m.protocol_version.as_ref())
                        .map(|_| ProtocolVersion::LATEST);
                    (rev, e)
                })?;
            let modern = era.is_modern();
            let removed = methods::removed_in_modern().any(|m| m == req.method);
            let modern_only = matches!(&*req.method, "server/discover" | "subscriptions/listen");
            if (modern && removed) || (!modern && modern_only) {
                return Err((
                    Some(era.revision()),
                    McpError::MethodNotFound(req.method.to_string()),
                ));
            }
            era
        };
        Ok((parsed, era))
    }

    fn result_meta(&self, era: &RequestEra) -> Option<Meta> {
        era.is_modern().then(|| Meta {
            server_info: Some(Box::new(self.inner.info.clone())),
            ..Meta::default()
        })
    }

    fn cache<T: Cacheable>(&self, era: &RequestEra, mut result: T) -> T {
        if era.is_modern() {
            result.set_cache(
                self.inner.options.cache_ttl_ms,
                self.inner.options.cache_scope,
            );
        }
        result
    }

    /// The handler's context; `cancel` fires when the handler should stop (the request's
    /// token, or a task's own).
    fn context(
        &self,
        head: &mut Head,
        meta: Meta,
        answers: Option<InputResponses>,
        cancel: CancellationToken,
    ) -> RequestContext {
        let conn = &head.conn;
        let revision = head.revision();
        let outbox = Outbox::new(crate::context::response_stream_or(&conn.outbox), revision);
        let (capabilities, client_info, log_level, peer) = match &head.era {
            RequestEra::Modern {
                capabilities,
                client_info,
                ..
            } => (
                capabilities.clone(),
                client_info.clone(),
                meta.log_level,
                answers.map_or(Peer::None, |a| Peer::Modern(Arc::new(InputRound::new(a)))),
            ),
            RequestEra::Legacy(s) => (
                s.capabilities.clone(),
                s.client_info.clone(),
                conn.log_level.lock().ok().and_then(|l| *l),
                Peer::Legacy(LegacyPeer {
                    outbox: outbox.clone(),
                    pending: conn.pending.clone(),
                    timeout: self.inner.options.client_request_timeout,
                }),
            ),
            RequestEra::PreInit => (Arc::default(), None, None, Peer::None),
        };
        // Only a legacy request belongs to a session; a modern one's connection is its own.
        let session = matches!(head.era, RequestEra::Legacy(_)).then(|| SessionHandle {
            id: conn.id,
            ended: conn.closing.clone(),
        });
        RequestContext {
            inner: Arc::new(ContextInner {
                id: head.id.clone(),
                method: head.method.to_string(),
                revision,
                meta,
                client_capabilities: capabilities,
                client_info,
                cancel,
                outbox,
                log_level,
                peer,
                extensions: std::mem::take(&mut head.extensions),
                principal: head.principal.take(),
                last_progress: Mutex::new(None),
                session,
            }),
        }
    }

    /// The dispatcher: answers a prepared request. The innermost service of the stack.
    pub(crate) async fn execute(&self, request: McpRequest) -> McpResponse {
        if matches!(*request.params, Params::CallTool(_)) {
            // A tool with layers of its own runs through them (they end in `call_tool`).
            if let Some(layered) = request.tool.as_ref().and_then(|t| t.layered.clone()) {
                return match layered.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
            }
            return self.call_tool(request).await;
        }
        // Boxed: the other methods' futures would otherwise make every tool call's future
        // (which the stack's layers and the transports move and box) kilobytes bigger.
        Box::pin(self.execute_other(request)).await
    }

    /// Every method but `tools/call`.
    async fn execute_other(&self, request: McpRequest) -> McpResponse {
        let (mut head, params, _) = Head::split(request);
        match params {
            Params::Initialize(p) => self.initialize(&head, p),
            Params::Ping(_) => head.ok(&EmptyResult::default()),
            Params::Discover(_) => {
                let result = self.cache(
                    &head.era,
                    DiscoverResult {
                        supported_versions: self
                            .inner
                            .options
                            .supported_versions
                            .iter()
                            .rev()
                            .map(|v| v.as_str().to_owned())
                            .collect(),
                        capabilities: self.capabilities(),
                        instructions: self.inner.options.instructions.clone(),
                        meta: self.result_meta(&head.era),
                        ..DiscoverResult::default()
                    },
                );
                head.ok(&result)
            }
            Params::ListTools(p) => {
                let listed = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.tools,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                        |t| head.lists(Listed::Tool(t)),
                        |t| t.definition.clone(),
                    )
                };
                match listed {
                    Ok((tools, next_cursor)) => {
                        let result = self.cache(
                            &head.era,
                            ListToolsResult {
                                tools,
                                next_cursor,
                                meta: self.result_meta(&head.era),
                                ..ListToolsResult::default()
                            },
                        );
                        head.ok(&result)
                    }
                    Err(e) => head.fail(e),
                }
            }
            Params::ListResources(p) => {
                let listed = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.resources,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                        |r| head.lists(Listed::Resource(r)),
                        |r| r.definition.clone(),
                    )
                };
                match listed {
                    Ok((resources, next_cursor)) => {
                        let result = self.cache(
                            &head.era,
                            ListResourcesResult {
                                resources,
                                next_cursor,
                                meta: self.result_meta(&head.era),
                                ..ListResourcesResult::default()
                            },
                        );
                        head.ok(&result)
                    }
                    Err(e) => head.fail(e),
                }
            }
            Params::ListTemplates(p) => {
                let listed = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.templates,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                        |t| head.lists(Listed::Template(t)),
                        |t| t.definition.clone(),
                    )
                };
                match listed {
                    Ok((resource_templates, next_cursor)) => {
                        let result = self.cache(
                            &head.era,
                            ListResourceTemplatesResult {
                                resource_templates,
                                next_cursor,
                                meta: self.result_meta(&head.era),
                                ..ListResourceTemplatesResult::default()
                            },
                        );
                        head.ok(&result)
                    }
                    Err(e) => head.fail(e),
                }
            }
            Params::ReadResource(p) => self.read_resource(&mut head, p).await,
            Params::Subscribe(p) | Params::Unsubscribe(p) => {
                if let Ok(mut subs) = head.conn.subscriptions.lock() {
                    if head.method == "resources/subscribe" {
                        subs.insert(p.uri);
                    } else {
                        subs.remove(&p.uri);
                    }
                }
                head.ok(&EmptyResult::default())
            }
            Params::ListPrompts(p) => {
                let listed = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.prompts,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                        |pr| head.lists(Listed::Prompt(pr)),
                        |pr| pr.definition.clone(),
                    )
                };
                match listed {
                    Ok((prompts, next_cursor)) => {
                        let result = self.cache(
                            &head.era,
                            ListPromptsResult {
                                prompts,
                                next_cursor,
                                meta: self.result_meta(&head.era),
                                ..ListPromptsResult::default()
                            },
                        );
                        head.ok(&result)
                    }
                    Err(e) => head.fail(e),
                }
            }
            Params::GetPrompt(p) => self.get_prompt(&mut head, p).await,
            Params::Complete(p) => match self.complete(&p).await {
                Ok(completion) => head.ok(&CompleteResult {
                    completion,
                    meta: self.result_meta(&head.era),
                    ..CompleteResult::default()
                }),
                Err(e) => head.fail(e),
            },
            Params::SetLevel(p) => {
                if let Ok(mut level) = head.conn.log_level.lock() {
                    *level = Some(p.level);
                }
                head.ok(&EmptyResult::default())
            }
            Params::Listen(p) => self.listen(&head, p).await,
            Params::CallTool(_) => {
                head.fail(McpError::Internal("tools/call dispatched twice".into()))
            }
            Params::Task(_, raw) => {
                let capabilities = head
                    .era
                    .client_capabilities()
                    .filter(|_| head.era.is_modern());
                let answer = self.inner.tasks.request(&raw, capabilities).await;
                let meta = self.result_meta(&head.era);
                match answer {
                    Ok(TaskAnswer::Task(task)) => head.ok(&tasks::GetTaskResult {
                        result_type: result::Complete,
                        task: *task,
                        meta,
                    }),
                    Ok(TaskAnswer::Ack) => head.ok(&EmptyResult {
                        meta,
                        ..EmptyResult::default()
                    }),
                    Err(e) => head.fail(e),
                }
            }
        }
    }

    fn initialize(&self, head: &Head, p: Box<InitializeRequestParams>) -> McpResponse {
        let p = *p;
        let fallback = head
            .conn
            .legacy_session()
            .map_or(ProtocolVersion::LATEST, |s| s.version);
        let fail = |e| McpResponse::error(head.id.clone(), fallback, e);
        let version =
            match negotiate_legacy(&p.protocol_version, &self.inner.options.supported_versions) {
                Negotiated::Agreed(v) => v,
                Negotiated::Unsupported(data) => {
                    return fail(McpError::UnsupportedProtocolVersion(data));
                }
            };
        {
            let Ok(mut session) = head.conn.legacy.lock() else {
                return fail(McpError::Internal("session lock poisoned".into()));
            };
            if session.is_some() {
                return fail(McpError::InvalidRequest("already initialized".into()));
            }
            *session = Some(LegacySession {
                version,
                capabilities: Arc::new(p.capabilities),
                client_info: Some(Arc::new(p.client_info)),
            });
        }
        let result = InitializeResult {
            protocol_version: version.as_str().to_owned(),
            capabilities: self.capabilities(),
            server_info: self.inner.info.clone(),
            instructions: self.inner.options.instructions.clone(),
            meta: None,
        };
        McpResponse::result(
            head.id.clone(),
            version,
            encode(&result, version),
            Outcome::Success,
        )
    }

    /// Opens the round of input answers of a modern multi-round-trip request.
    fn open_round(
        &self,
        era: &RequestEra,
        method: &str,
        identity: &str,
        state: Option<&str>,
        responses: Option<InputResponses>,
    ) -> Result<Option<InputResponses>, McpError> {
        if !era.is_modern() {
            return Ok(None);
        }
        let mut answers = match state {
            Some(s) => self.inner.state_key.open(s, method, identity)?,
            None => InputResponses::new(),
        };
        answers.extend(responses.unwrap_or_default());
        Ok(Some(answers))
    }

    /// Turns a handler's "input required" into an `input_required` result.
    fn input_required(
        &self,
        head: &Head,
        ctx: &RequestContext,
        method: &str,
        identity: String,
    ) -> McpResponse {
        let Peer::Modern(round) = &ctx.inner.peer else {
            return head.fail(McpError::Internal(
                "input required outside a multi-round-trip request".into(),
            ));
        };
        let needed = round.needed.lock().map(|n| n.clone()).unwrap_or_default();
        let result = InputRequiredResult {
            input_requests: Some(needed.into_iter().collect()),
            request_state: Some(
                self.inner
                    .state_key
                    .seal(method, identity, round.answers.clone()),
            ),
            meta: self.result_meta(&head.era),
            ..InputRequiredResult::default()
        };
        let rev = head.revision();
        McpResponse::result(
            head.id.clone(),
            rev,
            encode(&result, rev),
            Outcome::InputRequired,
        )
    }

    /// Runs a tool (the end of its own layers, if it has any).
    pub(crate) async fn call_tool(&self, request: McpRequest) -> McpResponse {
        let (mut head, params, tool) = Head::split(request);
        let Params::CallTool(p) = params else {
            return head.fail(McpError::Internal("not a tools/call".into()));
        };
        let Some(tool) = tool else {
            return head.fail(McpError::invalid_params(format!(
                "Unknown tool: {}",
                p.name
            )));
        };
        let arguments = serde_json::Value::Object(p.arguments.unwrap_or_default());
        let rev = head.revision();
        if let Some(invalid) = tool.invalid_arguments(&arguments) {
            // SEP-1303: invalid arguments are a tool result the model reads, not a protocol
            // error; the handler does not run.
            let result = CallToolResult {
                meta: self.result_meta(&head.era).map(Box::new),
                ..invalid
            };
            return McpResponse::result(
                head.id,
                rev,
                encode(&result, rev),
                Outcome::InvalidArguments,
            );
        }
        let identity = identity_of(&head.era, &(&p.name, &arguments));
        let answers = match self.open_round(
            &head.era,
            "tools/call",
            &identity,
            p.request_state.as_deref(),
            p.input_responses,
        ) {
            Ok(a) => a,
            Err(e) => return head.fail(e),
        };
        // Tasks extension: the call may become a task, whose handler outlives the request
        // and so gets a cancellation token of its own.
        let decision = crate::tasks::decide(
            tool.task_support(),
            head.era.is_modern(),
            head.era.client_capabilities(),
        );
        let handler_cancel = match decision {
            Decision::Direct => head.cancel.clone(),
            Decision::Task => CancellationToken::new(),
            Decision::Refuse(e) => return head.fail(e),
            Decision::RefuseLegacy(refusal) => {
                return McpResponse::result(
                    head.id,
                    rev,
                    encode(&*refusal, rev),
                    Outcome::ToolError,
                );
            }
        };
        let ctx = self.context(
            &mut head,
            p.meta.unwrap_or_default(),
            answers,
            handler_cancel.clone(),
        );
        let call = ToolCall {
            arguments,
            ctx: ctx.clone(),
        };
        let outcome = if matches!(decision, Decision::Task) {
            // Boxed: the task path is rare, and its state would otherwise be carried (and
            // copied) by every call's future.
            match Box::pin(
                self.inner
                    .tasks
                    .call(&tool, call, handler_cancel, &head.cancel),
            )
            .await
            {
                Started::Task(created) => {
                    let created = tasks::CreateTaskResult {
                        meta: self.result_meta(&head.era),
                        ..*created
                    };
                    return McpResponse::result(
                        head.id,
                        rev,
                        encode(&created, rev),
                        Outcome::TaskCreated,
                    );
                }
                Started::Finished(outcome) => outcome,
                Started::Cancelled => return head.cancelled(),
                Started::Refused(e) => return head.fail(e),
            }
        } else {
            tokio::select! {
                r = tool.run_handler(call) => r,
                () = head.cancel.cancelled() => return head.cancelled(),
            }
        };
        let result = match outcome {
            Ok(r) => r,
            Err(ToolError::Failed(m)) => CallToolResult::error(m),
            Err(ToolError::Protocol(e)) => return head.fail(e),
            Err(ToolError::InputRequired) => {
                return self.input_required(&head, &ctx, "tools/call", identity);
            }
            Err(ToolError::Cancelled) => return head.cancelled(),
        };
        let result = CallToolResult {
            meta: self.result_meta(&head.era).map(Box::new).or(result.meta),
            ..result
        };
        let kind = if result.is_error == Some(true) {
            Outcome::ToolError
        } else {
            Outcome::Success
        };
        McpResponse::result(head.id, rev, encode(&result, rev), kind)
    }

    async fn read_resource(&self, head: &mut Head, p: ReadResourceRequestParams) -> McpResponse {
        let (read, vars) = {
            let routes = self.inner.router.read();
            if let Some(r) = routes.resources.get(&p.uri) {
                (r.read.clone(), BTreeMap::new())
            } else if let Some((t, vars)) = routes
                .templates
                .values()
                .find_map(|t| t.template.matches(&p.uri).map(|v| (t, v)))
            {
                (t.read.clone(), vars)
            } else {
                return head.fail(McpError::ResourceNotFound { uri: p.uri });
            }
        };
        let identity = identity_of(&head.era, &p.uri);
        let answers = match self.open_round(
            &head.era,
            "resources/read",
            &identity,
            p.request_state.as_deref(),
            p.input_responses,
        ) {
            Ok(a) => a,
            Err(e) => return head.fail(e),
        };
        let cancel = head.cancel.clone();
        let ctx = self.context(head, p.meta.unwrap_or_default(), answers, cancel);
        let outcome = tokio::select! {
            r = read(ResourceRequest { uri: p.uri.clone(), vars, ctx: ctx.clone() }) => r,
            () = head.cancel.cancelled() => return head.cancelled(),
        };
        match outcome {
            Ok(contents) => {
                let result = self.cache(
                    &head.era,
                    ReadResourceResult {
                        contents,
                        meta: self.result_meta(&head.era),
                        ..ReadResourceResult::default()
                    },
                );
                head.ok(&result)
            }
            Err(ToolError::InputRequired) => {
                self.input_required(head, &ctx, "resources/read", identity)
            }
            Err(ToolError::Cancelled) => head.cancelled(),
            Err(ToolError::Protocol(e)) => head.fail(e),
            Err(ToolError::Failed(m)) => head.fail(McpError::Internal(m)),
        }
    }

    async fn get_prompt(&self, head: &mut Head, p: GetPromptRequestParams) -> McpResponse {
        let prompt = self.inner.router.read().prompts.get(&p.name).cloned();
        let Some(prompt) = prompt else {
            return head.fail(McpError::invalid_params(format!(
                "Unknown prompt: {}",
                p.name
            )));
        };
        let arguments = p.arguments.unwrap_or_default();
        for arg in prompt.definition.arguments.iter().flatten() {
            if arg.required == Some(true) && !arguments.contains_key(&arg.name) {
                return head.fail(McpError::invalid_params(format!(
                    "Missing required argument: {}",
                    arg.name
                )));
            }
        }
        let identity = identity_of(&head.era, &(&p.name, &arguments));
        let answers = match self.open_round(
            &head.era,
            "prompts/get",
            &identity,
            p.request_state.as_deref(),
            p.input_responses,
        ) {
            Ok(a) => a,
            Err(e) => return head.fail(e),
        };
        let cancel = head.cancel.clone();
        let ctx = self.context(head, p.meta.unwrap_or_default(), answers, cancel);
        let outcome = tokio::select! {
            r = (prompt.get)(PromptRequest { arguments, ctx: ctx.clone() }) => r,
            () = head.cancel.cancelled() => return head.cancelled(),
        };
        match outcome {
            Ok(result) => {
                let result = GetPromptResult {
                    meta: self.result_meta(&head.era).or(result.meta),
                    ..result
                };
                head.ok(&result)
            }
            Err(ToolError::InputRequired) => {
                self.input_required(head, &ctx, "prompts/get", identity)
            }
            Err(ToolError::Cancelled) => head.cancelled(),
            Err(ToolError::Protocol(e)) => head.fail(e),
            Err(ToolError::Failed(m)) => head.fail(McpError::Internal(m)),
        }
    }

    async fn complete(&self, p: &CompleteRequestParams) -> Result<Completion, McpError> {
        let completer = {
            let routes = self.inner.router.read();
            match &p.reference {
                CompletionReference::Prompt { name, .. } => {
                    let prompt = routes.prompts.get(name).ok_or_else(|| {
                        McpError::invalid_params(format!("Unknown prompt: {name}"))
                    })?;
                    prompt.completions.get(&p.argument.name).cloned()
                }
                CompletionReference::Resource { uri } => {
                    let template = routes.templates.get(uri).ok_or_else(|| {
                        McpError::invalid_params(format!("Unknown resource template: {uri}"))
                    })?;
                    template.completions.get(&p.argument.name).cloned()
                }
            }
        };
        let values = match completer {
            Some(c) => {
                c(CompletionRequest {
                    value: p.argument.value.clone(),
                    context: p
                        .context
                        .as_ref()
                        .and_then(|c| c.arguments.clone())
                        .unwrap_or_default(),
                })
                .await
            }
            None => Vec::new(),
        };
        Ok(Completion::from_matches(values))
    }

    /// A modern listen stream: the acknowledgement, then the notifications asked for, each
    /// tagged with the subscription id, until the client cancels (no response) or the server
    /// closes (a final result).
    async fn listen(&self, head: &Head, p: SubscriptionsListenRequestParams) -> McpResponse {
        let conn = &head.conn;
        let rev = head.revision();
        let outbox = Outbox::new(conn.outbox.clone(), rev);
        let want = p.notifications;
        let mut honoured = SubscriptionFilter {
            tools_list_changed: want.tools_list_changed.filter(|b| *b),
            prompts_list_changed: want.prompts_list_changed.filter(|b| *b),
            resources_list_changed: want.resources_list_changed.filter(|b| *b),
            resource_subscriptions: want
                .resource_subscriptions
                .clone()
                .filter(|v| !v.is_empty()),
            ..SubscriptionFilter::default()
        };
        let tag = || {
            Some(Meta {
                subscription_id: Some(head.id.clone()),
                ..Meta::default()
            })
        };
        // Tasks extension: `notifications/tasks` for the task ids asked for, starting with their
        // current state (a change may have happened before the stream opened).
        let (task_states, mut task_watch) = match want.task_ids.as_deref() {
            Some(ids) if !ids.is_empty() => {
                let declared = head
                    .era
                    .client_capabilities()
                    .is_some_and(|c| c.has_extension(tasks::TASKS_EXTENSION));
                if !declared {
                    return head.fail(crate::tasks::missing_extension());
                }
                self.inner.tasks.watch(ids).await
            }
            _ => (Vec::new(), TaskWatch::none()),
        };
        honoured.task_ids = (!task_states.is_empty())
            .then(|| task_states.iter().map(|t| t.task.task_id.clone()).collect());
        let mut changes = self.inner.router.subscribe();
        outbox
            .notify(
                "notifications/subscriptions/acknowledged",
                SubscriptionsAcknowledgedNotificationParams {
                    notifications: honoured.clone(),
                    meta: tag(),
                },
            )
            .await;
        let task_note = |task: &tasks::DetailedTask| tasks::TaskNotificationParams {
            task: task.clone(),
            meta: tag(),
        };
        for task in &task_states {
            outbox.notify("notifications/tasks", task_note(task)).await;
        }
        loop {
            let change = tokio::select! {
                task = task_watch.next() => {
                    outbox.notify("notifications/tasks", task_note(&task)).await;
                    continue;
                }
                c = changes.recv() => c,
                () = head.cancel.cancelled() => return head.cancelled(),
                () = conn.closing.cancelled() => {
                    let end = SubscriptionsListenResult {
                        meta: Meta {
                            subscription_id: Some(head.id.clone()),
                            server_info: Some(Box::new(self.inner.info.clone())),
                            ..Meta::default()
                        },
                        ..Default::default()
                    };
                    return head.ok(&end);
                }
            };
            let change = match change {
                Ok(c) => c,
                // Missed changes while lagging: tell the client every list may have changed.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Change::Tools,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return head.cancelled(),
            };
            let params = NotificationParams { meta: tag() };
            match change {
                Change::Tools if honoured.tools_list_changed == Some(true) => {
                    outbox
                        .notify("notifications/tools/list_changed", params)
                        .await
                }
                Change::Prompts if honoured.prompts_list_changed == Some(true) => {
                    outbox
                        .notify("notifications/prompts/list_changed", params)
                        .await
                }
                Change::Resources if honoured.resources_list_changed == Some(true) => {
                    outbox
                        .notify("notifications/resources/list_changed", params)
                        .await
                }
                Change::ResourceUpdated(uri)
                    if honoured
                        .resource_subscriptions
                        .as_ref()
                        .is_some_and(|s| s.iter().any(|u| uri.starts_with(u.as_str()))) =>
                {
                    outbox
                        .notify(
                            "notifications/resources/updated",
                            ResourceUpdatedNotificationParams { uri, meta: tag() },
                        )
                        .await
                }
                _ => true,
            };
        }
    }

    /// Forwards router changes to a legacy session: list-changed notifications, and updates of
    /// subscribed resources.
    pub(crate) async fn forward_changes(&self, conn: Arc<Connection>) {
        let mut changes = self.inner.router.subscribe();
        loop {
            let change = tokio::select! {
                c = changes.recv() => c,
                () = conn.closing.cancelled() => return,
            };
            let change = match change {
                Ok(c) => c,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            self.notify_change(&conn, change).await;
        }
    }

    /// The router's changes, for transports that forward them to many connections from one
    /// task (HTTP sessions) instead of one task per connection.
    #[cfg(feature = "http")]
    pub(crate) fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.inner.router.subscribe()
    }

    /// Sends one router change to a legacy session: a list-changed notification, or an update
    /// of a resource it subscribed to.
    pub(crate) async fn notify_change(&self, conn: &Connection, change: Change) {
        let Some(session) = conn.legacy_session() else {
            return;
        };
        let outbox = Outbox::new(conn.outbox.clone(), session.version);
        let params = NotificationParams::default();
        match change {
            Change::Tools => {
                outbox
                    .notify("notifications/tools/list_changed", params)
                    .await
            }
            Change::Prompts => {
                outbox
                    .notify("notifications/prompts/list_changed", params)
                    .await
            }
            Change::Resources => {
                outbox
                    .notify("notifications/resources/list_changed", params)
                    .await
            }
            Change::ResourceUpdated(uri) => {
                let subscribed = conn
                    .subscriptions
                    .lock()
                    .map(|s| s.iter().any(|u| uri.starts_with(u.as_str())))
                    .unwrap_or(false);
                if subscribed {
                    outbox
                        .notify(
                            "notifications/resources/updated",
                            ResourceUpdatedNotificationParams { uri, meta: None },
                        )
                        .await
                } else {
                    true
                }
            }
        };
    }
}
