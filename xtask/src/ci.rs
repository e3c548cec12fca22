//! `cargo xtask ci`: every check CI runs, in order, with a summary.
//!
//! Each check is a [`Step`]: a name and a function returning the passed and failed
//! counts it contributes. Every step runs even after an earlier one failed, so the
//! summary is complete. The last line printed is exactly `N passed, M failed`.
//!
//! To add a suite (interop, ...), write a `fn(&Context) -> Outcome` and
//! add a [`Step`] to [`STEPS`].

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::process::{cargo, describe_status, display, repo_root, run_ok};
use crate::test_output::{Counts, tee_and_tally};
use crate::{conformance, peers};

/// The cargo-deny release the configuration in `deny.toml` is written for.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// Environment variable naming the specification folder.
const SPEC_DIR_VAR: &str = "MCP_SPEC_DIR";

/// Environment variable that turns a missing specification into a test failure.
const REQUIRE_SPEC_VAR: &str = "MCP_REQUIRE_SPEC";
/// Set for the tests so the third-party peer tests fail instead of skipping when the peers are
/// missing.
const REQUIRE_PEERS_VAR: &str = "MCP_REQUIRE_PEERS";

/// Facts shared by every step.
#[derive(Debug)]
pub(crate) struct Context {
    /// The absolute path of the specification folder the tests read.
    spec_dir: PathBuf,
}

/// What one step contributes to the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Checks or tests passed and failed.
    counts: Counts,
    /// A short remark for the summary table (may be empty).
    note: String,
}

impl Outcome {
    /// A step that is a single check: one passed or one failed.
    fn check(ok: bool, note: impl Into<String>) -> Self {
        let counts = if ok {
            Counts {
                passed: 1,
                failed: 0,
            }
        } else {
            Counts {
                passed: 0,
                failed: 1,
            }
        };
        Self {
            counts,
            note: note.into(),
        }
    }

    /// Whether the step failed.
    fn failed(&self) -> bool {
        self.counts.failed > 0
    }
}

/// One check of `cargo xtask ci`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Short name shown in the log and the summary.
    name: &'static str,
    /// Runs the step, printing its own output, and reports what it counted.
    run: fn(&Context) -> Outcome,
}

/// The steps of `cargo xtask ci`, in the order they run.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        run: fmt,
    },
    Step {
        name: "clippy",
        run: clippy,
    },
    Step {
        name: "spec",
        run: spec_folder,
    },
    Step {
        name: "peers",
        run: install_peers,
    },
    Step {
        name: "test",
        run: test,
    },
    Step {
        name: "readme",
        run: readme_first_command,
    },
    Step {
        name: "conformance",
        run: conformance_legs,
    },
    Step {
        name: "deny",
        run: deny,
    },
];

/// Runs every step, prints the summary and returns the process exit code.
pub(crate) fn run() -> ExitCode {
    let root = repo_root();
    let cwd = std::env::current_dir().unwrap_or_else(|_| root.clone());
    let context = Context {
        spec_dir: resolve_spec_dir(std::env::var_os(SPEC_DIR_VAR), &cwd, &root),
    };
    let target = crate::bench::target_dir(&root);
    forget_failed_rustc_probes(&target);
    crate::process::build_without_incremental();
    report_free_disk(&target);

    let mut results = Vec::with_capacity(STEPS.len());
    for (index, step) in STEPS.iter().enumerate() {
        println!("\n==> [{}/{}] {}", index + 1, STEPS.len(), step.name);
        let started = Instant::now();
        let outcome = (step.run)(&context);
        let elapsed = started.elapsed();
        let verdict = if outcome.failed() { "FAILED" } else { "ok" };
        println!(
            "==> {} {verdict} in {}",
            step.name,
            format_duration(elapsed)
        );
        results.push((step.name, outcome, elapsed));
    }

    let total = print_summary(&results);
    if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Deletes cargo's cache of rustc probes when it holds a failed one. Cargo keeps the output
/// of `rustc - --print=cfg ...` in `target/.rustc_info.json` and replays it, failure
/// included, to every later build with the same flags; on this project's VM a probe that once
/// read stray text on its standard input has failed every later cargo step that way. Cargo
/// rebuilds the file on its next run.
fn forget_failed_rustc_probes(target: &Path) {
    let path = target.join(".rustc_info.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    if has_failed_probe(&text) {
        println!(
            "ci: {} holds a failed rustc probe; removed so cargo probes again",
            path.display()
        );
        let _ = std::fs::remove_file(&path);
    }
}

/// Prints how much disk is free where the build goes (a full disk fails every build step at
/// once, and this line tells that apart from a failing change).
fn report_free_disk(target: &Path) {
    let at = if target.exists() {
        target
    } else {
        target.parent().unwrap_or(target)
    };
    match Command::new("df")
        .args(["-Ph"])
        .arg(at)
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            if let Some(line) = text.lines().nth(1) {
                println!("ci: disk of {}: {line}", at.display());
            }
        }
        _ => println!("ci: could not read the free disk of {}", at.display()),
    }
}

