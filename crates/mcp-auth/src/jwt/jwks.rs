//! Keys from a JWKS URL, cached in moka and refetched when a token names an unknown key.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::key::JwtKey;
use crate::error::{AuthError, ConfigError};
use crate::fetch::{FetchLimits, HttpFetch, is_loopback};

/// The most keys kept from one key set; a larger set is cut (and logged).
const MAX_KEYS: usize = 100;

/// A JWKS endpoint (the authorization server's `jwks_uri`) and its cached keys.
///
/// - The first token fetches the set; later tokens use the cache.
/// - A token naming a `kid` the cache does not hold triggers a refetch (key rotation), at most
///   once per [`min_refetch_interval`](JwksSourceBuilder::min_refetch_interval) however many
///   such tokens arrive, so random `kid`s cannot make the server hammer the authorization
///   server. Concurrent misses share one fetch.
/// - After [`refresh_interval`](JwksSourceBuilder::refresh_interval) the set is refetched on
///   the next token (same rate limit), so keys removed at the source stop verifying.
/// - If a refetch fails, the keys already held keep working until
///   [`max_key_age`](JwksSourceBuilder::max_key_age) after their last successful fetch;
///   with no keys at all, tokens are refused with [`AuthError::Unavailable`] (HTTP 503).
/// - Symmetric (`oct`) keys in the set are ignored, and every key is pinned to one algorithm
///   (see [`JwtKey::from_jwk`]).
///
/// Cheap to clone; clones share the cache.
///
/// ```no_run
/// use std::time::Duration;
/// use mcp_auth::jwt::{JwksSource, JwtAuthenticator};
///
/// let jwks = JwksSource::builder("https://auth.example.com/.well-known/jwks.json")
///     .min_refetch_interval(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// let jwt = JwtAuthenticator::builder()
///     .jwks(jwks)
///     .issuer("https://auth.example.com")
///     .audience("https://mcp.example.com/mcp")
///     .build()
///     .unwrap();
/// # drop(jwt);
/// ```
#[derive(Clone)]
pub struct JwksSource {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    uri: http::Uri,
    fetcher: Arc<dyn HttpFetch>,
    cache: moka::sync::Cache<String, Arc<KeySet>>,
    refresh_interval: Duration,
    min_refetch_interval: Duration,
    limits: FetchLimits,
    rsa_algorithm: Algorithm,
    // The time of the last fetch attempt; the lock also makes concurrent misses share a fetch.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

struct KeySet {
    keys: Vec<JwtKey>,
    fetched_at: Instant,
}

impl KeySet {
    fn find(&self, kid: Option<&str>) -> Option<&JwtKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid() == Some(kid)),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }
}

impl fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSource")
            .field("url", &self.inner.url)
            .field("refresh_interval", &self.inner.refresh_interval)
            .field("min_refetch_interval", &self.inner.min_refetch_interval)
            .field("fetches", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

/// Configures a [`JwksSource`].
#[derive(Debug)]
pub struct JwksSourceBuilder {
    url: String,
    fetcher: Option<Arc<dyn HttpFetch>>,
    refresh_interval: Duration,
    min_refetch_interval: Duration,
    max_key_age: Duration,
    limits: FetchLimits,
    rsa_algorithm: Algorithm,
    allow_insecure_http: bool,
}

impl JwksSource {
    /// A builder for the key set at `url` (`https://`, or `http://` on a loopback address).
    pub fn builder(url: impl Into<String>) -> JwksSourceBuilder {
        JwksSourceBuilder {
            url: url.into(),
            fetcher: None,
            refresh_interval: Duration::from_secs(10 * 60),
            min_refetch_interval: Duration::from_secs(30),
            max_key_age: Duration::from_secs(24 * 60 * 60),
            limits: FetchLimits {
                timeout: Duration::from_secs(10),
                max_body: 256 * 1024,
            },
            rsa_algorithm: Algorithm::RS256,
            allow_insecure_http: false,
        }
    }

    /// The key set's URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// How many fetches were attempted so far (for metrics and tests).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The key for a token's `kid` (`None`: the only key of a one-key set).
    pub async fn key(&self, kid: Option<&str>) -> Result<JwtKey, AuthError> {
        let inner = &*self.inner;
        let seen = inner.cache.get(&inner.url);
        if let Some(set) = &seen
            && set.fetched_at.elapsed() < inner.refresh_interval
            && let Some(key) = set.find(kid)
        {
            return Ok(key.clone());
        }

        let mut last_attempt = inner.last_attempt.lock().await;
        let current = inner.cache.get(&inner.url);
        // Another task refreshed while this one waited for the lock.
        let refreshed_meanwhile = match (&seen, &current) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, Some(_)) => true,
            _ => false,
        };
        if refreshed_meanwhile && let Some(key) = current.as_ref().and_then(|set| set.find(kid)) {
            return Ok(key.clone());
        }
        let may_fetch = last_attempt.is_none_or(|at| at.elapsed() >= inner.min_refetch_interval);
        let mut failure = None;
        if may_fetch {
            *last_attempt = Some(Instant::now());
            match self.fetch().await {
                Ok(set) => {
                    let set = Arc::new(set);
                    inner.cache.insert(inner.url.clone(), Arc::clone(&set));
                    return set.find(kid).cloned().ok_or_else(|| unknown_kid(kid));
                }
                Err(reason) => {
                    tracing::warn!(url = %inner.url, %reason, "JWKS fetch failed");
                    failure = Some(reason);
                }
            }
        }
        drop(last_attempt);
        match current {
            Some(set) => set.find(kid).cloned().ok_or_else(|| unknown_kid(kid)),
            None => Err(AuthError::Unavailable(match failure {
                Some(reason) => format!("JWKS {}: {reason}", inner.url),
                None => format!("JWKS {} not loaded yet; retry later", inner.url),
            })),
        }
    }

    /// Fetches the key set now, whatever the cache holds (for warming up at startup);
    /// answers how many usable keys it has. Counts as an attempt for the refetch rate limit.
    pub async fn refresh(&self) -> Result<usize, AuthError> {
        let inner = &*self.inner;
        let mut last_attempt = inner.last_attempt.lock().await;
        *last_attempt = Some(Instant::now());
        let set = self
            .fetch()
            .await
            .map_err(|reason| AuthError::Unavailable(format!("JWKS {}: {reason}", inner.url)))?;
        let count = set.keys.len();
        inner.cache.insert(inner.url.clone(), Arc::new(set));
        Ok(count)
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let inner = &*self.inner;
        inner.fetches.fetch_add(1, Ordering::Relaxed);
        let request = http::Request::get(inner.uri.clone())
            .header(
                http::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .body(Bytes::new())
            .map_err(|e| e.to_string())?;
        let response = inner
            .fetcher
            .fetch(request, inner.limits)
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("answered {}", response.status()));
        }
        let document: Value =
            serde_json::from_slice(response.body()).map_err(|e| format!("not JSON: {e}"))?;
        let Some(entries) = document.get("keys").and_then(Value::as_array) else {
            return Err("no \"keys\" array".to_owned());
        };
        if entries.len() > MAX_KEYS {
            tracing::warn!(url = %inner.url, count = entries.len(), "JWKS has too many keys; keeping the first {MAX_KEYS}");
        }
        let mut keys = Vec::new();
        for entry in entries.iter().take(MAX_KEYS) {
            let parsed = serde_json::from_value::<Jwk>(entry.clone())
                .map_err(|e| ConfigError::new(format!("JWK: {e}")))
                .and_then(|jwk| JwtKey::from_jwk(&jwk, inner.rsa_algorithm));
            match parsed {
                Ok(key) => keys.push(key),
                Err(e) => {
                    let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("-");
                    tracing::debug!(url = %inner.url, kid, reason = %e, "JWK skipped");
                }
            }
        }
        Ok(KeySet {
            keys,
            fetched_at: Instant::now(),
        })
    }
}

