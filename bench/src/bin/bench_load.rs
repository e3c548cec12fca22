//! `bench-load`: the load generator of the stdio benchmark.
//!
//! Spawns a server command with piped stdin/stdout, performs the legacy handshake (`initialize`
//! with protocol version 2025-06-18, then `notifications/initialized`), checks one `echo` call,
//! then sends `tools/call` `echo` requests — the same request (about 210 bytes) for every server
//! — keeping N of them in flight. The first `--warmup` answers are not measured; after them it
//! measures `--calls` more, or as many as fit in `--max-seconds`. It prints one JSON line:
//! calls/s over the measured window, latency percentiles (send to matching response, by id),
//! the server's peak RSS (`VmHWM` from `/proc/<pid>/status`), and the CPU time the server and
//! the generator used per call.
//!
//! ```text
//! bench-load --label NAME --in-flight N --calls C [--warmup W] [--max-seconds S]
//!            [--writer thread|inline] -- SERVER-COMMAND [ARGS...]
//! ```
//!
//! Two threads (std, blocking) do the work, so the generator is never the bottleneck:
//!
//! - the reader thread reads and parses answers, records latencies, and grants a new call for
//!   every answer (at most `calls` in total); it publishes its grants when it has no further
//!   answer buffered, so a burst of answers becomes one burst of requests;
//! - with `--writer thread` (the default) a dedicated writer thread turns grants into requests,
//!   written with one `write` system call per burst and timestamped just before it; with
//!   `--writer inline` the reader writes them itself (no thread hand-off, for comparison).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The text every `echo` call sends (and gets back), as a literal for `concat!`.
macro_rules! echo_text {
    () => {
        "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. \
         Sphinx of black quartz!"
    };
}

/// The text every `echo` call sends (and gets back).
const TEXT: &str = echo_text!();

/// A request up to its id.
const REQUEST_HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

/// A request after its id, with the newline.
const REQUEST_TAIL: &str = concat!(
    r#","method":"tools/call","params":{"name":"echo","arguments":{"text":""#,
    echo_text!(),
    "\"}}}\n"
);

/// The id of the first measured-or-warm-up call; 0 is `initialize`, 1 the checked call.
const FIRST_ID: u64 = 2;

/// The protocol version the handshake asks for (both SDKs support it).
const PROTOCOL_VERSION: &str = "2025-06-18";

/// How often the main thread checks that the run is still within its deadline.
const WATCH_INTERVAL: Duration = Duration::from_millis(20);

/// Who writes the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterMode {
    /// A dedicated writer thread.
    Thread,
    /// The reader thread itself.
    Inline,
}

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    /// Name of the run, copied to the output.
    label: String,
    /// Calls kept in flight.
    in_flight: u64,
    /// Calls measured (after the warm-up), at most.
    calls: u64,
    /// Calls answered before measuring starts.
    warmup: u64,
    /// Time limit of the measured window, in seconds.
    max_seconds: f64,
    /// Who writes the requests.
    writer: WriterMode,
    /// The server command and its arguments.
    command: Vec<OsString>,
}

/// Usage, printed on bad arguments.
const USAGE: &str = "usage: bench-load --label NAME --in-flight N --calls C [--warmup W] \
                     [--max-seconds S] [--writer thread|inline] -- SERVER-COMMAND [ARGS...]";

