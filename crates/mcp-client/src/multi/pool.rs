//! The connection pool: one connection per server identity (transport and credentials), kept
//! and reused by every call — over HTTP and WebSocket one client, over stdio one process, started
//! again when it dies — with a maximum size, least-recently-used eviction of idle connections,
//! idle eviction and health pings by a background task, and hit / miss / eviction counts.
//!
//! Why it cannot deadlock: the pool's lock is a plain mutex held for map lookups and counter
//! updates only, never across an `.await`; connecting, closing and pinging happen outside it.
//! A call that finds the pool full of busy connections waits for a connection to be released
//! (or for one being opened to fail), at most `acquire_timeout`, then fails with
//! [`super::MultiError::PoolExhausted`]. No code path holds two servers' slot locks at once,
//! and a slot lock is never held while taking the pool lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mcp_protocol::types::{SubscriptionFilter, Tool};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::breaker::{Breaker, BreakerOptions};
use super::metrics::{Metrics, ServerMetrics};
use crate::config::ServerConfig;
use crate::{CallOptions, Client, ClientError, ClientOptions};

/// How the pool behaves (the original SDK's `connection_pool_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Keep connections between calls (default true, the original's
    /// `enable_connection_reuse`). Off: every call opens its own connection (a process per
    /// call over stdio) and closes it after.
    pub reuse: bool,
    /// The most connections open at once (default 10, the original's `max_connections`). A
    /// call to a new server when the pool is full closes the least recently used idle
    /// connection, or waits for one to become idle.
    pub max_size: usize,
    /// Idle connections older than this are closed (default 60 s, the original's
    /// `max_idle_time`).
    pub idle_timeout: Duration,
    /// Idle connections are pinged this often; one that fails is closed (default 30 s, the
    /// original's `health_check_interval`).
    pub health_interval: Duration,
    /// How long a health ping may take (default 5 s).
    pub health_timeout: Duration,
    /// How long opening a connection (process start or connect, and the handshake) may take
    /// (default 30 s, the original's `connection_timeout`).
    pub connect_timeout: Duration,
    /// How long a call waits for room in a full pool (default 30 s).
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            reuse: true,
            max_size: 10,
            idle_timeout: Duration::from_secs(60),
            health_interval: Duration::from_secs(30),
            health_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The pool's counters so far (the same numbers are in the prometheus registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolStats {
    /// Calls that reused a pooled connection.
    pub hits: u64,
    /// Calls that had to open a connection.
    pub misses: u64,
    /// Connections closed by the pool (least recently used, idle, unhealthy or dead).
    pub evictions: u64,
    /// Connections opened (over stdio: processes started).
    pub connections_started: u64,
    /// Connections reopened because the previous one had died.
    pub restarts: u64,
    /// Calls that had to wait for a connection: the pool was full of busy ones, or the
    /// server's connection was being opened by another call.
    pub waits: u64,
    /// Connections open or being opened now.
    pub connections: u64,
}

/// One pooled connection's place.
#[derive(Debug)]
struct Slot {
    client: Option<Client>,
    /// A connection is being opened (it counts towards the pool's size).
    reserved: bool,
    /// Calls using the connection now.
    leases: usize,
    last_used: Instant,
    last_checked: Instant,
    /// Stops the connection's list-changed watcher.
    watcher: Option<CancellationToken>,
}

/// One server identity: its breaker, metric handles, discovery state and pooled connection.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) id: u64,
    pub(crate) config: ServerConfig,
    pub(crate) breaker: Option<Breaker>,
    pub(crate) metrics: ServerMetrics,
    slot: Mutex<Slot>,
    /// Bumped by each list-changed: a listing that started before it is not cached.
    pub(crate) tools_generation: AtomicU64,
    /// Tool name -> safe to repeat (annotated read-only or idempotent), from the last listing.
    pub(crate) hints: Mutex<HashMap<String, bool>>,
    pub(crate) hints_known: AtomicBool,
    /// A call already tried to learn the hints (once per server; listings teach them later).
    pub(crate) hints_tried: AtomicBool,
    /// The last connection died (exited, failed, or failed a health ping): the next one opened
    /// is a restart.
    lost: AtomicBool,
}

