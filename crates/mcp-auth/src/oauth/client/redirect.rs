//! How the user's authorization comes back: a [`RedirectHandler`] shows (or follows) the
//! authorization URL and returns what the authorization server put on the redirect.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use oauth2::url::{Position, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::error::OAuthClientError;
use super::http::Http;
use crate::BoxFuture;
use crate::fetch::{FetchLimits, HttpFetch};

/// The parameters of the redirect back from the authorization endpoint.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` sent with the request.
    pub state: Option<String>,
    /// The issuer that answered (RFC 9207).
    pub iss: Option<String>,
    /// The error code of a refusal.
    pub error: Option<String>,
    /// The description of a refusal.
    pub error_description: Option<String>,
}

impl fmt::Debug for AuthorizationCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCallback")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("state", &self.state)
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl AuthorizationCallback {
    /// The parameters of a query string (`code=...&state=...`); the first of a repeated
    /// parameter counts.
    pub fn from_query(query: &str) -> Self {
        let mut callback = Self::default();
        for (name, value) in oauth2::url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        callback
    }
}

/// Takes the user through the authorization endpoint and brings back the redirect's
/// parameters.
pub trait RedirectHandler: Send + Sync + fmt::Debug {
    /// The redirect URI registered and sent with each authorization request; it must stay
    /// the same for the handler's lifetime.
    fn redirect_uri(&self) -> &str;

    /// Sends the user to `authorization_url` and returns the parameters of the redirect to
    /// [`redirect_uri`](Self::redirect_uri). The client checks them (`state`, `iss`); the
    /// handler only brings them back.
    fn authorize<'a>(
        &'a self,
        authorization_url: &'a str,
    ) -> BoxFuture<'a, Result<AuthorizationCallback, OAuthClientError>>;
}

/// The value of `name` in the query of `url`.
fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Follows the authorization URL with an HTTP GET and reads the redirect from its
/// `Location`, without a user: for authorization servers that approve at once (test
/// servers, such as the conformance suite's) and for machine flows that pre-approve a client.
#[derive(Debug)]
pub struct HeadlessRedirect {
    http: Http,
    redirect_uri: String,
}

impl HeadlessRedirect {
    /// Follows authorization URLs with `fetch` (within the default [`FetchLimits`]) and
    /// expects redirects to `redirect_uri`.
    pub fn new(fetch: Arc<dyn HttpFetch>, redirect_uri: impl Into<String>) -> Self {
        Self {
            http: Http::new(fetch, FetchLimits::default()),
            redirect_uri: redirect_uri.into(),
        }
    }

    async fn follow(
        &self,
        authorization_url: &str,
    ) -> Result<AuthorizationCallback, OAuthClientError> {
        let request = http::Request::builder()
            .method(http::Method::GET)
            .uri(authorization_url)
            .body(Vec::new())
            .map_err(|e| OAuthClientError::Redirect(format!("{authorization_url}: {e}")))?;
        let response = self.http.send(request).await?;
        if !response.status().is_redirection() {
            return Err(OAuthClientError::Redirect(format!(
                "the authorization endpoint answered {} instead of redirecting (a headless \
                 flow needs a server that approves without a user)",
                response.status()
            )));
        }
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OAuthClientError::Redirect("a redirect without Location".into()))?;
        let base = Url::parse(authorization_url)
            .map_err(|e| OAuthClientError::Redirect(format!("{authorization_url}: {e}")))?;
        let target = base
            .join(location)
            .map_err(|e| OAuthClientError::Redirect(format!("Location {location:?}: {e}")))?;
        let expected = Url::parse(&self.redirect_uri)
            .map_err(|e| OAuthClientError::Redirect(format!("{}: {e}", self.redirect_uri)))?;
        if target[..Position::AfterPath] != expected[..Position::AfterPath] {
            return Err(OAuthClientError::Redirect(format!(
                "the authorization endpoint redirected to {}, not to the redirect URI {}",
                &target[..Position::AfterPath],
                &expected[..Position::AfterPath]
            )));
        }
        Ok(AuthorizationCallback::from_query(
            target.query().unwrap_or(""),
        ))
    }
}

