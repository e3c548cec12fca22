//! Running tool calls as tasks: creating them, driving their handlers, feeding them input,
//! cancelling them, and telling listen streams about their changes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use mcp_protocol::jsonrpc::Request;
use mcp_protocol::types::tasks::{
    CreateTaskResult, DetailedTask, TASKS_EXTENSION, Task, TaskIdParams, TaskStatus,
};
use mcp_protocol::types::{
    CallToolResult, ClientCapabilities, InputRequest, InputResponse, InputResponses, TaskSupport,
};
use mcp_protocol::{ForRevision, JsonObject, McpError, ProtocolVersion};
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use super::TaskOptions;
use super::store::{StoredTask, TaskStore, TaskStoreError};
use super::timestamp::{iso8601, new_task_id};
use crate::context::{Peer, RequestContext};
use crate::error::ToolError;
use crate::router::{ToolCall, ToolRoute};

/// What a handler's future ends with.
type Outcome = Result<CallToolResult, ToolError>;

/// How one `tools/call` is to be served, decided before its handler runs.
#[derive(Debug)]
pub(crate) enum Decision {
    /// As an ordinary request.
    Direct,
    /// As a task, if it gets that far (the client declared the extension on this request).
    Task,
    /// Refused with this error: the tool runs only as a task and this request cannot have one.
    Refuse(McpError),
    /// Refused in a legacy session, with a tool error the model reads.
    RefuseLegacy(Box<CallToolResult>),
}

/// Decides how a call of a tool with `support` is served. A task only ever goes to a modern
/// request that declared the extension itself (the extension forbids anything else).
pub(crate) fn decide(
    support: TaskSupport,
    modern: bool,
    capabilities: Option<&ClientCapabilities>,
) -> Decision {
    let declared = modern && capabilities.is_some_and(|c| c.has_extension(TASKS_EXTENSION));
    match (support, declared) {
        (TaskSupport::Forbidden, _) | (TaskSupport::Optional, false) => Decision::Direct,
        (TaskSupport::Optional | TaskSupport::Required, true) => Decision::Task,
        (TaskSupport::Required, false) if modern => Decision::Refuse(missing_extension()),
        (TaskSupport::Required, false) => Decision::RefuseLegacy(Box::new(CallToolResult::error(
            "This tool runs only as a task (the io.modelcontextprotocol/tasks extension of \
             MCP 2026-07-28), which this session cannot do.",
        ))),
    }
}

/// -32021 naming the tasks extension as the missing client capability.
pub(crate) fn missing_extension() -> McpError {
    let required = ClientCapabilities {
        extensions: Some(BTreeMap::from([(
            TASKS_EXTENSION.to_owned(),
            JsonObject::new(),
        )])),
        ..ClientCapabilities::default()
    };
    McpError::MissingRequiredClientCapability(Box::new(
        mcp_protocol::error::MissingCapabilityData {
            required_capabilities: required,
        },
    ))
}

/// -32602 for a task id the server does not know (never created, expired or evicted).
pub(crate) fn unknown_task(task_id: &str) -> McpError {
    McpError::invalid_params(format!(
        "Failed to retrieve task: Task not found ({task_id:?})"
    ))
}

/// The answer to a `tasks/*` request.
#[derive(Debug)]
pub(crate) enum TaskAnswer {
    /// `tasks/get`: the task's state.
    Task(Box<DetailedTask>),
    /// `tasks/update`, `tasks/cancel`: an empty acknowledgement.
    Ack,
}

/// `tasks/update` params with the answers still raw: answers to keys that are not outstanding
/// are ignored whatever their shape, so they are parsed only once known to be wanted.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LenientUpdate {
    task_id: String,
    input_responses: BTreeMap<String, Value>,
}

/// How a call that was to become a task went.
#[derive(Debug)]
pub(crate) enum Started {
    /// It is a task now: answer with this.
    Task(Box<CreateTaskResult>),
    /// The handler finished before the call became a task: answer as an ordinary call.
    Finished(Outcome),
    /// The request was cancelled before either.
    Cancelled,
    /// The tool needs a task and none could be created.
    Refused(McpError),
}

/// The link between one modern request and the task it may become; lives in the request's
/// input round, where [`crate::Client`] and [`super::LongRunning`] find it.
#[derive(Debug, Default)]
pub(crate) struct TaskSlot {
    /// Set once the task exists: input is asked through it from then on.
    live: OnceLock<Arc<LiveTask>>,
    /// How `LongRunning::begin` asks the server to create the task; the server acknowledges
    /// on the inner sender once it has (or has decided not to).
    begin: Mutex<Option<oneshot::Sender<oneshot::Sender<()>>>>,
}

