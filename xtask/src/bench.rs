//! `cargo xtask bench`: the workspace's benchmarks.
//!
//! - `cargo xtask bench stdio [OPTIONS]`: the stdio benchmark of the `mcp-bench` crate — our
//!   server against rmcp's, both exposing `echo`, beside the machine's ceiling (a bare JSON-line
//!   echo), all driven by `bench-load` at 1 and 16 calls in flight. Each server and load runs
//!   several times (interleaved), the median run by calls/s is kept, and a table is printed.
//!   See `docs/benchmarks.md`.
//! - `cargo xtask bench client [OPTIONS]`: the client benchmark of the `mcp-bench` crate — our
//!   client (`bench-client-ours`) and rmcp's (`bench-client-rmcp`), each driving our server and
//!   rmcp's over stdio at 1 and 16 calls in flight, in both eras; same runs, medians and noise
//!   detection as `stdio`. See `docs/benchmarks.md`.
//! - `cargo xtask bench http [OPTIONS]`: the HTTP benchmark, in `bench_http.rs`.
//! - `cargo xtask bench pool [OPTIONS]`: what the multi-server client's pool costs against a
//!   raw client, over stdio and HTTP, in `bench_pool.rs`.
//! - `cargo xtask bench codec [ARGS...]`: the criterion benchmark of the protocol codec,
//!   `ARGS` appended to its `cargo bench` command.
//! - `cargo xtask bench [ARGS...]`: all three, `ARGS` going to the codec benchmark as before.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::process::{cargo, display, repo_root, run_ok};

/// Usage of `cargo xtask bench`.
const USAGE: &str = "\
Usage: cargo xtask bench [stdio [OPTIONS] | client [OPTIONS] | http [OPTIONS] | pool [OPTIONS]
                          | codec [ARGS...] | ARGS...]

  stdio     The stdio benchmark (bench/): our server, rmcp 3.x and the bare ceiling, each
            serving `echo`, at 1 and 16 calls in flight; prints the table.
            --runs N                 runs per case, the median is kept (default 3)
            --writer thread|inline|both
                                     how bench-load writes requests (default both: the
                                     dedicated-writer table, then the inline one)
            --quick                  one run per case, fewer calls (a smoke test)
  client    The client benchmark (bench/): our client and rmcp 3.x's, each driving our
            server and rmcp's over stdio, at 1 and 16 calls in flight; prints the table.
            --runs N                 runs per case, the median is kept (default 3)
            --era legacy|modern|both which era the clients speak (default both: the
                                     legacy table, then the modern one)
            --quick                  one run per case, fewer calls (a smoke test)
  codec     The criterion benchmark of the protocol codec; ARGS go to `cargo bench`.
  (none)    stdio, client, http and pool with their defaults, then codec with ARGS
            (`cargo xtask bench -- --quick`).
";

/// A criterion benchmark target: the package and the `[[bench]]` name.
#[derive(Debug, Clone, Copy)]
struct Bench {
    /// Package that owns the bench target.
    package: &'static str,
    /// Name of the `[[bench]]` target.
    target: &'static str,
}

/// Every criterion benchmark `cargo xtask bench codec` runs, in order.
const BENCHES: &[Bench] = &[Bench {
    package: "mcp-protocol",
    target: "codec",
}];

/// Dispatches `cargo xtask bench ...`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    match args.split_first() {
        Some((first, rest)) if first == "stdio" => match StdioOptions::parse(rest) {
            Ok(options) => exit_code(stdio(&options)),
            Err(message) => {
                eprintln!("xtask: {message}\n");
                eprint!("{USAGE}");
                ExitCode::from(2)
            }
        },
        Some((first, rest)) if first == "client" => match ClientBenchOptions::parse(rest) {
            Ok(options) => exit_code(client(&options)),
            Err(message) => {
                eprintln!("xtask: {message}\n");
                eprint!("{USAGE}");
                ExitCode::from(2)
            }
        },
        Some((first, rest)) if first == "http" => crate::bench_http::dispatch(rest, USAGE),
        Some((first, rest)) if first == "pool" => crate::bench_pool::dispatch(rest, USAGE),
        Some((first, rest)) if first == "codec" => exit_code(criterion(rest)),
        Some((first, _)) if first == "help" || first == "-h" || first == "--help" => {
            print!(
                "{USAGE}{}{}",
                crate::bench_http::USAGE,
                crate::bench_pool::USAGE
            );
            ExitCode::SUCCESS
        }
        _ => {
            let stdio_ok = stdio(&StdioOptions::default());
            let client_ok = client(&ClientBenchOptions::default());
            let http_ok = crate::bench_http::run_default();
            let pool_ok = crate::bench_pool::run_default();
            let codec_ok = criterion(args);
            exit_code(stdio_ok && client_ok && http_ok && pool_ok && codec_ok)
        }
    }
}

