//! API keys: long random secrets, each naming a principal with its permissions and roles.

use std::fmt;
use std::sync::Arc;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::{authorization_credential, header_credential, refuse_query_credentials};
use crate::error::{AuthError, ConfigError};
use crate::principal::{AuthMethod, Principal};
use crate::roles::{Roles, with_roles};
use crate::secret_table::SecretTable;

/// The header API keys travel in by default.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// One API key as a configuration file holds it: the key's SHA-256 digest, never the key.
///
/// ```
/// let entry: mcp_auth::ApiKeyConfig = serde_json::from_str(r#"{
///     "id": "ci-bot",
///     "sha256": "c4bbcb1fbec99d65bf59d85c8cb62ee2db963f0fe106f483d9afa73bd4e39a8a",
///     "permissions": ["tools.call.build"],
///     "roles": ["viewer"]
/// }"#).unwrap();
/// assert_eq!(entry.id, "ci-bot");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyConfig {
    /// The principal id the key authenticates as.
    pub id: String,
    /// The key's SHA-256 digest, 64 hex digits (see [`sha256_hex`](crate::sha256_hex)).
    pub sha256: String,
    /// Permission grants.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Roles (their grants come from the authenticator's [`Roles`] table).
    #[serde(default)]
    pub roles: Vec<String>,
}

impl ApiKeyConfig {
    /// An entry for the key with this digest.
    pub fn new(id: impl Into<String>, sha256: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            sha256: sha256.into(),
            permissions: Vec::new(),
            roles: Vec::new(),
        }
    }
}

/// Authenticates API keys.
///
/// Where the key is read (decided for every authenticator the same way, so a chain is
/// predictable):
/// - the `X-API-Key` header (another name with [`header`](Self::header));
/// - `Authorization: ApiKey <key>`;
/// - `Authorization: Bearer <key>` only after [`accept_bearer`](Self::accept_bearer): MCP
///   clients that know only bearer tokens can then send keys, but a bearer token that is not
///   a known key is refused, so put this authenticator after any JWT authenticator in a chain.
///
/// Keys are stored as SHA-256 digests (configured as plaintext or as digests) and found
/// without byte-by-byte comparison of secrets. A key that is presented but unknown is
/// [`AuthError::InvalidCredentials`]; no key at all is [`AuthError::MissingCredentials`].
/// A query string carrying `api_key=` or `access_token=` is refused.
///
/// ```
/// use mcp_auth::{ApiKeyAuthenticator, AuthMethod, AuthRequest, Authenticator, Principal};
///
/// # tokio_test_block_on(async {
/// let keys = ApiKeyAuthenticator::new()
///     .key("k-4f1c2a9d8e7b6a5c", Principal::new("ci", AuthMethod::ApiKey).with_permissions(["tools.*"]))
///     .unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-api-key", "k-4f1c2a9d8e7b6a5c".parse().unwrap());
/// let who = keys.authenticate(AuthRequest::from_headers(&headers)).await.unwrap();
/// assert_eq!(who.id, "ci");
/// assert!(who.allows("tools.call.build"));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct ApiKeyAuthenticator {
    keys: SecretTable<Arc<Principal>>,
    header: HeaderName,
    accept_bearer: bool,
    max_len: usize,
    roles: Option<Arc<Roles>>,
}

impl fmt::Debug for ApiKeyAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys or their digests.
        f.debug_struct("ApiKeyAuthenticator")
            .field("keys", &self.keys.len())
            .field("header", &self.header)
            .field("accept_bearer", &self.accept_bearer)
            .field("max_len", &self.max_len)
            .finish_non_exhaustive()
    }
}

impl Default for ApiKeyAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiKeyAuthenticator {
    /// No keys yet; keys in `X-API-Key` or `Authorization: ApiKey`.
    pub fn new() -> Self {
        Self {
            keys: SecretTable::default(),
            header: API_KEY_HEADER,
            accept_bearer: false,
            max_len: 1024,
            roles: None,
        }
    }

    /// Authenticators for configured keys (digests only).
    pub fn from_config(
        entries: impl IntoIterator<Item = ApiKeyConfig>,
    ) -> Result<Self, ConfigError> {
        entries.into_iter().try_fold(Self::new(), |keys, entry| {
            let principal = Principal::new(entry.id, AuthMethod::ApiKey)
                .with_permissions(entry.permissions)
                .with_roles(entry.roles);
            keys.hashed_key(&entry.sha256, principal)
        })
    }

    /// Adds a plaintext key (at least 16 bytes of visible ASCII; use random keys). The
    /// principal's method becomes [`AuthMethod::ApiKey`].
    pub fn key(mut self, key: &str, principal: Principal) -> Result<Self, ConfigError> {
        self.keys
            .insert_plain(key, Arc::new(as_api_key(principal)))?;
        Ok(self)
    }

