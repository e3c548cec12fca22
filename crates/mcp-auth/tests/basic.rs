//! HTTP Basic against Argon2id hashes.

use std::sync::Arc;

use base64::Engine as _;
use mcp_auth::basic::{
    BasicAuthenticator, BasicUserConfig, PasswordHashParams, hash_password_with,
};
use mcp_auth::{AuthError, AuthMethod, AuthRequest, Authenticator, Principal, Roles};

// Cheap costs keep the debug-build tests fast; the verification path is the same.
fn cheap_hash(password: &str) -> String {
    hash_password_with(password, PasswordHashParams::new(256, 1, 1)).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn run(auth: &BasicAuthenticator, authorization: &str) -> Result<Arc<Principal>, AuthError> {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, authorization.parse().unwrap());
    auth.authenticate(AuthRequest::from_headers(&headers)).await
}

fn users() -> BasicAuthenticator {
    let config = vec![
        serde_json::from_value::<BasicUserConfig>(serde_json::json!({
            "username": "alice",
            "password_hash": cheap_hash("wonderland-2024"),
            "roles": ["editor"],
        }))
        .unwrap(),
        serde_json::from_value::<BasicUserConfig>(serde_json::json!({
            "username": "bob",
            "password_hash": cheap_hash("p:w with spaces"),
            "permissions": ["resources.read"],
        }))
        .unwrap(),
    ];
    BasicAuthenticator::from_config(config)
        .unwrap()
        .roles(Arc::new(
            Roles::new().role("editor", ["tools.call", "resources.read"]),
        ))
}

#[tokio::test]
async fn right_passwords_authenticate() {
    let auth = users();
    let alice = run(&auth, &basic("alice", "wonderland-2024"))
        .await
        .unwrap();
    assert_eq!(alice.id, "alice");
    assert_eq!(alice.method, AuthMethod::Basic);
    assert!(alice.allows("tools.call.anything"));
    // The password may contain ':' and spaces (only the first ':' separates).
    let bob = run(&auth, &basic("bob", "p:w with spaces")).await.unwrap();
    assert!(bob.allows("resources.read"));
    assert!(!bob.allows("tools.call"));
}

#[tokio::test]
async fn wrong_passwords_unknown_users_and_garbage_are_refused_alike() {
    let auth = users();
    for header in [
        basic("alice", "wonderland-2025"),
        basic("alice", ""),
        basic("mallory", "wonderland-2024"),
        basic("ALICE", "wonderland-2024"),
        "Basic !!!not-base64!!!".to_owned(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("no-colon")
        ),
    ] {
        let outcome = run(&auth, &header).await;
        assert!(
            matches!(outcome, Err(AuthError::InvalidCredentials(_))),
            "{header}: {outcome:?}"
        );
    }
    assert_eq!(
        run(&auth, "Bearer abc").await,
        Err(AuthError::MissingCredentials)
    );
}

#[tokio::test]
async fn concurrent_logins_queue_on_the_verification_permits() {
    let auth = Arc::new(users().max_concurrent_verifications(1));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let auth = Arc::clone(&auth);
        tasks.spawn(async move {
            let password = if i % 2 == 0 {
                "wonderland-2024"
            } else {
                "nope"
            };
            run(&auth, &basic("alice", password)).await.is_ok() == (i % 2 == 0)
        });
    }
    while let Some(right) = tasks.join_next().await {
        assert!(right.unwrap());
    }
}

#[test]
fn configuration_refuses_weak_or_foreign_hashes() {
    let plain = BasicAuthenticator::new().user(
        "alice",
        "wonderland-2024",
        Principal::new("alice", AuthMethod::Basic),
    );
    assert!(plain.is_err(), "plaintext is not a hash");
    let pbkdf2 = BasicAuthenticator::new().user(
        "alice",
        "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        Principal::new("alice", AuthMethod::Basic),
    );
    assert!(pbkdf2.is_err(), "only Argon2");
    let colon = BasicAuthenticator::new().user(
        "a:b",
        &cheap_hash("x"),
        Principal::new("a", AuthMethod::Basic),
    );
    assert!(colon.is_err());
    let default = mcp_auth::basic::hash_password("x").unwrap();
    assert!(default.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
}
