//! The OAuth 2.1 client of the MCP authorization spec, plugged into the HTTP transport.
//!
//! An [`OAuthClient`] is bound to one MCP server. It implements the transport's
//! [`Credentials`] hook: every request carries its access token, and a request the server
//! refuses with 401 (or 403 `insufficient_scope`) makes it authorize and have the transport
//! send the request again. What it does, in the spec's order:
//!
//! 1. **Protected-resource metadata** (RFC 9728): from the challenge's `resource_metadata`,
//!    else the path-inserted well-known URI, else the root one. Its `resource` must be this
//!    server (same origin, the server's path or a parent of it): otherwise
//!    [`OAuthClientError::ResourceMismatch`]. No metadata at all means a 2025-03-26 server:
//!    the authorization server is at the server's origin, with `/authorize`, `/token` and
//!    `/register` when it publishes no metadata either.
//! 2. **Authorization server metadata** (RFC 8414, then OpenID Connect discovery, at the
//!    places the spec lists for an issuer with or without a path); the document's `issuer`
//!    must be exactly the one it was fetched for.
//! 3. **Registration**, per authorization server issuer (credentials never travel to another
//!    server): a [`PreRegisteredClient`] for that issuer, else a registration kept in the
//!    [`CredentialStore`], else the application's Client ID Metadata Document when the server
//!    supports them, else dynamic registration (RFC 7591, with `application_type`).
//! 4. **Authorization code with PKCE S256** (refused when the server does not advertise
//!    S256), `state`, the `resource` indicator on the authorization and token requests, and
//!    the response's `iss` checked (RFC 9207): through a [`RedirectHandler`].
//! 5. **Scopes**: the challenge's `scope`, else the resource's `scopes_supported`, else none;
//!    `offline_access` added when the authorization server lists it; on 403
//!    `insufficient_scope`, the union of what was asked before and what the server now
//!    names, at most [`OAuthClientBuilder::max_step_ups`] times in a row for the same set.
//! 6. **Tokens** kept in the [`CredentialStore`], refreshed before they expire and after a
//!    401, or obtained with the client credentials grant for machine clients.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use mcp_auth::oauth::client::{FileStore, LoopbackRedirect, OAuthClient};
//! use mcp_client::{Client, ClientOptions, HttpClientOptions};
//!
//! let url = "http://127.0.0.1:8080/mcp";
//! let oauth = OAuthClient::builder(url)
//!     .redirect_handler(Arc::new(LoopbackRedirect::bind(0).await?))
//!     .store(Arc::new(FileStore::new("/home/me/.config/my-app/oauth.json")))
//!     .build()?;
//! let http = HttpClientOptions { credentials: Some(Arc::new(oauth)), ..HttpClientOptions::default() };
//! let client = Client::connect_http(url, ClientOptions::default(), http).await?;
//! # let _ = client; Ok(()) }
//! ```

mod challenge;
mod discovery;
mod error;
mod flow;
mod http;
mod metadata;
mod redirect;
mod registration;
mod scope;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use mcp_transport::http_client::{Challenge, Credentials};
use oauth2::url::Url;

pub use self::challenge::BearerChallenge;
pub use self::error::{OAuthClientError, OAuthClientErrorKind};
pub use self::http::HttpClientError;
pub use self::metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};
pub use self::redirect::{
    AuthorizationCallback, HeadlessRedirect, LoopbackRedirect, OpenUrl, RedirectHandler,
};
pub use self::registration::{
    ApplicationType, ClientMetadata, ClientRegistration, PreRegisteredClient, RegistrationSource,
    TokenEndpointAuthMethod,
};
pub use self::scope::{OFFLINE_ACCESS, Scopes};
pub use self::store::{CredentialStore, FileStore, MemoryStore, StoredTokens};

use self::flow::{Target, now};
use self::http::Http;
use self::scope::StepUps;
use crate::BoxFuture;
use crate::fetch::{FetchLimits, HttpFetch};

/// How tokens are obtained.
#[derive(Clone)]
enum Grant {
    /// A user authorizes in a browser (or a headless equivalent).
    AuthorizationCode(Arc<dyn RedirectHandler>),
    /// A machine client authenticates with its own pre-registered credentials.
    ClientCredentials,
}

/// Configures an [`OAuthClient`].
#[must_use]
pub struct OAuthClientBuilder {
    server_url: String,
    http: Option<Arc<dyn HttpFetch>>,
    limits: FetchLimits,
    store: Option<Arc<dyn CredentialStore>>,
    grant: Option<Grant>,
    metadata: ClientMetadata,
    client_id_metadata_url: Option<String>,
    pre_registered: Vec<PreRegisteredClient>,
    offline_access: bool,
    max_step_ups: u32,
    refresh_margin: Duration,
    protocol_version: Option<String>,
}

