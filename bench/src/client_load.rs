//! The client benchmark's load loop and measurements.
//!
//! A binary connects its client to the server command (spawned as its child), makes one checked
//! `echo` call, then hands [`drive`] a closure that makes one `tools/call echo` through the client.
//! [`drive`] runs `--in-flight` worker tasks, each making calls back to back, so exactly N calls
//! are in flight: the first `--warmup` answers are not measured; after them it measures
//! `--calls` more, or as many as fit in `--max-seconds`. CPU time comes from
//! `/proc/<pid>/stat` (user + system, every thread, clock-tick resolution) for this process and
//! for the server, read at the start and the end of the measured window, while the server runs.
//!
//! ```text
//! bench-client-{ours,rmcp} [--label NAME] [--in-flight N] [--calls C] [--warmup W]
//!     [--max-seconds S] [--era legacy|modern] [--runtime current|multi] -- SERVER-COMMAND [ARGS...]
//! ```

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

/// The text every `echo` call sends and gets back: the same as `bench-load`'s.
pub const TEXT: &str = "The quick brown fox jumps over the lazy dog; pack my box with five \
                        dozen liquor jugs. Sphinx of black quartz!";

/// The protocol version of the legacy handshake both clients ask for.
pub const LEGACY_VERSION: &str = "2025-11-25";

/// Usage, printed on bad arguments.
pub const USAGE: &str = "usage: bench-client-{ours,rmcp} [--label NAME] [--in-flight N] \
                         [--calls C] [--warmup W] [--max-seconds S] [--era legacy|modern] \
                         [--runtime current|multi] -- SERVER-COMMAND [ARGS...]";

/// Which era the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize` with 2025-11-25, then plain requests.
    Legacy,
    /// `server/discover` with 2026-07-28, then requests that each carry `_meta`.
    Modern,
}

impl Era {
    /// The name on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Modern => "modern",
        }
    }
}

/// Which tokio runtime the client runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// A current-thread runtime (the default).
    Current,
    /// A multi-thread runtime, one worker per core.
    Multi,
}

impl Runtime {
    /// The name on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Multi => "multi",
        }
    }

    /// Builds the runtime.
    pub fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Self::Current => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            Self::Multi => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build(),
        }
    }
}

/// The command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Name of the run, copied to the output.
    pub label: String,
    /// Calls kept in flight.
    pub in_flight: u64,
    /// Calls measured (after the warm-up), at most.
    pub calls: u64,
    /// Calls answered before measuring starts.
    pub warmup: u64,
    /// Time limit of the warm-up, and of the measured window, in seconds.
    pub max_seconds: f64,
    /// The era the client speaks.
    pub era: Era,
    /// The runtime the client runs on.
    pub runtime: Runtime,
    /// The server command and its arguments.
    pub command: Vec<String>,
}

