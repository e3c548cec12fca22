//! MCP over WebSocket, the server side (feature `ws`, off by default).
//!
//! WebSocket is not an official MCP transport (the specification has stdio and Streamable HTTP
//! only); it is offered as a custom transport that keeps JSON-RPC and the message patterns of
//! stdio unchanged:
//!
//! - **One connection, one MCP connection**: each WebSocket is served like one stdio process: a
//!   legacy session once `initialize` arrives, or a stream of stateless 2026-07-28 requests; both
//!   may share it, as on stdio. Requests run concurrently (up to
//!   [`ServerOptions::max_in_flight`](crate::ServerOptions::max_in_flight)).
//! - **One message per text frame**, in both directions. A binary frame closes the connection
//!   with 1003; a message over [`WsOptions::max_message_size`] closes it with 1009 (the limit is
//!   checked from the frame header, before the payload is read); invalid UTF-8 closes it with
//!   1007.
//! - **Subprotocol `mcp`**: chosen when the client offers it. A client offering no subprotocol is
//!   served too (unless [`WsOptions::require_subprotocol`]); one offering only others gets 400.
//! - **Keepalive**: a ping every [`WsOptions::ping_interval`]; a peer from which nothing (pong,
//!   message, ping) has arrived for [`WsOptions::keepalive_timeout`] is closed with 1011.
//! - **Same guard and limits as Streamable HTTP**: the upgrade request goes through the `Host`
//!   and `Origin` checks (403), and at most [`WsOptions::max_connections`] are open at once
//!   (503 with `Retry-After` beyond).
//! - **No compression**: an offer of `permessage-deflate` (RFC 7692) is declined by leaving
//!   `Sec-WebSocket-Extensions` out of the answer; clients then send and expect uncompressed
//!   frames. `docs/websocket.md` gives the reasons.
//!
//! The route is mounted on the endpoint's router when [`HttpOptions::websocket`] is set:
//!
//! ```no_run
//! use mcp_server::http::{HttpOptions, WsOptions};
//! use mcp_server::{Router, Server};
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let options = HttpOptions {
//!     websocket: Some(WsOptions::default()), // ws://127.0.0.1:8080/ws
//!     ..HttpOptions::default()
//! };
//! Server::new("s", "1.0.0", Router::new()).serve_http(listener, options).await
//! # }
//! ```
//!
//! [`HttpOptions::websocket`]: super::HttpOptions::websocket

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{
    CONNECTION, RETRY_AFTER, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use hyper_util::rt::TokioIo;
use mcp_protocol::error::code;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::endpoint::{HttpState, guard_refusal, rpc_error};

/// The subprotocol of MCP over WebSocket.
pub const SUBPROTOCOL: &str = "mcp";

/// How the WebSocket route behaves.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// The route's path on the endpoint's router (default `/ws`).
    pub path: String,
    /// The largest message accepted, in bytes (default 4 MiB); a larger one closes the
    /// connection with 1009.
    pub max_message_size: usize,
    /// How often the server pings (default 15 s).
    pub ping_interval: Duration,
    /// A connection from which nothing has arrived for this long is closed with 1011 (default
    /// 45 s). Checked at each ping.
    pub keepalive_timeout: Duration,
    /// How long writing a batch of messages, a ping or a close frame may take before the
    /// connection is given up (default 30 s).
    pub write_timeout: Duration,
    /// After sending a close frame, how long to wait for the peer's before dropping the
    /// connection (default 5 s).
    pub close_timeout: Duration,
    /// The most WebSocket connections open at once (default 1,024); beyond, the upgrade gets
    /// 503 with `Retry-After: 1`.
    pub max_connections: usize,
    /// Refuse (400) a client that does not offer the `mcp` subprotocol (default `false`: a
    /// client offering no subprotocol at all is served; one offering only others is refused).
    pub require_subprotocol: bool,
}

impl Default for WsOptions {
    fn default() -> Self {
        Self {
            path: "/ws".to_owned(),
            max_message_size: mcp_transport::DEFAULT_MAX_FRAME,
            ping_interval: Duration::from_secs(15),
            keepalive_timeout: Duration::from_secs(45),
            write_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            max_connections: 1024,
            require_subprotocol: false,
        }
    }
}

/// The route's state: its options and its connection cap.
#[derive(Debug)]
pub(crate) struct WsState {
    pub(crate) options: WsOptions,
    permits: Arc<Semaphore>,
}

impl WsState {
    pub(crate) fn new(options: WsOptions) -> Self {
        let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
        Self { options, permits }
    }
}

/// Messages the server has read but the connection has not yet taken: reading the socket pauses
/// beyond this, as stdio's reading pauses at `max_in_flight`.
const INBOUND_CAPACITY: usize = 16;
/// Messages written before one flush.
const WRITE_BATCH: usize = 64;
/// After refusing an oversized message: the most of it read and dropped before closing...
const DISCARD_LIMIT: usize = 64 << 20;
/// ... and how long the peer may pause sending before it is taken to be done.
const QUIET: Duration = Duration::from_millis(200);

fn plain(status: StatusCode, message: &str) -> Response {
    rpc_error(status, code::INVALID_REQUEST, message)
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: impl http::header::AsHeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The upgrade handler: checks `Host` and `Origin`, the handshake and the subprotocol, then
/// answers 101 and serves the connection on a task of its own.
pub(crate) async fn upgrade(State(state): State<Arc<HttpState>>, mut request: Request) -> Response {
    if let Some(refusal) = guard_refusal(&state, &request) {
        return refusal;
    }
    let Some(ws) = &state.ws else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if request.method() != Method::GET {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    // The connection is authenticated once, by its upgrade request.
    let caller = match super::endpoint::authenticate(&state, &request).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let headers = request.headers();
    if !has_token(headers, UPGRADE, "websocket") || !has_token(headers, CONNECTION, "upgrade") {
        let mut r = plain(
            StatusCode::UPGRADE_REQUIRED,
            "Upgrade Required: this is a WebSocket endpoint",
        );
        r.headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        return r;
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut r = plain(
            StatusCode::UPGRADE_REQUIRED,
            "Upgrade Required: only WebSocket version 13 is supported",
        );
        r.headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return r;
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "Bad Request: Sec-WebSocket-Key is missing",
        );
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let offered = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .next()
        .is_some();
    let mcp = has_token(headers, SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL);
    if !mcp && (offered || ws.options.require_subprotocol) {
        return plain(
            StatusCode::BAD_REQUEST,
            "Bad Request: the WebSocket subprotocol must be \"mcp\"",
        );
    }
    if state.shutdown.is_cancelled() {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: shutting down",
        );
    }
    let Ok(permit) = ws.permits.clone().try_acquire_owned() else {
        let mut r = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: too many WebSocket connections",
        );
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    if request
        .extensions()
        .get::<hyper::upgrade::OnUpgrade>()
        .is_none()
    {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error: this server cannot upgrade connections",
        );
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    let options = ws.options.clone();
    let task_state = state.clone();
    state.background.spawn(async move {
        let upgraded = match timeout(options.write_timeout, on_upgrade).await {
            Ok(Ok(upgraded)) => upgraded,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "WebSocket upgrade failed");
                return;
            }
            Err(_) => {
                tracing::debug!("WebSocket upgrade timed out");
                return;
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(options.max_message_size))
            .max_frame_size(Some(options.max_message_size));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        serve_socket(task_state, socket, options, permit, caller).await;
    });

    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = response.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    if mcp {
        h.insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    response
}

/// How the connection's main loop ended.
enum End {
    /// We close, with this code and reason.
    Close(CloseCode, &'static str),
    /// The peer sent its close frame (tungstenite queued the reply).
    PeerClosed,
    /// The connection is unusable (reset, write timeout): just drop it.
    Broken,
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Serves one upgraded connection as one MCP connection, until either side closes it.
async fn serve_socket(
    state: Arc<HttpState>,
    mut socket: Socket,
    options: WsOptions,
    permit: OwnedSemaphorePermit,
    caller: crate::Authentication,
) {
    let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>(INBOUND_CAPACITY);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(1024);
    let serving = tokio::spawn(state.server.clone().serve_messages(in_rx, out_tx, caller));
    let end = drive(&mut socket, in_tx, &mut out_rx, &options, &state.shutdown).await;
    // What requests still in flight answer has nowhere to go.
    drop(out_rx);
    match end {
        End::Close(code, reason) => {
            tracing::debug!(%code, reason, "closing a WebSocket connection");
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let sent = timeout(
                options.write_timeout,
                socket.send(Message::Close(Some(frame))),
            )
            .await
            .is_ok_and(|r| r.is_ok());
            if sent && code == CloseCode::Size {
                // The rest of the oversized message is still arriving: closing with it unread
                // would reset the connection before the peer reads the close frame.
                discard_input(socket.get_mut(), options.close_timeout).await;
            } else if sent {
                // Wait (bounded) for the peer's close frame; anything else is dropped.
                let _ = timeout(options.close_timeout, async {
                    while let Some(Ok(_)) = socket.next().await {}
                })
                .await;
            }
        }
        End::PeerClosed => {
            // Sends the close frame tungstenite queued in reply.
            let _ = timeout(options.close_timeout, socket.close(None)).await;
        }
        End::Broken => {}
    }
    drop(socket);
    // Requests still running finish (into the dropped outbox) before the slot is given back.
    if let Err(e) = serving.await {
        tracing::warn!(error = %e, "a WebSocket connection's server task failed");
    }
    drop(permit);
}

/// Reads and drops what the peer still sends, until it stops for a moment, closes, `limit`
/// passes or [`DISCARD_LIMIT`] bytes are dropped.
async fn discard_input(stream: &mut TokioIo<hyper::upgrade::Upgraded>, limit: Duration) {
    use tokio::io::AsyncReadExt as _;
    let mut buf = vec![0u8; 64 * 1024];
    let mut dropped = 0usize;
    let deadline = Instant::now() + limit;
    while dropped < DISCARD_LIMIT && Instant::now() < deadline {
        match timeout(QUIET, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => dropped += n,
            _ => break,
        }
    }
}

/// Waits for a slot in the server's inbound channel, or forever when reading has stopped.
async fn reserve(
    tx: Option<mpsc::Sender<Vec<u8>>>,
) -> Result<mpsc::OwnedPermit<Vec<u8>>, mpsc::error::SendError<()>> {
    match tx {
        Some(tx) => tx.reserve_owned().await,
        None => std::future::pending().await,
    }
}

/// Writes `first` and whatever else is ready (up to a batch), then flushes: one system call for
/// a burst of messages.
async fn write_batch(
    socket: &mut Socket,
    first: Vec<u8>,
    out_rx: &mut mpsc::Receiver<Vec<u8>>,
) -> Result<(), tungstenite::Error> {
    let mut next = Some(first);
    let mut written = 0;
    while let Some(bytes) = next.take() {
        match String::from_utf8(bytes) {
            Ok(text) => socket.feed(Message::text(text)).await?,
            // The server only writes serde_json output; never expected.
            Err(_) => tracing::warn!("dropped an outgoing message that is not UTF-8"),
        }
        written += 1;
        if written < WRITE_BATCH {
            next = out_rx.try_recv().ok();
        }
    }
    socket.flush().await
}

/// The connection's loop: frames in, messages out, pings, until something ends it.
async fn drive(
    socket: &mut Socket,
    in_tx: mpsc::Sender<Vec<u8>>,
    out_rx: &mut mpsc::Receiver<Vec<u8>>,
    options: &WsOptions,
    shutdown: &CancellationToken,
) -> End {
    let mut in_tx = Some(in_tx);
    // A message read from the socket that the server has not taken yet; the socket is not read
    // while it waits (back-pressure), and the keepalive is not checked either.
    let mut pending: Option<Vec<u8>> = None;
    let mut last_heard = Instant::now();
    let period = options.ping_interval.max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            out = out_rx.recv() => match out {
                Some(first) => {
                    match timeout(options.write_timeout, write_batch(socket, first, out_rx)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "WebSocket write failed");
                            return End::Broken;
                        }
                        Err(_) => {
                            tracing::debug!("WebSocket write timed out");
                            return End::Broken;
                        }
                    }
                }
                // Reading has stopped (shutdown) and every request has answered.
                None if in_tx.is_none() => return End::Close(CloseCode::Away, "server shutting down"),
                None => return End::Close(CloseCode::Error, "server error"),
            },
            permit = reserve(in_tx.clone()), if pending.is_some() => match (permit, pending.take()) {
                (Ok(permit), Some(message)) => {
                    permit.send(message);
                }
                _ => return End::Close(CloseCode::Error, "server error"),
            },
            frame = socket.next(), if pending.is_none() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if in_tx.is_some() {
                            pending = Some(Vec::from(bytes::Bytes::from(text)));
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        return End::Close(
                            CloseCode::Unsupported,
                            "binary frames are not supported: one MCP message per text frame",
                        );
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_))) => return End::PeerClosed,
                    Some(Err(tungstenite::Error::Capacity(e))) => {
                        tracing::warn!(error = %e, "refused an oversized WebSocket message");
                        return End::Close(CloseCode::Size, "message too big");
                    }
                    Some(Err(tungstenite::Error::Utf8(_))) => {
                        return End::Close(CloseCode::Invalid, "text frame is not UTF-8");
                    }
                    Some(Err(tungstenite::Error::Protocol(e))) => {
                        tracing::debug!(error = %e, "WebSocket protocol error");
                        return End::Close(CloseCode::Protocol, "protocol error");
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "WebSocket read failed");
                        return End::Broken;
                    }
                    None => return End::Broken,
                }
            },
            _ = ticker.tick() => {
                if pending.is_none() && last_heard.elapsed() >= options.keepalive_timeout {
                    return End::Close(CloseCode::Error, "keepalive timeout");
                }
                match timeout(options.write_timeout, socket.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => {}
                    _ => return End::Broken,
                }
            },
            () = shutdown.cancelled(), if in_tx.is_some() => {
                // Stop reading requests; those in flight answer, then `out_rx` ends.
                in_tx = None;
                pending = None;
            },
        }
    }
}
