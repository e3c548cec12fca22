//! JWT authentication with keys given in code: every algorithm family, the claims-to-principal
//! mapping, and the attacks, each refused with the error a transport maps to 401.

use std::sync::Arc;
use std::time::Duration;

use mcp_auth::jwt::{Algorithm, JwtAuthenticator, JwtKey};
use mcp_auth::test_util::{
    TestClaims, TestKey, hmac_signed_with_public_key, tamper_payload, tamper_signature,
    unsigned_token,
};
use mcp_auth::{
    AuthChain, AuthError, AuthMethod, AuthRequest, Authenticator, BearerTokenAuthenticator,
    Principal, Roles, ScopeMap,
};

const ISSUER: &str = "https://issuer.test";
const RESOURCE: &str = "https://mcp.test/mcp";

fn claims(subject: &str) -> TestClaims {
    TestClaims::new(ISSUER, RESOURCE, subject)
}

fn authenticator(keys: &[&TestKey]) -> JwtAuthenticator {
    keys.iter()
        .fold(JwtAuthenticator::builder(), |b, k| {
            b.key(k.verification_key())
        })
        .issuer(ISSUER)
        .audience(RESOURCE)
        .leeway(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn present(auth: &impl Authenticator, token: &str) -> Result<Arc<Principal>, AuthError> {
    present_at(auth, token, "/mcp").await
}

async fn present_at(
    auth: &impl Authenticator,
    token: &str,
    uri: &str,
) -> Result<Arc<Principal>, AuthError> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let uri: http::Uri = uri.parse().unwrap();
    auth.authenticate(AuthRequest {
        headers: &headers,
        uri: &uri,
        peer: None,
    })
    .await
}

fn assert_invalid(outcome: Result<Arc<Principal>, AuthError>, reason_contains: &str) {
    match outcome {
        Err(AuthError::InvalidCredentials(reason)) => assert!(
            reason.contains(reason_contains),
            "expected a reason with {reason_contains:?}, got {reason:?}"
        ),
        other => panic!("expected InvalidCredentials({reason_contains:?}), got {other:?}"),
    }
}

#[tokio::test]
async fn every_algorithm_family_verifies() {
    let keys = [
        TestKey::rsa(),
        TestKey::rsa_pss(),
        TestKey::ec(),
        TestKey::ed25519(),
        TestKey::hmac(),
    ];
    let auth = authenticator(&keys.iter().collect::<Vec<_>>());
    for key in &keys {
        let principal = present(&auth, &claims("alice").sign(key))
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", key.algorithm()));
        assert_eq!(principal.id, "alice");
        assert_eq!(principal.method, AuthMethod::Jwt);
        assert_eq!(principal.claims["iss"], ISSUER);
    }
}

#[tokio::test]
async fn claims_become_the_principal() {
    let roles = Arc::new(Roles::new().role("operator", ["tools.call.deploy"]));
    let key = TestKey::ec();
    let auth = JwtAuthenticator::builder()
        .key(key.verification_key())
        .issuer(ISSUER)
        .audience(RESOURCE)
        .scope_map(ScopeMap::new().scope("mcp:read", ["resources.read", "prompts.get"]))
        .roles(roles)
        .permissions_claim(Some("permissions"))
        .build()
        .unwrap();
    let token = claims("svc")
        .scope("mcp:read tools.call.search")
        .claim("scp", vec!["extra"])
        .claim("roles", vec!["operator", "unknown"])
        .claim("permissions", "admin.audit")
        .sign(&key);
    let p = present(&auth, &token).await.unwrap();
    assert_eq!(
        p.scopes.iter().map(String::as_str).collect::<Vec<_>>(),
        ["extra", "mcp:read", "tools.call.search"]
    );
    assert!(p.allows("resources.read.readme"), "mapped scope");
    assert!(p.allows("tools.call.search"), "identity scope");
    assert!(p.allows("tools.call.deploy"), "role grant");
    assert!(p.allows("admin.audit"), "permissions claim");
    assert!(!p.allows("tools.call.other"));
    assert!(p.roles.contains("operator"));

    // No `sub`: the client id of a client-credentials token names the principal.
    let token = claims("x")
        .without("sub")
        .claim("client_id", "batch-job")
        .sign(&key);
    assert_eq!(present(&auth, &token).await.unwrap().id, "batch-job");
    let token = claims("x").without("sub").sign(&key);
    assert_invalid(present(&auth, &token).await, "subject");
}

#[tokio::test]
async fn attack_alg_none_is_refused() {
    let auth = authenticator(&[&TestKey::rsa()]);
    assert_invalid(
        present(&auth, &unsigned_token(&claims("mallory"))).await,
        "alg none",
    );
    // Also with a signature part glued on.
    let forged = format!("{}c2ln", unsigned_token(&claims("mallory")));
    assert_invalid(present(&auth, &forged).await, "alg none");
}

#[tokio::test]
async fn attack_hmac_signed_with_the_rsa_public_key_is_refused() {
    let rsa = TestKey::rsa();
    let auth = authenticator(&[&rsa]);
    let forged = hmac_signed_with_public_key(&claims("mallory"), &rsa);
    assert_invalid(present(&auth, &forged).await, "does not match the key");
    // Same with an EC key.
    let ec = TestKey::ec();
    let auth = authenticator(&[&ec]);
    let forged = hmac_signed_with_public_key(&claims("mallory"), &ec);
    assert_invalid(present(&auth, &forged).await, "does not match the key");
}

#[tokio::test]
async fn attack_expired_token_is_refused_beyond_the_leeway() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    let expired = claims("a").expires_in(-120).sign(&key);
    assert_eq!(present(&auth, &expired).await, Err(AuthError::Expired));
    // Within the 30-second leeway, clock skew is forgiven.
    let just_expired = claims("a").expires_in(-10).sign(&key);
    assert!(present(&auth, &just_expired).await.is_ok());
    // A token without `exp` never expires, so it is refused.
    let forever = claims("a").without("exp").sign(&key);
    assert_invalid(present(&auth, &forever).await, "exp");
}

