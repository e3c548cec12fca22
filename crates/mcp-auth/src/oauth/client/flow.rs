//! The grants: the authorization code flow with PKCE, refresh, client credentials; and the
//! checks on the authorization response.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointState,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};

use super::error::OAuthClientError;
use super::http::{Http, HttpClientError, OAuth2Http};
use super::metadata::AuthorizationServerMetadata;
use super::redirect::{AuthorizationCallback, RedirectHandler};
use super::registration::{ClientRegistration, TokenEndpointAuthMethod};
use super::scope::{OFFLINE_ACCESS, Scopes};
use super::store::StoredTokens;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// What one authorization needs to know about the resource and its authorization server.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The `resource` parameter: the protected-resource metadata's identifier, verbatim.
    pub(crate) resource: String,
    /// The authorization server.
    pub(crate) server: AuthorizationServerMetadata,
    /// The scopes the protected-resource metadata lists.
    pub(crate) scopes_supported: Option<Vec<String>>,
}

/// Checks the authorization response in the order SEP-2468 gives: the issuer first (before
/// anything else of the response is looked at, error responses included), then `state`,
/// then the outcome. Returns the code.
///
/// - `iss` present: it must equal `issuer` exactly (no case folding, no trailing-slash,
///   port or percent-encoding normalization), whether or not the server advertised it;
/// - `iss` absent: refused when the server advertised
///   `authorization_response_iss_parameter_supported`, accepted otherwise.
pub(crate) fn validate_callback(
    callback: &AuthorizationCallback,
    state: &str,
    issuer: &str,
    iss_advertised: bool,
) -> Result<String, OAuthClientError> {
    match callback.iss.as_deref() {
        Some(iss) if iss != issuer => {
            return Err(OAuthClientError::IssMismatch {
                expected: issuer.to_owned(),
                found: iss.to_owned(),
            });
        }
        None if iss_advertised => return Err(OAuthClientError::IssMissing),
        _ => {}
    }
    if callback.state.as_deref() != Some(state) {
        return Err(OAuthClientError::StateMismatch);
    }
    if let Some(error) = &callback.error {
        return Err(OAuthClientError::AuthorizationDenied {
            error: error.clone(),
            description: callback.error_description.clone(),
        });
    }
    callback.code.clone().ok_or(OAuthClientError::MissingCode)
}

fn invalid(server: &AuthorizationServerMetadata, reason: impl Into<String>) -> OAuthClientError {
    OAuthClientError::InvalidMetadata {
        url: server.issuer.clone(),
        reason: reason.into(),
    }
}

fn token_endpoint(server: &AuthorizationServerMetadata) -> Result<TokenUrl, OAuthClientError> {
    let url = server
        .token_endpoint
        .clone()
        .ok_or_else(|| invalid(server, "no token_endpoint"))?;
    TokenUrl::new(url).map_err(|e| invalid(server, format!("token_endpoint: {e}")))
}

/// `client` with the secret and token endpoint authentication method of `registration`.
fn with_credentials<A, D, I, R, T>(
    client: BasicClient<A, D, I, R, T>,
    registration: &ClientRegistration,
) -> BasicClient<A, D, I, R, T>
where
    A: EndpointState,
    D: EndpointState,
    I: EndpointState,
    R: EndpointState,
    T: EndpointState,
{
    let secret = registration.client_secret.clone().map(ClientSecret::new);
    match (registration.token_endpoint_auth_method, secret) {
        // oauth2 sends the client id in the body when there is no secret.
        (TokenEndpointAuthMethod::None, _) | (_, None) => client,
        (TokenEndpointAuthMethod::ClientSecretPost, Some(secret)) => client
            .set_client_secret(secret)
            .set_auth_type(AuthType::RequestBody),
        (TokenEndpointAuthMethod::ClientSecretBasic, Some(secret)) => client
            .set_client_secret(secret)
            .set_auth_type(AuthType::BasicAuth),
    }
}