/// `SUCCESS` or `FAILURE`.
fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs each criterion benchmark with `extra` appended to its `cargo bench` command.
///
/// Every benchmark runs even if an earlier one failed; returns whether all succeeded.
fn criterion(extra: &[String]) -> bool {
    let mut failed = Vec::new();
    for bench in BENCHES {
        let mut command = cargo(&["bench", "-p", bench.package, "--bench", bench.target]);
        command.args(extra);
        println!("$ {}", display(&command));
        if !run_ok(&mut command) {
            failed.push(format!("{}/{}", bench.package, bench.target));
        }
    }
    if !failed.is_empty() {
        eprintln!("xtask: benchmarks failed: {}", failed.join(", "));
    }
    failed.is_empty()
}

/// How `bench-load` writes its requests (`--writer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// A dedicated writer thread; the reader hands it the calls it may send.
    Thread,
    /// The reader thread writes the next calls itself.
    Inline,
}

impl Writer {
    /// The value of `bench-load --writer`.
    fn flag(self) -> &'static str {
        match self {
            Self::Thread => "thread",
            Self::Inline => "inline",
        }
    }

    /// The table's title line.
    fn title(self) -> &'static str {
        match self {
            Self::Thread => "load generator: dedicated reader and writer threads",
            Self::Inline => "load generator: the reader thread writes the next calls itself",
        }
    }
}

/// Options of `cargo xtask bench stdio`.
#[derive(Debug, Clone, PartialEq)]
struct StdioOptions {
    /// Runs per case; the median is reported.
    runs: usize,
    /// The generator modes to run, one table each.
    writers: Vec<Writer>,
    /// Fewer calls, for a smoke test.
    quick: bool,
}

impl Default for StdioOptions {
    fn default() -> Self {
        Self {
            runs: 3,
            writers: vec![Writer::Thread, Writer::Inline],
            quick: false,
        }
    }
}

impl StdioOptions {
    /// Parses the arguments after `stdio`.
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
                    if n == 0 {
                        return Err("--runs must be at least 1".into());
                    }
                    runs = Some(n);
                }
                "--writer" => {
                    let value = args.next().ok_or("--writer needs a value")?;
                    options.writers = match value.as_str() {
                        "thread" => vec![Writer::Thread],
                        "inline" => vec![Writer::Inline],
                        "both" => vec![Writer::Thread, Writer::Inline],
                        _ => return Err(format!("bad --writer {value:?}")),
                    };
                }
                other => return Err(format!("unknown option {other:?} for `bench stdio`")),
            }
        }
        options.runs = runs.unwrap_or(if options.quick { 1 } else { 3 });
        Ok(options)
    }
}

/// What a row of the table is: a server binary and its arguments.
#[derive(Debug, Clone, Copy)]
struct ServerSpec {
    /// The row's name.
    label: &'static str,
    /// The `mcp-bench` binary.
    binary: &'static str,
    /// Its arguments.
    args: &'static [&'static str],
    /// What the row is, for the legend.
    about: &'static str,
}

/// Label of the row every "x rmcp" ratio divides by.
const RMCP: &str = "rmcp";

/// Label of the row every "% of ceiling" divides by.
const CEILING: &str = "ceiling";

/// The rows, in table order.
const SERVERS: &[ServerSpec] = &[
    ServerSpec {
        label: "ours",
        binary: "bench-ours",
        args: &[],
        about: "mcp_server::Server + Router, serve_stdio, current-thread tokio runtime",
    },
    ServerSpec {
        label: RMCP,
        binary: "bench-rmcp",
        args: &[],
        about: "rmcp 3.11 #[tool_router] server on rmcp::transport::stdio(), as its docs show",
    },
    ServerSpec {
        label: "rmcp-pipes",
        binary: "bench-rmcp",
        args: &["--transport", "pipes"],
        about: "the same rmcp server on rmcp::transport::io::stdio_pipes() (reference only)",
    },
    ServerSpec {
        label: CEILING,
        binary: "bench-ceiling",
        args: &[],
        about: "bare blocking JSON-line echo with serde_json: the machine's ceiling",
    },
];

