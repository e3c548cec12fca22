//! Secrets (API keys, static bearer tokens) kept as SHA-256 digests, looked up without
//! comparing secrets byte by byte.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ConfigError;

/// The shortest plaintext secret accepted: 16 bytes. Keys are looked up by an unsalted SHA-256
/// (fast on purpose, unlike passwords), which is safe only for random, high-entropy secrets.
pub(crate) const MIN_SECRET_LEN: usize = 16;

/// The SHA-256 digest of a secret, as lowercase hex: what configuration files store instead
/// of the secret itself.
///
/// ```
/// assert_eq!(
///     mcp_auth::sha256_hex("correct horse battery staple"),
///     "c4bbcb1fbec99d65bf59d85c8cb62ee2db963f0fe106f483d9afa73bd4e39a8a"
/// );
/// ```
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn parse_sha256_hex(hex: &str) -> Result<[u8; 32], ConfigError> {
    let hex = hex.trim();
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(ConfigError::new(
            "a SHA-256 digest is 64 hexadecimal digits",
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| {
            char::from(b)
                .to_digit(16)
                .ok_or_else(|| ConfigError::new("a SHA-256 digest is 64 hexadecimal digits"))
        };
        // Both digits are below 16, so the value fits a byte.
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).unwrap_or_default();
    }
    Ok(out)
}

/// Secrets by digest.
///
/// Why a hash map is safe here: the presented secret is hashed first, so any timing the map's
/// lookup leaks is about SHA-256 digests, which an attacker cannot steer toward a stored one;
/// the final equality is checked in constant time anyway.
#[derive(Clone)]
pub(crate) struct SecretTable<V> {
    entries: HashMap<[u8; 32], V>,
}

impl<V> Default for SecretTable<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<V> SecretTable<V> {
    pub(crate) fn insert_plain(&mut self, secret: &str, value: V) -> Result<(), ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(format!(
                "secrets must be at least {MIN_SECRET_LEN} bytes (use random keys)"
            )));
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::new(
                "secrets must be visible ASCII (they travel in HTTP headers)",
            ));
        }
        self.insert_digest(Sha256::digest(secret.as_bytes()).into(), value)
    }

    pub(crate) fn insert_hex(&mut self, sha256_hex: &str, value: V) -> Result<(), ConfigError> {
        self.insert_digest(parse_sha256_hex(sha256_hex)?, value)
    }

    fn insert_digest(&mut self, digest: [u8; 32], value: V) -> Result<(), ConfigError> {
        if self.entries.insert(digest, value).is_some() {
            return Err(ConfigError::new("the same secret is configured twice"));
        }
        Ok(())
    }

    pub(crate) fn get(&self, presented: &str) -> Option<&V> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let (stored, value) = self.entries.get_key_value(&digest)?;
        bool::from(stored.ct_eq(&digest)).then_some(value)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_plain_and_hashed_secret() {
        let mut t = SecretTable::default();
        t.insert_plain("0123456789abcdef-one", 1).unwrap();
        t.insert_hex(&sha256_hex("0123456789abcdef-two"), 2)
            .unwrap();
        assert_eq!(t.get("0123456789abcdef-one"), Some(&1));
        assert_eq!(t.get("0123456789abcdef-two"), Some(&2));
        assert_eq!(t.get("0123456789abcdef-thr"), None);
        assert_eq!(t.get(""), None);
        assert!(t.insert_plain("short", 3).is_err());
        assert!(t.insert_plain("0123456789abcdef-one", 4).is_err());
        assert!(t.insert_hex("zz", 5).is_err());
        assert!(t.insert_hex(&"g".repeat(64), 5).is_err());
        assert_eq!(t.len(), 2);
    }
}