impl RedirectHandler for HeadlessRedirect {
    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorize<'a>(
        &'a self,
        authorization_url: &'a str,
    ) -> BoxFuture<'a, Result<AuthorizationCallback, OAuthClientError>> {
        Box::pin(self.follow(authorization_url))
    }
}

/// What a [`LoopbackRedirect`] does with the authorization URL: typically open a browser.
pub type OpenUrl = Arc<dyn Fn(&str) + Send + Sync>;

/// Receives the redirect on a listener of its own on 127.0.0.1, for command-line and
/// desktop applications (RFC 8252 section 7.3).
///
/// The listener is bound when the handler is created, on a free port unless one is given,
/// and stays bound for the handler's lifetime so that the redirect URI does not change. Each
/// authorization shows the URL through the [`OpenUrl`] callback (by default, a line on
/// standard error asking the user to open it) and waits, up to the timeout, for the browser
/// to come back with the request's `state`; stray requests are answered 400 and ignored.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use mcp_auth::oauth::client::LoopbackRedirect;
/// use std::time::Duration;
///
/// let redirect = LoopbackRedirect::bind(0).await?.with_timeout(Duration::from_secs(120));
/// println!("redirect URI: {}", mcp_auth::oauth::client::RedirectHandler::redirect_uri(&redirect));
/// # Ok(()) }
/// ```
pub struct LoopbackRedirect {
    listener: tokio::sync::Mutex<TcpListener>,
    redirect_uri: String,
    path: String,
    timeout: Duration,
    open: OpenUrl,
}

impl fmt::Debug for LoopbackRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackRedirect")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The most bytes of a browser's request head read before giving up on it.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl LoopbackRedirect {
    /// Binds 127.0.0.1 on `port` (0: a free port) with the path `/callback` and a five
    /// minute timeout.
    pub async fn bind(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let port = listener.local_addr()?.port();
        let path = "/callback".to_owned();
        Ok(Self {
            listener: tokio::sync::Mutex::new(listener),
            redirect_uri: format!("http://127.0.0.1:{port}{path}"),
            path,
            timeout: Duration::from_secs(300),
            open: Arc::new(|url: &str| {
                eprintln!("Open this URL in a browser to authorize: {url}");
            }),
        })
    }

    /// With this wait for the browser's redirect.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With this way of showing the authorization URL (for example, starting a browser).
    #[must_use]
    pub fn with_open(mut self, open: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.open = Arc::new(open);
        self
    }

    async fn wait(
        &self,
        authorization_url: &str,
    ) -> Result<AuthorizationCallback, OAuthClientError> {
        let url = Url::parse(authorization_url)
            .map_err(|e| OAuthClientError::Redirect(format!("{authorization_url}: {e}")))?;
        let expected_state = query_param(&url, "state");
        // One authorization at a time: two would take each other's redirects.
        let listener = self.listener.lock().await;
        (self.open)(authorization_url);
        let waiting = async {
            loop {
                let socket = match listener.accept().await {
                    Ok((socket, _)) => socket,
                    Err(e) => {
                        // Out of file descriptors and the like: back off rather than spin.
                        tracing::debug!(error = %e, "accepting a browser connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if let Some(callback) = self.answer(socket, expected_state.as_deref()).await {
                    return callback;
                }
            }
        };
        tokio::time::timeout(self.timeout, waiting)
            .await
            .map_err(|_| OAuthClientError::CallbackTimeout(self.timeout))
    }

    /// Reads one browser request; returns the callback if it is the one awaited.
    async fn answer(
        &self,
        mut socket: TcpStream,
        state: Option<&str>,
    ) -> Option<AuthorizationCallback> {
        let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut socket))
            .await
            .ok()
            .flatten()?;
        let target = head
            .lines()
            .next()
            .and_then(|line| {
                let mut parts = line.split(' ');
                (parts.next() == Some("GET"))
                    .then(|| parts.next())
                    .flatten()
            })
            .map(str::to_owned);
        let (path, query) = match target.as_deref().and_then(|t| t.split_once('?')) {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (target.unwrap_or_default(), String::new()),
        };
        let callback = AuthorizationCallback::from_query(&query);
        let ours = path == self.path && callback.state.as_deref() == state;
        let (status, text) = if !ours {
            (
                "400 Bad Request",
                "This is not the authorization response this application awaits.",
            )
        } else if callback.error.is_some() {
            (
                "200 OK",
                "Authorization was refused. You can close this window.",
            )
        } else {
            (
                "200 OK",
                "Authorization complete. You can close this window and return to the application.",
            )
        };
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>Authorization</title><p>{text}</p>\n"
        );
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tokio::time::timeout(READ_TIMEOUT, socket.write_all(response.as_bytes())).await;
        let _ = socket.shutdown().await;
        ours.then_some(callback)
    }
}

