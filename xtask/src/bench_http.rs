//! `cargo xtask bench http`: the HTTP benchmark of the `mcp-bench` crate.
//!
//! Our Streamable HTTP server (`bench-http-ours`) against rmcp 3.11's (`bench-http-rmcp`),
//! beside a bare hyper JSON echo (`bench-http-ceiling`), and our server again with the whole
//! middleware stack (`ours-prod`) and with JWT authentication (`ours-jwt`), reported as ratios
//! to the bare one; all driven by the same load generator
//! (`bench-http-load`) at 1, 16 and 64 calls in flight, in the 2026-07-28 (modern) and the
//! 2025-11-25 (legacy, session) eras; then the memory each idle legacy session costs with
//! 10,000 open. Runs are interleaved, each attempt waits for a quiet machine, each figure's
//! median over the runs is kept, and every run's JSON line is appended to `target/bench/http.jsonl`. See
//! `docs/benchmarks.md`.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::process::{cargo, display, repo_root, run_ok};

/// Usage of `cargo xtask bench http`, for the `bench` usage text.
pub(crate) const USAGE: &str =
    "  http      The HTTP benchmark (bench/): our Streamable HTTP server (bare, with the
            whole middleware stack, with JWT auth), rmcp 3.x's and a bare hyper JSON echo
            (the ceiling), modern and legacy era, at 1, 16 and 64 calls in flight; then
            memory per idle legacy session with 10,000 open.
            --runs N                 runs per case, the median is kept (default 3)
            --mode modern|legacy|both
                                     which era's table(s) to run (default both)
            --quick                  one run per case, fewer calls (a smoke test)
";

/// The protocol era of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 2026-07-28: no session, `_meta` and headers on every POST.
    Modern,
    /// 2025-11-25: a session opened by `initialize`.
    Legacy,
}

impl Mode {
    /// The value of `bench-http-load --mode`.
    fn flag(self) -> &'static str {
        match self {
            Self::Modern => "modern",
            Self::Legacy => "legacy",
        }
    }

    /// The table's title.
    fn title(self) -> &'static str {
        match self {
            Self::Modern => "2026-07-28 (stateless POSTs, _meta and Mcp-* headers)",
            Self::Legacy => "2025-11-25 (one session, Mcp-Session-Id on every POST)",
        }
    }
}

/// Options of `cargo xtask bench http`.
#[derive(Debug, Clone, PartialEq)]
struct HttpOptions {
    /// Runs per case; the median is reported.
    runs: usize,
    /// The eras to run, one table each.
    modes: Vec<Mode>,
    /// Fewer calls, for a smoke test.
    quick: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            runs: 3,
            modes: vec![Mode::Modern, Mode::Legacy],
            quick: false,
        }
    }
}

impl HttpOptions {
    /// Parses the arguments after `http`.
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut runs = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--runs" => {
                    let value = args.next().ok_or("--runs needs a value")?;
                    let n: usize = value
                        .parse()
                        .map_err(|e| format!("bad --runs {value:?}: {e}"))?;
                    if n == 0 || n > 50 {
                        return Err("--runs must be between 1 and 50".into());
                    }
                    runs = Some(n);
                }
                "--mode" => {
                    let value = args.next().ok_or("--mode needs a value")?;
                    options.modes = match value.as_str() {
                        "modern" => vec![Mode::Modern],
                        "legacy" => vec![Mode::Legacy],
                        "both" => vec![Mode::Modern, Mode::Legacy],
                        _ => return Err(format!("bad --mode {value:?}")),
                    };
                }
                other => return Err(format!("unknown option {other:?} for `bench http`")),
            }
        }
        options.runs = runs.unwrap_or(if options.quick { 1 } else { 3 });
        Ok(options)
    }
}

/// A row of the table: a server binary and its arguments.
#[derive(Debug, Clone, Copy)]
struct ServerSpec {
    /// The row's name.
    label: &'static str,
    /// The `mcp-bench` binary.
    binary: &'static str,
    /// Its arguments.
    args: &'static [&'static str],
    /// The eras it runs in.
    modes: &'static [Mode],
    /// What the row is, for the legend.
    about: &'static str,
}

/// Label of the row every "x rmcp" ratio divides by.
const RMCP: &str = "rmcp";

