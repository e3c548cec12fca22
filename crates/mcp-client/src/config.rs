//! Server configurations: the original SDK's dicts (`{"name", "transport": "stdio", "command",
//! "args", "env", "auth"}`), the `mcpServers` JSON that desktop MCP hosts use, and files of
//! either in JSON or TOML (feature `toml`), read into one type.
//!
//! Every string may name environment variables as `${VAR}`; they are replaced when the
//! configuration is read, so secrets stay out of the file. An unset variable is an error that
//! names it, never an empty string (`$${` is a literal `${`).
//!
//! ```
//! use mcp_client::config::{AuthConfig, ServerConfig, TransportConfig};
//!
//! let hosts = r#"{"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-filesystem", "/tmp"], "env": {"DEBUG": "1"}}}}"#;
//! let configs = ServerConfig::parse_many(hosts).unwrap();
//! assert_eq!(configs[0].name, "files");
//! assert!(matches!(configs[0].transport, TransportConfig::Stdio { .. }));
//!
//! let original = r#"{"name": "weather", "transport": "http", "url": "http://127.0.0.1:8080/mcp",
//!                    "auth": {"type": "bearer", "token": "${WEATHER_TOKEN}"}}"#;
//! let env = |name: &str| (name == "WEATHER_TOKEN").then(|| "s3cret".to_owned());
//! let weather = &ServerConfig::parse_with_env(original, &env).unwrap()[0];
//! assert_eq!(weather.auth, Some(AuthConfig::Bearer { token: "s3cret".into() }));
//!
//! let unset = ServerConfig::parse_with_env(original, &|_: &str| None).unwrap_err();
//! assert!(unset.to_string().contains("WEATHER_TOKEN"));
//! ```

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use mcp_transport::child::ChildSpec;
use mcp_transport::http_client::{BoxFuture, Challenge, Credentials, HttpClientOptions};

use crate::{Client, ClientError, ClientOptions};

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportConfig {
    /// A child process over stdio.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Environment merged over this process's.
        env: BTreeMap<String, String>,
        /// The working directory.
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP at a URL ([`Client::connect_http`]; it falls back to HTTP+SSE by itself).
    Http {
        /// The endpoint.
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
    },
    /// The 2024-11-05 HTTP+SSE transport ([`Client::connect_sse`]).
    Sse {
        /// The SSE endpoint.
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
    },
    /// WebSocket (`Client::connect_ws`, feature `ws`).
    WebSocket {
        /// The endpoint.
        url: String,
        /// Extra headers of the opening handshake.
        headers: BTreeMap<String, String>,
    },
}

impl TransportConfig {
    /// The transport's name as the original SDK spelt it: `stdio`, `http`, `sse`, `websocket`
    /// (also the `transport` label of the multi-server client's metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Stdio { .. } => "stdio",
            Self::Http { .. } => "http",
            Self::Sse { .. } => "sse",
            Self::WebSocket { .. } => "websocket",
        }
    }
}

/// The original SDK's client-side `auth` block: credentials sent to the server with every
/// request (HTTP) or with the opening handshake (WebSocket). A stdio server gets none.
///
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthConfig {
    /// `{"type": "api_key", "key": ..., "header": "X-API-Key"}`: the key in a header of its
    /// own (default `X-API-Key`).
    ApiKey {
        /// The key.
        key: String,
        /// The header that carries it.
        header: String,
    },
    /// `{"type": "bearer", "token": ...}`: `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `{"type": "basic", "username": ..., "password": ...}`: `Authorization: Basic
    /// base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey { header, .. } => f
                .debug_struct("ApiKey")
                .field("key", &"<redacted>")
                .field("header", header)
                .finish(),
            Self::Bearer { .. } => f
                .debug_struct("Bearer")
                .field("token", &"<redacted>")
                .finish(),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl AuthConfig {
    /// The header the credentials travel in, and its value.
    ///
    /// ```
    /// use mcp_client::config::AuthConfig;
    ///
    /// let basic = AuthConfig::Basic { username: "ada".into(), password: "pw".into() };
    /// assert_eq!(basic.header(), ("Authorization".to_owned(), "Basic YWRhOnB3".to_owned()));
    /// ```
    pub fn header(&self) -> (String, String) {
        match self {
            Self::ApiKey { key, header } => (header.clone(), key.clone()),
            Self::Bearer { token } => ("Authorization".to_owned(), format!("Bearer {token}")),
            Self::Basic { username, password } => (
                "Authorization".to_owned(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{password}"))
                ),
            ),
        }
    }

    /// The credentials as the HTTP transport's [`Credentials`] hook, when they go in
    /// `Authorization` (bearer, basic, an API key configured with that header); `None` for an
    /// API key in a header of its own, which is a static header.
    pub fn credentials(&self) -> Option<Arc<dyn Credentials>> {
        let (name, value) = self.header();
        name.eq_ignore_ascii_case("authorization")
            .then(|| Arc::new(StaticAuthorization(value)) as Arc<dyn Credentials>)
    }
}

/// An `Authorization` value that never changes: a static bearer token, HTTP Basic, or an API
/// key sent as `Authorization`. A 401 or 403 is final (there is nothing to refresh).
#[derive(Clone)]
pub struct StaticAuthorization(String);

impl StaticAuthorization {
    /// Credentials that send `value` as `Authorization`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl std::fmt::Debug for StaticAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The scheme only: the secret never reaches a log.
        let scheme = self.0.split_once(' ').map_or("<redacted>", |(s, _)| s);
        f.debug_tuple("StaticAuthorization")
            .field(&format_args!("{scheme} <redacted>"))
            .finish()
    }
}