/// The request head, up to its blank line; `None` if the connection ends or sends too much.
async fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(head).ok();
        }
        if head.len() > MAX_REQUEST_HEAD {
            return None;
        }
    }
}

impl RedirectHandler for LoopbackRedirect {
    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorize<'a>(
        &'a self,
        authorization_url: &'a str,
    ) -> BoxFuture<'a, Result<AuthorizationCallback, OAuthClientError>> {
        Box::pin(self.wait(authorization_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_are_decoded_and_the_first_wins() {
        let c = AuthorizationCallback::from_query(
            "code=a%2Fb&state=s+1&iss=https%3A%2F%2Fas.example&code=other&x=y",
        );
        assert_eq!(c.code.as_deref(), Some("a/b"));
        assert_eq!(c.state.as_deref(), Some("s 1"));
        assert_eq!(c.iss.as_deref(), Some("https://as.example"));
        assert_eq!(c.error, None);
        assert!(
            !format!("{c:?}").contains("a/b"),
            "the code is not in Debug output"
        );
    }

    async fn get(addr: &str, target: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn the_loopback_listener_returns_the_redirect_with_the_request_state() {
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let tx = std::sync::Mutex::new(Some(tx));
        let redirect = LoopbackRedirect::bind(0)
            .await
            .unwrap()
            .with_open(move |url| {
                if let Some(tx) = tx.lock().unwrap().take() {
                    let _ = tx.send(url.to_owned());
                }
            });
        let uri = Url::parse(redirect.redirect_uri()).unwrap();
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        assert_eq!(uri.path(), "/callback");
        let addr = format!("127.0.0.1:{}", uri.port().unwrap());
        let browser = tokio::spawn(async move {
            let shown = rx.await.unwrap();
            assert_eq!(shown, "https://as.example/authorize?state=xyz");
            let stray = get(&addr, "/callback?code=evil&state=other").await;
            assert!(stray.starts_with("HTTP/1.1 400"), "{stray}");
            let wrong_path = get(&addr, "/favicon.ico").await;
            assert!(wrong_path.starts_with("HTTP/1.1 400"), "{wrong_path}");
            let ok = get(
                &addr,
                "/callback?code=c0de&state=xyz&iss=https%3A%2F%2Fas.example",
            )
            .await;
            assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        });
        let callback = redirect
            .authorize("https://as.example/authorize?state=xyz")
            .await
            .unwrap();
        browser.await.unwrap();
        assert_eq!(callback.code.as_deref(), Some("c0de"));
        assert_eq!(callback.iss.as_deref(), Some("https://as.example"));
    }

    #[tokio::test]
    async fn the_loopback_listener_gives_up_after_its_timeout() {
        let redirect = LoopbackRedirect::bind(0)
            .await
            .unwrap()
            .with_timeout(Duration::from_millis(200))
            .with_open(|_| {});
        let err = redirect
            .authorize("https://as.example/authorize?state=s")
            .await
            .unwrap_err();
        assert_eq!(
            err,
            OAuthClientError::CallbackTimeout(Duration::from_millis(200))
        );
    }
}
