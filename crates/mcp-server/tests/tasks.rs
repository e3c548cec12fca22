//! The 2026-07-28 tasks extension (`io.modelcontextprotocol/tasks`) on a real transport: the
//! in-memory byte stream `Server::serve` reads (as stdio), and Streamable HTTP for what only
//! HTTP has (a task outliving its POST, `Mcp-Name` routing). Tasks created, polled, fed input,
//! cancelled, failed, expired, refused, and heard on a listen stream.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_protocol::McpError;
use mcp_protocol::types::{ElicitRequestParams, ElicitResult};
use mcp_server::tasks::{InMemoryTaskStore, TaskOptions, TaskSupport};
use mcp_server::{
    Args, Client, LongRunning, Progress, Router, Server, ServerOptions, Tool, ToolError,
};
use mcp_transport::{FrameReader, FrameWriter};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(20);
const TASKS: &str = "io.modelcontextprotocol/tasks";

/// A client end of the in-memory wire that keeps the notifications it reads past.
struct Wire {
    reader: FrameReader<mcp_transport::BoxReader>,
    writer: FrameWriter<mcp_transport::BoxWriter>,
    unread: VecDeque<Value>,
    next_id: i64,
}

impl Wire {
    fn serve(server: Server) -> Self {
        let ((reader, writer), (sr, sw)) = mcp_transport::duplex(1 << 20);
        tokio::spawn(server.serve(sr, sw));
        Self {
            reader,
            writer,
            unread: VecDeque::new(),
            next_id: 1,
        }
    }

    async fn send(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.writer
            .send(&serde_json::to_vec(&msg).unwrap())
            .await
            .unwrap();
        self.writer.flush().await.unwrap();
        id
    }

    async fn read(&mut self) -> Value {
        let frame = tokio::time::timeout(WAIT, self.reader.next())
            .await
            .expect("a message in time");
        serde_json::from_slice(&frame.expect("open").expect("framed")).unwrap()
    }

    /// The first message (read or kept) that `pick` accepts.
    async fn find(&mut self, pick: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.unread.iter().position(&pick) {
            return self.unread.remove(i).unwrap();
        }
        loop {
            let v = self.read().await;
            if pick(&v) {
                return v;
            }
            self.unread.push_back(v);
        }
    }

    /// Sends a request and returns its whole response.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        self.find(|v| v["id"] == id && v.get("method").is_none())
            .await
    }

    /// Sends a request and returns its result, failing on an error.
    async fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params).await;
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// Sends a request and returns its error.
    async fn error(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params).await;
        assert!(r.get("result").is_none(), "{method} must fail: {r}");
        r["error"].clone()
    }

    async fn notification(&mut self, method: &str) -> Value {
        self.find(|v| v["method"] == method && v.get("id").is_none())
            .await
    }

    async fn get(&mut self, task_id: &str) -> Value {
        self.result("tasks/get", with_tasks(json!({"taskId": task_id})))
            .await
    }

    /// Polls `tasks/get` until `done` accepts the task (at most `WAIT`).
    async fn poll(&mut self, task_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let task = self.get(task_id).await;
            if done(&task) {
                return task;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "task never got there: {task}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn until_terminal(&mut self, task_id: &str) -> Value {
        self.poll(task_id, |t| {
            matches!(
                t["status"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        })
        .await
    }
}

fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

/// `params` with a 2026-07-28 `_meta` declaring elicitation and the tasks extension.
fn with_tasks(mut params: Value) -> Value {
    params["_meta"] = meta(json!({"elicitation": {}, "extensions": {TASKS: {}}}));
    params
}

/// `params` with a 2026-07-28 `_meta` declaring elicitation only.
fn without_tasks(mut params: Value) -> Value {
    params["_meta"] = meta(json!({"elicitation": {}}));
    params
}

fn call(name: &str, arguments: Value) -> Value {
    json!({"name": name, "arguments": arguments})
}

#[derive(Deserialize, JsonSchema)]
struct Sleep {
    millis: u64,
}

fn confirm_form(message: &str) -> ElicitRequestParams {
    serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
    }))
    .unwrap()
}

