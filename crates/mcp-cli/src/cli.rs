//! The command line: every command, flag and default (clap derive). `docs/cli.md` describes the
//! same surface for people; keep the two in step.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::hosting::HostingArgs;

/// Inspect and call any MCP server, serve the example server, run the demo.
///
/// A server is a command line after `--` (stdio), a URL (`http(s)://` Streamable HTTP with
/// fallback to HTTP+SSE, `ws(s)://` WebSocket) or a name in a config file (`-s NAME`).
#[derive(Debug, Parser)]
#[command(name = "mcp", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the server's tools.
    Tools(Client),
    /// Call a tool.
    Call(CallArgs),
    /// List the server's resources and resource templates.
    Resources(Client),
    /// Read a resource.
    Read(ReadArgs),
    /// List the server's prompts.
    Prompts(Client),
    /// Get a prompt, filled in with arguments.
    Prompt(PromptArgs),
    /// Complete an argument of a prompt or a variable of a resource template.
    Complete(CompleteArgs),
    /// Check that the server answers, and how fast.
    Ping(Client),
    /// Show the server: name, version, era, protocol revision, capabilities, instructions.
    Discover(Client),
    /// Serve the example server over stdio, or Streamable HTTP (both eras, plus HTTP+SSE) and
    /// WebSocket, with optional auth, rate limits, metrics and health routes.
    Serve(ServeArgs),
    /// Expose a stdio MCP server over Streamable HTTP (both eras, plus HTTP+SSE) and
    /// WebSocket, with the same auth, rate limits, metrics and health routes as `serve`.
    Bridge(BridgeArgs),
    /// Start the example server on loopback, call it over HTTP in both eras and print the results
    /// and a few figures.
    Demo(DemoArgs),
}

/// Where the server is and how to talk to it, shared by every client command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Server")]
pub(crate) struct Connect {
    /// The server: a URL (http://, https://, ws://, wss://) or a name in the config file.
    #[arg(short, long, env = "MCP_SERVER", value_name = "URL|NAME")]
    pub(crate) server: Option<String>,

    /// The config file naming servers (`mcpServers` JSON, or the original SDK's server dicts).
    /// Default: ./.mcp.json, else ~/.config/mcp/servers.json.
    #[arg(short, long, env = "MCP_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// A stdio server: the command line to start it, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,

    /// An HTTP header for every request, `Name: value` (repeatable). On WebSocket, sent with the
    /// upgrade.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub(crate) headers: Vec<String>,

    /// Send `Authorization: Bearer TOKEN`.
    #[arg(
        long,
        env = "MCP_BEARER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) bearer: Option<String>,

    /// Send an API key in the header named by --api-key-header.
    #[arg(long, env = "MCP_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub(crate) api_key: Option<String>,

    /// The header that carries --api-key.
    #[arg(long, default_value = "X-API-Key", value_name = "NAME")]
    pub(crate) api_key_header: String,

    /// How long to wait for each answer, in seconds (or with a unit: 500ms, 30s, 2m); each
    /// progress notification restarts it.
    #[arg(long, default_value = "60", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) timeout: Duration,

    /// Which protocol era to speak: auto probes 2026-07-28 and falls back to the legacy
    /// handshake.
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    pub(crate) protocol: Protocol,

    /// Trust the CA certificates of this PEM file for https:// and wss:// besides the system's
    /// and the bundled roots (repeatable).
    #[arg(long = "cacert", value_name = "PEM")]
    pub(crate) ca_certs: Vec<PathBuf>,

    /// Present this client certificate (PEM chain) to servers that ask for one; needs --key.
    #[arg(long, value_name = "PEM", requires = "key")]
    pub(crate) cert: Option<PathBuf>,

    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub(crate) key: Option<PathBuf>,

    /// A root to offer the server (a path or a file:// URI; repeatable).
    #[arg(long = "root", value_name = "PATH|URI")]
    pub(crate) roots: Vec<String>,

    /// Answer sampling requests with this shell command: it reads the request's params (JSON) on
    /// stdin and prints a CreateMessageResult (JSON) or plain text. Without it, sampling is not
    /// offered to the server.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) sampling_command: Option<String>,
}

/// Output and verbosity, shared by every client command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct Output {
    /// How to print results: an aligned table for people, or JSON for scripts.
    #[arg(long, value_enum, default_value_t = Format::Table, env = "MCP_FORMAT")]
    pub(crate) format: Format,

    /// Say more on stderr: -v the server's log messages and a stdio server's stderr, -vv the
    /// SDK's debug log.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// A client command with no arguments of its own.
#[derive(Debug, Args)]
pub(crate) struct Client {
    #[command(flatten)]
    pub(crate) connect: Connect,
    #[command(flatten)]
    pub(crate) output: Output,
}

