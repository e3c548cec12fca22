//! Rate limits per principal, and optionally per tool (feature `rate-limit`).
//!
//! GCRA token buckets from governor, one per key. A refusal is
//! [`AuthError::RateLimited`] with the seconds until the next request would pass: the HTTP
//! transport answers `429 Too Many Requests` with `Retry-After`, and transports without HTTP
//! statuses answer the JSON-RPC error [`jsonrpc_code::RATE_LIMITED`](crate::jsonrpc_code::RATE_LIMITED)
//! (`-31429`) with `data: {"retryAfterSecs": n}`.
//!
//! ```
//! use mcp_auth::AuthError;
//! use mcp_auth::rate_limit::{Quota, RateLimiter};
//!
//! let limits = RateLimiter::new(Quota::per_hour(100).unwrap());
//! for _ in 0..100 {
//!     limits.check("alice", None).unwrap();
//! }
//! // One request comes back every 36 s.
//! let refused = limits.check("alice", None).unwrap_err();
//! assert!(matches!(refused, AuthError::RateLimited { retry_after_secs: 30..=36 }));
//! assert!(limits.check("bob", None).is_ok(), "each principal has its own bucket");
//! ```

mod store;

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use serde::{Deserialize, Serialize};

use crate::error::{AuthError, ConfigError};
use crate::principal::Principal;
use store::{BoundedStore, BucketKey};

/// How many requests a key may make: `requests` per `period`, with bursts of up to `burst`
/// at once (default: `requests`, so a fresh key may spend its whole period's allowance at once
/// and then gets one request every `period / requests`).
///
/// In configuration: `{"requests": 100, "period_secs": 60, "burst": 20}` (`burst` optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "QuotaConfig", into = "QuotaConfig")]
pub struct Quota {
    requests: NonZeroU32,
    period: Duration,
    burst: NonZeroU32,
}

#[derive(Serialize, Deserialize)]
struct QuotaConfig {
    requests: u32,
    period_secs: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    burst: Option<u32>,
}

impl TryFrom<QuotaConfig> for Quota {
    type Error = ConfigError;

    fn try_from(config: QuotaConfig) -> Result<Self, ConfigError> {
        let quota = Quota::new(config.requests, Duration::from_secs(config.period_secs))?;
        match config.burst {
            Some(burst) => quota.with_burst(burst),
            None => Ok(quota),
        }
    }
}

impl From<Quota> for QuotaConfig {
    fn from(quota: Quota) -> Self {
        Self {
            requests: quota.requests.get(),
            period_secs: quota.period.as_secs(),
            burst: (quota.burst != quota.requests).then_some(quota.burst.get()),
        }
    }
}

impl Quota {
    /// `requests` per `period` (both non-zero; `period / requests` at least a nanosecond).
    pub fn new(requests: u32, period: Duration) -> Result<Self, ConfigError> {
        let requests = NonZeroU32::new(requests)
            .ok_or_else(|| ConfigError::new("a quota allows at least one request"))?;
        if (period / requests.get()).is_zero() {
            return Err(ConfigError::new("a quota's period must be longer"));
        }
        Ok(Self {
            requests,
            period,
            burst: requests,
        })
    }

    /// `requests` per second.
    pub fn per_second(requests: u32) -> Result<Self, ConfigError> {
        Self::new(requests, Duration::from_secs(1))
    }

    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Result<Self, ConfigError> {
        Self::new(requests, Duration::from_secs(60))
    }

    /// `requests` per hour.
    pub fn per_hour(requests: u32) -> Result<Self, ConfigError> {
        Self::new(requests, Duration::from_secs(3600))
    }

    /// Sets the burst (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Result<Self, ConfigError> {
        self.burst =
            NonZeroU32::new(burst).ok_or_else(|| ConfigError::new("a burst is at least 1"))?;
        Ok(self)
    }

    /// Requests per period.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The burst.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    fn to_governor(self) -> governor::Quota {
        // `new` checked that the interval is non-zero.
        governor::Quota::with_period(self.period / self.requests.get())
            .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.burst)
    }
}

