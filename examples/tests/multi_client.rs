//! The multi-server client (`mcp_client::multi`, feature `multi`) against real servers: our
//! example server over stdio, Streamable HTTP and WebSocket, `server-everything` over stdio, and
//! a Python SDK server that reports the credentials it receives.
//!
//! Processes are kept few on purpose (the machine has 2 cores): the 50 servers of the parallel
//! discovery are 45 distinct endpoints on three example-server processes (HTTP URLs that differ
//! by query string are distinct servers to the pool, each with its own connection, exactly as
//! 45 machines would be), one WebSocket endpoint of the same processes and `server-everything`
//! over stdio, plus three broken ones.

mod peer_env;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_client::config::{ServerConfig, TransportConfig};
use mcp_client::multi::prometheus::{Encoder as _, Registry, TextEncoder};
use mcp_client::multi::{
    Backoff, BreakerOptions, BreakerState, DiscoverOptions, MultiClient, MultiClientOptions,
    MultiError, PoolOptions, RetryPolicy,
};
use mcp_client::{ClientError, ClientOptions, EraPreference, ErrorKind};
use serde_json::{Value, json};

/// Everything waits at most this long for an event; a hang fails the test instead of the run.
const PATIENCE: Duration = Duration::from_secs(60);

fn example_bin() -> &'static str {
    env!("CARGO_BIN_EXE_example-server")
}

/// A stdio example server whose process carries `marker` in its environment, so the test can
/// find it in `/proc`.
fn marked_stdio(name: &str, marker: &str) -> ServerConfig {
    let mut config = ServerConfig::stdio(name, example_bin(), Vec::<String>::new());
    if let TransportConfig::Stdio { env, .. } = &mut config.transport {
        env.insert("MULTI_CLIENT_TEST".into(), marker.into());
    }
    config
}

fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The ids of running processes whose environment holds `MULTI_CLIENT_TEST=marker`.
fn pids_with(marker: &str) -> Vec<u32> {
    let needle = format!("MULTI_CLIENT_TEST={marker}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        // A zombie has an empty environment: only live processes count.
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
        {
            pids.push(pid);
        }
    }
    pids
}

/// Waits (bounded) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The example server over HTTP and WebSocket on `port`; killed on drop.
struct HttpServer {
    child: Child,
    url: String,
    ws: String,
}

