//! RFC 7662 token introspection: opaque access tokens checked by asking the authorization
//! server (feature `introspection`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::{
    DEFAULT_MAX_CREDENTIAL_LEN, authorization_credential, refuse_query_credentials,
};
use crate::error::{AuthError, ConfigError};
use crate::fetch::{FetchLimits, HttpFetch, is_loopback};
use crate::oauth::resource_server::same_resource;
use crate::principal::{AuthMethod, Principal};
use crate::roles::Roles;
use crate::scope::{ScopeMap, names_from_claim, scopes_from_claims};

/// How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1
/// requires some authentication there).
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded client id and secret.
    Basic {
        /// The resource server's client id at the authorization server.
        client_id: String,
        /// Its secret.
        client_secret: String,
    },
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post {
        /// The resource server's client id at the authorization server.
        client_id: String,
        /// Its secret.
        client_secret: String,
    },
    /// A bearer token of the resource server's own.
    Bearer(String),
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id is not secret; the secret and tokens never show.
        match self {
            Self::Basic { client_id, .. } => f
                .debug_struct("Basic")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Post { client_id, .. } => f
                .debug_struct("Post")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// Authenticates `Authorization: Bearer <opaque token>` by POSTing it to the authorization
/// server's introspection endpoint.
///
/// - The answer must say `"active": true`; `exp` and `nbf` are checked again here (with the
///   leeway), `iss` against the configured issuer, and `aud` against the configured audience
///   (as canonical resource URIs), so a token the authorization server issued for another
///   service is refused even if it is active.
/// - Answers are cached by the token's SHA-256 (never the token) for at most
///   [`cache_ttl`](IntrospectionAuthenticatorBuilder::cache_ttl) and never past the token's
///   `exp`; inactive answers are cached too, so a replayed bad token does not reach the
///   authorization server each time. A revoked token may thus be accepted for up to the TTL:
///   keep it short.
/// - A failed call (timeout, 5xx, unreadable answer) is [`AuthError::Unavailable`] and is not
///   cached.
///
/// The principal: id from `sub`, else `username`, else `client_id`; scopes from `scope`;
/// permissions through the [`ScopeMap`] plus the roles' grants; every member of the answer
/// in [`Principal::claims`].
pub struct IntrospectionAuthenticator {
    endpoint: http::Uri,
    client_auth: ClientAuth,
    fetcher: Arc<dyn HttpFetch>,
    limits: FetchLimits,
    cache: moka::sync::Cache<[u8; 32], Arc<Cached>>,
    cache_ttl: Duration,
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway_secs: u64,
    max_token_len: usize,
    scope_map: ScopeMap,
    roles: Option<Arc<Roles>>,
    roles_claim: Option<String>,
}

impl fmt::Debug for IntrospectionAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionAuthenticator")
            .field("endpoint", &self.endpoint)
            .field("client_auth", &self.client_auth)
            .field("cached", &self.cache.entry_count())
            .field("cache_ttl", &self.cache_ttl)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

struct Cached {
    outcome: Result<Arc<Principal>, AuthError>,
    until: Instant,
}

/// Configures an [`IntrospectionAuthenticator`].
#[derive(Debug)]
pub struct IntrospectionAuthenticatorBuilder {
    endpoint: String,
    client_auth: ClientAuth,
    fetcher: Option<Arc<dyn HttpFetch>>,
    limits: FetchLimits,
    cache_ttl: Duration,
    cache_capacity: u64,
    issuer: Option<String>,
    audiences: Vec<String>,
    any_audience: bool,
    leeway_secs: u64,
    max_token_len: usize,
    scope_map: ScopeMap,
    roles: Option<Arc<Roles>>,
    roles_claim: Option<String>,
    allow_insecure_http: bool,
}

impl IntrospectionAuthenticator {
    /// A builder for the endpoint at `endpoint` (`https://`, or `http://` on loopback).
    pub fn builder(
        endpoint: impl Into<String>,
        client_auth: ClientAuth,
    ) -> IntrospectionAuthenticatorBuilder {
        IntrospectionAuthenticatorBuilder {
            endpoint: endpoint.into(),
            client_auth,
            fetcher: None,
            limits: FetchLimits {
                timeout: Duration::from_secs(5),
                max_body: 64 * 1024,
            },
            cache_ttl: Duration::from_secs(60),
            cache_capacity: 10_000,
            issuer: None,
            audiences: Vec::new(),
            any_audience: false,
            leeway_secs: 60,
            max_token_len: DEFAULT_MAX_CREDENTIAL_LEN,
            scope_map: ScopeMap::new(),
            roles: None,
            roles_claim: Some("roles".to_owned()),
            allow_insecure_http: false,
        }
    }

    /// Introspects a token (the value after `Bearer `), through the cache.
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        if token.len() > self.max_token_len {
            return Err(AuthError::invalid(format!(
                "token of {} bytes is over the {}-byte limit",
                token.len(),
                self.max_token_len
            )));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(cached) = self.cache.get(&digest) {
            if cached.until > Instant::now() {
                return cached.outcome.clone();
            }
            self.cache.invalidate(&digest);
        }
        let answer = self.introspect(token).await?;
        let (outcome, until) = self.judge(answer);
        let outcome = outcome.map(Arc::new);
        self.cache.insert(
            digest,
            Arc::new(Cached {
                outcome: outcome.clone(),
                until,
            }),
        );
        outcome
    }

    async fn introspect(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let mut form = format!("token={}&token_type_hint=access_token", form_encode(token));
        let mut request = http::Request::post(self.endpoint.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        match &self.client_auth {
            ClientAuth::Basic {
                client_id,
                client_secret,
            } => {
                // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
                let pair = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                request = request.header(http::header::AUTHORIZATION, format!("Basic {encoded}"));
            }
            ClientAuth::Post {
                client_id,
                client_secret,
            } => {
                form.push_str(&format!(
                    "&client_id={}&client_secret={}",
                    form_encode(client_id),
                    form_encode(client_secret)
                ));
            }
            ClientAuth::Bearer(bearer) => {
                request = request.header(http::header::AUTHORIZATION, format!("Bearer {bearer}"));
            }
        }
        let request = request
            .body(Bytes::from(form))
            .map_err(|e| AuthError::Unavailable(format!("introspection request: {e}")))?;
        let response = self
            .fetcher
            .fetch(request, self.limits)
            .await
            .map_err(|e| AuthError::Unavailable(format!("introspection: {e}")))?;
        if response.status() != http::StatusCode::OK {
            return Err(AuthError::Unavailable(format!(
                "introspection endpoint answered {}",
                response.status()
            )));
        }
        serde_json::from_slice::<Map<String, Value>>(response.body()).map_err(|e| {
            AuthError::Unavailable(format!("introspection answer is not a JSON object: {e}"))
        })
    }

    /// The outcome of an answer, and until when it may be reused.
    fn judge(&self, answer: Map<String, Value>) -> (Result<Principal, AuthError>, Instant) {
        let now = Instant::now();
        let ttl_end = now + self.cache_ttl;
        if answer.get("active") != Some(&Value::Bool(true)) {
            return (Err(AuthError::invalid("token is not active")), ttl_end);
        }
        let unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let exp = answer.get("exp").and_then(Value::as_u64);
        if let Some(exp) = exp
            && exp.saturating_add(self.leeway_secs) <= unix_now
        {
            return (Err(AuthError::Expired), ttl_end);
        }
        if let Some(nbf) = answer.get("nbf").and_then(Value::as_u64)
            && nbf > unix_now.saturating_add(self.leeway_secs)
        {
            // Not cached past now: it becomes valid later.
            return (Err(AuthError::invalid("token is not valid yet (nbf)")), now);
        }
        if let Some(issuer) = &self.issuer
            && answer.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return (
                Err(AuthError::invalid("token is from another issuer")),
                ttl_end,
            );
        }
        if !self.audiences.is_empty() {
            let presented = names_from_claim(answer.get("aud"));
            let matches = presented
                .iter()
                .any(|aud| self.audiences.iter().any(|ours| same_resource(aud, ours)));
            if !matches {
                return (
                    Err(AuthError::invalid("token is for another audience")),
                    ttl_end,
                );
            }
        }
        let Some(id) = ["sub", "username", "client_id"]
            .iter()
            .find_map(|name| answer.get(*name).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
        else {
            return (
                Err(AuthError::invalid("introspection answer names no subject")),
                ttl_end,
            );
        };
        let scopes = scopes_from_claims(&answer);
        let mut principal = Principal::new(id, AuthMethod::Introspection);
        principal.permissions = self
            .scope_map
            .permissions(scopes.iter().map(String::as_str));
        principal.scopes = scopes;
        if let Some(name) = &self.roles_claim {
            principal.roles.extend(names_from_claim(answer.get(name)));
        }
        if let Some(roles) = &self.roles {
            roles.apply(&mut principal);
        }
        principal.claims = answer;
        // Never reuse past the token's own expiry.
        let until = match exp {
            Some(exp) => {
                let left = Duration::from_secs(exp.saturating_sub(unix_now));
                ttl_end.min(now + left)
            }
            None => ttl_end,
        };
        (Ok(principal), until)
    }
}

impl Authenticator for IntrospectionAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        Box::pin(async move {
            refuse_query_credentials(request.uri)?;
            let token = authorization_credential(request.headers, "Bearer", self.max_token_len)?
                .ok_or(AuthError::MissingCredentials)?;
            self.verify(token).await
        })
    }
}

