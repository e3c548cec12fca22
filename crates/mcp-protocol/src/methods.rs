//! Every method and notification of every revision: one marker type per method tying its name to
//! its params and result, and a table of which revisions have which methods.
//!
//! ```
//! use mcp_protocol::methods::{self, RequestMethod};
//! use mcp_protocol::ProtocolVersion;
//!
//! assert_eq!(methods::CallTool::METHOD, "tools/call");
//! assert!(methods::is_known("initialize", ProtocolVersion::V2025_11_25));
//! assert!(!methods::is_known("initialize", ProtocolVersion::V2026_07_28));
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ProtocolVersion;
use crate::ProtocolVersion as V;
use crate::types::experimental_tasks::{
    LegacyCreateTaskResult, LegacyTaskIdParams, LegacyTaskState, ListTasksResult,
};
use crate::types::tasks::{GetTaskResult, TaskIdParams, TaskNotificationParams, UpdateTaskParams};
use crate::types::*;

/// A request method: its name, params and result.
pub trait RequestMethod {
    /// The method name.
    const METHOD: &'static str;
    /// The params type.
    type Params: Serialize + DeserializeOwned;
    /// The result type.
    type Result: Serialize + DeserializeOwned;
}

/// A notification method: its name and params.
pub trait NotificationMethod {
    /// The method name.
    const METHOD: &'static str;
    /// The params type.
    type Params: Serialize + DeserializeOwned;
}

macro_rules! request {
    ($($(#[$doc:meta])* $name:ident = $method:literal, $params:ty => $result:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl RequestMethod for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
            type Result = $result;
        }
    )*};
}

macro_rules! notification {
    ($($(#[$doc:meta])* $name:ident = $method:literal, $params:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl NotificationMethod for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
        }
    )*};
}

request! {
    /// `initialize` (legacy).
    Initialize = "initialize", InitializeRequestParams => InitializeResult;
    /// `ping` (legacy, either direction).
    Ping = "ping", RequestParams => EmptyResult;
    /// `server/discover` (2026-07-28).
    Discover = "server/discover", RequestParams => DiscoverResult;
    /// `tools/list`.
    ListTools = "tools/list", PaginatedRequestParams => ListToolsResult;
    /// `tools/call`. In 2026-07-28 the result may instead be an [`InputRequiredResult`].
    CallTool = "tools/call", CallToolRequestParams => CallToolResult;
    /// `resources/list`.
    ListResources = "resources/list", PaginatedRequestParams => ListResourcesResult;
    /// `resources/templates/list`.
    ListResourceTemplates = "resources/templates/list", PaginatedRequestParams => ListResourceTemplatesResult;
    /// `resources/read`. In 2026-07-28 the result may instead be an [`InputRequiredResult`].
    ReadResource = "resources/read", ReadResourceRequestParams => ReadResourceResult;
    /// `resources/subscribe` (legacy).
    Subscribe = "resources/subscribe", SubscribeRequestParams => EmptyResult;
    /// `resources/unsubscribe` (legacy).
    Unsubscribe = "resources/unsubscribe", SubscribeRequestParams => EmptyResult;
    /// `prompts/list`.
    ListPrompts = "prompts/list", PaginatedRequestParams => ListPromptsResult;
    /// `prompts/get`. In 2026-07-28 the result may instead be an [`InputRequiredResult`].
    GetPrompt = "prompts/get", GetPromptRequestParams => GetPromptResult;
    /// `completion/complete`.
    Complete = "completion/complete", CompleteRequestParams => CompleteResult;
    /// `logging/setLevel` (legacy).
    SetLevel = "logging/setLevel", SetLevelRequestParams => EmptyResult;
    /// `subscriptions/listen` (2026-07-28).
    Listen = "subscriptions/listen", SubscriptionsListenRequestParams => SubscriptionsListenResult;
    /// `sampling/createMessage` (server to client in legacy; an input request in 2026-07-28).
    CreateMessage = "sampling/createMessage", CreateMessageRequestParams => CreateMessageResult;
    /// `elicitation/create` (server to client in legacy; an input request in 2026-07-28).
    Elicit = "elicitation/create", ElicitRequestParams => ElicitResult;
    /// `roots/list` (server to client in legacy; an input request in 2026-07-28).
    ListRoots = "roots/list", RequestParams => ListRootsResult;
    /// `tasks/get` (2025-11-25 experimental tasks).
    LegacyGetTask = "tasks/get", LegacyTaskIdParams => LegacyTaskState;
    /// `tasks/result` (2025-11-25 experimental tasks): the underlying request's result.
    LegacyTaskResult = "tasks/result", LegacyTaskIdParams => crate::JsonObject;
    /// `tasks/list` (2025-11-25 experimental tasks).
    LegacyListTasks = "tasks/list", PaginatedRequestParams => ListTasksResult;
    /// `tasks/cancel` (2025-11-25 experimental tasks).
    LegacyCancelTask = "tasks/cancel", LegacyTaskIdParams => LegacyTaskState;
    /// `tasks/get` (2026-07-28 tasks extension).
    GetTask = "tasks/get", TaskIdParams => GetTaskResult;
    /// `tasks/update` (2026-07-28 tasks extension).
    UpdateTask = "tasks/update", UpdateTaskParams => EmptyResult;
    /// `tasks/cancel` (2026-07-28 tasks extension).
    CancelTask = "tasks/cancel", TaskIdParams => EmptyResult;
}

