use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use tower::Layer;

use super::CircuitBreaker;
use crate::middleware::Refusal;
use crate::request::{McpResponse, Outcome};

/// When a breaker opens, how long it stays open and how it closes again. The defaults are the
/// original SDK's (`failure_threshold=5, timeout=60, success_threshold=3`) with a 60 s window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerConfig {
    /// Failures within [`window`](Self::window) that open the breaker (default 5).
    pub failure_threshold: u32,
    /// How far back failures count (default 60 s).
    pub window: Duration,
    /// How long an open breaker refuses before letting probes through (default 60 s).
    pub open_for: Duration,
    /// How many probe calls may run at once while half-open (default 1).
    pub half_open_probes: u32,
    /// Successful probes that close the breaker (default 3).
    pub success_threshold: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(60),
            half_open_probes: 1,
            success_threshold: 3,
        }
    }
}

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls run.
    Closed,
    /// Calls are refused.
    Open,
    /// Probe calls run.
    HalfOpen,
}

impl CircuitState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// A circuit breaker per tool; see the [module docs](super). Clones share the breakers, so
/// keep one to read their states (for a readiness check).
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    pub(super) breakers: Arc<Breakers>,
}

impl Default for CircuitBreakerLayer {
    fn default() -> Self {
        Self::new(CircuitBreakerConfig::default())
    }
}

impl CircuitBreakerLayer {
    /// Breakers with `config`.
    pub fn new(config: CircuitBreakerConfig) -> Self {
        Self {
            breakers: Arc::new(Breakers {
                config,
                tools: RwLock::new(HashMap::default()),
            }),
        }
    }

    /// The state of `tool`'s breaker; `None` before the tool's first call.
    pub fn state(&self, tool: &str) -> Option<CircuitState> {
        let now = Instant::now();
        let cell = self.breakers.cell(tool)?;
        let state = lock(&cell).state.public(now);
        Some(state)
    }

    /// Every breaker that is not closed, by tool name.
    pub fn tripped(&self) -> Vec<(String, CircuitState)> {
        let now = Instant::now();
        let cells: Vec<(Arc<str>, Arc<Mutex<Breaker>>)> = self
            .breakers
            .tools
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(tool, cell)| (tool.clone(), cell.clone()))
            .collect();
        let mut out: Vec<_> = cells
            .into_iter()
            .map(|(tool, cell)| (tool.to_string(), lock(&cell).state.public(now)))
            .filter(|(_, s)| *s != CircuitState::Closed)
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl CircuitBreakerLayer {
    /// Lets `request` through its tool's breaker (`None`: not a call of a tool the server
    /// has, which no breaker guards), or says why not.
    pub(crate) fn admit(
        &self,
        request: &crate::request::McpRequest,
    ) -> Result<Option<Admission>, Refusal> {
        // Only calls of tools the server has: unknown names must not grow the table.
        match request.tool() {
            Some(tool) => self.breakers.admit(&tool.name).map(Some),
            None => Ok(None),
        }
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> CircuitBreaker<S> {
        CircuitBreaker {
            inner,
            breakers: self.clone(),
        }
    }
}

/// Every tool's breaker. The map is read-locked to find a tool's breaker (and written once per
/// tool); each breaker has a lock of its own, so calls of different tools never wait on each
/// other, and a finished call reaches its breaker without a lookup.
#[derive(Debug)]
pub(super) struct Breakers {
    config: CircuitBreakerConfig,
    tools: RwLock<HashMap<Arc<str>, Arc<Mutex<Breaker>>, foldhash::quality::RandomState>>,
}

fn lock(cell: &Mutex<Breaker>) -> MutexGuard<'_, Breaker> {
    cell.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug)]
struct Breaker {
    state: State,
    /// Bumped at every transition, so a result from before one is not counted after it.
    generation: u64,
}

#[derive(Debug)]
enum State {
    Closed { failures: VecDeque<Instant> },
    Open { until: Instant },
    HalfOpen { probes: u32, successes: u32 },
}

