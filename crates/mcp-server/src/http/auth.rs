//! Authentication on the HTTP endpoint: every request's credentials checked by the configured
//! authenticator, the OAuth 2.1 resource-server answers (401 and 403 challenges, RFC 9728
//! metadata), and the status and headers of refusals made by the layers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use mcp_auth::oauth::resource_server::{
    BearerChallenge, BearerError, MetadataLocations, ProtectedResourceMetadata,
};
use mcp_auth::{AuthError, AuthRequest, Authenticator};
use mcp_protocol::error::ErrorObject;
use mcp_protocol::jsonrpc::ErrorResponse;
use serde::Deserialize;

use crate::middleware::{Refusal, code};
use crate::request::Authentication;

/// How the endpoint authenticates requests: an [`Authenticator`] for every request (its
/// headers; never the body), and for OAuth the protected-resource metadata that tells clients
/// where to get a token.
///
/// ```
/// use std::sync::Arc;
/// use mcp_server::http::{HttpAuth, HttpOptions};
/// use mcp_server::mcp_auth::{ApiKeyAuthenticator, AuthMethod, Principal};
///
/// let keys = ApiKeyAuthenticator::new()
///     .key("k7Qx9mP2vL8nR4tW6yZ1aB3cD5eF0gHj", Principal::new("ci", AuthMethod::ApiKey).with_permissions(["tools.*"]))
///     .unwrap();
/// let options = HttpOptions {
///     auth: Some(HttpAuth::new(Arc::new(keys))),
///     ..HttpOptions::default()
/// };
/// # drop(options);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpAuth {
    /// Checks each request's credentials.
    pub authenticator: Arc<dyn Authenticator>,
    /// The RFC 9728 protected-resource metadata: served at both well-known locations derived
    /// from its `resource` (path-inserted and root), and named in every 401 challenge
    /// (`resource_metadata`). `None` for credentials that need no discovery (API keys,
    /// Basic).
    pub metadata: Option<ProtectedResourceMetadata>,
    /// The scopes a 401 challenge names (default: the metadata's `scopes_supported`).
    pub challenge_scopes: Option<Vec<String>>,
    /// Requests without credentials pass unauthenticated, for an
    /// [`AuthLayer`](crate::middleware::AuthLayer) to refuse or to give the anonymous
    /// principal (default `false`: 401 at once).
    pub allow_anonymous: bool,
}

impl HttpAuth {
    /// Authenticates every request with `authenticator`; no metadata.
    pub fn new(authenticator: Arc<dyn Authenticator>) -> Self {
        Self {
            authenticator,
            metadata: None,
            challenge_scopes: None,
            allow_anonymous: false,
        }
    }

    /// An OAuth 2.1 resource server: tokens checked by `authenticator` (configure its audience
    /// as the canonical URI in `metadata.resource`), `metadata` served at the well-known
    /// locations and named in challenges.
    pub fn oauth(
        authenticator: Arc<dyn Authenticator>,
        metadata: ProtectedResourceMetadata,
    ) -> Self {
        Self {
            metadata: Some(metadata),
            ..Self::new(authenticator)
        }
    }

    /// Lets requests without credentials through unauthenticated.
    #[must_use]
    pub fn allow_anonymous(mut self) -> Self {
        self.allow_anonymous = true;
        self
    }

    /// The scopes a 401 challenge names.
    #[must_use]
    pub fn challenge_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.challenge_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }
}

/// What the endpoint keeps of [`HttpAuth`], worked out once.
#[derive(Debug)]
pub(crate) struct AuthState {
    pub(crate) auth: Option<HttpAuth>,
    /// Where the metadata lives, when there is metadata.
    pub(crate) locations: Option<MetadataLocations>,
    /// The metadata document, serialized once.
    pub(crate) metadata_json: Option<bytes::Bytes>,
    scopes: Vec<String>,
}

