//! The small HTTP client behind JWKS and token introspection.
//!
//! Authenticators fetch through the [`HttpFetch`] trait, so TLS (or a proxy, or a test
//! double for a third-party server) is plugged in without this crate choosing a TLS stack:
//! [`HyperFetcher::http`] speaks plain HTTP (enough for loopback and tests), and
//! [`HyperFetcher::with_connector`] takes any hyper-util connector, such as an HTTPS connector
//! built on rustls.
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
/// // Plain HTTP, for loopback and tests. For HTTPS, pass an HTTPS connector:
/// // `HyperFetcher::with_connector(https_connector)`.
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
