//! What each client scenario of the suite asks a client to do, with `mcp-client`'s public API.
//!
//! Everything the scenarios check on the wire (the handshake, `_meta`, the standard and
//! mirrored headers, dropping tools with invalid `x-mcp-header` annotations, the retry after
//! -32022, `requestState` echoed, SSE resumption honouring `retry`, elicitation defaults) is
//! the SDK's own behaviour; this module only makes the calls a scenario expects.

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::Arc;

use mcp_auth::fetch::{HttpFetch, HyperFetcher};
use mcp_auth::oauth::client::{ClientMetadata, HeadlessRedirect, OAuthClient, PreRegisteredClient};
use mcp_client::{Client, ClientOptions, EraPreference, Handlers, HttpClientOptions};
use mcp_protocol::types::{
    CallToolResult, CreateMessageResult, ElicitRequestParams, ElicitResult, ElicitValue,
    ListRootsResult, PrimitiveSchema, Role, Root, SamplingContent, SamplingContentBlock, Tool,
};
use serde_json::{Map, Value, json};

use crate::Run;

/// Why a scenario did not run to its end.
#[derive(Debug)]
pub(crate) enum Failure {
    /// This client does not implement the scenario.
    Unsupported(&'static str),
    /// A call failed, or the server's answers were not what the scenario describes.
    Failed(String),
}

impl From<mcp_client::ClientError> for Failure {
    fn from(e: mcp_client::ClientError) -> Self {
        Self::Failed(e.to_string())
    }
}

type Outcome = Result<(), Failure>;

/// Every client scenario of the suite (`conformance list --client`, 0.2.0-alpha.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// `initialize`: the legacy handshake.
    Initialize,
    /// `tools_call`: list the tools and call `add_numbers`.
    ToolsCall,
    /// `elicitation-sep1034-client-defaults`: accept a form with its defaults applied.
    ElicitationDefaults,
    /// `sse-retry`: a tool call whose stream closes before its answer.
    SseRetry,
    /// `request-metadata`: `_meta` on every request, the retry after -32022.
    RequestMetadata,
    /// `sep-2322-client-request-state`: multi-round-trip calls.
    RequestState,
    /// `http-standard-headers`: `Mcp-Method` and `Mcp-Name` on every POST.
    StandardHeaders,
    /// `http-custom-headers`: `x-mcp-header` arguments mirrored into `Mcp-Param-*`.
    CustomHeaders,
    /// `http-invalid-tool-headers`: tools with invalid annotations are not used.
    InvalidToolHeaders,
    /// `json-schema-ref-no-deref`: listing tools fetches no network `$ref`.
    SchemaRefNoDeref,
    /// `json-schema-2020-12-preservation`: a tool's input schema round-trips untouched.
    SchemaPreservation,
    /// `auth/...`: the authorization code flow against the scenario's authorization server
    /// (which approves at once), then the calls the scenario protects.
    Authorization,
    /// `auth/client-credentials-basic`: the client credentials grant with the context's
    /// client (an authorization extension).
    ClientCredentials,
    /// The authorization extensions this client does not offer (`private_key_jwt`,
    /// enterprise-managed authorization, DPoP, workload identity).
    AuthorizationExtension,
    /// `sep-2640-client-...`: the skills extension, not offered.
    SkillsExtension,
}