/// The result of a task-augmented request (2025-11-25).
pub type LegacyTaskAugmentedResult = LegacyCreateTaskResult;

notification! {
    /// `notifications/initialized` (legacy, client to server).
    Initialized = "notifications/initialized", NotificationParams;
    /// `notifications/cancelled`.
    Cancelled = "notifications/cancelled", CancelledNotificationParams;
    /// `notifications/progress`.
    Progress = "notifications/progress", ProgressNotificationParams;
    /// `notifications/message`.
    LoggingMessage = "notifications/message", LoggingMessageNotificationParams;
    /// `notifications/resources/list_changed`.
    ResourceListChanged = "notifications/resources/list_changed", NotificationParams;
    /// `notifications/resources/updated`.
    ResourceUpdated = "notifications/resources/updated", ResourceUpdatedNotificationParams;
    /// `notifications/tools/list_changed`.
    ToolListChanged = "notifications/tools/list_changed", NotificationParams;
    /// `notifications/prompts/list_changed`.
    PromptListChanged = "notifications/prompts/list_changed", NotificationParams;
    /// `notifications/roots/list_changed` (legacy, client to server).
    RootsListChanged = "notifications/roots/list_changed", NotificationParams;
    /// `notifications/elicitation/complete` (2025-11-25).
    ElicitationComplete = "notifications/elicitation/complete", ElicitationCompleteNotificationParams;
    /// `notifications/tasks/status` (2025-11-25 experimental tasks).
    LegacyTaskStatus = "notifications/tasks/status", LegacyTaskState;
    /// `notifications/subscriptions/acknowledged` (2026-07-28).
    SubscriptionsAcknowledged = "notifications/subscriptions/acknowledged", SubscriptionsAcknowledgedNotificationParams;
    /// `notifications/tasks` (2026-07-28 tasks extension).
    TaskStatus = "notifications/tasks", TaskNotificationParams;
}

/// What kind of message a method is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON-RPC request.
    Request,
    /// A JSON-RPC notification.
    Notification,
    /// A 2026-07-28 input request, carried inside an `input_required` result.
    InputRequest,
}

/// Who sends a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    ClientToServer,
    /// Server to client.
    ServerToClient,
    /// Either.
    Both,
}

/// A method's place in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodInfo {
    /// The method name.
    pub name: &'static str,
    /// Request, notification or input request.
    pub kind: Kind,
    /// Who sends it.
    pub direction: Direction,
    /// The first revision that has it.
    pub since: ProtocolVersion,
    /// The last revision that has it.
    pub until: ProtocolVersion,
    /// Whether it belongs to an extension rather than the core protocol.
    pub extension: bool,
}

