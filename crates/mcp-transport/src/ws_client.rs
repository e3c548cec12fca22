//! WebSocket, the client side (feature `ws-client`, off by default).
//!
//! WebSocket is not an official MCP transport; this is the client half of the one `mcp-server`
//! offers (`HttpOptions::websocket`): one JSON-RPC message per text frame in both directions,
//! the `mcp` subprotocol, ping/pong keepalive and a maximum message size.
//!
//! - Messages sent on `outgoing` become text frames; the server's text frames come out of the
//!   returned receiver as [`Inbound::Message`], in order.
//! - **Keepalive**: a ping every [`WsClientOptions::ping_interval`]; when nothing (pong,
//!   message, ping) has arrived for [`WsClientOptions::keepalive_timeout`] the connection is
//!   taken for lost.
//! - **Reconnect**: when the connection drops (reset, keepalive timeout, the server closing it),
//!   the transport connects again with exponential backoff, at most
//!   [`Reconnect::max_attempts`] times in a row. A reconnection is a **fresh connection**: the
//!   requests that were in flight on the dropped one will never be answered, so each of them
//!   comes out of the receiver as [`Inbound::Failed`] with [`WsError::ConnectionLost`] before
//!   anything of the new connection, and the client fails the caller's request (it may send it
//!   again). A legacy session lives on its connection: once one was initialized, the
//!   transport replays the `initialize` request and the `initialized` notification first on the
//!   new connection (the replayed answer is not delivered), as the HTTP transport does after a
//!   404. Server-side state of the old session (log level, resource subscriptions) is gone.
//!   2026-07-28 requests are stateless and need nothing.
//! - The receiver ends when the transport does for good: after [`WsHandle::close`], when
//!   `outgoing` is dropped, or when reconnecting gave up (then [`Inbound::Closed`] comes
//!   last, with the reason, as from the HTTP+SSE transport).
//! - Messages over [`WsClientOptions::max_message_size`] from the server close the connection
//!   with 1009 (and a reconnect follows).
//!
//! `ws://` URLs always; `wss://` with the `tls` feature: rustls, the server's certificate
//! always verified against `WsClientOptions::tls` (see the `tls` module), within
//! [`WsClientOptions::connect_timeout`]. A TLS failure is `WsError::Tls`; reconnecting tries
//! again, since a server may be mid-way through a certificate rotation.
//!
//! No compression: the client offers no `permessage-deflate` (the WebSocket library has none;
//! see `docs/websocket.md`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use mcp_protocol::jsonrpc::{self, Message as RpcMessage, RequestId};
use mcp_protocol::types::CancelledNotificationParams;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::header::{
    HeaderName, HeaderValue, SEC_WEBSOCKET_PROTOCOL,
};
use tokio_tungstenite::tungstenite::http::{Request, Uri};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use crate::connect::ClientStream;

/// How reconnecting behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    /// Attempts in a row before giving up (default 5; 0: never reconnect).
    pub max_attempts: u32,
    /// The wait before the first attempt; it doubles at each failed one (default 250 ms).
    pub initial_backoff: Duration,
    /// The longest wait between attempts (default 10 s).
    pub max_backoff: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// How the WebSocket transport behaves.
#[derive(Debug, Clone)]
pub struct WsClientOptions {
    /// Headers sent with the opening handshake (for example an API key the server expects).
    pub headers: Vec<(String, String)>,
    /// The subprotocol asked for (default `Some("mcp")`); the server must choose it. `None`
    /// asks for none, for servers that do not know it.
    pub subprotocol: Option<String>,
    /// The largest message accepted from the server (default 4 MiB).
    pub max_message_size: usize,
    /// How long connecting (TCP, TLS and the opening handshake) may take (default 10 s).
    pub connect_timeout: Duration,
    /// How often to ping the server (default 15 s).
    pub ping_interval: Duration,
    /// With nothing from the server for this long, the connection is taken for lost (default
    /// 45 s). Checked at each ping.
    pub keepalive_timeout: Duration,
    /// How long writing a batch of messages, a ping or the close frame may take (default 30 s).
    pub write_timeout: Duration,
    /// After sending the close frame, how long to wait for the server's (default 5 s).
    pub close_timeout: Duration,
    /// Reconnecting after the connection drops.
    pub reconnect: Reconnect,
    /// How `wss://` URLs are verified (default: the bundled and the system roots).
    #[cfg(feature = "tls")]
    pub tls: crate::tls::TlsOptions,
}

