//! Running the built `mcp` binary in tests: one command to completion with its exit code and
//! output, a long-lived `mcp serve --http`, and the third-party peers' paths.

#![allow(dead_code, unreachable_pub)]

pub mod raw;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The binary under test.
pub const MCP: &str = env!("CARGO_BIN_EXE_mcp");

/// How long one command may run before the test fails (generous: a loaded 2-core machine).
pub const LIMIT: Duration = Duration::from_secs(120);

/// What a finished command left.
#[derive(Debug)]
pub struct Ran {
    /// The exit code.
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Ran {
    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The JSON error report on stderr (the last line).
    pub fn error(&self) -> serde_json::Value {
        let line = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("no JSON error ({e}): {self:?}"))
    }
}

/// `mcp ARGS` with `stdin` as its input, to the end.
pub async fn mcp(args: &[&str], stdin: &str) -> Ran {
    mcp_with_env(args, stdin, &[]).await
}

/// [`mcp`] with more environment variables.
pub async fn mcp_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Ran {
    let mut child = Command::new(MCP)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start mcp");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    tokio::spawn(async move {
        let _ = input.write_all(text.as_bytes()).await;
        // Dropped here: the end of input.
    });
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("mcp {args:?} did not finish in {LIMIT:?}"))
        .unwrap();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `args` followed by `-- mcp serve`: the example server over stdio.
pub fn with_stdio_server<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--", MCP, "serve"]);
    all
}

/// `mcp serve --http 127.0.0.1:0 --ws`, killed on drop.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// `http://127.0.0.1:PORT/sse`.
    pub sse: String,
    /// `ws://127.0.0.1:PORT/ws`.
    pub ws: String,
}

impl Served {
    /// Starts the server and reads the URLs it prints once listening.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like [`Served::start`], with more `mcp serve` flags.
    pub async fn start_with(extra: &[&str]) -> Self {
        let mut args = vec!["serve", "--http", "127.0.0.1:0", "--ws"];
        args.extend_from_slice(extra);
        Self::command(&args).await
    }

    /// `mcp ARGS` (a `serve` or `bridge` that serves HTTP and WebSocket), killed on drop.
    pub async fn command(args: &[&str]) -> Self {
        let mut child = Command::new(MCP)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start mcp");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut urls = Vec::new();
        while urls.len() < 3 {
            let line = tokio::time::timeout(LIMIT, lines.next_line())
                .await
                .expect("mcp printed its URLs")
                .unwrap()
                .unwrap_or_else(|| panic!("mcp {args:?} ended before printing its URLs"));
            urls.push(line);
        }
        Self {
            child,
            url: urls[0].clone(),
            sse: urls[1].clone(),
            ws: urls[2].clone(),
        }
    }
}

impl Served {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Sends SIGTERM and waits for the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("mcp ended after SIGTERM")
            .ok()
            .and_then(|s| s.code())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The peers' paths from `peers.env` (docs/peers.md: `$MCP_PEERS_ENV`, else
/// `$CARGO_TARGET_DIR/peers/peers.env`, else `<workspace>/target/peers/peers.env`). Without the
/// file: a panic when `MCP_REQUIRE_PEERS` is set (CI), else a NOTE and `None`.
pub fn peers(what: &str) -> Option<HashMap<String, String>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var_os("MCP_PEERS_ENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|t| workspace.join(t).join("peers").join("peers.env"))
        })
        .unwrap_or_else(|| workspace.join("target/peers/peers.env"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), v.trim_end_matches('\r').to_owned()))
                .collect(),
        ),
        Err(_) if std::env::var_os("MCP_REQUIRE_PEERS").is_some() => panic!(
            "{} is missing: run `cargo xtask peers` (MCP_REQUIRE_PEERS is set)",
            path.display()
        ),
        Err(_) => {
            eprintln!(
                "NOTE: {what} did NOT run: {} not found (run `cargo xtask peers`)",
                path.display()
            );
            None
        }
    }
}

/// The loopback-only preload for Node servers that bind every interface.
pub fn loopback_preload() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/peers/loopback-only.cjs")
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory under the system's temporary directory.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mcp-cli-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
