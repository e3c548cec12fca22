//! Streamable HTTP, the client side.
//!
//! Every outgoing message is its own `POST` to the MCP endpoint over a pool of keep-alive
//! connections (`TCP_NODELAY`), so many requests are in flight at once. An answer comes back as
//! a JSON body or as a server-sent-event stream carrying notifications (and, in the legacy era,
//! the server's own requests) before the response. The transport knows just enough of MCP to
//! put the right headers on each message:
//!
//! - **modern** (a request whose `_meta` names a 2026-07-28 protocol version): the
//!   `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers the spec
//!   mirrors from the body (the last from the tool's `x-mcp-header` arguments registered in
//!   [`ToolHeaders`]). A broken stream cannot be resumed in this era: the request fails with
//!   [`HttpError::StreamEnded`] and the caller re-issues it.
//! - **legacy** (after an `initialize`): the session id the server chose, the negotiated
//!   version, a `GET` stream for the server's unsolicited messages once the session is
//!   initialized, resumption of a broken stream with `Last-Event-ID` after the server's `retry`
//!   delay, a new `initialize` (replayed from the first) when the server answers 404 for an ended
//!   session, and a `DELETE` on [`HttpHandle::close`].
//!
//! Answers reach the caller as [`Inbound`] items: each message as its raw bytes, or
//! [`Inbound::Failed`] for a request that got no JSON-RPC answer at all (unreachable server, a
//! non-JSON-RPC error status, an oversized body). An error status with a JSON-RPC error body is
//! delivered as that error, with the request's id when the server left it null. Credentials come
//! from a [`Credentials`] hook, which also sees 401 and 403 challenges and may ask for a retry
//! (up to three per request: a 401, then a 403 for more scopes, then one more).
//!
//! `http://` URLs always; `https://` with the `tls` feature (on by default in `mcp-client`):
//! rustls, HTTP/1.1 only (ALPN `http/1.1`), the server's certificate always verified against
//! `HttpClientOptions::tls` (see the `tls` module for the roots trusted by default). A TLS
//! failure is `HttpError::Tls`, never retried. Connecting (TCP and the TLS handshake) is
//! bounded by [`HttpClientOptions::connect_timeout`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::rt::TokioExecutor;
use mcp_protocol::headers::{self as h, HeaderParam};
use mcp_protocol::jsonrpc::{self, Message, RequestId};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::connect::Connector;
use crate::sse::SseParser;

/// A boxed future, as the [`Credentials`] hook returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where credentials come from: implemented by `mcp-auth` (API keys, bearer tokens, OAuth) or by
/// the application.
pub trait Credentials: Send + Sync + std::fmt::Debug {
    /// The `Authorization` header value for the next request, if any.
    fn authorization(&self) -> BoxFuture<'_, Option<String>>;

    /// The server refused a request with 401 or 403. Return `true` to send it again (with
    /// whatever [`authorization`](Self::authorization) gives then), `false` to fail it. A
    /// request is sent at most [`MAX_CHALLENGE_RETRIES`] more times, however the hook answers.
    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, bool>;
}

/// How many times one request is sent again after a challenge the [`Credentials`] hook
/// answered `true`: an OAuth client may authorize after a 401, step up after a 403 for more
/// scopes, and still needs a bound against servers that never accept.
pub const MAX_CHALLENGE_RETRIES: u32 = 3;

/// A 401 or 403 answer, as the [`Credentials`] hook sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// 401 or 403.
    pub status: u16,
    /// The `WWW-Authenticate` header, if the server sent one.
    pub www_authenticate: Option<String>,
    /// The `Authorization` header the refused request carried: a hook whose credentials
    /// changed since (another request's challenge renewed them) can retry at once.
    pub authorization: Option<String>,
    /// The `MCP-Protocol-Version` header the refused request carried, which the spec asks
    /// clients to send on their authorization discovery requests.
    pub protocol_version: Option<String>,
}

impl Challenge {
    /// A challenge with this status and nothing else known.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            www_authenticate: None,
            authorization: None,
            protocol_version: None,
        }
    }
}

/// The `x-mcp-header` arguments of each tool, by tool name: the client fills it from
/// `tools/list` so that a `tools/call` carries its `Mcp-Param-*` headers. Cheap to clone;
/// clones share the table.
#[derive(Debug, Clone, Default)]
pub struct ToolHeaders(Arc<RwLock<HashMap<String, Vec<HeaderParam>>>>);

impl ToolHeaders {
    /// Records the header arguments of `tool` (none: forgets it).
    pub fn set(&self, tool: &str, params: Vec<HeaderParam>) {
        if let Ok(mut map) = self.0.write() {
            if params.is_empty() {
                map.remove(tool);
            } else {
                map.insert(tool.to_owned(), params);
            }
        }
    }

    /// Forgets every tool.
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }

    fn headers_for(&self, tool: &str, arguments: &Value) -> Vec<(String, String)> {
        let Some(arguments) = arguments.as_object() else {
            return Vec::new();
        };
        let Ok(map) = self.0.read() else {
            return Vec::new();
        };
        map.get(tool)
            .and_then(|params| h::param_headers(params, arguments).ok())
            .unwrap_or_default()
    }
}

