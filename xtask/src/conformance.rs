//! `cargo xtask conformance`: the official MCP conformance suite against our
//! `conformance-server` (the server leg) and `conformance-client` (the client leg).
//!
//! 1. Makes sure the peers are installed (Node 22 and `@modelcontextprotocol/conformance`,
//!    see `peers.rs`), installing them when `peers.env` is missing or incomplete.
//! 2. Builds `conformance-server` and `conformance-client` (debug by default, `--release` on
//!    request) and starts the server on `127.0.0.1:0`; its first stdout line is its URL.
//! 3. Runs the server leg for each revision, `conformance server --url URL --requirements REV
//!    -o DIR`, echoing the suite's output. The suite prints per-scenario lines
//!    (`✓ NAME: N passed, M failed`), a `Total: N passed, M failed` line and the scenarios it ran
//!    without scoring them (extensions, pending, added after the release); each scenario's checks
//!    are read from its `checks.json` under `DIR`.
//! 4. Runs the client leg for each revision, `conformance client --command CLIENT
//!    --requirements REV -o DIR`, inside a private network namespace with only loopback up
//!    (`unshare -n`; `unshare -rn` when not root): the suite's mock servers listen on every
//!    interface. Same output, same parsing.
//! 5. Judges the scored scenarios of each leg against `conformance/expected-failures.txt`: a
//!    failing check not listed there fails the run, and so does a listed failure that did not
//!    happen (the entry must be removed). In the client leg a warning is a failure, as the
//!    suite itself counts it. Scenarios the suite does not score are reported, never failed.
//! 6. With `--suite all`, also runs `--suite all --spec-version REV` for each revision and leg
//!    and reports it, for information only.
//!
//! `cargo xtask ci` runs steps 1 to 5 as its `conformance` step, counting each check of the
//! scored scenarios (the suite's own per-scenario numbers), both revisions and legs summed;
//! the checks of scenarios listed wholesale as expected failures are not counted.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::peers;
use crate::process::{cargo, describe_status, display, repo_root};
use crate::test_output::Counts;

/// The revisions whose legs run, in order.
pub(crate) const REVISIONS: [&str; 2] = ["2025-11-25", "2026-07-28"];

/// The expected-failures file, relative to the repository root.
const EXPECTED_FAILURES: &str = "conformance/expected-failures.txt";

/// How long the server may take to print its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Usage of `cargo xtask conformance`.
const USAGE: &str = "\
Usage: cargo xtask conformance [--leg server|client] [--suite all] [--release]

Builds conformance-server and conformance-client and runs the official MCP
conformance suite: the server leg (conformance-server on 127.0.0.1), then the
client leg (in a private network namespace, `unshare -n`, loopback only), each
with --requirements 2025-11-25, then --requirements 2026-07-28. Fails on any
failing check of a scored scenario not listed in
conformance/expected-failures.txt (in the client leg, warnings too), and on a
listed failure that no longer happens. Scenarios the suite runs without scoring
them (extensions such as tasks, pending ones) are reported, not failed.

  --leg LEG     run only the server or only the client leg (default: both)
  --suite all   also run --suite all --spec-version REV for each revision, for
                information (never fails the run)
  --release     build the binaries with the release profile (slower to build;
                the default debug build is enough for the suite)

Results: <target dir>/conformance/<leg>-<revision>/.../checks.json (and
all-<revision>, client-all-<revision> for --suite all).
";

/// The command line of `cargo xtask conformance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Also run `--suite all` for each revision, for information.
    suite_all: bool,
    /// Build the binaries with the release profile.
    release: bool,
    /// Run the server leg.
    server: bool,
    /// Run the client leg.
    client: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            suite_all: false,
            release: false,
            server: true,
            client: true,
        }
    }
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--suite" => match args.next().map(String::as_str) {
                Some("all") => options.suite_all = true,
                Some(other) => return Err(format!("unknown suite `{other}` (only `all`)")),
                None => return Err("--suite needs a value (`all`)".to_owned()),
            },
            "--release" => options.release = true,
            "--leg" => match args.next().map(String::as_str) {
                Some("server") => (options.server, options.client) = (true, false),
                Some("client") => (options.server, options.client) = (false, true),
                Some(other) => {
                    return Err(format!("unknown leg `{other}` (`server` or `client`)"));
                }
                None => return Err("--leg needs a value (`server` or `client`)".to_owned()),
            },
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(options)
}

/// `cargo xtask conformance [--leg server|client] [--suite all] [--release]`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("xtask: conformance: {error}\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let report = legs(options);
    if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What a run of the legs found, for the CI summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LegReport {
    /// Checks of scored scenarios that passed, and that failed unexpectedly (plus one per stale
    /// expected failure and per run that could not be judged), both revisions and legs summed.
    pub(crate) counts: Counts,
    /// A one-line summary.
    pub(crate) note: String,
}

impl LegReport {
    fn failed(&self) -> bool {
        self.counts.failed > 0
    }
}

