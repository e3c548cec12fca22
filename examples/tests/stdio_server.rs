//! The example server as a real process over stdio, in both eras: every server feature, and bad
//! input. The client side here is raw JSON lines, so nothing of ours stands between the test and
//! the wire.

use std::collections::VecDeque;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::UnboundedReceiver<Value>,
    seen: VecDeque<Value>,
}

impl Peer {
    fn spawn() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-server"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn example-server");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("server wrote non-JSON {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            rx,
            seen: VecDeque::new(),
        }
    }

    async fn raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }

    async fn send(&mut self, v: Value) {
        self.raw(&serde_json::to_vec(&v).unwrap()).await;
    }

    /// Waits for the first message (already seen or new) matching `pred`.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; seen: {:?}", self.seen))
                .unwrap_or_else(|| panic!("server closed stdout while waiting for {what}"));
            if pred(&v) {
                return v;
            }
            self.seen.push_back(v);
        }
    }

    async fn response(&mut self, id: Value) -> Value {
        let what = format!("response {id}");
        self.wait_for(&what, |v| {
            v.get("id") == Some(&id) && (v.get("result").is_some() || v.get("error").is_some())
        })
        .await
    }

    async fn request(&mut self, id: Value, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        self.response(id).await
    }

    async fn notification(&mut self, method: &str) -> Value {
        let m = method.to_owned();
        self.wait_for(method, move |v| {
            v.get("method").and_then(Value::as_str) == Some(&m) && v.get("id").is_none()
        })
        .await
    }

    fn drain_seen(&mut self) -> Vec<Value> {
        while let Ok(v) = self.rx.try_recv() {
            self.seen.push_back(v);
        }
        self.seen.drain(..).collect()
    }

    async fn initialize(&mut self, version: &str, capabilities: Value) -> Value {
        let r = self
            .request(json!(0), "initialize", json!({"protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name": "test", "version": "1"}}))
            .await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        r
    }

    async fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("server exits after stdin closes")
            .expect("wait")
    }
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"}
    })
}

fn text(result: &Value) -> &str {
    result["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {result}"))
}

