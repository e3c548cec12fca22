//! Where tasks are kept: the [`TaskStore`] trait and its in-process default,
//! [`InMemoryTaskStore`].
//!
//! The store holds what `tasks/get` answers: each task's [`DetailedTask`] (status, timestamps,
//! outstanding input requests, the inlined result or error). What runs the task (the handler's
//! future, its cancellation token, the channels its input answers travel on) lives in the
//! process that started it and never goes through the store.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use mcp_protocol::McpError;
use mcp_protocol::types::tasks::DetailedTask;

/// A boxed, sendable future: what [`TaskStore`] methods return so that the trait stays
/// object-safe and implementations may do I/O.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A new task as handed to [`TaskStore::create`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    /// The task's state.
    pub task: DetailedTask,
    /// When the store may forget it: its creation plus its `ttlMs`.
    pub expires_at: SystemTime,
}

/// Why a [`TaskStore`] could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskStoreError {
    /// The store holds as many tasks as it may, none of which it can drop: every one is still
    /// running.
    #[error("the server is running its maximum of {0} tasks; try again later")]
    Full(usize),
    /// The store could not be reached or failed (a remote store's connection, ...).
    #[error("the task store is unavailable: {0}")]
    Unavailable(String),
}

/// The categories of [`TaskStoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStoreErrorKind {
    /// Out of room: a limit was reached.
    Capacity,
    /// The storage behind the store failed.
    Unavailable,
}

impl TaskStoreError {
    /// The error's category.
    pub fn kind(&self) -> TaskStoreErrorKind {
        match self {
            Self::Full(_) => TaskStoreErrorKind::Capacity,
            Self::Unavailable(_) => TaskStoreErrorKind::Unavailable,
        }
    }

    /// Whether trying again later may succeed: always, running tasks end and stores come back.
    pub fn is_retryable(&self) -> bool {
        true
    }

    /// The JSON-RPC code a client gets for it: -32603 (internal error).
    pub fn code(&self) -> i64 {
        mcp_protocol::error::code::INTERNAL_ERROR
    }
}

impl From<TaskStoreError> for McpError {
    fn from(e: TaskStoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Keeps the state of tasks between the request that creates one and the polls that follow.
///
/// The server writes a task's state once at creation and again at each change (status, input
/// requests, result), one write at a time per task, in order; it reads it for `tasks/get`,
/// `tasks/update` and `tasks/cancel`. Implement it to keep tasks elsewhere (a database, Redis)
/// so that every instance behind a load balancer answers `tasks/get` for every task. The task
/// itself runs in the instance that created it: `tasks/update` and `tasks/cancel` reach it
/// there only, which the `Mcp-Name: <taskId>` header lets a load balancer route to.
///
/// A task id is a bearer token: whoever knows it can read the result. Ids are 122 random bits.
pub trait TaskStore: Send + Sync + fmt::Debug + 'static {
    /// Keeps a new task. When the future resolves with `Ok`, [`TaskStore::get`] must find it
    /// (the extension requires a task to exist before the client hears of it).
    fn create(&self, task: StoredTask) -> StoreFuture<'_, Result<(), TaskStoreError>>;
    /// Replaces the state of a task; `Ok(false)` when the store no longer has it (expired or
    /// evicted).
    fn update(&self, task: DetailedTask) -> StoreFuture<'_, Result<bool, TaskStoreError>>;
    /// The task's state, or `None` when the id is unknown or the task expired.
    fn get<'a>(
        &'a self,
        task_id: &'a str,
    ) -> StoreFuture<'a, Result<Option<DetailedTask>, TaskStoreError>>;
}

/// Keeps tasks in process memory: at most `max_tasks` (default 10,000), each until its TTL
/// elapses. When full, it forgets expired tasks first, then the oldest finished one; when every
/// task is still running, creating another fails with [`TaskStoreError::Full`]. Expired tasks
/// are dropped when read and by a sweep at most once a second on creation, so a client that
/// starts tasks and never comes back leaves nothing behind once their TTLs have passed.
///
/// ```
/// use mcp_server::tasks::{InMemoryTaskStore, TaskOptions};
/// use std::sync::Arc;
///
/// let options = TaskOptions { store: Arc::new(InMemoryTaskStore::new(500)), ..TaskOptions::default() };
/// # drop(options);
/// ```
#[derive(Debug)]
pub struct InMemoryTaskStore {
    max_tasks: usize,
    memory: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    tasks: HashMap<String, Entry>,
    next_seq: u64,
    last_sweep: Option<Instant>,
}

#[derive(Debug)]
struct Entry {
    task: DetailedTask,
    expires_at: Instant,
    /// Creation order, for evicting the oldest finished task first.
    seq: u64,
}

/// How often creation sweeps expired tasks.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl Default for InMemoryTaskStore {
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl InMemoryTaskStore {
    /// A store holding at most `max_tasks` tasks (at least one).
    pub fn new(max_tasks: usize) -> Self {
        Self {
            max_tasks: max_tasks.max(1),
            memory: Mutex::default(),
        }
    }

    /// How many tasks it holds that have not expired.
    pub fn len(&self) -> usize {
        let mut memory = self.lock();
        memory.sweep(Instant::now());
        memory.tasks.len()
    }

    /// Whether it holds no unexpired task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn create_now(&self, task: StoredTask) -> Result<(), TaskStoreError> {
        let now = Instant::now();
        // A wall-clock deadline becomes a monotonic one, so clock changes do not shorten TTLs.
        let ttl = task
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let mut memory = self.lock();
        if memory
            .last_sweep
            .is_none_or(|at| now.duration_since(at) >= SWEEP_EVERY)
        {
            memory.sweep(now);
        }
        if memory.tasks.len() >= self.max_tasks {
            memory.sweep(now);
        }
        if memory.tasks.len() >= self.max_tasks && !memory.evict_oldest_finished() {
            return Err(TaskStoreError::Full(self.max_tasks));
        }
        let seq = memory.next_seq;
        memory.next_seq += 1;
        memory.tasks.insert(
            task.task.task.task_id.clone(),
            Entry {
                task: task.task,
                expires_at: now + ttl,
                seq,
            },
        );
        Ok(())
    }
}

