//! Retries: none, or exponential backoff with jitter.
//!
//! Which failures are retried is decided by the caller ([`super::MultiClient`]): only retryable
//! errors, and after the request went out only for calls that are safe to repeat (reads, and
//! tools annotated idempotent or read-only).

use std::time::Duration;

/// How failed calls are retried.
///
/// ```
/// use std::time::Duration;
/// use mcp_client::multi::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::Exponential(Backoff {
///     max_retries: 2,
///     base: Duration::from_millis(100),
///     cap: Duration::from_secs(1),
///     jitter: false,
/// });
/// assert_eq!(policy.delay(0), Some(Duration::from_millis(100)));
/// assert_eq!(policy.delay(1), Some(Duration::from_millis(200)));
/// assert_eq!(policy.delay(2), None, "two retries, then the error");
/// assert_eq!(RetryPolicy::None.delay(0), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryPolicy {
    /// Never retry (the original SDK's `"simple"`).
    None,
    /// Retry with exponentially growing waits (the original's `"exponential"`).
    Exponential(Backoff),
}

impl Default for RetryPolicy {
    /// Exponential backoff with [`Backoff::default`]: safe, since only retryable failures of
    /// calls that may be repeated are retried.
    fn default() -> Self {
        Self::Exponential(Backoff::default())
    }
}

/// Exponential backoff: the wait before retry `n` (from 0) is `base * 2^n`, at most `cap`;
/// with jitter, a uniformly random duration between half of that and all of it, so clients
/// that failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Retries after the first attempt (default 3).
    pub max_retries: u32,
    /// The first wait (default 100 ms).
    pub base: Duration,
    /// The longest wait (default 10 s).
    pub cap: Duration,
    /// Randomize each wait within its upper half (default true).
    pub jitter: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` when the server asked for `retry_after`: the longer
    /// of the two, or `None` (give up now) when the server asks for more than the policy's
    /// `cap`: a call never sleeps longer than the policy allows, and the error it returns
    /// carries the server's wait.
    pub fn delay_honouring(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let delay = self.delay(retry)?;
        match (retry_after, self) {
            (Some(asked), Self::Exponential(b)) if asked > b.cap => None,
            (Some(asked), _) => Some(delay.max(asked)),
            (None, _) => Some(delay),
        }
    }

    /// The wait before retry number `retry` (0 for the first retry), or `None` when no more
    /// retries are allowed. See [`RetryPolicy::delay_honouring`] for a server that said how
    /// long to wait.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        let Self::Exponential(b) = self else {
            return None;
        };
        if retry >= b.max_retries {
            return None;
        }
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let full = b.base.saturating_mul(factor).min(b.cap);
        if !b.jitter || full.is_zero() {
            return Some(full);
        }
        let half = full / 2;
        let spread = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        Some(half + Duration::from_nanos(rand::random_range(0..=spread)))
    }

    /// The most retries this policy makes.
    pub fn max_retries(&self) -> u32 {
        match self {
            Self::None => 0,
            Self::Exponential(b) => b.max_retries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let b = Backoff {
            max_retries: 40,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
            jitter: false,
        };
        let p = RetryPolicy::Exponential(b);
        let waits: Vec<_> = (0..6).map(|n| p.delay(n).unwrap().as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 100, 100]);
        assert_eq!(p.delay(39), Some(Duration::from_millis(100)), "no overflow");
        let j = RetryPolicy::Exponential(Backoff { jitter: true, ..b });
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let d = j.delay(3).unwrap();
            assert!(
                d >= Duration::from_millis(40) && d <= Duration::from_millis(80),
                "{d:?}"
            );
            seen.insert(d);
        }
        assert!(seen.len() > 10, "jitter varies the waits");
        assert_eq!(RetryPolicy::None.max_retries(), 0);
    }

    #[test]
    fn a_servers_retry_after_lengthens_the_wait_up_to_the_cap() {
        let p = RetryPolicy::Exponential(Backoff {
            max_retries: 3,
            base: Duration::from_millis(10),
            cap: Duration::from_secs(2),
            jitter: false,
        });
        let secs = Duration::from_secs;
        assert_eq!(p.delay_honouring(0, None), Some(Duration::from_millis(10)));
        assert_eq!(p.delay_honouring(0, Some(secs(1))), Some(secs(1)));
        assert_eq!(
            p.delay_honouring(0, Some(secs(3))),
            None,
            "longer than the cap"
        );
        assert_eq!(p.delay_honouring(3, Some(secs(1))), None, "retries spent");
    }
}
