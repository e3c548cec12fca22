//! Legacy Streamable HTTP sessions: one [`Connection`] per `Mcp-Session-Id`, with its SSE event
//! log, its streams, and the limits that make abandoned sessions go away.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::auth::Owner;
use super::event_store::{EventLog, StoredEvent};
use crate::request::Authentication;
use crate::server::Server;
use crate::service::Connection;

/// The session's GET stream; POST streams are numbered from 1.
pub(crate) const STANDALONE: u64 = 0;

/// A cryptographically random session id: 32 hex digits (128 bits from the OS-seeded CSPRNG).
pub(crate) fn new_session_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let mut id = String::with_capacity(32);
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// One legacy session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) conn: Arc<Connection>,
    pub(crate) log: Arc<dyn EventLog>,
    /// The last sequence number handed out.
    seq: AtomicU64,
    next_stream: AtomicU64,
    /// The sequence number of the last event appended: readers wait on it.
    appended: watch::Sender<u64>,
    /// The receiving end of the connection's outbox (messages for the GET stream), until the
    /// first GET starts moving them into the log.
    standalone: Mutex<Option<mpsc::Receiver<Vec<u8>>>>,
    /// The current reader of each stream (its number and token); a new reader of a stream
    /// supersedes the old one.
    readers: Mutex<HashMap<u64, (u64, CancellationToken)>>,
    next_reader: AtomicU64,
    /// POST streams whose request is still running.
    open_streams: Mutex<HashSet<u64>>,
    /// Open HTTP exchanges (requests being handled, SSE streams being read).
    busy: AtomicUsize,
    last_active_ms: AtomicU64,
    created_ms: u64,
    /// The client sent `notifications/initialized` (or a later request).
    pub(crate) initialized: AtomicBool,
    /// The principal that opened the session; requests of another principal do not find it.
    owner: Option<Owner>,
}

impl Session {
    fn new(
        id: Arc<str>,
        conn: Arc<Connection>,
        standalone: mpsc::Receiver<Vec<u8>>,
        log: Arc<dyn EventLog>,
        now_ms: u64,
        owner: Option<Owner>,
    ) -> Self {
        Self {
            id,
            conn,
            log,
            seq: AtomicU64::new(0),
            next_stream: AtomicU64::new(STANDALONE + 1),
            appended: watch::Sender::new(0),
            standalone: Mutex::new(Some(standalone)),
            readers: Mutex::new(HashMap::new()),
            next_reader: AtomicU64::new(0),
            open_streams: Mutex::new(HashSet::new()),
            busy: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(now_ms),
            created_ms: now_ms,
            initialized: AtomicBool::new(false),
            owner,
        }
    }

    pub(crate) fn ended(&self) -> bool {
        self.conn.closing.is_cancelled()
    }

    /// The last sequence number handed out: a new GET stream starts after it.
    pub(crate) fn current_seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Opens a new POST stream.
    pub(crate) fn open_stream(&self) -> u64 {
        let stream = self.next_stream.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut open) = self.open_streams.lock() {
            open.insert(stream);
        }
        stream
    }

    /// The POST stream's request finished: readers end once they have read its events.
    pub(crate) fn close_stream(&self, stream: u64) {
        if let Ok(mut open) = self.open_streams.lock() {
            open.remove(&stream);
        }
        // Wake readers so they notice.
        self.appended.send_modify(|_| {});
    }

    /// Whether more events may come on `stream`.
    pub(crate) fn stream_open(&self, stream: u64) -> bool {
        stream == STANDALONE
            || self
                .open_streams
                .lock()
                .map(|o| o.contains(&stream))
                .unwrap_or(false)
    }

    /// Whether `stream` was ever opened in this session.
    pub(crate) fn stream_known(&self, stream: u64) -> bool {
        stream < self.next_stream.load(Ordering::Relaxed)
    }

    /// Appends a message to a stream's log and wakes its reader.
    pub(crate) async fn append(&self, stream: u64, data: Vec<u8>, last: bool) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.log
            .append(StoredEvent {
                stream,
                seq,
                data: Bytes::from(data),
                last,
            })
            .await;
        self.appended.send_replace(seq);
    }

    /// A receiver that changes whenever an event is appended or a stream closes.
    pub(crate) fn watch_appends(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// Registers a new reader of `stream`, superseding (ending) the previous one. Returns the
    /// reader's number and the token that ends it.
    pub(crate) fn attach_reader(&self, stream: u64) -> (u64, CancellationToken) {
        let number = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let token = self.conn.closing.child_token();
        if let Ok(mut readers) = self.readers.lock()
            && let Some((_, old)) = readers.insert(stream, (number, token.clone()))
        {
            old.cancel();
        }
        (number, token)
    }

    /// Forgets reader `number` of `stream` unless a newer one replaced it.
    pub(crate) fn detach_reader(&self, stream: u64, number: u64) {
        if let Ok(mut readers) = self.readers.lock()
            && readers.get(&stream).is_some_and(|(n, _)| *n == number)
        {
            readers.remove(&stream);
        }
    }

    /// Starts moving the connection's outbox (list changes, subscribed resource updates) into
    /// the GET stream's log, once: before any GET the messages wait in the bounded outbox.
    pub(crate) fn start_standalone_pump(self: &Arc<Self>) {
        let Some(mut rx) = self.standalone.lock().ok().and_then(|mut s| s.take()) else {
            return;
        };
        let session = Arc::downgrade(self);
        let closing = self.conn.closing.clone();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    m = rx.recv() => m,
                    () = closing.cancelled() => None,
                };
                let (Some(message), Some(session)) = (message, session.upgrade()) else {
                    return;
                };
                session.append(STANDALONE, message, false).await;
            }
        });
    }
}

