use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_auth::{AuthError, Principal, Requirement};
use mcp_protocol::types::CompletionReference;
use tower::Service;

use super::layer::{Undeclared, requirement_of};
use super::{PermissionLayer, ResponseFuture};
use crate::middleware::Refusal;
use crate::request::{ListFilter, Listed, McpRequest, McpResponse, Params, Target};

/// The service of [`PermissionLayer`](super::PermissionLayer).
#[derive(Debug, Clone)]
pub struct Permission<S> {
    pub(super) inner: S,
    pub(super) rules: PermissionLayer,
}

impl PermissionLayer {
    /// What the request's target requires, looked up in the router; `None` when the target
    /// is not guarded (lifecycle methods, lists, names the server does not have).
    fn required(&self, request: &McpRequest) -> Option<Requirement> {
        let routes = || request.server.inner.router.read();
        let own = |item: Listed<'_>, subscribe: bool| {
            requirement_of(item, self.undeclared, subscribe).into_owned()
        };
        match &*request.params {
            Params::CallTool(_) => request.tool_route().map(|t| own(Listed::Tool(t), false)),
            Params::ReadResource(p) => {
                let routes = routes();
                resource_route(&routes, &p.uri).map(|item| own(item, false))
            }
            Params::Subscribe(p) | Params::Unsubscribe(p) => {
                let routes = routes();
                resource_route(&routes, &p.uri).map(|item| own(item, true))
            }
            Params::GetPrompt(p) => routes()
                .prompts
                .get(&p.name)
                .map(|r| own(Listed::Prompt(r), false)),
            Params::Complete(p) => {
                let routes = routes();
                match &p.reference {
                    CompletionReference::Prompt { name, .. } => routes
                        .prompts
                        .get(name)
                        .map(|r| own(Listed::Prompt(r), false)),
                    CompletionReference::Resource { uri } => routes
                        .templates
                        .get(uri)
                        .map(|t| own(Listed::Template(t), false)),
                }
            }
            _ => None,
        }
    }
}

/// The static resource at `uri`, else the first template matching it.
fn resource_route<'a>(routes: &'a crate::router::Routes, uri: &str) -> Option<Listed<'a>> {
    if let Some(r) = routes.resources.get(uri) {
        return Some(Listed::Resource(r));
    }
    routes
        .templates
        .values()
        .find(|t| t.template.matches(uri).is_some())
        .map(Listed::Template)
}

impl<S> Service<McpRequest> for Permission<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: McpRequest) -> Self::Future {
        match self.rules.check(&mut request) {
            Ok(()) => ResponseFuture::passed(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(request.refuse(refusal)),
        }
    }
}

impl PermissionLayer {
    /// Checks that `request`'s principal may use its target; for a list, puts the filter of
    /// what it may see in the request.
    pub(crate) fn check(&self, request: &mut McpRequest) -> Result<(), Refusal> {
        let Some(principal) = request.principal().cloned() else {
            return Err(Refusal::Unauthenticated(AuthError::MissingCredentials));
        };
        if let Target::List(_) = request.target() {
            let undeclared = self.undeclared;
            request
                .extensions_mut()
                .insert(list_filter(principal, undeclared));
            return Ok(());
        }
        let Some(required) = self.required(request) else {
            return Ok(());
        };
        if required.is_met_by(&principal) {
            return Ok(());
        }
        tracing::debug!(principal = %principal.id, method = request.method(), "forbidden");
        let mut scopes = required.scopes().to_vec();
        if let Some(map) = &self.scope_map {
            for permission in required.permissions() {
                for scope in map.scopes_granting(permission) {
                    if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
            }
        }
        Err(Refusal::Forbidden {
            required: required
                .permissions()
                .iter()
                .chain(required.scopes())
                .cloned()
                .collect(),
            scopes,
        })
    }
}

fn list_filter(principal: Arc<Principal>, undeclared: Undeclared) -> ListFilter {
    ListFilter::new(move |item| requirement_of(item, undeclared, false).is_met_by(&principal))
}
