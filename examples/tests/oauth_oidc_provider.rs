//! The OAuth 2.1 flow end to end with a real authorization server nobody here wrote:
//! `oidc-provider` (a certified OpenID provider, pinned in `peers/package.json`, installed by
//! `cargo xtask peers`), started on 127.0.0.1 by `fixtures/peers/oidc-provider.mjs`, between
//! our MCP client and our MCP server.
//!
//! The server is an OAuth resource server (`HttpAuth::oauth`: RFC 9728 metadata naming the
//! provider, tokens checked by `JwtAuthenticator` with the provider's JWKS and the server's URL
//! as audience, `AuthLayer::required`). The client connects with an `OAuthClient` as its
//! credentials: the first request is refused with 401, the client discovers the provider from
//! the server's metadata, registers dynamically, authorizes with PKCE through its loopback
//! redirect listener (a stand-in browser follows the provider's redirects, which approve at
//! once), exchanges the code with the resource indicator, and the request goes through. A
//! second client reading the same file store refreshes the token and calls again. A token the
//! same provider minted for another audience is refused with 401 and no handler runs. Without
//! the peers the test says so and passes, unless `MCP_REQUIRE_PEERS` is set.

mod peer_env;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use mcp_auth::fetch::{FetchLimits, HttpFetch, HyperFetcher};
use mcp_auth::jwt::{JwksSource, JwtAuthenticator};
use mcp_auth::oauth::client::{
    ClientMetadata, CredentialStore, FileStore, LoopbackRedirect, OAuthClient, RegistrationSource,
    TokenEndpointAuthMethod,
};
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_auth::oauth::resource_server::ProtectedResourceMetadata;
use mcp_client::{Client, ClientOptions, EraPreference, HttpClientOptions};
use mcp_protocol::types::ContentBlock;
use mcp_server::http::{HttpAuth, HttpOptions};
use mcp_server::middleware::AuthLayer;
use mcp_server::{RequestContext, Router, Server, Tool};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// The provider, killed when dropped.
struct Provider {
    _child: Child,
    issuer: String,
}

async fn start_provider(peers: &HashMap<String, String>, resources: &[&str]) -> Provider {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/peers/oidc-provider.mjs");
    let mut child = Command::new(&peers["NODE22"])
        .arg(script)
        .arg(&peers["NPM_MODULES"])
        .args(resources)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start oidc-provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(60),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("oidc-provider starts within 60 s")
    .expect("read its first line");
    let started: Value = serde_json::from_str(line.trim()).expect("a JSON line");
    let issuer = started["issuer"].as_str().expect("issuer").to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    Provider {
        _child: child,
        issuer,
    }
}

/// What a browser does with the authorization URL when the provider approves at once:
/// follow its redirects (keeping its cookies) until it redirects to the client's loopback
/// listener, and go there.
async fn browse(
    http: Arc<dyn HttpFetch>,
    start: String,
    redirect_uri: String,
) -> Result<(), String> {
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut url = start;
    for _ in 0..12 {
        let mut request = http::Request::builder().method("GET").uri(&url);
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", jar.join("; "));
        }
        let request = request
            .body(bytes::Bytes::new())
            .map_err(|e| e.to_string())?;
        let response = http
            .fetch(request, FetchLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            if let Some((name, rest)) = text.split(';').next().and_then(|c| c.split_once('=')) {
                cookies.insert(name.trim().to_owned(), rest.trim().to_owned());
            }
        }
        if url.starts_with(&redirect_uri) {
            return if response.status().is_success() {
                Ok(())
            } else {
                Err(format!(
                    "the loopback listener answered {}",
                    response.status()
                ))
            };
        }
        if !response.status().is_redirection() {
            return Err(format!(
                "{url} answered {}: {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            ));
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or("a redirect without Location")?;
        url = oauth2_join(&url, location);
    }
    Err("too many redirects".into())
}

/// A stand-in browser at work.
type Browsing = JoinHandle<Result<(), String>>;

/// `location` resolved against `base` (absolute, or a path on the same origin).
fn oauth2_join(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = base["http://".len()..]
        .find('/')
        .map_or(base.len(), |i| i + "http://".len());
    format!("{}{location}", &base[..origin_end])
}

/// The claims of a JWT (its signature is the resource server's business, not the client's).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("mcp-rs-{name}-{}-{nanos}", std::process::id()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_oauth_client_gets_a_token_with_pkce_from_oidc_provider_and_refreshes_it() {
    let Some(peers) = peer_env::peers("oidc-provider tests") else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(120), run(peers))
        .await
        .expect("the whole exchange finishes within 2 minutes");
}

