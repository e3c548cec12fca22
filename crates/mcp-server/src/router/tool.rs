//! Tools: the builder, the handler trait, extractors and return types.
//!
//! A handler is an async function whose parameters are extractors — it asks, by its signature,
//! for what it needs — and whose return value converts into a tool result:
//!
//! ```
//! use mcp_server::{Args, Json, Progress, Tool, ToolError};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct AddArgs { a: i64, b: i64 }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Sum { sum: i64 }
//!
//! async fn add(Args(args): Args<AddArgs>, progress: Progress) -> Result<Json<Sum>, ToolError> {
//!     progress.report(1.0, Some(1.0), None).await;
//!     Ok(Json(Sum { sum: args.a + args.b }))
//! }
//!
//! let tool = Tool::new("add").description("Adds two integers").handler(add);
//! assert_eq!(tool.definition().input_schema["type"], "object");
//! assert!(tool.definition().output_schema.is_some());
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_protocol::meta::Meta;
use mcp_protocol::types::{
    CallToolResult, ClientCapabilities, ContentBlock, Icon, TaskSupport, Tool as ToolDefinition,
    ToolAnnotations,
};
use mcp_protocol::{JsonObject, ProtocolVersion};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

use crate::context::{Client, Logger, Progress, RequestContext};
use crate::error::ToolError;
use crate::request::{McpRequest, McpResponse};
use crate::tasks::LongRunning;
use mcp_auth::Requirement;

/// A boxed future, as stored handlers return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One call of a tool: its arguments and the request's context.
#[derive(Debug, Clone)]
pub struct ToolCall {
    /// The arguments, always a JSON object.
    pub arguments: Value,
    /// The request's context.
    pub ctx: RequestContext,
}

/// Which JSON Schema dialect generated schemas use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SchemaDialect {
    /// JSON Schema 2020-12, the MCP default since 2025-11-25.
    #[default]
    Draft2020_12,
    /// Draft-07 with every `$defs` reference inlined, for clients that cannot follow `$ref`.
    Draft07Inlined,
}

/// Generates the JSON Schema of `T` in `dialect`, as a JSON object.
pub fn schema_for<T: JsonSchema>(dialect: SchemaDialect) -> JsonObject {
    let settings = match dialect {
        SchemaDialect::Draft2020_12 => schemars::generate::SchemaSettings::draft2020_12(),
        SchemaDialect::Draft07Inlined => {
            let mut s = schemars::generate::SchemaSettings::draft07();
            s.inline_subschemas = true;
            s
        }
    };
    let schema = settings.into_generator().into_root_schema_for::<T>();
    match schema.to_value() {
        Value::Object(mut map) => {
            // `title` is the Rust type's name: noise to a model.
            map.remove("title");
            map
        }
        _ => JsonObject::new(),
    }
}

/// A value a tool handler can ask for by naming it as a parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool-call extractor, so a tool handler cannot take it as a parameter",
    label = "not an extractor (`FromToolCall`)",
    note = "take the tool's arguments as `Args<T>` (with `T: Deserialize + JsonSchema`) or `RawArgs`",
    note = "the other extractors are `Progress`, `Logger`, `Client`, `LongRunning`, `CancellationToken`, `RequestContext`, `ProtocolVersion`, `ClientCapabilities`, `Meta` and `Arc<Principal>`"
)]
pub trait FromToolCall: Sized + Send + 'static {
    /// Extracts the value; an error ends the call before the handler runs.
    fn from_call(call: &ToolCall) -> Result<Self, ToolError>;
    /// The input schema this extractor contributes (only [`Args`] has one).
    fn input_schema(_dialect: SchemaDialect) -> Option<JsonObject> {
        None
    }
    /// Whether taking this extractor moves the start of a task from before the handler to
    /// where the handler says (only [`LongRunning`] does).
    fn begins_long_running() -> bool {
        false
    }
}

/// The tool's arguments, deserialized into `T`; the input schema is generated from `T`.
#[derive(Debug, Clone)]
pub struct Args<T>(pub T);

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromToolCall for Args<T> {
    fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
        T::deserialize(&call.arguments)
            .map(Args)
            .map_err(|e| ToolError::Failed(format!("invalid arguments: {e}")))
    }
    fn input_schema(dialect: SchemaDialect) -> Option<JsonObject> {
        Some(schema_for::<T>(dialect))
    }
}

/// The raw arguments object, for tools with a hand-written schema.
#[derive(Debug, Clone)]
pub struct RawArgs(pub JsonObject);

