use std::sync::OnceLock;

use tower::Layer;

use super::Trace;

/// Opens a span per request; see the [module docs](super).
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer {
    _private: (),
}

impl TraceLayer {
    /// A span per request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace { inner }
    }
}

/// The W3C trace context of one request: the trace it belongs to, the caller's span, and the
/// span id this request was given. The ids are kept as their hex digits, inline (no
/// allocation per request). The ids this request draws (its span id, and the trace id of a new
/// trace) are drawn when first read: a request whose span nobody records and whose handler
/// never asks does not pay for them.
#[derive(Debug)]
pub struct TraceContext {
    trace_id: OnceLock<[u8; 32]>,
    parent_id: Option<[u8; 16]>,
    span_id: OnceLock<[u8; 16]>,
    sampled: bool,
    tracestate: Option<String>,
}

impl Clone for TraceContext {
    /// The same ids (drawn now if they were not yet): a clone is the same request's context.
    fn clone(&self) -> Self {
        Self {
            trace_id: OnceLock::from(*self.trace_id_hex()),
            parent_id: self.parent_id,
            span_id: OnceLock::from(*self.span_id_hex()),
            sampled: self.sampled,
            tracestate: self.tracestate.clone(),
        }
    }
}

impl PartialEq for TraceContext {
    fn eq(&self, other: &Self) -> bool {
        self.trace_id_hex() == other.trace_id_hex()
            && self.parent_id == other.parent_id
            && self.span_id_hex() == other.span_id_hex()
            && self.sampled == other.sampled
            && self.tracestate == other.tracestate
    }
}

impl Eq for TraceContext {}

/// The longest `tracestate` kept (the W3C limit is 32 members; 512 bytes is what the
/// recommendation asks implementations to propagate at least).
const MAX_TRACESTATE: usize = 512;

/// Hex digits as text (they are ASCII by construction).
fn text(hex: &[u8]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}

impl TraceContext {
    /// The context for a request whose `_meta` carried these values: the caller's trace when
    /// `traceparent` is valid, else a new trace.
    pub fn from_meta(traceparent: Option<&str>, tracestate: Option<&str>) -> Self {
        match traceparent.and_then(parse_traceparent) {
            Some((trace_id, parent_id, sampled)) => Self {
                trace_id: OnceLock::from(trace_id),
                parent_id: Some(parent_id),
                span_id: OnceLock::new(),
                sampled,
                tracestate: tracestate
                    .filter(|s| s.len() <= MAX_TRACESTATE && s.is_ascii())
                    .map(str::to_owned),
            },
            None => Self {
                trace_id: OnceLock::new(),
                parent_id: None,
                span_id: OnceLock::new(),
                sampled: true,
                tracestate: None,
            },
        }
    }

    fn trace_id_hex(&self) -> &[u8; 32] {
        self.trace_id.get_or_init(random_hex::<16, 32>)
    }

    fn span_id_hex(&self) -> &[u8; 16] {
        self.span_id.get_or_init(random_hex::<8, 16>)
    }

    /// The trace id: 32 lowercase hex digits.
    pub fn trace_id(&self) -> &str {
        text(self.trace_id_hex())
    }

    /// The caller's span id, when the request continued a trace.
    pub fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_ref().map(|p| text(p))
    }

    /// This request's span id: 16 lowercase hex digits.
    pub fn span_id(&self) -> &str {
        text(self.span_id_hex())
    }

    /// Whether the caller sampled the trace.
    pub fn sampled(&self) -> bool {
        self.sampled
    }

    /// The `tracestate` received, to pass on unchanged.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The `traceparent` for a call this request makes: same trace, this request's span as
    /// the parent.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id(),
            self.span_id(),
            if self.sampled { "01" } else { "00" }
        )
    }
}

/// `(trace id, parent id, sampled)` of a valid version-00 `traceparent` (later versions are
/// read as 00, as the specification asks); `None` otherwise.
fn parse_traceparent(value: &str) -> Option<([u8; 32], [u8; 16], bool)> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex(version, 2)
        || version == "ff"
        || !hex(trace_id, 32)
        || !hex(parent_id, 16)
        || !hex(flags, 2)
    {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    if trace_id.bytes().all(|b| b == b'0') || parent_id.bytes().all(|b| b == b'0') {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some((
        trace_id.as_bytes().try_into().ok()?,
        parent_id.as_bytes().try_into().ok()?,
        flags & 1 == 1,
    ))
}

thread_local! {
    /// Trace and span ids need to be unique, not secret: a small generator per thread, seeded
    /// from the OS-seeded thread generator, draws them for a fraction of a ChaCha draw.
    static IDS: std::cell::RefCell<rand::rngs::SmallRng> = std::cell::RefCell::new(
        <rand::rngs::SmallRng as rand::SeedableRng>::from_rng(&mut rand::rng()),
    );
}

/// `N` random bytes as `H` (= 2 N) lowercase hex digits.
fn random_hex<const N: usize, const H: usize>() -> [u8; H] {
    let mut bytes = [0u8; N];
    IDS.with(|ids| rand::RngCore::fill_bytes(&mut *ids.borrow_mut(), &mut bytes));
    let mut out = [b'0'; H];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
        out[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_trace() {
        let t = TraceContext::from_meta(
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some("congo=t61rcWkgMzE"),
        );
        assert_eq!(t.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent_id(), Some("00f067aa0ba902b7"));
        assert!(t.sampled());
        assert_eq!(t.tracestate(), Some("congo=t61rcWkgMzE"));
        assert_eq!(t.span_id().len(), 16);
        assert_ne!(t.span_id(), "00f067aa0ba902b7");
        let next = t.traceparent();
        assert!(next.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(next.ends_with("-01"));
    }

    #[test]
    fn ids_drawn_on_first_read_stay_and_a_clone_has_them() {
        let t = TraceContext::from_meta(None, None);
        let clone = t.clone();
        assert_eq!(t.trace_id(), clone.trace_id());
        assert_eq!(t.span_id(), clone.span_id());
        assert_eq!(t, clone);
        assert_eq!(t.trace_id(), t.trace_id());
        let other = TraceContext::from_meta(None, None);
        assert_ne!(t.trace_id(), other.trace_id());
        assert_ne!(t.span_id(), other.span_id());
        assert_ne!(t, other);
    }

    #[test]
    fn starts_a_new_trace_for_invalid_input() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            let t = TraceContext::from_meta(Some(bad), Some("a=b"));
            assert_eq!(t.parent_id(), None, "{bad:?}");
            assert_eq!(t.tracestate(), None, "{bad:?}");
            assert_eq!(t.trace_id().len(), 32);
        }
    }
}
