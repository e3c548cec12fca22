//! `bench-client-ours`: our client ([`mcp_client::Client`]) calling `echo` on a server it spawns,
//! N calls in flight; prints one JSON line (see [`mcp_bench::client_load`]).
//!
//! The client is connected with [`Client::spawn`], the way `docs/client.md` shows. `--era legacy`
//! (the default) sets [`EraPreference::Legacy`]: `initialize` with 2025-11-25, no probe;
//! `--era modern` sets [`EraPreference::Modern`]: `server/discover`, then `_meta` on every call.
//! Each call is [`Client::call_tool`] with the same arguments object, cloned, as a user would
//! pass it.

use std::process::ExitCode;
use std::time::Instant;

use mcp_bench::client_load::{self, Era, Options, Report};
use mcp_client::{Client, ClientOptions, EraPreference};
use mcp_transport::child::ChildSpec;
use serde_json::Value;

/// Connects, checks one call, runs the load, closes.
async fn run(options: Options) -> Result<Report, String> {
    let (program, args) = options.server();
    let spec = ChildSpec::new(program, args.iter().cloned());
    let client_options = ClientOptions {
        era: match options.era {
            Era::Legacy => EraPreference::Legacy,
            Era::Modern => EraPreference::Modern,
        },
        ..ClientOptions::default()
    };
    let started = Instant::now();
    let client = Client::spawn(&spec, client_options)
        .await
        .map_err(|e| format!("connecting failed: {e}"))?;
    let startup = started.elapsed();
    let result = measure(&options, &client).await;
    client.close().await;
    let measured = result?;
    Ok(Report::new(&options, "ours", measured, startup))
}

/// The checked call and the measured load, while the server runs.
async fn measure(options: &Options, client: &Client) -> Result<client_load::Measured, String> {
    let server_pid = client_load::child_pid()?;
    let arguments = client_load::echo_arguments();
    let first = client
        .call_tool("echo", Value::Object(arguments.clone()))
        .await
        .map_err(|e| format!("the checked call failed: {e}"))?;
    client_load::check_echo(&serde_json::to_value(&first).map_err(|e| e.to_string())?)?;
    let client = client.clone();
    client_load::drive(options, server_pid, move || {
        let client = client.clone();
        let arguments = Value::Object(arguments.clone());
        async move {
            let result = client
                .call_tool("echo", arguments)
                .await
                .map_err(|e| format!("a call failed: {e}"))?;
            if result.is_error() {
                return Err(format!("`echo` failed: {:?}", result.content));
            }
            Ok(())
        }
    })
    .await
}

fn main() -> ExitCode {
    client_load::main("bench-client-ours", run)
}