impl Default for WsClientOptions {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            subprotocol: Some("mcp".to_owned()),
            max_message_size: crate::DEFAULT_MAX_FRAME,
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            keepalive_timeout: Duration::from_secs(45),
            write_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            reconnect: Reconnect::default(),
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
        }
    }
}

/// Why the WebSocket transport could not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The URL or a header cannot be used.
    #[error("invalid WebSocket URL or header: {0}")]
    InvalidUrl(String),
    /// The server could not be reached.
    #[error("could not reach the server: {0}")]
    Connect(String),
    /// The server refused the opening handshake with this HTTP status.
    #[error("the server refused the WebSocket upgrade with HTTP {status}: {body}")]
    Refused {
        /// The status code.
        status: u16,
        /// The start of the body, as text.
        body: String,
    },
    /// The opening handshake failed otherwise (a subprotocol the server did not choose, ...).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
    /// Connecting took longer than [`WsClientOptions::connect_timeout`].
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The connection a request was sent on dropped before its answer.
    #[error("the WebSocket connection was lost: {0}")]
    ConnectionLost(String),
    /// The TLS handshake failed (an untrusted certificate, another host's certificate, a server
    /// that does not speak TLS, ...) or the TLS options are unusable. Not retryable.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(crate::tls::TlsError),
}

impl WsError {
    /// Whether sending the request again may succeed: connection failures, timeouts, lost
    /// connections, 408, 429 and 5xx refusals. Not TLS failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Timeout(_) | Self::ConnectionLost(_) => true,
            Self::Refused { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// What the transport hands to the client.
#[derive(Debug)]
pub enum Inbound {
    /// One JSON-RPC message from the server (one text frame).
    Message(Vec<u8>),
    /// A request sent on a connection that dropped before its answer: it will not get one.
    Failed {
        /// The request's id.
        id: RequestId,
        /// Why.
        error: WsError,
    },
    /// The connection dropped and reconnecting gave up: the transport has ended for good (the
    /// receiver ends next). Not sent after [`WsHandle::close`] or when `outgoing` ends.
    Closed(WsError),
}

/// A handle on a running transport. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WsHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    options: WsClientOptions,
    request: Request<()>,
    /// The TLS configuration of a `wss://` URL.
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Asked to close.
    closing: CancellationToken,
    /// The transport has ended.
    finished: CancellationToken,
    /// The subprotocol the server chose on the current connection.
    protocol: Mutex<Option<String>>,
    /// Connections opened after the first.
    reconnects: Mutex<u64>,
}

impl WsHandle {
    /// Sends a close frame (1000), waits (bounded by the write and close timeouts) for the
    /// server's, and ends the transport: the receiver ends.
    pub async fn close(&self) {
        self.shared.closing.cancel();
        let bound = self.shared.options.write_timeout + self.shared.options.close_timeout;
        let _ = timeout(bound, self.shared.finished.cancelled()).await;
    }

    /// The subprotocol the server chose on the current connection (`Some("mcp")` normally).
    pub fn protocol(&self) -> Option<String> {
        self.shared.protocol.lock().ok().and_then(|p| p.clone())
    }

    /// How many times the transport has reconnected.
    pub fn reconnects(&self) -> u64 {
        self.shared.reconnects.lock().map_or(0, |n| *n)
    }