/// How the HTTP transport behaves.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Headers sent with every request (for example an API key the server expects).
    pub headers: Vec<(String, String)>,
    /// The largest JSON body or server-sent event accepted (default 4 MiB).
    pub max_message_size: usize,
    /// How long connecting may take, the TLS handshake included (default 10 s).
    pub connect_timeout: Duration,
    /// How long sending a notification or an answer to the server may take (default 30 s).
    /// Requests have no transport timeout of their own: the caller's request timeout ends
    /// them, and with them their HTTP exchange.
    pub send_timeout: Duration,
    /// How many times in a row a broken legacy stream is resumed before its request fails
    /// (default 5).
    pub max_resumptions: u32,
    /// The wait before resuming when the server never sent `retry` (default 1 s).
    pub default_retry: Duration,
    /// Open the legacy `GET` stream for the server's unsolicited messages (default true).
    pub open_get_stream: bool,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Where `Authorization` comes from.
    pub credentials: Option<Arc<dyn Credentials>>,
    /// The `x-mcp-header` arguments of the server's tools.
    pub tool_headers: ToolHeaders,
    /// How `https://` URLs are verified (default: the bundled and the system roots).
    #[cfg(feature = "tls")]
    pub tls: crate::tls::TlsOptions,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            max_message_size: crate::DEFAULT_MAX_FRAME,
            connect_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            max_resumptions: 5,
            default_retry: Duration::from_secs(1),
            open_get_stream: true,
            pool_idle_timeout: Duration::from_secs(90),
            credentials: None,
            tool_headers: ToolHeaders::default(),
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
        }
    }
}

/// Why an HTTP exchange gave no JSON-RPC answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL cannot be used.
    #[error("invalid MCP endpoint URL: {0}")]
    InvalidUrl(String),
    /// The server could not be reached, or the connection failed.
    #[error("could not reach the server: {0}")]
    Connect(String),
    /// An error status without a JSON-RPC error in its body.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the body, as text.
        body: String,
        /// The `WWW-Authenticate` header of a 401 or 403.
        www_authenticate: Option<String>,
    },
    /// A body or event over [`HttpClientOptions::max_message_size`].
    #[error("the server's message exceeds the {0}-byte limit")]
    TooLarge(usize),
    /// The stream ended before the request's answer and could not be resumed.
    #[error("the response stream ended before the answer")]
    StreamEnded,
    /// Something took longer than its timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server answered something that is not MCP over HTTP.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The TLS handshake failed (an untrusted certificate, another host's certificate, a server
    /// that does not speak TLS, ...) or the TLS options are unusable. Not retryable.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(crate::tls::TlsError),
}

impl HttpError {
    /// The HTTP status, for [`HttpError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether sending the request again may succeed: connection failures, timeouts, broken
    /// streams, 408, 429 and 5xx. Not TLS failures: the same certificate fails the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect(_) | Self::StreamEnded | Self::Timeout(_) => true,
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// What the transport hands to the client.
#[derive(Debug)]
pub enum Inbound {
    /// One JSON-RPC message from the server.
    Message(Vec<u8>),
    /// A request that got no JSON-RPC answer.
    Failed {
        /// The request's id.
        id: RequestId,
        /// Why.
        error: HttpError,
    },
    /// The transport ended for good (the HTTP+SSE event stream closed): every request still
    /// waiting has lost its answer.
    Closed(HttpError),
}

/// A handle on a running transport.
#[derive(Debug, Clone)]
pub struct HttpHandle {
    shared: Arc<Shared>,
}

impl HttpHandle {
    /// The legacy session id the server chose, if any.
    pub fn session_id(&self) -> Option<String> {
        self.shared.session.lock().ok().and_then(|s| s.clone())
    }

    /// Ends the transport: stops every exchange and, in a legacy session, tells the server with
    /// `DELETE` (best effort, bounded by the send timeout).
    pub async fn close(&self) {
        if self.shared.closed.is_cancelled() {
            return;
        }
        self.shared.closed.cancel();
        let tasks: Vec<AbortHandle> = self
            .shared
            .tasks
            .lock()
            .map(|mut t| t.drain().map(|(_, a)| a).collect())
            .unwrap_or_default();
        for t in tasks {
            t.abort();
        }
        if let Some(session) = self.session_id() {
            let mut req = self.shared.request(Method::DELETE, Bytes::new());
            if let Ok(v) = HeaderValue::from_str(&session) {
                req.headers_mut().insert(h::SESSION_ID, v);
            }
            self.shared.legacy_version_header(&mut req);
            let _ = tokio::time::timeout(
                self.shared.options.send_timeout,
                self.shared.pool.request(req),
            )
            .await;
        }
    }
}

/// Starts the transport for the MCP endpoint at `url`: messages sent on `outgoing` are POSTed;
/// what the server sends comes out of the returned receiver, which ends when the transport
/// does (after [`HttpHandle::close`], or when `outgoing` is dropped and every exchange is over).
pub fn spawn(
    url: &str,
    options: HttpClientOptions,
    outgoing: mpsc::Receiver<Vec<u8>>,
) -> Result<(mpsc::Receiver<Inbound>, HttpHandle), HttpError> {
    let (shared, rx) = build(url, options)?;
    tokio::spawn(dispatch(shared.clone(), outgoing));
    Ok((rx, HttpHandle { shared }))
}

/// Connects with the 2024-11-05 HTTP+SSE transport, for servers that predate Streamable HTTP:
/// GETs the event stream at `url`, waits (up to the connect timeout) for its `endpoint` event,
/// then POSTs every outgoing message, in order, to that endpoint (which must be on the same
/// origin: a stream naming another host is refused). What the server sends arrives as
/// `message` events on the stream; when the stream ends the receiver yields
/// [`Inbound::Closed`].
pub async fn connect_sse(
    url: &str,
    options: HttpClientOptions,
    outgoing: mpsc::Receiver<Vec<u8>>,
) -> Result<(mpsc::Receiver<Inbound>, HttpHandle), HttpError> {
    let (mut shared, rx) = build(url, options)?;
    let arc = Arc::get_mut(&mut shared).ok_or_else(|| HttpError::Unexpected("shared".into()))?;
    let timeout = arc.options.connect_timeout;
    let mut req = arc.request(Method::GET, Bytes::new());
    req.headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    arc.authorize(&mut req).await;
    let resp = match tokio::time::timeout(timeout, arc.pool.request(req)).await {
        Err(_) => return Err(HttpError::Timeout(timeout)),
        Ok(Err(e)) => return Err(connect_error(&e)),
        Ok(Ok(r)) => r,
    };
    if !resp.status().is_success() || !is_event_stream(&resp) {
        return Err(HttpError::Status {
            status: resp.status().as_u16(),
            body: "no HTTP+SSE event stream here".into(),
            www_authenticate: header_text(&resp, WWW_AUTHENTICATE),
        });
    }
    let mut body = resp.into_body();
    let mut parser = SseParser::new(arc.options.max_message_size);
    let endpoint = tokio::time::timeout(timeout, async {
        loop {
            if let Some(event) = parser.next_event() {
                if event.event == "endpoint" {
                    return Ok(event.data);
                }
                continue;
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        parser
                            .push(&data)
                            .map_err(|_| HttpError::TooLarge(arc.options.max_message_size))?;
                    }
                }
                Some(Err(e)) => return Err(connect_error(&e)),
                None => return Err(HttpError::StreamEnded),
            }
        }
    })
    .await
    .map_err(|_| HttpError::Timeout(timeout))??;
    arc.uri = resolve_endpoint(&arc.uri, endpoint.trim())?;
    let reader = tokio::spawn({
        let shared = shared.clone();
        async move {
            let mut stream = Stream::new(&shared);
            // Whatever followed `endpoint` in the same chunks comes first.
            while let Some(event) = parser.next_event() {
                if event.event == "message" && !event.data.is_empty() {
                    shared
                        .deliver(Inbound::Message(event.data.into_bytes()))
                        .await;
                }
            }
            let end = stream.read_continuing(body, parser).await;
            let error = match end {
                StreamEnd::TooLarge => HttpError::TooLarge(shared.options.max_message_size),
                StreamEnd::Answered | StreamEnd::Broken { .. } => HttpError::StreamEnded,
            };
            shared.closed.cancel();
            shared.deliver(Inbound::Closed(error)).await;
        }
    });
    if let Ok(mut t) = shared.tasks.lock() {
        t.insert(
            RequestId::String("\0sse-stream".into()),
            reader.abort_handle(),
        );
    }
    tokio::spawn(dispatch_sse(shared.clone(), outgoing));
    Ok((rx, HttpHandle { shared }))
}

