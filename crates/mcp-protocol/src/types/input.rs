//! Multi-round-trip requests (2026-07-28): `input_required` results, `inputRequests`,
//! `inputResponses` and `requestState`.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::JsonObject;
use crate::meta::Meta;
use crate::types::result::InputRequired;
use crate::types::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ListRootsResult, RequestParams,
};

/// What the server needs from the client: an elicitation, a sampling call or the roots.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputRequestKind {
    /// `elicitation/create`.
    Elicit(ElicitRequestParams),
    /// `sampling/createMessage`.
    CreateMessage(CreateMessageRequestParams),
    /// `roots/list`; params are optional.
    ListRoots(Option<RequestParams>),
}

/// One input request: `{method, params}` without a JSON-RPC envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRequest {
    /// The request.
    pub kind: InputRequestKind,
    /// Members besides `method` and `params`, kept for relaying.
    pub extra: JsonObject,
}

impl InputRequest {
    /// An elicitation request.
    pub fn elicit(params: ElicitRequestParams) -> Self {
        Self::from(InputRequestKind::Elicit(params))
    }
    /// A sampling request.
    pub fn create_message(params: CreateMessageRequestParams) -> Self {
        Self::from(InputRequestKind::CreateMessage(params))
    }
    /// A roots request.
    pub fn list_roots() -> Self {
        Self::from(InputRequestKind::ListRoots(None))
    }
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self.kind {
            InputRequestKind::Elicit(_) => "elicitation/create",
            InputRequestKind::CreateMessage(_) => "sampling/createMessage",
            InputRequestKind::ListRoots(_) => "roots/list",
        }
    }
}

impl From<InputRequestKind> for InputRequest {
    fn from(kind: InputRequestKind) -> Self {
        Self {
            kind,
            extra: JsonObject::new(),
        }
    }
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("method", self.method())?;
        match &self.kind {
            InputRequestKind::Elicit(p) => map.serialize_entry("params", p)?,
            InputRequestKind::CreateMessage(p) => map.serialize_entry("params", p)?,
            InputRequestKind::ListRoots(Some(p)) => map.serialize_entry("params", p)?,
            InputRequestKind::ListRoots(None) => {}
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = JsonObject::deserialize(d)?;
        let method = match map.remove("method") {
            Some(Value::String(m)) => m,
            _ => return Err(D::Error::custom("an input request needs a string `method`")),
        };
        let params = map.remove("params");
        let need = |p: Option<Value>| {
            p.ok_or_else(|| D::Error::custom(format_args!("`{method}` needs `params`")))
        };
        let kind = match method.as_str() {
            "elicitation/create" => InputRequestKind::Elicit(
                serde_json::from_value(need(params)?).map_err(D::Error::custom)?,
            ),
            "sampling/createMessage" => InputRequestKind::CreateMessage(
                serde_json::from_value(need(params)?).map_err(D::Error::custom)?,
            ),
            "roots/list" => InputRequestKind::ListRoots(
                params
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(D::Error::custom)?,
            ),
            other => {
                return Err(D::Error::custom(format_args!(
                    "unknown input request method {other:?}"
                )));
            }
        };
        Ok(Self { kind, extra: map })
    }
}

/// The client's answer to one input request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum InputResponse {
    /// Answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// Answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
}

impl<'de> Deserialize<'de> for InputResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = JsonObject::deserialize(d)?;
        let (action, roots) = (map.contains_key("action"), map.contains_key("roots"));
        let value = Value::Object(map);
        let r = if action {
            ElicitResult::deserialize(value).map(Self::Elicit)
        } else if roots {
            ListRootsResult::deserialize(value).map(Self::ListRoots)
        } else {
            CreateMessageResult::deserialize(value).map(Self::CreateMessage)
        };
        r.map_err(D::Error::custom)
    }
}

/// Input requests by key; keys are unique within one request.
pub type InputRequests = BTreeMap<String, InputRequest>;
/// Input responses by the key of the request they answer.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// An `input_required` result: the server needs input before it can finish `tools/call`,
/// `prompts/get` or `resources/read`. The client retries the same request with a new id,
/// `inputResponses` and the exact `requestState`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// `"input_required"`.
    pub result_type: InputRequired,
    /// What the server needs, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state to echo on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of a retry that carries only answers (the shape shared by every multi-round-trip retry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputResponseRequestParams {
    /// Answers by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The state to echo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The result of a request that may need input first (`tools/call`, `prompts/get`,
/// `resources/read` in 2026-07-28): complete, or `input_required`. Read by its `resultType`;
/// an absent `resultType` (legacy servers) reads as complete.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum CallOutcome<T> {
    /// The request is done.
    Complete(T),
    /// The server needs input; retry with answers.
    InputRequired(InputRequiredResult),
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for CallOutcome<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match value.get("resultType").and_then(Value::as_str) {
            None | Some("complete") => T::deserialize(value)
                .map(Self::Complete)
                .map_err(D::Error::custom),
            Some("input_required") => InputRequiredResult::deserialize(value)
                .map(Self::InputRequired)
                .map_err(D::Error::custom),
            Some(other) => Err(D::Error::custom(format_args!(
                "unexpected resultType {other:?}"
            ))),
        }
    }
}
