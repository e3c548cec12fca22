//! `mcp` against the example server over stdio (`-- mcp serve`): every client command, both
//! output formats, typed arguments, elicitation answered on stdin, the exit codes, and Ctrl-C.

mod mcp_process;

use std::process::Stdio;
use std::time::Duration;

use mcp_process::{LIMIT, MCP, TempDir, mcp, mcp_with_env, with_stdio_server};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn tools_as_a_table_and_as_json() {
    let ran = mcp(&with_stdio_server(&["tools"]), "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{ran:?}");
    assert!(lines[0].contains("ARGUMENTS") && lines[0].contains("DESCRIPTION"));
    let slow = lines
        .iter()
        .find(|l| l.starts_with("slow_count "))
        .expect("slow_count listed");
    assert!(slow.contains("steps [delay_ms]"), "{slow}");
    // Columns line up: every description starts where the header's does.
    let column = lines[0].find("DESCRIPTION").unwrap();
    let echo = lines.iter().find(|l| l.starts_with("echo ")).unwrap();
    assert_eq!(&echo[column..], "Echoes the text back");

    let ran = mcp(&with_stdio_server(&["tools", "--format", "json"]), "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let tools = ran.json()["tools"].as_array().unwrap().clone();
    let add = tools.iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(add["inputSchema"]["properties"]["a"]["type"], "number");
    assert!(add["outputSchema"].is_object());
    assert_eq!(tools.len(), 9);
}

#[tokio::test]
async fn call_types_arguments_by_the_input_schema() {
    let ran = mcp(
        &with_stdio_server(&["call", "add", "-a", "a=2", "--arg", "b=3.5"]),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.stdout.trim(), r#"{"sum":5.5}"#);

    // A string-typed argument stays a string even when it looks like a number.
    let ran = mcp(
        &with_stdio_server(&["call", "echo", "--arg", "text=42", "--format", "json"]),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["content"][0]["text"], "42");

    // --json, with --arg on top.
    let ran = mcp(
        &with_stdio_server(&[
            "call",
            "add",
            "--json",
            r#"{"a": 1, "b": 1}"#,
            "-a",
            "b=41",
            "--format",
            "json",
        ]),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["structuredContent"], json!({"sum": 42.0}));
}

#[tokio::test]
async fn resources_read_prompts_prompt_complete_ping_discover() {
    let ran = mcp(&with_stdio_server(&["resources"]), "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.starts_with("URI "), "{ran:?}");
    assert!(
        ran.stdout
            .contains("memo://readme  readme  text/plain  Read me")
    );
    assert!(ran.stdout.contains("URI TEMPLATE"));
    assert!(ran.stdout.contains("memo://notes/{id}"));

    let ran = mcp(&with_stdio_server(&["read", "memo://notes/beta"]), "").await;
    assert_eq!((ran.code, ran.stdout.trim()), (0, "Note beta"), "{ran:?}");
    let ran = mcp(&with_stdio_server(&["read", "memo://logo"]), "").await;
    assert_eq!(ran.stdout.trim(), "[memo://logo image/png, 4 bytes]");
    let ran = mcp(
        &with_stdio_server(&["read", "memo://logo", "--format", "json"]),
        "",
    )
    .await;
    assert_eq!(ran.json()["contents"][0]["blob"], "iVBORw==");

    let ran = mcp(&with_stdio_server(&["prompts"]), "").await;
    assert!(
        ran.stdout.contains("greet  name       Greets someone"),
        "{ran:?}"
    );
    let ran = mcp(
        &with_stdio_server(&["prompt", "greet", "-a", "name=Ada"]),
        "",
    )
    .await;
    assert_eq!(ran.stdout, "[user]\nPlease greet Ada warmly.\n", "{ran:?}");

    let ran = mcp(
        &with_stdio_server(&["complete", "--prompt", "greet", "name", "B"]),
        "",
    )
    .await;
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "Bob\n"), "{ran:?}");
    let ran = mcp(
        &with_stdio_server(&[
            "complete",
            "--resource",
            "memo://notes/{id}",
            "id",
            "--format",
            "json",
        ]),
        "",
    )
    .await;
    assert_eq!(
        ran.json()["completion"]["values"],
        json!(["alpha", "beta", "gamma"])
    );

    for (protocol, method) in [("auto", "server/discover"), ("legacy", "ping")] {
        let ran = mcp(
            &with_stdio_server(&["ping", "--protocol", protocol, "--format", "json"]),
            "",
        )
        .await;
        assert_eq!(ran.code, 0, "{ran:?}");
        assert_eq!(ran.json()["method"], method);
        assert!(ran.json()["latencyMs"].as_f64().unwrap() > 0.0);
    }

    let ran = mcp(&with_stdio_server(&["discover", "--format", "json"]), "").await;
    let d = ran.json();
    assert_eq!(
        (
            d["era"].as_str(),
            d["protocolVersion"].as_str(),
            d["transport"].as_str()
        ),
        (Some("modern"), Some("2026-07-28"), Some("stdio"))
    );
    assert_eq!(d["server"]["name"], "example-server");
    assert!(d["capabilities"]["tools"].is_object());
    let ran = mcp(
        &with_stdio_server(&["discover", "--protocol", "legacy"]),
        "",
    )
    .await;
    assert!(ran.stdout.contains("era           legacy"), "{ran:?}");
    assert!(ran.stdout.contains("protocol      2025-11-25"), "{ran:?}");
}

#[tokio::test]
async fn elicitation_is_answered_on_stdin_in_both_eras() {
    for protocol in ["modern", "legacy"] {
        let args = with_stdio_server(&["call", "ask_name", "--protocol", protocol]);
        let ran = mcp(&args, "a\nAda\n").await;
        assert_eq!((ran.code, ran.stdout.trim()), (0, "Hello, Ada!"), "{ran:?}");
        assert!(ran.stderr.contains("The server asks: What is your name?"));
        assert!(ran.stderr.contains("Your name [name] (string, required)"));
        // An empty answer to a required field is asked again.
        let ran = mcp(&args, "\n\nGrace\n").await;
        assert_eq!(ran.stdout.trim(), "Hello, Grace!", "{ran:?}");
        assert!(ran.stderr.contains("a value is required"));
        let ran = mcp(&args, "d\n").await;
        assert_eq!(
            ran.stdout.trim(),
            "No greeting: the user chose Decline.",
            "{ran:?}"
        );
        // The end of input cancels.
        let ran = mcp(&args, "").await;
        assert_eq!(ran.stdout.trim(), "No greeting: the user chose Cancel.");
    }
}

#[tokio::test]
async fn a_progress_bar_on_a_terminal_is_cleared_before_the_result() {
    // `script` gives the command a terminal (a pty) and copies what it draws to our stdout.
    let command = format!("'{MCP}' call slow_count -a steps=4 -a delay_ms=150 -- '{MCP}' serve");
    let output = tokio::time::timeout(
        LIMIT,
        tokio::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("script finished")
    .expect("script (util-linux) runs");
    assert!(output.status.success(), "{output:?}");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(screen.contains("] 4/4 step 4"), "{screen}");
    assert!(
        screen.contains("[========================================]"),
        "{screen}"
    );
    // The bar's line is erased (ESC [2K) before the result is written.
    let result = screen.rfind("counted to 4").expect("the result");
    let erased = screen.rfind("\u{1b}[2K").expect("the bar is cleared");
    assert!(erased < result, "{screen}");
}

#[tokio::test]
async fn sampling_and_roots_only_when_configured() {
    for protocol in ["modern", "legacy"] {
        // Not offered: a modern server refuses the call (-32021), a legacy tool reports it.
        let ran = mcp(
            &with_stdio_server(&["call", "summarize", "-a", "text=hi", "--protocol", protocol]),
            "",
        )
        .await;
        assert_ne!(ran.code, 0, "{protocol}: {ran:?}");
        let told = format!("{}{}", ran.stdout, ran.stderr);
        assert!(
            told.contains("does not support sampling") || told.contains("--sampling-command"),
            "{protocol}: {ran:?}"
        );
        // Offered through a command: the request on its stdin, its stdout the reply.
        let ran = mcp(
            &with_stdio_server(&[
                "call",
                "summarize",
                "-a",
                "text=hi",
                "--protocol",
                protocol,
                "--sampling-command",
                "grep -q 'Summarize in one line: hi' && echo 'a short reply'",
            ]),
            "",
        )
        .await;
        assert_eq!(
            (ran.code, ran.stdout.trim()),
            (0, "Summary from grep: a short reply"),
            "{protocol}: {ran:?}"
        );
        let ran = mcp(
            &with_stdio_server(&[
                "call",
                "list_roots",
                "--root",
                "/srv/data",
                "--root",
                "file:///work",
                "--protocol",
                protocol,
            ]),
            "",
        )
        .await;
        assert_eq!(
            ran.stdout, "file:///srv/data\nfile:///work\n",
            "{protocol}: {ran:?}"
        );
    }
}

#[tokio::test]
async fn exit_codes_tell_failures_apart() {
    // 2: usage.
    let ran = mcp(&with_stdio_server(&["call", "add", "-a", "a=two"]), "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.stderr.contains("--arg a=two: expected number"),
        "{ran:?}"
    );
    let ran = mcp(&["tools"], "").await;
    assert_eq!(ran.code, 2, "no server given: {ran:?}");
    let ran = mcp(&["tools", "--frobnicate"], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    let ran = mcp(
        &[
            "call", "add", "-a", "oops", "--format", "json", "--", MCP, "serve",
        ],
        "",
    )
    .await;
    assert_eq!(ran.error()["error"]["code"], "usage");

    // 4: the server cannot be started.
    let ran = mcp(
        &["tools", "--format", "json", "--", "/nonexistent/mcp-server"],
        "",
    )
    .await;
    assert_eq!(ran.code, 4, "{ran:?}");
    assert_eq!(ran.error()["error"]["code"], "unreachable");

    // 5: the tool failed; its result is still printed.
    let ran = mcp(&with_stdio_server(&["call", "fail"]), "").await;
    assert_eq!(
        (ran.code, ran.stdout.trim()),
        (5, "this tool always fails"),
        "{ran:?}"
    );
    let ran = mcp(
        &with_stdio_server(&["call", "fail", "--format", "json"]),
        "",
    )
    .await;
    assert_eq!((ran.code, &ran.json()["isError"]), (5, &json!(true)));

    // 6: a JSON-RPC error (an unknown tool, an unknown resource).
    let ran = mcp(
        &with_stdio_server(&["call", "nope", "--format", "json"]),
        "",
    )
    .await;
    assert_eq!(ran.code, 6, "{ran:?}");
    let report = ran.error();
    assert_eq!(report["error"]["code"], "protocol");
    assert_eq!(report["error"]["jsonrpcCode"], -32602);
    assert_eq!(report["error"]["exitCode"], 6);
    let ran = mcp(&with_stdio_server(&["read", "memo://missing"]), "").await;
    assert_eq!(ran.code, 6, "{ran:?}");

    // 7: no answer within --timeout; progress restarts the wait, so the steps are slower.
    let ran = mcp(
        &with_stdio_server(&[
            "call",
            "slow_count",
            "-a",
            "steps=3",
            "-a",
            "delay_ms=3000",
            "--timeout",
            "500ms",
            "--format",
            "json",
        ]),
        "",
    )
    .await;
    assert_eq!(ran.code, 7, "{ran:?}");
    assert_eq!(ran.error()["error"]["code"], "timeout");

    // 0, and progress restarting --timeout: each step is shorter than the timeout, the whole
    // call is longer.
    let ran = mcp(
        &with_stdio_server(&[
            "call",
            "slow_count",
            "-a",
            "steps=4",
            "-a",
            "delay_ms=400",
            "--timeout",
            "1500ms",
            "--format",
            "json",
        ]),
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["content"][0]["text"], "counted to 4");
    // With --format json each progress notification is a line on stderr.
    let progress: Vec<serde_json::Value> = ran
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("progress").is_some())
        .collect();
    assert_eq!(progress.len(), 4, "{ran:?}");
    assert_eq!(progress[3]["progress"]["progress"], 4.0);
    assert_eq!(progress[3]["progress"]["total"], 4.0);
}

#[tokio::test]
async fn servers_are_named_in_a_config_file() {
    let dir = TempDir::new("config");
    let path = dir.0.join("servers.json");
    let config = json!({"mcpServers": {
        "example": {"command": MCP, "args": ["serve", "--name", "from-config"]},
        "other": {"command": MCP, "args": ["serve"]}
    }});
    std::fs::write(&path, config.to_string()).unwrap();
    let path = path.to_str().unwrap();
    let ran = mcp(
        &["discover", "-s", "example", "-c", path, "--format", "json"],
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["server"]["name"], "from-config");
    let ran = mcp(&["tools", "-s", "missing", "-c", path], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.stderr.contains("no server named \"missing\""),
        "{ran:?}"
    );
    // Two servers and no --server: the names are listed.
    let ran = mcp(&["tools", "-c", path], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("example, other"), "{ran:?}");

    // TOML, with `${VAR}` taken from the environment; one server, so no --server needed.
    let toml = dir.0.join("servers.toml");
    std::fs::write(
        &toml,
        "[mcpServers.example]\ncommand = \"${MCP_CLI_TEST_BIN}\"\nargs = [\"serve\", \"--name\", \"${MCP_CLI_TEST_NAME}\"]\n",
    )
    .unwrap();
    let toml = toml.to_str().unwrap();
    let env = [
        ("MCP_CLI_TEST_BIN", MCP),
        ("MCP_CLI_TEST_NAME", "from-toml"),
    ];
    let ran = mcp_with_env(&["discover", "-c", toml, "--format", "json"], "", &env).await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["server"]["name"], "from-toml");
    // An unset variable is named, and is a usage error.
    let ran = mcp_with_env(&["discover", "-c", toml], "", &env[..1]).await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("MCP_CLI_TEST_NAME"), "{ran:?}");
}