/// Resolves the `endpoint` event's URI against the stream's URL, refusing another origin.
fn resolve_endpoint(base: &Uri, endpoint: &str) -> Result<Uri, HttpError> {
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let scheme = base.scheme_str().unwrap_or("http");
    let absolute = if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.to_owned()
    } else if endpoint.starts_with('/') {
        format!("{scheme}://{authority}{endpoint}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{scheme}://{authority}{dir}{endpoint}")
    };
    let uri: Uri = absolute
        .parse()
        .map_err(|e| HttpError::Unexpected(format!("bad endpoint {endpoint:?}: {e}")))?;
    // Same origin: same scheme (an https stream never sends its messages in clear) and
    // authority.
    if uri.scheme_str() != Some(scheme) || uri.authority().map(|a| a.as_str()) != Some(authority) {
        return Err(HttpError::Unexpected(format!(
            "the endpoint {endpoint:?} is not on the stream's origin"
        )));
    }
    Ok(uri)
}

/// HTTP+SSE: POSTs each message in order; a request whose POST fails gets [`Inbound::Failed`].
async fn dispatch_sse(shared: Arc<Shared>, mut outgoing: mpsc::Receiver<Vec<u8>>) {
    loop {
        let bytes = tokio::select! {
            b = outgoing.recv() => b,
            () = shared.closed.cancelled() => None,
        };
        let Some(bytes) = bytes else { break };
        let id = match jsonrpc::parse(&bytes) {
            Ok(Message::Request(r)) => Some(r.id),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "not sending an invalid message");
                continue;
            }
        };
        let body = Bytes::from(bytes);
        let mut req = shared.request(Method::POST, body);
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        shared.authorize(&mut req).await;
        let failure =
            match tokio::time::timeout(shared.options.send_timeout, shared.pool.request(req)).await
            {
                Err(_) => Some(HttpError::Timeout(shared.options.send_timeout)),
                Ok(Err(e)) => Some(connect_error(&e)),
                Ok(Ok(resp)) if resp.status().is_success() => None,
                Ok(Ok(resp)) => match id.as_ref() {
                    Some(id) => match error_answer(&shared, id, resp).await {
                        Inbound::Failed { error, .. } => Some(error),
                        other => {
                            shared.deliver(other).await;
                            None
                        }
                    },
                    None => None,
                },
            };
        if let (Some(error), Some(id)) = (failure, id) {
            shared.deliver(Inbound::Failed { id, error }).await;
        }
    }
}