impl FromToolCall for RawArgs {
    fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
        Ok(Self(
            call.arguments.as_object().cloned().unwrap_or_default(),
        ))
    }
}

macro_rules! from_ctx {
    ($($ty:ty => |$c:ident| $e:expr;)*) => {$(
        impl FromToolCall for $ty {
            fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
                let $c = &call.ctx;
                Ok($e)
            }
        }
    )*};
}

from_ctx! {
    RequestContext => |c| c.clone();
    Progress => |c| c.progress();
    Logger => |c| c.logger();
    Client => |c| c.client();
    CancellationToken => |c| c.cancellation().clone();
    ProtocolVersion => |c| c.revision();
    ClientCapabilities => |c| c.client_capabilities().clone();
    Meta => |c| c.meta().clone();
}

/// The authenticated principal (set by the [`AuthLayer`](crate::middleware::AuthLayer)). A
/// call without one fails with -31401 before the handler runs; take
/// `Option<Arc<Principal>>` to run without.
impl FromToolCall for Arc<mcp_auth::Principal> {
    fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
        call.ctx.principal().cloned().ok_or_else(|| {
            ToolError::Protocol(
                crate::middleware::Refusal::Unauthenticated(
                    mcp_auth::AuthError::MissingCredentials,
                )
                .to_mcp_error(),
            )
        })
    }
}

impl FromToolCall for Option<Arc<mcp_auth::Principal>> {
    fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
        Ok(call.ctx.principal().cloned())
    }
}

impl FromToolCall for LongRunning {
    fn from_call(call: &ToolCall) -> Result<Self, ToolError> {
        Ok(Self::new(call.ctx.clone()))
    }
    fn begins_long_running() -> bool {
        true
    }
}

/// A structured return value: sent as `structuredContent` with its JSON as a text block too,
/// and its schema advertised as the tool's `outputSchema`.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

/// Converts a handler's return value into a tool result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a tool handler",
    label = "not a tool result (`IntoToolResult`)",
    note = "return `String`, `&'static str`, `Json<T>` (structured output, with `T: Serialize + JsonSchema`), `ContentBlock`, `Vec<ContentBlock>` or `CallToolResult`, or a `Result` of one whose error converts into `ToolError`"
)]
pub trait IntoToolResult {
    /// The result, or an error.
    fn into_tool_result(self) -> Result<CallToolResult, ToolError>;
    /// The output schema this return type implies.
    fn output_schema(_dialect: SchemaDialect) -> Option<JsonObject> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for ContentBlock {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult {
            content: vec![self],
            ..CallToolResult::default()
        })
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult {
            content: self,
            ..CallToolResult::default()
        })
    }
}

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        let value = serde_json::to_value(&self.0)?;
        Ok(CallToolResult::structured(value))
    }
    fn output_schema(dialect: SchemaDialect) -> Option<JsonObject> {
        Some(schema_for::<T>(dialect))
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        self.map_err(Into::into)
            .and_then(IntoToolResult::into_tool_result)
    }
    fn output_schema(dialect: SchemaDialect) -> Option<JsonObject> {
        T::output_schema(dialect)
    }
}

/// An async function usable as a tool handler. Implemented for functions of up to eight
/// extractor parameters returning a future of an [`IntoToolResult`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool handler",
    label = "not a tool handler (`ToolHandler`)",
    note = "a tool handler is an `async fn` (or a closure returning a `Send + 'static` future) whose parameters, at most eight, are extractors (`FromToolCall`) and whose output is an `IntoToolResult`",
    note = "under `#[tool]` or `#[tools]`, an earlier error names the parameter, return type or non-`Send` future at fault; fixing it fixes this one"
)]
pub trait ToolHandler<M>: Clone + Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, call: ToolCall) -> BoxFuture<Result<CallToolResult, ToolError>>;
    /// The input schema its extractors imply.
    fn input_schema(dialect: SchemaDialect) -> JsonObject;
    /// The output schema its return type implies.
    fn output_schema(dialect: SchemaDialect) -> Option<JsonObject>;
    /// Whether one of its extractors is [`LongRunning`]: a task then starts where the handler
    /// calls [`LongRunning::begin`], not before the handler.
    fn begins_long_running() -> bool {
        false
    }
}

