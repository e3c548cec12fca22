//! Server-sent events: an encoder for the server and an incremental parser for the client.
//!
//! Both follow the WHATWG HTML "server-sent events" section: fields `data`, `event`, `id` and
//! `retry`; lines ending in CRLF, LF or CR; comments (lines starting with `:`); multi-line data
//! joined with LF; a leading UTF-8 byte-order mark ignored. Neither depends on an HTTP stack, so
//! the server's Streamable HTTP transport and a client on any HTTP library share them.
//!
//! ```
//! use mcp_transport::sse::{Event, SseParser};
//!
//! let mut wire = Vec::new();
//! Event::new(r#"{"jsonrpc":"2.0","method":"ping","id":1}"#).id("0-7").encode(&mut wire);
//!
//! let mut parser = SseParser::new(64 * 1024);
//! parser.push(&wire).unwrap();
//! let event = parser.next_event().unwrap();
//! assert_eq!(event.id.as_deref(), Some("0-7"));
//! assert_eq!(event.event, "message");
//! assert!(event.data.starts_with('{'));
//! ```

use std::collections::VecDeque;

/// One event to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Event<'a> {
    /// The `id` field: what a client sends back as `Last-Event-ID` to resume after this event.
    pub id: Option<&'a str>,
    /// The `event` field (the event type; a client reads a missing one as `message`).
    pub event: Option<&'a str>,
    /// The `data`: each line becomes its own `data:` field.
    pub data: &'a str,
    /// The `retry` field: how long, in milliseconds, a client waits before reconnecting.
    pub retry: Option<u64>,
}

impl<'a> Event<'a> {
    /// An event carrying `data`.
    pub fn new(data: &'a str) -> Self {
        Self {
            data,
            ..Self::default()
        }
    }

    /// The same event with an id.
    #[must_use]
    pub fn id(self, id: &'a str) -> Self {
        Self {
            id: Some(id),
            ..self
        }
    }

    /// The same event with an event type.
    #[must_use]
    pub fn event(self, event: &'a str) -> Self {
        Self {
            event: Some(event),
            ..self
        }
    }

    /// The same event with a reconnection delay in milliseconds.
    #[must_use]
    pub fn retry(self, retry_ms: u64) -> Self {
        Self {
            retry: Some(retry_ms),
            ..self
        }
    }

    /// Appends the event's wire form to `out`. Line breaks in the id or event type, which the
    /// format cannot carry, are dropped; line breaks in the data split it into several `data:`
    /// lines, which a parser joins back with LF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Some(event) = self.event {
            field(out, b"event", event);
        }
        if let Some(id) = self.id {
            // An id holding NUL is ignored by parsers: leave it out rather than send it.
            if !id.contains('\0') {
                field(out, b"id", id);
            }
        }
        if let Some(retry) = self.retry {
            out.extend_from_slice(b"retry: ");
            out.extend_from_slice(retry.to_string().as_bytes());
            out.push(b'\n');
        }
        let mut rest = self.data;
        loop {
            let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&rest.as_bytes()[..end]);
            out.push(b'\n');
            if end == rest.len() {
                break;
            }
            let skip = if rest[end..].starts_with("\r\n") {
                2
            } else {
                1
            };
            rest = &rest[end + skip..];
        }
        out.push(b'\n');
    }

    /// The event's wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 32);
        self.encode(&mut out);
        out
    }
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &str) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend(value.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
    out.push(b'\n');
}

/// Appends a comment line (`: text`), which parsers ignore: a keep-alive that makes
/// intermediaries and dead peers visible.
pub fn encode_comment(out: &mut Vec<u8>, text: &str) {
    out.push(b':');
    if !text.is_empty() {
        out.push(b' ');
        out.extend(text.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
    }
    out.extend_from_slice(b"\n\n");
}

/// One event as a client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEvent {
    /// The event type (`message` when the stream did not name one).
    pub event: String,
    /// The data lines, joined with LF.
    pub data: String,
    /// The last event id the stream set (it persists across events until changed), or `None`
    /// if it never set one or set it to the empty string.
    pub id: Option<String>,
}

/// An event or line larger than the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("server-sent event larger than {limit} bytes")]
pub struct EventTooLarge {
    /// The limit.
    pub limit: usize,
}

/// An incremental server-sent-events parser: push chunks as they arrive, take events as they
/// complete. Memory is bounded by the maximum event size given to [`SseParser::new`].
#[derive(Debug)]
pub struct SseParser {
    max_event: usize,
    /// Bytes of the current, not yet complete, line.
    line: Vec<u8>,
    /// The previous chunk ended in CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// Still at the very start of the stream, where a byte-order mark may be.
    at_start: bool,
    data: String,
    event_type: String,
    last_id: String,
    /// The last event id as of the last complete event: only a dispatched event moves it.
    committed_id: String,
    retry: Option<u64>,
    ready: VecDeque<ReceivedEvent>,
}

