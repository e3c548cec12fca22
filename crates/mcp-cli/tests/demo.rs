//! `mcp demo`, as a newcomer runs it: it starts the example server on loopback, calls it over
//! every transport in both eras and prints what it did.

mod mcp_process;

use mcp_process::mcp;

#[tokio::test]
async fn the_demo_calls_the_example_server_over_every_transport() {
    let ran = mcp(&["demo", "--calls", "50", "--burst", "50"], "").await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let out = &ran.stdout;
    for leg in [
        "Streamable HTTP, era auto: connected to example-server 0.1.0, protocol 2026-07-28 (Modern era)",
        "Streamable HTTP, legacy era: connected to example-server 0.1.0, protocol 2025-11-25 (Legacy era)",
        "WebSocket, era auto: connected to example-server 0.1.0, protocol 2026-07-28 (Modern era)",
        "HTTP+SSE (2024-11-05 transport): connected to example-server 0.1.0, protocol 2025-11-25 (Legacy era)",
    ] {
        assert!(out.contains(leg), "missing {leg:?} in:\n{out}");
    }
    assert_eq!(
        out.matches("add(19.5, 22.5) -> structured {\"sum\":42.0}")
            .count(),
        4,
        "{out}"
    );
    assert_eq!(out.matches("ask_name -> Hello, Ada!").count(), 4, "{out}");
    assert_eq!(
        out.matches("slow_count(5) -> counted to 5 (5 progress notifications)")
            .count(),
        4,
        "{out}"
    );
    assert_eq!(
        out.matches("read memo://notes/alpha -> \"Note alpha\"")
            .count(),
        4,
        "{out}"
    );
    assert_eq!(
        out.matches("complete greet(name) -> Alice, Bob, Carol")
            .count(),
        4,
        "{out}"
    );
    assert_eq!(
        out.matches("50 sequential echo calls: ").count(),
        3,
        "{out}"
    );
    assert_eq!(
        out.matches("50 concurrent echo calls in ").count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("the server holds 1 legacy session(s) while this client is connected"),
        "{out}"
    );
    assert!(
        out.contains("the server holds 1 HTTP+SSE stream(s) while this client is connected"),
        "{out}"
    );
    assert!(
        out.contains("After the clients closed, the server holds 0 legacy sessions."),
        "{out}"
    );
}
