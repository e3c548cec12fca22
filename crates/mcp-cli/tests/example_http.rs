//! `mcp` against servers over HTTP: `mcp serve --http --ws` in both eras, over HTTP+SSE and
//! WebSocket; Ctrl-C cancelling a call at a server that records the cancellation; and the exit
//! codes of refused (401, 403), failing (500) and absent servers.

mod mcp_process;

use std::process::Stdio;
use std::sync::Arc;

use mcp_process::{LIMIT, MCP, Served, TempDir, free_port, mcp};
use mcp_server::{CancellationToken, Router, Server, Tool};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

#[tokio::test]
async fn mcp_serve_over_both_eras_sse_and_websocket() {
    let served = Served::start().await;
    assert!(served.url.starts_with("http://127.0.0.1:") && served.url.ends_with("/mcp"));
    let cases = [
        (served.url.as_str(), "auto", "modern", "streamable-http"),
        (served.url.as_str(), "legacy", "legacy", "streamable-http"),
        (served.sse.as_str(), "auto", "legacy", "http+sse"),
        (served.ws.as_str(), "auto", "modern", "websocket"),
        (served.ws.as_str(), "legacy", "legacy", "websocket"),
    ];
    for (url, protocol, era, transport) in cases {
        let ran = mcp(
            &[
                "discover",
                "-s",
                url,
                "--protocol",
                protocol,
                "--format",
                "json",
            ],
            "",
        )
        .await;
        assert_eq!(ran.code, 0, "{url} {protocol}: {ran:?}");
        let d = ran.json();
        assert_eq!(d["era"], era, "{url} {protocol}: {d}");
        assert_eq!(d["transport"], transport, "{url} {protocol}: {d}");
        assert_eq!(d["server"]["name"], "example-server");
        let ran = mcp(
            &[
                "call",
                "add",
                "-a",
                "a=40",
                "-a",
                "b=2",
                "-s",
                url,
                "--protocol",
                protocol,
            ],
            "",
        )
        .await;
        assert_eq!(
            (ran.code, ran.stdout.trim()),
            (0, r#"{"sum":42.0}"#),
            "{url} {protocol}: {ran:?}"
        );
    }
    // A legacy session has an id; the modern era has none.
    let ran = mcp(&["discover", "-s", &served.url, "--protocol", "legacy"], "").await;
    assert!(ran.stdout.contains("\nsession       "), "{ran:?}");
    let ran = mcp(&["tools", "-s", &served.url], "").await;
    assert!(
        ran.stdout.contains("slow_count    steps [delay_ms]"),
        "{ran:?}"
    );
    // Elicitation over a legacy HTTP session (a real server-to-client request on an SSE stream).
    let ran = mcp(
        &[
            "call",
            "ask_name",
            "-s",
            &served.url,
            "--protocol",
            "legacy",
        ],
        "a\nLin\n",
    )
    .await;
    assert_eq!(ran.stdout.trim(), "Hello, Lin!", "{ran:?}");
    // --protocol modern refuses the HTTP+SSE transport, which carries only the legacy era.
    let ran = mcp(
        &[
            "ping",
            "-s",
            &served.sse,
            "--protocol",
            "modern",
            "--format",
            "json",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 6, "{ran:?}");
}

/// A server in this test process whose `wait` tool says when it starts and when it stops: what
/// a Ctrl-C at the CLI must cause at the server. It stops either way the server cancels a
/// request: its cancellation token fires (`notifications/cancelled`), or its future is dropped
/// (the request's HTTP exchange closed first).
struct Watched {
    url: String,
    started: Arc<Notify>,
    cancelled: Arc<Notify>,
    stop: CancellationToken,
}

impl Watched {
    async fn start() -> Self {
        let started = Arc::new(Notify::new());
        let cancelled = Arc::new(Notify::new());
        let (s, c) = (started.clone(), cancelled.clone());
        let router = Router::new().tool(
            Tool::new("wait")
                .description("Waits to be cancelled")
                .handler(move |cancel: CancellationToken| {
                    let (started, cancelled) = (s.clone(), c.clone());
                    async move {
                        let _stopped = NotifyOnDrop(cancelled);
                        started.notify_one();
                        cancel.cancelled().await;
                        "cancelled"
                    }
                }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(
            Server::new("watched", "1.0.0", router).serve_http_with_shutdown(
                listener,
                mcp_server::http::HttpOptions::default(),
                async move { until.cancelled().await },
            ),
        );
        Self {
            url,
            started,
            cancelled,
            stop,
        }
    }
}

/// Notifies when dropped: when the handler holding it returns or is dropped.
struct NotifyOnDrop(Arc<Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_call_at_the_server_in_both_eras() {
    let server = Watched::start().await;
    for protocol in ["legacy", "modern"] {
        let mut child = tokio::process::Command::new(MCP)
            .args([
                "call",
                "wait",
                "-s",
                &server.url,
                "--protocol",
                protocol,
                "--format",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        tokio::time::timeout(LIMIT, server.started.notified())
            .await
            .expect("the call reached the server");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        tokio::time::timeout(LIMIT, server.cancelled.notified())
            .await
            .unwrap_or_else(|_| panic!("{protocol}: the server stopped the call"));
        let status = tokio::time::timeout(LIMIT, child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(130), "{protocol}");
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .await
            .unwrap();
        let report: serde_json::Value =
            serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
        assert_eq!(report["error"]["code"], "interrupted", "{stderr}");
    }
}

/// An HTTP server that answers every request with `status` and no JSON-RPC body (a gateway
/// asking for credentials, a crashed backend), closing each connection.
async fn answering(status: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the request head and whatever body came with it; the answer ignores it.
                let mut buf = vec![0u8; 16 * 1024];
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buf))
                        .await;
                let answer = format!(
                    "HTTP/1.1 {status}\r\nWWW-Authenticate: Bearer realm=\"mcp\"\r\n\
                     Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test]
async fn refused_failing_and_absent_servers_have_their_own_exit_codes() {
    for (status, code, name) in [
        ("401 Unauthorized", 3, "auth_required"),
        ("403 Forbidden", 3, "auth_required"),
        ("429 Too Many Requests", 8, "rate_limited"),
        ("500 Internal Server Error", 1, "error"),
    ] {
        let url = answering(status).await;
        let ran = mcp(&["tools", "-s", &url, "--format", "json"], "").await;
        assert_eq!(ran.code, code, "{status}: {ran:?}");
        let report = ran.error();
        assert_eq!(report["error"]["code"], name, "{status}: {ran:?}");
        assert_eq!(
            report["error"]["status"],
            json!(status[..3].parse::<u16>().unwrap())
        );
    }
    // The bearer token goes out as a header; the refusal is still exit 3 in table format.
    let url = answering("401 Unauthorized").await;
    let ran = mcp(&["ping", "-s", &url, "--bearer", "not-it"], "").await;
    assert_eq!(ran.code, 3, "{ran:?}");
    assert!(ran.stderr.starts_with("mcp: "), "{ran:?}");

    // Nothing listens: unreachable.
    let closed = format!("http://127.0.0.1:{}/mcp", free_port());
    let ran = mcp(&["tools", "-s", &closed, "--format", "json"], "").await;
    assert_eq!(ran.code, 4, "{ran:?}");
    assert_eq!(ran.error()["error"]["code"], "unreachable");
    let closed = format!("ws://127.0.0.1:{}/ws", free_port());
    let ran = mcp(&["tools", "-s", &closed], "").await;
    assert_eq!(ran.code, 4, "{ran:?}");
    // A scheme that is not MCP's is a usage error.
    let ran = mcp(&["tools", "-s", "ftp://127.0.0.1/"], "").await;
    assert_eq!(ran.code, 2, "{ran:?}");
}

/// A CA and a server certificate for 127.0.0.1 from it, as PEM files in `dir`: (ca, cert, key).
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "mcp-cli test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    };
    (
        write("ca.pem", ca_cert.pem()),
        write("cert.pem", cert.pem()),
        write("key.pem", key.serialize_pem()),
    )
}

#[tokio::test]
async fn https_and_wss_with_a_private_ca() {
    let dir = TempDir::new("tls");
    let (ca, cert, key) = certificates(&dir.0);
    let served = Served::start_with(&["--tls-cert", &cert, "--tls-key", &key]).await;
    assert!(
        served.url.starts_with("https://127.0.0.1:"),
        "{}",
        served.url
    );
    assert!(served.ws.starts_with("wss://127.0.0.1:"), "{}", served.ws);
    for (url, protocol, era) in [
        (served.url.as_str(), "auto", "modern"),
        (served.url.as_str(), "legacy", "legacy"),
        (served.sse.as_str(), "auto", "legacy"),
        (served.ws.as_str(), "auto", "modern"),
    ] {
        let ran = mcp(
            &[
                "discover",
                "-s",
                url,
                "--protocol",
                protocol,
                "--cacert",
                &ca,
                "--format",
                "json",
            ],
            "",
        )
        .await;
        assert_eq!(ran.code, 0, "{url} {protocol}: {ran:?}");
        assert_eq!(ran.json()["era"], era, "{url} {protocol}");
    }
    // Without the CA the certificate is not trusted: the server cannot be reached safely.
    let ran = mcp(&["tools", "-s", &served.url, "--format", "json"], "").await;
    assert_eq!(ran.code, 4, "{ran:?}");
    assert!(
        ran.error()["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{ran:?}"
    );
    // A --cacert that is not a PEM file is a usage error, before connecting.
    let ran = mcp(
        &[
            "tools",
            "-s",
            &served.url,
            "--cacert",
            &dir.0.join("none.pem").to_string_lossy(),
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 2, "{ran:?}");
}
