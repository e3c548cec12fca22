//! Keys from a JWKS endpoint served over real HTTP on 127.0.0.1: first fetch, rotation while
//! running, the refetch rate limit, and the endpoint misbehaving.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mcp_auth::fetch::FetchLimits;
use mcp_auth::jwt::{JwksSource, JwtAuthenticator};
use mcp_auth::test_util::{JwksServer, TestClaims, TestHttpServer, TestKey, jwks};
use mcp_auth::{AuthError, AuthErrorKind, Principal};

const ISSUER: &str = "https://issuer.test";
const RESOURCE: &str = "https://mcp.test/mcp";

/// A fresh token each call (a unique `jti`), so no test meets a cached verification by accident.
fn token(key: &TestKey, subject: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    TestClaims::new(ISSUER, RESOURCE, subject)
        .claim("jti", NEXT.fetch_add(1, Ordering::Relaxed))
        .sign(key)
}

fn authenticator(source: JwksSource) -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .jwks(source)
        .issuer(ISSUER)
        .audience(RESOURCE)
        .build()
        .unwrap()
}

async fn verify(auth: &JwtAuthenticator, token: &str) -> Result<Arc<Principal>, AuthError> {
    auth.verify(token).await
}

fn unknown_kid(outcome: Result<Arc<Principal>, AuthError>) -> bool {
    matches!(outcome, Err(AuthError::InvalidCredentials(ref r)) if r.contains("unknown key id"))
}

#[tokio::test]
async fn keys_are_fetched_once_then_cached() {
    let server = JwksServer::start(&[&TestKey::rsa(), &TestKey::ec(), &TestKey::ed25519()])
        .await
        .unwrap();
    let source = JwksSource::builder(server.url()).build().unwrap();
    let auth = authenticator(source.clone());
    for key in [TestKey::rsa(), TestKey::ec(), TestKey::ed25519()] {
        for _ in 0..3 {
            assert_eq!(
                verify(&auth, &token(&key, "alice")).await.unwrap().id,
                "alice"
            );
        }
    }
    assert_eq!(server.fetches(), 1);
    assert_eq!(source.fetch_count(), 1);
}

#[tokio::test]
async fn rotation_while_running_fetches_the_new_kid_and_drops_the_old() {
    let old = TestKey::rsa();
    let new = TestKey::rsa_rotated();
    let server = JwksServer::start(&[&old]).await.unwrap();
    let source = JwksSource::builder(server.url())
        .min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    let auth = authenticator(source);

    assert!(verify(&auth, &token(&old, "a")).await.is_ok());
    assert_eq!(server.fetches(), 1);

    // The authorization server rotates: the new key appears, the old one is withdrawn.
    server.set_keys(&[&new]);
    assert!(
        verify(&auth, &token(&new, "a")).await.is_ok(),
        "new kid fetched"
    );
    assert_eq!(server.fetches(), 2);
    assert!(verify(&auth, &token(&new, "a")).await.is_ok());
    assert_eq!(server.fetches(), 2, "and cached");

    // A token signed with the withdrawn key: unknown kid, one refetch, still unknown.
    assert!(
        unknown_kid(verify(&auth, &token(&old, "a")).await),
        "old kid dropped"
    );
    assert_eq!(server.fetches(), 3);
}

#[tokio::test]
async fn refetches_on_unknown_kids_are_rate_limited() {
    let known = TestKey::rsa();
    let server = JwksServer::start(&[&known]).await.unwrap();
    let source = JwksSource::builder(server.url())
        .min_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let auth = authenticator(source);
    assert!(verify(&auth, &token(&known, "a")).await.is_ok());

    // An attacker sprays tokens with made-up kids: none reaches the JWKS endpoint again.
    let stranger = TestKey::rsa_rotated();
    for i in 0..50 {
        let mut claims = TestClaims::new(ISSUER, RESOURCE, "m").claim("n", i);
        claims = claims.claim("jti", format!("spray-{i}"));
        let forged = {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some(format!("made-up-{i}"));
            jsonwebtoken::encode(
                &header,
                claims.as_map(),
                &jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
                    "../src/test_util/keys/rsa2.pem"
                ))
                .unwrap(),
            )
            .unwrap()
        };
        assert!(unknown_kid(verify(&auth, &forged).await));
    }
    assert!(unknown_kid(verify(&auth, &token(&stranger, "m")).await));
    assert_eq!(server.fetches(), 1, "no refetch within the interval");
    // Known keys keep working meanwhile.
    assert!(verify(&auth, &token(&known, "a")).await.is_ok());
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let old = TestKey::rsa();
    let new = TestKey::ec();
    let server = JwksServer::start(&[&old]).await.unwrap();
    let source = JwksSource::builder(server.url())
        .min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    let auth = Arc::new(authenticator(source));
    assert!(verify(&auth, &token(&old, "a")).await.is_ok());
    server.set_keys(&[&old, &new]);

    let fresh = token(&new, "b");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let auth = Arc::clone(&auth);
        let fresh = fresh.clone();
        tasks.spawn(async move { auth.verify(&fresh).await });
    }
    while let Some(outcome) = tasks.join_next().await {
        assert_eq!(outcome.unwrap().unwrap().id, "b");
    }
    assert_eq!(server.fetches(), 2, "one initial fetch, one shared refetch");
}