impl IntrospectionAuthenticatorBuilder {
    /// Fetches through this client: for a private CA,
    /// [`HyperFetcher::https_with`](crate::fetch::HyperFetcher::https_with); for a proxy,
    /// [`HyperFetcher::with_connector`](crate::fetch::HyperFetcher::with_connector). Default:
    /// [`HyperFetcher::https`](crate::fetch::HyperFetcher::https).
    pub fn fetcher(mut self, fetcher: Arc<dyn HttpFetch>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Deadline and body limit of a call (default 5 s, 64 KiB).
    pub fn limits(mut self, limits: FetchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The longest an answer is reused (default 60 s; never past the token's `exp`).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// The most answers cached (default 10 000).
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The issuer answers must name in `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An audience answers may name in `aud` (the server's resource URI).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts any audience (see [`JwtAuthenticatorBuilder::any_audience`](crate::jwt::JwtAuthenticatorBuilder::any_audience)
    /// for why this is rarely right).
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Clock-skew allowance for `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway_secs = leeway.as_secs();
        self
    }

    /// The largest token accepted, in bytes (default 8 KiB).
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// How scopes become permissions (default: identity).
    pub fn scope_map(mut self, map: ScopeMap) -> Self {
        self.scope_map = map;
        self
    }

    /// Adds the grants of the answer's roles from this table.
    pub fn roles(mut self, roles: Arc<Roles>) -> Self {
        self.roles = Some(roles);
        self
    }

    /// The member naming the principal's roles (default `roles`; `None` ignores roles).
    pub fn roles_claim(mut self, claim: Option<&str>) -> Self {
        self.roles_claim = claim.map(str::to_owned);
        self
    }

    /// Allows `http://` to hosts other than loopback (the token and the client secret then
    /// cross the network in the clear).
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// Checks the configuration and builds the authenticator.
    pub fn build(self) -> Result<IntrospectionAuthenticator, ConfigError> {
        let endpoint: http::Uri = self.endpoint.parse().map_err(|e| {
            ConfigError::new(format!("introspection endpoint {:?}: {e}", self.endpoint))
        })?;
        let host = endpoint
            .host()
            .ok_or_else(|| ConfigError::new("the introspection endpoint must be absolute"))?;
        match endpoint.scheme_str() {
            Some("https") => {}
            Some("http") if self.allow_insecure_http || is_loopback(host) => {}
            _ => {
                return Err(ConfigError::new(
                    "the introspection endpoint must be https (http only on loopback or with allow_insecure_http)",
                ));
            }
        }
        if self.audiences.is_empty() && !self.any_audience {
            return Err(ConfigError::new(
                "set the audience (the server's resource URI) or call any_audience()",
            ));
        }
        Ok(IntrospectionAuthenticator {
            endpoint,
            client_auth: self.client_auth,
            fetcher: self.fetcher.unwrap_or_else(crate::fetch::default_fetcher),
            limits: self.limits,
            cache: moka::sync::Cache::builder()
                .max_capacity(self.cache_capacity)
                .time_to_live(self.cache_ttl)
                .build(),
            cache_ttl: self.cache_ttl,
            issuer: self.issuer,
            audiences: self.audiences,
            leeway_secs: self.leeway_secs,
            max_token_len: self.max_token_len,
            scope_map: self.scope_map,
            roles: self.roles,
            roles_claim: self.roles_claim,
        })
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b+c/d=é"), "a+b%2Bc%2Fd%3D%C3%A9");
        assert_eq!(form_encode("AZaz09-._*"), "AZaz09-._*");
    }

    #[test]
    fn client_secrets_stay_out_of_debug() {
        let auth = ClientAuth::Basic {
            client_id: "rs".into(),
            client_secret: "hunter2-hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert!(!format!("{:?}", ClientAuth::Bearer("tok-secret".into())).contains("tok-secret"));
    }
}