/// The scenarios by name, exactly as the suite lists them.
const NAMES: &[(&str, Scenario)] = &[
    ("initialize", Scenario::Initialize),
    ("tools_call", Scenario::ToolsCall),
    (
        "elicitation-sep1034-client-defaults",
        Scenario::ElicitationDefaults,
    ),
    ("sse-retry", Scenario::SseRetry),
    ("request-metadata", Scenario::RequestMetadata),
    ("sep-2322-client-request-state", Scenario::RequestState),
    ("http-standard-headers", Scenario::StandardHeaders),
    ("http-custom-headers", Scenario::CustomHeaders),
    ("http-invalid-tool-headers", Scenario::InvalidToolHeaders),
    ("json-schema-ref-no-deref", Scenario::SchemaRefNoDeref),
    (
        "json-schema-2020-12-preservation",
        Scenario::SchemaPreservation,
    ),
    ("auth/metadata-default", Scenario::Authorization),
    ("auth/metadata-var1", Scenario::Authorization),
    ("auth/metadata-var2", Scenario::Authorization),
    ("auth/metadata-var3", Scenario::Authorization),
    ("auth/basic-cimd", Scenario::Authorization),
    ("auth/scope-from-www-authenticate", Scenario::Authorization),
    ("auth/scope-from-scopes-supported", Scenario::Authorization),
    ("auth/scope-omitted-when-undefined", Scenario::Authorization),
    ("auth/scope-step-up", Scenario::Authorization),
    ("auth/scope-retry-limit", Scenario::Authorization),
    ("auth/token-endpoint-auth-basic", Scenario::Authorization),
    ("auth/token-endpoint-auth-post", Scenario::Authorization),
    ("auth/token-endpoint-auth-none", Scenario::Authorization),
    ("auth/pre-registration", Scenario::Authorization),
    (
        "auth/2025-03-26-oauth-metadata-backcompat",
        Scenario::Authorization,
    ),
    (
        "auth/2025-03-26-oauth-endpoint-fallback",
        Scenario::Authorization,
    ),
    ("auth/resource-mismatch", Scenario::Authorization),
    ("auth/offline-access-scope", Scenario::Authorization),
    ("auth/offline-access-not-supported", Scenario::Authorization),
    (
        "auth/authorization-server-migration",
        Scenario::Authorization,
    ),
    ("auth/iss-supported", Scenario::Authorization),
    ("auth/iss-not-advertised", Scenario::Authorization),
    ("auth/iss-supported-missing", Scenario::Authorization),
    ("auth/iss-wrong-issuer", Scenario::Authorization),
    ("auth/iss-unexpected", Scenario::Authorization),
    ("auth/iss-normalized", Scenario::Authorization),
    ("auth/metadata-issuer-mismatch", Scenario::Authorization),
    (
        "auth/client-credentials-jwt",
        Scenario::AuthorizationExtension,
    ),
    ("auth/client-credentials-basic", Scenario::ClientCredentials),
    (
        "auth/enterprise-managed-authorization",
        Scenario::AuthorizationExtension,
    ),
    ("auth/dpop", Scenario::AuthorizationExtension),
    ("auth/dpop-nonce", Scenario::AuthorizationExtension),
    ("auth/wif-jwt-bearer", Scenario::AuthorizationExtension),
    ("sep-2640-client-no-prefetch", Scenario::SkillsExtension),
    ("sep-2640-client-verify-digest", Scenario::SkillsExtension),
    ("sep-2640-client-verify-size", Scenario::SkillsExtension),
    (
        "sep-2640-client-verify-frontmatter",
        Scenario::SkillsExtension,
    ),
];

impl Scenario {
    /// The scenario called `name`, if the suite has one by that name.
    pub(crate) fn named(name: &str) -> Option<Self> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// Runs the scenario against the mock server at `run.url`.
    pub(crate) async fn run(self, run: &Run) -> Outcome {
        match self {
            Self::Initialize => initialize(run).await,
            Self::ToolsCall => tools_call(run).await,
            Self::ElicitationDefaults => elicitation_defaults(run).await,
            Self::SseRetry => sse_retry(run).await,
            Self::RequestMetadata => request_metadata(run).await,
            Self::RequestState => request_state(run).await,
            Self::StandardHeaders => standard_headers(run).await,
            Self::CustomHeaders => custom_headers(run).await,
            Self::InvalidToolHeaders => invalid_tool_headers(run).await,
            Self::SchemaRefNoDeref => schema_ref_no_deref(run).await,
            Self::SchemaPreservation => schema_preservation(run).await,
            Self::Authorization => authorization(run, false).await,
            Self::ClientCredentials => authorization(run, true).await,
            Self::AuthorizationExtension => Err(Failure::Unsupported(
                "this authorization extension (private_key_jwt, enterprise-managed \
                 authorization, DPoP, workload identity) is not offered by this client",
            )),
            Self::SkillsExtension => Err(Failure::Unsupported(
                "the skills extension (SEP-2640) is not offered by this client",
            )),
        }
    }
}

/// The era the suite asked for: the `initialize` handshake for a legacy revision, the
/// stateless era for 2026-07-28, and the SDK's own detection when it named none.
fn era(run: &Run) -> EraPreference {
    match run.version {
        Some(v) if v.is_legacy() => EraPreference::Legacy,
        Some(_) => EraPreference::Modern,
        None => EraPreference::Auto,
    }
}

/// The client's options for the scenario, with `handlers`.
fn client_options(run: &Run, handlers: Handlers) -> ClientOptions {
    ClientOptions {
        client_info: mcp_protocol::types::Implementation::new(
            "mcp-rs-conformance-client",
            env!("CARGO_PKG_VERSION"),
        ),
        era: era(run),
        handlers,
        request_timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    }
}