impl AuthState {
    pub(crate) fn new(auth: Option<HttpAuth>) -> Self {
        let metadata = auth.as_ref().and_then(|a| a.metadata.as_ref());
        let locations = metadata.and_then(|m| match MetadataLocations::for_resource(&m.resource) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(error = %e, resource = %m.resource, "the protected-resource metadata's resource is not a URL: it is not served");
                None
            }
        });
        let metadata_json = metadata
            .and_then(|m| serde_json::to_vec(m).ok())
            .map(bytes::Bytes::from);
        let scopes = auth
            .as_ref()
            .and_then(|a| a.challenge_scopes.clone())
            .or_else(|| metadata.map(|m| m.scopes_supported.clone()))
            .unwrap_or_default();
        Self {
            auth,
            locations,
            metadata_json,
            scopes,
        }
    }

    /// Whether an authenticator is configured.
    pub(crate) fn enabled(&self) -> bool {
        self.auth.is_some()
    }

    /// Checks a request's credentials: who calls, or the refusal to answer with.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        peer: Option<std::net::SocketAddr>,
    ) -> Result<Authentication, Refusal> {
        let Some(auth) = &self.auth else {
            return Ok(Authentication::None);
        };
        let request = AuthRequest { headers, uri, peer };
        match auth.authenticator.authenticate(request).await {
            Ok(principal) => Ok(Authentication::Principal(principal)),
            Err(AuthError::MissingCredentials) if auth.allow_anonymous => Ok(Authentication::None),
            Err(error) => {
                tracing::debug!(%error, "request refused by the authenticator");
                Err(Refusal::from(error))
            }
        }
    }

    /// The challenge for a 401: where the metadata is and which scopes to ask for;
    /// `invalid_token` when the request presented credentials.
    fn unauthorized_challenge(
        &self,
        headers: &HeaderMap,
        error: Option<&AuthError>,
    ) -> BearerChallenge {
        let mut challenge = BearerChallenge::new().scopes(self.scopes.iter().cloned());
        if let Some(locations) = &self.locations {
            challenge = challenge.resource_metadata(&locations.path_inserted);
        }
        let presented = headers.contains_key(AUTHORIZATION)
            || headers.contains_key(mcp_auth::API_KEY_HEADER)
            || matches!(
                error,
                Some(AuthError::InvalidCredentials(_) | AuthError::Expired)
            );
        if presented {
            challenge = challenge.error(BearerError::InvalidToken);
            if let Some(e) = error {
                challenge = challenge.description(&e.public_message());
            }
        }
        challenge
    }

    /// The 403 challenge naming every scope needed.
    fn forbidden_challenge(&self, scopes: &[String]) -> BearerChallenge {
        let mut challenge = BearerChallenge::new()
            .error(BearerError::InsufficientScope)
            .scopes(scopes.iter().cloned());
        if let Some(locations) = &self.locations {
            challenge = challenge.resource_metadata(&locations.path_inserted);
        }
        challenge
    }

    /// The HTTP answer to a refusal: its status, a JSON-RPC error body, and
    /// `WWW-Authenticate` or `Retry-After` as the status asks.
    pub(crate) fn refusal_response(&self, refusal: &Refusal, headers: &HeaderMap) -> Response {
        let body = ErrorResponse::new(None, refusal.to_error_object());
        let mut response = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
        *response.status_mut() =
            StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::FORBIDDEN);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let scopes = match refusal {
            Refusal::Forbidden { scopes, .. } => scopes.clone(),
            _ => Vec::new(),
        };
        let error = match refusal {
            Refusal::Unauthenticated(e) => Some(e),
            _ => None,
        };
        self.decorate(
            &mut response,
            refusal.code(),
            refusal.retry_after().map(|d| d.as_secs().max(1)),
            &scopes,
            error,
            headers,
        );
        response
    }

    /// Adds the headers a refusal's status asks for.
    fn decorate(
        &self,
        response: &mut Response,
        code: i64,
        retry_after_secs: Option<u64>,
        scopes: &[String],
        error: Option<&AuthError>,
        request_headers: &HeaderMap,
    ) {
        let challenge = match code {
            code::UNAUTHENTICATED => Some(self.unauthorized_challenge(request_headers, error)),
            // A refusal for missing scopes is an OAuth matter only when the endpoint
            // authenticates; permissions from elsewhere get a plain 403.
            code::FORBIDDEN if self.enabled() => Some(self.forbidden_challenge(scopes)),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, challenge.to_header_value());
        }
        if let Some(secs) = retry_after_secs
            && matches!(code, code::RATE_LIMITED | code::UNAVAILABLE)
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(RETRY_AFTER, v);
        }
    }

    /// The status and headers of a JSON reply that is a refusal by a layer (401, 403, 429,
    /// 503, 504); `None` for every other reply.
    pub(crate) fn reply_status(
        &self,
        reply: &[u8],
        request_headers: &HeaderMap,
    ) -> Option<(StatusCode, HeaderMap)> {
        #[derive(Deserialize)]
        struct ReplyProbe {
            error: Option<ErrorObject>,
        }
        // Only error replies get here in practice: a result has no refusal code to find.
        let error = serde_json::from_slice::<ReplyProbe>(reply).ok()?.error?;
        let refusal = Refusal::from_error_object(&error)?;
        let status = StatusCode::from_u16(refusal.http_status()).ok()?;
        let mut response = Response::new(Body::empty());
        let scopes = match &refusal {
            Refusal::Forbidden { scopes, .. } => scopes.clone(),
            _ => Vec::new(),
        };
        let retry = error
            .data
            .as_ref()
            .and_then(|d| d.get("retryAfterSecs"))
            .and_then(serde_json::Value::as_u64);
        self.decorate(
            &mut response,
            error.code,
            retry,
            &scopes,
            None,
            request_headers,
        );
        Some((status, std::mem::take(response.headers_mut())))
    }
}

/// Whether a serialized reply is an error (so may be a refusal): the first of `"result":` and
/// `"error":` in it decides. Neither can occur unescaped inside the id before it, and a result
/// is told apart after a few bytes, so large results are not scanned.
pub(crate) fn may_be_refusal(reply: &[u8]) -> bool {
    for i in 0..reply.len() {
        let rest = &reply[i..];
        if rest.starts_with(b"\"result\":") {
            return false;
        }
        if rest.starts_with(b"\"error\":") {
            return true;
        }
    }
    false
}

/// The owner a legacy session is bound to: the principal that opened it (its authentication
/// method and id). A request of another principal does not find the session.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    method: mcp_auth::AuthMethod,
    id: Box<str>,
}

impl Owner {
    /// The owner of a session `authentication` opens (`None`: nobody authenticated).
    pub(crate) fn of(authentication: &Authentication) -> Option<Self> {
        match authentication {
            Authentication::Principal(p) => Some(Self {
                method: p.method,
                id: p.id.as_str().into(),
            }),
            _ => None,
        }
    }

    /// Whether a request made as `authentication` may use what `owner` opened; compares in
    /// place, since it runs on every request of a session.
    pub(crate) fn admits(owner: Option<&Self>, authentication: &Authentication) -> bool {
        match (owner, authentication) {
            (Some(owner), Authentication::Principal(p)) => {
                owner.method == p.method && *owner.id == *p.id
            }
            (None, Authentication::Principal(_)) | (Some(_), _) => false,
            (None, _) => true,
        }
    }
}