    /// Adds a key by its SHA-256 digest (64 hex digits, see [`sha256_hex`](crate::sha256_hex)).
    pub fn hashed_key(
        mut self,
        sha256_hex: &str,
        principal: Principal,
    ) -> Result<Self, ConfigError> {
        self.keys
            .insert_hex(sha256_hex, Arc::new(as_api_key(principal)))?;
        Ok(self)
    }

    /// Reads keys from this header instead of `X-API-Key`.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }

    /// Also reads keys from `Authorization: Bearer` (default off).
    pub fn accept_bearer(mut self, accept: bool) -> Self {
        self.accept_bearer = accept;
        self
    }

    /// The largest key accepted, in bytes (default 1 KiB).
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Adds the grants of each key's roles from this table.
    pub fn roles(mut self, roles: Arc<Roles>) -> Self {
        self.roles = Some(roles);
        self
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.len() == 0
    }

    fn presented<'h>(&self, request: &AuthRequest<'h>) -> Result<Option<&'h str>, AuthError> {
        if let Some(key) = header_credential(request.headers, &self.header, self.max_len)? {
            return Ok(Some(key));
        }
        if let Some(key) = authorization_credential(request.headers, "ApiKey", self.max_len)? {
            return Ok(Some(key));
        }
        if self.accept_bearer {
            return authorization_credential(request.headers, "Bearer", self.max_len);
        }
        Ok(None)
    }

    fn check(&self, request: AuthRequest<'_>) -> Result<Arc<Principal>, AuthError> {
        refuse_query_credentials(request.uri)?;
        let Some(key) = self.presented(&request)? else {
            return Err(AuthError::MissingCredentials);
        };
        let principal = self
            .keys
            .get(key)
            .ok_or_else(|| AuthError::invalid("unknown API key"))?;
        Ok(with_roles(principal, self.roles.as_deref()))
    }
}

fn as_api_key(mut principal: Principal) -> Principal {
    principal.method = AuthMethod::ApiKey;
    principal
}

impl Authenticator for ApiKeyAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        let result = self.check(request);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret_table::sha256_hex;

    const KEY: &str = "mcp_live_9f8e7d6c5b4a3210";

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn request(headers: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn auth() -> ApiKeyAuthenticator {
        ApiKeyAuthenticator::from_config([ApiKeyConfig {
            id: "ops".into(),
            sha256: sha256_hex(KEY),
            permissions: vec!["tools.call.restart".into()],
            roles: vec!["viewer".into()],
        }])
        .unwrap()
        .roles(Arc::new(Roles::new().role("viewer", ["resources.read"])))
    }

    #[test]
    fn every_accepted_place_and_the_refusals() {
        let a = auth();
        for headers in [
            request(&[("x-api-key", KEY)]),
            request(&[("authorization", &format!("ApiKey {KEY}"))]),
            request(&[("authorization", &format!("apikey {KEY}"))]),
        ] {
            let p = run(a.authenticate(AuthRequest::from_headers(&headers))).unwrap();
            assert_eq!(p.id, "ops");
            assert_eq!(p.method, AuthMethod::ApiKey);
            assert!(p.allows("tools.call.restart"));
            assert!(p.allows("resources.read.x"), "role grants applied");
        }
        let bearer = request(&[("authorization", &format!("Bearer {KEY}"))]);
        assert_eq!(
            run(a.authenticate(AuthRequest::from_headers(&bearer))),
            Err(AuthError::MissingCredentials)
        );
        let a = a.accept_bearer(true);
        assert!(run(a.authenticate(AuthRequest::from_headers(&bearer))).is_ok());

        let wrong = request(&[("x-api-key", "mcp_live_9f8e7d6c5b4a3211")]);
        assert!(matches!(
            run(a.authenticate(AuthRequest::from_headers(&wrong))),
            Err(AuthError::InvalidCredentials(_))
        ));
        let none = request(&[]);
        assert_eq!(
            run(a.authenticate(AuthRequest::from_headers(&none))),
            Err(AuthError::MissingCredentials)
        );
        let good = request(&[("x-api-key", KEY)]);
        let uri: http::Uri = "/mcp?api_key=x".parse().unwrap();
        let req = AuthRequest {
            headers: &good,
            uri: &uri,
            peer: None,
        };
        assert!(matches!(
            run(a.authenticate(req)),
            Err(AuthError::InvalidCredentials(_))
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let a = ApiKeyAuthenticator::new()
            .key(KEY, Principal::new("x", AuthMethod::Bearer))
            .unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains(KEY));
        assert!(!shown.contains(&sha256_hex(KEY)));
    }
}