impl Options {
    /// Parses the process's arguments.
    fn parse() -> Result<Self, String> {
        let mut args = std::env::args_os().skip(1);
        let mut options = Self {
            label: String::from("server"),
            in_flight: 1,
            calls: 20_000,
            warmup: 2_000,
            max_seconds: 10.0,
            writer: WriterMode::Thread,
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
            let bad = |e: &dyn std::fmt::Display| format!("bad value {value:?} for {flag}: {e}");
            match flag.as_str() {
                "--label" => options.label.clone_from(&value),
                "--in-flight" => options.in_flight = value.parse().map_err(|e| bad(&e))?,
                "--calls" => options.calls = value.parse().map_err(|e| bad(&e))?,
                "--warmup" => options.warmup = value.parse().map_err(|e| bad(&e))?,
                "--max-seconds" => options.max_seconds = value.parse().map_err(|e| bad(&e))?,
                "--writer" => {
                    options.writer = match value.as_str() {
                        "thread" => WriterMode::Thread,
                        "inline" => WriterMode::Inline,
                        _ => return Err(bad(&"expected thread or inline")),
                    }
                }
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        if options.command.is_empty() {
            return Err(format!("no server command\n{USAGE}"));
        }
        if options.in_flight == 0 || options.calls == 0 {
            return Err(format!("--in-flight and --calls must be positive\n{USAGE}"));
        }
        if options.max_seconds.is_nan() || options.max_seconds <= 0.0 {
            return Err(format!("--max-seconds must be positive\n{USAGE}"));
        }
        Ok(options)
    }
}

/// One run's result: the JSON line printed.
#[derive(Debug, Serialize)]
struct Report {
    /// The run's label.
    server: String,
    /// Calls kept in flight.
    in_flight: u64,
    /// Calls measured.
    calls: u64,
    /// Length of the measured window, in seconds.
    seconds: f64,
    /// Measured calls per second.
    calls_per_s: f64,
    /// Median latency, µs.
    p50_us: f64,
    /// 90th percentile latency, µs.
    p90_us: f64,
    /// 99th percentile latency, µs.
    p99_us: f64,
    /// Worst latency, µs.
    max_us: f64,
    /// The server's peak resident set (`VmHWM`), MiB.
    peak_rss_mib: f64,
    /// Server CPU time (user + system) per measured call, µs (clock-tick resolution).
    server_cpu_us_per_call: f64,
    /// Load generator CPU time per measured call, µs (clock-tick resolution).
    load_cpu_us_per_call: f64,
    /// CPU time used by every other process during the measured window, as a percentage of the
    /// machine's capacity (all CPUs): above a few percent the run was disturbed.
    other_cpu_pct: f64,
    /// From spawning the server to the `initialize` answer, ms.
    startup_ms: f64,
    /// Bytes of one request line (with the newline), for the largest id sent.
    request_bytes: usize,
    /// Who wrote the requests: `thread` or `inline`.
    writer: &'static str,
}

/// An answer, read just far enough to match it to its request.
#[derive(Deserialize)]
struct Answer<'a> {
    /// The id; absent on notifications.
    #[serde(default)]
    id: Option<u64>,
    /// The result, if it succeeded.
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    /// The error, if it failed.
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// State shared by the reader and the writer.
#[derive(Debug)]
struct Shared {
    /// The clock's origin.
    base: Instant,
    /// Send time of call `FIRST_ID + i`, in ns since `base`.
    sent_ns: Vec<AtomicU64>,
    /// Calls the reader has allowed so far (the writer sends up to this many).
    granted: AtomicU64,
    /// Set by the reader when no more calls will be granted.
    closed: AtomicBool,
}

impl Shared {
    /// Nanoseconds since `base`.
    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Writes requests for calls `from..to` (call indexes, not ids) in one `write`, timestamping
/// them just before it.
fn send_calls(
    stdin: &mut ChildStdin,
    shared: &Shared,
    buf: &mut Vec<u8>,
    from: u64,
    to: u64,
) -> std::io::Result<()> {
    buf.clear();
    for index in from..to {
        push_request(buf, FIRST_ID + index);
    }
    let now = shared.now_ns();
    for index in from..to {
        if let Some(slot) = usize::try_from(index)
            .ok()
            .and_then(|i| shared.sent_ns.get(i))
        {
            slot.store(now, Ordering::Release);
        }
    }
    stdin.write_all(buf)
}

/// Appends the `echo` request with `id` to `buf`.
fn push_request(buf: &mut Vec<u8>, id: u64) {
    buf.extend_from_slice(REQUEST_HEAD);
    buf.extend_from_slice(id.to_string().as_bytes());
    buf.extend_from_slice(REQUEST_TAIL.as_bytes());
}

/// The dedicated writer: sends what the reader grants until it closes.
fn writer_loop(mut stdin: ChildStdin, shared: &Shared) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut written = 0;
    loop {
        let granted = shared.granted.load(Ordering::Acquire);
        if granted > written {
            send_calls(&mut stdin, shared, &mut buf, written, granted)?;
            written = granted;
        } else if shared.closed.load(Ordering::Acquire) {
            return Ok(());
        } else {
            thread::park();
        }
    }
}

/// What the reader measured.
#[derive(Debug)]
struct Measured {
    /// Latencies of the measured calls, ns, in arrival order.
    latencies_ns: Vec<u64>,
    /// The measured window.
    window: Duration,
    /// Server CPU ticks over the window.
    server_ticks: u64,
    /// Load generator CPU ticks over the window.
    load_ticks: u64,
    /// The whole machine's busy and total CPU ticks over the window.
    machine_ticks: MachineTicks,
    /// The largest id sent.
    last_id: u64,
    /// The server's peak resident set, KiB, read before its input was closed.
    peak_rss_kib: u64,
}

/// Where the reader sends its grants.
enum Sink {
    /// To the dedicated writer thread.
    Thread(Thread),
    /// Written by the reader itself.
    Inline(ChildStdin, Vec<u8>),
}

/// The reader: reads answers, records latencies, grants calls; returns what it measured.
fn reader_loop(
    mut stdout: BufReader<ChildStdout>,
    shared: &Shared,
    mut sink: Sink,
    options: &Options,
    server_pid: u32,
) -> Result<Measured, String> {
    let total = options.warmup + options.calls;
    let mut line = Vec::with_capacity(4096);
    let mut latencies_ns = Vec::with_capacity(usize::try_from(options.calls).unwrap_or(0));
    let mut received: u64 = 0;
    // Calls granted, and how many of them the writer has been told about.
    let mut granted = options.in_flight.min(total);
    let mut published = 0;
    let mut stop_granting = false;
    let server_stat = format!("/proc/{server_pid}/stat");
    let window_mark = || -> Result<(Instant, u64, u64, MachineTicks), String> {
        Ok((
            Instant::now(),
            cpu_ticks(&server_stat)?,
            cpu_ticks("/proc/self/stat")?,
            machine_ticks()?,
        ))
    };
    let mut window_start = if options.warmup == 0 {
        Some(window_mark()?)
    } else {
        None
    };
    let warmup_deadline = Instant::now() + Duration::from_secs_f64(options.max_seconds);
    let mut window_end = None;

    let publish = |sink: &mut Sink, published: &mut u64, granted: u64| -> Result<(), String> {
        if granted > *published {
            match sink {
                Sink::Thread(writer) => {
                    shared.granted.store(granted, Ordering::Release);
                    writer.unpark();
                }
                Sink::Inline(stdin, buf) => {
                    send_calls(stdin, shared, buf, *published, granted)
                        .map_err(|e| format!("writing to the server failed: {e}"))?;
                }
            }
            *published = granted;
        }
        Ok(())
    };
    publish(&mut sink, &mut published, granted)?;

    while received < granted {
        line.clear();
        let n = stdout
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("reading from the server failed: {e}"))?;
        if n == 0 {
            return Err(format!(
                "the server closed its output after {received} of {granted} answers"
            ));
        }
        let now = shared.now_ns();
        let answer: Answer<'_> = serde_json::from_slice(&line).map_err(|e| {
            format!(
                "unparsable line from the server ({e}): {}",
                String::from_utf8_lossy(&line)
            )
        })?;
        let Some(id) = answer.id else {
            continue; // a notification
        };
        if answer.error.is_some() || answer.result.is_none() {
            return Err(format!(
                "call {id} failed: {}",
                String::from_utf8_lossy(&line)
            ));
        }
        let sent = id
            .checked_sub(FIRST_ID)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| shared.sent_ns.get(i))
            .ok_or_else(|| format!("answer with an unexpected id {id}"))?
            .load(Ordering::Acquire);
        received += 1;
        if received == options.warmup {
            window_start = Some(window_mark()?);
        } else if received > options.warmup {
            latencies_ns.push(now.saturating_sub(sent));
        }
        if !stop_granting {
            let out_of_time = match window_start {
                Some((start, ..)) => start.elapsed().as_secs_f64() >= options.max_seconds,
                None => Instant::now() >= warmup_deadline,
            };
            if out_of_time {
                stop_granting = true;
            } else if granted < total {
                granted += 1;
            }
        }
        if received == granted {
            window_end = Some(Instant::now());
        }
        if stdout.buffer().is_empty() {
            publish(&mut sink, &mut published, granted)?;
        }
    }
    // Read what needs the server alive before its input is closed (which ends it).
    let server_end = cpu_ticks(&server_stat);
    let load_end = cpu_ticks("/proc/self/stat");
    let machine_end = machine_ticks();
    let peak_rss_kib = peak_rss_kib(server_pid);
    shared.closed.store(true, Ordering::Release);
    match sink {
        Sink::Thread(writer) => writer.unpark(),
        Sink::Inline(stdin, _) => drop(stdin),
    }
    let (server_end, load_end, machine_end, peak_rss_kib) =
        (server_end?, load_end?, machine_end?, peak_rss_kib?);
    let (start, server_start, load_start, machine_start) = window_start.ok_or_else(|| {
        format!(
            "the warm-up ({} calls) did not finish within {} s",
            options.warmup, options.max_seconds
        )
    })?;
    let end = window_end.unwrap_or_else(Instant::now);
    Ok(Measured {
        latencies_ns,
        window: end.duration_since(start),
        server_ticks: server_end.saturating_sub(server_start),
        load_ticks: load_end.saturating_sub(load_start),
        machine_ticks: MachineTicks {
            busy: machine_end.busy.saturating_sub(machine_start.busy),
            total: machine_end.total.saturating_sub(machine_start.total),
        },
        last_id: FIRST_ID + granted.saturating_sub(1),
        peak_rss_kib,
    })
}

