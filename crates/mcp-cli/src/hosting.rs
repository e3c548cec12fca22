//! What `mcp serve` and `mcp bridge` put in front of a server: authentication (API keys, JWTs),
//! permissions, a rate limit per principal, metrics, `/health`, a timeout, a concurrency limit
//! and the cache, from flags or a TOML file (`--config`; flags win). The layers are
//! `mcp-server`'s own ([`ProductionLayer`], [`HttpOptions::auth`]); this module only reads the
//! settings and wires them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mcp_auth::jwt::{Algorithm, JwtAuthenticator, JwtKey};
use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_auth::{ApiKeyAuthenticator, AuthChain, AuthMethod, Authenticator, Principal};
use mcp_server::http::{
    AllowedHosts, HealthCheck, HealthOptions, HttpAuth, HttpOptions, MetricsOptions, ServerTls,
    WsOptions,
};
use mcp_server::middleware::{Metrics, ProductionLayer};
use mcp_server::{LocalPrincipal, Server};
use serde::Deserialize;

use crate::cli::parse_duration;
use crate::exit::{Exit, Failure};

/// The flags shared by `mcp serve` and `mcp bridge`. Each may also come from `--config FILE`;
/// a flag given on the command line wins over the file (`--api-key`s add to the file's keys).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Hosting (auth, limits, metrics)")]
pub(crate) struct HostingArgs {
    /// Read these settings from a TOML file (see docs/cli.md); flags override it.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// A Host (and Origin host) to answer besides the default (loopback names when bound to
    /// loopback; any host otherwise). Repeatable; use it behind a reverse proxy.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub(crate) allowed_hosts: Vec<String>,
    /// Serve HTTPS (and WSS) with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Accept this API key (in `X-API-Key` or `Authorization: ApiKey`), with these permissions
    /// (default `*`: everything). Repeatable. Keys are kept as SHA-256 digests; at least 16
    /// characters. Visible in the process list: prefer the config file's `sha256` entries.
    #[arg(long = "api-key", value_name = "KEY[:PERM,PERM]")]
    pub(crate) api_keys: Vec<String>,
    /// Accept HS256 JWTs signed with the secret in this file (at least 32 bytes).
    #[arg(long, value_name = "FILE")]
    pub(crate) jwt_secret_file: Option<PathBuf>,
    /// Accept JWTs signed by this public key (PEM: RSA for RS256, P-256 for ES256, Ed25519).
    #[arg(long, value_name = "PEM", conflicts_with = "jwt_secret_file")]
    pub(crate) jwt_public_key: Option<PathBuf>,
    /// The key id (`kid`) of the JWT key: tokens whose header names a `kid` are checked only
    /// against a key with that id (default: none, for tokens without a `kid`).
    #[arg(long, value_name = "KID")]
    pub(crate) jwt_key_id: Option<String>,
    /// The `iss` JWTs must carry (default: any issuer).
    #[arg(long, value_name = "ISSUER")]
    pub(crate) jwt_issuer: Option<String>,
    /// The `aud` JWTs must name (default: this server's /mcp URL).
    #[arg(long, value_name = "URI")]
    pub(crate) jwt_audience: Option<String>,
    /// Serve without authentication on an address other than loopback (refused otherwise).
    #[arg(long)]
    pub(crate) insecure_no_auth: bool,
    /// At most N tool calls, reads, prompt gets and completions per principal per second,
    /// minute or hour (`10/s`, `600/min`, `1000/h`); more get -31429 / 429 with Retry-After.
    #[arg(long, value_name = "N/UNIT", value_parser = parse_rate)]
    pub(crate) rate_limit: Option<Rate>,
    /// Count requests and serve them at /metrics (Prometheus text format; behind the
    /// authenticator when there is one, unless --public-metrics).
    #[arg(long)]
    pub(crate) metrics: bool,
    /// Serve /metrics without credentials even when requests need them.
    #[arg(long)]
    pub(crate) public_metrics: bool,
    /// The most time one request may take (default 300 s); longer gets -31504.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) timeout: Option<Duration>,
    /// The most requests handled at once; more wait their turn.
    #[arg(long, value_name = "N")]
    pub(crate) max_concurrency: Option<usize>,
    /// Cache the results of read-only tools for TTL (default 300 s) per principal. Only for
    /// servers whose read-only tools are pure.
    #[arg(long, value_name = "TTL", num_args = 0..=1, default_missing_value = "300",
          value_parser = parse_duration)]
    pub(crate) cache: Option<Duration>,
}

