//! Server configurations: the original SDK's dicts (`{"name", "transport": "stdio", "command",
//! "args", "env"}`) and the `mcpServers` JSON that desktop MCP hosts use, read into one type.
//!
//! ```
//! use mcp_client::config::{ServerConfig, TransportConfig};
//!
//! let hosts = r#"{"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-filesystem", "/tmp"], "env": {"DEBUG": "1"}}}}"#;
//! let configs = ServerConfig::parse_many(hosts).unwrap();
//! assert_eq!(configs[0].name, "files");
//! assert!(matches!(configs[0].transport, TransportConfig::Stdio { .. }));
//!
//! let original = r#"{"name": "weather", "transport": "stdio", "command": "python", "args": ["-m", "weather"]}"#;
//! assert_eq!(ServerConfig::parse_many(original).unwrap()[0].name, "weather");
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use mcp_transport::child::ChildSpec;

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Streamable HTTP at a URL (connecting over HTTP arrives with the HTTP transport).
    Http {
        /// The endpoint.
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
    },
    /// The 2024-11-05 HTTP+SSE transport (arrives with the HTTP transport).
    Sse {
        /// The SSE endpoint.
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
    },
    /// WebSocket (arrives with the WebSocket transport).
    WebSocket {
        /// The endpoint.
        url: String,
    },
}

/// One server: its name and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The server's name.
    pub name: String,
    /// How to reach it.
    pub transport: TransportConfig,
}

/// A configuration that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid server configuration: {0}")]
pub struct ConfigError(pub String);

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
}

impl Entry {
    fn into_config(self, fallback_name: Option<&str>) -> Result<ServerConfig, ConfigError> {
        let name = self
            .name
            .or_else(|| fallback_name.map(str::to_owned))
            .ok_or_else(|| ConfigError("a server needs a name".into()))?;
        let kind = self.transport.as_deref().map(str::to_ascii_lowercase);
        let need_url = |url: Option<String>| {
            url.ok_or_else(|| ConfigError(format!("server {name:?} needs a url")))
        };
        let transport = match (kind.as_deref(), self.command) {
            (None | Some("stdio"), Some(command)) => TransportConfig::Stdio {
                command,
                args: self.args,
                env: self.env,
                cwd: self.cwd,
            },
            (Some("stdio"), None) => {
                return Err(ConfigError(format!(
                    "stdio server {name:?} needs a command"
                )));
            }
            (Some("http" | "streamable-http" | "streamable_http" | "streamablehttp"), _)
            | (None, None)
                if self.url.is_some() =>
            {
                TransportConfig::Http {
                    url: need_url(self.url)?,
                    headers: self.headers,
                }
            }
            (Some("sse"), _) => TransportConfig::Sse {
                url: need_url(self.url)?,
                headers: self.headers,
            },
            (Some("websocket" | "ws"), _) => TransportConfig::WebSocket {
                url: need_url(self.url)?,
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
        Ok(ServerConfig { name, transport })
    }
}

impl ServerConfig {
    /// Reads servers from JSON in any of the accepted shapes: `{"mcpServers": {name: {...}}}`,
    /// one original-SDK dict, or a list of them.
    pub fn parse_many(json: &str) -> Result<Vec<Self>, ConfigError> {
        let value: Value = serde_json::from_str(json).map_err(|e| ConfigError(e.to_string()))?;
        Self::from_value(value)
    }

    /// Like [`ServerConfig::parse_many`], from a parsed value.
    pub fn from_value(value: Value) -> Result<Vec<Self>, ConfigError> {
        let entry = |v: Value, name: Option<&str>| -> Result<Self, ConfigError> {
            serde_json::from_value::<Entry>(v)
                .map_err(|e| ConfigError(e.to_string()))?
                .into_config(name)
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
            Value::Array(items) => items.into_iter().map(|v| entry(v, None)).collect(),
            v @ Value::Object(_) => Ok(vec![entry(v, None)?]),
            _ => Err(ConfigError("expected an object or a list".into())),
        }
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
            ("V", Some(std::path::Path::new("/tmp")))
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
        for bad in [
            r#"{"transport": "stdio", "command": "x"}"#,
            r#"{"name": "x"}"#,
            r#"{"name": "x", "transport": "carrier-pigeon", "url": "u"}"#,
            r#"{"name": "x", "transport": "stdio"}"#,
            "3",
        ] {
            assert!(ServerConfig::parse_many(bad).is_err(), "{bad}");
        }
    }
}
