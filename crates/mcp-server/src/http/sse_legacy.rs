//! The 2024-11-05 HTTP+SSE transport, for clients that predate Streamable HTTP.
//!
//! A client opens `GET /sse` (an event stream); the first event, `endpoint`, names the URL to
//! POST its messages to (`/messages?sessionId=...`). Each POST is answered `202 Accepted` at
//! once; responses, notifications and the server's own requests travel back as `message`
//! events on the stream. One stream is one connection, served like a stdio connection (a
//! legacy session: `initialize` first). The stream ending ends the session; a POST for a
//! session that is gone gets 404.
//!
//! The same `Host` / `Origin` checks, body limit and read timeout as the Streamable HTTP
//! endpoint apply. Streams are capped ([`LegacySseOptions::max_streams`], 503 beyond) and each
//! session's input queue is bounded (a POST waits at most the body read timeout for room, then
//! gets 503).
//!
//! It is on by default (`HttpOptions::legacy_sse`) because the spec asks servers that want old
//! clients to host these endpoints beside the MCP endpoint; set it to `None` to turn it off.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use mcp_protocol::error::code;
use mcp_transport::sse;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::auth::Owner;
use super::endpoint::{HttpState, guard_refusal, read_body, rpc_error, sse_response};
use crate::request::Authentication;

/// Where the 2024-11-05 endpoints live and how many streams they serve.
#[derive(Debug, Clone)]
pub struct LegacySseOptions {
    /// The event-stream path a client GETs (default `/sse`).
    pub sse_path: String,
    /// The path messages are POSTed to, with `?sessionId=` (default `/messages`).
    pub messages_path: String,
    /// The most streams open at once (default 1,024); more get 503.
    pub max_streams: usize,
    /// How many POSTed messages may wait for a session to read them (default 64).
    pub queue: usize,
}

impl Default for LegacySseOptions {
    fn default() -> Self {
        Self {
            sse_path: "/sse".to_owned(),
            messages_path: "/messages".to_owned(),
            max_streams: 1024,
            queue: 64,
        }
    }
}

/// The open streams, by session id.
#[derive(Debug)]
pub(crate) struct LegacySseState {
    pub(crate) options: LegacySseOptions,
    sessions: Mutex<HashMap<String, OpenStream>>,
    permits: Arc<Semaphore>,
}

impl LegacySseState {
    pub(crate) fn new(options: LegacySseOptions) -> Self {
        let permits = Arc::new(Semaphore::new(options.max_streams.max(1)));
        Self {
            options,
            sessions: Mutex::new(HashMap::new()),
            permits,
        }
    }

    /// How many streams are open.
    pub(crate) fn len(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }

    fn remove(&self, id: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(id);
        }
    }

    /// The input queue of the stream `id`, when `caller` opened it.
    fn sender(&self, id: &str, caller: &Authentication) -> Option<mpsc::Sender<Vec<u8>>> {
        let sessions = self.sessions.lock().ok()?;
        let (sender, opened_by) = sessions.get(id)?;
        Owner::admits(opened_by.as_ref(), caller).then(|| sender.clone())
    }
}

/// A stream's input queue and the principal that opened it.
type OpenStream = (mpsc::Sender<Vec<u8>>, Option<Owner>);

/// Ends the session when its stream is dropped (the client went away, or shutdown).
struct Registration {
    state: Arc<HttpState>,
    id: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(legacy) = &self.state.legacy_sse {
            legacy.remove(&self.id);
        }
    }
}

/// `GET /sse`: opens a session and its event stream.
pub(crate) async fn open(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    if let Some(refusal) = guard_refusal(&state, &request) {
        return refusal;
    }
    let Some(legacy) = &state.legacy_sse else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if state.shutdown.is_cancelled() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let caller = match super::endpoint::authenticate(&state, &request).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let Ok(permit) = legacy.permits.clone().try_acquire_owned() else {
        return rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            code::INTERNAL_ERROR,
            "Service Unavailable: too many open event streams",
        );
    };
    let id = super::session::new_session_id();
    let (in_tx, in_rx) = mpsc::channel(legacy.options.queue.max(1));
    let (out_tx, out_rx) = mpsc::channel(1024);
    if let Ok(mut s) = legacy.sessions.lock() {
        s.insert(id.clone(), (in_tx, Owner::of(&caller)));
    }
    let server = state.server.clone();
    state.background.spawn(async move {
        if let Err(e) = server.serve_messages(in_rx, out_tx, caller).await {
            tracing::debug!(error = %e, "an HTTP+SSE session ended with an error");
        }
    });
    let endpoint = format!("{}?sessionId={id}", legacy.options.messages_path);
    let stream = Stream {
        first: Some(endpoint),
        out: out_rx,
        shutdown: state.shutdown.clone(),
        keep_alive: state.options.sse_keep_alive,
        _registration: Registration {
            state: state.clone(),
            id,
            _permit: permit,
        },
    };
    sse_response(Box::pin(futures_util::stream::unfold(stream, next_event)))
}

/// The state of one event stream.
struct Stream {
    /// The `endpoint` event, not yet sent.
    first: Option<String>,
    out: mpsc::Receiver<Vec<u8>>,
    shutdown: tokio_util::sync::CancellationToken,
    keep_alive: std::time::Duration,
    _registration: Registration,
}

async fn next_event(mut s: Stream) -> Option<(Result<Bytes, Infallible>, Stream)> {
    if let Some(endpoint) = s.first.take() {
        let event = sse::Event::new(&endpoint).event("endpoint").to_bytes();
        return Some((Ok(Bytes::from(event)), s));
    }
    let message = tokio::select! {
        m = s.out.recv() => m?,
        () = s.shutdown.cancelled() => return None,
        () = tokio::time::sleep(s.keep_alive) => {
            let mut out = Vec::new();
            sse::encode_comment(&mut out, "");
            return Some((Ok(Bytes::from(out)), s));
        }
    };
    let text = String::from_utf8_lossy(&message);
    let event = sse::Event::new(&text).event("message").to_bytes();
    Some((Ok(Bytes::from(event)), s))
}

/// The `sessionId` of a message POST's query. Ids are hex, so no percent-decoding is needed: an
/// encoded one matches no session.
fn session_id(request: &Request) -> Option<&str> {
    request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sessionId="))
}

/// `POST /messages?sessionId=...`: one message for a session; its answer goes to the stream.
pub(crate) async fn post(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    if let Some(refusal) = guard_refusal(&state, &request) {
        return refusal;
    }
    let Some(legacy) = &state.legacy_sse else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(session) = session_id(&request).map(str::to_owned) else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "Bad Request: sessionId query parameter required",
        );
    };
    let json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID_REQUEST,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let caller = match super::endpoint::authenticate(&state, &request).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    // A stream answers only the principal that opened it.
    let Some(sender) = legacy.sender(&session, &caller) else {
        return rpc_error(
            StatusCode::NOT_FOUND,
            code::INVALID_REQUEST,
            "Not Found: no such session",
        );
    };
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body, &parts.headers, &state.options).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    match tokio::time::timeout(state.options.body_read_timeout, sender.send(bytes.to_vec())).await {
        Ok(Ok(())) => accepted(),
        Ok(Err(_)) => rpc_error(
            StatusCode::NOT_FOUND,
            code::INVALID_REQUEST,
            "Not Found: the session ended",
        ),
        Err(_) => rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            code::INTERNAL_ERROR,
            "Service Unavailable: the session is not reading its messages",
        ),
    }
}

fn accepted() -> Response {
    let mut r = Response::new(Body::from("Accepted"));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}
