//! From the command line to a connected client: which server (a stdio command, a URL, a name in
//! a config file), which transport, which credentials and headers, and the handlers that answer
//! the server's questions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_client::config::{ServerConfig, TransportConfig};
use mcp_client::{Client, ClientError, ClientOptions, EraPreference, Handlers, HttpClientOptions};
use mcp_protocol::McpError;
use mcp_protocol::types::{CreateMessageRequestParams, CreateMessageResult, ListRootsResult, Root};
use mcp_transport::child::ChildSpec;

use crate::cli::{Connect, Protocol};
use crate::exit::Failure;
use crate::terminal::Terminal;

/// Where the server is.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A child process over stdio.
    Stdio(ChildSpec),
    /// Streamable HTTP, falling back to HTTP+SSE.
    Http {
        /// The endpoint.
        url: String,
        /// What the config file says: its headers and its `auth` block.
        http: HttpClientOptions,
    },
    /// The 2024-11-05 HTTP+SSE transport, named so in a config file.
    Sse {
        /// The event-stream URL.
        url: String,
        /// What the config file says: its headers and its `auth` block.
        http: HttpClientOptions,
    },
    /// WebSocket.
    Ws {
        /// The endpoint.
        url: String,
        /// The config file's headers (and `auth` block) for the opening handshake.
        headers: Vec<(String, String)>,
    },
}

/// A connected client and what it is connected over.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The client.
    pub(crate) client: Client,
    /// `stdio`, `streamable-http`, `http+sse` or `websocket`.
    pub(crate) transport: &'static str,
}

/// Which server the command line names.
pub(crate) fn resolve(connect: &Connect) -> Result<Target, Failure> {
    if !connect.command.is_empty() {
        if connect.server.is_some() {
            return Err(Failure::usage(
                "give either --server or a command after --, not both",
            ));
        }
        let (command, args) = connect
            .command
            .split_first()
            .ok_or_else(|| Failure::usage("an empty command after --"))?;
        return Ok(Target::Stdio(ChildSpec::new(
            command.clone(),
            args.to_vec(),
        )));
    }
    match connect.server.as_deref() {
        Some(url) if url.contains("://") => from_url(url),
        Some(name) => {
            let (path, configs) = load_config(connect.config.as_deref())?;
            let found = configs
                .into_iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    Failure::usage(format!("no server named {name:?} in {}", path.display()))
                })?;
            from_config(found)
        }
        None => match connect.config.as_deref() {
            // A config file of one server names it.
            Some(explicit) => {
                let (path, mut configs) = load_config(Some(explicit))?;
                if configs.len() == 1 {
                    return from_config(configs.remove(0));
                }
                Err(Failure::usage(format!(
                    "{} names {} servers ({}); pick one with --server NAME",
                    path.display(),
                    configs.len(),
                    configs
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
            None => Err(Failure::usage(
                "no server given: pass --server URL|NAME, or the command of a stdio server \
                 after -- (for example: mcp tools -- mcp serve)",
            )),
        },
    }
}

fn from_url(url: &str) -> Result<Target, Failure> {
    let scheme = url.split("://").next().unwrap_or_default();
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Ok(Target::Http {
            url: url.to_owned(),
            http: HttpClientOptions::default(),
        }),
        "ws" | "wss" => Ok(Target::Ws {
            url: url.to_owned(),
            headers: Vec::new(),
        }),
        other => Err(Failure::usage(format!(
            "{url}: scheme {other:?} is not one of http, https, ws, wss"
        ))),
    }
}

fn from_config(config: ServerConfig) -> Result<Target, Failure> {
    match &config.transport {
        TransportConfig::Stdio { .. } => config
            .child_spec()
            .map(Target::Stdio)
            .ok_or_else(|| Failure::usage("a stdio server without a command")),
        TransportConfig::Http { url, .. } => Ok(Target::Http {
            url: url.clone(),
            http: config.http_options(),
        }),
        TransportConfig::Sse { url, .. } => Ok(Target::Sse {
            url: url.clone(),
            http: config.http_options(),
        }),
        TransportConfig::WebSocket { url, .. } => Ok(Target::Ws {
            url: url.clone(),
            headers: config.headers(),
        }),
        other => Err(Failure::usage(format!(
            "server {:?}: transport {:?} is not supported by this mcp",
            config.name,
            other.kind()
        ))),
    }
}

/// The config file named on the command line, else the first of the default places that exists.
fn load_config(explicit: Option<&Path>) -> Result<(PathBuf, Vec<ServerConfig>), Failure> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => default_config_paths()
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Failure::usage(
                    "no config file: pass --config FILE (or create ./.mcp.json or \
                     ~/.config/mcp/servers.json)",
                )
            })?,
    };
    // JSON, or TOML by its extension; `${VAR}` in values comes from the environment.
    let configs = ServerConfig::load(&path).map_err(|e| Failure::usage(e.to_string()))?;
    Ok((path, configs))
}

