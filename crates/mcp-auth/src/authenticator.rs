//! The authenticator seam: credentials in, principal out.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::AuthError;
use crate::principal::Principal;

/// A boxed future, as [`Authenticator::authenticate`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an authenticator may look at: the request's headers and URI, and the peer address.
/// Never the body: credentials do not travel in tool arguments.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The request's headers.
    pub headers: &'a http::HeaderMap,
    /// The request's URI (for authenticators that refuse credentials in the query string).
    pub uri: &'a http::Uri,
    /// The peer's address, when the transport knows it.
    pub peer: Option<SocketAddr>,
}

impl<'a> AuthRequest<'a> {
    /// A request with these headers, the URI `/` and no peer address.
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        static ROOT: std::sync::OnceLock<http::Uri> = std::sync::OnceLock::new();
        Self {
            headers,
            uri: ROOT.get_or_init(|| http::Uri::from_static("/")),
            peer: None,
        }
    }
}

/// Turns a request's credentials into a [`Principal`].
///
/// Return [`AuthError::MissingCredentials`] when the request carries nothing this
/// authenticator understands (a chain then tries the next one), and another error when it
/// carries credentials that fail.
pub trait Authenticator: Send + Sync + std::fmt::Debug + 'static {
    /// Checks the request's credentials.
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>>;
}

impl<T: Authenticator + ?Sized> Authenticator for Arc<T> {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        (**self).authenticate(request)
    }
}