/// Whether a `.rustc_info.json` text records a failed probe.
fn has_failed_probe(text: &str) -> bool {
    text.replace(char::is_whitespace, "")
        .contains("\"success\":false")
}

/// Prints the per-step table and, as the very last line, `N passed, M failed`.
fn print_summary(results: &[(&'static str, Outcome, Duration)]) -> Counts {
    let mut total = Counts::default();
    println!("\nSummary");
    println!(
        "  {:<11} {:<7} {:>7} {:>7} {:>9}  note",
        "step", "result", "passed", "failed", "time"
    );
    for (name, outcome, elapsed) in results {
        let verdict = if outcome.failed() { "FAILED" } else { "ok" };
        let line = format!(
            "  {name:<11} {verdict:<7} {:>7} {:>7} {:>9}  {}",
            outcome.counts.passed,
            outcome.counts.failed,
            format_duration(*elapsed),
            outcome.note
        );
        println!("{}", line.trim_end());
        total.passed += outcome.counts.passed;
        total.failed += outcome.counts.failed;
    }
    println!("{}", final_line(total));
    total
}

/// The closing line CI reads: `N passed, M failed`.
fn final_line(total: Counts) -> String {
    format!("{} passed, {} failed", total.passed, total.failed)
}

/// Formats a duration as seconds with one decimal (`12.3s`).
fn format_duration(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// Runs `command` as a single pass/fail check, echoing it first.
fn single_check(mut command: Command) -> Outcome {
    println!("$ {}", display(&command));
    Outcome::check(run_ok(&mut command), "")
}

/// `cargo fmt --all -- --check`.
fn fmt(_: &Context) -> Outcome {
    single_check(cargo(&["fmt", "--all", "--", "--check"]))
}

/// `cargo clippy --workspace --all-targets --locked -- -D warnings`.
fn clippy(_: &Context) -> Outcome {
    single_check(cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Fails when the specification folder the tests need is missing.
///
/// Counts nothing when the folder is there; the tests themselves count then.
fn spec_folder(context: &Context) -> Outcome {
    let dir = &context.spec_dir;
    if dir.is_dir() {
        println!("specification folder: {}", dir.display());
        Outcome {
            counts: Counts::default(),
            note: dir.display().to_string(),
        }
    } else {
        eprintln!(
            "xtask: the MCP specification folder {} does not exist.\n\
             xtask: put the spec revisions at <repo root>/../shared/spec, or set \
             {SPEC_DIR_VAR} to the folder that holds them.\n\
             xtask: the golden-vector tests will fail ({REQUIRE_SPEC_VAR}=1).",
            dir.display()
        );
        Outcome::check(false, format!("missing: {}", dir.display()))
    }
}

/// `cargo xtask peers`: the third-party MCP peers the tests use, installed before them.
fn install_peers(_: &Context) -> Outcome {
    match peers::ensure(false) {
        Ok(note) => Outcome::check(true, note),
        Err(error) => {
            eprintln!("xtask: peers: {error}");
            Outcome::check(false, "could not install the peers")
        }
    }
}

/// `cargo test --workspace --locked --no-fail-fast`, counted from its summary lines.
///
/// The tests find the peers through `MCP_PEERS_ENV`, the absolute path of `peers.env`.
fn test(context: &Context) -> Outcome {
    let mut command = cargo(&["test", "--workspace", "--locked", "--no-fail-fast"]);
    command
        .env(SPEC_DIR_VAR, &context.spec_dir)
        .env(REQUIRE_SPEC_VAR, "1")
        .env(REQUIRE_PEERS_VAR, "1")
        .env(peers::PEERS_ENV_VAR, peers::env_file_path())
        .stdout(Stdio::piped());
    println!(
        "$ {SPEC_DIR_VAR}={} {REQUIRE_SPEC_VAR}=1 {}",
        context.spec_dir.display(),
        display(&command)
    );

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("xtask: could not start `{}`: {error}", display(&command));
            return Outcome::check(false, "could not start cargo test");
        }
    };
    let tally = match child.stdout.take() {
        Some(stdout) => match tee_and_tally(stdout, std::io::stdout().lock()) {
            Ok(tally) => Some(tally),
            Err(error) => {
                eprintln!("xtask: reading the output of cargo test failed: {error}");
                None
            }
        },
        None => None,
    };
    let status = match child.wait() {
        Ok(status) => status,
        Err(error) => {
            eprintln!("xtask: waiting for cargo test failed: {error}");
            return Outcome::check(false, "lost cargo test");
        }
    };
    let Some(tally) = tally else {
        return Outcome::check(false, "could not read the test output");
    };

    let mut counts = tally.counts;
    let mut note = format!("{} suites", tally.suites);
    if !status.success() && counts.failed == 0 {
        // A build error, a crashed test binary: nothing parsable failed, but the step did.
        counts.failed = 1;
        note = format!(
            "{note}; cargo test failed ({}) with no failing test reported",
            describe_status(status)
        );
    }
    Outcome { counts, note }
}

/// The README's first command, run as written ([`readme`](crate::readme)): one check.
fn readme_first_command(_: &Context) -> Outcome {
    let (ok, note) = crate::readme::step();
    if !ok {
        eprintln!("xtask: readme: {note}");
    }
    Outcome::check(ok, note)
}

/// `cargo xtask conformance`: the official conformance suite's server and client legs, both
/// revisions.
///
/// Counts every check of the scenarios the suite scores (its per-scenario `N passed, M failed`
/// numbers, summed over both revisions and legs); scenarios it runs without scoring (extensions
/// such as tasks) are reported only, and the checks of scenarios listed wholesale as expected
/// failures (the client leg's authorization scenarios) are not counted. A check that fails
/// unexpectedly, a stale expected failure, or a run that could not happen counts one failure
/// each.
fn conformance_legs(_: &Context) -> Outcome {
    let report = conformance::legs(conformance::Options::default());
    Outcome {
        counts: report.counts,
        note: report.note,
    }
}

/// `cargo deny --all-features check bans licenses sources`, installing cargo-deny if needed.
///
/// Advisories are not checked: the advisory database needs network access these
/// machines do not have (see `deny.toml`).
fn deny(_: &Context) -> Outcome {
    match installed_cargo_deny() {
        Some(version) => {
            if !version.contains(CARGO_DENY_VERSION) {
                println!(
                    "note: found {version}; deny.toml is written for cargo-deny {CARGO_DENY_VERSION}"
                );
            }
        }
        None => {
            let mut install = cargo(&[
                "install",
                "--locked",
                "cargo-deny",
                "--version",
                CARGO_DENY_VERSION,
            ]);
            println!(
                "cargo-deny is not installed; installing it: {}",
                display(&install)
            );
            if !run_ok(&mut install) {
                eprintln!("xtask: installing cargo-deny {CARGO_DENY_VERSION} failed");
                return Outcome::check(false, "could not install cargo-deny");
            }
        }
    }
    single_check(cargo(&[
        "deny",
        "--all-features",
        "check",
        "bans",
        "licenses",
        "sources",
    ]))
}

/// The version line of the installed cargo-deny, or `None` when it cannot run.
fn installed_cargo_deny() -> Option<String> {
    let output = cargo(&["deny", "--version"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The absolute specification folder: `$MCP_SPEC_DIR` (relative to `cwd` when
/// relative) if set and non-empty, else `<root>/../shared/spec`.
fn resolve_spec_dir(from_env: Option<OsString>, cwd: &Path, root: &Path) -> PathBuf {
    let dir = match from_env.filter(|value| !value.is_empty()) {
        Some(value) => cwd.join(PathBuf::from(value)),
        None => root.join("..").join("shared").join("spec"),
    };
    dir.canonicalize().unwrap_or_else(|_| normalize(&dir))
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => {
                out.push(component);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rustc_probe_is_recognised_and_a_good_cache_kept() {
        let failed = r#"{"rustc_fingerprint":1,"outputs":{"7":{"success":false,"status":"exit status: 1","code":1,"stdout":"","stderr":"error"},"8":{"success":true,"status":"","code":0,"stdout":"rustc 1.95.0","stderr":""}},"successes":{}}"#;
        let good = r#"{"rustc_fingerprint":1,"outputs":{"8":{"success": true,"status":"","code":0,"stdout":"rustc 1.95.0","stderr":""}},"successes":{}}"#;
        assert!(has_failed_probe(failed));
        assert!(!has_failed_probe(good));

        let dir = std::env::temp_dir().join(format!("xtask-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".rustc_info.json");
        std::fs::write(&path, good).unwrap();
        forget_failed_rustc_probes(&dir);
        assert!(path.exists(), "a cache without failures is kept");
        std::fs::write(&path, failed).unwrap();
        forget_failed_rustc_probes(&dir);
        assert!(!path.exists(), "a cache with a failed probe is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_last_line_is_plain_counts() {
        assert_eq!(
            final_line(Counts {
                passed: 42,
                failed: 3
            }),
            "42 passed, 3 failed"
        );
    }

    #[test]
    fn a_check_counts_one() {
        assert_eq!(Outcome::check(true, "").counts.passed, 1);
        assert!(!Outcome::check(true, "").failed());
        assert_eq!(Outcome::check(false, "").counts.failed, 1);
        assert!(Outcome::check(false, "").failed());
    }

    #[test]
    fn steps_run_in_the_documented_order() {
        let names: Vec<_> = STEPS.iter().map(|step| step.name).collect();
        assert_eq!(
            names,
            [
                "fmt",
                "clippy",
                "spec",
                "peers",
                "test",
                "readme",
                "conformance",
                "deny"
            ]
        );
    }

    #[test]
    fn spec_dir_defaults_beside_the_repo() {
        let dir = resolve_spec_dir(
            None,
            Path::new("/elsewhere"),
            Path::new("/nonexistent/work/main"),
        );
        assert_eq!(dir, Path::new("/nonexistent/work/shared/spec"));
    }

    #[test]
    fn spec_dir_from_the_environment_is_made_absolute() {
        let dir = resolve_spec_dir(
            Some(OsString::from("../specs/./mcp")),
            Path::new("/nonexistent/cwd"),
            Path::new("/nonexistent/root"),
        );
        assert_eq!(dir, Path::new("/nonexistent/specs/mcp"));

        let dir = resolve_spec_dir(
            Some(OsString::from("/nonexistent/abs")),
            Path::new("/nonexistent/cwd"),
            Path::new("/nonexistent/root"),
        );
        assert_eq!(dir, Path::new("/nonexistent/abs"));

        let dir = resolve_spec_dir(
            Some(OsString::new()),
            Path::new("/nonexistent/cwd"),
            Path::new("/nonexistent/root"),
        );
        assert_eq!(dir, Path::new("/nonexistent/shared/spec"));
    }
}
