//! The limits in process memory: the embedded default, for one fmsd on its own. Nothing to
//! reach, nothing to fail, and a restart forgets them. Instances that share a stack must not use
//! it, since each would count alone (`app/wiring.rs` picks the SQL store for them).
//!
//! A map from key to TAT behind a mutex, run through the same [`gcra`] arithmetic as the SQL
//! store; keys whose TAT has passed are dropped about once a minute, so a guesser cycling
//! through addresses cannot grow the map without end.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::Result;
use crate::health::Probe;
use crate::limits::gcra::{self, Micros};
use crate::limits::ports::{Limit, LimitKey, RateLimitStore, Verdict};

/// How often, at most, the keys whose TAT has passed are dropped.
const PRUNE_EVERY: Micros = 60_000_000;

/// The limits in process memory.
#[derive(Debug, Default)]
pub struct MemoryRateLimitStore {
    /// Every key's TAT, and when passed ones were last dropped.
    state: Mutex<State>,
}

/// What the mutex guards.
#[derive(Debug, Default)]
struct State {
    /// Each key's TAT; a key missing is a quiet key.
    tats: HashMap<LimitKey, Micros>,
    /// When keys whose TAT has passed were last dropped.
    last_prune: Micros,
}

impl MemoryRateLimitStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves TATs that are still valid numbers.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl RateLimitStore for MemoryRateLimitStore {
    async fn acquire(&self, limits: Vec<Limit>, now: Micros) -> Result<Verdict> {
        let mut state = self.state();
        if now - state.last_prune >= PRUNE_EVERY {
            state.tats.retain(|_, tat| *tat > now);
            state.last_prune = now;
        }
        let current: Vec<_> = limits
            .iter()
            .map(|limit| (state.tats.get(&limit.key).copied().unwrap_or(0), limit.rate))
            .collect();
        match gcra::admit_all(&current, now) {
            Ok(next) => {
                for (limit, tat) in limits.into_iter().zip(next) {
                    state.tats.insert(limit.key, tat);
                }
                Ok(Verdict::Admitted)
            }
            Err(retry_after) => Ok(Verdict::Refused { retry_after }),
        }
    }

    async fn give_back(&self, limits: Vec<Limit>) -> Result<()> {
        let mut state = self.state();
        for limit in limits {
            if let Some(tat) = state.tats.get_mut(&limit.key) {
                *tat = gcra::give_back(*tat, limit.rate);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Probe for MemoryRateLimitStore {
    async fn probe(&self) -> Result<()> {
        Ok(())
    }
}
