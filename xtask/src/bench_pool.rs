//! `cargo xtask bench pool`: what the multi-server client's pool costs.
//!
//! `bench-client-pool` drives the same `tools/call echo` load through a raw
//! `mcp_client::Client` and through `mcp_client::multi::MultiClient` (pool, breaker, retries
//! and metrics on every call), over stdio (`bench-ours`, spawned by the client) and Streamable
//! HTTP (`bench-http-ours`), at 1 and 16 calls in flight. Runs are interleaved (raw, pool, raw,
//! pool, ...), each attempt waits for a quiet machine, the median run by calls/s is kept, and
//! every run's JSON line is appended to `target/bench/pool.jsonl`. The goal: the pool costs at
//! most 5% of calls/s (pool / raw >= 0.95). See `docs/benchmarks.md`.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::bench::{
    ATTEMPTS, DISTURBED_PCT, append_log, json_line_of, json_number, median_by, target_dir,
    wait_for_quiet,
};
use crate::process::{cargo, display, repo_root, run_ok};

/// Usage of `cargo xtask bench pool`, for the `bench` usage text.
pub(crate) const USAGE: &str =
    "  pool      The pool benchmark (bench/): a raw client against the multi-server client's
            pool, over stdio and HTTP, at 1 and 16 calls in flight (goal: pool >= 95%).
            --runs N                 runs per case, the median is kept (default 3)
            --quick                  one run per case, fewer calls (a smoke test)
";

/// Options of `cargo xtask bench pool`.
#[derive(Debug, Clone, PartialEq)]
struct PoolOptions {
    /// Runs per case; the median is reported.
    runs: usize,
    /// Fewer calls, for a smoke test.
    quick: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            runs: 3,
            quick: false,
        }
    }
}

impl PoolOptions {
    /// Parses the arguments after `pool`.
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
                other => return Err(format!("unknown option {other:?} for `bench pool`")),
            }
        }
        options.runs = runs.unwrap_or(if options.quick { 1 } else { 3 });
        Ok(options)
    }
}

/// A transport of the table: its name and the server binary.
#[derive(Debug, Clone, Copy)]
struct Transport {
    /// `stdio` or `http` (`bench-client-pool --transport`).
    name: &'static str,
    /// The `mcp-bench` server binary.
    server: &'static str,
}

const TRANSPORTS: &[Transport] = &[
    Transport {
        name: "stdio",
        server: "bench-ours",
    },
    Transport {
        name: "http",
        server: "bench-http-ours",
    },
];

/// The two clients compared, in run order.
const VIAS: &[&str] = &["raw", "pool"];

/// One load: calls in flight, calls measured, warm-up calls.
#[derive(Debug, Clone, Copy)]
struct Load {
    in_flight: u32,
    calls: u32,
    warmup: u32,
}

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

/// Time limit of one measured window, seconds.
const MAX_SECONDS: &str = "5";

/// The numbers of one run.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    calls_per_s: f64,
    p50_us: f64,
    client_cpu_ms: f64,
    other_cpu_pct: f64,
}

impl Run {
    fn from_json(line: &str) -> Option<Self> {
        Some(Self {
            calls_per_s: json_number(line, "calls_per_s")?,
            p50_us: json_number(line, "p50_us")?,
            client_cpu_ms: json_number(line, "client_cpu_ms_per_1k")?,
            other_cpu_pct: json_number(line, "other_cpu_pct")?,
        })
    }

    fn disturbed(&self) -> bool {
        self.other_cpu_pct > DISTURBED_PCT
    }
}

