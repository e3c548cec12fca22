//! Issue 6's attacks over Streamable HTTP on 127.0.0.1: an OAuth resource server (JWT with a
//! pinned RS256 key, audience = the canonical server URI) plus API keys, each attack a raw
//! `tools/call` refused with the right status while no handler runs. Also: the RFC 9728
//! metadata at both well-known paths, the 401 and 403 challenges, the audience check, and no
//! token passthrough (the handler sees the principal, never the token).

mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use harness::{Raw, Running, bind, serve};
use mcp_auth::jwt::JwtAuthenticator;
use mcp_auth::oauth::resource_server::{ProtectedResourceMetadata, canonical_resource_uri};
use mcp_auth::test_util::{
    TestClaims, TestKey, hmac_signed_with_public_key, tamper_payload, tamper_signature,
    unsigned_token,
};
use mcp_auth::{ApiKeyAuthenticator, AuthChain, AuthMethod, Principal, Requirement};
use mcp_server::http::{HttpAuth, HttpOptions};
use mcp_server::middleware::{AuthLayer, PermissionLayer, code};
use mcp_server::{RequestContext, Router, Server, Tool};
use serde_json::{Value, json};
use tower::ServiceBuilder;

const ISSUER: &str = "https://issuer.test";
const API_KEY: &str = "ops-key-7c2e9a4f1b8d3e60";
const READER_KEY: &str = "reader-key-0a5d8f2c7e1b94";

struct Fixture {
    running: Running,
    raw: Raw,
    /// The canonical URI of the server: the audience its tokens must name.
    resource: String,
    runs: Arc<AtomicUsize>,
    key: TestKey,
}