fn unknown_kid(kid: Option<&str>) -> AuthError {
    match kid {
        Some(_) => AuthError::invalid("unknown key id (kid)"),
        None => AuthError::invalid("token has no kid and the key set has several keys"),
    }
}

impl JwksSourceBuilder {
    /// Fetches through this client: for a private CA,
    /// [`HyperFetcher::https_with`](crate::fetch::HyperFetcher::https_with); for a proxy,
    /// [`HyperFetcher::with_connector`](crate::fetch::HyperFetcher::with_connector). Default:
    /// [`HyperFetcher::https`](crate::fetch::HyperFetcher::https).
    pub fn fetcher(mut self, fetcher: Arc<dyn HttpFetch>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// How old the cached set may get before the next token refetches it (default 10 min).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// The least time between two fetches (default 30 s). Keys rotated in faster than this
    /// are picked up on the first unknown `kid` after it.
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How long keys stay usable after their last successful fetch when refetches fail
    /// (default 24 h).
    pub fn max_key_age(mut self, age: Duration) -> Self {
        self.max_key_age = age;
        self
    }

    /// Deadline and body limit of a fetch (default 10 s, 256 KiB).
    pub fn limits(mut self, limits: FetchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The algorithm of RSA keys whose JWK names none (default RS256).
    pub fn rsa_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.rsa_algorithm = algorithm;
        self
    }

    /// Allows `http://` to hosts other than loopback. Keys fetched without TLS can be
    /// replaced by anyone on the path; only for networks you trust completely.
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// Checks the URL and builds the source.
    pub fn build(self) -> Result<JwksSource, ConfigError> {
        let uri: http::Uri = self
            .url
            .parse()
            .map_err(|e| ConfigError::new(format!("JWKS URL {:?}: {e}", self.url)))?;
        let host = uri
            .host()
            .ok_or_else(|| ConfigError::new("the JWKS URL must be absolute"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.allow_insecure_http || is_loopback(host) => {}
            Some("http") => {
                return Err(ConfigError::new(
                    "the JWKS URL must be https (http only on loopback or with allow_insecure_http)",
                ));
            }
            _ => return Err(ConfigError::new("the JWKS URL must be http(s)")),
        }
        let fetcher = self.fetcher.unwrap_or_else(crate::fetch::default_fetcher);
        Ok(JwksSource {
            inner: Arc::new(Inner {
                url: self.url,
                uri,
                fetcher,
                cache: moka::sync::Cache::builder()
                    .max_capacity(1)
                    .time_to_live(self.max_key_age)
                    .build(),
                refresh_interval: self.refresh_interval,
                min_refetch_interval: self.min_refetch_interval,
                limits: self.limits,
                rsa_algorithm: self.rsa_algorithm,
                last_attempt: tokio::sync::Mutex::new(None),
                fetches: AtomicU64::new(0),
            }),
        })
    }
}