#[tokio::test]
async fn symmetric_keys_in_a_key_set_are_ignored() {
    // A key set that (wrongly or maliciously) lists an HMAC key under the RSA key's kid: a
    // token signed HS256 with that secret must not verify.
    let rsa = TestKey::rsa();
    let hmac = TestKey::hmac();
    let server = JwksServer::start(&[&rsa]).await.unwrap();
    let mut oct = hmac.jwk();
    oct["kid"] = "shared-secret".into();
    let mut document = jwks(&[&rsa]);
    document["keys"].as_array_mut().unwrap().push(oct);
    server.set_document(document);
    let auth = authenticator(JwksSource::builder(server.url()).build().unwrap());

    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("shared-secret".into());
    let forged = jsonwebtoken::encode(
        &header,
        TestClaims::new(ISSUER, RESOURCE, "m").as_map(),
        &jsonwebtoken::EncodingKey::from_secret(b"test-only hmac secret, 32+ bytes long!"),
    )
    .unwrap();
    assert!(unknown_kid(verify(&auth, &forged).await));
    assert!(
        verify(&auth, &token(&rsa, "a")).await.is_ok(),
        "the RSA key still works"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable_not_unauthorized() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let source = JwksSource::builder(format!("http://127.0.0.1:{port}/jwks.json"))
        .build()
        .unwrap();
    let auth = authenticator(source);
    let outcome = verify(&auth, &token(&TestKey::rsa(), "a")).await;
    let error = outcome.unwrap_err();
    assert_eq!(error.kind(), AuthErrorKind::Unavailable, "{error:?}");
    assert_eq!(error.http_status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn failing_refetches_keep_the_keys_already_held() {
    let key = TestKey::rsa();
    let server = JwksServer::start(&[&key]).await.unwrap();
    let source = JwksSource::builder(server.url())
        .min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    let auth = authenticator(source);
    assert!(verify(&auth, &token(&key, "a")).await.is_ok());
    server.set_document(serde_json::json!({"not": "a key set"}));
    assert!(unknown_kid(
        verify(&auth, &token(&TestKey::ec(), "a")).await
    ));
    assert_eq!(server.fetches(), 2, "the refetch happened and failed");
    assert!(
        verify(&auth, &token(&key, "a")).await.is_ok(),
        "old keys kept"
    );
}

#[tokio::test]
async fn oversized_key_sets_are_cut_off() {
    let big = "x".repeat(64 * 1024);
    let server = TestHttpServer::start(move |_| {
        http::Response::new(Bytes::from(format!(r#"{{"keys":[],"pad":"{big}"}}"#)))
    })
    .await
    .unwrap();
    let source = JwksSource::builder(server.url("/jwks.json"))
        .limits(FetchLimits {
            timeout: Duration::from_secs(30),
            max_body: 16 * 1024,
        })
        .build()
        .unwrap();
    let auth = authenticator(source);
    match verify(&auth, &token(&TestKey::rsa(), "a")).await {
        Err(AuthError::Unavailable(reason)) => assert!(reason.contains("limit"), "{reason}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_silent_endpoint_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let source = JwksSource::builder(format!("http://{addr}/jwks.json"))
        .limits(FetchLimits {
            timeout: Duration::from_millis(300),
            max_body: 1024,
        })
        .build()
        .unwrap();
    let auth = authenticator(source);
    match verify(&auth, &token(&TestKey::rsa(), "a")).await {
        Err(AuthError::Unavailable(reason)) => assert!(reason.contains("no answer"), "{reason}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    holder.abort();
}

#[test]
fn insecure_urls_are_refused_unless_loopback() {
    assert!(
        JwksSource::builder("http://auth.example.com/jwks")
            .build()
            .is_err()
    );
    assert!(
        JwksSource::builder("http://auth.example.com/jwks")
            .allow_insecure_http()
            .build()
            .is_ok()
    );
    assert!(
        JwksSource::builder("https://auth.example.com/jwks")
            .build()
            .is_ok()
    );
    assert!(
        JwksSource::builder("http://localhost:9/jwks")
            .build()
            .is_ok()
    );
    assert!(JwksSource::builder("http://[::1]:9/jwks").build().is_ok());
    assert!(JwksSource::builder("/jwks").build().is_err());
    assert!(
        JwksSource::builder("ftp://auth.example.com/jwks")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn verified_tokens_are_cached_until_the_ttl_and_can_be_rechecked_every_time() {
    let old = TestKey::rsa();
    let new = TestKey::rsa_rotated();
    let server = JwksServer::start(&[&old]).await.unwrap();
    let build = |cached: bool| {
        let source = JwksSource::builder(server.url())
            .min_refetch_interval(Duration::ZERO)
            .build()
            .unwrap();
        let builder = JwtAuthenticator::builder()
            .jwks(source)
            .issuer(ISSUER)
            .audience(RESOURCE);
        if cached {
            builder.verified_cache(100, Duration::from_secs(3600))
        } else {
            builder.no_verified_cache()
        }
        .build()
        .unwrap()
    };
    let cached = build(true);
    let uncached = build(false);
    let old_token = token(&old, "a");
    assert!(verify(&cached, &old_token).await.is_ok());
    assert!(verify(&uncached, &old_token).await.is_ok());

    // The old key is withdrawn; both authenticators learn it from a token of the new key.
    server.set_keys(&[&new]);
    assert!(verify(&cached, &token(&new, "b")).await.is_ok());
    assert!(verify(&uncached, &token(&new, "b")).await.is_ok());
    // The cached verification stands until its TTL (the documented trade-off); without the
    // cache, the withdrawn key no longer verifies.
    assert_eq!(verify(&cached, &old_token).await.unwrap().id, "a");
    assert!(unknown_kid(verify(&uncached, &old_token).await));
}