fn default_config_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(".mcp.json")];
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = config_home {
        paths.push(dir.join("mcp").join("servers.json"));
    }
    paths
}

/// `Name: value` headers from `-H`, `--bearer` and `--api-key`.
pub(crate) fn headers(connect: &Connect) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    for h in &connect.headers {
        let (name, value) = h
            .split_once(':')
            .filter(|(n, _)| !n.trim().is_empty())
            .ok_or_else(|| Failure::usage(format!("-H {h:?}: expected 'Name: value'")))?;
        out.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if let Some(token) = &connect.bearer {
        out.push(("Authorization".to_owned(), format!("Bearer {token}")));
    }
    if let Some(key) = &connect.api_key {
        out.push((connect.api_key_header.clone(), key.clone()));
    }
    Ok(out)
}

/// The TLS settings of `--cacert`, `--cert` and `--key`, for https:// and wss://.
pub(crate) fn tls_options(connect: &Connect) -> Result<mcp_transport::tls::TlsOptions, Failure> {
    let mut tls = mcp_transport::tls::TlsOptions::default();
    for path in &connect.ca_certs {
        tls = tls
            .add_roots_pem_file(path)
            .map_err(|e| Failure::usage(format!("--cacert {}: {e}", path.display())))?;
    }
    if let (Some(cert), Some(key)) = (&connect.cert, &connect.key) {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| Failure::usage(format!("{}: {e}", p.display())))
        };
        tls = tls
            .client_identity_pem(&read(cert)?, &read(key)?)
            .map_err(|e| Failure::usage(format!("--cert/--key: {e}")))?;
    }
    Ok(tls)
}

/// The client's options for this command line.
pub(crate) fn client_options(connect: &Connect, terminal: &Terminal) -> ClientOptions {
    let era = match connect.protocol {
        Protocol::Auto => EraPreference::Auto,
        Protocol::Modern => EraPreference::Modern,
        Protocol::Legacy => EraPreference::Legacy,
    };
    let defaults = ClientOptions::default();
    ClientOptions {
        client_info: mcp_protocol::types::Implementation::new("mcp-cli", env!("CARGO_PKG_VERSION")),
        era,
        request_timeout: connect.timeout,
        // A tool that reports progress is alive: each report restarts --timeout.
        reset_timeout_on_progress: true,
        max_total_timeout: defaults.max_total_timeout.max(connect.timeout),
        probe_timeout: defaults.probe_timeout.min(connect.timeout),
        handlers: handlers(connect, terminal),
        ..defaults
    }
}

/// Elicitation at the terminal always; roots when `--root` is given; sampling only with
/// `--sampling-command` (a handler declares its capability, so a server is not invited to ask
/// for what this client cannot give).
fn handlers(connect: &Connect, terminal: &Terminal) -> Handlers {
    let asker = terminal.clone();
    let mut handlers = Handlers::default().on_elicitation(true, move |params| {
        let asker = asker.clone();
        async move { asker.elicit(params).await }
    });
    if !connect.roots.is_empty() {
        let roots: Vec<Root> = connect
            .roots
            .iter()
            .map(|r| Root {
                uri: root_uri(r),
                name: None,
                meta: None,
            })
            .collect();
        handlers = handlers.on_roots(move || {
            let roots = roots.clone();
            async move { Ok(ListRootsResult { roots, meta: None }) }
        });
    }
    if let Some(command) = connect.sampling_command.clone() {
        let timeout = connect.timeout;
        handlers = handlers.on_sampling(move |params| {
            let command = command.clone();
            async move { sample_with_command(&command, &params, timeout).await }
        });
    }
    handlers
}

/// A root as a `file://` URI: a URI is kept, a path is made absolute.
fn root_uri(root: &str) -> String {
    if root.contains("://") {
        return root.to_owned();
    }
    let path = Path::new(root);
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", absolute.display())
}

/// Runs `--sampling-command` with the request on stdin; its stdout is the answer.
async fn sample_with_command(
    command: &str,
    params: &CreateMessageRequestParams,
    timeout: Duration,
) -> Result<CreateMessageResult, McpError> {
    use tokio::io::AsyncWriteExt;
    let request = serde_json::to_vec(params).map_err(|e| McpError::Internal(e.to_string()))?;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| McpError::Internal(format!("sampling command failed to start: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        match stdin.write_all(&request).await {
            // A command that does not read its input (`echo ...`) may be gone already.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|e| McpError::Internal(format!("sampling command: {e}")))?,
        }
    }
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| McpError::Internal(format!("sampling command timed out after {timeout:?}")))?
        .map_err(|e| McpError::Internal(format!("sampling command: {e}")))?;
    if !output.status.success() {
        return Err(McpError::Internal(format!(
            "sampling command exited with {}",
            output.status
        )));
    }
    if let Ok(result) = serde_json::from_slice::<CreateMessageResult>(&output.stdout) {
        return Ok(result);
    }
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok(CreateMessageResult {
        role: mcp_protocol::types::Role::Assistant,
        content: mcp_protocol::types::SamplingContent::text(text),
        model: command.split_whitespace().next().unwrap_or("sh").to_owned(),
        stop_reason: Some("endTurn".into()),
        meta: None,
    })
}

