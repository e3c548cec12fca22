//! Who made a request.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::permission::Permissions;

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// No credentials: the server allows anonymous access and gave this principal.
    Anonymous,
    /// An API key (`X-API-Key` or `Authorization`).
    ApiKey,
    /// A static bearer token.
    Bearer,
    /// A JSON Web Token (an OAuth access token or a self-issued one).
    Jwt,
    /// HTTP Basic.
    Basic,
    /// An opaque token checked by RFC 7662 introspection.
    Introspection,
    /// Established by the process's environment (stdio: the user who started the server).
    Environment,
}

/// An authenticated caller: an id, the permissions granted, the OAuth scopes of its token and
/// the claims the authenticator saw.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Principal {
    /// Stable identifier (API key name, token subject, user name).
    pub id: String,
    /// What the principal may do.
    pub permissions: Permissions,
    /// The OAuth scopes of the token, as granted (empty for non-OAuth credentials).
    pub scopes: BTreeSet<String>,
    /// The roles the credentials named (an API key's configured roles, a token's `roles`
    /// claim). Their grants are already in [`permissions`](Self::permissions) when a
    /// [`Roles`](crate::Roles) table was given to the authenticator.
    pub roles: BTreeSet<String>,
    /// Claims or attributes (JWT claims, introspection response members).
    pub claims: Map<String, Value>,
    /// How the credentials were checked.
    pub method: AuthMethod,
}

impl Principal {
    /// A principal with no permissions.
    pub fn new(id: impl Into<String>, method: AuthMethod) -> Self {
        Self {
            id: id.into(),
            permissions: Permissions::default(),
            scopes: BTreeSet::new(),
            roles: BTreeSet::new(),
            claims: Map::new(),
            method,
        }
    }

    /// The anonymous principal (id `anonymous`, no permissions).
    pub fn anonymous() -> Self {
        Self::new("anonymous", AuthMethod::Anonymous)
    }

    /// Adds permission grants (see [`Permissions`] for the syntax).
    pub fn with_permissions<I, S>(mut self, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions.extend(grants);
        self
    }

    /// Adds OAuth scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Adds roles (see [`Roles`](crate::Roles); this does not add their grants).
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds a claim.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// Whether the principal holds `required` (see [`Permissions::allows`]).
    pub fn allows(&self, required: &str) -> bool {
        self.permissions.allows(required)
    }

    /// Whether the principal's token carries every scope in `required`.
    pub fn has_scopes<'a>(&self, required: impl IntoIterator<Item = &'a str>) -> bool {
        required.into_iter().all(|s| self.scopes.contains(s))
    }
}