#[tokio::test]
async fn attack_token_not_yet_valid_is_refused() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    let early = claims("a").not_before_in(600).sign(&key);
    assert_invalid(present(&auth, &early).await, "not valid yet");
    let nearly = claims("a").not_before_in(10).sign(&key);
    assert!(present(&auth, &nearly).await.is_ok(), "within the leeway");
}

#[tokio::test]
async fn attack_wrong_issuer_is_refused() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    let token = TestClaims::new("https://evil.test", RESOURCE, "a").sign(&key);
    assert_invalid(present(&auth, &token).await, "another issuer");
    let token = claims("a").without("iss").sign(&key);
    assert_invalid(present(&auth, &token).await, "iss");
}

#[tokio::test]
async fn attack_wrong_audience_is_refused_and_audiences_compare_canonically() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    for aud in [
        "https://other.test/mcp",
        "https://mcp.test/mcp/admin",
        "mcp.test",
    ] {
        let token = TestClaims::new(ISSUER, aud, "a").sign(&key);
        assert_invalid(present(&auth, &token).await, "another audience");
    }
    let token = claims("a").without("aud").sign(&key);
    assert_invalid(present(&auth, &token).await, "no audience");
    // The same resource spelled differently, and a list naming it, are accepted.
    for aud in [
        serde_json::json!("HTTPS://MCP.test:443/mcp/"),
        serde_json::json!(["https://other.test", RESOURCE]),
    ] {
        let token = claims("a").claim("aud", aud).sign(&key);
        assert!(present(&auth, &token).await.is_ok());
    }
}

