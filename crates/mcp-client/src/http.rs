//! The client over Streamable HTTP ([`Client::connect_http`]).
//!
//! The transport (`mcp_transport::http_client`) POSTs each message; this module plugs it into
//! the client and turns its failures into [`ClientError`]s. On HTTP the client also keeps the
//! `x-mcp-header` arguments of every listed tool, so that `tools/call` mirrors them into
//! `Mcp-Param-*` headers, and drops from `tools/list` the tools whose annotations are invalid,
//! as the spec requires of clients on Streamable HTTP.

use mcp_protocol::types::Tool;
use mcp_transport::http_client::{self, HttpClientOptions, HttpError, HttpHandle, ToolHeaders};
use tokio::sync::mpsc;

use crate::client::Source;
use crate::{Client, ClientError, ClientOptions};

/// The client's side of a running HTTP transport.
#[derive(Debug)]
pub(crate) struct HttpLink {
    pub(crate) handle: HttpHandle,
    tool_headers: ToolHeaders,
}

impl Client {
    /// Connects to the MCP endpoint at `url` (for example `http://127.0.0.1:8080/mcp`, or
    /// `https://` with the `tls` feature, on by default) over Streamable HTTP and settles the
    /// era: `server/discover` first, then the legacy `initialize` on any answer that is not a
    /// modern one.
    ///
    /// Over `https://` the server's certificate is verified against
    /// [`HttpClientOptions::tls`](mcp_transport::http_client::HttpClientOptions): by default
    /// the bundled Mozilla roots and the system's; a failure is `ClientError::Tls`, which no
    /// fallback to another transport hides.
    ///
    /// ```no_run
    /// use mcp_client::{Client, ClientOptions, HttpClientOptions};
    ///
    /// # async fn demo() -> Result<(), mcp_client::ClientError> {
    /// let client = Client::connect_http(
    ///     "http://127.0.0.1:8080/mcp",
    ///     ClientOptions::default(),
    ///     HttpClientOptions::default(),
    /// )
    /// .await?;
    /// println!("{:?}", client.session().map(|s| s.era()));
    /// client.close().await;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A server whose certificate comes from a private CA:
    ///
    /// ```no_run
    /// use mcp_client::{Client, ClientOptions, HttpClientOptions, TlsOptions};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let ca = std::fs::read("company-ca.pem")?;
    /// let http = HttpClientOptions {
    ///     tls: TlsOptions::default().add_roots_pem(&ca)?,
    ///     ..HttpClientOptions::default()
    /// };
    /// let client =
    ///     Client::connect_http("https://mcp.internal:8443/mcp", ClientOptions::default(), http)
    ///         .await?;
    /// client.close().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_http(
        url: &str,
        options: ClientOptions,
        http: HttpClientOptions,
    ) -> Result<Self, ClientError> {
        let tool_headers = http.tool_headers.clone();
        let (out, outgoing) = mpsc::channel(1024);
        let (incoming, handle) =
            http_client::spawn(url, http.clone(), outgoing).map_err(client_error)?;
        let link = HttpLink {
            handle,
            tool_headers,
        };
        let client = Self::start_with(
            out,
            Source::Http(incoming),
            options.clone(),
            None,
            Some(link),
        );
        match client.handshake().await {
            Ok(()) => Ok(client),
            Err(e) => {
                client.close().await;
                // The spec's last step back: a POST refused with 400, 404 or 405 (and no
                // JSON-RPC error) means a server of the 2024-11-05 HTTP+SSE transport.
                let old_transport = matches!(&e, ClientError::Http(h) if matches!(h.status(), Some(400 | 404 | 405)))
                    && options.era != crate::EraPreference::Modern;
                if !old_transport {
                    return Err(e);
                }
                tracing::debug!(error = %e, "Streamable HTTP refused; trying HTTP+SSE");
                Self::connect_sse(url, options, http).await.map_err(|sse| {
                    ClientError::Transport(format!(
                        "neither Streamable HTTP ({e}) nor HTTP+SSE ({sse}) worked at {url}"
                    ))
                })
            }
        }
    }

    /// Connects with the 2024-11-05 HTTP+SSE transport: `url` is the server's event-stream URL
    /// (often `.../sse`). Only the legacy era exists on this transport. [`Client::connect_http`]
    /// falls back to it by itself when a server refuses Streamable HTTP.
    pub async fn connect_sse(
        url: &str,
        options: ClientOptions,
        http: HttpClientOptions,
    ) -> Result<Self, ClientError> {
        if options.era == crate::EraPreference::Modern {
            return Err(ClientError::Incompatible(
                "HTTP+SSE carries only the legacy era".into(),
            ));
        }
        let tool_headers = http.tool_headers.clone();
        let (out, outgoing) = mpsc::channel(1024);
        let (incoming, handle) = http_client::connect_sse(url, http, outgoing)
            .await
            .map_err(client_error)?;
        let link = HttpLink {
            handle,
            tool_headers,
        };
        let options = ClientOptions {
            era: crate::EraPreference::Legacy,
            ..options
        };
        let client = Self::start_with(out, Source::Http(incoming), options, None, Some(link));
        if let Err(e) = client.handshake().await {
            client.close().await;
            return Err(e);
        }
        Ok(client)
    }

    /// The legacy session id the server gave over HTTP, if any.
    pub fn http_session_id(&self) -> Option<String> {
        self.inner.http.as_ref().and_then(|h| h.handle.session_id())
    }

    /// On HTTP: records each tool's `x-mcp-header` arguments for `tools/call`, and drops the
    /// tools whose annotations are invalid (with a warning). Elsewhere the annotations mean
    /// nothing and every tool is kept.
    pub(crate) fn remember_header_params(&self, tools: &mut Vec<Tool>) {
        let Some(link) = &self.inner.http else {
            return;
        };
        tools.retain(|tool| match mcp_protocol::headers::tool_header_params(tool) {
            Ok(params) => {
                link.tool_headers.set(&tool.name, params);
                true
            }
            Err(e) => {
                tracing::warn!(tool = %tool.name, error = %e, "dropping a tool with an invalid x-mcp-header annotation");
                link.tool_headers.set(&tool.name, Vec::new());
                false
            }
        });
    }
}

/// A transport failure as the caller sees it: connection failures and broken streams are
/// [`ClientError::Transport`] (retryable) as on every transport; TLS failures are
/// [`ClientError::Tls`]; HTTP statuses and the rest keep their detail in [`ClientError::Http`].
pub(crate) fn client_error(e: HttpError) -> ClientError {
    match e {
        #[cfg(feature = "tls")]
        HttpError::Tls(t) => ClientError::Tls(t),
        HttpError::Connect(m) => ClientError::Transport(format!("could not reach the server: {m}")),
        HttpError::StreamEnded => ClientError::Transport(e.to_string()),
        other => ClientError::Http(other),
    }
}