/// The pool, URL, headers and state a transport runs on, and the receiver of what it hands to
/// the client.
fn build(
    url: &str,
    options: HttpClientOptions,
) -> Result<(Arc<Shared>, mpsc::Receiver<Inbound>), HttpError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| HttpError::InvalidUrl(format!("{url}: {e}")))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(HttpError::InvalidUrl(format!("{url}: no host")));
    }
    let https = match uri.scheme_str() {
        Some("http") => false,
        #[cfg(feature = "tls")]
        Some("https") => true,
        #[cfg(not(feature = "tls"))]
        Some("https") => {
            return Err(HttpError::InvalidUrl(format!(
                "{url}: https needs the `tls` feature of mcp-transport"
            )));
        }
        _ => {
            return Err(HttpError::InvalidUrl(format!(
                "{url}: not an http:// or https:// URL"
            )));
        }
    };
    let mut extra = Vec::new();
    for (name, value) in &options.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| HttpError::InvalidUrl(format!("header {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| HttpError::InvalidUrl(format!("header {name}: {e}")))?;
        extra.push((name, value));
    }
    // The pool serves this one origin, so an http:// transport needs no TLS configuration
    // (and does not read the system's roots).
    #[cfg(feature = "tls")]
    let connector = {
        let tls = if https {
            // A host that cannot be checked against a certificate fails here, not per request.
            crate::tls::server_name(uri.host().unwrap_or_default()).map_err(HttpError::Tls)?;
            Some(options.tls.client_config().map_err(HttpError::Tls)?)
        } else {
            None
        };
        Connector::new(options.connect_timeout, tls)
    };
    #[cfg(not(feature = "tls"))]
    let connector = {
        let _ = https;
        Connector::new(options.connect_timeout)
    };
    let pool = Pool::builder(TokioExecutor::new())
        .pool_idle_timeout(options.pool_idle_timeout)
        .build(connector);
    let (tx, rx) = mpsc::channel(1024);
    let shared = Arc::new(Shared {
        pool,
        uri,
        extra,
        options,
        session: Mutex::new(None),
        version: Mutex::new(None),
        replay: Mutex::new(Replay::default()),
        tasks: Mutex::new(HashMap::new()),
        incoming: tx,
        closed: CancellationToken::new(),
        get_stream: AtomicBool::new(false),
        reinit: tokio::sync::Mutex::new(0),
    });
    Ok((shared, rx))
}

/// What a 404 for an ended session needs to open a new one.
#[derive(Debug, Default)]
struct Replay {
    initialize: Option<Bytes>,
    initialized: Option<Bytes>,
}

type HyperPool = Pool<Connector, Full<Bytes>>;

#[derive(Debug)]
struct Shared {
    pool: HyperPool,
    uri: Uri,
    extra: Vec<(HeaderName, HeaderValue)>,
    options: HttpClientOptions,
    /// The legacy session id.
    session: Mutex<Option<String>>,
    /// The legacy protocol version `initialize` settled.
    version: Mutex<Option<String>>,
    replay: Mutex<Replay>,
    /// Requests in flight, to stop their exchange when the caller cancels them.
    tasks: Mutex<HashMap<RequestId, AbortHandle>>,
    incoming: mpsc::Sender<Inbound>,
    closed: CancellationToken,
    /// Whether the legacy GET stream has been started.
    get_stream: AtomicBool,
    /// Serializes re-initialization; counts the sessions opened so far.
    reinit: tokio::sync::Mutex<u64>,
}

/// The headers a message needs beyond the common ones, worked out from its body.
#[derive(Debug, Default)]
struct Mirror {
    /// A modern message's `_meta` protocol version.
    modern_version: Option<String>,
    headers: Vec<(String, String)>,
}

impl Shared {
    fn request(&self, method: Method, body: Bytes) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = self.uri.clone();
        for (n, v) in &self.extra {
            req.headers_mut().insert(n.clone(), v.clone());
        }
        req
    }

    fn legacy_version_header(&self, req: &mut Request<Full<Bytes>>) {
        if let Some(v) = self.version.lock().ok().and_then(|v| v.clone())
            && let Ok(v) = HeaderValue::from_str(&v)
        {
            req.headers_mut().insert(h::PROTOCOL_VERSION, v);
        }
    }

    /// A POST of `body` with every header it needs.
    async fn post(
        &self,
        body: &Bytes,
        mirror: &Mirror,
        is_initialize: bool,
    ) -> Request<Full<Bytes>> {
        let mut req = self.request(Method::POST, body.clone());
        let headers = req.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        if let Some(v) = &mirror.modern_version {
            if let Ok(v) = HeaderValue::from_str(v) {
                headers.insert(h::PROTOCOL_VERSION, v);
            }
        } else if !is_initialize {
            if let Some(s) = self.session.lock().ok().and_then(|s| s.clone())
                && let Ok(v) = HeaderValue::from_str(&s)
            {
                headers.insert(h::SESSION_ID, v);
            }
            self.legacy_version_header(&mut req);
        }
        let headers = req.headers_mut();
        for (n, v) in &mirror.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(n, v);
            }
        }
        self.authorize(&mut req).await;
        req
    }

    async fn authorize(&self, req: &mut Request<Full<Bytes>>) {
        if let Some(c) = &self.options.credentials
            && let Some(value) = c.authorization().await
            && let Ok(v) = HeaderValue::from_str(&value)
        {
            req.headers_mut().insert(AUTHORIZATION, v);
        }
    }

    /// A GET of the endpoint's event stream, resuming after `last_event_id` if given.
    async fn get(&self, last_event_id: Option<&str>) -> Request<Full<Bytes>> {
        let mut req = self.request(Method::GET, Bytes::new());
        req.headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(s) = self.session.lock().ok().and_then(|s| s.clone())
            && let Ok(v) = HeaderValue::from_str(&s)
        {
            req.headers_mut().insert(h::SESSION_ID, v);
        }
        if let Some(id) = last_event_id
            && let Ok(v) = HeaderValue::from_str(id)
        {
            req.headers_mut().insert(h::LAST_EVENT_ID, v);
        }
        self.legacy_version_header(&mut req);
        self.authorize(&mut req).await;
        req
    }

    async fn deliver(&self, item: Inbound) {
        let _ = self.incoming.send(item).await;
    }

    fn forget(&self, id: &RequestId) {
        if let Ok(mut t) = self.tasks.lock() {
            t.remove(id);
        }
    }
}