#[tokio::test]
async fn legacy_session_serves_every_feature() {
    let mut p = Peer::spawn();
    let init = p.initialize("2025-11-25", json!({})).await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["name"], "example-server");
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);
    assert!(init["result"].get("resultType").is_none());

    let tools = p.request(json!(1), "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for n in ["add", "ask_name", "echo", "fail", "slow_count"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let add = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "add")
        .unwrap();
    assert_eq!(add["inputSchema"]["type"], "object");
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "number");
    assert!(
        tools["result"].get("ttlMs").is_none(),
        "no caching hints in legacy"
    );

    assert_eq!(
        text(
            &p.request(
                json!(2),
                "tools/call",
                json!({"name": "echo", "arguments": {"text": "hi"}})
            )
            .await
        ),
        "hi"
    );
    let sum = p
        .request(
            json!(3),
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 3.5}}),
        )
        .await;
    assert_eq!(sum["result"]["structuredContent"]["sum"], 5.5);
    let bad = p
        .request(
            json!(4),
            "tools/call",
            json!({"name": "add", "arguments": {"a": "x"}}),
        )
        .await;
    assert_eq!(
        bad["result"]["isError"], true,
        "invalid arguments are a tool error: {bad}"
    );
    let failed = p
        .request(json!(5), "tools/call", json!({"name": "fail"}))
        .await;
    assert_eq!(
        (failed["result"]["isError"].as_bool(), text(&failed)),
        (Some(true), "this tool always fails")
    );
    let unknown = p
        .request(json!(6), "tools/call", json!({"name": "nope"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602);

    let resources = p.request(json!(7), "resources/list", json!({})).await;
    assert_eq!(
        resources["result"]["resources"].as_array().unwrap().len(),
        2
    );
    let templates = p
        .request(json!(8), "resources/templates/list", json!({}))
        .await;
    assert_eq!(
        templates["result"]["resourceTemplates"][0]["uriTemplate"],
        "memo://notes/{id}"
    );
    let readme = p
        .request(json!(9), "resources/read", json!({"uri": "memo://readme"}))
        .await;
    assert_eq!(
        readme["result"]["contents"][0]["text"],
        "This is the example server."
    );
    let logo = p
        .request(json!(10), "resources/read", json!({"uri": "memo://logo"}))
        .await;
    assert_eq!(logo["result"]["contents"][0]["blob"], "iVBORw==");
    let note = p
        .request(
            json!(11),
            "resources/read",
            json!({"uri": "memo://notes/beta"}),
        )
        .await;
    assert_eq!(note["result"]["contents"][0]["text"], "Note beta");
    let missing = p
        .request(json!(12), "resources/read", json!({"uri": "memo://nope"}))
        .await;
    assert_eq!(
        (
            missing["error"]["code"].as_i64(),
            missing["error"]["data"]["uri"].as_str()
        ),
        (Some(-32002), Some("memo://nope"))
    );

    let prompts = p.request(json!(13), "prompts/list", json!({})).await;
    assert_eq!(
        prompts["result"]["prompts"][0]["arguments"][0]["name"],
        "name"
    );
    let prompt = p
        .request(
            json!(14),
            "prompts/get",
            json!({"name": "greet", "arguments": {"name": "Ada"}}),
        )
        .await;
    assert_eq!(
        prompt["result"]["messages"][0]["content"]["text"],
        "Please greet Ada warmly."
    );
    let no_arg = p
        .request(json!(15), "prompts/get", json!({"name": "greet"}))
        .await;
    assert_eq!(no_arg["error"]["code"], -32602);

    let c = p.request(json!(16), "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "A"}})).await;
    assert_eq!(c["result"]["completion"]["values"], json!(["Alice"]));
    let c = p.request(json!(17), "completion/complete", json!({"ref": {"type": "ref/resource", "uri": "memo://notes/{id}"}, "argument": {"name": "id", "value": "g"}})).await;
    assert_eq!(c["result"]["completion"]["values"], json!(["gamma"]));

    assert_eq!(
        p.request(json!(18), "ping", json!({})).await["result"],
        json!({})
    );
    assert_eq!(
        p.request(json!(19), "logging/setLevel", json!({"level": "info"}))
            .await["result"],
        json!({})
    );
    let slow = p.request(json!(20), "tools/call", json!({"name": "slow_count", "arguments": {"steps": 3, "delay_ms": 10}, "_meta": {"progressToken": "tok"}})).await;
    assert_eq!(text(&slow), "counted to 3");
    let seen = p.drain_seen();
    let progress: Vec<f64> = seen
        .iter()
        .filter(|v| v["method"] == "notifications/progress")
        .map(|v| v["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, vec![1.0, 2.0, 3.0]);
    assert!(
        seen.iter()
            .filter(|v| v["method"] == "notifications/progress")
            .all(|v| v["params"]["progressToken"] == "tok")
    );
    let logs = seen
        .iter()
        .filter(|v| v["method"] == "notifications/message")
        .count();
    assert_eq!(logs, 3);

    assert!(p.close().await.success());
}

#[tokio::test]
async fn modern_requests_are_stateless() {
    let mut p = Peer::spawn();
    let d = p
        .request(
            json!("d"),
            "server/discover",
            json!({"_meta": meta(json!({}))}),
        )
        .await;
    assert_eq!(d["result"]["resultType"], "complete");
    assert_eq!(d["result"]["supportedVersions"][0], "2026-07-28");
    assert!(d["result"]["ttlMs"].is_u64() && d["result"]["cacheScope"].is_string());
    assert_eq!(
        d["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "example-server"
    );

    let tools = p
        .request(json!(1), "tools/list", json!({"_meta": meta(json!({}))}))
        .await;
    assert_eq!(tools["result"]["resultType"], "complete");
    assert!(tools["result"]["ttlMs"].is_u64());
    let echo = p
        .request(
            json!(2),
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "echo", "arguments": {"text": "yo"}}),
        )
        .await;
    assert_eq!(
        (echo["result"]["resultType"].as_str(), text(&echo)),
        (Some("complete"), "yo")
    );
    let missing = p
        .request(
            json!(3),
            "resources/read",
            json!({"_meta": meta(json!({})), "uri": "memo://nope"}),
        )
        .await;
    assert_eq!(
        missing["error"]["code"], -32602,
        "2026-07-28 resource not found is -32602"
    );
    let read = p
        .request(
            json!(4),
            "resources/read",
            json!({"_meta": meta(json!({})), "uri": "memo://readme"}),
        )
        .await;
    assert!(read["result"]["ttlMs"].is_u64());
    for (i, m) in [
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "initialize",
    ]
    .iter()
    .enumerate()
    {
        let params = if *m == "initialize" {
            json!({"_meta": meta(json!({}))})
        } else {
            json!({"_meta": meta(json!({})), "level": "info", "uri": "x"})
        };
        let r = p.request(json!(100 + i), m, params).await;
        // Removed in 2026-07-28, `initialize` included: not found, whatever the params.
        assert_eq!(r["error"]["code"].as_i64(), Some(-32601), "{m}: {r}");
    }
    let no_meta = p.request(json!(5), "tools/list", json!({})).await;
    assert_eq!(no_meta["error"]["code"], -32602);
    let no_caps = p
        .request(
            json!(6),
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
        )
        .await;
    assert_eq!(no_caps["error"]["code"], -32602);
    let old = p.request(json!(7), "tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}})).await;
    assert_eq!(old["error"]["code"], -32022);
    assert_eq!(old["error"]["data"]["requested"], "1999-01-01");
    assert_eq!(old["error"]["data"]["supported"], json!(["2026-07-28"]));
    // The stateless server never remembered anything: a legacy handshake still works after.
    let init = p.initialize("2025-06-18", json!({})).await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert!(p.close().await.success());
}

#[tokio::test]
async fn multi_round_trip_elicitation_with_signed_state() {
    let mut p = Peer::spawn();
    let caps = json!({"elicitation": {}});
    let first = p
        .request(
            json!(1),
            "tools/call",
            json!({"_meta": meta(caps.clone()), "name": "ask_name"}),
        )
        .await;
    assert_eq!(first["result"]["resultType"], "input_required");
    let (key, req) = first["result"]["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(req["method"], "elicitation/create");
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    let answer = json!({key.clone(): {"action": "accept", "content": {"name": "Ada"}}});

    let done = p.request(json!(2), "tools/call", json!({"_meta": meta(caps.clone()), "name": "ask_name", "inputResponses": answer, "requestState": state})).await;
    assert_eq!(text(&done), "Hello, Ada!");

    let mut forged = state.clone().into_bytes();
    let i = forged.len() / 3;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let tampered = p.request(json!(3), "tools/call", json!({"_meta": meta(caps.clone()), "name": "ask_name", "inputResponses": answer, "requestState": String::from_utf8(forged).unwrap()})).await;
    assert_eq!(tampered["error"]["code"], -32602, "{tampered}");
    let other_tool = p.request(json!(4), "tools/call", json!({"_meta": meta(caps.clone()), "name": "echo", "arguments": {"text": "x"}, "requestState": state})).await;
    assert_eq!(
        other_tool["error"]["code"], -32602,
        "state of another request is refused: {other_tool}"
    );

    let no_cap = p
        .request(
            json!(5),
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "ask_name"}),
        )
        .await;
    assert_eq!(no_cap["error"]["code"], -32021);
    assert_eq!(
        no_cap["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
    assert!(p.close().await.success());
}

#[tokio::test]
async fn legacy_server_to_client_requests() {
    let mut p = Peer::spawn();
    p.initialize(
        "2025-11-25",
        json!({"elicitation": {}, "sampling": {}, "roots": {}}),
    )
    .await;
    p.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_name"}}),
    )
    .await;
    let ask = p
        .wait_for("elicitation request", |v| {
            v["method"] == "elicitation/create"
        })
        .await;
    assert_eq!(
        ask["params"]["requestedSchema"]["properties"]["name"]["type"],
        "string"
    );
    p.send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"name": "Grace"}}})).await;
    assert_eq!(text(&p.response(json!(1)).await), "Hello, Grace!");

    p.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "summarize", "arguments": {"text": "long"}}})).await;
    let s = p
        .wait_for("sampling request", |v| {
            v["method"] == "sampling/createMessage"
        })
        .await;
    p.send(json!({"jsonrpc": "2.0", "id": s["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "short"}, "model": "m1"}})).await;
    assert_eq!(text(&p.response(json!(2)).await), "Summary from m1: short");

    p.send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "ping_client"}})).await;
    let ping = p
        .wait_for("ping request", |v| {
            v["method"] == "ping" && v.get("id").is_some()
        })
        .await;
    p.send(json!({"jsonrpc": "2.0", "id": ping["id"], "result": {}}))
        .await;
    assert!(text(&p.response(json!(4)).await).starts_with("the client answered ping"));

    p.send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_roots"}})).await;
    let r = p
        .wait_for("roots request", |v| v["method"] == "roots/list")
        .await;
    p.send(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32603, "message": "no roots here"}})).await;
    let refused = p.response(json!(3)).await;
    assert_eq!(refused["result"]["isError"], true);
    assert!(p.close().await.success());
}

