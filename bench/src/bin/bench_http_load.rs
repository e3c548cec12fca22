//! `bench-http-load`: the load generator of the HTTP benchmark (`cargo xtask bench http`).
//!
//! Spawns a server command whose first line of stdout is its URL (`http://127.0.0.1:PORT/PATH`),
//! optionally followed on the same line by one header every request must carry
//! (`http://127.0.0.1:PORT/mcp Authorization: Bearer ...`, for servers that authenticate), opens
//! a pool of N keep-alive HTTP/1.1 connections with `TCP_NODELAY`, and keeps one
//! `tools/call` `echo` request in flight on each (N in flight). Every server gets the same
//! requests, written by a minimal HTTP/1.1 client of its own (no HTTP library, so nothing hides
//! work in the generator): one `write` per request, responses read with `Content-Length` or
//! chunked framing, bodies parsed as JSON or as an SSE stream whose `data:` lines carry the
//! response.
//!
//! - `--mode modern`: every POST carries the 2026-07-28 `_meta` (protocol version, client
//!   capabilities and info) and the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers;
//!   no session.
//! - `--mode legacy`: `initialize` (2025-11-25) once, `notifications/initialized`, then every
//!   POST carries `Mcp-Session-Id` and `MCP-Protocol-Version`.
//!
//! The first `--warmup` answers are not measured; after them it measures `--calls` more, or as
//! many as fit in `--max-seconds`. It prints one JSON line: calls/s over the measured window,
//! latency percentiles (request written to response read), the server's peak RSS (`VmHWM`), and
//! the CPU the server and the generator used per call.
//!
//! `--idle-sessions K` measures memory instead: it opens K legacy sessions (`initialize` and
//! `notifications/initialized`, nothing else), reads the server's `VmRSS` before and after,
//! checks that the first session still answers, and prints the KiB each session costs.
//!
//! The generator runs on one thread (a current-thread tokio runtime driving one task per
//! connection): the server gets the machine's other core. Check it is not the bottleneck by
//! comparing with `bench-http-ceiling` (a bare hyper server).
//!
//! ```text
//! bench-http-load --label NAME --mode modern|legacy --in-flight N --calls C [--warmup W]
//!                 [--max-seconds S] [--idle-sessions K] -- SERVER-COMMAND [ARGS...]
//! ```

use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The text every `echo` call sends (and gets back).
const TEXT: &str = "The quick brown fox jumps over the lazy dog; pack my box with five dozen \
                    liquor jugs. Sphinx of black quartz!";

/// The 2026-07-28 revision (modern mode).
const MODERN_VERSION: &str = "2026-07-28";

/// The revision legacy mode asks for in `initialize`.
const LEGACY_VERSION: &str = "2025-11-25";

/// The id of the first measured-or-warm-up call; 0 is `initialize`, 1 the checked call.
const FIRST_ID: u64 = 2;

/// Connections the idle-session measurement opens sessions through.
const SESSION_CONNECTIONS: usize = 16;

/// Largest response accepted (headers and body), bytes.
const MAX_RESPONSE: usize = 1 << 20;

/// Which protocol era the requests are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 2026-07-28: `_meta` and headers on every POST, no session.
    Modern,
    /// 2025-11-25: a session opened by `initialize`.
    Legacy,
}

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    /// Name of the run, copied to the output.
    label: String,
    /// The era of the requests.
    mode: Mode,
    /// Connections, each with one call in flight.
    in_flight: usize,
    /// Calls measured (after the warm-up), at most.
    calls: u64,
    /// Calls answered before measuring starts.
    warmup: u64,
    /// Time limit of the measured window (and of the warm-up), seconds.
    max_seconds: f64,
    /// Measure memory per idle session with this many sessions instead of throughput.
    idle_sessions: Option<usize>,
    /// The server command and its arguments.
    command: Vec<OsString>,
}

