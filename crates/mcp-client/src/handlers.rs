//! Answers to the server's questions: sampling, elicitation and roots. The same handler answers
//! a legacy server's JSON-RPC request and a 2026-07-28 server's `input_required` round.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mcp_protocol::McpError;
use mcp_protocol::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, ElicitationCapability, ListRootsResult, RootsCapability, SamplingCapability,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler<P, R> = Arc<dyn Fn(P) -> BoxFuture<Result<R, McpError>> + Send + Sync>;

/// The client's handlers. Each one set declares the matching capability.
#[derive(Clone, Default)]
pub struct Handlers {
    pub(crate) sampling: Option<Handler<CreateMessageRequestParams, CreateMessageResult>>,
    pub(crate) elicitation: Option<Handler<ElicitRequestParams, ElicitResult>>,
    pub(crate) url_elicitation: bool,
    pub(crate) roots: Option<Handler<(), ListRootsResult>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("sampling", &self.sampling.is_some())
            .field("elicitation", &self.elicitation.is_some())
            .field("roots", &self.roots.is_some())
            .finish()
    }
}

impl Handlers {
    /// Answers `sampling/createMessage`.
    #[must_use]
    pub fn on_sampling<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, McpError>> + Send + 'static,
    {
        self.sampling = Some(Arc::new(move |p| Box::pin(f(p))));
        self
    }

    /// Answers `elicitation/create` (form mode; with `url_mode`, URL mode too).
    #[must_use]
    pub fn on_elicitation<F, Fut>(mut self, url_mode: bool, f: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, McpError>> + Send + 'static,
    {
        self.elicitation = Some(Arc::new(move |p| Box::pin(f(p))));
        self.url_elicitation = url_mode;
        self
    }

    /// Answers `roots/list`.
    #[must_use]
    pub fn on_roots<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ListRootsResult, McpError>> + Send + 'static,
    {
        self.roots = Some(Arc::new(move |()| Box::pin(f())));
        self
    }

    /// The capabilities these handlers declare.
    pub fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            sampling: self
                .sampling
                .as_ref()
                .map(|_| SamplingCapability::default()),
            elicitation: self.elicitation.as_ref().map(|_| ElicitationCapability {
                form: Some(Default::default()),
                url: self.url_elicitation.then(Default::default),
            }),
            roots: self.roots.as_ref().map(|_| RootsCapability {
                list_changed: Some(false),
            }),
            ..ClientCapabilities::default()
        }
    }
}