/// One load: calls in flight, calls measured, warm-up calls.
#[derive(Debug, Clone, Copy)]
struct Load {
    /// Calls kept in flight.
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
        calls: 100_000,
        warmup: 10_000,
    },
];

/// Time limit of one measured window, seconds (the warm-up has the same limit).
const MAX_SECONDS: &str = "5";

/// A run during which other processes used more than this share of the machine's CPU (%) is
/// disturbed: it is retried, and marked in the table if every attempt was disturbed. On this
/// 2-core machine a concurrent build changes the numbers severalfold (and not always downwards:
/// a busy core pushes both processes onto the other one, where wake-ups are cheaper).
pub(crate) const DISTURBED_PCT: f64 = 5.0;

/// Attempts per run while they are disturbed; the least disturbed attempt is kept.
pub(crate) const ATTEMPTS: usize = 3;

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

/// Waits (up to [`QUIET_WAIT`]) until other processes leave the machine idle; returns whether
/// it became quiet.
pub(crate) fn wait_for_quiet() -> bool {
    let deadline = Instant::now() + QUIET_WAIT;
    let mut told = false;
    loop {
        let Some(busy) = busy_pct(Duration::from_millis(300)) else {
            return true; // No /proc/stat: nothing to wait for.
        };
        if busy <= DISTURBED_PCT {
            return true;
        }
        if Instant::now() >= deadline {
            println!("\nxtask: the machine is still {busy:.0}% busy; running anyway");
            return false;
        }
        if !told {
            println!(
                "\nxtask: waiting for a quiet machine (other processes use {busy:.0}% of the CPU)"
            );
            told = true;
        }
    }
}

/// The numbers of one run, read from `bench-load`'s JSON line.
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
    /// CPU used by other processes during the run, % of the machine.
    other_cpu_pct: f64,
}

impl RunResult {
    /// Reads the fields from a `bench-load` JSON line.
    fn from_json(line: &str) -> Option<Self> {
        Some(Self {
            calls_per_s: json_number(line, "calls_per_s")?,
            p50_us: json_number(line, "p50_us")?,
            p99_us: json_number(line, "p99_us")?,
            peak_rss_mib: json_number(line, "peak_rss_mib")?,
            server_cpu_us: json_number(line, "server_cpu_us_per_call")?,
            other_cpu_pct: json_number(line, "other_cpu_pct")?,
        })
    }

    /// Whether other processes used enough CPU during the run to distort it.
    fn disturbed(&self) -> bool {
        self.other_cpu_pct > DISTURBED_PCT
    }
}

/// The number after `"key":` in a flat JSON object (the generator's own output format).
pub(crate) fn json_number(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let start = line.find(&pattern)? + pattern.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The run with the median calls/s (the lower middle one for an even count).
fn median(runs: &[RunResult]) -> Option<RunResult> {
    median_by(runs, |r| r.calls_per_s)
}

/// The run with the median `key` (the lower middle one for an even count).
pub(crate) fn median_by<T: Clone>(runs: &[T], key: impl Fn(&T) -> f64) -> Option<T> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let index = sorted.len().checked_sub(1)? / 2;
    sorted.get(index).cloned()
}

/// The cargo target folder: `$CARGO_TARGET_DIR` (relative to the current folder) if set and
/// non-empty, else `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => std::env::current_dir()
            .unwrap_or_else(|_| root.to_path_buf())
            .join(dir),
        None => root.join("target"),
    }
}

