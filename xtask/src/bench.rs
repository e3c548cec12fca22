//! `cargo xtask bench`: the workspace's criterion benchmarks.

use std::process::ExitCode;

use crate::process::{cargo, display, run_ok};

/// A criterion benchmark target: the package and the `[[bench]]` name.
#[derive(Debug, Clone, Copy)]
struct Bench {
    /// Package that owns the bench target.
    package: &'static str,
    /// Name of the `[[bench]]` target.
    target: &'static str,
}

/// Every benchmark `cargo xtask bench` runs, in order.
const BENCHES: &[Bench] = &[Bench {
    package: "mcp-protocol",
    target: "codec",
}];

/// Runs each benchmark with `extra` appended to its `cargo bench` command.
///
/// Every benchmark runs even if an earlier one failed; the exit code is non-zero if any failed.
pub(crate) fn run(extra: &[String]) -> ExitCode {
    let mut failed = Vec::new();
    for bench in BENCHES {
        let mut command = cargo(&["bench", "-p", bench.package, "--bench", bench.target]);
        command.args(extra);
        println!("$ {}", display(&command));
        if !run_ok(&mut command) {
            failed.push(format!("{}/{}", bench.package, bench.target));
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("xtask: benchmarks failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
