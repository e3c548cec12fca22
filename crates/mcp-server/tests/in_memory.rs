//! The server over in-memory pipes and sockets: pagination, composition, run-time changes and
//! the TCP and Unix listeners.

use std::time::Duration;

use mcp_server::{Args, Router, Server, ServerOptions, Tool};
use mcp_transport::{FrameReader, FrameWriter};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A raw JSON-lines client on one end of a framed pipe.
struct Wire {
    reader: FrameReader<mcp_transport::BoxReader>,
    writer: FrameWriter<mcp_transport::BoxWriter>,
}

impl Wire {
    fn serve(server: Server) -> Self {
        let ((reader, writer), (sr, sw)) = mcp_transport::duplex(1 << 20);
        tokio::spawn(server.serve(sr, sw));
        Self { reader, writer }
    }

    async fn send(&mut self, v: Value) {
        self.writer
            .send(&serde_json::to_vec(&v).unwrap())
            .await
            .unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(Duration::from_secs(10), self.reader.next())
            .await
            .expect("a message in time");
        serde_json::from_slice(&frame.expect("open").expect("framed")).unwrap()
    }

    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let v = self.next().await;
            if v["id"] == id {
                return v;
            }
        }
    }

    async fn init(&mut self) {
        let r = self.request(0, "initialize", json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})).await;
        assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
    }
}

#[derive(Deserialize, JsonSchema)]
struct N {
    n: i64,
}

fn numbered(count: usize) -> Router {
    (0..count).fold(Router::new(), |r, i| {
        r.tool(Tool::new(format!("t{i:03}")).handler(|| async { "ok" }))
    })
}

#[tokio::test]
async fn lists_page_with_opaque_cursors_in_a_stable_order() {
    let options = ServerOptions {
        page_size: 4,
        ..ServerOptions::default()
    };
    let server = Server::with_options(
        mcp_protocol::types::Implementation::new("t", "1"),
        numbered(10),
        options,
    );
    let mut w = Wire::serve(server);
    w.init().await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let r = w.request(1 + pages, "tools/list", params).await;
        pages += 1;
        names.extend(
            r["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned()),
        );
        match r["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..10).map(|i| format!("t{i:03}")).collect();
    assert_eq!(names, expected);
    let bad = w
        .request(99, "tools/list", json!({"cursor": "not-a-cursor!"}))
        .await;
    assert_eq!(bad["error"]["code"], -32602);
}

#[tokio::test]
async fn merge_and_nest_compose_routers() {
    let math = Router::new()
        .tool(Tool::new("double").handler(|Args(a): Args<N>| async move { (a.n * 2).to_string() }));
    let text = Router::new().tool(Tool::new("shout").handler(|| async { "HEY" }));
    let router = Router::new().merge(text).nest("math", math);
    assert!(
        router.has_tool("shout") && router.has_tool("math_double") && !router.has_tool("double")
    );
    let mut w = Wire::serve(Server::new("t", "1", router));
    w.init().await;
    let r = w
        .request(
            1,
            "tools/call",
            json!({"name": "math_double", "arguments": {"n": 21}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "42");
}

#[tokio::test]
async fn tools_added_at_run_time_are_announced() {
    let router = Router::new();
    let handle = router.clone();
    let mut w = Wire::serve(Server::new("t", "1", router));
    w.init().await;
    handle.add_tool(Tool::new("late").handler(|| async { "here" }));
    let note = w.next().await;
    assert_eq!(note["method"], "notifications/tools/list_changed");
    let r = w.request(1, "tools/call", json!({"name": "late"})).await;
    assert_eq!(r["result"]["content"][0]["text"], "here");
    assert!(handle.remove_tool("late"));
    assert_eq!(w.next().await["method"], "notifications/tools/list_changed");
    let r = w.request(2, "tools/call", json!({"name": "late"})).await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn batches_are_answered_with_an_array_in_2025_03_26() {
    let mut w = Wire::serve(Server::new("t", "1", numbered(1)));
    let r = w.request(0, "initialize", json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})).await;
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    w.writer.send(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t000"}},{"jsonrpc":"2.0","method":"notifications/initialized"}]"#).await.unwrap();
    w.writer.flush().await.unwrap();
    let answer = w.next().await;
    let ids: Vec<i64> = answer
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&1) && ids.contains(&2));
}

async fn exchange_lines<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
) -> Vec<Value> {
    let (r, mut wr) = tokio::io::split(stream);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let call =
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "t000"}});
    for m in [init, call] {
        wr.write_all(format!("{m}\n").as_bytes()).await.unwrap();
    }
    let mut lines = BufReader::new(r).lines();
    let mut out = Vec::new();
    while out.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        out.push(serde_json::from_str(&line).unwrap());
    }
    out
}

#[tokio::test]
async fn serves_tcp_and_unix_sockets_with_the_same_framing() {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    tokio::spawn(Server::new("t", "1", numbered(1)).serve_tcp(tcp));
    let replies = exchange_lines(tokio::net::TcpStream::connect(addr).await.unwrap()).await;
    assert_eq!(
        replies.iter().find(|v| v["id"] == 2).unwrap()["result"]["content"][0]["text"],
        "ok"
    );

    let dir = std::env::temp_dir().join(format!("mcp-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("server.sock");
    let _ = std::fs::remove_file(&path);
    let unix = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(Server::new("t", "1", numbered(1)).serve_unix(unix));
    let replies = exchange_lines(tokio::net::UnixStream::connect(&path).await.unwrap()).await;
    assert_eq!(
        replies.iter().find(|v| v["id"] == 2).unwrap()["result"]["content"][0]["text"],
        "ok"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
