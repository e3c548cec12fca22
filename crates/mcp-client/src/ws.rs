//! The client over WebSocket ([`Client::connect_ws`], feature `ws`).
//!
//! WebSocket is not an official MCP transport; this SDK offers it as a custom one (one message
//! per text frame, subprotocol `mcp`; see `docs/websocket.md`). A dropped connection is
//! reopened by the transport; requests that were in flight on it fail with a retryable
//! [`ClientError::Transport`], and a legacy session is re-established by replaying
//! `initialize`.

use mcp_transport::ws_client::{self, WsClientOptions, WsError};
use tokio::sync::mpsc;

use crate::client::Source;
use crate::{Client, ClientError, ClientOptions};

impl Client {
    /// Connects to an MCP WebSocket endpoint (`ws://host:port/ws`, or `wss://` with the `tls`
    /// feature, on by default; certificates checked against
    /// [`WsClientOptions::tls`](mcp_transport::ws_client::WsClientOptions)) and settles the
    /// era.
    pub async fn connect_ws(
        url: &str,
        options: ClientOptions,
        ws: WsClientOptions,
    ) -> Result<Self, ClientError> {
        let (out, outgoing) = mpsc::channel(1024);
        let (incoming, handle) = ws_client::connect(url, ws, outgoing)
            .await
            .map_err(ws_error)?;
        let client = Self::start_with(out, Source::Ws(incoming), options, None, None);
        if let Ok(mut slot) = client.inner.ws.lock() {
            *slot = Some(handle);
        }
        if let Err(e) = client.handshake().await {
            client.close().await;
            return Err(e);
        }
        Ok(client)
    }
}

/// A WebSocket failure as the caller sees it: lost or unreachable connections are
/// [`ClientError::Transport`] (retryable); TLS failures are [`ClientError::Tls`]; a refused
/// upgrade is the HTTP status it was refused with (so a 401 is an authentication error, as on
/// Streamable HTTP); a bad URL keeps its detail.
pub(crate) fn ws_error(e: WsError) -> ClientError {
    match e {
        #[cfg(feature = "tls")]
        WsError::Tls(t) => ClientError::Tls(t),
        WsError::Refused { status, body } => {
            ClientError::Http(mcp_transport::http_client::HttpError::Status {
                status,
                body,
                www_authenticate: None,
            })
        }
        WsError::Connect(_) | WsError::ConnectionLost(_) | WsError::Timeout(_) => {
            ClientError::Transport(e.to_string())
        }
        WsError::InvalidUrl(_) => ClientError::Configuration(e.to_string()),
        other => ClientError::Protocol(other.to_string()),
    }
}
