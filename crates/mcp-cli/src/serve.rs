//! `mcp serve`: the example server over stdio, or over Streamable HTTP (both eras on `/mcp`,
//! HTTP+SSE on `/sse`, `/health`) and optionally WebSocket (`/ws`) on one port, with TLS when
//! given a certificate, and the middleware the hosting flags ask for.

use mcp_server::Server;

use crate::cli::ServeArgs;
use crate::example;
use crate::exit::{Exit, Failure};
use crate::hosting::Hosting;

/// Serves until stdin ends (stdio) or until Ctrl-C / SIGTERM (HTTP, then a graceful shutdown).
pub(crate) async fn run(args: &ServeArgs) -> Result<Exit, Failure> {
    let hosting = Hosting::resolve(&args.hosting, args.http.as_deref(), args.ws)?;
    let name = args
        .name
        .clone()
        .or_else(|| hosting.name.clone())
        .unwrap_or_else(|| "example-server".to_owned());
    let Some(addr) = hosting.http.clone() else {
        let misplaced = hosting.http_only_settings();
        if !misplaced.is_empty() {
            return Err(Failure::usage(format!(
                "{} need --http (without it, mcp serve speaks stdio)",
                misplaced.join(", ")
            )));
        }
        let server = example::server_with(&name, hosting.stdio_principal()?);
        let (layer, _) = hosting.layer()?;
        server
            .layer(layer)
            .serve_stdio()
            .await
            .map_err(|e| Failure::new(Exit::Failed, format!("serving stdio failed: {e}")))?;
        return Ok(Exit::Ok);
    };
    let server: Server = example::server(&name);
    hosting
        .serve_http(&addr, server, Vec::new(), |_| {})
        .await?;
    Ok(Exit::Ok)
}