impl Credentials for StaticAuthorization {
    fn authorization(&self) -> BoxFuture<'_, Option<String>> {
        let value = self.0.clone();
        Box::pin(async move { Some(value) })
    }

    fn on_challenge<'a>(&'a self, _challenge: &'a Challenge) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }
}

/// One server: its name, how to reach it, and the credentials it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The server's name (a label: two configurations that differ only by name reach the same
    /// server).
    pub name: String,
    /// How to reach it.
    pub transport: TransportConfig,
    /// The original SDK's `auth` block.
    pub auth: Option<AuthConfig>,
}

/// A configuration that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid server configuration: {0}")]
pub struct ConfigError(pub String);

/// Where `${VAR}` values come from.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Replaces every `${VAR}` in `text` with `lookup(VAR)`; `$${` is a literal `${`. `what` names
/// the place for the error.
fn expand(text: &str, lookup: EnvLookup<'_>, what: &str) -> Result<String, ConfigError> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| ConfigError(format!("{what}: an unclosed `${{` in {text:?}")))?;
            let name = &tail[..end];
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ConfigError(format!(
                    "{what}: `${{{name}}}` is not an environment variable name"
                )));
            }
            let value = lookup(name).ok_or_else(|| {
                ConfigError(format!("{what}: environment variable {name} is not set"))
            })?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "type")]
    transport: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    auth: Option<AuthEntry>,
}

impl AuthEntry {
    fn into_config(self, name: &str, lookup: EnvLookup<'_>) -> Result<AuthConfig, ConfigError> {
        let field = |v: Option<String>, key: &str| -> Result<String, ConfigError> {
            let v = v.ok_or_else(|| {
                ConfigError(format!(
                    "server {name:?}: auth type {:?} needs {key:?}",
                    self.kind
                ))
            })?;
            expand(&v, lookup, &format!("server {name:?} auth.{key}"))
        };
        match self.kind.to_ascii_lowercase().replace('-', "_").as_str() {
            "api_key" | "apikey" => Ok(AuthConfig::ApiKey {
                key: field(self.key.clone(), "key")?,
                header: match self.header.clone() {
                    Some(h) => expand(&h, lookup, &format!("server {name:?} auth.header"))?,
                    None => "X-API-Key".to_owned(),
                },
            }),
            "bearer" => Ok(AuthConfig::Bearer {
                token: field(self.token.clone(), "token")?,
            }),
            "basic" => Ok(AuthConfig::Basic {
                username: field(self.username.clone(), "username")?,
                password: field(self.password.clone(), "password")?,
            }),
            other => Err(ConfigError(format!(
                "server {name:?} has unknown auth type {other:?} (api_key, bearer or basic)"
            ))),
        }
    }
}

