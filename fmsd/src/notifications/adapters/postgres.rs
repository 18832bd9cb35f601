//! The notifications store in PostgreSQL: which events were mailed, each customer's
//! activity-mail preference, their last activity mail and the mails queued for their next
//! digest, with migrations of its own (`migrations/notifications-postgres/`). The tables and
//! queries are those of the SQLite store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use uuid::Uuid;

use super::schema::{digests, from_micros, to_micros, QueuedRow};
use crate::db::postgres::Postgres;
use crate::error::{Error, Result};
use crate::health::Probe;
use crate::notifications::domain::{Digest, QueuedMail};
use crate::notifications::ports::NotificationRepo;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/notifications-postgres");

/// The queries, for PostgreSQL.
mod queries {
    use diesel::PgConnection;
    super::super::schema::activity_queries!(PgConnection);
}

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
    #[tracing::instrument(skip_all)]
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| {
                queries::already_handled(connection, &event_id).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| {
                queries::remember_handled(connection, &event_id).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn activity_mail(&self, customer_id: Uuid) -> Result<Option<bool>> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| {
                queries::activity_mail(connection, &customer_id).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| {
                queries::set_activity_mail(connection, &customer_id, wanted).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn forget_customer(&self, customer_id: Uuid) -> Result<()> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| {
                queries::forget_customer(connection, &customer_id).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn last_activity_mail_at(&self, customer_id: Uuid) -> Result<Option<DateTime<Utc>>> {
        let customer_id = customer_id.to_string();
        let micros = self
            .db
            .run(move |connection| {
                queries::last_activity_mail_at(connection, &customer_id).map_err(query_error)
            })
            .await?;
        micros.map(from_micros).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn record_activity_mail(
        &self,
        event_id: &str,
        customer_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Result<()> {
        let (event_id, customer_id) = (event_id.to_owned(), customer_id.to_string());
        self.db
            .run(move |connection| {
                queries::record_activity_mail(
                    connection,
                    &event_id,
                    &customer_id,
                    to_micros(sent_at),
                )
                .map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn queue_activity_mail(&self, mail: &QueuedMail) -> Result<()> {
        let row = QueuedRow::from_mail(mail);
        self.db
            .run(move |connection| {
                queries::queue_activity_mail(connection, &row).map_err(query_error)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn queued_activity_mail(&self, customer_id: Uuid) -> Result<Vec<QueuedMail>> {
        let customer_id = customer_id.to_string();
        let rows = self
            .db
            .run(move |connection| {
                queries::queued_activity_mail(connection, &customer_id).map_err(query_error)
            })
            .await?;
        rows.into_iter().map(QueuedRow::into_mail).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn due_digests(&self, sent_before: DateTime<Utc>) -> Result<Vec<Digest>> {
        let rows = self
            .db
            .run(move |connection| {
                queries::due_mails(connection, to_micros(sent_before)).map_err(query_error)
            })
            .await?;
        digests(rows)
    }

    #[tracing::instrument(skip_all)]
    async fn dequeue_activity_mail(
        &self,
        customer_id: Uuid,
        event_ids: &[String],
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let (customer_id, event_ids) = (customer_id.to_string(), event_ids.to_vec());
        self.db
            .run(move |connection| {
                queries::dequeue_activity_mail(
                    connection,
                    &customer_id,
                    &event_ids,
                    sent_at.map(to_micros),
                )
                .map_err(query_error)
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