/// Connects to the scenario's server with `handlers`.
async fn connect(run: &Run, handlers: Handlers) -> Result<Client, Failure> {
    let options = client_options(run, handlers);
    Ok(Client::connect_http(&run.url, options, HttpClientOptions::default()).await?)
}

/// Answers every form by accepting it without filling anything in: the SDK completes the
/// answer with the form's defaults (SEP-1034).
fn accept_defaults() -> Handlers {
    Handlers::default().on_elicitation(false, |params| async move {
        match params {
            ElicitRequestParams::Form(_) => Ok(ElicitResult::accept(BTreeMap::new())),
            ElicitRequestParams::Url(_) => Ok(ElicitResult::decline()),
        }
    })
}

/// Answers forms by confirming: `true` for every boolean field without a default (the SDK
/// adds the defaults), and declines URLs.
fn confirm_forms() -> Handlers {
    Handlers::default().on_elicitation(false, |params| async move {
        let ElicitRequestParams::Form(form) = params else {
            return Ok(ElicitResult::decline());
        };
        let content = form
            .requested_schema
            .properties
            .iter()
            .filter(|(_, field)| {
                matches!(field, PrimitiveSchema::Boolean(_)) && field.default_value().is_none()
            })
            .map(|(name, _)| (name.clone(), ElicitValue::Bool(true)))
            .collect();
        Ok(ElicitResult::accept(content))
    })
}

/// Every capability a client can declare: forms accepted with their defaults, the working
/// directory as the one root, and a stand-in model that answers with the last text it was
/// given.
fn every_capability() -> Handlers {
    accept_defaults()
        .on_roots(|| async {
            let uri = std::env::current_dir()
                .ok()
                .and_then(|d| d.to_str().map(|d| format!("file://{d}")))
                .unwrap_or_else(|| "file:///".to_owned());
            Ok(ListRootsResult {
                roots: vec![Root {
                    uri,
                    name: Some("working directory".into()),
                    meta: None,
                }],
                meta: None,
            })
        })
        .on_sampling(|params| async move {
            let last = params
                .messages
                .iter()
                .rev()
                .flat_map(|m| m.content.blocks().iter().rev())
                .find_map(|b| match b {
                    SamplingContentBlock::Text(t) => Some(t.text.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            Ok(CreateMessageResult {
                role: Role::Assistant,
                content: SamplingContent::text(last),
                model: "echo".into(),
                stop_reason: Some("endTurn".into()),
                meta: None,
            })
        })
}

/// A tool the server must have listed.
fn find<'a>(tools: &'a [Tool], name: &str) -> Result<&'a Tool, Failure> {
    tools
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Failure::Failed(format!("the server did not list {name}")))
}

/// A tool call that must not fail, protocol- or tool-wise.
async fn call(client: &Client, name: &str, arguments: Value) -> Result<CallToolResult, Failure> {
    let result = client.call_tool(name, arguments).await?;
    if result.is_error() {
        return Err(Failure::Failed(format!("{name} returned a tool error")));
    }
    Ok(result)
}

/// `initialize`: connect (the handshake is what the scenario checks), list the tools, close.
async fn initialize(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    client.list_tools().await?;
    client.close().await;
    Ok(())
}

/// `tools_call`: `add_numbers` with two numbers.
async fn tools_call(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    let tools = client.list_tools().await?;
    find(&tools, "add_numbers")?;
    call(&client, "add_numbers", json!({"a": 2, "b": 3})).await?;
    client.close().await;
    Ok(())
}

/// `elicitation-sep1034-client-defaults`: the tool asks for a form whose fields all have
/// defaults; the user accepts it untouched.
async fn elicitation_defaults(run: &Run) -> Outcome {
    let client = connect(run, accept_defaults()).await?;
    let tools = client.list_tools().await?;
    find(&tools, "test_client_elicitation_defaults")?;
    call(&client, "test_client_elicitation_defaults", json!({})).await?;
    client.close().await;
    Ok(())
}

/// `sse-retry`: the tool's stream closes after its priming event; the SDK reconnects after
/// the stream's `retry` with `Last-Event-ID` and the answer arrives there.
async fn sse_retry(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    let tools = client.list_tools().await?;
    find(&tools, "test_reconnection")?;
    call(&client, "test_reconnection", json!({})).await?;
    client.close().await;
    Ok(())
}

/// `request-metadata`: the server refuses the first request with -32022; the SDK retries with
/// a version both support. Then a few ordinary requests, each with its `_meta`.
async fn request_metadata(run: &Run) -> Outcome {
    let client = connect(run, every_capability()).await?;
    for tool in client.list_tools().await? {
        call(&client, &tool.name, sample_arguments(&tool)).await?;
    }
    client.close().await;
    Ok(())
}