impl Memory {
    fn sweep(&mut self, now: Instant) {
        self.tasks.retain(|_, e| e.expires_at > now);
        self.last_sweep = Some(now);
    }

    fn evict_oldest_finished(&mut self) -> bool {
        let oldest = self
            .tasks
            .iter()
            .filter(|(_, e)| e.task.task.status.is_terminal())
            .min_by_key(|(_, e)| e.seq)
            .map(|(id, _)| id.clone());
        oldest.is_some_and(|id| self.tasks.remove(&id).is_some())
    }

    /// The entry, if it has not expired; an expired one is dropped.
    fn live(&mut self, task_id: &str, now: Instant) -> Option<&mut Entry> {
        if self.tasks.get(task_id).is_some_and(|e| e.expires_at <= now) {
            self.tasks.remove(task_id);
        }
        self.tasks.get_mut(task_id)
    }
}

impl TaskStore for InMemoryTaskStore {
    fn create(&self, task: StoredTask) -> StoreFuture<'_, Result<(), TaskStoreError>> {
        let result = self.create_now(task);
        Box::pin(std::future::ready(result))
    }

    fn update(&self, task: DetailedTask) -> StoreFuture<'_, Result<bool, TaskStoreError>> {
        let mut memory = self.lock();
        let found = match memory.live(&task.task.task_id, Instant::now()) {
            Some(entry) => {
                entry.task = task;
                true
            }
            None => false,
        };
        Box::pin(std::future::ready(Ok(found)))
    }

    fn get<'a>(
        &'a self,
        task_id: &'a str,
    ) -> StoreFuture<'a, Result<Option<DetailedTask>, TaskStoreError>> {
        let mut memory = self.lock();
        let task = memory.live(task_id, Instant::now()).map(|e| e.task.clone());
        Box::pin(std::future::ready(Ok(task)))
    }
}

#[cfg(test)]
mod tests {
    use mcp_protocol::types::tasks::{Task, TaskStatus};

    use super::*;

    fn task(id: &str, status: TaskStatus) -> DetailedTask {
        DetailedTask {
            task: Task {
                task_id: id.into(),
                status,
                status_message: None,
                created_at: "2026-01-01T00:00:00.000Z".into(),
                last_updated_at: "2026-01-01T00:00:00.000Z".into(),
                ttl_ms: Some(60_000),
                poll_interval_ms: None,
            },
            input_requests: None,
            result: None,
            error: None,
        }
    }

    fn stored(id: &str, status: TaskStatus, ttl: Duration) -> StoredTask {
        StoredTask {
            task: task(id, status),
            expires_at: SystemTime::now() + ttl,
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_created_task_is_found_and_updated() {
        let store = InMemoryTaskStore::new(4);
        store
            .create(stored("a", TaskStatus::Working, MINUTE))
            .await
            .unwrap();
        assert_eq!(
            store.get("a").await.unwrap().unwrap().task.status,
            TaskStatus::Working
        );
        assert!(
            store
                .update(task("a", TaskStatus::Completed))
                .await
                .unwrap()
        );
        assert_eq!(
            store.get("a").await.unwrap().unwrap().task.status,
            TaskStatus::Completed
        );
        assert!(store.get("b").await.unwrap().is_none());
        assert!(
            !store
                .update(task("b", TaskStatus::Completed))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn expired_tasks_are_gone() {
        let store = InMemoryTaskStore::new(4);
        store
            .create(stored("short", TaskStatus::Completed, Duration::ZERO))
            .await
            .unwrap();
        store
            .create(stored("long", TaskStatus::Completed, MINUTE))
            .await
            .unwrap();
        assert!(store.get("short").await.unwrap().is_none());
        assert!(
            !store
                .update(task("short", TaskStatus::Failed))
                .await
                .unwrap()
        );
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn when_full_the_oldest_finished_task_goes_and_running_ones_stay() {
        let store = InMemoryTaskStore::new(3);
        for (id, status) in [
            ("run-1", TaskStatus::Working),
            ("done-1", TaskStatus::Completed),
            ("done-2", TaskStatus::Failed),
        ] {
            store.create(stored(id, status, MINUTE)).await.unwrap();
        }
        store
            .create(stored("run-2", TaskStatus::Working, MINUTE))
            .await
            .unwrap();
        assert!(
            store.get("done-1").await.unwrap().is_none(),
            "oldest finished"
        );
        assert!(store.get("done-2").await.unwrap().is_some());
        store
            .create(stored("run-3", TaskStatus::InputRequired, MINUTE))
            .await
            .unwrap();
        assert!(store.get("done-2").await.unwrap().is_none());
        let full = store
            .create(stored("run-4", TaskStatus::Working, MINUTE))
            .await
            .unwrap_err();
        assert_eq!(full, TaskStoreError::Full(3));
        assert_eq!(full.kind(), TaskStoreErrorKind::Capacity);
        assert!(full.is_retryable());
        assert_eq!(full.code(), -32603);
        for id in ["run-1", "run-2", "run-3"] {
            assert!(store.get(id).await.unwrap().is_some(), "{id}");
        }
    }
}
