//! Where the third-party peers are: the paths `cargo xtask peers` wrote to `peers.env`
//! (docs/peers.md: `$MCP_PEERS_ENV`, else `$CARGO_TARGET_DIR/peers/peers.env`, else
//! `<workspace>/target/peers/peers.env`). Shared by every test file that runs a peer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The peers' paths by key (`NODE22`, `PYTHON`, ...). Without the file: a panic when
/// `MCP_REQUIRE_PEERS` is set (CI), else a NOTE saying that `what` did not run, and `None`.
pub(crate) fn peers(what: &str) -> Option<HashMap<String, String>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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
        Err(_) if std::env::var_os("MCP_REQUIRE_PEERS").is_some() => {
            panic!(
                "{} is missing: run `cargo xtask peers` (MCP_REQUIRE_PEERS is set)",
                path.display()
            )
        }
        Err(_) => {
            eprintln!(
                "NOTE: {what} did NOT run: {} not found (run `cargo xtask peers`)",
                path.display()
            );
            None
        }
    }
}
