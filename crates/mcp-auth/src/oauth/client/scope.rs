//! Which scopes to ask for (MCP authorization, "Scope Selection Strategy" and "Step-Up
//! Authorization Flow"; SEP-2207 for `offline_access`).

use std::fmt;

/// A set of OAuth scopes in the order first seen, without duplicates.
///
/// ```
/// use mcp_auth::oauth::client::Scopes;
///
/// let granted = Scopes::parse("files:read");
/// let needed = Scopes::parse("files:write files:read");
/// assert_eq!(granted.union(&needed).to_string(), "files:read files:write");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(Vec<String>);

/// The scope a client asks for to be given refresh tokens (OpenID Connect Core 11).
pub const OFFLINE_ACCESS: &str = "offline_access";

impl Scopes {
    /// The scopes of a space-separated `scope` value.
    pub fn parse(value: &str) -> Self {
        value.split_ascii_whitespace().collect()
    }

    /// No scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(&self, other: &Self) -> bool {
        other.0.iter().all(|s| self.contains(s))
    }

    /// This set followed by the scopes of `other` it lacks.
    pub fn union(&self, other: &Self) -> Self {
        self.0.iter().chain(&other.0).map(String::as_str).collect()
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The `scope` parameter: `None` when empty, so that it is left out.
    pub fn to_param(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.to_string())
    }
}

impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Vec::new();
        for s in iter {
            let s = s.as_ref();
            if !s.is_empty() && !set.iter().any(|x: &String| x == s) {
                set.push(s.to_owned());
            }
        }
        Self(set)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// The scopes of a first authorization: the challenge's `scope` if it named any, else every
/// scope the protected-resource metadata lists, else none (the `scope` parameter is then left
/// out and the authorization server applies its default).
pub(crate) fn select(challenge: Option<&str>, scopes_supported: Option<&[String]>) -> Scopes {
    if let Some(scopes) = challenge.map(Scopes::parse).filter(|s| !s.is_empty()) {
        return scopes;
    }
    scopes_supported
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// `scopes` plus `offline_access` when refresh tokens are wanted, the authorization server
/// lists `offline_access` and something is requested at all (asking for `offline_access`
/// alone would replace the server's default scopes with it). Never added otherwise
/// (SEP-2207).
pub(crate) fn with_offline_access(scopes: Scopes, want_refresh: bool, as_lists_it: bool) -> Scopes {
    if want_refresh && as_lists_it && !scopes.is_empty() && !scopes.contains(OFFLINE_ACCESS) {
        scopes.union(&Scopes::parse(OFFLINE_ACCESS))
    } else {
        scopes
    }
}

/// How many step-ups in a row have asked for the same scopes: a server that keeps refusing
/// the same set is not asked again without end.
#[derive(Debug, Default)]
pub(crate) struct StepUps {
    last: Option<Scopes>,
    attempts: u32,
}

impl StepUps {
    /// Records a step-up for `scopes`; `Err` with the attempts made when that would be more
    /// than `max` in a row for the same set.
    pub(crate) fn allow(&mut self, scopes: &Scopes, max: u32) -> Result<(), u32> {
        if self.last.as_ref() == Some(scopes) {
            if self.attempts >= max {
                return Err(self.attempts);
            }
            self.attempts += 1;
        } else {
            self.last = Some(scopes.clone());
            self.attempts = 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supported(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn challenge_scope_then_scopes_supported_then_nothing() {
        let prm = supported(&["a", "b"]);
        assert_eq!(select(Some("x y"), Some(&prm)).to_string(), "x y");
        assert_eq!(select(Some("  "), Some(&prm)).to_string(), "a b");
        assert_eq!(select(None, Some(&prm)).to_string(), "a b");
        assert_eq!(select(None, None).to_param(), None);
        assert_eq!(select(None, Some(&[])).to_param(), None);
    }

    #[test]
    fn union_keeps_order_and_drops_duplicates() {
        let a = Scopes::parse("mcp:basic  mcp:read mcp:basic");
        assert_eq!(a.to_string(), "mcp:basic mcp:read");
        let u = a.union(&Scopes::parse("mcp:write mcp:read"));
        assert_eq!(u.to_string(), "mcp:basic mcp:read mcp:write");
        assert!(u.covers(&a));
        assert!(!a.covers(&u));
    }

    #[test]
    fn offline_access_only_when_listed_wanted_and_something_is_requested() {
        let s = Scopes::parse("mcp:basic");
        assert_eq!(
            with_offline_access(s.clone(), true, true).to_string(),
            "mcp:basic offline_access"
        );
        assert_eq!(with_offline_access(s.clone(), true, false), s);
        assert_eq!(with_offline_access(s.clone(), false, true), s);
        assert!(with_offline_access(Scopes::default(), true, true).is_empty());
        let already = Scopes::parse("offline_access mcp:basic");
        assert_eq!(with_offline_access(already.clone(), true, true), already);
    }

    #[test]
    fn the_same_step_up_is_allowed_max_times_in_a_row() {
        let mut steps = StepUps::default();
        let write = Scopes::parse("read write");
        assert_eq!(steps.allow(&write, 1), Ok(()));
        assert_eq!(steps.allow(&write, 1), Err(1));
        let admin = Scopes::parse("read write admin");
        assert_eq!(steps.allow(&admin, 1), Ok(()), "a new set starts again");
        let mut steps = StepUps::default();
        assert!(steps.allow(&write, 2).is_ok());
        assert!(steps.allow(&write, 2).is_ok());
        assert_eq!(steps.allow(&write, 2), Err(2));
    }
}