#[tokio::test]
async fn cancellation_stops_a_slow_tool_and_the_server_keeps_answering() {
    let mut p = Peer::spawn();
    p.initialize("2025-06-18", json!({})).await;
    p.send(json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {"name": "slow_count", "arguments": {"steps": 500, "delay_ms": 20}, "_meta": {"progressToken": 1}}})).await;
    p.notification("notifications/progress").await;
    p.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow", "reason": "test"}})).await;
    assert_eq!(
        p.request(json!("after"), "ping", json!({})).await["result"],
        json!({})
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late: Vec<Value> = p
        .drain_seen()
        .into_iter()
        .filter(|v| v.get("id") == Some(&json!("slow")))
        .collect();
    assert!(
        late.is_empty(),
        "a cancelled request gets no response: {late:?}"
    );
    assert!(p.close().await.success());
}

#[tokio::test]
async fn list_changes_reach_legacy_sessions_and_modern_listeners() {
    let mut p = Peer::spawn();
    p.initialize("2025-11-25", json!({})).await;
    assert_eq!(
        text(
            &p.request(json!(1), "tools/call", json!({"name": "toggle_extra"}))
                .await
        ),
        "added extra"
    );
    p.notification("notifications/tools/list_changed").await;
    assert_eq!(
        text(
            &p.request(json!(2), "tools/call", json!({"name": "extra"}))
                .await
        ),
        "extra!"
    );

    // A modern listener on the same process.
    p.send(json!({"jsonrpc": "2.0", "id": "L1", "method": "subscriptions/listen", "params": {"_meta": meta(json!({})), "notifications": {"toolsListChanged": true, "promptsListChanged": false}}})).await;
    let ack = p
        .notification("notifications/subscriptions/acknowledged")
        .await;
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L1"
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true})
    );
    assert_eq!(
        text(
            &p.request(
                json!(3),
                "tools/call",
                json!({"_meta": meta(json!({})), "name": "toggle_extra"})
            )
            .await
        ),
        "removed extra"
    );
    let tagged = p
        .wait_for("tagged list_changed", |v| {
            v["method"] == "notifications/tools/list_changed"
                && v["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1"
        })
        .await;
    assert!(tagged.get("id").is_none());
    p.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "L1"}})).await;
    assert_eq!(
        p.request(json!(4), "ping", json!({})).await["result"],
        json!({})
    );
    assert!(p.close().await.success());
}

