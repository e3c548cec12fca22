//! A client that authenticates with an API key or a bearer token, lists the tools it may use,
//! calls one, and says plainly what went wrong when the server refuses it.
//!
//! Mirrors the original Kailash SDK's client-with-auth example: `MCPClient(auth_provider=...)`
//! with `server_config = {"transport": "http", "url": ..., "auth": {"type": "api_key", "key":
//! ...}}`, then `discover_tools(server_config)` and `call_tool(server_config, name, args)`. What
//! differs: the original checked the credentials against the *client's own* provider before
//! sending anything, its HTTP transport failed to import, and every failure came back as `[]`
//! or `{"success": false}`, so a wrong key looked like a server without tools. Here the same
//! `auth` block is read into a [`ServerConfig`] and sent only on the wire (`X-API-Key` or
//! `Authorization: Bearer`), and each outcome is typed: a refused key is a 401, a key without
//! the permission a 403, too many calls a 429, and each gets its own message and exit code.
//!
//! ```text
//! client-with-auth URL [--api-key KEY | --bearer TOKEN] [--tool NAME] [--args JSON]
//! ```
//!
//! - `URL`: `http(s)://.../mcp` (Streamable HTTP, falling back to HTTP+SSE by itself) or
//!   `ws(s)://.../ws` (WebSocket, the key in the handshake).
//! - The key comes from `--api-key`, else from the environment variable `MCP_API_KEY` (which
//!   keeps it out of the process list and the shell's history).
//! - `--tool` (default `echo`) is called with `--args` (default `{"text": "hello"}`).
//!
//! Exit codes: 0 success; 2 usage; 3 authentication or authorization refused (401, 403);
//! 4 server unreachable; 5 the tool reported an error; 6 any other protocol or server error;
//! 8 rate limited (429).
//!
//! Try it against `production-server --keys KEYS.json --http 127.0.0.1:8080`:
//! `MCP_API_KEY=... client-with-auth http://127.0.0.1:8080/mcp`.

use std::process::ExitCode;
use std::time::Duration;

use mcp_auth::jsonrpc_code;
use mcp_client::config::{AuthConfig, ServerConfig};
use mcp_client::{ClientError, ClientOptions, ErrorKind, error_object};
use mcp_transport::http_client::HttpError;
use serde_json::{Value, json};

/// What the command line asked for.
struct Request {
    url: String,
    auth: Option<AuthConfig>,
    tool: String,
    arguments: Value,
}

/// Why the program stopped: its exit code and what to tell the user.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: format!(
                "{}\nusage: client-with-auth URL [--api-key KEY | --bearer TOKEN] [--tool NAME] [--args JSON]",
                message.into()
            ),
        }
    }
}

fn parse() -> Result<Request, Failure> {
    let mut url = None;
    let mut auth = None;
    let mut tool = "echo".to_owned();
    let mut arguments = json!({"text": "hello"});
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| Failure::usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--api-key" => {
                auth = Some(AuthConfig::ApiKey {
                    key: value()?,
                    header: "X-API-Key".to_owned(),
                });
            }
            "--bearer" => auth = Some(AuthConfig::Bearer { token: value()? }),
            "--tool" => tool = value()?,
            "--args" => {
                arguments = serde_json::from_str(&value()?)
                    .map_err(|e| Failure::usage(format!("--args is not JSON: {e}")))?;
            }
            other if other.starts_with('-') => {
                return Err(Failure::usage(format!("unknown option {other}")));
            }
            other if url.is_none() => url = Some(other.to_owned()),
            other => return Err(Failure::usage(format!("unexpected argument {other}"))),
        }
    }
    let auth = auth.or_else(|| {
        std::env::var("MCP_API_KEY")
            .ok()
            .filter(|key| !key.is_empty())
            .map(|key| AuthConfig::ApiKey {
                key,
                header: "X-API-Key".to_owned(),
            })
    });
    Ok(Request {
        url: url.ok_or_else(|| Failure::usage("the server's URL is required"))?,
        auth,
        tool,
        arguments,
    })
}