fn token_error(e: RequestTokenError<HttpClientError, BasicErrorResponse>) -> OAuthClientError {
    match e {
        RequestTokenError::Request(e) => OAuthClientError::Http(e),
        RequestTokenError::ServerResponse(r) => {
            OAuthClientError::Token(match r.error_description() {
                Some(d) => format!("{} ({d})", r.error()),
                None => r.error().to_string(),
            })
        }
        RequestTokenError::Parse(e, _) => {
            OAuthClientError::Token(format!("the token endpoint's answer is invalid: {e}"))
        }
        RequestTokenError::Other(e) => OAuthClientError::Token(e),
    }
}

/// Turns a token response into what is kept.
fn stored(
    response: &BasicTokenResponse,
    target_resource: &str,
    issuer: &str,
    requested: &Scopes,
    previous_refresh: Option<&str>,
) -> StoredTokens {
    StoredTokens {
        issuer: issuer.to_owned(),
        resource: target_resource.to_owned(),
        access_token: response.access_token().secret().clone(),
        // A refresh answer without a new refresh token leaves the old one valid (RFC 6749
        // section 6).
        refresh_token: response
            .refresh_token()
            .map(|t| t.secret().clone())
            .or_else(|| previous_refresh.map(str::to_owned)),
        expires_at: response
            .expires_in()
            .map(|d| now().saturating_add(d.as_secs())),
        scope: response
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| requested.to_string()),
    }
}

