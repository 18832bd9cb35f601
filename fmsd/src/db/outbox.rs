//! The outbox and processed-event tables, the same in every service's SQLite database (each
//! service's first migration creates them).
//!
//! A service writes its events with [`enqueue`] inside the transaction that changes its state,
//! so both commit or neither does; the relay reads them through [`SqliteOutbox`]. A consumer
//! checks [`already_handled`] and calls [`remember_handled`] in the transaction of its effect,
//! so an event delivered twice has one effect.

use async_trait::async_trait;
use common::events::{Envelope, Outgoing};
use diesel::prelude::*;

use super::Sqlite;
use crate::bus::ports::{Outbox, OutboxEntry};
use crate::error::{Error, Result};

/// The tables, as diesel sees them.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        outbox (seq) {
            seq -> BigInt,
            topic -> Text,
            envelope -> Text,
        }
    }
    diesel::table! {
        processed_events (consumer, event_id) {
            consumer -> Text,
            event_id -> Text,
        }
    }
}
use schema::{outbox, processed_events};

/// Adds `events` to the outbox, inside the caller's transaction.
pub fn enqueue(connection: &mut SqliteConnection, events: &[Outgoing]) -> Result<()> {
    for event in events {
        let envelope = serde_json::to_string(&event.envelope).map_err(Error::internal)?;
        diesel::insert_into(outbox::table)
            .values((
                outbox::topic.eq(&event.topic),
                outbox::envelope.eq(envelope),
            ))
            .execute(connection)
            .map_err(Error::internal)?;
    }
    Ok(())
}

/// Whether `consumer` already handled the event `event_id`.
pub fn already_handled(
    connection: &mut SqliteConnection,
    consumer: &str,
    event_id: &str,
) -> Result<bool> {
    let n: i64 = processed_events::table
        .filter(processed_events::consumer.eq(consumer))
        .filter(processed_events::event_id.eq(event_id))
        .count()
        .get_result(connection)
        .map_err(Error::internal)?;
    Ok(n > 0)
}

/// Records that `consumer` handled `event_id`, inside the transaction of its effect.
pub fn remember_handled(
    connection: &mut SqliteConnection,
    consumer: &str,
    event_id: &str,
) -> Result<()> {
    diesel::insert_or_ignore_into(processed_events::table)
        .values((
            processed_events::consumer.eq(consumer),
            processed_events::event_id.eq(event_id),
        ))
        .execute(connection)
        .map_err(Error::internal)?;
    Ok(())
}

/// A service database's outbox, for the relay.
#[derive(Debug, Clone)]
pub struct SqliteOutbox {
    /// The service's own database.
    db: Sqlite,
}

impl SqliteOutbox {
    /// The outbox in `db`.
    pub fn new(db: Sqlite) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Outbox for SqliteOutbox {
    async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.db
            .run(move |connection| {
                let rows: Vec<(i64, String, String)> = outbox::table
                    .order(outbox::seq.asc())
                    .limit(limit)
                    .load(connection)
                    .map_err(Error::internal)?;
                rows.into_iter()
                    .map(|(seq, topic, envelope)| {
                        let envelope: Envelope =
                            serde_json::from_str(&envelope).map_err(Error::internal)?;
                        Ok(OutboxEntry {
                            seq,
                            topic,
                            envelope,
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn mark_published(&self, entries: &[OutboxEntry]) -> Result<()> {
        let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
        self.db
            .run(move |connection| {
                diesel::delete(outbox::table.filter(outbox::seq.eq_any(seqs)))
                    .execute(connection)
                    .map_err(Error::internal)?;
                Ok(())
            })
            .await
    }
}