impl TaskSlot {
    /// The task, once the request became one.
    pub(crate) fn live(&self) -> Option<&Arc<LiveTask>> {
        self.live.get()
    }

    /// Asks the server to turn the request into a task now, and waits until it has: what
    /// `LongRunning::begin` does. Returns at once when there is nothing to ask.
    pub(crate) async fn begin(&self) {
        let Some(ask) = lock(&self.begin).take() else {
            return;
        };
        let (ack, acked) = oneshot::channel();
        if ask.send(ack).is_ok() {
            // An error means the server went away or declined: carry on as an ordinary call.
            let _ = acked.await;
        }
    }
}

impl RequestContext {
    /// The request's task slot (modern requests only).
    pub(crate) fn task_slot(&self) -> Option<&TaskSlot> {
        match &self.inner.peer {
            Peer::Modern(round) => Some(&round.task),
            _ => None,
        }
    }

    /// The task this request became, if it did.
    pub(crate) fn live_task(&self) -> Option<&Arc<LiveTask>> {
        self.task_slot().and_then(TaskSlot::live)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The tasks of one server: the store, and the tasks running in this process.
#[derive(Debug, Clone)]
pub(crate) struct TaskRuntime {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<dyn TaskStore>,
    ttl: Duration,
    poll_interval: Duration,
    /// Tasks whose handler runs in this process, until they reach a terminal status.
    live: Mutex<HashMap<String, Arc<LiveTask>>>,
    /// Every change of every task, for listen streams.
    changes: broadcast::Sender<Arc<DetailedTask>>,
}

impl TaskRuntime {
    pub(crate) fn new(options: &TaskOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                store: options.store.clone(),
                ttl: options.ttl,
                poll_interval: options.poll_interval,
                live: Mutex::default(),
                changes: broadcast::channel(256).0,
            }),
        }
    }

    /// Creates a task for a request of `revision` whose handler stops when `cancel` fires.
    /// Resolves once the store has it.
    async fn create(
        &self,
        revision: ProtocolVersion,
        cancel: CancellationToken,
    ) -> Result<Arc<LiveTask>, TaskStoreError> {
        let s = &self.shared;
        let now = SystemTime::now();
        let stamp = iso8601(now);
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
        let task = DetailedTask {
            task: Task {
                task_id: new_task_id(),
                status: TaskStatus::Working,
                status_message: None,
                created_at: stamp.clone(),
                last_updated_at: stamp,
                ttl_ms: Some(millis(s.ttl)),
                poll_interval_ms: Some(millis(s.poll_interval)),
            },
            input_requests: None,
            result: None,
            error: None,
        };
        s.store
            .create(StoredTask {
                task: task.clone(),
                expires_at: now + s.ttl,
            })
            .await?;
        let live = Arc::new(LiveTask {
            task_id: task.task.task_id.clone(),
            revision,
            cancel,
            finished: CancellationToken::new(),
            state: tokio::sync::Mutex::new(task),
            waiting: Mutex::default(),
            answered: Mutex::default(),
            store: s.store.clone(),
            changes: s.changes.clone(),
            runtime: Arc::downgrade(&self.shared),
        });
        lock(&s.live).insert(live.task_id.clone(), live.clone());
        // A task still running when its TTL elapses is stopped: nobody can collect it after.
        let (watched, ttl) = (live.clone(), s.ttl);
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(ttl) => watched.expire().await,
                () = watched.finished.cancelled() => {}
            }
        });
        Ok(live)
    }

    fn live(&self, task_id: &str) -> Option<Arc<LiveTask>> {
        lock(&self.shared.live).get(task_id).cloned()
    }

    /// Serves a `tools/call` that may become a task (see [`decide`]). The call's context must
    /// be a modern one whose cancellation token is `handler_cancel`, a token of its own: the
    /// request's (`request_cancel`) stops the handler only until the task exists.
    pub(crate) async fn call(
        &self,
        route: &ToolRoute,
        call: ToolCall,
        handler_cancel: CancellationToken,
        request_cancel: &CancellationToken,
    ) -> Started {
        if let Some(invalid) = route.invalid_arguments(&call.arguments) {
            return Started::Finished(Ok(invalid));
        }
        let ctx = call.ctx.clone();
        let Some(slot) = ctx.task_slot() else {
            return Started::Refused(McpError::Internal(
                "a task needs a 2026-07-28 request".into(),
            ));
        };
        let required = route.task_support() == TaskSupport::Required;
        let mut begin = None;
        if route.begins_in_handler() {
            let (ask, asked) = oneshot::channel();
            *lock(&slot.begin) = Some(ask);
            begin = Some(asked);
        } else {
            match self.create(ctx.revision(), handler_cancel.clone()).await {
                Ok(live) => {
                    let created = live.created().await;
                    let _ = slot.live.set(live);
                    drive(route, call, handler_cancel, ctx, None);
                    return Started::Task(Box::new(created));
                }
                Err(e) if required => return Started::Refused(e.into()),
                Err(e) => tracing::warn!(error = %e, "no task created; running the call directly"),
            }
        }
        let (done, mut finished) = oneshot::channel();
        drive(route, call, handler_cancel.clone(), ctx.clone(), Some(done));
        loop {
            tokio::select! {
                outcome = &mut finished => {
                    return Started::Finished(outcome.unwrap_or(Err(ToolError::Cancelled)));
                }
                asked = async { begin.as_mut().expect("guarded").await }, if begin.is_some() => {
                    begin = None;
                    // The sender is dropped when the handler ends without asking: no task.
                    let Ok(ack) = asked else { continue };
                    match self.create(ctx.revision(), handler_cancel.clone()).await {
                        Ok(live) => {
                            let created = live.created().await;
                            let _ = slot.live.set(live);
                            let _ = ack.send(());
                            return Started::Task(Box::new(created));
                        }
                        Err(e) if required => {
                            handler_cancel.cancel();
                            return Started::Refused(e.into());
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "no task created; running the call directly");
                            let _ = ack.send(());
                        }
                    }
                }
                () = request_cancel.cancelled() => {
                    handler_cancel.cancel();
                    return Started::Cancelled;
                }
            }
        }
    }

    /// Answers `tasks/get`, `tasks/update` or `tasks/cancel`. `capabilities` are those of a
    /// 2026-07-28 request, `None` in a legacy session (which has no such methods: the
    /// experimental tasks of 2025-11-25 are not offered).
    pub(crate) async fn request(
        &self,
        req: &Request,
        capabilities: Option<&ClientCapabilities>,
    ) -> Result<TaskAnswer, McpError> {
        let Some(capabilities) = capabilities else {
            return Err(McpError::MethodNotFound(req.method.to_string()));
        };
        if !capabilities.has_extension(TASKS_EXTENSION) {
            return Err(missing_extension());
        }
        match &*req.method {
            "tasks/get" => {
                let p: TaskIdParams = req.params_as()?;
                self.get(&p.task_id)
                    .await
                    .map(|t| TaskAnswer::Task(Box::new(t)))
            }
            "tasks/update" => {
                let p: LenientUpdate = req.params_as()?;
                self.update(&p.task_id, p.input_responses)
                    .await
                    .map(|()| TaskAnswer::Ack)
            }
            "tasks/cancel" => {
                let p: TaskIdParams = req.params_as()?;
                self.cancel(&p.task_id).await.map(|()| TaskAnswer::Ack)
            }
            other => Err(McpError::MethodNotFound(other.to_owned())),
        }
    }

    /// `tasks/get`: the task's current state.
    pub(crate) async fn get(&self, task_id: &str) -> Result<DetailedTask, McpError> {
        self.shared
            .store
            .get(task_id)
            .await?
            .ok_or_else(|| unknown_task(task_id))
    }

    /// `tasks/update`: delivers answers to the task's outstanding input requests. Answers to
    /// keys that are not outstanding are ignored, as the extension says; a malformed answer to
    /// an outstanding key is -32602 and leaves the task waiting.
    pub(crate) async fn update(
        &self,
        task_id: &str,
        responses: BTreeMap<String, Value>,
    ) -> Result<(), McpError> {
        match self.live(task_id) {
            Some(live) => live.answer(responses).await,
            // A finished task waits for nothing: the answers are ignored.
            None => self.not_running_here(task_id).await,
        }
    }

    /// For a task this process does not run: fine if it has finished, an error if it is still
    /// running (in another instance sharing the store, which alone can reach its handler).
    async fn not_running_here(&self, task_id: &str) -> Result<(), McpError> {
        let task = self.get(task_id).await?;
        if task.task.status.is_terminal() {
            Ok(())
        } else {
            Err(McpError::Internal(format!(
                "task {task_id} runs in another server instance: send its requests there \
                 (route by the Mcp-Name header)"
            )))
        }
    }

    /// `tasks/cancel`: stops the task's handler and marks it cancelled, unless it already
    /// finished (then nothing changes: cancelling is idempotent).
    pub(crate) async fn cancel(&self, task_id: &str) -> Result<(), McpError> {
        match self.live(task_id) {
            Some(live) => {
                live.cancel().await;
                Ok(())
            }
            None => self.not_running_here(task_id).await,
        }
    }

    /// Starts watching `task_ids` for a listen stream: the ids the server knows (the others
    /// are left out of the acknowledgement), their current states, and the watch.
    pub(crate) async fn watch(&self, task_ids: &[String]) -> (Vec<Arc<DetailedTask>>, TaskWatch) {
        // Subscribed before reading, so no change falls between the read and the watch.
        let changes = self.shared.changes.subscribe();
        let mut current = Vec::new();
        for id in task_ids {
            if let Ok(Some(task)) = self.shared.store.get(id).await {
                current.push(Arc::new(task));
            }
        }
        let ids = current.iter().map(|t| t.task.task_id.clone()).collect();
        (
            current,
            TaskWatch {
                ids,
                changes: Some(changes),
                store: Some(self.shared.store.clone()),
                catching_up: VecDeque::new(),
            },
        )
    }
}

