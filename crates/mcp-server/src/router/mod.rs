//! The router: tools, resources, templates, prompts and completions, composable and changeable
//! at run time.

pub(crate) mod completion;
pub(crate) mod prompt;
pub(crate) mod resource;
pub(crate) mod tool;
pub mod uri_template;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::broadcast;

pub use completion::{CompleteWith, Completer, CompletionRequest};
pub use prompt::{IntoPromptResult, Prompt, PromptRequest, PromptRoute};
pub use resource::{Resource, ResourceRequest, ResourceRoute, ResourceTemplate, TemplateRoute};
pub use tool::{
    Args, BoxFuture, FromToolCall, IntoToolResult, Json, RawArgs, SchemaDialect, Tool, ToolCall,
    ToolHandler, ToolRoute, ToolStack, schema_for,
};

/// Something a client may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The tool list changed.
    Tools,
    /// The prompt list changed.
    Prompts,
    /// The resource or template list changed.
    Resources,
    /// A resource's contents changed.
    ResourceUpdated(String),
}

#[derive(Debug, Default)]
pub(crate) struct Routes {
    pub(crate) tools: BTreeMap<String, Arc<ToolRoute>>,
    pub(crate) resources: BTreeMap<String, ResourceRoute>,
    pub(crate) templates: BTreeMap<String, TemplateRoute>,
    pub(crate) prompts: BTreeMap<String, PromptRoute>,
}

/// Tools, resources, templates and prompts. Cheap to clone: clones share the same routes, so a
/// clone kept by the application can add and remove routes while the server runs, and
/// subscribed clients hear of it.
///
/// ```
/// use mcp_server::{Prompt, Resource, Router, Tool};
/// use mcp_protocol::types::PromptMessage;
///
/// let router = Router::new()
///     .tool(Tool::new("ping_me").handler(|| async { "pong" }))
///     .resource(Resource::new("memo://hello", "hello").mime_type("text/plain").text("Hello"))
///     .prompt(Prompt::new("greet").handler(|_req| async { Ok(vec![PromptMessage::user("Hi!")]) }));
/// let more = Router::new().tool(Tool::new("add").handler(|| async { "2" }));
/// let router = router.nest("math", more);
/// assert!(router.has_tool("math_add"));
/// ```
#[derive(Debug, Clone)]
pub struct Router {
    routes: Arc<RwLock<Routes>>,
    changes: broadcast::Sender<Change>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self {
            routes: Arc::default(),
            changes: broadcast::channel(256).0,
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Routes> {
        self.routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Routes> {
        self.routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn announce(&self, change: Change) {
        // Nobody listening is fine.
        let _ = self.changes.send(change);
    }

    /// Adds a tool (builder style).
    #[must_use]
    pub fn tool(self, tool: ToolRoute) -> Self {
        self.add_tool(tool);
        self
    }

    /// Adds or replaces a tool while serving; subscribed clients hear `tools/list_changed`.
    pub fn add_tool(&self, tool: ToolRoute) {
        self.write()
            .tools
            .insert(tool.definition.name.clone(), Arc::new(tool));
        self.announce(Change::Tools);
    }

    /// Removes a tool; `false` if there was none of that name.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = self.write().tools.remove(name).is_some();
        if removed {
            self.announce(Change::Tools);
        }
        removed
    }

    /// Whether a tool of that name exists.
    pub fn has_tool(&self, name: &str) -> bool {
        self.read().tools.contains_key(name)
    }

    /// Adds a static resource (builder style).
    #[must_use]
    pub fn resource(self, resource: ResourceRoute) -> Self {
        self.add_resource(resource);
        self
    }

    /// Adds or replaces a static resource while serving.
    pub fn add_resource(&self, resource: ResourceRoute) {
        self.write()
            .resources
            .insert(resource.definition.uri.clone(), resource);
        self.announce(Change::Resources);
    }

    /// Removes a static resource.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.write().resources.remove(uri).is_some();
        if removed {
            self.announce(Change::Resources);
        }
        removed
    }

    /// Adds a resource template (builder style).
    #[must_use]
    pub fn template(self, template: TemplateRoute) -> Self {
        self.add_template(template);
        self
    }

    /// Adds or replaces a resource template while serving.
    pub fn add_template(&self, template: TemplateRoute) {
        self.write()
            .templates
            .insert(template.definition.uri_template.clone(), template);
        self.announce(Change::Resources);
    }

    /// Adds a prompt (builder style).
    #[must_use]
    pub fn prompt(self, prompt: PromptRoute) -> Self {
        self.add_prompt(prompt);
        self
    }

    /// Adds or replaces a prompt while serving.
    pub fn add_prompt(&self, prompt: PromptRoute) {
        self.write()
            .prompts
            .insert(prompt.definition.name.clone(), prompt);
        self.announce(Change::Prompts);
    }

    /// Removes a prompt.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.write().prompts.remove(name).is_some();
        if removed {
            self.announce(Change::Prompts);
        }
        removed
    }

    /// Tells subscribed clients that a resource's contents changed.
    pub fn resource_updated(&self, uri: impl Into<String>) {
        self.announce(Change::ResourceUpdated(uri.into()));
    }

    /// Hears every change.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Takes every route of `other` (its routes win on a name clash).
    #[must_use]
    pub fn merge(self, other: Router) -> Self {
        let theirs = std::mem::take(&mut *other.write());
        {
            let mut ours = self.write();
            ours.tools.extend(theirs.tools);
            ours.resources.extend(theirs.resources);
            ours.templates.extend(theirs.templates);
            ours.prompts.extend(theirs.prompts);
        }
        self
    }

    /// Takes every route of `other`, with tool and prompt names prefixed `{prefix}_`. Resource
    /// URIs are kept as they are: they name things, not routes.
    ///
    /// # Panics
    /// If a prefixed tool name breaks the tool-name rules.
    #[must_use]
    pub fn nest(self, prefix: &str, other: Router) -> Self {
        let theirs = std::mem::take(&mut *other.write());
        {
            let mut ours = self.write();
            for (name, mut tool) in theirs.tools {
                let name = format!("{prefix}_{name}");
                if let Err(e) = mcp_protocol::types::validate_tool_name(&name) {
                    panic!("nested tool name {name:?}: {e}");
                }
                Arc::make_mut(&mut tool).definition.name.clone_from(&name);
                ours.tools.insert(name, tool);
            }
            for (name, mut prompt) in theirs.prompts {
                let name = format!("{prefix}_{name}");
                prompt.definition.name.clone_from(&name);
                ours.prompts.insert(name, prompt);
            }
            ours.resources.extend(theirs.resources);
            ours.templates.extend(theirs.templates);
        }
        self
    }

    /// Whether any tool may run as a task.
    pub(crate) fn has_task_tools(&self) -> bool {
        self.read()
            .tools
            .values()
            .any(|t| t.task_support() != mcp_protocol::types::TaskSupport::Forbidden)
    }

    /// Whether any completer is registered.
    pub(crate) fn has_completions(&self) -> bool {
        let r = self.read();
        r.prompts.values().any(|p| !p.completions.is_empty())
            || r.templates.values().any(|t| !t.completions.is_empty())
    }
}
