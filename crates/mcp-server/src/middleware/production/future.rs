use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::sync::OwnedSemaphorePermit;

use crate::middleware::circuit_breaker::layer::Admission;
use crate::middleware::metrics::future::Record;
use crate::middleware::timeout::future::Deadline;
use crate::middleware::trace::future::Traced;
use crate::request::{McpResponse, Outcome};

type Boxed<E> = Pin<Box<dyn Future<Output = Result<McpResponse, E>> + Send>>;

pin_project! {
    /// The future of [`Production`](super::Production): the request's [`Body`], polled inside
    /// its span.
    pub struct ResponseFuture<F, E> {
        #[pin]
        body: Body<F, E>,
        traced: Option<Traced>,
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(super) fn new(body: Body<F, E>, traced: Option<Traced>) -> Self {
        Self { body, traced }
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let traced = this.traced.as_ref();
        let _entered = traced.map(|t| t.span.enter());
        let out = std::task::ready!(this.body.poll(cx));
        if let Some(traced) = traced {
            traced.finish(&out);
        }
        Poll::Ready(out)
    }
}

pin_project! {
    /// A request on its way: answered by a layer, running the inner service (with its place,
    /// its breaker admission and its time limit), or boxed (a cacheable call, or one waiting
    /// for a place); and what is recorded when it ends.
    pub(super) struct Body<F, E> {
        #[pin]
        state: State<F, E>,
        deadline: Option<Deadline>,
        place: Option<OwnedSemaphorePermit>,
        admission: Option<Admission>,
        record: Option<Record>,
    }

    impl<F, E> PinnedDrop for Body<F, E> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before answering (the client went away): counted as cancelled, and the
            // breaker's probe freed without counting the call either way.
            let this = this.project();
            if let Some(admission) = this.admission.take() {
                admission.abandon();
            }
            if let Some(record) = this.record.take() {
                record.finish(Outcome::Cancelled, None);
            }
        }
    }
}

pin_project! {
    #[project = Projected]
    enum State<F, E> {
        Running {
            #[pin]
            inner: F,
        },
        Boxed {
            boxed: Boxed<E>,
        },
        // Boxed: refusals are rare, and the future stays small.
        Answered {
            answer: Option<Box<McpResponse>>,
        },
    }
}

impl<F, E> Body<F, E> {
    /// Answered without going further (a refusal).
    pub(super) fn answered(answer: McpResponse, record: Option<Record>) -> Self {
        Self {
            state: State::Answered {
                answer: Some(Box::new(answer)),
            },
            deadline: None,
            place: None,
            admission: None,
            record,
        }
    }

    /// Running somewhere else: a cacheable call, or one waiting for a place.
    pub(super) fn boxed(boxed: Boxed<E>, record: Option<Record>) -> Self {
        Self {
            state: State::Boxed { boxed },
            deadline: None,
            place: None,
            admission: None,
            record,
        }
    }

    /// Running the inner service, holding what the call ends with (built in one go: this
    /// future is moved up through the calls that build it).
    pub(super) fn running(
        inner: F,
        place: Option<OwnedSemaphorePermit>,
        admission: Option<Admission>,
        deadline: Option<Deadline>,
        record: Option<Record>,
    ) -> Self {
        Self {
            state: State::Running { inner },
            deadline,
            place,
            admission,
            record,
        }
    }
}

impl<F, E> Future for Body<F, E>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = match this.state.project() {
            Projected::Running { inner } => match inner.poll(cx) {
                Poll::Ready(out) => out,
                Poll::Pending => {
                    let Some(deadline) = this.deadline.as_mut() else {
                        return Poll::Pending;
                    };
                    let refusal = std::task::ready!(deadline.poll_expired(cx));
                    *this.deadline = None;
                    Ok(refusal)
                }
            },
            Projected::Boxed { boxed } => std::task::ready!(boxed.as_mut().poll(cx)),
            Projected::Answered { answer } => match answer.take() {
                Some(answer) => Ok(*answer),
                None => return Poll::Pending,
            },
        };
        this.place.take();
        if let Some(admission) = this.admission.take() {
            match &out {
                Ok(response) => admission.finish(response),
                Err(_) => admission.abandon(),
            }
        }
        if let Some(record) = this.record.take() {
            match &out {
                Ok(response) => record.finish(response.outcome(), Some(response)),
                Err(_) => record.finish(Outcome::Error, None),
            }
        }
        Poll::Ready(out)
    }
}