/// How long each step of a stdio server's shutdown waits before the next, harsher one.
const STDIO_SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Connects to `target`. A stdio server's stderr is its log: it goes to `tracing`, shown at
/// `-v`.
pub(crate) async fn open(
    target: Target,
    extra_headers: Vec<(String, String)>,
    tls: mcp_transport::tls::TlsOptions,
    options: ClientOptions,
) -> Result<Connection, Failure> {
    let connect_timeout = options.request_timeout.min(Duration::from_secs(10));
    // The config file's options, with the command line's headers and TLS on top.
    let http_options = |mut http: HttpClientOptions| {
        http.headers.extend(extra_headers.clone());
        http.connect_timeout = connect_timeout;
        http.tls = tls.clone();
        http
    };
    let (result, transport) = match target {
        Target::Stdio(mut spec) => {
            if !extra_headers.is_empty() {
                return Err(Failure::usage(
                    "headers and credentials (-H, --bearer, --api-key) apply to HTTP and \
                     WebSocket servers, not to a stdio command",
                ));
            }
            // `Client::close` does not close the server's stdin today, so the first step of the
            // shutdown (wait for the server to see the end of its input and exit) waits out the
            // whole grace for nothing. Half a second keeps a short command short and still gives
            // SIGTERM that long before SIGKILL.
            spec.shutdown_grace = STDIO_SHUTDOWN_GRACE;
            (Client::spawn(&spec, options).await, "stdio")
        }
        Target::Http { url, http } => {
            let client = Client::connect_http(&url, options, http_options(http)).await;
            let transport = match &client {
                Ok(c) if is_sse(c) => "http+sse",
                _ => "streamable-http",
            };
            (client, transport)
        }
        Target::Sse { url, http } => (
            Client::connect_sse(&url, options, http_options(http)).await,
            "http+sse",
        ),
        Target::Ws { url, mut headers } => {
            headers.extend(extra_headers.clone());
            let ws = mcp_client::WsClientOptions {
                headers,
                tls: tls.clone(),
                ..mcp_client::WsClientOptions::default()
            };
            (Client::connect_ws(&url, options, ws).await, "websocket")
        }
    };
    match result {
        Ok(client) => Ok(Connection { client, transport }),
        Err(ClientError::Http(mcp_client::HttpError::InvalidUrl(why))) => Err(Failure::usage(why)),
        Err(e) => Err(e.into()),
    }
}

/// Whether `connect_http` fell back to HTTP+SSE. The client does not say which transport it
/// settled on, so this reads the signs: a legacy session without an `Mcp-Session-Id` (every
/// stateful Streamable HTTP server issues one; an HTTP+SSE session is named in its endpoint URL
/// instead). A stateless legacy Streamable HTTP server would be mislabelled.
fn is_sse(client: &Client) -> bool {
    client.http_session_id().is_none()
        && client
            .session()
            .is_some_and(|s| s.era() == mcp_protocol::Era::Legacy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn connect(args: &[&str]) -> Connect {
        let cli = crate::cli::Cli::try_parse_from(
            ["mcp", "tools"]
                .iter()
                .chain(args)
                .copied()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        match cli.command {
            crate::cli::Command::Tools(c) => c.connect,
            _ => unreachable!(),
        }
    }

    #[test]
    fn targets() {
        assert!(matches!(
            resolve(&connect(&["--", "srv", "a"])),
            Ok(Target::Stdio(s)) if s.command == "srv" && s.args == ["a"]
        ));
        assert!(matches!(
            resolve(&connect(&["-s", "http://127.0.0.1:1/mcp"])),
            Ok(Target::Http { .. })
        ));
        assert!(matches!(
            resolve(&connect(&["-s", "ws://127.0.0.1:1/ws"])),
            Ok(Target::Ws { .. })
        ));
        assert!(resolve(&connect(&["-s", "ftp://x"])).is_err());
        assert!(resolve(&connect(&["-s", "http://x", "--", "srv"])).is_err());
    }

    #[test]
    fn headers_and_credentials() {
        let c = connect(&[
            "-H",
            "X-One: 1",
            "--bearer",
            "t0k",
            "--api-key",
            "k",
            "--api-key-header",
            "Api-Key",
        ]);
        assert_eq!(
            headers(&c).unwrap(),
            [
                ("X-One".to_owned(), "1".to_owned()),
                ("Authorization".to_owned(), "Bearer t0k".to_owned()),
                ("Api-Key".to_owned(), "k".to_owned()),
            ]
        );
        assert!(headers(&connect(&["-H", "no colon"])).is_err());
    }

    #[test]
    fn roots_are_file_uris() {
        assert_eq!(root_uri("file:///tmp"), "file:///tmp");
        assert!(root_uri("relative/dir").starts_with("file:///"));
    }
}
