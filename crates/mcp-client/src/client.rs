//! The client: connection, era detection, requests, and the reader that routes answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_protocol::jsonrpc::{
    self, ErrorResponse, Message, Notification, Raw, Request, RequestId, Response,
};
use mcp_protocol::meta::ProgressToken;
use mcp_protocol::types::*;
use mcp_protocol::{Era, ErrorObject, McpError, ProtocolVersion, pick_mutual};
use mcp_transport::{BoxReader, BoxWriter, FrameReader, FrameWriter, Framed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::ClientError;
use crate::handlers::Handlers;

/// Which era to speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EraPreference {
    /// Probe `server/discover`; fall back to `initialize` on any other answer or on silence.
    #[default]
    Auto,
    /// Only the legacy handshake.
    Legacy,
    /// Only 2026-07-28; fail if the server does not speak it.
    Modern,
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Sent to the server.
    pub client_info: Implementation,
    /// Which era to speak.
    pub era: EraPreference,
    /// How long one request may wait for its answer (default 60 s).
    pub request_timeout: Duration,
    /// Whether a progress notification restarts the request timeout.
    pub reset_timeout_on_progress: bool,
    /// The most a request may take in all, progress or not (default 10 minutes).
    pub max_total_timeout: Duration,
    /// How long the `server/discover` probe waits before assuming a legacy server (default 5 s).
    pub probe_timeout: Duration,
    /// The most `input_required` rounds one call may take (default 8).
    pub max_input_rounds: usize,
    /// Answers to the server's questions.
    pub handlers: Handlers,
    /// What to do when a tool's `structuredContent` does not match its output schema.
    pub structured_output: StructuredCheck,
    /// Keep results that carry caching hints (`ttlMs` > 0, 2026-07-28) for their TTL, at most
    /// this many (default 1,000; 0 turns caching off). List-changed and resource-updated
    /// notifications drop the entries they affect; nothing past its TTL is ever returned.
    pub cache_capacity: u64,
    /// Declare the tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`) on every
    /// request (default `false`). A server may then answer a tool call with a task;
    /// [`Client::call_tool`] polls it to its result (see the `tasks` section of the crate docs).
    pub tasks: bool,
}

/// How `structuredContent` is checked against the tool's output schema (known from the last
/// [`Client::list_tools`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StructuredCheck {
    /// Not checked.
    Off,
    /// A mismatch is logged.
    #[default]
    Warn,
    /// A mismatch fails the call with [`ClientError::Protocol`].
    Error,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            client_info: Implementation::new("mcp-client-rs", env!("CARGO_PKG_VERSION")),
            era: EraPreference::Auto,
            request_timeout: Duration::from_secs(60),
            reset_timeout_on_progress: false,
            max_total_timeout: Duration::from_secs(600),
            probe_timeout: Duration::from_secs(5),
            max_input_rounds: 8,
            handlers: Handlers::default(),
            structured_output: StructuredCheck::default(),
            cache_capacity: 1_000,
            tasks: false,
        }
    }
}

/// What the connection settled: the era, the revision and what the server said about itself.
#[derive(Debug, Clone)]
pub struct ServerSession {
    /// The revision in use.
    pub version: ProtocolVersion,
    /// The server's implementation info.
    pub server_info: Option<Implementation>,
    /// What the server supports.
    pub capabilities: ServerCapabilities,
    /// How to use the server.
    pub instructions: Option<String>,
    /// Every version the server says it supports (modern servers).
    pub supported_versions: Vec<String>,
}

impl ServerSession {
    /// The era in use.
    pub fn era(&self) -> Era {
        self.version.era()
    }
}

/// Per-call settings.
#[derive(Default)]
pub struct CallOptions {
    /// Overrides the client's request timeout.
    pub timeout: Option<Duration>,
    /// Receives the request's progress notifications.
    pub progress: Option<Box<dyn Fn(ProgressNotificationParams) + Send + Sync>>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

type Answer = Result<Raw, ClientError>;

struct Pending {
    tx: oneshot::Sender<Answer>,
    progress: Option<mpsc::UnboundedSender<ProgressNotificationParams>>,
}

pub(crate) struct Inner {
    out: mpsc::Sender<Vec<u8>>,
    pending: Mutex<HashMap<RequestId, Pending>>,
    next_id: AtomicI64,
    session: Mutex<Option<ServerSession>>,
    pub(crate) options: ClientOptions,
    notifications: broadcast::Sender<Notification>,
    closed: CancellationToken,
    child: tokio::sync::Mutex<Option<mcp_transport::child::ChildProcess>>,
    /// The HTTP transport, when the client speaks Streamable HTTP.
    pub(crate) http: Option<crate::http::HttpLink>,
    /// The WebSocket transport, when the client speaks WebSocket.
    #[cfg(feature = "ws")]
    pub(crate) ws: Mutex<Option<mcp_transport::ws_client::WsHandle>>,
    output_schemas: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    listeners: Mutex<HashMap<RequestId, mpsc::UnboundedSender<Notification>>>,
    cache: moka::sync::Cache<String, Cached>,
    /// The members every modern request's `_meta` gets (protocol version, capabilities, client
    /// info), serialized once per revision.
    modern_meta: Mutex<Option<(ProtocolVersion, Arc<str>)>>,
}

/// A cached result and how long it stays fresh.
#[derive(Clone)]
struct Cached {
    raw: Arc<str>,
    ttl: Duration,
}

struct TtlExpiry;

impl moka::Expiry<String, Cached> for TtlExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Cached,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Whether `method`'s results may be cached (see [`cache_key`]).
fn is_cacheable(method: &str) -> bool {
    matches!(
        method,
        "tools/list"
            | "prompts/list"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
    )
}

/// The methods whose complete results carry caching hints, and the param that keys them.
fn cache_key(method: &str, params: &Value) -> Option<String> {
    let part = match method {
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            params.get("cursor").and_then(Value::as_str).unwrap_or("")
        }
        "resources/read"
            if params.get("inputResponses").is_none() && params.get("requestState").is_none() =>
        {
            params.get("uri")?.as_str()?
        }
        _ => return None,
    };
    Some(format!("{method}\u{0}{part}"))
}

/// A connection to one MCP server. Cheap to clone; clones share the connection, and many
/// requests may be in flight at once.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session", &self.session())
            .finish_non_exhaustive()
    }
}