#[tokio::test]
async fn attack_unknown_kid_is_refused() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key, &TestKey::ec()]);
    let other = TestKey::rsa_rotated();
    assert_invalid(
        present(&auth, &claims("a").sign(&other)).await,
        "unknown key id",
    );
    // Without a kid, and several keys configured, no key is guessed.
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = None;
    let no_kid = jsonwebtoken::encode(
        &header,
        claims("a").as_map(),
        &jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../src/test_util/keys/rsa1.pem"))
            .unwrap(),
    )
    .unwrap();
    assert_invalid(present(&auth, &no_kid).await, "no kid");
    // With a single key, a token without kid uses it.
    let single = authenticator(&[&key]);
    assert!(present(&single, &no_kid).await.is_ok());
}

#[tokio::test]
async fn attack_tampered_signature_and_payload_are_refused() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    let token = claims("alice").scope("tools.call.read").sign(&key);
    assert_invalid(
        present(&auth, &tamper_signature(&token)).await,
        "signature does not verify",
    );
    let escalated = tamper_payload(&token, &claims("alice").scope("*"));
    assert_invalid(
        present(&auth, &escalated).await,
        "signature does not verify",
    );
    let hmac = TestKey::hmac();
    let auth = authenticator(&[&hmac]);
    let token = claims("alice").sign(&hmac);
    assert_invalid(
        present(&auth, &tamper_signature(&token)).await,
        "signature does not verify",
    );
}

#[tokio::test]
async fn attack_token_in_the_query_string_is_refused() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    let token = claims("a").sign(&key);
    // A valid header does not excuse a token in the URI.
    let outcome = present_at(&auth, &token, &format!("/mcp?access_token={token}")).await;
    assert_invalid(outcome, "query string");
    // Nor does the chain look past it.
    let chain = AuthChain::new().with(authenticator(&[&key]));
    let outcome = present_at(&chain, &token, &format!("/mcp?x=1&access_token={token}")).await;
    assert_invalid(outcome, "query string");
}

#[tokio::test]
async fn attack_oversized_token_is_refused_before_parsing() {
    let key = TestKey::rsa();
    let auth = JwtAuthenticator::builder()
        .key(key.verification_key())
        .issuer(ISSUER)
        .audience(RESOURCE)
        .max_token_len(2048)
        .build()
        .unwrap();
    let padded = claims("a").claim("padding", "x".repeat(4096)).sign(&key);
    assert_invalid(present(&auth, &padded).await, "limit");
    // The default limit is 8 KiB.
    let auth = authenticator(&[&key]);
    let huge = claims("a")
        .claim("padding", "x".repeat(16 * 1024))
        .sign(&key);
    assert_invalid(present(&auth, &huge).await, "limit");
    assert!(present(&auth, &claims("a").sign(&key)).await.is_ok());
}

#[tokio::test]
async fn garbage_and_opaque_tokens() {
    let key = TestKey::rsa();
    let auth = authenticator(&[&key]);
    assert_invalid(present(&auth, "opaque-0123456789").await, "not a JWT");
    assert_invalid(
        present(&auth, "e30.e30.c2ln").await,
        "malformed token header",
    );
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        "Basic dXNlcjpwYXNz".parse().unwrap(),
    );
    assert_eq!(
        auth.authenticate(AuthRequest::from_headers(&headers)).await,
        Err(AuthError::MissingCredentials)
    );

    // In a chain, a JWT authenticator told to pass opaque tokens lets a static-token
    // authenticator after it handle them; a bad JWT still stops the chain.
    let chain = AuthChain::new()
        .with(
            JwtAuthenticator::builder()
                .key(key.verification_key())
                .issuer(ISSUER)
                .audience(RESOURCE)
                .pass_non_jwt_tokens(true)
                .build()
                .unwrap(),
        )
        .with(
            BearerTokenAuthenticator::new()
                .token(
                    "opaque-0123456789",
                    Principal::new("legacy", AuthMethod::Bearer),
                )
                .unwrap(),
        );
    assert_eq!(
        present(&chain, "opaque-0123456789").await.unwrap().id,
        "legacy"
    );
    assert_eq!(
        present(&chain, &claims("jwt-user").sign(&key))
            .await
            .unwrap()
            .id,
        "jwt-user"
    );
    let expired = claims("a").expires_in(-3600).sign(&key);
    assert_eq!(present(&chain, &expired).await, Err(AuthError::Expired));
}

