//! Long-running tools as tasks: the 2026-07-28 tasks extension, `io.modelcontextprotocol/tasks`
//! (SEP-2663).
//!
//! A tool opts in with [`Tool::task_support`](crate::Tool::task_support). When a 2026-07-28
//! client declares the extension in the capabilities of its `tools/call`, the server answers
//! with a task (`resultType: "task"`) instead of waiting for the handler; the client polls
//! `tasks/get` until the task is `completed` (the tool's result inlined), `failed` (a
//! JSON-RPC error inlined) or `cancelled`, answers the handler's questions with `tasks/update`,
//! stops it with `tasks/cancel`, or hears every change as `notifications/tasks` on a
//! `subscriptions/listen` stream that names the task ids. The server also advertises the
//! extension in `server/discover` while any tool has task support.
//!
//! The handler is the same function either way: it does not know whether it runs as a task.
//!
//! - [`TaskSupport::Optional`]: a task for clients that declared the extension on the request,
//!   an ordinary call for the others (and in legacy sessions).
//! - [`TaskSupport::Required`]: a task, or -32021 naming the extension for a 2026-07-28 request
//!   that did not declare it (a tool error in legacy sessions, which have no tasks).
//! - A task starts before the handler runs, so everything the handler asks the client
//!   ([`Client`](crate::Client)) is an input request of the task (`input_required` in
//!   `tasks/get`, answered by `tasks/update`). A handler that takes [`LongRunning`] instead
//!   runs as an ordinary request (its questions are multi-round-trip `input_required` results)
//!   until it calls [`LongRunning::begin`]: the task starts there, so a tool can ask for
//!   confirmation before committing to the long part.
//! - Progress reports ([`Progress`](crate::Progress)) of a task become its `statusMessage`;
//!   log messages of a task are dropped (its request has been answered).
//! - `tasks/cancel` cancels the handler's token and drops its future, like
//!   `notifications/cancelled` does for an ordinary request; the task is `cancelled` at once.
//! - A task lives for [`TaskOptions::ttl`] from its creation (`ttlMs`); one still running
//!   then is stopped and marked `failed`, and the store forgets it.
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::{Args, Client, LongRunning, Router, Tool, ToolError};
//! use mcp_server::tasks::TaskSupport;
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Report { year: u16 }
//!
//! async fn build_report(Args(r): Args<Report>) -> String {
//!     tokio::time::sleep(Duration::from_millis(10)).await; // the long part
//!     format!("report for {}", r.year)
//! }
//!
//! /// Asks before the task exists (a multi-round-trip exchange), then runs as a task.
//! async fn purge(client: Client, long: LongRunning) -> Result<String, ToolError> {
//!     let form = serde_json::from_value(serde_json::json!({
//!         "message": "Purge everything?",
//!         "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
//!     }))?;
//!     let answer = client.named("confirm").elicit(form).await?;
//!     long.begin().await;
//!     Ok(format!("purged: {:?}", answer.action))
//! }
//!
//! let router = Router::new()
//!     .tool(Tool::new("build_report").task_support(TaskSupport::Optional).handler(build_report))
//!     .tool(Tool::new("purge").task_support(TaskSupport::Required).handler(purge));
//! # drop(router);
//! ```
//!
//! Tasks are kept in a [`TaskStore`] ([`InMemoryTaskStore`] by default: 10,000 tasks, each
//! for its TTL); see [`TaskOptions`].

mod runtime;
mod store;
mod timestamp;

use std::sync::Arc;
use std::time::Duration;

pub use mcp_protocol::types::TaskSupport;
pub use store::{
    InMemoryTaskStore, StoreFuture, StoredTask, TaskStore, TaskStoreError, TaskStoreErrorKind,
};

pub(crate) use runtime::{
    Decision, Started, TaskAnswer, TaskRuntime, TaskSlot, TaskWatch, decide, missing_extension,
};

use crate::context::RequestContext;

/// How the server keeps and paces tasks; part of [`ServerOptions`](crate::ServerOptions).
#[derive(Debug, Clone)]
pub struct TaskOptions {
    /// Where tasks are kept (default: an [`InMemoryTaskStore`] of 10,000 tasks).
    pub store: Arc<dyn TaskStore>,
    /// How long a task lives from its creation, its `ttlMs` (default one hour). A task still
    /// running then is stopped; a finished one is forgotten.
    pub ttl: Duration,
    /// How often clients should poll, its `pollIntervalMs` (default one second).
    pub poll_interval: Duration,
}

impl Default for TaskOptions {
    fn default() -> Self {
        Self {
            store: Arc::new(InMemoryTaskStore::default()),
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Marks where a tool call's long part begins: an extractor for tool handlers.
///
/// A tool with [`TaskSupport`] whose handler takes `LongRunning` runs as an ordinary request
/// until the handler calls [`LongRunning::begin`], and as a task from there on (for clients
/// that can have one): what it asks the client before is a multi-round-trip exchange on the
/// original request, what it asks after is an input request of the task. Anywhere else (no
/// task support, a client without the extension, a legacy session) `begin` returns at once
/// and the call simply goes on.
///
/// ```
/// use mcp_server::{LongRunning, Tool};
/// use mcp_server::tasks::TaskSupport;
///
/// let tool = Tool::new("migrate").task_support(TaskSupport::Optional).handler(
///     |long: LongRunning| async move {
///         // Quick checks here answer synchronously...
///         long.begin().await;
///         // ...and from here the call may continue as a task.
///         "migrated"
///     },
/// );
/// # drop(tool);
/// ```
#[derive(Debug, Clone)]
pub struct LongRunning {
    ctx: RequestContext,
}

impl LongRunning {
    pub(crate) fn new(ctx: RequestContext) -> Self {
        Self { ctx }
    }

    /// Turns the call into a task now, if it can become one, and returns once the client has
    /// been told (`resultType: "task"`). Otherwise returns at once.
    pub async fn begin(self) {
        if let Some(slot) = self.ctx.task_slot() {
            slot.begin().await;
        }
    }
}
