//! Our client against our server with the 2026-07-28 tasks extension: a client that opts in
//! (`ClientOptions::tasks`) gets its tool results through tasks it polls, answers the tasks'
//! questions with its handlers, and cancels the task when it stops waiting; one that does not
//! opt in never gets a task. Over the in-memory byte stream and over Streamable HTTP.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_client::{
    CallOptions, Client, ClientOptions, EraPreference, ErrorKind, Handlers, HttpClientOptions,
};
use mcp_protocol::McpError;
use mcp_protocol::types::tasks::TaskStatus;
use mcp_protocol::types::{ElicitRequestParams, ElicitResult, ElicitValue, Implementation};
use mcp_server::tasks::{InMemoryTaskStore, TaskOptions, TaskSupport};
use mcp_server::{Client as Asker, Router, Server, ServerOptions, Tool, ToolError};
use serde_json::json;
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(20);

type Signal = Arc<Mutex<Option<oneshot::Sender<()>>>>;

/// Sends when dropped: the handler's future went away.
struct Dropped(Option<oneshot::Sender<()>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

fn confirm_form() -> ElicitRequestParams {
    serde_json::from_value(json!({
        "message": "Go ahead?",
        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
    }))
    .unwrap()
}

struct Fixture {
    server: Server,
    store: Arc<InMemoryTaskStore>,
    dropped: oneshot::Receiver<()>,
}

fn fixture() -> Fixture {
    let (tx, dropped) = oneshot::channel();
    let dropped_tx: Signal = Arc::new(Mutex::new(Some(tx)));
    let router = Router::new()
        .tool(
            Tool::new("slow")
                .task_support(TaskSupport::Optional)
                .handler(|| async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    "slow result"
                }),
        )
        .tool(
            Tool::new("asks")
                .task_support(TaskSupport::Required)
                .handler(|client: Asker| async move {
                    let answer = client.named("go").elicit(confirm_form()).await?;
                    let again = client.named("again").elicit(confirm_form()).await?;
                    Ok::<_, ToolError>(format!("{:?} {:?}", answer.action, again.action))
                }),
        )
        .tool(
            Tool::new("breaks")
                .task_support(TaskSupport::Optional)
                .handler(|| async {
                    Err::<String, _>(ToolError::Protocol(McpError::Internal("broken".into())))
                }),
        )
        .tool(
            Tool::new("hang")
                .task_support(TaskSupport::Optional)
                .handler(move || {
                    let dropped = dropped_tx.lock().unwrap().take();
                    async move {
                        let _guard = Dropped(dropped);
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        "woke up"
                    }
                }),
        );
    let store = Arc::new(InMemoryTaskStore::new(100));
    let options = ServerOptions {
        tasks: TaskOptions {
            store: store.clone(),
            poll_interval: Duration::from_millis(20),
            ..TaskOptions::default()
        },
        ..ServerOptions::default()
    };
    Fixture {
        server: Server::with_options(Implementation::new("tasks", "1"), router, options),
        store,
        dropped,
    }
}

fn options(tasks: bool) -> ClientOptions {
    let handlers = Handlers::default().on_elicitation(false, |_| async {
        Ok(ElicitResult::accept(BTreeMap::from([(
            "ok".to_owned(),
            ElicitValue::Bool(true),
        )])))
    });
    ClientOptions {
        era: EraPreference::Modern,
        handlers,
        tasks,
        ..ClientOptions::default()
    }
}

async fn connect(server: Server, options: ClientOptions) -> Client {
    let (client_end, server_end) = mcp_transport::duplex(1 << 20);
    tokio::spawn(server.serve(server_end.0, server_end.1));
    Client::connect(client_end, options).await.unwrap()
}

fn text(result: &mcp_protocol::types::CallToolResult) -> String {
    serde_json::to_value(&result.content).unwrap()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_opted_in_client_gets_results_through_tasks() {
    let f = fixture();
    let client = connect(f.server, options(true)).await;
    let slow = client.call_tool("slow", json!({})).await.unwrap();
    assert_eq!(text(&slow), "slow result");
    assert_eq!(f.store.len(), 1, "the call ran as a task");

    // The task's questions are answered by the elicitation handler, through tasks/update.
    let asked = client.call_tool("asks", json!({})).await.unwrap();
    assert_eq!(text(&asked), "Accept Accept");
    assert_eq!(f.store.len(), 2);

    // A failed task is the JSON-RPC error it failed with.
    let e = client.call_tool("breaks", json!({})).await.unwrap_err();
    assert_eq!(e.code(), Some(-32603));
    assert_eq!(e.kind(), ErrorKind::Server);

    let e = client.get_task("no-such-task").await.unwrap_err();
    assert_eq!(e.code(), Some(-32602));
    client.close().await;
}

#[tokio::test]
async fn a_client_that_stops_waiting_cancels_the_task() {
    let f = fixture();
    let client = connect(f.server, options(true)).await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.call_tool("hang", json!({})),
    );
    assert!(gave_up.await.is_err(), "hang does not finish");
    // The dropped call sends tasks/cancel; the server drops the handler.
    tokio::time::timeout(WAIT, f.dropped)
        .await
        .expect("the handler was stopped")
        .unwrap();
    client.close().await;
}

#[tokio::test]
async fn a_client_that_does_not_opt_in_never_gets_a_task() {
    let f = fixture();
    let client = connect(f.server, options(false)).await;
    let slow = client.call_tool("slow", json!({})).await.unwrap();
    assert_eq!(text(&slow), "slow result");
    assert!(
        f.store.is_empty(),
        "no task for a client that did not declare it"
    );
    let e = client.call_tool("asks", json!({})).await.unwrap_err();
    assert_eq!(e.code(), Some(-32021));
    client.close().await;
}

#[tokio::test]
async fn tasks_over_streamable_http() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(f.server.serve_http_with_shutdown(
        listener,
        mcp_server::http::HttpOptions::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = Client::connect_http(&url, options(true), HttpClientOptions::default())
        .await
        .unwrap();
    // Each poll is its own POST with `Mcp-Name: <taskId>`, which the server checks.
    let asked = client.call_tool("asks", json!({})).await.unwrap();
    assert_eq!(text(&asked), "Accept Accept");
    assert_eq!(f.store.len(), 1);
    let done = client.call_tool("slow", json!({})).await.unwrap();
    assert_eq!(text(&done), "slow result");
    client.close().await;
    let _ = stop.send(());
    served.await.unwrap().unwrap();
}

#[tokio::test]
async fn task_state_can_be_read_and_cancelled_by_id() {
    let f = fixture();
    let client = connect(f.server, options(true)).await;
    // A plain request gets the task itself, as a client that keeps task ids would.
    let created: serde_json::Value = client
        .request(
            "tools/call",
            &json!({"name": "hang", "arguments": {}}),
            &CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(created["resultType"], "task");
    let id = created["taskId"].as_str().unwrap();
    let task = client.get_task(id).await.unwrap();
    assert_eq!(task.task.status, TaskStatus::Working);
    assert_eq!(task.task.poll_interval_ms, Some(20));
    client.cancel_task(id).await.unwrap();
    tokio::time::timeout(WAIT, f.dropped)
        .await
        .expect("the handler was stopped")
        .unwrap();
    assert_eq!(
        client.get_task(id).await.unwrap().task.status,
        TaskStatus::Cancelled
    );
    client.close().await;
}
