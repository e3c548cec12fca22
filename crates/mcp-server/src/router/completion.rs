//! Completion of prompt arguments and template variables.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use crate::router::tool::BoxFuture;

/// What is being completed.
#[derive(Debug, Clone)]
pub struct CompletionRequest {
    /// The partial value typed so far.
    pub value: String,
    /// Other arguments already given (2025-06-18 and later).
    pub context: BTreeMap<String, String>,
}

pub(crate) type CompletionFn =
    Arc<dyn Fn(CompletionRequest) -> BoxFuture<Vec<String>> + Send + Sync>;

/// Something that completes a value: a fixed list of choices (matched by prefix) or an async
/// function of a [`CompletionRequest`].
pub trait Completer: Send + Sync + 'static {
    /// Erases the completer's type.
    fn erase(self) -> CompletionFn;
}

impl Completer for Vec<&'static str> {
    fn erase(self) -> CompletionFn {
        Arc::new(move |req: CompletionRequest| {
            let found: Vec<String> = self
                .iter()
                .filter(|c| c.starts_with(&req.value))
                .map(|c| (*c).to_owned())
                .collect();
            Box::pin(async move { found })
        })
    }
}

/// Wraps an async function as a [`Completer`].
#[derive(Debug, Clone)]
pub struct CompleteWith<F>(pub F);

impl<F, Fut> Completer for CompleteWith<F>
where
    F: Fn(CompletionRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<String>> + Send + 'static,
{
    fn erase(self) -> CompletionFn {
        Arc::new(move |req| Box::pin((self.0)(req)))
    }
}