/// The default bound on tracked keys per quota: 100 000.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Per-principal (and optionally per-tool) rate limits.
///
/// - Every principal has its own bucket with the default quota; with
///   [`per_tool`](Self::per_tool), every (principal, tool) pair has one.
/// - [`principal_quota`](Self::principal_quota) gives a principal another quota (a batch job, a
///   partner); [`tool_quota`](Self::tool_quota) gives an expensive tool its own, per principal.
///   A principal's own quota wins over a tool's.
/// - Keys are bounded ([`max_keys`](Self::max_keys) per quota): a newcomer that finds the
///   table full shares one overflow bucket and has the idle keys (whose buckets have refilled)
///   dropped, at most once a second, so later newcomers get buckets of their own. A flood of
///   new principals therefore neither grows memory without bound nor resets anyone's bucket,
///   and a tracked principal's check never counts the table.
///
/// Principals are keyed by [`Principal::id`] alone, whatever authenticated them.
pub struct RateLimiter {
    default: Buckets<(String, Option<String>)>,
    per_principal: HashMap<String, Buckets<Option<String>>>,
    per_tool: HashMap<String, Buckets<String>>,
    by_tool: bool,
    default_quota: Quota,
    max_keys: usize,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("default_quota", &self.default_quota)
            .field("per_tool", &self.by_tool)
            .field("principal_quotas", &self.per_principal.len())
            .field("tool_quotas", &self.per_tool.len())
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Every principal gets `quota`.
    pub fn new(quota: Quota) -> Self {
        Self {
            default: Buckets::new(quota, DEFAULT_MAX_KEYS),
            per_principal: HashMap::new(),
            per_tool: HashMap::new(),
            by_tool: false,
            default_quota: quota,
            max_keys: DEFAULT_MAX_KEYS,
        }
    }

    /// Also keys by tool: each (principal, tool) pair gets its own bucket (default off: one
    /// bucket per principal for every call).
    pub fn per_tool(mut self, by_tool: bool) -> Self {
        self.by_tool = by_tool;
        self
    }

    /// Gives one principal its own quota.
    pub fn principal_quota(mut self, principal: impl Into<String>, quota: Quota) -> Self {
        self.per_principal
            .insert(principal.into(), Buckets::new(quota, self.max_keys));
        self
    }

    /// Gives calls of one tool their own quota, per principal.
    pub fn tool_quota(mut self, tool: impl Into<String>, quota: Quota) -> Self {
        self.per_tool
            .insert(tool.into(), Buckets::new(quota, self.max_keys));
        self
    }

    /// The most keys tracked per quota (default [`DEFAULT_MAX_KEYS`]). Call before adding
    /// principal and tool quotas (it resets the default quota's state).
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self.default = Buckets::new(self.default_quota, max_keys);
        self
    }

    /// Counts one request of `principal` (calling `tool`, if it is a tool call).
    pub fn check(&self, principal: &str, tool: Option<&str>) -> Result<(), AuthError> {
        let tool_key = if self.by_tool { tool } else { None };
        if let Some(buckets) = self.per_principal.get(principal) {
            return buckets.check(tool_key.map(str::to_owned));
        }
        if let Some(tool) = tool
            && let Some(buckets) = self.per_tool.get(tool)
        {
            return buckets.check(principal.to_owned());
        }
        self.default
            .check((principal.to_owned(), tool_key.map(str::to_owned)))
    }

    /// [`check`](Self::check) for a principal.
    pub fn check_principal(
        &self,
        principal: &Principal,
        tool: Option<&str>,
    ) -> Result<(), AuthError> {
        self.check(&principal.id, tool)
    }

    /// How many keys the default quota tracks now (for metrics and tests).
    pub fn tracked_keys(&self) -> usize {
        self.default.limiter.len()
    }
}

type Limiter<K> = governor::RateLimiter<
    BucketKey<K>,
    BoundedStore<K>,
    DefaultClock,
    NoOpMiddleware<<DefaultClock as Clock>::Instant>,
>;

struct Buckets<K: Hash + Eq + Clone> {
    limiter: Limiter<K>,
    /// Set by the store when it sent a newcomer to the overflow bucket.
    turned_away: Arc<AtomicBool>,
    created: Instant,
    // Nanoseconds after `created` of the last sweep of idle keys.
    last_sweep: AtomicU64,
}

/// Idle keys are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(quota: Quota, max_keys: usize) -> Self {
        let clock = DefaultClock::default();
        let turned_away = Arc::new(AtomicBool::new(false));
        Self {
            limiter: governor::RateLimiter::new(
                quota.to_governor(),
                BoundedStore::new(max_keys, turned_away.clone()),
                clock,
            ),
            turned_away,
            created: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    fn check(&self, key: K) -> Result<(), AuthError> {
        let key = BucketKey::Key(key);
        let checked = self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            AuthError::RateLimited {
                retry_after_secs: ceil_secs(wait),
            }
        });
        // The store sends newcomers to the overflow bucket when full: make room for the next.
        if self.turned_away.load(Ordering::Relaxed)
            && self.turned_away.swap(false, Ordering::Relaxed)
        {
            self.sweep();
        }
        checked
    }

    fn sweep(&self) {
        let now = u64::try_from(self.created.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let last = self.last_sweep.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= u64::try_from(SWEEP_EVERY.as_nanos()).unwrap_or(0)
            || last == 0;
        if due
            && self
                .last_sweep
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.limiter.retain_recent();
        }
    }
}

fn ceil_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}
