//! The MCP endpoint: POST, GET and DELETE for both eras.

// A refusal is a ready response, built once on the error path; boxing it would only add an
// allocation.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use mcp_protocol::error::{ErrorObject, code};
use mcp_protocol::headers;
use mcp_protocol::jsonrpc::{
    self, ErrorResponse, Incoming, Message, ParseOptions, Request as RpcRequest, RequestId,
};
use mcp_protocol::types::CancelledNotificationParams;
use mcp_protocol::{JsonObject, ProtocolVersion};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::HttpOptions;
use super::auth::{AuthState, Owner, may_be_refusal};
use super::exchange::{self, Exchange, ReaderStart, SseStream, Step};
use super::guard::{Guard, Refusal};
use super::session::{InUse, STANDALONE, Sessions, new_session_id};
use crate::context::with_response_stream;
use crate::request::Authentication;
use crate::server::Server;
use crate::service::Connection;

/// Messages a request may have queued for its stream before the writer catches up.
const STREAM_CAPACITY: usize = 64;

/// Everything the endpoint needs, shared by its requests.
#[derive(Debug)]
pub(crate) struct HttpState {
    pub(crate) server: Server,
    pub(crate) options: HttpOptions,
    pub(crate) guard: Guard,
    /// The authenticator and the resource server's metadata and challenges.
    pub(crate) auth: AuthState,
    /// When the endpoint was built (for `/health`).
    pub(crate) started: std::time::Instant,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) shutdown: CancellationToken,
    /// Tasks that outlive their HTTP exchange (WebSocket connections), which a graceful
    /// shutdown waits for.
    pub(crate) background: tokio_util::task::TaskTracker,
    /// The WebSocket route's state, when it is enabled.
    #[cfg(feature = "ws")]
    pub(crate) ws: Option<super::ws::WsState>,
    /// The 2024-11-05 HTTP+SSE endpoints' state, when they are enabled.
    pub(crate) legacy_sse: Option<super::sse_legacy::LegacySseState>,
}

/// A refusal with a JSON-RPC error body (id-less unless the request's id is known).
pub(crate) fn rpc_error(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    rpc_error_for(status, None, code, message)
}

fn rpc_error_for(
    status: StatusCode,
    id: Option<RequestId>,
    code: i64,
    message: impl Into<String>,
) -> Response {
    let body = ErrorResponse::new(id, ErrorObject::new(code, message));
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn sse_response(stream: SseStream) -> Response {
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn status_only(status: StatusCode) -> Response {
    status.into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `Accept` allows `media` (`type/subtype`), wildcards included; `q=0` refuses.
fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let (ty, _) = media.split_once('/').unwrap_or((media, ""));
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && (name.eq_ignore_ascii_case(media)
                    || name == "*/*"
                    || name
                        .strip_suffix("/*")
                        .is_some_and(|t| t.eq_ignore_ascii_case(ty)))
        })
}

fn is_json_content(headers: &HeaderMap) -> bool {
    header(headers, CONTENT_TYPE.as_str())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The 403 for a request whose `Host` or `Origin` is not allowed (DNS-rebinding protection);
/// `None` when both pass.
pub(crate) fn guard_refusal(state: &HttpState, request: &Request) -> Option<Response> {
    let arrival = request.extensions().get::<super::LocalAddr>();
    let (bound, secure) = (arrival.map(|a| a.addr), arrival.is_some_and(|a| a.secure));
    match state.guard.check(request.headers(), bound, secure) {
        Ok(()) => None,
        Err(Refusal::Host) => Some(rpc_error(
            StatusCode::FORBIDDEN,
            code::INVALID_REQUEST,
            "Forbidden: Host header not allowed",
        )),
        Err(Refusal::Origin) => Some(rpc_error(
            StatusCode::FORBIDDEN,
            code::INVALID_REQUEST,
            "Forbidden: Origin not allowed",
        )),
    }
}

/// Authenticates a request with the endpoint's authenticator (nobody when none is
/// configured); `Err` is the refusal to answer with (401, 403, 429 or 503).
pub(crate) fn authenticate<'a>(
    state: &'a HttpState,
    request: &'a Request,
) -> impl Future<Output = Result<Authentication, Response>> + Send + 'a {
    // The future holds only the parts: a request's body is not `Sync`, so a reference to the
    // whole request would make the handler's future not `Send`.
    let peer = request.extensions().get::<super::PeerAddr>().map(|p| p.0);
    authenticate_parts(state, request.headers(), request.uri(), peer)
}