fn no_arguments_schema() -> JsonObject {
    match serde_json::json!({"type": "object", "additionalProperties": false}) {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

macro_rules! impl_handler {
    ($($t:ident),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, Fut, R, $($t,)*> ToolHandler<($($t,)*)> for F
        where
            F: Fn($($t),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoToolResult + 'static,
            $($t: FromToolCall,)*
        {
            fn call(&self, call: ToolCall) -> BoxFuture<Result<CallToolResult, ToolError>> {
                let f = self.clone();
                Box::pin(async move {
                    $(let $t = $t::from_call(&call)?;)*
                    f($($t),*).await.into_tool_result()
                })
            }
            fn input_schema(dialect: SchemaDialect) -> JsonObject {
                let mut schema = None;
                $(if schema.is_none() { schema = $t::input_schema(dialect); })*
                schema.unwrap_or_else(no_arguments_schema)
            }
            fn output_schema(dialect: SchemaDialect) -> Option<JsonObject> {
                R::output_schema(dialect)
            }
            fn begins_long_running() -> bool {
                false $(|| $t::begins_long_running())*
            }
        }
    };
}

impl_handler!();
impl_handler!(T1);
impl_handler!(T1, T2);
impl_handler!(T1, T2, T3);
impl_handler!(T1, T2, T3, T4);
impl_handler!(T1, T2, T3, T4, T5);
impl_handler!(T1, T2, T3, T4, T5, T6);
impl_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8);

/// A handler with its types erased.
pub(crate) type ErasedHandler =
    Arc<dyn Fn(ToolCall) -> BoxFuture<Result<CallToolResult, ToolError>> + Send + Sync>;

/// A tool's own service stack: its layers around the tool ([`ToolRoute::layer`]).
pub(crate) type ToolService = BoxCloneSyncService<McpRequest, McpResponse, Infallible>;

/// A tool ready to register: its definition, handler and argument validator, and the layers
/// of its own.
#[derive(Clone)]
pub struct ToolRoute {
    pub(crate) definition: ToolDefinition,
    pub(crate) handler: ErasedHandler,
    pub(crate) validator: Option<Arc<jsonschema::Validator>>,
    /// The tool behind its own layers, when it has any.
    pub(crate) layered: Option<ToolService>,
    /// What the tool declares to the layers (cache TTL, requirements, ...).
    pub(crate) policy: ToolPolicy,
    task_support: TaskSupport,
    begins_in_handler: bool,
}

/// What a tool declares for the layers that read it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolPolicy {
    /// Results may be cached this long ([`Tool::cache_ttl`]).
    pub(crate) cache_ttl: Option<std::time::Duration>,
    /// What a principal needs to see and call it ([`ToolRoute::requires`]).
    pub(crate) requirement: Option<Requirement>,
}

impl std::fmt::Debug for ToolRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRoute")
            .field("definition", &self.definition)
            .field("layered", &self.layered.is_some())
            .field("policy", &self.policy)
            .field("task_support", &self.task_support)
            .finish_non_exhaustive()
    }
}

impl ToolRoute {
    /// The tool as `tools/list` shows it.
    pub fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    /// How long the tool's results may be cached, when it declared it ([`Tool::cache_ttl`]).
    pub fn cache_ttl(&self) -> Option<std::time::Duration> {
        self.policy.cache_ttl
    }

    /// Declares what a principal needs to call this tool (and to see it in `tools/list`),
    /// checked by the [`PermissionLayer`](crate::middleware::PermissionLayer). Without a
    /// declaration the layer requires `tools.call.<name>`.
    ///
    /// ```
    /// use mcp_server::Tool;
    /// use mcp_server::mcp_auth::Requirement;
    ///
    /// let deploy = Tool::new("deploy")
    ///     .handler(|| async { "deployed" })
    ///     .requires(Requirement::permission("ops.deploy").and_scope("deploy:prod"));
    /// assert_eq!(deploy.requirement().unwrap().scopes(), ["deploy:prod"]);
    /// ```
    #[must_use]
    pub fn requires(mut self, requirement: Requirement) -> Self {
        self.policy.requirement = Some(requirement);
        self
    }

    /// What the tool declared it requires, if anything.
    pub fn requirement(&self) -> Option<&Requirement> {
        self.policy.requirement.as_ref()
    }

