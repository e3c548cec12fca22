//! What a handler can know and do while it runs: the request's context, progress, logging,
//! cancellation, and asking the client for input.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_protocol::jsonrpc::{Notification, Request, RequestId};
use mcp_protocol::meta::Meta;
use mcp_protocol::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Implementation, InputRequest, InputResponse, InputResponses, ListRootsResult,
    LoggingLevel, LoggingMessageNotificationParams, ProgressNotificationParams,
};
use mcp_protocol::{ForRevision, McpError, ProtocolVersion};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::ToolError;

/// Where a request's notifications go: the connection's writer (stdio) or the request's own
/// response stream (HTTP). Messages are serialized for the request's revision before they go.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Vec<u8>>,
    pub(crate) revision: ProtocolVersion,
}

impl Outbox {
    /// An outbox writing to `tx`, serializing for `revision`.
    pub fn new(tx: mpsc::Sender<Vec<u8>>, revision: ProtocolVersion) -> Self {
        Self { tx, revision }
    }

    /// The same channel, serializing for another revision.
    pub fn for_revision(&self, revision: ProtocolVersion) -> Self {
        Self {
            tx: self.tx.clone(),
            revision,
        }
    }

    /// Serializes and sends a message; `false` if the connection is gone.
    pub async fn send<T: Serialize>(&self, message: &T) -> bool {
        match serde_json::to_vec(&ForRevision::new(message, self.revision)) {
            Ok(bytes) => self.tx.send(bytes).await.is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "could not serialize an outgoing message");
                false
            }
        }
    }

    /// Sends a notification.
    pub async fn notify<P: Serialize>(&self, method: &'static str, params: P) -> bool {
        self.send(&Notification::new(method, params)).await
    }
}

tokio::task_local! {
    /// The response stream of the request being handled, when the transport gives each request
    /// its own (Streamable HTTP): notifications and server-to-client requests about the request
    /// go there rather than to the connection's shared outbox.
    static RESPONSE_STREAM: mpsc::Sender<Vec<u8>>;
}

/// Runs `f` (the handling of one request) with messages about that request going to `stream`.
#[cfg(feature = "http")]
pub(crate) async fn with_response_stream<F: Future>(
    stream: mpsc::Sender<Vec<u8>>,
    f: F,
) -> F::Output {
    RESPONSE_STREAM.scope(stream, f).await
}

/// Where messages about the current request go: its own response stream if it has one,
/// otherwise the connection's outbox.
pub(crate) fn response_stream_or(outbox: &mpsc::Sender<Vec<u8>>) -> mpsc::Sender<Vec<u8>> {
    RESPONSE_STREAM
        .try_with(Clone::clone)
        .unwrap_or_else(|_| outbox.clone())
}

/// A type map for values that layers put on a request (the authenticated principal, the trace
/// context, ...). A request carries a handful at most, so they sit in a small vector searched
/// in order: cheaper to fill and read than a hash map.
#[derive(Default)]
pub struct Extensions(Vec<(TypeId, Box<dyn Any + Send + Sync>)>);

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.0.len())
            .finish()
    }
}

impl Extensions {
    /// Stores a value, replacing one of the same type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        match self.0.iter_mut().find(|(t, _)| *t == id) {
            Some((_, slot)) => *slot = Box::new(value),
            None => self.0.push((id, Box::new(value))),
        }
    }

    /// The value of type `T`, if any.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, b)| b.downcast_ref())
    }
}

/// Everything known about the request being handled.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) inner: Arc<ContextInner>,
}

#[derive(Debug)]
pub(crate) struct ContextInner {
    pub(crate) id: RequestId,
    pub(crate) method: String,
    pub(crate) revision: ProtocolVersion,
    pub(crate) meta: Meta,
    pub(crate) client_capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Arc<Implementation>>,
    pub(crate) cancel: CancellationToken,
    pub(crate) outbox: Outbox,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) peer: Peer,
    pub(crate) extensions: Extensions,
    pub(crate) principal: Option<Arc<mcp_auth::Principal>>,
    pub(crate) last_progress: Mutex<Option<f64>>,
    pub(crate) session: Option<SessionHandle>,
}

/// The session a legacy request belongs to (a Streamable HTTP session, an HTTP+SSE stream, a
/// WebSocket connection, a stdio process): an id unique in this process, and a way to learn
/// that it ended. For per-session state kept outside the server, such as a bridge's child
/// process per session.
///
/// ```
/// # async fn handler(ctx: mcp_server::RequestContext) {
/// if let Some(session) = ctx.session() {
///     let id = session.id();
///     let session = session.clone();
///     tokio::spawn(async move {
///         session.ended().await;
///         // drop what was kept for `id`
/// #       drop(id);
///     });
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub(crate) id: u64,
    pub(crate) ended: CancellationToken,
}

