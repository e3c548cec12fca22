//! Test keys, token builders (including the attacks) and a local HTTP server for JWKS and
//! introspection endpoints (feature `test-util`, for this crate's tests and the server's).
//!
//! The keys under `src/test_util/keys/` were generated for these tests only and are public:
//! never trust them anywhere else.
//!
//! ```
//! use mcp_auth::jwt::JwtAuthenticator;
//! use mcp_auth::test_util::{TestClaims, TestKey, tamper_signature, unsigned_token};
//!
//! let key = TestKey::rsa();
//! let jwt = JwtAuthenticator::builder()
//!     .key(key.verification_key())
//!     .issuer("https://issuer.test")
//!     .audience("https://mcp.test/mcp")
//!     .build()
//!     .unwrap();
//! let claims = TestClaims::new("https://issuer.test", "https://mcp.test/mcp", "alice").scope("tools.call");
//! let token = claims.sign(&key);
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! assert_eq!(rt.block_on(jwt.verify(&token)).unwrap().id, "alice");
//! assert!(rt.block_on(jwt.verify(&tamper_signature(&token))).is_err());
//! assert!(rt.block_on(jwt.verify(&unsigned_token(&claims))).is_err());
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Map, Value, json};

use crate::jwt::{Algorithm, JwtKey};

const RSA1_PRIVATE: &str = include_str!("keys/rsa1.pem");
const RSA1_PUBLIC: &str = include_str!("keys/rsa1.pub.pem");
const RSA2_PRIVATE: &str = include_str!("keys/rsa2.pem");
const RSA2_PUBLIC: &str = include_str!("keys/rsa2.pub.pem");
const EC256_PRIVATE: &str = include_str!("keys/ec256.pem");
const EC256_PUBLIC: &str = include_str!("keys/ec256.pub.pem");
const ED25519_PRIVATE: &str = include_str!("keys/ed25519.pem");
const ED25519_PUBLIC: &str = include_str!("keys/ed25519.pub.pem");
const HMAC_SECRET: &[u8] = b"test-only hmac secret, 32+ bytes long!";

/// A signing key for tests, with its verification side.
#[derive(Clone)]
pub struct TestKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    public_pem: Option<&'static str>,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TestKey {
    /// RSA-2048, RS256, kid `rsa-1`.
    pub fn rsa() -> Self {
        Self::pem("rsa-1", Algorithm::RS256, RSA1_PRIVATE, RSA1_PUBLIC)
    }

    /// A second RSA-2048 key, RS256, kid `rsa-2` (the key a rotation moves to).
    pub fn rsa_rotated() -> Self {
        Self::pem("rsa-2", Algorithm::RS256, RSA2_PRIVATE, RSA2_PUBLIC)
    }

    /// The first RSA key used with PS256, kid `rsa-1-pss`.
    pub fn rsa_pss() -> Self {
        Self::pem("rsa-1-pss", Algorithm::PS256, RSA1_PRIVATE, RSA1_PUBLIC)
    }

    /// P-256, ES256, kid `ec-1`.
    pub fn ec() -> Self {
        Self::pem("ec-1", Algorithm::ES256, EC256_PRIVATE, EC256_PUBLIC)
    }

    /// Ed25519, EdDSA, kid `ed-1`.
    pub fn ed25519() -> Self {
        Self::pem("ed-1", Algorithm::EdDSA, ED25519_PRIVATE, ED25519_PUBLIC)
    }

    /// An HMAC secret, HS256, kid `hs-1`.
    pub fn hmac() -> Self {
        Self {
            kid: "hs-1".to_owned(),
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(HMAC_SECRET),
            public_pem: None,
        }
    }

    fn pem(kid: &str, algorithm: Algorithm, private: &str, public: &'static str) -> Self {
        let encoding = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(private.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(private.as_bytes()),
            _ => EncodingKey::from_rsa_pem(private.as_bytes()),
        }
        .expect("the test keys parse");
        Self {
            kid: kid.to_owned(),
            algorithm,
            encoding,
            public_pem: Some(public),
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key in PEM (none for HMAC).
    pub fn public_pem(&self) -> Option<&'static str> {
        self.public_pem
    }

    /// The key a server verifies with, pinned to this key's algorithm and kid.
    pub fn verification_key(&self) -> JwtKey {
        let key = match (self.algorithm, self.public_pem) {
            (Algorithm::HS256, _) => JwtKey::hmac(HMAC_SECRET, self.algorithm),
            (Algorithm::ES256 | Algorithm::ES384, Some(pem)) => {
                JwtKey::ec_pem(pem.as_bytes(), self.algorithm)
            }
            (Algorithm::EdDSA, Some(pem)) => JwtKey::ed_pem(pem.as_bytes()),
            (_, Some(pem)) => JwtKey::rsa_pem(pem.as_bytes(), self.algorithm),
            (_, None) => unreachable!("only HMAC keys have no public PEM"),
        };
        key.expect("the test keys parse").with_kid(self.kid.clone())
    }

    /// The public JWK (with `kid`, `alg` and `use: sig`), as a JWKS endpoint lists it.
    pub fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.algorithm)
            .expect("the test keys convert to JWKs");
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).expect("a JWK serializes")
    }

    /// Signs claims with this key, `kid` in the header.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).expect("signing works")
    }
}

