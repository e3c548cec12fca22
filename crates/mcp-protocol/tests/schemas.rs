//! Schema validation: for each revision, a message of every method that revision has, built with
//! our types and serialized for that revision, validates against
//! `$MCP_SPEC_DIR/<revision>/schema.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mcp_protocol::jsonrpc::{ErrorResponse, Notification, Request, Response};
use mcp_protocol::meta::{Meta, ProgressToken, RelatedTask};
use mcp_protocol::methods::{self, Kind};
use mcp_protocol::types::experimental_tasks::{
    LegacyTask, LegacyTaskIdParams, LegacyTaskState, ListTasksResult,
};
use mcp_protocol::types::tasks::TaskStatus;
use mcp_protocol::types::*;
use mcp_protocol::{
    ErrorObject, ForRevision, JsonObject, McpError, ProtocolVersion as V, UnsupportedVersion,
};
use serde::Serialize;
use serde_json::{Value, json};

fn spec_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec"));
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("MCP_REQUIRE_SPEC").is_some() {
        panic!(
            "MCP spec folder {} is missing (MCP_REQUIRE_SPEC is set)",
            dir.display()
        );
    } else {
        eprintln!(
            "NOTE: schema tests did NOT run: spec folder {} not found (set MCP_SPEC_DIR)",
            dir.display()
        );
        None
    }
}

fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn request_meta(rev: V) -> Option<Meta> {
    let mut meta = Meta {
        progress_token: Some(ProgressToken::Number(1)),
        ..Meta::default()
    };
    if rev.is_modern() {
        meta.protocol_version = Some(rev.as_str().into());
        meta.client_capabilities = Some(Box::new(client_caps(rev)));
        meta.client_info = Some(Box::new(implementation()));
        meta.log_level = Some(LoggingLevel::Info);
        meta.traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
    }
    Some(meta)
}

fn result_meta(rev: V) -> Option<Meta> {
    rev.is_modern().then(|| Meta {
        server_info: Some(Box::new(implementation())),
        ..Meta::default()
    })
}

fn icon() -> Icon {
    Icon {
        src: "https://example.com/i.png".into(),
        mime_type: Some("image/png".into()),
        sizes: Some(vec!["48x48".into()]),
        theme: Some(IconTheme::Dark),
    }
}

fn implementation() -> Implementation {
    Implementation {
        title: Some("Example".into()),
        description: Some("An example".into()),
        icons: Some(vec![icon()]),
        website_url: Some("https://example.com".into()),
        ..Implementation::new("example", "1.0.0")
    }
}

