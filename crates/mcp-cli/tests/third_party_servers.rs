//! `mcp` against third-party reference servers: `server-everything` (legacy only) over stdio and
//! over Streamable HTTP (listing, typed arguments, progress, elicitation answered on stdin, the
//! era the CLI reports), and `server-memory`, which offers no prompts.

mod mcp_process;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use mcp_process::{LIMIT, free_port, loopback_preload, mcp, peers};
use serde_json::json;

fn everything() -> Option<HashMap<String, String>> {
    peers("the mcp CLI against server-everything")
}

/// `args` followed by `-- node server-everything stdio`.
fn over_stdio(peers: &HashMap<String, String>, args: &[&str]) -> Vec<String> {
    args.iter()
        .map(|a| (*a).to_owned())
        .chain([
            "--".to_owned(),
            peers["NODE22"].clone(),
            peers["SERVER_EVERYTHING"].clone(),
            "stdio".to_owned(),
        ])
        .collect()
}

async fn run(args: &[String], stdin: &str) -> mcp_process::Ran {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    mcp(&args, stdin).await
}

#[tokio::test]
async fn server_everything_over_stdio() {
    let Some(p) = everything() else { return };
    let ran = run(&over_stdio(&p, &["tools"]), "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let sum = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("get-sum "))
        .expect("get-sum listed");
    assert!(sum.contains(" a b "), "{sum}");

    // Numbers typed by the schema: the server's zod schema refuses strings.
    let ran = run(
        &over_stdio(&p, &["call", "get-sum", "-a", "a=2", "-a", "b=40"]),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("42"), "{ran:?}");

    let ran = run(
        &over_stdio(
            &p,
            &["call", "echo", "-a", "message=hi there", "--format", "json"],
        ),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(
        ran.json()["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("hi there")
    );

    let ran = run(&over_stdio(&p, &["discover", "--format", "json"]), "").await;
    let d = ran.json();
    assert_eq!(d["era"], "legacy", "server-everything is legacy only: {d}");
    assert_eq!(d["server"]["name"], "mcp-servers/everything");
    // Asking for the modern era alone fails: no revision in common.
    let ran = run(&over_stdio(&p, &["ping", "--protocol", "modern"]), "").await;
    assert_eq!(ran.code, 6, "{ran:?}");

    // Progress, as JSON lines on stderr.
    let ran = run(
        &over_stdio(
            &p,
            &[
                "call",
                "trigger-long-running-operation",
                "-a",
                "duration=1",
                "-a",
                "steps=3",
                "--format",
                "json",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let progress = ran
        .stderr
        .lines()
        .filter(|l| l.starts_with(r#"{"progress":"#))
        .count();
    assert_eq!(progress, 3, "{ran:?}");

    // A form with every field type, answered on stdin: a name, then the defaults.
    let ran = run(
        &over_stdio(&p, &["call", "trigger-elicitation-request"]),
        &format!("a\nAda\n{}", "\n".repeat(20)),
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains(r#""name": "Ada""#), "{ran:?}");
    assert!(
        ran.stdout.contains(r#""integer": 42"#),
        "defaults filled in: {ran:?}"
    );
    let ran = run(
        &over_stdio(&p, &["call", "trigger-elicitation-request"]),
        "d\n",
    )
    .await;
    assert!(ran.stdout.to_lowercase().contains("decline"), "{ran:?}");

    let ran = run(&over_stdio(&p, &["prompts", "--format", "json"]), "").await;
    assert!(
        !ran.json()["prompts"].as_array().unwrap().is_empty(),
        "{ran:?}"
    );
    let ran = run(&over_stdio(&p, &["resources"]), "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.starts_with("URI "), "{ran:?}");
}

/// `server-everything streamableHttp` on a free loopback port (its listen pinned to 127.0.0.1 by
/// the preload), killed on drop.
struct EverythingHttp {
    child: tokio::process::Child,
    url: String,
}

impl EverythingHttp {
    async fn start(p: &HashMap<String, String>) -> Self {
        let port = free_port();
        let child = tokio::process::Command::new(&p["NODE22"])
            .arg("--require")
            .arg(loopback_preload())
            .arg(&p["SERVER_EVERYTHING"])
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start server-everything");
        // Node takes a few seconds to listen on a busy machine; bounded by LIMIT.
        let deadline = tokio::time::Instant::now() + LIMIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server-everything did not listen"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}

impl Drop for EverythingHttp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn server_everything_over_streamable_http() {
    let Some(p) = everything() else { return };
    let server = EverythingHttp::start(&p).await;
    let url = server.url.as_str();
    let ran = mcp(&["discover", "-s", url, "--format", "json"], "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let d = ran.json();
    assert_eq!(
        (d["era"].as_str(), d["transport"].as_str()),
        (Some("legacy"), Some("streamable-http")),
        "{d}"
    );
    assert!(d["sessionId"].is_string(), "{d}");
    let ran = mcp(
        &["call", "get-sum", "-a", "a=2", "-a", "b=40", "-s", url],
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("42"), "{ran:?}");
    let ran = mcp(&["tools", "-s", url, "--format", "json"], "").await;
    let names: Vec<String> = ran.json()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"echo".to_owned()), "{names:?}");
    let ran = mcp(&["ping", "-s", url, "--format", "json"], "").await;
    assert_eq!(ran.json()["method"], json!("ping"), "{ran:?}");
    let ran = mcp(
        &["call", "trigger-elicitation-request", "-s", url],
        &format!("a\nLin\n{}", "\n".repeat(20)),
    )
    .await;
    assert!(ran.stdout.contains(r#""name": "Lin""#), "{ran:?}");
}

#[tokio::test]
async fn a_server_without_prompts_lists_none() {
    let Some(p) = peers("the mcp CLI against server-memory") else {
        return;
    };
    let server = ["--", p["NODE22"].as_str(), p["SERVER_MEMORY"].as_str()];
    let args: Vec<&str> = ["prompts"].iter().chain(&server).copied().collect();
    let ran = mcp(&args, "").await;
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "NAME  ARGUMENTS  DESCRIPTION\n"),
        "{ran:?}"
    );
    assert!(
        ran.stderr.contains("the server does not offer prompts"),
        "{ran:?}"
    );
    let args: Vec<&str> = ["prompts", "--format", "json"]
        .iter()
        .chain(&server)
        .copied()
        .collect();
    let ran = mcp(&args, "").await;
    assert_eq!(ran.json(), json!({"prompts": []}), "{ran:?}");
    assert_eq!(
        ran.stderr.trim(),
        r#"{"note":"(the server does not offer prompts)"}"#,
        "{ran:?}"
    );
    let args: Vec<&str> = ["tools"].iter().chain(&server).copied().collect();
    let ran = mcp(&args, "").await;
    assert!(ran.stdout.contains("create_entities"), "{ran:?}");
}
