//! HTTPS (feature `tls`): the HTTP endpoint (Streamable HTTP, HTTP+SSE and, with `ws`,
//! WebSocket) over TLS, with rustls and its `ring` provider.
//!
//! - A [`ServerTls`] comes from a PEM certificate chain and private key (files or bytes), or
//!   from a complete `rustls::ServerConfig` (client-certificate checks, a certificate resolver
//!   that picks up renewed certificates, ...).
//! - **HTTP/1.1 only**: ALPN offers `http/1.1` (also on a given configuration). HTTP/2 is not
//!   served.
//! - Each connection's handshake runs in that connection's own task, bounded by
//!   [`ServerTls::handshake_timeout`] (default 10 s) and by the endpoint's connection limit: a
//!   client that stalls or fails its handshake costs one connection slot for that long and
//!   disturbs nobody else.
//! - Plain HTTP sent to the HTTPS port gets `400 Bad Request` saying to use `https://`, then
//!   the connection closes.
//!
//! ```no_run
//! use mcp_server::http::{HttpOptions, ServerTls};
//! use mcp_server::{Router, Server, Tool};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let router = Router::new().tool(Tool::new("hello").handler(|| async { "hi" }));
//!     let tls = ServerTls::from_pem_files("cert.pem", "key.pem")?;
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//!     let options = HttpOptions {
//!         allowed_hosts: mcp_server::http::AllowedHosts::List(vec!["mcp.example.com".into()]),
//!         ..HttpOptions::default()
//!     };
//!     Server::new("hello", "1.0.0", router)
//!         .serve_https(listener, options, tls)
//!         .await
//! }
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use rustls;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// The TLS side of an HTTPS endpoint: the rustls configuration and the handshake timeout.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    handshake_timeout: Duration,
}

/// Why a [`ServerTls`] could not be built. Converts into `io::Error` (kind `InvalidInput`,
/// or the read error's), so `?` works in a `main` returning `io::Result`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A PEM file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The certificate PEM holds no usable `CERTIFICATE` block.
    #[error("no certificate in the certificate PEM: {0}")]
    NoCertificate(String),
    /// The key PEM holds no usable private key (PKCS#8, PKCS#1 or SEC1).
    #[error("no private key in the key PEM: {0}")]
    NoPrivateKey(String),
    /// rustls refused the certificate and key (a key that does not match the certificate, an
    /// unsupported key type, ...).
    #[error("the certificate and key are unusable: {0}")]
    Rejected(String),
}

impl From<TlsConfigError> for io::Error {
    fn from(e: TlsConfigError) -> Self {
        match e {
            TlsConfigError::Read { path, source } => io::Error::new(
                source.kind(),
                format!("reading {}: {source}", path.display()),
            ),
            other => io::Error::new(io::ErrorKind::InvalidInput, other),
        }
    }
}

impl ServerTls {
    /// The default bound on one connection's TLS handshake.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// From a PEM certificate chain (leaf first, then intermediates) and a PEM private key.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsConfigError> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsConfigError::NoCertificate(e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsConfigError::NoCertificate(
                "no CERTIFICATE block".to_owned(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TlsConfigError::NoPrivateKey(e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Rejected(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsConfigError::Rejected(e.to_string()))?;
        // Stateless session tickets: a client reconnecting skips the full handshake without
        // the server keeping a per-client cache.
        config.ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| TlsConfigError::Rejected(e.to_string()))?;
        Ok(Self::from_config(Arc::new(config)))
    }

    /// From a PEM certificate chain file and a PEM private key file.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsConfigError::Read {
                path: path.to_owned(),
                source,
            })
        };
        Self::from_pem(&read(cert_chain.as_ref())?, &read(key.as_ref())?)
    }

    /// From a complete rustls configuration; its ALPN list is replaced by `http/1.1`, the only
    /// protocol served.
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        let mut config = Arc::unwrap_or_clone(config);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            config: Arc::new(config),
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Bounds each connection's TLS handshake (default 10 s); a slower client is dropped.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The rustls configuration in use.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// The TLS side of one accepted connection, within the handshake timeout. `None`: the
    /// handshake failed, stalled, or the client spoke plain HTTP (and was told so).
    pub(crate) async fn accept(&self, stream: TcpStream) -> Option<TlsStream<TcpStream>> {
        let peer = stream.peer_addr().ok();
        let handshake = async {
            let mut first = [0_u8; 1];
            match stream.peek(&mut first).await {
                Ok(1) => {}
                _ => return None,
            }
            // Every TLS connection opens with a handshake record (content type 22). Anything
            // else is almost always plain HTTP sent to this port by mistake.
            if first[0] != 0x16 {
                refuse_plain_http(stream).await;
                tracing::debug!(?peer, "plain HTTP on the HTTPS port: answered 400");
                return None;
            }
            let acceptor = tokio_rustls::TlsAcceptor::from(self.config.clone());
            match acceptor.accept(stream).await {
                Ok(tls) => Some(tls),
                Err(e) => {
                    tracing::debug!(?peer, error = %e, "TLS handshake failed");
                    None
                }
            }
        };
        match tokio::time::timeout(self.handshake_timeout, handshake).await {
            Ok(accepted) => accepted,
            Err(_) => {
                tracing::debug!(?peer, "TLS handshake timed out");
                None
            }
        }
    }
}

/// Answers a plain HTTP request on the HTTPS port with 400, then closes once the client has
/// read it (draining what it sent, so that closing does not reset the connection and lose the
/// answer).
async fn refuse_plain_http(mut stream: TcpStream) {
    const BODY: &str = "This port serves HTTPS: use an https:// (or wss://) URL.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0_u8; 4096];
    let mut drained = 0;
    while drained < 64 * 1024 {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certified() -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate")
    }

    #[test]
    fn pem_certificate_and_key_make_an_http1_config() {
        let c = certified();
        let tls = ServerTls::from_pem(
            c.cert.pem().as_bytes(),
            c.signing_key.serialize_pem().as_bytes(),
        )
        .expect("config");
        assert_eq!(tls.config().alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert_eq!(tls.handshake_timeout, ServerTls::DEFAULT_HANDSHAKE_TIMEOUT);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let c = certified();
        let cert = c.cert.pem();
        let key = c.signing_key.serialize_pem();
        assert!(matches!(
            ServerTls::from_pem(b"", key.as_bytes()),
            Err(TlsConfigError::NoCertificate(_))
        ));
        assert!(matches!(
            ServerTls::from_pem(cert.as_bytes(), b"nothing"),
            Err(TlsConfigError::NoPrivateKey(_))
        ));
        let other = certified().signing_key.serialize_pem();
        assert!(matches!(
            ServerTls::from_pem(cert.as_bytes(), other.as_bytes()),
            Err(TlsConfigError::Rejected(_))
        ));
        let missing =
            ServerTls::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
        assert!(matches!(missing, TlsConfigError::Read { .. }));
        assert_eq!(io::Error::from(missing).kind(), io::ErrorKind::NotFound);
    }
}