/// Runs the legs `options` asks for, for both revisions (and `--suite all` when asked), prints a
/// summary and returns the counts.
pub(crate) fn legs(options: Options) -> LegReport {
    let started = Instant::now();
    match prepare_and_run(options) {
        Ok(mut report) => {
            let _ = write!(report.note, " ({:.0}s)", started.elapsed().as_secs_f64());
            report
        }
        Err(error) => {
            eprintln!("xtask: conformance: {error}");
            LegReport {
                counts: Counts {
                    passed: 0,
                    failed: 1,
                },
                note: format!("could not run: {error}"),
            }
        }
    }
}

/// The peers' paths this command needs.
#[derive(Debug)]
struct Suite {
    /// The Node 22 binary.
    node: PathBuf,
    /// The suite's `dist/index.js`.
    entry: PathBuf,
}

/// `NODE22` and `CONFORMANCE` from `peers.env`, installing the peers first when needed.
fn suite() -> Result<Suite, String> {
    let find = |env: &[(String, String)]| {
        let get = |key: &str| {
            env.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| PathBuf::from(v))
                .filter(|p| p.is_file())
        };
        Some(Suite {
            node: get("NODE22")?,
            entry: get("CONFORMANCE")?,
        })
    };
    if let Some(suite) = peers::read_env().ok().as_deref().and_then(find) {
        return Ok(suite);
    }
    println!("the conformance suite is not installed; running `cargo xtask peers`");
    peers::ensure(false)?;
    let env = peers::read_env()?;
    find(&env).ok_or_else(|| {
        format!(
            "{} names no existing NODE22 and CONFORMANCE",
            peers::env_file_path().display()
        )
    })
}

fn prepare_and_run(options: Options) -> Result<LegReport, String> {
    let suite = suite()?;
    let expected_text = fs::read_to_string(repo_root().join(EXPECTED_FAILURES))
        .map_err(|e| format!("cannot read {EXPECTED_FAILURES}: {e}"))?;
    let expected = parse_expected(&expected_text)?;

    let mut bins = Vec::new();
    if options.server {
        bins.push(SERVER_BIN);
    }
    if options.client {
        bins.push(CLIENT_BIN);
    }
    let binaries = build(&bins, options.release)?;
    let results_root = peers::target_dir_path().join("conformance");

    let mut counts = Counts::default();
    let mut parts = Vec::new();
    if options.server {
        let server = RunningServer::start(&binaries[0])?;
        println!("conformance-server listening at {}", server.url);
        let target = Target::Server(&server.url);
        let (verdicts, informational) = run_leg(&suite, &target, &results_root, &expected, options);
        server.stop();
        print_summary(Leg::Server, &verdicts, &informational);
        parts.push(tally(Leg::Server, &verdicts, &mut counts));
    }
    if options.client {
        let client = binaries.last().ok_or("no client binary was built")?;
        let target = Target::Client(client);
        let (verdicts, informational) = run_leg(&suite, &target, &results_root, &expected, options);
        print_summary(Leg::Client, &verdicts, &informational);
        parts.push(tally(Leg::Client, &verdicts, &mut counts));
    }
    Ok(LegReport {
        counts,
        note: parts.join("; "),
    })
}

