//! How the OAuth client talks to metadata, registration, authorization and token endpoints:
//! through the crate's [`HttpFetch`] seam (the one JWKS and introspection use), so a TLS
//! connector, a proxy or mTLS is plugged in once for both halves of the crate. Every exchange
//! is bounded by [`FetchLimits`]; redirects are never followed (the headless redirect handler
//! reads them itself).

use std::sync::Arc;

use bytes::Bytes;

use crate::BoxFuture;
use crate::fetch::{FetchError, FetchLimits, HttpFetch};

/// Why an HTTP exchange of the OAuth client gave no answer, with the URL it was for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The request cannot be sent (a malformed URL or header).
    #[error("cannot send a request to {url}: {reason}")]
    InvalidRequest {
        /// The request's URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server could not be reached, or the exchange failed.
    #[error("could not reach {url}: {reason}")]
    Connect {
        /// The request's URL.
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The exchange took longer than [`FetchLimits::timeout`].
    #[error("{url} did not answer within {timeout:?}")]
    Timeout {
        /// The request's URL.
        url: String,
        /// The limit.
        timeout: std::time::Duration,
    },
    /// The answer's body is larger than [`FetchLimits::max_body`].
    #[error("the answer of {url} exceeds {limit} bytes")]
    TooLarge {
        /// The request's URL.
        url: String,
        /// The limit.
        limit: usize,
    },
}

impl HttpClientError {
    fn from_fetch(url: String, error: FetchError) -> Self {
        match error {
            FetchError::Timeout(timeout) => Self::Timeout { url, timeout },
            FetchError::TooLarge { limit } => Self::TooLarge { url, limit },
            other => Self::Connect {
                url,
                reason: other.to_string(),
            },
        }
    }
}

/// A request as the oauth2 crate and the client build it.
pub(crate) type HttpRequest = http::Request<Vec<u8>>;
/// An answer, its body whole (within the limit).
pub(crate) type HttpResponse = http::Response<Vec<u8>>;

/// The fetcher and the limits every exchange is held to.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    fetch: Arc<dyn HttpFetch>,
    limits: FetchLimits,
}

impl Http {
    pub(crate) fn new(fetch: Arc<dyn HttpFetch>, limits: FetchLimits) -> Self {
        Self { fetch, limits }
    }

    /// Sends `request`; any status is an answer.
    pub(crate) fn send(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, HttpClientError>> {
        Box::pin(async move {
            let url = request.uri().to_string();
            let response = self
                .fetch
                .fetch(request.map(Bytes::from), self.limits)
                .await
                .map_err(|e| HttpClientError::from_fetch(url, e))?;
            Ok(response.map(|body| body.to_vec()))
        })
    }
}

/// The oauth2 crate's view of [`Http`]. Owned, not borrowed: a lifetime parameter here
/// defeats the compiler's proof that the token futures are `Send`.
pub(crate) struct OAuth2Http(pub(crate) Http);

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
    use crate::fetch::HyperFetcher;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot server that answers the first request with `answer`, then holds the
    /// connection open.
    async fn serve_once(answer: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(&answer).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        format!("http://{addr}/")
    }

    fn http(limits: FetchLimits) -> Http {
        Http::new(Arc::new(HyperFetcher::http()), limits)
    }

    #[tokio::test]
    async fn errors_name_the_url_and_the_limit() {
        let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n".to_vec();
        answer.extend_from_slice(&[b'x'; 5000]);
        let url = serve_once(answer).await;
        let limits = FetchLimits {
            max_body: 1000,
            ..FetchLimits::default()
        };
        let err = http(limits)
            .send(get_json(&url, &[]).unwrap())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            HttpClientError::TooLarge {
                url: url.clone(),
                limit: 1000
            }
        );

        let url = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc".to_vec()).await;
        let limits = FetchLimits {
            timeout: Duration::from_millis(300),
            ..FetchLimits::default()
        };
        let err = http(limits)
            .send(get_json(&url, &[]).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpClientError::Timeout { .. }), "{err}");
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let url = serve_once(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
        )
        .await;
        let answer = http(FetchLimits::default())
            .send(get_json(&url, &[]).unwrap())
            .await
            .unwrap();
        assert_eq!(answer.status(), 302);
        assert_eq!(answer.headers()["location"], "http://127.0.0.1:9/elsewhere");
    }
}
