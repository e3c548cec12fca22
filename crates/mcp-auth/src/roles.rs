//! Roles: named sets of permission grants.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::permission::Permissions;
use crate::principal::Principal;

/// A table of roles, each a set of permission grants (same syntax as [`Permissions`]).
///
/// Authenticators given a table add the grants of every role a principal carries (an API key's
/// configured roles, a JWT's `roles` claim) to its permissions, so the rest of the server only
/// ever checks permissions. Roles do not nest: a role's grants are permissions, not roles, so
/// no cycle or depth question arises. A role the table does not know grants nothing.
///
/// Deserializes from a map of role name to grants, as a configuration file holds it:
///
/// ```
/// use mcp_auth::{AuthMethod, Principal, Roles};
///
/// let roles: Roles = serde_json::from_str(r#"{
///     "viewer": ["resources.read", "prompts.get"],
///     "operator": ["tools.*", "resources.read"]
/// }"#).unwrap();
/// let bob = roles.resolve(Principal::new("bob", AuthMethod::ApiKey).with_roles(["operator"]));
/// assert!(bob.allows("tools.call.deploy"));
/// assert!(!bob.allows("prompts.get"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    from = "BTreeMap<String, Vec<String>>",
    into = "BTreeMap<String, Vec<String>>"
)]
pub struct Roles(BTreeMap<String, Permissions>);

impl Roles {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or extends) a role.
    pub fn role<I, S>(mut self, name: impl Into<String>, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.entry(name.into()).or_default().extend(grants);
        self
    }

    /// The grants of a role.
    pub fn grants(&self, role: &str) -> Option<&Permissions> {
        self.0.get(role)
    }

    /// The role names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Adds the grants of the principal's roles to its permissions.
    pub fn apply(&self, principal: &mut Principal) {
        for role in &principal.roles {
            match self.0.get(role) {
                Some(grants) => principal.permissions.extend(grants.iter()),
                None => {
                    tracing::debug!(role = %role, principal = %principal.id, "unknown role grants nothing")
                }
            }
        }
    }

    /// [`apply`](Self::apply), by value.
    pub fn resolve(&self, mut principal: Principal) -> Principal {
        self.apply(&mut principal);
        principal
    }
}

impl From<BTreeMap<String, Vec<String>>> for Roles {
    fn from(map: BTreeMap<String, Vec<String>>) -> Self {
        Self(
            map.into_iter()
                .map(|(name, grants)| (name, grants.into_iter().collect()))
                .collect(),
        )
    }
}

impl From<Roles> for BTreeMap<String, Vec<String>> {
    fn from(roles: Roles) -> Self {
        roles
            .0
            .into_iter()
            .map(|(name, grants)| (name, grants.iter().map(str::to_owned).collect()))
            .collect()
    }
}

/// A stored principal as an authenticator hands it out: shared as it is, or a copy with the
/// grants of its roles added when a role table is configured.
pub(crate) fn with_roles(principal: &Arc<Principal>, roles: Option<&Roles>) -> Arc<Principal> {
    match roles {
        None => Arc::clone(principal),
        Some(roles) => Arc::new(roles.resolve(Principal::clone(principal))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::AuthMethod;

    #[test]
    fn roles_add_grants_and_unknown_roles_add_nothing() {
        let roles = Roles::new()
            .role("admin", ["*"])
            .role("editor", ["tools.call", "resources.read"])
            .role("editor", ["prompts.get"]);
        let p = roles.resolve(
            Principal::new("e", AuthMethod::Jwt)
                .with_roles(["editor", "ghost"])
                .with_permissions(["resources.subscribe"]),
        );
        assert!(p.allows("tools.call.x"));
        assert!(p.allows("prompts.get.y"));
        assert!(p.allows("resources.subscribe"));
        assert!(!p.allows("admin"));
        let a = roles.resolve(Principal::new("a", AuthMethod::Jwt).with_roles(["admin"]));
        assert!(a.allows("anything"));
        let json = serde_json::to_value(&roles).unwrap();
        assert_eq!(json["editor"].as_array().unwrap().len(), 3);
        let back: Roles = serde_json::from_value(json).unwrap();
        assert_eq!(back, roles);
    }
}
