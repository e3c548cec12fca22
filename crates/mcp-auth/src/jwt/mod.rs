//! JSON Web Tokens: signed access tokens checked against pinned keys (feature `jwt`), with
//! keys from a JWKS URL (feature `jwks`).
//!
//! ```
//! use mcp_auth::jwt::{Algorithm, JwtAuthenticator, JwtKey};
//!
//! let jwt = JwtAuthenticator::builder()
//!     .key(JwtKey::hmac(b"a-secret-of-at-least-32-bytes!!!", Algorithm::HS256).unwrap())
//!     .issuer("https://auth.example.com")
//!     .audience("https://mcp.example.com/mcp")
//!     .build()
//!     .unwrap();
//! # drop(jwt);
//! ```
//!
//! What a token must pass, in order (the first failure refuses it):
//! 1. no credential in the query string; the token at most
//!    [`max_token_len`](JwtAuthenticatorBuilder::max_token_len) bytes;
//! 2. a header naming a known algorithm (`alg: none` is refused) and, when several keys are
//!    configured, a `kid` naming one of them (JWKS keys are refetched on an unknown `kid`,
//!    at most once per [`min_refetch_interval`](JwksSourceBuilder::min_refetch_interval));
//! 3. the header's `alg` equal to the key's pinned algorithm;
//! 4. the signature;
//! 5. `exp` present and not past, `nbf` not in the future (both with the leeway), `iss` equal
//!    to the configured issuer;
//! 6. an `aud` naming the configured audience (compared as canonical resource URIs, RFC 8707);
//! 7. a subject: `sub`, else `client_id`.
//!
//! Keys or URLs a token carries in its header (`jwk`, `jku`, `x5u`, `x5c`) are ignored: keys
//! come from configuration only.

mod key;

#[cfg(feature = "jwks")]
mod jwks;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::{Map, Value};

pub use jsonwebtoken::Algorithm;
#[cfg(feature = "jwks")]
pub use jwks::{JwksSource, JwksSourceBuilder};
pub use key::JwtKey;

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::{
    DEFAULT_MAX_CREDENTIAL_LEN, authorization_credential, refuse_query_credentials,
};
use crate::error::{AuthError, ConfigError};
use crate::oauth::resource_server::same_resource;
use crate::principal::{AuthMethod, Principal};
use crate::roles::Roles;
use crate::scope::{ScopeMap, names_from_claim, scopes_from_claims};

/// Authenticates `Authorization: Bearer <JWT>`.
///
/// Built with [`JwtAuthenticator::builder`]; see the [module docs](self) for every check.
/// The principal: id from `sub` (else `client_id`), scopes from `scope`/`scp`, roles from the
/// roles claim (default `roles`), permissions from the scopes through the [`ScopeMap`]
/// (identity by default) plus the roles' grants, and every claim in
/// [`Principal::claims`].
#[derive(Debug)]
pub struct JwtAuthenticator {
    keys: Vec<JwtKey>,
    #[cfg(feature = "jwks")]
    jwks: Option<JwksSource>,
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway_secs: u64,
    max_token_len: usize,
    scope_map: ScopeMap,
    roles: Option<Arc<Roles>>,
    roles_claim: Option<String>,
    permissions_claim: Option<String>,
    pass_non_jwt: bool,
    pass_other_issuers: bool,
    verified: Option<VerifiedCache>,
}

/// Principals of tokens that verified, by the token itself, until the token expires or the
/// cache's TTL ends, whichever comes first (each entry carries its own deadline, so a hit reads
/// the clock once, in moka).
///
/// Keyed by the whole token, hashed with a randomly seeded fast hash and compared in full: a
/// hit costs a hash and a comparison over the token (tens of nanoseconds for a 700-byte token,
/// where a SHA-256 of it took 0.4 µs). The tokens are kept for as long as their entries: at
/// most `ttl` (60 s by default) and never past their expiry.
struct VerifiedCache {
    entries: moka::sync::Cache<Box<str>, Verified, foldhash::quality::RandomState>,
    ttl: Duration,
}

/// A cached principal and when its entry ends.
type Verified = (Arc<Principal>, Instant);

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.entries.entry_count())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// An entry lives until the deadline stored with it.
struct UntilDeadline;

impl moka::Expiry<Box<str>, Verified> for UntilDeadline {
    fn expire_after_create(
        &self,
        _key: &Box<str>,
        value: &Verified,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.1.saturating_duration_since(created_at))
    }
}

impl VerifiedCache {
    fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilDeadline)
                .build_with_hasher(foldhash::quality::RandomState::default()),
            ttl,
        }
    }
}

/// What the checks that need no I/O found.
enum Lookup {
    /// A token verified earlier, and its principal.
    Hit(Arc<Principal>),
    /// A token to verify.
    Miss,
}

