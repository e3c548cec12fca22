//! Verification keys, each pinned to one algorithm.

use std::fmt;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use crate::error::ConfigError;

/// A key that verifies tokens signed with exactly one algorithm.
///
/// The algorithm comes from the configuration (or the JWK's `alg`), never from the token: a
/// token whose header names another algorithm is refused before any signature check, which is
/// what defeats `alg: none` and the RSA-public-key-as-HMAC-secret confusion.
///
/// ```
/// use mcp_auth::jwt::{Algorithm, JwtKey};
/// let key = JwtKey::hmac(b"0123456789abcdef0123456789abcdef", Algorithm::HS256).unwrap().with_kid("k1");
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert!(JwtKey::hmac(b"short", Algorithm::HS256).is_err());
/// assert!(JwtKey::hmac(b"0123456789abcdef0123456789abcdef", Algorithm::RS256).is_err());
/// ```
#[derive(Clone)]
pub struct JwtKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material (an HMAC key is a secret).
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// An HMAC secret for HS256, HS384 or HS512, at least as long as the hash output
    /// (RFC 7518 §3.2: 32, 48 or 64 bytes).
    pub fn hmac(secret: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        let min = match algorithm {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            other => return Err(wrong_family(other, "an HMAC secret")),
        };
        if secret.len() < min {
            return Err(ConfigError::new(format!(
                "{algorithm:?} needs a secret of at least {min} bytes"
            )));
        }
        Ok(Self::pinned(DecodingKey::from_secret(secret), algorithm))
    }

    /// An RSA public key (PEM, PKCS#1 or SPKI) for RS256/384/512 or PS256/384/512.
    pub fn rsa_pem(pem: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        expect_family(algorithm, AlgorithmFamily::Rsa, "an RSA key")?;
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|e| ConfigError::new(format!("RSA public key: {e}")))?;
        Ok(Self::pinned(key, algorithm))
    }

    /// An EC public key (PEM) for ES256 (P-256) or ES384 (P-384).
    pub fn ec_pem(pem: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        expect_family(algorithm, AlgorithmFamily::Ec, "an EC key")?;
        let key = DecodingKey::from_ec_pem(pem)
            .map_err(|e| ConfigError::new(format!("EC public key: {e}")))?;
        Ok(Self::pinned(key, algorithm))
    }

    /// An Ed25519 public key (PEM) for EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = DecodingKey::from_ed_pem(pem)
            .map_err(|e| ConfigError::new(format!("Ed25519 public key: {e}")))?;
        Ok(Self::pinned(key, Algorithm::EdDSA))
    }

    /// A public key from a JWK (RFC 7517). The algorithm is the JWK's `alg`, or when it has
    /// none, the one its curve implies (`P-256`: ES256, `P-384`: ES384, `Ed25519`: EdDSA) or
    /// `rsa_algorithm` for RSA keys. Symmetric (`oct`) keys, keys whose `use` is not `sig`,
    /// and keys whose `alg` does not fit their type or curve are refused.
    pub fn from_jwk(jwk: &Jwk, rsa_algorithm: Algorithm) -> Result<Self, ConfigError> {
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err(ConfigError::new("JWK is not for signatures (use != sig)"));
        }
        if jwk
            .common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            return Err(ConfigError::new("JWK key_ops does not include verify"));
        }
        let declared =
            match jwk.common.key_algorithm {
                Some(alg) => Some(Algorithm::try_from(alg).map_err(|_| {
                    ConfigError::new(format!("JWK alg {alg} is not a JWS algorithm"))
                })?),
                None => None,
            };
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::OctetKey(_) => {
                return Err(ConfigError::new(
                    "symmetric (oct) keys are never accepted from a key set",
                ));
            }
            AlgorithmParameters::RSA(_) => {
                let alg = declared.unwrap_or(rsa_algorithm);
                expect_family(alg, AlgorithmFamily::Rsa, "an RSA JWK")?;
                alg
            }
            AlgorithmParameters::EllipticCurve(params) => {
                let implied = match params.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    ref other => {
                        return Err(ConfigError::new(format!("unsupported EC curve {other:?}")));
                    }
                };
                if declared.is_some_and(|d| d != implied) {
                    return Err(ConfigError::new("JWK alg does not fit its curve"));
                }
                implied
            }
            AlgorithmParameters::OctetKeyPair(params) => {
                if params.curve != EllipticCurve::Ed25519 {
                    return Err(ConfigError::new(format!(
                        "unsupported OKP curve {:?}",
                        params.curve
                    )));
                }
                if declared.is_some_and(|d| d != Algorithm::EdDSA) {
                    return Err(ConfigError::new("JWK alg does not fit an Ed25519 key"));
                }
                Algorithm::EdDSA
            }
            _ => return Err(ConfigError::new("unsupported JWK key type")),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| ConfigError::new(format!("JWK: {e}")))?;
        Ok(Self {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
        })
    }

    /// Sets the key id tokens name in their `kid` header.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }

    fn pinned(key: DecodingKey, algorithm: Algorithm) -> Self {
        Self {
            kid: None,
            algorithm,
            key,
        }
    }
}

fn expect_family(
    algorithm: Algorithm,
    family: AlgorithmFamily,
    what: &str,
) -> Result<(), ConfigError> {
    if algorithm.family() == family {
        Ok(())
    } else {
        Err(wrong_family(algorithm, what))
    }
}

fn wrong_family(algorithm: Algorithm, what: &str) -> ConfigError {
    ConfigError::new(format!("{algorithm:?} cannot be used with {what}"))
}
