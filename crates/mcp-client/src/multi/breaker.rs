//! A circuit breaker per server: closed (calls go through), open (calls fail at once, without
//! touching the server), half-open (a few probe calls decide whether to close again).
//!
//! Only failures that say the server is unwell count: transport failures, timeouts and HTTP
//! 5xx. A tool that reports an error, a bad argument or a missing resource come from a healthy
//! server and leave the breaker alone.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The breaker's settings (the original SDK's `circuit_breaker_config`).
///
/// ```
/// use std::time::Duration;
/// use mcp_client::multi::BreakerOptions;
///
/// let options = BreakerOptions { failure_threshold: 3, open_for: Duration::from_secs(5), ..BreakerOptions::default() };
/// assert_eq!(options.half_open_max_calls, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerOptions {
    /// Consecutive failures that open the breaker (default 5, the original's
    /// `failure_threshold`).
    pub failure_threshold: u32,
    /// How long it stays open before letting probes through (default 60 s, the original's
    /// `timeout`).
    pub open_for: Duration,
    /// Probe calls allowed at once while half-open (default 1); further calls fail as if open.
    pub half_open_max_calls: u32,
    /// Successful probes that close it again (default 3, the original's `success_threshold`);
    /// any failed probe opens it again.
    pub success_threshold: u32,
}

impl Default for BreakerOptions {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(60),
            half_open_max_calls: 1,
            success_threshold: 3,
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail at once.
    Open,
    /// Probe calls go through; their outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open` (the metrics' label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

impl State {
    fn public(&self) -> BreakerState {
        match self {
            Self::Closed { .. } => BreakerState::Closed,
            Self::Open { .. } => BreakerState::Open,
            Self::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

/// What an attempt's outcome means to the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The server answered.
    Success,
    /// The server is unwell (transport, timeout, 5xx).
    Failure,
    /// Says nothing about the server (the call never went out, or was cancelled).
    Neutral,
}

type OnChange = Box<dyn Fn(BreakerState) + Send + Sync>;

/// One server's breaker.
pub(crate) struct Breaker {
    options: BreakerOptions,
    state: Mutex<State>,
    /// Closed with no failures counted: the common case, read without the lock.
    healthy: AtomicBool,
    on_change: OnChange,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Permission to make one attempt. A probe's slot is given back if it is dropped unrecorded
/// (the caller stopped waiting).
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    recorded: bool,
}

impl Permit<'_> {
    /// Records the attempt's outcome.
    pub(crate) fn record(mut self, verdict: Verdict) {
        self.recorded = true;
        self.breaker.record(self.probe, verdict);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            self.breaker.record(true, Verdict::Neutral);
        }
    }
}

impl Breaker {
    pub(crate) fn new(options: BreakerOptions, on_change: OnChange) -> Self {
        Self {
            options,
            state: Mutex::new(State::Closed { failures: 0 }),
            healthy: AtomicBool::new(true),
            on_change,
        }
    }

    fn set(&self, state: &mut State, next: State) {
        let public = next.public();
        self.healthy.store(
            matches!(next, State::Closed { failures: 0 }),
            Ordering::Relaxed,
        );
        let changed = state.public() != public;
        *state = next;
        if changed {
            tracing::debug!(state = public.as_str(), "circuit breaker");
            (self.on_change)(public);
        }
    }

