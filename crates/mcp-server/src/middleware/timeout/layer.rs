use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tower::Layer;

use super::Timeout;

/// Gives requests a time limit; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    pub(super) limits: Arc<Limits>,
}

#[derive(Debug, Clone)]
pub(super) struct Limits {
    pub(super) default: Duration,
    pub(super) tools: HashMap<String, Duration>,
}

impl TimeoutLayer {
    /// Every request gets `limit`.
    pub fn new(limit: Duration) -> Self {
        Self {
            limits: Arc::new(Limits {
                default: limit,
                tools: HashMap::new(),
            }),
        }
    }

    /// Calls of the tool `name` get `limit` instead.
    #[must_use]
    pub fn tool(mut self, name: impl Into<String>, limit: Duration) -> Self {
        Arc::make_mut(&mut self.limits)
            .tools
            .insert(name.into(), limit);
        self
    }
}

impl TimeoutLayer {
    /// `request`'s time limit, as this layer's service sets it.
    pub(crate) fn deadline(
        &self,
        request: &crate::request::McpRequest,
    ) -> Option<super::future::Deadline> {
        super::service::deadline(&self.limits, request)
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            layer: self.clone(),
        }
    }
}
