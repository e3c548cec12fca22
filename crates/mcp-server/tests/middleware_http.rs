//! The middleware layers over Streamable HTTP on 127.0.0.1, observed from our own client
//! (`mcp-client`) and from raw HTTP requests where the status and headers matter: the rate
//! limit's 101st call, the cache (executions counted, per principal, single flight, expiry), a
//! circuit breaker that opens, fails fast and recovers, `/metrics` numbers against the calls
//! made, the documented layer order, `/health`, a tool stopped at its time limit, a
//! concurrency limit that holds and refuses after its wait, and the W3C trace context reaching
//! the handler.

mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harness::{Raw, Running, bind, sample, serve};
use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_auth::{ApiKeyAuthenticator, AuthMethod, Principal, Requirement};
use mcp_client::{Client, ClientError, ClientOptions, EraPreference, HttpClientOptions};
use mcp_server::http::{HealthCheck, HealthOptions, HttpAuth, HttpOptions, MetricsOptions};
use mcp_server::middleware::cache::Partition;
use mcp_server::middleware::permission::Undeclared;
use mcp_server::middleware::{
    AuthLayer, CacheLayer, CircuitBreakerConfig, CircuitBreakerLayer, CircuitState,
    ConcurrencyLimitLayer, Metrics, PermissionLayer, ProductionLayer, RateLimitLayer, TimeoutLayer,
    TraceContext, TraceLayer, code,
};
use mcp_server::{Args, RequestContext, Router, Server, Tool, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tower::ServiceBuilder;

const ALICE_KEY: &str = "alice-key-5f1c9e2b7a4d8c03";
const BOB_KEY: &str = "bob-key-93d2e7f1a6c4b085";
const CAROL_KEY: &str = "carol-key-1e8b4f7a2c9d6035";

/// Alice and Bob may call every tool; Carol only `echo`.
fn keys() -> Arc<ApiKeyAuthenticator> {
    let all = ["tools.*", "resources.*", "prompts.*"];
    Arc::new(
        ApiKeyAuthenticator::new()
            .key(
                ALICE_KEY,
                Principal::new("alice", AuthMethod::ApiKey).with_permissions(all),
            )
            .and_then(|k| {
                k.key(
                    BOB_KEY,
                    Principal::new("bob", AuthMethod::ApiKey).with_permissions(all),
                )
            })
            .and_then(|k| {
                k.key(
                    CAROL_KEY,
                    Principal::new("carol", AuthMethod::ApiKey)
                        .with_permissions(["tools.call.echo"]),
                )
            })
            .expect("keys"),
    )
}

fn options_with_keys() -> HttpOptions {
    HttpOptions {
        auth: Some(HttpAuth::new(keys())),
        ..HttpOptions::default()
    }
}

/// How often each tool's handler ran.
#[derive(Default)]
struct Runs {
    echo: AtomicUsize,
    lookup: AtomicUsize,
    flaky: AtomicUsize,
    admin: AtomicUsize,
    failing: AtomicBool,
}

#[derive(Deserialize, JsonSchema)]
struct Text {
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct Query {
    q: String,
    #[serde(default)]
    n: u32,
    /// Milliseconds to take, so that concurrent identical calls overlap.
    #[serde(default)]
    delay_ms: u64,
}

fn router(runs: &Arc<Runs>, cache_ttl: Duration) -> Router {
    let (echo, lookup, flaky, admin) = (runs.clone(), runs.clone(), runs.clone(), runs.clone());
    Router::new()
        .tool(Tool::new("echo").handler(move |Args(a): Args<Text>| {
            echo.echo.fetch_add(1, Ordering::SeqCst);
            async move { a.text }
        }))
        .tool(Tool::new("lookup").cache_ttl(cache_ttl).handler(
            move |Args(a): Args<Query>, who: Option<Arc<Principal>>| {
                let run = lookup.lookup.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    if a.delay_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(a.delay_ms)).await;
                    }
                    let who = who.map(|p| p.id.clone()).unwrap_or_default();
                    format!("{who} {} {} run {run}", a.q, a.n)
                }
            },
        ))
        .tool(Tool::new("flaky").handler(move || {
            flaky.flaky.fetch_add(1, Ordering::SeqCst);
            let failing = flaky.failing.load(Ordering::SeqCst);
            async move {
                if failing {
                    Err(ToolError::failed("the backend is down"))
                } else {
                    Ok("fine".to_owned())
                }
            }
        }))
        .tool(
            Tool::new("admin")
                .handler(move || {
                    admin.admin.fetch_add(1, Ordering::SeqCst);
                    async { "done" }
                })
                .requires(Requirement::permission("admin")),
        )
}

