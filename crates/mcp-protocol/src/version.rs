//! Protocol revisions, their eras, and version negotiation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A released revision of the Model Context Protocol.
///
/// Revisions are ordered by release date, so `<` means "older than".
///
/// ```
/// use mcp_protocol::{Era, ProtocolVersion};
///
/// let v: ProtocolVersion = "2025-06-18".parse().unwrap();
/// assert_eq!(v.era(), Era::Legacy);
/// assert!(v < ProtocolVersion::V2026_07_28);
/// assert_eq!(ProtocolVersion::LATEST.as_str(), "2026-07-28");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: the first release; `initialize`, stdio and the HTTP+SSE transport.
    V2024_11_05,
    /// 2025-03-26: Streamable HTTP, OAuth 2.1, JSON-RPC batches, tool annotations, audio.
    V2025_03_26,
    /// 2025-06-18: structured tool output, elicitation, resource links; batches removed.
    V2025_06_18,
    /// 2025-11-25: icons, URL elicitation, sampling with tools, experimental tasks. The last legacy revision.
    V2025_11_25,
    /// 2026-07-28: the stateless revision; per-request `_meta`, `server/discover`, multi-round-trip results.
    V2026_07_28,
}

/// The two incompatible families of MCP revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 2025-11-25 and earlier: an `initialize` handshake opens a session.
    Legacy,
    /// 2026-07-28 and later: stateless; every request carries its version and capabilities in `_meta`.
    Modern,
}

impl ProtocolVersion {
    /// The newest revision this crate knows.
    pub const LATEST: Self = Self::V2026_07_28;
    /// The newest legacy (`initialize`) revision.
    pub const LATEST_LEGACY: Self = Self::V2025_11_25;
    /// Every revision, oldest first.
    pub const ALL: [Self; 5] = [
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
        Self::V2026_07_28,
    ];

    /// The revision's date string as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire version string; `None` for a revision this crate does not know.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The era this revision belongs to.
    pub const fn era(self) -> Era {
        match self {
            Self::V2026_07_28 => Era::Modern,
            _ => Era::Legacy,
        }
    }

    /// Whether this revision is of the legacy (`initialize`) family.
    pub const fn is_legacy(self) -> bool {
        matches!(self.era(), Era::Legacy)
    }

    /// Whether this revision is of the modern (stateless) family.
    pub const fn is_modern(self) -> bool {
        matches!(self.era(), Era::Modern)
    }

    /// Whether JSON-RPC batches (arrays of messages) are allowed: only in 2025-03-26.
    pub const fn allows_batches(self) -> bool {
        matches!(self, Self::V2025_03_26)
    }

    /// Whether results carry `resultType` (2026-07-28 and later).
    pub fn has_result_type(self) -> bool {
        self >= Self::V2026_07_28
    }

    /// The JSON-RPC code for "resource not found" in this revision:
    /// -32002 up to 2025-11-25, -32602 (invalid params) from 2026-07-28.
    pub fn resource_not_found_code(self) -> i64 {
        if self.is_modern() {
            crate::error::code::INVALID_PARAMS
        } else {
            crate::error::code::RESOURCE_NOT_FOUND
        }
    }

    /// The HTTP transport this revision defines: HTTP+SSE for 2024-11-05, Streamable HTTP afterwards.
    pub const fn uses_http_sse_transport(self) -> bool {
        matches!(self, Self::V2024_11_05)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a string names no revision this crate knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MCP protocol version {0:?}")]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(UnknownVersion(s.into_owned())))
    }
}

/// The outcome of negotiating a revision with a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiated {
    /// Both sides support this revision.
    Agreed(ProtocolVersion),
    /// No revision in common: answer with [`UnsupportedVersion`] data.
    Unsupported(UnsupportedVersion),
}

/// The `data` of an unsupported-version error: what the server supports and what was asked for.
///
/// In 2026-07-28 this is the data of error -32022; legacy `initialize` errors carry the same shape
/// under -32602.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedVersion {
    /// Every version the server supports.
    pub supported: Vec<String>,
    /// The version the client asked for.
    pub requested: String,
}

