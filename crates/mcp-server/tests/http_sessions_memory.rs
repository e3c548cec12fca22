//! 10,000 legacy sessions opened over Streamable HTTP and abandoned, twice: after the idle
//! timeout the session count is zero each time, and the second round needs no more memory than
//! the first (freed session state is reused, nothing accumulates). It prints the memory a
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
    open_sessions_with_ids(addr, count).await.len()
}

/// [`open_sessions`], returning the sessions' ids.
async fn open_sessions_with_ids(addr: std::net::SocketAddr, count: usize) -> Vec<String> {
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
    let mut opened = Vec::with_capacity(count);
    for _ in 0..count {
        write.write_all(request.as_bytes()).await.expect("write");
        let mut status = String::new();
        read.read_line(&mut status).await.expect("status line");
        let mut length = 0usize;
        let mut session = None;
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
            if lower.starts_with("mcp-session-id:") {
                session = line.split_once(':').map(|(_, v)| v.trim().to_owned());
            }
        }
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{status} (after {})",
            opened.len()
        );
        let mut answer = vec![0u8; length];
        read.read_exact(&mut answer).await.expect("body");
        opened.push(session.expect("initialize must open a session"));
    }
    opened
}

/// Ends sessions with DELETE, as a well-behaved client does.
async fn delete_sessions(addr: std::net::SocketAddr, ids: &[String]) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    for id in ids {
        let request = format!(
            "DELETE /mcp HTTP/1.1\r\nHost: {addr}\r\nMcp-Session-Id: {id}\r\nContent-Length: 0\r\n\r\n"
        );
        write.write_all(request.as_bytes()).await.expect("write");
        let mut status = String::new();
        read.read_line(&mut status).await.expect("status line");
        assert!(status.starts_with("HTTP/1.1 200"), "DELETE: {status}");
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.expect("header");
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("content-length:") {
                length = v.trim().parse().expect("content-length");
            }
        }
        let mut body = vec![0u8; length];
        read.read_exact(&mut body).await.expect("body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_abandoned_sessions_leave_nothing_behind() {
    let router = Router::new().tool(Tool::new("hello").handler(|| async { "hi" }));
    let options = HttpOptions {
        // Long enough for every session of a round to be open at its peak, even on a loaded
        // machine where opening 10,000 takes several seconds.
        session_idle_timeout: Duration::from_secs(20),
        pre_initialize_timeout: Duration::from_secs(20),
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
    let warm = open_sessions_with_ids(addr, 200).await;
    delete_sessions(addr, &warm).await;
    wait_for_zero(&endpoint, Duration::from_secs(10)).await;
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
    for round in 2..=2 {
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
