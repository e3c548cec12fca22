//! Serializing one value for the revision in use.
//!
//! Every type in this crate serializes in the shape of the newest revision by default. Wrapping a
//! value in [`ForRevision`] serializes it in the shape of an older one instead: fields that
//! revision does not know are left out (`title` before 2025-06-18, `icons` before 2025-11-25,
//! `resultType` and the caching hints before 2026-07-28, ...), `structuredContent` that is not an
//! object is left out before 2026-07-28 (its JSON text block still carries it), and content
//! blocks a revision cannot carry are replaced by a text block that says what was there.
//!
//! The revision travels through serialization in a thread-local set by [`ForRevision`] for the
//! duration of one `serialize` call, so the derived serializers of nested types see it without
//! every type needing a revision-aware serializer of its own. Serialization is synchronous, so the
//! value never leaks into other work on the same thread.
//!
//! ```
//! use mcp_protocol::{ForRevision, ProtocolVersion};
//! use mcp_protocol::types::CallToolResult;
//!
//! let result = CallToolResult::text("hi");
//! let modern = serde_json::to_value(&result).unwrap();
//! assert_eq!(modern["resultType"], "complete");
//! let legacy = serde_json::to_value(ForRevision::new(&result, ProtocolVersion::V2025_06_18)).unwrap();
//! assert!(legacy.get("resultType").is_none());
//! ```

use std::cell::Cell;

use serde::{Serialize, Serializer};

use crate::ProtocolVersion;

thread_local! {
    static WIRE_REVISION: Cell<ProtocolVersion> = const { Cell::new(ProtocolVersion::LATEST) };
}

/// The revision the value being serialized on this thread is shaped for.
pub fn wire_revision() -> ProtocolVersion {
    WIRE_REVISION.with(Cell::get)
}

/// Restores the previous revision when dropped, also when serialization panics.
struct Restore(ProtocolVersion);

impl Drop for Restore {
    fn drop(&mut self) {
        WIRE_REVISION.with(|c| c.set(self.0));
    }
}

/// Runs `f` with `revision` as the wire revision of this thread.
pub fn with_revision<R>(revision: ProtocolVersion, f: impl FnOnce() -> R) -> R {
    let previous = WIRE_REVISION.with(|c| c.replace(revision));
    let _restore = Restore(previous);
    f()
}

/// A value serialized in the shape of one protocol revision.
#[derive(Debug, Clone, Copy)]
pub struct ForRevision<'a, T: ?Sized> {
    value: &'a T,
    revision: ProtocolVersion,
}

impl<'a, T: ?Sized> ForRevision<'a, T> {
    /// Wraps `value` for serialization in the shape of `revision`.
    pub fn new(value: &'a T, revision: ProtocolVersion) -> Self {
        Self { value, revision }
    }
}

impl<T: Serialize + ?Sized> Serialize for ForRevision<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        with_revision(self.revision, || self.value.serialize(serializer))
    }
}

/// Serializes `value` in the shape of `revision` into a JSON byte vector.
pub fn to_vec_for<T: Serialize + ?Sized>(
    value: &T,
    revision: ProtocolVersion,
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&ForRevision::new(value, revision))
}

/// Serializes `value` in the shape of `revision` into a JSON value.
pub fn to_value_for<T: Serialize + ?Sized>(
    value: &T,
    revision: ProtocolVersion,
) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(ForRevision::new(value, revision))
}

/// `skip_serializing_if` predicates for fields that only some revisions know.
pub(crate) mod skip {
    use super::wire_revision;
    use crate::ProtocolVersion as V;

    fn before<T>(value: &Option<T>, since: V) -> bool {
        value.is_none() || wire_revision() < since
    }

    /// Fields added in 2025-03-26 (tool annotations, progress message, completions capability).
    pub(crate) fn unless_2025_03_26<T>(value: &Option<T>) -> bool {
        before(value, V::V2025_03_26)
    }
    /// Fields added in 2025-06-18 (`title`, `outputSchema`, elicitation capability, `context`).
    pub(crate) fn unless_2025_06_18<T>(value: &Option<T>) -> bool {
        before(value, V::V2025_06_18)
    }
    /// Fields added in 2025-11-25 (icons, `description`/`websiteUrl` of implementations, tasks).
    pub(crate) fn unless_2025_11_25<T>(value: &Option<T>) -> bool {
        before(value, V::V2025_11_25)
    }
    /// Fields added in 2026-07-28 (caching hints, extensions).
    pub(crate) fn unless_2026_07_28<T>(value: &Option<T>) -> bool {
        before(value, V::V2026_07_28)
    }
    /// Fields that only the 2025-11-25 revision has (experimental tasks, `elicitationId`).
    pub(crate) fn unless_exactly_2025_11_25<T>(value: &Option<T>) -> bool {
        value.is_none() || wire_revision() != V::V2025_11_25
    }
    /// Fields that exist only in legacy revisions.
    pub(crate) fn unless_legacy<T>(value: &Option<T>) -> bool {
        value.is_none() || wire_revision().is_modern()
    }
    /// Markers such as `resultType` that exist from 2026-07-28.
    pub(crate) fn legacy_marker<T>(_: &T) -> bool {
        wire_revision().is_legacy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_scopes_restore() {
        assert_eq!(wire_revision(), ProtocolVersion::LATEST);
        with_revision(ProtocolVersion::V2024_11_05, || {
            assert_eq!(wire_revision(), ProtocolVersion::V2024_11_05);
            with_revision(ProtocolVersion::V2025_06_18, || {
                assert_eq!(wire_revision(), ProtocolVersion::V2025_06_18);
            });
            assert_eq!(wire_revision(), ProtocolVersion::V2024_11_05);
        });
        assert_eq!(wire_revision(), ProtocolVersion::LATEST);
    }

    #[test]
    fn restores_after_panic() {
        let r = std::panic::catch_unwind(|| {
            with_revision(ProtocolVersion::V2024_11_05, || panic!("boom"));
        });
        assert!(r.is_err());
        assert_eq!(wire_revision(), ProtocolVersion::LATEST);
    }
}
