//! `mcp-auth`'s OAuth client against a real authorization server nobody here wrote:
//! `oidc-provider` (a certified OpenID provider, pinned in `peers/package.json`, installed by
//! `cargo xtask peers`), started on 127.0.0.1 by `fixtures/peers/oidc-provider.mjs`. The client
//! discovers the server from the resource's metadata, registers dynamically, authorizes with
//! PKCE through its loopback redirect listener (a stand-in browser follows the provider's
//! redirects, which approve at once), and exchanges the code with the resource indicator; then
//! a second client reading the same file store refreshes the token. The server side's JWT
//! authenticator, with the provider's published keys, accepts both tokens for the resource and
//! refuses a token the provider minted for another audience. Without the peers the test says so
//! and passes, unless `MCP_REQUIRE_PEERS` is set.

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
use mcp_client::Credentials;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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

/// Serves `document` at `path` (and 404 elsewhere) on `listener`: the resource's RFC 9728
/// metadata, a static document naming the provider.
fn serve_document(listener: TcpListener, path: String, document: Value) -> JoinHandle<()> {
    tokio::spawn(async move {
        let body = document.to_string();
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = vec![0u8; 8192];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&head[..n]);
            let target = head.split(' ').nth(1).unwrap_or("");
            let answer = if target == path {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    })
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
    // The protected resource: its URL is the resource indicator the provider knows.
    let resource_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Another resource server the provider issues tokens for.
    let other = "http://127.0.0.1:9/other-mcp";
    let resource = format!(
        "http://127.0.0.1:{}/mcp",
        resource_listener.local_addr().unwrap().port()
    );
    let provider = start_provider(&peers, &[&resource, other]).await;
    let metadata = serve_document(
        resource_listener,
        "/.well-known/oauth-protected-resource/mcp".into(),
        json!({
            "resource": resource,
            "authorization_servers": [provider.issuer],
            "scopes_supported": ["mcp:tools"],
        }),
    );

    let dir = temp_dir("oidc-provider");
    let store = Arc::new(FileStore::new(dir.join("oauth.json")));
    let http: Arc<dyn HttpFetch> = Arc::new(HyperFetcher::http());
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
    let authorized = oauth.authorize().await;
    let browsed: Vec<_> = std::mem::take(&mut *browsers.lock().unwrap());
    for task in browsed {
        task.await
            .unwrap()
            .expect("the stand-in browser reached the loopback listener");
    }
    authorized.expect("authorized with oidc-provider");

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
        "offline_access was asked for (the provider lists it, with prompt=consent as OpenID Connect wants) and granted: {tokens:?}"
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
    // expiry, refreshes with the resource indicator: a new token for the same audience.
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
    let header = later.authorization().await.expect("a token");
    let refreshed = header
        .strip_prefix("Bearer ")
        .expect("a bearer token")
        .to_owned();
    assert_ne!(refreshed, tokens.access_token, "refreshed");
    let second = claims(&refreshed);
    assert_eq!(second["aud"], resource.as_str());
    assert_eq!(second["client_id"], registration.client_id.as_str());
    assert_eq!(
        store
            .tokens(&resource)
            .await
            .unwrap()
            .map(|t| t.access_token),
        Some(refreshed.clone()),
        "the refreshed token replaced the old one in the store"
    );

    // The resource server's side: the JWT authenticator with the keys the provider publishes
    // at its jwks_uri accepts both tokens for this resource...
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
    let ours = verifier(&resource);
    for token in [&tokens.access_token, &refreshed] {
        let principal = ours
            .verify(token)
            .await
            .expect("the resource accepts its token");
        assert_eq!(principal.id, "alice");
        assert!(principal.scopes.contains("mcp:tools"), "{principal:?}");
    }
    // ...and refuses one the same provider minted for another resource (RFC 8707).
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
    let refused = ours
        .verify(foreign)
        .await
        .expect_err("another audience is refused");
    assert_eq!(refused.http_status(), 401, "{refused}");
    verifier(other)
        .verify(foreign)
        .await
        .expect("the token is good for its own audience: only the audience differs");

    metadata.abort();
    drop(provider);
    let _ = std::fs::remove_dir_all(dir);
}