/// Usage, printed on bad arguments.
const USAGE: &str = "usage: bench-http-load --label NAME --mode modern|legacy --in-flight N \
                     --calls C [--warmup W] [--max-seconds S] [--idle-sessions K] \
                     -- SERVER-COMMAND [ARGS...]";

impl Options {
    /// Parses the process's arguments.
    fn parse() -> Result<Self, String> {
        let mut args = std::env::args_os().skip(1);
        let mut options = Self {
            label: String::from("server"),
            mode: Mode::Modern,
            in_flight: 1,
            calls: 20_000,
            warmup: 2_000,
            max_seconds: 10.0,
            idle_sessions: None,
            command: Vec::new(),
        };
        while let Some(flag) = args.next() {
            let flag = flag.to_string_lossy().into_owned();
            if flag == "--" {
                options.command = args.collect();
                break;
            }
            let value = args
                .next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let number = |v: &str| -> Result<u64, String> {
                v.parse()
                    .map_err(|e| format!("bad value {v:?} for {flag}: {e}"))
            };
            match flag.as_str() {
                "--label" => options.label = value,
                "--mode" => {
                    options.mode = match value.as_str() {
                        "modern" => Mode::Modern,
                        "legacy" => Mode::Legacy,
                        _ => return Err(format!("bad --mode {value:?}\n{USAGE}")),
                    }
                }
                "--in-flight" => {
                    options.in_flight = usize::try_from(number(&value)?)
                        .map_err(|e| e.to_string())?
                        .clamp(1, 1024);
                }
                "--calls" => options.calls = number(&value)?.max(1),
                "--warmup" => options.warmup = number(&value)?,
                "--max-seconds" => {
                    options.max_seconds = value
                        .parse::<f64>()
                        .map_err(|e| format!("bad --max-seconds {value:?}: {e}"))?
                        .clamp(0.1, 600.0);
                }
                "--idle-sessions" => {
                    options.idle_sessions = Some(
                        usize::try_from(number(&value)?)
                            .map_err(|e| e.to_string())?
                            .clamp(SESSION_CONNECTIONS + 1, 1_000_000),
                    );
                }
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        if options.command.is_empty() {
            return Err(format!("no server command\n{USAGE}"));
        }
        Ok(options)
    }
}

/// What a throughput run prints.
#[derive(Debug, Serialize)]
struct Report {
    /// `--label`.
    server: String,
    /// `modern` or `legacy`.
    mode: &'static str,
    /// Calls kept in flight (connections).
    in_flight: usize,
    /// Calls measured.
    calls: u64,
    /// Length of the measured window, seconds.
    seconds: f64,
    /// Calls per second over the window.
    calls_per_s: f64,
    /// Median latency, µs.
    p50_us: f64,
    /// 90th percentile latency, µs.
    p90_us: f64,
    /// 99th percentile latency, µs.
    p99_us: f64,
    /// Slowest call, µs.
    max_us: f64,
    /// Server peak RSS (`VmHWM`), MiB.
    peak_rss_mib: f64,
    /// Server CPU (user + system) per measured call, µs.
    server_cpu_us_per_call: f64,
    /// Generator CPU per measured call, µs.
    load_cpu_us_per_call: f64,
    /// CPU other processes used during the window, % of the machine.
    other_cpu_pct: f64,
    /// Size of one `tools/call` request, headers and body, bytes.
    request_bytes: usize,
    /// Content type of the call answers (`application/json` or `text/event-stream`).
    answer_type: String,
}

/// What an idle-session run prints.
#[derive(Debug, Serialize)]
struct SessionReport {
    /// `--label`.
    server: String,
    /// Sessions open at the end.
    sessions: usize,
    /// Server `VmRSS` with the connections open and the first sessions opened, KiB.
    rss_before_kib: u64,
    /// Server `VmRSS` with every session open, KiB.
    rss_after_kib: u64,
    /// Growth per session opened after the first reading, KiB.
    kib_per_session: f64,
    /// Time to open the sessions, seconds.
    open_seconds: f64,
    /// Server peak RSS (`VmHWM`), MiB.
    peak_rss_mib: f64,
}

/// Where the server listens.
#[derive(Debug, Clone)]
struct Target {
    /// `host:port`, for connecting and for the `Host` header.
    authority: String,
    /// The endpoint's path.
    path: String,
    /// A header line every request carries (`Name: value\r\n`), or empty.
    header: String,
}

impl Target {
    /// Parses `http://HOST:PORT/PATH`, optionally followed by a space and `Name: value`.
    fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim();
        let (url, header) = match line.split_once(' ') {
            Some((url, header)) => (url, format!("{}\r\n", header.trim())),
            None => (line, String::new()),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("the server printed {url:?}, not an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(Self {
            authority: authority.to_owned(),
            path: path.to_owned(),
            header,
        })
    }
}

/// The session state a request carries.
#[derive(Debug, Clone)]
struct Session {
    /// `Mcp-Session-Id` (legacy mode).
    id: Option<String>,
    /// The `MCP-Protocol-Version` header's value.
    version: String,
}

/// Appends a `tools/call` `echo` POST with `id` to `out`.
fn push_call(out: &mut Vec<u8>, target: &Target, mode: Mode, session: &Session, id: u64) {
    let body = match mode {
        Mode::Modern => format!(
            concat!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"echo","#,
                r#""arguments":{{"text":"{}"}},"_meta":{{"#,
                r#""io.modelcontextprotocol/protocolVersion":"{}","#,
                r#""io.modelcontextprotocol/clientCapabilities":{{}},"#,
                r#""io.modelcontextprotocol/clientInfo":{{"name":"bench-http-load","version":"{}"}}}}}}}}"#
            ),
            id,
            TEXT,
            MODERN_VERSION,
            env!("CARGO_PKG_VERSION")
        ),
        Mode::Legacy => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{TEXT}"}}}}}}"#
        ),
    };
    let mut extra = String::new();
    if mode == Mode::Modern {
        extra.push_str("Mcp-Method: tools/call\r\nMcp-Name: echo\r\n");
    }
    push_post(out, target, session, &extra, body.as_bytes());
}

