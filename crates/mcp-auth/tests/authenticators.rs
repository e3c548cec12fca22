//! API keys, static bearer tokens, the chain, roles and requirements, as a server uses them.

use std::sync::Arc;

use mcp_auth::{
    ApiKeyAuthenticator, ApiKeyConfig, AuthChain, AuthError, AuthMethod, AuthRequest,
    Authenticator, BearerTokenAuthenticator, BearerTokenConfig, Principal, Requirement, Roles,
    filter_allowed, sha256_hex,
};

const OPS_KEY: &str = "mcp_k_4d1e7f0a9b2c3e5f";
const READER_KEY: &str = "mcp_k_8a7b6c5d4e3f2a1b";

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (name, value) in pairs {
        h.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    h
}

async fn run(
    auth: &impl Authenticator,
    pairs: &[(&str, &str)],
) -> Result<Arc<Principal>, AuthError> {
    let h = headers(pairs);
    auth.authenticate(AuthRequest::from_headers(&h)).await
}

fn keys_from_config() -> ApiKeyAuthenticator {
    // A configuration file holds digests only.
    let config = format!(
        r#"[
            {{"id": "ops", "sha256": "{}", "roles": ["operator"]}},
            {{"id": "reader", "sha256": "{}", "permissions": ["resources.read"]}}
        ]"#,
        sha256_hex(OPS_KEY),
        sha256_hex(READER_KEY)
    );
    let entries: Vec<ApiKeyConfig> = serde_json::from_str(&config).unwrap();
    let roles: Roles =
        serde_json::from_str(r#"{"operator": ["tools.*", "resources.read"]}"#).unwrap();
    ApiKeyAuthenticator::from_config(entries)
        .unwrap()
        .roles(Arc::new(roles))
}

#[tokio::test]
async fn api_keys_from_hashed_configuration() {
    let keys = keys_from_config();
    let ops = run(&keys, &[("x-api-key", OPS_KEY)]).await.unwrap();
    assert_eq!(ops.id, "ops");
    assert_eq!(ops.method, AuthMethod::ApiKey);
    assert!(ops.allows("tools.call.restart"), "from the operator role");
    let reader = run(&keys, &[("authorization", &format!("ApiKey {READER_KEY}"))])
        .await
        .unwrap();
    assert!(reader.allows("resources.read.readme"));
    assert!(!reader.allows("tools.call.restart"));
}

#[tokio::test]
async fn attack_wrong_api_key_is_refused() {
    let keys = keys_from_config();
    for wrong in [
        // One character off, a prefix, the digest itself, another case.
        "mcp_k_4d1e7f0a9b2c3e5e",
        "mcp_k_4d1e7f0a9b2c3e5",
        &sha256_hex(OPS_KEY),
        &OPS_KEY.to_uppercase(),
    ] {
        let outcome = run(&keys, &[("x-api-key", wrong)]).await;
        assert!(
            matches!(outcome, Err(AuthError::InvalidCredentials(_))),
            "{wrong}: {outcome:?}"
        );
        assert_eq!(
            outcome.unwrap_err().http_status(),
            http::StatusCode::UNAUTHORIZED
        );
    }
    // Two keys at once are refused, not tried one by one.
    let outcome = run(&keys, &[("x-api-key", OPS_KEY), ("x-api-key", READER_KEY)]).await;
    assert!(matches!(outcome, Err(AuthError::InvalidCredentials(_))));
    // An oversized key.
    let outcome = run(&keys, &[("x-api-key", &"k".repeat(2000))]).await;
    assert!(matches!(outcome, Err(AuthError::InvalidCredentials(r)) if r.contains("limit")));
}

#[tokio::test]
async fn a_key_without_the_permission_is_forbidden_not_unauthorized() {
    let keys = keys_from_config();
    let reader = run(&keys, &[("x-api-key", READER_KEY)]).await.unwrap();
    let refusal = Requirement::tool("restart").check(&reader).unwrap_err();
    assert_eq!(
        refusal,
        AuthError::Forbidden {
            required: vec!["tools.call.restart".into()]
        }
    );
    assert_eq!(refusal.http_status(), http::StatusCode::FORBIDDEN);
    assert_eq!(refusal.jsonrpc_code(), -31403);
    assert_eq!(
        refusal.jsonrpc_data().unwrap(),
        serde_json::json!({"required": ["tools.call.restart"]})
    );
}

