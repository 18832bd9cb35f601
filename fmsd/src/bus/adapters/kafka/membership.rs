//! What a consumer's rebalances say about its place in its group: whether it holds an
//! assignment (possibly an empty one, when a group has more members than partitions) and since
//! when that has been so.
//!
//! A consumer that lost its group (its session timed out while the broker was away) rejoins by
//! itself, but a coordinator that kept the old member may never give it partitions again; the
//! subscription reads [`Membership::out_for`] to replace such a consumer by a new member.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::TopicPartitionList;

use super::TracingContext;

/// Whether the consumer is in its group, and since when.
#[derive(Debug, Clone, Copy)]
struct State {
    /// The last rebalance assigned partitions (or an empty set) to this member.
    assigned: bool,
    /// How many partitions it assigned.
    partitions: usize,
    /// When `assigned` last changed, or when the consumer was created.
    since: Instant,
}

/// A consumer's context: librdkafka's logs as [`TracingContext`] has them, and its membership.
#[derive(Debug, Clone)]
pub(super) struct Membership {
    /// Shared with the consumer's callbacks, which run on librdkafka's threads.
    state: Arc<Mutex<State>>,
    /// The group, for the log lines.
    group: String,
}

impl Membership {
    /// A consumer of `group` that has not joined yet.
    pub(super) fn new(group: &str) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                assigned: false,
                partitions: 0,
                since: Instant::now(),
            })),
            group: group.to_owned(),
        }
    }

    /// How long the consumer has been without an assignment; `None` while it has one.
    pub(super) fn out_for(&self) -> Option<Duration> {
        let state = *self.state();
        (!state.assigned).then(|| state.since.elapsed())
    }

    /// How long the consumer has held an empty assignment; `None` while it holds partitions or
    /// none at all. Legitimate when the group has more members than the topic has partitions.
    pub(super) fn empty_for(&self) -> Option<Duration> {
        let state = *self.state();
        (state.assigned && state.partitions == 0).then(|| state.since.elapsed())
    }

    /// The state; a poisoned lock only means a panic elsewhere, the state is fine.
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a rebalance's outcome (`Some(n)`: `n` partitions assigned; `None`: none held);
    /// returns how long the consumer had been out of its group if it just came back.
    fn set_assigned(&self, partitions: Option<usize>) -> Option<Duration> {
        let mut state = self.state();
        let was_out = (!state.assigned).then(|| state.since.elapsed());
        let assigned = partitions.is_some();
        let partitions = partitions.unwrap_or(0);
        if state.assigned != assigned || state.partitions != partitions {
            *state = State {
                assigned,
                partitions,
                since: Instant::now(),
            };
        }
        was_out.filter(|_| assigned)
    }
}

impl ClientContext for Membership {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        TracingContext.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        TracingContext.error(error, reason);
    }
}

/// Out of the group for longer than this, the return is worth a line of its own in the log.
const NOTABLE_ABSENCE: Duration = Duration::from_secs(10);

impl ConsumerContext for Membership {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let group = self.group.as_str();
        match rebalance {
            Rebalance::Assign(partitions) => {
                let was_out = self.set_assigned(Some(partitions.count()));
                tracing::info!(group, partitions = %describe(partitions), "kafka partitions assigned");
                if let Some(absence) = was_out.filter(|absence| *absence >= NOTABLE_ABSENCE) {
                    tracing::info!(
                        group,
                        out_secs = absence.as_secs(),
                        "kafka consumer back in its group"
                    );
                }
            }
            Rebalance::Revoke(partitions) => {
                self.set_assigned(None);
                tracing::info!(group, partitions = %describe(partitions), "kafka partitions revoked");
            }
            Rebalance::Error(error) => {
                self.set_assigned(None);
                tracing::warn!(group, error = %error, "kafka rebalance failed");
            }
        }
    }
}

/// `topic[partition]`, comma-separated, for logs.
fn describe(partitions: &TopicPartitionList) -> String {
    partitions
        .elements()
        .iter()
        .map(|element| format!("{}[{}]", element.topic(), element.partition()))
        .collect::<Vec<_>>()
        .join(", ")
}
