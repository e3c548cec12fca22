//! Typed params and results of every method and notification of every revision.
//!
//! Every type serializes in the newest revision's shape; wrap it in
//! [`ForRevision`](crate::ForRevision) to send it to a peer speaking an older one. Deserialization
//! accepts the shapes of every revision.

/// Implements `Deserialize` for a struct whose unknown members go to an `extra` map, without the
/// buffering a derived `#[serde(flatten)]` does (several times slower on hot paths). The struct
/// must implement `Default`; `required` fields must be present.
macro_rules! open_deserialize {
    ($ty:ident { $($field:ident : $wire:literal),* $(,)? } required [$($req:literal),* $(,)?]) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const REQUIRED: &[&str] = &[$($req),*];
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($ty), " object"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        let mut found = [false; REQUIRED.len()];
                        while let Some(crate::types::MapKey(k)) = map.next_key::<crate::types::MapKey<'de>>()? {
                            match &*k {
                                $($wire => out.$field = map.next_value()?,)*
                                _ => {
                                    let v = map.next_value()?;
                                    out.extra.insert(k.into_owned(), v);
                                    continue;
                                }
                            }
                            if let Some(i) = REQUIRED.iter().position(|r| *r == &*k) {
                                found[i] = true;
                            }
                        }
                        if let Some(i) = found.iter().position(|f| !f) {
                            return Err(serde::de::Error::missing_field(REQUIRED[i]));
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

/// A map key borrowed from the input when it has no escapes, so reading a key allocates nothing.
pub(crate) struct MapKey<'de>(pub(crate) std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for MapKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MapKey<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<MapKey<'de>, E> {
                Ok(MapKey(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MapKey<'de>, E> {
                Ok(MapKey(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<MapKey<'de>, E> {
                Ok(MapKey(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

mod capabilities;
mod completion;
mod content;
mod elicitation;
pub mod experimental_tasks;
mod implementation;
mod input;
mod lifecycle;
mod logging;
mod notifications;
mod prompts;
mod resources;
pub mod result;
mod roots;
mod sampling;
mod subscriptions;
pub mod tasks;
mod tools;

pub use capabilities::*;
pub use completion::*;
pub use content::*;
pub use elicitation::*;
pub use experimental_tasks::TaskMetadata;
pub use implementation::*;
pub use input::*;
pub use lifecycle::*;
pub use logging::*;
pub use notifications::*;
pub use prompts::*;
pub use resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceTemplate, ResourceUpdatedNotificationParams,
    SubscribeRequestParams,
};
pub use result::{
    CacheScope, Cacheable, EmptyResult, NotificationParams, PaginatedRequestParams, RequestParams,
    ResultType,
};
pub use roots::*;
pub use sampling::*;
pub use subscriptions::*;
pub use tools::*;
