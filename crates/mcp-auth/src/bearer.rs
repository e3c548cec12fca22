//! Static bearer tokens: opaque secrets configured on the server, each naming a principal.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::{
    DEFAULT_MAX_CREDENTIAL_LEN, authorization_credential, refuse_query_credentials,
};
use crate::error::{AuthError, ConfigError};
use crate::principal::{AuthMethod, Principal};
use crate::roles::{Roles, with_roles};
use crate::secret_table::SecretTable;

/// One static token as a configuration file holds it: its SHA-256 digest, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BearerTokenConfig {
    /// The principal id the token authenticates as.
    pub id: String,
    /// The token's SHA-256 digest, 64 hex digits (see [`sha256_hex`](crate::sha256_hex)).
    pub sha256: String,
    /// Permission grants.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Roles (their grants come from the authenticator's [`Roles`] table).
    #[serde(default)]
    pub roles: Vec<String>,
}

impl BearerTokenConfig {
    /// An entry for the token with this digest.
    pub fn new(id: impl Into<String>, sha256: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            sha256: sha256.into(),
            permissions: Vec::new(),
            roles: Vec::new(),
        }
    }
}

/// Authenticates `Authorization: Bearer <token>` against a fixed set of tokens.
///
/// Every bearer token is this authenticator's business: one it does not know is
/// [`AuthError::InvalidCredentials`]. In a chain with a JWT authenticator, put the JWT one
/// first: it passes on bearer tokens that are not JWTs.
///
/// ```
/// use mcp_auth::{AuthMethod, AuthRequest, Authenticator, BearerTokenAuthenticator, Principal};
///
/// let tokens = BearerTokenAuthenticator::new()
///     .token("t0k3n-for-the-dashboard", Principal::new("dashboard", AuthMethod::Bearer)
///         .with_permissions(["resources.read"]))
///     .unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "Bearer t0k3n-for-the-dashboard".parse().unwrap());
/// let who = tokio::runtime::Builder::new_current_thread().build().unwrap()
///     .block_on(tokens.authenticate(AuthRequest::from_headers(&headers))).unwrap();
/// assert_eq!(who.id, "dashboard");
/// ```
#[derive(Clone)]
pub struct BearerTokenAuthenticator {
    tokens: SecretTable<Arc<Principal>>,
    max_len: usize,
    roles: Option<Arc<Roles>>,
}

impl fmt::Debug for BearerTokenAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokenAuthenticator")
            .field("tokens", &self.tokens.len())
            .field("max_len", &self.max_len)
            .finish_non_exhaustive()
    }
}

impl Default for BearerTokenAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl BearerTokenAuthenticator {
    /// No tokens yet.
    pub fn new() -> Self {
        Self {
            tokens: SecretTable::default(),
            max_len: DEFAULT_MAX_CREDENTIAL_LEN,
            roles: None,
        }
    }

    /// Authenticators for configured tokens (digests only).
    pub fn from_config(
        entries: impl IntoIterator<Item = BearerTokenConfig>,
    ) -> Result<Self, ConfigError> {
        entries.into_iter().try_fold(Self::new(), |tokens, entry| {
            let principal = Principal::new(entry.id, AuthMethod::Bearer)
                .with_permissions(entry.permissions)
                .with_roles(entry.roles);
            tokens.hashed_token(&entry.sha256, principal)
        })
    }

    /// Adds a plaintext token (at least 16 bytes of visible ASCII). The principal's method
    /// becomes [`AuthMethod::Bearer`].
    pub fn token(mut self, token: &str, principal: Principal) -> Result<Self, ConfigError> {
        self.tokens
            .insert_plain(token, Arc::new(as_bearer(principal)))?;
        Ok(self)
    }

    /// Adds a token by its SHA-256 digest.
    pub fn hashed_token(
        mut self,
        sha256_hex: &str,
        principal: Principal,
    ) -> Result<Self, ConfigError> {
        self.tokens
            .insert_hex(sha256_hex, Arc::new(as_bearer(principal)))?;
        Ok(self)
    }

    /// The largest token accepted, in bytes (default 8 KiB).
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Adds the grants of each token's roles from this table.
    pub fn roles(mut self, roles: Arc<Roles>) -> Self {
        self.roles = Some(roles);
        self
    }

    fn check(&self, request: AuthRequest<'_>) -> Result<Arc<Principal>, AuthError> {
        refuse_query_credentials(request.uri)?;
        let token = authorization_credential(request.headers, "Bearer", self.max_len)?
            .ok_or(AuthError::MissingCredentials)?;
        let principal = self
            .tokens
            .get(token)
            .ok_or_else(|| AuthError::invalid("unknown bearer token"))?;
        Ok(with_roles(principal, self.roles.as_deref()))
    }
}

fn as_bearer(mut principal: Principal) -> Principal {
    principal.method = AuthMethod::Bearer;
    principal
}

impl Authenticator for BearerTokenAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        let result = self.check(request);
        Box::pin(async move { result })
    }
}