    /// Whether the tool is annotated read-only ([`Tool::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.definition
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            == Some(true)
    }

    /// Wraps this tool (and only it) in `layer`: any layer of [`crate::middleware`], or any
    /// tower layer over [`McpRequest`]. Layers added later wrap earlier ones; a tool's layers
    /// run inside the server's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_server::Tool;
    /// use mcp_server::middleware::TimeoutLayer;
    ///
    /// let slow = Tool::new("slow")
    ///     .handler(|| async { "done" })
    ///     .layer(TimeoutLayer::new(Duration::from_secs(5)));
    /// assert_eq!(slow.definition().name, "slow");
    /// ```
    #[must_use]
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<ToolStack>,
        L::Service: Service<McpRequest, Response = McpResponse> + Clone + Send + Sync + 'static,
        <L::Service as Service<McpRequest>>::Error: Into<tower::BoxError>,
        <L::Service as Service<McpRequest>>::Future: Send + 'static,
    {
        let inner = ToolStack(self.layered.take());
        self.layered = Some(BoxCloneSyncService::new(crate::server::Erased::new(
            layer.layer(inner),
        )));
        self
    }

    /// Whether calls may run as tasks ([`Tool::task_support`]).
    pub fn task_support(&self) -> TaskSupport {
        self.task_support
    }

    /// The same route with another task support: how a route built by `#[tool]` opts in.
    ///
    /// ```
    /// use mcp_server::{Tool, tasks::TaskSupport};
    ///
    /// let route = Tool::new("slow").handler(|| async { "done" }).with_task_support(TaskSupport::Optional);
    /// assert_eq!(route.task_support(), TaskSupport::Optional);
    /// ```
    #[must_use]
    pub fn with_task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self
    }

    /// Whether the handler takes [`LongRunning`], so that a task starts where it says.
    pub(crate) fn begins_in_handler(&self) -> bool {
        self.begins_in_handler
    }

    /// Calls the handler, the arguments already validated.
    pub(crate) fn run_handler(
        &self,
        call: ToolCall,
    ) -> BoxFuture<Result<CallToolResult, ToolError>> {
        (self.handler)(call)
    }

    /// The tool result for arguments that do not match the input schema, if they do not.
    pub(crate) fn invalid_arguments(&self, arguments: &Value) -> Option<CallToolResult> {
        if let Some(v) = &self.validator {
            let errors: Vec<String> = v
                .iter_errors(arguments)
                .take(5)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    if at.is_empty() {
                        e.to_string()
                    } else {
                        format!("{at}: {e}")
                    }
                })
                .collect();
            if !errors.is_empty() {
                return Some(CallToolResult::error(format!(
                    "Invalid arguments for tool {}: {}",
                    self.definition.name,
                    errors.join("; ")
                )));
            }
        }
        None
    }
}

/// Builds a tool.
#[derive(Debug, Clone)]
pub struct Tool {
    definition: ToolDefinition,
    dialect: SchemaDialect,
    input_schema: Option<JsonObject>,
    policy: ToolPolicy,
    task_support: TaskSupport,
}

