//! The traits a bus backend implements, and the outbox a service keeps.

use async_trait::async_trait;
use common::events::Envelope;
use tokio_util::sync::CancellationToken;

use crate::error::Result;

/// Puts events on topics.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `envelope` on `topic`, keyed by `envelope.key`; returns once the bus holds it
    /// durably.
    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<()>;
}

/// Opens subscriptions for consumer groups.
#[async_trait]
pub trait Subscriber: Send + Sync {
    /// Joins `group` on `topic`; delivery resumes after the group's last committed event.
    async fn subscribe(&self, group: &str, topic: &str) -> Result<Box<dyn Subscription>>;
}

/// One event handed to a consumer, with what it takes to commit it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The topic it came from.
    pub topic: String,
    /// The backend's position of the event (offset), used to commit.
    pub position: i64,
    /// The backend's partition (0 where there is only one).
    pub partition: i32,
    /// The event.
    pub envelope: Envelope,
}

/// A consumer group's view of a topic.
#[async_trait]
pub trait Subscription: Send {
    /// The next event, waiting for one; `None` once `shutdown` is cancelled.
    async fn next(&mut self, shutdown: &CancellationToken) -> Result<Option<Delivery>>;
    /// Records that `delivery` (and everything before it) was handled.
    async fn commit(&mut self, delivery: &Delivery) -> Result<()>;
    /// How many events of the topic come after the last one handed out (the end of the log
    /// minus the position), for the consumer-lag gauge; `None` while it cannot be known (a
    /// Kafka member without an assignment yet).
    async fn lag(&mut self) -> Result<Option<u64>>;
}

/// An event waiting in a service's outbox.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// Its place in the outbox, where the store has one (SQL); 0 elsewhere (the envelope id
    /// identifies it).
    pub seq: i64,
    /// Where it goes.
    pub topic: String,
    /// The event.
    pub envelope: Envelope,
}

/// The events a service committed with its state changes and has not yet published.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` unpublished events, oldest first.
    async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>>;
    /// Forgets events once the bus holds them.
    async fn mark_published(&self, entries: &[OutboxEntry]) -> Result<()>;
    /// How many events wait unpublished, for the outbox-backlog gauge.
    async fn backlog(&self) -> Result<u64>;
}