/// Marks a session busy while an HTTP exchange uses it; on drop, records the activity.
#[derive(Debug)]
pub(crate) struct InUse {
    session: Arc<Session>,
    sessions: Weak<Sessions>,
}

impl InUse {
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        self.session.busy.fetch_sub(1, Ordering::SeqCst);
        if let Some(sessions) = self.sessions.upgrade() {
            self.session
                .last_active_ms
                .store(sessions.now_ms(), Ordering::SeqCst);
        }
    }
}

/// The limits on sessions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_sessions: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) pre_initialize_timeout: Duration,
}

/// The sessions of one endpoint.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    epoch: Instant,
    limits: Limits,
    sweeper: AtomicBool,
    /// Whether the change forwarder has been started.
    forwarder: AtomicBool,
}

/// No room for another session: every session is busy.
#[derive(Debug)]
pub(crate) struct Full;

impl Sessions {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            epoch: Instant::now(),
            limits,
            sweeper: AtomicBool::new(false),
            forwarder: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Creates a session for an initialized connection, evicting the longest-idle session when
    /// the cap is reached; starts its change forwarder and, once, the sweeper.
    pub(crate) fn create(
        self: &Arc<Self>,
        server: &Server,
        id: String,
        conn: Arc<Connection>,
        standalone: mpsc::Receiver<Vec<u8>>,
        log: Arc<dyn EventLog>,
        owner: Option<Owner>,
    ) -> Result<Arc<Session>, Full> {
        let id: Arc<str> = id.into();
        let session = Arc::new(Session::new(
            id.clone(),
            conn.clone(),
            standalone,
            log,
            self.now_ms(),
            owner,
        ));
        let evicted = {
            let Ok(mut map) = self.map.write() else {
                return Err(Full);
            };
            let mut evicted = None;
            if map.len() >= self.limits.max_sessions.max(1) {
                let oldest = map
                    .values()
                    .filter(|s| s.busy.load(Ordering::SeqCst) == 0)
                    .min_by_key(|s| s.last_active_ms.load(Ordering::SeqCst))
                    .map(|s| s.id.clone());
                let Some(oldest) = oldest else {
                    return Err(Full);
                };
                evicted = map.remove(&oldest);
            }
            map.insert(id, session.clone());
            evicted
        };
        if let Some(old) = evicted {
            tracing::debug!(session = %old.id, "session cap reached: evicted the longest idle");
            end(&old);
        }
        self.start_forwarder(server);
        self.start_sweeper();
        Ok(session)
    }

    /// The session with this id, marked busy for the caller; `None` when there is none, it
    /// ended, or another principal than `caller` opened it (a session id is not a
    /// credential: one that leaked is useless to anyone else).
    pub(crate) fn use_session(
        self: &Arc<Self>,
        id: &str,
        caller: &Authentication,
    ) -> Option<InUse> {
        let session = self.map.read().ok()?.get(id).cloned()?;
        if session.ended() || !Owner::admits(session.owner.as_ref(), caller) {
            return None;
        }
        session.busy.fetch_add(1, Ordering::SeqCst);
        session
            .last_active_ms
            .store(self.now_ms(), Ordering::SeqCst);
        Some(InUse {
            session,
            sessions: Arc::downgrade(self),
        })
    }

