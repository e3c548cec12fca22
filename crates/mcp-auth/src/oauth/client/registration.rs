//! Who the client is at an authorization server: pre-registered, a Client ID Metadata
//! Document, or dynamically registered (RFC 7591), always bound to one issuer.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::OAuthClientError;
use super::http::{Http, HttpClientError};
use super::metadata::AuthorizationServerMetadata;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// `client_secret_basic`: the id and secret in an HTTP Basic `Authorization` header.
    ClientSecretBasic,
    /// `client_secret_post`: the id and secret in the form body.
    ClientSecretPost,
    /// `none`: a public client; only its id in the body.
    None,
}

impl TokenEndpointAuthMethod {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// What kind of application the client is (OpenID Connect Registration; SEP-837).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// A desktop or command-line application, redirecting to a loopback address.
    #[default]
    Native,
    /// A web application with an HTTPS redirect.
    Web,
}

/// Where a [`ClientRegistration`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistrationSource {
    /// Configured by the application ([`PreRegisteredClient`]).
    PreRegistered,
    /// The URL of the application's Client ID Metadata Document is the client id.
    MetadataDocument,
    /// Dynamic client registration (RFC 7591).
    Dynamic,
}

/// The client's identity at one authorization server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientRegistration {
    /// The authorization server's issuer: the registration is used with it only (SEP-2352).
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret of a confidential client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the secret expires (seconds since the Unix epoch; `None` or 0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// How to authenticate at the token endpoint.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Where it came from.
    pub source: RegistrationSource,
    /// The redirect URIs registered (dynamic registrations; empty when unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
}

impl fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("client_secret_expires_at", &self.client_secret_expires_at)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .field("source", &self.source)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

impl ClientRegistration {
    /// Whether `redirect_uri` may be used with this registration: no redirect URIs known, one
    /// of them, or a loopback one differing only in its port (RFC 8252 section 7.3 has
    /// authorization servers allow any port there, and a loopback listener gets a new port
    /// each run).
    pub fn allows_redirect(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.is_empty()
            || self
                .redirect_uris
                .iter()
                .any(|r| r == redirect_uri || same_loopback_redirect(r, redirect_uri))
    }

    /// Whether the secret has expired at `now` (seconds since the Unix epoch).
    pub fn is_expired(&self, now: u64) -> bool {
        self.client_secret_expires_at
            .is_some_and(|t| t != 0 && t <= now)
    }
}

/// Client credentials the application was given by an authorization server's operator.
///
/// ```
/// use mcp_auth::oauth::client::PreRegisteredClient;
///
/// let client = PreRegisteredClient::new("https://auth.example.com", "my-client")
///     .with_secret("s3cret");
/// # let _ = client;
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreRegisteredClient {
    /// The issuer these credentials belong to; `None` means any authorization server the
    /// MCP server names, which gives up the protection of SEP-2352 (credentials never reach
    /// a server they were not issued by): use it only for a server you control.
    pub issuer: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The client secret, for a confidential client.
    pub client_secret: Option<String>,
    /// How to authenticate at the token endpoint; `None` chooses from what the server
    /// advertises.
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
}

impl fmt::Debug for PreRegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreRegisteredClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

impl PreRegisteredClient {
    /// A public client registered at `issuer`.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            issuer: Some(issuer.into()),
            client_id: client_id.into(),
            client_secret: None,
            token_endpoint_auth_method: None,
        }
    }

    /// A client valid at whichever authorization server the MCP server names (see
    /// [`issuer`](Self::issuer)).
    pub fn for_any_issuer(client_id: impl Into<String>) -> Self {
        Self {
            issuer: None,
            ..Self::new(String::new(), client_id)
        }
    }

    /// With a client secret (a confidential client).
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// With this token endpoint authentication method.
    #[must_use]
    pub fn with_auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
        self.token_endpoint_auth_method = Some(method);
        self
    }

    /// Whether these credentials may be used with `issuer`.
    pub(crate) fn is_for(&self, issuer: &str) -> bool {
        self.issuer.as_deref().is_none_or(|i| i == issuer)
    }

    /// The registration at `issuer`.
    pub(crate) fn registration(&self, server: &AuthorizationServerMetadata) -> ClientRegistration {
        ClientRegistration {
            issuer: server.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_secret_expires_at: None,
            token_endpoint_auth_method: self
                .token_endpoint_auth_method
                .unwrap_or_else(|| method_for_secret(self.client_secret.is_some(), server)),
            source: RegistrationSource::PreRegistered,
            redirect_uris: Vec::new(),
        }
    }
}

