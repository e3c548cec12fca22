//! Elicitation: the server asks the user, through the client, for input (form) or to visit a URL.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Number, Value};

use crate::JsonObject;
use crate::ProtocolVersion;
use crate::meta::Meta;
use crate::types::TaskMetadata;
use crate::wire::{skip, wire_revision};

macro_rules! const_str {
    ($(#[$doc:meta])* $name:ident = $wire:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($wire)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                if s == $wire {
                    Ok($name)
                } else {
                    Err(D::Error::custom(format_args!("expected {:?}, found {:?}", $wire, s)))
                }
            }
        }
    };
}

const_str!(
    /// The literal `"form"`.
    FormMode = "form"
);
const_str!(
    /// The literal `"url"`.
    UrlMode = "url"
);
const_str!(
    /// The literal `"object"`.
    ObjectType = "object"
);
const_str!(
    /// The literal `"string"`.
    StringType = "string"
);
const_str!(
    /// The literal `"boolean"`.
    BooleanType = "boolean"
);
const_str!(
    /// The literal `"array"`.
    ArrayType = "array"
);

/// Params of `elicitation/create`: a form, or (since 2025-11-25) a URL to visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ElicitRequestParams {
    /// Ask for structured input. A missing `mode` means form.
    Form(ElicitRequestFormParams),
    /// Send the user to a URL (for secrets and third-party authorization).
    Url(ElicitRequestUrlParams),
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = JsonObject::deserialize(d)?;
        let is_url = value.get("mode").and_then(Value::as_str) == Some("url");
        let value = Value::Object(value);
        if is_url {
            ElicitRequestUrlParams::deserialize(value)
                .map(Self::Url)
                .map_err(D::Error::custom)
        } else {
            ElicitRequestFormParams::deserialize(value)
                .map(Self::Form)
                .map_err(D::Error::custom)
        }
    }
}

/// Form-mode elicitation params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// `"form"`, or absent (also form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormMode>,
    /// What to ask the user.
    pub message: String,
    /// The shape of the answer: a flat object of primitives.
    pub requested_schema: ElicitationSchema,
    /// Run as a task (2025-11-25 experimental tasks).
    #[serde(default, skip_serializing_if = "skip::unless_exactly_2025_11_25")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// URL-mode elicitation params (since 2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// `"url"`.
    pub mode: UrlMode,
    /// Why the user should go there.
    pub message: String,
    /// Where to send the user.
    pub url: String,
    /// Correlates the completion notification (2025-11-25 only; removed in 2026-07-28).
    #[serde(default, skip_serializing_if = "skip::unless_exactly_2025_11_25")]
    pub elicitation_id: Option<String>,
    /// Run as a task (2025-11-25 experimental tasks).
    #[serde(default, skip_serializing_if = "skip::unless_exactly_2025_11_25")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The schema of a form: a flat object whose properties are primitives.
///
/// Serialized for a revision before 2025-11-25, multi-select fields (which those revisions cannot
/// express) are left out, and dropped from `required`: the client answers the rest of the form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ElicitationSchema {
    /// `$schema`, if given.
    pub schema: Option<String>,
    /// `"object"`.
    pub kind: ObjectType,
    /// The fields of the form.
    pub properties: BTreeMap<String, PrimitiveSchema>,
    /// Which fields must be filled in.
    pub required: Option<Vec<String>>,
    /// Keywords this crate does not know, kept for relaying.
    pub extra: JsonObject,
}

