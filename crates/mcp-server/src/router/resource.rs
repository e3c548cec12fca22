//! Resources and resource templates.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcp_protocol::types::{
    Annotations, Icon, Resource as ResourceDefinition, ResourceContents,
    ResourceTemplate as TemplateDefinition,
};

use mcp_auth::Requirement;

use crate::context::RequestContext;
use crate::error::ToolError;
use crate::router::completion::{Completer, CompletionFn};
use crate::router::tool::BoxFuture;
use crate::router::uri_template::UriTemplate;

/// One read of a resource.
#[derive(Debug, Clone)]
pub struct ResourceRequest {
    /// The URI asked for.
    pub uri: String,
    /// The template's variables, for templated resources.
    pub vars: BTreeMap<String, String>,
    /// The request's context.
    pub ctx: RequestContext,
}

pub(crate) type ReadFn = Arc<
    dyn Fn(ResourceRequest) -> BoxFuture<Result<Vec<ResourceContents>, ToolError>> + Send + Sync,
>;

fn erase<F, Fut>(f: F) -> ReadFn
where
    F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
{
    Arc::new(move |r| Box::pin(f(r)))
}

/// A static resource ready to register.
#[derive(Clone)]
pub struct ResourceRoute {
    pub(crate) definition: ResourceDefinition,
    pub(crate) read: ReadFn,
    pub(crate) requirement: Option<Requirement>,
}

impl ResourceRoute {
    /// The resource as `resources/list` shows it.
    pub fn definition(&self) -> &ResourceDefinition {
        &self.definition
    }

    /// Declares what a principal needs to read this resource (and to see it listed), checked
    /// by the [`PermissionLayer`](crate::middleware::PermissionLayer). Without a declaration
    /// the layer requires `resources.read.<name>`.
    #[must_use]
    pub fn requires(mut self, requirement: Requirement) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// What the resource declared it requires, if anything.
    pub fn requirement(&self) -> Option<&Requirement> {
        self.requirement.as_ref()
    }
}

impl std::fmt::Debug for ResourceRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceRoute")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// A templated resource ready to register.
#[derive(Clone)]
pub struct TemplateRoute {
    pub(crate) definition: TemplateDefinition,
    pub(crate) template: UriTemplate,
    pub(crate) read: ReadFn,
    pub(crate) completions: BTreeMap<String, CompletionFn>,
    pub(crate) requirement: Option<Requirement>,
}

impl TemplateRoute {
    /// The template as `resources/templates/list` shows it.
    pub fn definition(&self) -> &TemplateDefinition {
        &self.definition
    }

    /// Declares what a principal needs to read the resources this template matches (and to
    /// see it listed), checked by the
    /// [`PermissionLayer`](crate::middleware::PermissionLayer). Without a declaration the
    /// layer requires `resources.read.<name>`.
    #[must_use]
    pub fn requires(mut self, requirement: Requirement) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// What the template declared it requires, if anything.
    pub fn requirement(&self) -> Option<&Requirement> {
        self.requirement.as_ref()
    }
}

impl std::fmt::Debug for TemplateRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateRoute")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// Builds a static resource.
#[derive(Debug, Clone)]
pub struct Resource {
    definition: ResourceDefinition,
}

impl Resource {
    /// A resource at `uri` named `name`.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            definition: ResourceDefinition::new(uri, name),
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
    /// The MIME type.
    #[must_use]
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime.into());
        self
    }
    /// Display hints.
    #[must_use]
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.definition.annotations = Some(annotations);
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
    /// Finishes with a reader.
    pub fn handler<F, Fut>(self, read: F) -> ResourceRoute
    where
        F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
    {
        ResourceRoute {
            definition: self.definition,
            read: erase(read),
            requirement: None,
        }
    }
    /// Finishes with fixed text contents.
    pub fn text(self, text: impl Into<String>) -> ResourceRoute {
        let text: Arc<str> = Arc::from(text.into());
        let mime = self.definition.mime_type.clone();
        self.handler(move |r| {
            let contents = ResourceContents::text(r.uri, mime.as_deref(), &*text);
            async move { Ok(vec![contents]) }
        })
    }
}

/// Builds a templated resource.
#[derive(Clone)]
pub struct ResourceTemplate {
    definition: TemplateDefinition,
    template: UriTemplate,
    completions: BTreeMap<String, CompletionFn>,
}

impl std::fmt::Debug for ResourceTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTemplate")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

impl ResourceTemplate {
    /// A template (RFC 6570) named `name`.
    ///
    /// # Panics
    /// If the template does not parse: a programming error.
    pub fn new(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        let uri_template = uri_template.into();
        let template = UriTemplate::parse(&uri_template).unwrap_or_else(|e| panic!("{e}"));
        Self {
            definition: TemplateDefinition {
                uri_template,
                name: name.into(),
                ..TemplateDefinition::default()
            },
            template,
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
    /// The MIME type of every matching resource.
    #[must_use]
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime.into());
        self
    }
    /// Completes the variable `name` with `complete` (`completion/complete` with `ref/resource`).
    #[must_use]
    pub fn complete(mut self, name: &str, complete: impl Completer) -> Self {
        self.completions.insert(name.to_owned(), complete.erase());
        self
    }
    /// Finishes with a reader; [`ResourceRequest::vars`] holds the template's variables.
    pub fn handler<F, Fut>(self, read: F) -> TemplateRoute
    where
        F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
    {
        TemplateRoute {
            definition: self.definition,
            template: self.template,
            read: erase(read),
            completions: self.completions,
            requirement: None,
        }
    }
}