/// `cargo xtask bench stdio`: builds, runs every case, prints the tables. Returns success.
fn stdio(options: &StdioOptions) -> bool {
    let mut build = cargo(&["build", "--release", "-p", "mcp-bench", "--bins"]);
    println!("$ {}", display(&build));
    if !run_ok(&mut build) {
        eprintln!("xtask: building the stdio benchmark failed");
        return false;
    }
    let bin_dir = target_dir(&repo_root()).join("release");
    let log_path = target_dir(&repo_root()).join("bench").join("stdio.jsonl");
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
    for &writer in &options.writers {
        // results[server][load] = every run.
        let mut results = vec![vec![Vec::new(); loads.len()]; SERVERS.len()];
        // Interleave: each round runs every case once, so slow drift hits every server alike.
        for round in 1..=options.runs {
            if !interactive {
                println!("round {round}/{} (writer {})", options.runs, writer.flag());
            }
            for (s, server) in SERVERS.iter().enumerate() {
                for (l, load) in loads.iter().enumerate() {
                    if interactive {
                        print!(
                            "\rround {round}/{} (writer {}): {:<10} {:>2} in flight   ",
                            options.runs,
                            writer.flag(),
                            server.label,
                            load.in_flight
                        );
                        flush_stdout();
                    }
                    match run_case(&bin_dir, server, load, writer, &mut log) {
                        Ok(result) => results[s][l].push(result),
                        Err(message) => {
                            eprintln!(
                                "\nxtask: {} at {} in flight: {message}",
                                server.label, load.in_flight
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
            .map(|per_load| per_load.iter().map(|runs| median(runs)).collect())
            .collect();
        print_table(writer, options.runs, &loads, &medians);
    }
    println!(
        "stdio benchmark: {:.0} s; every run's JSON line is in {}",
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    if let Some(dir) = log_path.parent()
        && let Err(error) =
            std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&log_path, &log))
    {
        eprintln!("xtask: could not write {}: {error}", log_path.display());
    }
    ok
}

/// Flushes stdout (progress lines), ignoring failures.
fn flush_stdout() {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

/// Runs one case on a quiet machine, retrying disturbed runs; logs every attempt's JSON line.
fn run_case(
    bin_dir: &Path,
    server: &ServerSpec,
    load: &Load,
    writer: Writer,
    log: &mut String,
) -> Result<RunResult, String> {
    let mut best: Option<RunResult> = None;
    for _ in 0..ATTEMPTS {
        wait_for_quiet();
        let line = run_load(bin_dir, server, load, writer)?;
        log.push_str(&line);
        log.push('\n');
        let result = RunResult::from_json(&line)
            .ok_or_else(|| format!("unexpected bench-load output: {line}"))?;
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

/// Runs `bench-load` once against `server`; returns its JSON line.
fn run_load(
    bin_dir: &Path,
    server: &ServerSpec,
    load: &Load,
    writer: Writer,
) -> Result<String, String> {
    let mut command = Command::new(bin_dir.join("bench-load"));
    command
        .args(["--label", server.label])
        .args(["--in-flight", &load.in_flight.to_string()])
        .args(["--calls", &load.calls.to_string()])
        .args(["--warmup", &load.warmup.to_string()])
        .args(["--max-seconds", MAX_SECONDS])
        .args(["--writer", writer.flag()])
        .arg("--")
        .arg(bin_dir.join(server.binary))
        .args(server.args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let output = command
        .output()
        .map_err(|e| format!("could not start bench-load: {e}"))?;
    if !output.status.success() {
        return Err(format!("bench-load failed ({})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .map(str::to_owned)
        .ok_or_else(|| format!("bench-load printed no result: {stdout}"))
}

/// Prints one table (one generator mode) and the goals' verdicts.
fn print_table(writer: Writer, runs: usize, loads: &[Load], medians: &[Vec<Option<RunResult>>]) {
    let find = |label: &str, l: usize| {
        SERVERS
            .iter()
            .position(|s| s.label == label)
            .and_then(|s| medians.get(s))
            .and_then(|per_load| per_load.get(l).cloned().flatten())
    };
    println!(
        "stdio, echo tool — {} — median of {runs} run(s) by calls/s",
        writer.title()
    );
    let header = format!(
        "| {:<10} | {:>9} | {:>9} | {:>7} | {:>7} | {:>12} | {:>6} | {:>12} | {:>14} |",
        "server",
        "in flight",
        "calls/s",
        "p50 µs",
        "p99 µs",
        "peak RSS MiB",
        "x rmcp",
        "% of ceiling",
        "server CPU µs"
    );
    println!("{header}");
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(12),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(9),
        "-".repeat(14),
        "-".repeat(8),
        "-".repeat(14),
        "-".repeat(16)
    );
    let mut any_disturbed = false;
    for (l, load) in loads.iter().enumerate() {
        let rmcp = find(RMCP, l);
        let ceiling = find(CEILING, l);
        for (s, server) in SERVERS.iter().enumerate() {
            let Some(Some(r)) = medians.get(s).and_then(|m| m.get(l)) else {
                println!(
                    "| {:<10} | {:>9} | {:>9} | {:>7} | {:>7} | {:>12} | {:>6} | {:>12} | {:>14} |",
                    server.label, load.in_flight, "failed", "", "", "", "", "", ""
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
                "| {:<10} | {:>9} | {:>9.0} | {:>7.0} | {:>7.0} | {:>12.1} | {:>6} | {:>12} | {:>14.1} |",
                label,
                load.in_flight,
                r.calls_per_s,
                r.p50_us,
                r.p99_us,
                r.peak_rss_mib,
                ratio,
                share,
                r.server_cpu_us
            );
        }
    }
    for server in SERVERS {
        println!("  {:<10} {}", server.label, server.about);
    }
    if any_disturbed {
        println!(
            "  *          other processes used more than {DISTURBED_PCT}% of the CPU during every \
             attempt of this run: its numbers are not reliable"
        );
    }
    // The issue's goals for our server.
    let goal = |l: usize, rmcp_goal: f64, ceiling_goal: Option<f64>| {
        let (Some(ours), Some(rmcp)) = (find("ours", l), find(RMCP, l)) else {
            return;
        };
        let ratio = ours.calls_per_s / rmcp.calls_per_s;
        let mut line = format!(
            "  goal at {} in flight: >= {rmcp_goal}x rmcp: {ratio:.2}x {}",
            loads[l].in_flight,
            verdict(ratio >= rmcp_goal)
        );
        if let (Some(goal), Some(ceiling)) = (ceiling_goal, find(CEILING, l)) {
            let share = ours.calls_per_s / ceiling.calls_per_s;
            line.push_str(&format!(
                "; >= {:.0}% of the ceiling: {:.0}% {}",
                goal * 100.0,
                share * 100.0,
                verdict(share >= goal)
            ));
        }
        println!("{line}");
    };
    for (l, load) in loads.iter().enumerate() {
        match load.in_flight {
            1 => goal(l, 2.0, Some(0.75)),
            16 => goal(l, 5.0, None),
            _ => {}
        }
    }
    println!();
}

/// `met` or `MISSED`.
fn verdict(met: bool) -> &'static str {
    if met { "(met)" } else { "(MISSED)" }
}

/// Which era the client benchmark's clients speak (`--era`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientEra {
    /// `initialize` with 2025-11-25.
    Legacy,
    /// `server/discover` with 2026-07-28, `_meta` on every request.
    Modern,
}

impl ClientEra {
    /// The value of `bench-client-* --era`.
    fn flag(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Modern => "modern",
        }
    }

    /// The table's title line.
    fn title(self) -> &'static str {
        match self {
            Self::Legacy => "legacy era: initialize with 2025-11-25, then plain requests",
            Self::Modern => "modern era: server/discover with 2026-07-28, _meta on every request",
        }
    }
}

/// Options of `cargo xtask bench client`.
#[derive(Debug, Clone, PartialEq)]
struct ClientBenchOptions {
    /// Runs per case; the median is reported.
    runs: usize,
    /// The eras to run, one table each.
    eras: Vec<ClientEra>,
    /// Fewer calls, for a smoke test.
    quick: bool,
}

impl Default for ClientBenchOptions {
    fn default() -> Self {
        Self {
            runs: 3,
            eras: vec![ClientEra::Legacy, ClientEra::Modern],
            quick: false,
        }
    }
}

impl ClientBenchOptions {
    /// Parses the arguments after `client`.
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
                    if n == 0 {
                        return Err("--runs must be at least 1".into());
                    }
                    runs = Some(n);
                }
                "--era" => {
                    let value = args.next().ok_or("--era needs a value")?;
                    options.eras = match value.as_str() {
                        "legacy" => vec![ClientEra::Legacy],
                        "modern" => vec![ClientEra::Modern],
                        "both" => vec![ClientEra::Legacy, ClientEra::Modern],
                        _ => return Err(format!("bad --era {value:?}")),
                    };
                }
                other => return Err(format!("unknown option {other:?} for `bench client`")),
            }
        }
        options.runs = runs.unwrap_or(if options.quick { 1 } else { 3 });
        Ok(options)
    }
}

/// A client of the client benchmark: its label and its `mcp-bench` binary.
#[derive(Debug, Clone, Copy)]
struct ClientSpec {
    /// The label in the table.
    label: &'static str,
    /// The `mcp-bench` binary.
    binary: &'static str,
    /// What it is, for the legend.
    about: &'static str,
}

/// The clients, in table order. The first is ours, the last the rmcp one.
const CLIENTS: &[ClientSpec] = &[
    ClientSpec {
        label: "ours",
        binary: "bench-client-ours",
        about: "mcp_client::Client::spawn, call_tool from N tasks, current-thread tokio runtime",
    },
    ClientSpec {
        label: RMCP,
        binary: "bench-client-rmcp",
        about: "rmcp 3.11 client over the child's (stdout, stdin), RunningService::call_tool \
                from N tasks, current-thread tokio runtime",
    },
];

/// The servers the clients drive: labels of [`SERVERS`] rows, in table order.
const CLIENT_SERVERS: &[&str] = &["ours", RMCP];

/// The numbers of one client-benchmark run, read from a `bench-client-*` JSON line.
#[derive(Debug, Clone, PartialEq)]
struct ClientRun {
    /// Calls per second.
    calls_per_s: f64,
    /// Median latency, µs.
    p50_us: f64,
    /// 99th percentile latency, µs.
    p99_us: f64,
    /// Client CPU per 1,000 calls, ms.
    client_cpu_ms: f64,
    /// Server CPU per 1,000 calls, ms.
    server_cpu_ms: f64,
    /// CPU used by other processes during the run, % of the machine.
    other_cpu_pct: f64,
}

impl ClientRun {
    /// Reads the fields from a `bench-client-*` JSON line.
    fn from_json(line: &str) -> Option<Self> {
        Some(Self {
            calls_per_s: json_number(line, "calls_per_s")?,
            p50_us: json_number(line, "p50_us")?,
            p99_us: json_number(line, "p99_us")?,
            client_cpu_ms: json_number(line, "client_cpu_ms_per_1k")?,
            server_cpu_ms: json_number(line, "server_cpu_ms_per_1k")?,
            other_cpu_pct: json_number(line, "other_cpu_pct")?,
        })
    }

    /// Whether other processes used enough CPU during the run to distort it.
    fn disturbed(&self) -> bool {
        self.other_cpu_pct > DISTURBED_PCT
    }
}

/// `cargo xtask bench client`: builds, runs every case, prints the tables. Returns success.
fn client(options: &ClientBenchOptions) -> bool {
    let mut build = cargo(&["build", "--release", "-p", "mcp-bench", "--bins"]);
    println!("$ {}", display(&build));
    if !run_ok(&mut build) {
        eprintln!("xtask: building the client benchmark failed");
        return false;
    }
    let bin_dir = target_dir(&repo_root()).join("release");
    let log_path = target_dir(&repo_root()).join("bench").join("client.jsonl");
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
    let servers: Vec<ServerSpec> = CLIENT_SERVERS
        .iter()
        .filter_map(|label| SERVERS.iter().find(|s| s.label == *label).copied())
        .collect();
    // Every (client, server) pair, in table order.
    let pairs: Vec<(ClientSpec, ServerSpec)> = CLIENTS
        .iter()
        .flat_map(|c| servers.iter().map(move |s| (*c, *s)))
        .collect();

    let interactive = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut ok = true;
    for &era in &options.eras {
        // results[pair][load] = every run.
        let mut results = vec![vec![Vec::new(); loads.len()]; pairs.len()];
        // Interleave: each round runs every case once, so slow drift hits every pair alike.
        for round in 1..=options.runs {
            if !interactive {
                println!("round {round}/{} (era {})", options.runs, era.flag());
            }
            for (p, (client_spec, server)) in pairs.iter().enumerate() {
                for (l, load) in loads.iter().enumerate() {
                    if interactive {
                        print!(
                            "\rround {round}/{} (era {}): {} client, {} server, {:>2} in flight   ",
                            options.runs,
                            era.flag(),
                            client_spec.label,
                            server.label,
                            load.in_flight
                        );
                        flush_stdout();
                    }
                    match run_client_case(&bin_dir, client_spec, server, load, era, &mut log) {
                        Ok(result) => results[p][l].push(result),
                        Err(message) => {
                            eprintln!(
                                "\nxtask: {} client, {} server, {} in flight: {message}",
                                client_spec.label, server.label, load.in_flight
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        if interactive {
            print!("\r{:<80}\r", "");
        }
        let medians: Vec<Vec<Option<ClientRun>>> = results
            .iter()
            .map(|per_load| {
                per_load
                    .iter()
                    .map(|runs| median_by(runs, |r| r.calls_per_s))
                    .collect()
            })
            .collect();
        print_client_table(era, options.runs, &loads, &pairs, &medians);
    }
    println!(
        "client benchmark: {:.0} s; every run's JSON line was appended to {}",
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    if let Err(error) = append_log(&log_path, &log) {
        eprintln!("xtask: could not write {}: {error}", log_path.display());
    }
    ok
}

/// Appends `lines` to the file at `path`, creating it and its folder if needed.
pub(crate) fn append_log(path: &Path, lines: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(lines.as_bytes())
}

/// Runs one client case on a quiet machine, retrying disturbed runs; logs every attempt's line.
fn run_client_case(
    bin_dir: &Path,
    client_spec: &ClientSpec,
    server: &ServerSpec,
    load: &Load,
    era: ClientEra,
    log: &mut String,
) -> Result<ClientRun, String> {
    let mut best: Option<ClientRun> = None;
    for _ in 0..ATTEMPTS {
        wait_for_quiet();
        let mut command = Command::new(bin_dir.join(client_spec.binary));
        command
            .args([
                "--label",
                &format!("{}-client/{}-server", client_spec.label, server.label),
            ])
            .args(["--in-flight", &load.in_flight.to_string()])
            .args(["--calls", &load.calls.to_string()])
            .args(["--warmup", &load.warmup.to_string()])
            .args(["--max-seconds", MAX_SECONDS])
            .args(["--era", era.flag()])
            .arg("--")
            .arg(bin_dir.join(server.binary))
            .args(server.args);
        let line = json_line_of(command, client_spec.binary)?;
        log.push_str(&line);
        log.push('\n');
        let result = ClientRun::from_json(&line)
            .ok_or_else(|| format!("unexpected {} output: {line}", client_spec.binary))?;
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

/// Runs `command` (a benchmark binary named `name`); returns the last JSON line it printed.
pub(crate) fn json_line_of(mut command: Command, name: &str) -> Result<String, String> {
    command.stdin(Stdio::null()).stderr(Stdio::inherit());
    let output = command
        .output()
        .map_err(|e| format!("could not start {name}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{name} failed ({})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .map(str::to_owned)
        .ok_or_else(|| format!("{name} printed no result: {stdout}"))
}

/// Prints the client table of one era and the goal's verdicts.
fn print_client_table(
    era: ClientEra,
    runs: usize,
    loads: &[Load],
    pairs: &[(ClientSpec, ServerSpec)],
    medians: &[Vec<Option<ClientRun>>],
) {
    let find = |client_label: &str, server_label: &str, l: usize| {
        pairs
            .iter()
            .position(|(c, s)| c.label == client_label && s.label == server_label)
            .and_then(|p| medians.get(p))
            .and_then(|per_load| per_load.get(l).cloned().flatten())
    };
    println!(
        "client over stdio, echo tool — {} — median of {runs} run(s) by calls/s",
        era.title()
    );
    println!(
        "| {:<6} | {:<6} | {:>9} | {:>9} | {:>7} | {:>7} | {:>17} | {:>17} | {:>11} |",
        "client",
        "server",
        "in flight",
        "calls/s",
        "p50 µs",
        "p99 µs",
        "client CPU ms/1k",
        "server CPU ms/1k",
        "x rmcp pair"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(8),
        "-".repeat(8),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(9),
        "-".repeat(19),
        "-".repeat(19),
        "-".repeat(13)
    );
    let mut any_disturbed = false;
    for (l, load) in loads.iter().enumerate() {
        let baseline = find(RMCP, RMCP, l);
        for (p, (client_spec, server)) in pairs.iter().enumerate() {
            let Some(Some(r)) = medians.get(p).and_then(|m| m.get(l)) else {
                println!(
                    "| {:<6} | {:<6} | {:>9} | {:>9} | {:>7} | {:>7} | {:>17} | {:>17} | {:>11} |",
                    client_spec.label, server.label, load.in_flight, "failed", "", "", "", "", ""
                );
                continue;
            };
            let ratio = baseline.as_ref().map_or_else(String::new, |b| {
                format!("{:.2}", r.calls_per_s / b.calls_per_s)
            });
            let label = if r.disturbed() {
                format!("{}*", client_spec.label)
            } else {
                client_spec.label.to_owned()
            };
            any_disturbed |= r.disturbed();
            println!(
                "| {:<6} | {:<6} | {:>9} | {:>9.0} | {:>7.0} | {:>7.0} | {:>17.1} | {:>17.1} | {:>11} |",
                label,
                server.label,
                load.in_flight,
                r.calls_per_s,
                r.p50_us,
                r.p99_us,
                r.client_cpu_ms,
                r.server_cpu_ms,
                ratio
            );
        }
    }
    for client_spec in CLIENTS {
        println!("  {:<6} client: {}", client_spec.label, client_spec.about);
    }
    for server in CLIENT_SERVERS {
        if let Some(spec) = SERVERS.iter().find(|s| s.label == *server) {
            println!("  {:<6} server: {}", spec.label, spec.about);
        }
    }
    if any_disturbed {
        println!(
            "  *      other processes used more than {DISTURBED_PCT}% of the CPU during every \
             attempt of this run: its numbers are not reliable"
        );
    }
    // The issue's goal: our client and server together at least twice the rmcp pair.
    for (l, load) in loads.iter().enumerate() {
        if let (Some(ours), Some(rmcp)) = (find("ours", "ours", l), find(RMCP, RMCP, l)) {
            let ratio = ours.calls_per_s / rmcp.calls_per_s;
            println!(
                "  goal at {} in flight: ours pair vs rmcp pair >= 2x: {ratio:.2}x {}",
                load.in_flight,
                verdict(ratio >= 2.0)
            );
        }
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_from_a_json_line() {
        let line = r#"{"server":"ours","calls_per_s":18564.2,"p50_us":38.282,"p99_us":61.391,"peak_rss_mib":7.65234375,"server_cpu_us_per_call":21.0,"other_cpu_pct":0.5}"#;
        let r = RunResult::from_json(line).expect("a complete line");
        assert!((r.calls_per_s - 18564.2).abs() < 1e-9);
        assert!((r.server_cpu_us - 21.0).abs() < 1e-9);
        assert_eq!(json_number(line, "missing"), None);
    }

    #[test]
    fn median_is_by_throughput() {
        let run = |calls_per_s| RunResult {
            calls_per_s,
            p50_us: calls_per_s,
            p99_us: 0.0,
            peak_rss_mib: 0.0,
            server_cpu_us: 0.0,
            other_cpu_pct: 0.0,
        };
        let m = median(&[run(3.0), run(1.0), run(2.0)]).expect("three runs");
        assert!((m.p50_us - 2.0).abs() < 1e-9);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn reads_a_client_json_line() {
        let line = r#"{"label":"ours-client/ours-server","client":"ours","era":"legacy","calls_per_s":25885.9,"p50_us":14.6,"p99_us":84.5,"client_cpu_ms_per_1k":10.5,"server_cpu_ms_per_1k":9.5,"other_cpu_pct":7.2}"#;
        let r = ClientRun::from_json(line).expect("a complete line");
        assert!((r.calls_per_s - 25885.9).abs() < 1e-9);
        assert!((r.server_cpu_ms - 9.5).abs() < 1e-9);
        assert!(r.disturbed());
        assert_eq!(ClientRun::from_json(r#"{"calls_per_s":1}"#), None);
    }

    #[test]
    fn parses_client_options() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            ClientBenchOptions::parse(&[]),
            Ok(ClientBenchOptions::default())
        );
        let quick = ClientBenchOptions::parse(&args(&["--quick", "--era", "modern"]))
            .expect("valid options");
        assert_eq!(quick.runs, 1);
        assert_eq!(quick.eras, vec![ClientEra::Modern]);
        assert!(ClientBenchOptions::parse(&args(&["--era", "old"])).is_err());
        assert!(ClientBenchOptions::parse(&args(&["--runs", "0"])).is_err());
    }

    #[test]
    fn every_client_server_is_a_server_row() {
        for label in CLIENT_SERVERS {
            assert!(SERVERS.iter().any(|s| s.label == *label), "{label}");
        }
    }

    #[test]
    fn parses_stdio_options() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(StdioOptions::parse(&[]), Ok(StdioOptions::default()));
        let quick =
            StdioOptions::parse(&args(&["--quick", "--writer", "inline"])).expect("valid options");
        assert_eq!(quick.runs, 1);
        assert_eq!(quick.writers, vec![Writer::Inline]);
        assert!(StdioOptions::parse(&args(&["--runs", "0"])).is_err());
        assert!(StdioOptions::parse(&args(&["--bogus"])).is_err());
    }
}
