//! One request's exchange: its handler, the messages it sends while it runs, and the streams
//! that carry them to the client.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use mcp_transport::sse;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::event_store::StoredEvent;
use super::session::{InUse, Session};
use crate::service::{Connection, Reply};

/// What a request's exchange produces next.
#[derive(Debug)]
pub(crate) enum Step {
    /// A notification or server-to-client request about the request.
    Message(Vec<u8>),
    /// The response; nothing follows.
    Reply(Vec<u8>),
    /// The request was cancelled: no response.
    End,
}

type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// A running request: its handler and the channel of messages it sends.
pub(crate) struct Exchange {
    reply: Option<ReplyFuture>,
    finished: Option<Reply>,
    messages: mpsc::Receiver<Vec<u8>>,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("running", &self.reply.is_some())
            .finish()
    }
}

impl Exchange {
    pub(crate) fn new(
        reply: impl Future<Output = Reply> + Send + 'static,
        messages: mpsc::Receiver<Vec<u8>>,
    ) -> Self {
        Self {
            reply: Some(Box::pin(reply)),
            finished: None,
            messages,
        }
    }

    /// The next step. Messages sent before the handler returned come before its response.
    pub(crate) async fn next(&mut self) -> Step {
        loop {
            if self.finished.is_some() {
                if let Ok(m) = self.messages.try_recv() {
                    return Step::Message(m);
                }
                return match self.finished.take().flatten() {
                    Some(r) => Step::Reply(r),
                    None => Step::End,
                };
            }
            let Some(reply) = self.reply.as_mut() else {
                return Step::End;
            };
            tokio::select! {
                biased;
                Some(m) = self.messages.recv() => return Step::Message(m),
                r = reply => {
                    self.reply = None;
                    self.finished = Some(r);
                }
            }
        }
    }
}

pub(crate) type SseStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

fn event_bytes(data: &[u8], id: Option<&str>) -> Bytes {
    let text = std::str::from_utf8(data).unwrap_or_default();
    let mut event = sse::Event::new(text);
    event.id = id;
    Bytes::from(event.to_bytes())
}

fn comment() -> Bytes {
    let mut out = Vec::new();
    sse::encode_comment(&mut out, "");
    Bytes::from(out)
}

/// A 2026-07-28 SSE response: the messages, then the response, without event ids (streams are
/// not resumable in 2026-07-28). Dropping the stream (the client went away) cancels the
/// request; server shutdown ends listen streams with their final result.
pub(crate) fn modern_stream(
    exchange: Exchange,
    first: Vec<u8>,
    cancel_on_drop: DropGuard,
    conn: Arc<Connection>,
    shutdown: CancellationToken,
    keep_alive: Duration,
) -> SseStream {
    struct State {
        exchange: Exchange,
        first: Option<Vec<u8>>,
        _cancel_on_drop: DropGuard,
        conn: Arc<Connection>,
        shutdown: CancellationToken,
        keep_alive: Duration,
        done: bool,
    }
    let state = State {
        exchange,
        first: Some(first),
        _cancel_on_drop: cancel_on_drop,
        conn,
        shutdown,
        keep_alive,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut s| async move {
        if let Some(first) = s.first.take() {
            return Some((Ok(event_bytes(&first, None)), s));
        }
        if s.done {
            return None;
        }
        loop {
            let step = tokio::select! {
                step = s.exchange.next() => step,
                () = s.shutdown.cancelled(), if !s.conn.closing.is_cancelled() => {
                    s.conn.closing.cancel();
                    continue;
                }
                () = tokio::time::sleep(s.keep_alive) => return Some((Ok(comment()), s)),
            };
            return match step {
                Step::Message(m) => Some((Ok(event_bytes(&m, None)), s)),
                Step::Reply(r) => {
                    s.done = true;
                    Some((Ok(event_bytes(&r, None)), s))
                }
                Step::End => None,
            };
        }
    }))
}