impl Tool {
    /// Starts a tool named `name` (1-128 characters of `A-Z a-z 0-9 _ - .`).
    ///
    /// # Panics
    /// If the name breaks those rules: a programming error, caught at startup.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        if let Err(e) = mcp_protocol::types::validate_tool_name(&name) {
            panic!("invalid tool name {name:?}: {e}");
        }
        Self {
            definition: ToolDefinition {
                name,
                ..ToolDefinition::default()
            },
            dialect: SchemaDialect::default(),
            input_schema: None,
            policy: ToolPolicy::default(),
            task_support: TaskSupport::Forbidden,
        }
    }

    /// Starts a tool from a complete definition, kept as it is (title, annotations, icons,
    /// input and output schemas, `_meta` and unknown members): for relaying another server's
    /// tools, as a proxy or bridge does. Use with a [`RawArgs`] handler returning a
    /// `CallToolResult`; a handler with an output schema of its own replaces the definition's.
    ///
    /// Fails, rather than panicking as [`Tool::new`] does, when the definition came from
    /// elsewhere and is not usable: an invalid name, or an input schema that is not an object
    /// schema or does not compile.
    ///
    /// ```
    /// use mcp_server::{RawArgs, Tool};
    ///
    /// let remote: mcp_protocol::types::Tool = serde_json::from_value(serde_json::json!({
    ///     "name": "search", "inputSchema": {"type": "object"},
    ///     "outputSchema": {"type": "object", "properties": {"hits": {"type": "array"}}}
    /// })).unwrap();
    /// let route = Tool::from_definition(remote)
    ///     .unwrap()
    ///     .handler(|RawArgs(_args)| async { mcp_protocol::types::CallToolResult::text("relayed") });
    /// assert!(route.definition().output_schema.is_some());
    /// ```
    pub fn from_definition(definition: ToolDefinition) -> Result<Self, String> {
        mcp_protocol::types::validate_tool_name(&definition.name)
            .map_err(|e| format!("invalid tool name {:?}: {e}", definition.name))?;
        if definition.input_schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(format!(
                "tool {}: the input schema has no \"type\": \"object\" at its root",
                definition.name
            ));
        }
        if let Err(e) = jsonschema::validator_for(&Value::Object(definition.input_schema.clone())) {
            return Err(format!(
                "tool {}: the input schema does not compile: {e}",
                definition.name
            ));
        }
        Ok(Self {
            input_schema: Some(definition.input_schema.clone()),
            definition,
            dialect: SchemaDialect::default(),
            policy: ToolPolicy::default(),
            task_support: TaskSupport::Forbidden,
        })
    }

    /// What the tool does, for the model.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.definition.description = Some(text.into());
        self
    }

    /// A display name.
    #[must_use]
    pub fn title(mut self, text: impl Into<String>) -> Self {
        self.definition.title = Some(text.into());
        self
    }

    /// Behaviour hints.
    #[must_use]
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.definition.annotations = Some(annotations);
        self
    }

    /// Marks the tool read-only (and so also idempotent and not destructive).
    #[must_use]
    pub fn read_only(mut self) -> Self {
        let a = self
            .definition
            .annotations
            .get_or_insert_with(ToolAnnotations::default);
        a.read_only_hint = Some(true);
        a.idempotent_hint = Some(true);
        a.destructive_hint = Some(false);
        self
    }

    /// Marks the tool's results cacheable for `ttl` by a
    /// [`CacheLayer`](crate::middleware::CacheLayer): a call with the same arguments by a
    /// principal of the same authorization scope within `ttl` gets the stored result without
    /// running the handler. Only for tools whose result depends on nothing but their arguments
    /// and the caller.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.policy.cache_ttl = Some(ttl);
        self
    }

    /// An icon.
    #[must_use]
    pub fn icon(mut self, icon: Icon) -> Self {
        self.definition
            .icons
            .get_or_insert_with(Vec::new)
            .push(icon);
        self
    }

    /// The schema dialect for generated schemas.
    #[must_use]
    pub fn schema_dialect(mut self, dialect: SchemaDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// A hand-written input schema, replacing the generated one (use with [`RawArgs`]).
    #[must_use]
    pub fn input_schema(mut self, schema: JsonObject) -> Self {
        self.input_schema = Some(schema);
        self
    }

    /// Whether calls may run as tasks (the 2026-07-28 tasks extension; see
    /// [`crate::tasks`]): `Forbidden` (the default) never, `Optional` for clients that declared
    /// the extension on the request, `Required` always (clients that cannot have a task are
    /// refused). Nothing about it appears in `tools/list`: the server decides per request.
    ///
    /// ```
    /// use mcp_server::{Tool, tasks::TaskSupport};
    ///
    /// let tool = Tool::new("render_video").task_support(TaskSupport::Optional).handler(|| async { "rendered" });
    /// assert_eq!(tool.task_support(), TaskSupport::Optional);
    /// ```
    #[must_use]
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self
    }

    /// Finishes the tool with its handler.
    ///
    /// # Panics
    /// If the input schema is not an object schema or does not compile: programming errors.
    pub fn handler<H: ToolHandler<M>, M>(self, handler: H) -> ToolRoute {
        let mut definition = self.definition;
        definition.input_schema = self
            .input_schema
            .unwrap_or_else(|| H::input_schema(self.dialect));
        if definition.input_schema.get("type").and_then(Value::as_str) != Some("object") {
            panic!(
                "tool {}: the input schema must have \"type\": \"object\" at its root",
                definition.name
            );
        }
        // A relayed definition keeps its output schema unless the handler declares one.
        definition.output_schema =
            H::output_schema(self.dialect).or_else(|| definition.output_schema.take());
        let validator =
            match jsonschema::validator_for(&Value::Object(definition.input_schema.clone())) {
                Ok(v) => Some(Arc::new(v)),
                Err(e) => panic!(
                    "tool {}: the input schema does not compile: {e}",
                    definition.name
                ),
            };
        ToolRoute {
            definition,
            handler: Arc::new(move |call| handler.call(call)),
            validator,
            layered: None,
            policy: self.policy,
            task_support: self.task_support,
            begins_in_handler: H::begins_long_running(),
        }
    }
}

/// The service a tool's layers wrap: the tool itself, or the layers added before.
#[derive(Clone)]
pub struct ToolStack(Option<ToolService>);

impl std::fmt::Debug for ToolStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ToolStack").field(&self.0.is_some()).finish()
    }
}

impl Service<McpRequest> for ToolStack {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<Result<McpResponse, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match &mut self.0 {
            Some(inner) => inner.poll_ready(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        match &mut self.0 {
            Some(inner) => inner.call(request),
            None => Box::pin(async move {
                let server = request.server.clone();
                Ok(server.call_tool(request).await)
            }),
        }
    }
}
