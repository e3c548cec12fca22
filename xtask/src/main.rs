//! Repository automation for the mcp-rs workspace.
//!
//! Run through the cargo alias defined in `.cargo/config.toml`:
//!
//! - `cargo xtask ci`: every check CI runs, ending with the line `N passed, M failed`;
//! - `cargo xtask bench [ARGS...]`: the workspace's benchmarks, `ARGS` passed through;
//! - `cargo xtask peers [--force]`: installs the pinned third-party MCP peers the tests use;
//! - `cargo xtask conformance [--leg server|client] [--suite all] [--release]`: the official
//!   MCP conformance suite against `conformance-server` and `conformance-client`;
//! - `cargo xtask readme`: the README's first command, run as written and checked;
//! - `cargo xtask help`: usage.
//!
//! The tool uses the standard library only, so it builds in seconds on a fresh machine.

mod bench;
mod bench_http;
mod bench_pool;
mod ci;
mod conformance;
mod peers;
mod process;
mod readme;
mod test_output;

use std::process::ExitCode;

/// Usage text printed by `cargo xtask help` and on an unknown subcommand.
const USAGE: &str = "\
Usage: cargo xtask <COMMAND> [ARGS...]

Commands:
  ci            Run every CI check (fmt, clippy, peers, tests, the README's
                first command, conformance, cargo-deny) and print a summary whose last line is
                `N passed, M failed`. Exits non-zero if anything failed. Runs
                every step even after a failure.
  readme        Run the README's first command as written and check what it
                prints (the `readme` step of `ci`).
  bench [stdio|client|http|codec] [ARGS]
                Run the workspace benchmarks: the stdio server benchmark, the
                client benchmark, the codec's criterion benchmark; all three
                without a subcommand (ARGS then go to `cargo bench`, e.g.
                `cargo xtask bench -- --quick`). `cargo xtask bench help`
                lists each one's options.
  peers [--force]
                Install the third-party MCP peers the tests use (Node 22, the
                Inspector, the conformance suite, reference servers, the TS and
                Python SDKs) at the versions pinned in peers/, into
                <target dir>/peers/, and write <target dir>/peers/peers.env.
                Does nothing when they are present; --force reinstalls.
  conformance [--leg server|client] [--suite all] [--release]
                Run the official MCP conformance suite's server leg against
                conformance-server and its client leg against
                conformance-client (in a private network namespace), for
                2025-11-25 and 2026-07-28; fail on any failure not in
                conformance/expected-failures.txt. --leg runs one leg only;
                --suite all also runs every scenario, for information.
  help          Print this message.

Environment:
  MCP_SPEC_DIR  Folder of the MCP specification revisions used by the tests
                (default: <repo root>/../shared/spec).
  CARGO_TARGET_DIR
                The target dir; `peers` installs into its peers/ folder.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();

    match command.as_deref() {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("ci") => {
            if !rest.is_empty() {
                eprintln!("xtask: `ci` takes no arguments (got {rest:?})\n");
                eprint!("{USAGE}");
                return ExitCode::from(2);
            }
            ci::run()
        }
        Some("bench") => bench::run(&rest),
        Some("peers") => peers::run(&rest),
        Some("conformance") => conformance::run(&rest),
        Some("readme") => {
            let (ok, note) = readme::step();
            println!("readme: {}: {note}", if ok { "ok" } else { "FAILED" });
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some(other) => {
            eprintln!("xtask: unknown command `{other}`\n");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