/// User + system CPU time of a process, in clock ticks, from its `/proc/<pid>/stat`.
fn cpu_ticks(path: &str) -> Result<u64, String> {
    let stat = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
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

/// Busy and total CPU ticks of the whole machine (all CPUs), from `/proc/stat`.
#[derive(Debug, Clone, Copy)]
struct MachineTicks {
    /// Ticks not idle (user, nice, system, irq, softirq, steal).
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

/// The `VmHWM` (peak resident set) of process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in {path}"))
}

/// Reads lines until the answer with `id`; fails on an error answer or end of output.
fn await_answer(stdout: &mut BufReader<ChildStdout>, id: u64) -> Result<serde_json::Value, String> {
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading from the server failed: {e}"))?;
        if n == 0 {
            return Err(format!(
                "the server closed its output before answering request {id}"
            ));
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("unparsable line from the server ({e}): {line}"))?;
        if value.get("id").and_then(serde_json::Value::as_u64) != Some(id) {
            continue;
        }
        return match value.get("result") {
            Some(result) => Ok(result.clone()),
            None => Err(format!("request {id} failed: {}", line.trim_end())),
        };
    }
}

/// `initialize`, `notifications/initialized`, and one checked `echo` call.
fn handshake(
    stdin: &mut ChildStdin,
    stdout: &mut BufReader<ChildStdout>,
) -> Result<Duration, String> {
    let started = Instant::now();
    let initialize = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bench-load", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let write = |stdin: &mut ChildStdin, value: &serde_json::Value| {
        let mut bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        stdin
            .write_all(&bytes)
            .map_err(|e| format!("writing to the server failed: {e}"))
    };
    write(stdin, &initialize)?;
    let result = await_answer(stdout, 0)?;
    let startup = started.elapsed();
    if let Some(version) = result.get("protocolVersion").and_then(|v| v.as_str())
        && version != PROTOCOL_VERSION
    {
        return Err(format!(
            "the server answered protocol version {version}, not {PROTOCOL_VERSION}"
        ));
    }
    write(
        stdin,
        &serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )?;

    let mut check = Vec::new();
    push_request(&mut check, 1);
    stdin
        .write_all(&check)
        .map_err(|e| format!("writing to the server failed: {e}"))?;
    let result = await_answer(stdout, 1)?;
    let text = result
        .pointer("/content/0/text")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    if text != TEXT || result.get("isError") == Some(&serde_json::Value::Bool(true)) {
        return Err(format!("`echo` answered {result}, not the text sent"));
    }
    Ok(startup)
}

