//! `mcp serve --http` with the hosting flags, run as the real binary: API keys and their
//! permissions, JWTs, the rate limit, `/metrics`, `/health`, the same settings from a TOML
//! file, and the refusal to serve a non-loopback address without credentials.

mod mcp_process;

use mcp_auth::test_util::{TestClaims, TestKey};
use mcp_process::raw::{Raw, sample};
use mcp_process::{Served, TempDir, mcp};
use serde_json::{Value, json};

/// A key with every permission.
const FULL: &str = "full-4f1c2a9d8e7b6a5c3d2e";
/// A key that may call `echo` only.
const ECHO_ONLY: &str = "echo-9a8b7c6d5e4f3a2b1c0d";
/// A key of its own for the rate limit.
const LIMITED: &str = "rate-1a2b3c4d5e6f7a8b9c0d";

#[tokio::test]
async fn api_keys_permissions_rate_limit_metrics_and_health() {
    let echo_only = format!("{ECHO_ONLY}:tools.call.echo");
    let served = Served::start_with(&[
        "--api-key",
        FULL,
        "--api-key",
        &echo_only,
        "--api-key",
        LIMITED,
        "--rate-limit",
        "5/min",
        "--metrics",
    ])
    .await;
    let raw = Raw::new(&served.url);

    // No key: 401 with a challenge; a wrong key: 401.
    let none = raw.call("echo", json!({"text": "x"}), &[]).await;
    assert_eq!(none.status, 401, "{}", none.text);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|c| c.starts_with("Bearer")),
        "{none:?}"
    );
    let wrong = raw
        .call(
            "echo",
            json!({"text": "x"}),
            &[("x-api-key", "wrong-0000000000000000")],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let ran = mcp(&["tools", "-s", &served.url], "").await;
    assert_eq!(ran.code, 3, "no key is auth_required: {ran:?}");

    // The right key: the call works.
    let ran = mcp(
        &[
            "call",
            "add",
            "-a",
            "a=40",
            "-a",
            "b=2",
            "-s",
            &served.url,
            "--api-key",
            FULL,
        ],
        "",
    )
    .await;
    assert_eq!(
        (ran.code, ran.stdout.trim()),
        (0, r#"{"sum":42.0}"#),
        "{ran:?}"
    );

    // A key without the tool's permission: -31403 (403 over HTTP), and the tool is not listed.
    let forbidden = raw
        .call("add", json!({"a": 1, "b": 2}), &[("x-api-key", ECHO_ONLY)])
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.text);
    assert_eq!(forbidden.code(), Some(-31403), "{}", forbidden.text);
    let ran = mcp(
        &[
            "call",
            "add",
            "-a",
            "a=1",
            "-a",
            "b=2",
            "-s",
            &served.url,
            "--api-key",
            ECHO_ONLY,
            "--protocol",
            "legacy",
            "--format",
            "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 3, "{ran:?}");
    assert_eq!(ran.error()["error"]["jsonrpcCode"], -31403, "{ran:?}");
    let ran = mcp(
        &[
            "call",
            "echo",
            "-a",
            "text=allowed",
            "-s",
            &served.url,
            "--api-key",
            ECHO_ONLY,
        ],
        "",
    )
    .await;
    assert_eq!((ran.code, ran.stdout.trim()), (0, "allowed"), "{ran:?}");
    let ran = mcp(&["tools", "-s", &served.url, "--api-key", ECHO_ONLY], "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let names: Vec<&str> = ran
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["echo"], "{ran:?}");

    // The rate limit, per principal: five calls, then 429 with Retry-After and -31429.
    for i in 0..5 {
        let ok = raw
            .call(
                "echo",
                json!({"text": i.to_string()}),
                &[("x-api-key", LIMITED)],
            )
            .await;
        assert_eq!(ok.status, 200, "call {i}: {}", ok.text);
    }
    let limited = raw
        .call("echo", json!({"text": "six"}), &[("x-api-key", LIMITED)])
        .await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.code(), Some(-31429));
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1, "{limited:?}");
    let ran = mcp(
        &[
            "call",
            "echo",
            "-a",
            "text=x",
            "-s",
            &served.url,
            "--api-key",
            LIMITED,
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 8, "rate_limited: {ran:?}");
    // Another principal has a bucket of its own.
    let other = raw
        .call("echo", json!({"text": "mine"}), &[("x-api-key", FULL)])
        .await;
    assert_eq!(other.status, 200, "{}", other.text);

    // /metrics sits behind the authenticator and counts what happened.
    assert_eq!(raw.get("/metrics", &[]).await.status, 401);
    let page = raw.get("/metrics", &[("x-api-key", FULL)]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let total = |labels: &str| sample(&page.text, &format!("mcp_requests_total{{{labels}}}"));
    assert_eq!(
        total(r#"method="tools/call",outcome="success",tool="add""#),
        Some(1.0),
        "{}",
        page.text
    );
    assert_eq!(
        total(r#"method="tools/call",outcome="refused",tool="add""#),
        Some(2.0),
        "{}",
        page.text
    );
    assert!(
        total(r#"method="tools/call",outcome="success",tool="echo""#).unwrap() >= 7.0,
        "{}",
        page.text
    );
    assert!(
        sample(&page.text, r#"mcp_refusals_total{reason="rate_limited"}"#).unwrap() >= 2.0,
        "{}",
        page.text
    );

    // Health needs no credentials.
    let live = raw.get("/health", &[]).await;
    assert_eq!(
        (live.status.as_u16(), &live.body["status"]),
        (200, &json!("ok"))
    );
    let ready = raw.get("/health/ready", &[]).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");

    assert_eq!(served.terminate().await, Some(0), "a clean exit on SIGTERM");
}

#[tokio::test]
async fn jwts_signed_by_the_configured_key_are_accepted() {
    let dir = TempDir::new("jwt");
    let key = TestKey::rsa();
    let pem = dir.0.join("issuer.pub.pem");
    std::fs::write(&pem, key.public_pem().unwrap()).unwrap();
    let served = Served::start_with(&[
        "--jwt-public-key",
        pem.to_str().unwrap(),
        "--jwt-issuer",
        "https://issuer.example",
        "--jwt-key-id",
        key.kid(),
    ])
    .await;
    // The audience is the server's own /mcp URL unless --jwt-audience says otherwise.
    let good = TestClaims::new("https://issuer.example", &served.url, "ada")
        .scope("tools.call.echo")
        .sign(&key);
    let ran = mcp(
        &[
            "call",
            "echo",
            "-a",
            "text=jwt",
            "-s",
            &served.url,
            "--bearer",
            &good,
        ],
        "",
    )
    .await;
    assert_eq!((ran.code, ran.stdout.trim()), (0, "jwt"), "{ran:?}");
    let raw = Raw::new(&served.url);
    let bearer = format!("Bearer {good}");
    let forbidden = raw
        .call(
            "add",
            json!({"a": 1, "b": 1}),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(
        forbidden.status, 403,
        "the scope grants echo only: {}",
        forbidden.text
    );
    for bad in [
        TestClaims::new("https://issuer.example", "https://other.example/mcp", "ada")
            .scope("tools.call.echo")
            .sign(&key),
        TestClaims::new("https://someone-else.example", &served.url, "ada")
            .scope("tools.call.echo")
            .sign(&key),
        TestClaims::new("https://issuer.example", &served.url, "ada")
            .scope("tools.call.echo")
            .sign(&TestKey::rsa_rotated()),
    ] {
        let bearer = format!("Bearer {bad}");
        let refused = raw
            .call("echo", json!({"text": "x"}), &[("authorization", &bearer)])
            .await;
        assert_eq!(refused.status, 401, "{}", refused.text);
        assert!(
            refused
                .header("www-authenticate")
                .is_some_and(|c| c.contains("invalid_token")),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_config_file_gives_the_same_settings_and_flags_override_it() {
    let dir = TempDir::new("config");
    let path = dir.0.join("serve.toml");
    let digest = mcp_auth::sha256_hex(FULL);
    std::fs::write(
        &path,
        format!(
            r#"# mcp serve --config
http = "127.0.0.1:0"
ws = true
name = "configured"
rate_limit = "100/min"
metrics = true
timeout = "30s"

[[api_keys]]
id = "ops"
sha256 = "{digest}"

[[api_keys]]
id = "echoer"
key = "{ECHO_ONLY}"
permissions = ["tools.call.echo"]
"#
        ),
    )
    .unwrap();
    // The file alone.
    let served = Served::command(&["serve", "--config", path.to_str().unwrap()]).await;
    let raw = Raw::new(&served.url);
    assert_eq!(
        raw.call("echo", json!({"text": "x"}), &[]).await.status,
        401
    );
    let ran = mcp(
        &[
            "discover",
            "-s",
            &served.url,
            "--api-key",
            FULL,
            "--format",
            "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["server"]["name"], "configured");
    let ran = mcp(
        &[
            "call",
            "add",
            "-a",
            "a=2",
            "-a",
            "b=3",
            "-s",
            &served.url,
            "--api-key",
            FULL,
        ],
        "",
    )
    .await;
    assert_eq!(
        (ran.code, ran.stdout.trim()),
        (0, r#"{"sum":5.0}"#),
        "{ran:?}"
    );
    let forbidden = raw
        .call("add", json!({"a": 1, "b": 2}), &[("x-api-key", ECHO_ONLY)])
        .await;
    assert_eq!(forbidden.code(), Some(-31403), "{}", forbidden.text);
    let page = raw.get("/metrics", &[("x-api-key", FULL)]).await;
    assert_eq!(
        sample(
            &page.text,
            r#"mcp_requests_total{method="tools/call",outcome="success",tool="add"}"#
        ),
        Some(1.0),
        "{}",
        page.text
    );
    assert_eq!(raw.get("/health", &[]).await.status, 200);
    drop(served);

    // A flag wins over the file: one call a minute, then 429.
    let served = Served::command(&[
        "serve",
        "--config",
        path.to_str().unwrap(),
        "--rate-limit",
        "1/min",
        "--name",
        "flagged",
    ])
    .await;
    let raw = Raw::new(&served.url);
    let first = raw
        .call("echo", json!({"text": "1"}), &[("x-api-key", FULL)])
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second = raw
        .call("echo", json!({"text": "2"}), &[("x-api-key", FULL)])
        .await;
    assert_eq!(second.status, 429, "{}", second.text);
    let ran = mcp(
        &[
            "discover",
            "-s",
            &served.url,
            "--api-key",
            FULL,
            "--format",
            "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.json()["server"]["name"], "flagged", "{ran:?}");

    // A typo in the file is a usage error that names it.
    std::fs::write(&path, "http = \"127.0.0.1:0\"\nrate_limt = \"1/s\"\n").unwrap();
    let ran = mcp(&["serve", "--config", path.to_str().unwrap()], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("rate_limt"), "{ran:?}");
}

#[tokio::test]
async fn a_non_loopback_address_needs_credentials_or_an_explicit_opt_out() {
    // Refused before anything is bound.
    let ran = mcp(&["serve", "--http", "0.0.0.0:0"], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("--insecure-no-auth"), "{ran:?}");
    let ran = mcp(&["bridge", "--http", "0.0.0.0:0", "--", "true"], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
    // Bad flag values are usage errors.
    for args in [
        &["serve", "--rate-limit", "often"][..],
        &["serve", "--api-key", "short"][..],
        &["serve", "--max-concurrency", "0"][..],
        &["serve", "--metrics"][..],
        &["serve", "--ws"][..],
    ] {
        let ran = mcp(args, "").await;
        assert_eq!(ran.code, 2, "{args:?}: {ran:?}");
    }
}

#[tokio::test]
async fn over_stdio_the_key_comes_from_the_environment() {
    let dir = TempDir::new("stdio-key");
    let servers = dir.0.join("servers.json");
    let echo_only = format!("{ECHO_ONLY}:tools.call.echo");
    let config = |env: Value| {
        json!({"mcpServers": {"local": {
            "command": mcp_process::MCP,
            "args": ["serve", "--api-key", echo_only, "--rate-limit", "2/min"],
            "env": env,
        }}})
    };
    std::fs::write(
        &servers,
        config(json!({"MCP_API_KEY": ECHO_ONLY})).to_string(),
    )
    .unwrap();
    let servers = servers.to_str().unwrap();
    let ran = mcp(
        &[
            "call",
            "echo",
            "-a",
            "text=local",
            "-s",
            "local",
            "-c",
            servers,
        ],
        "",
    )
    .await;
    assert_eq!((ran.code, ran.stdout.trim()), (0, "local"), "{ran:?}");
    let ran = mcp(
        &[
            "call", "add", "-a", "a=1", "-a", "b=1", "-s", "local", "-c", servers, "--format",
            "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 3, "{ran:?}");
    assert_eq!(ran.error()["error"]["jsonrpcCode"], -31403, "{ran:?}");
    // Without the key every request is refused with -31401.
    let path = dir.0.join("servers.json");
    std::fs::write(&path, config(json!({})).to_string()).unwrap();
    let ran = mcp(
        &[
            "call", "echo", "-a", "text=x", "-s", "local", "-c", servers, "--format", "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 3, "{ran:?}");
    assert_eq!(ran.error()["error"]["jsonrpcCode"], -31401, "{ran:?}");
}

#[tokio::test]
async fn the_cache_and_the_timeout_when_asked_for() {
    let served = Served::start_with(&["--cache", "60s", "--timeout", "1", "--metrics"]).await;
    let raw = Raw::new(&served.url);
    for _ in 0..3 {
        let sum = raw.call("add", json!({"a": 1, "b": 2}), &[]).await;
        assert_eq!(
            sum.body["result"]["structuredContent"]["sum"], 3.0,
            "{}",
            sum.text
        );
    }
    // A tool that is not read-only is never cached.
    for _ in 0..2 {
        let toggled = raw.call("toggle_extra", json!({}), &[]).await;
        assert_eq!(toggled.status, 200, "{}", toggled.text);
    }
    let page = raw.get("/metrics", &[]).await;
    let cache = |labels: &str| sample(&page.text, &format!("mcp_cache_requests_total{{{labels}}}"));
    assert_eq!(
        cache(r#"result="miss",tool="add""#),
        Some(1.0),
        "{}",
        page.text
    );
    assert_eq!(
        cache(r#"result="hit",tool="add""#),
        Some(2.0),
        "{}",
        page.text
    );
    assert_eq!(
        cache(r#"result="hit",tool="toggle_extra""#),
        None,
        "{}",
        page.text
    );

    // Longer than --timeout: 504 with -31504.
    let slow = raw
        .call("slow_count", json!({"steps": 100, "delay_ms": 100}), &[])
        .await;
    assert_eq!(slow.status, 504, "{}", slow.text);
    assert_eq!(slow.code(), Some(-31504), "{}", slow.text);
}
