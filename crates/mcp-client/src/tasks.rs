//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`) on the client side:
//! declaring it, polling a task to its result, answering its input requests, cancelling it.

use std::collections::HashSet;
use std::time::Duration;

use mcp_protocol::types::tasks::{
    CreateTaskResult, DetailedTask, GetTaskResult, TASKS_EXTENSION, TaskIdParams, TaskStatus,
    UpdateTaskParams,
};
use mcp_protocol::types::{ClientCapabilities, EmptyResult, InputResponses};
use mcp_protocol::{ErrorObject, JsonObject};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::{CallOptions, Client};
use crate::error::ClientError;

/// The poll interval when the server suggests none.
const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// Bounds on the server's `pollIntervalMs`: no busy loop, no hour-long silence.
const POLL_BOUNDS: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(60));

fn poll_interval(suggested_ms: Option<u64>) -> Duration {
    suggested_ms
        .map_or(DEFAULT_POLL, Duration::from_millis)
        .clamp(POLL_BOUNDS.0, POLL_BOUNDS.1)
}

/// Cancels the task at the server (`tasks/cancel`) unless disarmed: the caller stopped
/// waiting, timed out, or could not answer the task's questions.
struct CancelTaskOnDrop {
    client: Option<Client>,
    task_id: String,
}

impl CancelTaskOnDrop {
    fn disarm(&mut self) {
        self.client = None;
    }
}

impl Drop for CancelTaskOnDrop {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let task_id = std::mem::take(&mut self.task_id);
            // Best effort: a server that does not hear it stops the task at its TTL.
            runtime.spawn(async move {
                let _ = client.cancel_task(&task_id).await;
            });
        }
    }
}

impl Client {
    /// The capabilities this client declares: its handlers', and the tasks extension when
    /// [`ClientOptions::tasks`](crate::ClientOptions::tasks) is on.
    pub(crate) fn declared_capabilities(&self) -> ClientCapabilities {
        let mut capabilities = self.inner.options.handlers.capabilities();
        if self.inner.options.tasks {
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .insert(TASKS_EXTENSION.to_owned(), JsonObject::new());
        }
        capabilities
    }

    /// A task's current state (`tasks/get`): its status, and what the status carries (input
    /// requests, the result, the error). For tasks this client did not wait out itself, for
    /// example ids kept across a restart. Needs [`ClientOptions::tasks`](crate::ClientOptions::tasks).
    pub async fn get_task(&self, task_id: &str) -> Result<DetailedTask, ClientError> {
        let params = TaskIdParams {
            task_id: task_id.to_owned(),
            meta: None,
        };
        let result: GetTaskResult = self
            .request("tasks/get", &params, &CallOptions::default())
            .await?;
        Ok(result.task)
    }

    /// Answers a task's input requests (`tasks/update`), by the keys of its `inputRequests`.
    pub async fn update_task(
        &self,
        task_id: &str,
        responses: InputResponses,
    ) -> Result<(), ClientError> {
        let params = UpdateTaskParams {
            task_id: task_id.to_owned(),
            input_responses: responses,
            meta: None,
        };
        let _: EmptyResult = self
            .request("tasks/update", &params, &CallOptions::default())
            .await?;
        Ok(())
    }

    /// Asks the server to cancel a task (`tasks/cancel`). The server acknowledges; the task
    /// ends `cancelled` unless it finished first.
    pub async fn cancel_task(&self, task_id: &str) -> Result<(), ClientError> {
        let params = TaskIdParams {
            task_id: task_id.to_owned(),
            meta: None,
        };
        let _: EmptyResult = self
            .request("tasks/cancel", &params, &CallOptions::default())
            .await?;
        Ok(())
    }

    /// Waits out the task a request was answered with (`resultType: "task"`) and returns the
    /// request's result: polls `tasks/get` every `pollIntervalMs`, answers input requests with
    /// the handlers through `tasks/update`, and cancels the task if the caller stops waiting,
    /// the handlers cannot answer, or `max_total_timeout` passes.
    pub(crate) async fn await_task<R: DeserializeOwned>(
        &self,
        method: &str,
        created: &RawValue,
    ) -> Result<R, ClientError> {
        let bad = |e: serde_json::Error| ClientError::Protocol(format!("bad {method} result: {e}"));
        if !self.inner.options.tasks {
            // The extension forbids a task to a client that did not declare it.
            return Err(ClientError::Protocol(format!(
                "the server answered {method} with a task, which this client did not declare"
            )));
        }
        let created: CreateTaskResult = serde_json::from_str(created.get()).map_err(bad)?;
        let task_id = created.task.task_id;
        let mut guard = CancelTaskOnDrop {
            client: Some(self.clone()),
            task_id: task_id.clone(),
        };
        let limit = self.inner.options.max_total_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        let mut interval = poll_interval(created.task.poll_interval_ms);
        let mut answered = HashSet::new();
        loop {
            if tokio::time::Instant::now() + interval > deadline {
                return Err(ClientError::Timeout {
                    method: method.to_owned(),
                    after: limit,
                });
            }
            tokio::time::sleep(interval).await;
            let task = self.get_task(&task_id).await?;
            interval = poll_interval(task.task.poll_interval_ms);
            match task.task.status {
                TaskStatus::Working => {}
                TaskStatus::InputRequired => {
                    // A request stays listed until the server has taken its answer: answer
                    // each key once.
                    let mut answers = InputResponses::new();
                    for (key, request) in task.input_requests.unwrap_or_default() {
                        if !answered.contains(&key) {
                            answers.insert(key, self.answer(request).await?);
                        }
                    }
                    if !answers.is_empty() {
                        answered.extend(answers.keys().cloned());
                        self.update_task(&task_id, answers).await?;
                    }
                }
                TaskStatus::Completed => {
                    guard.disarm();
                    let result = Value::Object(task.result.unwrap_or_default());
                    return serde_json::from_value(result).map_err(bad);
                }
                TaskStatus::Failed => {
                    guard.disarm();
                    return Err(ClientError::Server(task.error.unwrap_or_else(|| {
                        ErrorObject {
                            code: mcp_protocol::error::code::INTERNAL_ERROR,
                            message: "the task failed without saying why".into(),
                            data: None,
                        }
                    })));
                }
                TaskStatus::Cancelled => {
                    guard.disarm();
                    return Err(ClientError::TaskCancelled(task_id));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_follows_the_server_within_bounds() {
        assert_eq!(poll_interval(None), DEFAULT_POLL);
        assert_eq!(poll_interval(Some(250)), Duration::from_millis(250));
        assert_eq!(poll_interval(Some(0)), POLL_BOUNDS.0);
        assert_eq!(poll_interval(Some(u64::MAX)), POLL_BOUNDS.1);
    }
}
