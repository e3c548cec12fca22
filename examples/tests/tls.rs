//! HTTPS and WSS on 127.0.0.1, with a CA and server certificates made for each test (rcgen):
//! our client against our server over `https://` in both eras, HTTP+SSE over `https://`, and
//! `wss://` in both eras; sequential calls on one pooled TLS connection; mutual TLS; a client
//! that does not trust the CA, a certificate for another host, plain HTTP sent to the HTTPS
//! port, https to a plain port, stalled handshakes beside a working client; JWT keys from a
//! JWKS on `https://` (mcp-auth's fetcher), and its default fetcher refusing an untrusted CA;
//! and the Python SDK's client and the TypeScript SDK's client over our HTTPS endpoint,
//! trusting the test CA through `SSL_CERT_FILE` / `NODE_EXTRA_CA_CERTS`.

mod common;
mod peer_env;

#[path = "../../crates/mcp-cli/src/example.rs"]
mod example;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::options;
use mcp_client::{
    Client, ClientError, ClientOptions, EraPreference, ErrorKind, HttpClientOptions, TlsError,
    TlsOptions, WsClientOptions,
};
use mcp_protocol::Era;
use mcp_server::Server;
use mcp_server::http::{HttpOptions, ServerTls, WsOptions};
use mcp_transport::ws_client::{Reconnect, WsError};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(30);
/// A peer process (Python or Node starting up, connecting, three operations) is bounded by this.
const PEER_LIMIT: Duration = Duration::from_secs(120);

/// A test CA, and a server certificate and a client certificate it signed.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

impl Pki {
    /// A new CA, and a certificate from it for `names` (DNS names or IP addresses).
    fn new(names: &[&str]) -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        // A name of its own: two test CAs must not pass for each other.
        static CAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, format!("mcp-rs test CA {n}"));
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = rcgen::KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = rcgen::CertificateParams::new(names).expect("server params");
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "mcp-rs test server");
        let cert = leaf.signed_by(&key, &issuer).expect("server certificate");
        let client_key = rcgen::KeyPair::generate().expect("client key");
        let mut client = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        client
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mcp-rs test client");
        client.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client
            .signed_by(&client_key, &issuer)
            .expect("client certificate");
        Self {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// Client TLS options that trust this CA only.
    fn trust(&self) -> TlsOptions {
        TlsOptions::custom_roots_pem(self.ca_pem.as_bytes()).expect("the CA's PEM")
    }

    fn http(&self) -> HttpClientOptions {
        HttpClientOptions {
            tls: self.trust(),
            ..HttpClientOptions::default()
        }
    }

    fn ws(&self) -> WsClientOptions {
        WsClientOptions {
            tls: self.trust(),
            ..WsClientOptions::default()
        }
    }
}

/// The example routes served over HTTPS on a free loopback port (Streamable HTTP at `/mcp`,
/// HTTP+SSE at `/sse`, WebSocket at `/ws`); stopped gracefully by [`HttpsServer::stop`].
struct HttpsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

impl HttpsServer {
    async fn start(pki: &Pki) -> Self {
        Self::start_with(pki, ServerTls::DEFAULT_HANDSHAKE_TIMEOUT).await
    }

    async fn start_with(pki: &Pki, handshake_timeout: Duration) -> Self {
        let tls = ServerTls::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
            .expect("server TLS")
            .handshake_timeout(handshake_timeout);
        Self::start_tls(tls).await
    }

    async fn start_tls(tls: ServerTls) -> Self {
        let options = HttpOptions {
            websocket: Some(WsOptions::default()),
            shutdown_timeout: Duration::from_secs(2),
            ..HttpOptions::default()
        };
        let server = example::server("example-server");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served =
            tokio::spawn(
                server.serve_https_with_shutdown(listener, options, tls, async {
                    let _ = stopped.await;
                }),
            );
        Self {
            addr,
            stop: Some(stop),
            served,
        }
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }

    /// Stops the server and waits, bounded, for its graceful shutdown.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(LIMIT, &mut self.served)
            .await
            .expect("the server stops in time")
            .expect("the server task")
            .expect("the server");
    }
}

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_server_over_https_in_both_eras() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let url = server.url("https", "/mcp");
    for (era, expect) in [
        (EraPreference::Auto, Era::Modern),
        (EraPreference::Legacy, Era::Legacy),
    ] {
        let client = bounded(
            "connect",
            Client::connect_http(&url, options(era), pki.http()),
        )
        .await
        .expect("connect over https");
        if expect == Era::Legacy {
            assert!(client.http_session_id().is_some(), "a legacy session id");
        }
        common::exercise(&client, expect).await;
        client.close().await;
    }
    // The certificate names `localhost` too.
    let by_name = format!("https://localhost:{}/mcp", server.addr.port());
    let client = bounded(
        "connect by name",
        Client::connect_http(&by_name, options(EraPreference::Auto), pki.http()),
    )
    .await
    .expect("connect to localhost over https");
    let sum = client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .expect("add");
    assert_eq!(sum.structured_content, Some(json!({"sum": 3.0})));
    client.close().await;
    server.stop().await;
}

/// DNS-rebinding protection over TLS: a browser page may drive the server only from an `https`
/// origin of the same host; the `http://` page of that host (open to tampering in transit) is
/// refused with 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_only_an_https_page_origin_is_accepted() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let url = format!("https://localhost:{}/mcp", server.addr.port());
    let with_origin = |origin: &str| HttpClientOptions {
        headers: vec![("Origin".into(), origin.into())],
        ..pki.http()
    };
    let port = server.addr.port();
    let client = bounded(
        "connect from an https page",
        Client::connect_http(
            &url,
            options(EraPreference::Auto),
            with_origin(&format!("https://localhost:{port}")),
        ),
    )
    .await
    .expect("an https origin of the same host passes");
    client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .expect("add");
    client.close().await;
    for origin in [
        format!("http://localhost:{port}"),
        "https://evil.example.com".to_owned(),
    ] {
        let refused = bounded(
            "connect from a refused page",
            Client::connect_http(&url, options(EraPreference::Auto), with_origin(&origin)),
        )
        .await
        .expect_err(&origin);
        // The 403 carries a JSON-RPC error, which the client returns as the server's.
        assert_eq!(refused.code(), Some(-32600), "{origin}: {refused:?}");
        assert!(
            refused.to_string().contains("Origin not allowed"),
            "{refused}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sse_over_https() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let client = bounded(
        "connect_sse",
        Client::connect_sse(
            &server.url("https", "/sse"),
            options(EraPreference::Auto),
            pki.http(),
        ),
    )
    .await
    .expect("HTTP+SSE over https");
    common::exercise(&client, Era::Legacy).await;
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_server_over_wss_in_both_eras() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let url = server.url("wss", "/ws");
    for (era, expect) in [
        (EraPreference::Auto, Era::Modern),
        (EraPreference::Legacy, Era::Legacy),
    ] {
        let client = bounded(
            "connect_ws",
            Client::connect_ws(&url, options(era), pki.ws()),
        )
        .await
        .expect("connect over wss");
        common::exercise(&client, expect).await;
        client.close().await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_calls_reuse_one_pooled_tls_connection() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    // A TCP relay in front of the server counts the connections the client opens.
    let relay = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay_addr = relay.local_addr().expect("address");
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let upstream = server.addr;
    let count = opened.clone();
    let relaying = tokio::spawn(async move {
        while let Ok((mut down, _)) = relay.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    let client = bounded(
        "connect",
        Client::connect_http(
            &format!("https://{relay_addr}/mcp"),
            options(EraPreference::Auto),
            pki.http(),
        ),
    )
    .await
    .expect("connect through the relay");
    for i in 0..20 {
        let r = client
            .call_tool("echo", json!({"text": i.to_string()}))
            .await
            .expect("echo");
        assert_eq!(common::text(&r), i.to_string());
    }
    let opened = opened.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=2).contains(&opened),
        "21 sequential exchanges opened {opened} TLS connections; the pool should reuse one"
    );
    client.close().await;
    relaying.abort();
    server.stop().await;
}

/// A [`ClientError::Tls`] that refused the certificate, of kind transport, not retryable.
fn assert_certificate_refused(e: &ClientError, what: &str) -> TlsError {
    let ClientError::Tls(tls) = e else {
        panic!("{what}: expected a TLS error, got {e:?}");
    };
    assert!(tls.is_certificate_error(), "{what}: {tls}");
    assert!(!e.is_retryable(), "{what}");
    assert_eq!(e.kind(), ErrorKind::Transport, "{what}");
    println!("{what}: {e}");
    tls.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_ca_gets_a_typed_tls_error() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let stranger = Pki::new(&["127.0.0.1"]);
    let https = server.url("https", "/mcp");
    let wss = server.url("wss", "/ws");

    // The default roots (bundled and system) do not include a test CA; nor does another CA.
    for (who, http) in [
        ("default roots", HttpClientOptions::default()),
        ("another CA", stranger.http()),
    ] {
        for era in [EraPreference::Auto, EraPreference::Legacy] {
            let what = format!("https, {who}, {era:?}");
            let e = bounded(
                &what,
                Client::connect_http(&https, options(era), http.clone()),
            )
            .await
            .expect_err("an untrusted certificate");
            let tls = assert_certificate_refused(&e, &what);
            assert!(
                matches!(tls, TlsError::UntrustedCertificate(_)),
                "{what}: {tls}"
            );
        }
        let what = format!("https+sse, {who}");
        let sse = server.url("https", "/sse");
        let e = bounded(
            &what,
            Client::connect_sse(&sse, ClientOptions::default(), http),
        )
        .await
        .expect_err("an untrusted certificate");
        assert_certificate_refused(&e, &what);
    }
    let ws = WsClientOptions {
        tls: stranger.trust(),
        ..WsClientOptions::default()
    };
    let e = bounded(
        "wss",
        Client::connect_ws(&wss, ClientOptions::default(), ws),
    )
    .await
    .expect_err("an untrusted certificate");
    let tls = assert_certificate_refused(&e, "wss");
    assert!(matches!(tls, TlsError::UntrustedCertificate(_)), "{tls}");

    // The transport's own error says the same.
    let (_out, outgoing) = tokio::sync::mpsc::channel(1);
    let e = bounded(
        "ws transport",
        mcp_transport::ws_client::connect(&wss, WsClientOptions::default(), outgoing),
    )
    .await
    .expect_err("an untrusted certificate");
    assert!(
        matches!(&e, WsError::Tls(TlsError::UntrustedCertificate(_))) && !e.is_retryable(),
        "{e:?}"
    );

    // The failed handshakes disturbed nothing: a client that trusts the CA is served.
    let client = bounded(
        "trusted connect",
        Client::connect_http(&https, options(EraPreference::Auto), pki.http()),
    )
    .await
    .expect("connect over https");
    client.list_tools().await.expect("tools/list");
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn era_detection_stops_at_the_first_certificate_refusal() {
    // In auto mode a failed `server/discover` probe normally falls back to `initialize`; a
    // refused certificate would refuse that too, so the client must not try a second handshake.
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let relay = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay_addr = relay.local_addr().expect("address");
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let upstream = server.addr;
    let count = opened.clone();
    let relaying = tokio::spawn(async move {
        while let Ok((mut down, _)) = relay.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    let stranger = Pki::new(&["127.0.0.1"]);
    let e = bounded(
        "connect with another CA",
        Client::connect_http(
            &format!("https://{relay_addr}/mcp"),
            options(EraPreference::Auto),
            stranger.http(),
        ),
    )
    .await
    .expect_err("an untrusted certificate");
    assert_certificate_refused(&e, "auto era, another CA");
    let opened = opened.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        opened, 1,
        "era detection made {opened} TLS handshakes after a refusal"
    );
    relaying.abort();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_host_is_refused() {
    // A certificate from a trusted CA, for `localhost` only, reached at 127.0.0.1.
    let pki = Pki::new(&["localhost"]);
    let server = HttpsServer::start(&pki).await;
    let e = bounded(
        "https",
        Client::connect_http(
            &server.url("https", "/mcp"),
            options(EraPreference::Auto),
            pki.http(),
        ),
    )
    .await
    .expect_err("another host's certificate");
    let tls = assert_certificate_refused(&e, "https");
    assert!(matches!(tls, TlsError::HostnameMismatch(_)), "{tls}");
    let e = bounded(
        "wss",
        Client::connect_ws(
            &server.url("wss", "/ws"),
            ClientOptions::default(),
            pki.ws(),
        ),
    )
    .await
    .expect_err("another host's certificate");
    let tls = assert_certificate_refused(&e, "wss");
    assert!(matches!(tls, TlsError::HostnameMismatch(_)), "{tls}");
    // By the name the certificate carries, the same server is fine.
    let by_name = format!("https://localhost:{}/mcp", server.addr.port());
    let client = bounded(
        "by name",
        Client::connect_http(&by_name, options(EraPreference::Auto), pki.http()),
    )
    .await
    .expect("connect to localhost");
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_https_port_fails_cleanly() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;

    // A raw request gets a 400 that says what to do, and the connection closes.
    let mut raw = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}",
        server.addr
    );
    raw.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    bounded("raw answer", raw.read_to_string(&mut answer))
        .await
        .expect("read to the end");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:?}");
    assert!(answer.contains("https://"), "{answer:?}");

    // Our clients fail with the server's explanation, without hanging.
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let e = bounded(
            "http client",
            Client::connect_http(
                &server.url("http", "/mcp"),
                options(era),
                HttpClientOptions::default(),
            ),
        )
        .await
        .expect_err("plain http to an https port");
        assert!(
            e.to_string().contains("This port serves HTTPS"),
            "{era:?}: {e}"
        );
    }
    let ws = WsClientOptions {
        reconnect: Reconnect {
            max_attempts: 0,
            ..Reconnect::default()
        },
        ..WsClientOptions::default()
    };
    let (_out, outgoing) = tokio::sync::mpsc::channel(1);
    let e = bounded(
        "ws transport",
        mcp_transport::ws_client::connect(&server.url("ws", "/ws"), ws, outgoing),
    )
    .await
    .expect_err("ws to a wss port");
    assert!(matches!(&e, WsError::Refused { status: 400, .. }), "{e:?}");

    // And the other way round: https to a plain HTTP server is a TLS error, not a hang.
    let plain = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let plain_addr = plain.local_addr().expect("address");
    let plain_server = tokio::spawn(
        Server::new("plain", "1.0.0", mcp_server::Router::new())
            .serve_http(plain, HttpOptions::default()),
    );
    let e = bounded(
        "https to http",
        Client::connect_http(
            &format!("https://{plain_addr}/mcp"),
            options(EraPreference::Auto),
            pki.http(),
        ),
    )
    .await
    .expect_err("https to a plain port");
    assert!(
        matches!(&e, ClientError::Tls(TlsError::Handshake(_))) && !e.is_retryable(),
        "{e:?}"
    );
    plain_server.abort();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_broken_handshake_disturbs_no_other_connection() {
    let pki = Pki::new(&["127.0.0.1"]);
    // Short enough to see the stalled handshakes dropped, long enough for the real client's
    // on a loaded machine.
    let server = HttpsServer::start_with(&pki, Duration::from_secs(3)).await;
    // One client opens TCP and says nothing; another starts a TLS record and stops; a third
    // sends garbage where the ClientHello should be.
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut half = TcpStream::connect(server.addr).await.expect("connect");
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    let mut garbage = TcpStream::connect(server.addr).await.expect("connect");
    garbage
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00])
        .await
        .expect("write");

    // Meanwhile a real client connects and works.
    let client = bounded(
        "connect",
        Client::connect_http(
            &server.url("https", "/mcp"),
            options(EraPreference::Legacy),
            pki.http(),
        ),
    )
    .await
    .expect("connect beside stalled handshakes");
    let r = client
        .call_tool("echo", json!({"text": "still here"}))
        .await
        .expect("echo");
    assert_eq!(common::text(&r), "still here");

    // The server drops each of them: the stalled ones at the handshake timeout.
    for (what, stream) in [
        ("silent", &mut silent),
        ("half", &mut half),
        ("garbage", &mut garbage),
    ] {
        // `bounded` is the check: the server closes the connection (EOF, after an alert for
        // the garbage; or a reset) instead of keeping it forever.
        let mut rest = Vec::new();
        if let Err(e) = bounded(what, stream.read_to_end(&mut rest)).await {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{what}: {e}");
        }
    }
    let r = client
        .call_tool("echo", json!({"text": "and after"}))
        .await
        .expect("echo");
    assert_eq!(common::text(&r), "and after");
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_ends_https_and_wss_connections() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = HttpsServer::start(&pki).await;
    let http = bounded(
        "https",
        Client::connect_http(
            &server.url("https", "/mcp"),
            options(EraPreference::Legacy),
            pki.http(),
        ),
    )
    .await
    .expect("https");
    let ws = WsClientOptions {
        reconnect: Reconnect {
            max_attempts: 0,
            ..Reconnect::default()
        },
        ..pki.ws()
    };
    let wss = bounded(
        "wss",
        Client::connect_ws(
            &server.url("wss", "/ws"),
            options(EraPreference::Legacy),
            ws,
        ),
    )
    .await
    .expect("wss");
    wss.list_tools().await.expect("tools/list over wss");
    http.list_tools().await.expect("tools/list over https");
    server.stop().await;
    let after = bounded("a call after shutdown", wss.list_tools()).await;
    assert!(
        after.is_err(),
        "the WebSocket connection ended with the server"
    );
    http.close().await;
    wss.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_with_a_client_certificate() {
    use mcp_server::http::tls::rustls;
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    // A server that requires a client certificate from the test CA (`ServerTls::from_config`).
    let pki = Pki::new(&["127.0.0.1"]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).expect("CA"))
        .expect("CA root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("client verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(pki.cert_pem.as_bytes()).expect("cert")],
            PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes()).expect("key"),
        )
        .expect("server config");
    let server = HttpsServer::start_tls(ServerTls::from_config(Arc::new(config))).await;

    // With the client certificate: served, over https and wss.
    let tls = pki
        .trust()
        .client_identity_pem(
            pki.client_cert_pem.as_bytes(),
            pki.client_key_pem.as_bytes(),
        )
        .expect("client identity");
    let http = HttpClientOptions {
        tls: tls.clone(),
        ..HttpClientOptions::default()
    };
    let client = bounded(
        "https with a client certificate",
        Client::connect_http(
            &server.url("https", "/mcp"),
            options(EraPreference::Auto),
            http,
        ),
    )
    .await
    .expect("connect with a client certificate");
    client.list_tools().await.expect("tools/list");
    client.close().await;
    let ws = WsClientOptions {
        tls,
        ..WsClientOptions::default()
    };
    let client = bounded(
        "wss with a client certificate",
        Client::connect_ws(
            &server.url("wss", "/ws"),
            options(EraPreference::Legacy),
            ws,
        ),
    )
    .await
    .expect("connect over wss with a client certificate");
    client.list_tools().await.expect("tools/list");
    client.close().await;

    // Without it: a TLS error (the server's alert), not a hang.
    let e = bounded(
        "https without a client certificate",
        Client::connect_http(
            &server.url("https", "/mcp"),
            options(EraPreference::Auto),
            pki.http(),
        ),
    )
    .await
    .expect_err("no client certificate");
    assert!(
        matches!(&e, ClientError::Tls(TlsError::Handshake(_))) && !e.is_retryable(),
        "{e:?}"
    );
    println!("https without a client certificate: {e}");
    server.stop().await;
}

