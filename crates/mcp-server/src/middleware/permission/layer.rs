use std::borrow::Cow;
use std::sync::Arc;

use mcp_auth::{Requirement, ScopeMap};
use tower::Layer;

use super::Permission;
use crate::request::Listed;

/// What routes that declare no requirement need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Undeclared {
    /// The naming convention: `tools.call.<name>`, `resources.read.<name>`,
    /// `resources.subscribe.<name>`, `prompts.get.<name>` (the default).
    #[default]
    Convention,
    /// Nothing beyond being authenticated.
    Allow,
}

/// Checks requirements and filters lists; see the [module docs](super).
#[derive(Debug, Clone, Default)]
pub struct PermissionLayer {
    pub(super) undeclared: Undeclared,
    pub(super) scope_map: Option<Arc<ScopeMap>>,
}

impl PermissionLayer {
    /// Requirements as declared; undeclared ones by convention.
    pub fn new() -> Self {
        Self::default()
    }

    /// What routes that declare nothing require.
    #[must_use]
    pub fn undeclared(mut self, undeclared: Undeclared) -> Self {
        self.undeclared = undeclared;
        self
    }

    /// The scope table of the token authenticator, so that a refusal for a missing
    /// permission names the OAuth scopes that grant it (in `data.scopes` and the 403
    /// `insufficient_scope` challenge), not only the scopes declared outright.
    #[must_use]
    pub fn scope_map(mut self, map: ScopeMap) -> Self {
        self.scope_map = Some(Arc::new(map));
        self
    }
}

impl<S> Layer<S> for PermissionLayer {
    type Service = Permission<S>;

    fn layer(&self, inner: S) -> Permission<S> {
        Permission {
            inner,
            rules: self.clone(),
        }
    }
}

/// What using an item requires: its declaration, else the convention (or nothing).
/// `subscribe` asks for the subscription convention of a resource.
pub(super) fn requirement_of(
    item: Listed<'_>,
    undeclared: Undeclared,
    subscribe: bool,
) -> Cow<'_, Requirement> {
    let declared = match item {
        Listed::Tool(t) => t.requirement(),
        Listed::Resource(r) => r.requirement(),
        Listed::Template(t) => t.requirement(),
        Listed::Prompt(p) => p.requirement(),
    };
    if let Some(declared) = declared {
        return Cow::Borrowed(declared);
    }
    if undeclared == Undeclared::Allow {
        return Cow::Owned(Requirement::none());
    }
    Cow::Owned(match item {
        Listed::Tool(t) => Requirement::tool(&t.definition.name),
        Listed::Resource(_) | Listed::Template(_) if subscribe => Requirement::permission(format!(
            "{}.{}",
            mcp_auth::RESOURCE_SUBSCRIBE,
            resource_name(item)
        )),
        Listed::Resource(_) | Listed::Template(_) => Requirement::resource(resource_name(item)),
        Listed::Prompt(p) => Requirement::prompt(&p.definition.name),
    })
}

fn resource_name(item: Listed<'_>) -> &str {
    match item {
        Listed::Resource(r) => &r.definition.name,
        Listed::Template(t) => &t.definition.name,
        Listed::Tool(t) => &t.definition.name,
        Listed::Prompt(p) => &p.definition.name,
    }
}
