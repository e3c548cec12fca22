use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::Service;

use super::ResponseFuture;
use crate::middleware::Refusal;
use crate::request::{McpRequest, McpResponse};

/// The service of [`ConcurrencyLimitLayer`](super::ConcurrencyLimitLayer).
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<S> {
    pub(super) inner: S,
    pub(super) places: Arc<Semaphore>,
    pub(super) max_wait: Option<Duration>,
}

impl<S> Service<McpRequest> for ConcurrencyLimit<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        // A place free now: no allocation, no waiting.
        if let Ok(place) = self.places.clone().try_acquire_owned() {
            return ResponseFuture::running(self.inner.call(request), place);
        }
        // The service that was made ready goes with the request; a clone stays here.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let places = self.places.clone();
        let max_wait = self.max_wait;
        ResponseFuture::waiting(Box::pin(async move {
            let cancel = request.cancellation().clone();
            let wait = async {
                match max_wait {
                    Some(limit) => tokio::time::timeout(limit, places.acquire_owned())
                        .await
                        .ok(),
                    None => Some(places.acquire_owned().await),
                }
            };
            let place = tokio::select! {
                place = wait => place,
                () = cancel.cancelled() => {
                    return Ok(McpResponse::cancelled(request.id().clone(), request.revision()));
                }
            };
            match place {
                Some(Ok(place)) => {
                    let response = inner.call(request).await;
                    drop(place);
                    response
                }
                // Timed out, or the semaphore closed (never: it is not closed).
                _ => Ok(request.refuse(Refusal::Overloaded)),
            }
        }))
    }
}