impl MethodInfo {
    /// Whether `revision` has this method.
    pub fn in_revision(&self, revision: ProtocolVersion) -> bool {
        self.since <= revision && revision <= self.until
    }
}

const fn m(
    name: &'static str,
    kind: Kind,
    direction: Direction,
    since: ProtocolVersion,
    until: ProtocolVersion,
) -> MethodInfo {
    MethodInfo {
        name,
        kind,
        direction,
        since,
        until,
        extension: false,
    }
}

use Direction::{Both, ClientToServer as C2S, ServerToClient as S2C};
use Kind::{InputRequest as In, Notification as N, Request as R};

const L0: ProtocolVersion = V::V2024_11_05;
const LAST_LEGACY: ProtocolVersion = V::V2025_11_25;
const MODERN: ProtocolVersion = V::V2026_07_28;

/// Every core method of every revision.
pub const ALL: &[MethodInfo] = &[
    m("initialize", R, C2S, L0, LAST_LEGACY),
    m("ping", R, Both, L0, LAST_LEGACY),
    m("server/discover", R, C2S, MODERN, MODERN),
    m("tools/list", R, C2S, L0, MODERN),
    m("tools/call", R, C2S, L0, MODERN),
    m("resources/list", R, C2S, L0, MODERN),
    m("resources/templates/list", R, C2S, L0, MODERN),
    m("resources/read", R, C2S, L0, MODERN),
    m("resources/subscribe", R, C2S, L0, LAST_LEGACY),
    m("resources/unsubscribe", R, C2S, L0, LAST_LEGACY),
    m("prompts/list", R, C2S, L0, MODERN),
    m("prompts/get", R, C2S, L0, MODERN),
    m("completion/complete", R, C2S, L0, MODERN),
    m("logging/setLevel", R, C2S, L0, LAST_LEGACY),
    m("subscriptions/listen", R, C2S, MODERN, MODERN),
    m("sampling/createMessage", R, S2C, L0, LAST_LEGACY),
    m("roots/list", R, S2C, L0, LAST_LEGACY),
    m("elicitation/create", R, S2C, V::V2025_06_18, LAST_LEGACY),
    m("sampling/createMessage", In, S2C, MODERN, MODERN),
    m("roots/list", In, S2C, MODERN, MODERN),
    m("elicitation/create", In, S2C, MODERN, MODERN),
    m("tasks/get", R, Both, LAST_LEGACY, LAST_LEGACY),
    m("tasks/result", R, Both, LAST_LEGACY, LAST_LEGACY),
    m("tasks/list", R, Both, LAST_LEGACY, LAST_LEGACY),
    m("tasks/cancel", R, Both, LAST_LEGACY, LAST_LEGACY),
    m("notifications/initialized", N, C2S, L0, LAST_LEGACY),
    m("notifications/cancelled", N, Both, L0, MODERN),
    m("notifications/progress", N, Both, L0, MODERN),
    m("notifications/message", N, S2C, L0, MODERN),
    m("notifications/resources/list_changed", N, S2C, L0, MODERN),
    m("notifications/resources/updated", N, S2C, L0, MODERN),
    m("notifications/tools/list_changed", N, S2C, L0, MODERN),
    m("notifications/prompts/list_changed", N, S2C, L0, MODERN),
    m("notifications/roots/list_changed", N, C2S, L0, LAST_LEGACY),
    m(
        "notifications/elicitation/complete",
        N,
        S2C,
        LAST_LEGACY,
        LAST_LEGACY,
    ),
    m(
        "notifications/tasks/status",
        N,
        Both,
        LAST_LEGACY,
        LAST_LEGACY,
    ),
    m(
        "notifications/subscriptions/acknowledged",
        N,
        S2C,
        MODERN,
        MODERN,
    ),
];