impl HttpServer {
    fn start(port: u16) -> Self {
        let mut child = Command::new(example_bin())
            .args(["--http", &format!("127.0.0.1:{port}"), "--ws"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start example-server --http --ws");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = lines.next().expect("the HTTP URL").expect("a line");
        let ws = lines.next().expect("the WebSocket URL").expect("a line");
        assert_eq!(url, format!("http://127.0.0.1:{port}/mcp"));
        Self { child, url, ws }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value of one metric series in the client's registry (0 when absent): the sum over the
/// lines of `name` that carry every label in `labels`.
fn metric(multi: &MultiClient, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_in(multi.registry(), name, labels)
}

/// [`metric`] in `registry`.
fn metric_in(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut text)
        .unwrap();
    String::from_utf8(text)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn text(r: &mcp_protocol::types::CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

/// Discovery is cached; `toggle_extra` changes the server's tools, and the list-changed
/// notification (legacy: on the session; modern: on a `subscriptions/listen` stream the pool
/// opens) drops the cached list, so the next discovery sees the change.
async fn list_change_refreshes_the_cache(multi: &MultiClient, config: &ServerConfig, what: &str) {
    // The tool list is cached; the server's list-changed drops it.
    let hits = metric(multi, "mcp_client_discovery_cache_hits_total", &[]);
    let tools = multi.discover_tools(config, false).await.unwrap();
    assert_eq!(
        metric(multi, "mcp_client_discovery_cache_hits_total", &[]),
        hits + 1.0
    );
    let had_extra = tools.iter().any(|t| t.name == "extra");
    multi
        .call_tool(config, "toggle_extra", Value::Null, None)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let tools = multi.discover_tools(config, false).await.unwrap();
        if tools.iter().any(|t| t.name == "extra") != had_extra {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the list change never reached the cache"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_one_process_for_a_thousand_calls_and_a_new_one_when_it_dies() {
    let marker = unique("reuse");
    let config = marked_stdio("example", &marker);
    // The metrics go to a registry of the caller's (one an application already serves).
    let registry = Registry::new();
    let multi = MultiClient::new(MultiClientOptions {
        client: ClientOptions {
            era: EraPreference::Legacy,
            ..ClientOptions::default()
        },
        registry: Some(registry.clone()),
        ..MultiClientOptions::default()
    })
    .unwrap();
    // 1,000 calls, 16 in flight at a time, through the pool.
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (multi, config, next) = (multi.clone(), config.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= 1_000 {
                    return;
                }
                let r = multi
                    .call_tool(&config, "echo", json!({"text": i.to_string()}), None)
                    .await
                    .unwrap();
                assert_eq!(text(&r), i.to_string());
            }
        });
    }
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    let stats = multi.pool_stats();
    assert_eq!(
        (stats.connections_started, stats.misses),
        (1, 1),
        "{stats:?}"
    );
    assert!(stats.hits >= 1_000, "{stats:?}");
    assert_eq!(
        metric_in(
            &registry,
            "mcp_client_requests_total",
            &[("method", "tools/call")]
        ),
        1_000.0,
        "every call counted in the caller's registry"
    );
    let pids = pids_with(&marker);
    assert_eq!(pids.len(), 1, "one server process for 1,000 calls");
    assert_eq!(
        metric(
            &multi,
            "mcp_client_requests_total",
            &[("method", "tools/call"), ("transport", "stdio")]
        ),
        1_000.0
    );
    list_change_refreshes_the_cache(&multi, &config, "stdio legacy").await;

    // The process dies while a tool that is not safe to repeat runs: that call fails with a
    // typed, retryable transport error and is not retried.
    let pooled = multi.pooled_client(&config).unwrap();
    pooled
        .set_logging_level(mcp_protocol::types::LoggingLevel::Info)
        .await
        .unwrap();
    let mut logs = pooled.notifications();
    drop(pooled);
    let slow = {
        let (multi, config) = (multi.clone(), config.clone());
        tokio::spawn(async move {
            multi
                .call_tool(
                    &config,
                    "slow_count",
                    json!({"steps": 100, "delay_ms": 50}),
                    None,
                )
                .await
        })
    };
    // Its first log line says it is running.
    tokio::time::timeout(PATIENCE, async {
        while logs.recv().await.unwrap().method != "notifications/message" {}
    })
    .await
    .expect("slow_count logs");
    let retries_before = metric(&multi, "mcp_client_retries_total", &[]);
    assert!(
        Command::new("kill")
            .args(["-9", &pids[0].to_string()])
            .status()
            .unwrap()
            .success()
    );
    let failed = slow.await.unwrap().unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Transport, "{failed:?}");
    assert!(failed.is_retryable() && failed.server() == Some("example"));
    assert_eq!(
        metric(&multi, "mcp_client_retries_total", &[]),
        retries_before,
        "slow_count is not annotated idempotent: no retry"
    );

    // The next call starts the server again.
    let r = multi
        .call_tool(&config, "echo", json!({"text": "again"}), None)
        .await
        .unwrap();
    assert_eq!(text(&r), "again");
    let stats = multi.pool_stats();
    assert_eq!(
        (stats.connections_started, stats.restarts),
        (2, 1),
        "{stats:?}"
    );
    let now = pids_with(&marker);
    assert!(now.len() == 1 && now[0] != pids[0], "{now:?} vs {pids:?}");
    multi.close().await;
    eventually("the server exits on close", || {
        pids_with(&marker).is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_killed_mid_run_retries_open_the_breaker_and_a_restart_closes_it() {
    let port = free_port();
    let mut server = HttpServer::start(port);
    let config = ServerConfig::http("flaky", &server.url);
    let multi = MultiClient::new(MultiClientOptions {
        retry: RetryPolicy::Exponential(Backoff {
            max_retries: 2,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
            jitter: true,
        }),
        breaker: Some(BreakerOptions {
            failure_threshold: 3,
            open_for: Duration::from_millis(500),
            half_open_max_calls: 1,
            success_threshold: 2,
        }),
        ..MultiClientOptions::default()
    })
    .unwrap();
    let ok = multi
        .call_tool(&config, "echo", json!({"text": "up"}), None)
        .await
        .unwrap();
    assert_eq!(text(&ok), "up");
    assert_eq!(multi.breaker_state(&config), Some(BreakerState::Closed));

    server.kill();
    // `echo` is annotated read-only: the failed call is retried twice with backoff, and the
    // three failed attempts open the breaker.
    let failed = multi
        .call_tool(&config, "echo", json!({"text": "down"}), None)
        .await
        .unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Transport, "{failed:?}");
    assert!(failed.is_retryable());
    assert_eq!(
        metric(&multi, "mcp_client_retries_total", &[("server", "flaky")]),
        2.0
    );
    assert_eq!(multi.breaker_state(&config), Some(BreakerState::Open));
    // Open: the next call fails at once, sending nothing.
    let requests = metric(&multi, "mcp_client_requests_total", &[("server", "flaky")]);
    let refused = multi
        .call_tool(&config, "echo", json!({"text": "refused"}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, MultiError::CircuitOpen { .. })
            && refused.kind() == ErrorKind::Unavailable
            && refused.is_retryable(),
        "{refused:?}"
    );
    assert_eq!(
        metric(&multi, "mcp_client_requests_total", &[("server", "flaky")]),
        requests
    );

    // Restarted on the same port: after `open_for` the breaker half-opens, and two good probes
    // close it.
    let _server = HttpServer::start(port);
    eventually("the breaker half-opens", || {
        multi.breaker_state(&config) == Some(BreakerState::HalfOpen)
    })
    .await;
    for round in ["probe 1", "probe 2"] {
        let r = multi
            .call_tool(&config, "echo", json!({"text": round}), None)
            .await
            .unwrap();
        assert_eq!(text(&r), round);
    }
    assert_eq!(multi.breaker_state(&config), Some(BreakerState::Closed));
    for (state, times) in [("open", 1.0), ("half_open", 1.0), ("closed", 1.0)] {
        assert_eq!(
            metric(
                &multi,
                "mcp_client_breaker_transitions_total",
                &[("server", "flaky"), ("state", state)]
            ),
            times,
            "{state}"
        );
    }
    assert!(
        metric(
            &multi,
            "mcp_client_failures_total",
            &[("server", "flaky"), ("kind", "transport")]
        ) >= 3.0
    );
    assert!(
        metric(
            &multi,
            "mcp_client_request_duration_seconds_count",
            &[("server", "flaky"), ("method", "tools/call")]
        ) >= 5.0
    );
    multi.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_http_reuse_one_connection_and_list_changes_refresh_the_cache() {
    let server = HttpServer::start(free_port());
    let multi = MultiClient::new(MultiClientOptions::default()).unwrap();
    for (config, transport) in [
        (ServerConfig::websocket("ws", &server.ws), "websocket"),
        (ServerConfig::http("http", &server.url), "http"),
    ] {
        let started = metric(
            &multi,
            "mcp_client_pool_connections_started_total",
            &[("transport", transport)],
        );
        let calls = (0..200).map(|i| {
            let (multi, config) = (multi.clone(), config.clone());
            tokio::spawn(async move {
                let r = multi
                    .call_tool(&config, "add", json!({"a": i, "b": 1}), None)
                    .await
                    .unwrap();
                assert_eq!(
                    r.structured_content,
                    Some(json!({"sum": f64::from(i) + 1.0}))
                );
            })
        });
        for c in calls.collect::<Vec<_>>() {
            c.await.unwrap();
        }
        assert_eq!(
            metric(
                &multi,
                "mcp_client_pool_connections_started_total",
                &[("transport", transport)],
            ) - started,
            1.0,
            "{transport}: one connection for 200 calls"
        );

        // The tool list is cached; the server's list-changed drops it.
        list_change_refreshes_the_cache(&multi, &config, transport).await;
        // Put it back for the next transport (the routes are the server's, shared).
        multi
            .call_tool(&config, "toggle_extra", Value::Null, None)
            .await
            .unwrap();
        // Resources and prompts through the same connection.
        assert_eq!(multi.list_resources(&config).await.unwrap().len(), 2);
        let read = multi
            .read_resource(&config, "memo://notes/beta")
            .await
            .unwrap();
        assert_eq!(read.contents[0].uri(), "memo://notes/beta");
        let missing = multi
            .read_resource(&config, "memo://nope")
            .await
            .unwrap_err();
        assert_eq!(
            (missing.kind(), missing.is_retryable()),
            (ErrorKind::Resource, false)
        );
        assert_eq!(multi.list_prompts(&config).await.unwrap()[0].name, "greet");
        let prompt = multi
            .get_prompt(
                &config,
                "greet",
                BTreeMap::from([("name".into(), "Ada".into())]),
            )
            .await
            .unwrap();
        assert_eq!(
            prompt.messages[0].content.as_text(),
            Some("Please greet Ada warmly.")
        );
        // A tool failure is a typed, non-retryable error carrying the result.
        let failed = multi
            .call_tool(&config, "fail", Value::Null, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&failed, MultiError::Tool { result, .. } if result.is_error())
                && failed.kind() == ErrorKind::Tool
                && !failed.is_retryable(),
            "{failed:?}"
        );
        // The call's own timeout: a typed, retryable timeout, not retried (slow_count is not
        // annotated idempotent), and the connection keeps working.
        let retries = metric(&multi, "mcp_client_retries_total", &[]);
        let slow = multi
            .call_tool(
                &config,
                "slow_count",
                json!({"steps": 100, "delay_ms": 50}),
                Some(Duration::from_millis(100)),
            )
            .await
            .unwrap_err();
        assert!(
            slow.kind() == ErrorKind::Timeout && slow.is_retryable(),
            "{slow:?}"
        );
        assert_eq!(metric(&multi, "mcp_client_retries_total", &[]), retries);
        let health = multi.health_check(&config).await;
        assert!(
            health.healthy && health.tools_available.unwrap() >= 8,
            "{health:?}"
        );
    }
    multi.close().await;
}

/// A TCP listener that accepts connections and never answers: a hung server.
fn hung_server() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_servers_discovered_in_parallel_three_broken_give_typed_errors() {
    let servers: Vec<HttpServer> = (0..3).map(|_| HttpServer::start(free_port())).collect();
    let peers = peer_env::peers("server-everything in the parallel discovery");
    let (_hung, hung_port) = hung_server();
    let closed_port = free_port();
    let mut configs: Vec<ServerConfig> = (0..45)
        .map(|i| {
            ServerConfig::http(
                format!("http-{i}"),
                format!("{}?tenant={i}", servers[i % 3].url),
            )
        })
        .collect();
    configs.push(ServerConfig::websocket("ws", &servers[0].ws));
    configs.push(match &peers {
        Some(p) => ServerConfig::stdio(
            "everything",
            &p["NODE22"],
            [p["SERVER_EVERYTHING"].as_str(), "stdio"],
        ),
        None => ServerConfig::stdio("everything", example_bin(), Vec::<String>::new()),
    });
    configs.insert(
        7,
        ServerConfig::stdio("no-such-program", "/nonexistent/mcp-server", ["x"]),
    );
    configs.insert(
        23,
        ServerConfig::http("closed-port", format!("http://127.0.0.1:{closed_port}/mcp")),
    );
    configs.insert(
        41,
        ServerConfig::http("hung", format!("http://127.0.0.1:{hung_port}/mcp")),
    );
    assert_eq!(configs.len(), 50);

    let multi = MultiClient::new(MultiClientOptions {
        pool: PoolOptions {
            max_size: 64,
            ..PoolOptions::default()
        },
        call_timeout: Duration::from_secs(5),
        ..MultiClientOptions::default()
    })
    .unwrap();
    let options = DiscoverOptions {
        concurrency: 16,
        per_server_timeout: Duration::from_secs(15),
        force_refresh: false,
    };
    let found = tokio::time::timeout(PATIENCE, multi.discover_all(&configs, options))
        .await
        .expect("discovery finishes: every server has a timeout");
    assert_eq!(found.len(), 50);
    let mut listed = 0;
    let mut errors = BTreeMap::new();
    for (config, result) in configs.iter().zip(&found) {
        assert_eq!(config.name, result.server, "results keep the input order");
        match &result.result {
            Ok(tools) => {
                assert!(
                    tools.iter().any(|t| t.name == "echo"),
                    "{}: {tools:?}",
                    config.name
                );
                listed += 1;
            }
            Err(e) => {
                assert_eq!(e.server(), Some(config.name.as_str()));
                errors.insert(config.name.clone(), (e.kind(), e.is_retryable()));
            }
        }
    }
    assert_eq!(listed, 47, "{errors:?}");
    assert_eq!(
        errors,
        BTreeMap::from([
            ("closed-port".to_owned(), (ErrorKind::Transport, true)),
            ("hung".to_owned(), (ErrorKind::Timeout, true)),
            ("no-such-program".to_owned(), (ErrorKind::Transport, true)),
        ])
    );
    // 47 distinct servers, 47 connections: the three example processes served 45 of them.
    assert_eq!(multi.pool_stats().connections_started, 47);
    // The health check says the same, typed.
    let hung = multi.health_check(&configs[41]).await;
    assert!(!hung.healthy && hung.error.is_some(), "{hung:?}");
    let fine = multi.health_check(&configs[0]).await;
    assert!(fine.healthy, "{fine:?}");
    multi.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_under_concurrency_never_deadlocks() {
    let server = HttpServer::start(free_port());
    let marker = unique("full");
    // Six servers (three stdio processes, three HTTP endpoints) through a pool of two.
    let mut configs: Vec<ServerConfig> = (0..3)
        .map(|i| {
            let mut c = marked_stdio(&format!("stdio-{i}"), &marker);
            if let TransportConfig::Stdio { env, .. } = &mut c.transport {
                env.insert("INSTANCE".into(), i.to_string());
            }
            c
        })
        .collect();
    configs.extend(
        (0..3).map(|i| ServerConfig::http(format!("http-{i}"), format!("{}?n={i}", server.url))),
    );
    let multi = MultiClient::new(MultiClientOptions {
        pool: PoolOptions {
            max_size: 2,
            ..PoolOptions::default()
        },
        retry: RetryPolicy::None,
        ..MultiClientOptions::default()
    })
    .unwrap();
    let configs = Arc::new(configs);
    let calls = (0..60).map(|i| {
        let (multi, configs) = (multi.clone(), configs.clone());
        tokio::spawn(async move {
            let config = &configs[i % configs.len()];
            // Some calls hold their connection a while, so the pool is full of busy ones.
            let (tool, args) = if i % 4 == 0 {
                ("slow_count", json!({"steps": 2, "delay_ms": 20}))
            } else {
                ("echo", json!({"text": "x"}))
            };
            multi.call_tool(config, tool, args, None).await.map(|_| ())
        })
    });
    let handles: Vec<_> = calls.collect();
    tokio::time::timeout(PATIENCE, async {
        for h in handles {
            h.await.unwrap().expect("every call succeeds");
        }
    })
    .await
    .expect("no deadlock: every call finished");
    let stats = multi.pool_stats();
    assert!(stats.evictions > 0 && stats.waits > 0, "{stats:?}");
    assert!(stats.connections <= 2, "{stats:?}");
    eventually("evicted stdio servers exit", || {
        pids_with(&marker).len() <= 2
    })
    .await;

    // A pool of one held by a long call: a call to another server waits, then gets a typed
    // refusal, not a hang.
    let small = MultiClient::new(MultiClientOptions {
        pool: PoolOptions {
            max_size: 1,
            acquire_timeout: Duration::from_millis(300),
            ..PoolOptions::default()
        },
        retry: RetryPolicy::None,
        ..MultiClientOptions::default()
    })
    .unwrap();
    let long = {
        let (small, config) = (small.clone(), configs[3].clone());
        tokio::spawn(async move {
            small
                .call_tool(
                    &config,
                    "slow_count",
                    json!({"steps": 40, "delay_ms": 50}),
                    None,
                )
                .await
        })
    };
    eventually("the long call holds the only connection", || {
        small.pool_stats().connections == 1
    })
    .await;
    let refused = small
        .call_tool(&configs[4], "echo", json!({"text": "x"}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, MultiError::PoolExhausted { .. })
            && refused.kind() == ErrorKind::Unavailable
            && refused.is_retryable(),
        "{refused:?}"
    );
    assert_eq!(text(&long.await.unwrap().unwrap()), "counted to 40");
    small.close().await;
    multi.close().await;
    eventually("every stdio server exits on close", || {
        pids_with(&marker).is_empty()
    })
    .await;
}

/// The Python SDK server that reports the credential headers it received; killed on drop.
struct HeadersServer {
    child: Child,
    url: String,
}

impl Drop for HeadersServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_auth_block_sends_the_right_headers_to_a_real_server() {
    let Some(peers) = peer_env::peers("the auth-block test (Python SDK server)") else {
        return;
    };
    let port = free_port();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/peers/py-headers-server.py");
    let mut child = Command::new(&peers["PYTHON"])
        .arg(fixture)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start py-headers-server");
    let mut up = false;
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let server = HeadersServer {
        url: format!("http://127.0.0.1:{port}/mcp"),
        child: {
            if !up {
                let _ = child.kill();
                panic!("py-headers-server did not listen on {port}");
            }
            child
        },
    };

    // The original SDK's dicts, in a TOML file, with secrets from the environment.
    let dir = std::env::temp_dir().join(unique("auth"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("servers.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[servers]]
name = "key"
transport = "http"
url = "{url}"
headers = {{ X-Tenant = "acme" }}
auth = {{ type = "api_key", key = "${{API_KEY}}" }}

[[servers]]
name = "custom-key"
transport = "http"
url = "{url}"
auth = {{ type = "api_key", key = "${{API_KEY}}", header = "X-Custom-Key" }}

[[servers]]
name = "bearer"
transport = "http"
url = "{url}"
auth = {{ type = "bearer", token = "${{TOKEN}}" }}

[[servers]]
name = "basic"
transport = "http"
url = "{url}"
headers = {{ Authorization = "Bearer overridden" }}
auth = {{ type = "basic", username = "ada", password = "${{PASSWORD}}" }}
"#,
            url = server.url
        ),
    )
    .unwrap();
    let env = |name: &str| match name {
        "API_KEY" => Some("k-123".to_owned()),
        "TOKEN" => Some("tok-456".to_owned()),
        "PASSWORD" => Some("pw".to_owned()),
        _ => None,
    };
    let configs = ServerConfig::load_with_env(&file, &env).unwrap();
    let unset = ServerConfig::load_with_env(&file, &|n: &str| (n != "TOKEN").then(|| "v".into()))
        .unwrap_err();
    assert!(
        unset.to_string().contains("TOKEN") && unset.to_string().contains("bearer"),
        "{unset}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let multi = MultiClient::new(MultiClientOptions::default()).unwrap();
    let mut seen = BTreeMap::new();
    for config in &configs {
        let r = multi
            .call_tool(config, "headers", Value::Null, None)
            .await
            .unwrap();
        let headers: Value = serde_json::from_str(text(&r)).unwrap();
        seen.insert(config.name.clone(), headers);
    }
    let expect = |authorization: Value, api: Value, custom: Value, tenant: Value| json!({"authorization": authorization, "x-api-key": api, "x-custom-key": custom, "x-tenant": tenant});
    assert_eq!(
        seen["key"],
        expect(Value::Null, json!("k-123"), Value::Null, json!("acme"))
    );
    assert_eq!(
        seen["custom-key"],
        expect(Value::Null, Value::Null, json!("k-123"), Value::Null)
    );
    assert_eq!(
        seen["bearer"],
        expect(
            json!("Bearer tok-456"),
            Value::Null,
            Value::Null,
            Value::Null
        )
    );
    // base64("ada:pw"); the auth block wins over a configured Authorization header.
    assert_eq!(
        seen["basic"],
        expect(
            json!("Basic YWRhOnB3"),
            Value::Null,
            Value::Null,
            Value::Null
        )
    );
    // Four credentials, four identities: four connections.
    assert_eq!(multi.pool_stats().connections_started, 4);
    multi.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_through_the_multi_client_and_health_that_can_fail() {
    let Some(p) = peer_env::peers("server-everything through the multi-server client") else {
        return;
    };
    let everything = ServerConfig::from_value(json!({
        "mcpServers": {"everything": {"command": p["NODE22"], "args": [p["SERVER_EVERYTHING"], "stdio"]}}
    }))
    .unwrap()
    .remove(0);
    let multi = MultiClient::new(MultiClientOptions::default()).unwrap();
    let tools = multi.discover_tools(&everything, false).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "get-sum"), "{tools:?}");
    let r = multi
        .call_tool(&everything, "echo", json!({"message": "hi"}), None)
        .await
        .unwrap();
    assert_eq!(text(&r), "Echo: hi");
    let bad = multi
        .call_tool(&everything, "no-such-tool", json!({}), None)
        .await
        .unwrap_err();
    assert!(
        !bad.is_retryable() && matches!(bad.kind(), ErrorKind::Validation | ErrorKind::Tool),
        "{bad:?}"
    );
    let resources = multi.list_resources(&everything).await.unwrap();
    let read = multi
        .read_resource(&everything, &resources[0].uri)
        .await
        .unwrap();
    assert_eq!(read.contents[0].uri(), resources[0].uri);
    let prompts = multi.list_prompts(&everything).await.unwrap();
    let simple = prompts
        .iter()
        .find(|p| {
            p.arguments
                .as_ref()
                .is_none_or(|a| a.iter().all(|a| a.required != Some(true)))
        })
        .expect("a prompt without required arguments");
    let got = multi
        .get_prompt(&everything, &simple.name, BTreeMap::new())
        .await
        .unwrap();
    assert!(!got.messages.is_empty());
    let health = multi.health_check(&everything).await;
    assert!(health.healthy && health.transport == "stdio", "{health:?}");
    assert_eq!(multi.pool_stats().connections_started, 1);

    // Health that really reports unhealthy: a program that does not exist, and a port nobody
    // listens on.
    for broken in [
        ServerConfig::stdio("missing", "/nonexistent/server", Vec::<String>::new()),
        ServerConfig::http("nobody", format!("http://127.0.0.1:{}/mcp", free_port())),
    ] {
        let h = multi.health_check(&broken).await;
        assert!(!h.healthy && h.tools_available.is_none(), "{h:?}");
        let e = h.error.unwrap();
        assert!(
            e.kind() == ErrorKind::Transport
                && matches!(e.client_error(), Some(ClientError::Transport(_))),
            "{e:?}"
        );
    }
    multi.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_a_hung_server_fails_its_health_ping() {
    // Idle eviction: the process ends once its connection has been idle long enough.
    let marker = unique("idle");
    let config = marked_stdio("idle", &marker);
    let multi = MultiClient::new(MultiClientOptions {
        pool: PoolOptions {
            idle_timeout: Duration::from_millis(300),
            health_interval: Duration::from_secs(3600),
            ..PoolOptions::default()
        },
        ..MultiClientOptions::default()
    })
    .unwrap();
    multi
        .call_tool(&config, "echo", json!({"text": "once"}), None)
        .await
        .unwrap();
    assert_eq!(pids_with(&marker).len(), 1);
    eventually("the idle connection is closed", || {
        metric(
            &multi,
            "mcp_client_pool_evictions_total",
            &[("reason", "idle")],
        ) == 1.0
    })
    .await;
    assert_eq!(multi.pool_stats().connections, 0);
    eventually("the idle server exits", || pids_with(&marker).is_empty()).await;
    multi.close().await;

    // Health pings: a server that stops answering (SIGSTOP) is found by the ping and closed;
    // the next call starts a new one.
    let marker = unique("hung");
    let config = marked_stdio("hung", &marker);
    let multi = MultiClient::new(MultiClientOptions {
        pool: PoolOptions {
            health_interval: Duration::from_millis(100),
            health_timeout: Duration::from_millis(300),
            ..PoolOptions::default()
        },
        ..MultiClientOptions::default()
    })
    .unwrap();
    multi
        .call_tool(&config, "echo", json!({"text": "before"}), None)
        .await
        .unwrap();
    let frozen = pids_with(&marker);
    assert_eq!(frozen.len(), 1);
    assert!(
        Command::new("kill")
            .args(["-STOP", &frozen[0].to_string()])
            .status()
            .unwrap()
            .success()
    );
    eventually("the hung server fails its health ping", || {
        metric(
            &multi,
            "mcp_client_pool_evictions_total",
            &[("reason", "unhealthy")],
        ) >= 1.0
    })
    .await;
    let r = multi
        .call_tool(&config, "echo", json!({"text": "after"}), None)
        .await
        .unwrap();
    assert_eq!(text(&r), "after");
    let stats = multi.pool_stats();
    assert_eq!(
        (stats.connections_started, stats.restarts),
        (2, 1),
        "{stats:?}"
    );
    // The frozen process is shut down with the connection (SIGKILL reaches a stopped one).
    eventually("the hung server is gone", || {
        !pids_with(&marker).contains(&frozen[0])
    })
    .await;
    multi.close().await;
    eventually("every server exits", || pids_with(&marker).is_empty()).await;
}
