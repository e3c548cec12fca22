//! The `readme` step of `cargo xtask ci`: the README's first command, run exactly as written.
//!
//! A newcomer's first contact with the project is the first command of the README's first code
//! block. This step reads that block, checks that its second command is `cargo xtask ci` (the
//! one running this), runs the first with `sh -c` from the repository root, and passes when it
//! exits 0 within [`LIMIT`] having printed every line of [`EXPECTED`]: the output the README
//! promises (both eras, every network transport, results and figures).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{describe_status, repo_root};

/// How long the first command may take, its build on a fresh 2-core machine included.
const LIMIT: Duration = Duration::from_secs(15 * 60);

/// What the first command must print, each at least once.
const EXPECTED: &[&str] = &[
    "Streamable HTTP, era auto: connected to example-server",
    "(Modern era)",
    "Streamable HTTP, legacy era: connected to example-server",
    "(Legacy era)",
    "WebSocket, era auto: connected to example-server",
    "HTTP+SSE (2024-11-05 transport): connected to example-server",
    "add(19.5, 22.5) -> structured {\"sum\":42.0}",
    "calls/s, p50 ",
    "After the clients closed, the server holds 0 legacy sessions.",
];

/// The first two commands of the first fenced code block of `readme`, without blank lines
/// and `#` comments.
fn first_commands(readme: &str) -> Option<(String, String)> {
    let mut lines = readme.lines();
    lines.find(|l| l.trim_start().starts_with("```"))?;
    let mut commands = lines
        .take_while(|l| !l.trim_start().starts_with("```"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    Some((commands.next()?.to_owned(), commands.next()?.to_owned()))
}

/// The step: one check.
pub(crate) fn step() -> (bool, String) {
    let root = repo_root();
    let readme = match std::fs::read_to_string(root.join("README.md")) {
        Ok(text) => text,
        Err(e) => return (false, format!("cannot read README.md: {e}")),
    };
    let Some((first, second)) = first_commands(&readme) else {
        return (
            false,
            "README.md has no code block with two commands".into(),
        );
    };
    if second != "cargo xtask ci" {
        return (
            false,
            format!("the README's second command is {second:?}, not `cargo xtask ci`"),
        );
    }
    println!("$ {first}");
    let mut command = Command::new("sh");
    crate::process::for_cargo(&mut command);
    let mut child = match command
        .arg("-c")
        .arg(&first)
        .current_dir(&root)
        .stdout(Stdio::piped())
        // Its own process group, so a command that overruns is stopped with all it started.
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return (false, format!("could not start `sh -c {first}`: {e}")),
    };
    let pid = child.id();
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        if let Some(stdout) = stdout {
            let mut out = std::io::stdout();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(out, "{line}");
                seen.push(line);
            }
        }
        seen
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > LIMIT => {
                // Stop the whole group; `kill` is the shell's, so xtask stays std-only.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return (false, format!("waiting for `{first}`: {e}")),
        }
    };
    let printed = reader.join().unwrap_or_default().join("\n");
    let Some(status) = status else {
        return (false, format!("`{first}` did not finish within {LIMIT:?}"));
    };
    if !status.success() {
        return (
            false,
            format!("`{first}` failed ({})", describe_status(status)),
        );
    }
    let missing: Vec<&str> = EXPECTED
        .iter()
        .copied()
        .filter(|e| !printed.contains(e))
        .collect();
    if missing.is_empty() {
        (true, format!("`{first}`"))
    } else {
        (false, format!("`{first}` did not print {missing:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_two_commands_of_the_first_block() {
        let text = "# t\n\nintro\n\n```sh\n# a comment\ncargo run -p x -- demo\n\ncargo xtask ci\n```\n\n```sh\nother\n```\n";
        assert_eq!(
            first_commands(text),
            Some(("cargo run -p x -- demo".into(), "cargo xtask ci".into()))
        );
        assert_eq!(first_commands("no block"), None);
        assert_eq!(first_commands("```\nonly one\n```"), None);
    }

    #[test]
    fn this_readme_starts_with_the_demo_and_the_ci_command() {
        let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
        let (first, second) = first_commands(&readme).unwrap();
        assert_eq!(second, "cargo xtask ci");
        assert!(first.starts_with("cargo run"), "{first}");
    }
}