async fn client(running: &Running, key: &str) -> Client {
    Client::connect_http(
        &running.url,
        ClientOptions {
            era: EraPreference::Modern,
            // The server's cache is under test, not the client's.
            cache_capacity: 0,
            ..ClientOptions::default()
        },
        HttpClientOptions {
            headers: vec![("x-api-key".into(), key.into())],
            ..HttpClientOptions::default()
        },
    )
    .await
    .expect("connect")
}

fn server_error(
    result: Result<mcp_protocol::types::CallToolResult, ClientError>,
) -> mcp_protocol::ErrorObject {
    match result {
        Err(ClientError::Server(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

fn text(result: &mcp_protocol::types::CallToolResult) -> String {
    serde_json::to_value(result).unwrap()["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_101st_call_under_a_100_per_minute_limit_is_refused() {
    let runs = Arc::new(Runs::default());
    let server = Server::new("limited", "1.0.0", router(&runs, Duration::ZERO)).layer(
        ServiceBuilder::new()
            .layer(AuthLayer::required())
            .layer(RateLimitLayer::new(RateLimiter::new(
                Quota::per_minute(100).unwrap(),
            ))),
    );
    let running = serve(bind().await, server, options_with_keys());
    let alice = client(&running, ALICE_KEY).await;
    let started = Instant::now();
    for i in 0..100 {
        let result = alice
            .call_tool("echo", json!({"text": format!("call {i}")}))
            .await;
        assert!(result.is_ok(), "call {} was refused: {result:?}", i + 1);
    }
    // The limiter refills one call every 600 ms (GCRA): a slow machine may earn a few more
    // before the bucket is empty, never fewer than 100.
    let earned = (started.elapsed().as_millis() / 600) as usize + 1;
    let mut extra = 0;
    let refusal = loop {
        match alice.call_tool("echo", json!({"text": "one more"})).await {
            Ok(_) => {
                extra += 1;
                assert!(extra <= earned, "{extra} calls past the 100th went through");
            }
            Err(e) => break server_error(Err(e)),
        }
    };
    assert_eq!(refusal.code, code::RATE_LIMITED);
    assert_eq!(refusal.data.as_ref().unwrap()["reason"], "rate_limited");
    assert!(
        refusal.data.as_ref().unwrap()["retryAfterSecs"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        runs.echo.load(Ordering::SeqCst),
        100 + extra,
        "refused calls never ran"
    );

    // Over raw HTTP: 429 with Retry-After, and the handler does not run.
    let raw = Raw::new(running.addr);
    let answer = raw
        .call("echo", json!({"text": "raw"}), &[("x-api-key", ALICE_KEY)])
        .await;
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert!(
        answer
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(answer.code(), Some(code::RATE_LIMITED));
    assert_eq!(runs.echo.load(Ordering::SeqCst), 100 + extra);

    // Bob has a bucket of his own.
    let answer = raw
        .call("echo", json!({"text": "bob"}), &[("x-api-key", BOB_KEY)])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    alice.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_tool_runs_once_per_principal_within_its_ttl_and_again_after() {
    let ttl = Duration::from_secs(3);
    let runs = Arc::new(Runs::default());
    let cache = CacheLayer::new(Duration::ZERO);
    let server = Server::new("cached", "1.0.0", router(&runs, ttl)).layer(
        ServiceBuilder::new()
            .layer(AuthLayer::required())
            .layer(PermissionLayer::new())
            .layer(cache.clone()),
    );
    let running = serve(bind().await, server, options_with_keys());
    let alice = client(&running, ALICE_KEY).await;
    let bob = client(&running, BOB_KEY).await;

    let first_at = Instant::now();
    let first = alice
        .call_tool("lookup", json!({"q": "x"}))
        .await
        .expect("call");
    assert_eq!(text(&first), "alice x 0 run 1");
    for _ in 0..4 {
        let again = alice
            .call_tool("lookup", json!({"q": "x"}))
            .await
            .expect("call");
        assert_eq!(text(&again), "alice x 0 run 1", "served from the cache");
    }
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 1);

    // Bob asks the same: his own entry, never Alice's result.
    let bob_first = bob
        .call_tool("lookup", json!({"q": "x"}))
        .await
        .expect("call");
    assert_eq!(text(&bob_first), "bob x 0 run 2");
    let bob_again = bob
        .call_tool("lookup", json!({"q": "x"}))
        .await
        .expect("call");
    assert_eq!(text(&bob_again), "bob x 0 run 2");
    let alice_again = alice
        .call_tool("lookup", json!({"q": "x"}))
        .await
        .expect("call");
    assert_eq!(text(&alice_again), "alice x 0 run 1");
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 2);

    // Other arguments are another entry; the same arguments in another order are not.
    let raw = Raw::new(running.addr);
    let a = raw
        .call(
            "lookup",
            json!({"q": "y", "n": 7}),
            &[("x-api-key", ALICE_KEY)],
        )
        .await;
    let b = raw
        .call(
            "lookup",
            json!({"n": 7, "q": "y"}),
            &[("x-api-key", ALICE_KEY)],
        )
        .await;
    assert_eq!(a.tool_text(), "alice y 7 run 3");
    assert_eq!(b.tool_text(), "alice y 7 run 3");
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 3);
    assert!(
        first_at.elapsed() < ttl,
        "the machine is too slow for this TTL: the checks above assumed no entry expired"
    );

    // Concurrent identical calls run once (single flight).
    let calls = (0..8).map(|_| {
        let raw = raw.clone();
        tokio::spawn(async move {
            raw.call(
                "lookup",
                json!({"q": "burst", "delay_ms": 300}),
                &[("x-api-key", ALICE_KEY)],
            )
            .await
        })
    });
    let mut texts = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        texts.push(call.await.unwrap().tool_text().to_owned());
    }
    assert!(
        texts.iter().all(|t| t == "alice burst 0 run 4"),
        "{texts:?}"
    );
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 4);

    // After the TTL the tool runs again.
    tokio::time::sleep(ttl.saturating_sub(first_at.elapsed()) + Duration::from_millis(300)).await;
    let later = alice
        .call_tool("lookup", json!({"q": "x"}))
        .await
        .expect("call");
    assert_eq!(text(&later), "alice x 0 run 5");
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 5);
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tool_opens_its_breaker_fails_fast_and_recovers() {
    let open_for = Duration::from_millis(800);
    let runs = Arc::new(Runs::default());
    let breaker = CircuitBreakerLayer::new(CircuitBreakerConfig {
        failure_threshold: 3,
        window: Duration::from_secs(60),
        open_for,
        half_open_probes: 1,
        success_threshold: 2,
    });
    // On the one tool: the layer wraps `flaky` only.
    let flaky_runs = runs.clone();
    let flaky = Tool::new("flaky")
        .handler(move || {
            flaky_runs.flaky.fetch_add(1, Ordering::SeqCst);
            let failing = flaky_runs.failing.load(Ordering::SeqCst);
            async move {
                if failing {
                    Err(ToolError::failed("the backend is down"))
                } else {
                    Ok("fine".to_owned())
                }
            }
        })
        .layer(breaker.clone());
    let server = Server::new(
        "breaker",
        "1.0.0",
        router(&runs, Duration::ZERO).tool(flaky),
    );
    let running = serve(bind().await, server, HttpOptions::default());
    let client = anonymous(&running).await;

    runs.failing.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let result = client
            .call_tool("flaky", json!({}))
            .await
            .expect("a tool result");
        assert_eq!(result.is_error, Some(true));
    }
    assert_eq!(breaker.state("flaky"), Some(CircuitState::Open));
    assert_eq!(runs.flaky.load(Ordering::SeqCst), 3);

    // Open: refused at once, the tool does not run; other tools are not affected.
    let refusal = server_error(client.call_tool("flaky", json!({})).await);
    assert_eq!(refusal.code, code::UNAVAILABLE);
    assert_eq!(refusal.data.as_ref().unwrap()["reason"], "circuit_open");
    assert_eq!(refusal.data.as_ref().unwrap()["tool"], "flaky");
    let raw = Raw::new(running.addr);
    let answer = raw.call("flaky", json!({}), &[]).await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert!(answer.header("retry-after").is_some());
    assert_eq!(runs.flaky.load(Ordering::SeqCst), 3);
    client
        .call_tool("echo", json!({"text": "still here"}))
        .await
        .expect("echo is not behind flaky's breaker");

    // After `open_for` a probe goes through; two successes close the breaker.
    runs.failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(open_for + Duration::from_millis(200)).await;
    let probe = client.call_tool("flaky", json!({})).await.expect("probe");
    assert_eq!(text(&probe), "fine");
    assert_eq!(breaker.state("flaky"), Some(CircuitState::HalfOpen));
    client
        .call_tool("flaky", json!({}))
        .await
        .expect("second probe");
    assert_eq!(breaker.state("flaky"), Some(CircuitState::Closed));
    assert_eq!(runs.flaky.load(Ordering::SeqCst), 5);

    // A failing probe opens it again.
    runs.failing.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        client
            .call_tool("flaky", json!({}))
            .await
            .expect("a tool result");
    }
    assert_eq!(breaker.state("flaky"), Some(CircuitState::Open));
    tokio::time::sleep(open_for + Duration::from_millis(200)).await;
    let probe = client.call_tool("flaky", json!({})).await.expect("probe");
    assert_eq!(probe.is_error, Some(true));
    assert_eq!(breaker.state("flaky"), Some(CircuitState::Open));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scraped_over_http_match_the_calls_made() {
    let runs = Arc::new(Runs::default());
    let production = ProductionLayer::new()
        .require_auth()
        .cache_ttl(Duration::from_secs(60))
        .without_circuit_breaker();
    let metrics: Metrics = production.metrics().cloned().unwrap();
    let server =
        Server::new("measured", "1.0.0", router(&runs, Duration::from_secs(60))).layer(production);
    let options = HttpOptions {
        metrics: Some(MetricsOptions::new(metrics).require_auth()),
        ..options_with_keys()
    };
    let running = serve(bind().await, server, options);
    let alice = client(&running, ALICE_KEY).await;
    for i in 0..5 {
        alice
            .call_tool("echo", json!({"text": format!("{i}")}))
            .await
            .expect("echo");
    }
    runs.failing.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        let r = alice
            .call_tool("flaky", json!({}))
            .await
            .expect("a tool result");
        assert_eq!(r.is_error, Some(true));
    }
    for _ in 0..3 {
        alice
            .call_tool("lookup", json!({"q": "m"}))
            .await
            .expect("lookup");
    }
    let forbidden = server_error(alice.call_tool("admin", json!({})).await);
    assert_eq!(forbidden.code, code::FORBIDDEN);
    let raw = Raw::new(running.addr);
    // Refused by the endpoint's authenticator: it never reaches the layers.
    let unauthenticated = raw.call("echo", json!({"text": "who?"}), &[]).await;
    assert_eq!(unauthenticated.status, 401);
    // A legacy session, to be counted as open.
    let init = raw
        .send(
            hyper::Method::POST,
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("x-api-key", ALICE_KEY),
            ],
            Some(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"}}}),
            ),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.text);

    assert_eq!(
        raw.get("/metrics", &[]).await.status,
        401,
        "metrics sit behind auth"
    );
    let page = raw.get("/metrics", &[("x-api-key", BOB_KEY)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = page.text;
    let total = |labels: &str| sample(&text, &format!("mcp_requests_total{{{labels}}}"));
    assert_eq!(
        total(r#"method="tools/call",outcome="success",tool="echo""#),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        total(r#"method="tools/call",outcome="tool_error",tool="flaky""#),
        Some(2.0)
    );
    assert_eq!(
        total(r#"method="tools/call",outcome="success",tool="lookup""#),
        Some(3.0)
    );
    assert_eq!(
        total(r#"method="tools/call",outcome="refused",tool="admin""#),
        Some(1.0)
    );
    assert_eq!(
        total(r#"method="server/discover",outcome="success",tool="""#),
        Some(1.0)
    );
    assert_eq!(
        total(r#"method="initialize",outcome="success",tool="""#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"mcp_refusals_total{reason="forbidden"}"#),
        Some(1.0)
    );
    // The endpoint's authenticator refused two: the call without a key, and /metrics.
    assert_eq!(
        sample(&text, r#"mcp_refusals_total{reason="unauthenticated"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"mcp_cache_requests_total{result="miss",tool="lookup"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"mcp_cache_requests_total{result="hit",tool="lookup"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"mcp_request_duration_seconds_count{method="tools/call",tool="echo"}"#
        ),
        Some(5.0)
    );
    assert_eq!(
        sample(&text, r#"mcp_requests_in_flight{method="tools/call"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, r#"mcp_sessions{transport="streamable_http"}"#),
        Some(1.0)
    );
    assert_eq!(runs.echo.load(Ordering::SeqCst), 5);
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 1);
    assert_eq!(runs.admin.load(Ordering::SeqCst), 0);
    alice.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_comes_before_the_cache_and_the_cache_before_the_handler() {
    let runs = Arc::new(Runs::default());
    // One entry for every caller: were the cache before authentication or permissions, the
    // callers those refuse would get Alice's result.
    let cache = CacheLayer::new(Duration::ZERO).partition(Partition::Shared);
    // The production stack's order: auth, rate limit, permissions, cache, ..., handler.
    let production = ProductionLayer::new()
        .auth(AuthLayer::required())
        .permissions(PermissionLayer::new().undeclared(Undeclared::Convention))
        .cache(cache);
    let server =
        Server::new("ordered", "1.0.0", router(&runs, Duration::from_secs(60))).layer(production);
    let options = HttpOptions {
        // Without credentials a request reaches the layers, so the AuthLayer's place shows.
        auth: Some(HttpAuth::new(keys()).allow_anonymous()),
        ..HttpOptions::default()
    };
    let running = serve(bind().await, server, options);
    let raw = Raw::new(running.addr);

    // Alice: the handler runs once, the second call is answered by the cache.
    for _ in 0..2 {
        let answer = raw
            .call("lookup", json!({"q": "o"}), &[("x-api-key", ALICE_KEY)])
            .await;
        assert_eq!(answer.tool_text(), "alice o 0 run 1");
    }
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 1);

    // No principal: the AuthLayer refuses before the cache could answer.
    let anonymous = raw.call("lookup", json!({"q": "o"}), &[]).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_eq!(anonymous.code(), Some(code::UNAUTHENTICATED));
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(!anonymous.text.contains("run 1"));

    // Carol may not call `lookup`: the PermissionLayer refuses before the cache.
    let carol = raw
        .call("lookup", json!({"q": "o"}), &[("x-api-key", CAROL_KEY)])
        .await;
    assert_eq!(carol.status, 403, "{}", carol.text);
    assert_eq!(
        carol.body["error"]["data"]["required"][0],
        "tools.call.lookup"
    );
    assert!(!carol.text.contains("run 1"));

    // Bob may: the cache answers him (shared entry) and the handler does not run.
    let bob = raw
        .call("lookup", json!({"q": "o"}), &[("x-api-key", BOB_KEY)])
        .await;
    assert_eq!(bob.tool_text(), "alice o 0 run 1");
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 1);

    // Lists follow the same permissions: Carol sees only what she may call.
    let listed = raw
        .request("tools/list", json!({}), &[("x-api-key", CAROL_KEY)])
        .await;
    let names: Vec<&str> = listed.body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["echo"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_liveness_readiness_and_tripped_breakers() {
    let runs = Arc::new(Runs::default());
    let breaker = CircuitBreakerLayer::new(CircuitBreakerConfig {
        failure_threshold: 1,
        open_for: Duration::from_secs(60),
        ..CircuitBreakerConfig::default()
    });
    let database_up = Arc::new(AtomicBool::new(true));
    let up = database_up.clone();
    let server =
        Server::new("healthy", "1.0.0", router(&runs, Duration::ZERO)).layer(breaker.clone());
    let health = HealthOptions::default()
        .circuit_breakers(breaker)
        .check(HealthCheck::new("database", move || {
            let up = up.load(Ordering::SeqCst);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("connection refused".to_owned())
                }
            }
        }));
    let running = serve(
        bind().await,
        server,
        HttpOptions {
            health: Some(health),
            ..HttpOptions::default()
        },
    );
    let raw = Raw::new(running.addr);
    let live = raw.get("/health", &[]).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body["status"], "ok");
    let ready = raw.get("/health/ready", &[]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready", "{}", ready.text);
    assert_eq!(ready.body["components"]["server"]["tools"], 4);
    assert_eq!(ready.body["components"]["database"]["status"], "up");

    runs.failing.store(true, Ordering::SeqCst);
    raw.call("flaky", json!({}), &[]).await;
    let degraded = raw.get("/health/ready", &[]).await;
    assert_eq!(degraded.status, 200);
    assert_eq!(degraded.body["status"], "degraded");
    assert_eq!(
        degraded.body["components"]["circuitBreakers"]["open"][0],
        "flaky"
    );

    database_up.store(false, Ordering::SeqCst);
    let down = raw.get("/health/ready", &[]).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.body["status"], "not_ready");
    assert_eq!(
        down.body["components"]["database"]["error"],
        "connection refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_can_sit_behind_auth() {
    let runs = Arc::new(Runs::default());
    let metrics = Metrics::new();
    let server = Server::new("private", "1.0.0", router(&runs, Duration::ZERO));
    let options = HttpOptions {
        health: Some(HealthOptions::default().require_auth()),
        metrics: Some(MetricsOptions::new(metrics).require_auth()),
        ..options_with_keys()
    };
    let running = serve(bind().await, server, options);
    let raw = Raw::new(running.addr);
    for path in ["/health", "/health/ready", "/metrics"] {
        let refused = raw.get(path, &[]).await;
        assert_eq!(refused.status, 401, "{path}");
        assert!(refused.header("www-authenticate").is_some(), "{path}");
        let wrong = raw
            .get(path, &[("x-api-key", "not-a-key-of-this-server")])
            .await;
        assert_eq!(wrong.status, 401, "{path}");
        assert_eq!(
            raw.get(path, &[("x-api-key", ALICE_KEY)]).await.status,
            200,
            "{path}"
        );
    }
}

/// A client of the 2026-07-28 era without credentials.
async fn anonymous(running: &Running) -> Client {
    Client::connect_http(
        &running.url,
        ClientOptions {
            era: EraPreference::Modern,
            ..ClientOptions::default()
        },
        HttpClientOptions::default(),
    )
    .await
    .expect("connect")
}

/// Waits (bounded) until `check` holds.
async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + harness::WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sets its flag when dropped: a handler's future was dropped before it finished.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_over_its_time_limit_is_stopped_and_refused_with_31504_and_504() {
    let finished = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let (done, gone) = (finished.clone(), dropped.clone());
    let router = Router::new()
        .tool(Tool::new("echo").handler(|Args(a): Args<Text>| async move { a.text }))
        .tool(Tool::new("slow").handler(move || {
            let (done, guard) = (done.clone(), DropFlag(gone.clone()));
            async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                done.fetch_add(1, Ordering::SeqCst);
                "late"
            }
        }));
    let limits =
        TimeoutLayer::new(Duration::from_secs(20)).tool("slow", Duration::from_millis(100));
    let server = Server::new("timed", "1.0.0", router).layer(limits);
    let running = serve(bind().await, server, HttpOptions::default());

    // Our client: the documented code, and the handler's work is dropped, not left running.
    let client = anonymous(&running).await;
    let refused = server_error(client.call_tool("slow", json!({})).await);
    assert_eq!(refused.code, code::TIMED_OUT, "{refused:?}");
    until("the slow handler to be dropped", || {
        dropped.load(Ordering::SeqCst)
    })
    .await;
    // A tool under the default limit is not affected.
    let echoed = client
        .call_tool("echo", json!({"text": "quick"}))
        .await
        .expect("echo");
    assert_eq!(text(&echoed), "quick");

    // Raw HTTP: 504 with the same code.
    let raw = Raw::new(running.addr).call("slow", json!({}), &[]).await;
    assert_eq!(raw.status, 504, "{}", raw.text);
    assert_eq!(raw.code(), Some(code::TIMED_OUT));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "no slow call ever finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_limit_bounds_running_calls_and_refuses_after_its_wait() {
    let running_now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::watch::channel(false);
    let (now, peak) = (running_now.clone(), most.clone());
    let router = Router::new().tool(Tool::new("busy").handler(move || {
        let (now, peak, mut gate) = (now.clone(), peak.clone(), gate.clone());
        async move {
            let here = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(here, Ordering::SeqCst);
            let _ = gate.wait_for(|open| *open).await;
            now.fetch_sub(1, Ordering::SeqCst);
            "done"
        }
    }));
    let limit = ConcurrencyLimitLayer::new(2).max_wait(Duration::from_millis(200));
    let server = Server::new("bounded", "1.0.0", router).layer(limit);
    let running = serve(bind().await, server, HttpOptions::default());
    let client = anonymous(&running).await;

    // Two calls take both places and hold them.
    let held: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call_tool("busy", json!({})).await })
        })
        .collect();
    until("two calls running", || {
        running_now.load(Ordering::SeqCst) == 2
    })
    .await;

    // A third waits out `max_wait` and is refused: -31503 from our client, 503 with
    // Retry-After over raw HTTP; neither ran.
    let refused = server_error(client.call_tool("busy", json!({})).await);
    assert_eq!(refused.code, code::UNAVAILABLE, "{refused:?}");
    let raw = Raw::new(running.addr).call("busy", json!({}), &[]).await;
    assert_eq!(raw.status, 503, "{}", raw.text);
    assert_eq!(raw.code(), Some(code::UNAVAILABLE));
    assert!(raw.header("retry-after").is_some());
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "never more than two at once"
    );

    // Released, the two finish, and a place is free again.
    release.send_replace(true);
    for call in held {
        let result = call.await.expect("joined").expect("the held call");
        assert_eq!(text(&result), "done");
    }
    let after = client
        .call_tool("busy", json!({}))
        .await
        .expect("a free place");
    assert_eq!(text(&after), "done");
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_context_from_meta_reaches_the_handler() {
    let router = Router::new().tool(
        Tool::new("trace").handler(|ctx: RequestContext| async move {
            let Some(t) = ctx.extensions().get::<TraceContext>() else {
                return "none".to_owned();
            };
            format!(
                "{} {} {} {}",
                t.trace_id(),
                t.parent_id().unwrap_or("-"),
                t.span_id(),
                t.traceparent()
            )
        }),
    );
    let server = Server::new("traced", "1.0.0", router).layer(TraceLayer::new());
    let running = serve(bind().await, server, HttpOptions::default());
    let raw = Raw::new(running.addr);
    let call = |traceparent: Option<&str>| {
        let mut body =
            harness::modern_request(1, "tools/call", json!({"name": "trace", "arguments": {}}));
        if let Some(t) = traceparent {
            body["params"]["_meta"]["traceparent"] = json!(t);
        }
        let raw = &raw;
        async move {
            let headers = [
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("mcp-protocol-version", harness::MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "trace"),
            ];
            let answer = raw
                .send(http::Method::POST, "/mcp", &headers, Some(&body))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer
                .tool_text()
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());

    // Continued: the caller's trace id, its span as the parent, a span of our own.
    let seen = call(Some(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ))
    .await;
    assert_eq!(seen[0], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(seen[1], "00f067aa0ba902b7");
    assert!(hex(&seen[2], 16) && seen[2] != seen[1], "{seen:?}");
    assert_eq!(
        seen[3],
        format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", seen[2]),
        "what the handler passes on"
    );

    // Without one (or with an invalid one), each request starts a trace of its own.
    let first = call(None).await;
    let second = call(Some(
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    ))
    .await;
    for started in [&first, &second] {
        assert!(hex(&started[0], 32), "{started:?}");
        assert_eq!(started[1], "-");
    }
    assert_ne!(first[0], second[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_stack_runs_each_of_its_layers_as_the_layer_alone_does() {
    let runs = Arc::new(Runs::default());
    let (release, gate) = tokio::sync::watch::channel(false);
    let busy_now = Arc::new(AtomicUsize::new(0));
    let busy_peak = Arc::new(AtomicUsize::new(0));
    let slow_dropped = Arc::new(AtomicBool::new(false));
    let (now, peak, gone) = (busy_now.clone(), busy_peak.clone(), slow_dropped.clone());
    let router = router(&runs, Duration::from_secs(60))
        .tool(Tool::new("busy").handler(move || {
            let (now, peak, mut gate) = (now.clone(), peak.clone(), gate.clone());
            async move {
                let here = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(here, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "done"
            }
        }))
        .tool(Tool::new("slow").handler(move || {
            let guard = DropFlag(gone.clone());
            async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }
        }));
    let breaker = CircuitBreakerConfig {
        failure_threshold: 2,
        window: Duration::from_secs(60),
        open_for: Duration::from_secs(60),
        half_open_probes: 1,
        success_threshold: 1,
    };
    let production = ProductionLayer::new()
        .require_auth()
        .rate_limit(RateLimiter::new(Quota::per_minute(40).unwrap()))
        .circuit_breaker(breaker)
        .timeout(Duration::from_millis(400))
        .max_concurrency(1);
    let metrics = production.metrics().cloned().unwrap();
    let breakers = production.circuit_breakers().cloned().unwrap();
    let server = Server::new("production", "1.0.0", router).layer(production);
    let running = serve(bind().await, server, options_with_keys());
    let alice = client(&running, ALICE_KEY).await;
    let raw = Raw::new(running.addr);

    // Cache: a read-only call runs once within its TTL.
    for _ in 0..3 {
        let r = alice
            .call_tool("lookup", json!({"q": "p"}))
            .await
            .expect("lookup");
        assert_eq!(text(&r), "alice p 0 run 1");
    }
    assert_eq!(runs.lookup.load(Ordering::SeqCst), 1);

    // Permissions: Carol may not call `lookup`, not even from the cache.
    let carol = raw
        .call("lookup", json!({"q": "p"}), &[("x-api-key", CAROL_KEY)])
        .await;
    assert_eq!(carol.status, 403, "{}", carol.text);
    assert_eq!(carol.code(), Some(code::FORBIDDEN));

    // Breaker: two failures open it; the third call fails fast without running.
    runs.failing.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        let r = alice.call_tool("flaky", json!({})).await.expect("result");
        assert_eq!(r.is_error, Some(true));
    }
    let open = server_error(alice.call_tool("flaky", json!({})).await);
    assert_eq!(open.code, code::UNAVAILABLE);
    assert_eq!(open.data.as_ref().unwrap()["reason"], "circuit_open");
    assert_eq!(runs.flaky.load(Ordering::SeqCst), 2);
    assert_eq!(breakers.state("flaky"), Some(CircuitState::Open));

    // Timeout: stopped at its limit with -31504, its work dropped; the breaker counts it.
    let timed_out = server_error(alice.call_tool("slow", json!({})).await);
    assert_eq!(timed_out.code, code::TIMED_OUT, "{timed_out:?}");
    until("the slow handler to be dropped", || {
        slow_dropped.load(Ordering::SeqCst)
    })
    .await;
    assert_eq!(breakers.state("slow"), Some(CircuitState::Closed));

    // Concurrency limit of one: a second call waits for the place instead of running beside.
    let first = {
        let alice = alice.clone();
        tokio::spawn(async move { alice.call_tool("busy", json!({})).await })
    };
    until("the first busy call running", || {
        busy_now.load(Ordering::SeqCst) == 1
    })
    .await;
    let second = {
        let alice = alice.clone();
        tokio::spawn(async move { alice.call_tool("busy", json!({})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "the second call waits for the place");
    release.send_replace(true);
    for call in [first, second] {
        let r = call.await.expect("joined").expect("busy");
        assert_eq!(text(&r), "done");
    }
    assert_eq!(busy_peak.load(Ordering::SeqCst), 1, "never two at once");

    // Rate limit: Bob's own bucket of 40 a minute runs out; the refused calls never run.
    let before = runs.echo.load(Ordering::SeqCst);
    let started = Instant::now();
    let mut passed = 0;
    let refusal = loop {
        let answer = raw
            .call("echo", json!({"text": "b"}), &[("x-api-key", BOB_KEY)])
            .await;
        if answer.status != 200 {
            break answer;
        }
        passed += 1;
        // GCRA refills one call every 1.5 s: a slow machine may earn a few more.
        let earned = (started.elapsed().as_millis() / 1500) as usize + 1;
        assert!(passed <= 40 + earned, "{passed} calls went through");
    };
    assert!(passed >= 40, "only {passed} calls went through");
    assert_eq!(refusal.status, 429, "{}", refusal.text);
    assert_eq!(refusal.code(), Some(code::RATE_LIMITED));
    assert_eq!(runs.echo.load(Ordering::SeqCst), before + passed);

    // Metrics: every refusal by its reason, and the cache's hits.
    let text = metrics.render();
    let refusals =
        |reason: &str| sample(&text, &format!("mcp_refusals_total{{reason=\"{reason}\"}}"));
    assert_eq!(refusals("forbidden"), Some(1.0), "{text}");
    assert_eq!(refusals("circuit_open"), Some(1.0));
    assert_eq!(refusals("timed_out"), Some(1.0));
    assert_eq!(refusals("rate_limited"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            r#"mcp_cache_requests_total{result="hit",tool="lookup"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"mcp_requests_in_flight{method="tools/call"}"#),
        Some(0.0)
    );
    alice.close().await;
}