#[tokio::test]
async fn end_of_input_finishes_in_flight_work_and_exits_zero() {
    let mut p = Peer::spawn();
    p.initialize("2025-03-26", json!({})).await;
    p.send(json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "slow_count", "arguments": {"steps": 3, "delay_ms": 50}}})).await;
    // A listen stream open at end of input ends with its final result.
    p.send(json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": {"_meta": meta(json!({})), "notifications": {"toolsListChanged": true}}})).await;
    p.notification("notifications/subscriptions/acknowledged")
        .await;
    drop(p.stdin.take());
    assert_eq!(text(&p.response(json!(9)).await), "counted to 3");
    let end = p.response(json!("L")).await;
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
    assert!(p.close().await.success());
}

#[tokio::test]
async fn bad_input_gets_the_right_errors_and_the_process_keeps_answering() {
    let mut p = Peer::spawn();
    // Before initialize: a legacy request without _meta is refused; ping is allowed.
    let early = p.request(json!(1), "tools/list", json!({})).await;
    assert_eq!(early["error"]["code"], -32602);
    assert_eq!(
        p.request(json!(2), "ping", json!({})).await["result"],
        json!({})
    );
    p.initialize("2025-11-25", json!({})).await;

    p.raw(b"this is not json").await;
    let e = p
        .wait_for("parse error", |v| v["error"]["code"] == -32700)
        .await;
    assert!(e["id"].is_null());
    p.raw(br#"{"jsonrpc":"2.0","id":3,"method":7}"#).await;
    assert_eq!(p.response(json!(3)).await["error"]["code"], -32600);
    assert_eq!(
        p.request(json!(4), "no/such/method", json!({})).await["error"]["code"],
        -32601
    );
    assert_eq!(
        p.request(json!(5), "tools/call", json!({"name": 5})).await["error"]["code"],
        -32602
    );
    assert_eq!(
        p.request(json!(6), "tools/call", json!(["echo"])).await["error"]["code"],
        -32602
    );

    // A 20 MiB line is refused and skipped; the connection stays usable.
    let mut huge = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 20 * 1024 * 1024));
    huge.extend(br#""}}}"#);
    p.raw(&huge).await;
    let too_big = p
        .wait_for("too-large error", |v| {
            v["error"]["code"] == -32600 && v["id"].is_null()
        })
        .await;
    assert!(
        too_big["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds"),
        "{too_big}"
    );
    assert_eq!(
        text(
            &p.request(
                json!(8),
                "tools/call",
                json!({"name": "echo", "arguments": {"text": "still here"}})
            )
            .await
        ),
        "still here"
    );

    // A burst of 10,000 requests: every one answered, with its own id.
    let mut burst = Vec::new();
    for i in 0..10_000 {
        burst.extend(serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 100_000 + i, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": i.to_string()}}})).unwrap());
        burst.push(b'\n');
    }
    let stdin = p.stdin.as_mut().unwrap();
    stdin.write_all(&burst).await.unwrap();
    stdin.flush().await.unwrap();
    let mut answered = std::collections::HashSet::new();
    while answered.len() < 10_000 {
        let v = p
            .wait_for("burst response", |v| {
                v["id"].as_i64().is_some_and(|i| i >= 100_000)
            })
            .await;
        let id = v["id"].as_i64().unwrap();
        assert_eq!(text(&v), (id - 100_000).to_string());
        assert!(answered.insert(id), "duplicate response {id}");
    }
    assert!(p.close().await.success());
}