/// Runs the handler on a task of its own (so a panic is caught and becomes a failed task),
/// stopping it when `cancel` fires. The outcome goes to the task when the call became one, else
/// to `done`.
fn drive(
    route: &ToolRoute,
    call: ToolCall,
    cancel: CancellationToken,
    ctx: RequestContext,
    done: Option<oneshot::Sender<Outcome>>,
) {
    let handler = route.run_handler(call);
    tokio::spawn(async move {
        let mut handle = tokio::spawn(handler);
        let outcome = tokio::select! {
            joined = &mut handle => match joined {
                Ok(outcome) => outcome,
                Err(e) if e.is_panic() => Err(ToolError::Protocol(McpError::Internal(
                    "the tool's handler panicked".into(),
                ))),
                Err(_) => Err(ToolError::Cancelled),
            },
            () = cancel.cancelled() => {
                handle.abort();
                Err(ToolError::Cancelled)
            }
        };
        match ctx.live_task() {
            Some(live) => live.finish(outcome).await,
            None => {
                if let Some(done) = done {
                    let _ = done.send(outcome);
                }
            }
        }
    });
}

/// A task whose handler runs in this process.
#[derive(Debug)]
pub(crate) struct LiveTask {
    task_id: String,
    /// The revision of the request that created it: its result is serialized for it.
    revision: ProtocolVersion,
    /// Stops the handler.
    cancel: CancellationToken,
    /// Fires when the task reaches a terminal status.
    finished: CancellationToken,
    /// The authoritative state while the task runs. Every change is made under this lock and
    /// written to the store before it is released, so writes reach the store in order.
    state: tokio::sync::Mutex<DetailedTask>,
    /// The handler's input requests waiting for an answer, by key.
    waiting: Mutex<HashMap<String, oneshot::Sender<InputResponse>>>,
    /// Answers delivered so far: asking the same key again gets the same answer, so a key is
    /// never issued twice in a task's life.
    answered: Mutex<InputResponses>,
    store: Arc<dyn TaskStore>,
    changes: broadcast::Sender<Arc<DetailedTask>>,
    runtime: Weak<Shared>,
}