/// Runs a legacy request whose exchange turned into a stream: its messages and response go to
/// the session's event log under `stream`, whether or not a client is reading. Disconnection is
/// not cancellation in legacy sessions; the session ending is.
pub(crate) fn spawn_legacy_pump(
    mut exchange: Exchange,
    first: Vec<u8>,
    session: Arc<Session>,
    stream: u64,
    hold: InUse,
) {
    tokio::spawn(async move {
        let _hold = hold;
        session.append(stream, first, false).await;
        loop {
            let step = tokio::select! {
                step = exchange.next() => step,
                () = session.conn.closing.cancelled() => Step::End,
            };
            match step {
                Step::Message(m) => session.append(stream, m, false).await,
                Step::Reply(r) => {
                    session.append(stream, r, true).await;
                    break;
                }
                Step::End => break,
            }
        }
        session.close_stream(stream);
    });
}

/// The id of a legacy SSE event: the stream and the sequence number.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Reads an event id back; `None` if it is not one of ours.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// How a legacy SSE stream starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReaderStart {
    pub(crate) stream: u64,
    /// Events after this sequence number are sent.
    pub(crate) after: u64,
    /// Send the priming event of SEP-1699 (an id and empty data) with this `retry`.
    pub(crate) priming_retry: Option<Duration>,
    pub(crate) keep_alive: Duration,
}

/// A legacy SSE stream read from the session's event log: from `after`, live as events are
/// appended, until the stream's last event, the session's end, server shutdown, or a newer
/// reader of the same stream.
pub(crate) fn legacy_stream(
    in_use: InUse,
    start: ReaderStart,
    shutdown: CancellationToken,
) -> SseStream {
    struct Reader {
        in_use: InUse,
        stream: u64,
        cursor: u64,
        number: u64,
        token: CancellationToken,
        appended: watch::Receiver<u64>,
        buffered: VecDeque<StoredEvent>,
        priming: Option<Bytes>,
        keep_alive: Duration,
        shutdown: CancellationToken,
        done: bool,
    }
    impl Drop for Reader {
        fn drop(&mut self) {
            self.in_use
                .session()
                .detach_reader(self.stream, self.number);
        }
    }
    let session = in_use.session().clone();
    let (number, token) = session.attach_reader(start.stream);
    let priming = start.priming_retry.map(|retry| {
        let id = event_id(start.stream, start.after);
        let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
        Bytes::from(sse::Event::new("").id(&id).retry(ms).to_bytes())
    });
    let reader = Reader {
        appended: session.watch_appends(),
        in_use,
        stream: start.stream,
        cursor: start.after,
        number,
        token,
        buffered: VecDeque::new(),
        priming,
        keep_alive: start.keep_alive,
        shutdown,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(reader, |mut r| async move {
        if let Some(p) = r.priming.take() {
            return Some((Ok(p), r));
        }
        loop {
            if r.done {
                return None;
            }
            if let Some(e) = r.buffered.pop_front() {
                r.cursor = e.seq;
                r.done = e.last;
                let bytes = event_bytes(&e.data, Some(&event_id(e.stream, e.seq)));
                return Some((Ok(bytes), r));
            }
            if r.token.is_cancelled() || r.shutdown.is_cancelled() {
                return None;
            }
            // Mark the current value seen before reading, so an append after the read wakes
            // the wait below; check "open" before reading, so the last event is never missed.
            r.appended.borrow_and_update();
            let session = r.in_use.session().clone();
            let open = session.stream_open(r.stream);
            let events = session.log.read_after(r.stream, r.cursor, 64).await;
            if !events.is_empty() {
                r.buffered.extend(events);
                continue;
            }
            if !open {
                return None;
            }
            tokio::select! {
                changed = r.appended.changed() => if changed.is_err() { return None },
                () = r.token.cancelled() => return None,
                () = r.shutdown.cancelled() => return None,
                () = tokio::time::sleep(r.keep_alive) => return Some((Ok(comment()), r)),
            }
        }
    }))
}