impl Options {
    /// Parses arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter();
        let mut options = Self {
            label: String::from("client"),
            in_flight: 1,
            calls: 20_000,
            warmup: 2_000,
            max_seconds: 10.0,
            era: Era::Legacy,
            runtime: Runtime::Current,
            command: Vec::new(),
        };
        while let Some(flag) = args.next() {
            if flag == "--" {
                options.command = args.collect();
                break;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let bad = |e: &dyn std::fmt::Display| format!("bad value {value:?} for {flag}: {e}");
            match flag.as_str() {
                "--label" => options.label.clone_from(&value),
                "--in-flight" => options.in_flight = value.parse().map_err(|e| bad(&e))?,
                "--calls" => options.calls = value.parse().map_err(|e| bad(&e))?,
                "--warmup" => options.warmup = value.parse().map_err(|e| bad(&e))?,
                "--max-seconds" => options.max_seconds = value.parse().map_err(|e| bad(&e))?,
                "--era" => {
                    options.era = match value.as_str() {
                        "legacy" => Era::Legacy,
                        "modern" => Era::Modern,
                        _ => return Err(bad(&"expected legacy or modern")),
                    }
                }
                "--runtime" => {
                    options.runtime = match value.as_str() {
                        "current" => Runtime::Current,
                        "multi" => Runtime::Multi,
                        _ => return Err(bad(&"expected current or multi")),
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

    /// The server program and its arguments.
    pub fn server(&self) -> (&str, &[String]) {
        match self.command.split_first() {
            Some((program, args)) => (program, args),
            None => ("", &[]),
        }
    }
}

/// The arguments of every `echo` call: `{"text": TEXT}`.
pub fn echo_arguments() -> Map<String, Value> {
    let mut arguments = Map::new();
    arguments.insert("text".into(), Value::String(TEXT.into()));
    arguments
}

/// Checks a `tools/call echo` result (serialized to JSON): not an error, and the text sent back.
pub fn check_echo(result: &Value) -> Result<(), String> {
    let text = result.pointer("/content/0/text").and_then(Value::as_str);
    if text != Some(TEXT) || result.get("isError") == Some(&Value::Bool(true)) {
        return Err(format!("`echo` answered {result}, not the text sent"));
    }
    Ok(())
}

/// The id of this process's only child (the server), found by scanning `/proc` for processes
/// whose parent is this one (`/proc/<pid>/task/<tid>/children` is not always available).
pub fn child_pid() -> Result<u32, String> {
    let me = std::process::id();
    let mut children = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|e| format!("reading /proc: {e}"))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // The process may have gone since the listing: skip it.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name: state, then the parent's id.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(me) {
            children.push(pid);
        }
    }
    match children[..] {
        [pid] => Ok(pid),
        [] => Err("the server process was not found".into()),
        _ => Err(format!("several child processes: {children:?}")),
    }
}

/// User + system CPU time of a process (every thread, living or gone), in clock ticks, from
/// `/proc/<pid>/stat`.
pub fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
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
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineTicks {
    /// Ticks not idle (user, nice, system, irq, softirq, steal).
    pub busy: u64,
    /// All ticks.
    pub total: u64,
}

impl MachineTicks {
    /// The machine's CPU ticks so far.
    pub fn now() -> Result<Self, String> {
        let stat = std::fs::read_to_string("/proc/stat")
            .map_err(|e| format!("reading /proc/stat: {e}"))?;
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
        Ok(Self {
            busy,
            total: busy + idle + iowait,
        })
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// One end of the measured window.
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// When.
    at: Instant,
    /// This process's CPU ticks.
    client: u64,
    /// The server's CPU ticks.
    server: u64,
    /// The machine's ticks.
    machine: MachineTicks,
}

impl Mark {
    /// Reads the clocks now.
    fn now(server_pid: u32) -> Result<Self, String> {
        Ok(Self {
            at: Instant::now(),
            client: cpu_ticks(std::process::id())?,
            server: cpu_ticks(server_pid)?,
            machine: MachineTicks::now()?,
        })
    }
}

/// What [`drive`] measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Latencies of the measured calls, ns, in no particular order.
    pub latencies_ns: Vec<u64>,
    /// The measured window: from the last warm-up answer to the last answer.
    pub window: Duration,
    /// This process's CPU ticks over the window.
    pub client_ticks: u64,
    /// The server's CPU ticks over the window.
    pub server_ticks: u64,
    /// The machine's busy and total ticks over the window.
    pub machine: MachineTicks,
}

/// State the workers share.
#[derive(Debug)]
struct Shared {
    /// Calls claimed so far (a worker claims one before making it).
    claimed: AtomicU64,
    /// Calls answered so far.
    answered: AtomicU64,
    /// Set when no more calls are to be made (time is up, or a call failed).
    stop: AtomicBool,
    /// The start of the measured window, set by the worker that got the last warm-up answer.
    start: OnceLock<Mark>,
    /// Set if reading the start mark failed.
    start_error: OnceLock<String>,
}

/// What one worker returns: its measured latencies and the time of its last measured answer.
type WorkerResult = Result<(Vec<u64>, Option<Instant>), String>;

/// Keeps `options.in_flight` calls in flight, each made by `call`, and measures them.
///
/// `call` makes one `tools/call echo` through the client under test and fails on anything but
/// a successful result. The server must stay alive until this returns.
pub async fn drive<F, Fut>(options: &Options, server_pid: u32, call: F) -> Result<Measured, String>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let total = options.warmup + options.calls;
    let limit = Duration::from_secs_f64(options.max_seconds);
    let warmup_deadline = Instant::now() + limit;
    let shared = Arc::new(Shared {
        claimed: AtomicU64::new(0),
        answered: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        start: OnceLock::new(),
        start_error: OnceLock::new(),
    });
    if options.warmup == 0 {
        let _ = shared.start.set(Mark::now(server_pid)?);
    }
    let call = Arc::new(call);
    let warmup = options.warmup;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..options.in_flight.min(total) {
        let shared = shared.clone();
        let call = call.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut last = None;
            while !shared.stop.load(Ordering::Relaxed)
                && shared.claimed.fetch_add(1, Ordering::Relaxed) < total
            {
                let sent = Instant::now();
                let answer = call().await;
                let now = Instant::now();
                if let Err(message) = answer {
                    shared.stop.store(true, Ordering::Relaxed);
                    return Err(message);
                }
                let answered = shared.answered.fetch_add(1, Ordering::Relaxed) + 1;
                if answered == warmup {
                    match Mark::now(server_pid) {
                        Ok(mark) => {
                            let _ = shared.start.set(mark);
                        }
                        Err(message) => {
                            let _ = shared.start_error.set(message);
                            shared.stop.store(true, Ordering::Relaxed);
                        }
                    }
                } else if answered > warmup {
                    latencies.push(u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX));
                    last = Some(now);
                }
                let out_of_time = match shared.start.get() {
                    Some(start) => now.duration_since(start.at) >= limit,
                    None => now >= warmup_deadline,
                };
                if out_of_time {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
            WorkerResult::Ok((latencies, last))
        });
    }
    let mut latencies_ns = Vec::with_capacity(usize::try_from(options.calls).unwrap_or(0));
    let mut last: Option<Instant> = None;
    let mut failure = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok((mut latencies, worker_last))) => {
                latencies_ns.append(&mut latencies);
                last = last.max(worker_last);
            }
            Ok(Err(message)) => failure = failure.or(Some(message)),
            Err(e) => failure = failure.or(Some(format!("a worker panicked: {e}"))),
        }
    }
    // Read the end before the server's input is closed (which ends it).
    let end = Mark::now(server_pid)?;
    if let Some(message) = failure.or_else(|| shared.start_error.get().cloned()) {
        return Err(message);
    }
    let start = shared.start.get().ok_or_else(|| {
        format!(
            "the warm-up ({} calls) did not finish within {} s",
            options.warmup, options.max_seconds
        )
    })?;
    let window_end = last.unwrap_or(end.at).max(start.at);
    Ok(Measured {
        latencies_ns,
        window: window_end.duration_since(start.at),
        client_ticks: end.client.saturating_sub(start.client),
        server_ticks: end.server.saturating_sub(start.server),
        machine: MachineTicks {
            busy: end.machine.busy.saturating_sub(start.machine.busy),
            total: end.machine.total.saturating_sub(start.machine.total),
        },
    })
}

