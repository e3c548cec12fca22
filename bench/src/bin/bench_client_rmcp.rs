//! `bench-client-rmcp`: the rival client, rmcp 3.11, calling `echo` on a server it spawns, N calls
//! in flight; prints one JSON line (see [`mcp_bench::client_load`]).
//!
//! The server is spawned with `tokio::process` (piped stdin and stdout, stderr inherited) and the
//! client served over the pair `(stdout, stdin)`: rmcp's async-read/write transport, the same one
//! its `TokioChildProcess` wraps (that type only adds `process-wrap`'s process management, which
//! is off the call path). `--era legacy` (the default) uses
//! [`ClientLifecycleMode::Initialize`] with protocol version 2025-11-25, as our client does;
//! `--era modern` uses [`ClientLifecycleMode::Discover`] with 2026-07-28. Calls go through
//! [`RunningService::call_tool`], the documented helper (which also answers `input_required`
//! rounds, as ours does), from several tasks sharing the service in an `Arc`.

use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_bench::client_load::{self, Era, Options, Report};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::{RoleClient, serde_json};

/// How long the server gets to exit after its input closes before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Spawns the server, connects, checks one call, runs the load, closes.
async fn run(options: Options) -> Result<Report, String> {
    let (program, args) = options.server();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {program:?}: {e}"))?;
    let server_pid = child.id().ok_or("the server exited at once")?;
    let stdin = child.stdin.take().ok_or("no stdin pipe")?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("bench-client-rmcp", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25);
    let lifecycle = match options.era {
        Era::Legacy => ClientLifecycleMode::Initialize,
        Era::Modern => ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    };
    let service = info
        .serve_with_lifecycle((stdout, stdin), lifecycle)
        .await
        .map_err(|e| format!("connecting failed: {e}"))?;
    let startup = started.elapsed();
    let service = Arc::new(service);
    let result = measure(&options, &service, server_pid).await;
    // Closing the transport closes the server's input, which ends it.
    if let Ok(service) = Arc::try_unwrap(service) {
        let _ = service.cancel().await;
    }
    if tokio::time::timeout(EXIT_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    let measured = result?;
    Ok(Report::new(&options, "rmcp", measured, startup))
}

/// The checked call and the measured load, while the server runs.
async fn measure(
    options: &Options,
    service: &Arc<RunningService<RoleClient, ClientConfig>>,
    server_pid: u32,
) -> Result<client_load::Measured, String> {
    let arguments = client_load::echo_arguments();
    let first = service
        .call_tool(CallToolRequestParams::new("echo").with_arguments(arguments.clone()))
        .await
        .map_err(|e| format!("the checked call failed: {e}"))?;
    client_load::check_echo(&serde_json::to_value(&first).map_err(|e| e.to_string())?)?;
    let service = service.clone();
    client_load::drive(options, server_pid, move || {
        let service = service.clone();
        let params = CallToolRequestParams::new("echo").with_arguments(arguments.clone());
        async move {
            let result = service
                .call_tool(params)
                .await
                .map_err(|e| format!("a call failed: {e}"))?;
            if result.is_error == Some(true) {
                return Err(format!("`echo` failed: {:?}", result.content));
            }
            Ok(())
        }
    })
    .await
}

fn main() -> ExitCode {
    client_load::main("bench-client-rmcp", run)
}
