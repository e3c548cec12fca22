//! The HTTP transport's credentials hook: what a challenge carries, and how often a refused
//! request is sent again. The server is a few lines over a TCP socket on 127.0.0.1 that
//! refuses as scripted and records what it was sent.

#![cfg(feature = "http-client")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_transport::http_client::{
    self, BoxFuture, Challenge, Credentials, HttpClientOptions, HttpError, Inbound,
    MAX_CHALLENGE_RETRIES,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Answers each POST with the next status of `script` (200 once it runs out: a JSON-RPC
/// result for id 1) and records each request's `authorization` and `mcp-protocol-version`.
async fn scripted_server(script: Vec<u16>) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Head and body arrive in a few reads at most; the body ends the JSON object.
            while !request.ends_with(b"}") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request).to_lowercase();
            let header = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            record
                .lock()
                .unwrap()
                .push((header("authorization"), header("mcp-protocol-version")));
            let answer = match script.next() {
                Some(401) => "HTTP/1.1 401 Unauthorized\r\nconnection: close\r\nwww-authenticate: Bearer error=\"invalid_token\"\r\ncontent-length: 0\r\n\r\n".to_owned(),
                Some(403) => "HTTP/1.1 403 Forbidden\r\nconnection: close\r\nwww-authenticate: Bearer error=\"insufficient_scope\", scope=\"more\"\r\ncontent-length: 0\r\n\r\n".to_owned(),
                _ => {
                    let body = r#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","tools":[]}}"#;
                    format!("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                }
            };
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, seen)
}

/// Hands out `Bearer token-N`, N counting the challenges seen, and always asks for a retry.
#[derive(Debug, Default)]
struct Counting {
    challenges: Mutex<Vec<Challenge>>,
}

impl Credentials for Counting {
    fn authorization(&self) -> BoxFuture<'_, Option<String>> {
        let n = self.challenges.lock().unwrap().len();
        Box::pin(async move { Some(format!("Bearer token-{n}")) })
    }

    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, bool> {
        self.challenges.lock().unwrap().push(challenge.clone());
        Box::pin(async { true })
    }
}

const MODERN_REQUEST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

async fn send(url: &str, credentials: Arc<Counting>) -> Inbound {
    let options = HttpClientOptions {
        credentials: Some(credentials),
        ..HttpClientOptions::default()
    };
    let (tx, rx) = mpsc::channel(4);
    let (mut inbound, _handle) = http_client::spawn(url, options, rx).unwrap();
    tx.send(MODERN_REQUEST.as_bytes().to_vec()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), inbound.recv())
        .await
        .expect("an answer within 30 s")
        .expect("the transport is open")
}

#[tokio::test]
async fn a_401_then_a_403_are_both_retried_and_each_challenge_says_what_was_refused() {
    let (url, seen) = scripted_server(vec![401, 403]).await;
    let credentials = Arc::new(Counting::default());
    let answer = send(&url, credentials.clone()).await;
    assert!(matches!(answer, Inbound::Message(_)), "{answer:?}");

    let challenges = credentials.challenges.lock().unwrap().clone();
    assert_eq!(challenges.len(), 2);
    assert_eq!(challenges[0].status, 401);
    assert_eq!(
        challenges[0].authorization.as_deref(),
        Some("Bearer token-0")
    );
    assert_eq!(
        challenges[0].protocol_version.as_deref(),
        Some("2026-07-28")
    );
    assert_eq!(challenges[1].status, 403);
    assert_eq!(
        challenges[1].authorization.as_deref(),
        Some("Bearer token-1")
    );
    assert_eq!(
        challenges[1].www_authenticate.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="more""#)
    );
    let sent: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(a, _)| a.clone())
        .collect();
    assert_eq!(sent, ["bearer token-0", "bearer token-1", "bearer token-2"]);
}

#[tokio::test]
async fn a_server_that_always_refuses_gets_the_request_at_most_four_times() {
    let (url, seen) = scripted_server(vec![401; 10]).await;
    let credentials = Arc::new(Counting::default());
    let answer = send(&url, credentials.clone()).await;
    match answer {
        Inbound::Failed {
            error: HttpError::Status { status: 401, .. },
            ..
        } => {}
        other => panic!("expected the 401 as the request's failure, got {other:?}"),
    }
    assert_eq!(
        credentials.challenges.lock().unwrap().len() as u32,
        MAX_CHALLENGE_RETRIES
    );
    assert_eq!(seen.lock().unwrap().len() as u32, 1 + MAX_CHALLENGE_RETRIES);
}