fn ok_of(answer: &ElicitResult) -> String {
    serde_json::to_value(&answer.content).unwrap()["ok"].to_string()
}

/// Sends on a channel when dropped: the handler's future went away.
struct Dropped(Option<oneshot::Sender<()>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

type Signal = Arc<Mutex<Option<oneshot::Sender<()>>>>;

fn signal() -> (Signal, oneshot::Receiver<()>) {
    let (tx, rx) = oneshot::channel();
    (Arc::new(Mutex::new(Some(tx))), rx)
}

fn take(signal: &Signal) -> Option<oneshot::Sender<()>> {
    signal.lock().unwrap().take()
}

/// The tools the tests call; `started` fires when `hang` starts, `dropped` when it is dropped.
fn router(started: Signal, dropped: Signal) -> Router {
    Router::new()
        .tool(
            Tool::new("sleep")
                .task_support(TaskSupport::Optional)
                .handler(|Args(a): Args<Sleep>| async move {
                    tokio::time::sleep(Duration::from_millis(a.millis)).await;
                    format!("slept {} ms", a.millis)
                }),
        )
        .tool(
            Tool::new("only_as_task")
                .task_support(TaskSupport::Required)
                .handler(|| async { "ran as a task" }),
        )
        .tool(Tool::new("plain").handler(|| async { "plain" }))
        .tool(
            Tool::new("hang")
                .task_support(TaskSupport::Optional)
                .handler(move || {
                    let (started, dropped) = (take(&started), take(&dropped));
                    async move {
                        let _guard = Dropped(dropped);
                        if let Some(tx) = started {
                            let _ = tx.send(());
                        }
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        "woke up"
                    }
                }),
        )
        .tool(
            Tool::new("two_questions")
                .task_support(TaskSupport::Optional)
                .handler(|client: Client| async move {
                    let (a, b) = (client.named("first"), client.named("second"));
                    let (x, y) = tokio::join!(
                        a.elicit(confirm_form("First?")),
                        b.elicit(confirm_form("Second?"))
                    );
                    let (x, y) = (x?, y?);
                    // Asking an answered key again gets the same answer, never a new request.
                    let again = client.named("first").elicit(confirm_form("First?")).await?;
                    Ok::<_, ToolError>(format!("{} {} {}", ok_of(&x), ok_of(&y), ok_of(&again)))
                }),
        )
        .tool(
            Tool::new("confirm_then_work")
                .task_support(TaskSupport::Required)
                .handler(|client: Client, long: LongRunning| async move {
                    let answer = client.named("confirm").elicit(confirm_form("Go?")).await?;
                    long.begin().await;
                    let later = client.named("later").elicit(confirm_form("Still?")).await?;
                    Ok::<_, ToolError>(format!("{} then {}", ok_of(&answer), ok_of(&later)))
                }),
        )
        .tool(
            Tool::new("quick_check_then_work")
                .task_support(TaskSupport::Optional)
                .handler(|Args(a): Args<Sleep>, long: LongRunning| async move {
                    if a.millis == 0 {
                        return "nothing to do".to_owned();
                    }
                    long.begin().await;
                    tokio::time::sleep(Duration::from_millis(a.millis)).await;
                    "worked".to_owned()
                }),
        )
        .tool(
            Tool::new("tool_error")
                .task_support(TaskSupport::Optional)
                .handler(|| async { Err::<String, _>(ToolError::failed("it went wrong")) }),
        )
        .tool(
            Tool::new("protocol_error")
                .task_support(TaskSupport::Optional)
                .handler(|| async {
                    Err::<String, _>(ToolError::Protocol(McpError::invalid_params("bad thing")))
                }),
        )
        .tool(
            Tool::new("panics")
                .task_support(TaskSupport::Optional)
                .handler(|| async { explode() }),
        )
        .tool(
            Tool::new("reports")
                .task_support(TaskSupport::Optional)
                .handler(|progress: Progress, client: Client| async move {
                    progress.report(1.0, Some(2.0), Some("halfway")).await;
                    // Waits for the test to read the status message.
                    client.named("go_on").elicit(confirm_form("Go on?")).await?;
                    progress.report(2.0, Some(2.0), None).await;
                    Ok::<_, ToolError>("reported")
                }),
        )
}

/// What the `panics` tool does.
fn explode() -> &'static str {
    panic!("a panic in a handler, on purpose")
}