/// The methods of the 2026-07-28 tasks extension.
pub const TASKS_EXTENSION: &[MethodInfo] = &[
    MethodInfo {
        extension: true,
        ..m("tasks/get", R, C2S, MODERN, MODERN)
    },
    MethodInfo {
        extension: true,
        ..m("tasks/update", R, C2S, MODERN, MODERN)
    },
    MethodInfo {
        extension: true,
        ..m("tasks/cancel", R, C2S, MODERN, MODERN)
    },
    MethodInfo {
        extension: true,
        ..m("notifications/tasks", N, S2C, MODERN, MODERN)
    },
];

/// The core methods `revision` has.
pub fn in_revision(revision: ProtocolVersion) -> impl Iterator<Item = &'static MethodInfo> {
    ALL.iter().filter(move |m| m.in_revision(revision))
}

/// Whether `name` is a core request or notification of `revision` (input requests excluded).
pub fn is_known(name: &str, revision: ProtocolVersion) -> bool {
    in_revision(revision).any(|m| m.name == name && m.kind != Kind::InputRequest)
}

/// Methods that 2026-07-28 removed; a modern server answers them with -32601 (HTTP 404).
/// `tasks/get` and `tasks/cancel` are not among them: the tasks extension
/// ([`TASKS_EXTENSION`]) gives them a new shape, so whether a modern server has them depends on
/// the extension, not the core revision. `tasks/result` and `tasks/list` stay removed.
pub fn removed_in_modern() -> impl Iterator<Item = &'static str> {
    ALL.iter()
        .filter(|m| m.until == LAST_LEGACY && m.direction != S2C)
        .map(|m| m.name)
        .filter(|name| !TASKS_EXTENSION.iter().any(|e| e.name == *name))
}

/// Whether `name` is a method of the 2026-07-28 tasks extension (`io.modelcontextprotocol/tasks`).
pub fn is_tasks_extension(name: &str) -> bool {
    TASKS_EXTENSION.iter().any(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rev: ProtocolVersion, kind: Kind) -> usize {
        in_revision(rev).filter(|m| m.kind == kind).count()
    }

    #[test]
    fn counts_match_the_schemas() {
        // Distinct method literals per schema.ts: 2024-11-05: 15 + 9; 2025-06-18: 16 + 9;
        // 2025-11-25: 20 + 11; 2026-07-28: 10 requests + 3 input requests + 8 notifications.
        assert_eq!(
            (count(V::V2024_11_05, R), count(V::V2024_11_05, N)),
            (15, 9)
        );
        assert_eq!(
            (count(V::V2025_03_26, R), count(V::V2025_03_26, N)),
            (15, 9)
        );
        assert_eq!(
            (count(V::V2025_06_18, R), count(V::V2025_06_18, N)),
            (16, 9)
        );
        assert_eq!(
            (count(V::V2025_11_25, R), count(V::V2025_11_25, N)),
            (20, 11)
        );
        assert_eq!(
            (count(MODERN, R), count(MODERN, In), count(MODERN, N)),
            (10, 3, 8)
        );
    }

    #[test]
    fn removed_methods() {
        let removed: Vec<_> = removed_in_modern().collect();
        for name in [
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
        ] {
            assert!(removed.contains(&name), "{name}");
        }
        assert!(!removed.contains(&"tools/call"));
        // The tasks extension reshapes these two; the other two legacy task methods are gone.
        assert!(!removed.contains(&"tasks/get"));
        assert!(!removed.contains(&"tasks/cancel"));
        assert!(removed.contains(&"tasks/result"));
        assert!(removed.contains(&"tasks/list"));
    }

    #[test]
    fn the_tasks_extension_has_three_requests_and_a_notification() {
        for name in [
            "tasks/get",
            "tasks/update",
            "tasks/cancel",
            "notifications/tasks",
        ] {
            assert!(is_tasks_extension(name), "{name}");
        }
        assert!(!is_tasks_extension("tasks/result"));
        assert!(!is_tasks_extension("tasks/list"));
        assert!(
            TASKS_EXTENSION
                .iter()
                .all(|m| m.extension && m.since == MODERN)
        );
    }
}