/// A rate: `requests` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) requests: u32,
    pub(crate) period: Duration,
}

/// `10/s`, `600/min`, `1000/h` (also `sec`, `second`, `m`, `minute`, `hour`).
pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    let bad = || format!("{text:?} is not a rate (try 10/s, 600/min or 1000/h)");
    let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
    let requests: u32 = count.trim().parse().map_err(|_| bad())?;
    let period = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(bad()),
    };
    if requests == 0 {
        return Err(format!(
            "{text:?}: the rate must allow at least one request"
        ));
    }
    Ok(Rate { requests, period })
}

/// The TOML file: the same settings as the flags, plus keys given by digest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostingFile {
    http: Option<String>,
    ws: Option<bool>,
    name: Option<String>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    insecure_no_auth: Option<bool>,
    #[serde(default)]
    api_keys: Vec<FileKey>,
    jwt: Option<FileJwt>,
    rate_limit: Option<String>,
    metrics: Option<bool>,
    public_metrics: Option<bool>,
    timeout: Option<FileDuration>,
    max_concurrency: Option<usize>,
    cache: Option<FileCache>,
    bridge: Option<FileBridge>,
}

/// `[[api_keys]]`: a key in plaintext (`key`) or by digest (`sha256`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKey {
    id: Option<String>,
    key: Option<String>,
    sha256: Option<String>,
    permissions: Option<Vec<String>>,
}

/// `[jwt]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJwt {
    secret_file: Option<PathBuf>,
    public_key: Option<PathBuf>,
    key_id: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// `[bridge]`: the bridge's own settings.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBridge {
    pub(crate) command: Option<Vec<String>>,
    pub(crate) per_session: Option<bool>,
}

/// A duration in the file: seconds, or a string with a unit (`"30s"`).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum FileDuration {
    Seconds(u64),
    Text(String),
}

impl FileDuration {
    pub(crate) fn resolve(&self, key: &str) -> Result<Duration, Failure> {
        match self {
            Self::Seconds(0) => Err(Failure::usage(format!("{key}: must be positive"))),
            Self::Seconds(s) => Ok(Duration::from_secs(*s)),
            Self::Text(t) => parse_duration(t).map_err(|e| Failure::usage(format!("{key}: {e}"))),
        }
    }
}

/// `cache = true` (300 s), `cache = false`, or a TTL.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileCache {
    On(bool),
    Ttl(FileDuration),
}

/// Where JWT keys come from.
#[derive(Debug, Clone)]
enum JwtSource {
    Secret(PathBuf),
    PublicKey(PathBuf),
}

