//! What the client tests share: handlers that answer the example server's questions, and the
//! walk through everything the example server offers, for any transport.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mcp_client::{
    CallOptions, Client, ClientError, ClientOptions, EraPreference, ErrorKind, Handlers,
};
use mcp_protocol::types::*;
use mcp_protocol::{Era, McpError};
use serde_json::{Value, json};

pub fn handlers() -> Handlers {
    Handlers::default()
        .on_elicitation(false, |p| async move {
            let ElicitRequestParams::Form(form) = p else {
                return Err(McpError::invalid_params("form only"));
            };
            assert!(form.requested_schema.properties.contains_key("name"));
            Ok(ElicitResult::accept(BTreeMap::from([(
                "name".to_owned(),
                ElicitValue::String("Ada".into()),
            )])))
        })
        .on_sampling(|p| async move {
            assert_eq!(p.max_tokens, 100);
            Ok(CreateMessageResult {
                role: Role::Assistant,
                content: SamplingContent::text("short"),
                model: "test-model".into(),
                stop_reason: Some("endTurn".into()),
                meta: None,
            })
        })
        .on_roots(|| async {
            Ok(ListRootsResult {
                roots: vec![Root {
                    uri: "file:///work".into(),
                    name: None,
                    meta: None,
                }],
                meta: None,
            })
        })
}

pub fn options(era: EraPreference) -> ClientOptions {
    ClientOptions {
        era,
        handlers: handlers(),
        ..ClientOptions::default()
    }
}

pub fn text(r: &CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

/// Everything the example server offers, checked through `client` in the era it settled on.
pub async fn exercise(client: &Client, expect: Era) {
    let session = client.session().unwrap();
    assert_eq!(session.era(), expect);
    assert_eq!(session.server_info.as_ref().unwrap().name, "example-server");
    let tools = client.list_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .any(|t| t.name == "add" && t.output_schema.is_some())
    );
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(sum.structured_content, Some(json!({"sum": 5.0})));
    assert_eq!(
        text(&client.call_tool("ask_name", Value::Null).await.unwrap()),
        "Hello, Ada!"
    );
    assert_eq!(
        text(
            &client
                .call_tool("summarize", json!({"text": "long"}))
                .await
                .unwrap()
        ),
        "Summary from test-model: short"
    );
    assert_eq!(
        text(&client.call_tool("list_roots", Value::Null).await.unwrap()),
        "file:///work"
    );
    let failed = client.call_tool("fail", Value::Null).await.unwrap();
    assert!(failed.is_error());
    let unknown = client.call_tool("nope", Value::Null).await.unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.kind()),
        (Some(-32602), ErrorKind::Validation)
    );
    let read = client.read_resource("memo://notes/alpha").await.unwrap();
    assert_eq!(read.contents[0].uri(), "memo://notes/alpha");
    let missing = client.read_resource("memo://nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Resource);
    assert_eq!(client.list_resources().await.unwrap().len(), 2);
    assert_eq!(client.list_resource_templates().await.unwrap().len(), 1);
    assert_eq!(client.list_prompts().await.unwrap()[0].name, "greet");
    let prompt = client
        .get_prompt(
            "greet",
            BTreeMap::from([("name".to_owned(), "Bo".to_owned())]),
        )
        .await
        .unwrap();
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("Please greet Bo warmly.")
    );
    let done = client
        .complete(
            CompletionReference::Prompt {
                name: "greet".into(),
                title: None,
            },
            "name",
            "C",
        )
        .await
        .unwrap();
    assert_eq!(done.values, vec!["Carol".to_owned()]);

    // Progress callbacks, in order.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = CallOptions {
        progress: Some(Box::new(move |p| sink.lock().unwrap().push(p.progress))),
        ..CallOptions::default()
    };
    let r = client
        .call_tool_with("slow_count", json!({"steps": 3, "delay_ms": 10}), &opts)
        .await
        .unwrap();
    assert_eq!(text(&r), "counted to 3");
    assert_eq!(*seen.lock().unwrap(), vec![1.0, 2.0, 3.0]);

    // A timeout fails the call, cancels it at the server, and the connection keeps working.
    let opts = CallOptions {
        timeout: Some(Duration::from_millis(100)),
        ..CallOptions::default()
    };
    let slow = client
        .call_tool_with("slow_count", json!({"steps": 100, "delay_ms": 50}), &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(slow, ClientError::Timeout { .. }) && slow.is_retryable(),
        "{slow:?}"
    );
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"text": "ok"}))
                .await
                .unwrap()
        ),
        "ok"
    );

    // Many calls in flight at once.
    let calls = (0..50).map(|i| {
        let c = client.clone();
        async move {
            c.call_tool("echo", json!({"text": i.to_string()}))
                .await
                .map(|r| text(&r).to_owned())
        }
    });
    let results = futures_join(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), i.to_string());
    }
}

pub async fn futures_join<F: Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