/// One run's result: the JSON line printed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The run's label.
    pub label: String,
    /// The client under test: `ours` or `rmcp`.
    pub client: &'static str,
    /// The era spoken.
    pub era: &'static str,
    /// The client's runtime.
    pub runtime: &'static str,
    /// Calls kept in flight.
    pub in_flight: u64,
    /// Calls measured.
    pub calls: u64,
    /// Length of the measured window, in seconds.
    pub seconds: f64,
    /// Measured calls per second.
    pub calls_per_s: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 90th percentile latency, µs.
    pub p90_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// Worst latency, µs.
    pub max_us: f64,
    /// This process's CPU time (user + system) per 1,000 measured calls, ms.
    pub client_cpu_ms_per_1k: f64,
    /// The server's CPU time (user + system) per 1,000 measured calls, ms.
    pub server_cpu_ms_per_1k: f64,
    /// CPU time used by every other process during the measured window, as a percentage of the
    /// machine's capacity (all CPUs): above a few percent the run was disturbed.
    pub other_cpu_pct: f64,
    /// From spawning the server to the end of the handshake, ms.
    pub startup_ms: f64,
}

impl Report {
    /// The report of a run.
    pub fn new(
        options: &Options,
        client: &'static str,
        measured: Measured,
        startup: Duration,
    ) -> Self {
        let mut latencies = measured.latencies_ns;
        latencies.sort_unstable();
        let calls = latencies.len() as u64;
        let seconds = measured.window.as_secs_f64();
        let per_1k_ms =
            |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e3 * 1e3 / calls.max(1) as f64;
        let ours = measured.client_ticks + measured.server_ticks;
        let other = measured.machine.busy.saturating_sub(ours);
        Self {
            label: options.label.clone(),
            client,
            era: options.era.name(),
            runtime: options.runtime.name(),
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
            client_cpu_ms_per_1k: per_1k_ms(measured.client_ticks),
            server_cpu_ms_per_1k: per_1k_ms(measured.server_ticks),
            other_cpu_pct: 100.0 * other as f64 / measured.machine.total.max(1) as f64,
            startup_ms: startup.as_secs_f64() * 1000.0,
        }
    }
}