#[tokio::test]
async fn one_authenticator_per_issuer_in_a_chain() {
    let a = TestKey::rsa();
    let b = TestKey::ec();
    let per_issuer = |key: &TestKey, issuer: &str| {
        JwtAuthenticator::builder()
            .key(key.verification_key())
            .issuer(issuer)
            .audience(RESOURCE)
            .pass_other_issuers(true)
            .build()
            .unwrap()
    };
    let chain = AuthChain::new()
        .with(per_issuer(&a, "https://a.test"))
        .with(per_issuer(&b, "https://b.test"));
    let from_b = TestClaims::new("https://b.test", RESOURCE, "bob").sign(&b);
    assert_eq!(present(&chain, &from_b).await.unwrap().id, "bob");
    // A token claiming issuer b but signed with a's key does not verify with b's key.
    let forged = TestClaims::new("https://b.test", RESOURCE, "bob").sign(&a);
    assert!(matches!(
        present(&chain, &forged).await,
        Err(AuthError::InvalidCredentials(_))
    ));
    let unknown = TestClaims::new("https://c.test", RESOURCE, "carol").sign(&a);
    assert_eq!(
        present(&chain, &unknown).await,
        Err(AuthError::MissingCredentials)
    );
}

#[test]
fn configuration_mistakes_are_refused() {
    let key = TestKey::rsa();
    assert!(
        JwtAuthenticator::builder()
            .audience(RESOURCE)
            .build()
            .is_err(),
        "no keys"
    );
    assert!(
        JwtAuthenticator::builder()
            .key(key.verification_key())
            .build()
            .is_err(),
        "no audience"
    );
    assert!(
        JwtAuthenticator::builder()
            .key(key.verification_key())
            .any_audience()
            .build()
            .is_ok()
    );
    assert!(
        JwtAuthenticator::builder()
            .key(key.verification_key())
            .key(key.verification_key())
            .audience(RESOURCE)
            .build()
            .is_err(),
        "duplicate kid"
    );
    let pem = key.public_pem().unwrap().as_bytes();
    assert!(JwtKey::rsa_pem(pem, Algorithm::HS256).is_err());
    assert!(JwtKey::rsa_pem(pem, Algorithm::ES256).is_err());
    assert!(JwtKey::ec_pem(pem, Algorithm::RS256).is_err());
    assert!(JwtKey::hmac(&[0; 31], Algorithm::HS256).is_err());
    assert!(JwtKey::hmac(&[0; 47], Algorithm::HS384).is_err());
    assert!(JwtKey::hmac(&[0; 48], Algorithm::HS384).is_ok());
}

#[tokio::test]
async fn a_cached_token_lets_no_variant_in_and_its_entry_ends_at_its_expiry() {
    let key = TestKey::rsa();
    let auth = JwtAuthenticator::builder()
        .key(key.verification_key())
        .issuer(ISSUER)
        .audience(RESOURCE)
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let token = claims("alice").expires_in(1).sign(&key);
    assert_eq!(present(&auth, &token).await.unwrap().id, "alice");
    // Now cached: tokens that differ from it are still checked in full.
    assert_invalid(
        present(&auth, &tamper_signature(&token)).await,
        "signature does not verify",
    );
    let escalated = tamper_payload(&token, &claims("alice").scope("*"));
    assert_invalid(
        present(&auth, &escalated).await,
        "signature does not verify",
    );
    assert_eq!(present(&auth, &token).await.unwrap().id, "alice");
    // Past its `exp` the cached principal is gone and the token is checked again: expired.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(matches!(
        present(&auth, &token).await,
        Err(AuthError::Expired)
    ));
}
