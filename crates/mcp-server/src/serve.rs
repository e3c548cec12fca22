//! Serving a connection over a framed byte stream: stdio, a TCP or Unix socket, an in-memory
//! pipe.
//!
//! Requests run concurrently (up to `max_in_flight` per connection); their responses and
//! notifications go through one writer task that flushes only when nothing else is waiting to be
//! written, so a busy connection makes few system calls. At end of input the server stops
//! reading, ends listen streams, lets in-flight requests finish, flushes, and returns.

use std::io;
use std::sync::Arc;

use mcp_protocol::McpError;
use mcp_protocol::jsonrpc::{self, Incoming, Message, ParseOptions, RequestId};
use mcp_protocol::types::CancelledNotificationParams;
use mcp_transport::{FrameError, FrameReader, FrameWriter};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::request::Authentication;
use crate::server::Server;
use crate::service::{Connection, error_bytes};

impl Server {
    /// Serves the process's stdin and stdout until stdin ends. Log to stderr (for example with
    /// `tracing_subscriber::fmt().with_writer(std::io::stderr)`): stdout carries only protocol.
    pub async fn serve_stdio(self) -> io::Result<()> {
        let (reader, writer) = mcp_transport::stdio::framed(self.inner.options.max_message_size);
        self.serve(reader, writer).await
    }

    /// Serves one bidirectional byte stream (a TCP or Unix socket, an in-memory pipe) with
    /// stdio's framing, until its input ends.
    pub async fn serve_stream<S>(self, stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (reader, writer) = mcp_transport::split(stream, self.inner.options.max_message_size);
        self.serve(reader, writer).await
    }