/// `mcp call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The tool's name.
    pub(crate) tool: String,
    /// An argument, `name=value` (repeatable). The value is typed by the tool's input schema:
    /// numbers, booleans, arrays and objects are parsed (arrays and objects as JSON), strings
    /// are taken as they are.
    #[arg(short, long = "arg", value_name = "NAME=VALUE")]
    pub(crate) args: Vec<String>,
    /// All arguments as one JSON object (or `@FILE` to read it from a file); --arg values are
    /// set on top.
    #[arg(long, value_name = "JSON|@FILE")]
    pub(crate) json: Option<String>,
    #[command(flatten)]
    pub(crate) connect: Connect,
    #[command(flatten)]
    pub(crate) output: Output,
}

/// `mcp read`.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// The resource's URI.
    pub(crate) uri: String,
    #[command(flatten)]
    pub(crate) connect: Connect,
    #[command(flatten)]
    pub(crate) output: Output,
}

/// `mcp prompt`.
#[derive(Debug, Args)]
pub(crate) struct PromptArgs {
    /// The prompt's name.
    pub(crate) name: String,
    /// An argument, `name=value` (repeatable; prompt arguments are strings).
    #[arg(short, long = "arg", value_name = "NAME=VALUE")]
    pub(crate) args: Vec<String>,
    #[command(flatten)]
    pub(crate) connect: Connect,
    #[command(flatten)]
    pub(crate) output: Output,
}

/// `mcp complete`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("reference").required(true).args(["prompt", "resource"])))]
pub(crate) struct CompleteArgs {
    /// Complete an argument of this prompt.
    #[arg(long, value_name = "NAME")]
    pub(crate) prompt: Option<String>,
    /// Complete a variable of this resource template (its URI template).
    #[arg(long, value_name = "URI-TEMPLATE")]
    pub(crate) resource: Option<String>,
    /// The argument (or template variable) to complete.
    pub(crate) argument: String,
    /// What has been typed so far.
    #[arg(default_value = "")]
    pub(crate) value: String,
    /// An argument already chosen, `name=value`, that the completion may depend on (repeatable).
    #[arg(long = "context", value_name = "NAME=VALUE")]
    pub(crate) context: Vec<String>,
    #[command(flatten)]
    pub(crate) connect: Connect,
    #[command(flatten)]
    pub(crate) output: Output,
}

/// `mcp serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Serve Streamable HTTP on this address (port 0 picks a free port) instead of stdio: the
    /// endpoint at /mcp (both eras), HTTP+SSE at /sse, /health and /health/ready. The URLs are
    /// printed once listening.
    #[arg(long, value_name = "ADDR")]
    pub(crate) http: Option<String>,
    /// With --http: serve MCP over WebSocket too, at /ws on the same port.
    #[arg(long)]
    pub(crate) ws: bool,
    /// The name the server gives itself (serverInfo.name; default `example-server`).
    #[arg(long)]
    pub(crate) name: Option<String>,
    #[command(flatten)]
    pub(crate) hosting: HostingArgs,
    /// Say more on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// `mcp bridge`.
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    /// Serve on this address (port 0 picks a free port): Streamable HTTP at /mcp (both eras),
    /// HTTP+SSE at /sse, WebSocket at /ws, /health and /health/ready.
    /// Default: 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub(crate) http: Option<String>,
    /// One child process per client session (legacy Streamable HTTP session, HTTP+SSE stream
    /// or WebSocket connection), ended with it; the eras without sessions are not served.
    /// Default: one shared child.
    #[arg(long)]
    pub(crate) per_session: bool,
    /// --per-session: the most children at once; more sessions are refused (-31503).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub(crate) max_children: usize,
    /// --per-session: a session with no request for this long ends, and its child with it.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "600")]
    pub(crate) idle_timeout: Duration,
    #[command(flatten)]
    pub(crate) hosting: HostingArgs,
    /// Say more on stderr (-v info and the child's stderr, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The stdio MCP server to bridge: its command line, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}

/// `mcp demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// How many sequential calls to time.
    #[arg(long, default_value_t = 2_000)]
    pub(crate) calls: usize,
    /// How many concurrent calls to time.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) burst: usize,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns and plain text.
    Table,
    /// One JSON document on stdout; errors and events as JSON lines on stderr.
    Json,
}

/// `--protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Protocol {
    /// Probe 2026-07-28 (`server/discover`); fall back to `initialize`.
    Auto,
    /// Only 2026-07-28.
    Modern,
    /// Only the `initialize` handshake (2024-11-05 to 2025-11-25).
    Legacy,
}

/// A duration: plain seconds (`30`, `0.5`) or with a unit (`500ms`, `30s`, `2m`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 30, 500ms, 30s or 2m)"))?;
    Duration::try_from_secs_f64(value * scale)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive duration"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        for bad in ["", "0", "-1", "soon", "1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stdio_command_follows_the_double_dash() {
        let cli = Cli::try_parse_from([
            "mcp", "call", "add", "--arg", "a=1", "-a", "b=2", "--", "srv", "--flag", "x",
        ])
        .unwrap();
        let Command::Call(call) = cli.command else {
            panic!("not call")
        };
        assert_eq!(call.tool, "add");
        assert_eq!(call.args, ["a=1", "b=2"]);
        assert_eq!(call.connect.command, ["srv", "--flag", "x"]);
    }
}
