//! `bench-client-pool`: what the multi-server client's pool costs. The same `tools/call echo`
//! load ([`mcp_bench::client_load`]) through a raw [`mcp_client::Client`] or through
//! [`mcp_client::multi::MultiClient`] (pool lookup, circuit breaker, retry bookkeeping and
//! prometheus metrics on every call), over stdio or Streamable HTTP; prints one JSON line.
//!
//! ```text
//! bench-client-pool [--via raw|pool] [--transport stdio|http] [client-bench options]
//!     -- SERVER-COMMAND [ARGS...]
//! ```
//!
//! Over stdio the client spawns the server command (the pool spawns it on the first call);
//! over HTTP this binary spawns it, reads its URL from the first line of its stdout
//! (`bench-http-ours` prints it), and both clients connect to that URL. The pooled client runs
//! with its defaults (retries and breaker on), so its one extra `tools/list` (learning which
//! tools are safe to retry) happens during the warm-up.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use mcp_bench::client_load::{self, Era, Options, Report};
use mcp_client::config::ServerConfig;
use mcp_client::multi::{MultiClient, MultiClientOptions};
use mcp_client::{Client, ClientOptions, EraPreference, HttpClientOptions};
use mcp_transport::child::ChildSpec;
use serde_json::Value;

/// Which client makes the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Raw,
    Pool,
}

/// Which transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Stdio,
    Http,
}

/// The client under test, either kind.
#[derive(Clone)]
enum Caller {
    Raw(Client),
    /// The configuration is shared, as a caller holding one would: each call passes the same
    /// value, not a fresh copy.
    Pool(MultiClient, Arc<ServerConfig>),
}

impl Caller {
    async fn echo(&self, arguments: Value) -> Result<Value, String> {
        let result = match self {
            Self::Raw(c) => c
                .call_tool("echo", arguments)
                .await
                .map_err(|e| e.to_string()),
            Self::Pool(m, config) => m
                .call_tool(config, "echo", arguments, None)
                .await
                .map_err(|e| e.to_string()),
        }?;
        if result.is_error() {
            return Err(format!("`echo` failed: {:?}", result.content));
        }
        serde_json::to_value(&result).map_err(|e| e.to_string())
    }

    async fn close(&self) {
        match self {
            Self::Raw(c) => c.close().await,
            Self::Pool(m, _) => m.close().await,
        }
    }
}

/// The HTTP server process; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_http(program: &str, args: &[String]) -> Result<(Server, String), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .map_err(|e| format!("reading the server's URL: {e}"))?;
    Ok((server, url.trim().to_owned()))
}

async fn run(options: Options, via: Via, transport: Transport) -> Result<Report, String> {
    let (program, args) = options.server();
    let client_options = ClientOptions {
        era: match options.era {
            Era::Legacy => EraPreference::Legacy,
            Era::Modern => EraPreference::Modern,
        },
        ..ClientOptions::default()
    };
    let started = Instant::now();
    let (server, config) = match transport {
        Transport::Stdio => (
            None,
            ServerConfig::stdio("bench", program, args.iter().cloned()),
        ),
        Transport::Http => {
            let (server, url) = start_http(program, args)?;
            (Some(server), ServerConfig::http("bench", url))
        }
    };
    let caller = match via {
        Via::Raw => Caller::Raw(
            match transport {
                Transport::Stdio => {
                    let spec = ChildSpec::new(program, args.iter().cloned());
                    Client::spawn(&spec, client_options).await
                }
                Transport::Http => {
                    let url = match &config.transport {
                        mcp_client::config::TransportConfig::Http { url, .. } => url.clone(),
                        _ => String::new(),
                    };
                    Client::connect_http(&url, client_options, HttpClientOptions::default()).await
                }
            }
            .map_err(|e| format!("connecting failed: {e}"))?,
        ),
        Via::Pool => {
            let multi = MultiClient::new(MultiClientOptions {
                client: client_options,
                ..MultiClientOptions::default()
            })
            .map_err(|e| e.to_string())?;
            Caller::Pool(multi, Arc::new(config))
        }
    };
    let arguments = client_load::echo_arguments();
    // The checked call (the pool connects here).
    let first = caller.echo(Value::Object(arguments.clone())).await;
    let startup = started.elapsed();
    let result = match first.and_then(|r| client_load::check_echo(&r)) {
        Ok(()) => {
            let caller = caller.clone();
            match client_load::child_pid() {
                Ok(pid) => {
                    client_load::drive(&options, pid, move || {
                        let caller = caller.clone();
                        let arguments = Value::Object(arguments.clone());
                        async move { caller.echo(arguments).await.map(|_| ()) }
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(format!("the checked call failed: {e}")),
    };
    caller.close().await;
    drop(server);
    let name = match via {
        Via::Raw => "raw",
        Via::Pool => "pool",
    };
    Ok(Report::new(&options, name, result?, startup))
}

/// Takes `--via` and `--transport` out of the arguments; the rest are the client bench's.
fn split_args() -> Result<(Via, Transport, Vec<String>), String> {
    let mut via = Via::Pool;
    let mut transport = Transport::Stdio;
    let mut rest = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => {
                rest.push(arg);
                rest.extend(args.by_ref());
            }
            "--via" => {
                via = match args.next().as_deref() {
                    Some("raw") => Via::Raw,
                    Some("pool") => Via::Pool,
                    other => return Err(format!("bad --via {other:?}: raw or pool")),
                }
            }
            "--transport" => {
                transport = match args.next().as_deref() {
                    Some("stdio") => Transport::Stdio,
                    Some("http") => Transport::Http,
                    other => return Err(format!("bad --transport {other:?}: stdio or http")),
                }
            }
            _ => rest.push(arg),
        }
    }
    Ok((via, transport, rest))
}

fn main() -> ExitCode {
    let parsed = split_args().and_then(|(via, transport, rest)| {
        Options::parse(rest).map(|options| (via, transport, options))
    });
    let (via, transport, options) = match parsed {
        Ok(p) => p,
        Err(message) => {
            eprintln!("bench-client-pool: {message}");
            return ExitCode::from(2);
        }
    };
    let label = options.label.clone();
    let result = options
        .runtime
        .build()
        .map_err(|e| format!("could not build the runtime: {e}"))
        .and_then(|runtime| runtime.block_on(run(options, via, transport)));
    match result.and_then(|report| serde_json::to_string(&report).map_err(|e| e.to_string())) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bench-client-pool ({label}): {message}");
            ExitCode::FAILURE
        }
    }
}