/// Reads the outgoing queue and starts one exchange per message.
async fn dispatch(shared: Arc<Shared>, mut outgoing: mpsc::Receiver<Vec<u8>>) {
    loop {
        let bytes = tokio::select! {
            b = outgoing.recv() => b,
            () = shared.closed.cancelled() => None,
        };
        let Some(bytes) = bytes else { break };
        let message = match jsonrpc::parse(&bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "not sending an invalid message");
                continue;
            }
        };
        let body = Bytes::from(bytes);
        match message {
            Message::Request(r) => {
                let params: Value = r
                    .params
                    .as_ref()
                    .and_then(|p| serde_json::from_str(p.get()).ok())
                    .unwrap_or(Value::Null);
                let mirror = mirror(&shared, &r.method, &params);
                let is_initialize = r.method == "initialize";
                if is_initialize && let Ok(mut replay) = shared.replay.lock() {
                    replay.initialize = Some(body.clone());
                }
                let id = r.id.clone();
                let task = tokio::spawn({
                    let shared = shared.clone();
                    let id = id.clone();
                    async move {
                        exchange(&shared, &id, &body, &mirror, is_initialize).await;
                        shared.forget(&id);
                    }
                });
                if let Ok(mut t) = shared.tasks.lock() {
                    t.insert(id, task.abort_handle());
                }
            }
            Message::Notification(n) => {
                let params: Value = n
                    .params
                    .as_ref()
                    .and_then(|p| serde_json::from_str(p.get()).ok())
                    .unwrap_or(Value::Null);
                let modern = modern_version(&params).is_some();
                if n.method == "notifications/cancelled"
                    && let Some(id) = params
                        .get("requestId")
                        .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok())
                {
                    // Closing the exchange is how the modern era cancels; legacy servers are
                    // also told with the notification below.
                    let task = shared.tasks.lock().ok().and_then(|mut t| t.remove(&id));
                    if let Some(task) = task {
                        task.abort();
                    }
                    let legacy = shared.version.lock().is_ok_and(|v| v.is_some());
                    if !legacy {
                        continue;
                    }
                }
                let initialized = n.method == "notifications/initialized";
                if initialized && let Ok(mut replay) = shared.replay.lock() {
                    replay.initialized = Some(body.clone());
                }
                let mirror = Mirror {
                    modern_version: if modern {
                        modern_version(&params)
                    } else {
                        None
                    },
                    headers: Vec::new(),
                };
                // Sent in order, before the next message: `initialized` must reach the server
                // before the requests that follow it.
                send_one_way(&shared, &body, &mirror).await;
                if initialized
                    && shared.options.open_get_stream
                    && !shared.get_stream.swap(true, Ordering::SeqCst)
                {
                    // Open the GET stream before the requests that follow: what the server
                    // sends there from then on (a list change a call causes, ...) would be
                    // lost, or mistaken for something else, if it were opened after them.
                    // Bounded: a server that holds back its headers only delays this once.
                    let (ready, opened) = oneshot::channel();
                    tokio::spawn(get_stream(shared.clone(), Some(ready)));
                    let _ = tokio::time::timeout(GET_STREAM_WAIT, opened).await;
                }
            }
            Message::Response(_) | Message::Error(_) => {
                // An answer to a server's request (legacy): POSTed, 202 expected.
                let shared = shared.clone();
                tokio::spawn(async move {
                    send_one_way(&shared, &body, &Mirror::default()).await;
                });
            }
        }
    }
}

