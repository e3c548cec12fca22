//! Integrity-protected `requestState` for multi-round-trip requests (2026-07-28).
//!
//! The state carries the answers the client gave in earlier rounds, bound to the method, a
//! digest of the request's params and an expiry, and signed with HMAC-SHA256 under the server's
//! key. The client echoes it untouched; anything else (a changed byte, another request's state,
//! an expired one) is refused with -32602.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use mcp_protocol::McpError;
use mcp_protocol::types::InputResponses;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The method.
    m: String,
    /// SHA-256 of the request's identifying params, base64url.
    d: String,
    /// Expiry, seconds since the Unix epoch.
    e: u64,
    /// Answers gathered so far.
    a: InputResponses,
}

/// Signs and checks request states.
#[derive(Clone)]
pub(crate) struct StateKey {
    key: [u8; 32],
    ttl: Duration,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateKey")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The digest of what identifies a request: its method-specific params, canonically serialized
/// (serde_json maps are sorted, so equal params give equal bytes).
pub(crate) fn digest<T: Serialize>(identity: &T) -> String {
    let bytes = serde_json::to_vec(identity).unwrap_or_default();
    B64.encode(Sha256::digest(&bytes))
}

impl StateKey {
    pub(crate) fn new(key: [u8; 32], ttl: Duration) -> Self {
        Self { key, ttl }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    pub(crate) fn seal(&self, method: &str, digest: String, answers: InputResponses) -> String {
        let payload = Payload {
            m: method.to_owned(),
            d: digest,
            e: now() + self.ttl.as_secs(),
            a: answers,
        };
        let body = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = B64.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    pub(crate) fn open(
        &self,
        state: &str,
        method: &str,
        digest: &str,
    ) -> Result<InputResponses, McpError> {
        let bad = |why: &str| McpError::invalid_params(format!("invalid requestState: {why}"));
        let (body, tag) = state.split_once('.').ok_or_else(|| bad("malformed"))?;
        let tag = B64.decode(tag).map_err(|_| bad("malformed"))?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| bad("signature does not match"))?;
        let payload: Payload = B64
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("malformed"))?;
        if payload.m != method || payload.d != digest {
            return Err(bad("issued for another request"));
        }
        if payload.e < now() {
            return Err(bad("expired"));
        }
        Ok(payload.a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tampering() {
        let key = StateKey::new([7; 32], Duration::from_secs(60));
        let d = digest(&("tools/call", "x", serde_json::json!({"a": 1})));
        let state = key.seal("tools/call", d.clone(), InputResponses::new());
        assert!(key.open(&state, "tools/call", &d).is_ok());
        assert!(key.open(&state, "prompts/get", &d).is_err());
        assert!(key.open(&state, "tools/call", "other").is_err());
        let mut tampered = state.clone().into_bytes();
        tampered[3] ^= 1;
        assert!(
            key.open(&String::from_utf8_lossy(&tampered), "tools/call", &d)
                .is_err()
        );
        let other = StateKey::new([8; 32], Duration::from_secs(60));
        assert!(other.open(&state, "tools/call", &d).is_err());
        let expired = StateKey::new([7; 32], Duration::ZERO).seal(
            "tools/call",
            d.clone(),
            InputResponses::new(),
        );
        std::thread::sleep(Duration::from_millis(1100));
        assert!(key.open(&expired, "tools/call", &d).is_err());
    }
}
