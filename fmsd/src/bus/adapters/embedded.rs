//! The embedded bus: a durable, append-only log in its own SQLite database.
//!
//! It keeps Kafka's contract where fms relies on it: events of a topic are delivered in the
//! order they were published, each consumer group has its own committed position and resumes
//! from it after a restart, and delivery is at least once. A `watch` channel wakes waiting
//! subscriptions the moment something is published, so there is no polling delay.

use std::path::Path;

use async_trait::async_trait;
use common::events::Envelope;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::bus::ports::{Delivery, Publisher, Subscriber, Subscription};
use crate::db::dialect::per_engine;
use crate::db::Database;
use crate::error::{Error, Result};

/// The tables, as diesel sees them.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        events (position) {
            position -> BigInt,
            topic -> Text,
            event_key -> Text,
            envelope -> Text,
        }
    }
    diesel::table! {
        consumer_offsets (consumer_group, topic) {
            consumer_group -> Text,
            topic -> Text,
            position -> BigInt,
        }
    }
}
use schema::{consumer_offsets, events};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/bus");

/// How often a waiting subscription looks for events published by another process.
const FOREIGN_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// How many events a subscription reads per query.
const BATCH: i64 = 64;

/// The embedded bus; cheap to clone.
#[derive(Debug, Clone)]
pub struct EmbeddedBus {
    /// The log's own database.
    db: Database,
    /// Bumped on every publish so subscriptions wake up.
    published: watch::Sender<u64>,
}

impl EmbeddedBus {
    /// Opens (or creates) the log at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let db = Database::sqlite(path, MIGRATIONS)?;
        let (published, _) = watch::channel(0);
        Ok(Self { db, published })
    }
}

#[async_trait]
impl crate::health::Probe for EmbeddedBus {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}

#[async_trait]
impl Publisher for EmbeddedBus {
    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<()> {
        let row = (
            events::topic.eq(topic.to_owned()),
            events::event_key.eq(envelope.key.clone()),
            events::envelope.eq(serde_json::to_string(envelope).map_err(Error::internal)?),
        );
        self.db
            .run(move |connection| {
                diesel::insert_into(events::table)
                    .values(row)
                    .execute(connection)
                    .map_err(Error::unavailable)
            })
            .await?;
        self.published.send_modify(|n| *n += 1);
        Ok(())
    }
}

#[async_trait]
impl Subscriber for EmbeddedBus {
    async fn subscribe(&self, group: &str, topic: &str) -> Result<Box<dyn Subscription>> {
        let (group, topic) = (group.to_owned(), topic.to_owned());
        let key = (group.clone(), topic.clone());
        let committed: Option<i64> = self
            .db
            .run(move |connection| {
                consumer_offsets::table
                    .find(key)
                    .select(consumer_offsets::position)
                    .first(connection)
                    .optional()
                    .map_err(Error::unavailable)
            })
            .await?;
        Ok(Box::new(EmbeddedSubscription {
            db: self.db.clone(),
            wake: self.published.subscribe(),
            group,
            topic,
            position: committed.unwrap_or(0),
            buffered: Default::default(),
        }))
    }
}

/// A consumer group's cursor in one topic.
struct EmbeddedSubscription {
    /// The log.
    db: Database,
    /// Changes whenever something is published.
    wake: watch::Receiver<u64>,
    /// The consumer group.
    group: String,
    /// The topic.
    topic: String,
    /// The last position handed out; the next read starts after it.
    position: i64,
    /// Events read but not yet handed out.
    buffered: std::collections::VecDeque<Delivery>,
}