/// The authorization code grant with PKCE (S256), `state`, the `resource` indicator on both
/// requests, and the issuer of the response checked (RFC 9207).
pub(crate) async fn authorization_code(
    http: &Http,
    redirect: &dyn RedirectHandler,
    target: &Target,
    registration: &ClientRegistration,
    scopes: &Scopes,
) -> Result<StoredTokens, OAuthClientError> {
    let server = &target.server;
    if !server.supports_s256() {
        return Err(OAuthClientError::PkceNotSupported {
            issuer: server.issuer.clone(),
        });
    }
    let authorize = server
        .authorization_endpoint
        .clone()
        .ok_or_else(|| invalid(server, "no authorization_endpoint"))?;
    let authorize = AuthUrl::new(authorize)
        .map_err(|e| invalid(server, format!("authorization_endpoint: {e}")))?;
    let redirect_uri = RedirectUrl::new(redirect.redirect_uri().to_owned())
        .map_err(|e| OAuthClientError::Config(format!("redirect URI: {e}")))?;
    let client = with_credentials(
        BasicClient::new(ClientId::new(registration.client_id.clone()))
            .set_auth_uri(authorize)
            .set_token_uri(token_endpoint(server)?)
            .set_redirect_uri(redirect_uri),
        registration,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_extra_param("resource", target.resource.clone());
    for scope in scopes.iter() {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    if scopes.contains(OFFLINE_ACCESS) && server.lists_scope("openid") {
        // OpenID Connect Core section 11: an OpenID provider ignores `offline_access` unless
        // the user is asked for consent.
        request = request.add_extra_param("prompt", "consent");
    }
    let (url, state) = request.url();
    // The issuer the response must come from is fixed before the user leaves (RFC 9207).
    let issuer = server.issuer.clone();
    let callback = redirect.authorize(url.as_str()).await?;
    let code = validate_callback(
        &callback,
        state.secret(),
        &issuer,
        server.authorization_response_iss_parameter_supported,
    )?;
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .add_extra_param("resource", target.resource.clone())
        .request_async(&OAuth2Http(http.clone()))
        .await
        .map_err(token_error)?;
    Ok(stored(&response, &target.resource, &issuer, scopes, None))
}

/// The client credentials grant (no user), with the `resource` indicator.
pub(crate) async fn client_credentials(
    http: &Http,
    target: &Target,
    registration: &ClientRegistration,
    scopes: &Scopes,
) -> Result<StoredTokens, OAuthClientError> {
    let server = &target.server;
    let client = with_credentials(
        BasicClient::new(ClientId::new(registration.client_id.clone()))
            .set_token_uri(token_endpoint(server)?),
        registration,
    );
    let mut request = client
        .exchange_client_credentials()
        .add_extra_param("resource", target.resource.clone());
    for scope in scopes.iter() {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let response = request
        .request_async(&OAuth2Http(http.clone()))
        .await
        .map_err(token_error)?;
    Ok(stored(
        &response,
        &target.resource,
        &server.issuer,
        scopes,
        None,
    ))
}

/// Exchanges the refresh token of `tokens` for new tokens for the same resource.
pub(crate) async fn refresh(
    http: &Http,
    server: &AuthorizationServerMetadata,
    registration: &ClientRegistration,
    tokens: &StoredTokens,
) -> Result<StoredTokens, OAuthClientError> {
    let refresh_token = tokens
        .refresh_token
        .as_deref()
        .ok_or_else(|| OAuthClientError::Token("no refresh token".into()))?;
    let client = with_credentials(
        BasicClient::new(ClientId::new(registration.client_id.clone()))
            .set_token_uri(token_endpoint(server)?),
        registration,
    );
    let refresh_token = RefreshToken::new(refresh_token.to_owned());
    let response = client
        .exchange_refresh_token(&refresh_token)
        .add_extra_param("resource", tokens.resource.clone())
        .request_async(&OAuth2Http(http.clone()))
        .await
        .map_err(token_error)?;
    Ok(stored(
        &response,
        &tokens.resource,
        &server.issuer,
        &Scopes::parse(&tokens.scope),
        tokens.refresh_token.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(iss: Option<&str>, state: &str) -> AuthorizationCallback {
        AuthorizationCallback {
            code: Some("code".into()),
            state: Some(state.into()),
            iss: iss.map(str::to_owned),
            error: None,
            error_description: None,
        }
    }

    const AS: &str = "https://as.example.com";

    #[test]
    fn a_matching_iss_is_accepted_advertised_or_not() {
        assert_eq!(
            validate_callback(&callback(Some(AS), "s"), "s", AS, true).unwrap(),
            "code"
        );
        assert_eq!(
            validate_callback(&callback(Some(AS), "s"), "s", AS, false).unwrap(),
            "code"
        );
    }

    #[test]
    fn an_absent_iss_is_refused_only_when_advertised() {
        assert_eq!(
            validate_callback(&callback(None, "s"), "s", AS, false).unwrap(),
            "code"
        );
        assert_eq!(
            validate_callback(&callback(None, "s"), "s", AS, true),
            Err(OAuthClientError::IssMissing)
        );
    }

    #[test]
    fn iss_is_compared_as_an_exact_string() {
        for wrong in [
            "https://evil.example.com",
            "https://as.example.com/",
            "HTTPS://AS.EXAMPLE.COM",
            "https://as.example.com:443",
            "https://as%2Eexample.com",
        ] {
            for advertised in [true, false] {
                assert_eq!(
                    validate_callback(&callback(Some(wrong), "s"), "s", AS, advertised),
                    Err(OAuthClientError::IssMismatch {
                        expected: AS.into(),
                        found: wrong.into()
                    }),
                    "{wrong}"
                );
            }
        }
    }

    #[test]
    fn iss_is_checked_before_the_state_and_an_error_response() {
        let mut c = callback(Some("https://evil.example.com"), "other");
        c.error = Some("access_denied".into());
        c.error_description = Some("text from the attacker".into());
        assert!(matches!(
            validate_callback(&c, "s", AS, false),
            Err(OAuthClientError::IssMismatch { .. })
        ));
        c.iss = Some(AS.into());
        assert_eq!(
            validate_callback(&c, "s", AS, true),
            Err(OAuthClientError::StateMismatch)
        );
        c.state = Some("s".into());
        assert_eq!(
            validate_callback(&c, "s", AS, true),
            Err(OAuthClientError::AuthorizationDenied {
                error: "access_denied".into(),
                description: Some("text from the attacker".into())
            })
        );
        let mut none = callback(Some(AS), "s");
        none.code = None;
        assert_eq!(
            validate_callback(&none, "s", AS, true),
            Err(OAuthClientError::MissingCode)
        );
    }
}
