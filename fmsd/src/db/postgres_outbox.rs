//! The outbox and processed-event tables on PostgreSQL, for a service whose database is there
//! (files, with `migrations/files-postgres`): the same shape and rules as [`super::outbox`].
//!
//! A service writes its events with [`enqueue`] inside the transaction that changes its state,
//! so both commit or neither does; the relay reads them through [`PostgresOutbox`], oldest
//! first by `seq`. `seq` comes from a sequence, so two concurrent transactions may commit out of
//! `seq` order and a later `seq` may be published first; a service that needs per-key order
//! (files, per owner) serializes the writes of one key, so their `seq`s follow commit order.
//!
//! [`query_error`] is how every PostgreSQL adapter here maps a diesel error.

use async_trait::async_trait;
use common::events::{Envelope, Outgoing};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::postgres::Postgres;
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

/// Maps a diesel error on PostgreSQL: a lost connection or a serialization failure is
/// [`Error::Unavailable`] (the same call may work later), anything else internal. Callers map
/// the cases they expect (a unique violation) before this.
pub fn query_error(error: DieselError) -> Error {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        )
        | DieselError::BrokenTransactionManager => Error::unavailable(error),
        other => Error::internal(other),
    }
}

/// Adds `events` to the outbox, inside the caller's transaction.
pub fn enqueue(connection: &mut PgConnection, events: &[Outgoing]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events
        .iter()
        .map(|event| {
            let envelope = serde_json::to_string(&event.envelope).map_err(Error::internal)?;
            Ok((
                outbox::topic.eq(event.topic.as_str()),
                outbox::envelope.eq(envelope),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    diesel::insert_into(outbox::table)
        .values(rows)
        .execute(connection)
        .map_err(query_error)?;
    Ok(())
}

/// Whether `consumer` already handled the event `event_id`.
pub fn already_handled(
    connection: &mut PgConnection,
    consumer: &str,
    event_id: &str,
) -> Result<bool> {
    let query = processed_events::table
        .filter(processed_events::consumer.eq(consumer))
        .filter(processed_events::event_id.eq(event_id));
    diesel::select(diesel::dsl::exists(query))
        .get_result(connection)
        .map_err(query_error)
}

/// Records that `consumer` handled `event_id`, inside the transaction of its effect.
pub fn remember_handled(
    connection: &mut PgConnection,
    consumer: &str,
    event_id: &str,
) -> Result<()> {
    diesel::insert_into(processed_events::table)
        .values((
            processed_events::consumer.eq(consumer),
            processed_events::event_id.eq(event_id),
        ))
        .on_conflict_do_nothing()
        .execute(connection)
        .map_err(query_error)?;
    Ok(())
}

/// A service database's outbox on PostgreSQL, for the relay.
#[derive(Debug, Clone)]
pub struct PostgresOutbox {
    /// The service's own database.
    db: Postgres,
}

impl PostgresOutbox {
    /// The outbox in `db`.
    pub fn new(db: Postgres) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Outbox for PostgresOutbox {
    #[tracing::instrument(skip(self))]
    async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.db
            .run(move |connection| {
                let rows: Vec<(i64, String, String)> = outbox::table
                    .order(outbox::seq.asc())
                    .limit(limit)
                    .load(connection)
                    .map_err(query_error)?;
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

    #[tracing::instrument(skip_all, fields(n = entries.len()))]
    async fn mark_published(&self, entries: &[OutboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
        self.db
            .run(move |connection| {
                diesel::delete(outbox::table.filter(outbox::seq.eq_any(seqs)))
                    .execute(connection)
                    .map_err(query_error)?;
                Ok(())
            })
            .await
    }
}