impl Entry {
    fn into_config(
        self,
        fallback_name: Option<&str>,
        lookup: EnvLookup<'_>,
    ) -> Result<ServerConfig, ConfigError> {
        let name = self
            .name
            .or_else(|| fallback_name.map(str::to_owned))
            .ok_or_else(|| ConfigError("a server needs a name".into()))?;
        let at = |key: &str| format!("server {name:?} {key}");
        let one = |v: Option<String>, key: &str| -> Result<Option<String>, ConfigError> {
            v.map(|v| expand(&v, lookup, &at(key))).transpose()
        };
        let map = |m: BTreeMap<String, String>, key: &str| {
            m.into_iter()
                .map(|(k, v)| Ok((k.clone(), expand(&v, lookup, &at(&format!("{key}.{k}")))?)))
                .collect::<Result<BTreeMap<_, _>, ConfigError>>()
        };
        let command = one(self.command, "command")?;
        let url = one(self.url, "url")?;
        let headers = map(self.headers, "headers")?;
        let kind = self.transport.as_deref().map(str::to_ascii_lowercase);
        let need_url = |url: Option<String>| {
            url.ok_or_else(|| ConfigError(format!("server {name:?} needs a url")))
        };
        let transport = match (kind.as_deref(), command) {
            (None | Some("stdio"), Some(command)) => TransportConfig::Stdio {
                command,
                args: self
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| expand(a, lookup, &at(&format!("args[{i}]"))))
                    .collect::<Result<_, _>>()?,
                env: map(self.env, "env")?,
                cwd: self.cwd,
            },
            (Some("stdio"), None) => {
                return Err(ConfigError(format!(
                    "stdio server {name:?} needs a command"
                )));
            }
            (Some("http" | "streamable-http" | "streamable_http" | "streamablehttp"), _)
            | (None, None)
                if url.is_some() =>
            {
                TransportConfig::Http {
                    url: need_url(url)?,
                    headers,
                }
            }
            (Some("sse"), _) => TransportConfig::Sse {
                url: need_url(url)?,
                headers,
            },
            (Some("websocket" | "ws"), _) => TransportConfig::WebSocket {
                url: need_url(url)?,
                headers,
            },
            (Some(other), _) => {
                return Err(ConfigError(format!(
                    "server {name:?} has unknown transport {other:?}"
                )));
            }
            (None, None) => {
                return Err(ConfigError(format!(
                    "server {name:?} needs a command or a url"
                )));
            }
        };
        let auth = self
            .auth
            .map(|a| a.into_config(&name, lookup))
            .transpose()?;
        Ok(ServerConfig {
            name,
            transport,
            auth,
        })
    }
}