/// Label of the row every "% of ceiling" divides by.
const CEILING: &str = "ceiling";

/// Label of our server's row.
const OURS: &str = "ours";

/// Label of our server with the whole middleware stack.
const OURS_PRODUCTION: &str = "ours-prod";

/// Label of our server with JWT authentication.
const OURS_JWT: &str = "ours-jwt";

/// The rows, in table order.
const SERVERS: &[ServerSpec] = &[
    ServerSpec {
        label: OURS,
        binary: "bench-http-ours",
        args: &[],
        modes: &[Mode::Modern, Mode::Legacy],
        about: "mcp_server::Server::serve_http, both eras on /mcp, current-thread tokio runtime",
    },
    ServerSpec {
        label: OURS_PRODUCTION,
        binary: "bench-http-ours",
        args: &["--stack", "production"],
        modes: &[Mode::Modern, Mode::Legacy],
        about: "ours behind the whole middleware stack (ProductionLayer, every layer on: trace, \
                metrics, auth, rate limit, permissions, cache, concurrency limit, breaker, timeout)",
    },
    ServerSpec {
        label: OURS_JWT,
        binary: "bench-http-ours",
        args: &["--auth", "jwt"],
        modes: &[Mode::Modern, Mode::Legacy],
        about: "ours with every request authenticated by a JWT (RS256, key configured in-process, \
                verified tokens cached; HttpOptions::auth)",
    },
    ServerSpec {
        label: RMCP,
        binary: "bench-http-rmcp",
        args: &[],
        modes: &[Mode::Modern, Mode::Legacy],
        about: "rmcp 3.11 StreamableHttpService (defaults: sessions, SSE answers) in axum, \
                multi-thread runtime",
    },
    ServerSpec {
        label: "rmcp-json",
        binary: "bench-http-rmcp",
        args: &["--json-response"],
        modes: &[Mode::Modern],
        about: "the same with json_response: JSON answers to 2026-07-28 requests (reference)",
    },
    ServerSpec {
        label: CEILING,
        binary: "bench-http-ceiling",
        args: &[],
        modes: &[Mode::Modern, Mode::Legacy],
        about: "bare hyper 1 HTTP/1.1 + serde_json echo, current-thread runtime: the ceiling",
    },
];

/// The servers whose idle sessions are measured.
const SESSION_SERVERS: &[&str] = &[OURS, RMCP];

/// Sessions open in the idle-session measurement.
const IDLE_SESSIONS: u32 = 10_000;

/// The issue's goal for memory per idle session, KiB.
const SESSION_GOAL_KIB: f64 = 4.0;

/// One load: calls in flight, calls measured, warm-up calls.
#[derive(Debug, Clone, Copy)]
struct Load {
    /// Calls kept in flight (connections).
    in_flight: u32,
    /// Calls measured at most.
    calls: u32,
    /// Calls answered before measuring.
    warmup: u32,
}

/// The loads of a full run.
const LOADS: &[Load] = &[
    Load {
        in_flight: 1,
        calls: 20_000,
        warmup: 2_000,
    },
    Load {
        in_flight: 16,
        calls: 60_000,
        warmup: 6_000,
    },
    Load {
        in_flight: 64,
        calls: 60_000,
        warmup: 6_000,
    },
];

/// Time limit of one measured window, seconds (the warm-up has the same limit).
const MAX_SECONDS: &str = "5";

/// A run during which other processes used more than this share of the CPU (%) is disturbed.
const DISTURBED_PCT: f64 = 5.0;

/// Attempts per run while they are disturbed; the least disturbed attempt is kept.
const ATTEMPTS: usize = 3;

/// How long to wait for a quiet machine before each attempt.
const QUIET_WAIT: Duration = Duration::from_secs(60);

/// Busy and total CPU ticks of the machine, from the first line of `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = fields[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    Some((busy, busy + idle + iowait))
}

/// The machine's busy share (%) over the next `period`.
fn busy_pct(period: Duration) -> Option<f64> {
    let (busy0, total0) = machine_ticks()?;
    std::thread::sleep(period);
    let (busy1, total1) = machine_ticks()?;
    let total = total1.saturating_sub(total0);
    (total > 0).then(|| 100.0 * busy1.saturating_sub(busy0) as f64 / total as f64)
}