impl Server {
    /// Remembers which tools are safe to repeat.
    pub(crate) fn learn(&self, tools: &[Tool]) {
        let hints = tools
            .iter()
            .map(|t| {
                let a = t.annotations.as_ref();
                let safe = a.is_some_and(|a| {
                    a.read_only_hint == Some(true) || a.idempotent_hint == Some(true)
                });
                (t.name.clone(), safe)
            })
            .collect();
        if let Ok(mut h) = self.hints.lock() {
            *h = hints;
        }
        self.hints_known.store(true, Ordering::Relaxed);
    }

    /// Whether `tool` is annotated read-only or idempotent in the last listing.
    pub(crate) fn safe_to_repeat(&self, tool: &str) -> bool {
        self.hints
            .lock()
            .ok()
            .and_then(|h| h.get(tool).copied())
            .unwrap_or(false)
    }

    /// The process id of a pooled stdio connection, when one runs.
    pub(crate) fn client(&self) -> Option<Client> {
        self.slot.lock().ok().and_then(|s| s.client.clone())
    }
}

/// How many configuration addresses [`PoolState::recent`] remembers.
const RECENT: usize = 16;

#[derive(Debug, Default)]
struct PoolState {
    /// Server identities by [`ServerConfig::identity_hash`].
    servers: HashMap<u64, Vec<Arc<Server>>>,
    /// The servers of the last configurations asked for, by the configuration's address: a
    /// caller that passes the same `ServerConfig` value every time (the usual way) finds its
    /// server by comparing, without hashing the whole configuration. Checked with
    /// [`ServerConfig::same_server`], so a different configuration at a reused address only
    /// misses.
    recent: Vec<(usize, Arc<Server>)>,
    /// The next entry of `recent` to replace once it is full.
    recent_next: usize,
    /// Slots with a connection or a reservation.
    live: usize,
}

/// The discovery cache: server id -> its tools.
pub(crate) type ToolsCache = moka::sync::Cache<u64, Arc<Vec<Tool>>>;

/// The pool.
#[derive(Debug)]
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    /// Wakes calls waiting for room: a lease was released, or an opening failed.
    room: Notify,
    waiters: AtomicUsize,
    next_id: AtomicU64,
    pub(crate) options: PoolOptions,
    client_options: ClientOptions,
    breaker: Option<BreakerOptions>,
    pub(crate) metrics: Metrics,
    pub(crate) tools: ToolsCache,
    pub(crate) closed: CancellationToken,
}

/// A connection in use by one call; released on drop.
#[derive(Debug)]
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    server: &'a Server,
    pub(crate) client: Client,
    /// A connection of its own (reuse off): closed on release.
    owned: bool,
    /// When the call finished, if the caller read the clock already (saves a clock read).
    pub(crate) finished: Option<Instant>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.owned {
            let client = self.client.clone();
            tokio::spawn(async move { client.close().await });
            return;
        }
        if let Ok(mut slot) = self.server.slot.lock() {
            slot.leases = slot.leases.saturating_sub(1);
            slot.last_used = self.finished.unwrap_or_else(Instant::now);
        }
        self.pool.wake();
    }
}

/// Why no connection could be had.
#[derive(Debug)]
pub(crate) enum AcquireError {
    Connect(ClientError),
    Exhausted(Duration),
    Closed,
}

/// Counts a call as waiting for room while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(waiters: &'a AtomicUsize) -> Self {
        waiters.fetch_add(1, Ordering::SeqCst);
        Self(waiters)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Gives back a reservation when opening the connection fails or is abandoned.
struct Reservation<'a> {
    pool: &'a Pool,
    server: &'a Server,
    armed: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(mut state) = self.pool.state.lock() {
            if let Ok(mut slot) = self.server.slot.lock() {
                slot.reserved = false;
                slot.leases = slot.leases.saturating_sub(1);
            }
            state.live = state.live.saturating_sub(1);
            self.pool.metrics.pool_connections.set(gauge(state.live));
        }
        self.pool.wake_all();
    }
}

fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Pool {
    pub(crate) fn new(
        options: PoolOptions,
        client_options: ClientOptions,
        breaker: Option<BreakerOptions>,
        metrics: Metrics,
        tools: ToolsCache,
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            state: Mutex::new(PoolState::default()),
            room: Notify::new(),
            waiters: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            options,
            client_options,
            breaker,
            metrics,
            tools,
            closed: CancellationToken::new(),
        });
        if options.reuse {
            tokio::spawn(maintain_loop(Arc::downgrade(&pool), pool.closed.clone()));
        }
        pool
    }

    fn wake(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.room.notify_waiters();
        }
    }

    fn wake_all(&self) {
        self.room.notify_waiters();
    }

    /// The server identity of `config`, created on first use.
    pub(crate) fn server(&self, config: &ServerConfig) -> Arc<Server> {
        let address = std::ptr::from_ref(config).addr();
        let Ok(mut state) = self.state.lock() else {
            return Arc::new(self.new_server(config));
        };
        let state = &mut *state;
        if let Some((_, s)) = state
            .recent
            .iter()
            .find(|(a, s)| *a == address && s.config.same_server(config))
        {
            return s.clone();
        }
        let bucket = state.servers.entry(config.identity_hash()).or_default();
        let server = match bucket.iter().find(|s| s.config.same_server(config)) {
            Some(s) => s.clone(),
            None => {
                let server = Arc::new(self.new_server(config));
                bucket.push(server.clone());
                server
            }
        };
        let entry = (address, server.clone());
        if state.recent.len() < RECENT {
            state.recent.push(entry);
        } else {
            state.recent[state.recent_next] = entry;
            state.recent_next = (state.recent_next + 1) % RECENT;
        }
        server
    }

    fn new_server(&self, config: &ServerConfig) -> Server {
        let name = config.name.clone();
        let metrics = self.metrics.clone();
        let breaker = self.breaker.map(|options| {
            Breaker::new(
                options,
                Box::new(move |state| metrics.breaker_changed(&name, state)),
            )
        });
        let now = Instant::now();
        Server {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            config: config.clone(),
            breaker,
            metrics: self
                .metrics
                .for_server(&config.name, config.transport.kind()),
            slot: Mutex::new(Slot {
                client: None,
                reserved: false,
                leases: 0,
                last_used: now,
                last_checked: now,
                watcher: None,
            }),
            tools_generation: AtomicU64::new(0),
            hints: Mutex::new(HashMap::new()),
            hints_known: AtomicBool::new(false),
            hints_tried: AtomicBool::new(false),
            lost: AtomicBool::new(false),
        }
    }

    /// A connection to `server`: the pooled one, or a new one.
    pub(crate) async fn acquire<'a>(
        &'a self,
        server: &'a Arc<Server>,
    ) -> Result<Lease<'a>, AcquireError> {
        // A hit takes only this server's slot lock, not the pool-wide one: calls to different
        // servers do not contend, and the clock is not read.
        if self.options.reuse {
            let Ok(mut slot) = server.slot.lock() else {
                return Err(AcquireError::Closed);
            };
            if let Some(lease) = self.lease_live(server, &mut slot) {
                return Ok(lease);
            }
        }
        // Anything else (no connection, a dead one, no reuse) goes the long way, boxed: it
        // holds a connect's state (kilobytes), which the hit path and every future that
        // awaits this one would otherwise carry and copy on every call.
        Box::pin(self.acquire_slow(server)).await
    }

    /// [`acquire`](Self::acquire) past a miss: looks again under both locks, connects, or waits
    /// for room.
    async fn acquire_slow<'a>(
        &'a self,
        server: &'a Arc<Server>,
    ) -> Result<Lease<'a>, AcquireError> {
        if !self.options.reuse {
            if self.closed.is_cancelled() {
                return Err(AcquireError::Closed);
            }
            self.metrics.pool_misses.inc();
            let client = self.open(server).await.map_err(AcquireError::Connect)?;
            return Ok(Lease {
                pool: self,
                server,
                client,
                owned: true,
                finished: None,
            });
        }
        let mut waiting: Option<(Waiting<'_>, Instant)> = None;
        loop {
            // A waiting call registers before it looks, so a release between the look and
            // the wait is seen; the common case (a hit) registers nothing.
            let room = waiting.is_some().then(|| self.room.notified());
            tokio::pin!(room);
            if let Some(room) = room.as_mut().as_pin_mut() {
                room.enable();
            }
            let mut dead = None;
            let mut victim = None;
            let mut closing = false;
            let reserved = {
                let Ok(mut state) = self.state.lock() else {
                    return Err(AcquireError::Closed);
                };
                let state = &mut *state;
                let Ok(mut slot) = server.slot.lock() else {
                    return Err(AcquireError::Closed);
                };
                if let Some(lease) = self.lease_live(server, &mut slot) {
                    return Ok(lease);
                }
                if slot.client.is_some() {
                    // The connection died (over stdio: the process exited): start again.
                    dead = take(&mut slot, state);
                    server.lost.store(true, Ordering::Relaxed);
                    self.metrics
                        .pool_evictions
                        .with_label_values(&["closed"])
                        .inc();
                }
                // Checked only here: `close` empties the slots after it cancels, so a live
                // connection means the pool was open when this call took the lock.
                if self.closed.is_cancelled() {
                    closing = true;
                    false
                } else if slot.reserved {
                    false // Another call is opening it: wait for that.
                } else {
                    drop(slot);
                    if state.live >= self.options.max_size.max(1) {
                        victim = lru_idle(state);
                        if victim.is_some() {
                            self.metrics
                                .pool_evictions
                                .with_label_values(&["lru"])
                                .inc();
                        }
                    }
                    let room_left = state.live < self.options.max_size.max(1);
                    if room_left {
                        let mut slot = server.slot.lock().map_err(|_| AcquireError::Closed)?;
                        slot.reserved = true;
                        slot.leases += 1;
                        state.live += 1;
                    }
                    self.metrics.pool_connections.set(gauge(state.live));
                    room_left
                }
            };
            for client in [dead, victim].into_iter().flatten() {
                tokio::spawn(async move { client.close().await });
            }
            if closing {
                return Err(AcquireError::Closed);
            }
            if reserved {
                self.metrics.pool_misses.inc();
                return self.fill(server).await;
            }
            // Full of busy connections, or another call is opening this one. Releases only
            // notify when someone waits: count this call as waiting, then look once more, so
            // a release that came before the count is not missed.
            let Some(&(_, started)) = waiting.as_ref() else {
                self.metrics.pool_waits.inc();
                waiting = Some((Waiting::new(&self.waiters), Instant::now()));
                continue;
            };
            let deadline = started + self.options.acquire_timeout;
            let Some(room) = room.as_mut().as_pin_mut() else {
                continue;
            };
            if tokio::time::timeout_at(deadline.into(), room)
                .await
                .is_err()
            {
                return Err(AcquireError::Exhausted(started.elapsed()));
            }
            if self.closed.is_cancelled() {
                return Err(AcquireError::Closed);
            }
        }
    }

    /// A lease on the slot's connection, if it holds a live one (a hit).
    fn lease_live<'a>(&'a self, server: &'a Arc<Server>, slot: &mut Slot) -> Option<Lease<'a>> {
        let client = slot.client.as_ref().filter(|c| !c.is_closed())?.clone();
        slot.leases += 1;
        self.metrics.pool_hits.inc();
        Some(Lease {
            pool: self,
            server,
            client,
            owned: false,
            finished: None,
        })
    }

    /// Opens the connection of a reserved slot and puts it in.
    async fn fill<'a>(&'a self, server: &'a Arc<Server>) -> Result<Lease<'a>, AcquireError> {
        let mut reservation = Reservation {
            pool: self,
            server,
            armed: true,
        };
        let client = self.open(server).await.map_err(AcquireError::Connect)?;
        if self.closed.is_cancelled() {
            client.close().await;
            return Err(AcquireError::Closed);
        }
        let watcher = CancellationToken::new();
        if let Ok(mut slot) = server.slot.lock() {
            reservation.armed = false;
            slot.reserved = false;
            slot.client = Some(client.clone());
            let now = Instant::now();
            slot.last_used = now;
            slot.last_checked = now;
            if let Some(old) = slot.watcher.replace(watcher.clone()) {
                old.cancel();
            }
        }
        self.metrics
            .pool_started
            .with_label_values(&[server.config.transport.kind()])
            .inc();
        if server.lost.swap(false, Ordering::Relaxed) {
            self.metrics.pool_restarts.inc();
        }
        watch_list_changes(&client, server.clone(), self.tools.clone(), watcher);
        // Callers waiting for this slot to open.
        self.wake_all();
        Ok(Lease {
            pool: self,
            server,
            client,
            owned: false,
            finished: None,
        })
    }

    /// Connects, within the connect timeout.
    async fn open(&self, server: &Server) -> Result<Client, ClientError> {
        let timeout = self.options.connect_timeout;
        let mut options = self.client_options.clone();
        options.probe_timeout = options.probe_timeout.min(timeout);
        match tokio::time::timeout(timeout, server.config.connect(options)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                method: "connect".into(),
                after: timeout,
            }),
        }
    }

    /// Closes `server`'s pooled connection if it is still `client` (it failed a health ping,
    /// or its transport ended).
    pub(crate) fn discard(&self, server: &Server, client: &Client, reason: &str) {
        let taken = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let Ok(mut slot) = server.slot.lock() else {
                return;
            };
            let same = slot
                .client
                .as_ref()
                .is_some_and(|c| Arc::ptr_eq(&c.inner, &client.inner));
            let taken = if same {
                take(&mut slot, &mut state)
            } else {
                None
            };
            self.metrics.pool_connections.set(gauge(state.live));
            taken
        };
        if let Some(c) = taken {
            server.lost.store(true, Ordering::Relaxed);
            self.metrics
                .pool_evictions
                .with_label_values(&[reason])
                .inc();
            tokio::spawn(async move { c.close().await });
            self.wake_all();
        }
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> PoolStats {
        let evictions = ["lru", "idle", "unhealthy", "closed"]
            .iter()
            .map(|r| self.metrics.pool_evictions.with_label_values(&[r]).get())
            .sum();
        let connections_started = ["stdio", "http", "sse", "websocket"]
            .iter()
            .map(|t| self.metrics.pool_started.with_label_values(&[t]).get())
            .sum();
        PoolStats {
            hits: self.metrics.pool_hits.get(),
            misses: self.metrics.pool_misses.get(),
            evictions,
            connections_started,
            restarts: self.metrics.pool_restarts.get(),
            waits: self.metrics.pool_waits.get(),
            connections: u64::try_from(self.metrics.pool_connections.get()).unwrap_or(0),
        }
    }

    /// One round of upkeep: closes dead and idle connections, pings the rest that are due.
    async fn maintain(&self) {
        let now = Instant::now();
        let mut closing = Vec::new();
        let mut due = Vec::new();
        if let Ok(mut guard) = self.state.lock() {
            let state = &mut *guard;
            let servers: Vec<Arc<Server>> = state.servers.values().flatten().cloned().collect();
            for server in servers {
                let Ok(mut slot) = server.slot.lock() else {
                    continue;
                };
                let Some(client) = slot.client.clone() else {
                    continue;
                };
                if slot.leases > 0 {
                    continue;
                }
                let reason = if client.is_closed() {
                    "closed"
                } else if now.duration_since(slot.last_used) >= self.options.idle_timeout {
                    "idle"
                } else {
                    if now.duration_since(slot.last_checked) >= self.options.health_interval {
                        slot.last_checked = now;
                        due.push((server.clone(), client));
                    }
                    continue;
                };
                if let Some(c) = take(&mut slot, state) {
                    if reason == "closed" {
                        server.lost.store(true, Ordering::Relaxed);
                    }
                    self.metrics
                        .pool_evictions
                        .with_label_values(&[reason])
                        .inc();
                    closing.push(c);
                }
            }
            self.metrics.pool_connections.set(gauge(state.live));
        }
        if !closing.is_empty() {
            self.wake_all();
        }
        for client in closing {
            client.close().await;
        }
        for (server, client) in due {
            let healthy = tokio::time::timeout(self.options.health_timeout, ping(&client))
                .await
                .is_ok_and(|r| r.is_ok());
            if !healthy {
                tracing::warn!(server = %server.config.name, "health ping failed; closing the connection");
                self.discard(&server, &client, "unhealthy");
            }
        }
    }

    /// Closes every connection and stops the upkeep task.
    pub(crate) async fn close(&self) {
        self.closed.cancel();
        let clients: Vec<Client> = match self.state.lock() {
            Ok(mut guard) => {
                let state = &mut *guard;
                let servers: Vec<Arc<Server>> = state.servers.values().flatten().cloned().collect();
                let clients = servers
                    .iter()
                    .filter_map(|s| {
                        s.slot
                            .lock()
                            .ok()
                            .and_then(|mut slot| take(&mut slot, state))
                    })
                    .collect();
                self.metrics.pool_connections.set(gauge(state.live));
                clients
            }
            Err(_) => Vec::new(),
        };
        self.wake_all();
        for client in clients {
            client.close().await;
        }
    }
}