/// The `_meta` protocol version of a modern message.
fn modern_version(params: &Value) -> Option<String> {
    params
        .get("_meta")
        .and_then(|m| m.get(mcp_protocol::meta::key::PROTOCOL_VERSION))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn mirror(shared: &Shared, method: &str, params: &Value) -> Mirror {
    let Some(version) = modern_version(params) else {
        return Mirror::default();
    };
    let mut headers = vec![(h::METHOD.to_owned(), method.to_owned())];
    if let Some(name) = h::name_for(method, params) {
        headers.push((h::NAME.to_owned(), h::encode_value(&name).into_owned()));
    }
    if method == "tools/call"
        && let Some(tool) = params.get("name").and_then(Value::as_str)
    {
        let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
        headers.extend(shared.options.tool_headers.headers_for(tool, &arguments));
    }
    Mirror {
        modern_version: Some(version),
        headers,
    }
}

/// POSTs a notification or an answer; nobody waits for the outcome but the log.
async fn send_one_way(shared: &Shared, body: &Bytes, mirror: &Mirror) {
    let req = shared.post(body, mirror, false).await;
    match tokio::time::timeout(shared.options.send_timeout, shared.pool.request(req)).await {
        Ok(Ok(resp)) if resp.status().is_success() => {}
        Ok(Ok(resp)) => tracing::debug!(status = %resp.status(), "the server refused a message"),
        Ok(Err(e)) => tracing::debug!(error = %e, "sending a message failed"),
        Err(_) => tracing::debug!("sending a message timed out"),
    }
}

/// One request's exchange: POST, read the answer (JSON or a stream, resumed if it breaks),
/// re-initialize after a 404 for an ended session, retry after a challenge the credentials
/// hook answered (at most [`MAX_CHALLENGE_RETRIES`] times).
async fn exchange(
    shared: &Arc<Shared>,
    id: &RequestId,
    body: &Bytes,
    mirror: &Mirror,
    is_initialize: bool,
) {
    let mut challenges = 0;
    let mut reopened = false;
    loop {
        let session_before = shared.session.lock().ok().and_then(|s| s.clone());
        let req = shared.post(body, mirror, is_initialize).await;
        let sent_authorization = header_value(req.headers(), AUTHORIZATION);
        let sent_version = header_value(req.headers(), h::PROTOCOL_VERSION);
        let resp = match shared.pool.request(req).await {
            Ok(r) => r,
            Err(e) => {
                let error = connect_error(&e);
                return shared
                    .deliver(Inbound::Failed {
                        id: id.clone(),
                        error,
                    })
                    .await;
            }
        };
        let status = resp.status();
        if status.is_success() {
            if is_initialize
                && let Some(s) = resp
                    .headers()
                    .get(h::SESSION_ID)
                    .and_then(|v| v.to_str().ok())
                && let Ok(mut session) = shared.session.lock()
            {
                *session = Some(s.to_owned());
            }
            if status == StatusCode::ACCEPTED {
                let error = HttpError::Unexpected("202 Accepted for a request".into());
                return shared
                    .deliver(Inbound::Failed {
                        id: id.clone(),
                        error,
                    })
                    .await;
            }
            let answered = read_answer(
                shared,
                id,
                resp,
                is_initialize,
                mirror.modern_version.is_none(),
            )
            .await;
            if let Err(error) = answered {
                shared
                    .deliver(Inbound::Failed {
                        id: id.clone(),
                        error,
                    })
                    .await;
            }
            return;
        }
        if status == StatusCode::NOT_FOUND
            && session_before.is_some()
            && !is_initialize
            && !reopened
        {
            // The session ended: open a new one and send the request again, once.
            reopened = true;
            if reinitialize(shared, session_before.as_deref()).await {
                continue;
            }
        }
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            && challenges < MAX_CHALLENGE_RETRIES
            && let Some(c) = &shared.options.credentials
        {
            challenges += 1;
            let mut challenge = Challenge::new(status.as_u16());
            challenge.www_authenticate = header_text(&resp, WWW_AUTHENTICATE);
            challenge.authorization = sent_authorization;
            challenge.protocol_version = sent_version;
            if c.on_challenge(&challenge).await {
                continue;
            }
        }
        let item = error_answer(shared, id, resp).await;
        return shared.deliver(item).await;
    }
}

/// Turns an error status into the request's answer: its JSON-RPC error if the body has one,
/// with the request's id when the server gave none; otherwise [`Inbound::Failed`].
async fn error_answer(shared: &Shared, id: &RequestId, resp: Response<Incoming>) -> Inbound {
    let status = resp.status().as_u16();
    let www_authenticate = header_text(&resp, WWW_AUTHENTICATE);
    let limit = shared.options.max_message_size.min(64 * 1024);
    let body = match Limited::new(resp.into_body(), limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if let Ok(Message::Error(mut e)) = jsonrpc::parse(&body) {
        if e.id.is_none() {
            e.id = Some(id.clone());
        }
        if let Ok(bytes) = serde_json::to_vec(&e) {
            return Inbound::Message(bytes);
        }
    }
    let text = String::from_utf8_lossy(&body);
    let text: String = text.chars().take(200).collect();
    Inbound::Failed {
        id: id.clone(),
        error: HttpError::Status {
            status,
            body: text,
            www_authenticate,
        },
    }
}

fn header_value(
    headers: &hyper::HeaderMap,
    name: impl hyper::header::AsHeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn header_text(resp: &Response<Incoming>, name: HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A failed exchange as an error: [`HttpError::Tls`] when TLS failed, else
/// [`HttpError::Connect`].
fn connect_error(e: &(dyn std::error::Error + 'static)) -> HttpError {
    #[cfg(feature = "tls")]
    if let Some(tls) = crate::tls::TlsError::find(e) {
        return HttpError::Tls(tls);
    }
    HttpError::Connect(error_chain(e))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_event_stream(resp: &Response<Incoming>) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
}

/// Reads a successful answer to request `id`: a JSON body, or a stream resumed (legacy) until
/// the answer arrives.
async fn read_answer(
    shared: &Shared,
    id: &RequestId,
    resp: Response<Incoming>,
    is_initialize: bool,
    legacy: bool,
) -> Result<(), HttpError> {
    if !is_event_stream(&resp) {
        let max = shared.options.max_message_size;
        let body = Limited::new(resp.into_body(), max)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HttpError::TooLarge(max)
                } else {
                    connect_error(&*e)
                }
            })?
            .to_bytes();
        if is_initialize {
            note_initialize(shared, &body);
        }
        shared.deliver(Inbound::Message(body.to_vec())).await;
        return Ok(());
    }
    let mut stream = Stream::new(shared);
    let mut resp = resp;
    let mut failures = 0;
    loop {
        match stream.read(resp.into_body(), Some(id), is_initialize).await {
            StreamEnd::Answered => return Ok(()),
            StreamEnd::TooLarge => {
                return Err(HttpError::TooLarge(shared.options.max_message_size));
            }
            StreamEnd::Broken { progressed } => {
                if progressed {
                    failures = 0;
                }
                failures += 1;
                let Some(last) = stream.last_event_id.clone() else {
                    return Err(HttpError::StreamEnded);
                };
                if !legacy || failures > shared.options.max_resumptions {
                    return Err(HttpError::StreamEnded);
                }
                tokio::time::sleep(stream.retry).await;
                let req = shared.get(Some(&last)).await;
                resp = match shared.pool.request(req).await {
                    Ok(r) if r.status().is_success() && is_event_stream(&r) => r,
                    Ok(r) => {
                        return Err(HttpError::Status {
                            status: r.status().as_u16(),
                            body: "resuming the stream failed".into(),
                            www_authenticate: None,
                        });
                    }
                    Err(e) => return Err(connect_error(&e)),
                };
            }
        }
    }
}

/// Records what an `initialize` result settled: the legacy protocol version.
fn note_initialize(shared: &Shared, body: &[u8]) {
    if let Ok(Message::Response(r)) = jsonrpc::parse(body)
        && let Ok(v) = serde_json::from_str::<Value>(r.result.get())
        && let Some(version) = v.get("protocolVersion").and_then(Value::as_str)
        && let Ok(mut slot) = shared.version.lock()
    {
        *slot = Some(version.to_owned());
    }
}

/// How reading one stream ended.
enum StreamEnd {
    /// The awaited answer arrived.
    Answered,
    /// The stream ended or broke first; `progressed` if it delivered anything.
    Broken { progressed: bool },
    /// An event over the size limit.
    TooLarge,
}

/// The state of an event stream across its resumptions.
struct Stream<'a> {
    shared: &'a Shared,
    last_event_id: Option<String>,
    retry: Duration,
}

impl<'a> Stream<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            last_event_id: None,
            retry: shared.options.default_retry,
        }
    }

    /// Delivers the rest of an HTTP+SSE stream (whose `endpoint` event `parser` already read)
    /// until it ends.
    async fn read_continuing(&mut self, body: Incoming, parser: SseParser) -> StreamEnd {
        self.read_with(body, parser, None, false).await
    }

    /// Delivers the stream's messages until it ends or, when `awaiting` is set, until that
    /// request's answer has been delivered.
    async fn read(
        &mut self,
        body: Incoming,
        awaiting: Option<&RequestId>,
        is_initialize: bool,
    ) -> StreamEnd {
        let parser = SseParser::new(self.shared.options.max_message_size);
        self.read_with(body, parser, awaiting, is_initialize).await
    }

    async fn read_with(
        &mut self,
        mut body: Incoming,
        mut parser: SseParser,
        awaiting: Option<&RequestId>,
        is_initialize: bool,
    ) -> StreamEnd {
        let mut progressed = false;
        loop {
            let frame = tokio::select! {
                f = body.frame() => f,
                () = self.shared.closed.cancelled() => return StreamEnd::Broken { progressed },
            };
            let Some(Ok(frame)) = frame else {
                return StreamEnd::Broken { progressed };
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if parser.push(&data).is_err() {
                return StreamEnd::TooLarge;
            }
            if let Some(id) = parser.last_event_id() {
                self.last_event_id = Some(id.to_owned());
            }
            if let Some(ms) = parser.retry() {
                self.retry = Duration::from_millis(ms);
            }
            while let Some(event) = parser.next_event() {
                if event.data.is_empty() || event.event != "message" {
                    continue;
                }
                progressed = true;
                let bytes = event.data.into_bytes();
                let answers = awaiting.is_some_and(|id| answers(&bytes, id));
                if answers && is_initialize {
                    note_initialize(self.shared, &bytes);
                }
                self.shared.deliver(Inbound::Message(bytes)).await;
                if answers {
                    return StreamEnd::Answered;
                }
            }
        }
    }
}