/// Whether `a` and `b` are `http` redirects to the same loopback IP literal and path.
fn same_loopback_redirect(a: &str, b: &str) -> bool {
    let (Ok(a), Ok(b)) = (oauth2::url::Url::parse(a), oauth2::url::Url::parse(b)) else {
        return false;
    };
    let loopback = |u: &oauth2::url::Url| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]"))
    };
    loopback(&a)
        && loopback(&b)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
}

/// What the client says about itself when it registers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientMetadata {
    /// The name shown to the user on the consent screen.
    pub client_name: String,
    /// The application's home page.
    pub client_uri: Option<String>,
    /// Native (loopback redirect) or web.
    pub application_type: ApplicationType,
    /// An identifier of the software, the same for all its installations.
    pub software_id: Option<String>,
    /// The software's version.
    pub software_version: Option<String>,
}

impl ClientMetadata {
    /// A native application called `client_name`.
    pub fn new(client_name: impl Into<String>) -> Self {
        Self {
            client_name: client_name.into(),
            client_uri: None,
            application_type: ApplicationType::Native,
            software_id: None,
            software_version: None,
        }
    }

    /// With this application type.
    #[must_use]
    pub fn with_application_type(mut self, application_type: ApplicationType) -> Self {
        self.application_type = application_type;
        self
    }
}

impl Default for ClientMetadata {
    fn default() -> Self {
        Self::new("mcp-rs")
    }
}

/// How a client with (or without) a secret authenticates at `server`, from what it
/// advertises: `client_secret_basic` when listed or when the list is absent (RFC 8414's
/// default), `client_secret_post` when only that is listed; `none` without a secret.
pub(crate) fn method_for_secret(
    has_secret: bool,
    server: &AuthorizationServerMetadata,
) -> TokenEndpointAuthMethod {
    if !has_secret {
        return TokenEndpointAuthMethod::None;
    }
    match server.token_endpoint_auth_methods_supported.as_deref() {
        Some(methods)
            if !methods.iter().any(|m| m == "client_secret_basic")
                && methods.iter().any(|m| m == "client_secret_post") =>
        {
            TokenEndpointAuthMethod::ClientSecretPost
        }
        _ => TokenEndpointAuthMethod::ClientSecretBasic,
    }
}

/// The method to ask for when registering: `none` (a public client, which is what a native
/// application is) unless the server lists methods and `none` is not among them; then
/// `client_secret_basic` or `client_secret_post`, whichever it lists first.
pub(crate) fn method_to_register(server: &AuthorizationServerMetadata) -> TokenEndpointAuthMethod {
    let Some(methods) = server.token_endpoint_auth_methods_supported.as_deref() else {
        return TokenEndpointAuthMethod::None;
    };
    if methods.iter().any(|m| m == "none") {
        return TokenEndpointAuthMethod::None;
    }
    methods
        .iter()
        .find_map(|m| {
            TokenEndpointAuthMethod::from_name(m).filter(|m| *m != TokenEndpointAuthMethod::None)
        })
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic)
}

/// The registration request (RFC 7591 section 2).
#[derive(Debug, Serialize)]
struct RegistrationRequest<'a> {
    client_name: &'a str,
    redirect_uris: Vec<&'a str>,
    grant_types: &'a [&'a str],
    response_types: &'a [&'a str],
    token_endpoint_auth_method: &'a str,
    application_type: ApplicationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_version: Option<&'a str>,
}

