//! Pieces every result shares: `resultType`, caching hints, pagination, the empty result.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::meta::Meta;
use crate::wire::skip;

macro_rules! result_type_marker {
    ($(#[$doc:meta])* $name:ident = $wire:literal) => {
        $(#[$doc])*
        ///
        /// Serialized as `"resultType"` only for 2026-07-28 and later; an absent `resultType`
        /// reads as `"complete"` (results from legacy servers), any other value is refused.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The wire value.
            pub const WIRE: &'static str = $wire;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($wire)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                if s == $wire {
                    Ok($name)
                } else {
                    Err(serde::de::Error::custom(format_args!(
                        "expected resultType {:?}, found {:?}", $wire, s
                    )))
                }
            }
        }
    };
}

result_type_marker!(
    /// The `resultType` of a complete result: `"complete"`.
    Complete = "complete"
);
result_type_marker!(
    /// The `resultType` of a multi-round-trip result: `"input_required"`.
    InputRequired = "input_required"
);
result_type_marker!(
    /// The `resultType` of a result that created a task (tasks extension): `"task"`.
    TaskCreated = "task"
);

/// The kinds of result a 2026-07-28 response can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResultType {
    /// The request is done.
    Complete,
    /// The server needs input from the client before it can finish (multi-round-trip).
    InputRequired,
    /// The server created a task (tasks extension).
    Task,
}

impl ResultType {
    /// Reads the `resultType` of a raw result: absent means `Complete`; an unknown value is an
    /// error, as the spec requires.
    pub fn of(result: &serde_json::value::RawValue) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Peek {
            #[serde(rename = "resultType", default)]
            result_type: Option<ResultType>,
        }
        let peek: Peek = serde_json::from_str(result.get())?;
        Ok(peek.result_type.unwrap_or(Self::Complete))
    }
}

/// Who may share a cached result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Any cache may keep it, across authorization contexts.
    Public,
    /// Only a cache for one authorization context may keep it. The default: the safe choice.
    #[default]
    Private,
}

/// Reads `ttlMs` leniently: negative values and fractions read as their clamped integer, as the
/// spec says a negative TTL is treated as 0.
pub(crate) fn lenient_ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let Some(n) = Option::<f64>::deserialize(d)? else {
        return Ok(None);
    };
    Ok(Some(if n.is_finite() && n > 0.0 {
        // Saturating float-to-int conversion is the intent here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        {
            n as u64
        }
    } else {
        0
    }))
}
/// The caching hints of a 2026-07-28 result, with the spec's defaults for absent fields.
pub trait Cacheable {
    /// `ttlMs`, or 0 when absent.
    fn ttl_ms(&self) -> u64;
    /// `cacheScope`, or `private` (the safe reading) when absent.
    fn cache_scope(&self) -> CacheScope;
    /// Sets both hints.
    fn set_cache(&mut self, ttl_ms: u64, scope: CacheScope);
}

macro_rules! impl_cacheable {
    ($($ty:ty),*) => {$(
        impl Cacheable for $ty {
            fn ttl_ms(&self) -> u64 {
                self.ttl_ms.unwrap_or(0)
            }
            fn cache_scope(&self) -> CacheScope {
                self.cache_scope.unwrap_or_default()
            }
            fn set_cache(&mut self, ttl_ms: u64, scope: CacheScope) {
                self.ttl_ms = Some(ttl_ms);
                self.cache_scope = Some(scope);
            }
        }
    )*};
}

impl_cacheable!(
    crate::types::DiscoverResult,
    crate::types::ListToolsResult,
    crate::types::ListResourcesResult,
    crate::types::ListResourceTemplatesResult,
    crate::types::ReadResourceResult,
    crate::types::ListPromptsResult
);

/// A result with no content: the answer to `ping`, `logging/setLevel`, subscribe and unsubscribe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyResult {
    /// `"complete"` (2026-07-28).
    #[serde(
        rename = "resultType",
        default,
        skip_serializing_if = "skip::legacy_marker"
    )]
    pub result_type: Complete,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of the four paginated list methods.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginatedRequestParams {
    /// Where to continue; absent for the first page. An empty string is a valid cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of requests that carry only `_meta` (`ping`, `server/discover`, `roots/list`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestParams {
    /// Metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of notifications that carry only `_meta` (list-changed, `initialized`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationParams {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