/// Picks the revision for a modern request: the requested one if both sides support it.
///
/// ```
/// use mcp_protocol::{negotiate_modern, Negotiated, ProtocolVersion};
///
/// let ours = [ProtocolVersion::V2026_07_28];
/// assert_eq!(negotiate_modern("2026-07-28", &ours), Negotiated::Agreed(ProtocolVersion::V2026_07_28));
/// match negotiate_modern("2027-01-01", &ours) {
///     Negotiated::Unsupported(data) => assert_eq!(data.supported, ["2026-07-28"]),
///     Negotiated::Agreed(_) => unreachable!(),
/// }
/// ```
pub fn negotiate_modern(requested: &str, supported: &[ProtocolVersion]) -> Negotiated {
    match ProtocolVersion::parse(requested) {
        Some(v) if v.is_modern() && supported.contains(&v) => Negotiated::Agreed(v),
        _ => Negotiated::Unsupported(UnsupportedVersion {
            supported: supported
                .iter()
                .filter(|v| v.is_modern())
                .map(|v| v.as_str().to_owned())
                .collect(),
            requested: requested.to_owned(),
        }),
    }
}

/// Picks the revision to answer a legacy `initialize` with.
///
/// The spec's rule: if the server supports the requested version it echoes it; otherwise it
/// answers with the latest legacy version it supports and lets the client decide whether to
/// disconnect. `Unsupported` only when the server supports no legacy revision at all.
///
/// ```
/// use mcp_protocol::{negotiate_legacy, Negotiated, ProtocolVersion};
///
/// let ours = ProtocolVersion::ALL;
/// assert_eq!(negotiate_legacy("2025-03-26", &ours), Negotiated::Agreed(ProtocolVersion::V2025_03_26));
/// assert_eq!(negotiate_legacy("2099-01-01", &ours), Negotiated::Agreed(ProtocolVersion::V2025_11_25));
/// ```
pub fn negotiate_legacy(requested: &str, supported: &[ProtocolVersion]) -> Negotiated {
    if let Some(v) = ProtocolVersion::parse(requested)
        && v.is_legacy()
        && supported.contains(&v)
    {
        return Negotiated::Agreed(v);
    }
    match supported.iter().copied().filter(|v| v.is_legacy()).max() {
        Some(v) => Negotiated::Agreed(v),
        None => Negotiated::Unsupported(UnsupportedVersion {
            supported: supported.iter().map(|v| v.as_str().to_owned()).collect(),
            requested: requested.to_owned(),
        }),
    }
}

/// Picks the version a client should retry with after an unsupported-version error:
/// the newest version in the server's `supported` list that the client supports too.
pub fn pick_mutual(
    server_supported: &[String],
    ours: &[ProtocolVersion],
) -> Option<ProtocolVersion> {
    server_supported
        .iter()
        .filter_map(|s| ProtocolVersion::parse(s))
        .filter(|v| ours.contains(v))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_era() {
        assert!(ProtocolVersion::V2024_11_05 < ProtocolVersion::V2025_03_26);
        assert!(ProtocolVersion::V2025_11_25 < ProtocolVersion::V2026_07_28);
        assert_eq!(
            ProtocolVersion::ALL
                .iter()
                .filter(|v| v.is_modern())
                .count(),
            1
        );
        assert!(ProtocolVersion::V2025_03_26.allows_batches());
        assert!(!ProtocolVersion::V2025_06_18.allows_batches());
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<ProtocolVersion>(&json).unwrap(), v);
        }
        assert!("2024-10-07".parse::<ProtocolVersion>().is_err());
    }

    #[test]
    fn modern_negotiation_refuses_legacy_versions() {
        let ours = ProtocolVersion::ALL;
        assert!(matches!(
            negotiate_modern("2025-11-25", &ours),
            Negotiated::Unsupported(UnsupportedVersion { ref requested, .. }) if requested == "2025-11-25"
        ));
    }

    #[test]
    fn legacy_negotiation_without_legacy_support() {
        let ours = [ProtocolVersion::V2026_07_28];
        assert_eq!(
            negotiate_legacy("2025-11-25", &ours),
            Negotiated::Unsupported(UnsupportedVersion {
                supported: vec!["2026-07-28".into()],
                requested: "2025-11-25".into()
            })
        );
    }

    #[test]
    fn mutual_pick() {
        let server = vec![
            "2025-06-18".to_owned(),
            "2026-07-28".to_owned(),
            "x".to_owned(),
        ];
        assert_eq!(
            pick_mutual(&server, &[ProtocolVersion::V2025_06_18]),
            Some(ProtocolVersion::V2025_06_18)
        );
        assert_eq!(
            pick_mutual(&server, &ProtocolVersion::ALL),
            Some(ProtocolVersion::V2026_07_28)
        );
        assert_eq!(pick_mutual(&server, &[ProtocolVersion::V2024_11_05]), None);
    }
}