/// A revision's verdict, or why its leg could not be judged.
type RevisionVerdict = (&'static str, Result<Verdict, String>);

/// A revision's `--suite all` run, reported for information.
type InformationalRun = (&'static str, Result<SuiteRun, String>);

/// Runs one leg for every revision (and `--suite all` when asked).
fn run_leg(
    suite: &Suite,
    target: &Target<'_>,
    results_root: &Path,
    expected: &[Expected],
    options: Options,
) -> (Vec<RevisionVerdict>, Vec<InformationalRun>) {
    let leg = target.leg();
    let mut verdicts = Vec::new();
    for revision in REVISIONS {
        let dir = results_root.join(format!("{}-{revision}", leg.name()));
        let args = ["--requirements", revision];
        let verdict = run_suite(suite, target, &args, &dir).and_then(|run| {
            let checks = read_checks(suite, leg, &dir)?;
            Ok(judge(leg, revision, &run, &checks, expected))
        });
        verdicts.push((revision, verdict));
    }
    let mut informational = Vec::new();
    if options.suite_all {
        for revision in REVISIONS {
            let name = match leg {
                Leg::Server => format!("all-{revision}"),
                Leg::Client => format!("client-all-{revision}"),
            };
            let args = ["--suite", "all", "--spec-version", revision];
            informational.push((
                revision,
                run_suite(suite, target, &args, &results_root.join(name)),
            ));
        }
    }
    (verdicts, informational)
}

/// Adds a leg's checks to `counts` and says what they were, for the CI note.
fn tally(leg: Leg, verdicts: &[RevisionVerdict], counts: &mut Counts) -> String {
    let mut parts = Vec::new();
    let mut expected_scenarios = 0;
    for (revision, verdict) in verdicts {
        match verdict {
            Ok(v) => {
                counts.passed += v.passed;
                counts.failed += v.failures();
                expected_scenarios += v.expected_scenarios.len();
                parts.push(format!(
                    "{revision}: {}/{} checks",
                    v.passed,
                    v.passed + v.failures()
                ));
            }
            Err(_) => {
                counts.failed += 1;
                parts.push(format!("{revision}: could not run"));
            }
        }
    }
    let mut note = format!("{} leg, scored checks: {}", leg.name(), parts.join(", "));
    if expected_scenarios > 0 {
        let _ = write!(
            note,
            " ({expected_scenarios} auth scenario runs expected to fail)"
        );
    }
    note
}

/// The fixture server's binary.
const SERVER_BIN: &str = "conformance-server";
/// The client's binary.
const CLIENT_BIN: &str = "conformance-client";

/// Builds `bins` of `mcp-conformance` in one cargo run and returns their paths, in order.
fn build(bins: &[&str], release: bool) -> Result<Vec<PathBuf>, String> {
    let mut args = vec!["build", "--locked", "-p", "mcp-conformance"];
    for bin in bins {
        args.extend(["--bin", bin]);
    }
    if release {
        args.push("--release");
    }
    let mut command = cargo(&args);
    println!("$ {}", display(&command));
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", display(&command)))?;
    if !status.success() {
        return Err(format!(
            "building {} failed ({})",
            bins.join(" and "),
            describe_status(status)
        ));
    }
    println!(
        "built {} in {:.1}s",
        bins.join(" and "),
        started.elapsed().as_secs_f64()
    );
    let profile = if release { "release" } else { "debug" };
    bins.iter()
        .map(|bin| {
            let binary = peers::target_dir_path()
                .join(profile)
                .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
            if binary.is_file() {
                Ok(binary)
            } else {
                Err(format!("the build left no {}", binary.display()))
            }
        })
        .collect()
}

/// The server process, stopped (stdin closed, then killed if it lingers) when dropped.
struct RunningServer {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
}

impl RunningServer {
    fn start(binary: &Path) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut server = Self {
            child,
            stdin,
            url: String::new(),
        };
        let stdout = stdout.ok_or("the server's stdout was not captured")?;
        let (tx, rx) = mpsc::channel();
        // Reads the URL line, then drains stdout so the server never writes into a full pipe.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let first = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(first);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(format!("reading the server's URL failed: {e}")),
            Err(_) => {
                return Err(format!(
                    "the server printed no URL within {}s",
                    STARTUP_TIMEOUT.as_secs()
                ));
            }
        };
        let url = line.trim();
        if !url.starts_with("http://127.0.0.1:") {
            return Err(format!("the server's first line is not its URL: {url:?}"));
        }
        server.url = url.to_owned();
        Ok(server)
    }

    /// Closes stdin (the server shuts down gracefully), waits up to 5 s, then kills it.
    fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.shutdown();
        }
    }
}

/// One scenario line of the suite's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ScenarioLine {
    name: String,
    passed: u64,
    failed: u64,
}

/// A scenario the suite ran without scoring it, and why (`extension`, `pending`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
struct NotScored {
    name: String,
    reason: String,
    ok: bool,
}

/// What one run of the suite printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SuiteRun {
    scenarios: Vec<ScenarioLine>,
    total: Option<Counts>,
    not_scored: Vec<NotScored>,
    status: Option<i32>,
}

impl SuiteRun {
    fn is_scored(&self, scenario: &str) -> bool {
        !self.not_scored.iter().any(|n| n.name == scenario)
    }
}

/// What a leg drives.
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    /// The server leg, against the running `conformance-server` at this URL.
    Server(&'a str),
    /// The client leg, with this `conformance-client` binary.
    Client(&'a Path),
}

impl Target<'_> {
    fn leg(&self) -> Leg {
        match self {
            Self::Server(_) => Leg::Server,
            Self::Client(_) => Leg::Client,
        }
    }
}