    /// Whether the transport has ended for good.
    pub fn is_closed(&self) -> bool {
        self.shared.finished.is_cancelled()
    }
}

type Socket = WebSocketStream<ClientStream>;

/// Connects to the MCP WebSocket endpoint at `url` (`ws://host:port/path`, or `wss://` with the
/// `tls` feature) and starts the
/// transport: messages sent on `outgoing` go out as text frames; what the server sends comes out
/// of the returned receiver, which ends when the transport ends for good. The first connection
/// is not retried: its failure is the error returned here.
pub async fn connect(
    url: &str,
    options: WsClientOptions,
    outgoing: mpsc::Receiver<Vec<u8>>,
) -> Result<(mpsc::Receiver<Inbound>, WsHandle), WsError> {
    let request = build_request(url, &options)?;
    #[cfg(feature = "tls")]
    let tls = if request.uri().scheme_str() == Some("wss") {
        crate::tls::server_name(request.uri().host().unwrap_or_default()).map_err(WsError::Tls)?;
        Some(options.tls.client_config().map_err(WsError::Tls)?)
    } else {
        None
    };
    let shared = Arc::new(Shared {
        options,
        request,
        #[cfg(feature = "tls")]
        tls,
        closing: CancellationToken::new(),
        finished: CancellationToken::new(),
        protocol: Mutex::new(None),
        reconnects: Mutex::new(0),
    });
    let socket = open(&shared).await?;
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(run(shared.clone(), socket, outgoing, tx));
    Ok((rx, WsHandle { shared }))
}

fn build_request(url: &str, options: &WsClientOptions) -> Result<Request<()>, WsError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| WsError::InvalidUrl(format!("{url}: {e}")))?;
    match uri.scheme_str() {
        Some("ws") => {}
        #[cfg(feature = "tls")]
        Some("wss") => {}
        #[cfg(not(feature = "tls"))]
        Some("wss") => {
            return Err(WsError::InvalidUrl(format!(
                "{url}: wss needs the `tls` feature of mcp-transport"
            )));
        }
        _ => {
            return Err(WsError::InvalidUrl(format!(
                "{url}: not a ws:// or wss:// URL"
            )));
        }
    }
    if uri.host().is_none() {
        return Err(WsError::InvalidUrl(format!("{url}: no host")));
    }
    let mut request = uri
        .into_client_request()
        .map_err(|e| WsError::InvalidUrl(format!("{url}: {e}")))?;
    let headers = request.headers_mut();
    for (name, value) in &options.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| WsError::InvalidUrl(format!("header {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| WsError::InvalidUrl(format!("header {name}: {e}")))?;
        headers.insert(name, value);
    }
    if let Some(protocol) = &options.subprotocol {
        let value = HeaderValue::from_str(protocol)
            .map_err(|e| WsError::InvalidUrl(format!("subprotocol {protocol:?}: {e}")))?;
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok(request)
}

/// One connection: TCP (`TCP_NODELAY`), TLS for `wss://` and the opening handshake, within the
/// connect timeout.
async fn open(shared: &Shared) -> Result<Socket, WsError> {
    let options = &shared.options;
    let uri = shared.request.uri();
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let secure = uri.scheme_str() == Some("wss");
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let config = WebSocketConfig::default()
        .max_message_size(Some(options.max_message_size))
        .max_frame_size(Some(options.max_message_size));
    let attempt = async {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| WsError::Connect(format!("{host}:{port}: {e}")))?;
        let _ = stream.set_nodelay(true);
        #[cfg(feature = "tls")]
        let stream = ClientStream::start(stream, shared.tls.as_ref(), host)
            .await
            .map_err(|e| match crate::tls::TlsError::find(&e) {
                Some(tls) => WsError::Tls(tls),
                None => WsError::Connect(format!("{host}:{port}: {e}")),
            })?;
        #[cfg(not(feature = "tls"))]
        let stream = ClientStream::Plain(stream);
        tokio_tungstenite::client_async_with_config(shared.request.clone(), stream, Some(config))
            .await
            .map_err(handshake_error)
    };
    let (socket, response) = timeout(options.connect_timeout, attempt)
        .await
        .map_err(|_| WsError::Timeout(options.connect_timeout))??;
    let protocol = response
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(mut p) = shared.protocol.lock() {
        *p = protocol;
    }
    Ok(socket)
}

