//! RFC 6570 URI templates: expanding nothing, matching URIs against templates to extract their
//! variables. Supported expressions: `{var}` (simple: no `/`, `?`, `#`), `{+var}` (reserved:
//! anything), `{#var}` (fragment), `{/var}` (one path segment each), `{.var}` (label),
//! `{?a,b}` and `{&a,b}` (query parameters, in any order, each optional). Several variables in
//! one simple or reserved expression are comma-separated.

use std::collections::BTreeMap;

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Expr { op: Op, vars: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Simple,
    Reserved,
    Fragment,
    Path,
    Label,
    Query,
    QueryContinue,
}

/// A malformed template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template {0:?}")]
pub struct TemplateError(pub String);

impl UriTemplate {
    /// Parses a template.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let err = || TemplateError(source.to_owned());
        let mut parts = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or_else(err)?;
                    let body = &rest[1..end];
                    let (op, names) = match body.chars().next() {
                        Some('+') => (Op::Reserved, &body[1..]),
                        Some('#') => (Op::Fragment, &body[1..]),
                        Some('/') => (Op::Path, &body[1..]),
                        Some('.') => (Op::Label, &body[1..]),
                        Some('?') => (Op::Query, &body[1..]),
                        Some('&') => (Op::QueryContinue, &body[1..]),
                        _ => (Op::Simple, body),
                    };
                    let vars: Vec<String> = names
                        .split(',')
                        .map(|v| {
                            v.trim_end_matches('*')
                                .split(':')
                                .next()
                                .unwrap_or_default()
                                .to_owned()
                        })
                        .collect();
                    if vars.iter().any(|v| {
                        v.is_empty()
                            || !v
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                    }) {
                        return Err(err());
                    }
                    parts.push(Part::Expr { op, vars });
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(Part::Literal(rest[..i].to_owned()));
                    rest = &rest[i..];
                }
                None => {
                    if rest.contains('}') {
                        return Err(err());
                    }
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The names of every variable, in order.
    pub fn variables(&self) -> Vec<&str> {
        self.parts
            .iter()
            .flat_map(|p| match p {
                Part::Expr { vars, .. } => vars.iter().map(String::as_str).collect(),
                Part::Literal(_) => Vec::new(),
            })
            .collect()
    }

    /// Matches a URI, returning its variables (percent-decoded) if it fits the template.
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut vars = BTreeMap::new();
        match_parts(&self.parts, uri, &mut vars).then_some(vars)
    }
}

fn stops(op: Op) -> &'static [char] {
    match op {
        Op::Simple => &['/', '?', '#', '&'],
        Op::Label => &['/', '?', '#', '&', '.'],
        Op::Path => &['/', '?', '#'],
        Op::Reserved => &['?', '#'],
        Op::Fragment | Op::Query | Op::QueryContinue => &[],
    }
}

fn match_parts(parts: &[Part], input: &str, vars: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return input.is_empty();
    };
    match first {
        Part::Literal(lit) => input
            .strip_prefix(lit.as_str())
            .is_some_and(|r| match_parts(rest, r, vars)),
        Part::Expr {
            op: op @ (Op::Query | Op::QueryContinue),
            vars: names,
        } => {
            let lead = if *op == Op::Query { '?' } else { '&' };
            // Query expressions take the rest of the query; every listed name is optional.
            let (query, after) = match input.find('#') {
                Some(i) => (&input[..i], &input[i..]),
                None => (input, ""),
            };
            if query.is_empty() {
                return match_parts(rest, after, vars);
            }
            let Some(query) = query.strip_prefix(lead) else {
                return false;
            };
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if names.iter().any(|n| n == k) {
                    vars.insert(k.to_owned(), decode(v));
                }
            }
            match_parts(rest, after, vars)
        }
        Part::Expr { op, vars: names } => {
            let prefix = match op {
                Op::Fragment => Some('#'),
                Op::Path => Some('/'),
                Op::Label => Some('.'),
                _ => None,
            };
            let body = match prefix {
                Some(p) => match input.strip_prefix(p) {
                    Some(b) => b,
                    None => return false,
                },
                None => input,
            };
            let limit = body.find(stops(*op)).unwrap_or(body.len());
            // Try the longest candidate first, then shorter ones, so following literals match.
            for end in (1..=limit).rev() {
                if !body.is_char_boundary(end) {
                    continue;
                }
                let value = &body[..end];
                let pieces: Vec<&str> = if names.len() > 1 {
                    value.splitn(names.len(), ',').collect()
                } else {
                    vec![value]
                };
                if pieces.len() != names.len() || pieces.iter().any(|p| p.is_empty()) {
                    continue;
                }
                let mut attempt = vars.clone();
                for (n, p) in names.iter().zip(&pieces) {
                    attempt.insert(n.clone(), decode(p));
                }
                if match_parts(rest, &body[end..], &mut attempt) {
                    *vars = attempt;
                    return true;
                }
            }
            false
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(t)
            .unwrap()
            .matches(uri)
            .map(|v| v.into_iter().collect())
    }

    #[test]
    fn simple_and_reserved() {
        assert_eq!(
            m("test://template/{id}/data", "test://template/123/data"),
            Some(vec![("id".into(), "123".into())])
        );
        assert_eq!(
            m("test://template/{id}/data", "test://template/1/2/data"),
            None
        );
        assert_eq!(
            m("file:///{+path}", "file:///a/b/c.txt"),
            Some(vec![("path".into(), "a/b/c.txt".into())])
        );
        assert_eq!(
            m("users/{id}", "users/a%20b"),
            Some(vec![("id".into(), "a b".into())])
        );
        assert_eq!(m("users/{id}", "users/"), None);
        assert_eq!(
            m("x/{a},{b}", "x/1,2"),
            Some(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
        );
        assert_eq!(
            m("x/{a,b}", "x/1,2"),
            Some(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
        );
    }

    #[test]
    fn path_label_query_fragment() {
        assert_eq!(
            m("api{/ver}/items", "api/v2/items"),
            Some(vec![("ver".into(), "v2".into())])
        );
        assert_eq!(
            m("file{.ext}", "file.txt"),
            Some(vec![("ext".into(), "txt".into())])
        );
        assert_eq!(
            m("search{?q,lang}", "search?lang=en&q=rust"),
            Some(vec![
                ("lang".into(), "en".into()),
                ("q".into(), "rust".into())
            ])
        );
        assert_eq!(m("search{?q}", "search"), Some(vec![]));
        assert_eq!(
            m("doc{#section}", "doc#intro"),
            Some(vec![("section".into(), "intro".into())])
        );
    }

    #[test]
    fn variables_and_errors() {
        assert_eq!(
            UriTemplate::parse("a/{x}/{+y}{?z,w}").unwrap().variables(),
            vec!["x", "y", "z", "w"]
        );
        assert!(UriTemplate::parse("a/{x").is_err());
        assert!(UriTemplate::parse("a/x}").is_err());
        assert!(UriTemplate::parse("a/{}").is_err());
    }
}