impl fmt::Debug for OAuthClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClientBuilder")
            .field("server_url", &self.server_url)
            .field("metadata", &self.metadata)
            .field("pre_registered", &self.pre_registered)
            .finish_non_exhaustive()
    }
}

impl OAuthClientBuilder {
    /// The HTTP client for metadata, registration and token requests. Default:
    /// [`HyperFetcher::https`](crate::fetch::HyperFetcher::https), `http://` and `https://`
    /// with the bundled and system roots; for a private CA,
    /// [`HyperFetcher::https_with`](crate::fetch::HyperFetcher::https_with).
    pub fn http_client(mut self, fetch: Arc<dyn HttpFetch>) -> Self {
        self.http = Some(fetch);
        self
    }

    /// The deadline and body limit of each of those requests (default: [`FetchLimits`]'s,
    /// 10 s and 1 MiB).
    pub fn http_limits(mut self, limits: FetchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Where registrations and tokens are kept (default: a [`MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Use the authorization code grant, taking the user through `handler`.
    pub fn redirect_handler(mut self, handler: Arc<dyn RedirectHandler>) -> Self {
        self.grant = Some(Grant::AuthorizationCode(handler));
        self
    }

    /// Use the client credentials grant with a [`pre_registered`](Self::pre_registered)
    /// client, for a machine client acting on its own behalf.
    pub fn client_credentials(mut self) -> Self {
        self.grant = Some(Grant::ClientCredentials);
        self
    }

    /// What the client says about itself when it registers (default: a native application
    /// named `mcp-rs`).
    pub fn client_metadata(mut self, metadata: ClientMetadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// The HTTPS URL of the application's Client ID Metadata Document, used as its client id
    /// at authorization servers that support them. The document itself is the application's
    /// to publish.
    pub fn client_id_metadata_document(mut self, url: impl Into<String>) -> Self {
        self.client_id_metadata_url = Some(url.into());
        self
    }

    /// Credentials given by an authorization server's operator; used with that server only.
    /// May be called several times, for several servers.
    pub fn pre_registered(mut self, client: PreRegisteredClient) -> Self {
        self.pre_registered.push(client);
        self
    }

    /// Whether to ask for refresh tokens with `offline_access` when the authorization server
    /// lists that scope (default true).
    pub fn offline_access(mut self, wanted: bool) -> Self {
        self.offline_access = wanted;
        self
    }

    /// How many times in a row the client re-authorizes for the same scopes after 403
    /// `insufficient_scope` (default 1).
    pub fn max_step_ups(mut self, max: u32) -> Self {
        self.max_step_ups = max;
        self
    }

    /// How long before its expiry an access token is refreshed (default 60 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The `MCP-Protocol-Version` sent on discovery requests to the MCP server when the
    /// refused request carried none (a refused `initialize`).
    pub fn protocol_version(mut self, version: impl Into<String>) -> Self {
        self.protocol_version = Some(version.into());
        self
    }

    /// The client. Fails when the server URL is not an absolute `http(s)` URL without user
    /// information, or no grant was chosen.
    pub fn build(self) -> Result<OAuthClient, OAuthClientError> {
        let server = Url::parse(&self.server_url).map_err(|e| {
            OAuthClientError::Config(format!("server URL {}: {e}", self.server_url))
        })?;
        if !matches!(server.scheme(), "http" | "https") || server.host_str().is_none() {
            return Err(OAuthClientError::Config(format!(
                "server URL {}: not an http(s) URL",
                self.server_url
            )));
        }
        if !server.username().is_empty() || server.password().is_some() {
            return Err(OAuthClientError::Config(
                "the server URL must not carry user information".into(),
            ));
        }
        let grant = self.grant.ok_or_else(|| {
            OAuthClientError::Config(
                "choose a grant: redirect_handler(...) or client_credentials()".into(),
            )
        })?;
        if matches!(grant, Grant::ClientCredentials) && self.pre_registered.is_empty() {
            return Err(OAuthClientError::Config(
                "the client credentials grant needs a pre-registered client".into(),
            ));
        }
        let key = discovery::canonical_resource(&server);
        Ok(OAuthClient {
            inner: Arc::new(Inner {
                server,
                key,
                http: Http::new(
                    self.http.unwrap_or_else(crate::fetch::default_fetcher),
                    self.limits,
                ),
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                grant,
                metadata: self.metadata,
                client_id_metadata_url: self.client_id_metadata_url,
                pre_registered: self.pre_registered,
                offline_access: self.offline_access,
                max_step_ups: self.max_step_ups,
                refresh_margin: self.refresh_margin,
                protocol_version: self.protocol_version,
                loaded: tokio::sync::OnceCell::new(),
                current: RwLock::new(Current::default()),
                flow: tokio::sync::Mutex::new(FlowState::default()),
                last_error: Mutex::new(None),
            }),
        })
    }
}

/// An OAuth 2.1 client for one MCP server: the transport's [`Credentials`]. Cheap to clone;
/// clones share tokens and state. See the [module documentation](self).
#[derive(Clone)]
pub struct OAuthClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("server", &self.inner.key)
            .finish_non_exhaustive()
    }
}

/// The tokens in use.
#[derive(Default)]
struct Current {
    tokens: Option<StoredTokens>,
    /// Whether they came from a refresh: a refreshed token the server refuses is not
    /// refreshed again.
    refreshed: bool,
}

/// What authorizations share; held (a tokio mutex) for the length of one, so that
/// concurrent refusals lead to one authorization.
#[derive(Default)]
struct FlowState {
    /// Authorization server metadata by issuer.
    servers: HashMap<String, AuthorizationServerMetadata>,
    /// The scopes asked for so far (without `offline_access`).
    requested: Scopes,
    step_ups: StepUps,
}

struct Inner {
    server: Url,
    /// The canonical server URL: the key of its tokens in the store.
    key: String,
    http: Http,
    store: Arc<dyn CredentialStore>,
    grant: Grant,
    metadata: ClientMetadata,
    client_id_metadata_url: Option<String>,
    pre_registered: Vec<PreRegisteredClient>,
    offline_access: bool,
    max_step_ups: u32,
    refresh_margin: Duration,
    protocol_version: Option<String>,
    loaded: tokio::sync::OnceCell<()>,
    current: RwLock<Current>,
    flow: tokio::sync::Mutex<FlowState>,
    last_error: Mutex<Option<OAuthClientError>>,
}

impl OAuthClient {
    /// Starts configuring a client for the MCP server at `server_url` (the URL the transport
    /// connects to).
    pub fn builder(server_url: impl Into<String>) -> OAuthClientBuilder {
        OAuthClientBuilder {
            server_url: server_url.into(),
            http: None,
            limits: FetchLimits::default(),
            store: None,
            grant: None,
            metadata: ClientMetadata::default(),
            client_id_metadata_url: None,
            pre_registered: Vec::new(),
            offline_access: true,
            max_step_ups: 1,
            refresh_margin: Duration::from_secs(60),
            protocol_version: None,
        }
    }

    /// Authorizes now, without waiting for the server to refuse a request: discovery by the
    /// well-known URIs, then a new grant with the resource's advertised scopes. For
    /// command-line tools that log in before they connect.
    pub async fn authorize(&self) -> Result<(), OAuthClientError> {
        self.inner.ensure_loaded().await;
        let mut state = self.inner.flow.lock().await;
        let version = self.inner.protocol_version.clone();
        let target = self
            .inner
            .discover(&mut state, None, version.as_deref())
            .await?;
        let wanted = state
            .requested
            .union(&scope::select(None, target.scopes_supported.as_deref()));
        self.inner.obtain(&mut state, &target, wanted).await
    }

    /// Handles a refusal as [`Credentials::on_challenge`] does, with the error when
    /// authorizing failed. `Ok(true)`: send the request again.
    pub async fn handle_challenge(&self, challenge: &Challenge) -> Result<bool, OAuthClientError> {
        self.inner.challenge(challenge).await
    }

    /// The tokens in use, if any (loaded from the store on first use).
    pub async fn tokens(&self) -> Option<StoredTokens> {
        self.inner.ensure_loaded().await;
        self.inner.current_tokens()
    }

    /// Forgets this server's tokens, here and in the store.
    pub async fn sign_out(&self) -> Result<(), OAuthClientError> {
        self.inner.ensure_loaded().await;
        let _state = self.inner.flow.lock().await;
        if let Ok(mut current) = self.inner.current.write() {
            *current = Current::default();
        }
        self.inner.store.save_tokens(&self.inner.key, None).await
    }

    /// Why the last authorization the transport asked for failed (the hook itself can only
    /// say "do not retry").
    pub fn last_error(&self) -> Option<OAuthClientError> {
        self.inner.last_error.lock().ok().and_then(|e| e.clone())
    }
}

impl Credentials for OAuthClient {
    fn authorization(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(self.inner.authorization())
    }

    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match self.inner.challenge(challenge).await {
                Ok(retry) => retry,
                Err(e) => {
                    tracing::warn!(server = %self.inner.key, error = %e, "authorization failed");
                    if let Ok(mut last) = self.inner.last_error.lock() {
                        *last = Some(e);
                    }
                    false
                }
            }
        })
    }
}

fn bearer(tokens: &StoredTokens) -> String {
    format!("Bearer {}", tokens.access_token)
}

impl Inner {
    fn current_tokens(&self) -> Option<StoredTokens> {
        self.current.read().ok().and_then(|c| c.tokens.clone())
    }

    /// Loads this server's tokens from the store, once.
    async fn ensure_loaded(&self) {
        self.loaded
            .get_or_init(|| async {
                match self.store.tokens(&self.key).await {
                    Ok(tokens) => {
                        if let Ok(mut current) = self.current.write()
                            && current.tokens.is_none()
                        {
                            current.tokens = tokens;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(server = %self.key, error = %e, "cannot load stored tokens");
                    }
                }
            })
            .await;
    }

    /// Makes `tokens` the ones in use and keeps them in the store (a store failure is
    /// logged: the tokens still work for this process).
    async fn set_tokens(&self, tokens: StoredTokens, refreshed: bool) {
        if let Err(e) = self.store.save_tokens(&self.key, Some(&tokens)).await {
            tracing::warn!(server = %self.key, error = %e, "cannot store tokens");
        }
        if let Ok(mut current) = self.current.write() {
            *current = Current {
                tokens: Some(tokens),
                refreshed,
            };
        }
    }

    fn due(&self, tokens: &StoredTokens) -> bool {
        tokens
            .expires_at
            .is_some_and(|at| at <= now().saturating_add(self.refresh_margin.as_secs()))
    }

    /// The `Authorization` value for the next request, refreshing a token about to expire.
    async fn authorization(&self) -> Option<String> {
        self.ensure_loaded().await;
        let tokens = self.current_tokens()?;
        if self.due(&tokens) && tokens.refresh_token.is_some() {
            let mut state = self.flow.lock().await;
            // Another request may have refreshed while this one waited for the lock.
            if let Some(tokens) = self.current_tokens()
                && self.due(&tokens)
                && tokens.refresh_token.is_some()
                && let Err(e) = self.refresh(&mut state, &tokens).await
            {
                tracing::warn!(server = %self.key, error = %e, "refreshing the access token failed");
            }
        }
        self.current_tokens().as_ref().map(bearer)
    }

    async fn refresh(
        &self,
        state: &mut FlowState,
        tokens: &StoredTokens,
    ) -> Result<(), OAuthClientError> {
        let server = self
            .authorization_server(state, &tokens.issuer, None)
            .await?;
        let registration = self.known_registration(&server).await?.ok_or_else(|| {
            OAuthClientError::NoRegistration {
                issuer: server.issuer.clone(),
                reason: "the registration the tokens were issued to is gone".into(),
            }
        })?;
        let fresh = flow::refresh(&self.http, &server, &registration, tokens).await?;
        self.set_tokens(fresh, true).await;
        Ok(())
    }

    /// A refusal: authorize (or refresh, or step up) and say whether to retry.
    async fn challenge(&self, challenge: &Challenge) -> Result<bool, OAuthClientError> {
        let bearer_challenge = challenge
            .www_authenticate
            .as_deref()
            .and_then(BearerChallenge::parse)
            .unwrap_or_default();
        let insufficient_scope =
            challenge.status == 403 && bearer_challenge.is_insufficient_scope();
        if challenge.status != 401 && !insufficient_scope {
            return Ok(false);
        }
        self.ensure_loaded().await;
        let mut state = self.flow.lock().await;
        if state.requested.is_empty()
            && let Some(tokens) = self.current_tokens()
        {
            // Tokens from the store (an earlier run): a step-up keeps what they could do.
            state.requested = Scopes::parse(&tokens.scope)
                .iter()
                .filter(|s| *s != OFFLINE_ACCESS)
                .collect();
        }
        let (sent_now, refreshed) = match self.current.read() {
            Ok(c) => (c.tokens.as_ref().map(bearer), c.refreshed),
            Err(_) => (None, false),
        };
        if sent_now.is_some() && sent_now != challenge.authorization {
            // The credentials changed after the request went out (another request's
            // refusal was handled meanwhile): try the new ones first.
            return Ok(true);
        }
        let version = challenge
            .protocol_version
            .clone()
            .or_else(|| self.protocol_version.clone());
        let target = self
            .discover(
                &mut state,
                bearer_challenge.resource_metadata.as_deref(),
                version.as_deref(),
            )
            .await?;

        if insufficient_scope {
            let challenged = Scopes::parse(bearer_challenge.scope.as_deref().unwrap_or_default());
            if challenged.is_empty() {
                // Nothing to step up to.
                return Ok(false);
            }
            let wanted = state.requested.union(&challenged);
            if let Err(attempts) = state.step_ups.allow(&wanted, self.max_step_ups) {
                return Err(OAuthClientError::StepUpLimit {
                    scopes: wanted.to_string(),
                    attempts,
                });
            }
            self.obtain(&mut state, &target, wanted).await?;
            return Ok(true);
        }

        if let Some(tokens) = self.current_tokens()
            && tokens.refresh_token.is_some()
            && tokens.issuer == target.server.issuer
            && !refreshed
        {
            match self.refresh(&mut state, &tokens).await {
                Ok(()) => return Ok(true),
                Err(e) => {
                    tracing::info!(server = %self.key, error = %e, "refresh failed; authorizing anew")
                }
            }
        }
        let wanted = state.requested.union(&scope::select(
            bearer_challenge.scope.as_deref(),
            target.scopes_supported.as_deref(),
        ));
        self.obtain(&mut state, &target, wanted).await?;
        Ok(true)
    }

    /// The protected resource and its authorization server.
    async fn discover(
        &self,
        state: &mut FlowState,
        resource_metadata: Option<&str>,
        version: Option<&str>,
    ) -> Result<Target, OAuthClientError> {
        let found = discovery::discover_protected_resource(
            &self.http,
            &self.server,
            resource_metadata,
            version,
        )
        .await?;
        match found {
            Some(found) => {
                let metadata = found.metadata;
                // RFC 9728 section 7.6 leaves the choice to the client: the first one listed.
                let issuer = &metadata.authorization_servers[0];
                let server = self.authorization_server(state, issuer, None).await?;
                Ok(Target {
                    resource: metadata.resource,
                    server,
                    scopes_supported: metadata.scopes_supported,
                })
            }
            None => self.legacy_target(version).await,
        }
    }

    /// A 2025-03-26 server: no protected-resource metadata; the authorization server lives
    /// at the server's origin, with default endpoints if it publishes no metadata.
    async fn legacy_target(&self, version: Option<&str>) -> Result<Target, OAuthClientError> {
        let base = discovery::legacy_authorization_base(&self.server);
        let base_url = Url::parse(&base).map_err(|e| OAuthClientError::Discovery(e.to_string()))?;
        let mut server = None;
        for url in discovery::authorization_server_candidates(&base_url) {
            if let Some(found) =
                discovery::fetch_document::<AuthorizationServerMetadata>(&self.http, &url, version)
                    .await?
            {
                // The issuer is the origin, written with or without its root slash.
                if found.issuer.trim_end_matches('/') != base {
                    return Err(OAuthClientError::IssuerMismatch {
                        expected: base,
                        found: found.issuer,
                    });
                }
                server = Some(found);
                break;
            }
        }
        let server = server.unwrap_or_else(|| AuthorizationServerMetadata {
            issuer: base.clone(),
            authorization_endpoint: Some(format!("{base}/authorize")),
            token_endpoint: Some(format!("{base}/token")),
            registration_endpoint: Some(format!("{base}/register")),
            // 2025-03-26 requires PKCE of every server, and S256 of every client that can.
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            ..AuthorizationServerMetadata::default()
        });
        Ok(Target {
            resource: discovery::canonical_resource(&self.server),
            server,
            scopes_supported: None,
        })
    }

    /// The metadata of the authorization server `issuer`, fetched once per client.
    async fn authorization_server(
        &self,
        state: &mut FlowState,
        issuer: &str,
        version: Option<&str>,
    ) -> Result<AuthorizationServerMetadata, OAuthClientError> {
        if let Some(server) = state.servers.get(issuer) {
            return Ok(server.clone());
        }
        let url = Url::parse(issuer).map_err(|e| OAuthClientError::InvalidMetadata {
            url: issuer.to_owned(),
            reason: format!("the issuer is not a URL: {e}"),
        })?;
        let candidates = discovery::authorization_server_candidates(&url);
        let server =
            discovery::discover_authorization_server(&self.http, issuer, &candidates, version)
                .await?
                .ok_or_else(|| {
                    OAuthClientError::Discovery(format!(
                        "no authorization server metadata for {issuer} (tried {})",
                        candidates.join(", ")
                    ))
                })?;
        state.servers.insert(issuer.to_owned(), server.clone());
        Ok(server)
    }

    /// A registration at `server` that needs no request: pre-registered (for that issuer
    /// first, then for any), kept in the store, or the Client ID Metadata Document.
    async fn known_registration(
        &self,
        server: &AuthorizationServerMetadata,
    ) -> Result<Option<ClientRegistration>, OAuthClientError> {
        let issuer = &server.issuer;
        let pre = self
            .pre_registered
            .iter()
            .find(|p| p.issuer.as_deref() == Some(issuer))
            .or_else(|| self.pre_registered.iter().find(|p| p.is_for(issuer)));
        if let Some(pre) = pre {
            return Ok(Some(pre.registration(server)));
        }
        let redirect_uri = match &self.grant {
            Grant::AuthorizationCode(redirect) => Some(redirect.redirect_uri()),
            Grant::ClientCredentials => None,
        };
        if let Some(kept) = self.store.client(issuer).await?
            && kept.issuer == *issuer
            && !kept.is_expired(now())
            && redirect_uri.is_none_or(|r| kept.allows_redirect(r))
        {
            return Ok(Some(kept));
        }
        if server.client_id_metadata_document_supported
            && matches!(self.grant, Grant::AuthorizationCode(_))
            && let Some(url) = &self.client_id_metadata_url
        {
            return Ok(Some(ClientRegistration {
                issuer: issuer.clone(),
                client_id: url.clone(),
                client_secret: None,
                client_secret_expires_at: None,
                token_endpoint_auth_method: TokenEndpointAuthMethod::None,
                source: RegistrationSource::MetadataDocument,
                redirect_uris: Vec::new(),
            }));
        }
        Ok(None)
    }

    /// The client's registration at the target's authorization server, registering
    /// dynamically when nothing else gives one.
    async fn registration(
        &self,
        target: &Target,
        redirect_uri: &str,
    ) -> Result<ClientRegistration, OAuthClientError> {
        if let Some(known) = self.known_registration(&target.server).await? {
            return Ok(known);
        }
        let server = &target.server;
        let Some(endpoint) = &server.registration_endpoint else {
            return Err(OAuthClientError::NoRegistration {
                issuer: server.issuer.clone(),
                reason: "no pre-registered client for it, no Client ID Metadata Document it \
                         accepts, and no registration endpoint"
                    .into(),
            });
        };
        let registration =
            registration::register(&self.http, server, endpoint, &self.metadata, redirect_uri)
                .await?;
        self.store.save_client(&registration).await?;
        Ok(registration)
    }

    /// A new grant for `wanted` (plus `offline_access` where it applies).
    async fn obtain(
        &self,
        state: &mut FlowState,
        target: &Target,
        wanted: Scopes,
    ) -> Result<(), OAuthClientError> {
        let tokens = match &self.grant {
            Grant::AuthorizationCode(redirect) => {
                let scopes = scope::with_offline_access(
                    wanted.clone(),
                    self.offline_access,
                    target.server.lists_scope(OFFLINE_ACCESS),
                );
                let registration = self.registration(target, redirect.redirect_uri()).await?;
                flow::authorization_code(&self.http, &**redirect, target, &registration, &scopes)
                    .await?
            }
            Grant::ClientCredentials => {
                let registration =
                    self.known_registration(&target.server)
                        .await?
                        .ok_or_else(|| OAuthClientError::NoRegistration {
                            issuer: target.server.issuer.clone(),
                            reason:
                                "no pre-registered client for it (the client credentials grant \
                                 needs one)"
                                    .into(),
                        })?;
                flow::client_credentials(&self.http, target, &registration, &wanted).await?
            }
        };
        state.requested = wanted;
        self.set_tokens(tokens, false).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::{Value, json};
    use sha2::Digest as _;

    const SERVER: &str = "http://mcp.test/mcp";
    const ISSUER: &str = "http://as.test";

    /// One request the client sent: method, URL, form or JSON body.
    type Sent = (String, String, String);

    /// The resource's metadata and an authorization server, answering from memory; every
    /// request is recorded. The authorization server stands in for one nobody here wrote.
    #[derive(Debug)]
    struct Servers {
        authorization_server: Value,
        sent: Mutex<Vec<Sent>>,
    }

    impl Servers {
        fn new(authorization_server: Value) -> Arc<Self> {
            Arc::new(Self {
                authorization_server,
                sent: Mutex::new(Vec::new()),
            })
        }

        fn sent(&self, path: &str) -> Vec<Sent> {
            self.sent
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, url, _)| url.contains(path))
                .cloned()
                .collect()
        }
    }

    fn json_answer(status: u16, body: &Value) -> ::http::Response<bytes::Bytes> {
        ::http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(bytes::Bytes::from(body.to_string()))
            .unwrap()
    }

    impl HttpFetch for Servers {
        fn fetch(
            &self,
            request: ::http::Request<bytes::Bytes>,
            _limits: FetchLimits,
        ) -> BoxFuture<'_, Result<::http::Response<bytes::Bytes>, crate::fetch::FetchError>>
        {
            let url = request.uri().to_string();
            let body = String::from_utf8_lossy(request.body()).into_owned();
            let tokens = {
                let mut sent = self.sent.lock().unwrap();
                sent.push((request.method().to_string(), url.clone(), body));
                sent.iter()
                    .filter(|(_, u, _)| u.ends_with("/token"))
                    .count()
            };
            let answer = match url.as_str() {
                "http://mcp.test/.well-known/oauth-protected-resource/mcp" => json_answer(
                    200,
                    &json!({
                        "resource": SERVER,
                        "authorization_servers": [ISSUER],
                        "scopes_supported": ["read"],
                    }),
                ),
                "http://as.test/.well-known/oauth-authorization-server" => {
                    json_answer(200, &self.authorization_server)
                }
                "http://as.test/register" => json_answer(201, &json!({"client_id": "registered"})),
                "http://as.test/token" => json_answer(
                    200,
                    &json!({"access_token": format!("token-{tokens}"), "token_type": "Bearer", "expires_in": 3600}),
                ),
                _ => json_answer(404, &json!({})),
            };
            Box::pin(async move { Ok(answer) })
        }
    }

    fn server_metadata() -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "http://as.test/authorize",
            "token_endpoint": "http://as.test/token",
            "registration_endpoint": "http://as.test/register",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    /// A user who approves at once: the code comes back with the request's state and the
    /// issuer. Every authorization URL is recorded.
    #[derive(Debug, Default)]
    struct Approve {
        urls: Mutex<Vec<Url>>,
    }

    impl RedirectHandler for Approve {
        fn redirect_uri(&self) -> &str {
            "http://127.0.0.1:1/callback"
        }

        fn authorize<'a>(
            &'a self,
            authorization_url: &'a str,
        ) -> BoxFuture<'a, Result<AuthorizationCallback, OAuthClientError>> {
            let url = Url::parse(authorization_url).unwrap();
            let state = param(&url, "state");
            self.urls.lock().unwrap().push(url);
            Box::pin(async move {
                Ok(AuthorizationCallback::from_query(&format!(
                    "code=the-code&state={}&iss={ISSUER}",
                    state.unwrap_or_default()
                )))
            })
        }
    }

    fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    fn form(body: &str, name: &str) -> Option<String> {
        oauth2::url::form_urlencoded::parse(body.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    fn client(servers: &Arc<Servers>, approve: &Arc<Approve>) -> OAuthClient {
        OAuthClient::builder(SERVER)
            .http_client(servers.clone())
            .redirect_handler(approve.clone())
            .build()
            .unwrap()
    }

    fn challenge(status: u16, www_authenticate: &str, sent: Option<&str>) -> Challenge {
        let mut c = Challenge::new(status);
        c.www_authenticate = Some(www_authenticate.to_owned());
        c.authorization = sent.map(str::to_owned);
        c
    }

    #[tokio::test]
    async fn pkce_s256_state_and_resource_on_both_requests() {
        let servers = Servers::new(server_metadata());
        let approve = Arc::new(Approve::default());
        let oauth = client(&servers, &approve);
        assert!(
            oauth
                .handle_challenge(&challenge(401, "Bearer", None))
                .await
                .unwrap()
        );

        let url = approve.urls.lock().unwrap()[0].clone();
        assert_eq!(
            param(&url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(param(&url, "resource").as_deref(), Some(SERVER));
        assert_eq!(
            param(&url, "scope").as_deref(),
            Some("read"),
            "the resource's scopes"
        );
        assert_eq!(param(&url, "client_id").as_deref(), Some("registered"));
        let challenge = param(&url, "code_challenge").unwrap();

        let token = &servers.sent("/token")[0].2;
        let verifier = form(token, "code_verifier").expect("the verifier is sent");
        let digest = sha2::Sha256::digest(verifier.as_bytes());
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
            challenge,
            "BASE64URL(SHA256(verifier)) is the challenge sent"
        );
        assert_eq!(form(token, "resource").as_deref(), Some(SERVER));
        assert_eq!(form(token, "code").as_deref(), Some("the-code"));
        assert_eq!(
            form(token, "grant_type").as_deref(),
            Some("authorization_code")
        );
        assert_eq!(
            oauth.authorization().await.as_deref(),
            Some("Bearer token-1")
        );

        let registration = &servers.sent("/register")[0].2;
        let registration: Value = serde_json::from_str(registration).unwrap();
        assert_eq!(registration["application_type"], "native");
        assert_eq!(
            registration["redirect_uris"],
            json!(["http://127.0.0.1:1/callback"])
        );
    }

    #[tokio::test]
    async fn a_server_without_s256_is_refused_before_the_user_is_sent_there() {
        let mut metadata = server_metadata();
        metadata["code_challenge_methods_supported"] = json!(["plain"]);
        for metadata in [metadata.clone(), {
            let mut m = metadata;
            m.as_object_mut()
                .unwrap()
                .remove("code_challenge_methods_supported");
            m
        }] {
            let servers = Servers::new(metadata);
            let approve = Arc::new(Approve::default());
            let err = client(&servers, &approve)
                .handle_challenge(&challenge(401, "Bearer", None))
                .await
                .unwrap_err();
            assert_eq!(
                err,
                OAuthClientError::PkceNotSupported {
                    issuer: ISSUER.into()
                }
            );
            assert!(approve.urls.lock().unwrap().is_empty());
            assert!(servers.sent("/token").is_empty());
        }
    }

    #[tokio::test]
    async fn a_refusal_of_an_older_token_is_retried_without_a_new_authorization() {
        let servers = Servers::new(server_metadata());
        let approve = Arc::new(Approve::default());
        let oauth = client(&servers, &approve);
        assert!(
            oauth
                .handle_challenge(&challenge(401, "Bearer", None))
                .await
                .unwrap()
        );
        // A request sent before the token existed, or with an older one, is refused later.
        assert!(
            oauth
                .handle_challenge(&challenge(401, "Bearer", None))
                .await
                .unwrap()
        );
        assert!(
            oauth
                .handle_challenge(&challenge(401, "Bearer", Some("Bearer stale")))
                .await
                .unwrap()
        );
        assert_eq!(approve.urls.lock().unwrap().len(), 1, "one authorization");
        assert_eq!(servers.sent("/token").len(), 1);
    }

    #[tokio::test]
    async fn step_up_asks_for_the_union_and_stops_at_the_limit() {
        let servers = Servers::new(server_metadata());
        let approve = Arc::new(Approve::default());
        let oauth = client(&servers, &approve);
        let first = r#"Bearer scope="read""#;
        assert!(
            oauth
                .handle_challenge(&challenge(401, first, None))
                .await
                .unwrap()
        );
        let more = r#"Bearer error="insufficient_scope", scope="write""#;
        assert!(
            oauth
                .handle_challenge(&challenge(403, more, Some("Bearer token-1")))
                .await
                .unwrap()
        );
        let scopes: Vec<_> = approve
            .urls
            .lock()
            .unwrap()
            .iter()
            .map(|u| param(u, "scope").unwrap_or_default())
            .collect();
        assert_eq!(scopes, ["read", "read write"]);

        let err = oauth
            .handle_challenge(&challenge(403, more, Some("Bearer token-2")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, OAuthClientError::StepUpLimit { attempts: 1, .. }),
            "{err}"
        );
        assert_eq!(
            approve.urls.lock().unwrap().len(),
            2,
            "no third authorization"
        );

        // A 403 that is not about scopes, or names none, is not retried.
        let forbidden = challenge(
            403,
            r#"Bearer error="insufficient_scope""#,
            Some("Bearer token-2"),
        );
        assert!(!oauth.handle_challenge(&forbidden).await.unwrap());
        assert!(
            !oauth
                .handle_challenge(&challenge(403, "Bearer", Some("Bearer token-2")))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_metadata_issuer_that_differs_stops_everything() {
        let mut metadata = server_metadata();
        metadata["issuer"] = json!("http://as.test/");
        let servers = Servers::new(metadata);
        let approve = Arc::new(Approve::default());
        let err = client(&servers, &approve)
            .handle_challenge(&challenge(401, "Bearer", None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, OAuthClientError::IssuerMismatch { .. }),
            "{err}"
        );
        assert!(servers.sent("/register").is_empty());
        assert!(approve.urls.lock().unwrap().is_empty());
    }
}