impl SseParser {
    /// A parser refusing events (and lines) larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Self {
        Self {
            max_event,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            event_type: String::new(),
            last_id: String::new(),
            committed_id: String::new(),
            retry: None,
            ready: VecDeque::new(),
        }
    }

    /// Feeds the next chunk of the stream. Complete events become available from
    /// [`next_event`](Self::next_event). After an error the parser is in an unspecified state:
    /// drop the stream.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), EventTooLarge> {
        if self.at_start {
            // The BOM may itself arrive split across chunks.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            let have = self.line.len();
            let take = (BOM.len() - have).min(chunk.len());
            if BOM[have..have + take] == chunk[..take] {
                if have + take < BOM.len() {
                    self.line.extend_from_slice(&chunk[..take]);
                    return Ok(());
                }
                self.line.clear();
                chunk = &chunk[take..];
            } else {
                // Not a BOM: what was held back is ordinary input.
                let held = std::mem::take(&mut self.line);
                self.at_start = false;
                self.push(&held)?;
            }
            self.at_start = false;
        }
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while !chunk.is_empty() {
            match memchr::memchr2(b'\r', b'\n', chunk) {
                Some(at) => {
                    self.extend_line(&chunk[..at])?;
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&line)?;
                    self.line = line;
                    self.line.clear();
                    let mut next = at + 1;
                    if chunk[at] == b'\r' {
                        if next == chunk.len() {
                            self.after_cr = true;
                        } else if chunk[next] == b'\n' {
                            next += 1;
                        }
                    }
                    chunk = &chunk[next..];
                }
                None => {
                    self.extend_line(chunk)?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), EventTooLarge> {
        if self.line.len() + bytes.len() > self.max_event {
            return Err(EventTooLarge {
                limit: self.max_event,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8]) -> Result<(), EventTooLarge> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(at) => {
                let value = &line[at + 1..];
                (&line[..at], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"event" => self.event_type = value.into_owned(),
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    return Err(EventTooLarge {
                        limit: self.max_event,
                    });
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"id" if !value.contains('\0') => self.last_id = value.into_owned(),
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits only, so the only failure is overflow: keep the largest delay.
                self.retry = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        // An event that ended (even one without data) makes its id the one to resume after;
        // an event cut off before its blank line does not.
        self.committed_id.clone_from(&self.last_id);
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        self.data.pop();
        let event = if self.event_type.is_empty() {
            "message".to_owned()
        } else {
            std::mem::take(&mut self.event_type)
        };
        self.ready.push_back(ReceivedEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: (!self.last_id.is_empty()).then(|| self.last_id.clone()),
        });
    }

    /// The next complete event, if any.
    pub fn next_event(&mut self) -> Option<ReceivedEvent> {
        self.ready.pop_front()
    }

    /// The id of the last complete event, even one that carried no data (such as the priming
    /// event of SEP-1699): what to send as `Last-Event-ID` when reconnecting. The id of an event
    /// the stream cut off before its end is not counted, so that event is sent again.
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.committed_id.is_empty()).then_some(self.committed_id.as_str())
    }

    /// The reconnection delay the stream last asked for, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<ReceivedEvent>, SseParser) {
        let mut p = SseParser::new(1 << 20);
        p.push(input).unwrap();
        let mut out = Vec::new();
        while let Some(e) = p.next_event() {
            out.push(e);
        }
        (out, p)
    }

    /// Every split of the input into two chunks yields the same events as the whole.
    fn parse_split_everywhere(input: &[u8]) -> Vec<ReceivedEvent> {
        let (whole, _) = parse_all(input);
        for at in 0..=input.len() {
            let mut p = SseParser::new(1 << 20);
            p.push(&input[..at]).unwrap();
            p.push(&input[at..]).unwrap();
            let mut got = Vec::new();
            while let Some(e) = p.next_event() {
                got.push(e);
            }
            assert_eq!(got, whole, "split at {at}");
        }
        // And one byte at a time.
        let mut p = SseParser::new(1 << 20);
        for b in input {
            p.push(std::slice::from_ref(b)).unwrap();
        }
        let mut got = Vec::new();
        while let Some(e) = p.next_event() {
            got.push(e);
        }
        assert_eq!(got, whole, "byte by byte");
        whole
    }

    #[test]
    fn encodes_fields_and_multiline_data() {
        let bytes = Event::new("a\nb\r\nc\rd")
            .id("1-2")
            .event("message")
            .retry(500)
            .to_bytes();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "event: message\nid: 1-2\nretry: 500\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(Event::new("").to_bytes(), b"data: \n\n");
        let mut c = Vec::new();
        encode_comment(&mut c, "");
        encode_comment(&mut c, "keep\nalive");
        assert_eq!(c, b":\n\n: keepalive\n\n");
    }

    #[test]
    fn encoder_output_round_trips() {
        for data in [
            "",
            "x",
            "a\nb",
            "a\r\nb\rc\n",
            "{\"k\":\"v\"}",
            "ünï",
            "\n\n",
        ] {
            let bytes = Event::new(data).id("7").to_bytes();
            let events = parse_split_everywhere(&bytes);
            let expected = data.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(events.len(), 1, "{data:?}");
            assert_eq!(events[0].data, expected);
            assert_eq!(events[0].id.as_deref(), Some("7"));
        }
    }

    #[test]
    fn line_endings_crlf_lf_cr() {
        for input in [
            &b"data: one\r\n\r\ndata: two\r\n\r\n"[..],
            b"data: one\n\ndata: two\n\n",
            b"data: one\r\rdata: two\r\r",
            b"data: one\r\n\ndata: two\r\r\n",
        ] {
            let events = parse_split_everywhere(input);
            let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
            assert_eq!(data, ["one", "two"], "{input:?}");
        }
    }

    #[test]
    fn fields_per_whatwg() {
        let input =
            b": a comment\nevent: endpoint\ndata:no-space\ndata:  two spaces\nunknown: x\ndata\n\n";
        let events = parse_split_everywhere(input);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, "endpoint");
        // One leading space is removed, no more; a field with no colon has an empty value.
        assert_eq!(events[0].data, "no-space\n two spaces\n");
        assert_eq!(events[0].id, None);
    }

    #[test]
    fn ids_persist_and_reset() {
        let input = b"id: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\n";
        let events = parse_split_everywhere(input);
        let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
        // The id persists; an empty `id` resets it; an id with NUL is ignored.
        assert_eq!(ids, [Some("5"), Some("5"), None, None]);
    }

    #[test]
    fn priming_event_sets_the_id_and_retry() {
        let (events, p) = parse_all(b"id: 0-3\nretry: 1500\ndata:\n\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "");
        assert_eq!(p.last_event_id(), Some("0-3"));
        assert_eq!(p.retry(), Some(1500));
        // An id with no data dispatches nothing but is still remembered.
        let (events, p) = parse_all(b"id: 9\n\n");
        assert!(events.is_empty());
        assert_eq!(p.last_event_id(), Some("9"));
    }

    #[test]
    fn retry_must_be_digits() {
        let (_, p) = parse_all(b"retry: 12a\nretry: -5\nretry:\n\n");
        assert_eq!(p.retry(), None);
        let (_, p) = parse_all(b"retry: 99999999999999999999999\n\n");
        assert_eq!(p.retry(), Some(u64::MAX));
    }

    #[test]
    fn event_type_resets_after_dispatch_and_on_empty_events() {
        let input = b"event: a\n\ndata: x\n\nevent: b\ndata: y\n\ndata: z\n\n";
        let events = parse_split_everywhere(input);
        let types: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(types, ["message", "b", "message"]);
    }

    #[test]
    fn bom_is_skipped_only_at_the_start() {
        let events = parse_split_everywhere(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "a");
        // A partial BOM that turns out not to be one is ordinary input.
        let events = parse_split_everywhere(b"\xEFdata: a\n\ndata: b\n\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "b");
    }

    #[test]
    fn incomplete_event_at_end_is_not_dispatched() {
        let (events, _) = parse_all(b"data: a\n\ndata: b\n");
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (events, _) = parse_all(b"data: \xFF\xFE\n\n");
        assert_eq!(events[0].data, "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn size_limit() {
        let mut p = SseParser::new(16);
        assert!(p.push(b"data: 0123456789").is_ok());
        assert_eq!(p.push(b"0123456789"), Err(EventTooLarge { limit: 16 }));
        let mut p = SseParser::new(16);
        // Many short data lines add up.
        let r = (0..10).try_for_each(|_| p.push(b"data: abcd\n"));
        assert!(r.is_err());
    }

    #[test]
    fn an_event_cut_off_before_its_end_does_not_move_the_resume_point() {
        let mut p = SseParser::new(1024);
        p.push(b"id: 1\ndata: one\n\nid: 2\ndata: tw").unwrap();
        assert_eq!(p.next_event().map(|e| e.data), Some("one".to_owned()));
        assert_eq!(p.last_event_id(), Some("1"));
        p.push(b"o\n\n").unwrap();
        assert_eq!(p.last_event_id(), Some("2"));
    }
}