/// `cargo xtask bench pool [OPTIONS]`; `usage` is the `bench` usage text.
pub(crate) fn dispatch(args: &[String], usage: &str) -> ExitCode {
    match PoolOptions::parse(args) {
        Ok(options) if run(&options) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: {message}\n");
            eprint!("{usage}{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The pool benchmark with its defaults, as the plain `cargo xtask bench` runs it.
pub(crate) fn run_default() -> bool {
    run(&PoolOptions::default())
}

fn run(options: &PoolOptions) -> bool {
    let mut build = cargo(&["build", "--release", "-p", "mcp-bench", "--bins"]);
    println!("$ {}", display(&build));
    if !run_ok(&mut build) {
        eprintln!("xtask: building the pool benchmark failed");
        return false;
    }
    let bin_dir = target_dir(&repo_root()).join("release");
    let log_path = target_dir(&repo_root()).join("bench").join("pool.jsonl");
    let loads: Vec<Load> = LOADS
        .iter()
        .map(|l| {
            if options.quick {
                Load {
                    calls: l.calls / 10,
                    warmup: l.warmup / 10,
                    ..*l
                }
            } else {
                *l
            }
        })
        .collect();
    let interactive = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut log = String::new();
    let mut ok = true;
    // results[transport][load][via] = every run.
    let mut results = vec![vec![vec![Vec::new(); VIAS.len()]; loads.len()]; TRANSPORTS.len()];
    for round in 1..=options.runs {
        println!("round {round}/{}", options.runs);
        for (t, transport) in TRANSPORTS.iter().enumerate() {
            for (l, load) in loads.iter().enumerate() {
                for (v, via) in VIAS.iter().enumerate() {
                    if interactive {
                        print!(
                            "\r  {} {:>2} in flight, {via}      ",
                            transport.name, load.in_flight
                        );
                        let _ = std::io::Write::flush(&mut std::io::stdout());
                    }
                    match run_case(&bin_dir, transport, load, via, &mut log) {
                        Ok(r) => results[t][l][v].push(r),
                        Err(message) => {
                            eprintln!(
                                "\nxtask: {} {via}, {} in flight: {message}",
                                transport.name, load.in_flight
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
    }
    if interactive {
        println!();
    }
    println!(
        "\nthe multi-server client's pool against a raw client, echo tool, legacy era — median of {} run(s) by calls/s",
        options.runs
    );
    println!(
        "| {:<9} | {:>9} | {:>11} | {:>11} | {:>8} | {:>8} | {:>13} | {:>13} | {:>10} |",
        "transport",
        "in flight",
        "raw calls/s",
        "pool calls/s",
        "raw p50",
        "pool p50",
        "raw CPU ms/1k",
        "pool CPU ms/1k",
        "pool / raw"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(13),
        "-".repeat(13),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(15),
        "-".repeat(16),
        "-".repeat(12)
    );
    let mut verdicts = Vec::new();
    let mut any_disturbed = false;
    for (t, transport) in TRANSPORTS.iter().enumerate() {
        for (l, load) in loads.iter().enumerate() {
            let median = |v: usize| median_by(&results[t][l][v], |r: &Run| r.calls_per_s);
            let (Some(raw), Some(pool)) = (median(0), median(1)) else {
                println!(
                    "| {:<9} | {:>9} | {:>11} | {:>11} | {:>8} | {:>8} | {:>13} | {:>14} | {:>10} |",
                    transport.name, load.in_flight, "failed", "", "", "", "", "", ""
                );
                continue;
            };
            let ratio = pool.calls_per_s / raw.calls_per_s;
            let mark = if raw.disturbed() || pool.disturbed() {
                any_disturbed = true;
                "*"
            } else {
                ""
            };
            println!(
                "| {:<9} | {:>9} | {:>11.0} | {:>11.0} | {:>8.0} | {:>8.0} | {:>13.1} | {:>14.1} | {:>9.3}{mark:1} |",
                transport.name,
                load.in_flight,
                raw.calls_per_s,
                pool.calls_per_s,
                raw.p50_us,
                pool.p50_us,
                raw.client_cpu_ms,
                pool.client_cpu_ms,
                ratio
            );
            verdicts.push((transport.name, load.in_flight, ratio));
        }
    }
    println!("  raw:  mcp_client::Client (spawn / connect_http), call_tool from N tasks");
    println!(
        "  pool: mcp_client::multi::MultiClient::call_tool with its defaults (pool lookup, \
         breaker, retries, prometheus metrics per call)"
    );
    if any_disturbed {
        println!(
            "  *     other processes used more than {DISTURBED_PCT}% of the CPU during every \
             attempt: not reliable"
        );
    }
    for (transport, in_flight, ratio) in verdicts {
        println!(
            "  goal {transport} at {in_flight} in flight: pool / raw >= 0.95: {ratio:.3} {}",
            if ratio >= 0.95 { "met" } else { "NOT met" }
        );
    }
    println!(
        "pool benchmark: {:.0} s; every run's JSON line was appended to {}",
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    if let Err(error) = append_log(&log_path, &log) {
        eprintln!("xtask: could not write {}: {error}", log_path.display());
    }
    ok
}

/// Runs one case on a quiet machine, retrying disturbed runs; logs every attempt's line.
fn run_case(
    bin_dir: &Path,
    transport: &Transport,
    load: &Load,
    via: &str,
    log: &mut String,
) -> Result<Run, String> {
    let mut best: Option<Run> = None;
    for _ in 0..ATTEMPTS {
        wait_for_quiet();
        let mut command = Command::new(bin_dir.join("bench-client-pool"));
        command
            .args(["--via", via, "--transport", transport.name])
            .args(["--label", &format!("{via}/{}", transport.name)])
            .args(["--in-flight", &load.in_flight.to_string()])
            .args(["--calls", &load.calls.to_string()])
            .args(["--warmup", &load.warmup.to_string()])
            .args(["--max-seconds", MAX_SECONDS])
            .args(["--era", "legacy"])
            .arg("--")
            .arg(bin_dir.join(transport.server));
        let line = json_line_of(command, "bench-client-pool")?;
        log.push_str(&line);
        log.push('\n');
        let run = Run::from_json(&line)
            .ok_or_else(|| format!("unexpected bench-client-pool output: {line}"))?;
        let disturbed = run.disturbed();
        if best
            .as_ref()
            .is_none_or(|b| run.other_cpu_pct < b.other_cpu_pct)
        {
            best = Some(run);
        }
        if !disturbed {
            break;
        }
    }
    best.ok_or_else(|| String::from("no attempt ran"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pool_options() {
        let args = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(PoolOptions::parse(&[]).unwrap(), PoolOptions::default());
        assert_eq!(
            PoolOptions::parse(&args(&["--quick"])).unwrap(),
            PoolOptions {
                runs: 1,
                quick: true
            }
        );
        assert_eq!(PoolOptions::parse(&args(&["--runs", "5"])).unwrap().runs, 5);
        assert!(PoolOptions::parse(&args(&["--runs", "0"])).is_err());
        assert!(PoolOptions::parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn reads_a_run() {
        let line = r#"{"label":"pool/stdio","client":"pool","calls_per_s":41000.5,"p50_us":21.0,"client_cpu_ms_per_1k":12.5,"other_cpu_pct":0.4}"#;
        let r = Run::from_json(line).unwrap();
        assert_eq!((r.calls_per_s, r.disturbed()), (41000.5, false));
    }
}