impl EmbeddedSubscription {
    /// Reads the next batch after `position`.
    async fn fill(&mut self) -> Result<()> {
        let (topic, after) = (self.topic.clone(), self.position);
        let rows: Vec<(i64, String)> = self
            .db
            .run(move |connection| {
                events::table
                    .filter(events::topic.eq(topic))
                    .filter(events::position.gt(after))
                    .order(events::position.asc())
                    .limit(BATCH)
                    .select((events::position, events::envelope))
                    .load(connection)
                    .map_err(Error::unavailable)
            })
            .await?;
        for (position, envelope) in rows {
            let envelope: Envelope = serde_json::from_str(&envelope).map_err(Error::internal)?;
            self.buffered.push_back(Delivery {
                topic: self.topic.clone(),
                position,
                partition: 0,
                envelope,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn next(&mut self, shutdown: &CancellationToken) -> Result<Option<Delivery>> {
        loop {
            if shutdown.is_cancelled() {
                return Ok(None);
            }
            if let Some(delivery) = self.buffered.pop_front() {
                self.position = delivery.position;
                return Ok(Some(delivery));
            }
            // Mark the current value seen before reading, so a publish during the read wakes us.
            self.wake.borrow_and_update();
            self.fill().await?;
            if self.buffered.is_empty() {
                // The poll covers events written by another process sharing the log.
                tokio::select! {
                    changed = self.wake.changed() => changed.map_err(Error::internal)?,
                    () = tokio::time::sleep(FOREIGN_POLL) => {}
                    () = shutdown.cancelled() => return Ok(None),
                }
            }
        }
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<()> {
        let row = (
            consumer_offsets::consumer_group.eq(self.group.clone()),
            consumer_offsets::topic.eq(self.topic.clone()),
            consumer_offsets::position.eq(delivery.position),
        );
        let position = delivery.position;
        self.db
            .run(move |connection| {
                per_engine!(connection, |inner| diesel::insert_into(
                    consumer_offsets::table
                )
                .values(row)
                .on_conflict((consumer_offsets::consumer_group, consumer_offsets::topic))
                .do_update()
                .set(consumer_offsets::position.eq(position))
                .execute(inner))
                .map_err(Error::unavailable)
            })
            .await?;
        Ok(())
    }

    async fn lag(&mut self) -> Result<Option<u64>> {
        let (topic, after) = (self.topic.clone(), self.position);
        let n_events: i64 = self
            .db
            .run(move |connection| {
                events::table
                    .filter(events::topic.eq(topic))
                    .filter(events::position.gt(after))
                    .count()
                    .get_result(connection)
                    .map_err(Error::unavailable)
            })
            .await?;
        // Events read ahead into the buffer are not handled yet either; they are past
        // `position`, so the count holds them already.
        Ok(Some(u64::try_from(n_events).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::events::{CustomerRegistered, Outgoing};

    fn event(n: u32) -> Envelope {
        Outgoing::new(&CustomerRegistered {
            customer_id: uuid::Uuid::now_v7(),
            email: format!("u{n}@example.com"),
            name: format!("u{n}"),
            email_verified: true,
        })
        .envelope
    }

    #[tokio::test]
    async fn a_group_resumes_after_its_last_commit_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus.db");
        let shutdown = CancellationToken::new();
        {
            let bus = EmbeddedBus::open(&path).unwrap();
            for n in 0..3 {
                bus.publish("t", &event(n)).await.unwrap();
            }
            let mut subscription = bus.subscribe("g", "t").await.unwrap();
            let first = subscription.next(&shutdown).await.unwrap().unwrap();
            subscription.commit(&first).await.unwrap();
            // The second is read but never committed: it must come again.
            subscription.next(&shutdown).await.unwrap().unwrap();
        }
        let bus = EmbeddedBus::open(&path).unwrap();
        let mut again = bus.subscribe("g", "t").await.unwrap();
        let second = again.next(&shutdown).await.unwrap().unwrap();
        assert_eq!(second.envelope.payload["email"], "u1@example.com");
        let mut other_group = bus.subscribe("h", "t").await.unwrap();
        let first = other_group.next(&shutdown).await.unwrap().unwrap();
        assert_eq!(first.envelope.payload["email"], "u0@example.com");
    }

    #[tokio::test]
    async fn a_waiting_subscription_wakes_on_publish() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EmbeddedBus::open(&dir.path().join("bus.db")).unwrap();
        let mut subscription = bus.subscribe("g", "t").await.unwrap();
        let shutdown = CancellationToken::new();
        let publisher = bus.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            publisher.publish("t", &event(7)).await.unwrap();
        });
        let delivery = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            subscription.next(&shutdown),
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
        assert_eq!(delivery.envelope.payload["email"], "u7@example.com");
    }
}
