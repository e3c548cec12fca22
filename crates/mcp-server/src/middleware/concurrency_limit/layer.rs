use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::Layer;

use super::ConcurrencyLimit;

/// Bounds the requests running at once; see the [module docs](super).
///
/// Clones share the places: one layer used in two places bounds both together.
#[derive(Debug, Clone)]
pub struct ConcurrencyLimitLayer {
    pub(super) places: Arc<Semaphore>,
    pub(super) max_wait: Option<Duration>,
}

impl ConcurrencyLimitLayer {
    /// At most `max` requests at once (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(max.max(1))),
            max_wait: None,
        }
    }

    /// Refuse a request that waited this long for a place.
    #[must_use]
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = Some(wait);
        self
    }

    /// Places free now.
    pub fn available(&self) -> usize {
        self.places.available_permits()
    }
}

impl ConcurrencyLimitLayer {
    /// A place, if one is free now.
    pub(crate) fn try_place(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.places.clone().try_acquire_owned().ok()
    }

    /// Waits for a place for `request` as this layer's service does.
    pub(crate) async fn wait_for_place(
        &self,
        request: &crate::request::McpRequest,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, crate::request::McpResponse> {
        super::service::wait_for_place(self.places.clone(), self.max_wait, request).await
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> ConcurrencyLimit<S> {
        ConcurrencyLimit {
            inner,
            layer: self.clone(),
        }
    }
}