fn server_with(options: TaskOptions) -> (Server, oneshot::Receiver<()>, oneshot::Receiver<()>) {
    let (started, started_rx) = signal();
    let (dropped, dropped_rx) = signal();
    let options = ServerOptions {
        tasks: options,
        ..ServerOptions::default()
    };
    let server = Server::with_options(
        mcp_protocol::types::Implementation::new("tasks-test", "1.0.0"),
        router(started, dropped),
        options,
    );
    (server, started_rx, dropped_rx)
}

fn wire() -> Wire {
    Wire::serve(server_with(TaskOptions::default()).0)
}

async fn create(w: &mut Wire, name: &str, arguments: Value) -> String {
    let created = w
        .result("tools/call", with_tasks(call(name, arguments)))
        .await;
    assert_eq!(created["resultType"], "task", "{created}");
    created["taskId"].as_str().expect("a task id").to_owned()
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_declaring_client_gets_a_task_and_polls_it_to_its_result() {
    let mut w = wire();
    let created = w
        .result(
            "tools/call",
            with_tasks(call("sleep", json!({"millis": 300}))),
        )
        .await;
    assert_eq!(created["resultType"], "task");
    assert_eq!(created["status"], "working");
    assert_eq!(created["ttlMs"], 3_600_000);
    assert_eq!(created["pollIntervalMs"], 1000);
    for absent in [
        "task",
        "result",
        "error",
        "inputRequests",
        "requestState",
        "ttl",
    ] {
        assert!(created.get(absent).is_none(), "{absent}: {created}");
    }
    let id = created["taskId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    // The task exists as soon as the client hears of it.
    let first = w.get(id).await;
    assert_eq!(first["resultType"], "complete");
    assert_eq!(first["taskId"], id);
    assert!(first.get("result").is_none());

    let done = w.until_terminal(id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["resultType"], "complete");
    assert_eq!(text_of(&done["result"]), "slept 300 ms");
    assert!(done.get("error").is_none());
    assert!(done["lastUpdatedAt"].as_str() >= done["createdAt"].as_str());
    // Still there afterwards: a task lives for its TTL.
    assert_eq!(w.get(id).await["status"], "completed");
}

#[tokio::test]
async fn only_declaring_clients_get_tasks() {
    let mut w = wire();
    // Optional: an ordinary result for a client that did not declare the extension.
    let plain = w
        .result(
            "tools/call",
            without_tasks(call("sleep", json!({"millis": 1}))),
        )
        .await;
    assert_eq!(plain["resultType"], "complete");
    assert_eq!(text_of(&plain), "slept 1 ms");
    assert!(plain.get("taskId").is_none());
    // Required: -32021 naming the extension.
    let refused = w
        .error("tools/call", without_tasks(call("only_as_task", json!({}))))
        .await;
    assert_eq!(refused["code"], -32021);
    assert_eq!(
        refused["data"]["requiredCapabilities"]["extensions"][TASKS],
        json!({})
    );
    // A tool without task support never becomes a task, declared or not.
    let never = w
        .result("tools/call", with_tasks(call("plain", json!({}))))
        .await;
    assert_eq!(never["resultType"], "complete");
    // The task methods need the extension declared on the request itself.
    let id = create(&mut w, "only_as_task", json!({})).await;
    for (method, params) in [
        ("tasks/get", json!({"taskId": id})),
        ("tasks/update", json!({"taskId": id, "inputResponses": {}})),
        ("tasks/cancel", json!({"taskId": id})),
    ] {
        let e = w.error(method, without_tasks(params)).await;
        assert_eq!(e["code"], -32021, "{method}");
    }
    // Arguments that do not match the schema are answered at once, not as a task.
    let invalid = w
        .result(
            "tools/call",
            with_tasks(call("sleep", json!({"millis": "x"}))),
        )
        .await;
    assert_eq!(invalid["resultType"], "complete");
    assert_eq!(invalid["isError"], true);
    // Unknown ids are -32602; tasks/result and tasks/list are gone in 2026-07-28.
    for method in ["tasks/get", "tasks/cancel"] {
        let e = w.error(method, with_tasks(json!({"taskId": "nope"}))).await;
        assert_eq!(e["code"], -32602, "{method}");
    }
    let e = w
        .error(
            "tasks/update",
            with_tasks(json!({"taskId": "nope", "inputResponses": {}})),
        )
        .await;
    assert_eq!(e["code"], -32602);
    for method in ["tasks/result", "tasks/list"] {
        let e = w.error(method, with_tasks(json!({"taskId": id}))).await;
        assert_eq!(e["code"], -32601, "{method}");
    }
}

#[tokio::test]
async fn legacy_sessions_have_no_tasks() {
    let mut w = wire();
    let init = w
        .result(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "old", "version": "1"},
            }),
        )
        .await;
    // A legacy client is not told about the extension (2025-11-25 capabilities have no slot).
    assert!(init["capabilities"].get("extensions").is_none(), "{init}");
    assert!(init["capabilities"].get("tasks").is_none(), "{init}");
    let plain = w
        .result("tools/call", call("sleep", json!({"millis": 1})))
        .await;
    assert_eq!(text_of(&plain), "slept 1 ms");
    // A tool that runs only as a task tells the model it cannot run here.
    let refused = w
        .result("tools/call", call("only_as_task", json!({})))
        .await;
    assert_eq!(refused["isError"], true);
    assert!(text_of(&refused).contains("only as a task"), "{refused}");
    let e = w.error("tasks/get", json!({"taskId": "x"})).await;
    assert_eq!(e["code"], -32601);
}