impl Serialize for ElicitationSchema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let multi_select = wire_revision() >= ProtocolVersion::V2025_11_25;
        let keep = |name: &str| {
            multi_select
                || !matches!(
                    self.properties.get(name),
                    Some(
                        PrimitiveSchema::UntitledMultiSelect(_)
                            | PrimitiveSchema::TitledMultiSelect(_)
                    )
                )
        };
        let mut map = serializer.serialize_map(None)?;
        if let Some(schema) = &self.schema {
            map.serialize_entry("$schema", schema)?;
        }
        map.serialize_entry("type", &self.kind)?;
        let properties: BTreeMap<&String, &PrimitiveSchema> =
            self.properties.iter().filter(|(k, _)| keep(k)).collect();
        map.serialize_entry("properties", &properties)?;
        if let Some(required) = &self.required {
            let required: Vec<&String> = required.iter().filter(|k| keep(k)).collect();
            map.serialize_entry("required", &required)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

open_deserialize!(ElicitationSchema { schema: "$schema", kind: "type", properties: "properties", required: "required" } required ["type", "properties"]);

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PrimitiveSchema {
    /// A string.
    String(StringSchema),
    /// A number or integer.
    Number(NumberSchema),
    /// A boolean.
    Boolean(BooleanSchema),
    /// One of several strings (`enum`).
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    /// One of several strings with titles (`oneOf` of `const`/`title`).
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// Several of several strings (`items.enum`).
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    /// Several of several strings with titles (`items.anyOf`).
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    /// The deprecated form: `enum` with `enumNames`.
    LegacyTitled(LegacyTitledEnumSchema),
}

impl<'de> Deserialize<'de> for PrimitiveSchema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = JsonObject::deserialize(d)?;
        let kind = map.get("type").and_then(Value::as_str).map(str::to_owned);
        let has = |k: &str| map.contains_key(k);
        let titled_items = map
            .get("items")
            .and_then(Value::as_object)
            .is_some_and(|i| i.contains_key("anyOf"));
        let (oneof, enumk, names) = (has("oneOf"), has("enum"), has("enumNames"));
        let value = Value::Object(map);
        let r = match kind.as_deref() {
            Some("boolean") => BooleanSchema::deserialize(value).map(Self::Boolean),
            Some("number" | "integer") => NumberSchema::deserialize(value).map(Self::Number),
            Some("array") if titled_items => {
                TitledMultiSelectEnumSchema::deserialize(value).map(Self::TitledMultiSelect)
            }
            Some("array") => {
                UntitledMultiSelectEnumSchema::deserialize(value).map(Self::UntitledMultiSelect)
            }
            Some("string") if oneof => {
                TitledSingleSelectEnumSchema::deserialize(value).map(Self::TitledSingleSelect)
            }
            Some("string") if enumk && names => {
                LegacyTitledEnumSchema::deserialize(value).map(Self::LegacyTitled)
            }
            Some("string") if enumk => {
                UntitledSingleSelectEnumSchema::deserialize(value).map(Self::UntitledSingleSelect)
            }
            Some("string") => StringSchema::deserialize(value).map(Self::String),
            _ => {
                return Err(D::Error::custom(
                    "a form field must have type string, number, integer, boolean or array",
                ));
            }
        };
        r.map_err(D::Error::custom)
    }
}

/// The formats a string field may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// An email address.
    Email,
    /// A URI.
    Uri,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
}

/// A string field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Default value (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub default: Option<String>,
}

/// Whether a number field takes any number or only integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    #[default]
    Number,
    /// Integers only.
    Integer,
}

/// A number field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub kind: NumberType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Default value (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub default: Option<Number>,
}

/// A boolean field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BooleanSchema {
    /// `"boolean"`.
    #[serde(rename = "type")]
    pub kind: BooleanType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
}

/// One of several strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    #[serde(rename = "enum")]
    pub choices: Vec<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A choice with a display title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitledChoice {
    /// The value.
    #[serde(rename = "const")]
    pub value: String,
    /// What to show.
    pub title: String,
}

/// One of several strings with titles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    pub one_of: Vec<TitledChoice>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `items` of an untitled multi-select.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledItems {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The choices.
    #[serde(rename = "enum")]
    pub choices: Vec<String>,
}

/// Several of several strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub kind: ArrayType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The choices.
    pub items: UntitledItems,
    /// Default values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// `items` of a titled multi-select.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledItems {
    /// The choices.
    pub any_of: Vec<TitledChoice>,
}

/// Several of several strings with titles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub kind: ArrayType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The choices.
    pub items: TitledItems,
    /// Default values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// The deprecated titled enum: `enum` with parallel `enumNames`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    #[serde(rename = "enum")]
    pub choices: Vec<String>,
    /// Their display names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl PrimitiveSchema {
    /// The field's default value as JSON, if the schema declares one.
    pub fn default_value(&self) -> Option<Value> {
        match self {
            Self::String(s) => s.default.clone().map(Value::String),
            Self::Number(n) => n.default.clone().map(Value::Number),
            Self::Boolean(b) => b.default.map(Value::Bool),
            Self::UntitledSingleSelect(e) => e.default.clone().map(Value::String),
            Self::TitledSingleSelect(e) => e.default.clone().map(Value::String),
            Self::LegacyTitled(e) => e.default.clone().map(Value::String),
            Self::UntitledMultiSelect(e) => e
                .default
                .clone()
                .map(|v| v.into_iter().map(Value::String).collect()),
            Self::TitledMultiSelect(e) => e
                .default
                .clone()
                .map(|v| v.into_iter().map(Value::String).collect()),
        }
    }
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted (form) or consented (URL).
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// A submitted form value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ElicitValue {
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// Several strings (multi-select).
    Strings(Vec<String>),
}

/// The client's answer to `elicitation/create`. In 2026-07-28 it travels inside
/// `inputResponses` and has no `resultType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (form mode, `accept` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<BTreeMap<String, ElicitValue>>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ElicitResult {
    /// An accepted form with values.
    pub fn accept(content: BTreeMap<String, ElicitValue>) -> Self {
        Self {
            action: ElicitAction::Accept,
            content: Some(content),
            meta: None,
        }
    }

    /// A declined elicitation.
    pub fn decline() -> Self {
        Self {
            action: ElicitAction::Decline,
            content: None,
            meta: None,
        }
    }

    /// A cancelled elicitation.
    pub fn cancel() -> Self {
        Self {
            action: ElicitAction::Cancel,
            content: None,
            meta: None,
        }
    }
}

/// Params of `notifications/elicitation/complete` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The URL elicitation that finished.
    pub elicitation_id: String,
}