/// Removes a request from the pending table when its caller stops waiting before an answer,
/// and tells the server (`notifications/cancelled`).
struct CancelOnDrop<'a> {
    client: &'a Client,
    id: RequestId,
    armed: bool,
    reason: &'static str,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(mut p) = self.client.inner.pending.lock() {
            p.remove(&self.id);
        }
        let note = Notification::new(
            "notifications/cancelled",
            CancelledNotificationParams {
                request_id: Some(self.id.clone()),
                reason: Some(self.reason.to_owned()),
                meta: None,
            },
        );
        if let Ok(bytes) = serde_json::to_vec(&note) {
            // Best effort: if the writer is backed up, the server finishes the work and the
            // late answer is dropped.
            let _ = self.client.inner.out.try_send(bytes);
        }
    }
}

impl Client {
    /// Connects over a framed transport and settles the era.
    pub async fn connect(framed: Framed, options: ClientOptions) -> Result<Self, ClientError> {
        let client = Self::start(framed, options, None);
        client.handshake_or_close().await?;
        Ok(client)
    }

    /// Spawns a server process and connects to it over its stdio.
    pub async fn spawn(
        spec: &mcp_transport::child::ChildSpec,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let (framed, child) = mcp_transport::child::spawn(spec).map_err(|e| {
            ClientError::Transport(format!("could not start {}: {e}", spec.command))
        })?;
        let client = Self::start(framed, options, Some(child));
        client.handshake_or_close().await?;
        Ok(client)
    }

    /// The handshake; when it fails, the connection is closed (and a child process stopped)
    /// before the error is returned: the read loop holds a clone of the client, so dropping
    /// the caller's copy would leave both running.
    async fn handshake_or_close(&self) -> Result<(), ClientError> {
        let result = self.handshake().await;
        if result.is_err() {
            self.close().await;
        }
        result
    }

    fn start(
        framed: Framed,
        options: ClientOptions,
        child: Option<mcp_transport::child::ChildProcess>,
    ) -> Self {
        let (reader, writer) = framed;
        let (out, rx) = mpsc::channel(1024);
        let client = Self::start_with(out, Source::Framed(reader), options, child, None);
        tokio::spawn(write_loop(writer, rx, client.inner.closed.clone()));
        client
    }

    /// Starts a client whose messages go out on `out` and come in from `source`.
    pub(crate) fn start_with(
        out: mpsc::Sender<Vec<u8>>,
        source: Source,
        options: ClientOptions,
        child: Option<mcp_transport::child::ChildProcess>,
        http: Option<crate::http::HttpLink>,
    ) -> Self {
        let capacity = options.cache_capacity;
        let inner = Arc::new(Inner {
            out,
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(1),
            session: Mutex::new(None),
            options,
            notifications: broadcast::channel(1024).0,
            closed: CancellationToken::new(),
            child: tokio::sync::Mutex::new(child),
            output_schemas: Mutex::new(HashMap::new()),
            listeners: Mutex::new(HashMap::new()),
            cache: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .expire_after(TtlExpiry)
                .support_invalidation_closures()
                .build(),
            modern_meta: Mutex::new(None),
            http,
            #[cfg(feature = "ws")]
            ws: Mutex::new(None),
        });
        let client = Self { inner };
        tokio::spawn(read_loop(client.clone(), source));
        client
    }

    /// What the handshake settled.
    pub fn session(&self) -> Option<ServerSession> {
        self.inner.session.lock().ok().and_then(|s| s.clone())
    }