#[tokio::test]
async fn server_discover_advertises_the_extension_while_a_tool_has_task_support() {
    let (server, _, _) = server_with(TaskOptions::default());
    let router = server.router().clone();
    let mut w = Wire::serve(server);
    let discover = || with_tasks(json!({}));
    let caps = w.result("server/discover", discover()).await["capabilities"].clone();
    assert_eq!(caps["extensions"][TASKS], json!({}));
    assert!(caps.get("tasks").is_none(), "no 2025-11-25 tasks slot");
    for name in [
        "sleep",
        "only_as_task",
        "hang",
        "two_questions",
        "confirm_then_work",
        "quick_check_then_work",
        "tool_error",
        "protocol_error",
        "panics",
        "reports",
    ] {
        assert!(router.remove_tool(name), "{name}");
    }
    let caps = w.result("server/discover", discover()).await["capabilities"].clone();
    assert!(caps.get("extensions").is_none(), "{caps}");
}

#[tokio::test]
async fn input_during_a_task_goes_through_tasks_get_and_tasks_update() {
    let mut w = wire();
    let id = create(&mut w, "two_questions", json!({})).await;
    let waiting = w
        .poll(&id, |t| {
            t["inputRequests"].as_object().is_some_and(|r| r.len() == 2)
        })
        .await;
    assert_eq!(waiting["status"], "input_required");
    assert_eq!(
        waiting["inputRequests"]["first"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        waiting["inputRequests"]["second"]["params"]["message"],
        "Second?"
    );

    // A malformed answer to an outstanding key is refused and changes nothing.
    let e = w
        .error(
            "tasks/update",
            with_tasks(json!({"taskId": id, "inputResponses": {"first": {"bogus": 1}}})),
        )
        .await;
    assert_eq!(e["code"], -32602);
    // Answers to keys nobody asked are ignored; the ack is empty.
    let ack = w
        .result(
            "tasks/update",
            with_tasks(json!({
                "taskId": id,
                "inputResponses": {
                    "first": {"action": "accept", "content": {"ok": true}},
                    "never-asked": {"whatever": true},
                },
            })),
        )
        .await;
    assert_eq!(ack["resultType"], "complete");
    for absent in ["taskId", "status", "result", "error", "inputRequests"] {
        assert!(ack.get(absent).is_none(), "{absent}: {ack}");
    }
    // Partly answered: still waiting, for the other key only.
    let partly = w.get(&id).await;
    assert_eq!(partly["status"], "input_required");
    let keys: Vec<&String> = partly["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["second"]);

    w.result(
        "tasks/update",
        with_tasks(json!({
            "taskId": id,
            "inputResponses": {"second": {"action": "accept", "content": {"ok": false}}},
        })),
    )
    .await;
    let done = w.until_terminal(&id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(text_of(&done["result"]), "true false true");
    assert!(done.get("inputRequests").is_none());
    // Answering a finished task is acknowledged and ignored.
    let late = w
        .result(
            "tasks/update",
            with_tasks(json!({
                "taskId": id,
                "inputResponses": {"second": {"action": "decline"}},
            })),
        )
        .await;
    assert_eq!(late["resultType"], "complete");
}

#[tokio::test]
async fn tasks_cancel_stops_the_handler_and_is_idempotent() {
    let (server, started, dropped) = server_with(TaskOptions::default());
    let mut w = Wire::serve(server);
    let id = create(&mut w, "hang", json!({})).await;
    tokio::time::timeout(WAIT, started)
        .await
        .expect("started in time")
        .unwrap();
    let ack = w
        .result("tasks/cancel", with_tasks(json!({"taskId": id})))
        .await;
    assert_eq!(ack["resultType"], "complete");
    assert!(ack.get("status").is_none());
    // The handler's future is dropped.
    tokio::time::timeout(WAIT, dropped)
        .await
        .expect("dropped in time")
        .unwrap();
    let task = w.get(&id).await;
    assert_eq!(task["status"], "cancelled");
    assert!(task.get("result").is_none() && task.get("error").is_none());
    // Cancelling again, or a finished task, is the same empty acknowledgement.
    let again = w
        .result("tasks/cancel", with_tasks(json!({"taskId": id})))
        .await;
    assert_eq!(again, ack);
    let quick = create(&mut w, "sleep", json!({"millis": 1})).await;
    assert_eq!(w.until_terminal(&quick).await["status"], "completed");
    w.result("tasks/cancel", with_tasks(json!({"taskId": quick})))
        .await;
    assert_eq!(
        w.get(&quick).await["status"],
        "completed",
        "not overwritten"
    );
}

#[tokio::test]
async fn tool_errors_complete_and_protocol_errors_and_panics_fail() {
    let mut w = wire();
    let id = create(&mut w, "tool_error", json!({})).await;
    let done = w.until_terminal(&id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["result"]["isError"], true);
    assert_eq!(text_of(&done["result"]), "it went wrong");

    let id = create(&mut w, "protocol_error", json!({})).await;
    let failed = w.until_terminal(&id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], -32602);
    assert_eq!(failed["error"]["message"], "bad thing");
    assert_eq!(failed["statusMessage"], "bad thing");
    assert!(failed.get("result").is_none());

    let id = create(&mut w, "panics", json!({})).await;
    let failed = w.until_terminal(&id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], -32603);
    // The server goes on serving.
    let id = create(&mut w, "sleep", json!({"millis": 1})).await;
    assert_eq!(w.until_terminal(&id).await["status"], "completed");
}

#[tokio::test]
async fn long_running_asks_before_the_task_and_runs_as_a_task_after() {
    let mut w = wire();
    // Round 1: a multi-round-trip exchange on the request, no task yet.
    let first = w
        .result(
            "tools/call",
            with_tasks(call("confirm_then_work", json!({}))),
        )
        .await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    assert!(first.get("taskId").is_none());
    assert!(first["inputRequests"]["confirm"].is_object());
    // Round 2: with the answer, the task starts where the handler said.
    let mut retry = call("confirm_then_work", json!({}));
    retry["inputResponses"] = json!({"confirm": {"action": "accept", "content": {"ok": true}}});
    retry["requestState"] = first["requestState"].clone();
    let created = w.result("tools/call", with_tasks(retry)).await;
    assert_eq!(created["resultType"], "task", "{created}");
    assert!(created.get("requestState").is_none());
    assert!(created.get("inputRequests").is_none());
    let id = created["taskId"].as_str().unwrap().to_owned();
    // After the start, input goes through the task.
    let waiting = w.poll(&id, |t| t["status"] == "input_required").await;
    assert!(waiting["inputRequests"]["later"].is_object(), "{waiting}");
    assert!(waiting["inputRequests"].get("confirm").is_none());
    w.result(
        "tasks/update",
        with_tasks(json!({
            "taskId": id,
            "inputResponses": {"later": {"action": "accept", "content": {"ok": false}}},
        })),
    )
    .await;
    let done = w.until_terminal(&id).await;
    assert_eq!(text_of(&done["result"]), "true then false");

    // A handler that finishes before its long part answers directly, even when declared.
    let quick = w
        .result(
            "tools/call",
            with_tasks(call("quick_check_then_work", json!({"millis": 0}))),
        )
        .await;
    assert_eq!(quick["resultType"], "complete");
    assert_eq!(text_of(&quick), "nothing to do");
    let long = w
        .result(
            "tools/call",
            with_tasks(call("quick_check_then_work", json!({"millis": 50}))),
        )
        .await;
    assert_eq!(long["resultType"], "task");
    // Without the extension, `begin` is nothing: the same handler answers directly.
    let direct = w
        .result(
            "tools/call",
            without_tasks(call("quick_check_then_work", json!({"millis": 50}))),
        )
        .await;
    assert_eq!(direct["resultType"], "complete");
    assert_eq!(text_of(&direct), "worked");
}

#[tokio::test]
async fn progress_of_a_task_becomes_its_status_message() {
    let mut w = wire();
    let mut params = with_tasks(call("reports", json!({})));
    params["_meta"]["progressToken"] = json!("p1");
    let created = w.result("tools/call", params).await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let waiting = w.poll(&id, |t| t["status"] == "input_required").await;
    assert_eq!(waiting["statusMessage"], "halfway");
    w.result(
        "tasks/update",
        with_tasks(json!({
            "taskId": id,
            "inputResponses": {"go_on": {"action": "accept", "content": {}}},
        })),
    )
    .await;
    let done = w.until_terminal(&id).await;
    assert_eq!(done["statusMessage"], "2 of 2");
    // No progress notification went out for a request already answered with a task.
    assert!(
        w.unread
            .iter()
            .all(|m| m["method"] != "notifications/progress"),
        "{:?}",
        w.unread
    );
}

#[tokio::test]
async fn a_listen_stream_hears_the_tasks_it_names() {
    let mut w = wire();
    let id = create(&mut w, "two_questions", json!({})).await;
    w.poll(&id, |t| t["status"] == "input_required").await;

    // Without the extension declared, asking for task notifications is refused.
    let e = w
        .error(
            "subscriptions/listen",
            without_tasks(json!({"notifications": {"taskIds": [id]}})),
        )
        .await;
    assert_eq!(e["code"], -32021);

    let listen = w
        .send(
            "subscriptions/listen",
            with_tasks(json!({"notifications": {"taskIds": [id, "unknown-task"]}})),
        )
        .await;
    let ack = w
        .notification("notifications/subscriptions/acknowledged")
        .await;
    assert_eq!(ack["params"]["notifications"]["taskIds"], json!([id]));
    // First the current state, then every change.
    let current = w.notification("notifications/tasks").await;
    assert_eq!(current["params"]["taskId"], id);
    assert_eq!(
        current["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        listen
    );
    w.result(
        "tasks/update",
        with_tasks(json!({
            "taskId": id,
            "inputResponses": {
                "first": {"action": "accept", "content": {"ok": true}},
                "second": {"action": "accept", "content": {"ok": true}},
            },
        })),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let completed = loop {
        let n = w.notification("notifications/tasks").await;
        if n["params"]["status"] == "completed" {
            break n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no completion heard"
        );
    };
    assert_eq!(text_of(&completed["params"]["result"]), "true true true");
}

#[tokio::test]
async fn a_task_past_its_ttl_is_stopped_and_forgotten() {
    let store = Arc::new(InMemoryTaskStore::new(100));
    let (server, started, dropped) = server_with(TaskOptions {
        store: store.clone(),
        ttl: Duration::from_millis(400),
        poll_interval: Duration::from_millis(50),
    });
    let mut w = Wire::serve(server);
    let created = w
        .result("tools/call", with_tasks(call("hang", json!({}))))
        .await;
    assert_eq!(created["ttlMs"], 400);
    assert_eq!(created["pollIntervalMs"], 50);
    let id = created["taskId"].as_str().unwrap().to_owned();
    tokio::time::timeout(WAIT, started)
        .await
        .expect("started")
        .unwrap();
    // At its TTL the handler is dropped, and the task is gone.
    tokio::time::timeout(WAIT, dropped)
        .await
        .expect("stopped at its TTL")
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = w
            .request("tasks/get", with_tasks(json!({"taskId": id})))
            .await;
        if r["error"]["code"] == -32602 {
            break;
        }
        assert_eq!(r["result"]["status"], "failed", "{r}");
        assert!(tokio::time::Instant::now() < deadline, "never forgotten");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(store.is_empty());
}

#[tokio::test]
async fn a_full_store_runs_optional_tools_directly_and_refuses_required_ones() {
    let store = Arc::new(InMemoryTaskStore::new(1));
    let (server, started, _) = server_with(TaskOptions {
        store: store.clone(),
        ..TaskOptions::default()
    });
    let mut w = Wire::serve(server);
    let _running = create(&mut w, "hang", json!({})).await;
    tokio::time::timeout(WAIT, started)
        .await
        .expect("started")
        .unwrap();
    let direct = w
        .result(
            "tools/call",
            with_tasks(call("sleep", json!({"millis": 1}))),
        )
        .await;
    assert_eq!(direct["resultType"], "complete");
    assert_eq!(text_of(&direct), "slept 1 ms");
    let refused = w
        .error("tools/call", with_tasks(call("only_as_task", json!({}))))
        .await;
    assert_eq!(refused["code"], -32603);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("maximum of 1 tasks"),
        "{refused}"
    );
    assert_eq!(store.len(), 1);
}

mod http {
    //! What only Streamable HTTP has: a task outliving the POST that created it, and
    //! `Mcp-Name` carrying the task id.

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::{Method, Request, StatusCode};
    use hyper_util::client::legacy::Client as HttpClient;
    use hyper_util::rt::TokioExecutor;
    use mcp_server::http::HttpOptions;

    use super::*;

    async fn post(
        client: &HttpClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
        url: &str,
        body: Value,
        name: Option<&str>,
    ) -> (StatusCode, Value) {
        let method = body["method"].as_str().unwrap().to_owned();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(name) = name {
            req = req.header("mcp-name", name);
        }
        let req = req.body(Full::new(Bytes::from(body.to_string()))).unwrap();
        let resp = tokio::time::timeout(WAIT, client.request(req))
            .await
            .expect("answered in time")
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    fn rpc(id: i64, method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    #[tokio::test]
    async fn a_task_outlives_its_post_and_is_routed_by_mcp_name() {
        let (server, _, _) = server_with(TaskOptions::default());
        let endpoint = server.into_http_endpoint(HttpOptions::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(endpoint.serve(listener, async {
            let _ = stopped.await;
        }));
        let client = HttpClient::builder(TokioExecutor::new()).build_http();

        let body = rpc(
            1,
            "tools/call",
            with_tasks(call("sleep", json!({"millis": 300}))),
        );
        let (status, created) = post(&client, &url, body, Some("sleep")).await;
        assert_eq!(status, StatusCode::OK);
        let id = created["result"]["taskId"].as_str().unwrap().to_owned();

        // The POST is over; the task goes on and is polled with new POSTs.
        let get = |n: i64| rpc(n, "tasks/get", with_tasks(json!({"taskId": id})));
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut n = 2;
        let done = loop {
            let (status, r) = post(&client, &url, get(n), Some(&id)).await;
            assert_eq!(status, StatusCode::OK, "{r}");
            if r["result"]["status"] == "completed" {
                break r;
            }
            assert!(tokio::time::Instant::now() < deadline, "{r}");
            n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(text_of(&done["result"]["result"]), "slept 300 ms");

        // Mcp-Name must carry the task id: a missing or different one is -32020 (HTTP 400).
        for name in [None, Some("another-task")] {
            let (status, r) = post(&client, &url, get(100), name).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}: {r}");
            assert_eq!(r["error"]["code"], -32020);
        }
        let _ = stop.send(());
        served.await.unwrap().unwrap();
    }
}
