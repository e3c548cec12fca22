//! What an operation requires, declared per tool, resource and prompt, and the filter that
//! shows a principal only what it may use.

use std::borrow::Borrow;

use crate::error::AuthError;
use crate::principal::Principal;

/// The permission prefix for calling a tool: `tools.call.<tool name>`.
pub const TOOL_CALL: &str = "tools.call";
/// The permission prefix for reading a resource: `resources.read.<resource name>`.
pub const RESOURCE_READ: &str = "resources.read";
/// The permission prefix for subscribing to a resource: `resources.subscribe.<resource name>`.
pub const RESOURCE_SUBSCRIBE: &str = "resources.subscribe";
/// The permission prefix for getting a prompt: `prompts.get.<prompt name>`.
pub const PROMPT_GET: &str = "prompts.get";

/// What a principal needs for one operation: every listed permission (checked with the
/// hierarchy and wildcards of [`Permissions`](crate::Permissions)) and every listed OAuth scope
/// (held exactly by the token).
///
/// The naming convention the server router uses when a tool, resource or prompt declares no
/// requirement of its own: `tools.call.<name>`, `resources.read.<name>`,
/// `resources.subscribe.<name>`, `prompts.get.<name>` (the name the item was registered under;
/// for resources, the resource's or template's `name`, not its URI). A dotted name is a
/// hierarchy like any permission: the grant `tools.call.git` covers the tool `git.commit`.
/// Grants such as `tools.*` or `tools.call` cover every tool.
///
/// ```
/// use mcp_auth::{AuthError, AuthMethod, Principal, Requirement};
///
/// let deploy = Requirement::tool("deploy").and_scope("deploy:prod");
/// let ci = Principal::new("ci", AuthMethod::Jwt)
///     .with_permissions(["tools.call"])
///     .with_scopes(["deploy:prod"]);
/// assert!(deploy.check(&ci).is_ok());
///
/// let intern = Principal::new("intern", AuthMethod::Jwt).with_permissions(["tools.call.lint"]);
/// assert_eq!(
///     deploy.check(&intern),
///     Err(AuthError::Forbidden { required: vec!["tools.call.deploy".into(), "deploy:prod".into()] })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Requirement {
    permissions: Vec<String>,
    scopes: Vec<String>,
}

impl Requirement {
    /// Nothing beyond being authenticated.
    pub fn none() -> Self {
        Self::default()
    }

    /// One permission.
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::none().and_permission(permission)
    }

    /// One OAuth scope.
    pub fn scope(scope: impl Into<String>) -> Self {
        Self::none().and_scope(scope)
    }

    /// `tools.call.<name>`.
    pub fn tool(name: &str) -> Self {
        Self::permission(format!("{TOOL_CALL}.{name}"))
    }

    /// `resources.read.<name>`.
    pub fn resource(name: &str) -> Self {
        Self::permission(format!("{RESOURCE_READ}.{name}"))
    }

    /// `prompts.get.<name>`.
    pub fn prompt(name: &str) -> Self {
        Self::permission(format!("{PROMPT_GET}.{name}"))
    }

    /// Also requires a permission.
    pub fn and_permission(mut self, permission: impl Into<String>) -> Self {
        push_unique(&mut self.permissions, permission.into());
        self
    }

    /// Also requires an OAuth scope.
    pub fn and_scope(mut self, scope: impl Into<String>) -> Self {
        push_unique(&mut self.scopes, scope.into());
        self
    }

    /// The permissions required, in declaration order.
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// The OAuth scopes required, in declaration order (what a 403 `insufficient_scope`
    /// challenge names).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether nothing is required beyond authentication.
    pub fn is_none(&self) -> bool {
        self.permissions.is_empty() && self.scopes.is_empty()
    }

    /// Whether the principal meets every part of the requirement.
    pub fn is_met_by(&self, principal: &Principal) -> bool {
        self.permissions.iter().all(|p| principal.allows(p))
            && self.scopes.iter().all(|s| principal.scopes.contains(s))
    }

    /// `Ok` when met, else [`AuthError::Forbidden`] naming everything the operation requires
    /// (permissions, then scopes), not only what is missing, so a client can ask for it all
    /// at once.
    pub fn check(&self, principal: &Principal) -> Result<(), AuthError> {
        if self.is_met_by(principal) {
            return Ok(());
        }
        Err(AuthError::Forbidden {
            required: self
                .permissions
                .iter()
                .chain(&self.scopes)
                .cloned()
                .collect(),
        })
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Keeps the items whose requirement the principal meets, in order: what `tools/list`,
/// `resources/list` and `prompts/list` show a principal.
///
/// ```
/// use mcp_auth::{AuthMethod, Principal, Requirement, filter_allowed};
///
/// let tools = vec!["search", "deploy", "lint"];
/// let dev = Principal::new("dev", AuthMethod::ApiKey).with_permissions(["tools.call.search", "tools.call.lint"]);
/// assert_eq!(filter_allowed(&dev, tools, |name| Requirement::tool(name)), vec!["search", "lint"]);
/// ```
pub fn filter_allowed<T, R>(
    principal: &Principal,
    items: impl IntoIterator<Item = T>,
    mut requirement_of: impl FnMut(&T) -> R,
) -> Vec<T>
where
    R: Borrow<Requirement>,
{
    items
        .into_iter()
        .filter(|item| requirement_of(item).borrow().is_met_by(principal))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::AuthMethod;

    #[test]
    fn conventions_and_hierarchy() {
        let p = Principal::new("p", AuthMethod::ApiKey).with_permissions([
            "tools.call.git",
            "resources.read.*",
            "prompts",
        ]);
        assert!(Requirement::tool("git.commit").is_met_by(&p));
        assert!(!Requirement::tool("github").is_met_by(&p));
        assert!(Requirement::resource("readme").is_met_by(&p));
        assert!(Requirement::prompt("summary").is_met_by(&p));
        assert!(Requirement::none().is_met_by(&Principal::anonymous()));
        assert!(!Requirement::scope("x").is_met_by(&p));
        let r = Requirement::tool("a")
            .and_permission("tools.call.a")
            .and_scope("s")
            .and_scope("s");
        assert_eq!(r.permissions(), ["tools.call.a"]);
        assert_eq!(r.scopes(), ["s"]);
    }

    #[test]
    fn filter_keeps_order_and_uses_borrowed_requirements() {
        let declared = [
            ("a", Requirement::none()),
            ("b", Requirement::permission("admin")),
            ("c", Requirement::tool("c")),
        ];
        let p = Principal::new("p", AuthMethod::ApiKey).with_permissions(["tools.call.c"]);
        let kept = filter_allowed(&p, declared.iter(), |(_, r)| r);
        assert_eq!(kept.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["a", "c"]);
    }
}
