//! The stdio demo, `cargo run -p mcp-examples --bin demo` (the example server as a child
//! process, both eras), run as the built binary with its output checked. The README's first
//! command, `mcp demo` over the network transports, is run by `cargo xtask ci`'s `readme` step
//! and `crates/mcp-cli/tests/demo.rs`.

use std::process::Command;

#[test]
fn the_stdio_demo_runs_end_to_end_in_both_eras() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
    for expected in [
        "protocol 2026-07-28 (Modern era)",
        "protocol 2025-11-25 (Legacy era)",
        "add(19.5, 22.5) -> structured {\"sum\":42.0}",
        "ask_name -> Hello, Ada!",
        "slow_count -> counted to 5 (5 progress notifications)",
        "read memo://notes/alpha -> \"Note alpha\"",
        "2000 sequential echo calls",
        "1000 concurrent echo calls",
    ] {
        assert_eq!(
            stdout.matches(expected).count(),
            if expected.contains("era)") { 1 } else { 2 },
            "{expected:?} in:\n{stdout}"
        );
    }
}
