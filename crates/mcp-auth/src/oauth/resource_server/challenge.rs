//! `WWW-Authenticate: Bearer ...` challenges (RFC 6750 §3, RFC 9728 §5.1).

use std::fmt;

use crate::error::AuthError;

/// The `error` attribute of a bearer challenge (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerError {
    /// The request is malformed (HTTP 400).
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid (HTTP 401).
    InvalidToken,
    /// The token lacks a scope the operation needs (HTTP 403).
    InsufficientScope,
}

impl BearerError {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// A `WWW-Authenticate` value for the `Bearer` scheme.
///
/// Attribute values are cleaned, not trusted: characters RFC 6750 does not allow in them
/// (quotes, backslashes, control characters such as CR and LF) are dropped, so nothing a
/// client sent can split the header. Descriptions are the caller's; never put a token or the
/// internal reason of a refusal in one ([`for_error`](Self::for_error) uses
/// [`AuthError::public_message`]).
///
/// ```
/// use mcp_auth::oauth::resource_server::BearerChallenge;
///
/// let c = BearerChallenge::insufficient_scope(
///     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
///     ["files:read", "files:write"],
/// );
/// assert_eq!(
///     c.to_string(),
///     "Bearer error=\"insufficient_scope\", \
///      resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", \
///      scope=\"files:read files:write\""
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    realm: Option<String>,
    error: Option<BearerError>,
    error_description: Option<String>,
    resource_metadata: Option<String>,
    scopes: Vec<String>,
}

impl BearerChallenge {
    /// A bare `Bearer` challenge.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 401 challenge: where the metadata is and which scopes to ask for, with
    /// `error="invalid_token"` when the request presented a token (RFC 6750 §3.1: a request
    /// without credentials gets no error code).
    pub fn unauthorized<I, S>(resource_metadata: &str, scopes: I, token_presented: bool) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let challenge = Self::new()
            .resource_metadata(resource_metadata)
            .scopes(scopes);
        if token_presented {
            challenge.error(BearerError::InvalidToken)
        } else {
            challenge
        }
    }

    /// The 403 challenge: `error="insufficient_scope"` with every scope the operation needs
    /// (not only the missing ones, so the client asks for all of them in one step-up).
    pub fn insufficient_scope<I, S>(resource_metadata: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new()
            .error(BearerError::InsufficientScope)
            .resource_metadata(resource_metadata)
            .scopes(scopes)
    }

    /// The challenge for a refusal: 401 kinds get [`unauthorized`](Self::unauthorized) (with
    /// `invalid_token` and the public message when credentials were presented), `Forbidden`
    /// gets [`insufficient_scope`](Self::insufficient_scope); rate limits and outages get
    /// none (`None`).
    pub fn for_error<I, S>(error: &AuthError, resource_metadata: &str, scopes: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        match error {
            AuthError::MissingCredentials => {
                Some(Self::unauthorized(resource_metadata, scopes, false))
            }
            AuthError::InvalidCredentials(_) | AuthError::Expired => Some(
                Self::unauthorized(resource_metadata, scopes, true)
                    .description(&error.public_message()),
            ),
            AuthError::Forbidden { .. } => {
                Some(Self::insufficient_scope(resource_metadata, scopes))
            }
            _ => None,
        }
    }

    /// Sets `realm`.
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = Some(clean(realm, allowed_in_description));
        self
    }

    /// Sets `error`.
    pub fn error(mut self, error: BearerError) -> Self {
        self.error = Some(error);
        self
    }

    /// Sets `error_description` (human-readable, never secret).
    pub fn description(mut self, text: &str) -> Self {
        self.error_description = Some(clean(text, allowed_in_description));
        self
    }

    /// Sets `resource_metadata` (RFC 9728 §5.1).
    pub fn resource_metadata(mut self, url: &str) -> Self {
        self.resource_metadata = Some(clean(url, allowed_in_scope_token));
        self
    }

    /// Sets `scope` (space-separated in the header). Empty scopes are left out; if none
    /// remain, so is the attribute.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes
            .into_iter()
            .map(|s| clean(&s.into(), allowed_in_scope_token))
            .filter(|s| !s.is_empty())
            .collect();
        self
    }

    /// The header value.
    pub fn to_header_value(&self) -> http::HeaderValue {
        // Every attribute is cleaned to visible ASCII and spaces, so this cannot fail.
        http::HeaderValue::from_str(&self.to_string())
            .unwrap_or_else(|_| http::HeaderValue::from_static("Bearer"))
    }
}

