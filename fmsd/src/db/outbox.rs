//! The outbox and processed-event tables, the same in every service's database on either engine
//! (each service's first migration creates them).
//!
//! A service writes its events with [`enqueue`] inside the transaction that changes its state,
//! so both commit or neither does; the bus's relay reads them back through
//! `bus::adapters::sql_outbox`, oldest first by `seq`. On PostgreSQL `seq` comes from a sequence, so two
//! concurrent transactions may commit out of `seq` order and a later `seq` may be published
//! first; a service that needs per-key order (files, per owner) serializes the writes of one key
//! ([`super::dialect::lock_owner`]), so their `seq`s follow commit order.
//!
//! A consumer checks [`already_handled`] and calls [`remember_handled`] in the transaction of
//! its effect, so an event delivered twice has one effect.

use common::events::Outgoing;
use diesel::prelude::*;

use super::dialect::per_engine;
use super::DbConnection;
use crate::error::{Error, Result};

/// The tables, as diesel sees them.
#[allow(missing_docs)]
pub mod schema {
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
pub fn enqueue(connection: &mut DbConnection, events: &[Outgoing]) -> Result<()> {
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
    per_engine!(connection, |inner| diesel::insert_into(outbox::table)
        .values(rows)
        .execute(inner))?;
    Ok(())
}

/// Whether `consumer` already handled the event `event_id`.
pub fn already_handled(
    connection: &mut DbConnection,
    consumer: &str,
    event_id: &str,
) -> Result<bool> {
    let query = processed_events::table
        .filter(processed_events::consumer.eq(consumer))
        .filter(processed_events::event_id.eq(event_id));
    Ok(diesel::select(diesel::dsl::exists(query)).get_result(connection)?)
}

/// Records that `consumer` handled `event_id`, inside the transaction of its effect; recording
/// it twice changes nothing (a redelivered event may race the first delivery).
pub fn remember_handled(
    connection: &mut DbConnection,
    consumer: &str,
    event_id: &str,
) -> Result<()> {
    let row = (
        processed_events::consumer.eq(consumer),
        processed_events::event_id.eq(event_id),
    );
    per_engine!(connection, |inner| diesel::insert_into(
        processed_events::table
    )
    .values(row)
    .on_conflict_do_nothing()
    .execute(inner))?;
    Ok(())
}
