//! TLS for the client transports (feature `tls`): `https://` for Streamable HTTP and HTTP+SSE,
//! `wss://` for WebSocket. rustls with the `ring` provider; TLS 1.3 and 1.2.
//!
//! - **Roots.** By default the server's certificate must chain to a root of Mozilla's
//!   programme, bundled in the binary (`webpki-roots`), or to a root of the operating system's
//!   store (`rustls-native-certs`, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`): the
//!   bundled roots make a bare container work, the system's make a corporate CA work.
//!   [`TrustedRoots`] narrows that; [`TlsOptions::add_roots_pem`] trusts more (a private CA) and
//!   [`TlsOptions::custom_roots_pem`] trusts only the certificates given.
//! - **Verification is always on**: the chain, the validity dates and the host name of the URL
//!   (a DNS name or an IP address). There is no switch to turn it off: a test or development
//!   server is reached by trusting its own certificate or CA with
//!   [`TlsOptions::custom_roots_pem`], which is one line and keeps the check. Whoever truly
//!   needs another policy (certificate pinning, say) builds a `rustls::ClientConfig` with their
//!   own verifier (rustls names that API `dangerous()`) and passes it as [`TlsOptions::config`].
//! - **HTTP/1.1 only** (ALPN `http/1.1`): the transports speak HTTP/1.1 on pooled connections;
//!   HTTP/2 is not offered.
//! - **Client certificates** (mutual TLS): [`TlsOptions::client_identity_pem`].
//! - **Failures** are a [`TlsError`]: inside `HttpError::Tls` and `WsError::Tls`. None of them is
//!   worth retrying as is: the same handshake with the same certificate fails the same way.
//!
//! ```
//! use mcp_transport::tls::{TlsOptions, TrustedRoots};
//!
//! # fn demo(company_ca_pem: &[u8]) -> Result<(), mcp_transport::tls::TlsError> {
//! // The defaults and a private CA on top of them:
//! let tls = TlsOptions::default().add_roots_pem(company_ca_pem)?;
//! assert_eq!(tls.roots, TrustedRoots::BundledAndSystem);
//! // Only that CA (a test server, say):
//! let tls = TlsOptions::custom_roots_pem(company_ca_pem)?;
//! assert_eq!(tls.roots, TrustedRoots::CustomOnly);
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use rustls;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};

/// Which root certificates a client trusts, besides [`TlsOptions::extra_roots`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrustedRoots {
    /// Mozilla's roots bundled in the binary and the operating system's roots (default). An
    /// unreadable or empty system store is not an error: the bundled roots remain.
    #[default]
    BundledAndSystem,
    /// Mozilla's roots bundled in the binary (`webpki-roots`) only: the same on every machine.
    Bundled,
    /// The operating system's roots only (with `SSL_CERT_FILE` / `SSL_CERT_DIR` if set). An
    /// empty store is a [`TlsError::Config`].
    System,
    /// None: only [`TlsOptions::extra_roots`], which must then not be empty.
    CustomOnly,
}

/// A client certificate and its private key, for servers that ask for one (mutual TLS).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    // `PrivateKeyDer` is not `Clone`; its `Debug` does not print the key.
    key: Arc<PrivateKeyDer<'static>>,
}

/// How a client transport does TLS. The default trusts the bundled and the system roots; see
/// the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Which roots are trusted besides `extra_roots`.
    pub roots: TrustedRoots,
    /// More trusted roots (a private CA, a test server's certificate), as DER. Fill it from PEM
    /// with [`TlsOptions::add_roots_pem`].
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// A client certificate to present when the server asks for one.
    pub client_identity: Option<ClientIdentity>,
    /// A complete rustls configuration to use instead of the fields above (a custom verifier,
    /// session cache, ...). Its ALPN list is replaced by `http/1.1`.
    pub config: Option<Arc<ClientConfig>>,
}

