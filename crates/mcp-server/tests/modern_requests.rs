//! 2026-07-28 requests on the in-memory wire: input requests the handler names
//! (`Client::named`), and methods the revision removed.

use std::time::Duration;

use mcp_protocol::types::{
    CreateMessageRequestParams, ElicitRequestFormParams, ElicitRequestParams, ElicitationSchema,
    SamplingContentBlock,
};
use mcp_server::{Client, Router, Server, Tool, ToolError};
use mcp_transport::{FrameReader, FrameWriter};
use serde_json::{Value, json};

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

    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.writer
            .send(&serde_json::to_vec(&msg).unwrap())
            .await
            .unwrap();
        self.writer.flush().await.unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.reader.next())
                .await
                .expect("a message in time");
            let v: Value = serde_json::from_slice(&frame.expect("open").expect("framed")).unwrap();
            if v["id"] == id {
                return v;
            }
        }
    }
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}, "roots": {}},
    })
}

fn name_form() -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams {
        mode: None,
        message: "Your name?".into(),
        requested_schema: ElicitationSchema::default(),
        task: None,
        meta: None,
    })
}

/// Asks a named elicitation, a named sampling call and an unnamed roots request at once.
async fn three_at_once(client: Client) -> Result<String, ToolError> {
    let form = name_form();
    let (for_name, for_greeting) = (client.named("user_name"), client.named("greeting"));
    let (name, reply, roots) = tokio::join!(
        for_name.elicit(form),
        for_greeting.sample(CreateMessageRequestParams::user_text("Greet", 10)),
        client.roots(),
    );
    let (name, reply, roots) = (name?, reply?, roots?);
    let text = reply.content.blocks().iter().find_map(|b| match b {
        SamplingContentBlock::Text(t) => Some(t.text.clone()),
        _ => None,
    });
    Ok(format!(
        "{:?} {} {}",
        name.action,
        text.unwrap_or_default(),
        roots.roots.len()
    ))
}

#[tokio::test]
async fn named_input_requests_use_the_handlers_keys_in_one_round() {
    let router = Router::new().tool(Tool::new("three").handler(three_at_once));
    let mut w = Wire::serve(Server::new("t", "1", router));

    let first = w
        .request(
            1,
            "tools/call",
            json!({"name": "three", "arguments": {}, "_meta": meta()}),
        )
        .await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let requests = result["inputRequests"].as_object().unwrap();
    let mut keys: Vec<&str> = requests.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["greeting", "input-0", "user_name"]);
    assert_eq!(requests["user_name"]["method"], "elicitation/create");
    assert_eq!(requests["greeting"]["method"], "sampling/createMessage");
    assert_eq!(requests["input-0"]["method"], "roots/list");

    let answers = json!({
        "user_name": {"action": "accept", "content": {"name": "Ada"}},
        "greeting": {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"},
        "input-0": {"roots": [{"uri": "file:///r"}]},
    });
    let second = w
        .request(
            2,
            "tools/call",
            json!({
                "name": "three",
                "arguments": {},
                "inputResponses": answers,
                "requestState": result["requestState"],
                "_meta": meta(),
            }),
        )
        .await;
    assert_eq!(second["result"]["resultType"], "complete", "{second}");
    assert_eq!(second["result"]["content"][0]["text"], "Accept hi 1");
}

#[tokio::test]
async fn a_retry_answering_under_another_key_is_asked_again() {
    async fn ask(client: Client) -> Result<String, ToolError> {
        let form = name_form();
        let answer = client.named("user_name").elicit(form).await?;
        Ok(format!("{:?}", answer.action))
    }
    let router = Router::new().tool(Tool::new("ask").handler(ask));
    let mut w = Wire::serve(Server::new("t", "1", router));
    let r = w
        .request(
            1,
            "tools/call",
            json!({
                "name": "ask",
                "arguments": {},
                "inputResponses": {"wrong_key": {"action": "accept", "content": {}}},
                "_meta": meta(),
            }),
        )
        .await;
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    assert!(r["result"]["inputRequests"]["user_name"].is_object());
}

#[tokio::test]
async fn methods_removed_in_2026_are_not_found_whatever_their_params() {
    let mut w = Wire::serve(Server::new("t", "1", Router::new()));
    for (id, method) in [
        (1, "initialize"),
        (2, "logging/setLevel"),
        (3, "resources/subscribe"),
        (4, "resources/unsubscribe"),
        (5, "ping"),
    ] {
        // Only `_meta`: none of these has the params its legacy form needs.
        let r = w.request(id, method, json!({"_meta": meta()})).await;
        assert_eq!(r["error"]["code"], -32601, "{method}: {r}");
        assert_eq!(r["id"], id);
    }
    // The same methods without a modern `_meta` are still the legacy ones.
    let r = w
        .request(
            6,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}),
        )
        .await;
    assert_eq!(r["result"]["protocolVersion"], "2025-11-25", "{r}");
}