/// The processes whose command line contains `marker`, other than `except`.
fn processes_with(marker: &str, except: u32) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) != Some(except))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker) && c.contains(" serve "))
        .collect()
}

#[tokio::test]
async fn ctrl_c_cancels_the_call_and_stops_the_stdio_server() {
    let marker = format!("ctrl-c-{}", std::process::id());
    let mut child = tokio::process::Command::new(MCP)
        .args([
            "call",
            "slow_count",
            "-a",
            "steps=600",
            "-a",
            "delay_ms=100",
            "--format",
            "json",
            "--",
            MCP,
            "serve",
            "--name",
            &marker,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    // The call is running once its first progress notification arrives.
    let first = tokio::time::timeout(LIMIT, stderr.next_line())
        .await
        .expect("progress in time")
        .unwrap()
        .unwrap();
    assert!(first.starts_with(r#"{"progress":"#), "{first}");
    assert_eq!(processes_with(&marker, pid).len(), 1, "the server runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .expect("mcp exits after Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let mut last = String::new();
    while let Ok(Some(line)) = stderr.next_line().await {
        last = line;
    }
    let report: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(report["error"]["code"], "interrupted");
    // The server process is gone (it was shut down, not left behind).
    let mut left = processes_with(&marker, pid);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = processes_with(&marker, pid);
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn ctrl_c_while_connecting_leaves_no_server_behind() {
    // A "server" that never answers: the handshake waits until Ctrl-C.
    let seconds = format!("{}", 100_000 + std::process::id());
    let mut child = tokio::process::Command::new(MCP)
        .args(["tools", "--format", "json", "--", "sleep", &seconds])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let sleeping = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .filter(|c| *c == format!("sleep\0{seconds}\0").into_bytes())
            .count()
    };
    // Wait (bounded) until the server process runs: then the client is connecting.
    let deadline = tokio::time::Instant::now() + LIMIT;
    while sleeping() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains(r#""code":"interrupted""#), "{stderr}");
    // A killed process leaves /proc as soon as the kernel has torn it down (bounded wait).
    let deadline = tokio::time::Instant::now() + LIMIT;
    while sleeping() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server was left behind"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