/// Appends a POST of `body` with the session's headers and `extra` header lines to `out`.
fn push_post(out: &mut Vec<u8>, target: &Target, session: &Session, extra: &str, body: &[u8]) {
    out.extend_from_slice(
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {}\r\n{}{}{}\
             Content-Length: {}\r\n\r\n",
            target.path,
            target.authority,
            session.version,
            target.header,
            session
                .id
                .as_ref()
                .map_or_else(String::new, |id| format!("Mcp-Session-Id: {id}\r\n")),
            extra,
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
}

/// One HTTP response, its body decoded.
#[derive(Debug)]
struct HttpResponse {
    /// Status code.
    status: u16,
    /// `Content-Type`, lowercase, empty if absent.
    content_type: String,
    /// `Mcp-Session-Id`, if present.
    session_id: Option<String>,
    /// The body, de-chunked.
    body: Vec<u8>,
}

/// A keep-alive HTTP/1.1 connection.
#[derive(Debug)]
struct Connection {
    /// The socket.
    stream: TcpStream,
    /// Bytes read and not consumed yet.
    buffer: Vec<u8>,
    /// Where unconsumed bytes start in `buffer`.
    start: usize,
}

impl Connection {
    /// Connects with `TCP_NODELAY`.
    async fn open(target: &Target) -> Result<Self, String> {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|e| format!("connecting to {}: {e}", target.authority))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
            start: 0,
        })
    }

    /// Writes `bytes` (one request).
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| format!("writing a request: {e}"))
    }

    /// Reads more bytes into the buffer; fails at end of stream.
    async fn fill(&mut self) -> Result<(), String> {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        if self.buffer.len() - self.start > MAX_RESPONSE {
            return Err(String::from("response too large"));
        }
        self.buffer.reserve(16 * 1024);
        let n = self
            .stream
            .read_buf(&mut self.buffer)
            .await
            .map_err(|e| format!("reading a response: {e}"))?;
        if n == 0 {
            return Err(String::from("the server closed the connection"));
        }
        Ok(())
    }

    /// Unconsumed bytes.
    fn pending(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    /// Reads a line ending in CRLF (without it), consuming it.
    async fn line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(i) = find(self.pending(), b"\r\n") {
                let line = self.pending()[..i].to_vec();
                self.start += i + 2;
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    /// Reads exactly `n` bytes, consuming them.
    async fn exact(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), String> {
        while self.pending().len() < n {
            self.fill().await?;
        }
        out.extend_from_slice(&self.pending()[..n]);
        self.start += n;
        Ok(())
    }

    /// Reads one response.
    async fn response(&mut self) -> Result<HttpResponse, String> {
        let status_line = self.line().await?;
        let status = std::str::from_utf8(&status_line)
            .ok()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                format!(
                    "bad status line {:?}",
                    String::from_utf8_lossy(&status_line)
                )
            })?;
        let mut content_length = None;
        let mut chunked = false;
        let mut content_type = String::new();
        let mut session_id = None;
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                break;
            }
            let line = String::from_utf8_lossy(&line);
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|e| format!("bad Content-Length {value:?}: {e}"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("content-type") {
                content_type = value.to_ascii_lowercase();
            } else if name.eq_ignore_ascii_case("mcp-session-id") {
                session_id = Some(value.to_owned());
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let size_line = self.line().await?;
                let size_text = String::from_utf8_lossy(&size_line);
                let size_text = size_text.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|e| format!("bad chunk size {size_text:?}: {e}"))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    while !self.line().await?.is_empty() {}
                    break;
                }
                if body.len() + size > MAX_RESPONSE {
                    return Err(String::from("response too large"));
                }
                self.exact(size, &mut body).await?;
                if !self.line().await?.is_empty() {
                    return Err(String::from("a chunk not followed by CRLF"));
                }
            }
        } else if let Some(length) = content_length {
            if length > MAX_RESPONSE {
                return Err(String::from("response too large"));
            }
            self.exact(length, &mut body).await?;
        }
        Ok(HttpResponse {
            status,
            content_type,
            session_id,
            body,
        })
    }
}

