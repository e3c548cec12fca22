//! Tool discovery across many servers at once: bounded concurrency, a timeout per server, and
//! one typed result per server, in the order given. A server that fails is an error in its
//! place, never a silently empty list.

use std::sync::Arc;
use std::time::Duration;

use mcp_protocol::types::Tool;
use tokio::sync::Semaphore;

use super::{MultiClient, MultiError};
use crate::ClientError;
use crate::config::ServerConfig;

/// How [`MultiClient::discover_all`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Servers asked at once (default 8).
    pub concurrency: usize,
    /// The most one server may take, connecting included (default 10 s); past it, that
    /// server's result is a [`ClientError::Timeout`].
    pub per_server_timeout: Duration,
    /// Ask every server even when its tools are cached (default false).
    pub force_refresh: bool,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            per_server_timeout: Duration::from_secs(10),
            force_refresh: false,
        }
    }
}

/// One server's part of a parallel discovery.
#[derive(Debug)]
pub struct ServerTools {
    /// The server's name.
    pub server: String,
    /// Its tools, or why there are none.
    pub result: Result<Vec<Tool>, MultiError>,
}

impl MultiClient {
    /// Lists the tools of every server in `configs` at once (at most `options.concurrency` at
    /// a time), each within `options.per_server_timeout`. The answer has one entry per
    /// configuration, in the same order.
    ///
    /// ```no_run
    /// use mcp_client::config::ServerConfig;
    /// use mcp_client::multi::{DiscoverOptions, MultiClient, MultiClientOptions};
    ///
    /// # async fn demo() -> Result<(), mcp_client::multi::MultiError> {
    /// let multi = MultiClient::new(MultiClientOptions::default())?;
    /// let servers = ServerConfig::load("servers.json")?;
    /// for found in multi.discover_all(&servers, DiscoverOptions::default()).await {
    ///     match found.result {
    ///         Ok(tools) => println!("{}: {} tools", found.server, tools.len()),
    ///         Err(e) => println!("{}: {:?} ({e})", found.server, e.kind()),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn discover_all(
        &self,
        configs: &[ServerConfig],
        options: DiscoverOptions,
    ) -> Vec<ServerTools> {
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, config) in configs.iter().enumerate() {
            let multi = self.clone();
            let config = config.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let after = options.per_server_timeout;
                let result = match tokio::time::timeout(
                    after,
                    multi.discover_tools(&config, options.force_refresh),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(MultiError::Client {
                        server: config.name.clone(),
                        source: ClientError::Timeout {
                            method: "tools/list".into(),
                            after,
                        },
                    }),
                };
                (
                    index,
                    ServerTools {
                        server: config.name,
                        result,
                    },
                )
            });
        }
        let mut found: Vec<Option<ServerTools>> = configs.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, tools)) => found[index] = Some(tools),
                // A panicking task is a bug; the server's entry still says something.
                Err(e) => tracing::error!(error = %e, "a discovery task failed"),
            }
        }
        found
            .into_iter()
            .zip(configs)
            .map(|(f, config)| {
                f.unwrap_or_else(|| ServerTools {
                    server: config.name.clone(),
                    result: Err(MultiError::Client {
                        server: config.name.clone(),
                        source: ClientError::Protocol("the discovery task failed".into()),
                    }),
                })
            })
            .collect()
    }
}