impl TlsOptions {
    /// Trusts the certificates of `pem` (one or more `CERTIFICATE` blocks) besides the current
    /// roots.
    pub fn add_roots_pem(mut self, pem: &[u8]) -> Result<Self, TlsError> {
        let certs = certificates_from_pem(pem)?;
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Trusts only the certificates of `pem` ([`TrustedRoots::CustomOnly`]).
    pub fn custom_roots_pem(pem: &[u8]) -> Result<Self, TlsError> {
        Self {
            roots: TrustedRoots::CustomOnly,
            ..Self::default()
        }
        .add_roots_pem(pem)
    }

    /// Trusts the certificates of the PEM file at `path` besides the current roots.
    pub fn add_roots_pem_file(self, path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        let pem = std::fs::read(path)
            .map_err(|e| TlsError::Config(format!("reading {}: {e}", path.display())))?;
        self.add_roots_pem(&pem)
    }

    /// Presents the certificate chain of `cert_pem` (leaf first) with the private key of
    /// `key_pem` (PKCS#8, PKCS#1 or SEC1) to servers that ask for a client certificate.
    pub fn client_identity_pem(
        mut self,
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, TlsError> {
        let chain = certificates_from_pem(cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TlsError::Config(format!("no usable private key in the PEM: {e}")))?;
        self.client_identity = Some(ClientIdentity {
            chain,
            key: Arc::new(key),
        });
        Ok(self)
    }

    /// The rustls configuration these options describe, with ALPN `http/1.1`. Without extra
    /// roots or a client identity it is built once per process (and so shares one TLS session
    /// cache: reconnecting resumes sessions).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        if let Some(config) = &self.config {
            let mut config = ClientConfig::clone(config);
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            return Ok(Arc::new(config));
        }
        if self.extra_roots.is_empty() && self.client_identity.is_none() {
            static SHARED: [OnceLock<Result<Arc<ClientConfig>, TlsError>>; 4] =
                [const { OnceLock::new() }; 4];
            let slot = match self.roots {
                TrustedRoots::BundledAndSystem => 0,
                TrustedRoots::Bundled => 1,
                TrustedRoots::System => 2,
                TrustedRoots::CustomOnly => 3,
            };
            return SHARED[slot]
                .get_or_init(|| self.build_config().map(Arc::new))
                .clone();
        }
        self.build_config().map(Arc::new)
    }

    fn build_config(&self) -> Result<ClientConfig, TlsError> {
        let mut roots = RootCertStore::empty();
        if matches!(
            self.roots,
            TrustedRoots::BundledAndSystem | TrustedRoots::Bundled
        ) {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if matches!(
            self.roots,
            TrustedRoots::BundledAndSystem | TrustedRoots::System
        ) {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "reading the system's root certificates");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "system root certificates");
            if added == 0 && self.roots == TrustedRoots::System {
                return Err(TlsError::Config(
                    "no root certificate found in the system's store".to_owned(),
                ));
            }
        }
        for cert in &self.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| TlsError::Config(format!("an extra root is unusable: {e}")))?;
        }
        if roots.is_empty() {
            return Err(TlsError::Config(
                "no trusted root certificate (CustomOnly needs extra_roots)".to_owned(),
            ));
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(roots);
        let mut config = match &self.client_identity {
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|e| TlsError::Config(format!("client certificate: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// The crypto provider every configuration of this crate uses: `ring`, named explicitly so
/// that a process-wide default (or another crate enabling `aws-lc-rs`) changes nothing.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Every `CERTIFICATE` block of `pem`; none is an error.
fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Config(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Config(
            "no CERTIFICATE block in the PEM".to_owned(),
        ));
    }
    Ok(certs)
}

/// The name the server's certificate must carry: the URL's host (brackets of an IPv6 address
/// removed).
#[cfg_attr(
    not(any(feature = "http-client", feature = "ws-client")),
    allow(dead_code, reason = "used by the transports")
)]
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| {
        TlsError::Config(format!(
            "{host:?} cannot be checked against a certificate: {e}"
        ))
    })
}

/// Why a TLS connection could not be made. None of these is retryable as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate does not chain to a trusted root, has expired or is not valid
    /// yet, was revoked or is malformed.
    #[error("TLS: the server's certificate is not trusted: {0}")]
    UntrustedCertificate(String),
    /// The server's certificate is valid but does not name the host of the URL.
    #[error("TLS: the server's certificate does not match the host: {0}")]
    HostnameMismatch(String),
    /// The handshake failed otherwise: the server refused it (an alert), shares no protocol
    /// version or cipher suite with us, wants a client certificate we lack, or does not speak
    /// TLS at all.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// The client's TLS configuration is unusable (bad PEM, no trusted root, a host that cannot
    /// be a TLS server name).
    #[error("TLS configuration: {0}")]
    Config(String),
}

