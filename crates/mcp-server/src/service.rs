//! The dual-era dispatcher: one request in, one response out, in either era.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mcp_protocol::jsonrpc::{ErrorResponse, Request, RequestId, Response};
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

use crate::context::{
    ContextInner, Extensions, InputRound, LegacyPeer, Outbox, Peer, PendingRequests, RequestContext,
};
use crate::error::ToolError;
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
}

impl Connection {
    pub(crate) fn new(outbox: mpsc::Sender<Vec<u8>>) -> Self {
        Self {
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
fn identity_of<T: Serialize>(era: &Era, identity: &T) -> String {
    if matches!(era, Era::Modern { .. }) {
        digest(identity)
    } else {
        String::new()
    }
}

/// The era a request is handled in.
#[derive(Debug, Clone)]
enum Era {
    Modern {
        version: ProtocolVersion,
        capabilities: Arc<ClientCapabilities>,
        client_info: Option<Arc<Implementation>>,
    },
    Legacy(LegacySession),
    /// A legacy `ping` before `initialize`.
    PreInit,
}

impl Era {
    /// What the client declared: on this request (modern) or for the session (legacy).
    fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        match self {
            Self::Modern { capabilities, .. } => Some(capabilities),
            Self::Legacy(s) => Some(&s.capabilities),
            Self::PreInit => None,
        }
    }

    fn revision(&self) -> ProtocolVersion {
        match self {
            Self::Modern { version, .. } => *version,
            Self::Legacy(s) => s.version,
            Self::PreInit => ProtocolVersion::LATEST_LEGACY,
        }
    }
}

/// Params that carry `_meta`.
trait HasMeta {
    fn meta(&self) -> Option<&Meta>;
}

macro_rules! has_meta {
    ($($t:ty),*) => {$(impl HasMeta for $t { fn meta(&self) -> Option<&Meta> { self.meta.as_ref() } })*};
}
has_meta!(
    RequestParams,
    PaginatedRequestParams,
    CallToolRequestParams,
    ReadResourceRequestParams,
    SubscribeRequestParams,
    GetPromptRequestParams,
    CompleteRequestParams,
    SetLevelRequestParams,
    SubscriptionsListenRequestParams
);

/// The reply to one request: serialized bytes, or nothing (cancelled).
pub(crate) type Reply = Option<Vec<u8>>;

fn encode<T: Serialize>(id: &RequestId, result: &T, revision: ProtocolVersion) -> Vec<u8> {
    serde_json::to_vec(&ForRevision::new(
        &Response::new(id.clone(), result),
        revision,
    ))
    .unwrap_or_default()
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

/// One page of a name-ordered map: items after the cursor's key, and the next cursor. Keyset
/// pagination keeps pages stable while routes are added and removed.
fn page<T: Clone>(
    items: &BTreeMap<String, T>,
    cursor: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), McpError> {
    let start = cursor_start(cursor)?;
    let mut iter: Box<dyn Iterator<Item = (&String, &T)>> = match &start {
        Some(k) => Box::new(items.range::<String, _>((
            std::ops::Bound::Excluded(k.clone()),
            std::ops::Bound::Unbounded,
        ))),
        None => Box::new(items.iter()),
    };
    let mut out = Vec::new();
    let mut last = None;
    for (k, v) in iter.by_ref().take(size.max(1)) {
        out.push(v.clone());
        last = Some(k.clone());
    }
    let next = match (iter.next(), last) {
        (Some(_), Some(last)) => Some(B64.encode(format!("k:{last}"))),
        _ => None,
    };
    Ok((out, next))
}

impl Server {
    fn resolve_era(
        &self,
        conn: &Connection,
        meta: Option<&Meta>,
        method: &str,
    ) -> Result<Era, McpError> {
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
                return Ok(Era::Modern {
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
            return Ok(Era::Legacy(session));
        }
        if method == "ping" {
            return Ok(Era::PreInit);
        }
        Err(McpError::invalid_params(
            "missing _meta: a 2026-07-28 request must carry io.modelcontextprotocol/protocolVersion and \
             io.modelcontextprotocol/clientCapabilities in _meta; a legacy client must send initialize first",
        ))
    }

    fn result_meta(&self, era: &Era) -> Option<Meta> {
        matches!(era, Era::Modern { .. }).then(|| Meta {
            server_info: Some(Box::new(self.inner.info.clone())),
            ..Meta::default()
        })
    }

    fn cache<T: Cacheable>(&self, era: &Era, mut result: T) -> T {
        if matches!(era, Era::Modern { .. }) {
            result.set_cache(
                self.inner.options.cache_ttl_ms,
                self.inner.options.cache_scope,
            );
        }
        result
    }

    fn context(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        era: &Era,
        meta: Meta,
        cancel: CancellationToken,
        answers: Option<InputResponses>,
    ) -> RequestContext {
        let revision = era.revision();
        let outbox = Outbox::new(crate::context::response_stream_or(&conn.outbox), revision);
        let (capabilities, client_info, log_level, peer) = match era {
            Era::Modern {
                capabilities,
                client_info,
                ..
            } => (
                capabilities.clone(),
                client_info.clone(),
                meta.log_level,
                answers.map_or(Peer::None, |a| Peer::Modern(Arc::new(InputRound::new(a)))),
            ),
            Era::Legacy(s) => (
                s.capabilities.clone(),
                s.client_info.clone(),
                conn.log_level.lock().ok().and_then(|l| *l),
                Peer::Legacy(LegacyPeer {
                    outbox: outbox.clone(),
                    pending: conn.pending.clone(),
                    timeout: self.inner.options.client_request_timeout,
                }),
            ),
            Era::PreInit => (Arc::default(), None, None, Peer::None),
        };
        RequestContext {
            inner: Arc::new(ContextInner {
                id: req.id.clone(),
                method: req.method.to_string(),
                revision,
                meta,
                client_capabilities: capabilities,
                client_info,
                cancel,
                outbox,
                log_level,
                peer,
                extensions: Extensions::default(),
                last_progress: Mutex::new(None),
            }),
        }
    }

    /// Handles one request on a connection. `None` when the request was cancelled: a cancelled
    /// request gets no response.
    pub(crate) async fn handle(
        &self,
        conn: &Arc<Connection>,
        req: Request,
        cancel: CancellationToken,
    ) -> Reply {
        let fallback = conn
            .legacy_session()
            .map_or(ProtocolVersion::LATEST, |s| s.version);
        match self.dispatch(conn, &req, &cancel).await {
            Ok(bytes) => bytes,
            Err((revision, error)) => Some(error_bytes(
                Some(req.id.clone()),
                &error,
                revision.unwrap_or(fallback),
            )),
        }
    }

    async fn dispatch(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        cancel: &CancellationToken,
    ) -> Result<Reply, (Option<ProtocolVersion>, McpError)> {
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
        if req.method == "initialize" {
            return self.initialize(conn, req).map(Some).map_err(no_rev);
        }
        macro_rules! era_of {
            ($p:expr) => {{
                let era = self
                    .resolve_era(conn, $p.meta(), &req.method)
                    .map_err(|e| {
                        // Errors about the modern envelope are modern errors.
                        let rev = $p
                            .meta()
                            .and_then(|m| m.protocol_version.as_ref())
                            .map(|_| ProtocolVersion::LATEST);
                        (rev, e)
                    })?;
                let modern = matches!(era, Era::Modern { .. });
                let removed = methods::removed_in_modern().any(|m| m == req.method);
                let modern_only =
                    matches!(&*req.method, "server/discover" | "subscriptions/listen");
                if (modern && removed) || (!modern && modern_only) {
                    return Err((
                        Some(era.revision()),
                        McpError::MethodNotFound(req.method.to_string()),
                    ));
                }
                era
            }};
        }
        let id = &req.id;
        let fail = |era: &Era| {
            let r = era.revision();
            move |e: McpError| (Some(r), e)
        };
        match &*req.method {
            "ping" => {
                let p: RequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                Ok(Some(encode(id, &EmptyResult::default(), era.revision())))
            }
            "server/discover" => {
                let p: RequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let result = self.cache(
                    &era,
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
                        meta: self.result_meta(&era),
                        ..DiscoverResult::default()
                    },
                );
                Ok(Some(encode(id, &result, era.revision())))
            }
            "tools/list" => {
                let p: PaginatedRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let (tools, next_cursor) = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.tools,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                    )
                    .map_err(fail(&era))?
                };
                let result = self.cache(
                    &era,
                    ListToolsResult {
                        tools: tools.into_iter().map(|t| t.definition).collect(),
                        next_cursor,
                        meta: self.result_meta(&era),
                        ..ListToolsResult::default()
                    },
                );
                Ok(Some(encode(id, &result, era.revision())))
            }
            "tools/call" => {
                let p: CallToolRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                self.call_tool(conn, req, era, p, cancel.clone()).await
            }
            "resources/list" => {
                let p: PaginatedRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let (items, next_cursor) = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.resources,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                    )
                    .map_err(fail(&era))?
                };
                let result = self.cache(
                    &era,
                    ListResourcesResult {
                        resources: items.into_iter().map(|r| r.definition).collect(),
                        next_cursor,
                        meta: self.result_meta(&era),
                        ..ListResourcesResult::default()
                    },
                );
                Ok(Some(encode(id, &result, era.revision())))
            }
            "resources/templates/list" => {
                let p: PaginatedRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let (items, next_cursor) = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.templates,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                    )
                    .map_err(fail(&era))?
                };
                let result = self.cache(
                    &era,
                    ListResourceTemplatesResult {
                        resource_templates: items.into_iter().map(|t| t.definition).collect(),
                        next_cursor,
                        meta: self.result_meta(&era),
                        ..ListResourceTemplatesResult::default()
                    },
                );
                Ok(Some(encode(id, &result, era.revision())))
            }
            "resources/read" => {
                let p: ReadResourceRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                self.read_resource(conn, req, era, p, cancel.clone()).await
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                let p: SubscribeRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                if let Ok(mut subs) = conn.subscriptions.lock() {
                    if req.method == "resources/subscribe" {
                        subs.insert(p.uri);
                    } else {
                        subs.remove(&p.uri);
                    }
                }
                Ok(Some(encode(id, &EmptyResult::default(), era.revision())))
            }
            "prompts/list" => {
                let p: PaginatedRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let (items, next_cursor) = {
                    let routes = self.inner.router.read();
                    page(
                        &routes.prompts,
                        p.cursor.as_deref(),
                        self.inner.options.page_size,
                    )
                    .map_err(fail(&era))?
                };
                let result = self.cache(
                    &era,
                    ListPromptsResult {
                        prompts: items.into_iter().map(|p| p.definition).collect(),
                        next_cursor,
                        meta: self.result_meta(&era),
                        ..ListPromptsResult::default()
                    },
                );
                Ok(Some(encode(id, &result, era.revision())))
            }
            "prompts/get" => {
                let p: GetPromptRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                self.get_prompt(conn, req, era, p, cancel.clone()).await
            }
            "completion/complete" => {
                let p: CompleteRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let result = self.complete(&p).await.map_err(fail(&era))?;
                let result = CompleteResult {
                    completion: result,
                    meta: self.result_meta(&era),
                    ..CompleteResult::default()
                };
                Ok(Some(encode(id, &result, era.revision())))
            }
            "logging/setLevel" => {
                let p: SetLevelRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                if let Ok(mut level) = conn.log_level.lock() {
                    *level = Some(p.level);
                }
                Ok(Some(encode(id, &EmptyResult::default(), era.revision())))
            }
            "subscriptions/listen" => {
                let p: SubscriptionsListenRequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                Ok(self.listen(conn, req, era, p, cancel.clone()).await)
            }
            "tasks/get" | "tasks/update" | "tasks/cancel" => {
                let p: RequestParams = params(req).map_err(no_rev)?;
                let era = era_of!(p);
                let modern = matches!(era, Era::Modern { .. });
                let capabilities = era.client_capabilities().filter(|_| modern);
                let answer = self
                    .inner
                    .tasks
                    .request(req, capabilities)
                    .await
                    .map_err(fail(&era))?;
                let meta = self.result_meta(&era);
                Ok(Some(match answer {
                    TaskAnswer::Task(task) => {
                        let result = tasks::GetTaskResult {
                            result_type: result::Complete,
                            task: *task,
                            meta,
                        };
                        encode(id, &result, era.revision())
                    }
                    TaskAnswer::Ack => encode(
                        id,
                        &EmptyResult {
                            meta,
                            ..EmptyResult::default()
                        },
                        era.revision(),
                    ),
                }))
            }
            other => Err((None, McpError::MethodNotFound(other.to_owned()))),
        }
    }

    fn initialize(&self, conn: &Arc<Connection>, req: &Request) -> Result<Vec<u8>, McpError> {
        let p: InitializeRequestParams = params(req)?;
        let version =
            match negotiate_legacy(&p.protocol_version, &self.inner.options.supported_versions) {
                Negotiated::Agreed(v) => v,
                Negotiated::Unsupported(data) => {
                    return Err(McpError::UnsupportedProtocolVersion(data));
                }
            };
        {
            let mut session = conn
                .legacy
                .lock()
                .map_err(|_| McpError::Internal("session lock poisoned".into()))?;
            if session.is_some() {
                return Err(McpError::InvalidRequest("already initialized".into()));
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
        Ok(encode(&req.id, &result, version))
    }

    /// Opens the round of input answers of a modern multi-round-trip request.
    fn open_round(
        &self,
        era: &Era,
        method: &str,
        identity: &str,
        state: Option<&str>,
        responses: Option<InputResponses>,
    ) -> Result<Option<InputResponses>, McpError> {
        if !matches!(era, Era::Modern { .. }) {
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
        ctx: &RequestContext,
        method: &str,
        identity: String,
        era: &Era,
    ) -> Result<Vec<u8>, McpError> {
        let Peer::Modern(round) = &ctx.inner.peer else {
            return Err(McpError::Internal(
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
            meta: self.result_meta(era),
            ..InputRequiredResult::default()
        };
        Ok(encode(ctx.id(), &result, era.revision()))
    }

    async fn call_tool(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        era: Era,
        p: CallToolRequestParams,
        cancel: CancellationToken,
    ) -> Result<Reply, (Option<ProtocolVersion>, McpError)> {
        let rev = era.revision();
        let fail = |e: McpError| (Some(rev), e);
        let tool = self.inner.router.read().tools.get(&p.name).cloned();
        let Some(tool) = tool else {
            return Err(fail(McpError::invalid_params(format!(
                "Unknown tool: {}",
                p.name
            ))));
        };
        let arguments = serde_json::Value::Object(p.arguments.unwrap_or_default());
        let identity = identity_of(&era, &(&p.name, &arguments));
        let answers = self
            .open_round(
                &era,
                "tools/call",
                &identity,
                p.request_state.as_deref(),
                p.input_responses,
            )
            .map_err(fail)?;
        // Tasks extension: the call may become a task, whose handler outlives the request
        // and so gets a cancellation token of its own.
        let decision = crate::tasks::decide(
            tool.task_support(),
            matches!(era, Era::Modern { .. }),
            era.client_capabilities(),
        );
        let handler_cancel = match decision {
            Decision::Direct => cancel.clone(),
            Decision::Task => CancellationToken::new(),
            Decision::Refuse(e) => return Err(fail(e)),
            Decision::RefuseLegacy(refusal) => return Ok(Some(encode(&req.id, &*refusal, rev))),
        };
        let ctx = self.context(
            conn,
            req,
            &era,
            p.meta.unwrap_or_default(),
            handler_cancel.clone(),
            answers,
        );
        let call = ToolCall {
            arguments,
            ctx: ctx.clone(),
        };
        let outcome = if matches!(decision, Decision::Task) {
            match self
                .inner
                .tasks
                .call(&tool, call, handler_cancel, &cancel)
                .await
            {
                Started::Task(created) => {
                    let created = tasks::CreateTaskResult {
                        meta: self.result_meta(&era),
                        ..created
                    };
                    return Ok(Some(encode(&req.id, &created, rev)));
                }
                Started::Finished(outcome) => outcome,
                Started::Cancelled => return Ok(None),
                Started::Refused(e) => return Err(fail(e)),
            }
        } else {
            tokio::select! {
                r = tool.call(call) => r,
                () = cancel.cancelled() => return Ok(None),
            }
        };
        let result = match outcome {
            Ok(r) => r,
            Err(ToolError::Failed(m)) => CallToolResult::error(m),
            Err(ToolError::Protocol(e)) => return Err(fail(e)),
            Err(ToolError::InputRequired) => {
                return self
                    .input_required(&ctx, "tools/call", identity, &era)
                    .map(Some)
                    .map_err(fail);
            }
            Err(ToolError::Cancelled) => return Ok(None),
        };
        let result = CallToolResult {
            meta: self.result_meta(&era).or(result.meta),
            ..result
        };
        Ok(Some(encode(&req.id, &result, rev)))
    }

    async fn read_resource(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        era: Era,
        p: ReadResourceRequestParams,
        cancel: CancellationToken,
    ) -> Result<Reply, (Option<ProtocolVersion>, McpError)> {
        let rev = era.revision();
        let fail = |e: McpError| (Some(rev), e);
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
                return Err(fail(McpError::ResourceNotFound { uri: p.uri }));
            }
        };
        let identity = identity_of(&era, &p.uri);
        let answers = self
            .open_round(
                &era,
                "resources/read",
                &identity,
                p.request_state.as_deref(),
                p.input_responses,
            )
            .map_err(fail)?;
        let ctx = self.context(
            conn,
            req,
            &era,
            p.meta.unwrap_or_default(),
            cancel.clone(),
            answers,
        );
        let outcome = tokio::select! {
            r = read(ResourceRequest { uri: p.uri.clone(), vars, ctx: ctx.clone() }) => r,
            () = cancel.cancelled() => return Ok(None),
        };
        match outcome {
            Ok(contents) => {
                let result = self.cache(
                    &era,
                    ReadResourceResult {
                        contents,
                        meta: self.result_meta(&era),
                        ..ReadResourceResult::default()
                    },
                );
                Ok(Some(encode(&req.id, &result, rev)))
            }
            Err(ToolError::InputRequired) => self
                .input_required(&ctx, "resources/read", identity, &era)
                .map(Some)
                .map_err(fail),
            Err(ToolError::Cancelled) => Ok(None),
            Err(ToolError::Protocol(e)) => Err(fail(e)),
            Err(ToolError::Failed(m)) => Err(fail(McpError::Internal(m))),
        }
    }

    async fn get_prompt(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        era: Era,
        p: GetPromptRequestParams,
        cancel: CancellationToken,
    ) -> Result<Reply, (Option<ProtocolVersion>, McpError)> {
        let rev = era.revision();
        let fail = |e: McpError| (Some(rev), e);
        let prompt = self.inner.router.read().prompts.get(&p.name).cloned();
        let Some(prompt) = prompt else {
            return Err(fail(McpError::invalid_params(format!(
                "Unknown prompt: {}",
                p.name
            ))));
        };
        let arguments = p.arguments.unwrap_or_default();
        for arg in prompt.definition.arguments.iter().flatten() {
            if arg.required == Some(true) && !arguments.contains_key(&arg.name) {
                return Err(fail(McpError::invalid_params(format!(
                    "Missing required argument: {}",
                    arg.name
                ))));
            }
        }
        let identity = identity_of(&era, &(&p.name, &arguments));
        let answers = self
            .open_round(
                &era,
                "prompts/get",
                &identity,
                p.request_state.as_deref(),
                p.input_responses,
            )
            .map_err(fail)?;
        let ctx = self.context(
            conn,
            req,
            &era,
            p.meta.unwrap_or_default(),
            cancel.clone(),
            answers,
        );
        let outcome = tokio::select! {
            r = (prompt.get)(PromptRequest { arguments, ctx: ctx.clone() }) => r,
            () = cancel.cancelled() => return Ok(None),
        };
        match outcome {
            Ok(result) => {
                let result = GetPromptResult {
                    meta: self.result_meta(&era).or(result.meta),
                    ..result
                };
                Ok(Some(encode(&req.id, &result, rev)))
            }
            Err(ToolError::InputRequired) => self
                .input_required(&ctx, "prompts/get", identity, &era)
                .map(Some)
                .map_err(fail),
            Err(ToolError::Cancelled) => Ok(None),
            Err(ToolError::Protocol(e)) => Err(fail(e)),
            Err(ToolError::Failed(m)) => Err(fail(McpError::Internal(m))),
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
    async fn listen(
        &self,
        conn: &Arc<Connection>,
        req: &Request,
        era: Era,
        p: SubscriptionsListenRequestParams,
        cancel: CancellationToken,
    ) -> Reply {
        let rev = era.revision();
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
                subscription_id: Some(req.id.clone()),
                ..Meta::default()
            })
        };
        // Tasks extension: `notifications/tasks` for the task ids asked for, starting with their
        // current state (a change may have happened before the stream opened).
        let (task_states, mut task_watch) = match want.task_ids.as_deref() {
            Some(ids) if !ids.is_empty() => {
                let declared = era
                    .client_capabilities()
                    .is_some_and(|c| c.has_extension(tasks::TASKS_EXTENSION));
                if !declared {
                    let e = crate::tasks::missing_extension();
                    return Some(error_bytes(Some(req.id.clone()), &e, rev));
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
                () = cancel.cancelled() => return None,
                () = conn.closing.cancelled() => {
                    let end = SubscriptionsListenResult { meta: Meta { subscription_id: Some(req.id.clone()), server_info: Some(Box::new(self.inner.info.clone())), ..Meta::default() }, ..Default::default() };
                    return Some(encode(&req.id, &end, rev));
                }
            };
            let change = match change {
                Ok(c) => c,
                // Missed changes while lagging: tell the client every list may have changed.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Change::Tools,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
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
