//! RFC 7662 introspection against a local endpoint on 127.0.0.1 that plays the authorization
//! server (it checks the resource server's client credentials like a real one would).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use mcp_auth::introspection::{ClientAuth, IntrospectionAuthenticator};
use mcp_auth::test_util::{TestHttpServer, now};
use mcp_auth::{AuthError, AuthErrorKind, AuthMethod, AuthRequest, Authenticator, Principal};
use serde_json::{Value, json};

const RESOURCE: &str = "https://mcp.test/mcp";
const ISSUER: &str = "https://issuer.test";

/// What the fake authorization server knows: token -> introspection answer.
type Tokens = Arc<Mutex<Vec<(String, Value)>>>;

fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            v.replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "=")
        })
    })
}

async fn authorization_server(tokens: Tokens) -> TestHttpServer {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("mcp-server:s3cret%2Bpw")
    );
    TestHttpServer::start(move |request| {
        let respond = |status: u16, body: Value| {
            http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Bytes::from(body.to_string()))
                .unwrap()
        };
        if request.method() != http::Method::POST || request.uri().path() != "/introspect" {
            return respond(404, json!({}));
        }
        let authorized = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == expected.as_bytes());
        if !authorized {
            return respond(401, json!({"error": "invalid_client"}));
        }
        let body = String::from_utf8_lossy(request.body()).into_owned();
        if form_value(&body, "token_type_hint").as_deref() != Some("access_token") {
            return respond(400, json!({"error": "invalid_request"}));
        }
        let token = form_value(&body, "token").unwrap_or_default();
        let answer = tokens
            .lock()
            .unwrap()
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| json!({"active": false}));
        respond(200, answer)
    })
    .await
    .unwrap()
}

fn authenticator(server: &TestHttpServer, secret: &str) -> IntrospectionAuthenticator {
    IntrospectionAuthenticator::builder(
        server.url("/introspect"),
        ClientAuth::Basic {
            client_id: "mcp-server".into(),
            client_secret: secret.into(),
        },
    )
    .issuer(ISSUER)
    .audience(RESOURCE)
    .cache_ttl(Duration::from_secs(300))
    .build()
    .unwrap()
}

async fn present(
    auth: &IntrospectionAuthenticator,
    token: &str,
) -> Result<Arc<Principal>, AuthError> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    auth.authenticate(AuthRequest::from_headers(&headers)).await
}

fn active(subject: &str, extra: Value) -> Value {
    let mut answer = json!({
        "active": true,
        "sub": subject,
        "iss": ISSUER,
        "aud": RESOURCE,
        "scope": "tools.call resources.read",
        "exp": now() + 3600,
    });
    if let (Some(a), Some(e)) = (answer.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    answer
}

#[tokio::test]
async fn active_tokens_authenticate_and_answers_are_cached() {
    let tokens: Tokens = Arc::new(Mutex::new(vec![(
        "opaque+token/1=".into(),
        active("alice", json!({})),
    )]));
    let server = authorization_server(Arc::clone(&tokens)).await;
    // The secret has a '+', which must be form-encoded inside the Basic credentials.
    let auth = authenticator(&server, "s3cret+pw");
    let alice = present(&auth, "opaque+token/1=").await.unwrap();
    assert_eq!(alice.id, "alice");
    assert_eq!(alice.method, AuthMethod::Introspection);
    assert!(alice.allows("tools.call.search"));
    assert!(alice.scopes.contains("resources.read"));
    assert_eq!(server.requests(), 1);
    for _ in 0..5 {
        assert!(present(&auth, "opaque+token/1=").await.is_ok());
    }
    assert_eq!(server.requests(), 1, "served from the cache");
}

#[tokio::test]
async fn inactive_tokens_are_refused_and_the_refusal_is_cached() {
    let server = authorization_server(Arc::default()).await;
    let auth = authenticator(&server, "s3cret+pw");
    for _ in 0..3 {
        let outcome = present(&auth, "revoked-token").await;
        assert!(
            matches!(outcome, Err(AuthError::InvalidCredentials(ref r)) if r.contains("not active")),
            "{outcome:?}"
        );
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn active_but_wrong_audience_issuer_or_expiry_is_refused() {
    let tokens: Tokens = Arc::new(Mutex::new(vec![
        (
            "other-aud".into(),
            active("a", json!({"aud": "https://other.test"})),
        ),
        (
            "other-iss".into(),
            active("a", json!({"iss": "https://evil.test"})),
        ),
        ("expired".into(), active("a", json!({"exp": now() - 3600}))),
        ("early".into(), active("a", json!({"nbf": now() + 3600}))),
        (
            "no-subject".into(),
            json!({"active": true, "iss": ISSUER, "aud": RESOURCE}),
        ),
        (
            "client".into(),
            json!({"active": true, "iss": ISSUER, "aud": [RESOURCE], "client_id": "job"}),
        ),
    ]));
    let server = authorization_server(tokens).await;
    let auth = authenticator(&server, "s3cret+pw");
    for (token, reason) in [
        ("other-aud", "another audience"),
        ("other-iss", "another issuer"),
        ("early", "not valid yet"),
        ("no-subject", "no subject"),
    ] {
        match present(&auth, token).await {
            Err(AuthError::InvalidCredentials(r)) => assert!(r.contains(reason), "{token}: {r}"),
            other => panic!("{token}: {other:?}"),
        }
    }
    assert_eq!(present(&auth, "expired").await, Err(AuthError::Expired));
    assert_eq!(present(&auth, "client").await.unwrap().id, "job");
}

#[tokio::test]
async fn endpoint_failures_are_unavailable_and_not_cached() {
    let server = authorization_server(Arc::default()).await;
    // Wrong client secret: the authorization server answers 401 to us.
    let auth = authenticator(&server, "wrong");
    for _ in 0..2 {
        let error = present(&auth, "any-token").await.unwrap_err();
        assert_eq!(error.kind(), AuthErrorKind::Unavailable, "{error:?}");
    }
    assert_eq!(server.requests(), 2, "failures are not cached");

    let huge = TestHttpServer::start(|_| {
        http::Response::new(Bytes::from(format!(
            r#"{{"active":true,"sub":"a","pad":"{}"}}"#,
            "x".repeat(128 * 1024)
        )))
    })
    .await
    .unwrap();
    let auth = IntrospectionAuthenticator::builder(
        huge.url("/introspect"),
        ClientAuth::Bearer("rs-token".into()),
    )
    .any_audience()
    .build()
    .unwrap();
    match present(&auth, "t").await {
        Err(AuthError::Unavailable(reason)) => assert!(reason.contains("limit"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn configuration_mistakes_are_refused() {
    let basic = || ClientAuth::Basic {
        client_id: "c".into(),
        client_secret: "s".into(),
    };
    assert!(
        IntrospectionAuthenticator::builder("http://auth.example.com/introspect", basic())
            .audience(RESOURCE)
            .build()
            .is_err(),
        "plain http off loopback"
    );
    assert!(
        IntrospectionAuthenticator::builder("https://auth.example.com/introspect", basic())
            .build()
            .is_err(),
        "no audience"
    );
    assert!(
        IntrospectionAuthenticator::builder("https://auth.example.com/introspect", basic())
            .audience(RESOURCE)
            .build()
            .is_ok()
    );
}
