//! HTTP Basic (RFC 7617) against Argon2id password hashes (feature `basic`).
//!
//! Why Argon2id: it is the winner of the Password Hashing Competition, RFC 9106's and OWASP's
//! first recommendation, memory-hard (so GPU and ASIC guessing gains little), and its PHC
//! string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) carries its own parameters, so
//! stronger parameters can be rolled out user by user. Hashes of other algorithms are refused
//! at configuration time; there is no plaintext fallback.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::{authorization_credential, refuse_query_credentials};
use crate::error::{AuthError, ConfigError};
use crate::principal::{AuthMethod, Principal};
use crate::roles::{Roles, with_roles};

/// Argon2id cost parameters for [`hash_password_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordHashParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordHashParams {
    /// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordHashParams {
    /// Parameters with these costs.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        Self {
            memory_kib,
            iterations,
            parallelism,
        }
    }
}

/// Hashes a password with Argon2id and a random salt, default costs: the PHC string to put
/// in configuration.
///
/// ```
/// let hash = mcp_auth::basic::hash_password("correct horse battery staple").unwrap();
/// assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// ```
pub fn hash_password(password: &str) -> Result<String, ConfigError> {
    hash_password_with(password, PasswordHashParams::default())
}

/// [`hash_password`] with other costs.
pub fn hash_password_with(
    password: &str,
    params: PasswordHashParams,
) -> Result<String, ConfigError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| ConfigError::new(format!("Argon2 parameters: {e}")))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    hasher
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ConfigError::new(format!("hashing: {e}")))
}

/// One user as a configuration file holds it.
///
/// ```
/// let user: mcp_auth::basic::BasicUserConfig = serde_json::from_str(r#"{
///     "username": "alice",
///     "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$6XbPTmT1u8bX6nkvZ8wnQXc2gQn9bEMbGkzTQLQGj0c",
///     "roles": ["operator"]
/// }"#).unwrap();
/// assert_eq!(user.username, "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BasicUserConfig {
    /// The user name (no `:`).
    pub username: String,
    /// The Argon2 PHC string (see [`hash_password`]).
    pub password_hash: String,
    /// Permission grants.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

struct User {
    hash: Arc<str>,
    principal: Arc<Principal>,
}

/// Authenticates `Authorization: Basic <base64(user:password)>`.
///
/// - Verification runs on tokio's blocking pool, at most
///   [`max_concurrent_verifications`](Self::max_concurrent_verifications) at once (default:
///   the number of CPUs), so a burst of logins queues instead of starving the server's
///   workers. Put a rate limit in front of it as well: each attempt costs a hash.
/// - An unknown user costs the same hash as a known one (the password is checked against a
///   configured hash and refused whatever the result), so response times do not reveal
///   which user names exist.
/// - Every answer is [`AuthError::InvalidCredentials`] with no hint of which part was wrong.
///
/// Every request pays one Argon2 verification (tens of milliseconds with the default
/// costs): for high request rates prefer API keys or tokens.
pub struct BasicAuthenticator {
    users: HashMap<String, User>,
    permits: Arc<Semaphore>,
    max_len: usize,
    roles: Option<Arc<Roles>>,
}

impl fmt::Debug for BasicAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthenticator")
            .field("users", &self.users.len())
            .field("verification_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Default for BasicAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl BasicAuthenticator {
    /// No users yet.
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            users: HashMap::new(),
            permits: Arc::new(Semaphore::new(cpus)),
            max_len: 1024,
            roles: None,
        }
    }

    /// An authenticator for configured users.
    pub fn from_config(
        users: impl IntoIterator<Item = BasicUserConfig>,
    ) -> Result<Self, ConfigError> {
        users.into_iter().try_fold(Self::new(), |auth, user| {
            let principal = Principal::new(user.username.clone(), AuthMethod::Basic)
                .with_permissions(user.permissions)
                .with_roles(user.roles);
            auth.user(&user.username, &user.password_hash, principal)
        })
    }

    /// Adds a user with an Argon2 PHC hash; the principal's method becomes
    /// [`AuthMethod::Basic`].
    pub fn user(
        mut self,
        username: &str,
        password_hash: &str,
        principal: Principal,
    ) -> Result<Self, ConfigError> {
        if username.is_empty() || username.contains(':') {
            return Err(ConfigError::new("a user name is non-empty and has no ':'"));
        }
        let parsed = PasswordHash::new(password_hash)
            .map_err(|e| ConfigError::new(format!("password hash of {username}: {e}")))?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(ConfigError::new(format!(
                "password hash of {username} is not Argon2"
            )));
        }
        let mut principal = principal;
        principal.method = AuthMethod::Basic;
        let user = User {
            hash: Arc::from(password_hash),
            principal: Arc::new(principal),
        };
        if self.users.insert(username.to_owned(), user).is_some() {
            return Err(ConfigError::new(format!(
                "user {username} is configured twice"
            )));
        }
        Ok(self)
    }

    /// How many verifications may run at once (default: the number of CPUs).
    pub fn max_concurrent_verifications(mut self, permits: usize) -> Self {
        self.permits = Arc::new(Semaphore::new(permits.max(1)));
        self
    }

    /// Adds the grants of each user's roles from this table.
    pub fn roles(mut self, roles: Arc<Roles>) -> Self {
        self.roles = Some(roles);
        self
    }

    async fn check(&self, request: AuthRequest<'_>) -> Result<Arc<Principal>, AuthError> {
        refuse_query_credentials(request.uri)?;
        let encoded = authorization_credential(request.headers, "Basic", self.max_len)?
            .ok_or(AuthError::MissingCredentials)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| AuthError::invalid("malformed Basic credentials"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| AuthError::invalid("malformed Basic credentials"))?;
        let user = self.users.get(username);
        // An unknown user is checked against some configured hash, so it takes as long.
        let Some(hash) = user
            .map(|u| Arc::clone(&u.hash))
            .or_else(|| self.users.values().next().map(|u| Arc::clone(&u.hash)))
        else {
            return Err(AuthError::invalid("wrong user name or password"));
        };
        let password = password.to_owned();
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Unavailable("password verification stopped".to_owned()))?;
        let verified = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let parsed = PasswordHash::new(&hash).ok()?;
            Some(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .map_err(|_| AuthError::Unavailable("password verification failed".to_owned()))?;
        match (user, verified) {
            (Some(user), Some(true)) => Ok(with_roles(&user.principal, self.roles.as_deref())),
            _ => Err(AuthError::invalid("wrong user name or password")),
        }
    }
}

impl Authenticator for BasicAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        Box::pin(self.check(request))
    }
}
