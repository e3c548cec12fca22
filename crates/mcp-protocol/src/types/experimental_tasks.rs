//! The experimental tasks of 2025-11-25 (SEP-1686): requests augmented with `task`, polled with
//! `tasks/get`, fetched with `tasks/result`. Replaced in 2026-07-28 by the tasks extension
//! ([`crate::types::tasks`]).

use serde::{Deserialize, Serialize};

use crate::meta::Meta;
use crate::types::tasks::TaskStatus;

/// The `task` param that asks for a request to run as a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskMetadata {
    /// How long to keep the task after creation, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// A task's state (2025-11-25 shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTask {
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
    /// How long it is kept, in milliseconds; `null` for unlimited.
    pub ttl: Option<u64>,
    /// How often to poll, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
}

/// Result of a task-augmented request (2025-11-25): the task, nested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyCreateTaskResult {
    /// The task.
    pub task: LegacyTask,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `tasks/get`, `tasks/result` and `tasks/cancel` (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTaskIdParams {
    /// The task.
    pub task_id: String,
}

/// Result of `tasks/get` and `tasks/cancel`, and params of `notifications/tasks/status`
/// (2025-11-25): the task, flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyTaskState {
    /// The task.
    #[serde(flatten)]
    pub task: LegacyTask,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tasks/list` (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResult {
    /// The tasks on this page.
    pub tasks: Vec<LegacyTask>,
    /// Where the next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