/// A JWKS document listing these keys.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// The current Unix time, in seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Claims for a test token: `iss`, `aud`, `sub`, `iat`, and `exp` an hour ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct TestClaims(Map<String, Value>);

impl TestClaims {
    /// Valid claims for this issuer, audience and subject.
    pub fn new(issuer: &str, audience: &str, subject: &str) -> Self {
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), issuer.into());
        claims.insert("aud".into(), audience.into());
        claims.insert("sub".into(), subject.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 3600).into());
        Self(claims)
    }

    /// Sets `scope` (space-separated).
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// Sets `exp` to now plus `secs` (negative: in the past).
    pub fn expires_in(self, secs: i64) -> Self {
        self.claim("exp", now() + secs)
    }

    /// Sets `nbf` to now plus `secs`.
    pub fn not_before_in(self, secs: i64) -> Self {
        self.claim("nbf", now() + secs)
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim.
    pub fn without(mut self, name: &str) -> Self {
        self.0.remove(name);
        self
    }

    /// The claims.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Signs them.
    pub fn sign(&self, key: &TestKey) -> String {
        key.sign(&self.0)
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Attack: an unsigned token (`"alg": "none"`, empty signature).
pub fn unsigned_token(claims: &TestClaims) -> String {
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(&serde_json::to_vec(&claims.0).expect("claims serialize"));
    format!("{header}.{payload}.")
}

/// Attack: a token signed with HS256 using the RSA (or EC) key's *public* PEM as the HMAC
/// secret, with the key's `kid`: the key confusion that fools verifiers taking the algorithm
/// from the token.
pub fn hmac_signed_with_public_key(claims: &TestClaims, key: &TestKey) -> String {
    let public = key.public_pem().expect("an asymmetric key");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid().to_owned());
    encode(
        &header,
        &claims.0,
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .expect("signing works")
}

/// Attack: the same token with one signature character changed.
pub fn tamper_signature(token: &str) -> String {
    let (rest, signature) = token.rsplit_once('.').expect("a JWT");
    let mut bytes = signature.as_bytes().to_vec();
    // Change a middle character (its bits are all significant, unlike the last one's).
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    format!("{rest}.{}", String::from_utf8(bytes).expect("ASCII"))
}

/// Attack: the token's payload replaced by other claims, the signature kept.
pub fn tamper_payload(token: &str, claims: &TestClaims) -> String {
    let mut parts = token.splitn(3, '.');
    let header = parts.next().expect("a JWT");
    let _ = parts.next();
    let signature = parts.next().expect("a JWT");
    let payload = b64(&serde_json::to_vec(&claims.0).expect("claims serialize"));
    format!("{header}.{payload}.{signature}")
}

/// A response handler for [`TestHttpServer`].
pub type Handler = Arc<dyn Fn(http::Request<Bytes>) -> http::Response<Bytes> + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1 that answers with a handler and counts requests. It stops
/// (and drops its connections) when dropped.
#[derive(Debug)]
pub struct TestHttpServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestHttpServer {
    /// Starts the server on an ephemeral port.
    pub async fn start(
        handler: impl Fn(http::Request<Bytes>) -> http::Response<Bytes> + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let handler: Handler = Arc::new(handler);
        let counter = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = Arc::clone(&handler);
                let counter = Arc::clone(&counter);
                connections.spawn(async move {
                    let service =
                        service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let handler = Arc::clone(&handler);
                            let counter = Arc::clone(&counter);
                            async move {
                                counter.fetch_add(1, Ordering::SeqCst);
                                let (parts, body) = request.into_parts();
                                let body = Limited::new(body, 1024 * 1024)
                                    .collect()
                                    .await
                                    .map(http_body_util::Collected::to_bytes)
                                    .unwrap_or_default();
                                let response = handler(http::Request::from_parts(parts, body));
                                Ok::<_, Infallible>(response.map(Full::new))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                // Reap finished connections so the set does not grow.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            addr,
            requests,
            task,
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests were answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A JWKS endpoint on 127.0.0.1 (`/jwks.json`) whose keys a test changes while it runs.
#[derive(Debug)]
pub struct JwksServer {
    server: TestHttpServer,
    document: Arc<Mutex<Value>>,
}

impl JwksServer {
    /// Starts serving these keys.
    pub async fn start(keys: &[&TestKey]) -> std::io::Result<Self> {
        let document = Arc::new(Mutex::new(jwks(keys)));
        let served = Arc::clone(&document);
        let server = TestHttpServer::start(move |request| {
            if request.uri().path() != "/jwks.json" {
                return http::Response::builder()
                    .status(404)
                    .body(Bytes::new())
                    .expect("a valid response");
            }
            let body = served
                .lock()
                .map(|d| serde_json::to_vec(&*d).unwrap_or_default())
                .unwrap_or_default();
            http::Response::builder()
                .header("content-type", "application/jwk-set+json")
                .body(Bytes::from(body))
                .expect("a valid response")
        })
        .await?;
        Ok(Self { server, document })
    }

    /// Serves these keys from now on (a rotation).
    pub fn set_keys(&self, keys: &[&TestKey]) {
        self.set_document(jwks(keys));
    }

    /// Serves this document from now on (for malformed sets).
    pub fn set_document(&self, document: Value) {
        if let Ok(mut current) = self.document.lock() {
            *current = document;
        }
    }

    /// The key set's URL.
    pub fn url(&self) -> String {
        self.server.url("/jwks.json")
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.server.requests()
    }
}