impl SessionHandle {
    /// The session's id: unique among the sessions of this process, never reused.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Completes when the session ends (deleted, idle, its connection closed, the server
    /// shutting down).
    pub async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }
}

impl RequestContext {
    /// The request's id.
    pub fn id(&self) -> &RequestId {
        &self.inner.id
    }
    /// The method.
    pub fn method(&self) -> &str {
        &self.inner.method
    }
    /// The protocol revision of this request (modern) or of the session (legacy).
    pub fn revision(&self) -> ProtocolVersion {
        self.inner.revision
    }
    /// The request's `_meta`.
    pub fn meta(&self) -> &Meta {
        &self.inner.meta
    }
    /// What the client declared it supports (per request in 2026-07-28, per session before).
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.client_capabilities
    }
    /// The client's self-reported implementation info, if sent. Not for security decisions.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.inner.client_info.as_deref()
    }
    /// Fires when the client cancels the request or the connection ends.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.inner.cancel
    }
    /// Values that layers attached (the principal, the trace context, ...).
    pub fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }
    /// The authenticated principal: the one the transport established, or the one an
    /// [`AuthLayer`](crate::middleware::AuthLayer) gave. Handlers see who calls, never the
    /// credentials: tokens are not passed through.
    pub fn principal(&self) -> Option<&Arc<mcp_auth::Principal>> {
        self.inner.principal.as_ref()
    }
    /// The session this request belongs to: `Some` in the legacy era (2024-11-05 to
    /// 2025-11-25), `None` in 2026-07-28, whose requests belong to no session.
    pub fn session(&self) -> Option<&SessionHandle> {
        self.inner.session.as_ref()
    }
    /// A progress reporter; it reports nothing if the request carried no progress token.
    pub fn progress(&self) -> Progress {
        Progress { ctx: self.clone() }
    }
    /// A logger that sends `notifications/message` at or above the level the client chose.
    pub fn logger(&self) -> Logger {
        Logger {
            ctx: self.clone(),
            name: None,
        }
    }
    /// A handle to ask the client for input.
    pub fn client(&self) -> Client {
        Client {
            ctx: self.clone(),
            key: None,
        }
    }
}

/// Reports progress on the current request (`notifications/progress`).
#[derive(Debug, Clone)]
pub struct Progress {
    ctx: RequestContext,
}

impl Progress {
    /// Whether the client asked for progress.
    pub fn is_wanted(&self) -> bool {
        self.ctx.inner.meta.progress_token.is_some()
    }

    /// Reports `progress` (out of `total`, if known). Progress must increase; a report that does
    /// not is dropped, as are reports after the request was cancelled.
    pub async fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        if let Some(task) = self.ctx.live_task() {
            // The request was answered with a task: progress shows in the task's status.
            task.progress(progress, total, message).await;
            return;
        }
        let Some(token) = self.ctx.inner.meta.progress_token.clone() else {
            return;
        };
        if self.ctx.inner.cancel.is_cancelled() {
            return;
        }
        {
            let Ok(mut last) = self.ctx.inner.last_progress.lock() else {
                return;
            };
            if last.is_some_and(|l| progress <= l) {
                return;
            }
            *last = Some(progress);
        }
        let params = ProgressNotificationParams {
            progress_token: token,
            progress,
            total,
            message: message.map(str::to_owned),
            meta: None,
        };
        self.ctx
            .inner
            .outbox
            .notify("notifications/progress", params)
            .await;
    }
}

/// Sends log messages to the client (`notifications/message`).
#[derive(Debug, Clone)]
pub struct Logger {
    ctx: RequestContext,
    name: Option<String>,
}

impl Logger {
    /// The same logger with a logger name.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sends `data` at `level` if the client asked for messages at that level or above. In
    /// 2026-07-28 only requests that carried `io.modelcontextprotocol/logLevel` get any.
    pub async fn log(&self, level: LoggingLevel, data: impl Into<Value>) {
        let Some(min) = self.ctx.inner.log_level else {
            return;
        };
        // A task's request has been answered: no stream is left to carry its log messages.
        if level < min || self.ctx.inner.cancel.is_cancelled() || self.ctx.live_task().is_some() {
            return;
        }
        let params = LoggingMessageNotificationParams {
            level,
            logger: self.name.clone(),
            data: data.into(),
            meta: None,
        };
        self.ctx
            .inner
            .outbox
            .notify("notifications/message", params)
            .await;
    }

    /// Logs at `info`.
    pub async fn info(&self, data: impl Into<Value>) {
        self.log(LoggingLevel::Info, data).await;
    }
}

/// How a handler reaches the client: a real request in the legacy era, a multi-round-trip
/// input request in 2026-07-28. Handler code is the same in both.
#[derive(Debug, Clone)]
pub struct Client {
    ctx: RequestContext,
    /// The `inputRequests` key of the next input request, when the handler named it.
    key: Option<String>,
}