/// Whether this process runs as root (`unshare -n` needs it; otherwise `unshare -rn` maps the
/// user to root in a new user namespace first).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Runs the suite against `target` with `ARGS -o DIR`, echoing its output, and parses it. The
/// client leg runs in a private network namespace whose only interface is loopback, brought up
/// first: the suite's mock servers listen on every interface.
fn run_suite(
    suite: &Suite,
    target: &Target<'_>,
    args: &[&str],
    dir: &Path,
) -> Result<SuiteRun, String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    let mut command;
    match target {
        Target::Server(url) => {
            command = Command::new(&suite.node);
            command.arg(&suite.entry).args(["server", "--url", url]);
            println!("\n$ node conformance server --url {url} {}", args.join(" "));
        }
        Target::Client(binary) => {
            let binary = binary
                .to_str()
                .filter(|b| !b.contains(char::is_whitespace))
                .ok_or_else(|| {
                    format!(
                        "{} has whitespace in its path; the suite splits --command on spaces",
                        binary.display()
                    )
                })?;
            command = Command::new("unshare");
            command
                .arg(if is_root() { "-n" } else { "-rn" })
                .args(["sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
                .arg(&suite.node)
                .arg(&suite.entry)
                .args(["client", "--command", binary]);
            println!(
                "\n$ unshare -n: node conformance client --command {binary} {}",
                args.join(" ")
            );
        }
    }
    command
        .args(args)
        .arg("-o")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start the conformance suite: {e}"))?;
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        let mut echo = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the suite's output: {e}"))?;
            let _ = writeln!(echo, "{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status: ExitStatus = child
        .wait()
        .map_err(|e| format!("waiting for the conformance suite: {e}"))?;
    let mut run = parse_suite_output(&output);
    run.status = status.code();
    if run.total.is_none() {
        let hint = match target {
            Target::Server(_) => "",
            Target::Client(_) => {
                "; the client leg needs `unshare` and `ip` (util-linux, iproute2) and the right to make namespaces"
            }
        };
        return Err(format!(
            "the suite printed no `Total:` line ({}{hint})",
            describe_status(status)
        ));
    }
    Ok(run)
}

/// Removes ANSI colour sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `N passed, M failed` (and any further `, K warnings, ...` parts, which are ignored).
fn parse_counts(text: &str) -> Option<Counts> {
    let mut passed = None;
    let mut failed = None;
    for part in text.split(',') {
        let mut words = part.split_whitespace();
        let (Some(number), Some(label), None) = (words.next(), words.next(), words.next()) else {
            return None;
        };
        let number = number.parse().ok()?;
        match label {
            "passed" => passed = Some(number),
            "failed" => failed = Some(number),
            _ => {}
        }
    }
    Some(Counts {
        passed: passed?,
        failed: failed?,
    })
}

/// Parses the suite's summary: scenario lines, the `Total:` line, the not-scored list.
fn parse_suite_output(output: &str) -> SuiteRun {
    let mut run = SuiteRun::default();
    let mut in_not_scored = false;
    for raw in output.lines() {
        let line = strip_ansi(raw);
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Total:") {
            run.total = parse_counts(rest);
            continue;
        }
        if trimmed.starts_with("Not scored for") {
            in_not_scored = true;
            continue;
        }
        let (ok, rest) = if let Some(rest) = trimmed.strip_prefix('✓') {
            (true, rest.trim())
        } else if let Some(rest) = trimmed.strip_prefix('✗') {
            (false, rest.trim())
        } else {
            if trimmed.is_empty() {
                in_not_scored = false;
            }
            continue;
        };
        if in_not_scored {
            // `NAME (reason)`
            if let Some((name, reason)) = rest.split_once(" (") {
                run.not_scored.push(NotScored {
                    name: name.trim().to_owned(),
                    reason: reason.trim_end_matches(')').to_owned(),
                    ok,
                });
            }
        } else if let Some((name, counts)) = rest.rsplit_once(": ")
            && let Some(counts) = parse_counts(counts)
        {
            run.scenarios.push(ScenarioLine {
                name: name.to_owned(),
                passed: counts.passed,
                failed: counts.failed,
            });
        }
    }
    run
}

/// One check from a scenario's `checks.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    scenario: String,
    id: String,
    status: String,
    message: String,
}

/// Prints every check under a results folder as `check\tSCENARIO\tID\tSTATUS\tMESSAGE` lines.
/// One folder per scenario, named after it with `MCP_CONFORMANCE_PREFIX` before and a timestamp
/// after, each with a `checks.json`: `server-<scenario>-<timestamp>` in the server leg,
/// `<scenario>-<timestamp>` in the client leg, where `auth/x` is the folder `x-<timestamp>`
/// inside `auth`.
const CHECKS_SCRIPT: &str = r#"
const fs = require("fs"), path = require("path");
const dir = process.env.MCP_CONFORMANCE_RESULTS;
const prefix = process.env.MCP_CONFORMANCE_PREFIX ?? "";
const flat = (s) => String(s ?? "").replace(/\s+/g, " ").trim();
const folders = (rel, depth) => {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = rel ? rel + "/" + entry.name : entry.name;
    if (fs.existsSync(path.join(dir, child, "checks.json"))) out.push(child);
    else if (depth > 0) out.push(...folders(child, depth - 1));
  }
  return out;
};
// The newest folder of each scenario only: another run writing into the same folder at the
// same time (two runs at once in one target dir) leaves a second one.
const newest = new Map();
for (const rel of folders("", 1).sort()) {
  const m = /^(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(rel);
  if (m && m[1].startsWith(prefix)) newest.set(m[1].slice(prefix.length), rel);
}
for (const [scenario, rel] of newest) {
  let checks;
  try {
    checks = JSON.parse(fs.readFileSync(path.join(dir, rel, "checks.json"), "utf8"));
  } catch (e) {
    console.log(["unreadable", scenario, "", "", flat(e.message)].join("\t"));
    continue;
  }
  for (const c of checks) {
    console.log(["check", scenario, flat(c.id), flat(c.status), flat(c.errorMessage)].join("\t"));
  }
}
"#;

/// Reads the checks of every scenario of a run of `leg` from its results folder.
fn read_checks(suite: &Suite, leg: Leg, dir: &Path) -> Result<Vec<Check>, String> {
    let prefix = match leg {
        Leg::Server => "server-",
        Leg::Client => "",
    };
    let output = Command::new(&suite.node)
        .arg("-e")
        .arg(CHECKS_SCRIPT)
        .env("MCP_CONFORMANCE_RESULTS", dir)
        .env("MCP_CONFORMANCE_PREFIX", prefix)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run node to read the results: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "reading the results in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text =
        String::from_utf8(output.stdout).map_err(|e| format!("the results are not UTF-8: {e}"))?;
    Ok(parse_checks(&text))
}

fn parse_checks(text: &str) -> Vec<Check> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(5, '\t');
            let kind = fields.next()?;
            let scenario = fields.next()?.to_owned();
            let id = fields.next().unwrap_or_default().to_owned();
            let status = fields.next().unwrap_or_default().to_owned();
            let message = fields.next().unwrap_or_default().to_owned();
            match kind {
                "check" => Some(Check {
                    scenario,
                    id,
                    status,
                    message,
                }),
                "unreadable" => Some(Check {
                    scenario,
                    id: "checks.json".to_owned(),
                    status: "UNREADABLE".to_owned(),
                    message,
                }),
                _ => None,
            }
        })
        .collect()
}

