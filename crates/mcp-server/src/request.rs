//! One MCP request as the service and its layers see it, and the response they give back.
//!
//! Every transport turns a JSON-RPC request into an [`McpRequest`]: the era and revision are
//! settled, the params are parsed once into their typed form and the tool a `tools/call` names
//! is looked up. The request then goes through the server's layers ([`crate::middleware`])
//! to the dispatcher, and an [`McpResponse`] comes back: a result, an error or nothing (the
//! request was cancelled). The transport serializes it with the request's id.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use mcp_auth::{AuthError, Principal};
use mcp_protocol::jsonrpc::{ErrorResponse, RequestId};
use mcp_protocol::meta::Meta;
use mcp_protocol::types::{
    CallToolRequestParams, ClientCapabilities, CompleteRequestParams, GetPromptRequestParams,
    Implementation, InitializeRequestParams, PaginatedRequestParams, ReadResourceRequestParams,
    RequestParams, SetLevelRequestParams, SubscribeRequestParams, SubscriptionsListenRequestParams,
    Tool as ToolDefinition,
};
use mcp_protocol::{JsonObject, McpError, ProtocolVersion};
use tokio_util::sync::CancellationToken;

use crate::context::Extensions;
use crate::middleware::Refusal;
use crate::router::{PromptRoute, ResourceRoute, TemplateRoute, ToolRoute};
use crate::server::Server;
use crate::service::{Connection, LegacySession};

/// What the transport established about who is calling, before any layer ran.
///
/// The Streamable HTTP endpoint authenticates every request with
/// [`HttpOptions::auth`](crate::http::HttpOptions::auth) and refuses failures itself (401), so
/// its requests arrive [`Authentication::Principal`] (or [`Authentication::None`] when no
/// authenticator is configured). Stdio and socket connections carry what
/// [`ServerOptions::local_principal`](crate::ServerOptions::local_principal) gave at start.
/// The [`AuthLayer`](crate::middleware::AuthLayer) turns it into the request's principal.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Authentication {
    /// The transport authenticated nobody (no authenticator configured).
    #[default]
    None,
    /// The transport established this principal.
    Principal(Arc<Principal>),
    /// The transport checked credentials and they failed.
    Failed(AuthError),
}

/// The era a request is handled in (private: layers see [`McpRequest::revision`]).
#[derive(Debug, Clone)]
pub(crate) enum RequestEra {
    Modern {
        version: ProtocolVersion,
        capabilities: Arc<ClientCapabilities>,
        client_info: Option<Arc<Implementation>>,
    },
    Legacy(LegacySession),
    /// `initialize`, or a legacy `ping` before it.
    PreInit,
}

impl RequestEra {
    pub(crate) fn revision(&self) -> ProtocolVersion {
        match self {
            Self::Modern { version, .. } => *version,
            Self::Legacy(s) => s.version,
            Self::PreInit => ProtocolVersion::LATEST_LEGACY,
        }
    }

    pub(crate) fn is_modern(&self) -> bool {
        matches!(self, Self::Modern { .. })
    }

    /// What the client declared: on this request (modern) or for the session (legacy).
    pub(crate) fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        match self {
            Self::Modern { capabilities, .. } => Some(capabilities),
            Self::Legacy(s) => Some(&s.capabilities),
            Self::PreInit => None,
        }
    }
}

/// A request's params, parsed once into their type.
#[derive(Debug)]
pub(crate) enum Params {
    Initialize(Box<InitializeRequestParams>),
    Ping(RequestParams),
    Discover(RequestParams),
    ListTools(PaginatedRequestParams),
    ListResources(PaginatedRequestParams),
    ListTemplates(PaginatedRequestParams),
    ListPrompts(PaginatedRequestParams),
    CallTool(CallToolRequestParams),
    ReadResource(ReadResourceRequestParams),
    Subscribe(SubscribeRequestParams),
    Unsubscribe(SubscribeRequestParams),
    GetPrompt(GetPromptRequestParams),
    Complete(CompleteRequestParams),
    SetLevel(SetLevelRequestParams),
    Listen(SubscriptionsListenRequestParams),
    /// `tasks/get`, `tasks/update`, `tasks/cancel` (tasks extension): the `_meta`, and the
    /// request, whose params the task runtime reads.
    Task(RequestParams, Box<mcp_protocol::jsonrpc::Request>),
}