impl State {
    fn public(&self, now: Instant) -> CircuitState {
        match self {
            Self::Closed { .. } => CircuitState::Closed,
            // An open breaker whose time is up lets the next call through as a probe.
            Self::Open { until } if now >= *until => CircuitState::HalfOpen,
            Self::Open { .. } => CircuitState::Open,
            Self::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

/// A call the breaker let through.
#[derive(Debug)]
pub(crate) struct Admission {
    config: CircuitBreakerConfig,
    cell: Arc<Mutex<Breaker>>,
    tool: Arc<str>,
    generation: u64,
    probe: bool,
}

/// What a call's outcome says about the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Healthy,
    Failed,
    Neutral,
}

fn verdict(response: &McpResponse) -> Verdict {
    match response.outcome() {
        Outcome::Success | Outcome::InputRequired => Verdict::Healthy,
        Outcome::ToolError => Verdict::Failed,
        Outcome::Error => match response.error_value() {
            Some(mcp_protocol::McpError::Internal(_)) => Verdict::Failed,
            _ => Verdict::Neutral,
        },
        Outcome::Refused => match response.refusal() {
            Some(Refusal::TimedOut { .. }) => Verdict::Failed,
            _ => Verdict::Neutral,
        },
        _ => Verdict::Neutral,
    }
}

impl Breakers {
    /// The breaker of `tool`, if it has one.
    fn cell(&self, tool: &str) -> Option<Arc<Mutex<Breaker>>> {
        self.tools
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tool)
            .cloned()
    }

    /// The breaker of `tool` and its name, made on the tool's first call.
    fn cell_or_new(&self, tool: &str) -> (Arc<str>, Arc<Mutex<Breaker>>) {
        if let Some((name, cell)) = self
            .tools
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_key_value(tool)
        {
            return (name.clone(), cell.clone());
        }
        let name: Arc<str> = Arc::from(tool);
        let cell = self
            .tools
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(name.clone())
            .or_insert_with(|| {
                Arc::new(Mutex::new(Breaker {
                    state: State::Closed {
                        failures: VecDeque::new(),
                    },
                    generation: 0,
                }))
            })
            .clone();
        (name, cell)
    }

    /// Lets a call of `tool` through, or says why not.
    pub(super) fn admit(&self, tool: &str) -> Result<Admission, Refusal> {
        let (name, cell) = self.cell_or_new(tool);
        let mut breaker = lock(&cell);
        // Only an open breaker reads the clock.
        let probe = match &mut breaker.state {
            State::Closed { .. } => false,
            State::Open { until } if Instant::now() < *until => {
                let retry_after = until.saturating_duration_since(Instant::now());
                return Err(Refusal::CircuitOpen {
                    tool: tool.to_owned(),
                    retry_after,
                });
            }
            State::Open { .. } => {
                breaker.state = State::HalfOpen {
                    probes: 1,
                    successes: 0,
                };
                breaker.generation += 1;
                true
            }
            State::HalfOpen { probes, .. } if *probes < self.config.half_open_probes.max(1) => {
                *probes += 1;
                true
            }
            State::HalfOpen { .. } => {
                return Err(Refusal::CircuitOpen {
                    tool: tool.to_owned(),
                    retry_after: Duration::from_secs(1),
                });
            }
        };
        let generation = breaker.generation;
        drop(breaker);
        Ok(Admission {
            config: self.config,
            cell,
            tool: name,
            generation,
            probe,
        })
    }
}

impl Admission {
    /// Counts a finished call.
    pub(crate) fn finish(self, response: &McpResponse) {
        self.record(verdict(response));
    }

    /// Counts a call that was dropped before it finished (neither way; frees its probe).
    pub(crate) fn abandon(self) {
        self.record(Verdict::Neutral);
    }

    fn record(self, verdict: Verdict) {
        // Only a failure or a probe's answer changes a breaker: a call that went well through
        // a closed breaker costs no lock and no clock read.
        if !self.probe && verdict != Verdict::Failed {
            return;
        }
        let config = self.config;
        let now = Instant::now();
        let mut guard = lock(&self.cell);
        let breaker = &mut *guard;
        if breaker.generation != self.generation {
            return;
        }
        let open = |b: &mut Breaker| {
            b.state = State::Open {
                until: now + config.open_for,
            };
            b.generation += 1;
            tracing::warn!(tool = %self.tool, "circuit opened");
        };
        match (&mut breaker.state, self.probe) {
            (State::Closed { failures }, false) if verdict == Verdict::Failed => {
                failures.push_back(now);
                while failures
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > config.window)
                {
                    failures.pop_front();
                }
                if failures.len() >= config.failure_threshold.max(1) as usize {
                    open(breaker);
                }
            }
            (State::HalfOpen { probes, successes }, true) => {
                *probes = probes.saturating_sub(1);
                match verdict {
                    Verdict::Failed => open(breaker),
                    Verdict::Healthy => {
                        *successes += 1;
                        if *successes >= config.success_threshold.max(1) {
                            breaker.state = State::Closed {
                                failures: VecDeque::new(),
                            };
                            breaker.generation += 1;
                            tracing::info!(tool = %self.tool, "circuit closed");
                        }
                    }
                    Verdict::Neutral => {}
                }
            }
            _ => {}
        }
    }
}