/// How JWTs are checked.
#[derive(Debug, Clone)]
struct JwtSettings {
    source: JwtSource,
    key_id: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// An accepted API key.
#[derive(Debug, Clone)]
enum KeyEntry {
    Plain {
        id: String,
        key: String,
        permissions: Vec<String>,
    },
    Digest {
        id: String,
        sha256: String,
        permissions: Vec<String>,
    },
}

/// The settings, file and flags merged.
#[derive(Debug, Clone)]
pub(crate) struct Hosting {
    /// The HTTP address (the flag's, else the file's).
    pub(crate) http: Option<String>,
    /// Serve WebSocket at /ws too.
    pub(crate) ws: bool,
    /// serverInfo.name, from the file (the flag wins when given).
    pub(crate) name: Option<String>,
    allowed_hosts: Vec<String>,
    tls: Option<(PathBuf, PathBuf)>,
    insecure_no_auth: bool,
    keys: Vec<KeyEntry>,
    jwt: Option<JwtSettings>,
    rate: Option<Rate>,
    metrics: bool,
    public_metrics: bool,
    timeout: Duration,
    max_concurrency: Option<usize>,
    cache: Option<Duration>,
    /// The file's `[bridge]` table.
    pub(crate) bridge: FileBridge,
}

impl Hosting {
    /// Reads `--config` (if any) and lays the flags over it. `http` and `ws` are the command's
    /// own flags.
    pub(crate) fn resolve(
        args: &HostingArgs,
        http: Option<&str>,
        ws: bool,
    ) -> Result<Self, Failure> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => HostingFile::default(),
        };
        let base = args.config.as_deref().and_then(Path::parent);
        let relative = |p: PathBuf| match base {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        };
        let mut keys = Vec::new();
        for (i, k) in file.api_keys.into_iter().enumerate() {
            let permissions = k.permissions.unwrap_or_else(|| vec!["*".to_owned()]);
            match (k.key, k.sha256) {
                (Some(key), None) => keys.push(KeyEntry::Plain {
                    id: k.id.unwrap_or_else(|| key_id(&key)),
                    key,
                    permissions,
                }),
                (None, Some(sha256)) => keys.push(KeyEntry::Digest {
                    id: k.id.unwrap_or_else(|| format!("key-{}", i + 1)),
                    sha256,
                    permissions,
                }),
                _ => {
                    return Err(Failure::usage(format!(
                        "api_keys[{i}]: give exactly one of `key` and `sha256`"
                    )));
                }
            }
        }
        for flag in &args.api_keys {
            let (key, permissions) = match flag.split_once(':') {
                Some((key, perms)) => (
                    key,
                    perms
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ),
                None => (flag.as_str(), vec!["*".to_owned()]),
            };
            keys.push(KeyEntry::Plain {
                id: key_id(key),
                key: key.to_owned(),
                permissions,
            });
        }
        let file_jwt = file.jwt;
        let jwt_source = match (&args.jwt_secret_file, &args.jwt_public_key) {
            (Some(s), _) => Some(JwtSource::Secret(s.clone())),
            (None, Some(k)) => Some(JwtSource::PublicKey(k.clone())),
            (None, None) => match &file_jwt {
                Some(FileJwt {
                    secret_file: Some(s),
                    public_key: None,
                    ..
                }) => Some(JwtSource::Secret(relative(s.clone()))),
                Some(FileJwt {
                    secret_file: None,
                    public_key: Some(k),
                    ..
                }) => Some(JwtSource::PublicKey(relative(k.clone()))),
                Some(_) => {
                    return Err(Failure::usage(
                        "[jwt]: give exactly one of `secret_file` and `public_key`",
                    ));
                }
                None => None,
            },
        };
        let from_file = |pick: fn(&FileJwt) -> Option<String>| file_jwt.as_ref().and_then(pick);
        let jwt = jwt_source.map(|source| JwtSettings {
            source,
            key_id: args
                .jwt_key_id
                .clone()
                .or_else(|| from_file(|j| j.key_id.clone())),
            issuer: args
                .jwt_issuer
                .clone()
                .or_else(|| from_file(|j| j.issuer.clone())),
            audience: args
                .jwt_audience
                .clone()
                .or_else(|| from_file(|j| j.audience.clone())),
        });
        let rate = match (args.rate_limit, &file.rate_limit) {
            (Some(r), _) => Some(r),
            (None, Some(text)) => {
                Some(parse_rate(text).map_err(|e| Failure::usage(format!("rate_limit: {e}")))?)
            }
            (None, None) => None,
        };
        let timeout = match (args.timeout, &file.timeout) {
            (Some(t), _) => t,
            (None, Some(t)) => t.resolve("timeout")?,
            (None, None) => Duration::from_secs(300),
        };
        let cache = match (args.cache, &file.cache) {
            (Some(ttl), _) => Some(ttl),
            (None, Some(FileCache::On(true))) => Some(Duration::from_secs(300)),
            (None, Some(FileCache::On(false)) | None) => None,
            (None, Some(FileCache::Ttl(t))) => Some(t.resolve("cache")?),
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            _ => match (file.tls_cert, file.tls_key) {
                (Some(c), Some(k)) => Some((relative(c), relative(k))),
                (None, None) => None,
                _ => {
                    return Err(Failure::usage(
                        "give both `tls_cert` and `tls_key`, or neither",
                    ));
                }
            },
        };
        let mut allowed_hosts = file.allow_hosts;
        allowed_hosts.extend(args.allowed_hosts.iter().cloned());
        Ok(Self {
            http: http.map(str::to_owned).or(file.http),
            ws: ws || file.ws.unwrap_or(false),
            name: file.name,
            allowed_hosts,
            tls,
            insecure_no_auth: args.insecure_no_auth || file.insecure_no_auth.unwrap_or(false),
            keys,
            jwt,
            rate,
            metrics: args.metrics || file.metrics.unwrap_or(false),
            public_metrics: args.public_metrics || file.public_metrics.unwrap_or(false),
            timeout,
            max_concurrency: args.max_concurrency.or(file.max_concurrency),
            cache,
            bridge: file.bridge.unwrap_or_default(),
        })
    }

    /// The address to serve on: the flag's, else the file's, else `default`.
    pub(crate) fn http_or(&self, default: &str) -> String {
        self.http.clone().unwrap_or_else(|| default.to_owned())
    }

    /// The most time one request may take (`--timeout`, default 300 s).
    pub(crate) fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// The settings that only mean something over HTTP and are set (for stdio's usage error).
    pub(crate) fn http_only_settings(&self) -> Vec<&'static str> {
        [
            (self.ws, "--ws"),
            (self.tls.is_some(), "--tls-cert"),
            (!self.allowed_hosts.is_empty(), "--allow-host"),
            (self.metrics, "--metrics"),
            (self.insecure_no_auth, "--insecure-no-auth"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Whether any credential is configured.
    pub(crate) fn authenticates(&self) -> bool {
        !self.keys.is_empty() || self.jwt.is_some()
    }

    /// The authenticator of every configured credential (API keys first: they never collide
    /// with bearer tokens), or `None`. `endpoint` is the default JWT audience.
    pub(crate) fn authenticator(
        &self,
        endpoint: &str,
    ) -> Result<Option<Arc<dyn Authenticator>>, Failure> {
        let mut chain: Vec<Arc<dyn Authenticator>> = Vec::new();
        if !self.keys.is_empty() {
            let mut keys = ApiKeyAuthenticator::new();
            for entry in &self.keys {
                keys = match entry {
                    KeyEntry::Plain {
                        id,
                        key,
                        permissions,
                    } => keys.key(key, principal(id, permissions)),
                    KeyEntry::Digest {
                        id,
                        sha256,
                        permissions,
                    } => keys.hashed_key(sha256, principal(id, permissions)),
                }
                .map_err(|e| Failure::usage(format!("API key {}: {e}", entry_id(entry))))?;
            }
            chain.push(Arc::new(keys));
        }
        if let Some(JwtSettings {
            source,
            key_id,
            issuer,
            audience,
        }) = &self.jwt
        {
            let key = match source {
                JwtSource::Secret(path) => {
                    let secret = read_bytes(path)?;
                    let secret = secret.trim_ascii();
                    JwtKey::hmac(secret, Algorithm::HS256)
                        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?
                }
                JwtSource::PublicKey(path) => {
                    let pem = read_bytes(path)?;
                    JwtKey::rsa_pem(&pem, Algorithm::RS256)
                        .or_else(|_| JwtKey::ec_pem(&pem, Algorithm::ES256))
                        .or_else(|_| JwtKey::ed_pem(&pem))
                        .map_err(|e| {
                            Failure::usage(format!(
                                "{}: not an RSA, P-256 or Ed25519 public key: {e}",
                                path.display()
                            ))
                        })?
                }
            };
            let key = match key_id {
                Some(kid) => key.with_kid(kid.clone()),
                None => key,
            };
            let mut builder = JwtAuthenticator::builder()
                .key(key)
                .audience(audience.clone().unwrap_or_else(|| endpoint.to_owned()));
            if let Some(issuer) = issuer {
                builder = builder.issuer(issuer.clone());
            }
            let jwt = builder
                .build()
                .map_err(|e| Failure::usage(format!("JWT settings: {e}")))?;
            chain.push(Arc::new(jwt));
        }
        Ok(match chain.len() {
            0 => None,
            1 => chain.pop(),
            _ => Some(Arc::new(
                chain.into_iter().fold(AuthChain::new(), AuthChain::with),
            )),
        })
    }

    /// The middleware: trace, metrics (with `--metrics`), authentication and permissions (with
    /// credentials), the rate limit, the cache (with `--cache`), the concurrency limit and the
    /// timeout. Circuit breakers are left out: a CLI server has no upstream to protect.
    pub(crate) fn layer(&self) -> Result<(ProductionLayer, Option<Metrics>), Failure> {
        let mut layer = ProductionLayer::new()
            .without_circuit_breaker()
            .timeout(self.timeout);
        let metrics = self.metrics.then(Metrics::new);
        layer = match &metrics {
            Some(m) => layer.with_metrics(m.clone()),
            None => layer.without_metrics(),
        };
        if self.authenticates() {
            layer = layer.require_auth();
        }
        if let Some(rate) = self.rate {
            let quota = Quota::new(rate.requests, rate.period)
                .map_err(|e| Failure::usage(format!("--rate-limit: {e}")))?;
            layer = layer.rate_limit(RateLimiter::new(quota));
        }
        layer = match self.cache {
            Some(ttl) => layer.cache_ttl(ttl),
            None => layer.without_cache(),
        };
        if let Some(max) = self.max_concurrency {
            if max == 0 {
                return Err(Failure::usage("--max-concurrency must be at least 1"));
            }
            layer = layer.max_concurrency(max);
        }
        Ok((layer, metrics))
    }

    /// Who calls on stdio: the API key in `$MCP_API_KEY`, checked like an HTTP request's.
    pub(crate) fn stdio_principal(&self) -> Result<LocalPrincipal, Failure> {
        Ok(match self.authenticator("stdio")? {
            Some(auth) => LocalPrincipal::environment(
                "MCP_API_KEY",
                http::HeaderName::from_static("x-api-key"),
                auth,
            ),
            None => LocalPrincipal::None,
        })
    }

    /// Refuses to serve a non-loopback address without credentials (unless
    /// `--insecure-no-auth`). Checked before binding, so nothing unauthenticated is ever
    /// reachable from elsewhere, even briefly.
    pub(crate) async fn check_exposure(&self, addr: &str) -> Result<(), Failure> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host(addr)
            .await
            .map_err(|e| Failure::usage(format!("--http {addr}: {e}")))?
            .collect();
        if let Some(open) = resolved.iter().find(|a| !a.ip().is_loopback())
            && !self.authenticates()
            && !self.insecure_no_auth
        {
            return Err(Failure::usage(format!(
                "{open} is not a loopback address: give credentials (--api-key, \
                 --jwt-secret-file, --jwt-public-key) or --insecure-no-auth"
            )));
        }
        Ok(())
    }

    /// Binds the HTTP address, applies the middleware to `server`, prints the URLs (one a line
    /// on stdout: /mcp first, then /sse, then /ws) and serves until Ctrl-C or SIGTERM.
    /// `ready` are extra readiness checks; `tune` adjusts the HTTP options last.
    pub(crate) async fn serve_http(
        &self,
        addr: &str,
        server: Server,
        ready: Vec<HealthCheck>,
        tune: impl FnOnce(&mut HttpOptions),
    ) -> Result<(), Failure> {
        let tls = match &self.tls {
            Some((cert, key)) => Some(
                ServerTls::from_pem_files(cert, key)
                    .map_err(|e| Failure::usage(format!("--tls-cert/--tls-key: {e}")))?,
            ),
            None => None,
        };
        self.check_exposure(addr).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::new(Exit::Failed, format!("cannot listen on {addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        let (http_scheme, ws_scheme) = if tls.is_some() {
            ("https", "wss")
        } else {
            ("http", "ws")
        };
        let mut options = HttpOptions::default();
        let endpoint = format!("{http_scheme}://{local}{}", options.path);
        options.allowed_hosts = self.allowed_hosts(local);
        let auth = self.authenticator(&endpoint)?;
        let (layer, metrics) = self.layer()?;
        let mut health = HealthOptions::default();
        for check in ready {
            health = health.check(check);
        }
        options.health = Some(health);
        if let Some(metrics) = metrics {
            let scrape = MetricsOptions::new(metrics);
            options.metrics = Some(if auth.is_some() && !self.public_metrics {
                scrape.require_auth()
            } else {
                scrape
            });
        }
        options.auth = auth.map(HttpAuth::new);
        let mut urls = vec![endpoint];
        if let Some(sse) = &options.legacy_sse {
            urls.push(format!("{http_scheme}://{local}{}", sse.sse_path));
        }
        if self.ws {
            let ws = WsOptions::default();
            urls.push(format!("{ws_scheme}://{local}{}", ws.path));
            options.websocket = Some(ws);
        }
        tune(&mut options);
        let server = server.layer(layer);
        {
            // The URLs once listening: scripts and tests read the first line.
            let mut out = std::io::stdout().lock();
            for url in &urls {
                let _ = writeln!(out, "{url}");
            }
            let _ = out.flush();
        }
        tracing::info!(health = %format!("{http_scheme}://{local}/health"), "serving");
        let served = match tls {
            Some(tls) => {
                server
                    .serve_https_with_shutdown(
                        listener,
                        options,
                        tls,
                        crate::commands::interrupted(),
                    )
                    .await
            }
            None => {
                server
                    .serve_http_with_shutdown(listener, options, crate::commands::interrupted())
                    .await
            }
        };
        served.map_err(|e| Failure::new(Exit::Failed, format!("serving HTTP failed: {e}")))
    }

    fn allowed_hosts(&self, local: SocketAddr) -> AllowedHosts {
        if self.allowed_hosts.is_empty() {
            return AllowedHosts::Auto;
        }
        let mut hosts = self.allowed_hosts.clone();
        // The address it listens on stays reachable by its own name.
        hosts.push(local.to_string());
        if local.ip().is_loopback() {
            hosts.extend([
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ]);
        }
        AllowedHosts::List(hosts)
    }
}

fn principal(id: &str, permissions: &[String]) -> Principal {
    Principal::new(id, AuthMethod::ApiKey).with_permissions(permissions.iter().cloned())
}

fn entry_id(entry: &KeyEntry) -> &str {
    match entry {
        KeyEntry::Plain { id, .. } | KeyEntry::Digest { id, .. } => id,
    }
}

/// A key's principal id: `key-` and the first 8 hex digits of its digest (never the key).
fn key_id(key: &str) -> String {
    format!("key-{}", &mcp_auth::sha256_hex(key)[..8])
}

fn read_file(path: &Path) -> Result<HostingFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(
            parse_rate("10/s"),
            Ok(Rate {
                requests: 10,
                period: Duration::from_secs(1)
            })
        );
        assert_eq!(
            parse_rate("600/min").unwrap().period,
            Duration::from_secs(60)
        );
        assert_eq!(parse_rate("5/h").unwrap().period, Duration::from_secs(3600));
        for bad in ["", "10", "0/s", "ten/s", "10/day", "-1/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_file_and_the_flags_merge_with_flags_winning() {
        let dir = std::env::temp_dir().join(format!("mcp-cli-hosting-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("serve.toml");
        std::fs::write(
            &path,
            r#"
http = "127.0.0.1:9000"
rate_limit = "5/s"
timeout = 30
cache = true
metrics = true

[[api_keys]]
id = "ci"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
permissions = ["tools.call.echo"]
"#,
        )
        .unwrap();
        let args = HostingArgs {
            config: Some(path.clone()),
            rate_limit: Some(parse_rate("7/min").unwrap()),
            api_keys: vec!["0123456789abcdef0123:tools.call.add".into()],
            ..HostingArgs::default()
        };
        let h = Hosting::resolve(&args, None, false).unwrap();
        assert_eq!(h.http.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(h.rate.unwrap().requests, 7);
        assert_eq!(h.timeout, Duration::from_secs(30));
        assert_eq!(h.cache, Some(Duration::from_secs(300)));
        assert!(h.metrics);
        assert_eq!(h.keys.len(), 2);
        assert!(h.authenticator("http://127.0.0.1/mcp").unwrap().is_some());
        std::fs::write(&path, "htpp = \"typo\"\n").unwrap();
        let typo = Hosting::resolve(&args, None, false).unwrap_err();
        assert!(typo.message.contains("htpp"), "{}", typo.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn short_keys_are_refused() {
        let args = HostingArgs {
            api_keys: vec!["short".into()],
            ..HostingArgs::default()
        };
        let h = Hosting::resolve(&args, None, false).unwrap();
        assert!(h.authenticator("x").is_err());
    }
}
