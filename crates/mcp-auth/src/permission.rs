//! Permission grants: dotted names with hierarchy and wildcards.

use std::collections::BTreeSet;

/// The permissions a principal holds.
///
/// A permission is a dot-separated name such as `tools.call.search`. A grant covers a required
/// permission when:
/// - it is `*` (everything);
/// - it equals it, or is an ancestor of it (`tools` covers `tools.call` and `tools.call.search`);
/// - it ends in `.*` and what precedes the `.*` is a proper ancestor (`tools.*` covers
///   `tools.call` but not `tools` itself).
///
/// Matching is by whole segments: `tool` does not cover `tools.call`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(BTreeSet<String>);

impl Permissions {
    /// No permissions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds grants.
    pub fn extend<I, S>(&mut self, grants: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.extend(grants.into_iter().map(Into::into));
    }

    /// Adds one grant.
    pub fn insert(&mut self, grant: impl Into<String>) {
        self.0.insert(grant.into());
    }

    /// Whether any grant covers `required`.
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|g| permission_covers(g, required))
    }

    /// The grants.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether there are no grants.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Permissions {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

/// Whether `grant` covers `required` (the rules of [`Permissions`]).
///
/// ```
/// use mcp_auth::permission_covers;
/// assert!(permission_covers("*", "tools.call"));
/// assert!(permission_covers("tools", "tools.call.echo"));
/// assert!(permission_covers("tools.*", "tools.call"));
/// assert!(!permission_covers("tools.*", "tools"));
/// assert!(!permission_covers("tool", "tools.call"));
/// ```
pub fn permission_covers(grant: &str, required: &str) -> bool {
    if grant == "*" || grant == required {
        return true;
    }
    if let Some(prefix) = grant.strip_suffix(".*") {
        return is_proper_ancestor(prefix, required);
    }
    is_proper_ancestor(grant, required)
}

fn is_proper_ancestor(ancestor: &str, name: &str) -> bool {
    name.len() > ancestor.len()
        && name.starts_with(ancestor)
        && name.as_bytes()[ancestor.len()] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_and_wildcards() {
        let p: Permissions = ["tools.*", "resources.read", "prompts.get.summary"]
            .into_iter()
            .collect();
        assert!(p.allows("tools.call"));
        assert!(p.allows("tools.call.echo"));
        assert!(!p.allows("tools"));
        assert!(p.allows("resources.read"));
        assert!(p.allows("resources.read.file"));
        assert!(!p.allows("resources"));
        assert!(!p.allows("resources.readx"));
        assert!(p.allows("prompts.get.summary"));
        assert!(!p.allows("prompts.get.other"));
        assert!(!Permissions::new().allows("tools.call"));
        assert!(
            ["*"]
                .into_iter()
                .collect::<Permissions>()
                .allows("anything.at.all")
        );
    }
}
