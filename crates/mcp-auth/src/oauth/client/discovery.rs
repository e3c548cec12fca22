//! Where the metadata is looked for, in the order the MCP authorization spec gives, and the
//! checks a document must pass before the client uses it.

use oauth2::url::{Position, Url};
use serde::de::DeserializeOwned;

use super::error::OAuthClientError;
use super::http::{Http, get_json};
use super::metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};

const PRM_SUFFIX: &str = "/.well-known/oauth-protected-resource";
const RFC8414_SUFFIX: &str = "/.well-known/oauth-authorization-server";
const OIDC_SUFFIX: &str = "/.well-known/openid-configuration";

/// `scheme://host[:port]` of `url` (URLs with user information are refused when the client
/// is built, so there is none to leave out).
fn origin(url: &Url) -> &str {
    &url[..Position::BeforePath]
}

/// The path of `url` without its trailing slash ("" for the root).
fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

/// Where the protected-resource metadata of the MCP server at `server` may be, in order:
/// the challenge's `resource_metadata`, then the path-inserted well-known URI, then the root
/// one (RFC 9728 section 3.1; MCP authorization, "Protected Resource Metadata Discovery").
pub(crate) fn protected_resource_candidates(
    server: &Url,
    from_header: Option<&str>,
) -> Vec<String> {
    let mut candidates = Vec::with_capacity(3);
    if let Some(url) = from_header {
        candidates.push(url.to_owned());
    }
    let origin = origin(server);
    let path = trimmed_path(server);
    let query = server.query().map(|q| format!("?{q}")).unwrap_or_default();
    if !path.is_empty() || !query.is_empty() {
        candidates.push(format!("{origin}{PRM_SUFFIX}{path}{query}"));
    }
    candidates.push(format!("{origin}{PRM_SUFFIX}"));
    candidates.dedup();
    candidates
}

/// Where an authorization server's metadata may be, in the MCP spec's order: for an issuer
/// with a path, RFC 8414 path-inserted, then OpenID Connect path-inserted, then OpenID Connect
/// path-appended; for one without, RFC 8414 then OpenID Connect.
pub(crate) fn authorization_server_candidates(issuer: &Url) -> Vec<String> {
    let origin = origin(issuer);
    let path = trimmed_path(issuer);
    if path.is_empty() {
        vec![
            format!("{origin}{RFC8414_SUFFIX}"),
            format!("{origin}{OIDC_SUFFIX}"),
        ]
    } else {
        vec![
            format!("{origin}{RFC8414_SUFFIX}{path}"),
            format!("{origin}{OIDC_SUFFIX}{path}"),
            format!("{origin}{path}{OIDC_SUFFIX}"),
        ]
    }
}

/// The base of a 2025-03-26 server: its URL with the path dropped. That revision has the MCP
/// server host the authorization server there.
pub(crate) fn legacy_authorization_base(server: &Url) -> String {
    origin(server).to_owned()
}

/// The canonical URI of the MCP server (RFC 8707, MCP "Canonical Server URI"): lowercase
/// scheme and host (the URL parser's doing), no fragment, no trailing slash on the root.
pub(crate) fn canonical_resource(server: &Url) -> String {
    let mut url = server.clone();
    url.set_fragment(None);
    let text = url.to_string();
    if url.path() == "/" && url.query().is_none() {
        text.trim_end_matches('/').to_owned()
    } else {
        text
    }
}

/// Whether the protected-resource metadata's `resource` may stand for the server at
/// `server`: same scheme, host and port, and its path the server's path or a parent of it at
/// a segment boundary (a server at `/mcp` may publish `https://host` or `https://host/mcp`,
/// never `https://host/other` or another host). A fragment is never allowed (RFC 8707).
pub(crate) fn resource_matches(server: &Url, resource: &str) -> bool {
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    if resource.fragment().is_some() || resource.query().is_some() {
        return false;
    }
    if resource.scheme() != server.scheme()
        || resource.host_str() != server.host_str()
        || resource.port_or_known_default() != server.port_or_known_default()
    {
        return false;
    }
    let parent = trimmed_path(&resource);
    let child = trimmed_path(server);
    child == parent || (child.starts_with(parent) && child[parent.len()..].starts_with('/'))
}

/// GETs the JSON document at `url`. A non-success status is `None` (try the next place); a
/// success that is not the expected document is an error.
pub(crate) async fn fetch_document<T: DeserializeOwned>(
    http: &Http,
    url: &str,
    protocol_version: Option<&str>,
) -> Result<Option<T>, OAuthClientError> {
    let headers: Vec<(&str, &str)> = protocol_version
        .map(|v| vec![("mcp-protocol-version", v)])
        .unwrap_or_default();
    let request = get_json(url, &headers)?;
    let response = http.send(request).await?;
    if !response.status().is_success() {
        tracing::debug!(url, status = %response.status(), "no metadata here");
        return Ok(None);
    }
    serde_json::from_slice(response.body())
        .map(Some)
        .map_err(|e| OAuthClientError::InvalidMetadata {
            url: url.to_owned(),
            reason: e.to_string(),
        })
}

