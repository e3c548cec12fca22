//! The HTTP client the OAuth client talks to metadata, registration, authorization and token
//! endpoints with.
//!
//! [`HttpClient`] is the seam: [`HyperHttpClient`] is the built-in implementation over
//! hyper-util's pooled client, generic over its connector so that a TLS connector (for
//! `https://` authorization servers) plugs in with [`HyperHttpClient::with_connector`]. Every
//! exchange has a deadline and a body limit ([`HttpLimits`]); redirects are never followed
//! (the headless redirect handler reads them itself).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

use crate::BoxFuture;

/// A request the OAuth client sends: the `http` crate's request with the whole body.
pub type HttpRequest = http::Request<Vec<u8>>;

/// An answer: the `http` crate's response with the whole body, at most
/// [`HttpLimits::max_body`] bytes.
pub type HttpResponse = http::Response<Vec<u8>>;

/// Why an HTTP exchange gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The request cannot be sent (bad URL, unsupported scheme).
    #[error("cannot send a request to {url}: {reason}")]
    InvalidRequest {
        /// The request's URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server could not be reached, or the connection failed.
    #[error("could not reach {url}: {reason}")]
    Connect {
        /// The request's URL.
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The exchange took longer than [`HttpLimits::timeout`].
    #[error("{url} did not answer within {timeout:?}")]
    Timeout {
        /// The request's URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The answer's body is larger than [`HttpLimits::max_body`].
    #[error("the answer of {url} exceeds {limit} bytes")]
    TooLarge {
        /// The request's URL.
        url: String,
        /// The limit.
        limit: usize,
    },
}

/// Sends one HTTP request and reads its whole answer. Implementations must bound the time
/// and the size of the answer, and must not follow redirects.
pub trait HttpClient: Send + Sync + fmt::Debug {
    /// Sends `request`; any status is an answer, not an error.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, HttpClientError>>;
}

impl<T: HttpClient + ?Sized> HttpClient for std::sync::Arc<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, HttpClientError>> {
        (**self).send(request)
    }
}

/// The bounds of every exchange of a [`HyperHttpClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From sending the request to the last byte of the answer (default 30 s).
    pub timeout: Duration,
    /// How long connecting may take (default 10 s).
    pub connect_timeout: Duration,
    /// The largest answer body accepted (default 1 MiB: metadata and token answers are a few
    /// kilobytes).
    pub max_body: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
        }
    }
}

/// [`HttpClient`] over hyper-util's pooled client.
///
/// [`HyperHttpClient::new`] speaks plain `http://` (loopback authorization servers, a
/// TLS-terminating proxy); [`HyperHttpClient::with_connector`] takes any hyper-util connector,
/// for example one that adds TLS.
///
/// ```
/// use mcp_auth::oauth::client::{HttpLimits, HyperHttpClient};
/// use std::time::Duration;
///
/// let http = HyperHttpClient::new(HttpLimits { timeout: Duration::from_secs(5), ..HttpLimits::default() });
/// # let _ = http;
/// ```
pub struct HyperHttpClient<C = HttpConnector> {
    pool: Pool<C, Full<Bytes>>,
    limits: HttpLimits,
}

impl<C> fmt::Debug for HyperHttpClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperHttpClient")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl HyperHttpClient<HttpConnector> {
    /// A client for `http://` URLs with these limits.
    pub fn new(limits: HttpLimits) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(limits.connect_timeout));
        Self::with_connector(connector, limits)
    }
}

impl Default for HyperHttpClient<HttpConnector> {
    fn default() -> Self {
        Self::new(HttpLimits::default())
    }
}

impl<C> HyperHttpClient<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    /// A client over `connector` (which decides which schemes work, and its own connect
    /// timeout) with these limits.
    pub fn with_connector(connector: C, limits: HttpLimits) -> Self {
        let pool = Pool::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self { pool, limits }
    }

    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
        let url = request.uri().to_string();
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let limit = self.limits.max_body;
        let answer = async {
            let response =
                self.pool
                    .request(request)
                    .await
                    .map_err(|e| HttpClientError::Connect {
                        url: url.clone(),
                        reason: error_chain(&e),
                    })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit).collect().await.map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    HttpClientError::TooLarge {
                        url: url.clone(),
                        limit,
                    }
                } else {
                    HttpClientError::Connect {
                        url: url.clone(),
                        reason: error_chain(&*e),
                    }
                }
            })?;
            Ok(http::Response::from_parts(parts, body.to_bytes().to_vec()))
        };
        tokio::time::timeout(self.limits.timeout, answer)
            .await
            .map_err(|_| HttpClientError::Timeout {
                url: url.clone(),
                timeout: self.limits.timeout,
            })?
    }
}

impl<C> HttpClient for HyperHttpClient<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, HttpClientError>> {
        Box::pin(self.exchange(request))
    }
}

/// The error and its sources on one line: hyper's own message alone ("client error
/// (Connect)") says nothing.
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

/// The oauth2 crate's view of an [`HttpClient`]. Owned, not borrowed: a lifetime parameter
/// here defeats the compiler's proof that the token futures are `Send`.
pub(crate) struct OAuth2Http(pub(crate) std::sync::Arc<dyn HttpClient>);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuth2Http {
    type Error = HttpClientError;
    type Future = BoxFuture<'c, Result<HttpResponse, HttpClientError>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.0.send(request)
    }
}

/// A GET of `url` accepting JSON, with the extra headers given.
pub(crate) fn get_json(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<HttpRequest, HttpClientError> {
    let mut builder = http::Request::builder()
        .method(http::Method::GET)
        .uri(url)
        .header(http::header::ACCEPT, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Vec::new())
        .map_err(|e| HttpClientError::InvalidRequest {
            url: url.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot server that answers the first request with `answer`.
    async fn serve_once(answer: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(&answer).await;
            // Keep the connection open: a slow server, for the timeout test.
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_not_buffered() {
        let body = vec![b'x'; 5000];
        let mut answer =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        answer.extend_from_slice(&body);
        let url = serve_once(answer).await;
        let http = HyperHttpClient::new(HttpLimits {
            max_body: 1000,
            ..HttpLimits::default()
        });
        let err = http.send(get_json(&url, &[]).unwrap()).await.unwrap_err();
        assert!(
            matches!(err, HttpClientError::TooLarge { limit: 1000, .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_server_that_stops_answering_hits_the_timeout() {
        let url = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc".to_vec()).await;
        let http = HyperHttpClient::new(HttpLimits {
            timeout: Duration::from_millis(300),
            ..HttpLimits::default()
        });
        let err = http.send(get_json(&url, &[]).unwrap()).await.unwrap_err();
        assert!(matches!(err, HttpClientError::Timeout { .. }), "{err}");
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let url = serve_once(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
        )
        .await;
        let http = HyperHttpClient::default();
        let answer = http.send(get_json(&url, &[]).unwrap()).await.unwrap();
        assert_eq!(answer.status(), 302);
        assert_eq!(answer.headers()["location"], "http://127.0.0.1:9/elsewhere");
    }
}
