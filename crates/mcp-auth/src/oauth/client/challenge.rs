//! The `Bearer` challenge of a `WWW-Authenticate` header (RFC 6750 section 3, RFC 9728
//! section 5.1).

/// What a server's `Bearer` challenge says.
///
/// ```
/// use mcp_auth::oauth::client::BearerChallenge;
///
/// let c = BearerChallenge::parse(
///     r#"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
/// )
/// .unwrap();
/// assert!(c.is_insufficient_scope());
/// assert_eq!(c.scope.as_deref(), Some("files:read files:write"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BearerChallenge {
    /// Where the protected-resource metadata is (RFC 9728).
    pub resource_metadata: Option<String>,
    /// The scopes the request needs, space-separated.
    pub scope: Option<String>,
    /// The error code (`invalid_token`, `insufficient_scope`, ...).
    pub error: Option<String>,
    /// The server's description of the error.
    pub error_description: Option<String>,
    /// The protection space.
    pub realm: Option<String>,
}

impl BearerChallenge {
    /// The `Bearer` challenge among those of a `WWW-Authenticate` value, if there is one.
    /// Parameter names are matched without regard to case; unknown parameters are ignored.
    pub fn parse(header: &str) -> Option<Self> {
        let mut found: Option<Self> = None;
        let mut in_bearer = false;
        let mut rest = header;
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
            if rest.is_empty() {
                break;
            }
            let (token, after) = split_token(rest);
            if token.is_empty() {
                // Not a token: skip one character so that garbage cannot stall the loop.
                rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..];
                continue;
            }
            let after_ws = after.trim_start();
            if let Some(value_part) = after_ws.strip_prefix('=')
                && !value_part.starts_with('=')
            {
                // An auth-param of the current challenge.
                let (value, next) = parse_value(value_part.trim_start());
                if in_bearer && let Some(c) = found.as_mut() {
                    c.set(token, value);
                }
                rest = next;
            } else {
                // A new challenge's scheme, or the token68 after one (whose `=` padding is
                // skipped with it): only a `Bearer` scheme opens the challenge we keep.
                in_bearer = token.eq_ignore_ascii_case("bearer");
                if in_bearer && found.is_none() {
                    found = Some(Self::default());
                }
                rest = after.trim_start_matches('=');
            }
        }
        found
    }

    /// Whether this is a 403's `insufficient_scope` challenge (RFC 6750 section 3.1).
    pub fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }

    fn set(&mut self, name: &str, value: String) {
        let slot = match name.to_ascii_lowercase().as_str() {
            "resource_metadata" => &mut self.resource_metadata,
            "scope" => &mut self.scope,
            "error" => &mut self.error,
            "error_description" => &mut self.error_description,
            "realm" => &mut self.realm,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

/// The leading RFC 7230 token of `s` and what follows it.
fn split_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A quoted string (with backslash escapes) or a token, and what follows it.
fn parse_value(s: &str) -> (String, &str) {
    if let Some(body) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &body[i + 1..]),
                _ => value.push(c),
            }
        }
        // An unterminated string runs to the end of the header.
        (value, "")
    } else {
        let end = s
            .find(|c: char| c == ',' || c.is_ascii_whitespace())
            .unwrap_or(s.len());
        (s[..end].to_owned(), &s[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_token_values_with_escapes() {
        let c = BearerChallenge::parse(
            r#"Bearer realm="ex\"ample", error=invalid_token, error_description="a, b""#,
        )
        .unwrap();
        assert_eq!(c.realm.as_deref(), Some("ex\"ample"));
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.error_description.as_deref(), Some("a, b"));
        assert!(!c.is_insufficient_scope());
    }

    #[test]
    fn the_bearer_challenge_is_found_among_others() {
        let c = BearerChallenge::parse(
            r#"Basic realm="x", DPoP algs="ES256", bearer scope="a b", resource_metadata="http://h/m""#,
        )
        .unwrap();
        assert_eq!(c.scope.as_deref(), Some("a b"));
        assert_eq!(c.resource_metadata.as_deref(), Some("http://h/m"));
        assert_eq!(c.realm, None, "the Basic realm is not the Bearer one");
        assert_eq!(BearerChallenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(
            BearerChallenge::parse("Bearer"),
            Some(BearerChallenge::default())
        );
    }

    #[test]
    fn case_insensitive_names_and_a_token68_scheme_before() {
        let c = BearerChallenge::parse(r#"Negotiate abc123==, Bearer SCOPE="x""#).unwrap();
        assert_eq!(c.scope.as_deref(), Some("x"));
    }

    #[test]
    fn garbage_does_not_panic_or_loop() {
        for h in [
            "",
            "=",
            "Bearer =",
            "Bearer a=\"unterminated",
            "Bearer ,,,",
            "ü Bearer x=1",
            "Bearer a==b",
        ] {
            let _ = BearerChallenge::parse(h);
        }
        assert_eq!(
            BearerChallenge::parse("Bearer a=\"unterminated").unwrap(),
            BearerChallenge::default()
        );
    }
}
