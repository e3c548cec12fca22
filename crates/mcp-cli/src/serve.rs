//! `mcp serve`: the example server over stdio, or over Streamable HTTP (both eras on `/mcp`,
//! HTTP+SSE on `/sse`) and optionally WebSocket (`/ws`) on one port, with TLS when given a
//! certificate.

use std::io::Write;

use mcp_server::http::{AllowedHosts, HttpOptions, ServerTls, WsOptions};

use crate::cli::ServeArgs;
use crate::example;
use crate::exit::{Exit, Failure};

/// Serves until stdin ends (stdio) or until Ctrl-C / SIGTERM (HTTP, then a graceful shutdown).
pub(crate) async fn run(args: &ServeArgs) -> Result<Exit, Failure> {
    let server = example::server(&args.name);
    let Some(addr) = &args.http else {
        server
            .serve_stdio()
            .await
            .map_err(|e| Failure::new(Exit::Failed, format!("serving stdio failed: {e}")))?;
        return Ok(Exit::Ok);
    };
    let listener = tokio::net::TcpListener::bind(addr.as_str())
        .await
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
    let mut options = HttpOptions::default();
    if !args.allowed_hosts.is_empty() {
        let mut hosts = args.allowed_hosts.clone();
        // The address it listens on stays reachable by its own name.
        hosts.push(local.to_string());
        if local.ip().is_loopback() {
            hosts.extend([
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ]);
        }
        options.allowed_hosts = AllowedHosts::List(hosts);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            ServerTls::from_pem_files(cert, key)
                .map_err(|e| Failure::usage(format!("--tls-cert/--tls-key: {e}")))?,
        ),
        _ => None,
    };
    let (http, ws) = if tls.is_some() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    // The URLs, one a line, once listening: scripts and tests read the first line.
    let mut urls = vec![format!("{http}://{local}{}", options.path)];
    if let Some(sse) = &options.legacy_sse {
        urls.push(format!("{http}://{local}{}", sse.sse_path));
    }
    if args.ws {
        let options_ws = WsOptions::default();
        urls.push(format!("{ws}://{local}{}", options_ws.path));
        options.websocket = Some(options_ws);
    }
    {
        let mut out = std::io::stdout().lock();
        for url in &urls {
            let _ = writeln!(out, "{url}");
        }
        let _ = out.flush();
    }
    let served = match tls {
        Some(tls) => {
            server
                .serve_https_with_shutdown(listener, options, tls, crate::commands::interrupted())
                .await
        }
        None => {
            server
                .serve_http_with_shutdown(listener, options, crate::commands::interrupted())
                .await
        }
    };
    served.map_err(|e| Failure::new(Exit::Failed, format!("serving HTTP failed: {e}")))?;
    Ok(Exit::Ok)
}
