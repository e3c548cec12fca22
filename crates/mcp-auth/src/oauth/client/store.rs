//! Where registrations and tokens are kept between runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::error::OAuthClientError;
use super::registration::ClientRegistration;
use crate::BoxFuture;

/// The tokens of one MCP server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredTokens {
    /// The issuer of the authorization server that issued them: they are never sent after
    /// the server names another one.
    pub issuer: String,
    /// The resource they were requested for (`resource` parameter).
    pub resource: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, if the server issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires (seconds since the Unix epoch), if the server said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes granted (those requested when the server did not say), space-separated.
    #[serde(default)]
    pub scope: String,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Keeps client registrations (by authorization server issuer) and tokens (by MCP server
/// URL). Implementations must keep secrets from other users of the machine.
pub trait CredentialStore: Send + Sync + fmt::Debug {
    /// The registration at the authorization server `issuer`.
    fn client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<ClientRegistration>, OAuthClientError>>;

    /// Keeps `registration` under its issuer, replacing any earlier one.
    fn save_client<'a>(
        &'a self,
        registration: &'a ClientRegistration,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>>;

    /// The tokens for the MCP server at `server`.
    fn tokens<'a>(
        &'a self,
        server: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, OAuthClientError>>;

    /// Keeps `tokens` for `server`; `None` forgets them.
    fn save_tokens<'a>(
        &'a self,
        server: &'a str,
        tokens: Option<&'a StoredTokens>,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>>;
}

/// What a store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Contents {
    #[serde(default)]
    clients: BTreeMap<String, ClientRegistration>,
    #[serde(default)]
    tokens: BTreeMap<String, StoredTokens>,
}

/// A store in memory: everything is gone when the process ends. The default.
#[derive(Debug, Default)]
pub struct MemoryStore {
    contents: Mutex<Contents>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Contents) -> T) -> Result<T, OAuthClientError> {
        let mut contents = self
            .contents
            .lock()
            .map_err(|_| OAuthClientError::Store("the memory store's lock is poisoned".into()))?;
        Ok(f(&mut contents))
    }
}

impl CredentialStore for MemoryStore {
    fn client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<ClientRegistration>, OAuthClientError>> {
        Box::pin(async move { self.with(|c| c.clients.get(issuer).cloned()) })
    }

    fn save_client<'a>(
        &'a self,
        registration: &'a ClientRegistration,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>> {
        Box::pin(async move {
            self.with(|c| {
                c.clients
                    .insert(registration.issuer.clone(), registration.clone());
            })
        })
    }

    fn tokens<'a>(
        &'a self,
        server: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, OAuthClientError>> {
        Box::pin(async move { self.with(|c| c.tokens.get(server).cloned()) })
    }

    fn save_tokens<'a>(
        &'a self,
        server: &'a str,
        tokens: Option<&'a StoredTokens>,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>> {
        Box::pin(async move {
            self.with(|c| match tokens {
                Some(t) => {
                    c.tokens.insert(server.to_owned(), t.clone());
                }
                None => {
                    c.tokens.remove(server);
                }
            })
        })
    }
}

/// A store in one JSON file, readable and writable by its owner only (mode 0600).
///
/// Every change rewrites the whole file atomically: the new contents go to a temporary file
/// (created with mode 0600) in the same folder, are flushed to disk, and replace the old file
/// by a rename, so a crash leaves either the old or the new file, never half of one. Changes
/// from one process are serialized; two processes sharing one file may lose each other's
/// last change (never the file).
///
/// ```no_run
/// use mcp_auth::oauth::client::FileStore;
///
/// let store = FileStore::new(dirs_home().join(".config/my-app/oauth.json"));
/// # fn dirs_home() -> std::path::PathBuf { "/home/me".into() }
/// # let _ = store;
/// ```
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    /// Serializes read-modify-write cycles within the process.
    lock: tokio::sync::Mutex<()>,
}