    /// Accepts TCP connections and serves each on its own task until the listener fails. Each
    /// connection is a separate session (legacy) or a separate stream of stateless requests.
    pub async fn serve_tcp(self, listener: tokio::net::TcpListener) -> io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_stream(stream).await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    }

    /// Accepts Unix-socket connections and serves each on its own task.
    pub async fn serve_unix(self, listener: tokio::net::UnixListener) -> io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_stream(stream).await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
    }

    /// Serves one connection until its input ends.
    pub async fn serve<R, W>(
        self,
        reader: FrameReader<R>,
        mut writer: FrameWriter<W>,
    ) -> io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1024);
        let writer_task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                writer.send(&first).await?;
                while let Ok(more) = rx.try_recv() {
                    writer.send(&more).await?;
                }
                writer.flush().await?;
            }
            writer.flush().await
        });
        let authentication = self.inner.options.local_principal.resolve().await;
        let result = self.serve_messages(reader, tx, authentication).await;
        match writer_task.await {
            Ok(Ok(())) => result,
            Ok(Err(e)) => Err(e),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// Serves one connection whose messages come from `inbound` and whose output (responses,
    /// notifications, requests to the client) goes to `outbox`, until `inbound` ends: the
    /// connection machinery of [`Server::serve`] without its byte framing, for message-oriented
    /// transports (WebSocket). Returns once every in-flight request has answered into `outbox`
    /// and the connection's clones of it are dropped.
    pub(crate) async fn serve_messages<I: Inbound>(
        self,
        mut inbound: I,
        tx: mpsc::Sender<Vec<u8>>,
        authentication: Authentication,
    ) -> io::Result<()> {
        let conn = Arc::new(Connection::new(tx.clone()));
        let _counted = Counted::new(&self.inner.connections);
        let accept = Accept {
            conn: &conn,
            permits: Arc::new(Semaphore::new(self.inner.options.max_in_flight.max(1))),
            authentication,
        };
        let forwarder = tokio::spawn({
            let server = self.clone();
            let conn = conn.clone();
            async move { server.forward_changes(conn).await }
        });
        let mut tasks = JoinSet::new();
        let mut result = Ok(());

        while let Some(frame) = inbound.next_message().await {
            // Reap finished tasks so the set does not grow with the connection's lifetime.
            while tasks.try_join_next().is_some() {}
            let bytes = match frame {
                Ok(b) => b,
                Err(FrameError::TooLarge { size, limit }) => {
                    tracing::warn!(size, limit, "refused an oversized message");
                    let e = McpError::InvalidRequest(format!(
                        "message of {size} bytes exceeds the {limit}-byte limit"
                    ));
                    let _ = tx
                        .send(error_bytes(None, &e, self.revision_of(&conn)))
                        .await;
                    continue;
                }
                Err(FrameError::Io(e)) => {
                    result = Err(e);
                    break;
                }
                Err(e) => {
                    result = Err(io::Error::other(e.to_string()));
                    break;
                }
            };
            let allow_batch = conn
                .legacy_session()
                .is_some_and(|s| s.version.allows_batches());
            let options = ParseOptions {
                allow_batch,
                ..ParseOptions::default()
            };
            match jsonrpc::parse_with(&bytes, &options) {
                Err(e) => {
                    let _ = tx
                        .send(serde_json::to_vec(&e.to_response()).unwrap_or_default())
                        .await;
                }
                Ok(Incoming::Single(message)) => {
                    self.accept(&accept, message, &mut tasks, None).await;
                }
                Ok(Incoming::Batch(items)) => {
                    // 2025-03-26 batches: answer with one array once every request is done.
                    let (btx, mut brx) = mpsc::channel::<Vec<u8>>(items.len().max(1));
                    for item in items {
                        match item {
                            Ok(message) => {
                                self.accept(&accept, message, &mut tasks, Some(btx.clone()))
                                    .await
                            }
                            Err(e) => {
                                let _ = btx
                                    .send(serde_json::to_vec(&e.to_response()).unwrap_or_default())
                                    .await;
                            }
                        }
                    }
                    drop(btx);
                    let out = tx.clone();
                    tasks.spawn(async move {
                        let mut parts = Vec::new();
                        while let Some(p) = brx.recv().await {
                            parts.push(p);
                        }
                        if !parts.is_empty() {
                            let mut array = b"[".to_vec();
                            array.extend(parts.join(&b","[..]));
                            array.push(b']');
                            let _ = out.send(array).await;
                        }
                    });
                }
            }
        }

        // End of input: nobody can answer our requests any more; listen streams end; in-flight
        // requests finish and their responses are written.
        conn.pending.fail_all();
        conn.closing.cancel();
        while tasks.join_next().await.is_some() {}
        forwarder.abort();
        drop(conn);
        drop(tx);
        result
    }

    fn revision_of(&self, conn: &Connection) -> mcp_protocol::ProtocolVersion {
        conn.legacy_session()
            .map_or(mcp_protocol::ProtocolVersion::LATEST, |s| s.version)
    }

    async fn accept(
        &self,
        accept: &Accept<'_>,
        message: Message,
        tasks: &mut JoinSet<()>,
        batch: Option<mpsc::Sender<Vec<u8>>>,
    ) {
        let conn = accept.conn;
        match message {
            Message::Request(req) => {
                let cancel = CancellationToken::new();
                let duplicate = conn
                    .in_flight
                    .lock()
                    .map(|mut f| {
                        if f.contains_key(&req.id) {
                            true
                        } else {
                            f.insert(req.id.clone(), cancel.clone());
                            false
                        }
                    })
                    .unwrap_or(false);
                let out = batch.unwrap_or_else(|| conn.outbox.clone());
                if duplicate {
                    let e = McpError::InvalidRequest(format!(
                        "request id {} is already in flight",
                        req.id
                    ));
                    let _ = out
                        .send(error_bytes(Some(req.id), &e, self.revision_of(conn)))
                        .await;
                    return;
                }
                // Waiting for a permit pauses reading: back-pressure instead of unbounded tasks.
                let Ok(permit) = accept.permits.clone().acquire_owned().await else {
                    return;
                };
                let server = self.clone();
                let conn = conn.clone();
                let authentication = accept.authentication.clone();
                tasks.spawn(async move {
                    let id = req.id.clone();
                    let reply = server.handle(&conn, req, cancel, authentication).await;
                    if let Ok(mut f) = conn.in_flight.lock() {
                        f.remove(&id);
                    }
                    if let Some(bytes) = reply {
                        let _ = out.send(bytes).await;
                    }
                    drop(permit);
                });
            }
            Message::Notification(n) => match &*n.method {
                "notifications/cancelled" => {
                    if let Ok(p) = n.params_as::<CancelledNotificationParams>()
                        && let Some(id) = p.request_id
                    {
                        cancel_request(conn, &id);
                    }
                }
                "notifications/initialized" => tracing::debug!("client initialized"),
                other => tracing::debug!(method = other, "notification ignored"),
            },
            Message::Response(r) => {
                let value = serde_json::from_str(r.result.get()).unwrap_or(serde_json::Value::Null);
                if !conn.pending.complete(&r.id, Ok(value)) {
                    tracing::debug!(id = %r.id, "response to no pending request");
                }
            }
            Message::Error(e) => {
                if let Some(id) = e.id {
                    conn.pending
                        .complete(&id, Err(McpError::from_error_object(e.error)));
                }
            }
        }
    }
}

/// Counts a connection while it is served.
struct Counted(Arc<std::sync::atomic::AtomicUsize>);

impl Counted {
    fn new(count: &Arc<std::sync::atomic::AtomicUsize>) -> Self {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// What every request of one connection shares.
struct Accept<'a> {
    conn: &'a Arc<Connection>,
    /// Bounds the requests in flight.
    permits: Arc<Semaphore>,
    /// Who calls, settled when the connection started.
    authentication: Authentication,
}

/// Where a connection's messages come from: newline-delimited frames from a byte stream, or the
/// messages of a message-oriented transport (one WebSocket text frame each).
pub(crate) trait Inbound {
    /// The next message; `None` at end of input.
    async fn next_message(&mut self) -> Option<Result<Vec<u8>, FrameError>>;
}

impl<R: AsyncRead + Unpin> Inbound for FrameReader<R> {
    async fn next_message(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        self.next().await
    }
}

/// Messages already delimited by the transport, which also enforced their size limit.
impl Inbound for mpsc::Receiver<Vec<u8>> {
    async fn next_message(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        self.recv().await.map(Ok)
    }
}

fn cancel_request(conn: &Connection, id: &RequestId) {
    let token = conn.in_flight.lock().ok().and_then(|f| f.get(id).cloned());
    if let Some(token) = token {
        token.cancel();
    }
}
