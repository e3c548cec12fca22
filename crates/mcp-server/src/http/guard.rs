//! DNS-rebinding protection: which `Host` and `Origin` values the endpoint answers.
//!
//! A web page on a foreign site can make a browser send requests to a server on the user's
//! machine by pointing its own DNS name at 127.0.0.1 (DNS rebinding). The browser then sends the
//! foreign name in `Host` and the foreign site in `Origin`; checking both stops it.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::http::header::{FORWARDED, HOST, ORIGIN};

/// Which `Host` values the endpoint answers (the authority the client connected to).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowedHosts {
    /// Decided by the address the server is bound to: loopback names (`localhost`, `127.0.0.1`,
    /// `[::1]`, any port) when bound to a loopback address or when the address is unknown
    /// (a router served by other code); any host otherwise, with `Origin` then required to be
    /// the same origin as the host.
    #[default]
    Auto,
    /// Any host (for example when a reverse proxy in front already checks it).
    Any,
    /// These hosts, compared without regard to case: `example.com` allows any port,
    /// `example.com:8443` only that one; IPv6 addresses in brackets (`[::1]`).
    List(Vec<String>),
}

/// Which `Origin` values the endpoint answers. A request without `Origin` (not from a browser)
/// is always allowed; `Origin: null` is allowed only by [`AllowedOrigins::Any`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowedOrigins {
    /// Origins whose host is an allowed host (see [`AllowedHosts`]); when any host is allowed,
    /// only the origin of the request's own host.
    #[default]
    Auto,
    /// Any origin.
    Any,
    /// These origins exactly (`scheme://host[:port]`, compared without regard to case).
    List(Vec<String>),
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Host,
    Origin,
}

/// The checks, settled for one bound address.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    hosts: AllowedHosts,
    origins: AllowedOrigins,
    trust_forwarded_host: bool,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl Guard {
    pub(crate) fn new(
        hosts: AllowedHosts,
        origins: AllowedOrigins,
        trust_forwarded_host: bool,
    ) -> Self {
        Self {
            hosts,
            origins,
            trust_forwarded_host,
        }
    }

    /// The host the client addressed: the forwarded one when a trusted proxy sets it.
    fn effective_host<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        if self.trust_forwarded_host {
            if let Some(h) = headers
                .get("x-forwarded-host")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|h| !h.is_empty())
            {
                return Some(h);
            }
            if let Some(h) = headers
                .get(FORWARDED)
                .and_then(|v| v.to_str().ok())
                .and_then(forwarded_host)
            {
                return Some(h);
            }
        }
        headers.get(HOST).and_then(|v| v.to_str().ok())
    }

    fn host_allowed(&self, authority: &str, loopback_only: bool) -> bool {
        let (host, port) = split_authority(authority);
        let matches = |entry: &str| {
            let (eh, ep) = split_authority(entry);
            eh.eq_ignore_ascii_case(host) && (ep.is_none() || ep == port)
        };
        match &self.hosts {
            AllowedHosts::Any => true,
            AllowedHosts::List(list) => list.iter().any(|e| matches(e)),
            AllowedHosts::Auto if loopback_only => LOOPBACK_NAMES.iter().any(|e| matches(e)),
            AllowedHosts::Auto => true,
        }
    }

    /// Checks `Host` (or the forwarded host) and `Origin` of a request that arrived on a
    /// server bound to `bound` (unknown: treated as loopback, the strict case), over TLS when
    /// `secure`.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        bound: Option<SocketAddr>,
        secure: bool,
    ) -> Result<(), Refusal> {
        let loopback_only = bound.is_none_or(|a| a.ip().is_loopback());
        let host = self.effective_host(headers);
        match host {
            Some(h) if self.host_allowed(h, loopback_only) => {}
            // HTTP/1.1 requires Host; a request without one is refused rather than guessed at.
            _ => return Err(Refusal::Host),
        }
        let Some(origin) = headers.get(ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().map_err(|_| Refusal::Origin)?.trim();
        let allowed = match &self.origins {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list
                .iter()
                .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin)),
            AllowedOrigins::Auto => match origin_authority(origin) {
                None => false,
                // A web page's origin: `https`, or `http` on a plain-HTTP server. A plain
                // `http://` page of the same host must not drive an HTTPS server (whoever can
                // tamper with the page's traffic could), nor can other schemes (`file`,
                // extensions) name this server.
                Some((scheme, _))
                    if !(scheme.eq_ignore_ascii_case("https")
                        || (!secure && scheme.eq_ignore_ascii_case("http"))) =>
                {
                    false
                }
                Some((_, authority)) => match (&self.hosts, loopback_only) {
                    (AllowedHosts::List(_), _) | (AllowedHosts::Auto, true) => {
                        self.host_allowed(authority, loopback_only)
                    }
                    // Any host: only a page served from this very host may call it.
                    _ => host.is_some_and(|h| h.eq_ignore_ascii_case(authority)),
                },
            },
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Origin)
        }
    }
}

/// `host` and optional `port` of an authority (`example.com:80`, `[::1]:3000`, `localhost`).
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    let authority = authority.trim();
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let port = authority[end + 1..].strip_prefix(':');
                (&authority[..=end], port)
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (authority, None),
    }
}

/// The scheme and authority of an origin (`https://example.com:8443` → `https`,
/// `example.com:8443`); `None` for `null` and anything that is not `scheme://authority`.
fn origin_authority(origin: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then_some((scheme, authority))
}