/// Configures a [`JwtAuthenticator`].
#[derive(Debug)]
pub struct JwtAuthenticatorBuilder {
    inner: JwtAuthenticator,
    any_audience: bool,
}

impl JwtAuthenticator {
    /// A builder: give it keys (or a JWKS source), an audience and, usually, an issuer.
    pub fn builder() -> JwtAuthenticatorBuilder {
        JwtAuthenticatorBuilder {
            inner: JwtAuthenticator {
                keys: Vec::new(),
                #[cfg(feature = "jwks")]
                jwks: None,
                issuer: None,
                audiences: Vec::new(),
                leeway_secs: 60,
                max_token_len: DEFAULT_MAX_CREDENTIAL_LEN,
                scope_map: ScopeMap::new(),
                roles: None,
                roles_claim: Some("roles".to_owned()),
                permissions_claim: None,
                pass_non_jwt: false,
                pass_other_issuers: false,
                verified: Some(VerifiedCache::new(10_000, Duration::from_secs(60))),
            },
            any_audience: false,
        }
    }

    /// Verifies a token (the value after `Bearer `) and builds its principal. The request
    /// checks (query string, header) are [`authenticate`](Authenticator::authenticate)'s; this
    /// is for tokens that arrive another way (a WebSocket subprotocol, a test).
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        match self.lookup(token)? {
            Lookup::Hit(principal) => Ok(principal),
            Lookup::Miss => self.verify_miss(token).await,
        }
    }

    /// The length limit and the verified-token cache; on a miss, the token's shape. A hit
    /// skips the shape check: the cache holds only tokens that passed every check.
    fn lookup(&self, token: &str) -> Result<Lookup, AuthError> {
        if token.len() > self.max_token_len {
            return Err(AuthError::invalid(format!(
                "token of {} bytes is over the {}-byte limit",
                token.len(),
                self.max_token_len
            )));
        }
        if let Some(cache) = &self.verified
            && let Some((principal, _)) = cache.entries.get(token)
        {
            return Ok(Lookup::Hit(principal));
        }
        if !looks_like_jwt(token) {
            return Err(if self.pass_non_jwt {
                AuthError::MissingCredentials
            } else {
                AuthError::invalid("bearer token is not a JWT")
            });
        }
        Ok(Lookup::Miss)
    }

    /// Verifies a token the cache did not hold, and caches its principal.
    async fn verify_miss(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        let principal = Arc::new(self.verify_uncached(token).await?);
        if let Some(cache) = &self.verified {
            let until = Instant::now() + cache.ttl.min(lifetime_left(&principal.claims));
            cache
                .entries
                .insert(token.into(), (Arc::clone(&principal), until));
        }
        Ok(principal)
    }

    async fn verify_uncached(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| header_error(token))?;
        if self.pass_other_issuers
            && let Some(issuer) = &self.issuer
            && unverified_issuer(token).as_deref() != Some(issuer.as_str())
        {
            return Err(AuthError::MissingCredentials);
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        if header.alg != key.algorithm() {
            return Err(AuthError::invalid(format!(
                "token algorithm {:?} does not match the key's {:?}",
                header.alg,
                key.algorithm()
            )));
        }
        let validation = self.validation(key.algorithm());
        let data = decode::<Map<String, Value>>(token, key.decoding_key(), &validation)
            .map_err(|e| map_jwt_error(e.kind()))?;
        let claims = data.claims;
        self.check_audience(&claims)?;
        self.principal(claims)
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<JwtKey, AuthError> {
        let candidate = match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid() == Some(kid)),
            None => {
                let without_kid: Vec<&JwtKey> =
                    self.keys.iter().filter(|k| k.kid().is_none()).collect();
                match (without_kid.as_slice(), self.keys.as_slice()) {
                    ([only], _) => Some(*only),
                    ([], [only]) => Some(only),
                    _ => None,
                }
            }
        };
        if let Some(key) = candidate {
            return Ok(key.clone());
        }
        #[cfg(feature = "jwks")]
        if let Some(jwks) = &self.jwks {
            return jwks.key(kid).await;
        }
        Err(match kid {
            Some(_) => AuthError::invalid("unknown key id (kid)"),
            None => AuthError::invalid("token has no kid and no single key fits"),
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // The audience is checked after decoding, as canonical resource URIs.
        validation.validate_aud = false;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        let presented = names_from_aud(claims.get("aud"));
        if presented.is_empty() {
            return Err(AuthError::invalid("token has no audience (aud)"));
        }
        let matches = presented
            .iter()
            .any(|aud| self.audiences.iter().any(|ours| same_resource(aud, ours)));
        if matches {
            Ok(())
        } else {
            Err(AuthError::invalid("token is for another audience"))
        }
    }

    fn principal(&self, claims: Map<String, Value>) -> Result<Principal, AuthError> {
        let id = ["sub", "client_id"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| AuthError::invalid("token has no subject (sub or client_id)"))?
            .to_owned();
        let scopes = scopes_from_claims(&claims);
        let mut principal = Principal::new(id, AuthMethod::Jwt);
        principal.permissions = self
            .scope_map
            .permissions(scopes.iter().map(String::as_str));
        principal.scopes = scopes;
        if let Some(name) = &self.permissions_claim {
            principal
                .permissions
                .extend(names_from_claim(claims.get(name)));
        }
        if let Some(name) = &self.roles_claim {
            principal.roles.extend(names_from_claim(claims.get(name)));
        }
        if let Some(roles) = &self.roles {
            roles.apply(&mut principal);
        }
        principal.claims = claims;
        Ok(principal)
    }
}