/// `sep-2322-client-request-state`: two multi-round-trip tools (with and without
/// `requestState`), an unrelated call in flight during the first one, and a result without
/// `resultType`.
async fn request_state(run: &Run) -> Outcome {
    let client = connect(run, confirm_forms()).await?;
    let tools = client.list_tools().await?;
    for name in [
        "test_mrtr_echo_state",
        "test_mrtr_unrelated",
        "test_mrtr_no_state",
        "test_mrtr_no_result_type",
    ] {
        find(&tools, name)?;
    }
    let (echo, unrelated) = tokio::join!(
        call(&client, "test_mrtr_echo_state", json!({})),
        call(&client, "test_mrtr_unrelated", json!({})),
    );
    echo?;
    unrelated?;
    call(&client, "test_mrtr_no_state", json!({})).await?;
    call(&client, "test_mrtr_no_result_type", json!({})).await?;
    client.close().await;
    Ok(())
}

/// `http-standard-headers`: one request of every kind whose headers the scenario checks.
async fn standard_headers(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    for tool in client.list_tools().await? {
        call(&client, &tool.name, sample_arguments(&tool)).await?;
    }
    for resource in client.list_resources().await? {
        client.read_resource(&resource.uri).await?;
    }
    for prompt in client.list_prompts().await? {
        client.get_prompt(&prompt.name, BTreeMap::new()).await?;
    }
    client.close().await;
    Ok(())
}

/// `http-custom-headers`: the calls listed in the context (`toolCalls`), after `tools/list`
/// told the SDK which arguments to mirror.
async fn custom_headers(run: &Run) -> Outcome {
    let calls = run
        .context
        .get("toolCalls")
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::Failed("MCP_CONFORMANCE_CONTEXT has no toolCalls".into()))?;
    let client = connect(run, Handlers::default()).await?;
    let tools = client.list_tools().await?;
    for planned in calls {
        let name = planned
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::Failed(format!("a tool call without a name: {planned}")))?;
        find(&tools, name)?;
        let arguments = planned.get("arguments").cloned().unwrap_or(json!({}));
        call(&client, name, arguments).await?;
    }
    client.close().await;
    Ok(())
}

/// `http-invalid-tool-headers`: the SDK leaves the invalid tools out of `tools/list`; every
/// tool it kept is called.
async fn invalid_tool_headers(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    for tool in client.list_tools().await? {
        call(&client, &tool.name, sample_arguments(&tool)).await?;
    }
    client.close().await;
    Ok(())
}

/// `json-schema-ref-no-deref`: list the tools (whose schema has a network `$ref`) and leave
/// it at that: nothing resolves it.
async fn schema_ref_no_deref(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    let tools = client.list_tools().await?;
    if tools.is_empty() {
        return Err(Failure::Failed("the server listed no tools".into()));
    }
    client.close().await;
    Ok(())
}

/// `json-schema-2020-12-preservation`: send `json_schema_2020_12_tool`'s input schema, as
/// listed, back through `json_schema_echo`.
async fn schema_preservation(run: &Run) -> Outcome {
    let client = connect(run, Handlers::default()).await?;
    let tools = client.list_tools().await?;
    let schema = find(&tools, "json_schema_2020_12_tool")?
        .input_schema
        .clone();
    find(&tools, "json_schema_echo")?;
    call(
        &client,
        "json_schema_echo",
        json!({"schema": Value::Object(schema)}),
    )
    .await?;
    client.close().await;
    Ok(())
}

/// The client id the CIMD scenarios expect: the URL of this client's Client ID Metadata
/// Document (which the suite never fetches).
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// Where the scenario's authorization server redirects to; nothing listens there: the
/// headless handler reads the redirect from the authorization endpoint's `Location`.
const REDIRECT_URI: &str = "http://localhost:3000/callback";