    /// The revision in use; read on every request, so it copies the version out under the lock
    /// rather than cloning the whole session.
    fn version(&self) -> ProtocolVersion {
        self.inner
            .session
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.version))
            .unwrap_or(ProtocolVersion::LATEST)
    }

    /// Notifications the server sends outside any request (list changes, resource updates,
    /// log messages, listen-stream notifications).
    pub fn notifications(&self) -> broadcast::Receiver<Notification> {
        self.inner.notifications.subscribe()
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    pub(crate) async fn handshake(&self) -> Result<(), ClientError> {
        let prefer = self.inner.options.era;
        if prefer != EraPreference::Legacy {
            match self.probe(ProtocolVersion::LATEST, true).await {
                Ok(session) => {
                    self.set_session(session);
                    return Ok(());
                }
                Err(e) if prefer == EraPreference::Modern => return Err(e),
                // A bad certificate fails `initialize` the same way: no second handshake.
                #[cfg(feature = "tls")]
                Err(e @ ClientError::Tls(_)) => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, "server/discover probe failed; trying initialize")
                }
            }
        }
        self.initialize().await
    }

    fn set_session(&self, session: ServerSession) {
        if let Ok(mut s) = self.inner.session.lock() {
            *s = Some(session);
        }
    }

    /// `server/discover` with a modern `_meta`. A recognised modern error means a modern server
    /// that wants another version: retry once (`may_retry`) with a mutual one. That may be the
    /// version just refused: a -32022 whose `supported` list names it comes from a server that
    /// changed its mind (a deployment rolling between versions behind one endpoint), and one
    /// more try is what the spec's "retry with a supported version" asks for.
    async fn probe(
        &self,
        version: ProtocolVersion,
        may_retry: bool,
    ) -> Result<ServerSession, ClientError> {
        let timeout = self.inner.options.probe_timeout;
        match self
            .send_request(
                "server/discover",
                |progress| self.encode_params(&json!({}), version, progress),
                Some(timeout),
                None,
            )
            .await
        {
            Ok(raw) => {
                let d: DiscoverResult = serde_json::from_str(raw.get()).map_err(|e| {
                    ClientError::Protocol(format!("bad server/discover result: {e}"))
                })?;
                let server_info = d
                    .meta
                    .as_ref()
                    .and_then(|m| m.server_info.as_deref().cloned());
                Ok(ServerSession {
                    version,
                    server_info,
                    capabilities: d.capabilities,
                    instructions: d.instructions,
                    supported_versions: d.supported_versions,
                })
            }
            Err(ClientError::Server(e)) if McpError::is_modern_signal(e.code) => {
                let supported: Vec<String> = e
                    .data
                    .as_ref()
                    .and_then(|d| d.get("supported"))
                    .and_then(|s| serde_json::from_value(s.clone()).ok())
                    .unwrap_or_default();
                let unsupported = e.code == mcp_protocol::error::code::UNSUPPORTED_PROTOCOL_VERSION;
                match pick_mutual(&supported, &[ProtocolVersion::V2026_07_28]) {
                    Some(v) if may_retry && (v != version || unsupported) => {
                        Box::pin(self.probe(v, false)).await
                    }
                    _ => Err(ClientError::Incompatible(format!(
                        "the server supports {supported:?}"
                    ))),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn initialize(&self) -> Result<(), ClientError> {
        let params = InitializeRequestParams {
            protocol_version: ProtocolVersion::LATEST_LEGACY.as_str().to_owned(),
            capabilities: self.declared_capabilities(),
            client_info: self.inner.options.client_info.clone(),
            meta: None,
        };
        let raw = self
            .send_request(
                "initialize",
                |progress| self.encode_params(&params, ProtocolVersion::LATEST_LEGACY, progress),
                None,
                None,
            )
            .await?;
        let r: InitializeResult = serde_json::from_str(raw.get())
            .map_err(|e| ClientError::Protocol(format!("bad initialize result: {e}")))?;
        let version = ProtocolVersion::parse(&r.protocol_version)
            .filter(|v| v.is_legacy())
            .ok_or_else(|| {
                ClientError::Incompatible(format!(
                    "the server chose protocol version {:?}",
                    r.protocol_version
                ))
            })?;
        self.set_session(ServerSession {
            version,
            server_info: Some(r.server_info),
            capabilities: r.capabilities,
            instructions: r.instructions,
            supported_versions: vec![r.protocol_version],
        });
        self.notify("notifications/initialized", json!({})).await
    }

    /// The members of a modern request's `_meta` (protocol version, client capabilities and
    /// info) for `version`, as JSON object members without the braces. Serialized once per
    /// revision and kept: they are the same on every request.
    fn modern_meta(&self, version: ProtocolVersion) -> Result<Arc<str>, ClientError> {
        if let Ok(cached) = self.inner.modern_meta.lock()
            && let Some((v, members)) = cached.as_ref()
            && *v == version
        {
            return Ok(members.clone());
        }
        let caps = to_json(&mcp_protocol::ForRevision::new(
            &self.declared_capabilities(),
            version,
        ))?;
        let info = to_json(&self.inner.options.client_info)?;
        let members: Arc<str> = format!(
            "{}:{},{}:{caps},{}:{info}",
            to_json(mcp_protocol::meta::key::PROTOCOL_VERSION)?,
            to_json(version.as_str())?,
            to_json(mcp_protocol::meta::key::CLIENT_CAPABILITIES)?,
            to_json(mcp_protocol::meta::key::CLIENT_INFO)?,
        )
        .into();
        if let Ok(mut cached) = self.inner.modern_meta.lock() {
            *cached = Some((version, members.clone()));
        }
        Ok(members)
    }

    /// Serializes a request's params for `version`: in the modern era with the `_meta` members
    /// every request carries, and with `progress` as the progress token when given.
    ///
    /// The params are serialized once, straight to text. When `_meta` members must be added and
    /// the params have no `_meta` of their own (the usual case), they are spliced in as the
    /// first member; otherwise they are merged into the existing `_meta` (theirs win).
    fn encode_params<P: Serialize + ?Sized>(
        &self,
        params: &P,
        version: ProtocolVersion,
        progress: Option<&RequestId>,
    ) -> Result<Box<RawValue>, ClientError> {
        let protocol = |e: serde_json::Error| ClientError::Protocol(e.to_string());
        let json = serde_json::to_string(&mcp_protocol::ForRevision::new(params, version))
            .map_err(protocol)?;
        let modern = version.is_modern();
        if !modern && progress.is_none() {
            return RawValue::from_string(json).map_err(protocol);
        }
        let mut members = String::new();
        if modern {
            members.push_str(&self.modern_meta(version)?);
        }
        if let Some(id) = progress {
            if !members.is_empty() {
                members.push(',');
            }
            members.push_str(
                &serde_json::to_string(mcp_protocol::meta::key::PROGRESS_TOKEN)
                    .map_err(protocol)?,
            );
            members.push(':');
            members.push_str(&serde_json::to_string(id).map_err(protocol)?);
        }
        // Compact JSON of an object: `{}` or `{"member":...}`. A `"_meta"` anywhere (even
        // inside a value) takes the general path below.
        if let Some(rest) = json.strip_prefix('{')
            && !json.contains("\"_meta\"")
        {
            let mut out = String::with_capacity(json.len() + members.len() + 12);
            out.push_str("{\"_meta\":{");
            out.push_str(&members);
            out.push('}');
            if rest != "}" {
                out.push(',');
            }
            out.push_str(rest);
            return RawValue::from_string(out).map_err(protocol);
        }
        let mut value: Value = serde_json::from_str(&json).map_err(protocol)?;
        if let Value::Object(map) = &mut value {
            let added: serde_json::Map<String, Value> =
                serde_json::from_str(&format!("{{{members}}}")).map_err(protocol)?;
            let meta = map.entry("_meta").or_insert_with(|| json!({}));
            if let Value::Object(m) = meta {
                m.extend(added);
            }
        }
        serde_json::value::to_raw_value(&value).map_err(protocol)
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &'static str, params: Value) -> Result<(), ClientError> {
        let bytes = serde_json::to_vec(&Notification::new(method, params))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.inner
            .out
            .send(bytes)
            .await
            .map_err(|_| ClientError::Transport("connection closed".into()))
    }

    /// Sends one request and waits for its answer. Dropping the returned future cancels the
    /// request at the server.
    ///
    /// `encode` serializes the params; it gets the request's id when the caller wants progress
    /// (the id is the progress token).
    async fn send_request(
        &self,
        method: &'static str,
        encode: impl FnOnce(Option<&RequestId>) -> Result<Box<RawValue>, ClientError>,
        timeout: Option<Duration>,
        progress: Option<&CallOptions>,
    ) -> Answer {
        if self.is_closed() {
            return Err(ClientError::Transport("connection closed".into()));
        }
        let id = RequestId::Number(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let wants_progress = progress.is_some_and(|p| p.progress.is_some());
        let params = encode(wants_progress.then_some(&id))?;
        let mut bytes = Vec::with_capacity(params.get().len() + method.len() + 48);
        serde_json::to_writer(&mut bytes, &Request::new(id.clone(), method, &*params))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        drop(params);
        let (tx, mut rx) = oneshot::channel();
        // The progress channel exists only for callers that asked for progress.
        let (ptx, mut prx) = if wants_progress {
            let (ptx, prx) = mpsc::unbounded_channel();
            (Some(ptx), Some(prx))
        } else {
            (None, None)
        };
        if let Ok(mut p) = self.inner.pending.lock() {
            p.insert(id.clone(), Pending { tx, progress: ptx });
        }
        let mut guard = CancelOnDrop {
            client: self,
            id,
            armed: true,
            reason: "the caller stopped waiting",
        };
        if self.inner.out.send(bytes).await.is_err() {
            guard.armed = false;
            return Err(ClientError::Transport("connection closed".into()));
        }
        let per_wait = timeout.unwrap_or(self.inner.options.request_timeout);
        let overall =
            tokio::time::Instant::now() + self.inner.options.max_total_timeout.max(per_wait);
        let mut deadline = tokio::time::Instant::now() + per_wait;
        loop {
            tokio::select! {
                // Progress first: notifications sent before the answer are delivered before it.
                biased;
                Some(p) = recv_progress(&mut prx) => {
                    if let Some(cb) = progress.and_then(|o| o.progress.as_ref()) {
                        cb(p);
                    }
                    if self.inner.options.reset_timeout_on_progress {
                        deadline = (tokio::time::Instant::now() + per_wait).min(overall);
                    }
                }
                answer = &mut rx => {
                    guard.armed = false;
                    while let Some(Ok(p)) = prx.as_mut().map(mpsc::UnboundedReceiver::try_recv) {
                        if let Some(cb) = progress.and_then(|o| o.progress.as_ref()) {
                            cb(p);
                        }
                    }
                    return answer.unwrap_or_else(|_| Err(ClientError::Transport("connection closed".into())));
                }
                () = tokio::time::sleep_until(deadline.min(overall)) => {
                    guard.reason = "timed out";
                    return Err(ClientError::Timeout { method: method.to_owned(), after: per_wait });
                }
            }
        }
    }

    /// Sends a typed request in the era of this connection and reads its typed result.
    pub async fn request<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &'static str,
        params: &P,
        options: &CallOptions,
    ) -> Result<R, ClientError> {
        let raw = self.request_raw(method, params, options).await?;
        serde_json::from_str(raw.get())
            .map_err(|e| ClientError::Protocol(format!("bad {method} result: {e}")))
    }

    async fn request_raw<P: Serialize>(
        &self,
        method: &'static str,
        params: &P,
        options: &CallOptions,
    ) -> Answer {
        let version = self.version();
        let key =
            if version.is_modern() && self.inner.options.cache_capacity > 0 && is_cacheable(method)
            {
                cache_key(method, &to_value(params, version)?)
            } else {
                None
            };
        if let Some(hit) = key.as_ref().and_then(|k| self.inner.cache.get(k)) {
            return RawValue::from_string(hit.raw.to_string())
                .map_err(|e| ClientError::Protocol(e.to_string()));
        }
        let raw = self
            .send_request(
                method,
                |progress| self.encode_params(params, version, progress),
                options.timeout,
                Some(options),
            )
            .await?;
        if let Some(key) = key {
            #[derive(serde::Deserialize)]
            struct Hints {
                #[serde(rename = "resultType")]
                result_type: Option<String>,
                #[serde(rename = "ttlMs")]
                ttl_ms: Option<f64>,
            }
            if let Ok(h) = serde_json::from_str::<Hints>(raw.get())
                && h.result_type.as_deref().is_none_or(|t| t == "complete")
                && let Some(ttl) = h.ttl_ms.filter(|t| t.is_finite() && *t >= 1.0)
            {
                // Whole milliseconds, at most a day: the hint is a hint.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let ttl = Duration::from_millis(ttl.min(8.64e7) as u64);
                self.inner.cache.insert(
                    key,
                    Cached {
                        raw: Arc::from(raw.get()),
                        ttl,
                    },
                );
            }
        }
        Ok(raw)
    }

    /// Forgets every cached result.
    pub fn clear_cache(&self) {
        self.inner.cache.invalidate_all();
    }

    /// A request that may answer `input_required` (2026-07-28): answers the input requests with
    /// the handlers and retries with a new id, the answers and the exact `requestState`.
    async fn request_with_input<P: Serialize + WithInput, R: DeserializeOwned>(
        &self,
        method: &'static str,
        params: &mut P,
        options: &CallOptions,
    ) -> Result<R, ClientError> {
        let bad = |e: serde_json::Error| ClientError::Protocol(format!("bad {method} result: {e}"));
        for _ in 0..=self.inner.options.max_input_rounds {
            let raw = self.request_raw(method, &*params, options).await?;
            // Read `resultType` first, then the result straight into its type: no
            // `serde_json::Value` tree of the whole result on the way (what `CallOutcome`'s
            // deserializer builds).
            let kind: ResultKind<'_> = serde_json::from_str(raw.get()).map_err(bad)?;
            match kind.result_type.as_deref() {
                None | Some("complete") => return serde_json::from_str(raw.get()).map_err(bad),
                Some("input_required") => {
                    // Boxed, like the task below: rare paths whose futures would otherwise
                    // make every call's future (and each copy of it) kilobytes bigger.
                    let (answers, state) = Box::pin(self.answer_round(method, &raw)).await?;
                    params.set_input(Some(answers), state);
                }
                // Tasks extension: the result comes from polling the task.
                Some("task") => return Box::pin(self.await_task(method, &raw)).await,
                Some(other) => {
                    return Err(ClientError::Protocol(format!(
                        "bad {method} result: unexpected resultType {other:?}"
                    )));
                }
            }
        }
        Err(ClientError::TooManyInputRounds(
            self.inner.options.max_input_rounds,
        ))
    }

    /// Answers the input requests of an `input_required` result: the answers and the state
    /// to send back with them.
    async fn answer_round(
        &self,
        method: &str,
        raw: &RawValue,
    ) -> Result<(InputResponses, Option<String>), ClientError> {
        let ir: InputRequiredResult = serde_json::from_str(raw.get())
            .map_err(|e| ClientError::Protocol(format!("bad {method} result: {e}")))?;
        let mut answers = InputResponses::new();
        for (key, request) in ir.input_requests.unwrap_or_default() {
            answers.insert(key, self.answer(request).await?);
        }
        Ok((answers, ir.request_state))
    }

    pub(crate) async fn answer(&self, request: InputRequest) -> Result<InputResponse, ClientError> {
        let h = &self.inner.options.handlers;
        let refuse = |what: &str| {
            ClientError::Protocol(format!(
                "the server asked for {what}, which this client has no handler for"
            ))
        };
        let server = |e: McpError| ClientError::Server(e.to_error_object(ProtocolVersion::LATEST));
        match request.kind {
            InputRequestKind::Elicit(p) => match &h.elicitation {
                Some(f) => f(p).await.map(InputResponse::Elicit).map_err(server),
                None => Err(refuse("elicitation")),
            },
            InputRequestKind::CreateMessage(p) => match &h.sampling {
                Some(f) => f(p).await.map(InputResponse::CreateMessage).map_err(server),
                None => Err(refuse("sampling")),
            },
            InputRequestKind::ListRoots(_) => match &h.roots {
                Some(f) => f(()).await.map(InputResponse::ListRoots).map_err(server),
                None => Err(refuse("roots")),
            },
            _ => Err(refuse("an unknown input")),
        }
    }

    /// Every tool, following pagination.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ClientError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListToolsResult = self
                .request(
                    "tools/list",
                    &PaginatedRequestParams { cursor, meta: None },
                    &CallOptions::default(),
                )
                .await?;
            out.extend(page.tools);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => {
                    self.remember_header_params(&mut out);
                    self.remember_output_schemas(&out);
                    return Ok(out);
                }
            }
        }
    }

    /// Calls a tool. A tool that failed is a result with `is_error`; a JSON-RPC error is `Err`.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, ClientError> {
        self.call_tool_with(name, arguments, &CallOptions::default())
            .await
    }

    /// Calls a tool with per-call options (timeout, progress).
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        options: &CallOptions,
    ) -> Result<CallToolResult, ClientError> {
        let arguments = match arguments {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => {
                return Err(ClientError::Protocol(format!(
                    "tool arguments must be an object, not {other}"
                )));
            }
        };
        let mut params = CallToolRequestParams {
            name: name.to_owned(),
            arguments,
            ..CallToolRequestParams::default()
        };
        self.call_tool_params(&mut params, options).await
    }

    /// [`call_tool_with`](Self::call_tool_with) on params the caller keeps: they come back as
    /// they were sent (with the last round's input answers, if the server asked for input), so
    /// the multi-server client can send the same arguments again without copying them first.
    pub(crate) async fn call_tool_params(
        &self,
        params: &mut CallToolRequestParams,
        options: &CallOptions,
    ) -> Result<CallToolResult, ClientError> {
        let result: CallToolResult = self
            .request_with_input("tools/call", params, options)
            .await?;
        self.check_structured(&params.name, &result)?;
        Ok(result)
    }

    /// [`call_tool_params`](Self::call_tool_params) taking the boxed params and giving them
    /// back with the result, so that a caller that may send them again (the multi-server
    /// client's retries) holds one small future instead of the params, the options and the
    /// call side by side.
    #[cfg(feature = "multi")]
    pub(crate) async fn call_tool_lent(
        &self,
        mut params: Box<CallToolRequestParams>,
        options: CallOptions,
    ) -> (
        Box<CallToolRequestParams>,
        Result<CallToolResult, ClientError>,
    ) {
        let result = self.call_tool_params(&mut params, &options).await;
        (params, result)
    }

    fn remember_output_schemas(&self, tools: &[Tool]) {
        if self.inner.options.structured_output == StructuredCheck::Off {
            return;
        }
        let compiled: HashMap<String, Arc<jsonschema::Validator>> = tools
            .iter()
            .filter_map(|t| {
                let schema = Value::Object(t.output_schema.clone()?);
                match jsonschema::validator_for(&schema) {
                    Ok(v) => Some((t.name.clone(), Arc::new(v))),
                    Err(e) => {
                        tracing::warn!(tool = %t.name, error = %e, "the tool's output schema does not compile; its output is not checked");
                        None
                    }
                }
            })
            .collect();
        if let Ok(mut m) = self.inner.output_schemas.lock() {
            *m = compiled;
        }
    }

    fn check_structured(&self, tool: &str, result: &CallToolResult) -> Result<(), ClientError> {
        let mode = self.inner.options.structured_output;
        let (Some(content), false) = (
            &result.structured_content,
            mode == StructuredCheck::Off || result.is_error(),
        ) else {
            return Ok(());
        };
        let validator = self
            .inner
            .output_schemas
            .lock()
            .ok()
            .and_then(|m| m.get(tool).cloned());
        let Some(validator) = validator else {
            return Ok(());
        };
        let errors: Vec<String> = validator
            .iter_errors(content)
            .take(3)
            .map(|e| e.to_string())
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let message = format!(
            "structuredContent of {tool} does not match its output schema: {}",
            errors.join("; ")
        );
        if mode == StructuredCheck::Error {
            return Err(ClientError::Protocol(message));
        }
        tracing::warn!("{message}");
        Ok(())
    }

    /// Opens a `subscriptions/listen` stream (2026-07-28) and waits for its acknowledgement.
    /// Dropping the [`Subscription`] ends it (`notifications/cancelled` for the listen id).
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, ClientError> {
        let version = self.version();
        if version.is_legacy() {
            return Err(ClientError::Incompatible("subscriptions/listen needs 2026-07-28; use subscribe() and notifications() with a legacy server".into()));
        }
        let id = RequestId::Number(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, mut rx) = mpsc::unbounded_channel();
        if let Ok(mut l) = self.inner.listeners.lock() {
            l.insert(id.clone(), tx);
        }
        let params = self.encode_params(
            &SubscriptionsListenRequestParams {
                notifications: filter,
                meta: None,
            },
            version,
            None,
        )?;
        let bytes = serde_json::to_vec(&Request::new(id.clone(), "subscriptions/listen", params))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let subscription = Subscription {
            client: self.clone(),
            id: id.clone(),
            rx: None,
            acknowledged: SubscriptionFilter::default(),
        };
        self.inner
            .out
            .send(bytes)
            .await
            .map_err(|_| ClientError::Transport("connection closed".into()))?;
        let ack = tokio::time::timeout(self.inner.options.request_timeout, rx.recv())
            .await
            .map_err(|_| ClientError::Timeout {
                method: "subscriptions/listen".into(),
                after: self.inner.options.request_timeout,
            })?
            .ok_or_else(|| ClientError::Transport("connection closed".into()))?;
        if ack.method != "notifications/subscriptions/acknowledged" {
            return Err(ClientError::Protocol(format!(
                "the first message of a listen stream was {}",
                ack.method
            )));
        }
        let params: SubscriptionsAcknowledgedNotificationParams = ack
            .params_as()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let mut subscription = subscription;
        subscription.rx = Some(rx);
        subscription.acknowledged = params.notifications;
        Ok(subscription)
    }

    /// Every resource, following pagination.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, ClientError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListResourcesResult = self
                .request(
                    "resources/list",
                    &PaginatedRequestParams { cursor, meta: None },
                    &CallOptions::default(),
                )
                .await?;
            out.extend(page.resources);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Every resource template, following pagination.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, ClientError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListResourceTemplatesResult = self
                .request(
                    "resources/templates/list",
                    &PaginatedRequestParams { cursor, meta: None },
                    &CallOptions::default(),
                )
                .await?;
            out.extend(page.resource_templates);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        let mut params = ReadResourceRequestParams {
            uri: uri.to_owned(),
            ..ReadResourceRequestParams::default()
        };
        self.request_with_input("resources/read", &mut params, &CallOptions::default())
            .await
    }

    /// Every prompt, following pagination.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListPromptsResult = self
                .request(
                    "prompts/list",
                    &PaginatedRequestParams { cursor, meta: None },
                    &CallOptions::default(),
                )
                .await?;
            out.extend(page.prompts);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Gets a prompt.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: BTreeMap<String, String>,
    ) -> Result<GetPromptResult, ClientError> {
        let mut params = GetPromptRequestParams {
            name: name.to_owned(),
            arguments: Some(arguments),
            ..GetPromptRequestParams::default()
        };
        self.request_with_input("prompts/get", &mut params, &CallOptions::default())
            .await
    }

    /// Completes an argument of a prompt or a variable of a resource template.
    pub async fn complete(
        &self,
        reference: CompletionReference,
        argument: &str,
        value: &str,
    ) -> Result<Completion, ClientError> {
        self.complete_with_context(reference, argument, value, BTreeMap::new())
            .await
    }

    /// Completes an argument knowing the values already chosen for the others (`context`,
    /// for example the country when completing a city). Sent to servers of 2025-06-18 and
    /// later; an older session has no such field, and its server completes without it.
    pub async fn complete_with_context(
        &self,
        reference: CompletionReference,
        argument: &str,
        value: &str,
        context: BTreeMap<String, String>,
    ) -> Result<Completion, ClientError> {
        let params = CompleteRequestParams {
            reference,
            argument: CompletionArgument {
                name: argument.to_owned(),
                value: value.to_owned(),
            },
            context: (!context.is_empty()).then_some(CompletionContext {
                arguments: Some(context),
            }),
            meta: None,
        };
        let r: CompleteResult = self
            .request("completion/complete", &params, &CallOptions::default())
            .await?;
        Ok(r.completion)
    }

    /// `ping` (legacy servers; a modern server has no `ping`).
    pub async fn ping(&self) -> Result<(), ClientError> {
        let _: EmptyResult = self
            .request("ping", &RequestParams::default(), &CallOptions::default())
            .await?;
        Ok(())
    }

    /// Sets the log level of a legacy session.
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), ClientError> {
        let _: EmptyResult = self
            .request(
                "logging/setLevel",
                &SetLevelRequestParams { level, meta: None },
                &CallOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Subscribes to a resource's updates (legacy; they arrive on [`Client::notifications`]).
    pub async fn subscribe(&self, uri: &str) -> Result<(), ClientError> {
        let _: EmptyResult = self
            .request(
                "resources/subscribe",
                &SubscribeRequestParams {
                    uri: uri.to_owned(),
                    meta: None,
                },
                &CallOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Ends the connection: closes the server's input and, for a child process, shuts it down
    /// (wait, SIGTERM, wait, SIGKILL to its process group).
    pub async fn close(&self) {
        self.inner.closed.cancel();
        if let Some(http) = &self.inner.http {
            http.handle.close().await;
        }
        #[cfg(feature = "ws")]
        {
            let ws = self.inner.ws.lock().ok().and_then(|mut w| w.take());
            if let Some(ws) = ws {
                ws.close().await;
            }
        }
        if let Some(child) = self.inner.child.lock().await.take() {
            let _ = child.shutdown().await;
        }
    }
}

/// The `resultType` of a result, read without building anything else.
#[derive(serde::Deserialize)]
struct ResultKind<'a> {
    /// `complete` (or absent) or `input_required`.
    #[serde(rename = "resultType", borrow, default)]
    result_type: Option<std::borrow::Cow<'a, str>>,
}

/// The next progress notification, if the caller asked for progress; otherwise never ready.
async fn recv_progress(
    rx: &mut Option<mpsc::UnboundedReceiver<ProgressNotificationParams>>,
) -> Option<ProgressNotificationParams> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Params that carry multi-round-trip answers.
trait WithInput {
    fn set_input(&mut self, answers: Option<InputResponses>, state: Option<String>);
}

macro_rules! with_input {
    ($($t:ty),*) => {$(impl WithInput for $t {
        fn set_input(&mut self, answers: Option<InputResponses>, state: Option<String>) {
            self.input_responses = answers;
            self.request_state = state;
        }
    })*};
}
with_input!(
    CallToolRequestParams,
    GetPromptRequestParams,
    ReadResourceRequestParams
);

/// `v` as compact JSON text.
fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, ClientError> {
    serde_json::to_string(v).map_err(|e| ClientError::Protocol(e.to_string()))
}

fn to_value<T: Serialize>(v: &T, version: ProtocolVersion) -> Result<Value, ClientError> {
    serde_json::to_value(mcp_protocol::ForRevision::new(v, version))
        .map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Writes queued messages, flushing when the queue is empty. Ends when every sender is gone or
/// the client is closed: then what is already queued is written and the stream is shut down,
/// which is the end of input a stdio server waits for (the senders live as long as any clone of
/// the client, so waiting for them alone would leave a child's stdin open).
async fn write_loop(
    mut writer: FrameWriter<BoxWriter>,
    mut rx: mpsc::Receiver<Vec<u8>>,
    closed: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            biased;
            first = rx.recv() => match first {
                Some(first) => first,
                None => break,
            },
            () = closed.cancelled() => {
                while let Ok(last) = rx.try_recv() {
                    if writer.send(&last).await.is_err() {
                        return;
                    }
                }
                break;
            }
        };
        if writer.send(&first).await.is_err() {
            return;
        }
        while let Ok(more) = rx.try_recv() {
            if writer.send(&more).await.is_err() {
                return;
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// Where the server's messages come from.
pub(crate) enum Source {
    /// Newline-delimited frames (stdio, sockets, pipes).
    Framed(FrameReader<BoxReader>),
    /// Streamable HTTP: messages, and requests that got no JSON-RPC answer.
    Http(mpsc::Receiver<mcp_transport::http_client::Inbound>),
    /// WebSocket: messages, and requests lost with a dropped connection.
    #[cfg(feature = "ws")]
    Ws(mpsc::Receiver<mcp_transport::ws_client::Inbound>),
}

/// What the next read from a [`Source`] gave.
enum Read {
    Message(Vec<u8>),
    Skip,
    Failed(RequestId, ClientError),
    End,
}

impl Source {
    async fn next(&mut self) -> Read {
        match self {
            Self::Framed(reader) => match reader.next().await {
                None => Read::End,
                Some(Ok(b)) => Read::Message(b),
                Some(Err(mcp_transport::FrameError::TooLarge { size, limit })) => {
                    tracing::warn!(size, limit, "the server sent an oversized message; skipped");
                    Read::Skip
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "reading from the server failed");
                    Read::End
                }
            },
            Self::Http(rx) => match rx.recv().await {
                None => Read::End,
                Some(mcp_transport::http_client::Inbound::Message(b)) => Read::Message(b),
                Some(mcp_transport::http_client::Inbound::Failed { id, error }) => {
                    Read::Failed(id, crate::http::client_error(error))
                }
                Some(mcp_transport::http_client::Inbound::Closed(error)) => {
                    tracing::warn!(%error, "the HTTP transport ended");
                    Read::End
                }
            },
            #[cfg(feature = "ws")]
            Self::Ws(rx) => match rx.recv().await {
                None => Read::End,
                Some(mcp_transport::ws_client::Inbound::Message(b)) => Read::Message(b),
                Some(mcp_transport::ws_client::Inbound::Failed { id, error }) => {
                    Read::Failed(id, crate::ws::ws_error(error))
                }
                Some(mcp_transport::ws_client::Inbound::Closed(error)) => {
                    tracing::warn!(%error, "the WebSocket transport ended");
                    Read::End
                }
            },
        }
    }
}

async fn read_loop(client: Client, mut source: Source) {
    let inner = &client.inner;
    loop {
        let read = tokio::select! {
            r = source.next() => r,
            () = inner.closed.cancelled() => break,
        };
        let bytes = match read {
            Read::Message(b) => b,
            Read::Skip => continue,
            Read::Failed(id, error) => {
                deliver(inner, &id, Err(error));
                continue;
            }
            Read::End => break,
        };
        let message = match jsonrpc::parse(&bytes) {
            Ok(m) => m,
            Err(e) => {
                // A server that writes garbage to stdout: log and keep reading.
                tracing::warn!(error = %e, "the server sent something that is not a JSON-RPC message");
                continue;
            }
        };
        match message {
            Message::Response(Response { id, result }) => deliver(inner, &id, Ok(result)),
            Message::Error(ErrorResponse {
                id: Some(id),
                error,
            }) => deliver(inner, &id, Err(ClientError::Server(error))),
            Message::Error(ErrorResponse { id: None, error }) => {
                tracing::warn!(?error, "the server sent an error without an id")
            }
            Message::Notification(n) => route_notification(inner, n),
            Message::Request(r) => {
                let client = client.clone();
                tokio::spawn(async move { client.answer_server_request(r).await });
            }
        }
    }
    // The connection is gone: every pending request fails now, not at its timeout.
    inner.closed.cancel();
    let pending: Vec<Pending> = inner
        .pending
        .lock()
        .map(|mut p| p.drain().map(|(_, v)| v).collect())
        .unwrap_or_default();
    for p in pending {
        let _ =
            p.tx.send(Err(ClientError::Transport("the connection closed".into())));
    }
}

fn subscription_id(n: &Notification) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct Tagged {
        #[serde(rename = "_meta")]
        meta: Option<mcp_protocol::meta::Meta>,
    }
    n.params.as_ref()?;
    n.params_as::<Tagged>().ok()?.meta?.subscription_id
}

fn deliver(inner: &Inner, id: &RequestId, answer: Answer) {
    // The final result of a listen stream ends it.
    if let Some(tx) = inner
        .listeners
        .lock()
        .ok()
        .and_then(|mut l| if l.is_empty() { None } else { l.remove(id) })
    {
        drop(tx);
        return;
    }
    let pending = inner.pending.lock().ok().and_then(|mut p| p.remove(id));
    match pending {
        Some(p) => {
            let _ = p.tx.send(answer);
        }
        None => tracing::debug!(%id, "an answer for no pending request (late, or cancelled)"),
    }
}

/// Drops the cached results a notification makes stale.
fn invalidate(inner: &Inner, n: &Notification) {
    let prefixes: &[&str] = match &*n.method {
        "notifications/tools/list_changed" => &["tools/list"],
        "notifications/prompts/list_changed" => &["prompts/list"],
        "notifications/resources/list_changed" => &["resources/list", "resources/templates/list"],
        "notifications/resources/updated" => {
            let uri = n
                .params_as::<ResourceUpdatedNotificationParams>()
                .map(|p| p.uri)
                .unwrap_or_default();
            let _ = inner.cache.invalidate_entries_if(move |k, _| {
                k.strip_prefix("resources/read\u{0}")
                    .is_some_and(|u| u.starts_with(uri.as_str()))
            });
            return;
        }
        _ => return,
    };
    let prefixes: Vec<String> = prefixes.iter().map(|p| format!("{p}\u{0}")).collect();
    let _ = inner
        .cache
        .invalidate_entries_if(move |k, _| prefixes.iter().any(|p| k.starts_with(p.as_str())));
}

fn route_notification(inner: &Inner, n: Notification) {
    invalidate(inner, &n);
    if let Some(id) = subscription_id(&n) {
        let tx = inner
            .listeners
            .lock()
            .ok()
            .and_then(|l| l.get(&id).cloned());
        if let Some(tx) = tx {
            let _ = tx.send(n);
            return;
        }
    }
    if n.method == "notifications/progress"
        && let Ok(p) = n.params_as::<ProgressNotificationParams>()
    {
        let id = match &p.progress_token {
            ProgressToken::Number(n) => RequestId::Number(*n),
            ProgressToken::String(s) => RequestId::String(s.clone()),
        };
        if let Ok(pending) = inner.pending.lock()
            && let Some(tx) = pending.get(&id).and_then(|p| p.progress.as_ref())
        {
            let _ = tx.send(p);
            return;
        }
    }
    let _ = inner.notifications.send(n);
}

impl Client {
    /// Answers a legacy server's request with the handlers.
    async fn answer_server_request(&self, r: Request) {
        let h = &self.inner.options.handlers;
        let not_found = || McpError::MethodNotFound(r.method.to_string());
        let result: Result<Value, McpError> = match &*r.method {
            "ping" => Ok(json!({})),
            "sampling/createMessage" => match (&h.sampling, r.params_as()) {
                (Some(f), Ok(p)) => f(p).await.and_then(|v| {
                    serde_json::to_value(v).map_err(|e| McpError::Internal(e.to_string()))
                }),
                (None, _) => Err(not_found()),
                (_, Err(e)) => Err(e),
            },
            "elicitation/create" => match (&h.elicitation, r.params_as()) {
                (Some(f), Ok(p)) => f(p).await.and_then(|v| {
                    serde_json::to_value(v).map_err(|e| McpError::Internal(e.to_string()))
                }),
                (None, _) => Err(not_found()),
                (_, Err(e)) => Err(e),
            },
            "roots/list" => match &h.roots {
                Some(f) => f(()).await.and_then(|v| {
                    serde_json::to_value(v).map_err(|e| McpError::Internal(e.to_string()))
                }),
                None => Err(not_found()),
            },
            _ => Err(not_found()),
        };
        let version = self.version();
        let bytes = match result {
            Ok(v) => serde_json::to_vec(&Response::new(r.id, v)),
            Err(e) => {
                serde_json::to_vec(&ErrorResponse::new(Some(r.id), e.to_error_object(version)))
            }
        };
        if let Ok(bytes) = bytes {
            let _ = self.inner.out.send(bytes).await;
        }
    }
}

/// The error object of a refused call, for tests and logs.
pub fn error_object(e: &ClientError) -> Option<&ErrorObject> {
    match e {
        ClientError::Server(o) => Some(o),
        _ => None,
    }
}

/// An open `subscriptions/listen` stream.
#[derive(Debug)]
pub struct Subscription {
    client: Client,
    id: RequestId,
    rx: Option<mpsc::UnboundedReceiver<Notification>>,
    acknowledged: SubscriptionFilter,
}

impl Subscription {
    /// What the server agreed to send.
    pub fn acknowledged(&self) -> &SubscriptionFilter {
        &self.acknowledged
    }

    /// The next notification; `None` when the server ended the stream or the connection closed.
    pub async fn next(&mut self) -> Option<Notification> {
        self.rx.as_mut()?.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let still_open = self
            .client
            .inner
            .listeners
            .lock()
            .ok()
            .and_then(|mut l| l.remove(&self.id))
            .is_some();
        if still_open {
            let note = Notification::new(
                "notifications/cancelled",
                CancelledNotificationParams {
                    request_id: Some(self.id.clone()),
                    reason: Some("subscription dropped".into()),
                    meta: None,
                },
            );
            if let Ok(bytes) = serde_json::to_vec(&note) {
                let _ = self.client.inner.out.try_send(bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client over an in-memory pipe nobody answers (enough to encode requests).
    fn client() -> Client {
        let (framed, _other_end) = mcp_transport::duplex(1 << 20);
        Client::start(framed, ClientOptions::default(), None)
    }

    fn parse(raw: &RawValue) -> Value {
        serde_json::from_str(raw.get()).expect("valid JSON")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn legacy_params_are_sent_as_serialized() {
        let client = client();
        let params = CallToolRequestParams {
            name: "echo".into(),
            arguments: Some(serde_json::Map::from_iter([(
                "text".into(),
                json!("_meta"),
            )])),
            ..CallToolRequestParams::default()
        };
        let raw = client
            .encode_params(&params, ProtocolVersion::LATEST_LEGACY, None)
            .unwrap();
        assert_eq!(
            parse(&raw),
            json!({"name": "echo", "arguments": {"text": "_meta"}})
        );
        let id = RequestId::Number(7);
        let raw = client
            .encode_params(&json!({}), ProtocolVersion::LATEST_LEGACY, Some(&id))
            .unwrap();
        assert_eq!(parse(&raw), json!({"_meta": {"progressToken": 7}}));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn modern_params_get_the_meta_members_spliced_or_merged() {
        let client = client();
        let version = ProtocolVersion::LATEST;
        let caps = serde_json::to_value(mcp_protocol::ForRevision::new(
            &client.inner.options.handlers.capabilities(),
            version,
        ))
        .unwrap();
        let info = serde_json::to_value(&client.inner.options.client_info).unwrap();
        let expected_meta = |extra: &[(&str, Value)]| {
            let mut meta = serde_json::Map::new();
            meta.insert(
                mcp_protocol::meta::key::PROTOCOL_VERSION.into(),
                json!(version.as_str()),
            );
            meta.insert(
                mcp_protocol::meta::key::CLIENT_CAPABILITIES.into(),
                caps.clone(),
            );
            meta.insert(mcp_protocol::meta::key::CLIENT_INFO.into(), info.clone());
            for (k, v) in extra {
                meta.insert((*k).to_owned(), v.clone());
            }
            Value::Object(meta)
        };

        // Empty params: only `_meta`.
        let raw = client.encode_params(&json!({}), version, None).unwrap();
        assert_eq!(parse(&raw), json!({"_meta": expected_meta(&[])}));

        // Params without `_meta`: spliced in front, progress token included.
        let id = RequestId::Number(3);
        let raw = client
            .encode_params(&json!({"name": "echo"}), version, Some(&id))
            .unwrap();
        assert_eq!(
            parse(&raw),
            json!({"name": "echo", "_meta": expected_meta(&[("progressToken", json!(3))])})
        );

        // Params with their own `_meta`: merged, their members kept.
        let raw = client
            .encode_params(&json!({"name": "echo", "_meta": {"k": 1}}), version, None)
            .unwrap();
        assert_eq!(
            parse(&raw),
            json!({"name": "echo", "_meta": expected_meta(&[("k", json!(1))])})
        );

        // `"_meta"` inside a value takes the merging path, with the same result.
        let raw = client
            .encode_params(&json!({"text": "_meta"}), version, None)
            .unwrap();
        assert_eq!(
            parse(&raw),
            json!({"text": "_meta", "_meta": expected_meta(&[])})
        );

        // The members are cached per revision.
        let first = client.modern_meta(version).unwrap();
        assert!(Arc::ptr_eq(&first, &client.modern_meta(version).unwrap()));
    }

    #[test]
    fn result_kind_reads_only_the_result_type() {
        let kind: ResultKind<'_> = serde_json::from_str(
            r#"{"content":[{"type":"text","text":"x"}],"resultType":"input_required"}"#,
        )
        .unwrap();
        assert_eq!(kind.result_type.as_deref(), Some("input_required"));
        let kind: ResultKind<'_> = serde_json::from_str(r#"{"content":[]}"#).unwrap();
        assert_eq!(kind.result_type, None);
    }
}