/// Position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a JSON-RPC response the generator reads.
#[derive(Deserialize)]
struct Answer<'a> {
    /// The id.
    id: Option<u64>,
    /// The result.
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    /// The error.
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// The JSON-RPC response with `id` in a response body (JSON, or SSE `data:` events); returns
/// its result, raw.
fn answer_result(response: &HttpResponse, id: u64) -> Result<String, String> {
    let shown = || String::from_utf8_lossy(&response.body).into_owned();
    if response.status != 200 {
        return Err(format!(
            "HTTP {} for request {id}: {}",
            response.status,
            shown()
        ));
    }
    let check = |json: &[u8]| -> Result<Option<String>, String> {
        let Ok(answer) = serde_json::from_slice::<Answer<'_>>(json) else {
            return Ok(None);
        };
        if answer.id != Some(id) {
            return Ok(None);
        }
        match (answer.result, answer.error) {
            (Some(result), None) => Ok(Some(result.get().to_owned())),
            _ => Err(format!(
                "request {id} failed: {}",
                String::from_utf8_lossy(json)
            )),
        }
    };
    if response.content_type.starts_with("text/event-stream") {
        // Events are separated by blank lines; a response sits in one event's data lines.
        let text = String::from_utf8_lossy(&response.body);
        for event in text.split("\n\n") {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                continue;
            }
            if let Some(result) = check(data.join("\n").as_bytes())? {
                return Ok(result);
            }
        }
        Err(format!(
            "no response to request {id} in the stream: {}",
            shown()
        ))
    } else {
        check(&response.body)?.ok_or_else(|| format!("no response to request {id}: {}", shown()))
    }
}

