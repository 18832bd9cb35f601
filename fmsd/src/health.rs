//! Whether every store and the bus answer: each implements [`Probe`], and [`Health`] asks them
//! all, for `/readyz` and every [`WATCH_INTERVAL`] on its own.
//!
//! [`Health`] remembers since when each one has been unreachable, so the log has one warning
//! when a server goes missing and one line when it is back (with how long it was away), and
//! `/readyz` says since when. A store that answers may still be degraded (a disk below its
//! free-space floor): `/readyz` says why, and the log has one warning when it starts and one
//! line when it ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::error::Result;

/// Something that can say whether it is reachable.
#[async_trait]
pub trait Probe: Send + Sync {
    /// `Ok` when it answers.
    async fn probe(&self) -> Result<()>;

    /// Why it works but not fully, when it does not (asked only when it answers).
    async fn degraded(&self) -> Option<String> {
        None
    }
}

/// How long one probe may take before its server counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the servers are asked when nobody asks `/readyz`.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// One store's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its name, as `/readyz` and the log show it (`customers`, `files`, `bus`, ...).
    pub name: &'static str,
    /// `None` while it answers; otherwise since when it has not.
    pub down_since: Option<DateTime<Utc>>,
    /// Why it is degraded, while it answers but not fully.
    pub degraded: Option<String>,
}

/// Every probe, and since when each one has failed.
pub struct Health {
    /// The stores and the bus, by name.
    probes: Vec<(&'static str, Arc<dyn Probe>)>,
    /// Since when each failing one has failed; shared by `/readyz` and the watcher so that a
    /// change is logged once whoever sees it first.
    down_since: Mutex<HashMap<&'static str, DateTime<Utc>>>,
    /// The ones degraded at the last check, so that a change is logged once.
    degraded: Mutex<HashSet<&'static str>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.probes.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Health").field("probes", &names).finish()
    }
}

impl Health {
    /// Watches `probes`; each counts as reachable until a probe says otherwise.
    pub fn new(probes: Vec<(&'static str, Arc<dyn Probe>)>) -> Self {
        Self {
            probes,
            down_since: Mutex::new(HashMap::new()),
            degraded: Mutex::new(HashSet::new()),
        }
    }

    /// Asks every probe at once and logs what changed since the last time.
    pub async fn check(&self) -> Vec<Status> {
        let answers = futures::future::join_all(self.probes.iter().map(|(name, probe)| async {
            let answer = tokio::time::timeout(PROBE_TIMEOUT, probe.probe()).await;
            let error = match answer {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.report()),
                Err(_) => Some(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
            };
            let degraded = match error {
                None => probe.degraded().await,
                Some(_) => None,
            };
            (*name, error, degraded)
        }))
        .await;
        let now = Utc::now();
        let mut down_since = self
            .down_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut was_degraded = self.degraded.lock().unwrap_or_else(PoisonError::into_inner);
        answers
            .into_iter()
            .map(|(name, error, degraded)| {
                match (&degraded, was_degraded.contains(name)) {
                    (Some(reason), false) => {
                        was_degraded.insert(name);
                        tracing::warn!(store = name, reason, "store degraded");
                    }
                    (None, true) => {
                        was_degraded.remove(name);
                        tracing::info!(store = name, "store no longer degraded");
                    }
                    _ => {}
                }
                let since = match (error, down_since.get(name).copied()) {
                    (None, None) => None,
                    (None, Some(since)) => {
                        down_since.remove(name);
                        let down_secs = (now - since).num_seconds();
                        tracing::info!(store = name, down_secs, "store reachable again");
                        None
                    }
                    (Some(error), None) => {
                        down_since.insert(name, now);
                        tracing::warn!(store = name, error, "store unreachable");
                        Some(now)
                    }
                    (Some(_), Some(since)) => Some(since),
                };
                Status {
                    name,
                    down_since: since,
                    degraded,
                }
            })
            .collect()
    }

    /// Checks every [`WATCH_INTERVAL`] until `shutdown`, so an outage and its end are logged
    /// even when nobody asks `/readyz`.
    pub async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(WATCH_INTERVAL) => {}
                () = shutdown.cancelled() => return,
            }
            self.check().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::error::Error;

    /// A probe whose answer the test sets.
    #[derive(Default)]
    struct Switch(AtomicBool);

    #[async_trait]
    impl Probe for Switch {
        async fn probe(&self) -> Result<()> {
            if self.0.load(Ordering::SeqCst) {
                Err(Error::unavailable(anyhow::anyhow!("switched off")))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn an_outage_keeps_its_start_until_the_store_answers_again() {
        let switch = Arc::new(Switch::default());
        let health = Health::new(vec![
            ("bus", switch.clone()),
            ("files", Arc::new(Switch::default())),
        ]);
        assert!(health
            .check()
            .await
            .iter()
            .all(|status| status.down_since.is_none()));

        switch.0.store(true, Ordering::SeqCst);
        let first = health.check().await;
        let since = first[0].down_since.expect("the bus is down");
        assert_eq!(first[1].down_since, None);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(health.check().await[0].down_since, Some(since));

        switch.0.store(false, Ordering::SeqCst);
        assert_eq!(health.check().await[0].down_since, None);
    }
}
