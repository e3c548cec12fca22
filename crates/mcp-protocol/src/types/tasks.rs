//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`): a `tools/call` may
//! answer with a task that the client polls, feeds input to and cancels.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use crate::error::ErrorObject;
use crate::meta::Meta;
use crate::types::result::{Complete, TaskCreated};
use crate::types::{InputRequests, InputResponses};

/// The extension's id, used in `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Where a task is in its life. The last three are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Running.
    Working,
    /// Waiting for input from the client.
    InputRequired,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The task's id.
    pub task_id: String,
    /// Its status.
    pub status: TaskStatus,
    /// A human-readable status message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When it was created (ISO 8601).
    pub created_at: String,
    /// When it last changed (ISO 8601).
    pub last_updated_at: String,
    /// How long after creation it is kept, in milliseconds; `null` for unlimited.
    pub ttl_ms: Option<u64>,
    /// How often the client should poll, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
}

/// A task with what its status carries: input requests, the result, or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailedTask {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// What the task needs (status `input_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// The result of the underlying request (status `completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JsonObject>,
    /// The error (status `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// A `tools/call` result that created a task (`resultType: "task"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// `"task"`.
    pub result_type: TaskCreated,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `tasks/get` and `tasks/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskIdParams {
    /// The task.
    pub task_id: String,
    /// Metadata (required).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tasks/get`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskResult {
    /// `"complete"`.
    pub result_type: Complete,
    /// The task and what its status carries.
    #[serde(flatten)]
    pub task: DetailedTask,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `tasks/update`: answers to the task's outstanding input requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTaskParams {
    /// The task.
    pub task_id: String,
    /// Answers by input-request key.
    pub input_responses: InputResponses,
    /// Metadata (required).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `notifications/tasks`: the task's full state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskNotificationParams {
    /// The task.
    #[serde(flatten)]
    pub task: DetailedTask,
    /// Metadata (`subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::InputResponse;

    fn working() -> Task {
        Task {
            task_id: "786512e2-9e0d-44bd-8f29-789f320fe840".into(),
            status: TaskStatus::Working,
            status_message: None,
            created_at: "2025-11-25T10:30:00Z".into(),
            last_updated_at: "2025-11-25T10:40:00Z".into(),
            ttl_ms: Some(60_000),
            poll_interval_ms: Some(5_000),
        }
    }

    #[test]
    fn a_created_task_is_flat_with_result_type_task() {
        let created = CreateTaskResult {
            result_type: TaskCreated,
            task: working(),
            meta: None,
        };
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            json!({
                "resultType": "task",
                "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
                "status": "working",
                "createdAt": "2025-11-25T10:30:00Z",
                "lastUpdatedAt": "2025-11-25T10:40:00Z",
                "ttlMs": 60000,
                "pollIntervalMs": 5000,
            })
        );
    }

    #[test]
    fn an_unlimited_ttl_is_null_not_absent() {
        let task = Task {
            ttl_ms: None,
            poll_interval_ms: None,
            ..working()
        };
        let v = serde_json::to_value(&task).unwrap();
        assert_eq!(v["ttlMs"], serde_json::Value::Null);
        assert!(v.as_object().unwrap().contains_key("ttlMs"));
        assert!(!v.as_object().unwrap().contains_key("pollIntervalMs"));
    }

    #[test]
    fn get_inlines_what_the_status_carries() {
        let done = GetTaskResult {
            result_type: Complete,
            task: DetailedTask {
                task: Task {
                    status: TaskStatus::Completed,
                    ..working()
                },
                input_requests: None,
                result: Some(
                    json!({"content": [{"type": "text", "text": "Hello, Luca!"}], "isError": false})
                        .as_object()
                        .cloned()
                        .unwrap(),
                ),
                error: None,
            },
            meta: None,
        };
        let v = serde_json::to_value(&done).unwrap();
        assert_eq!(v["resultType"], "complete");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["result"]["content"][0]["text"], "Hello, Luca!");
        assert!(v.get("error").is_none() && v.get("inputRequests").is_none());
        let back: GetTaskResult = serde_json::from_value(v).unwrap();
        assert_eq!(back, done);
    }

    #[test]
    fn the_specs_examples_read() {
        // The input_required poll and the failed task of the extension's specification.
        let poll: GetTaskResult = serde_json::from_value(json!({
            "resultType": "complete",
            "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
            "status": "input_required",
            "createdAt": "2025-11-25T10:30:00Z",
            "lastUpdatedAt": "2025-11-25T10:50:00Z",
            "ttlMs": 3600000,
            "pollIntervalMs": 5000,
            "inputRequests": {
                "name": {
                    "method": "elicitation/create",
                    "params": {
                        "mode": "form",
                        "message": "Please enter your name.",
                        "requestedSchema": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}},
                            "required": ["name"]
                        }
                    }
                }
            }
        }))
        .unwrap();
        assert_eq!(poll.task.task.status, TaskStatus::InputRequired);
        assert_eq!(
            poll.task.input_requests.unwrap()["name"].method(),
            "elicitation/create"
        );

        let failed: TaskNotificationParams = serde_json::from_value(json!({
            "taskId": "786512e2-9e0d-44bd-8f29-789f820fe840",
            "status": "failed",
            "createdAt": "2025-11-25T10:30:00Z",
            "lastUpdatedAt": "2025-11-25T10:40:00Z",
            "ttlMs": 3600000,
            "statusMessage": "Tool execution failed: API rate limit exceeded",
            "error": {"code": -32603, "message": "API rate limit exceeded"}
        }))
        .unwrap();
        assert!(failed.task.task.status.is_terminal());
        assert_eq!(failed.task.error.unwrap().code, -32603);

        let update: UpdateTaskParams = serde_json::from_value(json!({
            "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
            "inputResponses": {"name": {"action": "accept", "content": {"input": "Luca"}}}
        }))
        .unwrap();
        assert!(matches!(
            update.input_responses["name"],
            InputResponse::Elicit(_)
        ));
    }

    #[test]
    fn statuses_use_snake_case_and_three_are_terminal() {
        let all = [
            (TaskStatus::Working, "working", false),
            (TaskStatus::InputRequired, "input_required", false),
            (TaskStatus::Completed, "completed", true),
            (TaskStatus::Failed, "failed", true),
            (TaskStatus::Cancelled, "cancelled", true),
        ];
        for (status, wire, terminal) in all {
            assert_eq!(serde_json::to_value(status).unwrap(), wire);
            assert_eq!(status.is_terminal(), terminal, "{wire}");
        }
    }
}