/// A directory for the PEM files a peer reads; removed on drop.
struct PemDir(PathBuf);

impl PemDir {
    fn new(pki: &Pki) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mcp-rs-tls-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("ca.pem"), &pki.ca_pem).expect("write ca.pem");
        Self(dir)
    }

    fn ca(&self) -> PathBuf {
        self.0.join("ca.pem")
    }
}

impl Drop for PemDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/peers")
        .join(name)
}

/// Runs a peer client (bounded) and returns its JSON lines by operation.
async fn run_peer(cmd: &mut tokio::process::Command, what: &str) -> Vec<Value> {
    cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(PEER_LIMIT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {PEER_LIMIT:?}"))
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {l:?}: {e}")))
        .collect();
    for l in &lines {
        assert!(l.get("error").is_none(), "{what}: {l}");
    }
    lines
}

/// The answers of `--server-info --list-tools --call add {"a":2,"b":3}`.
fn check_peer(lines: &[Value], what: &str) -> String {
    assert_eq!(lines.len(), 3, "{what}: {lines:?}");
    let tools = lines[1]["result"]["tools"].as_array().expect("tools");
    assert!(tools.iter().any(|t| t["name"] == "echo"), "{what}");
    assert_eq!(
        lines[2]["result"]["structuredContent"]["sum"].as_f64(),
        Some(5.0),
        "{what}"
    );
    lines[0]["result"]["protocolVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const PEER_OPS: [&str; 5] = [
    "--server-info",
    "--list-tools",
    "--call",
    "add",
    r#"{"a":2,"b":3}"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_client_over_https() {
    let Some(p) = peer_env::peers("the Python client over HTTPS") else {
        return;
    };
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let pem = PemDir::new(&pki);
    let server = HttpsServer::start(&pki).await;
    let url = server.url("https", "/mcp");
    for (era, version) in [
        ("legacy", "2025-11-25"),
        ("modern", "2026-07-28"),
        ("auto", "2026-07-28"),
    ] {
        let what = format!("python sdk https {era}");
        let mut cmd = tokio::process::Command::new(&p["PYTHON"]);
        cmd.arg(fixture("py-client.py"))
            .args(["--era", era])
            .args(PEER_OPS)
            .args(["--url", &url])
            // httpx (under the SDK) trusts the file named here instead of its bundled roots.
            .env("SSL_CERT_FILE", pem.ca());
        let lines = run_peer(&mut cmd, &what).await;
        assert_eq!(check_peer(&lines, &what), version, "{what}");
        println!("{what}: server-info, tools/list, tools/call passed");
    }
    // Without the CA it must fail: the peer does verify.
    let mut cmd = tokio::process::Command::new(&p["PYTHON"]);
    cmd.arg(fixture("py-client.py"))
        .args(PEER_OPS)
        .args(["--url", &url, "--timeout-ms", "10000"])
        .env_remove("SSL_CERT_FILE")
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(PEER_LIMIT, cmd.output())
        .await
        .expect("python without the CA: done in time")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && stdout.contains("CERTIFICATE_VERIFY_FAILED"),
        "the python client must refuse an unknown CA: {stdout}"
    );
    println!(
        "python sdk https without the CA: refused ({})",
        stdout.trim()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_client_over_https_and_https_sse() {
    let Some(p) = peer_env::peers("the TypeScript client over HTTPS") else {
        return;
    };
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let pem = PemDir::new(&pki);
    let server = HttpsServer::start(&pki).await;
    for (flag, path) in [("--url", "/mcp"), ("--sse", "/sse")] {
        let what = format!("typescript sdk https {flag}");
        let mut cmd = tokio::process::Command::new(&p["NODE22"]);
        cmd.arg(fixture("ts-client.mjs"))
            .env("NPM_MODULES", &p["NPM_MODULES"])
            // Node adds the certificates of this file to its bundled roots.
            .env("NODE_EXTRA_CA_CERTS", pem.ca())
            .args(PEER_OPS)
            .args([flag, &server.url("https", path)]);
        let lines = run_peer(&mut cmd, &what).await;
        assert_eq!(check_peer(&lines, &what), "2025-11-25", "{what}");
        println!("{what}: server-info, tools/list, tools/call passed");
    }
    server.stop().await;
}

/// A JWKS document served over HTTPS on 127.0.0.1: one bare HTTP/1.1 answer per connection.
struct HttpsJwks {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl HttpsJwks {
    async fn start(pki: &Pki, document: String) -> Self {
        let tls = ServerTls::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
            .expect("server TLS");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls.config()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, document) = (acceptor.clone(), document.clone());
                tokio::spawn(async move {
                    let Ok(Ok(mut tls)) = tokio::time::timeout(LIMIT, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0_u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/jwk-set+json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{document}",
                        document.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self { addr, task }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/jwks.json", self.addr.port())
    }
}

impl Drop for HttpsJwks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_keys_come_from_an_https_jwks_and_an_untrusted_one_is_unavailable() {
    use mcp_auth::AuthErrorKind;
    use mcp_auth::fetch::HyperFetcher;
    use mcp_auth::jwt::{JwksSource, JwtAuthenticator};
    use mcp_auth::test_util::{TestClaims, TestKey, jwks};

    const ISSUER: &str = "https://issuer.test";
    const AUDIENCE: &str = "https://mcp.test/mcp";
    let pki = Pki::new(&["127.0.0.1"]);
    let key = TestKey::rsa();
    let server = HttpsJwks::start(&pki, jwks(&[&key]).to_string()).await;
    let authenticator = |source: JwksSource| {
        JwtAuthenticator::builder()
            .jwks(source)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .expect("authenticator")
    };
    let token = TestClaims::new(ISSUER, AUDIENCE, "alice").sign(&key);

    // A fetcher that trusts the test CA gets the keys over TLS, and the token verifies.
    let trusting = HyperFetcher::https_with(&pki.trust()).expect("TLS configuration");
    let source = JwksSource::builder(server.url())
        .fetcher(Arc::new(trusting))
        .build()
        .expect("source");
    let auth = authenticator(source.clone());
    let principal = bounded("verifying over https", auth.verify(&token))
        .await
        .expect("a token signed by a key from the https JWKS");
    assert_eq!(principal.id, "alice");
    assert_eq!(source.fetch_count(), 1);

    // The default fetcher speaks TLS as well: it reaches the server and refuses a certificate
    // from a CA it does not trust, as an unavailable key source (503, retryable), not as a
    // bad token.
    let source = JwksSource::builder(server.url()).build().expect("source");
    let error = bounded(
        "verifying with the default fetcher",
        authenticator(source).verify(&token),
    )
    .await
    .expect_err("an untrusted certificate");
    assert_eq!(error.kind(), AuthErrorKind::Unavailable, "{error}");
    let text = error.to_string().to_lowercase();
    assert!(
        text.contains("certificate") && !text.contains("scheme"),
        "the TLS check refused it: {error}"
    );
}
