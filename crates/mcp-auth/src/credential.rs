//! Reading credentials out of a request's headers, with the checks every authenticator shares:
//! no credentials in the query string, one `Authorization` header at most, a size limit.

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, Uri};

use crate::error::AuthError;

/// The default largest credential accepted (bytes after the scheme): 8 KiB, room for a JWT
/// with many claims and an RSA-4096 signature. Larger ones are refused before any parsing.
pub const DEFAULT_MAX_CREDENTIAL_LEN: usize = 8 * 1024;

/// Query parameters that carry credentials. RFC 6750 §2.3 allows `access_token` in the URI,
/// but the MCP authorization spec forbids it (URIs end up in logs, proxies and browser
/// history), so a request that has one is refused even when its headers are fine.
const QUERY_CREDENTIAL_NAMES: &[&str] = &["access_token", "api_key", "apikey", "api-key"];

/// Refuses a request whose query string carries a credential (`access_token=`, `api_key=`,
/// ...), percent-encoded names included.
///
/// ```
/// use mcp_auth::{AuthError, refuse_query_credentials};
/// let uri: http::Uri = "/mcp?access_token=abc".parse().unwrap();
/// assert!(matches!(refuse_query_credentials(&uri), Err(AuthError::InvalidCredentials(_))));
/// assert!(refuse_query_credentials(&"/mcp?cursor=2".parse().unwrap()).is_ok());
/// ```
pub fn refuse_query_credentials(uri: &Uri) -> Result<(), AuthError> {
    let Some(query) = uri.query() else {
        return Ok(());
    };
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or_default();
        let name = percent_decode_lossy(name);
        if QUERY_CREDENTIAL_NAMES
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&name))
        {
            return Err(AuthError::invalid(
                "credentials in the query string are refused; send them in a header",
            ));
        }
    }
    Ok(())
}

fn percent_decode_lossy(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The credential of an `Authorization: <scheme> <credential>` header, when the scheme matches
/// (case-insensitively, RFC 9110 §11.1).
///
/// `Ok(None)`: no `Authorization` header, or one with another scheme (another authenticator's
/// business). Errors: several `Authorization` headers, a value that is not visible ASCII, an
/// empty credential, or one longer than `max_len` bytes.
///
/// ```
/// use mcp_auth::authorization_credential;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "Bearer abc.def".parse().unwrap());
/// assert_eq!(authorization_credential(&headers, "bearer", 8192).unwrap(), Some("abc.def"));
/// assert_eq!(authorization_credential(&headers, "ApiKey", 8192).unwrap(), None);
/// ```
pub fn authorization_credential<'h>(
    headers: &'h HeaderMap,
    scheme: &str,
    max_len: usize,
) -> Result<Option<&'h str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::invalid("several Authorization headers"));
    }
    // Compare the scheme on bytes first, so an oversized header of another scheme costs nothing.
    let bytes = value.as_bytes();
    let matches_scheme = bytes.len() > scheme.len()
        && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        && bytes[scheme.len()] == b' ';
    if !matches_scheme {
        if bytes.eq_ignore_ascii_case(scheme.as_bytes()) {
            return Err(AuthError::invalid("empty credential"));
        }
        return Ok(None);
    }
    credential_text(&bytes[scheme.len() + 1..], max_len).map(Some)
}

/// The value of a header that carries a credential on its own (`X-API-Key: <key>`), with the
/// same checks as [`authorization_credential`].
pub fn header_credential<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    max_len: usize,
) -> Result<Option<&'h str>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::invalid(format!("several {name} headers")));
    }
    credential_text(value.as_bytes(), max_len).map(Some)
}

fn credential_text(bytes: &[u8], max_len: usize) -> Result<&str, AuthError> {
    let start = bytes.iter().position(|b| *b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| *b != b' ')
        .map_or(start, |e| e + 1);
    let trimmed = &bytes[start..end];
    if trimmed.is_empty() {
        return Err(AuthError::invalid("empty credential"));
    }
    if trimmed.len() > max_len {
        return Err(AuthError::invalid(format!(
            "credential of {} bytes is over the {max_len}-byte limit",
            trimmed.len()
        )));
    }
    // Without an early exit, so the check over a long token vectorizes.
    if trimmed
        .iter()
        .fold(false, |bad, &b| bad | !b.is_ascii_graphic())
    {
        return Err(AuthError::invalid(
            "credential has characters outside visible ASCII",
        ));
    }
    // All visible ASCII, so valid UTF-8.
    std::str::from_utf8(trimmed).map_err(|_| AuthError::invalid("credential is not ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn query_credentials_are_refused_under_any_spelling() {
        for uri in [
            "/mcp?access_token=x",
            "/mcp?a=1&ACCESS_TOKEN=x",
            "/mcp?access%5Ftoken=x",
            "/mcp?api_key=x",
            "/mcp?apikey",
        ] {
            let uri: Uri = uri.parse().unwrap();
            assert!(refuse_query_credentials(&uri).is_err(), "{uri}");
        }
        for uri in ["/mcp", "/mcp?token_type=x", "/mcp?access=1", "/mcp?%zz=1"] {
            let uri: Uri = uri.parse().unwrap();
            assert!(refuse_query_credentials(&uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn authorization_scheme_matching() {
        let h = headers(&[("authorization", "bEaReR   tok  ")]);
        assert_eq!(
            authorization_credential(&h, "Bearer", 100).unwrap(),
            Some("tok")
        );
        assert_eq!(authorization_credential(&h, "Basic", 100).unwrap(), None);
        let h = headers(&[("authorization", "Bearertok")]);
        assert_eq!(authorization_credential(&h, "Bearer", 100).unwrap(), None);
        let h = headers(&[("authorization", "Bearer")]);
        assert!(authorization_credential(&h, "Bearer", 100).is_err());
        let h = headers(&[("authorization", "Bearer   ")]);
        assert!(authorization_credential(&h, "Bearer", 100).is_err());
        let h = headers(&[("authorization", "Bearer a"), ("authorization", "Bearer b")]);
        assert!(authorization_credential(&h, "Bearer", 100).is_err());
        let h = headers(&[("authorization", "Bearer a b")]);
        assert!(authorization_credential(&h, "Bearer", 100).is_err());
    }

    #[test]
    fn oversized_credentials_are_refused() {
        let long = format!("Bearer {}", "a".repeat(101));
        let h = headers(&[("authorization", &long)]);
        let err = authorization_credential(&h, "Bearer", 100).unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials(m) if m.contains("limit")));
        let h = headers(&[("x-api-key", &"k".repeat(101))]);
        assert!(header_credential(&h, &HeaderName::from_static("x-api-key"), 100).is_err());
    }
}