/// Whether `message` is the response (or error) to request `id`.
fn answers(message: &[u8], id: &RequestId) -> bool {
    match jsonrpc::parse(message) {
        Ok(Message::Response(r)) => r.id == *id,
        Ok(Message::Error(e)) => e.id.as_ref() == Some(id),
        _ => false,
    }
}

/// Opens a new legacy session after the server forgot `stale`, replaying the first
/// `initialize` and `notifications/initialized`. Concurrent callers wait for one attempt.
async fn reinitialize(shared: &Arc<Shared>, stale: Option<&str>) -> bool {
    let mut opened = shared.reinit.lock().await;
    let current = shared.session.lock().ok().and_then(|s| s.clone());
    if current.as_deref() != stale {
        // Someone else already opened a new session.
        return current.is_some();
    }
    let (init, initialized) = match shared.replay.lock() {
        Ok(r) => (r.initialize.clone(), r.initialized.clone()),
        Err(_) => return false,
    };
    let Some(init) = init else { return false };
    if let Ok(mut s) = shared.session.lock() {
        *s = None;
    }
    let req = shared.post(&init, &Mirror::default(), true).await;
    let Ok(Ok(resp)) =
        tokio::time::timeout(shared.options.send_timeout, shared.pool.request(req)).await
    else {
        return false;
    };
    if !resp.status().is_success() {
        return false;
    }
    let Some(session) = resp
        .headers()
        .get(h::SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return false;
    };
    // Read (and drop) the replayed answer: the caller already has the first one.
    let _ = tokio::time::timeout(
        shared.options.send_timeout,
        Limited::new(resp.into_body(), shared.options.max_message_size).collect(),
    )
    .await;
    if let Ok(mut s) = shared.session.lock() {
        *s = Some(session);
    }
    if let Some(initialized) = initialized {
        send_one_way(shared, &initialized, &Mirror::default()).await;
    }
    *opened += 1;
    if shared.options.open_get_stream && !shared.get_stream.swap(true, Ordering::SeqCst) {
        tokio::spawn(get_stream(shared.clone(), None));
    }
    tracing::info!("the server ended the session; opened a new one");
    true
}

/// How long the first request after `notifications/initialized` waits for the GET stream's
/// answer (its headers, or its refusal).
const GET_STREAM_WAIT: Duration = Duration::from_secs(1);