/// The server configuration, as the original SDK's `server_config` dict spelt it.
fn server_config(request: &Request) -> ServerConfig {
    let config = if request.url.starts_with("ws://") || request.url.starts_with("wss://") {
        ServerConfig::websocket("server", &request.url)
    } else {
        ServerConfig::http("server", &request.url)
    };
    match &request.auth {
        Some(auth) => config.with_auth(auth.clone()),
        None => config,
    }
}

/// The HTTP status behind an error: the status of an HTTP exchange, or the one a refusal's
/// JSON-RPC code stands for (`-31000 - status`, the code stdio and WebSocket carry).
fn refusal_status(error: &ClientError) -> Option<u16> {
    if let ClientError::Http(http) = error {
        return http.status();
    }
    match error.code()? {
        jsonrpc_code::UNAUTHENTICATED => Some(401),
        jsonrpc_code::FORBIDDEN => Some(403),
        jsonrpc_code::RATE_LIMITED => Some(429),
        _ => None,
    }
}

/// What the server's challenge or refusal data adds (the `WWW-Authenticate` header of a 401
/// or 403, the permissions a 403 names, the wait a 429 asks for).
fn detail(error: &ClientError) -> String {
    if let ClientError::Http(HttpError::Status {
        www_authenticate: Some(challenge),
        ..
    }) = error
    {
        return format!(" (WWW-Authenticate: {challenge})");
    }
    match error_object(error).and_then(|e| e.data.as_ref()) {
        Some(data) => format!(" ({data})"),
        None => String::new(),
    }
}

/// Turns a client error into the message and exit code a user needs.
fn explain(error: &ClientError, request: &Request) -> Failure {
    let (code, message) = match (refusal_status(error), error.kind()) {
        (Some(401), _) | (_, ErrorKind::Authentication) => (
            3,
            if request.auth.is_some() {
                "the server refused the credentials (401 Unauthorized): the key or token is \
                 wrong, revoked or expired"
            } else {
                "the server requires credentials (401 Unauthorized): pass --api-key or \
                 --bearer, or set MCP_API_KEY"
            }
            .to_owned(),
        ),
        (Some(403), _) | (_, ErrorKind::Authorization) => (
            3,
            "the credentials are valid but lack a permission this call needs (403 Forbidden)"
                .to_owned(),
        ),
        (Some(429), _) | (_, ErrorKind::RateLimited) => (
            8,
            "rate limited (429 Too Many Requests): wait and retry".to_owned(),
        ),
        (_, ErrorKind::Transport) => (4, format!("could not reach {}", request.url)),
        (_, ErrorKind::Timeout) => (6, "the server did not answer in time".to_owned()),
        _ => (6, "the server answered with an error".to_owned()),
    };
    Failure {
        code,
        message: format!("{message}{}\n  cause: {error}", detail(error)),
    }
}

async fn run(request: &Request) -> Result<(), Failure> {
    let config = server_config(request);
    let options = ClientOptions {
        request_timeout: Duration::from_secs(30),
        ..ClientOptions::default()
    };
    let client = config
        .connect(options)
        .await
        .map_err(|e| explain(&e, request))?;
    if let Some(session) = client.session() {
        let (name, version) = session
            .server_info
            .as_ref()
            .map_or(("?", "?"), |i| (i.name.as_str(), i.version.as_str()));
        println!(
            "connected to {name} {version}: protocol {} ({:?} era), {} credentials",
            session.version,
            session.era(),
            match &request.auth {
                Some(AuthConfig::ApiKey { .. }) => "API key",
                Some(AuthConfig::Bearer { .. }) => "bearer token",
                Some(_) => "other",
                None => "no",
            }
        );
    }
    let outcome = async {
        // The list holds only what these credentials may use.
        let tools = client.list_tools().await?;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        println!("tools ({}): {}", names.len(), names.join(", "));
        client
            .call_tool(&request.tool, request.arguments.clone())
            .await
    }
    .await;
    client.close().await;
    let result = outcome.map_err(|e| explain(&e, request))?;
    let text: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).collect();
    if result.is_error() {
        return Err(Failure {
            code: 5,
            message: format!("{} reported an error: {}", request.tool, text.join(" ")),
        });
    }
    println!("{} -> {}", request.tool, text.join(" "));
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let outcome = match parse() {
        Ok(request) => run(&request).await,
        Err(failure) => Err(failure),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("client-with-auth: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