/// `initialize` (id `id`) and `notifications/initialized` on `connection`: a new legacy session.
async fn open_session(
    connection: &mut Connection,
    target: &Target,
    id: u64,
) -> Result<Session, String> {
    let mut request = Vec::new();
    let bootstrap = Session {
        id: None,
        version: LEGACY_VERSION.to_owned(),
    };
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"{LEGACY_VERSION}","capabilities":{{}},"clientInfo":{{"name":"bench-http-load","version":"{}"}}}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    push_post(&mut request, target, &bootstrap, "", body.as_bytes());
    connection.send(&request).await?;
    let response = connection.response().await?;
    let result = answer_result(&response, id)?;
    let session_id = response
        .session_id
        .clone()
        .ok_or("the answer to initialize has no Mcp-Session-Id")?;
    let result: serde_json::Value =
        serde_json::from_str(&result).map_err(|e| format!("initialize result: {e}"))?;
    let version = result
        .get("protocolVersion")
        .and_then(|v| v.as_str())
        .unwrap_or(LEGACY_VERSION)
        .to_owned();
    let session = Session {
        id: Some(session_id),
        version,
    };
    request.clear();
    push_post(
        &mut request,
        target,
        &session,
        "",
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    connection.send(&request).await?;
    let response = connection.response().await?;
    if response.status != 202 && response.status != 200 {
        return Err(format!(
            "notifications/initialized got HTTP {}",
            response.status
        ));
    }
    Ok(session)
}

/// One `echo` call on `connection`, its answer checked in full; returns the answer's type.
async fn checked_call(
    connection: &mut Connection,
    target: &Target,
    mode: Mode,
    session: &Session,
    id: u64,
) -> Result<String, String> {
    let mut request = Vec::new();
    push_call(&mut request, target, mode, session, id);
    connection.send(&request).await?;
    let response = connection.response().await?;
    let result = answer_result(&response, id)?;
    let result: serde_json::Value =
        serde_json::from_str(&result).map_err(|e| format!("echo result: {e}"))?;
    let text = result
        .pointer("/content/0/text")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    if text != TEXT || result.get("isError") == Some(&serde_json::Value::Bool(true)) {
        return Err(format!("`echo` answered {result}, not the text sent"));
    }
    Ok(response.content_type)
}

/// The shared progress of a throughput run (one thread: `Rc<RefCell>`).
#[derive(Debug)]
struct Progress {
    /// Next id to send.
    next_id: u64,
    /// Calls issued.
    issued: u64,
    /// Calls answered.
    completed: u64,
    /// Calls issued at most (warm-up + measured).
    total: u64,
    /// Calls not measured.
    warmup: u64,
    /// No more calls once this passes.
    deadline: Instant,
    /// Length of the measured window's time limit.
    max_window: Duration,
    /// Start of the measured window, with the CPU counters then.
    window_start: Option<Mark>,
    /// When the last call was answered.
    last_answer: Option<Instant>,
    /// Latencies of the measured calls, ns.
    latencies_ns: Vec<u64>,
    /// Server pid, for the CPU counters.
    server_pid: u32,
    /// First error.
    error: Option<String>,
}

/// Time and CPU counters at a point.
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// When.
    at: Instant,
    /// Server CPU ticks.
    server: u64,
    /// Generator CPU ticks.
    load: u64,
    /// Machine ticks.
    machine: MachineTicks,
}

/// The counters now.
fn mark(server_pid: u32) -> Result<Mark, String> {
    Ok(Mark {
        at: Instant::now(),
        server: cpu_ticks(&format!("/proc/{server_pid}/stat"))?,
        load: cpu_ticks("/proc/self/stat")?,
        machine: machine_ticks()?,
    })
}

