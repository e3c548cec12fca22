//! A server's rate-limit refusal as a client meets it: the example server behind
//! `RateLimitLayer` (one call every three seconds, so even a slow machine makes its second
//! call inside the window) over Streamable HTTP, called by the multi-server
//! client. The refusal is typed (`RateLimited`, retryable, with the server's wait), and the
//! client retries a call that is safe to repeat after that wait, or gives up at once when the
//! wait is longer than its retry policy allows.

#[path = "../../crates/mcp-cli/src/example.rs"]
mod example;

use std::time::Duration;

use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_client::config::ServerConfig;
use mcp_client::multi::prometheus::{Encoder as _, TextEncoder};
use mcp_client::multi::{Backoff, MultiClient, MultiClientOptions, RetryPolicy};
use mcp_client::{ClientError, ErrorKind};
use mcp_server::http::HttpOptions;
use mcp_server::middleware::RateLimitLayer;
use serde_json::json;
use tokio::net::TcpListener;

/// Every wait is bounded; a hang fails the test instead of the run.
const PATIENCE: Duration = Duration::from_secs(60);

/// The example server allowing one handler run every three seconds (no burst), on a loopback
/// port.
async fn limited_server() -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let quota = Quota::new(1, Duration::from_secs(3))
        .unwrap()
        .with_burst(1)
        .unwrap();
    let server = example::server("limited").layer(RateLimitLayer::new(RateLimiter::new(quota)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let served = tokio::spawn(server.serve_http(listener, HttpOptions::default()));
    (url, served)
}

fn multi(cap: Duration) -> MultiClient {
    MultiClient::new(MultiClientOptions {
        retry: RetryPolicy::Exponential(Backoff {
            max_retries: 2,
            base: Duration::from_millis(10),
            cap,
            jitter: false,
        }),
        ..MultiClientOptions::default()
    })
    .unwrap()
}

fn retries(multi: &MultiClient) -> f64 {
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&multi.registry().gather(), &mut text)
        .unwrap();
    String::from_utf8(text)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("mcp_client_retries_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn echo(multi: &MultiClient, config: &ServerConfig, text: &str) -> Result<String, String> {
    let called = tokio::time::timeout(
        PATIENCE,
        multi.call_tool(config, "echo", json!({"text": text}), None),
    )
    .await
    .expect("the call ends in time");
    match called {
        Ok(result) => Ok(result.content[0].as_text().unwrap_or_default().to_owned()),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
            assert!(e.is_retryable(), "{e}");
            let wait = e.retry_after().expect("the server's wait");
            assert!(wait >= Duration::from_secs(1), "{wait:?}");
            Err(e.to_string())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_read_only_call_is_retried_after_the_servers_wait() {
    let (url, served) = limited_server().await;
    let config = ServerConfig::http("limited", &url);
    let client = multi(Duration::from_secs(5));
    // `echo` is annotated read-only, so safe to repeat. The second call, at once, is over
    // the quota: refused, then retried after the server's wait, and answered.
    assert_eq!(echo(&client, &config, "one").await.unwrap(), "one");
    assert_eq!(echo(&client, &config, "two").await.unwrap(), "two");
    assert!(retries(&client) >= 1.0, "the second call was retried");
    client.close().await;
    served.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_longer_than_the_policy_allows_fails_at_once_with_the_wait() {
    let (url, served) = limited_server().await;
    let config = ServerConfig::http("limited", &url);
    let client = multi(Duration::from_millis(100));
    assert_eq!(echo(&client, &config, "one").await.unwrap(), "one");
    let refused = echo(&client, &config, "two").await.unwrap_err();
    assert!(refused.contains("-31429"), "{refused}");
    assert_eq!(
        retries(&client),
        0.0,
        "no retry when the wait is past the cap"
    );
    client.close().await;
    served.abort();
}

/// The single-server client sees the same typed refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_the_refusal_kind_and_wait() {
    let (url, served) = limited_server().await;
    let client = mcp_client::Client::connect_http(
        &url,
        mcp_client::ClientOptions::default(),
        mcp_transport::http_client::HttpClientOptions::default(),
    )
    .await
    .unwrap();
    client
        .call_tool("echo", json!({"text": "one"}))
        .await
        .unwrap();
    let refused: ClientError = client
        .call_tool("echo", json!({"text": "two"}))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RateLimited, "{refused:?}");
    assert_eq!(refused.code(), Some(-31429));
    assert!(refused.is_retryable());
    assert!(
        refused.retry_after() >= Some(Duration::from_secs(1)),
        "{refused:?}"
    );
    client.close().await;
    served.abort();
}