fn client_caps(rev: V) -> ClientCapabilities {
    let empty = Some(JsonObject::new());
    ClientCapabilities {
        experimental: Some(BTreeMap::from([("x".to_owned(), JsonObject::new())])),
        roots: Some(RootsCapability { list_changed: Some(true) }),
        sampling: Some(SamplingCapability { context: empty.clone(), tools: empty.clone() }),
        elicitation: Some(ElicitationCapability { form: empty.clone(), url: empty.clone() }),
        tasks: (rev == V::V2025_11_25).then(|| serde_json::from_value(json!({"list": {}, "cancel": {}, "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}})).unwrap()),
        extensions: Some(BTreeMap::from([("io.modelcontextprotocol/tasks".to_owned(), JsonObject::new())])),
        ..ClientCapabilities::default()
    }
}

fn server_caps() -> ServerCapabilities {
    ServerCapabilities {
        experimental: Some(BTreeMap::new()),
        logging: Some(JsonObject::new()),
        completions: Some(JsonObject::new()),
        prompts: Some(PromptsCapability {
            list_changed: Some(true),
        }),
        resources: Some(ResourcesCapability {
            subscribe: Some(true),
            list_changed: Some(true),
        }),
        tools: Some(ToolsCapability {
            list_changed: Some(true),
        }),
        tasks: Some(
            serde_json::from_value(
                json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}),
            )
            .unwrap(),
        ),
        extensions: Some(BTreeMap::from([(
            "io.modelcontextprotocol/tasks".to_owned(),
            JsonObject::new(),
        )])),
        ..ServerCapabilities::default()
    }
}

fn annotations() -> Annotations {
    Annotations {
        audience: Some(vec![Role::User, Role::Assistant]),
        priority: Some(0.5),
        last_modified: Some("2025-01-12T15:00:58Z".into()),
    }
}

fn tool() -> Tool {
    Tool {
        title: Some("Weather".into()),
        description: Some("Gets weather".into()),
        output_schema: Some(obj(
            json!({"type": "object", "properties": {"t": {"type": "number"}}}),
        )),
        annotations: Some(ToolAnnotations {
            title: Some("W".into()),
            read_only_hint: Some(true),
            ..Default::default()
        }),
        execution: Some(ToolExecution {
            task_support: Some(TaskSupport::Optional),
        }),
        icons: Some(vec![icon()]),
        ..Tool::new(
            "get_weather",
            obj(
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
        )
    }
}

fn array_output_tool() -> Tool {
    Tool {
        output_schema: Some(obj(json!({"type": "array", "items": {"type": "string"}}))),
        ..Tool::new(
            "list_names",
            obj(json!({"type": "object", "additionalProperties": false})),
        )
    }
}

fn every_content() -> Vec<ContentBlock> {
    let mut text = ContentBlock::text("hello");
    if let ContentBlock::Text(t) = &mut text {
        t.annotations = Some(annotations());
    }
    let mut link = ContentBlock::resource_link("file:///a.txt", "a");
    if let ContentBlock::ResourceLink(l) = &mut link {
        l.mime_type = Some("text/plain".into());
        l.icons = Some(vec![icon()]);
    }
    vec![
        text,
        ContentBlock::image(b"\x89PNG", "image/png"),
        ContentBlock::audio(b"RIFF", "audio/wav"),
        link,
        ContentBlock::resource(ResourceContents::text(
            "file:///b.txt",
            Some("text/plain"),
            "b",
        )),
        ContentBlock::resource(ResourceContents::blob(
            "file:///c.bin",
            Some("application/octet-stream"),
            b"\x00\x01",
        )),
    ]
}

fn form_schema() -> ElicitationSchema {
    serde_json::from_value(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 1, "format": "email", "default": "a@b.c"},
            "age": {"type": "integer", "minimum": 0, "default": 30},
            "ok": {"type": "boolean", "default": true},
            "color": {"type": "string", "enum": ["red", "green"], "default": "red"},
            "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1},
            "langs": {"type": "array", "items": {"anyOf": [{"const": "en", "title": "English"}]}},
            "legacy": {"type": "string", "enum": ["x", "y"], "enumNames": ["X", "Y"]}
        },
        "required": ["name"]
    }))
    .unwrap()
}

fn elicit_params(rev: V) -> ElicitRequestParams {
    if rev >= V::V2025_11_25 {
        ElicitRequestParams::Url(ElicitRequestUrlParams {
            mode: UrlMode,
            message: "Please sign in".into(),
            url: "https://example.com/auth".into(),
            elicitation_id: Some("e1".into()),
            task: None,
            meta: None,
        })
    } else {
        form_elicit()
    }
}

fn form_elicit() -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams {
        mode: Some(FormMode),
        message: "Who?".into(),
        requested_schema: form_schema(),
        task: None,
        meta: None,
    })
}

fn sampling_params(rev: V) -> CreateMessageRequestParams {
    let mut p = CreateMessageRequestParams::user_text("What is 2+2?", 100);
    p.model_preferences = Some(ModelPreferences {
        hints: Some(vec![ModelHint {
            name: Some("claude".into()),
        }]),
        cost_priority: Some(0.2),
        speed_priority: Some(0.5),
        intelligence_priority: Some(0.9),
    });
    p.system_prompt = Some("Be brief".into());
    p.include_context = Some(IncludeContext::None);
    p.temperature = Some(0.7);
    p.stop_sequences = Some(vec!["\n".into()]);
    p.metadata = Some(JsonObject::new());
    if rev >= V::V2025_11_25 {
        p.tools = Some(vec![tool()]);
        p.tool_choice = Some(ToolChoice {
            mode: Some(ToolChoiceMode::Auto),
        });
        p.messages.push(SamplingMessage {
            role: Role::Assistant,
            content: SamplingContent::Many(vec![SamplingContentBlock::ToolUse(ToolUseContent {
                id: "t1".into(),
                name: "get_weather".into(),
                input: obj(json!({"city": "Oslo"})),
                meta: None,
            })]),
            meta: None,
        });
        p.messages.push(SamplingMessage {
            role: Role::User,
            content: SamplingContent::Many(vec![SamplingContentBlock::ToolResult(
                ToolResultContent {
                    tool_use_id: "t1".into(),
                    content: vec![ContentBlock::text("4C")],
                    structured_content: Some(json!({"t": 4})),
                    is_error: Some(false),
                    meta: None,
                },
            )]),
            meta: None,
        });
    }
    p
}