/// The legacy GET stream of the server's unsolicited messages, reopened (with
/// `Last-Event-ID`) whenever it ends, until the transport closes or the server says it has
/// none (405) or the session is gone. `ready` is told once the server answered the first GET.
async fn get_stream(shared: Arc<Shared>, mut ready: Option<oneshot::Sender<()>>) {
    let mut stream = Stream::new(&shared);
    let mut failures: u32 = 0;
    while !shared.closed.is_cancelled() {
        let last = stream.last_event_id.clone();
        let req = shared.get(last.as_deref()).await;
        let resp = tokio::select! {
            r = shared.pool.request(req) => r,
            () = shared.closed.cancelled() => return,
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        let progressed = match resp {
            Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED => {
                tracing::debug!("the server offers no GET stream");
                return;
            }
            Ok(r) if r.status().is_success() && is_event_stream(&r) => {
                match stream.read(r.into_body(), None, false).await {
                    StreamEnd::Broken { progressed } => progressed,
                    StreamEnd::Answered | StreamEnd::TooLarge => false,
                }
            }
            Ok(r) if r.status() == StatusCode::NOT_FOUND => {
                // The session ended; the next request re-opens one, and with it this stream.
                shared.get_stream.store(false, Ordering::SeqCst);
                return;
            }
            Ok(r) => {
                tracing::debug!(status = %r.status(), "the GET stream was refused");
                false
            }
            Err(e) => {
                tracing::debug!(error = %e, "the GET stream failed");
                false
            }
        };
        failures = if progressed { 0 } else { failures + 1 };
        if failures > shared.options.max_resumptions.max(1) * 4 {
            tracing::warn!("giving up on the server's GET stream");
            return;
        }
        // Back off on repeated failures, starting from the server's `retry`.
        let wait = stream.retry * failures.clamp(1, 8);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.closed.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_protocol::headers::HeaderParamType;
    use serde_json::json;

    fn shared(tool_headers: ToolHeaders) -> Arc<Shared> {
        let (outgoing_tx, outgoing) = mpsc::channel(1);
        drop(outgoing_tx);
        let options = HttpClientOptions {
            tool_headers,
            ..HttpClientOptions::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (_, handle) = rt
            .block_on(async { spawn("http://127.0.0.1:9/mcp", options, outgoing) })
            .expect("spawn");
        handle.shared
    }

    #[test]
    fn modern_requests_mirror_method_name_and_params() {
        let tools = ToolHeaders::default();
        tools.set(
            "search",
            vec![HeaderParam {
                name: "Region".into(),
                path: vec!["region".into()],
                kind: HeaderParamType::String,
            }],
        );
        let shared = shared(tools);
        let params = json!({
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"},
            "name": "search",
            "arguments": {"region": "Zürich", "q": "x"}
        });
        let m = mirror(&shared, "tools/call", &params);
        assert_eq!(m.modern_version.as_deref(), Some("2026-07-28"));
        assert!(
            m.headers
                .contains(&("Mcp-Method".into(), "tools/call".into()))
        );
        assert!(m.headers.contains(&("Mcp-Name".into(), "search".into())));
        let region = m
            .headers
            .iter()
            .find(|(n, _)| n == "Mcp-Param-Region")
            .map(|(_, v)| v.as_str());
        // Non-ASCII values travel base64-encoded between the spec's markers.
        assert_eq!(region, Some("=?base64?WsO8cmljaA==?="));
    }

    #[test]
    fn legacy_requests_carry_no_mirrored_headers() {
        let shared = shared(ToolHeaders::default());
        let m = mirror(&shared, "tools/call", &json!({"name": "search"}));
        assert!(m.modern_version.is_none());
        assert!(m.headers.is_empty());
    }

    #[test]
    fn answers_matches_only_the_awaited_id() {
        let id = RequestId::Number(7);
        assert!(answers(br#"{"jsonrpc":"2.0","id":7,"result":{}}"#, &id));
        assert!(answers(
            br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}"#,
            &id
        ));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":8,"result":{}}"#, &id));
        assert!(!answers(
            br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#,
            &id
        ));
    }

    #[test]
    fn garbage_urls_are_refused_up_front() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut refused = vec!["ftp://x/", "not a url", "http:///mcp"];
            if cfg!(not(feature = "tls")) {
                refused.push("https://example.com/mcp");
            }
            for url in refused {
                let (_tx, rx) = mpsc::channel(1);
                let err = spawn(url, HttpClientOptions::default(), rx).unwrap_err();
                assert!(matches!(err, HttpError::InvalidUrl(_)), "{url}: {err}");
            }
        });
    }

    #[cfg(feature = "tls")]
    #[test]
    fn unusable_tls_options_fail_at_spawn() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let options = HttpClientOptions {
                tls: crate::tls::TlsOptions {
                    roots: crate::tls::TrustedRoots::CustomOnly,
                    ..crate::tls::TlsOptions::default()
                },
                ..HttpClientOptions::default()
            };
            let (_tx, rx) = mpsc::channel(1);
            let err = spawn("https://example.com/mcp", options.clone(), rx).unwrap_err();
            assert!(
                matches!(err, HttpError::Tls(crate::tls::TlsError::Config(_)))
                    && !err.is_retryable(),
                "{err}"
            );
            // An http:// URL needs no TLS configuration at all.
            let (_tx, rx) = mpsc::channel(1);
            assert!(spawn("http://example.com/mcp", options, rx).is_ok());
        });
    }

    #[test]
    fn the_sse_endpoint_must_keep_the_stream_s_scheme_and_authority() {
        let base: Uri = "https://h:1/sse".parse().unwrap();
        let same = resolve_endpoint(&base, "/messages?s=1").unwrap();
        assert_eq!(same.to_string(), "https://h:1/messages?s=1");
        let relative = resolve_endpoint(&base, "messages").unwrap();
        assert_eq!(relative.to_string(), "https://h:1/messages");
        for foreign in ["http://h:1/messages", "https://other:1/messages"] {
            assert!(resolve_endpoint(&base, foreign).is_err(), "{foreign}");
        }
    }

    #[test]
    fn retryable_errors() {
        assert!(HttpError::StreamEnded.is_retryable());
        assert!(HttpError::Connect("refused".into()).is_retryable());
        let status = |s| HttpError::Status {
            status: s,
            body: String::new(),
            www_authenticate: None,
        };
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!status(401).is_retryable());
    }
}