impl fmt::Display for BearerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer")?;
        let mut first = true;
        let mut attribute = |f: &mut fmt::Formatter<'_>, name: &str, value: &str| {
            let sep = if first { " " } else { ", " };
            first = false;
            write!(f, "{sep}{name}=\"{value}\"")
        };
        if let Some(realm) = &self.realm {
            attribute(f, "realm", realm)?;
        }
        if let Some(error) = self.error {
            attribute(f, "error", error.as_str())?;
        }
        if let Some(description) = &self.error_description {
            attribute(f, "error_description", description)?;
        }
        if let Some(url) = &self.resource_metadata {
            attribute(f, "resource_metadata", url)?;
        }
        if !self.scopes.is_empty() {
            attribute(f, "scope", &self.scopes.join(" "))?;
        }
        Ok(())
    }
}

// RFC 6750 §3: error-description and realm are %x20-21 / %x23-5B / %x5D-7E.
fn allowed_in_description(c: char) -> bool {
    matches!(c, ' '..='~') && c != '"' && c != '\\'
}

// RFC 6750 §3: scope-token is %x21 / %x23-5B / %x5D-7E (no space); URLs fit the same set.
fn allowed_in_scope_token(c: char) -> bool {
    allowed_in_description(c) && c != ' '
}

fn clean(value: &str, allowed: fn(char) -> bool) -> String {
    value.chars().filter(|c| allowed(*c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRM: &str = "https://h/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn challenges_for_each_refusal() {
        let missing =
            BearerChallenge::for_error(&AuthError::MissingCredentials, PRM, ["a"]).unwrap();
        assert_eq!(
            missing.to_string(),
            format!(r#"Bearer resource_metadata="{PRM}", scope="a""#)
        );
        let invalid = BearerChallenge::for_error(
            &AuthError::InvalidCredentials("kid k9 unknown".into()),
            PRM,
            ["a", "b"],
        )
        .unwrap()
        .to_string();
        assert!(invalid.starts_with(
            r#"Bearer error="invalid_token", error_description="invalid credentials""#
        ));
        assert!(
            !invalid.contains("k9"),
            "internal reasons stay out: {invalid}"
        );
        assert!(invalid.ends_with(r#"scope="a b""#));
        let forbidden = BearerChallenge::for_error(
            &AuthError::Forbidden {
                required: vec!["x".into()],
            },
            PRM,
            ["s1", "s2"],
        )
        .unwrap();
        assert!(
            forbidden
                .to_string()
                .starts_with(r#"Bearer error="insufficient_scope""#)
        );
        assert!(
            BearerChallenge::for_error(
                &AuthError::RateLimited {
                    retry_after_secs: 1
                },
                PRM,
                ["a"]
            )
            .is_none()
        );
    }

    #[test]
    fn attributes_cannot_break_the_header() {
        let c = BearerChallenge::new()
            .realm("a\"b\\c\r\nX-Evil: 1")
            .description("bad\ttoken\u{7f}é")
            .scopes(["x\"y", "", " "]);
        let s = c.to_string();
        assert_eq!(
            s,
            r#"Bearer realm="abcX-Evil: 1", error_description="badtoken", scope="xy""#
        );
        assert!(c.to_header_value().to_str().is_ok());
        assert_eq!(BearerChallenge::new().to_string(), "Bearer");
    }
}