fn handshake_error(e: tungstenite::Error) -> WsError {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(512)]).into_owned())
                .unwrap_or_default();
            WsError::Refused { status, body }
        }
        tungstenite::Error::Io(e) => WsError::Connect(e.to_string()),
        other => WsError::Handshake(other.to_string()),
    }
}

/// What the transport must remember across connections.
#[derive(Debug, Default)]
struct Memory {
    /// Requests sent on the current connection and not answered yet.
    in_flight: HashSet<RequestId>,
    /// The legacy `initialize` request, and the `initialized` notification once sent.
    initialize: Option<(RequestId, Vec<u8>)>,
    initialized: Option<Vec<u8>>,
}

impl Memory {
    fn note_outgoing(&mut self, bytes: &[u8]) {
        match jsonrpc::parse(bytes) {
            Ok(RpcMessage::Request(r)) => {
                if r.method == "initialize" {
                    self.initialize = Some((r.id.clone(), bytes.to_vec()));
                    self.initialized = None;
                }
                self.in_flight.insert(r.id);
            }
            Ok(RpcMessage::Notification(n)) if n.method == "notifications/initialized" => {
                self.initialized = Some(bytes.to_vec());
            }
            // A cancelled request may never be answered: stop waiting for it.
            Ok(RpcMessage::Notification(n)) if n.method == "notifications/cancelled" => {
                if let Ok(p) = n.params_as::<CancelledNotificationParams>()
                    && let Some(id) = p.request_id
                {
                    self.in_flight.remove(&id);
                }
            }
            _ => {}
        }
    }

    fn note_incoming(&mut self, bytes: &[u8]) {
        match jsonrpc::parse(bytes) {
            Ok(RpcMessage::Response(r)) => {
                self.in_flight.remove(&r.id);
            }
            Ok(RpcMessage::Error(e)) => {
                if let Some(id) = &e.id {
                    self.in_flight.remove(id);
                }
            }
            _ => {}
        }
    }
}

/// How one connection ended.
enum End {
    /// Closed on purpose (the handle, or `outgoing` ended): do not reconnect.
    Closed,
    /// Dropped: reconnect.
    Lost(String),
    /// The receiver was dropped: nobody listens any more.
    Abandoned,
}

async fn run(
    shared: Arc<Shared>,
    mut socket: Socket,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut memory = Memory::default();
    loop {
        let end = drive(&shared, &mut socket, &mut outgoing, &inbound, &mut memory).await;
        match end {
            End::Closed | End::Abandoned => {
                let frame = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                };
                let options = &shared.options;
                if timeout(
                    options.write_timeout,
                    socket.send(Message::Close(Some(frame))),
                )
                .await
                .is_ok_and(|r| r.is_ok())
                {
                    let _ = timeout(options.close_timeout, async {
                        while let Some(Ok(_)) = socket.next().await {}
                    })
                    .await;
                }
                break;
            }
            End::Lost(reason) => {
                tracing::debug!(reason, "WebSocket connection lost");
                let lost: Vec<RequestId> = memory.in_flight.drain().collect();
                let mut abandoned = false;
                for id in lost {
                    let error = WsError::ConnectionLost(reason.clone());
                    if inbound.send(Inbound::Failed { id, error }).await.is_err() {
                        abandoned = true;
                        break;
                    }
                }
                if abandoned {
                    break;
                }
                match reconnect(&shared, &mut memory, &inbound).await {
                    Some(new) => socket = new,
                    None => {
                        if !shared.closing.is_cancelled() {
                            let _ = inbound
                                .send(Inbound::Closed(WsError::ConnectionLost(reason)))
                                .await;
                        }
                        break;
                    }
                }
            }
        }
    }
    drop(socket);
    shared.finished.cancel();
}