/// Protected-resource metadata and the URL it came from.
#[derive(Debug, Clone)]
pub(crate) struct FoundResource {
    pub(crate) metadata: ProtectedResourceMetadata,
}

/// Finds the server's protected-resource metadata and checks its `resource`; `None` when no
/// candidate has any (a 2025-03-26 server).
pub(crate) async fn discover_protected_resource(
    http: &Http,
    server: &Url,
    from_header: Option<&str>,
    protocol_version: Option<&str>,
) -> Result<Option<FoundResource>, OAuthClientError> {
    for url in protected_resource_candidates(server, from_header) {
        let Some(metadata) =
            fetch_document::<ProtectedResourceMetadata>(http, &url, protocol_version).await?
        else {
            continue;
        };
        if !resource_matches(server, &metadata.resource) {
            return Err(OAuthClientError::ResourceMismatch {
                expected: server.to_string(),
                found: metadata.resource,
            });
        }
        if metadata.authorization_servers.is_empty() {
            return Err(OAuthClientError::InvalidMetadata {
                url,
                reason: "authorization_servers is empty".into(),
            });
        }
        return Ok(Some(FoundResource { metadata }));
    }
    Ok(None)
}

/// Fetches the metadata of the authorization server `issuer` from the first candidate that
/// has one, and checks that it names exactly that issuer (no normalization: a trailing slash
/// or a case difference is a mismatch). `None` when no candidate has any.
pub(crate) async fn discover_authorization_server(
    http: &Http,
    issuer: &str,
    candidates: &[String],
    protocol_version: Option<&str>,
) -> Result<Option<AuthorizationServerMetadata>, OAuthClientError> {
    for url in candidates {
        let Some(metadata) =
            fetch_document::<AuthorizationServerMetadata>(http, url, protocol_version).await?
        else {
            continue;
        };
        if metadata.issuer != issuer {
            return Err(OAuthClientError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer,
            });
        }
        return Ok(Some(metadata));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn protected_resource_order_header_then_path_then_root() {
        assert_eq!(
            protected_resource_candidates(
                &url("https://h:8443/api/mcp"),
                Some("https://h:8443/custom.json")
            ),
            [
                "https://h:8443/custom.json",
                "https://h:8443/.well-known/oauth-protected-resource/api/mcp",
                "https://h:8443/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            protected_resource_candidates(&url("http://h/mcp/"), None),
            [
                "http://h/.well-known/oauth-protected-resource/mcp",
                "http://h/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            protected_resource_candidates(&url("http://h/"), None),
            ["http://h/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn authorization_server_order_with_and_without_a_path() {
        assert_eq!(
            authorization_server_candidates(&url("https://auth.example.com/tenant1")),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        for issuer in ["https://auth.example.com", "https://auth.example.com/"] {
            assert_eq!(
                authorization_server_candidates(&url(issuer)),
                [
                    "https://auth.example.com/.well-known/oauth-authorization-server",
                    "https://auth.example.com/.well-known/openid-configuration",
                ]
            );
        }
    }

    #[test]
    fn the_resource_must_be_this_server_or_a_parent_path_on_the_same_origin() {
        let server = url("http://localhost:3000/mcp");
        assert!(resource_matches(&server, "http://localhost:3000/mcp"));
        assert!(resource_matches(&server, "http://localhost:3000"));
        assert!(resource_matches(&server, "http://localhost:3000/"));
        assert!(resource_matches(&server, "HTTP://LOCALHOST:3000/mcp"));
        assert!(!resource_matches(&server, "https://evil.example.com/mcp"));
        assert!(!resource_matches(&server, "http://localhost:3001/mcp"));
        assert!(!resource_matches(&server, "https://localhost:3000/mcp"));
        assert!(!resource_matches(&server, "http://localhost:3000/mc"));
        assert!(!resource_matches(
            &server,
            "http://localhost:3000/mcp/deeper"
        ));
        assert!(!resource_matches(&server, "http://localhost:3000/mcp#frag"));
        assert!(!resource_matches(&server, "not a url"));
        assert!(resource_matches(&url("https://h/mcp"), "https://h:443/mcp"));
    }

    #[test]
    fn canonical_resource_drops_fragment_and_root_slash() {
        assert_eq!(
            canonical_resource(&url("HTTPS://Mcp.Example.com/mcp#x")),
            "https://mcp.example.com/mcp"
        );
        assert_eq!(
            canonical_resource(&url("https://mcp.example.com/")),
            "https://mcp.example.com"
        );
        assert_eq!(
            legacy_authorization_base(&url("http://h:9/a/b?c")),
            "http://h:9"
        );
    }
}