/// The ways a server can reach the client for one request.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// Legacy: send JSON-RPC requests over the connection and await the answers.
    Legacy(LegacyPeer),
    /// Modern: answers that arrived with the request; missing ones become input requests.
    Modern(Arc<InputRound>),
    /// Nobody to ask (for example a resource read in a context without a client).
    None,
}

/// Sends server-to-client requests on a legacy connection.
#[derive(Debug, Clone)]
pub(crate) struct LegacyPeer {
    pub(crate) outbox: Outbox,
    pub(crate) pending: Arc<PendingRequests>,
    pub(crate) timeout: Duration,
}

/// Server-to-client requests awaiting an answer.
#[derive(Debug, Default)]
pub(crate) struct PendingRequests {
    next: AtomicU64,
    waiting: Mutex<HashMap<RequestId, oneshot::Sender<Result<Value, McpError>>>>,
}

impl PendingRequests {
    pub(crate) fn register(&self) -> (RequestId, oneshot::Receiver<Result<Value, McpError>>) {
        let id = RequestId::String(format!("srv-{}", self.next.fetch_add(1, Ordering::Relaxed)));
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(id.clone(), tx);
        }
        (id, rx)
    }

    pub(crate) fn forget(&self, id: &RequestId) {
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(id);
        }
    }

    /// Delivers a client's answer; `false` if nobody waits for that id.
    pub(crate) fn complete(&self, id: &RequestId, answer: Result<Value, McpError>) -> bool {
        let tx = self.waiting.lock().ok().and_then(|mut w| w.remove(id));
        match tx {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Fails every waiting request (the connection ended).
    pub(crate) fn fail_all(&self) {
        if let Ok(mut w) = self.waiting.lock() {
            for (_, tx) in w.drain() {
                let _ = tx.send(Err(McpError::Internal("connection closed".into())));
            }
        }
    }
}

/// The input requests and answers of one modern request.
#[derive(Debug, Default)]
pub(crate) struct InputRound {
    pub(crate) answers: InputResponses,
    next: AtomicUsize,
    pub(crate) needed: Mutex<Vec<(String, InputRequest)>>,
    /// The task this request may become (tasks extension): once it exists, input that did not
    /// come with the request is asked through the task instead.
    pub(crate) task: crate::tasks::TaskSlot,
}

impl InputRound {
    pub(crate) fn new(answers: InputResponses) -> Self {
        Self {
            answers,
            ..Self::default()
        }
    }
}

impl Client {
    /// The same client, naming the input request it asks next `key`: in 2026-07-28 it is the
    /// request's key in `inputRequests`, and the client answers under it in `inputResponses`
    /// (without a name the keys are `input-0`, `input-1`, ... in asking order). The legacy era
    /// has no keys and ignores it. Keys must be unique within one request.
    ///
    /// ```
    /// # async fn handler(client: mcp_server::Client) -> Result<(), mcp_server::ToolError> {
    /// let roots = client.named("client_roots").roots().await?;
    /// # drop(roots); Ok(()) }
    /// ```
    #[must_use]
    pub fn named(&self, key: impl Into<String>) -> Self {
        Self {
            ctx: self.ctx.clone(),
            key: Some(key.into()),
        }
    }

    fn require(&self, has: bool, capability: &str) -> Result<(), ToolError> {
        if has {
            return Ok(());
        }
        let required: ClientCapabilities =
            serde_json::from_value(serde_json::json!({ capability: {} })).unwrap_or_default();
        if self.ctx.revision().is_modern() {
            Err(McpError::MissingRequiredClientCapability(Box::new(
                mcp_protocol::error::MissingCapabilityData {
                    required_capabilities: required,
                },
            ))
            .into())
        } else {
            Err(ToolError::failed(format!(
                "the client does not support {capability}"
            )))
        }
    }

    /// Asks the user for input (elicitation): a form, or a URL to visit.
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ToolError> {
        let caps = self.ctx.client_capabilities();
        let ok = match &params {
            ElicitRequestParams::Form(_) => caps.supports_elicitation_form(),
            ElicitRequestParams::Url(_) => caps.supports_elicitation_url(),
        };
        self.require(ok, "elicitation")?;
        match self.ask(InputRequest::elicit(params)).await? {
            InputResponse::Elicit(r) => Ok(r),
            other => Err(ToolError::failed(format!(
                "expected an elicitation answer, got {other:?}"
            ))),
        }
    }

    /// Asks the client's model for a message (sampling).
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ToolError> {
        self.require(
            self.ctx.client_capabilities().sampling.is_some(),
            "sampling",
        )?;
        match self.ask(InputRequest::create_message(params)).await? {
            InputResponse::CreateMessage(r) => Ok(r),
            other => Err(ToolError::failed(format!(
                "expected a sampling answer, got {other:?}"
            ))),
        }
    }

    /// Pings the client (legacy sessions; 2026-07-28 has no server-to-client requests).
    pub async fn ping(&self) -> Result<(), ToolError> {
        match &self.ctx.inner.peer {
            Peer::Legacy(peer) => {
                legacy_request(peer, &self.ctx.inner.cancel, "ping", serde_json::json!({}))
                    .await
                    .map(drop)
            }
            _ => Err(ToolError::failed(
                "ping is a legacy request: a 2026-07-28 server cannot ping its client",
            )),
        }
    }

    /// Asks the client for its roots.
    pub async fn roots(&self) -> Result<ListRootsResult, ToolError> {
        self.require(self.ctx.client_capabilities().roots.is_some(), "roots")?;
        match self.ask(InputRequest::list_roots()).await? {
            InputResponse::ListRoots(r) => Ok(r),
            other => Err(ToolError::failed(format!(
                "expected a roots answer, got {other:?}"
            ))),
        }
    }

    async fn ask(&self, request: InputRequest) -> Result<InputResponse, ToolError> {
        match &self.ctx.inner.peer {
            Peer::Modern(round) => {
                let key = match &self.key {
                    Some(key) => key.clone(),
                    None => format!("input-{}", round.next.fetch_add(1, Ordering::SeqCst)),
                };
                if let Some(answer) = round.answers.get(&key) {
                    return Ok(answer.clone());
                }
                if let Some(task) = round.task.live() {
                    return task.ask(key, request).await;
                }
                if let Ok(mut needed) = round.needed.lock() {
                    needed.push((key, request));
                }
                Err(ToolError::InputRequired)
            }
            Peer::Legacy(peer) => legacy_ask(peer, &self.ctx.inner.cancel, request).await,
            Peer::None => Err(ToolError::failed("no client to ask in this context")),
        }
    }
}

async fn legacy_ask(
    peer: &LegacyPeer,
    cancel: &CancellationToken,
    request: InputRequest,
) -> Result<InputResponse, ToolError> {
    use mcp_protocol::types::InputRequestKind as K;
    let method = request.method();
    let params = match request.kind {
        K::Elicit(p) => serde_json::to_value(ForRevision::new(&p, peer.outbox.revision)),
        K::CreateMessage(p) => serde_json::to_value(ForRevision::new(&p, peer.outbox.revision)),
        K::ListRoots(p) => serde_json::to_value(p.unwrap_or_default()),
        _ => {
            return Err(ToolError::failed(
                "an input request this server cannot send",
            ));
        }
    }
    .map_err(|e| ToolError::failed(e.to_string()))?;
    let value = legacy_request(peer, cancel, method, params).await?;
    let parsed = match method {
        "elicitation/create" => serde_json::from_value(value).map(InputResponse::Elicit),
        "sampling/createMessage" => serde_json::from_value(value).map(InputResponse::CreateMessage),
        _ => serde_json::from_value(value).map(InputResponse::ListRoots),
    };
    parsed.map_err(|e| {
        ToolError::failed(format!("the client's answer to {method} is malformed: {e}"))
    })
}

/// Sends one server-to-client request on a legacy connection and waits for the answer, at most
/// the peer's timeout; a timeout or a cancelled caller cancels the request at the client.
async fn legacy_request(
    peer: &LegacyPeer,
    cancel: &CancellationToken,
    method: &'static str,
    params: Value,
) -> Result<Value, ToolError> {
    let (id, rx) = peer.pending.register();
    if !peer
        .outbox
        .send(&Request::new(id.clone(), method, params))
        .await
    {
        peer.pending.forget(&id);
        return Err(ToolError::failed("the connection is closed"));
    }
    let cancel_at_client = |reason: &'static str| {
        let id = id.clone();
        async move {
            peer.pending.forget(&id);
            let params = mcp_protocol::types::CancelledNotificationParams {
                request_id: Some(id),
                reason: Some(reason.into()),
                meta: None,
            };
            let _ = peer.outbox.notify("notifications/cancelled", params).await;
        }
    };
    let answer = tokio::select! {
        r = tokio::time::timeout(peer.timeout, rx) => r,
        () = cancel.cancelled() => {
            cancel_at_client("the request that asked was cancelled").await;
            return Err(ToolError::Cancelled);
        }
    };
    match answer {
        Err(_) => {
            cancel_at_client("timed out").await;
            Err(ToolError::failed(format!(
                "the client did not answer {method} within {:?}",
                peer.timeout
            )))
        }
        Ok(Err(_)) => Err(ToolError::failed(
            "the connection closed before the client answered",
        )),
        Ok(Ok(Err(e))) => Err(ToolError::failed(format!(
            "the client refused {method}: {e}"
        ))),
        Ok(Ok(Ok(v))) => Ok(v),
    }
}