impl FileStore {
    /// A store in the file at `path` (created on the first change, with its folder).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, what: &str, e: impl fmt::Display) -> OAuthClientError {
        OAuthClientError::Store(format!("{what} {}: {e}", self.path.display()))
    }

    async fn read(&self) -> Result<Contents, OAuthClientError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.error("cannot parse", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Contents::default()),
            Err(e) => Err(self.error("cannot read", e)),
        }
    }

    async fn write(&self, contents: &Contents) -> Result<(), OAuthClientError> {
        use tokio::io::AsyncWriteExt;

        let bytes =
            serde_json::to_vec_pretty(contents).map_err(|e| self.error("cannot encode", e))?;
        let folder = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|e| self.error("cannot create the folder of", e))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "oauth".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let temporary = folder.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
        let written = async {
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(&temporary).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&temporary, &self.path).await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(self.error("cannot write", e));
        }
        // The rename is durable once the folder is flushed too.
        if let Ok(dir) = tokio::fs::File::open(&folder).await {
            let _ = dir.sync_all().await;
        }
        Ok(())
    }

    async fn change(&self, f: impl FnOnce(&mut Contents)) -> Result<(), OAuthClientError> {
        let _guard = self.lock.lock().await;
        let mut contents = self.read().await?;
        f(&mut contents);
        self.write(&contents).await
    }
}

impl CredentialStore for FileStore {
    fn client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<ClientRegistration>, OAuthClientError>> {
        Box::pin(async move { Ok(self.read().await?.clients.remove(issuer)) })
    }

    fn save_client<'a>(
        &'a self,
        registration: &'a ClientRegistration,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>> {
        Box::pin(self.change(move |c| {
            c.clients
                .insert(registration.issuer.clone(), registration.clone());
        }))
    }

    fn tokens<'a>(
        &'a self,
        server: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, OAuthClientError>> {
        Box::pin(async move { Ok(self.read().await?.tokens.remove(server)) })
    }

    fn save_tokens<'a>(
        &'a self,
        server: &'a str,
        tokens: Option<&'a StoredTokens>,
    ) -> BoxFuture<'a, Result<(), OAuthClientError>> {
        Box::pin(self.change(move |c| match tokens {
            Some(t) => {
                c.tokens.insert(server.to_owned(), t.clone());
            }
            None => {
                c.tokens.remove(server);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::registration::{RegistrationSource, TokenEndpointAuthMethod};
    use super::*;

    fn registration(issuer: &str) -> ClientRegistration {
        ClientRegistration {
            issuer: issuer.into(),
            client_id: format!("id-at-{issuer}"),
            client_secret: Some("secret".into()),
            client_secret_expires_at: None,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            source: RegistrationSource::Dynamic,
            redirect_uris: vec!["http://127.0.0.1:1/callback".into()],
        }
    }

    fn tokens(access: &str) -> StoredTokens {
        StoredTokens {
            issuer: "https://as".into(),
            resource: "https://mcp/mcp".into(),
            access_token: access.into(),
            refresh_token: Some("r".into()),
            expires_at: Some(100),
            scope: "a b".into(),
        }
    }

    async fn exercise(store: &dyn CredentialStore) {
        assert_eq!(store.client("https://as").await.unwrap(), None);
        store
            .save_client(&registration("https://as"))
            .await
            .unwrap();
        store
            .save_client(&registration("https://other"))
            .await
            .unwrap();
        assert_eq!(
            store.client("https://as").await.unwrap(),
            Some(registration("https://as"))
        );
        assert_eq!(
            store.client("https://as/").await.unwrap(),
            None,
            "issuers are exact"
        );
        store.save_tokens("s1", Some(&tokens("t1"))).await.unwrap();
        store.save_tokens("s2", Some(&tokens("t2"))).await.unwrap();
        assert_eq!(store.tokens("s1").await.unwrap(), Some(tokens("t1")));
        store.save_tokens("s1", None).await.unwrap();
        assert_eq!(store.tokens("s1").await.unwrap(), None);
        assert_eq!(store.tokens("s2").await.unwrap(), Some(tokens("t2")));
    }

    #[tokio::test]
    async fn memory_store_keeps_registrations_by_issuer_and_tokens_by_server() {
        exercise(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn file_store_survives_a_new_instance_and_is_private() {
        let dir = std::env::temp_dir().join(format!(
            "mcp-auth-store-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let path = dir.join("nested").join("oauth.json");
        exercise(&FileStore::new(&path)).await;

        let again = FileStore::new(&path);
        assert_eq!(again.tokens("s2").await.unwrap(), Some(tokens("t2")));
        assert_eq!(
            again.client("https://other").await.unwrap(),
            Some(registration("https://other"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            [std::ffi::OsString::from("oauth.json")],
            "no temporary files left"
        );

        std::fs::write(&path, b"{ not json").unwrap();
        let err = again.tokens("s2").await.unwrap_err();
        assert!(matches!(err, OAuthClientError::Store(_)), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