impl JwtAuthenticatorBuilder {
    /// Adds a key (several keys need distinct `kid`s).
    pub fn key(mut self, key: JwtKey) -> Self {
        self.inner.keys.push(key);
        self
    }

    /// Takes keys from a JWKS source as well (after the configured keys).
    #[cfg(feature = "jwks")]
    pub fn jwks(mut self, source: JwksSource) -> Self {
        self.inner.jwks = Some(source);
        self
    }

    /// The issuer tokens must name in `iss` (exact match; required when set).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.inner.issuer = Some(issuer.into());
        self
    }

    /// An audience tokens may name in `aud` (any one configured audience suffices). For an
    /// MCP server, its canonical resource URI: values are compared as canonical URIs.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.inner.audiences.push(audience.into());
        self
    }

    /// Accepts tokens whatever their audience. Only for tokens this server issued to itself:
    /// an OAuth resource server must check the audience (RFC 8707), or any token the
    /// authorization server minted for another service would be accepted here.
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Clock-skew allowance for `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.inner.leeway_secs = leeway.as_secs();
        self
    }

    /// The largest token accepted, in bytes (default 8 KiB).
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.inner.max_token_len = max;
        self
    }

    /// How scopes become permissions (default: identity).
    pub fn scope_map(mut self, map: ScopeMap) -> Self {
        self.inner.scope_map = map;
        self
    }

    /// Adds the grants of the token's roles from this table.
    pub fn roles(mut self, roles: Arc<Roles>) -> Self {
        self.inner.roles = Some(roles);
        self
    }

    /// The claim naming the principal's roles (default `roles`; `None` ignores roles).
    pub fn roles_claim(mut self, claim: Option<&str>) -> Self {
        self.inner.roles_claim = claim.map(str::to_owned);
        self
    }

    /// A claim whose values are granted as permissions directly (default none: grants come
    /// from scopes and roles). For tokens your own issuer mints with a `permissions` claim.
    pub fn permissions_claim(mut self, claim: Option<&str>) -> Self {
        self.inner.permissions_claim = claim.map(str::to_owned);
        self
    }

    /// Caches the principals of verified tokens (keyed by the token) for up to `ttl`, never
    /// past the token's `exp`, at most `capacity` of them (default: 10 000 for 60 s). A repeated
    /// token then costs a hash and a comparison instead of a signature check; the price is that
    /// a token signed by a key withdrawn from the JWKS keeps working for up to `ttl`, and that
    /// the cached tokens stay in memory as long (`no_verified_cache` if neither is acceptable).
    pub fn verified_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.inner.verified = Some(VerifiedCache::new(capacity, ttl));
        self
    }

    /// Verifies every token in full, every time.
    pub fn no_verified_cache(mut self) -> Self {
        self.inner.verified = None;
        self
    }

    /// Answers [`AuthError::MissingCredentials`] for bearer tokens that are not JWTs, so an
    /// [`AuthChain`](crate::AuthChain) goes on to an introspection or static-token
    /// authenticator (default: they are refused as invalid).
    pub fn pass_non_jwt_tokens(mut self, pass: bool) -> Self {
        self.inner.pass_non_jwt = pass;
        self
    }

    /// Answers [`AuthError::MissingCredentials`] for JWTs whose (unverified) `iss` is not this
    /// authenticator's issuer, so a chain of one JWT authenticator per issuer routes each
    /// token to its issuer's keys (default: such tokens are refused as invalid). Needs
    /// [`issuer`](Self::issuer).
    pub fn pass_other_issuers(mut self, pass: bool) -> Self {
        self.inner.pass_other_issuers = pass;
        self
    }

    /// Checks the configuration: at least one key or a JWKS source, an audience unless
    /// [`any_audience`](Self::any_audience), distinct key ids.
    pub fn build(self) -> Result<JwtAuthenticator, ConfigError> {
        let inner = self.inner;
        #[cfg(feature = "jwks")]
        let has_jwks = inner.jwks.is_some();
        #[cfg(not(feature = "jwks"))]
        let has_jwks = false;
        if inner.keys.is_empty() && !has_jwks {
            return Err(ConfigError::new("a JWT authenticator needs keys"));
        }
        if inner.audiences.is_empty() && !self.any_audience {
            return Err(ConfigError::new(
                "set the audience (the server's resource URI) or call any_audience()",
            ));
        }
        if inner.pass_other_issuers && inner.issuer.is_none() {
            return Err(ConfigError::new("pass_other_issuers needs an issuer"));
        }
        let mut kids: Vec<Option<&str>> = inner.keys.iter().map(JwtKey::kid).collect();
        kids.sort_unstable();
        if kids.windows(2).any(|w| w[0] == w[1]) {
            return Err(ConfigError::new("several keys share a kid (or have none)"));
        }
        Ok(inner)
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        // The checks and the cache run now; only a miss, which may fetch keys, is a future of
        // its own (it is large, and a hit should not pay for boxing it).
        let looked_up = refuse_query_credentials(request.uri)
            .and_then(|()| {
                authorization_credential(request.headers, "Bearer", self.max_token_len)?
                    .ok_or(AuthError::MissingCredentials)
            })
            .and_then(|token| Ok((token, self.lookup(token)?)));
        match looked_up {
            Ok((_, Lookup::Hit(principal))) => Box::pin(std::future::ready(Ok(principal))),
            Ok((token, Lookup::Miss)) => Box::pin(self.verify_miss(token)),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}

/// Three non-empty base64url segments.
fn looks_like_jwt(token: &str) -> bool {
    // One branch-free pass the compiler can vectorize (tokens are read on every request):
    // every byte base64url or a dot, exactly two dots, header and payload not empty. An empty
    // signature is how `alg: none` tokens end; the header check names it.
    let bytes = token.as_bytes();
    let (mut bad, mut dots) = (false, 0_usize);
    for &b in bytes {
        let class = JWT_BYTE[usize::from(b)];
        bad |= class == 0;
        dots += usize::from(class == 2);
    }
    if bad || dots != 2 {
        return false;
    }
    let first = bytes.iter().position(|&b| b == b'.').unwrap_or(0);
    let second = first
        + 1
        + bytes[first + 1..]
            .iter()
            .position(|&b| b == b'.')
            .unwrap_or(0);
    first > 0 && second > first + 1
}

/// Which bytes may appear in a compact JWT: 1 for the base64url alphabet, 2 for `.`, 0 for
/// anything else.
const JWT_BYTE: [u8; 256] = {
    let mut table = [0_u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            table[b] = 1;
        }
        b += 1;
    }
    table[b'.' as usize] = 2;
    table
};

/// Why a header did not decode; names `alg: none` for the logs.
fn header_error(token: &str) -> AuthError {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned));
    match alg {
        Some(alg) if alg.eq_ignore_ascii_case("none") => {
            AuthError::invalid("unsigned tokens (alg none) are refused")
        }
        Some(_) => AuthError::invalid("token names an unsupported algorithm"),
        None => AuthError::invalid("malformed token header"),
    }
}

fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Iss>(token)
        .ok()
        .and_then(|c| c.iss)
}

/// How long until the token's `exp` (zero when it has none, which verification refuses).
fn lifetime_left(claims: &Map<String, Value>) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    Duration::from_secs(exp.saturating_sub(now))
}

fn names_from_aud(aud: Option<&Value>) -> Vec<String> {
    match aud {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::invalid("token is not valid yet (nbf)"),
        ErrorKind::InvalidIssuer => AuthError::invalid("token is from another issuer"),
        ErrorKind::InvalidAudience => AuthError::invalid("token is for another audience"),
        ErrorKind::InvalidSignature => AuthError::invalid("signature does not verify"),
        ErrorKind::InvalidAlgorithm => AuthError::invalid("algorithm not allowed for this key"),
        ErrorKind::MissingRequiredClaim(claim) => {
            AuthError::invalid(format!("token has no {claim} claim"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            AuthError::invalid(format!("token claim {claim} is malformed"))
        }
        _ => AuthError::invalid("malformed token"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(looks_like_jwt("eyJh.eyJz."));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("opaque-token-value"));
        assert!(!looks_like_jwt("a+b.c.d"));
        assert!(!looks_like_jwt(".b.c"));
        assert!(!looks_like_jwt("a..c"), "an empty payload");
        assert!(!looks_like_jwt(".."));
        assert!(!looks_like_jwt(""));
        assert!(!looks_like_jwt("a.b.c "), "a space");
        assert!(!looks_like_jwt("a.b.c\u{e9}"), "beyond ASCII");
        let long = format!(
            "{}.{}.{}",
            "A".repeat(400),
            "b_-9".repeat(100),
            "Z".repeat(300)
        );
        assert!(looks_like_jwt(&long));
    }
}