impl Params {
    /// The method these params belong to (only known methods get this far).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Self::Initialize(_) => "initialize",
            Self::Ping(_) => "ping",
            Self::Discover(_) => "server/discover",
            Self::ListTools(_) => "tools/list",
            Self::ListResources(_) => "resources/list",
            Self::ListTemplates(_) => "resources/templates/list",
            Self::ListPrompts(_) => "prompts/list",
            Self::CallTool(_) => "tools/call",
            Self::ReadResource(_) => "resources/read",
            Self::Subscribe(_) => "resources/subscribe",
            Self::Unsubscribe(_) => "resources/unsubscribe",
            Self::GetPrompt(_) => "prompts/get",
            Self::Complete(_) => "completion/complete",
            Self::SetLevel(_) => "logging/setLevel",
            Self::Listen(_) => "subscriptions/listen",
            Self::Task(_, raw) => match &*raw.method {
                "tasks/update" => "tasks/update",
                "tasks/cancel" => "tasks/cancel",
                _ => "tasks/get",
            },
        }
    }

    pub(crate) fn meta(&self) -> Option<&Meta> {
        match self {
            Self::Initialize(p) => p.meta.as_ref(),
            Self::Ping(p) | Self::Discover(p) | Self::Task(p, _) => p.meta.as_ref(),
            Self::ListTools(p)
            | Self::ListResources(p)
            | Self::ListTemplates(p)
            | Self::ListPrompts(p) => p.meta.as_ref(),
            Self::CallTool(p) => p.meta.as_ref(),
            Self::ReadResource(p) => p.meta.as_ref(),
            Self::Subscribe(p) | Self::Unsubscribe(p) => p.meta.as_ref(),
            Self::GetPrompt(p) => p.meta.as_ref(),
            Self::Complete(p) => p.meta.as_ref(),
            Self::SetLevel(p) => p.meta.as_ref(),
            Self::Listen(p) => p.meta.as_ref(),
        }
    }
}

/// What a request is about, for layers that decide per tool, resource or prompt.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Target<'a> {
    /// `tools/call`.
    Tool {
        /// The tool's name.
        name: &'a str,
        /// The arguments (absent when the client sent none).
        arguments: Option<&'a JsonObject>,
    },
    /// `resources/read`, `resources/subscribe` and `resources/unsubscribe`.
    Resource {
        /// The resource's URI.
        uri: &'a str,
    },
    /// `prompts/get`.
    Prompt {
        /// The prompt's name.
        name: &'a str,
        /// The arguments.
        arguments: Option<&'a BTreeMap<String, String>>,
    },
    /// `tools/list`, `resources/list`, `resources/templates/list` and `prompts/list`.
    List(ListKind),
    /// Everything else: the lifecycle (`initialize`, `ping`, `server/discover`),
    /// `completion/complete`, `logging/setLevel`, `subscriptions/listen`.
    Server,
}

/// Which list a list method returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListKind {
    /// `tools/list`.
    Tools,
    /// `resources/list`.
    Resources,
    /// `resources/templates/list`.
    ResourceTemplates,
    /// `prompts/list`.
    Prompts,
}

