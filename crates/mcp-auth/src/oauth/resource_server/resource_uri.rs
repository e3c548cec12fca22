//! The canonical URI of a protected resource (RFC 8707) and where its metadata lives (RFC 9728).

use http::Uri;

use crate::error::ConfigError;

/// The well-known path suffix of protected-resource metadata (RFC 9728 §3).
pub const PROTECTED_RESOURCE_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The canonical form of a resource URI, as tokens' audiences and the `resource` parameter use
/// it (RFC 8707 §2, MCP authorization spec):
/// - scheme and host in lowercase; the port left out when it is the scheme's default;
/// - no fragment (removed), no user information (refused);
/// - no trailing slash (`https://h/mcp/` becomes `https://h/mcp`, `https://h/` becomes
///   `https://h`); the query, if any, is kept.
///
/// Only `http` and `https` URIs are accepted.
///
/// ```
/// use mcp_auth::oauth::resource_server::canonical_resource_uri;
/// assert_eq!(canonical_resource_uri("https://MCP.example.com/").unwrap(), "https://mcp.example.com");
/// assert_eq!(canonical_resource_uri("http://127.0.0.1:8080/mcp#x").unwrap(), "http://127.0.0.1:8080/mcp");
/// assert!(canonical_resource_uri("/mcp").is_err());
/// ```
pub fn canonical_resource_uri(uri: &str) -> Result<String, ConfigError> {
    let without_fragment = uri.trim().split('#').next().unwrap_or_default();
    let parsed: Uri = without_fragment
        .parse()
        .map_err(|e| ConfigError::new(format!("resource URI {without_fragment:?}: {e}")))?;
    let scheme = parsed
        .scheme_str()
        .ok_or_else(|| ConfigError::new("a resource URI must be absolute"))?
        .to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => {
            return Err(ConfigError::new(
                "a resource URI must be an http or https URI",
            ));
        }
    };
    let authority = parsed
        .authority()
        .ok_or_else(|| ConfigError::new("a resource URI must have a host"))?;
    if authority.as_str().contains('@') {
        return Err(ConfigError::new(
            "a resource URI must not carry user information",
        ));
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return Err(ConfigError::new("a resource URI must have a host"));
    }
    let mut out = format!("{scheme}://{host}");
    if let Some(port) = authority.port_u16().filter(|p| *p != default_port) {
        out.push(':');
        out.push_str(&port.to_string());
    }
    let path = parsed.path().trim_end_matches('/');
    out.push_str(path);
    if let Some(query) = parsed.query() {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// Whether two resource URIs name the same resource: equal as given, or equal once both are
/// canonical. This is how a token's `aud` is compared with the server's resource URI, so an
/// authorization server that echoes `https://MCP.example.com/mcp/` is not refused for case or
/// a trailing slash.
///
/// ```
/// use mcp_auth::oauth::resource_server::same_resource;
/// assert!(same_resource("https://mcp.example.com/mcp", "HTTPS://mcp.example.com:443/mcp/"));
/// assert!(!same_resource("https://mcp.example.com/mcp", "https://mcp.example.com/other"));
/// assert!(same_resource("api://my-server", "api://my-server"));
/// ```
pub fn same_resource(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (canonical_resource_uri(a), canonical_resource_uri(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Where a resource's protected-resource metadata is served (RFC 9728 §3.1), as the MCP
/// authorization spec asks clients to look for it: the path-inserted URL first, then the root.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetadataLocations {
    /// `https://host/.well-known/oauth-protected-resource/<resource path>`: the URL to put
    /// in `resource_metadata` of a challenge.
    pub path_inserted: String,
    /// `https://host/.well-known/oauth-protected-resource`.
    pub root: String,
    /// The path (and query) part of [`path_inserted`](Self::path_inserted), to route on.
    pub path_inserted_path: String,
    /// The path part of [`root`](Self::root), to route on.
    pub root_path: String,
}

impl MetadataLocations {
    /// The locations for a resource (the MCP endpoint's URL; canonicalized first).
    ///
    /// ```
    /// use mcp_auth::oauth::resource_server::MetadataLocations;
    /// let at = MetadataLocations::for_resource("https://example.com/tenant/mcp").unwrap();
    /// assert_eq!(at.path_inserted, "https://example.com/.well-known/oauth-protected-resource/tenant/mcp");
    /// assert_eq!(at.root, "https://example.com/.well-known/oauth-protected-resource");
    /// let at = MetadataLocations::for_resource("https://example.com/").unwrap();
    /// assert_eq!(at.path_inserted, at.root);
    /// ```
    pub fn for_resource(resource: &str) -> Result<Self, ConfigError> {
        let canonical = canonical_resource_uri(resource)?;
        // Canonical: "<scheme>://<authority><path>[?query]" with no trailing slash.
        let after_scheme = canonical.find("://").map_or(0, |i| i + 3);
        let origin_end = canonical[after_scheme..]
            .find(['/', '?'])
            .map_or(canonical.len(), |i| after_scheme + i);
        let (origin, rest) = canonical.split_at(origin_end);
        let path_inserted_path = format!("{PROTECTED_RESOURCE_WELL_KNOWN}{rest}");
        Ok(Self {
            path_inserted: format!("{origin}{path_inserted_path}"),
            root: format!("{origin}{PROTECTED_RESOURCE_WELL_KNOWN}"),
            path_inserted_path,
            root_path: PROTECTED_RESOURCE_WELL_KNOWN.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (input, expected) in [
            ("https://example.com", "https://example.com"),
            ("https://example.com/", "https://example.com"),
            ("HTTPS://Example.COM/MCP", "https://example.com/MCP"),
            (
                "https://example.com:8443/mcp/",
                "https://example.com:8443/mcp",
            ),
            ("http://example.com:80/mcp", "http://example.com/mcp"),
            ("http://[::1]:3000/mcp", "http://[::1]:3000/mcp"),
            (
                "https://example.com/mcp?tenant=a#frag",
                "https://example.com/mcp?tenant=a",
            ),
        ] {
            assert_eq!(canonical_resource_uri(input).unwrap(), expected, "{input}");
        }
        for bad in [
            "",
            "mcp",
            "/mcp",
            "ftp://example.com",
            "https://user:pw@example.com/mcp",
        ] {
            assert!(canonical_resource_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locations_keep_path_and_query() {
        let at = MetadataLocations::for_resource("https://h/mcp?x=1").unwrap();
        assert_eq!(
            at.path_inserted,
            "https://h/.well-known/oauth-protected-resource/mcp?x=1"
        );
        assert_eq!(at.root_path, "/.well-known/oauth-protected-resource");
        let at = MetadataLocations::for_resource("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            at.path_inserted,
            "http://127.0.0.1:9/.well-known/oauth-protected-resource"
        );
    }
}