impl Drop for Pool {
    /// A client dropped without [`super::MultiClient::close`] still shuts its connections down
    /// (stdio servers would otherwise outlive it), in tasks of the current runtime if any.
    fn drop(&mut self) {
        self.closed.cancel();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(state) = self.state.get_mut() else {
            return;
        };
        for server in state.servers.values().flatten() {
            let client = server.slot.lock().ok().and_then(|mut s| {
                if let Some(w) = s.watcher.take() {
                    w.cancel();
                }
                s.client.take()
            });
            if let Some(client) = client {
                handle.spawn(async move { client.close().await });
            }
        }
    }
}

/// Takes the connection out of a slot (the caller closes it).
fn take(slot: &mut Slot, state: &mut PoolState) -> Option<Client> {
    let client = slot.client.take()?;
    if let Some(w) = slot.watcher.take() {
        w.cancel();
    }
    state.live = state.live.saturating_sub(1);
    Some(client)
}

/// Takes the least recently used idle connection out of the pool.
fn lru_idle(state: &mut PoolState) -> Option<Client> {
    let mut oldest: Option<(Instant, Arc<Server>)> = None;
    for server in state.servers.values().flatten() {
        let Ok(slot) = server.slot.lock() else {
            continue;
        };
        if slot.client.is_some()
            && slot.leases == 0
            && oldest.as_ref().is_none_or(|(t, _)| slot.last_used < *t)
        {
            oldest = Some((slot.last_used, server.clone()));
        }
    }
    let (_, server) = oldest?;
    let mut slot = server.slot.lock().ok()?;
    take(&mut slot, state)
}