/// [`authenticate`] from a request's parts.
pub(crate) async fn authenticate_parts(
    state: &HttpState,
    headers: &HeaderMap,
    uri: &Uri,
    peer: Option<std::net::SocketAddr>,
) -> Result<Authentication, Response> {
    match state.auth.authenticate(headers, uri, peer).await {
        Ok(caller) => Ok(caller),
        Err(refusal) => {
            // Counted with the layers' refusals, though no layer saw the request.
            #[cfg(feature = "metrics")]
            if let Some(metrics) = &state.options.metrics {
                metrics.metrics.record_refusal(refusal.reason());
            }
            Err(state.auth.refusal_response(&refusal, headers))
        }
    }
}

/// The endpoint's one handler: checks `Host` and `Origin`, authenticates, then dispatches on
/// the method.
pub(crate) async fn endpoint(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    if let Some(refusal) = guard_refusal(&state, &request) {
        return refusal;
    }
    let is_known = matches!(
        *request.method(),
        Method::POST | Method::GET | Method::DELETE
    );
    let caller = if is_known {
        match authenticate(&state, &request).await {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        }
    } else {
        Authentication::None
    };
    match *request.method() {
        Method::POST => post(state, request, caller).await,
        Method::GET => get(&state, request.headers(), &caller),
        Method::DELETE => delete(&state, request.headers(), &caller),
        _ => {
            let mut r = status_only(StatusCode::METHOD_NOT_ALLOWED);
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            r
        }
    }
}

/// Reads the body within the size limit and the read timeout.
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    options: &HttpOptions,
) -> Result<Bytes, Response> {
    let too_large = || {
        rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::INVALID_REQUEST,
            format!(
                "Payload Too Large: the body exceeds {} bytes",
                options.max_body_size
            ),
        )
    };
    if header(headers, CONTENT_LENGTH.as_str())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > options.max_body_size as u64)
    {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, options.max_body_size);
    match tokio::time::timeout(options.body_read_timeout, limited.collect()).await {
        Err(_) => Err(rpc_error(
            StatusCode::REQUEST_TIMEOUT,
            code::INVALID_REQUEST,
            "Request Timeout: the body did not arrive in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(rpc_error(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "Bad Request: the body could not be read",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// The parts of a request's params the HTTP headers mirror.
#[derive(Debug, Default, Deserialize)]
struct Probe<'a> {
    #[serde(rename = "_meta", default)]
    meta: Option<MetaProbe>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    uri: Option<Cow<'a, str>>,
    /// `tasks/get`, `tasks/update`, `tasks/cancel` (tasks extension).
    #[serde(rename = "taskId", default, borrow)]
    task_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
struct MetaProbe {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    protocol_version: Option<String>,
}

fn probe(params: Option<&RawValue>) -> Probe<'_> {
    params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default()
}

fn message_params(message: &Message) -> Option<&RawValue> {
    match message {
        Message::Request(r) => r.params.as_deref(),
        Message::Notification(n) => n.params.as_deref(),
        _ => None,
    }
}

async fn post(state: Arc<HttpState>, request: Request, caller: Authentication) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    if !accepts(headers, "application/json") || !accepts(headers, "text/event-stream") {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        );
    }
    if !is_json_content(headers) {
        return rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID_REQUEST,
            "Unsupported Media Type: the body must be application/json",
        );
    }
    let bytes = match read_body(body, headers, &state.options).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let options = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    let incoming = match jsonrpc::parse_with(&bytes, &options) {
        Ok(i) => i,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                serde_json::to_vec(&e.to_response()).unwrap_or_default(),
            );
        }
    };
    let version_header = header(headers, headers::PROTOCOL_VERSION);
    let header_modern = version_header
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_modern);
    let single = match &incoming {
        Incoming::Single(m) => Some(m),
        Incoming::Batch(_) => None,
    };
    let body_modern = single
        .map(|m| probe(message_params(m)))
        .is_some_and(|p| p.meta.and_then(|m| m.protocol_version).is_some());
    if header_modern || body_modern {
        return match incoming {
            Incoming::Single(message) => modern_post(&state, headers, message, caller).await,
            Incoming::Batch(_) => rpc_error(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "Invalid Request: 2026-07-28 has no batches",
            ),
        };
    }
    legacy_post(&state, headers, incoming, caller).await
}