async fn run(peers: HashMap<String, String>) {
    // The MCP server's URL is the resource indicator the provider knows.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let resource = format!(
        "http://127.0.0.1:{}/mcp",
        listener.local_addr().unwrap().port()
    );
    // Another resource server the provider issues tokens for.
    let other = "http://127.0.0.1:9/other-mcp";
    let provider = start_provider(&peers, &[&resource, other]).await;
    let http: Arc<dyn HttpFetch> = Arc::new(HyperFetcher::http());

    // Our server: a resource server trusting the provider's keys for its own audience.
    let discovery = http
        .fetch(
            http::Request::get(format!(
                "{}/.well-known/openid-configuration",
                provider.issuer
            ))
            .body(bytes::Bytes::new())
            .unwrap(),
            FetchLimits::default(),
        )
        .await
        .unwrap();
    let discovery: Value = serde_json::from_slice(discovery.body()).unwrap();
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri").to_owned();
    let verifier = |audience: &str| {
        JwtAuthenticator::builder()
            .jwks(
                JwksSource::builder(jwks_uri.clone())
                    .fetcher(http.clone())
                    .allow_insecure_http()
                    .build()
                    .unwrap(),
            )
            .issuer(provider.issuer.clone())
            .audience(audience)
            .build()
            .unwrap()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let router = Router::new().tool(Tool::new("whoami").handler(move |ctx: RequestContext| {
        counted.fetch_add(1, Ordering::SeqCst);
        let id = ctx.principal().map(|p| p.id.clone()).unwrap_or_default();
        async move { id }
    }));
    let server = Server::new("protected", "1.0.0", router).layer(AuthLayer::required());
    let metadata = ProtectedResourceMetadata::new(&resource, [provider.issuer.clone()])
        .with_scopes_supported(["mcp:tools"]);
    let options = HttpOptions {
        auth: Some(HttpAuth::oauth(Arc::new(verifier(&resource)), metadata)),
        ..HttpOptions::default()
    };
    let serving = tokio::spawn(server.serve_http(listener, options));

    // Our client: an OAuth client as the transport's credentials, a loopback redirect listener
    // and a stand-in browser.
    let dir = temp_dir("oidc-provider");
    let store = Arc::new(FileStore::new(dir.join("oauth.json")));
    let browsers: Arc<Mutex<Vec<Browsing>>> = Arc::default();
    let redirect = LoopbackRedirect::bind(0).await.unwrap();
    let redirect_uri = mcp_auth::oauth::client::RedirectHandler::redirect_uri(&redirect).to_owned();
    let redirect = {
        let http = http.clone();
        let browsers = browsers.clone();
        redirect.with_open(move |url| {
            let task = tokio::spawn(browse(http.clone(), url.to_owned(), redirect_uri.clone()));
            browsers.lock().unwrap().push(task);
        })
    };
    let oauth = OAuthClient::builder(&resource)
        .http_client(http.clone())
        .store(store.clone())
        .redirect_handler(Arc::new(redirect))
        .client_metadata(ClientMetadata::new("mcp-rs oidc-provider test"))
        .build()
        .unwrap();
    let called = whoami(&resource, &oauth).await;
    let browsed: Vec<_> = std::mem::take(&mut *browsers.lock().unwrap());
    for task in browsed {
        task.await
            .unwrap()
            .expect("the stand-in browser reached the loopback listener");
    }
    assert_eq!(
        called.unwrap_or_else(|e| panic!("{e} (authorization: {:?})", oauth.last_error())),
        "alice",
        "the server saw the provider's user"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The token: a JWT the provider signed for this resource, with the scope asked for.
    let tokens = oauth.tokens().await.expect("tokens after authorizing");
    assert_eq!(tokens.issuer, provider.issuer);
    assert_eq!(tokens.resource, resource);
    let first = claims(&tokens.access_token);
    assert_eq!(first["iss"], provider.issuer.as_str());
    assert_eq!(
        first["aud"],
        resource.as_str(),
        "RFC 8707: the audience is the resource"
    );
    assert_eq!(first["sub"], "alice");
    assert!(
        first["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .any(|s| s == "mcp:tools"),
        "{first}"
    );
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access was asked for (the provider lists it, with prompt=consent as OpenID \
         Connect wants) and granted: {tokens:?}"
    );

    // The registration is kept per issuer: a public native client (the provider lists `none`).
    let registration = store
        .client(&provider.issuer)
        .await
        .unwrap()
        .expect("the dynamic registration is stored under the issuer");
    assert_eq!(registration.source, RegistrationSource::Dynamic);
    assert_eq!(
        registration.token_endpoint_auth_method,
        TokenEndpointAuthMethod::None
    );
    assert_eq!(first["client_id"], registration.client_id.as_str());

    // A second client on the same file picks the tokens up and, told to refresh well before
    // expiry, refreshes with the resource indicator; the server takes the new token.
    let later = OAuthClient::builder(&resource)
        .http_client(http.clone())
        .store(store.clone())
        .redirect_handler(Arc::new(
            LoopbackRedirect::bind(0)
                .await
                .unwrap()
                .with_open(|_| panic!("a refresh needs no user")),
        ))
        .refresh_margin(Duration::from_secs(2 * 3600))
        .build()
        .unwrap();
    assert_eq!(whoami(&resource, &later).await.unwrap(), "alice");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let refreshed = later.tokens().await.expect("tokens").access_token;
    assert_ne!(refreshed, tokens.access_token, "refreshed");
    let second = claims(&refreshed);
    assert_eq!(second["aud"], resource.as_str());
    assert_eq!(second["client_id"], registration.client_id.as_str());

    // A token the same provider minted for another resource: refused with 401, no handler runs
    // (RFC 8707: tokens are for one audience).
    let minted = http
        .fetch(
            http::Request::post(format!("{}/test/token?resource={other}", provider.issuer))
                .body(bytes::Bytes::new())
                .unwrap(),
            FetchLimits::default(),
        )
        .await
        .unwrap();
    let minted: Value = serde_json::from_slice(minted.body()).unwrap();
    let foreign = minted["access_token"].as_str().expect("a minted token");
    assert_eq!(claims(foreign)["aud"], other);
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "whoami",
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    }});
    let refused = http
        .fetch(
            http::Request::post(&resource)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "whoami")
                .header("authorization", format!("Bearer {foreign}"))
                .body(bytes::Bytes::from(call.to_string()))
                .unwrap(),
            FetchLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "{:?}", refused.body());
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "no handler ran for the foreign token"
    );
    verifier(other)
        .verify(foreign)
        .await
        .expect("the token is good for its own audience: only the audience differs");

    serving.abort();
    drop(provider);
    let _ = std::fs::remove_dir_all(dir);
}

/// Connects to the server with `oauth` as the credentials and calls `whoami`.
async fn whoami(url: &str, oauth: &OAuthClient) -> Result<String, mcp_client::ClientError> {
    let options = ClientOptions {
        era: EraPreference::Modern,
        request_timeout: Duration::from_secs(60),
        ..ClientOptions::default()
    };
    let http = HttpClientOptions {
        credentials: Some(Arc::new(oauth.clone())),
        ..HttpClientOptions::default()
    };
    let client = Client::connect_http(url, options, http).await?;
    let result = client.call_tool("whoami", json!({})).await?;
    client.close().await;
    Ok(result
        .content
        .iter()
        .find_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .unwrap_or_default())
}