impl LiveTask {
    /// The `CreateTaskResult` announcing the task.
    async fn created(&self) -> CreateTaskResult {
        CreateTaskResult {
            result_type: mcp_protocol::types::result::TaskCreated,
            task: self.state.lock().await.task.clone(),
            meta: None,
        }
    }

    /// Applies `change` unless the task already finished, then stamps, stores and announces
    /// the new state. `change` returns whether it changed anything.
    async fn change(&self, change: impl FnOnce(&mut DetailedTask) -> bool) -> bool {
        let mut state = self.state.lock().await;
        if state.task.status.is_terminal() || !change(&mut state) {
            return false;
        }
        state.task.last_updated_at = iso8601(SystemTime::now());
        let snapshot = Arc::new(state.clone());
        match self.store.update(snapshot.as_ref().clone()).await {
            Ok(true) => {}
            Ok(false) => tracing::debug!(task = %self.task_id, "the store no longer has the task"),
            Err(e) => {
                tracing::warn!(task = %self.task_id, error = %e, "could not store a task's state")
            }
        }
        if snapshot.task.status.is_terminal() {
            self.finished.cancel();
            lock(&self.waiting).clear();
            if let Some(runtime) = self.runtime.upgrade() {
                lock(&runtime.live).remove(&self.task_id);
            }
        }
        // Nobody listening is fine.
        let _ = self.changes.send(snapshot);
        true
    }

