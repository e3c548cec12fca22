//! Prompts.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcp_protocol::types::{
    GetPromptResult, Icon, Prompt as PromptDefinition, PromptArgument, PromptMessage,
};

use mcp_auth::Requirement;

use crate::context::RequestContext;
use crate::error::ToolError;
use crate::router::completion::{Completer, CompletionFn};
use crate::router::tool::BoxFuture;

/// One `prompts/get`.
#[derive(Debug, Clone)]
pub struct PromptRequest {
    /// The arguments given.
    pub arguments: BTreeMap<String, String>,
    /// The request's context.
    pub ctx: RequestContext,
}

impl PromptRequest {
    /// An argument's value.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.arguments.get(name).map(String::as_str)
    }
}

/// What a prompt handler returns: the messages, or a full result.
pub trait IntoPromptResult {
    /// The result.
    fn into_prompt_result(self) -> GetPromptResult;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> GetPromptResult {
        self
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult {
            messages: self,
            ..GetPromptResult::default()
        }
    }
}

pub(crate) type PromptFn =
    Arc<dyn Fn(PromptRequest) -> BoxFuture<Result<GetPromptResult, ToolError>> + Send + Sync>;

/// A prompt ready to register.
#[derive(Clone)]
pub struct PromptRoute {
    pub(crate) definition: PromptDefinition,
    pub(crate) get: PromptFn,
    pub(crate) completions: BTreeMap<String, CompletionFn>,
    pub(crate) requirement: Option<Requirement>,
}

impl PromptRoute {
    /// The prompt as `prompts/list` shows it.
    pub fn definition(&self) -> &PromptDefinition {
        &self.definition
    }

    /// Declares what a principal needs to get this prompt (and to see it listed), checked by
    /// the [`PermissionLayer`](crate::middleware::PermissionLayer). Without a declaration the
    /// layer requires `prompts.get.<name>`.
    #[must_use]
    pub fn requires(mut self, requirement: Requirement) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// What the prompt declared it requires, if anything.
    pub fn requirement(&self) -> Option<&Requirement> {
        self.requirement.as_ref()
    }
}

impl std::fmt::Debug for PromptRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptRoute")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// Builds a prompt.
#[derive(Clone)]
pub struct Prompt {
    definition: PromptDefinition,
    completions: BTreeMap<String, CompletionFn>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

impl Prompt {
    /// A prompt named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            definition: PromptDefinition {
                name: name.into(),
                ..PromptDefinition::default()
            },
            completions: BTreeMap::new(),
        }
    }
    /// A description.
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
    /// An icon.
    #[must_use]
    pub fn icon(mut self, icon: Icon) -> Self {
        self.definition
            .icons
            .get_or_insert_with(Vec::new)
            .push(icon);
        self
    }
    /// An argument.
    #[must_use]
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.definition
            .arguments
            .get_or_insert_with(Vec::new)
            .push(PromptArgument {
                name: name.into(),
                description: Some(description.into()),
                required: Some(required),
                ..PromptArgument::default()
            });
        self
    }
    /// Completes the argument `name`.
    #[must_use]
    pub fn complete(mut self, name: &str, complete: impl Completer) -> Self {
        self.completions.insert(name.to_owned(), complete.erase());
        self
    }
    /// Finishes with a handler. Required arguments are checked before it runs (-32602).
    pub fn handler<F, Fut, R>(self, get: F) -> PromptRoute
    where
        F: Fn(PromptRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
        R: IntoPromptResult,
    {
        let get: PromptFn = Arc::new(move |req| {
            let fut = get(req);
            Box::pin(async move { fut.await.map(IntoPromptResult::into_prompt_result) })
        });
        PromptRoute {
            definition: self.definition,
            get,
            completions: self.completions,
            requirement: None,
        }
    }
}