/// This process's environment.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl ServerConfig {
    /// A configuration without credentials.
    pub fn new(name: impl Into<String>, transport: TransportConfig) -> Self {
        Self {
            name: name.into(),
            transport,
            auth: None,
        }
    }

    /// A stdio server: `command` with `args`.
    pub fn stdio(
        name: impl Into<String>,
        command: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(
            name,
            TransportConfig::Stdio {
                command: command.into(),
                args: args.into_iter().map(Into::into).collect(),
                env: BTreeMap::new(),
                cwd: None,
            },
        )
    }

    /// A Streamable HTTP server at `url`.
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(
            name,
            TransportConfig::Http {
                url: url.into(),
                headers: BTreeMap::new(),
            },
        )
    }

    /// A WebSocket server at `url`.
    pub fn websocket(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(
            name,
            TransportConfig::WebSocket {
                url: url.into(),
                headers: BTreeMap::new(),
            },
        )
    }

    /// The same configuration with credentials.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthConfig) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Reads servers from JSON in any of the accepted shapes: `{"mcpServers": {name: {...}}}`,
    /// `{"servers": [{...}, ...]}`, one original-SDK dict, or a list of them. `${VAR}` comes
    /// from this process's environment.
    pub fn parse_many(json: &str) -> Result<Vec<Self>, ConfigError> {
        Self::parse_with_env(json, &process_env)
    }

    /// Like [`ServerConfig::parse_many`], with `${VAR}` values from `lookup`.
    pub fn parse_with_env(json: &str, lookup: EnvLookup<'_>) -> Result<Vec<Self>, ConfigError> {
        let value: Value = serde_json::from_str(json).map_err(|e| ConfigError(e.to_string()))?;
        Self::from_value_with_env(value, lookup)
    }

    /// Like [`ServerConfig::parse_many`], from a parsed value.
    pub fn from_value(value: Value) -> Result<Vec<Self>, ConfigError> {
        Self::from_value_with_env(value, &process_env)
    }

    /// Like [`ServerConfig::from_value`], with `${VAR}` values from `lookup`.
    pub fn from_value_with_env(
        value: Value,
        lookup: EnvLookup<'_>,
    ) -> Result<Vec<Self>, ConfigError> {
        let entry = |v: Value, name: Option<&str>| -> Result<Self, ConfigError> {
            serde_json::from_value::<Entry>(v)
                .map_err(|e| match name {
                    Some(n) => ConfigError(format!("server {n:?}: {e}")),
                    None => ConfigError(e.to_string()),
                })?
                .into_config(name, lookup)
        };
        match value {
            Value::Object(mut map) if map.contains_key("mcpServers") => {
                match map.remove("mcpServers") {
                    Some(Value::Object(servers)) => servers
                        .into_iter()
                        .map(|(name, v)| entry(v, Some(&name)))
                        .collect(),
                    _ => Err(ConfigError("mcpServers must be an object".into())),
                }
            }
            Value::Object(mut map) if map.contains_key("servers") => match map.remove("servers") {
                Some(Value::Array(items)) => items.into_iter().map(|v| entry(v, None)).collect(),
                Some(Value::Object(servers)) => servers
                    .into_iter()
                    .map(|(name, v)| entry(v, Some(&name)))
                    .collect(),
                _ => Err(ConfigError("servers must be a list or an object".into())),
            },
            Value::Array(items) => items.into_iter().map(|v| entry(v, None)).collect(),
            v @ Value::Object(_) => Ok(vec![entry(v, None)?]),
            _ => Err(ConfigError("expected an object or a list".into())),
        }
    }

    /// Reads servers from a file: TOML when its name ends in `.toml` (feature `toml`), JSON
    /// otherwise, in the shapes [`ServerConfig::parse_many`] accepts. In TOML, a list of
    /// servers is `[[servers]]` and the desktop shape is `[mcpServers.NAME]`.
    pub fn load(path: impl AsRef<Path>) -> Result<Vec<Self>, ConfigError> {
        Self::load_with_env(path, &process_env)
    }

    /// Like [`ServerConfig::load`], with `${VAR}` values from `lookup`.
    pub fn load_with_env(
        path: impl AsRef<Path>,
        lookup: EnvLookup<'_>,
    ) -> Result<Vec<Self>, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("reading {}: {e}", path.display())))?;
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let value = if is_toml {
            toml_value(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
        } else {
            serde_json::from_str(&text)
                .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
        };
        Self::from_value_with_env(value, lookup)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// The child-process spec of a stdio server.
    pub fn child_spec(&self) -> Option<ChildSpec> {
        match &self.transport {
            TransportConfig::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let mut spec = ChildSpec::new(command.clone(), args.clone());
                spec.env.clone_from(env);
                spec.cwd.clone_from(cwd);
                Some(spec)
            }
            _ => None,
        }
    }

    /// Every header sent to an HTTP, SSE or WebSocket server: the configured `headers`, then
    /// the `auth` block's header, which wins over a configured header of the same name.
    pub fn headers(&self) -> Vec<(String, String)> {
        let configured = match &self.transport {
            TransportConfig::Stdio { .. } => return Vec::new(),
            TransportConfig::Http { headers, .. }
            | TransportConfig::Sse { headers, .. }
            | TransportConfig::WebSocket { headers, .. } => headers,
        };
        let auth = self.auth.as_ref().map(AuthConfig::header);
        let mut out: Vec<(String, String)> = configured
            .iter()
            .filter(|(k, _)| {
                auth.as_ref()
                    .is_none_or(|(name, _)| !name.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.extend(auth);
        out
    }

    /// The HTTP transport's options for this server: the configured headers, and the `auth`
    /// block as a static header (API key) or as [`Credentials`] (`Authorization`).
    pub fn http_options(&self) -> HttpClientOptions {
        let mut http = HttpClientOptions::default();
        let credentials = self.auth.as_ref().and_then(AuthConfig::credentials);
        http.headers = self
            .headers()
            .into_iter()
            .filter(|(k, _)| credentials.is_none() || !k.eq_ignore_ascii_case("authorization"))
            .collect();
        http.credentials = credentials;
        http
    }

    /// The WebSocket transport's options for this server: every header of
    /// [`ServerConfig::headers`] goes with the opening handshake (the original SDK sent none).
    #[cfg(feature = "ws")]
    pub fn ws_options(&self) -> crate::WsClientOptions {
        crate::WsClientOptions {
            headers: self.headers(),
            ..crate::WsClientOptions::default()
        }
    }

    /// Connects to the server: spawns a stdio server, or connects over HTTP (falling back to
    /// HTTP+SSE), HTTP+SSE or WebSocket, with the configured headers and credentials.
    pub async fn connect(&self, options: ClientOptions) -> Result<Client, ClientError> {
        match &self.transport {
            TransportConfig::Stdio { .. } => {
                let spec = self.child_spec().ok_or_else(|| {
                    ClientError::Protocol("a stdio configuration without a command".into())
                })?;
                Client::spawn(&spec, options).await
            }
            TransportConfig::Http { url, .. } => {
                Client::connect_http(url, options, self.http_options()).await
            }
            TransportConfig::Sse { url, .. } => {
                Client::connect_sse(url, options, self.http_options()).await
            }
            #[cfg(feature = "ws")]
            TransportConfig::WebSocket { url, .. } => {
                Client::connect_ws(url, options, self.ws_options()).await
            }
            #[cfg(not(feature = "ws"))]
            TransportConfig::WebSocket { .. } => Err(ClientError::Incompatible(format!(
                "server {:?} is a WebSocket server; this build of mcp-client has no `ws` feature",
                self.name
            ))),
        }
    }

    /// A hash of what identifies the server (transport and credentials, not the name): the key
    /// of the multi-server client's pool.
    pub fn identity_hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.transport.hash(&mut h);
        self.auth.hash(&mut h);
        h.finish()
    }

    /// Whether `other` reaches the same server (same transport and credentials).
    pub fn same_server(&self, other: &Self) -> bool {
        self.transport == other.transport && self.auth == other.auth
    }
}

#[cfg(feature = "toml")]
fn toml_value(text: &str) -> Result<Value, String> {
    toml::from_str::<Value>(text).map_err(|e| e.to_string())
}

#[cfg(not(feature = "toml"))]
fn toml_value(_text: &str) -> Result<Value, String> {
    Err("reading TOML needs mcp-client's `toml` feature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let list = r#"[{"name": "a", "transport": "stdio", "command": "x", "env": {"K": "V"}, "cwd": "/tmp"},
                       {"name": "b", "transport": "http", "url": "http://127.0.0.1:1/mcp", "headers": {"X": "1"}},
                       {"name": "c", "transport": "sse", "url": "http://127.0.0.1:1/sse"},
                       {"name": "d", "transport": "websocket", "url": "ws://127.0.0.1:1/"}]"#;
        let c = ServerConfig::parse_many(list).unwrap();
        assert_eq!(c.len(), 4);
        let spec = c[0].child_spec().unwrap();
        assert_eq!(
            (spec.env["K"].as_str(), spec.cwd.as_deref()),
            ("V", Some(Path::new("/tmp")))
        );
        assert!(
            matches!(&c[1].transport, TransportConfig::Http { headers, .. } if headers["X"] == "1")
        );
        assert!(matches!(c[2].transport, TransportConfig::Sse { .. }));
        assert!(matches!(c[3].transport, TransportConfig::WebSocket { .. }));
        let hosts = r#"{"mcpServers": {"remote": {"type": "http", "url": "https://example.com/mcp"}, "local": {"command": "srv"}}}"#;
        let c = ServerConfig::parse_many(hosts).unwrap();
        assert_eq!(
            c.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["local", "remote"]
        );
        let servers = r#"{"servers": [{"name": "x", "command": "y"}]}"#;
        assert_eq!(ServerConfig::parse_many(servers).unwrap()[0].name, "x");
        for bad in [
            r#"{"transport": "stdio", "command": "x"}"#,
            r#"{"name": "x"}"#,
            r#"{"name": "x", "transport": "carrier-pigeon", "url": "u"}"#,
            r#"{"name": "x", "transport": "stdio"}"#,
            r#"{"name": "x", "url": "u", "auth": {"type": "bearer"}}"#,
            r#"{"name": "x", "url": "u", "auth": {"type": "kerberos"}}"#,
            r#"{"name": "x", "url": "u", "auth": {"type": "bearer", "token": "t", "tokn": "typo"}}"#,
            "3",
        ] {
            assert!(ServerConfig::parse_many(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment_variables_are_expanded_and_an_unset_one_is_named() {
        let env = |name: &str| match name {
            "HOST" => Some("127.0.0.1".to_owned()),
            "KEY" => Some("k-1".to_owned()),
            _ => None,
        };
        let json = r#"{"name": "s", "transport": "http", "url": "http://${HOST}:9/mcp",
                       "headers": {"X-Tenant": "t-$${literal}-$5"},
                       "auth": {"type": "api_key", "key": "${KEY}", "header": "X-Key"}}"#;
        let c = &ServerConfig::parse_with_env(json, &env).unwrap()[0];
        assert!(
            matches!(&c.transport, TransportConfig::Http { url, headers } if url == "http://127.0.0.1:9/mcp" && headers["X-Tenant"] == "t-${literal}-$5")
        );
        assert_eq!(
            c.headers(),
            vec![
                ("X-Tenant".to_owned(), "t-${literal}-$5".to_owned()),
                ("X-Key".to_owned(), "k-1".to_owned())
            ]
        );
        let unset = r#"{"name": "s", "command": "srv", "env": {"TOKEN": "${MISSING_TOKEN}"}}"#;
        let e = ServerConfig::parse_with_env(unset, &env).unwrap_err();
        assert!(
            e.0.contains("MISSING_TOKEN") && e.0.contains("env.TOKEN"),
            "{e}"
        );
        for bad in ["${", "${1X}", "${A-B}", "${}"] {
            let json = format!(r#"{{"name": "s", "command": "{bad}"}}"#);
            assert!(ServerConfig::parse_with_env(&json, &env).is_err(), "{bad}");
        }
        // The real environment: PATH is set wherever tests run.
        let c = &ServerConfig::parse_many(r#"{"name": "p", "command": "${PATH}"}"#).unwrap()[0];
        assert!(
            matches!(&c.transport, TransportConfig::Stdio { command, .. } if !command.is_empty())
        );
    }

    #[test]
    fn auth_blocks_become_headers_or_credentials() {
        let json = r#"[{"name": "k", "url": "http://h/mcp", "auth": {"type": "api_key", "key": "abc"}},
                       {"name": "b", "url": "http://h/mcp", "headers": {"authorization": "old"}, "auth": {"type": "bearer", "token": "tok"}},
                       {"name": "u", "transport": "websocket", "url": "ws://h/ws", "auth": {"type": "basic", "username": "ada", "password": "pw"}}]"#;
        let c = ServerConfig::parse_with_env(json, &|_: &str| None).unwrap();
        let k = c[0].http_options();
        assert_eq!(k.headers, vec![("X-API-Key".to_owned(), "abc".to_owned())]);
        assert!(k.credentials.is_none());
        let b = c[1].http_options();
        assert!(
            b.headers.is_empty(),
            "the auth block replaces a configured Authorization"
        );
        let creds = format!("{:?}", b.credentials.as_ref().unwrap());
        assert!(
            !creds.contains("tok") && creds.contains("Bearer"),
            "{creds}"
        );
        assert_eq!(
            c[2].headers(),
            vec![("Authorization".to_owned(), "Basic YWRhOnB3".to_owned())]
        );
        assert!(!format!("{:?}", c[2]).contains("pw"));
        assert_ne!(c[0].identity_hash(), c[1].identity_hash());
        let mut renamed = c[0].clone();
        renamed.name = "other".into();
        assert!(renamed.same_server(&c[0]) && renamed.identity_hash() == c[0].identity_hash());
    }

    #[test]
    fn files_in_json_and_toml() {
        let dir = std::env::temp_dir().join(format!("mcp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("servers.json");
        std::fs::write(&json, r#"{"mcpServers": {"a": {"command": "x"}}}"#).unwrap();
        assert_eq!(ServerConfig::load(&json).unwrap()[0].name, "a");
        let toml = dir.join("servers.toml");
        std::fs::write(
            &toml,
            "[[servers]]\nname = \"t\"\ntransport = \"http\"\nurl = \"http://h/mcp\"\n\n[servers.auth]\ntype = \"bearer\"\ntoken = \"${T}\"\n",
        )
        .unwrap();
        let loaded = ServerConfig::load_with_env(&toml, &|n: &str| (n == "T").then(|| "v".into()));
        #[cfg(feature = "toml")]
        assert_eq!(
            loaded.unwrap()[0].auth,
            Some(AuthConfig::Bearer { token: "v".into() })
        );
        #[cfg(not(feature = "toml"))]
        assert!(loaded.unwrap_err().0.contains("toml"));
        let missing = ServerConfig::load(dir.join("none.json")).unwrap_err();
        assert!(missing.0.contains("none.json"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