    /// Asks the client for input during the task: the request appears in `tasks/get` under
    /// `key` (status `input_required`) until `tasks/update` answers it.
    pub(crate) async fn ask(
        &self,
        key: String,
        request: InputRequest,
    ) -> Result<InputResponse, ToolError> {
        if let Some(answer) = lock(&self.answered).get(&key) {
            return Ok(answer.clone());
        }
        let (tx, rx) = oneshot::channel();
        let asked = self
            .change(|t| {
                lock(&self.waiting).insert(key.clone(), tx);
                t.input_requests
                    .get_or_insert_with(Default::default)
                    .insert(key, request);
                t.task.status = TaskStatus::InputRequired;
                true
            })
            .await;
        if !asked {
            return Err(ToolError::Cancelled);
        }
        rx.await.map_err(|_| ToolError::Cancelled)
    }

    async fn answer(&self, responses: BTreeMap<String, Value>) -> Result<(), McpError> {
        let mut parsed = Vec::new();
        {
            let waiting = lock(&self.waiting);
            for (key, value) in responses {
                if !waiting.contains_key(&key) {
                    continue;
                }
                let answer: InputResponse = serde_json::from_value(value).map_err(|e| {
                    McpError::invalid_params(format!("inputResponses[{key:?}]: {e}"))
                })?;
                parsed.push((key, answer));
            }
        }
        if parsed.is_empty() {
            return Ok(());
        }
        self.change(|t| {
            let mut delivered = false;
            for (key, answer) in parsed {
                let Some(tx) = lock(&self.waiting).remove(&key) else {
                    continue;
                };
                lock(&self.answered).insert(key.clone(), answer.clone());
                // The handler resumes once this change is stored: its next request comes after.
                let _ = tx.send(answer);
                if let Some(requests) = &mut t.input_requests {
                    requests.remove(&key);
                }
                delivered = true;
            }
            if t.input_requests.as_ref().is_some_and(BTreeMap::is_empty) {
                t.input_requests = None;
                t.task.status = TaskStatus::Working;
            }
            delivered
        })
        .await;
        Ok(())
    }

    /// Records how the handler ended. A tool error is a completed task whose result has
    /// `isError: true`; only a protocol error makes it `failed`, as the extension says.
    async fn finish(&self, outcome: Outcome) {
        let revision = self.revision;
        self.change(|t| {
            t.input_requests = None;
            match outcome {
                Ok(result) => complete(t, &result, revision),
                Err(ToolError::Failed(message)) => {
                    complete(t, &CallToolResult::error(message), revision);
                }
                Err(ToolError::Protocol(e)) => fail(t, &e, revision),
                Err(ToolError::InputRequired) => fail(
                    t,
                    &McpError::Internal("the handler asked for input outside the task".into()),
                    revision,
                ),
                Err(ToolError::Cancelled) => t.task.status = TaskStatus::Cancelled,
            }
            true
        })
        .await;
    }

    async fn cancel(&self) {
        self.change(|t| {
            t.input_requests = None;
            t.task.status = TaskStatus::Cancelled;
            t.task.status_message = Some("Cancelled by the client".into());
            true
        })
        .await;
        self.cancel.cancel();
    }

    async fn expire(&self) {
        let revision = self.revision;
        self.change(|t| {
            t.input_requests = None;
            fail(
                t,
                &McpError::Internal("the task did not finish within its time to live".into()),
                revision,
            );
            true
        })
        .await;
        self.cancel.cancel();
    }

    /// A progress report of the handler becomes the task's `statusMessage`.
    pub(crate) async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let text = match (message, total) {
            (Some(m), _) => m.to_owned(),
            (None, Some(total)) => format!("{progress} of {total}"),
            (None, None) => format!("{progress}"),
        };
        self.change(|t| {
            let changed = t.task.status_message.as_deref() != Some(&text);
            t.task.status_message = Some(text);
            changed
        })
        .await;
    }
}