/// Connects again with backoff, replaying a legacy session's `initialize`. `None`: gave up, or
/// asked to close meanwhile.
async fn reconnect(
    shared: &Shared,
    memory: &mut Memory,
    inbound: &mpsc::Sender<Inbound>,
) -> Option<Socket> {
    let policy = shared.options.reconnect;
    let mut backoff = policy.initial_backoff;
    for attempt in 1..=policy.max_attempts {
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shared.closing.cancelled() => return None,
        }
        backoff = (backoff * 2).min(policy.max_backoff);
        let opened = tokio::select! {
            opened = open(shared) => opened,
            () = shared.closing.cancelled() => return None,
        };
        let mut socket = match opened {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(attempt, error = %e, "WebSocket reconnect failed");
                continue;
            }
        };
        match replay(shared, &mut socket, memory, inbound).await {
            Ok(()) => {
                if let Ok(mut n) = shared.reconnects.lock() {
                    *n += 1;
                }
                return Some(socket);
            }
            Err(e) => tracing::debug!(attempt, error = e, "replaying initialize failed"),
        }
    }
    tracing::debug!("WebSocket reconnect gave up");
    None
}

/// On a new connection, opens the legacy session again when one was initialized: sends the
/// recorded `initialize`, waits for its answer (not delivered), then sends `initialized`.
async fn replay(
    shared: &Shared,
    socket: &mut Socket,
    memory: &Memory,
    inbound: &mpsc::Sender<Inbound>,
) -> Result<(), &'static str> {
    let (Some((id, initialize)), Some(initialized)) = (&memory.initialize, &memory.initialized)
    else {
        return Ok(());
    };
    let send =
        |bytes: &Vec<u8>| Message::text(String::from_utf8(bytes.clone()).unwrap_or_default());
    let exchange = async {
        socket.send(send(initialize)).await.map_err(|_| "send")?;
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let bytes = Vec::from(bytes::Bytes::from(text));
                    match jsonrpc::parse(&bytes) {
                        Ok(RpcMessage::Response(r)) if r.id == *id => break,
                        Ok(RpcMessage::Error(e)) if e.id.as_ref() == Some(id) => {
                            return Err("the server refused initialize");
                        }
                        _ => {
                            if inbound.send(Inbound::Message(bytes)).await.is_err() {
                                return Err("receiver dropped");
                            }
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err("connection lost"),
            }
        }
        socket.send(send(initialized)).await.map_err(|_| "send")
    };
    timeout(shared.options.connect_timeout, exchange)
        .await
        .map_err(|_| "timed out")?
}

/// Writes `first` and whatever else is ready (up to a batch), then flushes.
async fn write_batch(
    socket: &mut Socket,
    first: Vec<u8>,
    outgoing: &mut mpsc::Receiver<Vec<u8>>,
    memory: &mut Memory,
) -> Result<(), tungstenite::Error> {
    let mut next = Some(first);
    let mut written = 0;
    while let Some(bytes) = next.take() {
        memory.note_outgoing(&bytes);
        match String::from_utf8(bytes) {
            Ok(text) => socket.feed(Message::text(text)).await?,
            Err(_) => tracing::warn!("dropped an outgoing message that is not UTF-8"),
        }
        written += 1;
        if written < 64 {
            next = outgoing.try_recv().ok();
        }
    }
    socket.flush().await
}

