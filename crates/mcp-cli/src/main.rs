//! `mcp`: the command-line tool of the mcp-rs SDK. Inspect and call any MCP server over stdio,
//! Streamable HTTP, HTTP+SSE or WebSocket; serve the example server; run the demo. See
//! `docs/cli.md` for every command, flag, output shape and exit code.

mod arguments;
mod bridge;
mod cli;
mod commands;
mod connect;
mod demo;
mod example;
mod exit;
mod hosting;
mod serve;
mod table;
mod terminal;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mcp_protocol::types::CompletionReference;

use crate::cli::{Cli, Command, Format};
use crate::commands::Job;
use crate::exit::{Exit, Failure};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors.
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    let (format, verbose, is_server) = match &cli.command {
        Command::Tools(c)
        | Command::Resources(c)
        | Command::Prompts(c)
        | Command::Ping(c)
        | Command::Discover(c) => (c.output.format, c.output.verbose, false),
        Command::Call(c) => (c.output.format, c.output.verbose, false),
        Command::Read(c) => (c.output.format, c.output.verbose, false),
        Command::Prompt(c) => (c.output.format, c.output.verbose, false),
        Command::Complete(c) => (c.output.format, c.output.verbose, false),
        Command::Serve(s) => (Format::Table, s.verbose, true),
        Command::Bridge(b) => (Format::Table, b.verbose, true),
        Command::Demo(_) => (Format::Table, 0, true),
    };
    init_logging(verbose, is_server);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcp: cannot start the runtime: {e}");
            return ExitCode::from(Exit::Failed.code());
        }
    };
    let outcome = runtime.block_on(run(cli.command));
    // Do not wait for a thread blocked on stdin (an elicitation nobody answered).
    runtime.shutdown_timeout(Duration::from_millis(200));
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            report(&failure, format);
            ExitCode::from(failure.exit.code())
        }
    }
}

async fn run(command: Command) -> Result<Exit, Failure> {
    let (job, client) = match command {
        Command::Tools(c) => (Job::Tools, c),
        Command::Resources(c) => (Job::Resources, c),
        Command::Prompts(c) => (Job::Prompts, c),
        Command::Ping(c) => (Job::Ping, c),
        Command::Discover(c) => (Job::Discover, c),
        Command::Call(c) => {
            let job = Job::Call {
                tool: c.tool,
                args: c.args,
                json: c.json,
            };
            return commands::run(job, &c.connect, &c.output).await;
        }
        Command::Read(c) => {
            return commands::run(Job::Read { uri: c.uri }, &c.connect, &c.output).await;
        }
        Command::Prompt(c) => {
            let job = Job::Prompt {
                name: c.name,
                args: c.args,
            };
            return commands::run(job, &c.connect, &c.output).await;
        }
        Command::Complete(c) => {
            let reference = match (c.prompt, c.resource) {
                (Some(name), _) => CompletionReference::Prompt { name, title: None },
                (None, Some(uri)) => CompletionReference::Resource { uri },
                (None, None) => return Err(Failure::usage("give --prompt or --resource")),
            };
            let job = Job::Complete {
                reference,
                argument: c.argument,
                value: c.value,
                context: c.context,
            };
            return commands::run(job, &c.connect, &c.output).await;
        }
        Command::Serve(s) => return serve::run(&s).await,
        Command::Bridge(b) => return bridge::run(b).await,
        Command::Demo(d) => return demo::run(&d).await,
    };
    commands::run(job, &client.connect, &client.output).await
}

/// The failure on stderr: one line for people, one JSON object with `--format json`.
fn report(failure: &Failure, format: Format) {
    match format {
        Format::Json => eprintln!("{}", failure.to_json()),
        Format::Table => eprintln!("mcp: {}", failure.message),
    }
}

/// Logs on stderr. A client is quiet by default (warnings only); `-v` adds the log of a stdio
/// server (its stderr), `-vv` the SDK's debug log. `RUST_LOG` overrides both.
fn init_logging(verbose: u8, is_server: bool) {
    let default = match (verbose, is_server) {
        (0, _) => "warn",
        (1, false) => "warn,mcp_transport::child=info",
        (1, true) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .init();
}