/// The `host=` of the first element of a `Forwarded` header (RFC 7239).
fn forwarded_host(value: &str) -> Option<&str> {
    let first = value.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("host")
            .then(|| v.trim().trim_matches('"'))
            .filter(|h| !h.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn loopback() -> Guard {
        Guard::new(AllowedHosts::Auto, AllowedOrigins::Auto, false)
    }

    const LOOPBACK: Option<SocketAddr> = Some(SocketAddr::V4(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::LOCALHOST,
        3000,
    )));

    #[test]
    fn loopback_defaults() {
        let g = loopback();
        const BOUND: Option<SocketAddr> = LOOPBACK;
        for host in [
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "LOCALHOST",
        ] {
            assert_eq!(
                g.check(&headers(&[("host", host)]), BOUND, false),
                Ok(()),
                "{host}"
            );
        }
        assert_eq!(
            g.check(&headers(&[("host", "evil.example.com")]), BOUND, false),
            Err(Refusal::Host)
        );
        assert_eq!(g.check(&HeaderMap::new(), BOUND, false), Err(Refusal::Host));
        assert_eq!(
            g.check(
                &headers(&[
                    ("host", "localhost:3000"),
                    ("origin", "http://localhost:5173")
                ]),
                BOUND,
                false
            ),
            Ok(())
        );
        for origin in ["http://evil.example.com", "null", "garbage"] {
            assert_eq!(
                g.check(
                    &headers(&[("host", "localhost:3000"), ("origin", origin)]),
                    BOUND,
                    false
                ),
                Err(Refusal::Origin),
                "{origin}"
            );
        }
    }

    #[test]
    fn public_bind_allows_any_host_but_only_same_origin() {
        let g = loopback();
        const BOUND: Option<SocketAddr> = Some(SocketAddr::V4(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::UNSPECIFIED,
            80,
        )));
        let h = |o: &str| headers(&[("host", "mcp.example.com"), ("origin", o)]);
        assert_eq!(
            g.check(&headers(&[("host", "mcp.example.com")]), BOUND, false),
            Ok(())
        );
        assert_eq!(g.check(&h("https://mcp.example.com"), BOUND, false), Ok(()));
        assert_eq!(
            g.check(&h("https://evil.example.com"), BOUND, false),
            Err(Refusal::Origin)
        );
        // Over TLS only an https page of the same host; other schemes never.
        assert_eq!(g.check(&h("https://mcp.example.com"), BOUND, true), Ok(()));
        for origin in [
            "http://mcp.example.com",
            "file://mcp.example.com",
            "chrome-extension://mcp.example.com",
        ] {
            assert_eq!(
                g.check(&h(origin), BOUND, true),
                Err(Refusal::Origin),
                "{origin}"
            );
        }
        assert_eq!(g.check(&h("http://mcp.example.com"), BOUND, false), Ok(()));
        assert_eq!(
            g.check(&h("ftp://mcp.example.com"), BOUND, false),
            Err(Refusal::Origin)
        );
    }

    #[test]
    fn lists_and_ports() {
        let g = Guard::new(
            AllowedHosts::List(vec!["mcp.example.com".into(), "10.0.0.5:8443".into()]),
            AllowedOrigins::List(vec!["https://app.example.com".into()]),
            false,
        );
        const BOUND: Option<SocketAddr> = None;
        assert_eq!(
            g.check(&headers(&[("host", "MCP.example.com:9")]), BOUND, false),
            Ok(())
        );
        assert_eq!(
            g.check(&headers(&[("host", "10.0.0.5:8443")]), BOUND, false),
            Ok(())
        );
        assert_eq!(
            g.check(&headers(&[("host", "10.0.0.5:8080")]), BOUND, false),
            Err(Refusal::Host)
        );
        assert_eq!(
            g.check(
                &headers(&[
                    ("host", "mcp.example.com"),
                    ("origin", "https://app.example.com")
                ]),
                BOUND,
                false
            ),
            Ok(())
        );
        assert_eq!(
            g.check(
                &headers(&[
                    ("host", "mcp.example.com"),
                    ("origin", "https://mcp.example.com")
                ]),
                BOUND,
                false
            ),
            Err(Refusal::Origin)
        );
    }

    #[test]
    fn trusted_proxy_reads_forwarded_host() {
        let g = Guard::new(
            AllowedHosts::List(vec!["mcp.example.com".into()]),
            AllowedOrigins::Auto,
            true,
        );
        const BOUND: Option<SocketAddr> = LOOPBACK;
        // The proxy connects to the loopback address; the client addressed the public name.
        let fwd = headers(&[
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "mcp.example.com, proxy.internal"),
            ("origin", "https://mcp.example.com"),
        ]);
        assert_eq!(g.check(&fwd, BOUND, false), Ok(()));
        let forwarded = headers(&[
            ("host", "127.0.0.1:3000"),
            (
                "forwarded",
                "for=1.2.3.4;host=\"mcp.example.com\";proto=https",
            ),
        ]);
        assert_eq!(g.check(&forwarded, BOUND, false), Ok(()));
        // Without trust, the forwarded headers are ignored.
        let untrusted = Guard {
            trust_forwarded_host: false,
            ..g
        };
        assert_eq!(untrusted.check(&fwd, BOUND, false), Err(Refusal::Host));
    }

    #[test]
    fn authority_parsing() {
        assert_eq!(split_authority("[::1]:80"), ("[::1]", Some("80")));
        assert_eq!(split_authority("[::1]"), ("[::1]", None));
        assert_eq!(split_authority("a.b:1"), ("a.b", Some("1")));
        assert_eq!(split_authority("a.b"), ("a.b", None));
        assert_eq!(
            origin_authority("https://x.y:1/p"),
            Some(("https", "x.y:1"))
        );
        assert_eq!(origin_authority("null"), None);
    }
}