#[cfg_attr(
    not(any(feature = "http-client", feature = "ws-client")),
    allow(dead_code, reason = "used by the transports")
)]
impl TlsError {
    /// Whether the server's certificate was refused (untrusted or naming another host).
    pub fn is_certificate_error(&self) -> bool {
        matches!(
            self,
            Self::UntrustedCertificate(_) | Self::HostnameMismatch(_)
        )
    }

    /// Classifies a rustls error.
    pub(crate) fn from_rustls(e: &rustls::Error) -> Self {
        match e {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => Self::HostnameMismatch(e.to_string()),
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                Self::UntrustedCertificate(e.to_string())
            }
            rustls::Error::InvalidMessage(_) => {
                Self::Handshake(format!("{e} (is the server speaking TLS on this port?)"))
            }
            other => Self::Handshake(other.to_string()),
        }
    }

    /// The TLS failure somewhere in `e`'s chain of sources, if there is one: a [`TlsError`], or
    /// a rustls error (also inside an `io::Error`, whose `source()` skips what it wraps).
    pub(crate) fn find(e: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut next = Some(e);
        while let Some(e) = next {
            if let Some(t) = e.downcast_ref::<Self>() {
                return Some(t.clone());
            }
            if let Some(r) = e.downcast_ref::<rustls::Error>() {
                return Some(Self::from_rustls(r));
            }
            if let Some(inner) = e
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                && let Some(found) = Self::find(inner)
            {
                return Some(found);
            }
            next = e.source();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).expect("self-signed").pem()
    }

    #[test]
    fn pem_roots_are_parsed_and_garbage_is_refused() {
        let pem = ca_pem();
        let tls = TlsOptions::custom_roots_pem(pem.as_bytes()).expect("parsed");
        assert_eq!(tls.roots, TrustedRoots::CustomOnly);
        assert_eq!(tls.extra_roots.len(), 1);
        let config = tls.client_config().expect("config");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);

        let two = format!("{pem}{}", ca_pem());
        let tls = TlsOptions::default()
            .add_roots_pem(two.as_bytes())
            .expect("parsed");
        assert_eq!(tls.extra_roots.len(), 2);

        for bad in [
            "",
            "not pem at all",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        ] {
            let err = TlsOptions::custom_roots_pem(bad.as_bytes()).unwrap_err();
            assert!(matches!(err, TlsError::Config(_)), "{bad:?}: {err}");
        }
    }

    #[test]
    fn custom_only_without_roots_is_a_config_error() {
        let tls = TlsOptions {
            roots: TrustedRoots::CustomOnly,
            ..TlsOptions::default()
        };
        assert!(matches!(tls.client_config(), Err(TlsError::Config(_))));
    }

    #[test]
    fn the_bundled_roots_are_shared_across_transports() {
        let tls = TlsOptions {
            roots: TrustedRoots::Bundled,
            ..TlsOptions::default()
        };
        let a = tls.client_config().expect("config");
        let b = tls.client_config().expect("config");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_given_config_gets_http1_alpn() {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tls = TlsOptions {
            config: Some(Arc::new(config)),
            ..TlsOptions::default()
        };
        assert_eq!(
            tls.client_config().unwrap().alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn rustls_errors_are_classified_also_inside_io_errors() {
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        let issuer = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(matches!(
            TlsError::from_rustls(&name),
            TlsError::HostnameMismatch(_)
        ));
        assert!(matches!(
            TlsError::from_rustls(&issuer),
            TlsError::UntrustedCertificate(_)
        ));
        assert!(TlsError::from_rustls(&expired).is_certificate_error());
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, issuer);
        assert!(matches!(
            TlsError::find(&wrapped),
            Some(TlsError::UntrustedCertificate(_))
        ));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(TlsError::find(&plain), None);
    }

    #[test]
    fn server_names_accept_dns_names_and_ip_addresses() {
        assert!(server_name("example.com").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("[::1]").is_ok());
        assert!(matches!(server_name("bad name"), Err(TlsError::Config(_))));
    }
}