/// An item a list method may show, as a [`ListFilter`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Listed<'a> {
    /// A tool (`tools/list`).
    Tool(&'a ToolRoute),
    /// A static resource (`resources/list`).
    Resource(&'a ResourceRoute),
    /// A resource template (`resources/templates/list`).
    Template(&'a TemplateRoute),
    /// A prompt (`prompts/list`).
    Prompt(&'a PromptRoute),
}

/// Decides which items the list methods show for one request. A layer puts one in the
/// request's [`Extensions`] (the [`PermissionLayer`](crate::middleware::PermissionLayer) does,
/// so that a principal sees only what it may use); the dispatcher applies it while paging, so
/// pages stay full and cursors stay valid.
#[derive(Clone)]
pub struct ListFilter(Arc<dyn Fn(Listed<'_>) -> bool + Send + Sync>);

impl ListFilter {
    /// A filter keeping the items `keep` returns `true` for.
    pub fn new(keep: impl Fn(Listed<'_>) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(keep))
    }

    /// Whether `item` is shown.
    pub fn allows(&self, item: Listed<'_>) -> bool {
        (self.0)(item)
    }
}

impl std::fmt::Debug for ListFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListFilter")
    }
}

/// One MCP request on its way through the server's layers to the dispatcher.
///
/// Built by the transport; layers read it (method, revision, [`Target`], principal) and may
/// attach values to its [`Extensions`], which the handler then sees in its
/// [`RequestContext`](crate::RequestContext).
pub struct McpRequest {
    pub(crate) server: Server,
    pub(crate) conn: Arc<Connection>,
    pub(crate) id: RequestId,
    pub(crate) method: Cow<'static, str>,
    pub(crate) era: RequestEra,
    // Boxed: a request moves through every layer of the stack, and the params are most of its
    // size (360 of 536 bytes unboxed).
    pub(crate) params: Box<Params>,
    pub(crate) cancel: CancellationToken,
    pub(crate) authentication: Authentication,
    pub(crate) principal: Option<Arc<Principal>>,
    pub(crate) extensions: Extensions,
    /// The route a `tools/call` names, looked up once.
    pub(crate) tool: Option<Arc<ToolRoute>>,
}

impl std::fmt::Debug for McpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("revision", &self.revision())
            .field("target", &self.target())
            .field("principal", &self.principal.as_ref().map(|p| &p.id))
            .finish_non_exhaustive()
    }
}

impl McpRequest {
    /// The JSON-RPC id.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The method (`tools/call`, `resources/read`, ...).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The revision the request is answered in: its own (2026-07-28) or its session's.
    pub fn revision(&self) -> ProtocolVersion {
        self.era.revision()
    }

    /// The request's `_meta`, if it carried one.
    pub fn meta(&self) -> Option<&Meta> {
        self.params.meta()
    }

    /// What the request is about.
    pub fn target(&self) -> Target<'_> {
        match &*self.params {
            Params::CallTool(p) => Target::Tool {
                name: &p.name,
                arguments: p.arguments.as_ref(),
            },
            Params::ReadResource(p) => Target::Resource { uri: &p.uri },
            Params::Subscribe(p) | Params::Unsubscribe(p) => Target::Resource { uri: &p.uri },
            Params::GetPrompt(p) => Target::Prompt {
                name: &p.name,
                arguments: p.arguments.as_ref(),
            },
            Params::ListTools(_) => Target::List(ListKind::Tools),
            Params::ListResources(_) => Target::List(ListKind::Resources),
            Params::ListTemplates(_) => Target::List(ListKind::ResourceTemplates),
            Params::ListPrompts(_) => Target::List(ListKind::Prompts),
            _ => Target::Server,
        }
    }

    /// The definition of the tool a `tools/call` names, when the server has it.
    pub fn tool(&self) -> Option<&ToolDefinition> {
        self.tool.as_deref().map(ToolRoute::definition)
    }

    /// The route of the tool a `tools/call` names (its definition and what it declares).
    pub fn tool_route(&self) -> Option<&ToolRoute> {
        self.tool.as_deref()
    }

    /// What the client declared it supports (per request in 2026-07-28, per session before).
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        self.era.client_capabilities()
    }

    /// Fires when the client cancels the request or the connection ends.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// What the transport established about the caller.
    pub fn authentication(&self) -> &Authentication {
        &self.authentication
    }

    /// The authenticated principal: the one the transport established
    /// ([`Authentication::Principal`]), or the one a layer set (the
    /// [`AuthLayer`](crate::middleware::AuthLayer)'s anonymous principal, say).
    pub fn principal(&self) -> Option<&Arc<Principal>> {
        self.principal.as_ref()
    }

    /// Sets the principal: what an authentication layer does. Handlers find it with
    /// [`RequestContext::principal`](crate::RequestContext::principal).
    pub fn set_principal(&mut self, principal: Arc<Principal>) {
        self.principal = Some(principal);
    }

    /// Values layers attached; the handler sees them in its context.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Attach values for later layers and the handler.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// A response to this request with `error`.
    pub fn error(&self, error: McpError) -> McpResponse {
        McpResponse::error(self.id.clone(), self.revision(), error)
    }

    /// A response to this request refusing it (see [`Refusal`] for the codes).
    pub fn refuse(&self, refusal: Refusal) -> McpResponse {
        McpResponse::refused(self.id.clone(), self.revision(), refusal)
    }
}

/// How a request ended, for layers that count or decide on outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A result.
    Success,
    /// A tool result with `isError: true`: the tool ran and failed.
    ToolError,
    /// A tool result with `isError: true` because the arguments did not match the tool's input
    /// schema: the handler did not run.
    InvalidArguments,
    /// An `input_required` result (2026-07-28): the handler asked the client for input.
    InputRequired,
    /// The call became a task (tasks extension): the result names it; the handler goes on.
    TaskCreated,
    /// A JSON-RPC error from the server or the handler.
    Error,
    /// A layer refused the request (see [`McpResponse::refusal`]).
    Refused,
    /// Cancelled: no response is sent.
    Cancelled,
}

