//! The small HTTP client behind JWKS and token introspection.
//!
//! Authenticators fetch through the [`HttpFetch`] trait, so a proxy, mutual TLS or another
//! TLS stack is plugged in with [`HyperFetcher::with_connector`] (any hyper-util connector) or
//! an implementation of the trait. With the `tls` feature (implied by `jwks`, `introspection`
//! and `oauth-client`), [`HyperFetcher::https`] speaks `http://` and `https://` (rustls,
//! trusting the bundled Mozilla roots and the system's), and it is what JWKS sources,
//! introspection and the OAuth client use unless given a fetcher; [`HyperFetcher::http`]
//! speaks plain HTTP only.
//!
//! Every fetch has a deadline and a body size limit ([`FetchLimits`]); a response over the
//! limit is cut off as soon as the limit is passed, never buffered whole.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

use crate::authenticator::BoxFuture;

/// The deadline and the largest body of one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// How long the whole exchange may take: connecting, sending, and reading the body.
    pub timeout: Duration,
    /// The largest response body accepted, in bytes.
    pub max_body: usize,
}

impl Default for FetchLimits {
    /// 10 seconds, 1 MiB.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The exchange did not finish in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The body is over the limit.
    #[error("response body over the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Connecting, sending or reading failed.
    #[error("{0}")]
    Request(String),
}

/// Sends one HTTP request and buffers its response, within limits.
///
/// Implement it to bring your own client (with TLS, a proxy, mTLS to the authorization
/// server...); [`HyperFetcher`] is the one this crate ships.
pub trait HttpFetch: Send + Sync + fmt::Debug + 'static {
    /// Sends `request`; the response's body is buffered, at most `limits.max_body` bytes, and
    /// the whole exchange takes at most `limits.timeout`.
    fn fetch(
        &self,
        request: http::Request<Bytes>,
        limits: FetchLimits,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, FetchError>>;
}

/// An [`HttpFetch`] on hyper-util's pooling client, HTTP/1.1.
///
/// ```
/// use mcp_auth::fetch::HyperFetcher;
/// // Plain HTTP only, for loopback and tests. With the `tls` feature, `HyperFetcher::https()`
/// // also speaks https://, and `HyperFetcher::https_with(&tls_options)` trusts a private CA.
/// let fetcher = HyperFetcher::http();
/// # drop(fetcher);
/// ```
pub struct HyperFetcher<C = HttpConnector> {
    client: Client<C, Full<Bytes>>,
}

impl<C> fmt::Debug for HyperFetcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperFetcher").finish_non_exhaustive()
    }
}

impl<C: Clone> Clone for HyperFetcher<C> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
        }
    }
}

impl HyperFetcher<HttpConnector> {
    /// A fetcher for `http://` URLs only (an `https://` URL fails to connect: plug in a TLS
    /// connector with [`with_connector`](HyperFetcher::with_connector)).
    pub fn http() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self::with_connector(connector)
    }
}

/// How long connecting (TCP and the TLS handshake) may take for [`HyperFetcher::https`]; the
/// whole exchange is bounded by [`FetchLimits::timeout`] as well.
#[cfg(feature = "tls")]
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(feature = "tls")]
pub use mcp_transport::tls::{TlsError, TlsOptions, TrustedRoots};

#[cfg(feature = "tls")]
impl HyperFetcher<mcp_transport::connect::Connector> {
    /// A fetcher for `http://` and `https://` URLs, checking certificates against the bundled
    /// Mozilla roots and the system's ([`TlsOptions::default`]). The TLS configuration is
    /// built once per process.
    pub fn https() -> Result<Self, TlsError> {
        Self::https_with(&TlsOptions::default())
    }

    /// A fetcher for `http://` and `https://` URLs with these TLS options: a private CA
    /// ([`TlsOptions::add_roots_pem`]), only the system's roots, a client certificate...
    pub fn https_with(options: &TlsOptions) -> Result<Self, TlsError> {
        let config = options.client_config()?;
        Ok(Self::with_connector(
            mcp_transport::connect::Connector::with_tls(CONNECT_TIMEOUT, config),
        ))
    }
}

/// The fetcher of a JWKS source, an introspection client or the OAuth client that was given
/// none: `http://` and `https://` with the `tls` feature (plain HTTP only if no TLS
/// configuration can be built), `http://` only without it.
#[cfg(any(feature = "jwks", feature = "introspection", feature = "oauth-client"))]
pub(crate) fn default_fetcher() -> std::sync::Arc<dyn HttpFetch> {
    #[cfg(feature = "tls")]
    match HyperFetcher::https() {
        Ok(fetcher) => return std::sync::Arc::new(fetcher),
        Err(e) => {
            tracing::warn!(error = %e, "no TLS configuration: fetching over plain HTTP only");
        }
    }
    std::sync::Arc::new(HyperFetcher::http())
}

impl<C> HyperFetcher<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    /// A fetcher over this connector (an HTTPS connector, a proxy connector, ...).
    pub fn with_connector(connector: C) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self { client }
    }

    async fn exchange(
        &self,
        request: http::Request<Bytes>,
        max_body: usize,
    ) -> Result<http::Response<Bytes>, FetchError> {
        let response = self
            .client
            .request(request.map(Full::new))
            .await
            .map_err(|e| FetchError::Request(describe(&e)))?;
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max_body as u64) {
            return Err(FetchError::TooLarge { limit: max_body });
        }
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max_body)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge { limit: max_body }
                } else {
                    FetchError::Request(format!("reading the body: {e}"))
                }
            })?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

fn describe(error: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

impl<C> HttpFetch for HyperFetcher<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn fetch(
        &self,
        request: http::Request<Bytes>,
        limits: FetchLimits,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, FetchError>> {
        Box::pin(async move {
            tokio::time::timeout(limits.timeout, self.exchange(request, limits.max_body))
                .await
                .map_err(|_| FetchError::Timeout(limits.timeout))?
        })
    }
}

/// Whether a URL host is a loopback address (`localhost`, `127.0.0.0/8`, `[::1]`), where plain
/// HTTP cannot be intercepted off the machine.
#[cfg(any(feature = "jwks", feature = "introspection"))]
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