#[tokio::test]
async fn static_bearer_tokens() {
    let tokens = BearerTokenAuthenticator::from_config([BearerTokenConfig::new(
        "dashboard",
        sha256_hex("dash-9f8e7d6c5b4a3f2e"),
    )])
    .unwrap()
    .token(
        "ci-0a1b2c3d4e5f6a7b",
        Principal::new("ci", AuthMethod::ApiKey).with_permissions(["tools.call.build"]),
    )
    .unwrap();
    let dash = run(
        &tokens,
        &[("authorization", "Bearer dash-9f8e7d6c5b4a3f2e")],
    )
    .await
    .unwrap();
    assert_eq!(dash.id, "dashboard");
    let ci = run(&tokens, &[("authorization", "bearer ci-0a1b2c3d4e5f6a7b")])
        .await
        .unwrap();
    assert_eq!(
        ci.method,
        AuthMethod::Bearer,
        "the method says how it was checked"
    );
    assert!(ci.allows("tools.call.build"));
    assert!(matches!(
        run(
            &tokens,
            &[("authorization", "Bearer dash-9f8e7d6c5b4a3f2f")]
        )
        .await,
        Err(AuthError::InvalidCredentials(_))
    ));
    assert_eq!(
        run(&tokens, &[("x-api-key", "dash-9f8e7d6c5b4a3f2e")]).await,
        Err(AuthError::MissingCredentials)
    );
}

#[tokio::test]
async fn the_chain_moves_on_when_nothing_is_presented_and_stops_on_bad_credentials() {
    let chain = AuthChain::new().with(keys_from_config()).with(
        BearerTokenAuthenticator::new()
            .token(
                "tok-0a1b2c3d4e5f6a7b",
                Principal::new("ui", AuthMethod::Bearer),
            )
            .unwrap(),
    );
    assert_eq!(
        run(&chain, &[("x-api-key", OPS_KEY)]).await.unwrap().id,
        "ops"
    );
    assert_eq!(
        run(&chain, &[("authorization", "Bearer tok-0a1b2c3d4e5f6a7b")])
            .await
            .unwrap()
            .id,
        "ui"
    );
    // A wrong API key stops the chain even though a valid bearer token follows.
    let outcome = run(
        &chain,
        &[
            ("x-api-key", "mcp_k_0000000000000000"),
            ("authorization", "Bearer tok-0a1b2c3d4e5f6a7b"),
        ],
    )
    .await;
    assert!(matches!(outcome, Err(AuthError::InvalidCredentials(_))));
    assert_eq!(run(&chain, &[]).await, Err(AuthError::MissingCredentials));

    // Anonymous access covers requests without credentials only.
    let open = chain.allow_anonymous(Principal::anonymous().with_permissions(["tools.call.ping"]));
    let anonymous = run(&open, &[]).await.unwrap();
    assert_eq!(anonymous.method, AuthMethod::Anonymous);
    assert!(anonymous.allows("tools.call.ping"));
    assert!(matches!(
        run(&open, &[("x-api-key", "mcp_k_0000000000000000")]).await,
        Err(AuthError::InvalidCredentials(_))
    ));
    assert!(AuthChain::new().is_empty());
}

#[tokio::test]
async fn tools_list_shows_only_what_the_principal_may_call() {
    let keys = keys_from_config();
    let reader = run(&keys, &[("x-api-key", READER_KEY)]).await.unwrap();
    let ops = run(&keys, &[("x-api-key", OPS_KEY)]).await.unwrap();
    let tools = [
        ("echo", Requirement::none()),
        ("restart", Requirement::tool("restart")),
        ("audit", Requirement::permission("admin.audit")),
        ("read-docs", Requirement::resource("docs")),
    ];
    let visible = |p: &Principal| {
        filter_allowed(p, tools.iter(), |(_, requirement)| requirement.clone())
            .into_iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
    };
    assert_eq!(visible(&reader), ["echo", "read-docs"]);
    assert_eq!(visible(&ops), ["echo", "restart", "read-docs"]);
    assert_eq!(visible(&Principal::anonymous()), ["echo"]);
}
