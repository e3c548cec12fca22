use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use super::{ConcurrencyLimitLayer, ResponseFuture};
use crate::middleware::{Refusal, take_ready};
use crate::request::{McpRequest, McpResponse};

/// The service of [`ConcurrencyLimitLayer`](super::ConcurrencyLimitLayer).
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<S> {
    pub(super) inner: S,
    pub(super) layer: ConcurrencyLimitLayer,
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
        if let Some(place) = self.layer.try_place() {
            return ResponseFuture::running(self.inner.call(request), place);
        }
        let mut inner = take_ready(&mut self.inner);
        let layer = self.layer.clone();
        ResponseFuture::waiting(Box::pin(async move {
            match layer.wait_for_place(&request).await {
                Ok(place) => {
                    let response = inner.call(request).await;
                    drop(place);
                    response
                }
                Err(answer) => Ok(answer),
            }
        }))
    }
}

/// Waits for one of `places` for `request`: at most `max_wait` (then refused as overloaded),
/// and no longer than the request (a cancelled request is answered as such).
pub(super) async fn wait_for_place(
    places: Arc<Semaphore>,
    max_wait: Option<Duration>,
    request: &McpRequest,
) -> Result<OwnedSemaphorePermit, McpResponse> {
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
        () = request.cancellation().cancelled() => {
            return Err(McpResponse::cancelled(request.id().clone(), request.revision()));
        }
    };
    match place {
        Some(Ok(place)) => Ok(place),
        // Timed out, or the semaphore closed (never: it is not closed).
        _ => Err(request.refuse(Refusal::Overloaded)),
    }
}
