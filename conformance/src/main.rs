//! `conformance-server`: the server the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) drives in its server leg. One process serves both
//! protocol eras, legacy sessions (2025-11-25 and older) and stateless 2026-07-28, on one
//! Streamable HTTP endpoint, with every fixture the suite's server scenarios call.
//!
//! ```text
//! conformance-server [--port PORT] [--exit-on-stdin-eof]
//! ```
//!
//! It binds `127.0.0.1:PORT` (default 0: a free port) and prints the endpoint's URL,
//! `http://127.0.0.1:PORT/mcp`, as the first line of stdout once it is listening. It stops on
//! Ctrl-C, and with `--exit-on-stdin-eof` when its stdin closes (so a parent that dies takes it
//! along). `cargo xtask conformance` runs it and the suite; see `docs/conformance.md`.

mod fixtures;
mod media;
mod task_fixtures;

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};

use mcp_protocol::types::Implementation;
use mcp_server::http::HttpOptions;
use mcp_server::{Server, ServerOptions};
use tokio::io::AsyncReadExt as _;

/// The command line.
#[derive(Debug, Default)]
struct Options {
    /// The port to bind on 127.0.0.1.
    port: u16,
    /// Stop when stdin reaches end of input.
    exit_on_stdin_eof: bool,
}

const USAGE: &str = "usage: conformance-server [--port PORT] [--exit-on-stdin-eof]";

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                options.port = value
                    .parse()
                    .map_err(|e| format!("bad port {value:?}: {e}"))?;
            }
            "--exit-on-stdin-eof" => options.exit_on_stdin_eof = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// The fixture server: the suite's fixtures, caching hints on cacheable 2026-07-28 results.
fn server() -> Server {
    let options = ServerOptions {
        instructions: Some("The fixture server of the MCP conformance suite.".into()),
        cache_ttl_ms: 1_000,
        ..ServerOptions::default()
    };
    Server::with_options(
        Implementation::new("mcp-rs-conformance-server", env!("CARGO_PKG_VERSION")),
        fixtures::router(),
        options,
    )
}

/// Completes on Ctrl-C, or (when asked) when stdin reaches its end.
async fn shutdown_signal(watch_stdin: bool) {
    let stdin_closed = async {
        if !watch_stdin {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0_u8; 256];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = stdin_closed => {}
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> std::io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{bound}/mcp")?;
        stdout.flush()?;
    }
    server()
        .serve_http_with_shutdown(
            listener,
            HttpOptions::default(),
            shutdown_signal(options.exit_on_stdin_eof),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_command_line_is_parsed() {
        let o = parse_args(&args(&["--port", "8123", "--exit-on-stdin-eof"])).unwrap();
        assert_eq!(o.port, 8123);
        assert!(o.exit_on_stdin_eof);
        assert_eq!(parse_args(&[]).unwrap().port, 0);
        assert!(parse_args(&args(&["--port"])).is_err());
        assert!(parse_args(&args(&["--port", "x"])).is_err());
        assert!(parse_args(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn every_fixture_the_scenarios_name_is_routed() {
        let router = fixtures::router();
        for tool in [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_error_handling",
            "test_tool_with_logging",
            "test_tool_with_progress",
            "test_logging_tool",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "test_missing_capability",
            "test_streaming_elicitation",
            "test_trigger_tool_change",
            "test_trigger_prompt_change",
            "test_input_required_result_elicitation",
            "test_input_required_result_sampling",
            "test_input_required_result_list_roots",
            "test_input_required_result_request_state",
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_input_required_result_tampered_state",
            "test_input_required_result_capabilities",
            "greet",
            "slow_compute",
            "failing_job",
            "protocol_error_job",
            "confirm_delete",
            "multi_input",
            "test_tool_with_task",
        ] {
            assert!(router.has_tool(tool), "{tool}");
        }
    }
}