fn legacy_task() -> LegacyTask {
    LegacyTask {
        task_id: "t1".into(),
        status: TaskStatus::Working,
        status_message: Some("going".into()),
        created_at: "2025-11-25T10:00:00Z".into(),
        last_updated_at: "2025-11-25T10:00:01Z".into(),
        ttl: None,
        poll_interval: Some(500),
    }
}

fn cached<T: Cacheable>(mut r: T) -> T {
    r.set_cache(60_000, CacheScope::Public);
    r
}

/// `(schema definition, message)` pairs for one method in one revision.
fn samples(method: &str, kind: Kind, rev: V) -> Vec<(&'static str, Value)> {
    fn ser<T: Serialize>(v: &T, rev: V) -> Value {
        serde_json::to_value(ForRevision::new(v, rev)).expect("serialize")
    }
    fn req<P: Serialize>(
        def: &'static str,
        method: &'static str,
        p: P,
        rev: V,
    ) -> (&'static str, Value) {
        (def, ser(&Request::new(7, method, p), rev))
    }
    fn res<R: Serialize>(def: &'static str, r: R, rev: V) -> (&'static str, Value) {
        (def, ser(&r, rev))
    }
    fn note<P: Serialize>(
        def: &'static str,
        method: &'static str,
        p: P,
        rev: V,
    ) -> (&'static str, Value) {
        (def, ser(&Notification::new(method, p), rev))
    }
    let meta = request_meta(rev);
    let rmeta = result_meta(rev);
    let paginated = PaginatedRequestParams {
        cursor: Some("page-2".into()),
        meta: meta.clone(),
    };
    let only_meta = RequestParams { meta: meta.clone() };
    let modern = rev.is_modern();
    match (method, kind) {
        ("initialize", _) => vec![
            req(
                "InitializeRequest",
                "initialize",
                InitializeRequestParams {
                    protocol_version: rev.as_str().into(),
                    capabilities: client_caps(rev),
                    client_info: implementation(),
                    meta: None,
                },
                rev,
            ),
            res(
                "InitializeResult",
                InitializeResult {
                    protocol_version: rev.as_str().into(),
                    capabilities: server_caps(),
                    server_info: implementation(),
                    instructions: Some("Use me".into()),
                    meta: None,
                },
                rev,
            ),
        ],
        ("ping", _) => vec![
            req("PingRequest", "ping", only_meta, rev),
            res("EmptyResult", EmptyResult::default(), rev),
        ],
        ("server/discover", _) => vec![
            req("DiscoverRequest", "server/discover", only_meta, rev),
            res(
                "DiscoverResult",
                cached(DiscoverResult {
                    supported_versions: vec!["2026-07-28".into()],
                    capabilities: server_caps(),
                    instructions: Some("Use me".into()),
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("tools/list", _) => vec![
            req("ListToolsRequest", "tools/list", paginated, rev),
            res(
                "ListToolsResult",
                cached(ListToolsResult {
                    tools: vec![tool(), array_output_tool()],
                    next_cursor: Some("page-3".into()),
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("tools/call", _) => {
            let mut params = CallToolRequestParams {
                name: "get_weather".into(),
                arguments: Some(obj(json!({"city": "Oslo"}))),
                meta,
                ..Default::default()
            };
            if modern {
                params.input_responses = Some(BTreeMap::from([
                    (
                        "who".to_owned(),
                        InputResponse::Elicit(ElicitResult::accept(BTreeMap::from([
                            ("name".to_owned(), ElicitValue::String("a".into())),
                            ("tags".to_owned(), ElicitValue::Strings(vec!["a".into()])),
                        ]))),
                    ),
                    (
                        "roots".to_owned(),
                        InputResponse::ListRoots(ListRootsResult {
                            roots: vec![Root {
                                uri: "file:///r".into(),
                                name: Some("r".into()),
                                meta: None,
                            }],
                            meta: None,
                        }),
                    ),
                ]));
                params.request_state = Some("opaque".into());
            }
            if rev == V::V2025_11_25 {
                params.task = Some(TaskMetadata { ttl: Some(60_000) });
            }
            let mut out = vec![
                req("CallToolRequest", "tools/call", params, rev),
                res(
                    "CallToolResult",
                    CallToolResult {
                        content: every_content(),
                        structured_content: Some(json!({"t": 4})),
                        is_error: Some(false),
                        meta: rmeta.clone().map(Box::new),
                        ..Default::default()
                    },
                    rev,
                ),
                res(
                    "CallToolResult",
                    CallToolResult::structured(json!(["array", "content"])),
                    rev,
                ),
                res("CallToolResult", CallToolResult::error("failed"), rev),
            ];
            if modern {
                let input = InputRequiredResult {
                    input_requests: Some(BTreeMap::from([
                        ("who".to_owned(), InputRequest::elicit(form_elicit())),
                        (
                            "model".to_owned(),
                            InputRequest::create_message(sampling_params(rev)),
                        ),
                        ("roots".to_owned(), InputRequest::list_roots()),
                    ])),
                    request_state: Some("opaque".into()),
                    meta: rmeta,
                    ..Default::default()
                };
                out.push(res("InputRequiredResult", input, rev));
            }
            out
        }
        ("resources/list", _) => vec![
            req("ListResourcesRequest", "resources/list", paginated, rev),
            res(
                "ListResourcesResult",
                cached(ListResourcesResult {
                    resources: vec![Resource {
                        title: Some("A".into()),
                        description: Some("d".into()),
                        mime_type: Some("text/plain".into()),
                        size: Some(3),
                        icons: Some(vec![icon()]),
                        annotations: Some(annotations()),
                        ..Resource::new("file:///a.txt", "a")
                    }],
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("resources/templates/list", _) => vec![
            req(
                "ListResourceTemplatesRequest",
                "resources/templates/list",
                paginated,
                rev,
            ),
            res(
                "ListResourceTemplatesResult",
                cached(ListResourceTemplatesResult {
                    resource_templates: vec![ResourceTemplate {
                        uri_template: "file:///{path}".into(),
                        name: "files".into(),
                        title: Some("Files".into()),
                        mime_type: Some("text/plain".into()),
                        icons: Some(vec![icon()]),
                        annotations: Some(annotations()),
                        ..Default::default()
                    }],
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("resources/read", _) => vec![
            req(
                "ReadResourceRequest",
                "resources/read",
                ReadResourceRequestParams {
                    uri: "file:///a.txt".into(),
                    meta,
                    request_state: modern.then(|| "s".into()),
                    ..Default::default()
                },
                rev,
            ),
            res(
                "ReadResourceResult",
                cached(ReadResourceResult {
                    contents: vec![
                        ResourceContents::text("file:///a.txt", Some("text/plain"), "a"),
                        ResourceContents::blob("file:///a.bin", None, b"\x01"),
                    ],
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("resources/subscribe" | "resources/unsubscribe", _) => {
            let def = if method == "resources/subscribe" {
                "SubscribeRequest"
            } else {
                "UnsubscribeRequest"
            };
            let m: &'static str = if method == "resources/subscribe" {
                "resources/subscribe"
            } else {
                "resources/unsubscribe"
            };
            vec![
                req(
                    def,
                    m,
                    SubscribeRequestParams {
                        uri: "file:///a.txt".into(),
                        meta,
                    },
                    rev,
                ),
                res("EmptyResult", EmptyResult::default(), rev),
            ]
        }
        ("prompts/list", _) => vec![
            req("ListPromptsRequest", "prompts/list", paginated, rev),
            res(
                "ListPromptsResult",
                cached(ListPromptsResult {
                    prompts: vec![Prompt {
                        title: Some("Greet".into()),
                        description: Some("d".into()),
                        arguments: Some(vec![PromptArgument {
                            name: "who".into(),
                            title: Some("Who".into()),
                            description: Some("d".into()),
                            required: Some(true),
                            ..Default::default()
                        }]),
                        icons: Some(vec![icon()]),
                        ..Prompt {
                            name: "greet".into(),
                            ..Default::default()
                        }
                    }],
                    meta: rmeta,
                    ..Default::default()
                }),
                rev,
            ),
        ],
        ("prompts/get", _) => vec![
            req(
                "GetPromptRequest",
                "prompts/get",
                GetPromptRequestParams {
                    name: "greet".into(),
                    arguments: Some(BTreeMap::from([("who".to_owned(), "you".to_owned())])),
                    meta,
                    ..Default::default()
                },
                rev,
            ),
            res(
                "GetPromptResult",
                GetPromptResult {
                    description: Some("d".into()),
                    messages: every_content()
                        .into_iter()
                        .map(|c| PromptMessage {
                            role: Role::User,
                            content: c,
                        })
                        .chain([PromptMessage::assistant("hi")])
                        .collect(),
                    meta: rmeta,
                    ..Default::default()
                },
                rev,
            ),
        ],
        ("completion/complete", _) => vec![
            req(
                "CompleteRequest",
                "completion/complete",
                CompleteRequestParams {
                    reference: CompletionReference::Prompt {
                        name: "greet".into(),
                        title: Some("Greet".into()),
                    },
                    argument: CompletionArgument {
                        name: "who".into(),
                        value: "y".into(),
                    },
                    context: Some(CompletionContext {
                        arguments: Some(BTreeMap::from([("lang".to_owned(), "en".to_owned())])),
                    }),
                    meta: meta.clone(),
                },
                rev,
            ),
            req(
                "CompleteRequest",
                "completion/complete",
                CompleteRequestParams {
                    reference: CompletionReference::Resource {
                        uri: "file:///{path}".into(),
                    },
                    argument: CompletionArgument {
                        name: "path".into(),
                        value: "a".into(),
                    },
                    context: None,
                    meta,
                },
                rev,
            ),
            res(
                "CompleteResult",
                CompleteResult {
                    completion: Completion::from_matches(
                        (0..150).map(|i| format!("v{i}")).collect(),
                    ),
                    meta: rmeta,
                    ..Default::default()
                },
                rev,
            ),
        ],
        ("logging/setLevel", _) => vec![
            req(
                "SetLevelRequest",
                "logging/setLevel",
                SetLevelRequestParams {
                    level: LoggingLevel::Warning,
                    meta,
                },
                rev,
            ),
            res("EmptyResult", EmptyResult::default(), rev),
        ],
        ("subscriptions/listen", _) => {
            let filter = SubscriptionFilter {
                tools_list_changed: Some(true),
                prompts_list_changed: Some(true),
                resources_list_changed: Some(true),
                resource_subscriptions: Some(vec!["file:///a.txt".into()]),
                ..Default::default()
            };
            let mut end = Meta {
                subscription_id: Some(7.into()),
                ..Meta::default()
            };
            end.server_info = Some(Box::new(implementation()));
            vec![
                req(
                    "SubscriptionsListenRequest",
                    "subscriptions/listen",
                    SubscriptionsListenRequestParams {
                        notifications: filter,
                        meta,
                    },
                    rev,
                ),
                res(
                    "SubscriptionsListenResult",
                    SubscriptionsListenResult {
                        meta: end,
                        ..Default::default()
                    },
                    rev,
                ),
            ]
        }
        ("sampling/createMessage", Kind::Request) => vec![
            req(
                "CreateMessageRequest",
                "sampling/createMessage",
                sampling_params(rev),
                rev,
            ),
            res(
                "CreateMessageResult",
                CreateMessageResult {
                    role: Role::Assistant,
                    content: SamplingContent::text("4"),
                    model: "claude".into(),
                    stop_reason: Some("endTurn".into()),
                    meta: None,
                },
                rev,
            ),
        ],
        ("roots/list", Kind::Request) => vec![
            req(
                "ListRootsRequest",
                "roots/list",
                RequestParams::default(),
                rev,
            ),
            res(
                "ListRootsResult",
                ListRootsResult {
                    roots: vec![Root {
                        uri: "file:///home".into(),
                        name: Some("home".into()),
                        meta: None,
                    }],
                    meta: None,
                },
                rev,
            ),
        ],
        ("elicitation/create", Kind::Request) => vec![
            req("ElicitRequest", "elicitation/create", form_elicit(), rev),
            req(
                "ElicitRequest",
                "elicitation/create",
                elicit_params(rev),
                rev,
            ),
            res("ElicitResult", ElicitResult::accept(form_answer(rev)), rev),
            res("ElicitResult", ElicitResult::decline(), rev),
        ],
        ("sampling/createMessage", Kind::InputRequest) => vec![
            res(
                "CreateMessageRequest",
                InputRequest::create_message(sampling_params(rev)),
                rev,
            ),
            res(
                "CreateMessageResult",
                CreateMessageResult {
                    role: Role::Assistant,
                    content: SamplingContent::text("4"),
                    model: "claude".into(),
                    stop_reason: Some("endTurn".into()),
                    meta: None,
                },
                rev,
            ),
        ],
        ("roots/list", Kind::InputRequest) => vec![
            res("ListRootsRequest", InputRequest::list_roots(), rev),
            res(
                "ListRootsResult",
                ListRootsResult {
                    roots: vec![Root {
                        uri: "file:///home".into(),
                        name: None,
                        meta: None,
                    }],
                    meta: None,
                },
                rev,
            ),
        ],
        ("elicitation/create", Kind::InputRequest) => vec![
            res("ElicitRequest", InputRequest::elicit(form_elicit()), rev),
            res("ElicitResult", ElicitResult::cancel(), rev),
        ],
        ("tasks/get", _) => vec![
            req(
                "GetTaskRequest",
                "tasks/get",
                LegacyTaskIdParams {
                    task_id: "t1".into(),
                },
                rev,
            ),
            res(
                "GetTaskResult",
                LegacyTaskState {
                    task: legacy_task(),
                    meta: None,
                },
                rev,
            ),
        ],
        ("tasks/result", _) => vec![
            req(
                "GetTaskPayloadRequest",
                "tasks/result",
                LegacyTaskIdParams {
                    task_id: "t1".into(),
                },
                rev,
            ),
            res(
                "GetTaskPayloadResult",
                obj(
                    json!({"content": [], "_meta": {"io.modelcontextprotocol/related-task": {"taskId": "t1"}}}),
                ),
                rev,
            ),
        ],
        ("tasks/list", _) => vec![
            req("ListTasksRequest", "tasks/list", paginated, rev),
            res(
                "ListTasksResult",
                ListTasksResult {
                    tasks: vec![legacy_task()],
                    next_cursor: None,
                    meta: None,
                },
                rev,
            ),
        ],
        ("tasks/cancel", _) => vec![
            req(
                "CancelTaskRequest",
                "tasks/cancel",
                LegacyTaskIdParams {
                    task_id: "t1".into(),
                },
                rev,
            ),
            res(
                "CancelTaskResult",
                LegacyTaskState {
                    task: LegacyTask {
                        status: TaskStatus::Cancelled,
                        ..legacy_task()
                    },
                    meta: Some(Meta {
                        related_task: Some(RelatedTask {
                            task_id: "t1".into(),
                        }),
                        ..Meta::default()
                    }),
                },
                rev,
            ),
        ],
        ("notifications/initialized", _) => vec![note(
            "InitializedNotification",
            "notifications/initialized",
            NotificationParams::default(),
            rev,
        )],
        ("notifications/cancelled", _) => vec![note(
            "CancelledNotification",
            "notifications/cancelled",
            CancelledNotificationParams {
                request_id: Some(7.into()),
                reason: Some("user".into()),
                meta: None,
            },
            rev,
        )],
        ("notifications/progress", _) => vec![note(
            "ProgressNotification",
            "notifications/progress",
            ProgressNotificationParams {
                progress_token: ProgressToken::String("p".into()),
                progress: 50.0,
                total: Some(100.0),
                message: Some("half".into()),
                meta: None,
            },
            rev,
        )],
        ("notifications/message", _) => vec![note(
            "LoggingMessageNotification",
            "notifications/message",
            LoggingMessageNotificationParams {
                level: LoggingLevel::Error,
                logger: Some("db".into()),
                data: json!({"e": 1}),
                meta: None,
            },
            rev,
        )],
        ("notifications/resources/list_changed", _) => vec![note(
            "ResourceListChangedNotification",
            "notifications/resources/list_changed",
            listen_params(rev),
            rev,
        )],
        ("notifications/tools/list_changed", _) => vec![note(
            "ToolListChangedNotification",
            "notifications/tools/list_changed",
            listen_params(rev),
            rev,
        )],
        ("notifications/prompts/list_changed", _) => vec![note(
            "PromptListChangedNotification",
            "notifications/prompts/list_changed",
            listen_params(rev),
            rev,
        )],
        ("notifications/resources/updated", _) => vec![note(
            "ResourceUpdatedNotification",
            "notifications/resources/updated",
            ResourceUpdatedNotificationParams {
                uri: "file:///a.txt".into(),
                meta: listen_params(rev).meta,
            },
            rev,
        )],
        ("notifications/roots/list_changed", _) => vec![note(
            "RootsListChangedNotification",
            "notifications/roots/list_changed",
            NotificationParams::default(),
            rev,
        )],
        ("notifications/elicitation/complete", _) => vec![note(
            "ElicitationCompleteNotification",
            "notifications/elicitation/complete",
            ElicitationCompleteNotificationParams {
                elicitation_id: "e1".into(),
            },
            rev,
        )],
        ("notifications/tasks/status", _) => vec![note(
            "TaskStatusNotification",
            "notifications/tasks/status",
            LegacyTaskState {
                task: legacy_task(),
                meta: None,
            },
            rev,
        )],
        ("notifications/subscriptions/acknowledged", _) => vec![note(
            "SubscriptionsAcknowledgedNotification",
            "notifications/subscriptions/acknowledged",
            SubscriptionsAcknowledgedNotificationParams {
                notifications: SubscriptionFilter {
                    tools_list_changed: Some(true),
                    ..Default::default()
                },
                meta: listen_params(rev).meta,
            },
            rev,
        )],
        other => panic!("no sample for {other:?}"),
    }
}

/// An answer to [`form_schema`] as a client of `rev` gives it: multi-select fields only where
/// the revision has them.
fn form_answer(rev: V) -> BTreeMap<String, ElicitValue> {
    let mut answer = BTreeMap::from([
        ("name".to_owned(), ElicitValue::String("a".into())),
        ("age".to_owned(), ElicitValue::Number(30.into())),
        ("ok".to_owned(), ElicitValue::Bool(true)),
    ]);
    if rev >= V::V2025_11_25 {
        answer.insert("tags".to_owned(), ElicitValue::Strings(vec!["a".into()]));
    }
    answer
}

fn listen_params(rev: V) -> NotificationParams {
    NotificationParams {
        meta: rev.is_modern().then(|| Meta {
            subscription_id: Some("listen-1".into()),
            ..Meta::default()
        }),
    }
}

/// Error responses every revision can send, with their schema definition where one exists.
fn error_samples(rev: V) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let ser = |e: &McpError| {
        serde_json::to_value(ErrorResponse::new(Some(7.into()), e.to_error_object(rev))).unwrap()
    };
    let envelope = if rev >= V::V2025_11_25 {
        "JSONRPCErrorResponse"
    } else {
        "JSONRPCError"
    };
    for e in [
        McpError::Parse("bad".into()),
        McpError::MethodNotFound("x".into()),
        McpError::invalid_params("bad"),
        McpError::ResourceNotFound {
            uri: "file:///x".into(),
        },
        McpError::UnsupportedProtocolVersion(UnsupportedVersion {
            supported: vec!["2026-07-28".into()],
            requested: "1999-01-01".into(),
        }),
    ] {
        out.push((envelope, ser(&e)));
    }
    if rev.is_modern() {
        out.push((
            "UnsupportedProtocolVersionError",
            ser(&McpError::UnsupportedProtocolVersion(UnsupportedVersion {
                supported: vec!["2026-07-28".into()],
                requested: "1999-01-01".into(),
            })),
        ));
        out.push((
            "MissingRequiredClientCapabilityError",
            ser(&McpError::MissingRequiredClientCapability(Box::new(
                mcp_protocol::error::MissingCapabilityData {
                    required_capabilities: ClientCapabilities {
                        sampling: Some(Default::default()),
                        ..Default::default()
                    },
                },
            ))),
        ));
        out.push((
            "HeaderMismatchError",
            ser(&McpError::HeaderMismatch("Mcp-Name does not match".into())),
        ));
    }
    if rev == V::V2025_11_25 {
        let data = mcp_protocol::error::UrlElicitationRequiredData {
            elicitations: vec![ElicitRequestUrlParams {
                mode: UrlMode,
                message: "Sign in".into(),
                url: "https://example.com".into(),
                elicitation_id: Some("e".into()),
                task: None,
                meta: None,
            }],
        };
        out.push((
            "URLElicitationRequiredError",
            ser(&McpError::UrlElicitationRequired(Box::new(data))),
        ));
    }
    // A plain response envelope around a result.
    let result = serde_json::to_value(ForRevision::new(
        &Response::new(7.into(), EmptyResult::default()),
        rev,
    ))
    .unwrap();
    out.push((
        if rev >= V::V2025_11_25 {
            "JSONRPCResultResponse"
        } else {
            "JSONRPCResponse"
        },
        result,
    ));
    let _ = ErrorObject::new(0, "");
    out
}

fn validator(schema: &Value, def: &str) -> jsonschema::Validator {
    let mut root = schema.clone();
    let defs = if root.get("$defs").is_some() {
        "$defs"
    } else {
        "definitions"
    };
    assert!(
        root[defs].get(def).is_some(),
        "schema has no definition {def}"
    );
    root.as_object_mut()
        .unwrap()
        .insert("$ref".into(), Value::String(format!("#/{defs}/{def}")));
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("compile {def}: {e}"))
}

#[test]
fn every_method_validates_against_its_revision_schema() {
    let Some(spec) = spec_dir() else { return };
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for rev in V::ALL {
        let text = std::fs::read_to_string(spec.join(rev.as_str()).join("schema.json"))
            .expect("schema.json");
        let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
        let mut count = 0;
        let mut methods_seen = 0;
        let mut all: Vec<(&str, Value)> = Vec::new();
        for m in methods::in_revision(rev) {
            methods_seen += 1;
            all.extend(samples(m.name, m.kind, rev));
        }
        all.extend(error_samples(rev));
        for (def, message) in all {
            count += 1;
            let v = validator(&schema, def);
            let errors: Vec<String> = v
                .iter_errors(&message)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            if !errors.is_empty() {
                failures.push(format!(
                    "{rev} {def}: {}\n  message: {message}",
                    errors.join("; ")
                ));
            }
        }
        report.push(format!(
            "{rev}: {methods_seen} methods, {count} messages validated"
        ));
    }
    println!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} messages failed validation:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn legacy_shapes_carry_no_modern_fields() {
    let result = cached(ListToolsResult {
        tools: vec![array_output_tool()],
        ..Default::default()
    });
    for rev in [V::V2024_11_05, V::V2025_11_25] {
        let v = serde_json::to_value(ForRevision::new(&result, rev)).unwrap();
        assert!(
            v.get("resultType").is_none()
                && v.get("ttlMs").is_none()
                && v.get("cacheScope").is_none(),
            "{rev}: {v}"
        );
        assert!(
            v["tools"][0].get("outputSchema").is_none(),
            "non-object output schema sent to {rev}"
        );
    }
    let v = serde_json::to_value(ForRevision::new(&result, V::V2026_07_28)).unwrap();
    assert_eq!(
        (
            v["resultType"].as_str(),
            v["ttlMs"].as_u64(),
            v["cacheScope"].as_str()
        ),
        (Some("complete"), Some(60_000), Some("public"))
    );
    assert_eq!(v["tools"][0]["outputSchema"]["type"], "array");
    let link = CallToolResult {
        content: vec![ContentBlock::resource_link("file:///a", "a")],
        ..Default::default()
    };
    let old = serde_json::to_value(ForRevision::new(&link, V::V2025_03_26)).unwrap();
    assert_eq!(old["content"][0]["type"], "text");
    let form = serde_json::to_value(ForRevision::new(&form_schema(), V::V2025_06_18)).unwrap();
    assert!(form["properties"].get("tags").is_none() && form["properties"].get("name").is_some());
    let form = serde_json::to_value(ForRevision::new(&form_schema(), V::V2025_11_25)).unwrap();
    assert!(form["properties"].get("tags").is_some());
}