/// Waits (up to [`QUIET_WAIT`]) until other processes leave the machine idle.
fn wait_for_quiet() {
    let deadline = Instant::now() + QUIET_WAIT;
    let mut told = false;
    loop {
        let Some(busy) = busy_pct(Duration::from_millis(300)) else {
            return;
        };
        if busy <= DISTURBED_PCT {
            return;
        }
        if Instant::now() >= deadline {
            println!("\nxtask: the machine is still {busy:.0}% busy; running anyway");
            return;
        }
        if !told {
            println!(
                "\nxtask: waiting for a quiet machine (other processes use {busy:.0}% of the CPU)"
            );
            told = true;
        }
    }
}

/// The number after `"key":` in a flat JSON object (the generator's own output).
fn json_number(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let start = line.find(&pattern)? + pattern.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The numbers of one throughput run.
#[derive(Debug, Clone, PartialEq)]
struct RunResult {
    /// Calls per second.
    calls_per_s: f64,
    /// Median latency, µs.
    p50_us: f64,
    /// 99th percentile latency, µs.
    p99_us: f64,
    /// Server peak RSS, MiB.
    peak_rss_mib: f64,
    /// Server CPU per call, µs.
    server_cpu_us: f64,
    /// Generator CPU per call, µs.
    load_cpu_us: f64,
    /// CPU used by other processes, % of the machine.
    other_cpu_pct: f64,
}

impl RunResult {
    /// Reads the fields from a `bench-http-load` JSON line.
    fn from_json(line: &str) -> Option<Self> {
        Some(Self {
            calls_per_s: json_number(line, "calls_per_s")?,
            p50_us: json_number(line, "p50_us")?,
            p99_us: json_number(line, "p99_us")?,
            peak_rss_mib: json_number(line, "peak_rss_mib")?,
            server_cpu_us: json_number(line, "server_cpu_us_per_call")?,
            load_cpu_us: json_number(line, "load_cpu_us_per_call")?,
            other_cpu_pct: json_number(line, "other_cpu_pct")?,
        })
    }

    /// Each figure's own median over `runs`: a row's p99 is the middle of the runs' p99s, not
    /// the p99 of whichever run had the middle calls/s (one run's tail is one sample; the
    /// ratios of two rows compared on single tails swung by 0.3 between identical runs).
    fn median(runs: &[Self]) -> Option<Self> {
        let of = |key: fn(&Self) -> f64| median_by(runs, key).map(|r| key(&r));
        Some(Self {
            calls_per_s: of(|r| r.calls_per_s)?,
            p50_us: of(|r| r.p50_us)?,
            p99_us: of(|r| r.p99_us)?,
            peak_rss_mib: of(|r| r.peak_rss_mib)?,
            server_cpu_us: of(|r| r.server_cpu_us)?,
            load_cpu_us: of(|r| r.load_cpu_us)?,
            other_cpu_pct: of(|r| r.other_cpu_pct)?,
        })
    }

    /// Whether other processes used enough CPU to distort the run.
    fn disturbed(&self) -> bool {
        self.other_cpu_pct > DISTURBED_PCT
    }
}

/// The element with the median `key` (the lower middle one for an even count).
fn median_by<T: Clone>(runs: &[T], key: impl Fn(&T) -> f64) -> Option<T> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let index = sorted.len().checked_sub(1)? / 2;
    sorted.get(index).cloned()
}

/// The cargo target folder: `$CARGO_TARGET_DIR` if set and non-empty, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => std::env::current_dir()
            .unwrap_or_else(|_| root.to_path_buf())
            .join(dir),
        None => root.join("target"),
    }
}

/// Flushes stdout (progress lines), ignoring failures.
fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

