//! Helpers for locating the repository and running child commands.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// The workspace root: the parent of the `xtask` crate's manifest folder.
pub(crate) fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The cargo executable to run: the one that launched us (`$CARGO`), else `cargo` on `PATH`.
fn cargo_program() -> OsString {
    std::env::var_os("CARGO")
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| OsString::from("cargo"))
}

/// Whether the cargo commands xtask starts build without incremental compilation.
static NOT_INCREMENTAL: AtomicBool = AtomicBool::new(false);

/// Makes every later [`cargo`] command (and the README's command) build without incremental
/// compilation: `cargo xtask ci` builds once, so the incremental caches (gigabytes for this
/// workspace) would only cost disk and time.
pub(crate) fn build_without_incremental() {
    NOT_INCREMENTAL.store(true, Ordering::Relaxed);
}

/// Sets what every cargo invocation from xtask shares on `command`: nothing on its standard
/// input (a probe like `rustc -` must never read the caller's input) and, under `cargo xtask
/// ci`, `CARGO_INCREMENTAL=0`.
pub(crate) fn for_cargo(command: &mut Command) -> &mut Command {
    command.stdin(Stdio::null());
    if NOT_INCREMENTAL.load(Ordering::Relaxed) {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

/// A `cargo` command with `args`, to be run from the repository root.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(cargo_program());
    command.args(args).current_dir(repo_root());
    for_cargo(&mut command);
    command
}

/// Renders `command` as a shell-like line for logs (`cargo fmt --all -- --check`).
pub(crate) fn display(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .map_or_else(
            || command.get_program().to_string_lossy(),
            |name| name.to_string_lossy(),
        )
        .into_owned();
    let mut line = program;
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `command` with inherited stdio and reports whether it exited successfully.
///
/// A command that cannot be started at all counts as a failure, with the reason printed.
pub(crate) fn run_ok(command: &mut Command) -> bool {
    match command.status() {
        Ok(status) => status.success(),
        Err(error) => {
            eprintln!("xtask: could not start `{}`: {error}", display(command));
            false
        }
    }
}

/// Describes an exit status for the summary (`exit code 101`, `killed by a signal`).
pub(crate) fn describe_status(status: ExitStatus) -> String {
    status.code().map_or_else(
        || "killed by a signal".to_owned(),
        |code| format!("exit code {code}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(root.join("xtask").is_dir());
    }

    #[test]
    fn display_joins_program_and_args() {
        let command = cargo(&["fmt", "--all", "--", "--check"]);
        let line = display(&command);
        assert!(line.ends_with("fmt --all -- --check"), "{line}");
        assert!(!line.contains('/'), "{line}");
    }
}