impl Fixture {
    fn claims(&self, subject: &str) -> TestClaims {
        TestClaims::new(ISSUER, &self.resource, subject).scope("tools.call")
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    async fn call_with(&self, tool: &str, authorization: &str) -> harness::Answer {
        self.raw
            .call(tool, json!({}), &[("authorization", authorization)])
            .await
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

async fn start() -> Fixture {
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let resource = canonical_resource_uri(&format!("http://{addr}/mcp")).unwrap();
    let key = TestKey::rsa();
    let jwt = JwtAuthenticator::builder()
        .key(key.verification_key())
        .issuer(ISSUER)
        .audience(&resource)
        .build()
        .expect("jwt");
    let keys = ApiKeyAuthenticator::new()
        .key(
            API_KEY,
            Principal::new("ops", AuthMethod::ApiKey).with_permissions(["tools.*"]),
        )
        .and_then(|k| {
            k.key(
                READER_KEY,
                Principal::new("reader", AuthMethod::ApiKey)
                    .with_permissions(["tools.call.whoami"]),
            )
        })
        .expect("keys");
    let chain = AuthChain::new().with(jwt).with(keys);
    let metadata =
        ProtectedResourceMetadata::new(&resource, [ISSUER]).with_scopes_supported(["tools.call"]);

    let runs = Arc::new(AtomicUsize::new(0));
    let (whoami_runs, deploy_runs) = (runs.clone(), runs.clone());
    let router = Router::new()
        .tool(Tool::new("whoami").handler(move |ctx: RequestContext| {
            whoami_runs.fetch_add(1, Ordering::SeqCst);
            // Everything the handler can learn about the caller.
            let principal = ctx.principal().cloned();
            let seen = json!({
                "id": principal.as_ref().map(|p| p.id.clone()),
                "claims": principal.as_ref().map(|p| p.claims.clone()),
                "meta": ctx.meta(),
            });
            async move { seen.to_string() }
        }))
        .tool(
            Tool::new("deploy")
                .handler(move || {
                    deploy_runs.fetch_add(1, Ordering::SeqCst);
                    async { "deployed" }
                })
                .requires(
                    Requirement::permission("tools.call.deploy")
                        .and_scope("deploy:prod")
                        .and_scope("audit:write"),
                ),
        );
    let server = Server::new("protected", "1.0.0", router).layer(
        ServiceBuilder::new()
            .layer(AuthLayer::required())
            .layer(PermissionLayer::new()),
    );
    let options = HttpOptions {
        auth: Some(HttpAuth::oauth(Arc::new(chain), metadata)),
        ..HttpOptions::default()
    };
    let running = serve(listener, server, options);
    Fixture {
        raw: Raw::new(running.addr),
        running,
        resource,
        runs,
        key,
    }
}

/// A 401 with the resource server's challenge: the metadata URL, the scopes, and
/// `invalid_token` when credentials were presented.
fn assert_unauthorized(answer: &harness::Answer, f: &Fixture, presented: bool, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.text);
    assert_eq!(answer.code(), Some(code::UNAUTHENTICATED), "{what}");
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    let metadata_url = format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        f.running.addr
    );
    assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{what}: {challenge}"
    );
    assert!(
        challenge.contains("scope=\"tools.call\""),
        "{what}: {challenge}"
    );
    assert_eq!(
        challenge.contains("error=\"invalid_token\""),
        presented,
        "{what}: {challenge}"
    );
    // The body says no more than "invalid": not which check failed.
    assert!(!answer.text.contains("kid"), "{what}: {}", answer.text);
    assert!(
        !answer.text.contains("signature"),
        "{what}: {}",
        answer.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_is_refused_and_no_handler_runs() {
    let f = start().await;
    let valid = f.claims("alice").sign(&f.key);

    // The control: a valid token is accepted.
    let ok = f.call_with("whoami", &Fixture::bearer(&valid)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(f.runs(), 1);

    let oversized = format!("{valid}{}", "A".repeat(10 * 1024));
    let attacks: Vec<(&str, String)> = vec![
        ("alg: none", unsigned_token(&f.claims("alice"))),
        (
            "HMAC signed with the RSA public key",
            hmac_signed_with_public_key(&f.claims("alice"), &f.key),
        ),
        ("expired", f.claims("alice").expires_in(-3600).sign(&f.key)),
        (
            "not yet valid",
            f.claims("alice").not_before_in(3600).sign(&f.key),
        ),
        (
            "wrong issuer",
            TestClaims::new("https://evil.test", &f.resource, "alice")
                .scope("tools.call")
                .sign(&f.key),
        ),
        (
            "wrong audience",
            TestClaims::new(ISSUER, "https://other.example/mcp", "alice")
                .scope("tools.call")
                .sign(&f.key),
        ),
        (
            "unknown kid",
            f.claims("alice").sign(&TestKey::rsa_rotated()),
        ),
        ("oversized token", oversized),
        ("tampered signature", tamper_signature(&valid)),
        (
            "tampered payload",
            tamper_payload(&valid, &f.claims("admin").claim("roles", json!(["admin"]))),
        ),
    ];
    for (what, token) in &attacks {
        let answer = f.call_with("whoami", &Fixture::bearer(token)).await;
        assert_unauthorized(&answer, &f, true, what);
    }

    // Token in the query string: refused, even with a valid token in the header too.
    let query = f
        .raw
        .call_at(
            &format!("/mcp?access_token={valid}"),
            "whoami",
            json!({}),
            &[],
        )
        .await;
    assert_unauthorized(&query, &f, true, "token in the query string");
    let both = f
        .raw
        .call_at(
            &format!("/mcp?access_token={valid}"),
            "whoami",
            json!({}),
            &[("authorization", &Fixture::bearer(&valid))],
        )
        .await;
    assert_eq!(
        both.status, 401,
        "token in the query and the header: {}",
        both.text
    );

    // No credentials at all: 401 without an error code.
    let none = f.raw.call("whoami", json!({}), &[]).await;
    assert_unauthorized(&none, &f, false, "no credentials");

    // A wrong API key.
    let wrong_key = f
        .raw
        .call(
            "whoami",
            json!({}),
            &[("x-api-key", "ops-key-7c2e9a4f1b8d3e61")],
        )
        .await;
    assert_unauthorized(&wrong_key, &f, true, "wrong API key");

    // A key whose principal lacks the tool's permission: authenticated, then forbidden.
    let forbidden = f
        .raw
        .call("deploy", json!({}), &[("x-api-key", READER_KEY)])
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.text);
    assert_eq!(forbidden.code(), Some(code::FORBIDDEN));

    assert_eq!(f.runs(), 1, "no attack reached a handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_scope_names_every_scope_needed() {
    let f = start().await;
    // Has `tools.call` (so the permission) and one of the two scopes `deploy` needs.
    let token = f
        .claims("alice")
        .scope("tools.call deploy:prod")
        .sign(&f.key);
    let answer = f.call_with("deploy", &Fixture::bearer(&token)).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"deploy:prod audit:write\""),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");
    assert_eq!(
        answer.body["error"]["data"]["required"],
        json!(["tools.call.deploy", "deploy:prod", "audit:write"])
    );
    assert_eq!(f.runs(), 0);

    // With every scope the call goes through.
    let token = f
        .claims("alice")
        .scope("tools.call deploy:prod audit:write")
        .sign(&f.key);
    let answer = f.call_with("deploy", &Fixture::bearer(&token)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(f.runs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_resource_metadata_is_served_at_both_well_known_paths() {
    let f = start().await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let answer = f.raw.get(path, &[]).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.body["resource"], f.resource, "{path}");
        assert_eq!(answer.body["authorization_servers"], json!([ISSUER]));
        assert_eq!(answer.body["scopes_supported"], json!(["tools.call"]));
        assert_eq!(answer.body["bearer_methods_supported"], json!(["header"]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_sees_the_principal_never_the_token() {
    let f = start().await;
    let token = f.claims("alice").sign(&f.key);
    let answer = f.call_with("whoami", &Fixture::bearer(&token)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let seen: Value = serde_json::from_str(answer.tool_text()).unwrap();
    assert_eq!(seen["id"], "alice");
    assert_eq!(seen["claims"]["sub"], "alice");
    assert_eq!(seen["claims"]["aud"], f.resource);
    assert!(
        !answer.text.contains(&token),
        "the token reached the handler"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(!answer.text.contains(signature));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_session_belongs_to_the_principal_that_opened_it() {
    let f = start().await;
    let alice = Fixture::bearer(&f.claims("alice").sign(&f.key));
    let mallory = Fixture::bearer(&f.claims("mallory").sign(&f.key));
    let init = f
        .raw
        .send(
            hyper::Method::POST,
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("authorization", &alice),
            ],
            Some(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"}}}),
            ),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.text);
    let session = init.header("mcp-session-id").unwrap().to_owned();
    let call = |authorization: String| {
        let raw = f.raw.clone();
        let session = session.clone();
        async move {
            raw.send(
                hyper::Method::POST,
                "/mcp",
                &[
                    ("content-type", "application/json"),
                    ("accept", "application/json, text/event-stream"),
                    ("mcp-session-id", &session),
                    ("authorization", &authorization),
                ],
                Some(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "whoami", "arguments": {}}})),
            )
            .await
        }
    };
    // Another principal holding the session id does not find the session.
    let stolen = call(mallory).await;
    assert_eq!(stolen.status, 404, "{}", stolen.text);
    assert_eq!(f.runs(), 0);
    let own = call(alice).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(f.runs(), 1);
}