/// Runs `bench-http-load` once with `args` against `server`; returns its JSON line.
fn run_load(bin_dir: &Path, server: &ServerSpec, args: &[String]) -> Result<String, String> {
    let output = Command::new(bin_dir.join("bench-http-load"))
        .args(["--label", server.label])
        .args(args)
        .arg("--")
        .arg(bin_dir.join(server.binary))
        .args(server.args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start bench-http-load: {e}"))?;
    if !output.status.success() {
        return Err(format!("bench-http-load failed ({})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .map(str::to_owned)
        .ok_or_else(|| format!("bench-http-load printed no result: {stdout}"))
}

/// Runs one throughput case on a quiet machine, retrying disturbed attempts.
fn run_case(
    bin_dir: &Path,
    server: &ServerSpec,
    mode: Mode,
    load: &Load,
    log: &mut String,
) -> Result<RunResult, String> {
    let args: Vec<String> = [
        "--mode",
        mode.flag(),
        "--in-flight",
        &load.in_flight.to_string(),
        "--calls",
        &load.calls.to_string(),
        "--warmup",
        &load.warmup.to_string(),
        "--max-seconds",
        MAX_SECONDS,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut best: Option<RunResult> = None;
    for _ in 0..ATTEMPTS {
        wait_for_quiet();
        let line = run_load(bin_dir, server, &args)?;
        log.push_str(&line);
        log.push('\n');
        let result = RunResult::from_json(&line)
            .ok_or_else(|| format!("unexpected bench-http-load output: {line}"))?;
        let disturbed = result.disturbed();
        if best
            .as_ref()
            .is_none_or(|b| result.other_cpu_pct < b.other_cpu_pct)
        {
            best = Some(result);
        }
        if !disturbed {
            break;
        }
    }
    best.ok_or_else(|| String::from("no attempt ran"))
}

/// `cargo xtask bench http [OPTIONS]`; `usage` is the `bench` usage text, printed on bad options.
pub(crate) fn dispatch(args: &[String], usage: &str) -> ExitCode {
    match HttpOptions::parse(args) {
        Ok(options) if run(&options) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: {message}\n");
            eprint!("{usage}{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The HTTP benchmark with its default options, as the plain `cargo xtask bench` runs it.
pub(crate) fn run_default() -> bool {
    run(&HttpOptions::default())
}

/// `cargo xtask bench http`: builds, runs every case, prints the tables. Returns success.
fn run(options: &HttpOptions) -> bool {
    let mut build = cargo(&["build", "--release", "-p", "mcp-bench", "--bins"]);
    println!("$ {}", display(&build));
    if !run_ok(&mut build) {
        eprintln!("xtask: building the HTTP benchmark failed");
        return false;
    }
    let bin_dir = target_dir(&repo_root()).join("release");
    let log_path = target_dir(&repo_root()).join("bench").join("http.jsonl");
    let mut log = String::new();
    let loads: Vec<Load> = LOADS
        .iter()
        .map(|load| {
            if options.quick {
                Load {
                    calls: load.calls / 10,
                    warmup: load.warmup / 10,
                    ..*load
                }
            } else {
                *load
            }
        })
        .collect();

    let interactive = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut ok = true;
    for &mode in &options.modes {
        let servers: Vec<&ServerSpec> =
            SERVERS.iter().filter(|s| s.modes.contains(&mode)).collect();
        // results[server][load] = every run.
        let mut results = vec![vec![Vec::new(); loads.len()]; servers.len()];
        for round in 1..=options.runs {
            if !interactive {
                println!("round {round}/{} ({})", options.runs, mode.flag());
            }
            for (s, server) in servers.iter().enumerate() {
                for (l, load) in loads.iter().enumerate() {
                    if interactive {
                        print!(
                            "\rround {round}/{} ({}): {:<10} {:>2} in flight   ",
                            options.runs,
                            mode.flag(),
                            server.label,
                            load.in_flight
                        );
                        flush_stdout();
                    }
                    match run_case(&bin_dir, server, mode, load, &mut log) {
                        Ok(result) => results[s][l].push(result),
                        Err(message) => {
                            eprintln!(
                                "\nxtask: {} ({}) at {} in flight: {message}",
                                server.label,
                                mode.flag(),
                                load.in_flight
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        if interactive {
            print!("\r{:<72}\r", "");
        }
        let medians: Vec<Vec<Option<RunResult>>> = results
            .iter()
            .map(|per_load| {
                per_load
                    .iter()
                    .map(|runs| RunResult::median(runs))
                    .collect()
            })
            .collect();
        print_table(mode, options.runs, &servers, &loads, &medians);
    }
    ok &= sessions(&bin_dir, options, &mut log);
    println!(
        "HTTP benchmark: {:.0} s; every run's JSON line is appended to {}",
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    if let Some(dir) = log_path.parent() {
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)?
                .write_all(log.as_bytes())
        });
        if let Err(error) = written {
            eprintln!("xtask: could not write {}: {error}", log_path.display());
        }
    }
    ok
}

/// The idle-session measurement: prints its table; returns success.
fn sessions(bin_dir: &Path, options: &HttpOptions, log: &mut String) -> bool {
    let mut ok = true;
    let args: Vec<String> = [
        "--mode",
        "legacy",
        "--idle-sessions",
        &IDLE_SESSIONS.to_string(),
        "--max-seconds",
        MAX_SECONDS,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    println!(
        "Memory per idle legacy session: {IDLE_SESSIONS} sessions opened (initialize + \
         notifications/initialized), server VmRSS before and after — median of {} run(s)",
        options.runs
    );
    println!(
        "| {:<10} | {:>8} | {:>14} | {:>13} | {:>13} |",
        "server", "sessions", "RSS before MiB", "RSS after MiB", "KiB / session"
    );
    println!(
        "|{}|{}|{}|{}|{}|",
        "-".repeat(12),
        "-".repeat(10),
        "-".repeat(16),
        "-".repeat(15),
        "-".repeat(15)
    );
    let mut ours = None;
    for label in SESSION_SERVERS {
        let Some(server) = SERVERS.iter().find(|s| s.label == *label) else {
            continue;
        };
        let mut runs = Vec::new();
        for _ in 0..options.runs {
            wait_for_quiet();
            match run_load(bin_dir, server, &args) {
                Ok(line) => {
                    log.push_str(&line);
                    log.push('\n');
                    let parsed = (
                        json_number(&line, "rss_before_kib"),
                        json_number(&line, "rss_after_kib"),
                        json_number(&line, "kib_per_session"),
                    );
                    if let (Some(before), Some(after), Some(per)) = parsed {
                        runs.push((before, after, per));
                    }
                }
                Err(message) => {
                    eprintln!("xtask: idle sessions of {label}: {message}");
                    ok = false;
                }
            }
        }
        match median_by(&runs, |r| r.2) {
            Some((before, after, per)) => {
                if *label == OURS {
                    ours = Some(per);
                }
                println!(
                    "| {:<10} | {:>8} | {:>14.1} | {:>13.1} | {:>13.2} |",
                    label,
                    IDLE_SESSIONS,
                    before / 1024.0,
                    after / 1024.0,
                    per
                );
            }
            None => println!(
                "| {:<10} | {:>8} | {:>14} | {:>13} | {:>13} |",
                label, IDLE_SESSIONS, "failed", "", ""
            ),
        }
    }
    if let Some(per) = ours {
        println!(
            "  goal: under {SESSION_GOAL_KIB} KiB per idle session: {per:.2} KiB {}",
            verdict(per < SESSION_GOAL_KIB)
        );
    }
    println!();
    ok
}

/// Prints one table (one era) and the goals' verdicts.
fn print_table(
    mode: Mode,
    runs: usize,
    servers: &[&ServerSpec],
    loads: &[Load],
    medians: &[Vec<Option<RunResult>>],
) {
    let find = |label: &str, l: usize| {
        servers
            .iter()
            .position(|s| s.label == label)
            .and_then(|s| medians.get(s))
            .and_then(|per_load| per_load.get(l).cloned().flatten())
    };
    println!(
        "HTTP, echo tool — {} — median of {runs} run(s), each column on its own",
        mode.title()
    );
    println!(
        "| {:<10} | {:>9} | {:>9} | {:>7} | {:>7} | {:>12} | {:>6} | {:>12} | {:>13} | {:>11} |",
        "server",
        "in flight",
        "calls/s",
        "p50 µs",
        "p99 µs",
        "peak RSS MiB",
        "x rmcp",
        "% of ceiling",
        "server CPU µs",
        "load CPU µs"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(12),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(9),
        "-".repeat(14),
        "-".repeat(8),
        "-".repeat(14),
        "-".repeat(15),
        "-".repeat(13)
    );
    let mut any_disturbed = false;
    for (l, load) in loads.iter().enumerate() {
        let rmcp = find(RMCP, l);
        let ceiling = find(CEILING, l);
        for (s, server) in servers.iter().enumerate() {
            let Some(Some(r)) = medians.get(s).and_then(|m| m.get(l)) else {
                println!(
                    "| {:<10} | {:>9} | {:>9} | {:>7} | {:>7} | {:>12} | {:>6} | {:>12} | {:>13} | {:>11} |",
                    server.label, load.in_flight, "failed", "", "", "", "", "", "", ""
                );
                continue;
            };
            let ratio = rmcp.as_ref().map_or_else(String::new, |b| {
                format!("{:.2}", r.calls_per_s / b.calls_per_s)
            });
            let share = ceiling.as_ref().map_or_else(String::new, |c| {
                format!("{:.0}%", 100.0 * r.calls_per_s / c.calls_per_s)
            });
            let label = if r.disturbed() {
                format!("{}*", server.label)
            } else {
                server.label.to_owned()
            };
            any_disturbed |= r.disturbed();
            println!(
                "| {:<10} | {:>9} | {:>9.0} | {:>7.0} | {:>7.0} | {:>12.1} | {:>6} | {:>12} | {:>13.1} | {:>11.1} |",
                label,
                load.in_flight,
                r.calls_per_s,
                r.p50_us,
                r.p99_us,
                r.peak_rss_mib,
                ratio,
                share,
                r.server_cpu_us,
                r.load_cpu_us
            );
        }
    }
    for server in servers {
        println!("  {:<10} {}", server.label, server.about);
    }
    println!(
        "  CPU µs are per call, from /proc (10 ms ticks); `load` is the generator \
         (one thread, one connection per call in flight)"
    );
    if any_disturbed {
        println!(
            "  *          other processes used more than {DISTURBED_PCT}% of the CPU during every \
             attempt of this run: its numbers are not reliable"
        );
    }
    print_overhead(find, loads);
    // The issue's goals for our server: a share of the ceiling (the rmcp factor is informative).
    for (l, load) in loads.iter().enumerate() {
        let (share_goal, rmcp_hint) = match load.in_flight {
            1 => (0.60, 3.0),
            16 => (0.40, 5.0),
            _ => continue,
        };
        let (Some(ours), Some(ceiling)) = (find(OURS, l), find(CEILING, l)) else {
            continue;
        };
        let share = ours.calls_per_s / ceiling.calls_per_s;
        let ratio = find(RMCP, l).map_or_else(
            || String::from("n/a"),
            |rmcp| format!("{:.2}x", ours.calls_per_s / rmcp.calls_per_s),
        );
        println!(
            "  goal at {} in flight: >= {:.0}% of the ceiling: {:.0}% {}; (about {rmcp_hint}x \
             rmcp: {ratio})",
            load.in_flight,
            share_goal * 100.0,
            share * 100.0,
            verdict(share >= share_goal)
        );
    }
    println!();
}

/// The issues' goals for the middleware: the production stack and JWT authentication against
/// the bare server, in the same run.
fn print_overhead(find: impl Fn(&str, usize) -> Option<RunResult>, loads: &[Load]) {
    for (l, load) in loads.iter().enumerate() {
        let Some(bare) = find(OURS, l) else { continue };
        if let Some(prod) = find(OURS_PRODUCTION, l) {
            let calls = prod.calls_per_s / bare.calls_per_s;
            let p99 = prod.p99_us / bare.p99_us;
            println!(
                "  production stack / none at {} in flight: calls/s x{calls:.2} (goal >= 0.85) {}, \
                 p99 x{p99:.2} (goal <= 1.20) {}",
                load.in_flight,
                verdict(calls >= 0.85),
                verdict(p99 <= 1.20)
            );
        }
        if let Some(jwt) = find(OURS_JWT, l) {
            let calls = jwt.calls_per_s / bare.calls_per_s;
            let p99 = jwt.p99_us / bare.p99_us;
            println!(
                "  JWT auth / none at {} in flight: calls/s x{calls:.2} (goal >= 0.90) {}, p99 x{p99:.2}",
                load.in_flight,
                verdict(calls >= 0.90)
            );
        }
    }
}

/// `met` or `MISSED`.
fn verdict(met: bool) -> &'static str {
    if met { "(met)" } else { "(MISSED)" }
}
