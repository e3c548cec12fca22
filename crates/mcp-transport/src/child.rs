//! A server as a child process: spawned with its arguments, environment and working directory,
//! spoken to over its stdin and stdout, its stderr forwarded to `tracing`, and shut down the way
//! the spec says — close stdin, wait, SIGTERM, wait, SIGKILL — to its whole process group, so no
//! grandchild outlives it.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{BoxReader, BoxWriter, FrameReader, FrameWriter, Framed};

/// How to start a server process.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables, merged over this process's environment (the original SDK's
    /// `env` key did the same).
    pub env: BTreeMap<String, String>,
    /// The working directory (default: this process's).
    pub cwd: Option<PathBuf>,
    /// The largest message accepted from the server.
    pub max_frame: usize,
    /// How long each shutdown step waits before the next, harsher one (default 2 s).
    pub shutdown_grace: Duration,
}

impl ChildSpec {
    /// A command with arguments and default settings.
    pub fn new(
        command: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: None,
            max_frame: crate::DEFAULT_MAX_FRAME,
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// A running server process. Dropping it kills the process group.
#[derive(Debug)]
pub struct ChildProcess {
    child: Child,
    pgid: Option<Pid>,
    grace: Duration,
    done: bool,
}

/// Spawns the server in a new process group and frames its stdin and stdout.
pub fn spawn(spec: &ChildSpec) -> io::Result<(Framed, ChildProcess)> {
    let mut cmd = Command::new(&spec.command);
    cmd.args(&spec.args)
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    if let Some(stderr) = child.stderr.take() {
        let name = spec.command.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                // A server's stderr is its log, never an error in itself.
                tracing::info!(target: "mcp_transport::child", server = %name, "{line}");
            }
        });
    }
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let framed = (
        FrameReader::new(Box::pin(stdout) as BoxReader, spec.max_frame),
        FrameWriter::new(Box::pin(stdin) as BoxWriter),
    );
    Ok((
        framed,
        ChildProcess {
            child,
            pgid,
            grace: spec.shutdown_grace,
            done: false,
        },
    ))
}

impl ChildProcess {
    /// The process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the process to exit by itself.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.reap_group();
        self.done = true;
        Ok(status)
    }

    /// The exit status if the process has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Shuts the server down: the caller has already closed stdin (dropped the writer); this
    /// waits, then sends SIGTERM to the process group, waits, then SIGKILL.
    pub async fn shutdown(mut self) -> io::Result<ExitStatus> {
        if let Ok(status) = tokio::time::timeout(self.grace, self.child.wait()).await {
            self.reap_group();
            self.done = true;
            return status;
        }
        self.signal(Signal::SIGTERM);
        if let Ok(status) = tokio::time::timeout(self.grace, self.child.wait()).await {
            self.reap_group();
            self.done = true;
            return status;
        }
        self.signal(Signal::SIGKILL);
        let status = self.child.wait().await;
        self.done = true;
        status
    }

    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, signal);
        }
    }

    /// The leader is gone; anything left in its group is an orphan: kill it.
    fn reap_group(&self) {
        self.signal(Signal::SIGKILL);
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if !self.done {
            self.signal(Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn echo_through_a_child_and_shut_down_politely() {
        let spec = ChildSpec::new("sh", ["-c", "while read line; do echo \"$line\"; done"]);
        let ((mut r, mut w), child) = spawn(&spec).unwrap();
        w.send(b"{\"a\":1}").await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(r.next().await.unwrap().unwrap(), b"{\"a\":1}");
        drop(w);
        let status = child.shutdown().await.unwrap();
        assert!(status.success());
    }

    #[tokio::test]
    async fn a_server_ignoring_sigterm_is_killed_with_its_children() {
        let mut spec = ChildSpec::new("sh", ["-c", "trap '' TERM; sleep 1000 & sleep 1000; wait"]);
        spec.shutdown_grace = Duration::from_millis(200);
        let ((_r, w), child) = spawn(&spec).unwrap();
        let pgid = child.id().unwrap();
        drop(w);
        let status = child.shutdown().await.unwrap();
        assert!(!status.success());
        // Nothing of the group is left.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let alive = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // After the command name: state, parent, process group. Zombies (`Z`) are dead;
                // reaping them is their new parent's business.
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map(|(_, rest)| rest.split_whitespace().take(3).collect())
                    .unwrap_or_default();
                fields.len() == 3 && fields[0] != "Z" && fields[2] == pgid.to_string()
            })
            .count();
        assert_eq!(alive, 0, "processes of group {pgid} survived");
    }

    #[tokio::test]
    async fn environment_is_merged_and_cwd_set() {
        let mut spec = ChildSpec::new(
            "sh",
            [
                "-c",
                "echo \"{\\\"v\\\":\\\"$MCP_TEST_VAR\\\",\\\"cwd\\\":\\\"$(pwd)\\\",\\\"path\\\":$([ -n \"$PATH\" ] && echo true || echo false)}\"",
            ],
        );
        spec.env.insert("MCP_TEST_VAR".into(), "x1".into());
        spec.cwd = Some(std::env::temp_dir());
        let ((mut r, _w), _child) = spawn(&spec).unwrap();
        let line = String::from_utf8(r.next().await.unwrap().unwrap()).unwrap();
        assert!(
            line.contains("\"v\":\"x1\"") && line.contains("\"path\":true"),
            "{line}"
        );
        assert!(
            line.contains(&std::env::temp_dir().display().to_string()),
            "{line}"
        );
    }
}
