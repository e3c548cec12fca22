//! Opening a client connection: TCP with `TCP_NODELAY`, then, for `https://` and `wss://` (with
//! the `tls` feature), the TLS handshake, both within one connect timeout.
//!
//! One stream type serves the HTTP pool and the WebSocket client, so both get the same TLS
//! policy and the same classification of its failures. Not hyper-rustls: its handshake has no
//! timeout of its own, and the WebSocket client needs the TLS stream anyway.
//!
//! [`Connector`] is public so that other hyper-util clients (`mcp-auth`'s fetcher for JWKS,
//! introspection and OAuth) connect the same way, with the same TLS configuration
//! ([`TlsOptions`](crate::tls::TlsOptions)).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A client connection, plain or TLS: what [`Connector`] connects.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// Plain TCP (`http://`, `ws://`).
    Plain(TcpStream),
    /// TLS over TCP (`https://`, `wss://`).
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ClientStream {
    /// Wraps `tcp` in TLS when `tls` is given, checking the server's certificate against
    /// `host`. A TLS failure is a [`TlsError`](crate::tls::TlsError) inside the `io::Error`.
    #[cfg(feature = "tls")]
    pub(crate) async fn start(
        tcp: TcpStream,
        tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
        host: &str,
    ) -> io::Result<Self> {
        let Some(tls) = tls else {
            return Ok(Self::Plain(tcp));
        };
        let name = crate::tls::server_name(host).map_err(io::Error::other)?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        match connector.connect(name, tcp).await {
            Ok(stream) => Ok(Self::Tls(Box::new(stream))),
            // A TLS failure becomes a `TlsError`; an I/O failure during the handshake (the
            // server hung up) stays an I/O error, retryable like any connection failure.
            Err(e) => Err(match crate::tls::TlsError::find(&e) {
                Some(tls) => io::Error::other(tls),
                None => e,
            }),
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(feature = "http-client")]
pub use pool::Connector;

#[cfg(feature = "http-client")]
mod pool {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use hyper::Uri;
    use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
    use hyper_util::rt::TokioIo;
    use tower::Service;

    use super::ClientStream;

    impl Connection for ClientStream {
        fn connected(&self) -> Connected {
            match self {
                Self::Plain(s) => s.connected(),
                #[cfg(feature = "tls")]
                Self::Tls(s) => s.get_ref().0.connected(),
            }
        }
    }

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    /// A hyper-util connector: TCP (`TCP_NODELAY`), then TLS for `https` URIs, the two within
    /// one timeout. The HTTP client transport's pool connects with it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::connect::Connector;
    ///
    /// // `http://` only; with the `tls` feature, `Connector::with_tls` also speaks `https://`.
    /// let connector = Connector::plain(Duration::from_secs(10));
    /// # drop(connector);
    /// ```
    #[derive(Debug, Clone)]
    pub struct Connector {
        tcp: HttpConnector,
        #[cfg(feature = "tls")]
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
        /// Bounds the TCP connect and the TLS handshake together.
        #[cfg(feature = "tls")]
        timeout: Duration,
    }

    impl Connector {
        /// A connector for `http://` URIs only; connecting takes at most `timeout`. An
        /// `https://` URI fails to connect, saying so.
        pub fn plain(timeout: Duration) -> Self {
            Self::new(
                timeout,
                #[cfg(feature = "tls")]
                None,
            )
        }

        /// A connector for `http://` and `https://` URIs, checking servers' certificates with
        /// `tls` (for example [`TlsOptions::client_config`](crate::tls::TlsOptions::client_config));
        /// the TCP connect and the TLS handshake together take at most `timeout`.
        #[cfg(feature = "tls")]
        pub fn with_tls(timeout: Duration, tls: std::sync::Arc<rustls::ClientConfig>) -> Self {
            Self::new(timeout, Some(tls))
        }

        /// `tls` is the TLS configuration for `https` URIs (none: only `http`).
        pub(crate) fn new(
            timeout: Duration,
            #[cfg(feature = "tls")] tls: Option<std::sync::Arc<rustls::ClientConfig>>,
        ) -> Self {
            let mut tcp = HttpConnector::new();
            tcp.set_nodelay(true);
            tcp.set_connect_timeout(Some(timeout));
            // The scheme is checked here, not by the TCP connector.
            tcp.enforce_http(false);
            Self {
                tcp,
                #[cfg(feature = "tls")]
                #[cfg(feature = "tls")]
                tls,
                #[cfg(feature = "tls")]
                timeout,
            }
        }
    }

    impl Service<Uri> for Connector {
        type Response = TokioIo<ClientStream>;
        type Error = BoxError;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            self.tcp.poll_ready(cx).map_err(Into::into)
        }

        fn call(&mut self, uri: Uri) -> Self::Future {
            let connecting = self.tcp.call(uri.clone());
            #[cfg(feature = "tls")]
            let (tls, timeout) = (self.tls.clone(), self.timeout);
            Box::pin(async move {
                #[cfg(feature = "tls")]
                let deadline = tokio::time::Instant::now() + timeout;
                let tcp = connecting.await?.into_inner();
                match uri.scheme_str() {
                    Some("http") => Ok(TokioIo::new(ClientStream::Plain(tcp))),
                    #[cfg(feature = "tls")]
                    Some("https") if tls.is_some() => {
                        let host = uri.host().unwrap_or_default();
                        let start = ClientStream::start(tcp, tls.as_ref(), host);
                        match tokio::time::timeout_at(deadline, start).await {
                            Ok(stream) => Ok(TokioIo::new(stream?)),
                            Err(_) => Err(Box::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                format!("the TLS handshake took longer than {timeout:?}"),
                            )) as BoxError),
                        }
                    }
                    Some("https") => Err("an https:// URI needs TLS, and this connector has \
                         none (see `Connector::with_tls`, feature `tls`)"
                        .into()),
                    other => Err(format!("cannot connect to a {other:?} URI").into()),
                }
            })
        }
    }
}
