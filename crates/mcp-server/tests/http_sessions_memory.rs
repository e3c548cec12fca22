//! 10,000 legacy sessions opened over Streamable HTTP and abandoned, three times over: after the
//! idle timeout the session count is zero each time, and the later rounds need no more memory
//! than the first (freed session state is reused, nothing accumulates). It prints the memory a
//! session costs.
//!
//! Alone in its file so that no other test shares the process whose memory it reads.

use std::time::Duration;

use mcp_server::http::{HttpEndpoint, HttpOptions};
use mcp_server::{Router, Server, Tool};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SESSIONS: usize = 10_000;
const CONNECTIONS: usize = 8;

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS")
}

/// Opens `count` sessions over one keep-alive connection: `initialize` and nothing else.
async fn open_sessions(addr: std::net::SocketAddr, count: usize) -> usize {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"abandoner","version":"1"}}}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut opened = 0;
    for _ in 0..count {
        write.write_all(request.as_bytes()).await.expect("write");
        let mut status = String::new();
        read.read_line(&mut status).await.expect("status line");
        let mut length = 0usize;
        let mut has_session = false;
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().expect("content-length");
            }
            has_session |= lower.starts_with("mcp-session-id:");
        }
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{status} (after {opened})"
        );
        let mut answer = vec![0u8; length];
        read.read_exact(&mut answer).await.expect("body");
        assert!(has_session, "initialize must open a session");
        opened += 1;
    }
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_abandoned_sessions_leave_nothing_behind() {
    let router = Router::new().tool(Tool::new("hello").handler(|| async { "hi" }));
    let options = HttpOptions {
        // Long enough for every session of a round to be open at its peak.
        session_idle_timeout: Duration::from_secs(4),
        pre_initialize_timeout: Duration::from_secs(4),
        ..HttpOptions::default()
    };
    let endpoint = HttpEndpoint::new(Server::new("memory", "1.0.0", router), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(endpoint.clone().serve(listener, async {
        let _ = stopped.await;
    }));

    // Warm up (allocator arenas, lazily built tables), then take the baseline.
    assert_eq!(open_sessions(addr, 200).await, 200);
    wait_for_zero(&endpoint, Duration::from_secs(20)).await;
    let baseline = rss_kib();

    let per_connection = SESSIONS / CONNECTIONS;
    let opened: usize =
        futures_sum((0..CONNECTIONS).map(|_| tokio::spawn(open_sessions(addr, per_connection))))
            .await;
    assert_eq!(opened, SESSIONS);
    let open_now = endpoint.session_count();
    let peak = rss_kib();
    assert_eq!(open_now, SESSIONS, "every session is open at the peak");

    // Abandoned: the idle timeout ends every one of them.
    wait_for_zero(&endpoint, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss_kib();
    let grown = peak.saturating_sub(baseline);
    println!(
        "RSS KiB: baseline {baseline}, with {SESSIONS} sessions {peak} (+{grown}, {:.2} KiB a \
         session), after they ended {after}",
        grown as f64 / SESSIONS as f64
    );
    // glibc's allocator keeps freed heap pages mapped for reuse, so the resident size stays near
    // its high-water mark rather than dropping to the baseline. What proves that nothing leaks is
    // that the same load again needs no more memory: the next rounds reuse what the first freed.
    for round in 2..=3 {
        let opened: usize = futures_sum(
            (0..CONNECTIONS).map(|_| tokio::spawn(open_sessions(addr, per_connection))),
        )
        .await;
        assert_eq!(opened, SESSIONS);
        assert_eq!(endpoint.session_count(), SESSIONS);
        let round_peak = rss_kib();
        wait_for_zero(&endpoint, Duration::from_secs(60)).await;
        println!("round {round}: {SESSIONS} more sessions, peak {round_peak} KiB, all ended");
        assert!(
            round_peak <= peak + (grown / 4).max(8192),
            "round {round} needed more memory ({round_peak} KiB) than the first ({peak} KiB): \
             sessions leak"
        );
    }
    let _ = stop.send(());
    serving.await.expect("join").expect("serve");
}

async fn wait_for_zero(endpoint: &HttpEndpoint, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while endpoint.session_count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sessions left after {limit:?}: {}",
            endpoint.session_count()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn futures_sum(handles: impl Iterator<Item = tokio::task::JoinHandle<usize>>) -> usize {
    let mut total = 0;
    for h in handles.collect::<Vec<_>>() {
        total += h.await.expect("join");
    }
    total
}