// ---------------------------------------------------------------------------------------------
// 2026-07-28: every request its own POST.

fn mismatch(id: Option<RequestId>, message: impl Into<String>) -> Response {
    rpc_error_for(StatusCode::BAD_REQUEST, id, code::HEADER_MISMATCH, message)
}

/// The HTTP status of a 2026-07-28 response, from its JSON-RPC error code.
fn modern_status(reply: &[u8]) -> StatusCode {
    #[derive(Deserialize)]
    struct ReplyProbe {
        error: Option<CodeProbe>,
    }
    #[derive(Deserialize)]
    struct CodeProbe {
        code: i64,
    }
    let code = serde_json::from_slice::<ReplyProbe>(reply)
        .ok()
        .and_then(|r| r.error)
        .map(|e| e.code);
    match code {
        Some(code::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(
            code::PARSE_ERROR
            | code::INVALID_REQUEST
            | code::INVALID_PARAMS
            | code::HEADER_MISMATCH
            | code::MISSING_REQUIRED_CLIENT_CAPABILITY
            | code::UNSUPPORTED_PROTOCOL_VERSION,
        ) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// Checks `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` against the body.
fn check_modern_headers(
    server: &Server,
    headers: &HeaderMap,
    req: &RpcRequest,
) -> Result<(), Response> {
    let id = || Some(req.id.clone());
    let p = probe(req.params.as_deref());
    let Some(version) = header(headers, headers::PROTOCOL_VERSION) else {
        return Err(mismatch(
            id(),
            "Header mismatch: missing MCP-Protocol-Version header",
        ));
    };
    if let Some(body_version) = p.meta.as_ref().and_then(|m| m.protocol_version.as_deref())
        && body_version != version
    {
        return Err(mismatch(
            id(),
            format!(
                "Header mismatch: MCP-Protocol-Version {version:?} differs from _meta protocolVersion {body_version:?}"
            ),
        ));
    }
    match header(headers, headers::METHOD) {
        None => return Err(mismatch(id(), "Header mismatch: missing Mcp-Method header")),
        Some(m) if m != req.method => {
            return Err(mismatch(
                id(),
                format!(
                    "Header mismatch: Mcp-Method {m:?} differs from method {:?}",
                    req.method
                ),
            ));
        }
        Some(_) => {}
    }
    let body_name = match &*req.method {
        "tools/call" | "prompts/get" => Some(p.name.as_deref()),
        "resources/read" => Some(p.uri.as_deref()),
        // The tasks extension routes by task: `Mcp-Name` carries `params.taskId`.
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some(p.task_id.as_deref()),
        _ => None,
    };
    if let Some(body_name) = body_name {
        let got = match headers.get(headers::NAME) {
            None => None,
            Some(v) => {
                let text = v.to_str().map_err(|_| {
                    mismatch(id(), "Header mismatch: Mcp-Name holds invalid characters")
                })?;
                Some(
                    headers::decode_value(text)
                        .map_err(|e| mismatch(id(), format!("Header mismatch: Mcp-Name: {e}")))?,
                )
            }
        };
        match (got.as_deref(), body_name) {
            (Some(h), Some(b)) if h == b => {}
            (None, None) => {}
            (None, Some(_)) => {
                return Err(mismatch(id(), "Header mismatch: missing Mcp-Name header"));
            }
            (h, b) => {
                return Err(mismatch(
                    id(),
                    format!("Header mismatch: Mcp-Name {h:?} differs from the body's {b:?}"),
                ));
            }
        }
    }
    if req.method == "tools/call"
        && let Some(name) = p.name.as_deref()
    {
        // Walked in place: cloning the definition (its schema) per request cost more than
        // the walk itself.
        let params = server
            .inner
            .router
            .read()
            .tools
            .get(name)
            .and_then(|t| headers::tool_header_params(&t.definition).ok())
            .unwrap_or_default();
        if !params.is_empty() {
            let arguments: JsonObject = p
                .arguments
                .and_then(|a| serde_json::from_str(a.get()).ok())
                .unwrap_or_default();
            for param in &params {
                let header_name = param.header_name();
                let body = param.value_in(&arguments).filter(|v| !v.is_null());
                let got = headers.get(header_name.as_str());
                let ok = match (got, body) {
                    (None, None) => true,
                    (Some(h), Some(b)) => h
                        .to_str()
                        .ok()
                        .is_some_and(|h| headers::param_matches(h, b).unwrap_or(false)),
                    _ => false,
                };
                if !ok {
                    return Err(mismatch(
                        id(),
                        format!(
                            "Header mismatch: {header_name} does not match argument {:?}",
                            param.path.join(".")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A JSON reply: status 200, or the status and headers of a layer's refusal (401, 403, 429,
/// 503, 504) when the reply is one; other errors get `otherwise`'s status.
fn json_reply(
    state: &HttpState,
    headers: &HeaderMap,
    bytes: Vec<u8>,
    otherwise: StatusCode,
) -> Response {
    if may_be_refusal(&bytes)
        && let Some((status, extra)) = state.auth.reply_status(&bytes, headers)
    {
        let mut response = json_response(status, bytes);
        response.headers_mut().extend(extra);
        return response;
    }
    json_response(otherwise, bytes)
}

async fn modern_post(
    state: &Arc<HttpState>,
    headers: &HeaderMap,
    message: Message,
    caller: Authentication,
) -> Response {
    let req = match message {
        Message::Request(req) => req,
        Message::Notification(_) => {
            if header(headers, headers::PROTOCOL_VERSION).is_none() {
                return mismatch(None, "Header mismatch: missing MCP-Protocol-Version header");
            }
            return status_only(StatusCode::ACCEPTED);
        }
        Message::Response(_) | Message::Error(_) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "Invalid Request: a 2026-07-28 client sends no responses",
            );
        }
    };
    if let Err(r) = check_modern_headers(&state.server, headers, &req) {
        return r;
    }
    let (tx, rx) = mpsc::channel(STREAM_CAPACITY);
    let conn = Arc::new(Connection::new(tx));
    let cancel = CancellationToken::new();
    // The client closing the connection drops this future or the stream: either cancels.
    let cancel_on_drop = cancel.clone().drop_guard();
    let server = state.server.clone();
    let handler_conn = conn.clone();
    let mut exchange = Exchange::new(
        async move { server.handle(&handler_conn, req, cancel, caller).await },
        rx,
    );
    match exchange.next().await {
        Step::Reply(bytes) => {
            let status = modern_status(&bytes);
            json_reply(state, headers, bytes, status)
        }
        Step::End => status_only(StatusCode::NO_CONTENT),
        Step::Message(first) => sse_response(exchange::modern_stream(
            exchange,
            first,
            cancel_on_drop,
            conn,
            state.shutdown.clone(),
            state.options.sse_keep_alive,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy (2025-03-26 to 2025-11-25): sessions.

fn missing_session() -> Response {
    rpc_error(
        StatusCode::BAD_REQUEST,
        code::INVALID_REQUEST,
        "Bad Request: missing Mcp-Session-Id header (send initialize first)",
    )
}

fn unknown_session() -> Response {
    rpc_error(
        StatusCode::NOT_FOUND,
        code::INVALID_REQUEST,
        "Session not found: it ended or never existed; initialize a new one",
    )
}

/// Checks `MCP-Protocol-Version` on a session's request: absent means 2025-03-26 (allowed);
/// otherwise it must be a legacy revision the server supports.
fn check_legacy_version(server: &Server, headers: &HeaderMap) -> Result<(), Response> {
    let Some(value) = header(headers, headers::PROTOCOL_VERSION) else {
        return Ok(());
    };
    let supported = ProtocolVersion::parse(value)
        .is_some_and(|v| v.is_legacy() && server.inner.options.supported_versions.contains(&v));
    if supported {
        Ok(())
    } else {
        Err(rpc_error(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            format!("Bad Request: unsupported MCP-Protocol-Version {value:?}"),
        ))
    }
}

fn session_of(headers: &HeaderMap) -> Option<&str> {
    header(headers, headers::SESSION_ID)
}

async fn legacy_post(
    state: &Arc<HttpState>,
    headers: &HeaderMap,
    incoming: Incoming,
    caller: Authentication,
) -> Response {
    let Some(session_id) = session_of(headers) else {
        return match incoming {
            Incoming::Single(Message::Request(req)) if req.method == "initialize" => {
                initialize(state, headers, req, caller).await
            }
            _ => missing_session(),
        };
    };
    let Some(in_use) = state.sessions.use_session(session_id, &caller) else {
        return unknown_session();
    };
    if let Err(r) = check_legacy_version(&state.server, headers) {
        return r;
    }
    match incoming {
        Incoming::Single(message) => legacy_message(state, headers, in_use, message, caller).await,
        Incoming::Batch(items) => {
            let batches = in_use
                .session()
                .conn
                .legacy_session()
                .is_some_and(|s| s.version.allows_batches());
            if !batches {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_REQUEST,
                    "Invalid Request: batches exist only in 2025-03-26",
                );
            }
            legacy_batch(state, headers, in_use, items, caller).await
        }
    }
}

async fn initialize(
    state: &Arc<HttpState>,
    headers: &HeaderMap,
    req: RpcRequest,
    caller: Authentication,
) -> Response {
    let (outbox, standalone) = mpsc::channel(STREAM_CAPACITY);
    let conn = Arc::new(Connection::new(outbox));
    let owner = Owner::of(&caller);
    let Some(reply) = state
        .server
        .handle(&conn, req, CancellationToken::new(), caller)
        .await
    else {
        return status_only(StatusCode::NO_CONTENT);
    };
    if conn.legacy_session().is_none() {
        // initialize failed (or was refused): the error, and no session.
        return json_reply(state, headers, reply, StatusCode::OK);
    }
    let id = new_session_id();
    let log = state.options.event_store.open(&id);
    match state
        .sessions
        .create(&state.server, id.clone(), conn, standalone, log, owner)
    {
        Ok(_) => {
            let mut response = json_response(StatusCode::OK, reply);
            if let Ok(v) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(headers::SESSION_ID, v);
            }
            response
        }
        Err(_) => {
            let mut r = rpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_ERROR,
                "Service Unavailable: every session is busy; try again later",
            );
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}

/// Removes a request from the session's in-flight table when its handling ends, however it
/// ends.
struct InFlight {
    conn: Arc<Connection>,
    id: RequestId,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut f) = self.conn.in_flight.lock() {
            f.remove(&self.id);
        }
    }
}

/// Registers a request as in flight (so `notifications/cancelled` can reach it); `None` if its
/// id is already in flight.
fn register(conn: &Arc<Connection>, id: &RequestId) -> Option<(InFlight, CancellationToken)> {
    let cancel = conn.closing.child_token();
    let mut f = conn.in_flight.lock().ok()?;
    if f.contains_key(id) {
        return None;
    }
    f.insert(id.clone(), cancel.clone());
    Some((
        InFlight {
            conn: conn.clone(),
            id: id.clone(),
        },
        cancel,
    ))
}

fn revision_of(conn: &Connection) -> ProtocolVersion {
    conn.legacy_session()
        .map_or(ProtocolVersion::LATEST_LEGACY, |s| s.version)
}

/// A legacy request's exchange: messages about it go to its own stream.
fn legacy_exchange(
    state: &Arc<HttpState>,
    conn: &Arc<Connection>,
    req: RpcRequest,
    caller: Authentication,
) -> Result<Exchange, Response> {
    let Some((in_flight, cancel)) = register(conn, &req.id) else {
        return Err(rpc_error_for(
            StatusCode::OK,
            Some(req.id.clone()),
            code::INVALID_REQUEST,
            format!(
                "Invalid Request: request id {} is already in flight",
                req.id
            ),
        ));
    };
    let (tx, rx) = mpsc::channel(STREAM_CAPACITY);
    let server = state.server.clone();
    let conn = conn.clone();
    Ok(Exchange::new(
        async move {
            let _in_flight = in_flight;
            with_response_stream(tx, server.handle(&conn, req, cancel, caller)).await
        },
        rx,
    ))
}

async fn legacy_message(
    state: &Arc<HttpState>,
    headers: &HeaderMap,
    in_use: InUse,
    message: Message,
    caller: Authentication,
) -> Response {
    let session = in_use.session().clone();
    let conn = &session.conn;
    match message {
        Message::Request(req) => {
            session.initialized.store(true, Ordering::SeqCst);
            let mut exchange = match legacy_exchange(state, conn, req, caller) {
                Ok(e) => e,
                Err(r) => return r,
            };
            match exchange.next().await {
                Step::Reply(bytes) => json_reply(state, headers, bytes, StatusCode::OK),
                Step::End => status_only(StatusCode::NO_CONTENT),
                Step::Message(first) => {
                    let stream = session.open_stream();
                    let hold = state.sessions.hold(&session);
                    exchange::spawn_legacy_pump(exchange, first, session.clone(), stream, hold);
                    let start = ReaderStart {
                        stream,
                        after: 0,
                        priming_retry: priming(state, conn),
                        keep_alive: state.options.sse_keep_alive,
                    };
                    sse_response(exchange::legacy_stream(
                        in_use,
                        start,
                        state.shutdown.clone(),
                    ))
                }
            }
        }
        Message::Notification(n) => {
            match &*n.method {
                "notifications/initialized" => {
                    session.initialized.store(true, Ordering::SeqCst);
                }
                "notifications/cancelled" => {
                    if let Ok(p) = n.params_as::<CancelledNotificationParams>()
                        && let Some(id) = p.request_id
                    {
                        let token = conn.in_flight.lock().ok().and_then(|f| f.get(&id).cloned());
                        if let Some(token) = token {
                            token.cancel();
                        }
                    }
                }
                other => tracing::debug!(method = other, "notification ignored"),
            }
            status_only(StatusCode::ACCEPTED)
        }
        Message::Response(r) => {
            let value = serde_json::from_str(r.result.get()).unwrap_or(serde_json::Value::Null);
            if !conn.pending.complete(&r.id, Ok(value)) {
                tracing::debug!(id = %r.id, "response to no pending request");
            }
            status_only(StatusCode::ACCEPTED)
        }
        Message::Error(e) => {
            if let Some(id) = e.id {
                conn.pending
                    .complete(&id, Err(mcp_protocol::McpError::from_error_object(e.error)));
            }
            status_only(StatusCode::ACCEPTED)
        }
    }
}

/// A 2025-03-26 batch: notifications and responses are taken in; requests run concurrently,
/// their messages go to the GET stream, and their responses come back as one JSON array.
async fn legacy_batch(
    state: &Arc<HttpState>,
    headers: &HeaderMap,
    in_use: InUse,
    items: Vec<Result<Message, jsonrpc::MessageError>>,
    caller: Authentication,
) -> Response {
    let session = in_use.session().clone();
    let conn = session.conn.clone();
    let mut replies: Vec<Vec<u8>> = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    for item in items {
        match item {
            Err(e) => replies.push(serde_json::to_vec(&e.to_response()).unwrap_or_default()),
            Ok(Message::Request(req)) => {
                session.initialized.store(true, Ordering::SeqCst);
                let Some((in_flight, cancel)) = register(&conn, &req.id) else {
                    let e = mcp_protocol::McpError::InvalidRequest(format!(
                        "request id {} is already in flight",
                        req.id
                    ));
                    replies.push(crate::service::error_bytes(
                        Some(req.id),
                        &e,
                        revision_of(&conn),
                    ));
                    continue;
                };
                let server = state.server.clone();
                let conn = conn.clone();
                let caller = caller.clone();
                running.spawn(async move {
                    let _in_flight = in_flight;
                    server.handle(&conn, req, cancel, caller).await
                });
            }
            Ok(other) => {
                let hold = state.sessions.hold(&session);
                drop(legacy_message(state, headers, hold, other, caller.clone()).await);
            }
        }
    }
    while let Some(done) = running.join_next().await {
        if let Ok(Some(bytes)) = done {
            replies.push(bytes);
        }
    }
    drop(in_use);
    if replies.is_empty() {
        return status_only(StatusCode::ACCEPTED);
    }
    let mut array = b"[".to_vec();
    array.extend(replies.join(&b","[..]));
    array.push(b']');
    json_response(StatusCode::OK, array)
}

/// The `retry` of the priming event, for clients of 2025-11-25 or later (older clients do not
/// expect an event with empty data).
fn priming(state: &HttpState, conn: &Connection) -> Option<Duration> {
    (revision_of(conn) >= ProtocolVersion::V2025_11_25).then_some(state.options.sse_retry)
}

fn get(state: &Arc<HttpState>, headers: &HeaderMap, caller: &Authentication) -> Response {
    if !accepts(headers, "text/event-stream") {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "Not Acceptable: the client must accept text/event-stream",
        );
    }
    if modern_headers(headers) {
        return method_not_allowed_modern();
    }
    let Some(session_id) = session_of(headers) else {
        return missing_session();
    };
    let Some(in_use) = state.sessions.use_session(session_id, caller) else {
        return unknown_session();
    };
    if let Err(r) = check_legacy_version(&state.server, headers) {
        return r;
    }
    let session = in_use.session().clone();
    let (stream, after) = match header(headers, headers::LAST_EVENT_ID) {
        None => (STANDALONE, session.current_seq()),
        Some(id) => match exchange::parse_event_id(id) {
            Some((stream, seq)) if session.stream_known(stream) => (stream, seq),
            _ => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_REQUEST,
                    format!("Bad Request: Last-Event-ID {id:?} names no stream of this session"),
                );
            }
        },
    };
    if stream == STANDALONE {
        session.start_standalone_pump();
    }
    let start = ReaderStart {
        stream,
        after,
        priming_retry: priming(state, &session.conn),
        keep_alive: state.options.sse_keep_alive,
    };
    sse_response(exchange::legacy_stream(
        in_use,
        start,
        state.shutdown.clone(),
    ))
}

fn delete(state: &Arc<HttpState>, headers: &HeaderMap, caller: &Authentication) -> Response {
    if modern_headers(headers) {
        return method_not_allowed_modern();
    }
    let Some(session_id) = session_of(headers) else {
        return missing_session();
    };
    if state.sessions.remove(session_id, caller) {
        status_only(StatusCode::OK)
    } else {
        unknown_session()
    }
}

/// A 2026-07-28 client (its `MCP-Protocol-Version` is modern): no GET or DELETE for it.
fn modern_headers(headers: &HeaderMap) -> bool {
    header(headers, headers::PROTOCOL_VERSION)
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_modern)
}

fn method_not_allowed_modern() -> Response {
    let mut r = status_only(StatusCode::METHOD_NOT_ALLOWED);
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    r
}

/// `GET` at a well-known location: the RFC 9728 protected-resource metadata.
pub(crate) async fn resource_metadata(
    State(state): State<Arc<HttpState>>,
    request: Request,
) -> Response {
    if let Some(refusal) = guard_refusal(&state, &request) {
        return refusal;
    }
    match &state.auth.metadata_json {
        Some(json) => {
            let mut response = Response::new(Body::from(json.clone()));
            let h = response.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
            response
        }
        None => status_only(StatusCode::NOT_FOUND),
    }
}