    /// Marks a session busy (for a task that outlives the HTTP request that started it).
    pub(crate) fn hold(self: &Arc<Self>, session: &Arc<Session>) -> InUse {
        session.busy.fetch_add(1, Ordering::SeqCst);
        InUse {
            session: session.clone(),
            sessions: Arc::downgrade(self),
        }
    }

    /// Ends a session (DELETE) `caller` opened; `false` if it has none of that id.
    pub(crate) fn remove(&self, id: &str, caller: &Authentication) -> bool {
        let removed = self.map.write().ok().and_then(|mut m| {
            if !Owner::admits(m.get(id)?.owner.as_ref(), caller) {
                return None;
            }
            m.remove(id)
        });
        match removed {
            Some(s) => {
                end(&s);
                true
            }
            None => false,
        }
    }

    /// Ends every session (shutdown).
    pub(crate) fn clear(&self) {
        let all: Vec<_> = self
            .map
            .write()
            .map(|mut m| m.drain().map(|(_, s)| s).collect())
            .unwrap_or_default();
        for s in &all {
            end(s);
        }
    }

    /// Ends sessions idle past the idle timeout, and sessions never initialized past the
    /// pre-initialize timeout. Busy sessions are never ended.
    fn sweep(&self) {
        let now = self.now_ms();
        let idle = u64::try_from(self.limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        let pre = u64::try_from(self.limits.pre_initialize_timeout.as_millis()).unwrap_or(u64::MAX);
        let expired = |s: &Session| {
            if s.busy.load(Ordering::SeqCst) > 0 {
                return false;
            }
            let quiet = now.saturating_sub(s.last_active_ms.load(Ordering::SeqCst));
            quiet >= idle
                || (!s.initialized.load(Ordering::SeqCst)
                    && now.saturating_sub(s.created_ms) >= pre)
        };
        let gone: Vec<_> = {
            let Ok(mut map) = self.map.write() else {
                return;
            };
            let ids: Vec<_> = map
                .values()
                .filter(|s| expired(s))
                .map(|s| s.id.clone())
                .collect();
            let gone = ids.iter().filter_map(|id| map.remove(id)).collect();
            // A burst of sessions leaves a large table behind; give the memory back.
            if map.capacity() > 64 && map.len() < map.capacity() / 4 {
                let keep = map.len() * 2;
                map.shrink_to(keep);
            }
            gone
        };
        for s in &gone {
            tracing::debug!(session = %s.id, "session expired");
            end(s);
        }
    }

    /// One task for every session: each router change goes to every open session (through a
    /// short-lived task per session, so one session that is not reading cannot hold up the
    /// others). A task per session would cost each idle session its memory.
    fn start_forwarder(self: &Arc<Self>, server: &Server) {
        if self.forwarder.swap(true, Ordering::SeqCst) {
            return;
        }
        let sessions = Arc::downgrade(self);
        let server = server.clone();
        let mut changes = server.subscribe_changes();
        tokio::spawn(async move {
            loop {
                let change = match changes.recv().await {
                    Ok(c) => c,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let Some(sessions) = sessions.upgrade() else {
                    return;
                };
                let open: Vec<Arc<Session>> = sessions
                    .map
                    .read()
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                drop(sessions);
                for session in open {
                    let server = server.clone();
                    let change = change.clone();
                    tokio::spawn(async move {
                        let conn = &session.conn;
                        tokio::select! {
                            () = server.notify_change(conn, change) => {}
                            () = conn.closing.cancelled() => {}
                        }
                    });
                }
            }
        });
    }

    fn start_sweeper(self: &Arc<Self>) {
        if self.sweeper.swap(true, Ordering::SeqCst) {
            return;
        }
        let shortest = self
            .limits
            .idle_timeout
            .min(self.limits.pre_initialize_timeout);
        let period = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
        let sessions = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(sessions) = sessions.upgrade() else {
                    return;
                };
                sessions.sweep();
            }
        });
    }
}

/// Ends a session: nobody can answer its server-to-client requests any more, its streams,
/// forwarder and requests stop, its log goes.
fn end(session: &Arc<Session>) {
    let conn = &session.conn;
    conn.pending.fail_all();
    conn.closing.cancel();
    if let Ok(in_flight) = conn.in_flight.lock() {
        for token in in_flight.values() {
            token.cancel();
        }
    }
    if let Ok(mut readers) = session.readers.lock() {
        for (_, token) in readers.values() {
            token.cancel();
        }
        readers.clear();
    }
    session.appended.send_modify(|_| {});
    let log = session.log.clone();
    tokio::spawn(async move { log.close().await });
}