    /// The state now; an open breaker whose time is up turns half-open here.
    pub(crate) fn state(&self) -> BreakerState {
        let Ok(mut state) = self.state.lock() else {
            return BreakerState::Closed;
        };
        if let State::Open { until } = *state
            && Instant::now() >= until
        {
            self.set(
                &mut state,
                State::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
        }
        state.public()
    }

    /// A permit to try, or how long until the breaker lets calls through again.
    pub(crate) fn acquire(&self) -> Result<Permit<'_>, Duration> {
        let permit = |probe| Permit {
            breaker: self,
            probe,
            recorded: false,
        };
        if self.healthy.load(Ordering::Relaxed) {
            return Ok(permit(false));
        }
        let Ok(mut state) = self.state.lock() else {
            return Ok(permit(false));
        };
        let now = Instant::now();
        if let State::Open { until } = *state {
            if now < until {
                return Err(until - now);
            }
            self.set(
                &mut state,
                State::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
        }
        match &mut *state {
            State::Closed { .. } => Ok(permit(false)),
            State::HalfOpen { in_flight, .. } if *in_flight < self.options.half_open_max_calls => {
                *in_flight += 1;
                Ok(permit(true))
            }
            // Every probe slot is taken: as good as open until they report.
            State::HalfOpen { .. } | State::Open { .. } => Err(Duration::ZERO),
        }
    }

    fn record(&self, probe: bool, verdict: Verdict) {
        if !probe && verdict == Verdict::Success && self.healthy.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let opened = State::Open {
            until: Instant::now() + self.options.open_for,
        };
        match &mut *state {
            State::Closed { failures } => match verdict {
                Verdict::Success => self.set(&mut state, State::Closed { failures: 0 }),
                Verdict::Failure => {
                    let failures = *failures + 1;
                    if failures >= self.options.failure_threshold.max(1) {
                        self.set(&mut state, opened);
                    } else {
                        self.set(&mut state, State::Closed { failures });
                    }
                }
                Verdict::Neutral => {}
            },
            State::HalfOpen {
                in_flight,
                successes,
            } if probe => {
                *in_flight = in_flight.saturating_sub(1);
                match verdict {
                    Verdict::Success => {
                        *successes += 1;
                        if *successes >= self.options.success_threshold.max(1) {
                            self.set(&mut state, State::Closed { failures: 0 });
                        }
                    }
                    Verdict::Failure => self.set(&mut state, opened),
                    Verdict::Neutral => {}
                }
            }
            // A late outcome of a call let through before the breaker opened, or a non-probe
            // while half-open: the probes decide.
            State::HalfOpen { .. } | State::Open { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn breaker(options: BreakerOptions) -> (Breaker, Arc<Mutex<Vec<BreakerState>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let b = Breaker::new(options, Box::new(move |s| sink.lock().unwrap().push(s)));
        (b, seen)
    }

    #[test]
    fn opens_after_the_threshold_half_opens_after_the_timeout_and_closes_on_probes() {
        let (b, seen) = breaker(BreakerOptions {
            failure_threshold: 3,
            open_for: Duration::from_millis(30),
            half_open_max_calls: 1,
            success_threshold: 2,
        });
        // Failures interrupted by a success do not add up.
        b.acquire().unwrap().record(Verdict::Failure);
        b.acquire().unwrap().record(Verdict::Failure);
        b.acquire().unwrap().record(Verdict::Success);
        b.acquire().unwrap().record(Verdict::Neutral);
        for _ in 0..3 {
            b.acquire().unwrap().record(Verdict::Failure);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.acquire().is_err(), "open: fail fast");
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.acquire().expect("a probe after the timeout");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.acquire().is_err(), "one probe at a time");
        drop(probe); // cancelled: its slot comes back
        b.acquire().unwrap().record(Verdict::Success);
        assert_eq!(b.state(), BreakerState::HalfOpen, "two successes needed");
        b.acquire().unwrap().record(Verdict::Success);
        assert_eq!(b.state(), BreakerState::Closed);
        // A failed probe reopens.
        for _ in 0..3 {
            b.acquire().unwrap().record(Verdict::Failure);
        }
        std::thread::sleep(Duration::from_millis(40));
        b.acquire().unwrap().record(Verdict::Failure);
        assert_eq!(b.state(), BreakerState::Open);
        let (open, half, closed) = (
            BreakerState::Open,
            BreakerState::HalfOpen,
            BreakerState::Closed,
        );
        assert_eq!(
            *seen.lock().unwrap(),
            [open, half, closed, open, half, open]
        );
    }
}