/// Every `auth/...` scenario: an OAuth client (`mcp-auth`) as the transport's credentials,
/// then what the scenario's server protects: list the tools, call `test-tool`. What the
/// scenarios check (discovery order, PKCE, `resource`, scopes and step-up, registration,
/// `iss`, refusing a mismatched resource or issuer) is the OAuth client's doing. The context
/// gives the pre-registered client of `auth/pre-registration` and of the client credentials
/// grant (`client_credentials`).
async fn authorization(run: &Run, client_credentials: bool) -> Outcome {
    let http: Arc<dyn HttpFetch> = Arc::new(HyperFetcher::http());
    let mut builder = OAuthClient::builder(&run.url)
        .http_client(http.clone())
        .client_metadata(ClientMetadata::new("mcp-rs-conformance-client"))
        .client_id_metadata_document(CLIENT_METADATA_URL);
    builder = if client_credentials {
        builder.client_credentials()
    } else {
        builder.redirect_handler(Arc::new(HeadlessRedirect::new(http, REDIRECT_URI)))
    };
    if let Some(version) = run.version {
        builder = builder.protocol_version(version.as_str());
    }
    if let Some(client_id) = run.context.get("client_id").and_then(Value::as_str) {
        let mut client = match run.context.get("issuer").and_then(Value::as_str) {
            Some(issuer) => PreRegisteredClient::new(issuer, client_id),
            // The client credentials scenarios name no issuer: the credentials go to
            // whichever authorization server the test server names.
            None => PreRegisteredClient::for_any_issuer(client_id),
        };
        if let Some(secret) = run.context.get("client_secret").and_then(Value::as_str) {
            client = client.with_secret(secret);
        }
        builder = builder.pre_registered(client);
    }
    let oauth = builder
        .build()
        .map_err(|e| Failure::Failed(e.to_string()))?;
    // A refused request only says 401; the OAuth client knows why it could not authorize.
    let explain = |e: mcp_client::ClientError| match oauth.last_error() {
        Some(why) => Failure::Failed(format!("{e} (authorization: {why})")),
        None => Failure::Failed(e.to_string()),
    };
    let http = HttpClientOptions {
        credentials: Some(Arc::new(oauth.clone())),
        ..HttpClientOptions::default()
    };
    let options = client_options(run, Handlers::default());
    let client = Client::connect_http(&run.url, options, http)
        .await
        .map_err(explain)?;
    let tools = client.list_tools().await.map_err(explain)?;
    if tools.iter().any(|t| t.name == "test-tool") {
        let result = client
            .call_tool("test-tool", json!({}))
            .await
            .map_err(explain)?;
        if result.is_error() {
            return Err(Failure::Failed("test-tool returned a tool error".into()));
        }
    }
    client.close().await;
    Ok(())
}

/// Arguments for a tool the scenario calls without saying with what: a value for every
/// required property, from its `default`, `const` or first `enum` member, else a plain value
/// of its type.
fn sample_arguments(tool: &Tool) -> Value {
    let properties = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object);
    let required = tool
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut arguments = Map::new();
    for name in required.iter().filter_map(Value::as_str) {
        let schema = properties.and_then(|p| p.get(name));
        if let Some(value) = schema.and_then(sample_value) {
            arguments.insert(name.to_owned(), value);
        }
    }
    Value::Object(arguments)
}

fn sample_value(schema: &Value) -> Option<Value> {
    if let Some(v) = schema.get("default").or_else(|| schema.get("const")) {
        return Some(v.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().find_map(Value::as_str),
        Some(Value::String(kind)) => Some(kind.as_str()),
        _ => None,
    };
    Some(match kind? {
        "string" => json!("example"),
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "object" => json!({}),
        "array" => json!([]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_dispatches_once() {
        for (i, (name, scenario)) in NAMES.iter().enumerate() {
            assert_eq!(Scenario::named(name), Some(*scenario), "{name}");
            assert!(
                NAMES[i + 1..].iter().all(|(n, _)| n != name),
                "{name} twice"
            );
            assert_eq!(
                name.starts_with("auth/"),
                matches!(
                    scenario,
                    Scenario::Authorization
                        | Scenario::ClientCredentials
                        | Scenario::AuthorizationExtension
                ),
                "{name}"
            );
        }
        assert_eq!(Scenario::named("tools-call"), None);
        assert_eq!(Scenario::named("TOOLS_CALL"), None);
    }

    #[test]
    fn sample_arguments_fill_every_required_property() {
        let tool = Tool::new(
            "t",
            json!({
                "type": "object",
                "properties": {
                    "region": {"type": "string"},
                    "level": {"type": "integer", "default": 3},
                    "mode": {"type": "string", "enum": ["fast", "slow"]},
                    "flag": {"type": ["boolean", "null"]},
                    "optional": {"type": "string"}
                },
                "required": ["region", "level", "mode", "flag"]
            })
            .as_object()
            .cloned()
            .unwrap(),
        );
        assert_eq!(
            sample_arguments(&tool),
            json!({"region": "example", "level": 3, "mode": "fast", "flag": true})
        );
        assert_eq!(sample_arguments(&Tool::new("e", Map::new())), json!({}));
    }
}
