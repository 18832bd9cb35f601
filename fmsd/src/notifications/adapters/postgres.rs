//! The notifications store in PostgreSQL: which events were mailed, one row per event in
//! `processed_events`, with migrations of its own (`migrations/notifications-postgres/`).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use crate::db::postgres::Postgres;
use crate::error::{Error, Result};
use crate::health::Probe;
use crate::notifications::ports::NotificationRepo;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/notifications-postgres");

/// The consumer name its processed-event records are kept under (the same as in SQLite).
const CONSUMER: &str = "fms-notifications";

/// The table, as diesel sees it.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        processed_events (consumer, event_id) {
            consumer -> Text,
            event_id -> Text,
        }
    }
}
use schema::processed_events;

/// The notifications database on a PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PostgresNotificationRepo {
    /// The service's own database.
    db: Postgres,
}

impl PostgresNotificationRepo {
    /// Connects to `url` and migrates the database. Never logs the URL (it may hold a
    /// password).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            db: Postgres::connect(url, MIGRATIONS).await?,
        })
    }
}

/// Maps a diesel error: a lost connection is `Unavailable`, anything else internal.
fn query_error(error: DieselError) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::BrokenTransactionManager => Error::unavailable(error),
        other => Error::internal(other),
    }
}

#[async_trait]
impl NotificationRepo for PostgresNotificationRepo {
    #[tracing::instrument(skip(self))]
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| {
                let query = processed_events::table
                    .filter(processed_events::consumer.eq(CONSUMER))
                    .filter(processed_events::event_id.eq(&event_id));
                diesel::select(diesel::dsl::exists(query))
                    .get_result(connection)
                    .map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| {
                // Recording an event twice is not an error: a redelivered event may race the
                // first delivery, and both must succeed.
                diesel::insert_into(processed_events::table)
                    .values((
                        processed_events::consumer.eq(CONSUMER),
                        processed_events::event_id.eq(&event_id),
                    ))
                    .on_conflict_do_nothing()
                    .execute(connection)
                    .map_err(query_error)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl Probe for PostgresNotificationRepo {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}
