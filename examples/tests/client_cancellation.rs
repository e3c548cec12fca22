//! A call the client gives up on (its timeout, or the caller dropping it) is cancelled at the
//! server over every network transport and in both eras: the handler stops (its token fires or
//! its future is dropped) and work it spawned with a clone of its token is told too, so nothing
//! runs on unseen.

use std::sync::Arc;
use std::time::Duration;

use mcp_client::{CallOptions, Client, ClientError, ClientOptions, EraPreference};
use mcp_server::http::{HttpOptions, WsOptions};
use mcp_server::{CancellationToken, Router, Server, Tool, ToolError};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// Every wait is bounded; a hang fails the test instead of the run.
const PATIENCE: Duration = Duration::from_secs(5);

/// Says when it is dropped: a handler stopped by dropping its future (rather than by its
/// token) is cancelled too.
struct NotifyOnDrop(Arc<Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// A server whose `wait` tool spawns work holding its token, runs until cancelled, and says when
/// it stopped (`cancelled`) and when the spawned work was told (`told`).
async fn serve(cancelled: Arc<Notify>, told: Arc<Notify>) -> std::net::SocketAddr {
    let router = Router::new().tool(
        Tool::new("wait")
            .description("Waits until cancelled")
            .handler(move |cancel: CancellationToken| {
                let stopped = NotifyOnDrop(cancelled.clone());
                let (token, told) = (cancel.clone(), told.clone());
                tokio::spawn(async move {
                    token.cancelled().await;
                    told.notify_one();
                });
                async move {
                    let _stopped = stopped;
                    tokio::select! {
                        () = cancel.cancelled() => Err::<String, _>(ToolError::Cancelled),
                        () = tokio::time::sleep(PATIENCE * 3) => Ok("never cancelled".to_owned()),
                    }
                }
            }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = HttpOptions {
        websocket: Some(WsOptions::default()),
        ..HttpOptions::default()
    };
    tokio::spawn(Server::new("cancel", "1.0.0", router).serve_http(listener, options));
    addr
}

async fn connect(url: &str, era: EraPreference) -> Client {
    let options = ClientOptions {
        era,
        ..ClientOptions::default()
    };
    let connected = if url.starts_with("ws://") {
        Client::connect_ws(url, options, Default::default()).await
    } else if url.ends_with("/sse") {
        Client::connect_sse(url, options, Default::default()).await
    } else {
        Client::connect_http(url, options, Default::default()).await
    };
    connected.unwrap_or_else(|e| panic!("{url}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_times_out_is_cancelled_at_the_server_on_every_transport() {
    let (cancelled, told) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let addr = serve(cancelled.clone(), told.clone()).await;
    let cases = [
        (format!("http://{addr}/mcp"), EraPreference::Auto),
        (format!("http://{addr}/mcp"), EraPreference::Legacy),
        (format!("ws://{addr}/ws"), EraPreference::Auto),
        (format!("ws://{addr}/ws"), EraPreference::Legacy),
        (format!("http://{addr}/sse"), EraPreference::Legacy),
    ];
    let mut failed = Vec::new();
    for (url, era) in cases {
        let what = format!("{url} {era:?}");
        let client = connect(&url, era).await;
        let timed_out = client
            .call_tool_with(
                "wait",
                json!({}),
                &CallOptions {
                    timeout: Some(Duration::from_millis(300)),
                    ..CallOptions::default()
                },
            )
            .await
            .expect_err(&what);
        assert!(
            matches!(timed_out, ClientError::Timeout { .. }),
            "{what}: {timed_out:?}"
        );
        if tokio::time::timeout(PATIENCE, cancelled.notified())
            .await
            .is_err()
        {
            failed.push(what);
        }
        client.close().await;
    }
    assert!(
        failed.is_empty(),
        "never cancelled at the server: {failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_call_is_cancelled_at_the_server_on_every_transport() {
    let (cancelled, told) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let addr = serve(cancelled.clone(), told.clone()).await;
    let cases = [
        (format!("http://{addr}/mcp"), EraPreference::Auto),
        (format!("http://{addr}/mcp"), EraPreference::Legacy),
        (format!("ws://{addr}/ws"), EraPreference::Auto),
        (format!("ws://{addr}/ws"), EraPreference::Legacy),
        (format!("http://{addr}/sse"), EraPreference::Legacy),
    ];
    let mut failed = Vec::new();
    for (url, era) in cases {
        let what = format!("{url} {era:?}");
        let client = connect(&url, era).await;
        let dropped = tokio::time::timeout(
            Duration::from_millis(300),
            client.call_tool("wait", json!({})),
        )
        .await;
        assert!(dropped.is_err(), "{what}: the call should still be running");
        if tokio::time::timeout(PATIENCE, cancelled.notified())
            .await
            .is_err()
        {
            failed.push(what);
        }
        client.close().await;
    }
    assert!(
        failed.is_empty(),
        "never cancelled at the server: {failed:?}"
    );
}

/// A custom transport that gives up on a request drops its future
/// (`Server::handle_message`): the request's token fires, so work the handler spawned stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_requests_future_fires_its_token() {
    let told = Arc::new(Notify::new());
    let spawned_told = told.clone();
    let router = Router::new().tool(Tool::new("wait").handler(move |cancel: CancellationToken| {
        let told = spawned_told.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            told.notify_one();
        });
        std::future::pending::<String>()
    }));
    let server = Server::new("cancel", "1.0.0", router);
    let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait",
        "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
                 "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let given_up = tokio::time::timeout(
        Duration::from_millis(200),
        server.handle_message(call, mcp_server::Authentication::None),
    )
    .await;
    assert!(given_up.is_err(), "the call never answers");
    tokio::time::timeout(PATIENCE, told.notified())
        .await
        .expect("the spawned work is told when the request's future is dropped");
}