/// One connection's loop.
async fn drive(
    shared: &Shared,
    socket: &mut Socket,
    outgoing: &mut mpsc::Receiver<Vec<u8>>,
    inbound: &mpsc::Sender<Inbound>,
    memory: &mut Memory,
) -> End {
    let options = &shared.options;
    let mut pending: Option<Vec<u8>> = None;
    let mut last_heard = Instant::now();
    let period = options.ping_interval.max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shared.closing.cancelled() => return End::Closed,
            out = outgoing.recv() => match out {
                Some(first) => {
                    match timeout(options.write_timeout, write_batch(socket, first, outgoing, memory)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return End::Lost(format!("write failed: {e}")),
                        Err(_) => return End::Lost("write timed out".to_owned()),
                    }
                }
                None => return End::Closed,
            },
            permit = inbound.reserve(), if pending.is_some() => match (permit, pending.take()) {
                (Ok(permit), Some(bytes)) => permit.send(Inbound::Message(bytes)),
                _ => return End::Abandoned,
            },
            frame = socket.next(), if pending.is_none() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        let bytes = Vec::from(bytes::Bytes::from(text));
                        memory.note_incoming(&bytes);
                        pending = Some(bytes);
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let frame = CloseFrame {
                            code: CloseCode::Unsupported,
                            reason: "binary frames are not supported".into(),
                        };
                        let _ = timeout(options.write_timeout, socket.send(Message::Close(Some(frame)))).await;
                        return End::Lost("the server sent a binary frame".to_owned());
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        // Send the reply tungstenite queued.
                        let _ = timeout(options.close_timeout, socket.flush()).await;
                        let why = frame.map_or_else(
                            || "closed by the server".to_owned(),
                            |f| format!("closed by the server: {} {}", u16::from(f.code), f.reason),
                        );
                        return End::Lost(why);
                    }
                    Some(Err(tungstenite::Error::Capacity(e))) => {
                        let frame = CloseFrame {
                            code: CloseCode::Size,
                            reason: "message too big".into(),
                        };
                        let _ = timeout(options.write_timeout, socket.send(Message::Close(Some(frame)))).await;
                        return End::Lost(format!("the server's message is too big: {e}"));
                    }
                    Some(Err(e)) => return End::Lost(e.to_string()),
                    None => return End::Lost("connection reset".to_owned()),
                }
            },
            _ = ticker.tick() => {
                if pending.is_none() && last_heard.elapsed() >= options.keepalive_timeout {
                    return End::Lost("keepalive timeout".to_owned());
                }
                match timeout(options.write_timeout, socket.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => {}
                    _ => return End::Lost("ping failed".to_owned()),
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_tracks_requests_until_answered_or_cancelled() {
        let mut m = Memory::default();
        m.note_outgoing(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
        m.note_outgoing(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        m.note_outgoing(br#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#);
        m.note_outgoing(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#);
        // An answer to a server request is not a request of ours.
        m.note_outgoing(br#"{"jsonrpc":"2.0","id":9,"result":{}}"#);
        assert_eq!(m.in_flight.len(), 3);
        assert!(m.initialize.is_some() && m.initialized.is_some());

        m.note_incoming(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        m.note_incoming(br#"{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"no"}}"#);
        // A server request with an id we also used is not an answer.
        m.note_incoming(br#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#);
        assert_eq!(m.in_flight.len(), 1);
        m.note_outgoing(
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#,
        );
        assert!(m.in_flight.is_empty());

        // A new initialize forgets the old `initialized`.
        m.note_outgoing(br#"{"jsonrpc":"2.0","id":4,"method":"initialize","params":{}}"#);
        assert!(m.initialized.is_none());
    }

    #[test]
    fn urls_and_headers() {
        let o = WsClientOptions::default();
        assert!(matches!(
            build_request("http://x/ws", &o),
            Err(WsError::InvalidUrl(_))
        ));
        assert_eq!(
            build_request("wss://x/ws", &o).is_ok(),
            cfg!(feature = "tls")
        );
        let r = build_request("ws://127.0.0.1:9/ws?x=1", &o).unwrap();
        assert_eq!(r.headers()[SEC_WEBSOCKET_PROTOCOL], "mcp");
        assert_eq!(r.uri().path_and_query().unwrap().as_str(), "/ws?x=1");
        let bad = WsClientOptions {
            headers: vec![("bad header".to_owned(), "v".to_owned())],
            ..WsClientOptions::default()
        };
        assert!(build_request("ws://127.0.0.1:9/ws", &bad).is_err());
        let none = WsClientOptions {
            subprotocol: None,
            headers: vec![("x-api-key".to_owned(), "k".to_owned())],
            ..WsClientOptions::default()
        };
        let r = build_request("ws://127.0.0.1:9/ws", &none).unwrap();
        assert!(r.headers().get(SEC_WEBSOCKET_PROTOCOL).is_none());
        assert_eq!(r.headers()["x-api-key"], "k");
    }
}