impl Outcome {
    /// The label metrics use: `success`, `tool_error`, `invalid_arguments`,
    /// `input_required`, `task_created`, `error`, `refused`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::ToolError => "tool_error",
            Self::InvalidArguments => "invalid_arguments",
            Self::InputRequired => "input_required",
            Self::TaskCreated => "task_created",
            Self::Error => "error",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// The serialized `result` member and what kind of result it is.
    Result {
        json: Bytes,
        kind: Outcome,
    },
    Error(McpError),
    Refused(Refusal),
    Cancelled,
}

/// Whether a response came from a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheStatus {
    /// Served from the cache (or shared with an identical call in flight): the handler did
    /// not run for this request.
    Hit,
    /// Cacheable, not in the cache: the handler ran and its result was stored.
    Miss,
}

impl CacheStatus {
    /// `hit` or `miss`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// The answer to an [`McpRequest`]: a result, an error, a refusal or nothing (cancelled).
/// Cheap to clone (a cached result is shared, not copied).
#[derive(Debug, Clone)]
pub struct McpResponse {
    pub(crate) id: RequestId,
    pub(crate) revision: ProtocolVersion,
    pub(crate) body: Body,
    pub(crate) cache: Option<CacheStatus>,
}

impl McpResponse {
    /// An error response.
    pub fn error(id: RequestId, revision: ProtocolVersion, error: McpError) -> Self {
        Self {
            id,
            revision,
            body: Body::Error(error),
            cache: None,
        }
    }

    /// A refusal by a layer.
    pub fn refused(id: RequestId, revision: ProtocolVersion, refusal: Refusal) -> Self {
        Self {
            id,
            revision,
            body: Body::Refused(refusal),
            cache: None,
        }
    }

    /// No response: the request was cancelled.
    pub fn cancelled(id: RequestId, revision: ProtocolVersion) -> Self {
        Self {
            id,
            revision,
            body: Body::Cancelled,
            cache: None,
        }
    }

    /// A result already serialized for `revision`, of `kind` ([`Outcome::Success`],
    /// [`Outcome::ToolError`], [`Outcome::InvalidArguments`] or [`Outcome::InputRequired`]).
    pub(crate) fn result(
        id: RequestId,
        revision: ProtocolVersion,
        json: impl Into<Bytes>,
        kind: Outcome,
    ) -> Self {
        Self {
            id,
            revision,
            body: Body::Result {
                json: json.into(),
                kind,
            },
            cache: None,
        }
    }

    /// The id of the request this answers.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The revision the response is serialized for.
    pub fn revision(&self) -> ProtocolVersion {
        self.revision
    }

    /// How the request ended.
    pub fn outcome(&self) -> Outcome {
        match &self.body {
            Body::Result { kind, .. } => *kind,
            Body::Error(_) => Outcome::Error,
            Body::Refused(_) => Outcome::Refused,
            Body::Cancelled => Outcome::Cancelled,
        }
    }

    /// The serialized result, when there is one.
    pub fn result_json(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Result { json, .. } => Some(json),
            _ => None,
        }
    }

    /// The JSON-RPC error, when the server or handler answered one.
    pub fn error_value(&self) -> Option<&McpError> {
        match &self.body {
            Body::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The refusal, when a layer refused the request.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.body {
            Body::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The same response for another request (a shared cached result).
    #[must_use]
    pub fn with_id(mut self, id: RequestId) -> Self {
        self.id = id;
        self
    }

    /// Whether a cache answered (set by the [`CacheLayer`](crate::middleware::CacheLayer)).
    pub fn cache_status(&self) -> Option<CacheStatus> {
        self.cache
    }

    /// Marks where the response came from.
    pub fn set_cache_status(&mut self, status: CacheStatus) {
        self.cache = Some(status);
    }

    /// The JSON-RPC message to send; `None` when cancelled.
    pub(crate) fn into_bytes(self) -> Option<Vec<u8>> {
        match self.body {
            Body::Result { json, .. } => {
                let mut out = Vec::with_capacity(json.len() + 48);
                out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
                serde_json::to_writer(&mut out, &self.id).ok()?;
                out.extend_from_slice(br#","result":"#);
                out.extend_from_slice(&json);
                out.push(b'}');
                Some(out)
            }
            Body::Error(e) => Some(error_message(self.id, &e, self.revision)),
            Body::Refused(r) => Some(error_message(self.id, &r.to_mcp_error(), self.revision)),
            Body::Cancelled => None,
        }
    }
}

fn error_message(id: RequestId, error: &McpError, revision: ProtocolVersion) -> Vec<u8> {
    serde_json::to_vec(&ErrorResponse::new(
        Some(id),
        error.to_error_object(revision),
    ))
    .unwrap_or_default()
}