/// A leg of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Server,
    Client,
}

impl Leg {
    fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
        }
    }
}

/// One line of `conformance/expected-failures.txt`: `LEG REVISION SCENARIO[:CHECK-ID]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    leg: Leg,
    revision: String,
    scenario: String,
    check: Option<String>,
}

impl Expected {
    fn matches(&self, leg: Leg, revision: &str, check: &Check) -> bool {
        self.leg == leg
            && self.revision == revision
            && self.scenario == check.scenario
            && self.check.as_ref().is_none_or(|c| *c == check.id)
    }

    fn label(&self) -> String {
        let leg = self.leg.name();
        match &self.check {
            Some(check) => format!("{leg} {} {}:{check}", self.revision, self.scenario),
            None => format!("{leg} {} {}", self.revision, self.scenario),
        }
    }
}

/// Parses the expected-failures file. Only authorization scenarios (`auth/...`) may be listed:
/// they belong to the auth work, which is not built yet; everything else must pass.
fn parse_expected(text: &str) -> Result<Vec<Expected>, String> {
    let mut entries = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let at = |msg: String| format!("{EXPECTED_FAILURES}:{}: {msg}", number + 1);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [leg, revision, target] = fields[..] else {
            return Err(at(format!(
                "expected `LEG REVISION SCENARIO[:CHECK]`, got `{line}`"
            )));
        };
        let leg = match leg {
            "server" => Leg::Server,
            "client" => Leg::Client,
            other => return Err(at(format!("unknown leg `{other}` (server or client)"))),
        };
        if !REVISIONS.contains(&revision) {
            return Err(at(format!("unknown revision `{revision}`")));
        }
        let (scenario, check) = match target.split_once(':') {
            Some((scenario, check)) => (scenario, Some(check.to_owned())),
            None => (target, None),
        };
        if !scenario.starts_with("auth/") {
            return Err(at(format!(
                "`{scenario}` is not an authorization scenario: only auth/ scenarios may be \
                 expected to fail (docs/conformance.md)"
            )));
        }
        let entry = Expected {
            leg,
            revision: revision.to_owned(),
            scenario: scenario.to_owned(),
            check,
        };
        if entries.contains(&entry) {
            return Err(at(format!("`{}` is listed twice", entry.label())));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The judgement of one revision's leg.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Verdict {
    /// Scored scenarios, and the checks that passed (not counting scenarios listed wholesale as
    /// expected failures).
    scenarios: usize,
    passed: u64,
    /// Scored scenarios listed wholesale as expected failures.
    expected_scenarios: Vec<String>,
    /// Failing checks of scored scenarios that are not expected to fail.
    unexpected: Vec<String>,
    /// Failing checks that are expected to fail.
    expected: Vec<String>,
    /// Expected failures that did not happen: remove them.
    stale: Vec<String>,
    /// Warnings of scored scenarios (server leg: reported, not failed; the client leg counts
    /// them as failures, as the suite does).
    warnings: Vec<String>,
    /// The suite's own `Total:` line (every scenario it ran, scored or not).
    total: Option<Counts>,
    /// Scenarios run without being scored.
    not_scored: Vec<NotScored>,
    /// Not-scored checks that failed, for the report.
    not_scored_failures: u64,
}

impl Verdict {
    fn failures(&self) -> u64 {
        (self.unexpected.len() + self.stale.len()) as u64
    }
}

fn judge(
    leg: Leg,
    revision: &str,
    run: &SuiteRun,
    checks: &[Check],
    expected: &[Expected],
) -> Verdict {
    let mut verdict = Verdict {
        total: run.total,
        not_scored: run.not_scored.clone(),
        ..Verdict::default()
    };
    let mut matched: BTreeSet<usize> = BTreeSet::new();
    let wholesale = |scenario: &str| {
        expected.iter().position(|e| {
            e.leg == leg && e.revision == revision && e.scenario == scenario && e.check.is_none()
        })
    };
    // The suite passes a server with warnings, and fails a client on them.
    let warning_fails = leg == Leg::Client;
    for scenario in run.scenarios.iter().filter(|s| run.is_scored(&s.name)) {
        verdict.scenarios += 1;
        let listed = wholesale(&scenario.name);
        match listed {
            Some(_) => verdict.expected_scenarios.push(scenario.name.clone()),
            None => verdict.passed += scenario.passed,
        }
        let failing: Vec<&Check> = checks
            .iter()
            .filter(|c| c.scenario == scenario.name && !is_pass(&c.status))
            .collect();
        for check in &failing {
            let label = format!(
                "{}:{} {}: {}",
                check.scenario, check.id, check.status, check.message
            );
            if check.status == "WARNING" && !warning_fails {
                verdict.warnings.push(label);
                continue;
            }
            match expected
                .iter()
                .position(|e| e.matches(leg, revision, check))
            {
                Some(index) => {
                    matched.insert(index);
                    verdict.expected.push(label);
                }
                None => verdict.unexpected.push(label),
            }
        }
        let hard = failing
            .iter()
            .filter(|c| warning_fails || c.status != "WARNING")
            .count() as u64;
        if scenario.failed > hard {
            // The suite counted more failures than the checks show (results not written?).
            let label = format!(
                "{}: {} failed check(s) without details in checks.json",
                scenario.name,
                scenario.failed - hard
            );
            match listed {
                Some(index) => {
                    matched.insert(index);
                    verdict.expected.push(label);
                }
                None => verdict.unexpected.push(label),
            }
        }
    }
    for check in checks.iter().filter(|c| !run.is_scored(&c.scenario)) {
        if !is_pass(&check.status) && check.status != "WARNING" {
            verdict.not_scored_failures += 1;
        }
    }
    for (index, entry) in expected.iter().enumerate() {
        if entry.leg == leg && entry.revision == revision && !matched.contains(&index) {
            verdict.stale.push(entry.label());
        }
    }
    if run.scenarios.is_empty() {
        verdict
            .unexpected
            .push("the suite reported no scenario at all".to_owned());
    }
    if run.status != Some(0) && verdict.unexpected.is_empty() && verdict.expected.is_empty() {
        verdict.unexpected.push(format!(
            "the suite exited with {:?} although no scored check failed",
            run.status
        ));
    }
    verdict
}

/// Statuses that are not failures.
fn is_pass(status: &str) -> bool {
    matches!(status, "SUCCESS" | "INFO" | "SKIPPED")
}

fn print_summary(leg: Leg, verdicts: &[RevisionVerdict], informational: &[InformationalRun]) {
    println!("\nConformance summary ({} leg)", leg.name());
    for (revision, v) in verdicts {
        let v = match v {
            Ok(v) => v,
            Err(error) => {
                println!("  {revision}: COULD NOT RUN: {error}");
                continue;
            }
        };
        let total = v.total.map_or_else(
            || "no Total line".to_owned(),
            |t| format!("Total: {} passed, {} failed", t.passed, t.failed),
        );
        println!(
            "  {revision}: {} scored scenarios ({} expected to fail), {} checks passed, {} \
             unexpected failures, {} expected failures; suite's {total}",
            v.scenarios,
            v.expected_scenarios.len(),
            v.passed,
            v.unexpected.len(),
            v.expected.len()
        );
        for line in &v.unexpected {
            println!("    UNEXPECTED FAILURE {line}");
        }
        if !v.expected_scenarios.is_empty() {
            println!(
                "    expected to fail (listed in {EXPECTED_FAILURES}): {}",
                v.expected_scenarios.join(", ")
            );
        }
        for line in &v.stale {
            println!(
                "    STALE: `{line}` is listed in {EXPECTED_FAILURES} but did not fail: remove it"
            );
        }
        for line in &v.warnings {
            println!("    warning {line}");
        }
        if !v.not_scored.is_empty() {
            let listed: Vec<String> = v
                .not_scored
                .iter()
                .map(|n| format!("{} {} ({})", if n.ok { "✓" } else { "✗" }, n.name, n.reason))
                .collect();
            println!(
                "    not scored, reported only ({} failing checks): {}",
                v.not_scored_failures,
                listed.join(", ")
            );
        }
    }
    for (revision, run) in informational {
        match run {
            Ok(run) => {
                let failing: Vec<&str> = run
                    .scenarios
                    .iter()
                    .filter(|s| s.failed > 0)
                    .map(|s| s.name.as_str())
                    .collect();
                let total = run.total.unwrap_or_default();
                println!(
                    "  --suite all --spec-version {revision} (information): {} scenarios, Total: \
                     {} passed, {} failed{}",
                    run.scenarios.len(),
                    total.passed,
                    total.failed,
                    if failing.is_empty() {
                        String::new()
                    } else {
                        format!("; failing: {}", failing.join(", "))
                    }
                );
            }
            Err(error) => println!(
                "  --suite all --spec-version {revision} (information): could not run: {error}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
=== Running scenario: caching ===
Results saved to /x/server-caching-2026-11-24T21-11-45-991Z

=== SUMMARY ===
\u{1b}[32m✓\u{1b}[0m server-stateless: 30 passed, 0 failed
✗ caching: 6 passed, 2 failed
✗ tasks-lifecycle: 1 passed, 8 failed
✓ json-schema-2020-12: 8 passed, 0 failed

Total: 45 passed, 10 failed

Not scored for 2026-07-28: 2 scenario(s) run, 1 failing. These do not affect conformance.
  ✗ tasks-lifecycle (extension)
  ✓ json-schema-2020-12 (pending)
";

    fn check(scenario: &str, id: &str, status: &str) -> Check {
        Check {
            scenario: scenario.to_owned(),
            id: id.to_owned(),
            status: status.to_owned(),
            message: String::new(),
        }
    }

    #[test]
    fn the_summary_is_parsed() {
        let run = parse_suite_output(OUTPUT);
        assert_eq!(run.scenarios.len(), 4);
        assert_eq!(
            run.scenarios[1],
            ScenarioLine {
                name: "caching".into(),
                passed: 6,
                failed: 2
            }
        );
        assert_eq!(
            run.total,
            Some(Counts {
                passed: 45,
                failed: 10
            })
        );
        assert_eq!(run.not_scored.len(), 2);
        assert_eq!(run.not_scored[0].reason, "extension");
        assert!(!run.not_scored[0].ok);
        assert!(run.is_scored("caching"));
        assert!(!run.is_scored("tasks-lifecycle"));
    }

    #[test]
    fn unscored_failures_are_reported_not_failed() {
        let mut run = parse_suite_output(OUTPUT);
        run.status = Some(1);
        let checks = [
            check("caching", "a", "FAILURE"),
            check("caching", "b", "FAILURE"),
            check("caching", "c", "SUCCESS"),
            check("tasks-lifecycle", "t", "FAILURE"),
        ];
        let v = judge(Leg::Server, "2026-07-28", &run, &checks, &[]);
        assert_eq!(v.scenarios, 2);
        assert_eq!(v.passed, 36);
        assert_eq!(v.unexpected.len(), 2);
        assert_eq!(v.not_scored_failures, 1);
        assert_eq!(v.failures(), 2);
    }

    #[test]
    fn expected_failures_are_matched_and_stale_ones_flagged() {
        let text =
            "# comment\n\nserver 2026-07-28 auth/x\nclient 2025-11-25 auth/y:check-1 # why\n";
        let expected = parse_expected(text).unwrap();
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[1].check.as_deref(), Some("check-1"));
        let run = SuiteRun {
            scenarios: vec![ScenarioLine {
                name: "auth/x".into(),
                passed: 1,
                failed: 1,
            }],
            total: Some(Counts {
                passed: 1,
                failed: 1,
            }),
            not_scored: Vec::new(),
            status: Some(1),
        };
        let failing = [check("auth/x", "c", "FAILURE")];
        let v = judge(Leg::Server, "2026-07-28", &run, &failing, &expected);
        assert_eq!(
            (v.expected.len(), v.unexpected.len(), v.stale.len()),
            (1, 0, 0)
        );
        let passing = [check("auth/x", "c", "SUCCESS")];
        let ok_run = SuiteRun {
            scenarios: vec![ScenarioLine {
                name: "auth/x".into(),
                passed: 2,
                failed: 0,
            }],
            status: Some(0),
            ..run
        };
        let v = judge(Leg::Server, "2026-07-28", &ok_run, &passing, &expected);
        assert_eq!(v.stale, ["server 2026-07-28 auth/x"]);
        assert_eq!(v.failures(), 1);
    }

    #[test]
    fn only_auth_scenarios_may_be_expected_to_fail() {
        assert!(parse_expected("server 2025-11-25 tools-list\n").is_err());
        assert!(parse_expected("server 2025-11-25\n").is_err());
        assert!(parse_expected("browser 2025-11-25 auth/x\n").is_err());
        assert!(parse_expected("server 2024-01-01 auth/x\n").is_err());
        assert!(parse_expected("client 2025-11-25 auth/x\nclient 2025-11-25 auth/x\n").is_err());
        assert!(parse_expected("# nothing yet\n").unwrap().is_empty());
    }

    #[test]
    fn a_failing_exit_without_failures_is_a_failure() {
        let mut run = parse_suite_output("✓ ping: 2 passed, 0 failed\nTotal: 2 passed, 0 failed\n");
        run.status = Some(1);
        let v = judge(
            Leg::Server,
            "2025-11-25",
            &run,
            &[check("ping", "ping", "SUCCESS")],
            &[],
        );
        assert_eq!(v.failures(), 1);
        run.status = Some(0);
        let v = judge(
            Leg::Server,
            "2025-11-25",
            &run,
            &[check("ping", "ping", "SUCCESS")],
            &[],
        );
        assert_eq!((v.failures(), v.passed), (0, 2));
    }

    #[test]
    fn counts_are_parsed() {
        let counts = |passed, failed| Some(Counts { passed, failed });
        assert_eq!(parse_counts(" 3 passed, 1 failed"), counts(3, 1));
        assert_eq!(parse_counts("3 passed, 0 failed, 2 warnings"), counts(3, 0));
        assert_eq!(parse_counts("3 passed"), None);
        assert_eq!(parse_counts("x passed, 1 failed"), None);
        assert_eq!(parse_counts("3 passed and 1 failed"), None);
    }

    #[test]
    fn checks_lines_are_parsed() {
        let checks = parse_checks(
            "check\tping\tping\tSUCCESS\t\ncheck\tcaching\tx\tFAILURE\tno ttl\tstill message\n\
             unreadable\tbroken\t\t\tUnexpected end\nnoise\n",
        );
        assert_eq!(checks.len(), 3);
        assert_eq!(checks[1].message, "no ttl\tstill message");
        assert_eq!(checks[2].status, "UNREADABLE");
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(parse_args(&[]).unwrap(), Options::default());
        let o = parse_args(&args(&["--suite", "all", "--release"])).unwrap();
        assert!(o.suite_all && o.release);
        assert!(parse_args(&args(&["--suite"])).is_err());
        assert!(parse_args(&args(&["--suite", "core"])).is_err());
        assert!(parse_args(&args(&["-x"])).is_err());
        let o = parse_args(&args(&["--leg", "client"])).unwrap();
        assert!(o.client && !o.server);
        let o = parse_args(&args(&["--leg", "server"])).unwrap();
        assert!(o.server && !o.client);
        let both = Options::default();
        assert!(both.server && both.client);
        assert!(parse_args(&args(&["--leg"])).is_err());
        assert!(parse_args(&args(&["--leg", "both"])).is_err());
    }

    const CLIENT_OUTPUT: &str = "\
=== SUITE SUMMARY ===
✓ tools_call: 2 passed, 0 failed
✓ sse-retry: 3 passed, 0 failed
✗ auth/metadata-default: 0 passed, 7 failed
✗ auth/authorization-server-migration: 2 passed, 1 failed
✗ auth/dpop: 0 passed, 3 failed
Total: 7 passed, 11 failed, 0 warnings
Not scored for 2026-07-28: 1 scenario(s) run, 1 failing. These do not affect conformance.
  ✗ auth/dpop (extension)
";

    #[test]
    fn the_client_leg_lists_auth_scenarios_and_fails_on_warnings() {
        let mut run = parse_suite_output(CLIENT_OUTPUT);
        run.status = Some(1);
        assert_eq!(run.scenarios.len(), 5);
        assert_eq!(
            run.total,
            Some(Counts {
                passed: 7,
                failed: 11
            })
        );
        let expected = parse_expected(
            "client 2026-07-28 auth/metadata-default\n\
             client 2026-07-28 auth/authorization-server-migration\n",
        )
        .unwrap();
        let mut checks = vec![
            check("tools_call", "tool-add-numbers", "SUCCESS"),
            check("auth/authorization-server-migration", "a", "SUCCESS"),
            check("auth/authorization-server-migration", "b", "FAILURE"),
            check("auth/dpop", "d", "FAILURE"),
        ];
        checks.extend((0..7).map(|i| check("auth/metadata-default", &format!("m{i}"), "FAILURE")));
        checks.extend((0..3).map(|i| check("sse-retry", &format!("s{i}"), "SUCCESS")));
        let v = judge(Leg::Client, "2026-07-28", &run, &checks, &expected);
        assert_eq!(v.scenarios, 4);
        // The passes of scenarios expected to fail wholesale are not counted.
        assert_eq!(v.passed, 5);
        assert_eq!(
            v.expected_scenarios,
            [
                "auth/metadata-default",
                "auth/authorization-server-migration"
            ]
        );
        assert_eq!((v.expected.len(), v.failures()), (8, 0));
        assert_eq!(v.not_scored_failures, 1);
        // The same entries mean nothing to the server leg, nor to the other revision.
        let v = judge(Leg::Server, "2026-07-28", &run, &checks, &expected);
        assert_eq!(v.unexpected.len(), 8);
        let v = judge(Leg::Client, "2025-11-25", &run, &checks, &expected);
        assert_eq!(v.unexpected.len(), 8);

        // A warning fails a client (as the suite says), and only warns about a server.
        checks.push(check("sse-retry", "client-sse-last-event-id", "WARNING"));
        let v = judge(Leg::Client, "2026-07-28", &run, &checks, &expected);
        assert_eq!(v.failures(), 1);
        assert!(v.unexpected[0].contains("client-sse-last-event-id"));
        let v = judge(Leg::Server, "2026-07-28", &run, &checks, &[]);
        assert_eq!(v.warnings.len(), 1);
    }
}
