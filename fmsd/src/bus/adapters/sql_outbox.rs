//! A service database's outbox (`crate::db::outbox`), for the relay: on SQLite or PostgreSQL,
//! oldest first by `seq`.

use async_trait::async_trait;
use common::events::Envelope;
use diesel::prelude::*;

use crate::bus::ports::{Outbox, OutboxEntry};
use crate::db::outbox::schema::outbox;
use crate::db::Database;
use crate::error::{Error, Result};

/// The outbox in one service's database.
#[derive(Debug, Clone)]
pub struct SqlOutbox {
    /// The service's own database.
    db: Database,
}

impl SqlOutbox {
    /// The outbox in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Outbox for SqlOutbox {
    #[tracing::instrument(skip(self))]
    async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.db
            .run(move |connection| {
                let rows: Vec<(i64, String, String)> = outbox::table
                    .order(outbox::seq.asc())
                    .limit(limit)
                    .load(connection)?;
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
                    .execute(connection)?;
                Ok(())
            })
            .await
    }

    async fn backlog(&self) -> Result<u64> {
        let n_events: i64 = self
            .db
            .run(|connection| Ok(outbox::table.count().get_result(connection)?))
            .await?;
        Ok(u64::try_from(n_events).unwrap_or(0))
    }
}
