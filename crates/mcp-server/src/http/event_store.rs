//! Where a legacy session's SSE events are kept so that a client can resume a stream with
//! `Last-Event-ID` after its connection broke.
//!
//! Every event sent on a legacy SSE stream is appended to the session's [`EventLog`] before it
//! is written; a reconnecting client gets the events of that stream after the id it names. The
//! default, [`InMemoryEventStore`], keeps a bounded window per session in process memory.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// A boxed, sendable future: what the store traits return so that they stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One event of one SSE stream of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The stream: 0 is the session's GET stream, others are the streams answering POSTs.
    pub stream: u64,
    /// The event's sequence number, increasing across all the session's streams.
    pub seq: u64,
    /// The JSON-RPC message.
    pub data: Bytes,
    /// Whether this is the last event of its stream (the response that ends a POST's stream).
    pub last: bool,
}

/// Opens an event log for each new legacy session.
///
/// Implement it to keep events elsewhere; sessions themselves live in the serving process, so a
/// store shared between processes helps only with sticky routing.
pub trait EventStore: Send + Sync + fmt::Debug + 'static {
    /// The log of a new session.
    fn open(&self, session_id: &str) -> Arc<dyn EventLog>;
}

/// The events of one session.
pub trait EventLog: Send + Sync + fmt::Debug {
    /// Appends an event. Events of one stream are appended in sequence order, one at a time.
    fn append(&self, event: StoredEvent) -> BoxFuture<'_, ()>;
    /// Up to `limit` events of `stream` with a sequence number above `after`, in order. A log
    /// may have dropped old events to stay within its bounds: those are not returned.
    fn read_after(&self, stream: u64, after: u64, limit: usize) -> BoxFuture<'_, Vec<StoredEvent>>;
    /// The session ended: the events can go.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// Keeps, per session, the most recent events in memory: at most `max_events` events and
/// `max_bytes` bytes of messages (defaults 256 and 1 MiB); older events are dropped first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InMemoryEventStore {
    /// Events kept per session.
    pub max_events: usize,
    /// Bytes of messages kept per session.
    pub max_bytes: usize,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        Self {
            max_events: 256,
            max_bytes: 1 << 20,
        }
    }
}

impl EventStore for InMemoryEventStore {
    fn open(&self, _session_id: &str) -> Arc<dyn EventLog> {
        Arc::new(MemoryLog {
            bounds: *self,
            window: Mutex::new(Window::default()),
        })
    }
}

#[derive(Debug)]
struct MemoryLog {
    bounds: InMemoryEventStore,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    events: VecDeque<StoredEvent>,
    bytes: usize,
}

impl MemoryLog {
    fn append_now(&self, event: StoredEvent) {
        let Ok(mut w) = self.window.lock() else {
            return;
        };
        w.bytes += event.data.len();
        w.events.push_back(event);
        while w.events.len() > self.bounds.max_events.max(1)
            || (w.bytes > self.bounds.max_bytes && w.events.len() > 1)
        {
            if let Some(old) = w.events.pop_front() {
                w.bytes -= old.data.len();
                tracing::debug!(
                    stream = old.stream,
                    seq = old.seq,
                    "event log full: dropped an old event"
                );
            }
        }
    }

    fn read_now(&self, stream: u64, after: u64, limit: usize) -> Vec<StoredEvent> {
        let Ok(w) = self.window.lock() else {
            return Vec::new();
        };
        w.events
            .iter()
            .filter(|e| e.stream == stream && e.seq > after)
            .take(limit)
            .cloned()
            .collect()
    }
}

impl EventLog for MemoryLog {
    fn append(&self, event: StoredEvent) -> BoxFuture<'_, ()> {
        self.append_now(event);
        Box::pin(std::future::ready(()))
    }

    fn read_after(&self, stream: u64, after: u64, limit: usize) -> BoxFuture<'_, Vec<StoredEvent>> {
        Box::pin(std::future::ready(self.read_now(stream, after, limit)))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        if let Ok(mut w) = self.window.lock() {
            *w = Window::default();
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(stream: u64, seq: u64, data: &str) -> StoredEvent {
        StoredEvent {
            stream,
            seq,
            data: Bytes::copy_from_slice(data.as_bytes()),
            last: false,
        }
    }

    #[tokio::test]
    async fn reads_one_stream_after_an_id_within_bounds() {
        let store = InMemoryEventStore {
            max_events: 4,
            max_bytes: 1 << 20,
        };
        let log = store.open("s");
        for (stream, seq) in [(0, 1), (1, 2), (0, 3), (1, 4), (0, 5)] {
            log.append(ev(stream, seq, "x")).await;
        }
        // Five appended, four kept: seq 1 is gone.
        let seqs = |v: Vec<StoredEvent>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(log.read_after(0, 0, 10).await), [3, 5]);
        assert_eq!(seqs(log.read_after(1, 2, 10).await), [4]);
        assert_eq!(seqs(log.read_after(0, 3, 1).await), [5]);
        log.close().await;
        assert!(log.read_after(0, 0, 10).await.is_empty());
    }

    #[tokio::test]
    async fn byte_bound_keeps_at_least_the_newest() {
        let store = InMemoryEventStore {
            max_events: 100,
            max_bytes: 5,
        };
        let log = store.open("s");
        log.append(ev(0, 1, "abc")).await;
        log.append(ev(0, 2, "defgh")).await;
        log.append(ev(0, 3, "0123456789")).await;
        let got = log.read_after(0, 0, 10).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].seq, 3);
    }
}