/// The `p`-quantile (0..=1) of sorted values in ns, in µs (nearest rank).
pub fn quantile_us(sorted_ns: &[u64], p: f64) -> f64 {
    let Some(last) = sorted_ns.len().checked_sub(1) else {
        return 0.0;
    };
    // Nearest rank: the smallest value with at least p of the values at or below it.
    let rank = (p * sorted_ns.len() as f64).ceil() as usize;
    sorted_ns[rank.saturating_sub(1).min(last)] as f64 / 1000.0
}

/// A binary's `main`: parses the command line, runs `run` on the chosen runtime, prints the
/// report as one JSON line. `name` prefixes error messages.
pub fn main<F, Fut>(name: &str, run: F) -> ExitCode
where
    F: FnOnce(Options) -> Fut,
    Fut: Future<Output = Result<Report, String>>,
{
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{name}: {message}");
            return ExitCode::from(2);
        }
    };
    let label = options.label.clone();
    let result = options
        .runtime
        .build()
        .map_err(|e| format!("could not build the runtime: {e}"))
        .and_then(|runtime| runtime.block_on(run(options)));
    match result.and_then(|report| serde_json::to_string(&report).map_err(|e| e.to_string())) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{name} ({label}): {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_command_line() {
        let options = Options::parse(args(&[
            "--label",
            "x",
            "--in-flight",
            "16",
            "--era",
            "modern",
            "--runtime",
            "multi",
            "--",
            "server",
            "--flag",
        ]))
        .expect("valid");
        assert_eq!(options.in_flight, 16);
        assert_eq!(options.era, Era::Modern);
        assert_eq!(options.runtime, Runtime::Multi);
        assert_eq!(options.server(), ("server", &args(&["--flag"])[..]));
        assert!(Options::parse(args(&["--in-flight", "0", "--", "s"])).is_err());
        assert!(Options::parse(args(&["--era", "old", "--", "s"])).is_err());
        assert!(Options::parse(args(&["--calls", "5"])).is_err());
    }

    #[test]
    fn checks_the_echo() {
        let good = serde_json::json!({"content": [{"type": "text", "text": TEXT}]});
        assert!(check_echo(&good).is_ok());
        let failed =
            serde_json::json!({"content": [{"type": "text", "text": TEXT}], "isError": true});
        assert!(check_echo(&failed).is_err());
        assert!(check_echo(&serde_json::json!({"content": []})).is_err());
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert!((quantile_us(&sorted, 0.5) - 50.0).abs() < 1e-9);
        assert!((quantile_us(&sorted, 0.99) - 99.0).abs() < 1e-9);
        assert!(quantile_us(&[], 0.5).abs() < 1e-9);
    }

    #[test]
    fn reads_this_process_cpu() {
        assert!(cpu_ticks(std::process::id()).is_ok());
        assert!(MachineTicks::now().is_ok_and(|t| t.total >= t.busy));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drive_keeps_calls_in_flight_and_counts_them() {
        let me = std::process::id();
        let options = Options {
            in_flight: 4,
            calls: 200,
            warmup: 20,
            ..Options::parse(args(&["--", "unused"])).expect("valid")
        };
        let in_flight = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let (counter, peak) = (in_flight.clone(), most.clone());
        let measured = drive(&options, me, move || {
            let (counter, peak) = (counter.clone(), peak.clone());
            async move {
                let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                counter.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .await
        .expect("runs");
        assert_eq!(measured.latencies_ns.len(), 200);
        assert_eq!(most.load(Ordering::SeqCst), 4);
        let failing = drive(&options, me, || async { Err::<(), _>("no".to_owned()) }).await;
        assert_eq!(failing.err().as_deref(), Some("no"));
    }
}
