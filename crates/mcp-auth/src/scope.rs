//! OAuth scopes and the permissions they grant.

use std::collections::BTreeMap;
#[cfg(any(feature = "jwt", feature = "introspection"))]
use std::collections::BTreeSet;

#[cfg(any(feature = "jwt", feature = "introspection"))]
use serde_json::{Map, Value};

use crate::permission::{Permissions, permission_covers};

/// How a token's OAuth scopes become permissions.
///
/// By default each scope grants the permission of the same name (`tools.call` grants
/// `tools.call`), so a server whose authorization server issues permission-shaped scopes needs
/// no table. Mapped scopes grant what the table says instead, and [`explicit`](Self::explicit)
/// turns the identity off so only mapped scopes grant anything.
///
/// ```
/// use mcp_auth::ScopeMap;
///
/// let map = ScopeMap::new()
///     .scope("mcp:tools", ["tools.*"])
///     .scope("mcp:read", ["resources.read", "prompts.get"]);
/// let granted = map.permissions(["mcp:tools", "tools.list"]);
/// assert!(granted.allows("tools.call.search"));
/// assert!(granted.allows("tools.list"));
/// assert_eq!(map.scopes_granting("resources.read.file"), vec!["mcp:read".to_owned()]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMap {
    identity: bool,
    mapped: BTreeMap<String, Permissions>,
}

impl Default for ScopeMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ScopeMap {
    /// The identity mapping: every scope grants the permission of the same name.
    pub fn new() -> Self {
        Self {
            identity: true,
            mapped: BTreeMap::new(),
        }
    }

    /// No identity: only scopes in the table grant permissions.
    pub fn explicit() -> Self {
        Self {
            identity: false,
            mapped: BTreeMap::new(),
        }
    }

    /// Maps a scope to grants.
    pub fn scope<I, S>(mut self, scope: impl Into<String>, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.mapped.entry(scope.into()).or_default().extend(grants);
        self
    }

    /// The permissions these scopes grant.
    pub fn permissions<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> Permissions {
        let mut out = Permissions::new();
        for scope in scopes {
            match self.mapped.get(scope) {
                Some(grants) => out.extend(grants.iter()),
                None if self.identity => out.insert(scope),
                None => {}
            }
        }
        out
    }

    /// The scopes that would grant `permission` (for a 403 challenge's `scope`): every mapped
    /// scope with a grant covering it, and with the identity on, the permission itself when no
    /// mapped scope does.
    pub fn scopes_granting(&self, permission: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .mapped
            .iter()
            .filter(|(_, grants)| grants.iter().any(|g| permission_covers(g, permission)))
            .map(|(scope, _)| scope.clone())
            .collect();
        if out.is_empty() && self.identity {
            out.push(permission.to_owned());
        }
        out
    }
}

/// The scopes of a token's claims or an introspection response: `scope` (a space-separated
/// string, RFC 8693 / RFC 9068) and `scp` (an array or a string, as some providers send).
#[cfg(any(feature = "jwt", feature = "introspection"))]
pub(crate) fn scopes_from_claims(claims: &Map<String, Value>) -> BTreeSet<String> {
    let mut scopes = BTreeSet::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => scopes.extend(s.split_ascii_whitespace().map(str::to_owned)),
            Some(Value::Array(items)) => scopes.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .flat_map(str::split_ascii_whitespace)
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    scopes
}

/// A claim holding a list of names: an array of strings or one space-separated string.
#[cfg(any(feature = "jwt", feature = "introspection"))]
pub(crate) fn names_from_claim(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "jwt", feature = "introspection"))]
    #[test]
    fn scope_and_scp_in_every_shape() {
        use serde_json::json;
        let claims = json!({"scope": "a b  c", "scp": ["d", "e f"]});
        let scopes = scopes_from_claims(claims.as_object().unwrap());
        assert_eq!(
            scopes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c", "d", "e", "f"]
        );
        let claims = json!({"scp": "x"});
        assert_eq!(scopes_from_claims(claims.as_object().unwrap()).len(), 1);
        let claims = json!({"scope": 3});
        assert!(scopes_from_claims(claims.as_object().unwrap()).is_empty());
    }

    #[test]
    fn explicit_map_grants_only_mapped_scopes() {
        let map = ScopeMap::explicit().scope("read", ["resources.read"]);
        let p = map.permissions(["read", "tools.call"]);
        assert!(p.allows("resources.read"));
        assert!(!p.allows("tools.call"));
        assert!(map.scopes_granting("tools.call").is_empty());
    }
}