fn complete(t: &mut DetailedTask, result: &CallToolResult, revision: ProtocolVersion) {
    t.task.status = TaskStatus::Completed;
    t.result = match serde_json::to_value(ForRevision::new(result, revision)) {
        Ok(Value::Object(map)) => Some(map),
        _ => Some(JsonObject::new()),
    };
}

fn fail(t: &mut DetailedTask, error: &McpError, revision: ProtocolVersion) {
    let error = error.to_error_object(revision);
    t.task.status = TaskStatus::Failed;
    t.task.status_message = Some(error.message.clone());
    t.result = None;
    t.error = Some(error);
}

/// The changes of the tasks one listen stream asked for.
#[derive(Debug)]
pub(crate) struct TaskWatch {
    ids: HashSet<String>,
    changes: Option<broadcast::Receiver<Arc<DetailedTask>>>,
    store: Option<Arc<dyn TaskStore>>,
    /// Current states read after the stream lagged, to send before further changes.
    catching_up: VecDeque<Arc<DetailedTask>>,
}

impl TaskWatch {
    /// A watch of nothing.
    pub(crate) fn none() -> Self {
        Self {
            ids: HashSet::new(),
            changes: None,
            store: None,
            catching_up: VecDeque::new(),
        }
    }

    /// The next change of a watched task; never resolves when nothing is watched. It may be
    /// dropped in a `select!`: states it already holds are kept for the next call.
    pub(crate) async fn next(&mut self) -> Arc<DetailedTask> {
        if let Some(task) = self.catching_up.pop_front() {
            return task;
        }
        let (Some(changes), Some(store)) = (self.changes.as_mut(), self.store.as_ref()) else {
            return std::future::pending().await;
        };
        if self.ids.is_empty() {
            return std::future::pending().await;
        }
        loop {
            match changes.recv().await {
                Ok(task) if self.ids.contains(&task.task.task_id) => return task,
                Ok(_) => {}
                // Changes were lost (this stream fell behind): the current state of every
                // watched task stands in for them, so a final state is never missed.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    for id in &self.ids {
                        if let Ok(Some(task)) = store.get(id).await {
                            self.catching_up.push_back(Arc::new(task));
                        }
                    }
                    if let Some(task) = self.catching_up.pop_front() {
                        return task;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return std::future::pending().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::InMemoryTaskStore;

    fn runtime(store: &Arc<InMemoryTaskStore>) -> TaskRuntime {
        TaskRuntime::new(&TaskOptions {
            store: store.clone(),
            ..TaskOptions::default()
        })
    }

    async fn started(runtime: &TaskRuntime) -> Arc<LiveTask> {
        runtime
            .create(ProtocolVersion::LATEST, CancellationToken::new())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_lagging_watch_catches_up_with_the_current_state() {
        let store = Arc::new(InMemoryTaskStore::default());
        let runtime = runtime(&store);
        let live = started(&runtime).await;
        let (current, mut watch) = runtime.watch(std::slice::from_ref(&live.task_id)).await;
        assert_eq!(current.len(), 1);
        // More changes than the broadcast keeps, then the end: the watch falls behind.
        for i in 0..300 {
            live.progress(f64::from(i), None, None).await;
        }
        live.finish(Ok(CallToolResult::text("done"))).await;
        let heard = watch.next().await;
        assert_eq!(heard.task.status, TaskStatus::Completed, "{heard:?}");
    }

    #[tokio::test]
    async fn a_task_running_in_another_instance_is_not_acknowledged_here() {
        let store = Arc::new(InMemoryTaskStore::default());
        let (here, there) = (runtime(&store), runtime(&store));
        let live = started(&there).await;
        let id = live.task_id.clone();
        // Both instances read it; only the one running it can reach its handler.
        assert_eq!(
            here.get(&id).await.unwrap().task.status,
            TaskStatus::Working
        );
        let refused = here.cancel(&id).await.unwrap_err();
        assert!(
            refused.to_string().contains("another server instance"),
            "{refused}"
        );
        assert!(here.update(&id, BTreeMap::new()).await.is_err());
        there.cancel(&id).await.unwrap();
        // Finished: acknowledged anywhere, and nothing changes.
        here.cancel(&id).await.unwrap();
        here.update(&id, BTreeMap::new()).await.unwrap();
        assert_eq!(
            here.get(&id).await.unwrap().task.status,
            TaskStatus::Cancelled
        );
        assert!(matches!(
            here.cancel("unknown").await,
            Err(McpError::InvalidParams { .. })
        ));
    }
}
