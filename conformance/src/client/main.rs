//! `conformance-client`: the client the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) drives in its client leg. The suite starts a mock server
//! for one scenario and runs
//!
//! ```text
//! conformance-client <server-url>
//! ```
//!
//! with the scenario's name in `MCP_CONFORMANCE_SCENARIO`, the protocol revision to speak in
//! `MCP_CONFORMANCE_PROTOCOL_VERSION` (a legacy revision means the `initialize` handshake,
//! 2026-07-28 the stateless era) and, for some scenarios, data in `MCP_CONFORMANCE_CONTEXT`
//! (JSON). The binary does what the scenario asks of a client with `mcp-client`'s public API
//! and exits 0; the suite judges what went over the wire.
//!
//! Exit status: 0 when the scenario ran, 1 when it failed, 2 for a usage error, an unknown
//! scenario, or a scenario this client does not implement (the extensions it does not offer:
//! skills, and the authorization extensions other than client credentials with a secret).
//! `cargo xtask conformance` runs it with the suite; see `docs/conformance.md`.

mod scenarios;

use std::process::ExitCode;

use mcp_protocol::ProtocolVersion;
use serde_json::Value;

/// What the suite gave this run.
#[derive(Debug)]
struct Run {
    /// The mock server's MCP endpoint.
    url: String,
    /// The scenario's name, exactly as `conformance list --client` prints it.
    scenario: String,
    /// The revision to speak, when the suite named one this SDK knows.
    version: Option<ProtocolVersion>,
    /// `MCP_CONFORMANCE_CONTEXT`, parsed (`Null` when absent).
    context: Value,
}

const USAGE: &str = "usage: MCP_CONFORMANCE_SCENARIO=<scenario> conformance-client <server-url>";

/// Reads the command line (the URL is the last argument: the suite appends it) and the
/// environment.
fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Run, String> {
    let url = match args.last().map(String::as_str) {
        None | Some("-h" | "--help") => return Err(USAGE.to_owned()),
        Some(url) => url.to_owned(),
    };
    let scenario = env("MCP_CONFORMANCE_SCENARIO")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("MCP_CONFORMANCE_SCENARIO is not set\n{USAGE}"))?;
    let version = match env("MCP_CONFORMANCE_PROTOCOL_VERSION").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            ProtocolVersion::parse(&v)
                .ok_or_else(|| format!("MCP_CONFORMANCE_PROTOCOL_VERSION {v:?} is not known"))?,
        ),
    };
    let context = match env("MCP_CONFORMANCE_CONTEXT").filter(|c| !c.is_empty()) {
        None => Value::Null,
        Some(c) => serde_json::from_str(&c)
            .map_err(|e| format!("MCP_CONFORMANCE_CONTEXT is not JSON: {e}"))?,
    };
    Ok(Run {
        url,
        scenario,
        version,
        context,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = match parse(&args, |k| std::env::var(k).ok()) {
        Ok(run) => run,
        Err(message) => {
            eprintln!("conformance-client: {message}");
            return ExitCode::from(2);
        }
    };
    let Some(scenario) = scenarios::Scenario::named(&run.scenario) else {
        eprintln!(
            "conformance-client: unknown scenario {:?} (see `conformance list --client`)",
            run.scenario
        );
        return ExitCode::from(2);
    };
    match scenario.run(&run).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(scenarios::Failure::Unsupported(why)) => {
            eprintln!("conformance-client: {}: {why}", run.scenario);
            ExitCode::from(2)
        }
        Err(scenarios::Failure::Failed(why)) => {
            eprintln!("conformance-client: {} failed: {why}", run.scenario);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_url_is_the_last_argument_and_the_rest_comes_from_the_environment() {
        let args = vec!["--ignored".to_owned(), "http://localhost:1/mcp".to_owned()];
        let run = parse(
            &args,
            env(&[
                ("MCP_CONFORMANCE_SCENARIO", "tools_call"),
                ("MCP_CONFORMANCE_PROTOCOL_VERSION", "2026-07-28"),
                ("MCP_CONFORMANCE_CONTEXT", r#"{"name":"tools_call"}"#),
            ]),
        )
        .unwrap();
        assert_eq!(run.url, "http://localhost:1/mcp");
        assert_eq!(run.scenario, "tools_call");
        assert_eq!(run.version, Some(ProtocolVersion::V2026_07_28));
        assert_eq!(run.context["name"], "tools_call");

        let run = parse(&args, env(&[("MCP_CONFORMANCE_SCENARIO", "initialize")])).unwrap();
        assert_eq!(run.version, None);
        assert!(run.context.is_null());
    }

    #[test]
    fn missing_or_bad_input_is_a_usage_error() {
        let args = vec!["http://localhost:1/mcp".to_owned()];
        assert!(parse(&[], env(&[("MCP_CONFORMANCE_SCENARIO", "x")])).is_err());
        assert!(parse(&args, env(&[])).is_err());
        assert!(
            parse(
                &args,
                env(&[
                    ("MCP_CONFORMANCE_SCENARIO", "x"),
                    ("MCP_CONFORMANCE_PROTOCOL_VERSION", "1999-01-01"),
                ])
            )
            .is_err()
        );
        assert!(
            parse(
                &args,
                env(&[
                    ("MCP_CONFORMANCE_SCENARIO", "x"),
                    ("MCP_CONFORMANCE_CONTEXT", "{"),
                ])
            )
            .is_err()
        );
    }
}