/// The registration response (RFC 7591 section 3.2.1), what the client keeps of it.
#[derive(Debug, Deserialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    client_secret_expires_at: Option<u64>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// An error response (RFC 7591 section 3.2.2).
#[derive(Debug, Deserialize)]
struct RegistrationError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Registers at `server`'s registration endpoint for the authorization code grant with
/// `redirect_uri`.
pub(crate) async fn register(
    http: &Http,
    server: &AuthorizationServerMetadata,
    endpoint: &str,
    metadata: &ClientMetadata,
    redirect_uri: &str,
) -> Result<ClientRegistration, OAuthClientError> {
    let method = method_to_register(server);
    let body = RegistrationRequest {
        client_name: &metadata.client_name,
        redirect_uris: vec![redirect_uri],
        grant_types: &["authorization_code", "refresh_token"],
        response_types: &["code"],
        token_endpoint_auth_method: method.as_str(),
        application_type: metadata.application_type,
        client_uri: metadata.client_uri.as_deref(),
        software_id: metadata.software_id.as_deref(),
        software_version: metadata.software_version.as_deref(),
    };
    let failed = |reason: String| OAuthClientError::Registration {
        issuer: server.issuer.clone(),
        reason,
    };
    let body = serde_json::to_vec(&body).map_err(|e| failed(e.to_string()))?;
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(endpoint)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .map_err(|e| HttpClientError::InvalidRequest {
            url: endpoint.to_owned(),
            reason: e.to_string(),
        })?;
    let response = http.send(request).await?;
    if !response.status().is_success() {
        let reason = match serde_json::from_slice::<RegistrationError>(response.body()) {
            Ok(e) => match e.error_description {
                Some(d) => format!("{} ({d})", e.error),
                None => e.error,
            },
            Err(_) => format!("HTTP {}", response.status()),
        };
        return Err(failed(reason));
    }
    let answer: RegistrationResponse = serde_json::from_slice(response.body())
        .map_err(|e| failed(format!("invalid answer: {e}")))?;
    let method = match answer.token_endpoint_auth_method.as_deref() {
        Some(name) => TokenEndpointAuthMethod::from_name(name).ok_or_else(|| {
            failed(format!(
                "the server assigned the unsupported token endpoint authentication method {name:?}"
            ))
        })?,
        None => method_for_secret(answer.client_secret.is_some(), server),
    };
    Ok(ClientRegistration {
        issuer: server.issuer.clone(),
        client_id: answer.client_id,
        client_secret: answer.client_secret,
        client_secret_expires_at: answer.client_secret_expires_at,
        token_endpoint_auth_method: method,
        source: RegistrationSource::Dynamic,
        redirect_uris: if answer.redirect_uris.is_empty() {
            vec![redirect_uri.to_owned()]
        } else {
            answer.redirect_uris
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(methods: Option<&[&str]>) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata {
            issuer: "https://as".into(),
            token_endpoint_auth_methods_supported: methods
                .map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
            ..AuthorizationServerMetadata::default()
        }
    }

    #[test]
    fn the_method_to_register_prefers_a_public_client() {
        use TokenEndpointAuthMethod as M;
        assert_eq!(method_to_register(&server(None)), M::None);
        assert_eq!(
            method_to_register(&server(Some(&["client_secret_basic", "none"]))),
            M::None
        );
        assert_eq!(
            method_to_register(&server(Some(&["client_secret_post"]))),
            M::ClientSecretPost
        );
        assert_eq!(
            method_to_register(&server(Some(&["private_key_jwt", "client_secret_basic"]))),
            M::ClientSecretBasic
        );
    }

    #[test]
    fn a_secret_uses_basic_unless_only_post_is_listed() {
        use TokenEndpointAuthMethod as M;
        assert_eq!(
            method_for_secret(false, &server(Some(&["client_secret_basic"]))),
            M::None
        );
        assert_eq!(method_for_secret(true, &server(None)), M::ClientSecretBasic);
        assert_eq!(
            method_for_secret(true, &server(Some(&["client_secret_post"]))),
            M::ClientSecretPost
        );
        assert_eq!(
            method_for_secret(
                true,
                &server(Some(&["client_secret_post", "client_secret_basic"]))
            ),
            M::ClientSecretBasic
        );
    }

    #[test]
    fn a_registration_allows_its_redirects_and_other_loopback_ports() {
        let mut r = PreRegisteredClient::new("https://as", "id").registration(&server(None));
        assert!(r.allows_redirect("http://anything/cb"), "nothing known");
        r.redirect_uris = vec!["http://127.0.0.1:4000/callback".into()];
        assert!(r.allows_redirect("http://127.0.0.1:4000/callback"));
        assert!(r.allows_redirect("http://127.0.0.1:5123/callback"));
        assert!(!r.allows_redirect("http://127.0.0.1:5123/other"));
        assert!(!r.allows_redirect("http://localhost:4000/callback"));
        assert!(!r.allows_redirect("http://[::1]:4000/callback"));
        r.redirect_uris = vec!["https://app.example.com/cb".into()];
        assert!(!r.allows_redirect("https://app.example.com:8443/cb"));
    }

    #[test]
    fn pre_registered_credentials_are_bound_to_their_issuer() {
        let c = PreRegisteredClient::new("https://as", "id").with_secret("s");
        assert!(c.is_for("https://as"));
        assert!(!c.is_for("https://as/"));
        assert!(!c.is_for("https://other"));
        assert!(PreRegisteredClient::for_any_issuer("id").is_for("https://other"));
        let r = c.registration(&server(Some(&["client_secret_post"])));
        assert_eq!(
            r.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretPost
        );
        assert!(
            !format!("{r:?}").contains("\"s\""),
            "the secret is not in Debug output"
        );
    }
}