/// The `p`-quantile (0..=1) of sorted values, in µs.
fn quantile_us(sorted_ns: &[u64], p: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let last = sorted_ns.len() - 1;
    // Nearest rank: the smallest value with at least p of the values at or below it.
    let rank = (p * sorted_ns.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(last);
    sorted_ns[index] as f64 / 1000.0
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// Runs one benchmark against a freshly spawned server.
fn run(options: &Options) -> Result<Report, String> {
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
    let result = drive(options, &mut child);
    // Closing stdin (done by `drive`) ends the server; make sure it is gone either way.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    result
}

/// The handshake and the measured load, against `child`.
fn drive(options: &Options, child: &mut Child) -> Result<Report, String> {
    let pid = child.id();
    let mut stdin = child.stdin.take().ok_or("no stdin pipe")?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stdout = BufReader::with_capacity(64 * 1024, stdout);
    let startup = handshake(&mut stdin, &mut stdout)?;

    let total = options.warmup + options.calls;
    let shared = Arc::new(Shared {
        base: Instant::now(),
        sent_ns: (0..total).map(|_| AtomicU64::new(0)).collect(),
        granted: AtomicU64::new(0),
        closed: AtomicBool::new(false),
    });
    let (sink, writer) = match options.writer {
        WriterMode::Thread => {
            let shared = shared.clone();
            let writer = thread::Builder::new()
                .name("writer".into())
                .spawn(move || writer_loop(stdin, &shared))
                .map_err(|e| format!("could not start the writer thread: {e}"))?;
            (Sink::Thread(writer.thread().clone()), Some(writer))
        }
        WriterMode::Inline => (Sink::Inline(stdin, Vec::with_capacity(64 * 1024)), None),
    };
    let reader = {
        let shared = shared.clone();
        let options = options.clone();
        thread::Builder::new()
            .name("reader".into())
            .spawn(move || reader_loop(stdout, &shared, sink, &options, pid))
            .map_err(|e| format!("could not start the reader thread: {e}"))?
    };
    // A server that stops answering must not hang the benchmark: kill it, which ends the reader.
    let deadline = Instant::now() + Duration::from_secs_f64(options.max_seconds.mul_add(3.0, 30.0));
    while !reader.is_finished() {
        if Instant::now() > deadline {
            eprintln!("bench-load: the server stopped answering; killing it");
            let _ = child.kill();
            break;
        }
        thread::sleep(WATCH_INTERVAL);
    }
    let measured = reader
        .join()
        .map_err(|_| String::from("the reader thread panicked"))??;
    if let Some(writer) = writer {
        writer
            .join()
            .map_err(|_| String::from("the writer thread panicked"))?
            .map_err(|e| format!("writing to the server failed: {e}"))?;
    }

    let mut latencies = measured.latencies_ns;
    latencies.sort_unstable();
    let calls = latencies.len() as u64;
    let seconds = measured.window.as_secs_f64();
    let per_call_us = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / calls.max(1) as f64;
    let mut request = Vec::new();
    push_request(&mut request, measured.last_id);
    Ok(Report {
        server: options.label.clone(),
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
        peak_rss_mib: measured.peak_rss_kib as f64 / 1024.0,
        server_cpu_us_per_call: per_call_us(measured.server_ticks),
        load_cpu_us_per_call: per_call_us(measured.load_ticks),
        other_cpu_pct: {
            let ours = measured.server_ticks + measured.load_ticks;
            let other = measured.machine_ticks.busy.saturating_sub(ours);
            100.0 * other as f64 / measured.machine_ticks.total.max(1) as f64
        },
        startup_ms: startup.as_secs_f64() * 1000.0,
        request_bytes: request.len(),
        writer: match options.writer {
            WriterMode::Thread => "thread",
            WriterMode::Inline => "inline",
        },
    })
}

fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench-load: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bench-load: {e}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("bench-load ({}): {message}", options.label);
            ExitCode::FAILURE
        }
    }
}