impl Progress {
    /// Claims the next call's id, or `None` when no more calls are to be sent.
    fn claim(&mut self) -> Option<u64> {
        if self.error.is_some() || self.issued >= self.total || Instant::now() >= self.deadline {
            return None;
        }
        self.issued += 1;
        let id = self.next_id;
        self.next_id += 1;
        Some(id)
    }

    /// Records an answered call sent at `sent`.
    fn answered(&mut self, sent: Instant) {
        let now = Instant::now();
        self.completed += 1;
        if self.window_start.is_some() {
            self.latencies_ns
                .push(u64::try_from(now.duration_since(sent).as_nanos()).unwrap_or(u64::MAX));
        }
        if self.completed == self.warmup.max(1) && self.window_start.is_none() {
            match mark(self.server_pid) {
                Ok(start) => {
                    self.window_start = Some(start);
                    self.deadline = now + self.max_window;
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.last_answer = Some(now);
    }
}

/// One connection's loop: a call, its answer, the next call, until no more are granted.
async fn connection_loop(
    mut connection: Connection,
    target: Rc<Target>,
    mode: Mode,
    session: Rc<Session>,
    progress: Rc<RefCell<Progress>>,
) {
    let mut request = Vec::with_capacity(1024);
    loop {
        let Some(id) = progress.borrow_mut().claim() else {
            return;
        };
        request.clear();
        push_call(&mut request, &target, mode, &session, id);
        let sent = Instant::now();
        let outcome = async {
            connection.send(&request).await?;
            let response = connection.response().await?;
            answer_result(&response, id).map(drop)
        }
        .await;
        let mut progress = progress.borrow_mut();
        match outcome {
            Ok(()) => progress.answered(sent),
            Err(e) => {
                if progress.error.is_none() {
                    progress.error = Some(e);
                }
                return;
            }
        }
    }
}

/// The throughput run against the server at `target`.
async fn throughput(options: &Options, target: Target, server_pid: u32) -> Result<Report, String> {
    let mut first = Connection::open(&target).await?;
    let session = match options.mode {
        Mode::Modern => Session {
            id: None,
            version: MODERN_VERSION.to_owned(),
        },
        Mode::Legacy => open_session(&mut first, &target, 0).await?,
    };
    let answer_type = checked_call(&mut first, &target, options.mode, &session, 1).await?;
    let mut connections = vec![first];
    for _ in 1..options.in_flight {
        connections.push(Connection::open(&target).await?);
    }
    let max_window = Duration::from_secs_f64(options.max_seconds);
    let progress = Rc::new(RefCell::new(Progress {
        next_id: FIRST_ID,
        issued: 0,
        completed: 0,
        total: options.warmup + options.calls,
        warmup: options.warmup,
        deadline: Instant::now() + max_window,
        max_window,
        window_start: None,
        last_answer: None,
        latencies_ns: Vec::with_capacity(usize::try_from(options.calls).unwrap_or(0)),
        server_pid,
        error: None,
    }));
    let target = Rc::new(target);
    let session = Rc::new(session);
    let local = tokio::task::LocalSet::new();
    for connection in connections {
        local.spawn_local(connection_loop(
            connection,
            target.clone(),
            options.mode,
            session.clone(),
            progress.clone(),
        ));
    }
    local.await;
    let end = mark(server_pid)?;
    let peak_rss_kib = status_kib(server_pid, "VmHWM:")?;
    let progress = progress.borrow();
    if let Some(error) = &progress.error {
        return Err(error.clone());
    }
    let start = progress.window_start.ok_or_else(|| {
        format!(
            "the warm-up ({} calls) did not finish within {} s",
            options.warmup, options.max_seconds
        )
    })?;
    let mut latencies = progress.latencies_ns.clone();
    latencies.sort_unstable();
    let calls = latencies.len() as u64;
    let seconds = progress
        .last_answer
        .unwrap_or(end.at)
        .duration_since(start.at)
        .as_secs_f64();
    let per_call_us = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / calls.max(1) as f64;
    let server_ticks = end.server.saturating_sub(start.server);
    let load_ticks = end.load.saturating_sub(start.load);
    let machine_busy = end.machine.busy.saturating_sub(start.machine.busy);
    let machine_total = end.machine.total.saturating_sub(start.machine.total);
    let mut request = Vec::new();
    push_call(&mut request, &target, options.mode, &session, FIRST_ID);
    Ok(Report {
        server: options.label.clone(),
        mode: match options.mode {
            Mode::Modern => "modern",
            Mode::Legacy => "legacy",
        },
        in_flight: options.in_flight,
        calls,
        seconds,
        calls_per_s: if seconds > 0.0 {
            calls as f64 / seconds
        } else {
            0.0
        },
        p50_us: quantile_us(&latencies, 0.50),
        p90_us: quantile_us(&latencies, 0.90),
        p99_us: quantile_us(&latencies, 0.99),
        max_us: latencies.last().map_or(0.0, |&ns| ns as f64 / 1000.0),
        peak_rss_mib: peak_rss_kib as f64 / 1024.0,
        server_cpu_us_per_call: per_call_us(server_ticks),
        load_cpu_us_per_call: per_call_us(load_ticks),
        other_cpu_pct: 100.0 * machine_busy.saturating_sub(server_ticks + load_ticks) as f64
            / machine_total.max(1) as f64,
        request_bytes: request.len(),
        answer_type,
    })
}

/// The idle-session run: opens `sessions` legacy sessions, measures the server's RSS growth.
async fn idle_sessions(
    options: &Options,
    target: Target,
    server_pid: u32,
    sessions: usize,
) -> Result<SessionReport, String> {
    // The pool, with one session each, before the first reading: what the connections and the
    // first sessions cost is not counted.
    let mut connections = Vec::new();
    let mut first_session = None;
    for i in 0..SESSION_CONNECTIONS {
        let mut connection = Connection::open(&target).await?;
        let session = open_session(&mut connection, &target, i as u64).await?;
        first_session.get_or_insert(session);
        connections.push(connection);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = status_kib(server_pid, "VmRSS:")?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.max_seconds.mul_add(6.0, 30.0));
    let remaining = Rc::new(RefCell::new(sessions - SESSION_CONNECTIONS));
    let error: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let target = Rc::new(target);
    let local = tokio::task::LocalSet::new();
    let mut pool = Vec::new();
    for (c, connection) in connections.into_iter().enumerate() {
        let (remaining, error, target) = (remaining.clone(), error.clone(), target.clone());
        pool.push(local.spawn_local(async move {
            let mut connection = connection;
            let mut id = 1000 + c as u64 * 1_000_000;
            loop {
                {
                    let mut left = remaining.borrow_mut();
                    if *left == 0 || error.borrow().is_some() || Instant::now() >= deadline {
                        break;
                    }
                    *left -= 1;
                }
                id += 1;
                if let Err(e) = open_session(&mut connection, &target, id).await {
                    error.borrow_mut().get_or_insert(e);
                    break;
                }
            }
            connection
        }));
    }
    local.await;
    let open_seconds = started.elapsed().as_secs_f64();
    if let Some(e) = error.borrow().clone() {
        return Err(e);
    }
    if *remaining.borrow() > 0 {
        return Err(format!(
            "opened only {} of {sessions} sessions in time",
            sessions - *remaining.borrow()
        ));
    }
    let mut connections = Vec::new();
    for handle in pool {
        connections.push(handle.await.map_err(|e| format!("a task failed: {e}"))?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = status_kib(server_pid, "VmRSS:")?;
    // The oldest session must still be open: none was evicted to make room.
    let first_session = first_session.ok_or("no session")?;
    let connection = connections.first_mut().ok_or("no connection")?;
    checked_call(connection, &target, Mode::Legacy, &first_session, 1)
        .await
        .map_err(|e| format!("the first session no longer answers: {e}"))?;
    let peak = status_kib(server_pid, "VmHWM:")?;
    let opened = sessions - SESSION_CONNECTIONS;
    Ok(SessionReport {
        server: options.label.clone(),
        sessions,
        rss_before_kib: before,
        rss_after_kib: after,
        kib_per_session: after.saturating_sub(before) as f64 / opened as f64,
        open_seconds,
        peak_rss_mib: peak as f64 / 1024.0,
    })
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU time of a process, in clock ticks, from its `/proc/<pid>/stat`.
fn cpu_ticks(path: &str) -> Result<u64, String> {
    let stat = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("no field {n} in {path}"))
    };
    Ok(field(14)? + field(15)?)
}

/// Busy and total CPU ticks of the whole machine, from `/proc/stat`.
#[derive(Debug, Clone, Copy)]
struct MachineTicks {
    /// Ticks not idle.
    busy: u64,
    /// All ticks.
    total: u64,
}

/// The machine's CPU ticks so far.
fn machine_ticks() -> Result<MachineTicks, String> {
    let stat =
        std::fs::read_to_string("/proc/stat").map_err(|e| format!("reading /proc/stat: {e}"))?;
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .ok_or("unexpected /proc/stat")?
        .split_whitespace()
        .take(8)
        .map(|f| f.parse().map_err(|e| format!("unexpected /proc/stat: {e}")))
        .collect::<Result<_, _>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = fields[..] else {
        return Err("unexpected /proc/stat".into());
    };
    let busy = user + nice + system + irq + softirq + steal;
    Ok(MachineTicks {
        busy,
        total: busy + idle + iowait,
    })
}

/// A `kB` field (`VmHWM:`, `VmRSS:`) of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in {path}"))
}

/// The `p`-quantile (0..=1) of sorted values, in µs (nearest rank).
fn quantile_us(sorted_ns: &[u64], p: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let last = sorted_ns.len() - 1;
    let rank = (p * sorted_ns.len() as f64).ceil() as usize;
    sorted_ns[rank.saturating_sub(1).min(last)] as f64 / 1000.0
}

/// Starts the server and reads its URL.
fn spawn_server(options: &Options) -> Result<(Child, Target), String> {
    let (program, args) = options
        .command
        .split_first()
        .ok_or_else(|| String::from("no server command"))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start {program:?}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    match read {
        Ok(n) if n > 0 => Target::parse(&line).map(|target| (child, target)),
        Ok(_) => {
            stop_server(&mut child);
            Err(String::from("the server printed no URL"))
        }
        Err(e) => {
            stop_server(&mut child);
            Err(format!("reading the server's URL: {e}"))
        }
    }
}

/// Closes the server's stdin (which stops it), waits up to 3 s, then kills it.
fn stop_server(child: &mut Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// Runs the measurement against a freshly spawned server; returns the JSON line.
fn run(options: &Options) -> Result<String, String> {
    let (mut child, target) = spawn_server(options)?;
    let pid = child.id();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    // A server that stops answering must not hang the benchmark.
    let limit = Duration::from_secs_f64(options.max_seconds.mul_add(8.0, 60.0));
    let outcome = runtime.block_on(async {
        let work = async {
            match options.idle_sessions {
                Some(sessions) => idle_sessions(options, target, pid, sessions)
                    .await
                    .and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string())),
                None => throughput(options, target, pid)
                    .await
                    .and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string())),
            }
        };
        tokio::time::timeout(limit, work)
            .await
            .unwrap_or_else(|_| Err(format!("no result within {} s", limit.as_secs())))
    });
    drop(runtime);
    stop_server(&mut child);
    outcome
}

fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench-http-load: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bench-http-load ({}): {message}", options.label);
            ExitCode::FAILURE
        }
    }
}