/// `ping` for a legacy server; `server/discover` for a modern one, which has no `ping`.
pub(crate) async fn ping(client: &Client) -> Result<(), ClientError> {
    let modern = client.session().is_some_and(|s| s.version.is_modern());
    if modern {
        let _: Value = client
            .request("server/discover", &json!({}), &CallOptions::default())
            .await?;
        Ok(())
    } else {
        client.ping().await
    }
}

async fn maintain_loop(pool: Weak<Pool>, closed: CancellationToken) {
    let period = match pool.upgrade() {
        Some(p) => (p.options.idle_timeout.min(p.options.health_interval) / 2)
            .max(Duration::from_millis(50)),
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = closed.cancelled() => return,
        }
        let Some(pool) = pool.upgrade() else { return };
        pool.maintain().await;
    }
}

/// Drops `server`'s cached tools when the server says its list changed: legacy servers send
/// `notifications/tools/list_changed` on the session; modern ones on a `subscriptions/listen`
/// stream opened here when the server advertises `tools.listChanged`.
fn watch_list_changes(
    client: &Client,
    server: Arc<Server>,
    cache: ToolsCache,
    stop: CancellationToken,
) {
    const CHANGED: &str = "notifications/tools/list_changed";
    let Some(session) = client.session() else {
        return;
    };
    let invalidate = move || {
        server.tools_generation.fetch_add(1, Ordering::AcqRel);
        cache.invalidate(&server.id);
    };
    if session.version.is_legacy() {
        let mut rx = client.notifications();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    n = rx.recv() => match n {
                        Ok(n) if n.method == CHANGED => invalidate(),
                        Ok(_) => {}
                        // Missed some: one of them may have been a change.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => invalidate(),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    () = stop.cancelled() => return,
                }
            }
        });
        return;
    }
    let advertised = session
        .capabilities
        .tools
        .as_ref()
        .and_then(|t| t.list_changed)
        == Some(true);
    if !advertised {
        return;
    }
    let client = client.clone();
    tokio::spawn(async move {
        let filter = SubscriptionFilter {
            tools_list_changed: Some(true),
            ..SubscriptionFilter::default()
        };
        let mut subscription = tokio::select! {
            s = client.listen(filter) => match s {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "no listen stream for list changes; the discovery cache relies on its TTL");
                    return;
                }
            },
            () = stop.cancelled() => return,
        };
        drop(client);
        loop {
            tokio::select! {
                n = subscription.next() => match n {
                    Some(n) if n.method == CHANGED => invalidate(),
                    Some(_) => {}
                    None => return,
                },
                () = stop.cancelled() => return,
            }
        }
    });
}
